package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"

	"regulars"
	"regulars/files"
)

// DefaultChatMaxAttachment is the default size limit of a chat attachment.
const DefaultChatMaxAttachment = 10 << 20

// Upload is a file someone sends into a conversation.
type Upload struct {
	Name string    // the file name the sender's device gave
	Body io.Reader // read up to the size limit
}

var errTooLarge = errors.New("attachment too large")

// MaxAttachment is the size limit of a chat attachment, in bytes.
func (a *App) MaxAttachment() int64 {
	if a.ChatMaxAttachment <= 0 {
		return DefaultChatMaxAttachment
	}
	return a.ChatMaxAttachment
}

// AttachmentTooLarge is the refusal of a file over MaxAttachment. The
// limit is set in MiB and said in the units file managers show sizes in
// ("10 MB" for 10 MiB), so that a file the sender's device shows as
// "10.5 MB" is not refused as "larger than 10.5 MB".
func (a *App) AttachmentTooLarge() error {
	max := a.MaxAttachment()
	limit := FormatBytes(max)
	if max%(1<<20) == 0 {
		limit = fmt.Sprintf("%d MB", max>>20)
	}
	return fileRefusal("The file is larger than the " + limit + " limit: send a smaller one.")
}

// fileRefusal refuses an attachment, saying why in the message itself
// (a chat has no form whose field it could highlight) and on the file.
func fileRefusal(msg string) error {
	return &regulars.Error{Code: regulars.EINVALID, Message: msg, Fields: map[string]string{"file": msg}}
}

// limitedReader fails once more than n bytes have been read.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, errTooLarge
	}
	return n, err
}

// receive checks an upload's type by its first bytes and writes it to the
// file store. The caller records it (storeAttachment) or deletes it.
func (a *App) receive(ctx context.Context, partnerID int64, up Upload) (*regulars.ChatAttachment, error) {
	if a.Files == nil {
		return nil, regulars.Errorf(regulars.ECONFLICT, "Attachments are not available on this server.")
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(up.Body, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	field := fileRefusal
	if n == 0 {
		return nil, field("The file is empty.")
	}
	ctype := regulars.SniffChatContentType(head)
	if ctype == "" {
		return nil, field("Send a picture (JPEG, PNG, GIF or WebP) or a PDF.")
	}
	ext := regulars.ChatContentTypes[ctype]
	att := &regulars.ChatAttachment{PartnerID: partnerID, ContentType: ctype, Name: attachmentName(up.Name, ctype),
		StorageKey: fmt.Sprintf("chat/%d/%s%s", partnerID, NewSecret(""), ext)}
	size, err := a.Files.Put(ctx, att.StorageKey, &limitedReader{r: io.MultiReader(bytes.NewReader(head), up.Body), n: a.MaxAttachment()})
	if errors.Is(err, errTooLarge) {
		return nil, a.AttachmentTooLarge()
	}
	if err != nil {
		return nil, err
	}
	att.Size = size
	return att, nil
}

// attachmentName is the name a received file is shown and downloaded
// under: CleanFileName's, without the bidirectional controls that make
// "invoice\u202Efdp.html" read "invoicelmth.pdf", and ending in an
// extension of the type its bytes are. Named otherwise (menu.html for a
// PDF), the type's extension is added, so that a download opens as what
// it is and not as what its name claims.
func attachmentName(name, ctype string) string {
	ext := regulars.ChatContentTypes[ctype]
	name = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, name)
	name = regulars.CleanFileName(name, ext)
	got := strings.ToLower(path.Ext(name))
	if got == ext || (ctype == "image/jpeg" && got == ".jpeg") {
		return name
	}
	return name + ext
}

// storeAttachment counts a received file against the partner's storage
// allowance (ReserveStorage: package storage plus storage add-ons) and
// records it, inside the transaction that sends its message.
func (a *App) storeAttachment(ctx context.Context, att *regulars.ChatAttachment) error {
	if err := a.ReserveStorage(ctx, att.TenantID, att.PartnerID, att.Size); err != nil {
		return err
	}
	return a.DB.AddChatAttachment(ctx, att)
}

// discard deletes a received file whose message was not stored.
func (a *App) discard(att *regulars.ChatAttachment) {
	if err := a.Files.Delete(context.Background(), att.StorageKey); err != nil {
		a.Log.Warn("deleting an unsent attachment", "key", att.StorageKey, "err", err)
	}
}

// SendAgentAttachment sends a file (with an optional text) as the actor,
// under the same rules as SendAgentMessage.
func (a *App) SendAgentAttachment(ctx context.Context, actor *Actor, id int64, up Upload, in AgentMessage) (*regulars.ChatMessage, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	if _, err := a.DB.Conversation(ctx, actor.PartnerID(), id); err != nil {
		return nil, err
	}
	v := regulars.Validation{}
	in.Text = checkChatText(v, in.Text, false)
	checkClientID(v, in.ClientID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	// A resend of a stored file changes nothing (and is not stored again).
	old, err := a.agentResend(ctx, id, in.ClientID)
	if old != nil || err != nil {
		return old, err
	}
	att, err := a.receive(ctx, actor.PartnerID(), up)
	if err != nil {
		return nil, err
	}
	var (
		change *agentChange
		sent   *regulars.ChatMessage
		dup    bool
	)
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		var err error
		if change, err = a.lockForAgent(ctx, actor, id); err != nil {
			return err
		}
		// The same resend, twice at once: the second finds the first.
		if sent, err = a.agentResend(ctx, id, in.ClientID); sent != nil || err != nil {
			change.events, dup = nil, sent != nil
			return err
		}
		if err := chatOpen(change.channel, regulars.AuthorAgent); err != nil {
			return err
		}
		if err := a.take(ctx, actor, change, in.OvertakeFrom); err != nil {
			return err
		}
		file := *att
		file.TenantID, file.ConversationID = change.conv.TenantID, change.conv.ID
		if err := a.storeAttachment(ctx, &file); err != nil {
			return err
		}
		m := &regulars.ChatMessage{Author: regulars.AuthorAgent, UserID: actor.User.ID, UserName: actor.User.Name, Kind: regulars.MessageAttachment, Text: in.Text,
			AttachmentID: file.ID, Attachment: &file, ClientID: in.ClientID}
		if sent, err = a.DB.AddChatMessage(ctx, change.conv, m); err != nil {
			return err
		}
		change.events = append(change.events, sent)
		return a.DB.MarkRead(ctx, id, actor.User.ID, change.conv.LastSeq)
	})
	if err != nil || dup {
		a.discard(att) // refused, or a resend of a stored file
	}
	if err != nil {
		return nil, err
	}
	a.publishChange(ctx, actor.PartnerID(), change, nil)
	return sent, nil
}

// agentResend finds the message an agent's clientID was stored with
// before, or nil when there is none (or no clientID).
func (a *App) agentResend(ctx context.Context, convID int64, clientID string) (*regulars.ChatMessage, error) {
	if clientID == "" {
		return nil, nil
	}
	old, err := a.DB.ChatMessageByClient(ctx, convID, clientID)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, nil
	}
	return old, err
}

// FollowerSendAttachment sends a follower's file to a channel.
func (a *App) FollowerSendAttachment(ctx context.Context, fa *FollowerActor, channelID int64, up Upload, clientID string) (*regulars.Conversation, *regulars.ChatMessage, error) {
	v := regulars.Validation{}
	checkClientID(v, clientID)
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	cc, err := a.chatContext(ctx, fa, channelID)
	if err == nil {
		err = chatOpen(cc.Channel, regulars.AuthorFollower)
	}
	if err != nil {
		return a.resent(ctx, fa, conversationID(cc), clientID, err)
	}
	att, err := a.receive(ctx, cc.Channel.PartnerID, up)
	if err != nil {
		return nil, nil, err
	}
	m := &regulars.ChatMessage{Author: regulars.AuthorFollower, Kind: regulars.MessageAttachment, ClientID: clientID}
	conv, sent, err := a.followerAppend(ctx, fa.Follower, cc, m, att)
	if err != nil || sent.AttachmentID != att.ID {
		a.discard(att) // refused, or a resend of a stored message
	}
	if regulars.ErrorCode(err) == regulars.ELIMIT {
		// The partner's plan is theirs to hear of (they get the wording
		// with the numbers when they upload); the follower hears what
		// they can do.
		msg := cc.Channel.Name + " cannot take files at the moment: write your message instead, or try again later."
		err = &regulars.Error{Code: regulars.ELIMIT, Message: msg, Fields: map[string]string{"file": msg}}
	}
	if err != nil {
		return a.resent(ctx, fa, conversationID(cc), clientID, err)
	}
	return conv, sent, nil
}

// AgentAttachment opens an attachment of one of the actor's partner's
// conversations.
func (a *App) AgentAttachment(ctx context.Context, actor *Actor, id int64) (*regulars.ChatAttachment, files.File, error) {
	if err := actor.Require(regulars.FeatureChat, regulars.LevelView); err != nil {
		return nil, nil, err
	}
	att, err := a.DB.ChatAttachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if att.PartnerID != actor.PartnerID() || att.TenantID != actor.User.TenantID {
		return nil, nil, regulars.ErrNotFound("attachment")
	}
	return a.openAttachment(ctx, att)
}

// FollowerAttachment opens an attachment of one of the follower's
// conversations.
func (a *App) FollowerAttachment(ctx context.Context, fa *FollowerActor, id int64) (*regulars.ChatAttachment, files.File, error) {
	att, err := a.DB.ChatAttachment(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if _, err := a.DB.FollowerConversation(ctx, fa.Follower.ID, att.ConversationID); err != nil {
		return nil, nil, regulars.ErrNotFound("attachment")
	}
	return a.openAttachment(ctx, att)
}

func (a *App) openAttachment(ctx context.Context, att *regulars.ChatAttachment) (*regulars.ChatAttachment, files.File, error) {
	if a.Files == nil {
		return nil, nil, regulars.ErrNotFound("attachment")
	}
	f, err := a.Files.Open(ctx, att.StorageKey)
	if err != nil {
		return nil, nil, err
	}
	return att, f, nil
}
