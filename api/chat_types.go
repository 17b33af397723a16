package api

import (
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
)

// The bodies of the chat: the same shapes travel over the REST routes and
// the WebSocket (see the realtime package), for agents and followers.

// ConversationStatus is where a conversation stands.
type ConversationStatus string

// Enum lists the conversation statuses.
func (ConversationStatus) Enum() []string {
	return []string{regulars.ConversationUnanswered, regulars.ConversationActive, regulars.ConversationFinished}
}

// ChannelRef names a channel.
type ChannelRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// FollowerRef names a follower for agents.
type FollowerRef struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	EndUserID string `json:"end_user_id"`
}

// Conversation is a chat between a follower and a channel.
type Conversation struct {
	ID      int64              `json:"id"`
	Status  ConversationStatus `json:"status" doc:"unanswered until an agent answers; active with an owner; finished until the follower writes again"`
	Channel ChannelRef         `json:"channel"`
	// Follower is shown to agents only.
	Follower *FollowerRef `json:"follower,omitempty" doc:"agents only"`
	Owner    *UserRef     `json:"owner" doc:"the agent who took it; null while unanswered or finished"`
	// LastSeq numbers the messages 1, 2, 3 … without gaps: a client that
	// sees a jump catches up with ?after=.
	LastSeq         int64      `json:"last_seq" doc:"the number of the newest message; messages are numbered 1, 2, 3 … without gaps"`
	LastMessageAt   *time.Time `json:"last_message_at"`
	LastPreview     string     `json:"last_preview" doc:"the newest message, shortened"`
	LastAuthor      string     `json:"last_author" doc:"follower or agent: who wrote the newest message"`
	ReadSeq         int64      `json:"read_seq" doc:"how far the reader (this agent, or the follower) has read"`
	Unread          int64      `json:"unread" doc:"messages of the other side after read_seq (system lines not counted); 0 in live events, which go to every reader alike"`
	FollowerReadSeq int64      `json:"follower_read_seq" doc:"how far the follower has read"`
}

// ConversationOut shapes a conversation for agents (staff) or followers.
func ConversationOut(c *regulars.Conversation, forStaff bool) Conversation {
	out := Conversation{ID: c.ID, Status: ConversationStatus(c.Status), Channel: ChannelRef{ID: c.ChannelID, Name: c.ChannelName},
		LastSeq: c.LastSeq, LastMessageAt: when(c.LastMessageAt), LastPreview: c.LastPreview, LastAuthor: c.LastAuthor,
		ReadSeq: c.ReadSeq, Unread: c.Unread, FollowerReadSeq: c.FollowerReadSeq}
	if c.OwnerID != 0 {
		out.Owner = &UserRef{ID: c.OwnerID, Name: c.OwnerName}
	}
	if forStaff {
		out.Follower = &FollowerRef{ID: c.FollowerID, Name: c.FollowerName, EndUserID: c.FollowerEndUserID}
	} else {
		out.ReadSeq = c.FollowerReadSeq // the reader is the follower
	}
	return out
}

// ConversationList is a page of conversations, newest activity first.
type ConversationList struct {
	Items []Conversation `json:"items"`
	// Counts are the agent's tabs.
	Counts *ConversationCounts `json:"counts,omitempty" doc:"agents: how many conversations each tab holds"`
}

// ConversationCounts are the sizes of the agent's tabs.
type ConversationCounts struct {
	Unanswered int64 `json:"unanswered"`
	Mine       int64 `json:"mine"`
	Active     int64 `json:"active"`
}

// Author is who wrote a message.
type Author string

// Enum lists the authors.
func (Author) Enum() []string {
	return []string{regulars.AuthorFollower, regulars.AuthorAgent, regulars.AuthorSystem}
}

// MessageKind is what a message holds.
type MessageKind string

// Enum lists the message kinds.
func (MessageKind) Enum() []string {
	return []string{regulars.MessageText, regulars.MessageAttachment, regulars.MessageEngagement, regulars.MessageSystem}
}

// Attachment is a file sent in a conversation. Agents download it from
// /api/v1/chat/attachments/{id}, followers from
// /api/v1/follower/attachments/{id}.
type Attachment struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type" enum:"image/jpeg,image/png,image/gif,image/webp,application/pdf"`
	Size        int64  `json:"size" doc:"bytes"`
}

// EngagementCard is an engagement an agent sent into a conversation.
type EngagementCard struct {
	ID          int64        `json:"id"`
	Kind        Kind         `json:"kind"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	ImageURL    string       `json:"image_url" doc:"empty when none"`
	EndsAt      *time.Time   `json:"ends_at" doc:"null when open-ended"`
	Coupon      *CouponInfo  `json:"coupon" doc:"coupons only"`
	Program     *ProgramInfo `json:"program" doc:"loyalty programs only"`
	Text        string       `json:"text,omitempty" doc:"messages only: what the message says"`
	Link        string       `json:"link,omitempty" doc:"messages only: where to read more"`
	Done        bool         `json:"done,omitempty" doc:"the follower already did what the card offers (the coupon is enabled and not yet used, the program joined, the message opened from a card of this conversation): on their side of a card, and in the agents' list of engagements to send (a coupon sent again reminds them of it)"`
}

// MarkCardsDone marks the cards among items that done (CardsDone) says
// the follower has acted on.
func MarkCardsDone(items []ChatMessage, done map[int64]bool) {
	for i := range items {
		if e := items[i].Engagement; e != nil && done[e.ID] {
			e.Done = true
		}
	}
}

// EngagementCardOut shapes an engagement as a card.
func EngagementCardOut(e *regulars.Engagement) *EngagementCard {
	if e == nil {
		return nil
	}
	out := &EngagementCard{ID: e.ID, Kind: Kind(e.Kind), Name: e.Name, Description: e.Description, ImageURL: mediaURL(e.Image), EndsAt: when(e.EndsAt)}
	if e.Message != nil && e.Kind == regulars.KindMessage {
		out.Text, out.Link = e.Message.Text, e.Message.Link
	}
	if e.Coupon != nil && e.Kind == regulars.KindCoupon {
		out.Coupon = couponInfo(e, nil)
	}
	if e.Loyalty != nil && e.Kind == regulars.KindLoyalty {
		out.Program = programInfo(e)
	}
	return out
}

// ChatMessage is one line of a conversation.
type ChatMessage struct {
	ID             int64       `json:"id"`
	ConversationID int64       `json:"conversation_id"`
	Seq            int64       `json:"seq" doc:"1, 2, 3 … within the conversation, without gaps"`
	Author         Author      `json:"author"`
	Agent          *UserRef    `json:"agent" doc:"the agent who wrote it, or whom a system line is about"`
	Kind           MessageKind `json:"kind"`
	Text           string      `json:"text"`
	Event          string      `json:"event,omitempty" doc:"system lines: take, overtake, finish, reopen or activity"`
	Attachment     *Attachment `json:"attachment,omitempty"`
	// EngagementID is set on engagement cards and activity lines.
	EngagementID *int64          `json:"engagement_id,omitempty"`
	Engagement   *EngagementCard `json:"engagement,omitempty" doc:"engagement cards: what was sent"`
	ClientID     string          `json:"client_id,omitempty" doc:"the sender's idempotency key"`
	CreatedAt    time.Time       `json:"created_at"`
}

// followerLine is the text of a system line as the follower reads it: who
// answers, not how agents passed the conversation around.
func followerLine(m *regulars.ChatMessage) string {
	switch m.Event {
	case regulars.ChatTake, regulars.ChatOvertake:
		return m.UserName + " joined the conversation"
	case regulars.ChatFinish:
		return "The conversation was closed"
	case regulars.ChatReopen:
		return "The conversation was reopened"
	case regulars.ChatActivity:
		return "You " + didOf(m.Text)
	}
	return m.Text
}

// didOf is what an activity line says the follower did, without the name
// it starts with (the name they had then, maybe not the one they have now).
func didOf(line string) string {
	at := -1
	for _, did := range []string{app.ActivityEnabled, app.ActivityJoined, app.ActivityOpened} {
		if i := strings.Index(line, " "+did); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return line
	}
	return line[at+1:]
}

// MessageOut shapes a message for agents (staff) or the follower; card is
// the engagement of a card, when known.
func MessageOut(m *regulars.ChatMessage, card *regulars.Engagement, forStaff bool) ChatMessage {
	out := ChatMessage{ID: m.ID, ConversationID: m.ConversationID, Seq: m.Seq, Author: Author(m.Author), Kind: MessageKind(m.Kind), Text: m.Text,
		Event: m.Event, EngagementID: optID(m.EngagementID), ClientID: m.ClientID, CreatedAt: m.CreatedAt}
	if m.UserID != 0 {
		out.Agent = &UserRef{ID: m.UserID, Name: m.UserName}
	}
	if m.Attachment != nil {
		out.Attachment = &Attachment{ID: m.Attachment.ID, Name: m.Attachment.Name, ContentType: m.Attachment.ContentType, Size: m.Attachment.Size}
	}
	if card != nil && card.ID == m.EngagementID && m.Kind == regulars.MessageEngagement {
		out.Engagement = EngagementCardOut(card)
	}
	if !forStaff {
		if m.Kind == regulars.MessageSystem {
			out.Text = followerLine(m)
		}
		if m.Author != regulars.AuthorFollower {
			out.ClientID = ""
		}
	}
	return out
}

// ChatMessageList is messages of a conversation, oldest first.
type ChatMessageList struct {
	Items []ChatMessage `json:"items"`
	More  bool          `json:"more" doc:"there are more messages: after the last (catching up) or before the first (paging back)"`
}

// AgentMessageSend is what an agent sends.
type AgentMessageSend struct {
	Text         string `json:"text,omitempty" doc:"required unless engagement_id is set; at most 4000 characters"`
	EngagementID int64  `json:"engagement_id,omitempty" doc:"send this engagement as a card (see …/engagements)"`
	ClientID     string `json:"client_id,omitempty" doc:"an idempotency key (≤ 64 printable ASCII): sending again with it stores nothing new"`
	OvertakeFrom int64  `json:"overtake_from,omitempty" doc:"confirm taking the conversation over from this owner (the owner of a 409 answer)"`
}

// Take takes a conversation without sending a message.
type Take struct {
	OvertakeFrom int64 `json:"overtake_from,omitempty" doc:"confirm taking the conversation over from this owner"`
}

// ReadUpTo marks a conversation read.
type ReadUpTo struct {
	Seq int64 `json:"seq" doc:"the newest message read"`
}

// FollowerMessageSend is what a follower sends.
type FollowerMessageSend struct {
	Text     string `json:"text" doc:"at most 4000 characters"`
	ClientID string `json:"client_id,omitempty" doc:"an idempotency key (≤ 64 printable ASCII): sending again with it stores nothing new"`
}

// Sent is the conversation after a message, and the message.
type Sent struct {
	Conversation Conversation `json:"conversation"`
	Message      ChatMessage  `json:"message"`
}

func (s Sent) location() string {
	return "/api/v1/follower/conversations/" + strconv.FormatInt(s.Conversation.ID, 10) + "/messages"
}

// CardResult is what acting on an engagement card did.
type CardResult struct {
	Engagement   EngagementCard `json:"engagement"`
	MyActivation *Activation    `json:"my_activation" doc:"coupons: the enabled coupon"`
	MyMembership *Membership    `json:"my_membership" doc:"programs: the new membership"`
}

// ProgramStanding is a follower's points and level in a program.
type ProgramStanding struct {
	ProgramID     int64       `json:"program_id"`
	Name          string      `json:"name"`
	ProgramKind   ProgramKind `json:"program_kind"`
	PointPlural   string      `json:"point_plural"`
	CurrentPoints int64       `json:"current_points"`
	TotalPoints   int64       `json:"total_points"`
	Level         int         `json:"level" doc:"level position, 0 below every level"`
	LevelName     string      `json:"level_name"`
}

// FollowerHistory is what an agent previews beside a conversation.
type FollowerHistory struct {
	Follower FollowerRef       `json:"follower"`
	Activity []ActivityItem    `json:"activity" doc:"newest first; ?kind= narrows it to message, coupon or loyalty"`
	Programs []ProgramStanding `json:"programs" doc:"points and level in each of the partner's programs the follower joined"`
	Channels []ChannelRef      `json:"channels" doc:"the partner's channels the follower follows"`
}

func historyOut(p *app.FollowerPanel) FollowerHistory {
	out := FollowerHistory{Follower: FollowerRef{ID: p.Follower.ID, Name: p.Follower.Name, EndUserID: p.Follower.EndUserID},
		Activity: []ActivityItem{}, Programs: []ProgramStanding{}, Channels: []ChannelRef{}}
	for _, a := range p.Activity {
		out.Activity = append(out.Activity, ActivityItem{ID: a.ID, Kind: a.Kind, ChannelID: optID(a.ChannelID), EngagementID: optID(a.EngagementID),
			EngagementKind: a.EngagementKind, Points: a.Points, Text: a.Text, CreatedAt: a.CreatedAt})
	}
	for _, s := range p.Programs {
		ps := ProgramStanding{ProgramID: s.Program.ID, Name: s.Program.Name, CurrentPoints: s.Membership.CurrentPoints, TotalPoints: s.Membership.TotalPoints,
			Level: s.Membership.Level, LevelName: s.LevelName}
		if l := s.Program.Loyalty; l != nil {
			ps.ProgramKind, ps.PointPlural = ProgramKind(l.ProgramKind), l.PointPlural
		}
		out.Programs = append(out.Programs, ps)
	}
	for _, c := range p.Channels {
		out.Channels = append(out.Channels, ChannelRef{ID: c.ID, Name: c.Name})
	}
	return out
}

// EngagementCardList is the engagements an agent may send.
type EngagementCardList struct {
	Items []EngagementCard `json:"items"`
}

// CannedResponse is a prepared answer.
type CannedResponse struct {
	ID         int64  `json:"id"`
	CategoryID int64  `json:"category_id"`
	Title      string `json:"title"`
	Text       string `json:"text"`
	Default    bool   `json:"default" doc:"one of the platform's defaults: usable, not editable"`
}

// CannedCategory groups canned responses.
type CannedCategory struct {
	ID        int64            `json:"id"`
	Name      string           `json:"name"`
	Default   bool             `json:"default" doc:"one of the platform's defaults: usable, not editable"`
	Responses []CannedResponse `json:"responses"`
}

func (c CannedCategory) location() string {
	return cannedPrefix(c.Default) + "/canned-categories/" + strconv.FormatInt(c.ID, 10)
}

// cannedPrefix is where a partner's canned responses are, or the
// platform's defaults (managed by the tenant).
func cannedPrefix(isDefault bool) string {
	if isDefault {
		return "/api/v1/tenant"
	}
	return "/api/v1"
}

func cannedOut(r *regulars.CannedResponse) CannedResponse {
	return CannedResponse{ID: r.ID, CategoryID: r.CategoryID, Title: r.Title, Text: r.Text, Default: r.IsDefault()}
}

func (c CannedResponse) location() string {
	return cannedPrefix(c.Default) + "/canned-responses/" + strconv.FormatInt(c.ID, 10)
}

// CannedList is the categories with their responses: the partner's own,
// then the platform's defaults.
type CannedList struct {
	Items []CannedCategory `json:"items"`
}

// CannedCategoryInput names a category.
type CannedCategoryInput struct {
	Name string `json:"name" doc:"at most 60 characters, unique"`
}

// CannedInput is a response to create.
type CannedInput struct {
	CategoryID int64  `json:"category_id"`
	Title      string `json:"title" doc:"at most 80 characters; agents find it by typing / and its first letters"`
	Text       string `json:"text" doc:"at most 4000 characters"`
}

// CannedUpdate changes the members it holds.
type CannedUpdate struct {
	CategoryID *int64  `json:"category_id,omitempty"`
	Title      *string `json:"title,omitempty"`
	Text       *string `json:"text,omitempty"`
}
