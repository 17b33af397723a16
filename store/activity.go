package store

import (
	"context"
	"time"

	"regulars"
)

const activityCols = "id, tenant_id, partner_id, COALESCE(channel_id, 0), follower_id, kind, COALESCE(engagement_id, 0), engagement_kind, points, text, created_at"

var (
	qActivityInsert = query("activity_insert", `INSERT INTO activities (tenant_id, partner_id, channel_id, follower_id, kind, engagement_id, engagement_kind, points, text, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qActivitiesOf   = query("activities_of", `SELECT `+activityCols+` FROM activities WHERE follower_id = ? AND (? = 0 OR partner_id = ?) AND (? = '' OR engagement_kind = ?) AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`)

	qNotificationInsert = query("notification_insert", `INSERT INTO notifications (tenant_id, follower_id, channel_id, engagement_id, kind, title, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qNotificationsOf    = query("notifications_of", `SELECT id, follower_id, COALESCE(channel_id, 0), COALESCE(engagement_id, 0), kind, title, body, created_at, read_at FROM notifications WHERE follower_id = ? AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`)
	qNotificationRead   = query("notification_read", `UPDATE notifications SET read_at = ? WHERE follower_id = ? AND id = ? AND read_at = 0`)
	qNotificationUnread = query("notification_unread", `SELECT COUNT(*) FROM notifications WHERE follower_id = ? AND read_at = 0`)

	qRunStart     = query("delivery_run_start", `INSERT INTO delivery_runs (engagement_id, run_key, status, total, started_at) VALUES (?, ?, 'running', ?, ?) RETURNING id`)
	qRunGet       = query("delivery_run_get", `SELECT id, engagement_id, run_key, status, total, done, started_at, finished_at FROM delivery_runs WHERE engagement_id = ? AND run_key = ?`)
	qRunsOf       = query("delivery_runs_of", `SELECT id, engagement_id, run_key, status, total, done, started_at, finished_at FROM delivery_runs WHERE engagement_id = ? ORDER BY id DESC LIMIT 50`)
	qRunProgress  = query("delivery_run_progress", `UPDATE delivery_runs SET done = ?, status = ?, finished_at = ? WHERE id = ?`)
	qDeliveryAdd  = query("delivery_add", `INSERT INTO message_deliveries (engagement_id, follower_id, run_key, delivered_at) VALUES (?, ?, ?, ?) ON CONFLICT (engagement_id, run_key, follower_id) DO NOTHING`)
	qDeliveryOpen = query("delivery_open", `UPDATE message_deliveries SET opened_at = ? WHERE engagement_id = ? AND follower_id = ? AND opened_at = 0`)
	qDeliveriesOf = query("deliveries_of", `SELECT d.id, d.engagement_id, d.run_key, d.delivered_at, d.opened_at FROM message_deliveries d WHERE d.follower_id = ? AND (? = 0 OR d.engagement_id IN (SELECT id FROM engagements WHERE channel_id = ?)) ORDER BY d.id DESC LIMIT ?`)
	qDeliveryCnt  = query("delivery_count", `SELECT COUNT(*) FROM message_deliveries WHERE engagement_id = ? AND run_key = ?`)
)

// AddActivity appends a line to a follower's history.
func (db *DB) AddActivity(ctx context.Context, a *regulars.Activity) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.now()
	}
	id, err := db.insert(ctx, qActivityInsert, a.TenantID, a.PartnerID, nullID(a.ChannelID), a.FollowerID, a.Kind, nullID(a.EngagementID), a.EngagementKind, a.Points, a.Text, ms(a.CreatedAt))
	a.ID = id
	return err
}

// ActivityFilter narrows a follower's history.
type ActivityFilter struct {
	PartnerID      int64  // only this partner's activity (0 = all; staff always pass theirs)
	EngagementKind string // message, coupon, loyalty, …
	Before         int64  // page: ids below this
	Limit          int
}

// Activities lists a follower's history, newest first.
func (db *DB) Activities(ctx context.Context, followerID int64, f ActivityFilter) ([]*regulars.Activity, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.queryRows(ctx, qActivitiesOf, followerID, f.PartnerID, f.PartnerID, f.EngagementKind, f.EngagementKind, f.Before, f.Before, f.Limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.Activity, error) {
		var a regulars.Activity
		var created int64
		if err := row.Scan(&a.ID, &a.TenantID, &a.PartnerID, &a.ChannelID, &a.FollowerID, &a.Kind, &a.EngagementID, &a.EngagementKind, &a.Points, &a.Text, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(created)
		return &a, nil
	})
}

// AddNotification puts an entry in a follower's notification feed.
func (db *DB) AddNotification(ctx context.Context, tenantID int64, n *regulars.Notification) error {
	if n.CreatedAt.IsZero() {
		n.CreatedAt = db.now()
	}
	id, err := db.insert(ctx, qNotificationInsert, tenantID, n.FollowerID, nullID(n.ChannelID), nullID(n.EngagementID), n.Kind, n.Title, n.Body, ms(n.CreatedAt))
	n.ID = id
	return err
}

// Notifications lists a follower's feed, newest first.
func (db *DB) Notifications(ctx context.Context, followerID, before int64, limit int) ([]*regulars.Notification, error) {
	rows, err := db.queryRows(ctx, qNotificationsOf, followerID, before, before, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.Notification, error) {
		var n regulars.Notification
		var created, read int64
		if err := row.Scan(&n.ID, &n.FollowerID, &n.ChannelID, &n.EngagementID, &n.Kind, &n.Title, &n.Body, &created, &read); err != nil {
			return nil, err
		}
		n.CreatedAt, n.ReadAt = fromMS(created), fromMS(read)
		return &n, nil
	})
}

// MarkNotificationRead marks one of the follower's notifications read.
func (db *DB) MarkNotificationRead(ctx context.Context, followerID, id int64) error {
	_, err := db.exec(ctx, qNotificationRead, ms(db.now()), followerID, id)
	return err
}

// UnreadNotifications counts a follower's unread notifications.
func (db *DB) UnreadNotifications(ctx context.Context, followerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qNotificationUnread, followerID).Scan(&n)
	return n, err
}

// DeliveryRun is one delivery of a message engagement (one per recurrence).
type DeliveryRun struct {
	ID           int64
	EngagementID int64
	RunKey       string
	Status       string // running, done
	Total, Done  int64
	StartedAt    time.Time
	FinishedAt   time.Time
}

func scanRun(row interface{ Scan(...any) error }) (*DeliveryRun, error) {
	var r DeliveryRun
	var started, finished int64
	if err := row.Scan(&r.ID, &r.EngagementID, &r.RunKey, &r.Status, &r.Total, &r.Done, &started, &finished); err != nil {
		return nil, err
	}
	r.StartedAt, r.FinishedAt = fromMS(started), fromMS(finished)
	return &r, nil
}

// StartDeliveryRun returns the run for (engagement, key), creating it when
// new; a restarted job finds the run it had started.
func (db *DB) StartDeliveryRun(ctx context.Context, engagementID int64, key string, total int64) (*DeliveryRun, error) {
	var run *DeliveryRun
	err := db.InTx(ctx, func(ctx context.Context) error {
		r, err := scanRun(db.queryRow(ctx, qRunGet, engagementID, key))
		if err == nil {
			run = r
			return nil
		}
		if err := notFound(err, "run"); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return err
		}
		now := db.now()
		id, err := db.insert(ctx, qRunStart, engagementID, key, total, ms(now))
		if err != nil {
			return err
		}
		run = &DeliveryRun{ID: id, EngagementID: engagementID, RunKey: key, Status: "running", Total: total, StartedAt: now}
		return nil
	})
	return run, err
}

// DeliveryRuns lists an engagement's runs, newest first (progress for the UI).
func (db *DB) DeliveryRuns(ctx context.Context, engagementID int64) ([]*DeliveryRun, error) {
	rows, err := db.queryRows(ctx, qRunsOf, engagementID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRun)
}

// UpdateDeliveryRun records progress; done marks it finished.
func (db *DB) UpdateDeliveryRun(ctx context.Context, r *DeliveryRun, finished bool) error {
	status, at := "running", int64(0)
	if finished {
		status, at = "done", ms(db.now())
		r.FinishedAt = fromMS(at)
	}
	r.Status = status
	_, err := db.exec(ctx, qRunProgress, r.Done, status, at, r.ID)
	return err
}

// AddDelivery records that a message reached a follower in a run; it
// reports false when it already had (idempotent retries).
func (db *DB) AddDelivery(ctx context.Context, engagementID, followerID int64, key string, at time.Time) (bool, error) {
	res, err := db.exec(ctx, qDeliveryAdd, engagementID, followerID, key, ms(at))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CountDeliveries counts the followers a run reached.
func (db *DB) CountDeliveries(ctx context.Context, engagementID int64, key string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qDeliveryCnt, engagementID, key).Scan(&n)
	return n, err
}

// MarkOpened records that a follower opened a message (first time only);
// it reports whether this was the first time.
func (db *DB) MarkOpened(ctx context.Context, engagementID, followerID int64) (bool, error) {
	res, err := db.exec(ctx, qDeliveryOpen, ms(db.now()), engagementID, followerID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Delivery is a message in a follower's channel thread.
type Delivery struct {
	ID           int64
	EngagementID int64
	RunKey       string
	DeliveredAt  time.Time
	OpenedAt     time.Time
}

// Deliveries lists the messages a follower received (in one channel, or
// all with channelID 0), newest first.
func (db *DB) Deliveries(ctx context.Context, followerID, channelID int64, limit int) ([]*Delivery, error) {
	rows, err := db.queryRows(ctx, qDeliveriesOf, followerID, channelID, channelID, limit)
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
