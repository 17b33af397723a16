package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"regulars"
)

const conversationCols = "c.id, c.tenant_id, c.partner_id, c.channel_id, c.follower_id, c.status, COALESCE(c.owner_id, 0), COALESCE(c.finished_by, 0), c.last_seq, c.last_message_at, c.last_preview, c.last_author, c.follower_read_seq, c.created_at, c.updated_at"

// conversationView adds the names the lists and the thread show.
const conversationView = conversationCols + `, COALESCE(o.name, ''), f.name, f.end_user_id, ch.name`

const conversationJoins = ` FROM conversations c
	JOIN followers f ON f.id = c.follower_id
	JOIN channels ch ON ch.id = c.channel_id
	LEFT JOIN users o ON o.id = c.owner_id`

var (
	qConversationEnsure = query("conversation_ensure", `INSERT INTO conversations (tenant_id, partner_id, channel_id, follower_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'unanswered', ?, ?)
		ON CONFLICT (channel_id, follower_id) DO NOTHING`)
	qConversationOf      = query("conversation_of", `SELECT `+conversationView+conversationJoins+` WHERE c.channel_id = ? AND c.follower_id = ?`)
	qConversationScoped  = query("conversation_scoped", `SELECT `+conversationView+conversationJoins+` WHERE c.partner_id = ? AND c.id = ?`)
	qConversationForUser = query("conversation_follower", `SELECT `+conversationView+conversationJoins+` WHERE c.follower_id = ? AND c.id = ?`)
	qConversationLock    = query("conversation_lock", `SELECT `+conversationCols+` FROM conversations c WHERE c.id = ?`)
	qConversationState   = query("conversation_state", `UPDATE conversations SET status = ?, owner_id = ?, finished_by = ?, updated_at = ? WHERE id = ?`)
	qConversationLast    = query("conversation_last", `UPDATE conversations SET last_seq = ?, last_message_at = ?, last_preview = ?, last_author = ?, follower_read_seq = ?, updated_at = ? WHERE id = ?`)
	qConversationFRead   = query("conversation_follower_read", `UPDATE conversations SET follower_read_seq = ? WHERE id = ? AND follower_read_seq < ? AND last_seq >= ?`)

	qConversationsList = query("conversations_list", `SELECT `+conversationView+`, COALESCE(r.read_seq, 0),
		(SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.seq > COALESCE(r.read_seq, 0) AND m.author = 'follower')`+conversationJoins+`
		LEFT JOIN chat_reads r ON r.conversation_id = c.id AND r.user_id = ?
		WHERE c.partner_id = ? AND c.last_seq > 0 AND (? = '' OR c.status = ?) AND (? = 0 OR c.owner_id = ?)
		AND (? = '' OR fold(f.name) LIKE ? ESCAPE '\' OR lower(f.end_user_id) LIKE ? ESCAPE '\')
		AND (? = 0 OR c.last_message_at < ? OR (c.last_message_at = ? AND c.id < ?))
		ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?`)
	qConversationCounts = query("conversation_counts", `SELECT
		COALESCE(SUM(CASE WHEN status = 'unanswered' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' AND owner_id = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0)
		FROM conversations WHERE partner_id = ? AND last_seq > 0`)
	qFollowerConversations = query("conversations_of_follower", `SELECT `+conversationView+`, c.follower_read_seq,
		(SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.seq > c.follower_read_seq AND m.author = 'agent')`+conversationJoins+`
		WHERE c.follower_id = ? AND c.last_seq > 0 ORDER BY c.last_message_at DESC, c.id DESC LIMIT 200`)
	qFollowerChatPartners = query("follower_chat_partners", `SELECT DISTINCT partner_id FROM conversations WHERE follower_id = ? AND last_seq > 0`)
	qConversationUnread   = query("conversation_unread", `SELECT COALESCE(r.read_seq, 0), (SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id AND m.seq > COALESCE(r.read_seq, 0) AND m.author = 'follower')
		FROM conversations c LEFT JOIN chat_reads r ON r.conversation_id = c.id AND r.user_id = ? WHERE c.id = ?`)

	qFollowerUnread = query("conversation_follower_unread", `SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = ? AND m.seq > ? AND m.author = 'agent'`)

	qChatRead = query("chat_read", `INSERT INTO chat_reads (conversation_id, user_id, read_seq) VALUES (?, ?, ?)
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET read_seq = CASE WHEN excluded.read_seq > chat_reads.read_seq THEN excluded.read_seq ELSE chat_reads.read_seq END`)
)

// scanConversation reads conversationCols followed by extra columns.
func scanConversation(row interface{ Scan(...any) error }, extra ...any) (*regulars.Conversation, error) {
	var c regulars.Conversation
	var last, created, updated int64
	dest := append([]any{&c.ID, &c.TenantID, &c.PartnerID, &c.ChannelID, &c.FollowerID, &c.Status, &c.OwnerID, &c.FinishedBy, &c.LastSeq,
		&last, &c.LastPreview, &c.LastAuthor, &c.FollowerReadSeq, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	c.LastMessageAt, c.CreatedAt, c.UpdatedAt = fromMS(last), fromMS(created), fromMS(updated)
	return &c, nil
}

func scanConversationView(row interface{ Scan(...any) error }, extra ...any) (*regulars.Conversation, error) {
	var owner, name, euid, channel string
	c, err := scanConversation(row, append([]any{&owner, &name, &euid, &channel}, extra...)...)
	if err != nil {
		return nil, err
	}
	c.OwnerName, c.FollowerName, c.FollowerEndUserID, c.ChannelName = owner, name, euid, channel
	return c, nil
}

// EnsureConversation returns the conversation of a follower with a channel,
// creating it (unanswered, without messages) the first time. Two
// concurrent first calls get the same conversation.
func (db *DB) EnsureConversation(ctx context.Context, tenantID, partnerID, channelID, followerID int64) (*regulars.Conversation, error) {
	now := ms(db.now())
	if _, err := db.exec(ctx, qConversationEnsure, tenantID, partnerID, channelID, followerID, now, now); err != nil {
		return nil, err
	}
	return db.ConversationOf(ctx, channelID, followerID)
}

// ConversationOf returns the conversation of a follower with a channel.
func (db *DB) ConversationOf(ctx context.Context, channelID, followerID int64) (*regulars.Conversation, error) {
	c, err := scanConversationView(db.queryRow(ctx, qConversationOf, channelID, followerID))
	return c, notFound(err, "conversation")
}

// Conversation returns one of the partner's conversations.
func (db *DB) Conversation(ctx context.Context, partnerID, id int64) (*regulars.Conversation, error) {
	c, err := scanConversationView(db.queryRow(ctx, qConversationScoped, partnerID, id))
	return c, notFound(err, "conversation")
}

// FollowerConversation returns one of the follower's conversations.
func (db *DB) FollowerConversation(ctx context.Context, followerID, id int64) (*regulars.Conversation, error) {
	c, err := scanConversationView(db.queryRow(ctx, qConversationForUser, followerID, id))
	return c, notFound(err, "conversation")
}

// LockConversation reads a conversation's state for a change inside a
// transaction: on PostgreSQL the row stays locked until the transaction
// ends, so two agents taking it at once are serialised (SQLite's writer
// lock does the same).
func (db *DB) LockConversation(ctx context.Context, id int64) (*regulars.Conversation, error) {
	c, err := scanConversation(db.queryRow(ctx, qConversationLock+db.dialect.forUpdate(), id))
	return c, notFound(err, "conversation")
}

// SetConversationState saves status, owner and who finished it.
func (db *DB) SetConversationState(ctx context.Context, c *regulars.Conversation) error {
	c.UpdatedAt = db.now()
	_, err := db.exec(ctx, qConversationState, c.Status, nullID(c.OwnerID), nullID(c.FinishedBy), ms(c.UpdatedAt), c.ID)
	return err
}

// ConversationFilter selects the conversations of an agent's tab.
type ConversationFilter struct {
	PartnerID int64
	ReaderID  int64  // the agent whose unread counts are computed
	Status    string // "" for every status
	OwnerID   int64  // only conversations this agent owns (0 = anyone's)
	Search    string // part of the follower's name or end-user ID
	// Before pages: conversations older than (BeforeAt, BeforeID).
	BeforeAt time.Time
	BeforeID int64
	Limit    int
}

// Conversations lists a partner's conversations, newest activity first.
func (db *DB) Conversations(ctx context.Context, f ConversationFilter) ([]*regulars.Conversation, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	search := ""
	if s := strings.TrimSpace(f.Search); s != "" {
		search = "%" + likeEscape(Fold(s)) + "%"
	}
	before := ms(f.BeforeAt)
	rows, err := db.queryRows(ctx, qConversationsList, f.ReaderID, f.PartnerID, f.Status, f.Status, f.OwnerID, f.OwnerID,
		search, search, search, before, before, before, f.BeforeID, f.Limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.Conversation, error) {
		var read, unread int64
		c, err := scanConversationView(row, &read, &unread)
		if err != nil {
			return nil, err
		}
		c.ReadSeq, c.Unread = read, unread
		return c, nil
	})
}

// ConversationCounts is what the agent's tabs show.
type ConversationCounts struct {
	Unanswered, Mine, Active int64
}

// CountConversations counts a partner's conversations per tab.
func (db *DB) CountConversations(ctx context.Context, partnerID, userID int64) (ConversationCounts, error) {
	var n ConversationCounts
	err := db.queryRow(ctx, qConversationCounts, userID, partnerID).Scan(&n.Unanswered, &n.Mine, &n.Active)
	return n, err
}

// FollowerConversations lists a follower's conversations with the number
// of agent messages they have not read.
func (db *DB) FollowerConversations(ctx context.Context, followerID int64) ([]*regulars.Conversation, error) {
	rows, err := db.queryRows(ctx, qFollowerConversations, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.Conversation, error) {
		var read, unread int64
		c, err := scanConversationView(row, &read, &unread)
		if err != nil {
			return nil, err
		}
		c.ReadSeq, c.Unread = read, unread
		return c, nil
	})
}

// FollowerChatPartners lists the partners whose agents hold a conversation
// with the follower.
func (db *DB) FollowerChatPartners(ctx context.Context, followerID int64) ([]int64, error) {
	rows, err := db.queryRows(ctx, qFollowerChatPartners, followerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[int64])
}

// ConversationUnread returns how far an agent has read a conversation and
// how many follower messages came after.
func (db *DB) ConversationUnread(ctx context.Context, id, userID int64) (readSeq, unread int64, err error) {
	err = db.queryRow(ctx, qConversationUnread, userID, id).Scan(&readSeq, &unread)
	return readSeq, unread, notFound(err, "conversation")
}

// FollowerUnread counts the agents' messages of a conversation after
// seq: what its follower has not read, when seq is how far they have.
func (db *DB) FollowerUnread(ctx context.Context, id, seq int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qFollowerUnread, id, seq).Scan(&n)
	return n, err
}

// MarkRead records that an agent has read a conversation up to seq; it
// never moves back.
func (db *DB) MarkRead(ctx context.Context, conversationID, userID, seq int64) error {
	_, err := db.exec(ctx, qChatRead, conversationID, userID, seq)
	return err
}

// MarkFollowerRead records that the follower has read up to seq; it never
// moves back nor past the last message. It reports whether it moved.
func (db *DB) MarkFollowerRead(ctx context.Context, conversationID, seq int64) (bool, error) {
	res, err := db.exec(ctx, qConversationFRead, seq, conversationID, seq, seq)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

const messageCols = "m.id, m.conversation_id, m.seq, m.author, COALESCE(m.user_id, 0), COALESCE(u.name, ''), m.kind, m.text, m.event, COALESCE(m.attachment_id, 0), COALESCE(m.engagement_id, 0), m.client_id, m.created_at, " +
	"COALESCE(a.name, ''), COALESCE(a.content_type, ''), COALESCE(a.size, 0), COALESCE(a.storage_key, ''), COALESCE(a.created_at, 0)"

const messageJoins = ` FROM chat_messages m LEFT JOIN users u ON u.id = m.user_id LEFT JOIN chat_attachments a ON a.id = m.attachment_id`

var (
	qMessageInsert = query("chat_message_insert", `INSERT INTO chat_messages (conversation_id, seq, author, user_id, kind, text, event, attachment_id, engagement_id, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	// The same, for a message with a client id: nothing when the
	// conversation holds one under that id already.
	qMessageInsertOnce = query("chat_message_insert_once", `INSERT INTO chat_messages (conversation_id, seq, author, user_id, kind, text, event, attachment_id, engagement_id, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conversation_id, client_id) WHERE client_id <> '' DO NOTHING RETURNING id`)
	qMessageByClient = query("chat_message_by_client", `SELECT `+messageCols+messageJoins+` WHERE m.conversation_id = ? AND m.client_id = ? AND m.client_id <> ''`)
	qMessageBySeq    = query("chat_message_by_seq", `SELECT `+messageCols+messageJoins+` WHERE m.conversation_id = ? AND m.seq = ?`)
	qMessagesAfter   = query("chat_messages_after", `SELECT `+messageCols+messageJoins+` WHERE m.conversation_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`)
	qMessagesBefore  = query("chat_messages_before", `SELECT `+messageCols+messageJoins+` WHERE m.conversation_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?`)
)

func scanMessage(row interface{ Scan(...any) error }) (*regulars.ChatMessage, error) {
	var m regulars.ChatMessage
	var created, aCreated int64
	var a regulars.ChatAttachment
	if err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Author, &m.UserID, &m.UserName, &m.Kind, &m.Text, &m.Event, &m.AttachmentID, &m.EngagementID, &m.ClientID, &created,
		&a.Name, &a.ContentType, &a.Size, &a.StorageKey, &aCreated); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMS(created)
	if m.AttachmentID != 0 {
		a.ID, a.ConversationID, a.CreatedAt = m.AttachmentID, m.ConversationID, fromMS(aCreated)
		m.Attachment = &a
	}
	return &m, nil
}

// AddChatMessage appends m to the conversation c, which the caller has
// locked with LockConversation in the same transaction: m gets the next
// sequence number and c its new last message (and, for the follower's own
// message, the follower has read up to it). (A ClientID the
// conversation already holds violates a unique index: callers look it up
// with ChatMessageByClient first, under the same lock, or use
// AddChatMessageOnce.)
func (db *DB) AddChatMessage(ctx context.Context, c *regulars.Conversation, m *regulars.ChatMessage) (*regulars.ChatMessage, error) {
	m, _, err := db.addChatMessage(ctx, c, m, false)
	return m, err
}

// AddChatMessageOnce is AddChatMessage for a message with a ClientID
// (which it needs): when the conversation holds a message under that id
// already, nothing changes and it returns that message with dup set. The
// common case, a new message, takes no extra read.
func (db *DB) AddChatMessageOnce(ctx context.Context, c *regulars.Conversation, m *regulars.ChatMessage) (_ *regulars.ChatMessage, dup bool, err error) {
	if m.ClientID == "" {
		return nil, false, errors.New("store: AddChatMessageOnce needs a client id")
	}
	return db.addChatMessage(ctx, c, m, true)
}

func (db *DB) addChatMessage(ctx context.Context, c *regulars.Conversation, m *regulars.ChatMessage, once bool) (*regulars.ChatMessage, bool, error) {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = db.now()
	}
	next := afterMessage(c, m)
	args := []any{c.ID, next.LastSeq, m.Author, nullID(m.UserID), m.Kind, m.Text, m.Event, nullID(m.AttachmentID), nullID(m.EngagementID), m.ClientID, ms(m.CreatedAt)}
	var (
		id  int64
		err error
	)
	if db.dialect == postgres {
		// One round trip: the message and the conversation's new last
		// message in one statement.
		q := pgMessageAppend
		if once {
			q = pgMessageAppendOnce
		}
		args = append(args, next.LastSeq, ms(next.LastMessageAt), next.LastPreview, next.LastAuthor, next.FollowerReadSeq, ms(next.UpdatedAt), c.ID)
		err = db.writer(ctx).QueryRowContext(ctx, q, args...).Scan(&id)
	} else {
		q := qMessageInsert
		if once {
			q = qMessageInsertOnce
		}
		if id, err = db.insert(ctx, q, args...); err == nil {
			_, err = db.exec(ctx, qConversationLast, next.LastSeq, ms(next.LastMessageAt), next.LastPreview, next.LastAuthor, next.FollowerReadSeq, ms(next.UpdatedAt), c.ID)
		}
	}
	if once && errors.Is(err, sql.ErrNoRows) {
		old, err := db.ChatMessageByClient(ctx, c.ID, m.ClientID)
		return old, err == nil, err
	}
	if err != nil {
		return nil, false, err
	}
	m.ConversationID, m.Seq, m.ID = c.ID, next.LastSeq, id
	*c = next
	return m, false, nil
}

// The PostgreSQL form of qMessageInsert (or qMessageInsertOnce) and
// qConversationLast in one statement; the conversation changes only when
// the message is stored. (Not named queries: SQLite has no INSERT in WITH.)
const (
	pgMessageAppendWith = `WITH m AS (INSERT INTO chat_messages (conversation_id, seq, author, user_id, kind, text, event, attachment_id, engagement_id, client_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	pgMessageAppendThen = ` RETURNING id),
	u AS (UPDATE conversations SET last_seq = $12, last_message_at = $13, last_preview = $14, last_author = $15, follower_read_seq = $16, updated_at = $17
		WHERE id = $18 AND EXISTS (SELECT 1 FROM m))
	SELECT id FROM m`
	pgMessageAppend     = pgMessageAppendWith + pgMessageAppendThen
	pgMessageAppendOnce = pgMessageAppendWith + ` ON CONFLICT (conversation_id, client_id) WHERE client_id <> '' DO NOTHING` + pgMessageAppendThen
)

// afterMessage is conversation c after the message m, which has its
// CreatedAt.
func afterMessage(c *regulars.Conversation, m *regulars.ChatMessage) regulars.Conversation {
	next := *c
	next.LastSeq, next.LastMessageAt, next.UpdatedAt = c.LastSeq+1, m.CreatedAt, m.CreatedAt
	if m.Kind != regulars.MessageSystem {
		next.LastPreview, next.LastAuthor = messagePreview(m), m.Author
	}
	if m.Author == regulars.AuthorFollower {
		next.FollowerReadSeq = next.LastSeq // the follower has read what they wrote
	}
	return next
}

func messagePreview(m *regulars.ChatMessage) string {
	switch {
	case m.Text != "":
		return regulars.Preview(m.Text)
	case m.Attachment != nil:
		return "📎 " + regulars.Preview(m.Attachment.Name)
	case m.Kind == regulars.MessageAttachment:
		return "📎 Attachment"
	case m.Kind == regulars.MessageEngagement && m.EngagementName != "":
		return "🎁 " + regulars.Preview(m.EngagementName)
	case m.Kind == regulars.MessageEngagement:
		return "🎁 Engagement"
	}
	return ""
}

// ChatMessage returns the message of a conversation with sequence number seq.
func (db *DB) ChatMessage(ctx context.Context, conversationID, seq int64) (*regulars.ChatMessage, error) {
	m, err := scanMessage(db.queryRow(ctx, qMessageBySeq, conversationID, seq))
	return m, notFound(err, "message")
}

// ChatMessagesAfter lists up to limit messages after seq, oldest first: what
// a reconnecting client missed.
func (db *DB) ChatMessagesAfter(ctx context.Context, conversationID, afterSeq int64, limit int) ([]*regulars.ChatMessage, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := db.queryRows(ctx, qMessagesAfter, conversationID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMessage)
}

// LastWriter is the agent who wrote a conversation's newest message.
type LastWriter struct {
	UserID int64
	Name   string
}

// LastWriters finds, for the conversations among ids whose newest message
// (system lines aside) an agent wrote, which agent: a conversation keeps
// only that an agent wrote it. One statement for a page of a list.
func (db *DB) LastWriters(ctx context.Context, ids []int64) (map[int64]LastWriter, error) {
	out := map[int64]LastWriter{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := db.queryRows(ctx, `SELECT c.id, COALESCE(m.user_id, 0), COALESCE(u.name, '') FROM conversations c
		JOIN chat_messages m ON m.conversation_id = c.id AND m.seq = (SELECT s.seq FROM chat_messages s
			WHERE s.conversation_id = c.id AND s.kind <> 'system' ORDER BY s.seq DESC LIMIT 1)
		LEFT JOIN users u ON u.id = m.user_id
		WHERE c.id IN (`+placeholders(len(ids))+`) AND c.last_author = 'agent' AND m.author = 'agent'`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var w LastWriter
		if err := rows.Scan(&id, &w.UserID, &w.Name); err != nil {
			return nil, err
		}
		out[id] = w
	}
	return out, rows.Err()
}

// ChatMessagesBefore lists up to limit messages before seq (0 = the
// newest), oldest first: a page of history.
func (db *DB) ChatMessagesBefore(ctx context.Context, conversationID, beforeSeq int64, limit int) ([]*regulars.ChatMessage, error) {
	if limit <= 0 {
		limit = 100
	}
	if beforeSeq <= 0 {
		beforeSeq = 1 << 62
	}
	rows, err := db.queryRows(ctx, qMessagesBefore, conversationID, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanMessage)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list, err
}

var (
	qAttachmentInsert = query("chat_attachment_insert", `INSERT INTO chat_attachments (tenant_id, partner_id, conversation_id, name, content_type, size, storage_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qAttachmentByID   = query("chat_attachment_by_id", `SELECT id, tenant_id, partner_id, conversation_id, name, content_type, size, storage_key, created_at FROM chat_attachments WHERE id = ?`)
	qAttachmentBytes  = query("chat_attachment_bytes", `SELECT COALESCE(SUM(size), 0) FROM chat_attachments WHERE partner_id = ?`)
)

// AddChatAttachment records a stored file.
func (db *DB) AddChatAttachment(ctx context.Context, a *regulars.ChatAttachment) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.now()
	}
	id, err := db.insert(ctx, qAttachmentInsert, a.TenantID, a.PartnerID, a.ConversationID, a.Name, a.ContentType, a.Size, a.StorageKey, ms(a.CreatedAt))
	a.ID = id
	return err
}

// ChatAttachment returns an attachment; callers check that the reader may
// see its conversation.
func (db *DB) ChatAttachment(ctx context.Context, id int64) (*regulars.ChatAttachment, error) {
	var a regulars.ChatAttachment
	var created int64
	err := db.queryRow(ctx, qAttachmentByID, id).Scan(&a.ID, &a.TenantID, &a.PartnerID, &a.ConversationID, &a.Name, &a.ContentType, &a.Size, &a.StorageKey, &created)
	if err != nil {
		return nil, notFound(err, "attachment")
	}
	a.CreatedAt = fromMS(created)
	return &a, nil
}

// ChatAttachmentBytes sums the size of a partner's chat attachments.
func (db *DB) ChatAttachmentBytes(ctx context.Context, partnerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qAttachmentBytes, partnerID).Scan(&n)
	return n, err
}

// ChatMessageByClient returns the message a sender stored under an
// idempotency key.
func (db *DB) ChatMessageByClient(ctx context.Context, conversationID int64, clientID string) (*regulars.ChatMessage, error) {
	m, err := scanMessage(db.queryRow(ctx, qMessageByClient, conversationID, clientID))
	return m, notFound(err, "message")
}

var qHasActivity = query("chat_has_activity", `SELECT COUNT(*) FROM chat_messages WHERE conversation_id = ? AND kind = 'system' AND event = 'activity' AND engagement_id = ?`)

// HasChatActivity reports whether a conversation holds an activity line
// about engagement engagementID (the follower acted on its card).
func (db *DB) HasChatActivity(ctx context.Context, conversationID, engagementID int64) (bool, error) {
	var n int64
	if err := db.queryRow(ctx, qHasActivity, conversationID, engagementID).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

// The follower's side of sending reads everything it decides on in one
// query: the channel, whether its partner is active, whether the follower
// follows it, and their conversation with it (if any). Of the channel it
// reads only what sending decides on (not its description, welcome text
// or logo): ChatContext.Channel holds no more.
const chatContextSelect = `SELECT ch.id, ch.tenant_id, ch.partner_id, ch.name, ch.status, ch.chat_enabled,
		p.status,
		CASE WHEN EXISTS (SELECT 1 FROM follows fo WHERE fo.channel_id = ch.id AND fo.follower_id = f.id AND fo.unfollowed_at = 0) THEN 1 ELSE 0 END,
		COALESCE(c.id, 0), COALESCE(c.status, ''), COALESCE(c.owner_id, 0), COALESCE(c.finished_by, 0), COALESCE(c.last_seq, 0), COALESCE(c.last_message_at, 0),
		COALESCE(c.last_preview, ''), COALESCE(c.last_author, ''), COALESCE(c.follower_read_seq, 0), COALESCE(c.created_at, 0), COALESCE(c.updated_at, 0),
		COALESCE(o.name, ''), f.name, f.end_user_id`

var (
	qChatContext = query("chat_context", chatContextSelect+`
	FROM channels ch
	JOIN partners p ON p.id = ch.partner_id
	JOIN followers f ON f.id = ? AND f.tenant_id = ch.tenant_id
	LEFT JOIN conversations c ON c.channel_id = ch.id AND c.follower_id = f.id
	LEFT JOIN users o ON o.id = c.owner_id
	WHERE ch.tenant_id = ? AND ch.id = ?`)
	// The same, found by one of the follower's conversations: from the
	// conversation's row by its key. The follower's own row is not read
	// (the caller has it): joining it made SQLite plan the statement again
	// at every call.
	qChatContextOf = query("chat_context_of", chatContextOfSelect+chatContextOfFrom+`
	WHERE c.id = ? AND c.follower_id = ? AND ch.tenant_id = ?`)

	// The chat context of a conversation (its follower's names aside).
	chatContextOfSelect = strings.NewReplacer("fo.follower_id = f.id", "fo.follower_id = c.follower_id", "f.name, f.end_user_id", "'', ''").Replace(chatContextSelect)
)

const chatContextOfFrom = `
	FROM conversations c
	JOIN channels ch ON ch.id = c.channel_id
	JOIN partners p ON p.id = ch.partner_id
	LEFT JOIN users o ON o.id = c.owner_id`

// ChatContext is what a follower's message depends on.
type ChatContext struct {
	Channel       *regulars.Channel // ID, tenant, partner, name, status and chat switch only
	PartnerStatus string
	Following     bool
	Conversation  *regulars.Conversation // nil before the first message
}

// FollowerChatContext reads a follower's chat context with a channel of
// their tenant; a channel of another tenant is not found.
func (db *DB) FollowerChatContext(ctx context.Context, tenantID, followerID, channelID int64) (*ChatContext, error) {
	cc, err := scanChatContext(db.queryRow(ctx, qChatContext, followerID, tenantID, channelID), followerID)
	return cc, notFound(err, "channel")
}

// LockFollowerChatContext reads the chat context of one of the
// follower's conversations inside a write transaction, the conversation's
// row locked as LockConversation does: what a follower's message depends
// on and the state it changes, read at once. Another follower's
// conversation is not found.
func (db *DB) LockFollowerChatContext(ctx context.Context, f *regulars.Follower, conversationID int64) (*ChatContext, error) {
	cc, err := scanChatContext(db.queryRow(ctx, qChatContextOf+db.dialect.forUpdateOf("c"), conversationID, f.ID, f.TenantID), f.ID)
	if err != nil {
		return nil, notFound(err, "conversation")
	}
	cc.Conversation.FollowerName, cc.Conversation.FollowerEndUserID = f.Name, f.EndUserID
	return cc, nil
}

// scanChatContext reads a chat context row, then the columns of extra.
func scanChatContext(row interface{ Scan(...any) error }, followerID int64, extra ...any) (*ChatContext, error) {
	var (
		ch                     regulars.Channel
		last, created, updated int64
		following              int
		c                      regulars.Conversation
		out                    = &ChatContext{Channel: &ch}
	)
	dest := append([]any{
		&ch.ID, &ch.TenantID, &ch.PartnerID, &ch.Name, &ch.Status, &ch.ChatEnabled,
		&out.PartnerStatus, &following,
		&c.ID, &c.Status, &c.OwnerID, &c.FinishedBy, &c.LastSeq, &last, &c.LastPreview, &c.LastAuthor, &c.FollowerReadSeq, &created, &updated,
		&c.OwnerName, &c.FollowerName, &c.FollowerEndUserID}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	out.Following = following == 1
	if c.ID != 0 {
		c.TenantID, c.PartnerID, c.ChannelID, c.FollowerID, c.ChannelName = ch.TenantID, ch.PartnerID, ch.ID, followerID, ch.Name
		c.LastMessageAt, c.CreatedAt, c.UpdatedAt = fromMS(last), fromMS(created), fromMS(updated)
		out.Conversation = &c
	}
	return out, nil
}
