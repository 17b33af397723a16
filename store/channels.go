package store

import (
	"context"
	"strings"

	"regulars"
)

const channelCols = "id, tenant_id, partner_id, name, description, welcome, logo, status, chat_enabled, created_at"

var (
	qChannelInsert = query("channel_insert", `INSERT INTO channels (tenant_id, partner_id, name, description, welcome, logo, status, chat_enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qChannelScoped = query("channel_scoped", `SELECT `+channelCols+` FROM channels WHERE partner_id = ? AND id = ?`)
	qChannelTenant = query("channel_by_tenant", `SELECT `+channelCols+` FROM channels WHERE tenant_id = ? AND id = ?`)
	qChannelsList  = query("channels_list", `SELECT `+channelCols+` FROM channels WHERE partner_id = ? ORDER BY lower(name), id`)
	qChannelUpdate = query("channel_update", `UPDATE channels SET name = ?, description = ?, welcome = ?, chat_enabled = ? WHERE partner_id = ? AND id = ?`)
	qChannelLogo   = query("channel_logo", `UPDATE channels SET logo = ? WHERE partner_id = ? AND id = ?`)
	qChannelStatus = query("channel_status", `UPDATE channels SET status = ? WHERE partner_id = ? AND id = ? AND status = ?`)
	qChannelsCount = query("channels_count", `SELECT COUNT(*) FROM channels WHERE partner_id = ? AND (? = '' OR status = ?)`)
	// Followers browse the tenant's active channels of active partners.
	qChannelsBrowse = query("channels_browse", `SELECT c.id, c.tenant_id, c.partner_id, c.name, c.description, c.welcome, c.logo, c.status, c.chat_enabled, c.created_at
		FROM channels c JOIN partners p ON p.id = c.partner_id
		WHERE c.tenant_id = ? AND c.status = 'active' AND p.status = 'active' AND (? = '' OR fold(c.name) LIKE ? ESCAPE '\' OR fold(c.description) LIKE ? ESCAPE '\')
		ORDER BY lower(c.name), c.id LIMIT ?`)
)

func scanChannel(row interface{ Scan(...any) error }) (*regulars.Channel, error) {
	var c regulars.Channel
	var created int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.PartnerID, &c.Name, &c.Description, &c.Welcome, &c.Logo, &c.Status, &c.ChatEnabled, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// CreateChannel adds a channel to a partner.
func (db *DB) CreateChannel(ctx context.Context, c *regulars.Channel) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.now()
	}
	if c.Status == "" {
		c.Status = regulars.ChannelDraft
	}
	id, err := db.insert(ctx, qChannelInsert, c.TenantID, c.PartnerID, c.Name, c.Description, c.Welcome, c.Logo, c.Status, c.ChatEnabled, ms(c.CreatedAt))
	c.ID = id
	return err
}

// Channel returns one of the partner's channels.
func (db *DB) Channel(ctx context.Context, partnerID, id int64) (*regulars.Channel, error) {
	c, err := scanChannel(db.queryRow(ctx, qChannelScoped, partnerID, id))
	return c, notFound(err, "channel")
}

// TenantChannel returns a channel of any partner of the tenant (follower
// calls check its status themselves).
func (db *DB) TenantChannel(ctx context.Context, tenantID, id int64) (*regulars.Channel, error) {
	c, err := scanChannel(db.queryRow(ctx, qChannelTenant, tenantID, id))
	return c, notFound(err, "channel")
}

// Channels lists the partner's channels.
func (db *DB) Channels(ctx context.Context, partnerID int64) ([]*regulars.Channel, error) {
	rows, err := db.queryRows(ctx, qChannelsList, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannel)
}

// UpdateChannel saves a channel's editable fields.
func (db *DB) UpdateChannel(ctx context.Context, c *regulars.Channel) error {
	res, err := db.exec(ctx, qChannelUpdate, c.Name, c.Description, c.Welcome, c.ChatEnabled, c.PartnerID, c.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("channel")
	}
	return nil
}

// SetChannelLogo stores the file name of a channel's logo.
func (db *DB) SetChannelLogo(ctx context.Context, partnerID, id int64, logo string) error {
	_, err := db.exec(ctx, qChannelLogo, logo, partnerID, id)
	return err
}

// SetChannelStatus moves a channel from one status to another; false when
// it was not in status from.
func (db *DB) SetChannelStatus(ctx context.Context, partnerID, id int64, from, to string) (bool, error) {
	res, err := db.exec(ctx, qChannelStatus, to, partnerID, id, from)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CountChannels counts a partner's channels ("" = any status).
func (db *DB) CountChannels(ctx context.Context, partnerID int64, status string) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qChannelsCount, partnerID, status, status).Scan(&n)
	return n, err
}

// BrowseChannels lists the tenant's active channels, optionally matching q
// in the name or description.
func (db *DB) BrowseChannels(ctx context.Context, tenantID int64, q string, limit int) ([]*regulars.Channel, error) {
	like := "%" + likeEscape(Fold(strings.TrimSpace(q))) + "%"
	rows, err := db.queryRows(ctx, qChannelsBrowse, tenantID, strings.TrimSpace(q), like, like, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanChannel)
}
