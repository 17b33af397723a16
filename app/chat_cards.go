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
// they have enabled and not used yet, a program they have joined. (A
// message card can be opened again: it is never done.)
func (a *App) CardsDone(ctx context.Context, followerID int64, cards map[int64]*regulars.Engagement) (map[int64]bool, error) {
	done := map[int64]bool{}
	for id, e := range cards {
		var err error
		switch e.Kind {
		case regulars.KindCoupon:
			_, err = a.DB.ActiveActivation(ctx, id, followerID)
		case regulars.KindLoyalty:
			_, err = a.DB.Membership(ctx, id, followerID)
		default:
			continue
		}
		switch regulars.ErrorCode(err) {
		case "":
			done[id] = true
		case regulars.ENOTFOUND:
		default:
			return nil, err
		}
	}
	return done, nil
}
