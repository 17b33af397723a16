package store

import (
	"context"

	"regulars"
)

const channelCols = "id, tenant_id, partner_id, name, description, welcome, status, chat_enabled, created_at"

var (
	qChannelInsert = query("channel_insert", `INSERT INTO channels (tenant_id, partner_id, name, description, welcome, status, chat_enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qChannelScoped = query("channel_scoped", `SELECT `+channelCols+` FROM channels WHERE partner_id = ? AND id = ?`)
	qChannelsList  = query("channels_list", `SELECT `+channelCols+` FROM channels WHERE partner_id = ? ORDER BY lower(name), id`)
)

func scanChannel(row interface{ Scan(...any) error }) (*regulars.Channel, error) {
	var c regulars.Channel
	var created int64
	if err := row.Scan(&c.ID, &c.TenantID, &c.PartnerID, &c.Name, &c.Description, &c.Welcome, &c.Status, &c.ChatEnabled, &created); err != nil {
		return nil, err
	}
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// CreateChannel adds a channel to a partner.
func (db *DB) CreateChannel(ctx context.Context, c *regulars.Channel) error {
	c.CreatedAt = db.now()
	if c.Status == "" {
		c.Status = regulars.ChannelDraft
	}
	id, err := db.insert(ctx, qChannelInsert, c.TenantID, c.PartnerID, c.Name, c.Description, c.Welcome, c.Status, c.ChatEnabled, ms(c.CreatedAt))
	c.ID = id
	return err
}

// Channel returns one of the partner's channels.
func (db *DB) Channel(ctx context.Context, partnerID, id int64) (*regulars.Channel, error) {
	c, err := scanChannel(db.queryRow(ctx, qChannelScoped, partnerID, id))
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
