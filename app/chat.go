package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"regulars"
	"regulars/store"
)

// The chat rules of the seed, enforced here for every surface (pages, API,
// WebSocket):
//
//   - An agent takes an unanswered conversation by sending the first
//     message: it becomes active and the agent its owner.
//   - Sending to (or taking) a conversation another agent owns is refused
//     with a warning that names the owner; confirming overtakes it. Two
//     agents racing for the same conversation: the conversation row is
//     locked for the change, so exactly one wins and the other gets the
//     warning.
//   - The owner (or a role that manages chat) finishes it; a new follower
//     message puts it back to unanswered.
//   - Every take, overtake, finish and reopen is a system line.
//   - The channel's chat switch off: followers cannot start or send, agents
//     cannot answer, everyone still reads.
//   - View-only agents read but neither send nor take.

// OwnerConflict is the Detail of the error that refuses to send to (or
// take) a conversation another agent owns. Confirm by sending again with
// OvertakeFrom set to OwnerID.
type OwnerConflict struct {
	OwnerID   int64
	OwnerName string
}

func ownerConflict(c *regulars.Conversation, ownerName string) error {
	return &regulars.Error{Code: regulars.ECONFLICT,
		Message: fmt.Sprintf("%s is answering this conversation. Take it over?", ownerName),
		Detail:  OwnerConflict{OwnerID: c.OwnerID, OwnerName: ownerName}}
}

// Conversation tabs of the agent's list.
const (
	TabUnanswered = "unanswered"
	TabMine       = "mine"
	TabActive     = "active"
	TabFinished   = "finished"
)

// TabOf is the tab a conversation is listed in for the agent userID
// (their own active ones are also in TabActive).
func TabOf(c *regulars.Conversation, userID int64) string {
	switch {
	case c.Status == regulars.ConversationUnanswered:
		return TabUnanswered
	case c.Status == regulars.ConversationFinished:
		return TabFinished
	case c.OwnerID == userID:
		return TabMine
	}
	return TabActive
}

// SearchTabs counts, per tab, the actor's partner's conversations that
// match search (up to 200 in all): where to look when the open tab has
// none.
func (a *App) SearchTabs(ctx context.Context, actor *Actor, search string) (map[string]int, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelView); err != nil {
		return nil, err
	}
	list, err := a.DB.Conversations(ctx, store.ConversationFilter{PartnerID: actor.PartnerID(), ReaderID: actor.User.ID, Search: search, Limit: 200})
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for _, c := range list {
		tab := TabOf(c, actor.User.ID)
		n[tab]++
		if tab == TabMine {
			n[TabActive]++
		}
	}
	return n, nil
}

// ConversationQuery selects an agent's list.
type ConversationQuery struct {
	Tab    string // unanswered (default), mine, active, finished
	Search string
	Before *regulars.Conversation // the last row of the previous page
	Limit  int
}

// Conversations lists the actor's partner's conversations of a tab, newest
// activity first, with the actor's unread counts, and the tab counts.
func (a *App) Conversations(ctx context.Context, actor *Actor, q ConversationQuery) ([]*regulars.Conversation, store.ConversationCounts, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelView); err != nil {
		return nil, store.ConversationCounts{}, err
	}
	f := store.ConversationFilter{PartnerID: actor.PartnerID(), ReaderID: actor.User.ID, Search: q.Search, Limit: q.Limit}
	switch q.Tab {
	case TabMine:
		f.Status, f.OwnerID = regulars.ConversationActive, actor.User.ID
	case TabActive:
		f.Status = regulars.ConversationActive
	case TabFinished:
		f.Status = regulars.ConversationFinished
	case TabUnanswered, "":
		f.Status = regulars.ConversationUnanswered
	default:
		return nil, store.ConversationCounts{}, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.",
			Fields: map[string]string{"tab": "Choose unanswered, mine, active or finished."}}
	}
	if q.Before != nil {
		f.BeforeAt, f.BeforeID = q.Before.LastMessageAt, q.Before.ID
	}
	list, err := a.DB.Conversations(ctx, f)
	if err != nil {
		return nil, store.ConversationCounts{}, err
	}
	counts, err := a.DB.CountConversations(ctx, actor.PartnerID(), actor.User.ID)
	return list, counts, err
}

// Conversation returns one of the actor's partner's conversations with the
// actor's unread count.
func (a *App) Conversation(ctx context.Context, actor *Actor, id int64) (*regulars.Conversation, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelView); err != nil {
		return nil, err
	}
	c, err := a.DB.Conversation(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	c.ReadSeq, c.Unread, err = a.DB.ConversationUnread(ctx, c.ID, actor.User.ID)
	return c, err
}

// ChatPage selects messages of a conversation: with CatchUp, the ones
// after AfterSeq, oldest first (AfterSeq 0: from the first); otherwise the
// newest ones before BeforeSeq (0: the very newest), in order.
type ChatPage struct {
	CatchUp   bool
	AfterSeq  int64
	BeforeSeq int64
	Limit     int
}

func (a *App) messages(ctx context.Context, c *regulars.Conversation, p ChatPage) ([]*regulars.ChatMessage, error) {
	if p.AfterSeq < 0 || p.BeforeSeq < 0 {
		return nil, regulars.Errorf(regulars.EINVALID, "Message numbers are 0 or more.")
	}
	if p.CatchUp || p.AfterSeq > 0 {
		return a.DB.ChatMessagesAfter(ctx, c.ID, p.AfterSeq, p.Limit)
	}
	return a.DB.ChatMessagesBefore(ctx, c.ID, p.BeforeSeq, p.Limit)
}

// ChatMessages lists messages of one of the partner's conversations.
func (a *App) ChatMessages(ctx context.Context, actor *Actor, id int64, p ChatPage) ([]*regulars.ChatMessage, error) {
	c, err := a.Conversation(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	return a.messages(ctx, c, p)
}

// AgentMessage is what an agent sends: text, or an engagement card (with
// an optional text).
type AgentMessage struct {
	Text         string
	EngagementID int64
	ClientID     string // idempotency key: sending twice stores once
	// OvertakeFrom confirms the warning: the owner the agent saw. When the
	// conversation has changed hands since, the agent is warned again.
	OvertakeFrom int64
}

// errSendingTooFast refuses a message over the sender's rate (ChatSends).
var errSendingTooFast = regulars.Errorf(regulars.ETOOMANY, "You are sending too fast. Wait a moment and send again.")

// AllowAgentSend takes one of the agent's messages to conversation convID
// from their rate (ChatSends), or refuses it; the WebSocket and the API
// call it before sending, so the one limit holds over every connection
// and route. Over the rate, a send whose clientID names one of the
// agent's messages stored before is not refused: it is a retry of a
// message that reached the server, its answer lost, and it gets what was
// stored (sent) with its conversation, as it would within the rate.
func (a *App) AllowAgentSend(ctx context.Context, actor *Actor, convID int64, clientID string) (*regulars.Conversation, *regulars.ChatMessage, error) {
	return a.allowSend(ctx, "user:"+strconv.FormatInt(actor.User.ID, 10), clientID,
		func() (*regulars.Conversation, error) { return a.Conversation(ctx, actor, convID) },
		func(m *regulars.ChatMessage) bool {
			return m.Author == regulars.AuthorAgent && m.UserID == actor.User.ID
		})
}

// AllowFollowerSend is AllowAgentSend for a follower writing to channel
// channelID or, when it is 0, to conversation convID.
func (a *App) AllowFollowerSend(ctx context.Context, fa *FollowerActor, channelID, convID int64, clientID string) (*regulars.Conversation, *regulars.ChatMessage, error) {
	return a.allowSend(ctx, "follower:"+strconv.FormatInt(fa.Follower.ID, 10), clientID,
		func() (*regulars.Conversation, error) {
			if channelID != 0 {
				return a.followerConversationWith(ctx, fa, channelID)
			}
			return a.FollowerConversation(ctx, fa, convID)
		},
		func(m *regulars.ChatMessage) bool { return m.Author == regulars.AuthorFollower })
}

// allowSend takes a send from the rate of sender key or, over it, looks
// for the message clientID names in the conversation (the sender's own,
// mine says): a retry gets it, anything else errSendingTooFast. The
// look-ups are held to a rate of their own, so that a flood over the rate
// does not reach the database with each send.
func (a *App) allowSend(ctx context.Context, key, clientID string, conv func() (*regulars.Conversation, error), mine func(*regulars.ChatMessage) bool) (*regulars.Conversation, *regulars.ChatMessage, error) {
	if a.ChatSends.Allow(key) {
		return nil, nil, nil
	}
	if clientID == "" || !a.ChatSends.Allow("resent:"+key) {
		return nil, nil, errSendingTooFast
	}
	c, err := conv()
	if err != nil {
		return nil, nil, errSendingTooFast
	}
	old, err := a.DB.ChatMessageByClient(ctx, c.ID, clientID)
	if err != nil || !mine(old) {
		return nil, nil, errSendingTooFast
	}
	return c, old, nil
}

// followerConversationWith is the follower's conversation with a channel
// of their tenant (not found before their first message).
func (a *App) followerConversationWith(ctx context.Context, fa *FollowerActor, channelID int64) (*regulars.Conversation, error) {
	ch, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, channelID)
	if err != nil {
		return nil, err
	}
	return a.DB.ConversationOf(ctx, ch.ID, fa.Follower.ID)
}

// checkClientID validates an idempotency key.
func checkClientID(v regulars.Validation, id string) {
	if len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		v.Add("client_id", "Use at most 64 printable ASCII characters.")
	}
}

func checkChatText(v regulars.Validation, text string, required bool) string {
	text = strings.TrimSpace(text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0 && required:
		v.Add("text", "Write a message.")
	case n > regulars.MaxChatText:
		v.Add("text", fmt.Sprintf("Use at most %d characters.", regulars.MaxChatText))
	case !utf8.ValidString(text) || strings.ContainsRune(text, 0):
		v.Add("text", "The message is not valid text.")
	}
	return text
}

// agentChange is a change an agent makes under the conversation's lock.
type agentChange struct {
	conv    *regulars.Conversation // locked state, updated in place
	channel *regulars.Channel
	events  []*regulars.ChatMessage // system lines and messages, in order
}

// lockForAgent locks a conversation of the actor's partner and loads its
// channel, for a change by an agent who may answer.
func (a *App) lockForAgent(ctx context.Context, actor *Actor, id int64) (*agentChange, error) {
	if _, err := a.DB.Conversation(ctx, actor.PartnerID(), id); err != nil {
		return nil, err // another partner's conversation is not found
	}
	c, err := a.DB.LockConversation(ctx, id)
	if err != nil {
		return nil, err
	}
	ch, err := a.DB.Channel(ctx, c.PartnerID, c.ChannelID)
	if err != nil {
		return nil, err
	}
	return &agentChange{conv: c, channel: ch}, nil
}

// take makes the actor the owner of the locked conversation, overtaking
// only when the agent confirmed the current owner.
func (a *App) take(ctx context.Context, actor *Actor, ch *agentChange, overtakeFrom int64) error {
	c := ch.conv
	switch {
	case c.Status == regulars.ConversationActive && c.OwnerID == actor.User.ID:
		return nil
	case c.Status == regulars.ConversationActive && c.OwnerID != 0:
		owner, err := a.DB.User(ctx, c.OwnerID)
		if err != nil {
			return err
		}
		if overtakeFrom != c.OwnerID {
			return ownerConflict(c, owner.Name)
		}
		c.Status, c.OwnerID = regulars.ConversationActive, actor.User.ID
		return a.systemLine(ctx, ch, actor, regulars.ChatOvertake, fmt.Sprintf("%s took over the conversation from %s", actor.User.Name, owner.Name))
	}
	c.Status, c.OwnerID = regulars.ConversationActive, actor.User.ID
	return a.systemLine(ctx, ch, actor, regulars.ChatTake, actor.User.Name+" took the conversation")
}

func (a *App) systemLine(ctx context.Context, ch *agentChange, actor *Actor, event, text string) error {
	if err := a.DB.SetConversationState(ctx, ch.conv); err != nil {
		return err
	}
	m := &regulars.ChatMessage{Author: regulars.AuthorSystem, UserID: actor.User.ID, UserName: actor.User.Name, Kind: regulars.MessageSystem, Event: event, Text: text}
	stored, err := a.DB.AddChatMessage(ctx, ch.conv, m)
	if err != nil {
		return err
	}
	ch.events = append(ch.events, stored)
	return nil
}

// chatOpen refuses changes while the channel's chat is switched off.
func chatOpen(ch *regulars.Channel, who string) error {
	if ch.ChatEnabled {
		return nil
	}
	if who == regulars.AuthorFollower {
		return regulars.Errorf(regulars.ECONFLICT, "%s does not take chat messages at the moment.", ch.Name)
	}
	return regulars.Errorf(regulars.ECONFLICT, "Chat is switched off on %s: you can read the conversation, not answer. Switch it on in Channels.", ch.Name)
}

// SendAgentMessage sends an agent's message, taking the conversation when
// it is unanswered or finished. It returns the stored message (the one
// stored before, for a resent ClientID).
func (a *App) SendAgentMessage(ctx context.Context, actor *Actor, id int64, in AgentMessage) (*regulars.ChatMessage, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	if _, err := a.DB.Conversation(ctx, actor.PartnerID(), id); err != nil {
		return nil, err // another partner's conversation does not exist, whatever was sent
	}
	v := regulars.Validation{}
	in.Text = checkChatText(v, in.Text, in.EngagementID == 0)
	checkClientID(v, in.ClientID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	var (
		change *agentChange
		sent   *regulars.ChatMessage
		card   *regulars.Engagement
		dup    bool
	)
	err := a.DB.InBatch(ctx, id, func(ctx context.Context) error {
		var err error
		card, sent, dup = nil, nil, false
		if change, err = a.lockForAgent(ctx, actor, id); err != nil {
			return err
		}
		// A resend of a stored message changes nothing, even if the
		// conversation has changed hands since.
		if sent, err = a.agentResend(ctx, id, in.ClientID); sent != nil || err != nil {
			dup = sent != nil
			return err
		}
		if err := chatOpen(change.channel, regulars.AuthorAgent); err != nil {
			return err
		}
		if in.EngagementID != 0 {
			if card, err = a.availableEngagement(ctx, change.conv, in.EngagementID); err != nil {
				return err
			}
		}
		if err := a.take(ctx, actor, change, in.OvertakeFrom); err != nil {
			return err
		}
		kind := regulars.MessageText
		if card != nil {
			kind = regulars.MessageEngagement
		}
		m := &regulars.ChatMessage{Author: regulars.AuthorAgent, UserID: actor.User.ID, UserName: actor.User.Name, Kind: kind, Text: in.Text, EngagementID: in.EngagementID, ClientID: in.ClientID}
		if card != nil {
			m.EngagementName = card.Name
		}
		if sent, err = a.DB.AddChatMessage(ctx, change.conv, m); err != nil {
			return err
		}
		change.events = append(change.events, sent)
		return a.DB.MarkRead(ctx, id, actor.User.ID, change.conv.LastSeq)
	})
	if err != nil {
		return nil, err
	}
	if !dup {
		a.publishChange(ctx, actor.PartnerID(), change, card)
	}
	return sent, nil
}

// TakeConversation makes the actor the owner without sending a message.
func (a *App) TakeConversation(ctx context.Context, actor *Actor, id, overtakeFrom int64) (*regulars.Conversation, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	var change *agentChange
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		if change, err = a.lockForAgent(ctx, actor, id); err != nil {
			return err
		}
		if err := chatOpen(change.channel, regulars.AuthorAgent); err != nil {
			return err
		}
		return a.take(ctx, actor, change, overtakeFrom)
	})
	if err != nil {
		return nil, err
	}
	a.publishChange(ctx, actor.PartnerID(), change, nil)
	return a.Conversation(ctx, actor, id)
}

// FinishConversation finishes a conversation: its owner may, and so may a
// role that manages chat (for anyone's conversation).
func (a *App) FinishConversation(ctx context.Context, actor *Actor, id int64) (*regulars.Conversation, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	var change *agentChange
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		if change, err = a.lockForAgent(ctx, actor, id); err != nil {
			return err
		}
		c := change.conv
		switch {
		case c.Status == regulars.ConversationFinished:
			return regulars.Errorf(regulars.ECONFLICT, "This conversation is already finished.")
		case c.OwnerID != actor.User.ID && !actor.Can(regulars.FeatureChat, regulars.LevelManage):
			if c.OwnerID == 0 {
				return regulars.Errorf(regulars.EFORBIDDEN, "Take the conversation first: only its owner finishes it.")
			}
			owner, err := a.DB.User(ctx, c.OwnerID)
			if err != nil {
				return err
			}
			return regulars.Errorf(regulars.EFORBIDDEN, "Only %s, who owns this conversation, or a chat manager can finish it.", owner.Name)
		}
		c.Status, c.OwnerID, c.FinishedBy = regulars.ConversationFinished, 0, actor.User.ID
		return a.systemLine(ctx, change, actor, regulars.ChatFinish, actor.User.Name+" finished the conversation")
	})
	if err != nil {
		return nil, err
	}
	a.publishChange(ctx, actor.PartnerID(), change, nil)
	return a.Conversation(ctx, actor, id)
}

// MarkConversationRead records that the actor read up to seq.
func (a *App) MarkConversationRead(ctx context.Context, actor *Actor, id, seq int64) error {
	c, err := a.Conversation(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := checkReadSeq(seq); err != nil {
		return err
	}
	seq = min(seq, c.LastSeq)
	if seq <= c.ReadSeq {
		return nil
	}
	if err := a.DB.MarkRead(ctx, id, actor.User.ID, seq); err != nil {
		return err
	}
	// The agent's other screens clear their unread badge.
	a.publish(ctx, &ChatEvent{Type: EventRead, PartnerID: c.PartnerID, ConversationID: id, Author: regulars.AuthorAgent, UserID: actor.User.ID, Seq: seq}, true)
	return nil
}

// checkReadSeq refuses a read mark that names no message.
func checkReadSeq(seq int64) error {
	if seq < 1 {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.",
			Fields: map[string]string{"seq": "Give the number of the last message read: 1 or more."}}
	}
	return nil
}

// AgentTyping tells the follower and the other agents that the actor is
// writing in a conversation.
func (a *App) AgentTyping(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return err
	}
	c, err := a.DB.Conversation(ctx, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	// The follower hears of the agent who answers them (or of anyone,
	// while nobody does), not of a colleague writing in another's
	// conversation who may never send.
	staffOnly := c.OwnerID != 0 && c.OwnerID != actor.User.ID
	a.publish(ctx, &ChatEvent{Type: EventTyping, PartnerID: c.PartnerID, FollowerID: c.FollowerID, ConversationID: id,
		Author: regulars.AuthorAgent, UserID: actor.User.ID, Name: actor.User.Name}, staffOnly)
	return nil
}

// publishChange announces the messages of a committed change, each with
// the conversation as it stands after it.
func (a *App) publishChange(ctx context.Context, partnerID int64, ch *agentChange, card *regulars.Engagement) {
	if ch == nil || len(ch.events) == 0 {
		return
	}
	conv, err := a.DB.Conversation(ctx, partnerID, ch.conv.ID)
	if err != nil {
		a.Log.Warn("loading a conversation to publish", "err", err)
		return
	}
	a.publishMessages(ctx, conv, ch.events, card)
}

func (a *App) publishMessages(ctx context.Context, conv *regulars.Conversation, msgs []*regulars.ChatMessage, card *regulars.Engagement) {
	for _, m := range msgs {
		ev := &ChatEvent{Type: EventMessage, PartnerID: conv.PartnerID, FollowerID: conv.FollowerID, ConversationID: conv.ID, Conversation: conv, Message: m}
		if m.EngagementID != 0 {
			ev.Engagement = card
		}
		if card != nil && m.Kind == regulars.MessageEngagement && m.EngagementID == card.ID {
			// A card for a coupon the follower already holds arrives
			// marked, as it does when the thread is loaded again.
			act, mem, err := a.cardDone(ctx, conv.FollowerID, card)
			if err != nil {
				a.Log.Warn("checking a card's follower state to publish", "err", err)
			}
			ev.EngagementDone = act != nil || mem != nil
		}
		a.publish(ctx, ev, false)
	}
}

// ---------------------------------------------------------------- follower

// FollowerMessage is what a follower sends.
type FollowerMessage struct {
	Text     string
	ClientID string
}

// chatContext loads what a follower's message depends on, in one read: an
// active channel of an active partner of the follower's tenant, which the
// follower follows, and their conversation with it.
// (On a refusal cc is still returned when it was read, for resent.)
func (a *App) chatContext(ctx context.Context, fa *FollowerActor, channelID int64) (*store.ChatContext, error) {
	cc, err := a.DB.FollowerChatContext(ctx, fa.Tenant.ID, fa.Follower.ID, channelID)
	if err != nil {
		return nil, err
	}
	return checkChatContext(cc)
}

func checkChatContext(cc *store.ChatContext) (*store.ChatContext, error) {
	if cc.Channel.Status != regulars.ChannelActive || cc.PartnerStatus != regulars.PartnerActive {
		return cc, regulars.ErrNotFound("channel")
	}
	if !cc.Following {
		return cc, regulars.Errorf(regulars.ECONFLICT, "Follow %s to chat with it.", cc.Channel.Name)
	}
	return cc, nil
}

// resent answers a follower's message that was refused (err: the chat is
// off, they no longer follow the channel): when clientID names a message
// stored before the refusal, this is a retry of it, and the retry gets
// what was stored, as it would have a moment earlier; otherwise err.
func (a *App) resent(ctx context.Context, fa *FollowerActor, convID int64, clientID string, err error) (*regulars.Conversation, *regulars.ChatMessage, error) {
	if clientID == "" || convID == 0 || regulars.ErrorCode(err) != regulars.ECONFLICT || errors.Is(err, errClientIDTaken) {
		return nil, nil, err
	}
	old, lookErr := a.DB.ChatMessageByClient(ctx, convID, clientID)
	if lookErr != nil {
		return nil, nil, err
	}
	conv, lookErr := a.DB.FollowerConversation(ctx, fa.Follower.ID, convID)
	if lookErr != nil {
		return nil, nil, err
	}
	return conv, old, nil
}

// conversationID is the id of cc's conversation, 0 when there is none yet.
func conversationID(cc *store.ChatContext) int64 {
	if cc == nil || cc.Conversation == nil {
		return 0
	}
	return cc.Conversation.ID
}

// FollowerSend sends a follower's message to a channel, starting the
// conversation the first time. A message to a finished conversation
// reopens it: it is unanswered until an agent takes it again.
func (a *App) FollowerSend(ctx context.Context, fa *FollowerActor, channelID int64, in FollowerMessage) (*regulars.Conversation, *regulars.ChatMessage, error) {
	cc, err := a.chatContext(ctx, fa, channelID)
	if err != nil {
		return a.resent(ctx, fa, conversationID(cc), in.ClientID, err)
	}
	conv, m, err := a.followerSend(ctx, fa, cc, in)
	if err != nil {
		return a.resent(ctx, fa, conversationID(cc), in.ClientID, err)
	}
	return conv, m, nil
}

func (a *App) followerSend(ctx context.Context, fa *FollowerActor, cc *store.ChatContext, in FollowerMessage) (*regulars.Conversation, *regulars.ChatMessage, error) {
	m, err := followerMessage(in)
	if err != nil {
		return nil, nil, err
	}
	return a.followerAppend(ctx, fa.Follower, cc, m, nil)
}

// followerMessage checks what a follower sends and makes the message.
func followerMessage(in FollowerMessage) (*regulars.ChatMessage, error) {
	v := regulars.Validation{}
	in.Text = checkChatText(v, in.Text, true)
	checkClientID(v, in.ClientID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageText, Text: in.Text, ClientID: in.ClientID}, nil
}

// FollowerSendTo sends a follower's message into one of their
// conversations (the conversation names the channel). Everything the
// message depends on is read once, under the conversation's lock.
func (a *App) FollowerSendTo(ctx context.Context, fa *FollowerActor, id int64, in FollowerMessage) (*regulars.Conversation, *regulars.ChatMessage, error) {
	m, err := followerMessage(in)
	if err != nil {
		return nil, nil, err
	}
	check := func(cc *store.ChatContext) error {
		if _, err := checkChatContext(cc); err != nil {
			return err
		}
		return chatOpen(cc.Channel, regulars.AuthorFollower)
	}
	// Stored together with other followers' messages where the store can.
	text := &store.FollowerText{Follower: fa.Follower, ConversationID: id, Message: m, Check: check}
	conv, sent, err := a.appendFollowerMessage(ctx, fa.Follower, id, m, nil, text, func(ctx context.Context) (*store.ChatContext, bool, error) {
		cc, err := a.DB.LockFollowerChatContext(ctx, fa.Follower, id)
		if err != nil {
			return nil, false, err
		}
		return cc, true, check(cc)
	})
	if err != nil {
		return a.resent(ctx, fa, id, m.ClientID, err)
	}
	return conv, sent, nil
}

// followerAppend stores a follower's message (and, before it, the file it
// carries) in the conversation with cc's channel, starting it the first
// time, reopening it when finished.
func (a *App) followerAppend(ctx context.Context, f *regulars.Follower, cc *store.ChatContext, m *regulars.ChatMessage, file *regulars.ChatAttachment) (*regulars.Conversation, *regulars.ChatMessage, error) {
	if err := chatOpen(cc.Channel, regulars.AuthorFollower); err != nil {
		return nil, nil, err
	}
	conv := cc.Conversation
	if conv == nil {
		var err error
		if conv, err = a.DB.EnsureConversation(ctx, f.TenantID, cc.Channel.PartnerID, cc.Channel.ID, f.ID); err != nil {
			return nil, nil, err
		}
	}
	return a.appendFollowerMessage(ctx, f, conv.ID, m, file, nil, func(ctx context.Context) (*store.ChatContext, bool, error) {
		c, err := a.DB.LockConversation(ctx, conv.ID)
		if err != nil {
			return nil, false, err
		}
		// The names read before still hold unless the owner changed since.
		c.OwnerName, c.FollowerName, c.FollowerEndUserID, c.ChannelName = conv.OwnerName, conv.FollowerName, conv.FollowerEndUserID, conv.ChannelName
		locked := *cc
		locked.Conversation = c
		return &locked, c.OwnerID == conv.OwnerID, nil
	})
}

// lockChat reads, inside the write, the chat context of a follower's
// message with the conversation's row locked, refusing the message if it
// may not be sent; named reports whether the conversation carries the
// right names (otherwise they are read after the write).
type lockChat func(ctx context.Context) (cc *store.ChatContext, named bool, err error)

// appendFollowerMessage stores m (and file) in conversation id under the
// lock that lock takes, reopening a finished conversation, and publishes
// what it stored. Messages of many conversations commit together (group
// commit); when text describes m, the store may store it together with
// others' in a few statements instead of running the function below.
func (a *App) appendFollowerMessage(ctx context.Context, f *regulars.Follower, id int64, m *regulars.ChatMessage, file *regulars.ChatAttachment, text *store.FollowerText, lock lockChat) (*regulars.Conversation, *regulars.ChatMessage, error) {
	var (
		events []*regulars.ChatMessage
		sent   *regulars.ChatMessage
		after  *regulars.Conversation // the state it ends in
		named  bool
		dup    bool
	)
	write := func(ctx context.Context) error {
		events, sent, dup = events[:0], nil, false
		cc, ok, err := lock(ctx)
		if err != nil {
			return err
		}
		c := cc.Conversation
		after, named = c, ok
		// A resend of a stored message changes nothing. The insert finds it
		// unless the message would first reopen the conversation or store
		// a file: then it is looked up first.
		once := m.ClientID != "" && file == nil && c.Status != regulars.ConversationFinished
		if m.ClientID != "" && !once {
			if old, err := a.DB.ChatMessageByClient(ctx, c.ID, m.ClientID); err == nil {
				sent, dup = old, true
				return nil
			} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
				return err
			}
		}
		if c.Status == regulars.ConversationFinished {
			c.Status, c.OwnerID, c.OwnerName = regulars.ConversationUnanswered, 0, ""
			if err := a.DB.SetConversationState(ctx, c); err != nil {
				return err
			}
			line, err := a.DB.AddChatMessage(ctx, c, &regulars.ChatMessage{Author: regulars.AuthorSystem, Kind: regulars.MessageSystem, Event: regulars.ChatReopen,
				Text: firstName(f) + " wrote again: the conversation is unanswered"})
			if err != nil {
				return err
			}
			events = append(events, line)
		}
		if file != nil {
			file.TenantID, file.PartnerID, file.ConversationID = f.TenantID, c.PartnerID, c.ID
			if err := a.storeAttachment(ctx, file); err != nil {
				return err
			}
			m.AttachmentID, m.Attachment = file.ID, file
		}
		msg := *m
		var stored *regulars.ChatMessage
		if once {
			stored, dup, err = a.DB.AddChatMessageOnce(ctx, c, &msg)
		} else {
			stored, err = a.DB.AddChatMessage(ctx, c, &msg)
		}
		if err != nil || dup {
			sent = stored
			return err
		}
		sent = stored
		events = append(events, stored)
		return nil
	}
	var err error
	if text == nil {
		err = a.DB.InBatch(ctx, id, write)
	} else {
		var handled bool
		if handled, err = a.DB.InBatchFollowerText(ctx, text, write); handled {
			after, named, sent, dup = text.Context.Conversation, true, text.Stored, text.Dup
			events = append(events[:0], text.Stored)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	conv := after
	if !named {
		if conv, err = a.DB.FollowerConversation(ctx, f.ID, id); err != nil {
			return nil, nil, err
		}
	}
	if !dup {
		a.publishMessages(ctx, conv, events, nil)
	} else if file == nil && sent.Text != m.Text {
		// The key of another message: a client's bug, which must not pass
		// for this message having been sent.
		return nil, nil, errClientIDTaken
	}
	return conv, sent, nil
}

// errClientIDTaken refuses a message whose client_id names another one.
var errClientIDTaken = regulars.Errorf(regulars.ECONFLICT, "This client_id belongs to another message: give each message its own.")

func firstName(f *regulars.Follower) string {
	if name := strings.TrimSpace(f.Name); name != "" {
		return name
	}
	return f.EndUserID
}

// FollowerConversations lists the follower's conversations, newest first.
func (a *App) FollowerConversations(ctx context.Context, fa *FollowerActor) ([]*regulars.Conversation, error) {
	return a.DB.FollowerConversations(ctx, fa.Follower.ID)
}

// FollowerConversation returns one of the follower's conversations.
func (a *App) FollowerConversation(ctx context.Context, fa *FollowerActor, id int64) (*regulars.Conversation, error) {
	return a.DB.FollowerConversation(ctx, fa.Follower.ID, id)
}

// FollowerChatMessages lists messages of one of the follower's conversations.
func (a *App) FollowerChatMessages(ctx context.Context, fa *FollowerActor, id int64, p ChatPage) ([]*regulars.ChatMessage, error) {
	c, err := a.FollowerConversation(ctx, fa, id)
	if err != nil {
		return nil, err
	}
	return a.messages(ctx, c, p)
}

// FollowerRead records that the follower read up to seq.
func (a *App) FollowerRead(ctx context.Context, fa *FollowerActor, id, seq int64) error {
	c, err := a.FollowerConversation(ctx, fa, id)
	if err != nil {
		return err
	}
	if err := checkReadSeq(seq); err != nil {
		return err
	}
	moved, err := a.DB.MarkFollowerRead(ctx, id, min(seq, c.LastSeq))
	if err != nil || !moved {
		return err
	}
	a.publish(ctx, &ChatEvent{Type: EventRead, PartnerID: c.PartnerID, FollowerID: fa.Follower.ID, ConversationID: id, Author: regulars.AuthorFollower, Seq: min(seq, c.LastSeq)}, false)
	return nil
}

// FollowerTyping tells the agents that the follower is writing.
func (a *App) FollowerTyping(ctx context.Context, fa *FollowerActor, id int64) error {
	c, err := a.FollowerConversation(ctx, fa, id)
	if err != nil {
		return err
	}
	// Only where they could send what they are writing.
	cc, err := a.chatContext(ctx, fa, c.ChannelID)
	if err != nil {
		return err
	}
	if err := chatOpen(cc.Channel, regulars.AuthorFollower); err != nil {
		return err
	}
	a.publish(ctx, &ChatEvent{Type: EventTyping, PartnerID: c.PartnerID, ConversationID: id, Author: regulars.AuthorFollower, Name: firstName(fa.Follower)}, true)
	return nil
}

// What an activity line says the follower did, after their name (the
// follower reads "You " and the same).
const (
	ActivityEnabled = "enabled the coupon "
	ActivityJoined  = "joined "
	ActivityOpened  = "opened "
)

// CardAction is what acting on an engagement card did.
type CardAction struct {
	Engagement *regulars.Engagement
	Activation *regulars.CouponActivation // coupons
	Membership *regulars.Membership       // loyalty programs
}

// ActOnCard does what an engagement card in the follower's conversation
// offers: enable the coupon, join the program, open the message. The
// engagement's own rules apply (EnableCoupon, JoinProgram, OpenMessage);
// the agents see an activity line in the thread.
func (a *App) ActOnCard(ctx context.Context, fa *FollowerActor, id, seq int64) (*CardAction, error) {
	c, err := a.FollowerConversation(ctx, fa, id)
	if err != nil {
		return nil, err
	}
	m, err := a.DB.ChatMessage(ctx, c.ID, seq)
	if err != nil || m.Kind != regulars.MessageEngagement {
		return nil, regulars.ErrNotFound("engagement card")
	}
	e, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, m.EngagementID)
	if err != nil {
		return nil, err
	}
	out := &CardAction{Engagement: e}
	// Done already (the coupon enabled, the program joined): say so as it
	// stands, without a second activity line for nothing new.
	if out.Activation, out.Membership, err = a.cardDone(ctx, fa.Follower.ID, e); err != nil {
		return nil, err
	}
	if out.Activation != nil || out.Membership != nil {
		return out, nil
	}
	var did string
	switch e.Kind {
	case regulars.KindCoupon:
		if out.Activation, err = a.EnableCoupon(ctx, fa, e.ID); err != nil {
			return nil, err
		}
		did = ActivityEnabled + e.Name
	case regulars.KindLoyalty:
		if out.Membership, err = a.JoinProgram(ctx, fa, e.ID); err != nil {
			return nil, err
		}
		did = ActivityJoined + e.Name
	case regulars.KindMessage:
		if err := a.OpenMessage(ctx, fa, e.ID); err != nil && regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return nil, err
		}
		did = ActivityOpened + e.Name
	default:
		return nil, regulars.ErrNotFound("engagement card")
	}
	var line *regulars.ChatMessage
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		locked, err := a.DB.LockConversation(ctx, c.ID)
		if err != nil {
			return err
		}
		// A message card opens as often as the follower likes; the thread
		// says so once (a coupon or a program acts again only after it was
		// used up or left, which is news).
		if e.Kind == regulars.KindMessage {
			if again, err := a.DB.HasChatActivity(ctx, c.ID, e.ID); err != nil || again {
				return err
			}
		}
		line, err = a.DB.AddChatMessage(ctx, locked, &regulars.ChatMessage{Author: regulars.AuthorSystem, Kind: regulars.MessageSystem, Event: regulars.ChatActivity,
			EngagementID: e.ID, Text: firstName(fa.Follower) + " " + did})
		return err
	})
	if err != nil {
		return nil, err
	}
	if line == nil {
		return out, nil
	}
	if conv, err := a.DB.FollowerConversation(ctx, fa.Follower.ID, c.ID); err == nil {
		a.publishMessages(ctx, conv, []*regulars.ChatMessage{line}, e)
	}
	return out, nil
}
