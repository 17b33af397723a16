package store

import (
	"context"

	"regulars"
)

var (
	qOutboxInsert = query("outbox_insert", `INSERT INTO outbox (tenant_id, to_addr, subject, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	qOutboxSent   = query("outbox_sent", `UPDATE outbox SET sent_at = ?, error = ? WHERE id = ?`)
	qOutboxList   = query("outbox_list", `SELECT id, COALESCE(tenant_id, 0), to_addr, subject, body, created_at, sent_at, error FROM outbox WHERE COALESCE(tenant_id, 0) = ? ORDER BY id DESC LIMIT ?`)
	qOutboxTo     = query("outbox_to", `SELECT id, COALESCE(tenant_id, 0), to_addr, subject, body, created_at, sent_at, error FROM outbox WHERE to_addr = ? ORDER BY id DESC LIMIT 50`)

	qSupportInsert = query("support_insert", `INSERT INTO support_messages (tenant_id, partner_id, user_id, subject, body, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
	qSupportList   = query("support_list", `SELECT s.id, s.tenant_id, s.partner_id, s.user_id, s.subject, s.body, s.created_at, p.brand_name, u.name, u.email
		FROM support_messages s JOIN partners p ON p.id = s.partner_id JOIN users u ON u.id = s.user_id
		WHERE s.tenant_id = ? ORDER BY s.id DESC LIMIT 200`)
)

// AddToOutbox keeps an email; every email is kept, sent or not.
func (db *DB) AddToOutbox(ctx context.Context, m *regulars.Mail) error {
	m.CreatedAt = db.now()
	id, err := db.insert(ctx, qOutboxInsert, nullID(m.TenantID), m.To, m.Subject, m.Body, ms(m.CreatedAt))
	m.ID = id
	return err
}

// MarkSent records the outcome of an SMTP delivery ("" error = sent).
func (db *DB) MarkSent(ctx context.Context, id int64, sendErr string) error {
	var at int64
	if sendErr == "" {
		at = ms(db.now())
	}
	_, err := db.exec(ctx, qOutboxSent, at, sendErr, id)
	return err
}

func scanMail(row interface{ Scan(...any) error }) (*regulars.Mail, error) {
	var m regulars.Mail
	var created, sent int64
	if err := row.Scan(&m.ID, &m.TenantID, &m.To, &m.Subject, &m.Body, &created, &sent, &m.Error); err != nil {
		return nil, err
	}
	m.CreatedAt, m.SentAt = fromMS(created), fromMS(sent)
	return &m, nil
}

// Outbox lists a tenant's newest emails (tenantID 0 = platform emails).
func (db *DB) Outbox(ctx context.Context, tenantID int64, limit int) ([]*regulars.Mail, error) {
	rows, err := db.queryRows(ctx, qOutboxList, tenantID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMail)
}

// OutboxTo lists the newest emails to one address.
func (db *DB) OutboxTo(ctx context.Context, to string) ([]*regulars.Mail, error) {
	rows, err := db.queryRows(ctx, qOutboxTo, regulars.NormalizeEmail(to))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMail)
}

// AddSupportMessage stores a partner's message to the tenant.
func (db *DB) AddSupportMessage(ctx context.Context, m *regulars.SupportMessage) error {
	m.CreatedAt = db.now()
	id, err := db.insert(ctx, qSupportInsert, m.TenantID, m.PartnerID, m.UserID, m.Subject, m.Body, ms(m.CreatedAt))
	m.ID = id
	return err
}

// SupportMessages lists the tenant's support inbox.
func (db *DB) SupportMessages(ctx context.Context, tenantID int64) ([]*regulars.SupportMessage, error) {
	rows, err := db.queryRows(ctx, qSupportList, tenantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.SupportMessage, error) {
		var m regulars.SupportMessage
		var created int64
		if err := row.Scan(&m.ID, &m.TenantID, &m.PartnerID, &m.UserID, &m.Subject, &m.Body, &created, &m.PartnerName, &m.UserName, &m.UserEmail); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMS(created)
		return &m, nil
	})
}
