package store

import (
	"context"
	"database/sql"
	"errors"

	"regulars"
)

// Followers' text messages in a batch. Most chat messages are a follower
// writing into a conversation that is open: lock the conversation and read
// what the message depends on, check, store the message, move the
// conversation's last message on. Run one by one (as InBatch runs a
// batch) that is two statements per message; on PostgreSQL each costs a
// round trip and its own plan and execution, which is most of what a
// message costs there. InBatchFollowerText lets the batch do it for all
// such messages at once: one statement locks and reads every conversation
// of the batch, one stores every message and moves every conversation on
// (measured: about four times the messages per second of the one-by-one
// statements in the same transaction).
//
// On SQLite a statement costs no round trip, and the prepared single-row
// statements are faster than one multi-row statement (measured: the
// rows' b-tree work is what costs there), so there the messages go one by
// one, as their slow functions.

// FollowerText is a follower's text message to one of their conversations,
// for InBatchFollowerText.
type FollowerText struct {
	Follower       *regulars.Follower
	ConversationID int64
	Message        *regulars.ChatMessage // not changed; other than a follower's plain message, slow stores it
	// Check refuses the message in its chat context, read with the
	// conversation locked (it does no database work).
	Check func(cc *ChatContext) error

	// When the batch stored it: the chat context as locked, its
	// Conversation as it is after the message, and the message stored (or
	// the one stored before under the same ClientID, with Dup).
	Context *ChatContext
	Stored  *regulars.ChatMessage
	Dup     bool
}

// InBatchFollowerText stores t's message in a batch, like InBatch with
// slow, but together with other followers' messages in a few statements
// (see above). When the batch cannot (on SQLite, for a finished
// conversation, which the message reopens, or when the batch runs again
// function by function after a failure) slow runs instead, as InBatch
// runs it; handled reports whether the batch stored it.
func (db *DB) InBatchFollowerText(ctx context.Context, t *FollowerText, slow func(ctx context.Context) error) (handled bool, err error) {
	if _, inTx := ctx.Value(txKey{}).(*sql.Tx); inTx || db.dialect != postgres || !t.batchable() {
		return false, db.InBatch(ctx, t.ConversationID, slow)
	}
	j := &batchJob{ctx: ctx, fn: slow, text: t}
	if err := db.enqueue(ctx, t.ConversationID, j); err != nil {
		return false, err
	}
	return j.handled, nil
}

// batchable reports whether the batched statement stores t's message as
// it is: it writes a follower's message with no user, event, attachment
// or engagement.
func (t *FollowerText) batchable() bool {
	m := t.Message
	return m.Author == regulars.AuthorFollower && m.Kind != regulars.MessageSystem && m.UserID == 0 && m.Event == "" &&
		m.AttachmentID == 0 && m.EngagementID == 0
}

// runTexts stores the text jobs in tx, in rounds that hold one message
// per conversation (a conversation's second message needs the first's
// sequence number). A job's own refusal is its outcome; a job that needs
// its slow function runs it; an error that is no single job's is
// returned.
func (db *DB) runTexts(tx *sql.Tx, jobs []*batchJob) error {
	// PostgreSQL would plan the two statements again for every batch (a
	// plan for any number of rows looks dearer to it than one for the rows
	// at hand, and planning them costs more than running them for a few
	// messages); the plan for any number is the same.
	if _, err := tx.ExecContext(context.Background(), "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		return err
	}
	for len(jobs) > 0 {
		var round, later []*batchJob
		seen := make(map[int64]bool, len(jobs))
		for _, j := range jobs {
			if seen[j.text.ConversationID] {
				later = append(later, j)
				continue
			}
			seen[j.text.ConversationID] = true
			round = append(round, j)
		}
		if err := db.textRound(tx, round); err != nil {
			return err
		}
		jobs = later
	}
	return nil
}

// The chat contexts of many conversations, their rows locked in id order,
// each with its follower.
var pgChatContextsLock = chatContextOfSelect + `, c.follower_id` + chatContextOfFrom + `
	WHERE c.id = ANY($1) ORDER BY c.id FOR UPDATE OF c`

// Many followers' messages and their conversations' last messages, in one
// statement; a conversation moves on only when its message is stored (not
// one already stored under the same client id).
const pgTextsAppend = `WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[])
		AS v (cid, seq, kind, text, client_id, at, preview)),
	m AS (INSERT INTO chat_messages (conversation_id, seq, author, user_id, kind, text, event, attachment_id, engagement_id, client_id, created_at)
		SELECT cid, seq, 'follower', NULL, kind, text, '', NULL, NULL, client_id, at FROM v
		ON CONFLICT (conversation_id, client_id) WHERE client_id <> '' DO NOTHING RETURNING id, conversation_id),
	u AS (UPDATE conversations c SET last_seq = v.seq, last_message_at = v.at, last_preview = v.preview, last_author = 'follower',
		follower_read_seq = v.seq, updated_at = v.at
		FROM v JOIN m ON m.conversation_id = v.cid WHERE c.id = v.cid)
	SELECT id, conversation_id FROM m`

// textRound stores messages to different conversations.
func (db *DB) textRound(tx *sql.Tx, jobs []*batchJob) error {
	bg := context.Background()
	ctxTx := context.WithValue(bg, txKey{}, tx)
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.text.ConversationID
	}
	found := make(map[int64]*ChatContext, len(jobs))
	rows, err := tx.QueryContext(bg, pgChatContextsLock, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		var follower int64
		cc, err := scanChatContext(rows, 0, &follower)
		if err != nil {
			rows.Close()
			return err
		}
		cc.Conversation.FollowerID = follower
		found[cc.Conversation.ID] = cc
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Checked, each job's message and its conversation after it.
	var (
		store                             []*batchJob
		slow                              []*batchJob
		cids, seqs, ats                   []int64
		kinds, texts, clientIDs, previews []string
		next                              = make(map[int64]regulars.Conversation, len(jobs))
		messages                          = make(map[int64]*regulars.ChatMessage, len(jobs))
	)
	for _, j := range jobs {
		t := j.text
		cc, ok := found[t.ConversationID]
		if !ok || cc.Conversation.FollowerID != t.Follower.ID || cc.Channel.TenantID != t.Follower.TenantID {
			j.err = regulars.ErrNotFound("conversation")
			continue
		}
		c := cc.Conversation
		c.FollowerName, c.FollowerEndUserID = t.Follower.Name, t.Follower.EndUserID
		if j.err = t.Check(cc); j.err != nil {
			continue
		}
		if c.Status == regulars.ConversationFinished {
			slow = append(slow, j)
			continue
		}
		m := *t.Message
		if m.CreatedAt.IsZero() {
			m.CreatedAt = db.now()
		}
		after := afterMessage(c, &m)
		m.ConversationID, m.Seq = c.ID, after.LastSeq
		next[c.ID], messages[c.ID] = after, &m
		store = append(store, j)
		cids, seqs, ats = append(cids, c.ID), append(seqs, after.LastSeq), append(ats, ms(m.CreatedAt))
		kinds, texts, clientIDs, previews = append(kinds, m.Kind), append(texts, m.Text), append(clientIDs, m.ClientID), append(previews, after.LastPreview)
	}
	if len(store) > 0 {
		rows, err := tx.QueryContext(bg, pgTextsAppend, cids, seqs, kinds, texts, clientIDs, ats, previews)
		if err != nil {
			return err
		}
		stored := make(map[int64]int64, len(store))
		for rows.Next() {
			var id, cid int64
			if err := rows.Scan(&id, &cid); err != nil {
				rows.Close()
				return err
			}
			stored[cid] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, j := range store {
			t := j.text
			cc := found[t.ConversationID]
			if id, ok := stored[t.ConversationID]; ok {
				m, after := messages[t.ConversationID], next[t.ConversationID]
				m.ID = id
				*cc.Conversation = after
				t.Context, t.Stored, j.handled = cc, m, true
				continue
			}
			// Not stored: the conversation holds a message under this
			// client id already (a resend).
			if t.Message.ClientID == "" {
				return errors.New("store: a batched message was not stored")
			}
			old, err := db.ChatMessageByClient(ctxTx, t.ConversationID, t.Message.ClientID)
			if err != nil {
				return err
			}
			t.Context, t.Stored, t.Dup, j.handled = cc, old, true, true
		}
	}
	for _, j := range slow {
		if j.err = callJob(jobContext(tx, j), j.fn); j.err != nil {
			return errJobFailed
		}
	}
	return nil
}
