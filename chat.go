package regulars

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Conversation statuses. A follower's message makes a conversation
// unanswered; an agent takes it by answering (active, with an owner); the
// owner finishes it. A new follower message puts a finished conversation
// back to unanswered.
const (
	ConversationUnanswered = "unanswered"
	ConversationActive     = "active"
	ConversationFinished   = "finished"
)

// Who wrote a chat message.
const (
	AuthorFollower = "follower"
	AuthorAgent    = "agent"
	AuthorSystem   = "system"
)

// What a chat message holds.
const (
	MessageText       = "text"
	MessageAttachment = "attachment"
	MessageEngagement = "engagement" // a card the follower can act on
	MessageSystem     = "system"     // take, overtake, finish, reopen
)

// The events a system line records.
const (
	ChatTake     = "take"
	ChatOvertake = "overtake"
	ChatFinish   = "finish"
	ChatReopen   = "reopen"
	ChatActivity = "activity" // the follower acted on an engagement card
)

// MaxChatText is the longest chat message, in characters.
const MaxChatText = 4000

// Conversation is the chat between a follower and a channel: one per
// follower and channel, reopened rather than duplicated.
type Conversation struct {
	ID         int64
	TenantID   int64
	PartnerID  int64
	ChannelID  int64
	FollowerID int64
	Status     string
	OwnerID    int64 // the agent who took it; 0 while unanswered or finished
	FinishedBy int64 // the agent who finished it last
	// LastSeq numbers the messages of the conversation 1, 2, 3 … without
	// gaps, so a client sees a missing message and can catch up.
	LastSeq         int64
	LastMessageAt   time.Time
	LastPreview     string
	LastAuthor      string
	FollowerReadSeq int64 // the follower has read up to this message
	CreatedAt       time.Time
	UpdatedAt       time.Time

	// Filled by the queries that list conversations.
	OwnerName         string
	FollowerName      string
	FollowerEndUserID string
	ChannelName       string
	ReadSeq           int64 // the reading agent's (or follower's) last read message
	Unread            int64 // messages of the other side after ReadSeq
}

// ChatMessage is one line of a conversation.
type ChatMessage struct {
	ID             int64
	ConversationID int64
	Seq            int64
	Author         string
	UserID         int64  // the agent (AuthorAgent) or the agent a system line is about
	UserName       string // filled by queries
	Kind           string
	Text           string
	Event          string // for system lines
	AttachmentID   int64
	Attachment     *ChatAttachment // filled by queries
	EngagementID   int64
	EngagementName string // a card's engagement when it is sent, for the conversation's preview (not stored)
	ClientID       string // the sender's idempotency key: a resent message is stored once
	CreatedAt      time.Time
}

// ChatAttachment is a file sent in a conversation: an image or a PDF.
type ChatAttachment struct {
	ID             int64
	TenantID       int64
	PartnerID      int64
	ConversationID int64
	Name           string
	ContentType    string
	Size           int64
	StorageKey     string
	CreatedAt      time.Time
}

// IsImage reports whether the attachment shows inline.
func (a *ChatAttachment) IsImage() bool { return strings.HasPrefix(a.ContentType, "image/") }

// ChatContentTypes are the attachment types accepted, by the type the
// file's first bytes show.
var ChatContentTypes = map[string]string{
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

// Preview shortens a message for the conversation list.
func Preview(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= 120 {
		return s
	}
	r := []rune(s)
	return string(r[:119]) + "…"
}

// CannedCategory groups canned responses. PartnerID 0 marks the tenant's
// defaults, which every partner of the tenant sees.
type CannedCategory struct {
	ID        int64
	TenantID  int64
	PartnerID int64
	Name      string
	CreatedAt time.Time
	Responses []*CannedResponse // filled by queries
}

// CannedResponse is a prepared answer an agent inserts into the composer.
type CannedResponse struct {
	ID         int64
	TenantID   int64
	PartnerID  int64
	CategoryID int64
	Title      string
	Text       string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// IsDefault reports whether the response is one of the tenant's defaults.
func (c *CannedResponse) IsDefault() bool { return c.PartnerID == 0 }

// SniffChatContentType names the type of an attachment from its first
// bytes (whatever the sender claims), or "" when it is none of
// ChatContentTypes.
func SniffChatContentType(head []byte) string {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return "image/jpeg"
	case len(head) >= 8 && string(head[:8]) == "\x89PNG\r\n\x1a\n":
		return "image/png"
	case len(head) >= 6 && (string(head[:6]) == "GIF87a" || string(head[:6]) == "GIF89a"):
		return "image/gif"
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	case len(head) >= 5 && string(head[:5]) == "%PDF-":
		return "application/pdf"
	}
	return ""
}

// CleanFileName keeps a sent file's name safe to show and to offer as a
// download name: no folders, no control characters, at most 120 characters.
func CleanFileName(name, ext string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 120 {
		name = string(r[:120])
	}
	if name == "" || name == "." || name == ".." {
		name = "file" + ext
	}
	return name
}
