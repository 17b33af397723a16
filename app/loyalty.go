package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"regulars"
)

// activity appends a line to a follower's history.
func (a *App) activity(ctx context.Context, e *regulars.Engagement, followerID int64, kind string, points int64, text string) error {
	act := &regulars.Activity{TenantID: e.TenantID, PartnerID: e.PartnerID, ChannelID: e.ChannelID, FollowerID: followerID,
		Kind: kind, EngagementID: e.ID, EngagementKind: e.Kind, Points: points, Text: text, CreatedAt: a.now()}
	// Every change of what a follower has writes an activity line: the
	// place to forget their cached state (again after the commit, below).
	a.followerChanged(followerID)
	return a.DB.AddActivity(ctx, act)
}

// pointWord names n points the way the program calls them.
func pointWord(p *regulars.Engagement, n int64) string {
	l := p.Loyalty
	one, many := "point", "points"
	if l != nil && l.PointSingular != "" {
		one = l.PointSingular
	}
	if l != nil && l.PointPlural != "" {
		many = l.PointPlural
	}
	if n == 1 || n == -1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// joinProgram makes a follower a member (idempotent: a member stays one)
// and applies the "on joining" and "on follow" earning rules.
func (a *App) joinProgram(ctx context.Context, p *regulars.Engagement, followerID int64) (*regulars.Membership, error) {
	if m, err := a.DB.Membership(ctx, p.ID, followerID); err == nil {
		return m, nil
	} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	now := a.now()
	if !p.Loyalty.NoNewMembersAt.IsZero() && !now.Before(p.Loyalty.NoNewMembersAt) {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s takes no new members since %s.", p.Name, p.Loyalty.NoNewMembersAt.Format("2 Jan 2006"))
	}
	var m *regulars.Membership
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.Join(ctx, p.TenantID, p.ID, followerID, now); err != nil {
			return err
		}
		if err := a.activity(ctx, p, followerID, regulars.ActProgramJoined, 0, "Joined "+p.Name); err != nil {
			return err
		}
		var err error
		if m, err = a.DB.Membership(ctx, p.ID, followerID); err != nil {
			return err
		}
		if p.Loyalty.PointsOnJoin > 0 {
			if m, err = a.earn(ctx, p, followerID, p.Loyalty.PointsOnJoin, "Welcome bonus for joining", 0); err != nil {
				return err
			}
		}
		return a.followBonus(ctx, p, followerID)
	})
	a.followerChanged(followerID)
	return m, err
}

const followReason = "Bonus for following the channel"

// followBonus awards the program's "on follow" points once per follower,
// when they are a member and follow the program's channel.
func (a *App) followBonus(ctx context.Context, p *regulars.Engagement, followerID int64) error {
	if p.Loyalty.PointsOnFollow <= 0 {
		return nil
	}
	if _, err := a.DB.CurrentFollow(ctx, p.ChannelID, followerID); err != nil {
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			return nil
		}
		return err
	}
	if _, err := a.DB.Membership(ctx, p.ID, followerID); err != nil {
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			return nil
		}
		return err
	}
	done, err := a.DB.HasLedgerReason(ctx, p.ID, followerID, followReason)
	if err != nil || done {
		return err
	}
	_, err = a.earn(ctx, p, followerID, p.Loyalty.PointsOnFollow, followReason, 0)
	return err
}

// earn adds points to a member (kind earn), records the activity, and
// applies what follows from the new total: a level reached, coupons that
// activate at a points threshold.
func (a *App) earn(ctx context.Context, p *regulars.Engagement, followerID, points int64, reason string, staffID int64) (*regulars.Membership, error) {
	return a.addPoints(ctx, p, followerID, regulars.LedgerEarn, points, reason, staffID)
}

func (a *App) addPoints(ctx context.Context, p *regulars.Engagement, followerID int64, kind string, points int64, reason string, staffID int64) (*regulars.Membership, error) {
	var m *regulars.Membership
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		// Every change of a follower's points or coupons locks the follower
		// first, so that concurrent transactions take their locks in one order.
		if err := a.DB.LockFollower(ctx, followerID); err != nil {
			return err
		}
		now := a.now()
		e := &regulars.LedgerEntry{TenantID: p.TenantID, ProgramID: p.ID, FollowerID: followerID, Kind: kind, Points: points, Reason: reason, StaffUserID: staffID, CreatedAt: now}
		if points > 0 && p.Loyalty.ExpiryDays > 0 {
			e.ExpiresAt = now.Add(time.Duration(p.Loyalty.ExpiryDays) * 24 * time.Hour)
		}
		var err error
		if m, err = a.DB.AddLedgerEntry(ctx, e); err != nil {
			return err
		}
		actKind := regulars.ActPointsEarned
		switch {
		case kind == regulars.LedgerAdjust:
			actKind = regulars.ActPointsAdjusted
		case kind == regulars.LedgerSpend:
			actKind = regulars.ActPointsSpent
		case kind == regulars.LedgerExpire:
			actKind = regulars.ActPointsExpired
		}
		text := pointWord(p, points) + " in " + p.Name
		if reason != "" {
			text += ": " + reason
		}
		if err := a.activity(ctx, p, followerID, actKind, points, text); err != nil {
			return err
		}
		if points <= 0 {
			return nil
		}
		return a.afterTotalChanged(ctx, p, m)
	})
	a.followerChanged(followerID)
	return m, err
}

// afterTotalChanged records a level reached and auto-activates the
// program's threshold coupons.
func (a *App) afterTotalChanged(ctx context.Context, p *regulars.Engagement, m *regulars.Membership) error {
	if p.Loyalty.HasLevels() {
		if lv := p.Loyalty.LevelFor(m.TotalPoints); lv > m.Level {
			if err := a.DB.SetMembershipLevel(ctx, p.ID, m.FollowerID, lv); err != nil {
				return err
			}
			name := ""
			for _, l := range p.Loyalty.Levels {
				if l.Position == lv {
					name = l.Name
				}
			}
			if err := a.activity(ctx, p, m.FollowerID, regulars.ActLevelReached, 0, fmt.Sprintf("Reached level %d (%s) in %s", lv, name, p.Name)); err != nil {
				return err
			}
			if err := a.notify(ctx, p, m.FollowerID, "level", "You reached "+name, "Your level in "+p.Name+" is now "+name+"."); err != nil {
				return err
			}
			m.Level = lv
		}
	}
	coupons, err := a.DB.ProgramCoupons(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, c := range coupons {
		if c.Coupon.RedemptionType != regulars.RedeemAutoPoint || c.Coupon.AutoThreshold <= 0 || m.TotalPoints < c.Coupon.AutoThreshold || !Live(c, a.now()) {
			continue
		}
		if _, err := a.ActivateCouponFor(ctx, c, m.FollowerID); err != nil && !isRefusal(err) {
			return err
		}
	}
	return nil
}

// isRefusal reports whether err is a rule saying no (not a failure).
func isRefusal(err error) bool {
	switch regulars.ErrorCode(err) {
	case regulars.ECONFLICT, regulars.ENOTFOUND, regulars.EFORBIDDEN, regulars.EINVALID:
		return true
	}
	return false
}

// notify puts an entry in the follower's notification feed.
func (a *App) notify(ctx context.Context, e *regulars.Engagement, followerID int64, kind, title, body string) error {
	return a.DB.AddNotification(ctx, e.TenantID, &regulars.Notification{FollowerID: followerID, ChannelID: e.ChannelID, EngagementID: e.ID, Kind: kind, Title: title, Body: body, CreatedAt: a.now()})
}

// staffProgram loads one of the actor's loyalty programs.
func (a *App) staffProgram(ctx context.Context, actor *Actor, programID int64) (*regulars.Engagement, error) {
	p, err := a.DB.Engagement(ctx, actor.PartnerID(), programID)
	if err != nil {
		return nil, err
	}
	if p.Kind != regulars.KindLoyalty {
		return nil, regulars.ErrNotFound("loyalty program")
	}
	return p, nil
}

// staffFollower finds a follower of the actor's tenant by end-user ID (as
// typed or scanned at the till).
func (a *App) staffFollower(ctx context.Context, actor *Actor, endUserID string) (*regulars.Follower, error) {
	euid := NormalizeEndUserID(endUserID)
	if euid == "" {
		return nil, regulars.Validation{"end_user_id": "Type the follower's end-user ID or scan their code."}.Err()
	}
	f, err := a.DB.FollowerByEndUserID(ctx, actor.User.TenantID, euid)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, regulars.Validation{"end_user_id": "No follower has the end-user ID " + euid + "."}.Err()
	}
	return f, err
}

// NormalizeEndUserID upper-cases an end-user ID and drops spaces and
// dashes, so that "ab12-cd34" typed at a till finds AB12CD34.
func NormalizeEndUserID(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "", "-", "").Replace(s)
}

// PurchaseInput is a visit or purchase that staff record at the till.
type PurchaseInput struct {
	EndUserID string
	Amount    string // in currency units, e.g. "12.50"; empty for a visit without purchase
}

// RecordPurchase records a visit (and the purchase amount, if any) for a
// follower in a program: it awards the visit points plus the points per
// whole currency unit. A follower who has not joined the program yet is
// joined when the program accepts members and they follow its channel.
func (a *App) RecordPurchase(ctx context.Context, actor *Actor, programID int64, in PurchaseInput) (*regulars.Membership, int64, error) {
	if err := actor.Require(regulars.FeatureLoyalty, regulars.LevelUpdate); err != nil {
		return nil, 0, err
	}
	p, err := a.staffProgram(ctx, actor, programID)
	if err != nil {
		return nil, 0, err
	}
	v := regulars.Validation{}
	var cents int64
	if s := strings.TrimSpace(in.Amount); s != "" {
		c, ok := parseAmount(s)
		switch {
		case !ok:
			v.Add("amount", "Enter an amount like 12.50.")
		case c < 0:
			v.Add("amount", "The amount cannot be negative.")
		case c > 100_000_000:
			v.Add("amount", "That amount is too large for one purchase.")
		}
		cents = c
	}
	var f *regulars.Follower
	if err := v.Err(); err == nil {
		if f, err = a.staffFollower(ctx, actor, in.EndUserID); err != nil {
			return nil, 0, err
		}
	} else {
		return nil, 0, err
	}
	if p.Status != regulars.EngagementActive {
		return nil, 0, regulars.Errorf(regulars.ECONFLICT, "%s is not active: publish it first.", p.Name)
	}
	points := p.Loyalty.PointsPerVisit + p.Loyalty.PointsPerAmount*(cents/100)
	var m *regulars.Membership
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if _, err := a.DB.Membership(ctx, p.ID, f.ID); regulars.ErrorCode(err) == regulars.ENOTFOUND {
			ok, err := a.InAudience(ctx, p, f.ID)
			if err != nil {
				return err
			}
			if !ok {
				return regulars.Errorf(regulars.ECONFLICT, "%s does not follow this program's channel, so they cannot collect %s.", f.EndUserID, pointWord(p, 2)[2:])
			}
			if _, err := a.joinProgram(ctx, p, f.ID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		reason := "Visit"
		if cents > 0 {
			reason = fmt.Sprintf("Purchase of %d.%02d", cents/100, cents%100)
		}
		if points <= 0 {
			m, err = a.DB.Membership(ctx, p.ID, f.ID)
			return err
		}
		var err error
		m, err = a.earn(ctx, p, f.ID, points, reason, actor.User.ID)
		return err
	})
	a.followerChanged(f.ID)
	if err != nil {
		return nil, 0, err
	}
	return m, points, nil
}

// parseAmount reads "12", "12.5" or "12,50" as cents.
func parseAmount(s string) (int64, bool) {
	s = strings.ReplaceAll(s, ",", ".")
	whole, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(whole, "-")
	whole = strings.TrimPrefix(whole, "-")
	if whole == "" && frac == "" || len(frac) > 2 || len(whole) > 12 {
		return 0, false
	}
	var c int64
	for _, r := range whole {
		if r < '0' || r > '9' {
			return 0, false
		}
		c = c*10 + int64(r-'0')
	}
	c *= 100
	for i, r := range frac {
		if r < '0' || r > '9' {
			return 0, false
		}
		d := int64(r - '0')
		if i == 0 {
			d *= 10
		}
		c += d
	}
	if neg {
		c = -c
	}
	return c, true
}

// AdjustPoints lets staff award (positive, kind earn, with a note) or
// correct (kind adjust, either sign, with a reason) a member's points.
// A correction below zero is refused: the balance never goes negative.
func (a *App) AdjustPoints(ctx context.Context, actor *Actor, programID, followerID int64, points int64, reason string, award bool) (*regulars.Membership, error) {
	if err := actor.Require(regulars.FeatureLoyalty, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	p, err := a.staffProgram(ctx, actor, programID)
	if err != nil {
		return nil, err
	}
	if _, err := a.DB.Follower(ctx, actor.User.TenantID, followerID); err != nil {
		return nil, err
	}
	if _, err := a.DB.Membership(ctx, p.ID, followerID); err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	v := regulars.Validation{}
	switch {
	case points == 0:
		v.Add("points", "Enter a number of points other than 0.")
	case award && points < 0:
		v.Add("points", "An award adds points; use an adjustment to take points away.")
	case points > 1_000_000 || points < -1_000_000:
		v.Add("points", "Use at most 1,000,000 points at a time.")
	}
	if reason == "" {
		v.Add("reason", "Say why: the follower sees it in their history.")
	} else if len([]rune(reason)) > 200 {
		v.Add("reason", "Use at most 200 characters.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	kind := regulars.LedgerAdjust
	if award {
		kind = regulars.LedgerEarn
	}
	m, err := a.addPoints(ctx, p, followerID, kind, points, reason, actor.User.ID)
	if regulars.ErrorCode(err) == regulars.ECONFLICT && points < 0 {
		return nil, regulars.Validation{"points": "The follower has fewer points than that: the balance cannot go below zero."}.Err()
	}
	return m, err
}

// AwardVisitPoints gives a follower the program's points for a location
// visit (proximity targeting). It is idempotent per visitKey: the caller
// passes a key naming the visit (e.g. location id and cooldown window), and
// a second call with the same key awards nothing. It joins nobody: only
// members collect points. It reports the points awarded.
func (a *App) AwardVisitPoints(ctx context.Context, p *regulars.Engagement, followerID int64, visitKey string) (int64, error) {
	if p.Kind != regulars.KindLoyalty || p.Loyalty.PointsOnLocation <= 0 || !Live(p, a.now()) {
		return 0, nil
	}
	ok, err := a.InAudience(ctx, p, followerID)
	if err != nil || !ok {
		return 0, err
	}
	reason := "Location visit " + visitKey
	var awarded int64
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.LockFollower(ctx, followerID); err != nil {
			return err
		}
		if _, err := a.DB.Membership(ctx, p.ID, followerID); err != nil {
			if regulars.ErrorCode(err) == regulars.ENOTFOUND {
				return nil
			}
			return err
		}
		done, err := a.DB.HasLedgerReason(ctx, p.ID, followerID, reason)
		if err != nil || done {
			return err
		}
		if _, err := a.earn(ctx, p, followerID, p.Loyalty.PointsOnLocation, reason, 0); err != nil {
			return err
		}
		awarded = p.Loyalty.PointsOnLocation
		return nil
	})
	return awarded, err
}

// ExpirePoints processes earned points whose expiry has come: with
// first-in-first-out spending, an entry's points still in the balance are
// those not covered by later, still valid earnings. Each entry is processed
// once, even when several nodes run the job.
func (a *App) ExpirePoints(ctx context.Context) (int, error) {
	now := a.now()
	entries, err := a.DB.ExpiringEntries(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	n := 0
	programs := map[int64]*regulars.Engagement{}
	for _, e := range entries {
		p := programs[e.ProgramID]
		if p == nil {
			if p, err = a.DB.TenantEngagement(ctx, e.TenantID, e.ProgramID); err != nil {
				return n, err
			}
			programs[e.ProgramID] = p
		}
		err := a.DB.InTx(ctx, func(ctx context.Context) error {
			if err := a.DB.LockFollower(ctx, e.FollowerID); err != nil {
				return err
			}
			first, err := a.DB.MarkExpiryDone(ctx, e.ID, now)
			if err != nil || !first {
				return err
			}
			m, err := a.DB.Membership(ctx, e.ProgramID, e.FollowerID)
			if err != nil {
				return err
			}
			later, err := a.DB.UnexpiredEarnedAfter(ctx, e.ProgramID, e.FollowerID, e.ID, now)
			if err != nil {
				return err
			}
			lose := min(e.Points, m.CurrentPoints-later)
			if lose <= 0 {
				return nil
			}
			_, err = a.addPoints(ctx, p, e.FollowerID, regulars.LedgerExpire, -lose, "Expired after "+fmt.Sprint(p.Loyalty.ExpiryDays)+" days", 0)
			return err
		})
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
