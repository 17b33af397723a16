package app

import (
	"context"
	"time"

	"regulars"
)

// Kick wakes the background jobs now (after a publish, say) instead of at
// their next interval.
func (a *App) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// RunJobs runs the background jobs until ctx ends: finishing engagements
// at their end date, delivering due messages, expiring coupon activations
// and points. Every job keeps its state in the database, so a restart picks
// up where it stopped and nothing happens twice; it is safe on every node.
func (a *App) RunJobs(ctx context.Context) {
	t := time.NewTicker(a.JobInterval)
	defer t.Stop()
	for {
		a.RunJobsOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
		}
	}
}

// RunJobsOnce runs each background job once, logging failures.
func (a *App) RunJobsOnce(ctx context.Context) {
	for _, job := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"finish engagements", func(ctx context.Context) error { _, err := a.FinishDue(ctx); return err }},
		{"deliver messages", a.DeliverDue},
		{"expire coupons", func(ctx context.Context) error {
			n, err := a.DB.ExpireActivations(ctx, a.now())
			if n > 0 {
				a.cache().state.invalidate()
			}
			return err
		}},
		{"expire points", func(ctx context.Context) error { _, err := a.ExpirePoints(ctx); return err }},
		{"segment index upkeep", func(ctx context.Context) error { a.Segments.Tick(ctx); return nil }},
		{"stale list uploads", a.FailStaleUploads},
		{"list garbage", func(ctx context.Context) error { return a.CollectListGarbage(ctx, 5*time.Second) }},
	} {
		if err := job.fn(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("background job failed", "job", job.name, "err", err)
		}
	}
}

// FinishDue finishes (archives) active engagements whose end date has
// passed, recording the end date as the finishing time.
func (a *App) FinishDue(ctx context.Context) (int, error) {
	due, err := a.DB.EngagementsDueToFinish(ctx, a.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range due {
		ok, err := a.DB.SetEngagementStatus(ctx, e.ID, regulars.EngagementActive, regulars.EngagementFinished, e.EndsAt)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			a.catalogChanged()
			a.GeofenceChanged(ctx, e.TenantID, e.ID)
		}
	}
	return n, nil
}
