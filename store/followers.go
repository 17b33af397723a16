package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"regulars"
)

const followerCols = "id, tenant_id, end_user_id, name, email, phone, birth_date, gender, language, status, password_hash, created_at"

var (
	qFollowerInsert = query("follower_insert", `INSERT INTO followers (tenant_id, end_user_id, name, email, phone, birth_date, gender, language, status, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qFollowerByID   = query("follower_by_id", `SELECT `+followerCols+` FROM followers WHERE tenant_id = ? AND id = ?`)
	qFollowerByEUID = query("follower_by_euid", `SELECT `+followerCols+` FROM followers WHERE tenant_id = ? AND end_user_id = ?`)
	qFollowerByMail = query("follower_by_email", `SELECT `+followerCols+` FROM followers WHERE tenant_id = ? AND email = ?`)
	qFollowerUpdate = query("follower_update", `UPDATE followers SET name = ?, email = ?, phone = ?, birth_date = ?, gender = ?, language = ? WHERE tenant_id = ? AND id = ?`)
	qFollowerStatus = query("follower_status", `UPDATE followers SET status = ? WHERE tenant_id = ? AND id = ?`)
	qFollowerPass   = query("follower_password", `UPDATE followers SET password_hash = ? WHERE id = ?`)

	qFollowerTokenInsert = query("follower_token_insert", `INSERT INTO follower_tokens (follower_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING id`)
	qFollowerTokenByHash = query("follower_token_by_hash", `SELECT t.id, t.follower_id, t.expires_at FROM follower_tokens t WHERE t.token_hash = ?`)
	qFollowerTokenDelete = query("follower_token_delete", `DELETE FROM follower_tokens WHERE id = ?`)
	qFollowerTokensDrop  = query("follower_tokens_drop", `DELETE FROM follower_tokens WHERE follower_id = ?`)
)

func scanFollower(row interface{ Scan(...any) error }) (*regulars.Follower, error) {
	var f regulars.Follower
	var created int64
	if err := row.Scan(&f.ID, &f.TenantID, &f.EndUserID, &f.Name, &f.Email, &f.Phone, &f.BirthDate, &f.Gender, &f.Language, &f.Status, &f.PasswordHash, &created); err != nil {
		return nil, err
	}
	f.CreatedAt = fromMS(created)
	return &f, nil
}

// CreateFollower adds a follower. A taken end-user ID or email is an
// EINVALID error on that field.
func (db *DB) CreateFollower(ctx context.Context, f *regulars.Follower) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = db.now()
	}
	if f.Status == "" {
		f.Status = regulars.FollowerActive
	}
	id, err := db.insert(ctx, qFollowerInsert, f.TenantID, f.EndUserID, f.Name, f.Email, f.Phone, f.BirthDate, f.Gender, f.Language, f.Status, f.PasswordHash, ms(f.CreatedAt))
	if db.dialect.isUnique(err) {
		field := "end_user_id"
		if f.Email != "" && strings.Contains(err.Error(), "email") {
			field = "email"
		}
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{field: "Already taken."}}
	}
	f.ID = id
	return err
}

// Follower returns one of the tenant's followers.
func (db *DB) Follower(ctx context.Context, tenantID, id int64) (*regulars.Follower, error) {
	f, err := scanFollower(db.queryRow(ctx, qFollowerByID, tenantID, id))
	return f, notFound(err, "follower")
}

// FollowerByEndUserID finds a follower by end-user ID.
func (db *DB) FollowerByEndUserID(ctx context.Context, tenantID int64, euid string) (*regulars.Follower, error) {
	f, err := scanFollower(db.queryRow(ctx, qFollowerByEUID, tenantID, euid))
	return f, notFound(err, "follower")
}

// FollowerByEmail finds a follower by email.
func (db *DB) FollowerByEmail(ctx context.Context, tenantID int64, email string) (*regulars.Follower, error) {
	f, err := scanFollower(db.queryRow(ctx, qFollowerByMail, tenantID, regulars.NormalizeEmail(email)))
	return f, notFound(err, "follower")
}

// UpdateFollowerProfile saves name, contact and the optional attributes.
func (db *DB) UpdateFollowerProfile(ctx context.Context, f *regulars.Follower) error {
	_, err := db.exec(ctx, qFollowerUpdate, f.Name, f.Email, f.Phone, f.BirthDate, f.Gender, f.Language, f.TenantID, f.ID)
	if db.dialect.isUnique(err) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"email": "Already taken."}}
	}
	return err
}

// SetFollowerStatus enables or disables a follower; disabling ends their tokens.
func (db *DB) SetFollowerStatus(ctx context.Context, tenantID, id int64, status string) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, qFollowerStatus, status, tenantID, id); err != nil {
			return err
		}
		if status == regulars.FollowerDisabled {
			_, err := db.exec(ctx, qFollowerTokensDrop, id)
			return err
		}
		return nil
	})
}

// SetFollowerPassword stores a follower's password hash.
func (db *DB) SetFollowerPassword(ctx context.Context, id int64, hash string) error {
	_, err := db.exec(ctx, qFollowerPass, hash, id)
	return err
}

// CreateFollowerToken stores the hash of a follower's bearer token.
func (db *DB) CreateFollowerToken(ctx context.Context, followerID int64, tokenHash string, ttl time.Duration) error {
	now := db.now()
	_, err := db.insert(ctx, qFollowerTokenInsert, followerID, tokenHash, ms(now), ms(now.Add(ttl)))
	return err
}

// FollowerToken resolves a token hash to (token id, follower id); expired
// tokens are not found.
func (db *DB) FollowerToken(ctx context.Context, tokenHash string) (id, followerID int64, err error) {
	var expires int64
	err = db.queryRow(ctx, qFollowerTokenByHash, tokenHash).Scan(&id, &followerID, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && expires < ms(db.now())) {
		return 0, 0, regulars.ErrNotFound("token")
	}
	return id, followerID, err
}

// DeleteFollowerToken signs a follower's token out.
func (db *DB) DeleteFollowerToken(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, qFollowerTokenDelete, id)
	return err
}

const followCols = "id, tenant_id, channel_id, follower_id, followed_at, unfollowed_at, notifications"

var (
	qFollowInsert   = query("follow_insert", `INSERT INTO follows (tenant_id, channel_id, follower_id, followed_at, notifications) VALUES (?, ?, ?, ?, TRUE) RETURNING id`)
	qFollowCurrent  = query("follow_current", `SELECT `+followCols+` FROM follows WHERE channel_id = ? AND follower_id = ? AND unfollowed_at = 0`)
	qFollowEnd      = query("follow_end", `UPDATE follows SET unfollowed_at = ? WHERE channel_id = ? AND follower_id = ? AND unfollowed_at = 0`)
	qFollowNotify   = query("follow_notify", `UPDATE follows SET notifications = ? WHERE channel_id = ? AND follower_id = ? AND unfollowed_at = 0`)
	qFollowsOf      = query("follows_of", `SELECT `+followCols+` FROM follows WHERE follower_id = ? AND unfollowed_at = 0 ORDER BY followed_at DESC`)
	qFollowHistory  = query("follow_history", `SELECT `+followCols+` FROM follows WHERE follower_id = ? ORDER BY followed_at DESC`)
	qPartnerFollows = query("partner_follower_count", `SELECT COUNT(DISTINCT f.follower_id) FROM follows f JOIN channels c ON c.id = f.channel_id WHERE c.partner_id = ? AND f.unfollowed_at = 0`)
	qFollowerCount  = query("channel_follower_count", `SELECT COUNT(*) FROM follows WHERE channel_id = ? AND unfollowed_at = 0`)
	qFollowersOfChn = query("channel_follower_ids", `SELECT follower_id FROM follows WHERE channel_id = ? AND unfollowed_at = 0 AND follower_id > ? ORDER BY follower_id LIMIT ?`)
)

func scanFollow(row interface{ Scan(...any) error }) (*regulars.Follow, error) {
	var f regulars.Follow
	var at, un int64
	if err := row.Scan(&f.ID, &f.TenantID, &f.ChannelID, &f.FollowerID, &at, &un, &f.Notifications); err != nil {
		return nil, err
	}
	f.FollowedAt, f.UnfollowedAt = fromMS(at), fromMS(un)
	return &f, nil
}

// Follow starts a follow period; following again while following returns
// the current period (created=false).
func (db *DB) Follow(ctx context.Context, tenantID, channelID, followerID int64, at time.Time) (f *regulars.Follow, created bool, err error) {
	err = db.InTx(ctx, func(ctx context.Context) error {
		cur, err := scanFollow(db.queryRow(ctx, qFollowCurrent, channelID, followerID))
		if err == nil {
			f, created = cur, false
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		id, err := db.insert(ctx, qFollowInsert, tenantID, channelID, followerID, ms(at))
		if err != nil {
			return err
		}
		f = &regulars.Follow{ID: id, TenantID: tenantID, ChannelID: channelID, FollowerID: followerID, FollowedAt: at.UTC().Truncate(time.Millisecond), Notifications: true}
		created = true
		return nil
	})
	return f, created, err
}

// Unfollow ends the current follow period; it reports whether one was open.
func (db *DB) Unfollow(ctx context.Context, channelID, followerID int64, at time.Time) (bool, error) {
	res, err := db.exec(ctx, qFollowEnd, ms(at), channelID, followerID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CurrentFollow returns the open follow period, or ENOTFOUND.
func (db *DB) CurrentFollow(ctx context.Context, channelID, followerID int64) (*regulars.Follow, error) {
	f, err := scanFollow(db.queryRow(ctx, qFollowCurrent, channelID, followerID))
	return f, notFound(err, "follow")
}

// SetFollowNotifications switches a follower's notifications for a channel.
func (db *DB) SetFollowNotifications(ctx context.Context, channelID, followerID int64, on bool) error {
	res, err := db.exec(ctx, qFollowNotify, on, channelID, followerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("follow")
	}
	return nil
}

// Follows lists the channels a follower follows now.
func (db *DB) Follows(ctx context.Context, followerID int64) ([]*regulars.Follow, error) {
	rows, err := db.queryRows(ctx, qFollowsOf, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanFollow)
}

// FollowHistory lists every follow period of a follower, newest first.
func (db *DB) FollowHistory(ctx context.Context, followerID int64) ([]*regulars.Follow, error) {
	rows, err := db.queryRows(ctx, qFollowHistory, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanFollow)
}

// CountFollowers counts a channel's current followers.
func (db *DB) CountFollowers(ctx context.Context, channelID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qFollowerCount, channelID).Scan(&n)
	return n, err
}

// CountPartnerFollowers counts the people who follow at least one of a
// partner's channels now.
func (db *DB) CountPartnerFollowers(ctx context.Context, partnerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qPartnerFollows, partnerID).Scan(&n)
	return n, err
}

// ChannelFollowerIDs pages through a channel's current followers by id
// (keyset pagination: pass the last id seen, 0 to start).
func (db *DB) ChannelFollowerIDs(ctx context.Context, channelID, after int64, limit int) ([]int64, error) {
	rows, err := db.queryRows(ctx, qFollowersOfChn, channelID, after, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[int64])
}
