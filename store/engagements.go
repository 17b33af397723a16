package store

import (
	"context"
	"encoding/json"
	"time"

	"regulars"
)

const engagementCols = "id, tenant_id, partner_id, channel_id, kind, name, description, image, status, starts_at, ends_at, published_at, finished_at, cooldown_seconds, spec, COALESCE(program_id, 0), point_cost, min_level, stock, redeemed, per_follower, created_at, updated_at"

var (
	qEngagementInsert = query("engagement_insert", `INSERT INTO engagements (tenant_id, partner_id, channel_id, kind, name, description, image, status, starts_at, ends_at, cooldown_seconds, spec, program_id, point_cost, min_level, stock, per_follower, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qEngagementUpdate = query("engagement_update", `UPDATE engagements SET channel_id = ?, name = ?, description = ?, image = ?, starts_at = ?, ends_at = ?, cooldown_seconds = ?, spec = ?, program_id = ?, point_cost = ?, min_level = ?, stock = ?, per_follower = ?, updated_at = ? WHERE partner_id = ? AND id = ?`)
	qEngagementByID   = query("engagement_by_id", `SELECT `+engagementCols+` FROM engagements WHERE partner_id = ? AND id = ?`)
	qEngagementTenant = query("engagement_by_tenant", `SELECT `+engagementCols+` FROM engagements WHERE tenant_id = ? AND id = ?`)
	qEngagementsList  = query("engagements_list", `SELECT `+engagementCols+` FROM engagements WHERE partner_id = ? AND (? = '' OR kind = ?) AND (? = '' OR status = ?) ORDER BY CASE status WHEN 'active' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, id DESC LIMIT 500`)
	qEngagementsChan  = query("engagements_channel_active", `SELECT `+engagementCols+` FROM engagements WHERE channel_id = ? AND status = 'active' AND (? = '' OR kind = ?) ORDER BY id DESC`)
	qEngagementStatus = query("engagement_status", `UPDATE engagements SET status = ?, published_at = CASE WHEN CAST(? AS BIGINT) > 0 THEN ? ELSE published_at END, finished_at = CASE WHEN CAST(? AS BIGINT) > 0 THEN ? ELSE finished_at END, updated_at = ? WHERE id = ? AND status = ?`)
	qEngagementsDue   = query("engagements_due", `SELECT `+engagementCols+` FROM engagements WHERE status = 'active' AND ends_at > 0 AND ends_at <= ? ORDER BY ends_at LIMIT 500`)
	qEngagementsStart = query("engagements_starting", `SELECT `+engagementCols+` FROM engagements WHERE status = 'active' AND kind = 'message' ORDER BY id LIMIT 5000`)
	qEngagementCount  = query("engagements_count_active", `SELECT COUNT(*) FROM engagements WHERE partner_id = ? AND kind = ? AND status = 'active'`)
	qCouponRedeemInc  = query("coupon_redeemed_inc", `UPDATE engagements SET redeemed = redeemed + 1 WHERE id = ? AND (stock = 0 OR redeemed < stock)`)

	qLevelsDelete = query("levels_delete", `DELETE FROM loyalty_levels WHERE program_id = ?`)
	qLevelInsert  = query("level_insert", `INSERT INTO loyalty_levels (program_id, position, name, threshold) VALUES (?, ?, ?, ?)`)
	qLevelsOf     = query("levels_of", `SELECT position, name, threshold FROM loyalty_levels WHERE program_id = ? ORDER BY position`)
)

// specJSON is the stored form of the kind-specific fields that need no
// column of their own.
type specJSON struct {
	Message *regulars.MessageSpec `json:"message,omitempty"`
	Coupon  *regulars.CouponSpec  `json:"coupon,omitempty"`
	Loyalty *regulars.LoyaltySpec `json:"loyalty,omitempty"`
}

func scanEngagement(row interface{ Scan(...any) error }) (*regulars.Engagement, error) {
	var e regulars.Engagement
	var starts, ends, published, finished, created, updated int64
	var spec string
	var programID, pointCost, stock, redeemed, perFollower int64
	var minLevel int
	if err := row.Scan(&e.ID, &e.TenantID, &e.PartnerID, &e.ChannelID, &e.Kind, &e.Name, &e.Description, &e.Image, &e.Status,
		&starts, &ends, &published, &finished, &e.CooldownSeconds, &spec, &programID, &pointCost, &minLevel, &stock, &redeemed, &perFollower, &created, &updated); err != nil {
		return nil, err
	}
	e.StartsAt, e.EndsAt, e.PublishedAt, e.FinishedAt = fromMS(starts), fromMS(ends), fromMS(published), fromMS(finished)
	e.CreatedAt, e.UpdatedAt = fromMS(created), fromMS(updated)
	var s specJSON
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		return nil, err
	}
	e.Message, e.Coupon, e.Loyalty = s.Message, s.Coupon, s.Loyalty
	if e.Kind == regulars.KindCoupon {
		if e.Coupon == nil {
			e.Coupon = &regulars.CouponSpec{}
		}
		c := e.Coupon
		c.ProgramID, c.PointCost, c.MinLevel, c.Stock, c.Redeemed, c.PerFollower = programID, pointCost, minLevel, stock, redeemed, perFollower
	}
	return &e, nil
}

// engagementArgs splits an engagement into its JSON spec and columns.
func engagementArgs(e *regulars.Engagement) (spec string, programID any, pointCost, minLevel, stock, perFollower int64) {
	s := specJSON{Message: e.Message}
	if e.Loyalty != nil {
		l := *e.Loyalty
		l.Levels = nil // levels live in their own table
		s.Loyalty = &l
	}
	if c := e.Coupon; c != nil {
		cp := *c
		programID, pointCost, minLevel, stock, perFollower = nullID(c.ProgramID), c.PointCost, int64(c.MinLevel), c.Stock, c.PerFollower
		// Column-held fields are not duplicated in the JSON.
		cp.ProgramID, cp.PointCost, cp.MinLevel, cp.Stock, cp.Redeemed, cp.PerFollower = 0, 0, 0, 0, 0, 0
		s.Coupon = &cp
	} else {
		programID = nil
		perFollower = 1
	}
	b, _ := json.Marshal(s)
	return string(b), programID, pointCost, minLevel, stock, perFollower
}

// CreateEngagement adds a draft engagement (and a program's levels).
func (db *DB) CreateEngagement(ctx context.Context, e *regulars.Engagement) error {
	now := db.now()
	e.CreatedAt, e.UpdatedAt = now, now
	if e.Status == "" {
		e.Status = regulars.EngagementDraft
	}
	if e.CooldownSeconds == 0 {
		e.CooldownSeconds = 86400
	}
	spec, programID, pointCost, minLevel, stock, perFollower := engagementArgs(e)
	return db.InTx(ctx, func(ctx context.Context) error {
		id, err := db.insert(ctx, qEngagementInsert, e.TenantID, e.PartnerID, e.ChannelID, e.Kind, e.Name, e.Description, e.Image, e.Status,
			ms(e.StartsAt), ms(e.EndsAt), e.CooldownSeconds, spec, programID, pointCost, minLevel, stock, perFollower, ms(now), ms(now))
		if err != nil {
			return err
		}
		e.ID = id
		return db.saveLevels(ctx, e)
	})
}

func (db *DB) saveLevels(ctx context.Context, e *regulars.Engagement) error {
	if e.Loyalty == nil {
		return nil
	}
	if _, err := db.exec(ctx, qLevelsDelete, e.ID); err != nil {
		return err
	}
	for _, l := range e.Loyalty.Levels {
		if _, err := db.exec(ctx, qLevelInsert, e.ID, l.Position, l.Name, l.Threshold); err != nil {
			return err
		}
	}
	return nil
}

// UpdateEngagement saves an engagement's editable fields and levels.
func (db *DB) UpdateEngagement(ctx context.Context, e *regulars.Engagement) error {
	e.UpdatedAt = db.now()
	spec, programID, pointCost, minLevel, stock, perFollower := engagementArgs(e)
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, qEngagementUpdate, e.ChannelID, e.Name, e.Description, e.Image, ms(e.StartsAt), ms(e.EndsAt), e.CooldownSeconds, spec,
			programID, pointCost, minLevel, stock, perFollower, ms(e.UpdatedAt), e.PartnerID, e.ID); err != nil {
			return err
		}
		return db.saveLevels(ctx, e)
	})
}

func (db *DB) withLevels(ctx context.Context, e *regulars.Engagement) (*regulars.Engagement, error) {
	if e.Kind != regulars.KindLoyalty {
		return e, nil
	}
	if e.Loyalty == nil {
		e.Loyalty = &regulars.LoyaltySpec{}
	}
	rows, err := db.queryRows(ctx, qLevelsOf, e.ID)
	if err != nil {
		return nil, err
	}
	levels, err := collect(rows, func(row interface{ Scan(...any) error }) (regulars.ProgramLevel, error) {
		var l regulars.ProgramLevel
		return l, row.Scan(&l.Position, &l.Name, &l.Threshold)
	})
	e.Loyalty.Levels = levels
	return e, err
}

// Engagement returns one of the partner's engagements.
func (db *DB) Engagement(ctx context.Context, partnerID, id int64) (*regulars.Engagement, error) {
	e, err := scanEngagement(db.queryRow(ctx, qEngagementByID, partnerID, id))
	if err != nil {
		return nil, notFound(err, "engagement")
	}
	return db.withLevels(ctx, e)
}

// TenantEngagement returns an engagement of any partner of the tenant (for
// follower-facing calls, which check the channel themselves).
func (db *DB) TenantEngagement(ctx context.Context, tenantID, id int64) (*regulars.Engagement, error) {
	e, err := scanEngagement(db.queryRow(ctx, qEngagementTenant, tenantID, id))
	if err != nil {
		return nil, notFound(err, "engagement")
	}
	return db.withLevels(ctx, e)
}

// Engagements lists a partner's engagements, optionally of one kind/status.
func (db *DB) Engagements(ctx context.Context, partnerID int64, kind, status string) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngagementsList, partnerID, kind, kind, status, status)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanEngagement)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if _, err := db.withLevels(ctx, e); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// ActiveChannelEngagements lists a channel's active engagements, optionally
// of one kind.
func (db *DB) ActiveChannelEngagements(ctx context.Context, channelID int64, kind string) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngagementsChan, channelID, kind, kind)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanEngagement)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if _, err := db.withLevels(ctx, e); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// SetEngagementStatus moves an engagement from one status to another; it
// reports false when the engagement was not in status from (someone else
// moved it first).
func (db *DB) SetEngagementStatus(ctx context.Context, id int64, from, to string, at time.Time) (bool, error) {
	var published, finished int64
	switch to {
	case regulars.EngagementActive:
		published = ms(at)
	case regulars.EngagementFinished:
		finished = ms(at)
	}
	res, err := db.exec(ctx, qEngagementStatus, to, published, published, finished, finished, ms(db.now()), id, from)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// EngagementsDueToFinish lists active engagements whose end date has passed.
func (db *DB) EngagementsDueToFinish(ctx context.Context, now time.Time) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngagementsDue, ms(now))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEngagement)
}

// ActiveMessages lists active message engagements (for the delivery job).
func (db *DB) ActiveMessages(ctx context.Context) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngagementsStart)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEngagement)
}

// CountActiveEngagements counts a partner's active engagements of a kind.
func (db *DB) CountActiveEngagements(ctx context.Context, partnerID int64, kind string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qEngagementCount, partnerID, kind).Scan(&n)
	return n, err
}

// TakeCouponStock counts one redemption against the coupon's stock; it
// reports false when the stock is exhausted. Atomic on both databases.
func (db *DB) TakeCouponStock(ctx context.Context, couponID int64) (bool, error) {
	res, err := db.exec(ctx, qCouponRedeemInc, couponID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
