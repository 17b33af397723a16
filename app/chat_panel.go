package app

import (
	"context"

	"regulars"
	"regulars/store"
)

// FollowerPanel is the engagement history an agent previews beside a
// conversation: only what concerns the agent's partner.
type FollowerPanel struct {
	Follower *regulars.Follower
	Activity []*regulars.Activity
	Programs []ProgramStanding
	Channels []*regulars.Channel // the partner's channels the follower follows
}

// ProgramStanding is a follower's points and level in one program.
type ProgramStanding struct {
	Program    *regulars.Engagement
	Membership *regulars.Membership
	LevelName  string // "" when the program has no levels or none is reached
}

// HistoryKinds are the engagement kinds the history panel filters by.
var HistoryKinds = []string{regulars.KindMessage, regulars.KindCoupon, regulars.KindLoyalty}

// ConversationPanel returns the history panel of a conversation's
// follower, optionally of one engagement kind.
func (a *App) ConversationPanel(ctx context.Context, actor *Actor, id int64, kind string) (*FollowerPanel, error) {
	c, err := a.Conversation(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	if kind != "" && regulars.FeatureOfKind(kind) == "" {
		return nil, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"kind": "Choose message, coupon or loyalty."}}
	}
	f, err := a.DB.Follower(ctx, c.TenantID, c.FollowerID)
	if err != nil {
		return nil, err
	}
	p := &FollowerPanel{Follower: f}
	if p.Activity, err = a.DB.Activities(ctx, f.ID, store.ActivityFilter{PartnerID: c.PartnerID, EngagementKind: kind, Limit: 100}); err != nil {
		return nil, err
	}
	members, err := a.DB.Memberships(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		prog, err := a.DB.Engagement(ctx, c.PartnerID, m.ProgramID)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			continue // another partner's program
		} else if err != nil {
			return nil, err
		}
		s := ProgramStanding{Program: prog, Membership: m}
		if prog.Loyalty != nil {
			for _, l := range prog.Loyalty.Levels {
				if l.Position == m.Level {
					s.LevelName = l.Name
				}
			}
		}
		p.Programs = append(p.Programs, s)
	}
	follows, err := a.DB.Follows(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	for _, fl := range follows {
		ch, err := a.DB.Channel(ctx, c.PartnerID, fl.ChannelID)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		p.Channels = append(p.Channels, ch)
	}
	return p, nil
}

// AvailableEngagements lists the engagements an agent may send into a
// conversation: those of its channel that are available to its follower
// (active, in their audience, not exhausted), optionally of one kind,
// and which of its coupons the follower has enabled already and not used
// yet (sent again, its card shows as done: a reminder, not an offer).
func (a *App) AvailableEngagements(ctx context.Context, actor *Actor, id int64, kind string) (_ []*regulars.Engagement, enabled map[int64]bool, _ error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return nil, nil, err
	}
	c, err := a.Conversation(ctx, actor, id)
	if err != nil {
		return nil, nil, err
	}
	if kind != "" && kind != regulars.KindMessage && kind != regulars.KindCoupon && kind != regulars.KindLoyalty {
		return nil, nil, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"kind": "Choose message, coupon or loyalty."}}
	}
	list, err := a.DB.ActiveChannelEngagements(ctx, c.ChannelID, kind)
	if err != nil {
		return nil, nil, err
	}
	f, err := a.DB.Follower(ctx, c.TenantID, c.FollowerID)
	if err != nil {
		return nil, nil, err
	}
	var out []*regulars.Engagement
	coupons := map[int64]*regulars.Engagement{}
	for _, e := range list {
		ok, err := a.availableTo(ctx, e, f)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, e)
			if e.Kind == regulars.KindCoupon {
				coupons[e.ID] = e
			}
		}
	}
	enabled, err = a.CardsDone(ctx, f.ID, 0, coupons)
	if err != nil {
		return nil, nil, err
	}
	return out, enabled, nil
}

// availableEngagement loads an engagement an agent sends as a card and
// checks that it is available to the conversation's follower.
func (a *App) availableEngagement(ctx context.Context, c *regulars.Conversation, id int64) (*regulars.Engagement, error) {
	e, err := a.DB.Engagement(ctx, c.PartnerID, id)
	if err != nil {
		return nil, err
	}
	f, err := a.DB.Follower(ctx, c.TenantID, c.FollowerID)
	if err != nil {
		return nil, err
	}
	if e.ChannelID != c.ChannelID || e.Kind == regulars.KindChat {
		return nil, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"engagement_id": "Choose an engagement of this conversation's channel."}}
	}
	ok, err := a.availableTo(ctx, e, f)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is not available to %s (not active, not in its audience, or used up).", e.Name, firstName(f))
	}
	return e, nil
}

// availableTo reports whether a follower can act on an engagement now:
// live, in its audience (InAudience), a coupon its rules let the follower
// enable, a program still taking members that the follower has not joined.
func (a *App) availableTo(ctx context.Context, e *regulars.Engagement, f *regulars.Follower) (bool, error) {
	now := a.now()
	if !Live(e, now) {
		return false, nil
	}
	if ok, err := a.InAudience(ctx, e, f.ID); err != nil || !ok {
		return false, err
	}
	switch e.Kind {
	case regulars.KindCoupon:
		if e.Coupon == nil {
			return false, nil
		}
		if err := a.checkCouponRules(ctx, e, f.ID); err != nil {
			if isRefusal(err) {
				return false, nil
			}
			return false, err
		}
	case regulars.KindLoyalty:
		if l := e.Loyalty; l != nil && !l.NoNewMembersAt.IsZero() && !now.Before(l.NoNewMembersAt) {
			return false, nil
		}
		if _, err := a.DB.Membership(ctx, e.ID, f.ID); err == nil {
			return false, nil
		} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return false, err
		}
	}
	return true, nil
}
