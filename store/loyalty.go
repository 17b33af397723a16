package store

import (
	"context"
	"time"

	"regulars"
)

var (
	qMemberJoin   = query("membership_join", `INSERT INTO memberships (program_id, follower_id, tenant_id, joined_at) VALUES (?, ?, ?, ?)`)
	qMemberGet    = query("membership_get", `SELECT program_id, follower_id, joined_at, current_points, total_points, level FROM memberships WHERE program_id = ? AND follower_id = ?`)
	qMembersOf    = query("memberships_of", `SELECT program_id, follower_id, joined_at, current_points, total_points, level FROM memberships WHERE follower_id = ? ORDER BY joined_at`)
	qMemberCount  = query("membership_count", `SELECT COUNT(*) FROM memberships WHERE program_id = ?`)
	qMemberEarn   = query("membership_earn", `UPDATE memberships SET current_points = current_points + ?, total_points = total_points + ? WHERE program_id = ? AND follower_id = ?`)
	qMemberSpend  = query("membership_spend", `UPDATE memberships SET current_points = current_points - ? WHERE program_id = ? AND follower_id = ? AND current_points >= ?`)
	qMemberLevel  = query("membership_level", `UPDATE memberships SET level = ? WHERE program_id = ? AND follower_id = ?`)
	qLedgerInsert = query("ledger_insert", `INSERT INTO point_ledger (tenant_id, program_id, follower_id, kind, points, reason, staff_user_id, engagement_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qLedgerOf     = query("ledger_of", `SELECT id, tenant_id, program_id, follower_id, kind, points, reason, COALESCE(staff_user_id, 0), COALESCE(engagement_id, 0), expires_at, created_at FROM point_ledger WHERE program_id = ? AND follower_id = ? ORDER BY id DESC LIMIT ?`)
	qLedgerSum    = query("ledger_sum", `SELECT COALESCE(SUM(points), 0), COALESCE(SUM(CASE WHEN kind = 'earn' OR (kind = 'adjust' AND points > 0) THEN points ELSE 0 END), 0) FROM point_ledger WHERE program_id = ? AND follower_id = ?`)
	qPointsIssued = query("points_issued_since", `SELECT COALESCE(SUM(points), 0) FROM point_ledger l JOIN engagements e ON e.id = l.program_id WHERE e.partner_id = ? AND l.points > 0 AND l.kind IN ('earn', 'adjust') AND l.created_at >= ?`)
)

func scanMembership(row interface{ Scan(...any) error }) (*regulars.Membership, error) {
	var m regulars.Membership
	var joined int64
	if err := row.Scan(&m.ProgramID, &m.FollowerID, &joined, &m.CurrentPoints, &m.TotalPoints, &m.Level); err != nil {
		return nil, err
	}
	m.JoinedAt = fromMS(joined)
	return &m, nil
}

// Join makes a follower a member of a program; joining twice is refused
// with ECONFLICT.
func (db *DB) Join(ctx context.Context, tenantID, programID, followerID int64, at time.Time) error {
	_, err := db.exec(ctx, qMemberJoin, programID, followerID, tenantID, ms(at))
	if db.dialect.isUnique(err) {
		return regulars.Errorf(regulars.ECONFLICT, "You already joined this program.")
	}
	return err
}

// Membership returns a follower's standing in a program, or ENOTFOUND.
func (db *DB) Membership(ctx context.Context, programID, followerID int64) (*regulars.Membership, error) {
	m, err := scanMembership(db.queryRow(ctx, qMemberGet, programID, followerID))
	return m, notFound(err, "membership")
}

// Memberships lists a follower's programs.
func (db *DB) Memberships(ctx context.Context, followerID int64) ([]*regulars.Membership, error) {
	rows, err := db.queryRows(ctx, qMembersOf, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMembership)
}

// CountMembers counts a program's members.
func (db *DB) CountMembers(ctx context.Context, programID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qMemberCount, programID).Scan(&n)
	return n, err
}

// AddLedgerEntry appends an entry and moves the membership's balances in the
// same transaction. Spending (negative points) never takes the balance
// below zero, even when requests race: the guarded UPDATE refuses with
// ECONFLICT "not enough points". Earned and positive adjusted points add to
// the total; spending, expiry and negative adjustments do not reduce it.
func (db *DB) AddLedgerEntry(ctx context.Context, e *regulars.LedgerEntry) (*regulars.Membership, error) {
	var m *regulars.Membership
	err := db.InTx(ctx, func(ctx context.Context) error {
		if e.CreatedAt.IsZero() {
			e.CreatedAt = db.now()
		}
		if e.Points >= 0 {
			total := int64(0)
			if e.Kind == regulars.LedgerEarn || e.Kind == regulars.LedgerAdjust {
				total = e.Points
			}
			res, err := db.exec(ctx, qMemberEarn, e.Points, total, e.ProgramID, e.FollowerID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return regulars.Errorf(regulars.ECONFLICT, "The follower is not a member of this program.")
			}
		} else {
			res, err := db.exec(ctx, qMemberSpend, -e.Points, e.ProgramID, e.FollowerID, -e.Points)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				if _, err := db.Membership(ctx, e.ProgramID, e.FollowerID); err != nil {
					return regulars.Errorf(regulars.ECONFLICT, "The follower is not a member of this program.")
				}
				return regulars.Errorf(regulars.ECONFLICT, "Not enough points.")
			}
		}
		id, err := db.insert(ctx, qLedgerInsert, e.TenantID, e.ProgramID, e.FollowerID, e.Kind, e.Points, e.Reason, nullID(e.StaffUserID), nullID(e.EngagementID), ms(e.ExpiresAt), ms(e.CreatedAt))
		if err != nil {
			return err
		}
		e.ID = id
		m, err = db.Membership(ctx, e.ProgramID, e.FollowerID)
		return err
	})
	return m, err
}

// SetMembershipLevel records the level a member reached.
func (db *DB) SetMembershipLevel(ctx context.Context, programID, followerID int64, level int) error {
	_, err := db.exec(ctx, qMemberLevel, level, programID, followerID)
	return err
}

// Ledger lists a member's newest ledger entries.
func (db *DB) Ledger(ctx context.Context, programID, followerID int64, limit int) ([]*regulars.LedgerEntry, error) {
	rows, err := db.queryRows(ctx, qLedgerOf, programID, followerID, limit)
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

// LedgerTotals recomputes (current, total) from the ledger alone: the check
// that the stored balances agree with it.
func (db *DB) LedgerTotals(ctx context.Context, programID, followerID int64) (current, total int64, err error) {
	err = db.queryRow(ctx, qLedgerSum, programID, followerID).Scan(&current, &total)
	return current, total, err
}

// PointsIssuedSince sums the points a partner's programs gave out since t.
func (db *DB) PointsIssuedSince(ctx context.Context, partnerID int64, since time.Time) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qPointsIssued, partnerID, ms(since)).Scan(&n)
	return n, err
}

var (
	qActivationInsert = query("activation_insert", `INSERT INTO coupon_activations (tenant_id, coupon_id, follower_id, status, activated_at, valid_until) VALUES (?, ?, ?, 'active', ?, ?) RETURNING id`)
	qActivationByID   = query("activation_by_id", `SELECT id, coupon_id, follower_id, status, activated_at, valid_until, redeemed_at, COALESCE(redeemed_by, 0), proof_until FROM coupon_activations WHERE tenant_id = ? AND id = ?`)
	qActivationsOf    = query("activations_of", `SELECT id, coupon_id, follower_id, status, activated_at, valid_until, redeemed_at, COALESCE(redeemed_by, 0), proof_until FROM coupon_activations WHERE follower_id = ? ORDER BY id DESC`)
	qActivationsFor   = query("activations_for", `SELECT id, coupon_id, follower_id, status, activated_at, valid_until, redeemed_at, COALESCE(redeemed_by, 0), proof_until FROM coupon_activations WHERE coupon_id = ? AND follower_id = ? ORDER BY id DESC`)
	qActivationRedeem = query("activation_redeem", `UPDATE coupon_activations SET status = 'redeemed', redeemed_at = ?, redeemed_by = ? WHERE id = ? AND status = 'active'`)
	qActivationProof  = query("activation_proof", `UPDATE coupon_activations SET proof_until = ? WHERE id = ? AND status = 'active'`)
	qActivationExpire = query("activation_expire", `UPDATE coupon_activations SET status = 'expired' WHERE status = 'active' AND valid_until > 0 AND valid_until <= ?`)
	qRedeemedSince    = query("redemptions_since", `SELECT COUNT(*) FROM coupon_activations a JOIN engagements e ON e.id = a.coupon_id WHERE e.partner_id = ? AND a.status = 'redeemed' AND a.redeemed_at >= ?`)
)

func scanActivation(row interface{ Scan(...any) error }) (*regulars.CouponActivation, error) {
	var a regulars.CouponActivation
	var act, valid, red, proof int64
	if err := row.Scan(&a.ID, &a.CouponID, &a.FollowerID, &a.Status, &act, &valid, &red, &a.RedeemedBy, &proof); err != nil {
		return nil, err
	}
	a.ActivatedAt, a.ValidUntil, a.RedeemedAt, a.ProofUntil = fromMS(act), fromMS(valid), fromMS(red), fromMS(proof)
	return &a, nil
}

// CreateActivation records that a follower enabled a coupon.
func (db *DB) CreateActivation(ctx context.Context, tenantID int64, a *regulars.CouponActivation) error {
	a.Status = regulars.ActivationActive
	id, err := db.insert(ctx, qActivationInsert, tenantID, a.CouponID, a.FollowerID, ms(a.ActivatedAt), ms(a.ValidUntil))
	a.ID = id
	return err
}

// Activation returns one activation of the tenant.
func (db *DB) Activation(ctx context.Context, tenantID, id int64) (*regulars.CouponActivation, error) {
	a, err := scanActivation(db.queryRow(ctx, qActivationByID, tenantID, id))
	return a, notFound(err, "coupon")
}

// Activations lists a follower's coupon activations, newest first.
func (db *DB) Activations(ctx context.Context, followerID int64) ([]*regulars.CouponActivation, error) {
	rows, err := db.queryRows(ctx, qActivationsOf, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanActivation)
}

// ActivationsFor lists a follower's activations of one coupon.
func (db *DB) ActivationsFor(ctx context.Context, couponID, followerID int64) ([]*regulars.CouponActivation, error) {
	rows, err := db.queryRows(ctx, qActivationsFor, couponID, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanActivation)
}

// MarkRedeemed redeems an active activation; false when it was not active
// (already redeemed by a concurrent request, or expired).
func (db *DB) MarkRedeemed(ctx context.Context, id int64, at time.Time, staffUserID int64) (bool, error) {
	res, err := db.exec(ctx, qActivationRedeem, ms(at), nullID(staffUserID), id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// StartProof starts the time-based proof screen of an activation.
func (db *DB) StartProof(ctx context.Context, id int64, until time.Time) error {
	_, err := db.exec(ctx, qActivationProof, ms(until), id)
	return err
}

// ExpireActivations marks activations past their validity as expired.
func (db *DB) ExpireActivations(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.exec(ctx, qActivationExpire, ms(now))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// RedemptionsSince counts a partner's redemptions since t.
func (db *DB) RedemptionsSince(ctx context.Context, partnerID int64, since time.Time) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qRedeemedSince, partnerID, ms(since)).Scan(&n)
	return n, err
}
