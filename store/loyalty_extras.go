package store

import (
	"context"
	"strings"
	"time"

	"regulars"
)

// Queries of the loyalty core that the follower app, the redemption page,
// the background jobs and the dashboard need.

var (
	qFollowRefs = query("channel_follow_refs", `SELECT follower_id, notifications FROM follows WHERE channel_id = ? AND unfollowed_at = 0 AND follower_id > ? ORDER BY follower_id LIMIT ?`)
	qLockFollow = query("follower_lock", `SELECT id FROM followers WHERE id = ?`)

	qActiveActivation   = query("activation_active_for", `SELECT id, coupon_id, follower_id, status, activated_at, valid_until, redeemed_at, COALESCE(redeemed_by, 0), proof_until FROM coupon_activations WHERE coupon_id = ? AND follower_id = ? AND status = 'active' ORDER BY id DESC LIMIT 1`)
	qRedeemedCount      = query("activation_redeemed_count", `SELECT COUNT(*) FROM coupon_activations WHERE coupon_id = ? AND follower_id = ? AND status = 'redeemed'`)
	qPartnerActivations = query("activations_partner_follower", `SELECT a.id, a.coupon_id, a.follower_id, a.status, a.activated_at, a.valid_until, a.redeemed_at, COALESCE(a.redeemed_by, 0), a.proof_until
		FROM coupon_activations a JOIN engagements e ON e.id = a.coupon_id WHERE e.partner_id = ? AND a.follower_id = ? ORDER BY a.id DESC LIMIT 100`)
	qCouponsOfProgram = query("coupons_of_program", `SELECT `+engagementCols+` FROM engagements WHERE program_id = ? AND kind = 'coupon' AND status = 'active' ORDER BY id`)
	qLedgerReason     = query("ledger_has_reason", `SELECT COUNT(*) FROM point_ledger WHERE program_id = ? AND follower_id = ? AND reason = ?`)

	qExpiring       = query("ledger_expiring", `SELECT id, tenant_id, program_id, follower_id, kind, points, reason, COALESCE(staff_user_id, 0), COALESCE(engagement_id, 0), expires_at, created_at FROM point_ledger WHERE expires_at > 0 AND expiry_done = 0 AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`)
	qExpiryDone     = query("ledger_expiry_done", `UPDATE point_ledger SET expiry_done = ? WHERE id = ? AND expiry_done = 0`)
	qLaterUnexpired = query("ledger_later_unexpired", `SELECT COALESCE(SUM(points), 0) FROM point_ledger WHERE program_id = ? AND follower_id = ? AND id > ? AND points > 0 AND kind IN ('earn', 'adjust') AND (expires_at = 0 OR expires_at > ?)`)

	qMembers = query("program_members", `SELECT m.program_id, m.follower_id, m.joined_at, m.current_points, m.total_points, m.level, f.end_user_id, f.name
		FROM memberships m JOIN followers f ON f.id = m.follower_id WHERE m.program_id = ? AND (? = '' OR f.end_user_id = ? OR fold(f.name) LIKE ? ESCAPE '\') ORDER BY m.total_points DESC, m.follower_id LIMIT ?`)

	qFollowsPerDay     = query("dash_follows_per_day", `SELECT f.followed_at / 86400000, COUNT(*) FROM follows f JOIN channels c ON c.id = f.channel_id WHERE c.partner_id = ? AND f.followed_at >= ? GROUP BY f.followed_at / 86400000`)
	qUnfollowsPerDay   = query("dash_unfollows_per_day", `SELECT f.unfollowed_at / 86400000, COUNT(*) FROM follows f JOIN channels c ON c.id = f.channel_id WHERE c.partner_id = ? AND f.unfollowed_at >= ? GROUP BY f.unfollowed_at / 86400000`)
	qFollowersAt       = query("dash_followers_at", `SELECT COUNT(*) FROM follows f JOIN channels c ON c.id = f.channel_id WHERE c.partner_id = ? AND f.followed_at < ? AND (f.unfollowed_at = 0 OR f.unfollowed_at >= ?)`)
	qRedemptionsPerDay = query("dash_redemptions_per_day", `SELECT a.redeemed_at / 86400000, COUNT(*) FROM coupon_activations a JOIN engagements e ON e.id = a.coupon_id WHERE e.partner_id = ? AND a.status = 'redeemed' AND a.redeemed_at >= ? GROUP BY a.redeemed_at / 86400000`)
	qPointsPerDay      = query("dash_points_per_day", `SELECT l.created_at / 86400000, COALESCE(SUM(l.points), 0) FROM point_ledger l JOIN engagements e ON e.id = l.program_id WHERE e.partner_id = ? AND l.points > 0 AND l.kind IN ('earn', 'adjust') AND l.created_at >= ? GROUP BY l.created_at / 86400000`)
	qActiveByKind      = query("dash_active_by_kind", `SELECT kind, COUNT(*) FROM engagements WHERE partner_id = ? AND status = 'active' GROUP BY kind`)

	qDeliveredThread = query("delivered_thread", `SELECT d.id, d.engagement_id, d.run_key, d.delivered_at, d.opened_at FROM message_deliveries d JOIN engagements e ON e.id = d.engagement_id WHERE d.follower_id = ? AND e.channel_id = ? ORDER BY d.id DESC LIMIT ?`)
)

// FollowRef is a current follower of a channel and their notification switch.
type FollowRef struct {
	FollowerID    int64
	Notifications bool
}

// ChannelFollowRefs pages through a channel's current followers by id
// (keyset: pass the last id seen, 0 to start).
func (db *DB) ChannelFollowRefs(ctx context.Context, channelID, after int64, limit int) ([]FollowRef, error) {
	rows, err := db.queryRows(ctx, qFollowRefs, channelID, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (FollowRef, error) {
		var f FollowRef
		return f, row.Scan(&f.FollowerID, &f.Notifications)
	})
}

// FollowingAmong returns those of ids that follow the channel now, in the
// order of ids.
func (db *DB) FollowingAmong(ctx context.Context, channelID int64, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	following := map[int64]bool{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, channelID)
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `SELECT follower_id FROM follows WHERE channel_id = ? AND unfollowed_at = 0 AND follower_id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		rows, err := db.queryRows(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		got, err := collect(rows, scanValue[int64])
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			following[id] = true
		}
	}
	out := make([]int64, 0, len(following))
	for _, id := range ids {
		if following[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// LockFollower serialises the calling transaction with every other one that
// locks the same follower (PostgreSQL row lock; SQLite transactions are
// already serial). Per-follower limits use it so that two racing requests
// cannot both pass a count.
func (db *DB) LockFollower(ctx context.Context, id int64) error {
	var got int64
	return notFound(db.queryRow(ctx, qLockFollow+db.dialect.forUpdate(), id).Scan(&got), "follower")
}

// ActiveActivation returns the follower's active activation of a coupon, or
// ENOTFOUND.
func (db *DB) ActiveActivation(ctx context.Context, couponID, followerID int64) (*regulars.CouponActivation, error) {
	a, err := scanActivation(db.queryRow(ctx, qActiveActivation, couponID, followerID))
	return a, notFound(err, "coupon")
}

// CountRedeemed counts a follower's redemptions of a coupon.
func (db *DB) CountRedeemed(ctx context.Context, couponID, followerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qRedeemedCount, couponID, followerID).Scan(&n)
	return n, err
}

// PartnerActivations lists a follower's activations of the partner's coupons.
func (db *DB) PartnerActivations(ctx context.Context, partnerID, followerID int64) ([]*regulars.CouponActivation, error) {
	rows, err := db.queryRows(ctx, qPartnerActivations, partnerID, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanActivation)
}

// ProgramCoupons lists the active coupons inside a loyalty program.
func (db *DB) ProgramCoupons(ctx context.Context, programID int64) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qCouponsOfProgram, programID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEngagement)
}

// HasLedgerReason reports whether the member's ledger has an entry with
// exactly this reason (one-time earning rules such as "on follow").
func (db *DB) HasLedgerReason(ctx context.Context, programID, followerID int64, reason string) (bool, error) {
	var n int64
	err := db.queryRow(ctx, qLedgerReason, programID, followerID, reason).Scan(&n)
	return n > 0, err
}

// ExpiringEntries lists earned entries whose expiry has come and was not
// processed yet, oldest first.
func (db *DB) ExpiringEntries(ctx context.Context, now time.Time, limit int) ([]*regulars.LedgerEntry, error) {
	rows, err := db.queryRows(ctx, qExpiring, ms(now), limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.LedgerEntry, error) {
		var e regulars.LedgerEntry
		var exp, created int64
		if err := row.Scan(&e.ID, &e.TenantID, &e.ProgramID, &e.FollowerID, &e.Kind, &e.Points, &e.Reason, &e.StaffUserID, &e.EngagementID, &exp, &created); err != nil {
			return nil, err
		}
		e.ExpiresAt, e.CreatedAt = fromMS(exp), fromMS(created)
		return &e, nil
	})
}

// MarkExpiryDone records that an entry's expiry was processed; false when
// another run did it first.
func (db *DB) MarkExpiryDone(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := db.exec(ctx, qExpiryDone, ms(at), id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UnexpiredEarnedAfter sums the points earned after entry id that are still
// valid at now: with first-in-first-out spending, those are the points a
// balance holds before the older entry's.
func (db *DB) UnexpiredEarnedAfter(ctx context.Context, programID, followerID, id int64, now time.Time) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qLaterUnexpired, programID, followerID, id, ms(now)).Scan(&n)
	return n, err
}

// Member is a membership with the follower's name, for staff lists.
type Member struct {
	regulars.Membership
	EndUserID string
	Name      string
}

// Members lists a program's members, highest total first; q matches an
// exact end-user ID or a part of the name.
func (db *DB) Members(ctx context.Context, programID int64, q string, limit int) ([]*Member, error) {
	q = strings.TrimSpace(q)
	rows, err := db.queryRows(ctx, qMembers, programID, q, strings.ToUpper(q), "%"+likeEscape(Fold(q))+"%", limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*Member, error) {
		var m Member
		var joined int64
		if err := row.Scan(&m.ProgramID, &m.FollowerID, &joined, &m.CurrentPoints, &m.TotalPoints, &m.Level, &m.EndUserID, &m.Name); err != nil {
			return nil, err
		}
		m.JoinedAt = fromMS(joined)
		return &m, nil
	})
}

// DayCount is a value for one UTC day.
type DayCount struct {
	Day   time.Time
	Count int64
}

func (db *DB) perDay(ctx context.Context, q string, partnerID int64, since time.Time) (map[int64]int64, error) {
	rows, err := db.queryRows(ctx, q, partnerID, ms(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var day, n int64
		if err := rows.Scan(&day, &n); err != nil {
			return nil, err
		}
		out[day] = n
	}
	return out, rows.Err()
}

// days turns per-day values into a dense series from since to until.
func days(m map[int64]int64, since, until time.Time) []DayCount {
	var out []DayCount
	for d := since.Truncate(24 * time.Hour); !d.After(until); d = d.Add(24 * time.Hour) {
		out = append(out, DayCount{Day: d, Count: m[d.UnixMilli()/86400000]})
	}
	return out
}

// Dashboard is a partner's figures over a period, one value per day.
type Dashboard struct {
	Followers   []DayCount // followers at the end of each day
	NewFollows  []DayCount
	Redemptions []DayCount
	Points      []DayCount // points issued
	ActiveKinds map[string]int64
}

// PartnerDashboard computes the dashboard series for the days since since.
func (db *DB) PartnerDashboard(ctx context.Context, partnerID int64, since, now time.Time) (*Dashboard, error) {
	since = since.UTC().Truncate(24 * time.Hour)
	d := &Dashboard{ActiveKinds: map[string]int64{}}
	follows, err := db.perDay(ctx, qFollowsPerDay, partnerID, since)
	if err != nil {
		return nil, err
	}
	unfollows, err := db.perDay(ctx, qUnfollowsPerDay, partnerID, since)
	if err != nil {
		return nil, err
	}
	var base int64
	if err := db.queryRow(ctx, qFollowersAt, partnerID, ms(since), ms(since)).Scan(&base); err != nil {
		return nil, err
	}
	d.NewFollows = days(follows, since, now)
	running := base
	for _, dc := range d.NewFollows {
		running += dc.Count - unfollows[dc.Day.UnixMilli()/86400000]
		d.Followers = append(d.Followers, DayCount{Day: dc.Day, Count: running})
	}
	red, err := db.perDay(ctx, qRedemptionsPerDay, partnerID, since)
	if err != nil {
		return nil, err
	}
	d.Redemptions = days(red, since, now)
	pts, err := db.perDay(ctx, qPointsPerDay, partnerID, since)
	if err != nil {
		return nil, err
	}
	d.Points = days(pts, since, now)
	rows, err := db.queryRows(ctx, qActiveByKind, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, err
		}
		d.ActiveKinds[kind] = n
	}
	return d, rows.Err()
}

// ChannelThread lists the messages a follower received in a channel, newest
// first.
func (db *DB) ChannelThread(ctx context.Context, followerID, channelID int64, limit int) ([]*Delivery, error) {
	rows, err := db.queryRows(ctx, qDeliveredThread, followerID, channelID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*Delivery, error) {
		var d Delivery
		var at, opened int64
		if err := row.Scan(&d.ID, &d.EngagementID, &d.RunKey, &at, &opened); err != nil {
			return nil, err
		}
		d.DeliveredAt, d.OpenedAt = fromMS(at), fromMS(opened)
		return &d, nil
	})
}

var qActivationSetProof = query("activation_set_proof", `UPDATE coupon_activations SET proof_until = ? WHERE id = ?`)

// SetProof records until when a redeemed time-based coupon shows its proof
// screen.
func (db *DB) SetProof(ctx context.Context, id int64, until time.Time) error {
	_, err := db.exec(ctx, qActivationSetProof, ms(until), id)
	return err
}

var qTenantsFirstTwo = query("tenants_first_two", `SELECT id FROM tenants ORDER BY id LIMIT 2`)

// SoleTenant returns the installation's tenant when it hosts exactly one,
// else ENOTFOUND.
func (db *DB) SoleTenant(ctx context.Context) (*regulars.Tenant, error) {
	rows, err := db.queryRows(ctx, qTenantsFirstTwo)
	if err != nil {
		return nil, err
	}
	ids, err := collect(rows, scanValue[int64])
	if err != nil {
		return nil, err
	}
	if len(ids) != 1 {
		return nil, regulars.ErrNotFound("tenant")
	}
	return db.Tenant(ctx, ids[0])
}

var (
	qFollowerAny      = query("follower_any", `SELECT `+followerCols+` FROM followers WHERE id = ?`)
	qDeliveredToCount = query("delivered_to_count", `SELECT COUNT(*) FROM message_deliveries WHERE engagement_id = ? AND follower_id = ?`)
)

// FollowerAny returns a follower by id whatever the tenant: for resolving a
// token, which names the follower and so the tenant.
func (db *DB) FollowerAny(ctx context.Context, id int64) (*regulars.Follower, error) {
	f, err := scanFollower(db.queryRow(ctx, qFollowerAny, id))
	return f, notFound(err, "follower")
}

// CountDeliveredTo counts the runs of a message that reached a follower.
func (db *DB) CountDeliveredTo(ctx context.Context, engagementID, followerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qDeliveredToCount, engagementID, followerID).Scan(&n)
	return n, err
}

var qNotificationOwned = query("notification_owned", `SELECT COUNT(*) FROM notifications WHERE follower_id = ? AND id = ?`)

// HasNotification reports whether notification id is the follower's.
func (db *DB) HasNotification(ctx context.Context, followerID, id int64) (bool, error) {
	var n int64
	err := db.queryRow(ctx, qNotificationOwned, followerID, id).Scan(&n)
	return n > 0, err
}

var qFollowedPartner = query("followed_partner", `SELECT COUNT(*) FROM follows f JOIN channels c ON c.id = f.channel_id WHERE c.partner_id = ? AND f.follower_id = ?`)

// FollowedPartner reports whether a follower follows or followed one of the
// partner's channels: the followers a partner's staff may look up.
func (db *DB) FollowedPartner(ctx context.Context, partnerID, followerID int64) (bool, error) {
	var n int64
	err := db.queryRow(ctx, qFollowedPartner, partnerID, followerID).Scan(&n)
	return n > 0, err
}
