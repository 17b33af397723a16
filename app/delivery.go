package app

import (
	"context"
	"fmt"
	"time"

	"regulars"
	"regulars/store"
)

// deliveryBatch is how many followers one delivery transaction covers.
const deliveryBatch = 500

// RunKeyFor names the delivery of a message that is due at now, or ""
// when none is due: "once" for a one-off message, the day, ISO week or
// month of a recurring one once its time of day has come. A run key is
// delivered at most once per follower, whatever restarts happen.
func RunKeyFor(e *regulars.Engagement, now time.Time) string {
	if e.Message == nil || !Live(e, now) {
		return ""
	}
	start := e.StartsAt
	if start.IsZero() {
		start = e.PublishedAt
	}
	if e.Message.Recurring == "" || e.Message.Recurring == regulars.RecurOnce {
		return "once"
	}
	hh, mm := 9, 0
	fmt.Sscanf(e.Message.TimeOfDay, "%d:%d", &hh, &mm)
	at := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, time.UTC)
	if now.Before(at) || at.Before(start) {
		return "" // not yet today, or today's time came before the message started
	}
	switch e.Message.Recurring {
	case regulars.RecurDaily:
		return now.Format("2006-01-02")
	case regulars.RecurWeekly:
		if now.Weekday() != start.Weekday() {
			return ""
		}
		y, w := now.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case regulars.RecurMonthly:
		day := start.Day()
		last := time.Date(now.Year(), now.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		if day > last {
			day = last // the 31st falls on the month's last day
		}
		if now.Day() != day {
			return ""
		}
		return now.Format("2006-01")
	}
	return ""
}

// DeliverDue delivers every message whose run is due and not finished.
// Safe to run on several nodes and after a restart: each follower gets a
// run at most once (the deliveries table is unique per run and follower).
func (a *App) DeliverDue(ctx context.Context) error {
	msgs, err := a.DB.ActiveMessages(ctx)
	if err != nil {
		return err
	}
	now := a.now()
	for _, e := range msgs {
		key := RunKeyFor(e, now)
		if key == "" {
			continue
		}
		if err := a.deliverRun(ctx, e, key); err != nil {
			return fmt.Errorf("delivering %d/%s: %w", e.ID, key, err)
		}
	}
	return nil
}

// deliverRun delivers one run of a message to its whole audience, in
// batches, recording progress as it goes.
func (a *App) deliverRun(ctx context.Context, e *regulars.Engagement, key string) error {
	total, err := a.audienceTotal(ctx, e)
	if err != nil {
		return err
	}
	run, err := a.DB.StartDeliveryRun(ctx, e.ID, key, total)
	if err != nil || run.Status == "done" {
		return err
	}
	var after int64
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		refs, err := a.DB.ChannelFollowRefs(ctx, e.ChannelID, after, deliveryBatch)
		if err != nil {
			return err
		}
		if len(refs) == 0 {
			break
		}
		after = refs[len(refs)-1].FollowerID
		ids := make([]int64, len(refs))
		notify := map[int64]bool{}
		for i, r := range refs {
			ids[i] = r.FollowerID
			notify[r.FollowerID] = r.Notifications
		}
		if a.Targeting != nil {
			if ids, err = a.Targeting.FilterFollowers(ctx, e, ids); err != nil {
				return err
			}
		}
		err = a.DB.InTx(ctx, func(ctx context.Context) error {
			for _, id := range ids {
				if _, err := a.deliverOne(ctx, e, id, key, notify[id]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if run.Done, err = a.DB.CountDeliveries(ctx, e.ID, key); err != nil {
			return err
		}
		if err := a.DB.UpdateDeliveryRun(ctx, run, false); err != nil {
			return err
		}
	}
	if run.Done, err = a.DB.CountDeliveries(ctx, e.ID, key); err != nil {
		return err
	}
	// The audience may have shrunk since the run started: done is done.
	run.Total = max(run.Total, run.Done)
	return a.DB.UpdateDeliveryRun(ctx, run, true)
}

// deliverOne puts a message in a follower's channel thread, their
// notification feed (when they have the channel's notifications on) and
// history. It reports false when this run had already reached them.
func (a *App) deliverOne(ctx context.Context, e *regulars.Engagement, followerID int64, key string, notify bool) (bool, error) {
	now := a.now()
	first, err := a.DB.AddDelivery(ctx, e.ID, followerID, key, now)
	if err != nil || !first {
		return false, err
	}
	if notify {
		body := e.Message.Text
		if r := []rune(body); len(r) > 140 {
			body = string(r[:139]) + "…"
		}
		if err := a.notify(ctx, e, followerID, "message", e.Name, body); err != nil {
			return false, err
		}
	}
	return true, a.activity(ctx, e, followerID, regulars.ActMessageReceived, 0, "Received "+e.Name)
}

// DeliverMessageTo delivers a message engagement to one follower now, e.g.
// when they enter a targeting location. runKey names the occasion (such as
// "visit:<location>:<window>"); the same key never delivers twice. Only a
// live message and a follower in its audience get it. It reports whether
// the message was delivered by this call.
func (a *App) DeliverMessageTo(ctx context.Context, e *regulars.Engagement, followerID int64, runKey string) (bool, error) {
	if e.Kind != regulars.KindMessage || !Live(e, a.now()) {
		return false, nil
	}
	ok, err := a.InAudience(ctx, e, followerID)
	if err != nil || !ok {
		return false, err
	}
	f, err := a.DB.CurrentFollow(ctx, e.ChannelID, followerID)
	if err != nil {
		return false, err
	}
	var first bool
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		first, err = a.deliverOne(ctx, e, followerID, runKey, f.Notifications)
		return err
	})
	return first, err
}

// DeliveryRuns lists a message's runs with their progress.
func (a *App) DeliveryRuns(ctx context.Context, actor *Actor, e *regulars.Engagement) ([]*store.DeliveryRun, error) {
	if err := actor.Require(regulars.FeatureMessages, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.DeliveryRuns(ctx, e.ID)
}
