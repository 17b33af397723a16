package app

import (
	"context"
	"fmt"
	"time"

	"regulars"
)

// DefaultProofSeconds is how long the proof screen of a time-based coupon
// shows: the seed's three minutes.
const DefaultProofSeconds = 180

// couponRefusal is a coupon rule saying no, with the reason for people.
func couponRefusal(format string, args ...any) error {
	return regulars.Errorf(regulars.ECONFLICT, format, args...)
}

// levelName returns the name of a program level position.
func levelName(p *regulars.Engagement, pos int) string {
	if p != nil && p.Loyalty != nil {
		for _, l := range p.Loyalty.Levels {
			if l.Position == pos {
				return l.Name
			}
		}
	}
	return fmt.Sprintf("level %d", pos)
}

// couponProgram loads the program a coupon belongs to (nil for none).
func (a *App) couponProgram(ctx context.Context, c *regulars.Engagement) (*regulars.Engagement, error) {
	if c.Coupon.ProgramID == 0 {
		return nil, nil
	}
	return a.DB.TenantEngagement(ctx, c.TenantID, c.Coupon.ProgramID)
}

// checkCouponRules applies the rules both enabling and redeeming apply: the
// coupon is live, the follower may still redeem it, stock is left, and the
// follower has the level and points it asks for. It does not write.
func (a *App) checkCouponRules(ctx context.Context, c *regulars.Engagement, followerID int64) error {
	var redeemed int64
	if c.Coupon.PerFollower > 0 {
		n, err := a.DB.CountRedeemed(ctx, c.ID, followerID)
		if err != nil {
			return err
		}
		redeemed = n
	}
	p, err := a.couponProgram(ctx, c)
	if err != nil {
		return err
	}
	var m *regulars.Membership
	if p != nil {
		if m, err = a.DB.Membership(ctx, p.ID, followerID); err != nil && regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return err
		}
	}
	return couponRules(c, p, redeemed, m, a.now())
}

// couponRules is the decision of checkCouponRules over data already read:
// the follower's redemptions of the coupon, the coupon's program (nil for
// none) and their membership of it (nil when not a member).
func couponRules(c *regulars.Engagement, p *regulars.Engagement, redeemed int64, m *regulars.Membership, now time.Time) error {
	switch {
	case c.Status == regulars.EngagementFinished, !c.EndsAt.IsZero() && !now.Before(c.EndsAt):
		return couponRefusal("This coupon has expired.")
	case !Live(c, now):
		return couponRefusal("This coupon is not available yet.")
	}
	cp := c.Coupon
	if cp.PerFollower > 0 && redeemed >= cp.PerFollower {
		if cp.PerFollower == 1 {
			return couponRefusal("You have already redeemed this coupon.")
		}
		return couponRefusal("You have already redeemed this coupon %d times, the most allowed.", cp.PerFollower)
	}
	if cp.Stock > 0 && cp.Redeemed >= cp.Stock {
		return couponRefusal("This coupon is out of stock.")
	}
	if p == nil {
		return nil
	}
	if m == nil {
		return couponRefusal("Join %s first: this coupon belongs to it.", p.Name)
	}
	if cp.MinLevel > 0 && m.Level < cp.MinLevel {
		return couponRefusal("Your level is too low: this coupon needs %s in %s, and you are at %s.", levelName(p, cp.MinLevel), p.Name, levelOrNone(p, m.Level))
	}
	if cp.PointCost > 0 && m.CurrentPoints < cp.PointCost {
		return couponRefusal("Not enough points: this coupon costs %s and you have %s.", pointWord(p, cp.PointCost), pointWord(p, m.CurrentPoints))
	}
	return nil
}

func levelOrNone(p *regulars.Engagement, pos int) string {
	if pos == 0 {
		return "no level yet"
	}
	return levelName(p, pos)
}

// validUntil is when an activation made at now stops being valid.
func validUntil(c *regulars.Engagement, now time.Time) time.Time {
	var until time.Time
	if c.Coupon.ValidDays > 0 {
		until = now.Add(time.Duration(c.Coupon.ValidDays) * 24 * time.Hour)
	}
	if !c.EndsAt.IsZero() && (until.IsZero() || c.EndsAt.Before(until)) {
		until = c.EndsAt
	}
	return until
}

// activate enables a coupon for a follower: the rules must allow it; an
// active activation is returned as it is (enabling twice changes nothing).
func (a *App) activate(ctx context.Context, c *regulars.Engagement, followerID int64) (*regulars.CouponActivation, bool, error) {
	var act *regulars.CouponActivation
	created := false
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		created = false
		if err := a.DB.LockFollower(ctx, followerID); err != nil {
			return err
		}
		cur, err := a.DB.ActiveActivation(ctx, c.ID, followerID)
		if err == nil {
			if cur.ValidUntil.IsZero() || a.now().Before(cur.ValidUntil) {
				act = cur
				return nil
			}
		} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return err
		}
		fresh, err := a.DB.TenantEngagement(ctx, c.TenantID, c.ID)
		if err != nil {
			return err
		}
		if err := a.checkCouponRules(ctx, fresh, followerID); err != nil {
			return err
		}
		now := a.now()
		act = &regulars.CouponActivation{CouponID: c.ID, FollowerID: followerID, ActivatedAt: now, ValidUntil: validUntil(fresh, now)}
		if err := a.DB.CreateActivation(ctx, c.TenantID, act); err != nil {
			return err
		}
		created = true
		return a.activity(ctx, c, followerID, regulars.ActCouponEnabled, 0, "Enabled "+c.Name)
	})
	a.followerChanged(followerID)
	return act, created, err
}

// ActivateCouponFor enables a coupon for a follower on the system's behalf:
// a points threshold reached, a location visited. Idempotent: a follower
// who has it enabled keeps that activation. The follower must be in the
// coupon's audience. It reports the activation, or a refusal (ECONFLICT)
// when the coupon's rules say no.
func (a *App) ActivateCouponFor(ctx context.Context, c *regulars.Engagement, followerID int64) (*regulars.CouponActivation, error) {
	if c.Kind != regulars.KindCoupon {
		return nil, regulars.ErrNotFound("coupon")
	}
	ok, err := a.InAudience(ctx, c, followerID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, couponRefusal("This coupon is not offered to this follower.")
	}
	act, created, err := a.activate(ctx, c, followerID)
	if err != nil {
		return nil, err
	}
	if created {
		if err := a.notify(ctx, c, followerID, "coupon", "A coupon is waiting for you", c.Name+" is enabled in your coupons."); err != nil {
			return nil, err
		}
	}
	return act, nil
}

// redeem redeems an active activation in one transaction: per-follower
// limit, stock, level and points are checked and taken together, so that
// concurrent redemptions never overspend stock or points. staffID is the
// staff user at the till (0 when the follower redeemed).
func (a *App) redeem(ctx context.Context, tenantID, activationID, followerID, staffID int64) (*regulars.CouponActivation, *regulars.Engagement, error) {
	var act *regulars.CouponActivation
	var c *regulars.Engagement
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.LockFollower(ctx, followerID); err != nil {
			return err
		}
		var err error
		if act, err = a.DB.Activation(ctx, tenantID, activationID); err != nil {
			return err
		}
		if act.FollowerID != followerID {
			return regulars.ErrNotFound("coupon")
		}
		if c, err = a.DB.TenantEngagement(ctx, tenantID, act.CouponID); err != nil {
			return err
		}
		now := a.now()
		switch {
		case act.Status == regulars.ActivationRedeemed:
			return couponRefusal("You have already redeemed this coupon.")
		case act.Status == regulars.ActivationExpired, !act.ValidUntil.IsZero() && !now.Before(act.ValidUntil):
			return couponRefusal("This coupon has expired.")
		}
		if err := a.checkCouponRules(ctx, c, followerID); err != nil {
			return err
		}
		ok, err := a.DB.MarkRedeemed(ctx, act.ID, now, staffID)
		if err != nil {
			return err
		}
		if !ok {
			return couponRefusal("You have already redeemed this coupon.")
		}
		if ok, err = a.DB.TakeCouponStock(ctx, c.ID); err != nil {
			return err
		} else if !ok {
			return couponRefusal("This coupon is out of stock.")
		}
		act.Status, act.RedeemedAt, act.RedeemedBy = regulars.ActivationRedeemed, now, staffID
		if c.Coupon.RedemptionType == regulars.RedeemTimed {
			secs := c.Coupon.ProofSeconds
			if secs <= 0 {
				secs = DefaultProofSeconds
			}
			act.ProofUntil = now.Add(time.Duration(secs) * time.Second)
			if err := a.DB.SetProof(ctx, act.ID, act.ProofUntil); err != nil {
				return err
			}
		}
		text := "Redeemed " + c.Name
		if c.Coupon.PointCost > 0 {
			p, err := a.couponProgram(ctx, c)
			if err != nil {
				return err
			}
			if _, err := a.addPoints(ctx, p, followerID, regulars.LedgerSpend, -c.Coupon.PointCost, "Spent on "+c.Name, staffID); err != nil {
				if regulars.ErrorCode(err) == regulars.ECONFLICT {
					return couponRefusal("Not enough points: this coupon costs %s.", pointWord(p, c.Coupon.PointCost))
				}
				return err
			}
			text += " for " + pointWord(p, c.Coupon.PointCost)
		}
		return a.activity(ctx, c, followerID, regulars.ActCouponRedeemed, -c.Coupon.PointCost, text)
	})
	a.followerChanged(followerID)
	if err != nil {
		return nil, nil, err
	}
	return act, c, nil
}

// TillCoupon is a coupon as staff see it for one follower at the till.
type TillCoupon struct {
	Coupon     *regulars.Engagement
	Activation *regulars.CouponActivation // the follower's active one, if any
	Refusal    string                     // why it cannot be redeemed now, "" if it can
}

// TillFollower is what the redemption page shows for a follower.
type TillFollower struct {
	Follower *regulars.Follower
	Coupons  []TillCoupon
	Recent   []*regulars.CouponActivation
}

// LookupAtTill finds a follower by end-user ID (typed or scanned) and lists
// the partner's live coupons that staff redeem for them.
func (a *App) LookupAtTill(ctx context.Context, actor *Actor, endUserID string) (*TillFollower, error) {
	if err := actor.Require(regulars.FeatureCoupons, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	f, err := a.staffFollower(ctx, actor, endUserID)
	if err != nil {
		return nil, err
	}
	out := &TillFollower{Follower: f}
	coupons, err := a.DB.Engagements(ctx, actor.PartnerID(), regulars.KindCoupon, regulars.EngagementActive)
	if err != nil {
		return nil, err
	}
	for _, c := range coupons {
		if !Live(c, a.now()) {
			continue
		}
		in, err := a.InAudience(ctx, c, f.ID)
		if err != nil {
			return nil, err
		}
		if !in {
			continue
		}
		tc := TillCoupon{Coupon: c}
		if act, err := a.DB.ActiveActivation(ctx, c.ID, f.ID); err == nil {
			tc.Activation = act
		} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return nil, err
		}
		if c.Coupon.RedemptionType != regulars.RedeemCode && tc.Activation == nil {
			continue // followers redeem these themselves
		}
		if err := a.checkCouponRules(ctx, c, f.ID); err != nil {
			if !isRefusal(err) {
				return nil, err
			}
			tc.Refusal = regulars.ErrorMessage(err)
		}
		out.Coupons = append(out.Coupons, tc)
	}
	if out.Recent, err = a.DB.PartnerActivations(ctx, actor.PartnerID(), f.ID); err != nil {
		return nil, err
	}
	return out, nil
}

// RedeemAtTill redeems a coupon of the partner for the follower with the
// end-user ID, at the till: the follower's enabled coupon, or, for a code
// coupon they have not enabled yet, enabled and redeemed in one go.
func (a *App) RedeemAtTill(ctx context.Context, actor *Actor, couponID int64, endUserID string) (*regulars.CouponActivation, *regulars.Follower, error) {
	if err := actor.Require(regulars.FeatureCoupons, regulars.LevelUpdate); err != nil {
		return nil, nil, err
	}
	if couponID == 0 {
		return nil, nil, regulars.Validation{"coupon": "Choose the coupon to redeem."}.Err()
	}
	c, err := a.DB.Engagement(ctx, actor.PartnerID(), couponID)
	if err != nil {
		return nil, nil, err
	}
	if c.Kind != regulars.KindCoupon {
		return nil, nil, regulars.ErrNotFound("coupon")
	}
	f, err := a.staffFollower(ctx, actor, endUserID)
	if err != nil {
		return nil, nil, err
	}
	in, err := a.InAudience(ctx, c, f.ID)
	if err != nil {
		return nil, nil, err
	}
	if !in {
		return nil, nil, couponRefusal("%s does not follow the coupon's channel, or the coupon is not meant for them.", f.EndUserID)
	}
	act, err := a.DB.ActiveActivation(ctx, c.ID, f.ID)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		if c.Coupon.RedemptionType != regulars.RedeemCode {
			return nil, nil, couponRefusal("The follower has not enabled this coupon.")
		}
		if act, _, err = a.activate(ctx, c, f.ID); err != nil {
			return nil, nil, err
		}
	} else if err != nil {
		return nil, nil, err
	}
	act, _, err = a.redeem(ctx, actor.User.TenantID, act.ID, f.ID, actor.User.ID)
	return act, f, err
}
