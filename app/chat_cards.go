package app

import (
	"context"

	"regulars"
)

// MessageCards loads the engagements of the cards among msgs, by id; an
// engagement gone since is left out (its card shows without it).
func (a *App) MessageCards(ctx context.Context, tenantID int64, msgs []*regulars.ChatMessage) (map[int64]*regulars.Engagement, error) {
	cards := map[int64]*regulars.Engagement{}
	for _, m := range msgs {
		if m.Kind != regulars.MessageEngagement || cards[m.EngagementID] != nil {
			continue
		}
		e, err := a.DB.TenantEngagement(ctx, tenantID, m.EngagementID)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		cards[e.ID] = e
	}
	return cards, nil
}

// CardsDone reports which of cards the follower has already acted on, so
// that the card shows it instead of offering the action again: a coupon
// they have enabled and not used yet, a program they have joined, and a
// message they opened from a card of conversationID (the thread says so:
// the card shows the message, open). conversationID 0 leaves messages
// undone.
func (a *App) CardsDone(ctx context.Context, followerID, conversationID int64, cards map[int64]*regulars.Engagement) (map[int64]bool, error) {
	done := map[int64]bool{}
	for id, e := range cards {
		if e.Kind == regulars.KindMessage {
			if conversationID == 0 {
				continue
			}
			opened, err := a.DB.HasChatActivity(ctx, conversationID, e.ID)
			if err != nil {
				return nil, err
			}
			done[id] = opened
			continue
		}
		act, mem, err := a.cardDone(ctx, followerID, e)
		if err != nil {
			return nil, err
		}
		done[id] = act != nil || mem != nil
	}
	return done, nil
}

// cardDone finds what the follower has done of what e's card offers:
// their active (enabled, unused) activation of the coupon, their
// membership of the program; both nil when nothing yet, or for a message.
func (a *App) cardDone(ctx context.Context, followerID int64, e *regulars.Engagement) (*regulars.CouponActivation, *regulars.Membership, error) {
	var (
		act *regulars.CouponActivation
		mem *regulars.Membership
		err error
	)
	switch e.Kind {
	case regulars.KindCoupon:
		act, err = a.DB.ActiveActivation(ctx, e.ID, followerID)
	case regulars.KindLoyalty:
		mem, err = a.DB.Membership(ctx, e.ID, followerID)
	}
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, nil, nil
	}
	return act, mem, err
}
