package app

import (
	"context"
	"time"

	"regulars"
)

// Targeting narrows an engagement's audience beyond "current followers of
// its channel": segmentations, and whatever else decides who an engagement
// is for. The segmentation feature implements it; nil means everyone who
// follows the channel.
type Targeting interface {
	// Matches reports whether the follower is in the engagement's
	// segmentations (true when it has none).
	Matches(ctx context.Context, e *regulars.Engagement, followerID int64) (bool, error)
	// FilterFollowers returns those of ids in the engagement's
	// segmentations, in the order given (all of them when it has none).
	FilterFollowers(ctx context.Context, e *regulars.Engagement, ids []int64) ([]int64, error)
}

// InAudience reports whether an engagement is meant for a follower: they
// follow its channel now and the targeting hook (segmentations) agrees. It
// is THE membership test: the follower app's channel page, coupon
// enabling, program joining, message delivery, the chat's "available
// engagements" and proximity targeting all ask it (or AudienceOf).
func (a *App) InAudience(ctx context.Context, e *regulars.Engagement, followerID int64) (bool, error) {
	if _, err := a.DB.CurrentFollow(ctx, e.ChannelID, followerID); err != nil {
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			return false, nil
		}
		return false, err
	}
	if a.Targeting == nil {
		return true, nil
	}
	return a.Targeting.Matches(ctx, e, followerID)
}

// AudienceOf returns those of ids that are in the engagement's audience,
// in the order given: the batch form of InAudience, used by delivery.
func (a *App) AudienceOf(ctx context.Context, e *regulars.Engagement, ids []int64) ([]int64, error) {
	following, err := a.DB.FollowingAmong(ctx, e.ChannelID, ids)
	if err != nil || a.Targeting == nil || len(following) == 0 {
		return following, err
	}
	return a.Targeting.FilterFollowers(ctx, e, following)
}

// Live reports whether an engagement is offered to followers at now:
// active, started, and not past its end.
func Live(e *regulars.Engagement, now time.Time) bool {
	if e.Status != regulars.EngagementActive {
		return false
	}
	t := now.UnixMilli()
	if !e.StartsAt.IsZero() && e.StartsAt.UnixMilli() > t {
		return false
	}
	return e.EndsAt.IsZero() || e.EndsAt.UnixMilli() > t
}

// BatchTargeting is an optional part of a Targeting hook: one answer for
// several engagements of one partner and one follower (a channel page).
type BatchTargeting interface {
	Targeted(ctx context.Context, es []*regulars.Engagement, followerID int64) ([]bool, error)
}

// targetedAmong returns, for each engagement, whether the targeting hook
// includes the follower (all true without a hook).
func (a *App) targetedAmong(ctx context.Context, es []*regulars.Engagement, followerID int64) ([]bool, error) {
	out := make([]bool, len(es))
	if a.Targeting == nil || len(es) == 0 {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	if b, ok := a.Targeting.(BatchTargeting); ok {
		return b.Targeted(ctx, es, followerID)
	}
	for i, e := range es {
		ok, err := a.Targeting.Matches(ctx, e, followerID)
		if err != nil {
			return nil, err
		}
		out[i] = ok
	}
	return out, nil
}
