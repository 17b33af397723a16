package api

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// chatTable is the chat of both sides: agents (partner staff with the chat
// feature) and followers, and the canned responses agents insert.
func (x *API) chatTable() []endpoint {
	const (
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	p, f := httpx.Partner, httpx.Follower
	chat, canned := regulars.FeatureChat, regulars.FeatureCanned
	conflict := []int{http.StatusConflict}
	sending := []int{http.StatusConflict, http.StatusTooManyRequests} // 429: faster than the sender's rate
	tab := queryParam{Name: "tab", Doc: "unanswered (default), mine, active or finished"}
	search := queryParam{Name: "q", Doc: "part of the follower's name or end-user ID"}
	page := []queryParam{
		{Name: "after", Integer: true, Doc: "messages after this number, oldest first (catching up; 0: from the first); without it the newest ones"},
		{Name: "before", Integer: true, Doc: "the newest messages before this number (paging back), oldest first"},
		{Name: "limit", Integer: true, Doc: "at most this many: 1000 (the default and the most) catching up, 100 by default and 500 at most otherwise; more says whether there are others"},
	}
	kind := queryParam{Name: "kind", Doc: "message, coupon or loyalty"}
	table := []endpoint{
		{Method: "GET", Pattern: "/api/v1/chat/conversations", Side: p, Feature: chat, Level: view,
			Doc: "List the partner's conversations of a tab, newest activity first, with the caller's unread counts", Op: handle(x, http.StatusOK, x.listConversations),
			Query: []queryParam{tab, search, {Name: "before", Integer: true, Doc: "the id of the last conversation of the previous page"}}},
		{Method: "GET", Pattern: "/api/v1/chat/conversations/{id}", Side: p, Feature: chat, Level: view,
			Doc: "Get a conversation with its owner", Op: handle(x, http.StatusOK, x.getConversation)},
		{Method: "GET", Pattern: "/api/v1/chat/conversations/{id}/messages", Side: p, Feature: chat, Level: view,
			Doc: "List a conversation's messages, oldest first", Op: handle(x, http.StatusOK, x.listChatMessages), Query: page},
		{Method: "POST", Pattern: "/api/v1/chat/conversations/{id}/messages", Side: p, Feature: chat, Level: update,
			Doc: "Answer: the first answer takes an unanswered conversation; another agent's conversation answers 409 naming the owner until overtake_from confirms",
			Op:  handle(x, http.StatusCreated, x.sendAgentMessage), Errors: sending},
		{Method: "POST", Pattern: "/api/v1/chat/conversations/{id}/attachments", Side: p, Feature: chat, Level: update,
			Doc: "Send a picture or a PDF (the body, with its Content-Type), under the same rules as a message", Op: handleUpload(x, http.StatusCreated, x.sendAgentAttachment),
			Errors: sending, Query: []queryParam{{Name: "name", Doc: "the file name"}, {Name: "text", Doc: "a caption"}, {Name: "client_id", Doc: "an idempotency key"},
				{Name: "overtake_from", Integer: true, Doc: "confirm taking the conversation over from this owner"}}},
		{Method: "POST", Pattern: "/api/v1/chat/conversations/{id}/take", Side: p, Feature: chat, Level: update,
			Doc: "Take a conversation without answering; another agent's answers 409 naming the owner until overtake_from confirms", Op: handle(x, http.StatusOK, x.takeConversation), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/chat/conversations/{id}/finish", Side: p, Feature: chat, Level: update,
			Doc: "Finish a conversation: its owner, or a role that manages chat", Op: handle(x, http.StatusOK, x.finishConversation), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/chat/conversations/{id}/read", Side: p, Feature: chat, Level: view,
			Doc: "Mark a conversation read up to a message", Op: handle(x, http.StatusNoContent, x.readConversation)},
		{Method: "GET", Pattern: "/api/v1/chat/conversations/{id}/history", Side: p, Feature: chat, Level: view,
			Doc: "The follower's engagement history with the partner: activity, points and level per program, followed channels", Op: handle(x, http.StatusOK, x.conversationHistory),
			Query: []queryParam{kind}},
		{Method: "GET", Pattern: "/api/v1/chat/conversations/{id}/engagements", Side: p, Feature: chat, Level: update,
			Doc: "The engagements available to the conversation's follower, to send as a card", Op: handle(x, http.StatusOK, x.availableEngagements),
			Query: []queryParam{kind}},
		{Method: "GET", Pattern: "/api/v1/chat/attachments/{id}", Side: p, Feature: chat, Level: view,
			Doc: "Download an attachment of one of the partner's conversations", Op: handleDownload(x, x.agentAttachment)},

		// The follower's side.
		{Method: "GET", Pattern: "/api/v1/follower/conversations", Side: f,
			Doc: "The follower's conversations, newest first, with unread counts", Op: handle(x, http.StatusOK, x.myConversations)},
		{Method: "GET", Pattern: "/api/v1/follower/channels/{id}/conversation", Side: f,
			Doc: "The follower's conversation with a channel; 404 until they write the first message", Op: handle(x, http.StatusOK, x.channelConversation)},
		{Method: "POST", Pattern: "/api/v1/follower/channels/{id}/chat", Side: f,
			Doc: "Write to a followed channel whose chat is on: starts the conversation, or reopens a finished one", Op: handle(x, http.StatusCreated, x.followerSend), Errors: sending},
		{Method: "POST", Pattern: "/api/v1/follower/channels/{id}/chat/attachments", Side: f,
			Doc: "Send a picture or a PDF (the body, with its Content-Type) to a channel", Op: handleUpload(x, http.StatusCreated, x.followerSendAttachment),
			Errors: sending, Query: []queryParam{{Name: "name", Doc: "the file name"}, {Name: "client_id", Doc: "an idempotency key"}}},
		{Method: "GET", Pattern: "/api/v1/follower/conversations/{id}/messages", Side: f,
			Doc: "List a conversation's messages, oldest first", Op: handle(x, http.StatusOK, x.myChatMessages), Query: page},
		{Method: "POST", Pattern: "/api/v1/follower/conversations/{id}/read", Side: f,
			Doc: "Mark a conversation read up to a message", Op: handle(x, http.StatusNoContent, x.myConversationRead)},
		{Method: "POST", Pattern: "/api/v1/follower/conversations/{id}/cards/{seq}/act", Side: f,
			Doc: "Act on an engagement card: enable the coupon, join the program or open the message", Op: handle(x, http.StatusOK, x.actOnCard), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/follower/attachments/{id}", Side: f,
			Doc: "Download an attachment of one of the follower's conversations", Op: handleDownload(x, x.followerAttachment)},
	}
	// Canned responses: the partner's own (agents list them with the chat),
	// and the tenant's defaults, which every partner's agents can insert.
	table = append(table, x.cannedTable("/api/v1", "", p, chat, canned, "the partner's own, then the platform's defaults", "one of the partner's categories")...)
	return append(table, x.cannedTable("/api/v1/tenant", "tenant", httpx.Tenant, regulars.FeatureTenantCanned, regulars.FeatureTenantCanned,
		"the platform's defaults, which every partner's agents can insert", "one of the platform's default categories")...)
}

// cannedTable is the canned-response management of one side; the app
// scopes each call to the caller's partner, or to the tenant's defaults.
// ids prefixes the operation ids of a second side's copy.
func (x *API) cannedTable(prefix, ids string, side httpx.Side, list, f regulars.Feature, listed, into string) []endpoint {
	table := []endpoint{
		{Method: "GET", Pattern: prefix + "/canned-responses", Side: side, Feature: list, Level: regulars.LevelView,
			Doc: "The canned responses by category: " + listed, Op: handle(x, http.StatusOK, x.listCanned)},
		{Method: "POST", Pattern: prefix + "/canned-responses", Side: side, Feature: f, Level: regulars.LevelManage,
			Doc: "Add a canned response to " + into, Op: handle(x, http.StatusCreated, x.createCanned)},
		{Method: "PATCH", Pattern: prefix + "/canned-responses/{id}", Side: side, Feature: f, Level: regulars.LevelUpdate,
			Doc: "Change a canned response", Op: handle(x, http.StatusOK, x.updateCanned)},
		{Method: "DELETE", Pattern: prefix + "/canned-responses/{id}", Side: side, Feature: f, Level: regulars.LevelManage,
			Doc: "Delete a canned response", Op: handle(x, http.StatusNoContent, x.deleteCanned)},
		{Method: "POST", Pattern: prefix + "/canned-categories", Side: side, Feature: f, Level: regulars.LevelManage,
			Doc: "Add a category of canned responses", Op: handle(x, http.StatusCreated, x.createCannedCategory)},
		{Method: "PATCH", Pattern: prefix + "/canned-categories/{id}", Side: side, Feature: f, Level: regulars.LevelUpdate,
			Doc: "Rename a category", Op: handle(x, http.StatusOK, x.renameCannedCategory)},
		{Method: "DELETE", Pattern: prefix + "/canned-categories/{id}", Side: side, Feature: f, Level: regulars.LevelManage,
			Doc: "Delete an empty category; one with responses answers 409", Op: handle(x, http.StatusNoContent, x.deleteCannedCategory), Errors: []int{http.StatusConflict}},
	}
	if ids != "" {
		for i := range table {
			name := table[i].Op.name
			table[i].Op.name = ids + strings.ToUpper(name[:1]) + name[1:]
		}
	}
	return table
}

// queryNumber reads an optional whole-number query parameter; anything
// else is a bad request (queryInt forgives).
func queryNumber(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		e := badRequest("Query parameter %s must be a whole number.", name)
		e.Fields = map[string]string{name: "Must be a whole number."}
		return 0, e
	}
	return n, nil
}

func chatPage(r *http.Request) (app.ChatPage, error) {
	var p app.ChatPage
	var err error
	if p.AfterSeq, err = queryNumber(r, "after"); err != nil {
		return p, err
	}
	p.CatchUp = r.URL.Query().Has("after")
	if p.BeforeSeq, err = queryNumber(r, "before"); err != nil {
		return p, err
	}
	limit, err := queryNumber(r, "limit")
	if err != nil {
		return p, err
	}
	most := int64(maxPageBack)
	if p.CatchUp {
		most = maxCatchUp
	}
	if limit == 0 {
		limit = 100
		if p.CatchUp {
			limit = most
		}
	}
	// One more than asked for says whether there are more.
	p.Limit = int(min(limit, most)) + 1
	return p, nil
}

// The most messages one page of the REST routes holds.
const (
	maxCatchUp  = 1000
	maxPageBack = 500
)

// messagePage trims the extra message chatPage asked for: the messages
// to return, and whether there are more (after them when catching up,
// before them when paging back).
func messagePage(msgs []*regulars.ChatMessage, p app.ChatPage) ([]*regulars.ChatMessage, bool) {
	if len(msgs) < p.Limit {
		return msgs, false
	}
	if p.CatchUp || p.AfterSeq > 0 {
		return msgs[:p.Limit-1], true
	}
	return msgs[1:], true // the newest page, oldest first: the extra one is the oldest
}

func messagesOut(msgs []*regulars.ChatMessage, cards map[int64]*regulars.Engagement, forStaff bool) ChatMessageList {
	out := ChatMessageList{Items: make([]ChatMessage, len(msgs))}
	for i, m := range msgs {
		out.Items[i] = MessageOut(m, cards[m.EngagementID], forStaff)
	}
	return out
}

func (x *API) listConversations(r *http.Request, _ noBody) (ConversationList, error) {
	ctx, actor := r.Context(), actorOf(r)
	q := app.ConversationQuery{Tab: r.URL.Query().Get("tab"), Search: r.URL.Query().Get("q")}
	before, err := queryNumber(r, "before")
	if err != nil {
		return ConversationList{}, err
	}
	if before > 0 {
		if q.Before, err = x.app.Conversation(ctx, actor, before); err != nil {
			return ConversationList{}, err
		}
	}
	list, counts, err := x.app.Conversations(ctx, actor, q)
	if err != nil {
		return ConversationList{}, err
	}
	out := ConversationList{Items: make([]Conversation, len(list)), Counts: &ConversationCounts{Unanswered: counts.Unanswered, Mine: counts.Mine, Active: counts.Active}}
	for i, c := range list {
		out.Items[i] = ConversationOut(c, true)
	}
	return out, nil
}

func (x *API) getConversation(r *http.Request, _ noBody) (Conversation, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return Conversation{}, err
	}
	c, err := x.app.Conversation(r.Context(), actorOf(r), id)
	if err != nil {
		return Conversation{}, err
	}
	return ConversationOut(c, true), nil
}

func (x *API) listChatMessages(r *http.Request, _ noBody) (ChatMessageList, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return ChatMessageList{}, err
	}
	p, err := chatPage(r)
	if err != nil {
		return ChatMessageList{}, err
	}
	actor := actorOf(r)
	msgs, err := x.app.ChatMessages(r.Context(), actor, id, p)
	if err != nil {
		return ChatMessageList{}, err
	}
	msgs, more := messagePage(msgs, p)
	cards, err := x.app.MessageCards(r.Context(), actor.User.TenantID, msgs)
	if err != nil {
		return ChatMessageList{}, err
	}
	out := messagesOut(msgs, cards, true)
	out.More = more
	return out, nil
}

func (x *API) sent(r *http.Request, actor *app.Actor, m *regulars.ChatMessage) (Sent, error) {
	c, err := x.app.Conversation(r.Context(), actor, m.ConversationID)
	if err != nil {
		return Sent{}, err
	}
	cards, err := x.app.MessageCards(r.Context(), actor.User.TenantID, []*regulars.ChatMessage{m})
	if err != nil {
		return Sent{}, err
	}
	return Sent{Conversation: ConversationOut(c, true), Message: MessageOut(m, cards[m.EngagementID], true)}, nil
}

func (x *API) sendAgentMessage(r *http.Request, in AgentMessageSend) (Sent, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return Sent{}, err
	}
	actor := actorOf(r)
	if _, old, err := x.app.AllowAgentSend(r.Context(), actor, id, in.ClientID); err != nil || old != nil {
		if err != nil {
			return Sent{}, err
		}
		return x.sent(r, actor, old)
	}
	m, err := x.app.SendAgentMessage(r.Context(), actor, id, app.AgentMessage{Text: in.Text, EngagementID: in.EngagementID, ClientID: in.ClientID, OvertakeFrom: in.OvertakeFrom})
	if err != nil {
		return Sent{}, err
	}
	return x.sent(r, actor, m)
}

func (x *API) sendAgentAttachment(r *http.Request, body io.Reader) (Sent, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return Sent{}, err
	}
	overtake, err := queryNumber(r, "overtake_from")
	if err != nil {
		return Sent{}, err
	}
	q, actor := r.URL.Query(), actorOf(r)
	if _, old, err := x.app.AllowAgentSend(r.Context(), actor, id, q.Get("client_id")); err != nil || old != nil {
		if err != nil {
			return Sent{}, err
		}
		return x.sent(r, actor, old)
	}
	m, err := x.app.SendAgentAttachment(r.Context(), actor, id, app.Upload{Name: q.Get("name"), Body: body},
		app.AgentMessage{Text: q.Get("text"), ClientID: q.Get("client_id"), OvertakeFrom: overtake})
	if err != nil {
		return Sent{}, err
	}
	return x.sent(r, actor, m)
}

func (x *API) takeConversation(r *http.Request, in Take) (Conversation, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return Conversation{}, err
	}
	c, err := x.app.TakeConversation(r.Context(), actorOf(r), id, in.OvertakeFrom)
	if err != nil {
		return Conversation{}, err
	}
	return ConversationOut(c, true), nil
}

func (x *API) finishConversation(r *http.Request, _ noBody) (Conversation, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return Conversation{}, err
	}
	c, err := x.app.FinishConversation(r.Context(), actorOf(r), id)
	if err != nil {
		return Conversation{}, err
	}
	return ConversationOut(c, true), nil
}

func (x *API) readConversation(r *http.Request, in ReadUpTo) (noBody, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.MarkConversationRead(r.Context(), actorOf(r), id, in.Seq)
}

func (x *API) conversationHistory(r *http.Request, _ noBody) (FollowerHistory, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return FollowerHistory{}, err
	}
	p, err := x.app.ConversationPanel(r.Context(), actorOf(r), id, r.URL.Query().Get("kind"))
	if err != nil {
		return FollowerHistory{}, err
	}
	return historyOut(p), nil
}

func (x *API) availableEngagements(r *http.Request, _ noBody) (EngagementCardList, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return EngagementCardList{}, err
	}
	list, enabled, err := x.app.AvailableEngagements(r.Context(), actorOf(r), id, r.URL.Query().Get("kind"))
	if err != nil {
		return EngagementCardList{}, err
	}
	out := EngagementCardList{Items: make([]EngagementCard, len(list))}
	for i, e := range list {
		out.Items[i] = *EngagementCardOut(e)
		out.Items[i].Done = enabled[e.ID]
	}
	return out, nil
}

func (x *API) agentAttachment(r *http.Request) (*File, error) {
	id, err := pathID(r, "attachment")
	if err != nil {
		return nil, err
	}
	att, f, err := x.app.AgentAttachment(r.Context(), actorOf(r), id)
	if err != nil {
		return nil, err
	}
	return &File{Name: att.Name, ContentType: att.ContentType, ModTime: att.CreatedAt, Body: f}, nil
}

func (x *API) listCanned(r *http.Request, _ noBody) (CannedList, error) {
	cats, err := x.app.CannedResponses(r.Context(), actorOf(r))
	if err != nil {
		return CannedList{}, err
	}
	out := CannedList{Items: make([]CannedCategory, len(cats))}
	for i, c := range cats {
		cc := CannedCategory{ID: c.ID, Name: c.Name, Default: c.PartnerID == 0, Responses: make([]CannedResponse, len(c.Responses))}
		for j, r := range c.Responses {
			cc.Responses[j] = cannedOut(r)
		}
		out.Items[i] = cc
	}
	return out, nil
}

func (x *API) createCanned(r *http.Request, in CannedInput) (CannedResponse, error) {
	c, err := x.app.CreateCanned(r.Context(), actorOf(r), app.CannedInput{CategoryID: in.CategoryID, Title: in.Title, Text: in.Text})
	if err != nil {
		return CannedResponse{}, err
	}
	return cannedOut(c), nil
}

func (x *API) updateCanned(r *http.Request, in CannedUpdate) (CannedResponse, error) {
	id, err := pathID(r, "canned response")
	if err != nil {
		return CannedResponse{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	c, err := x.app.Canned(ctx, actor, id)
	if err != nil {
		return CannedResponse{}, err
	}
	change := app.CannedInput{CategoryID: c.CategoryID, Title: c.Title, Text: c.Text}
	set(&change.CategoryID, in.CategoryID)
	set(&change.Title, in.Title)
	set(&change.Text, in.Text)
	if c, err = x.app.UpdateCanned(ctx, actor, id, change); err != nil {
		return CannedResponse{}, err
	}
	return cannedOut(c), nil
}

func (x *API) deleteCanned(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "canned response")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteCanned(r.Context(), actorOf(r), id)
}

func (x *API) createCannedCategory(r *http.Request, in CannedCategoryInput) (CannedCategory, error) {
	c, err := x.app.CreateCannedCategory(r.Context(), actorOf(r), in.Name)
	if err != nil {
		return CannedCategory{}, err
	}
	return CannedCategory{ID: c.ID, Name: c.Name, Default: c.PartnerID == 0, Responses: []CannedResponse{}}, nil
}

func (x *API) renameCannedCategory(r *http.Request, in CannedCategoryInput) (CannedCategory, error) {
	id, err := pathID(r, "category")
	if err != nil {
		return CannedCategory{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	c, err := x.app.RenameCannedCategory(ctx, actor, id, in.Name)
	if err != nil {
		return CannedCategory{}, err
	}
	out := CannedCategory{ID: c.ID, Name: c.Name, Default: c.PartnerID == 0, Responses: []CannedResponse{}}
	cats, err := x.app.CannedResponses(ctx, actor)
	for _, cat := range cats {
		if cat.ID == c.ID {
			for _, r := range cat.Responses {
				out.Responses = append(out.Responses, cannedOut(r))
			}
		}
	}
	return out, err
}

func (x *API) deleteCannedCategory(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "category")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteCannedCategory(r.Context(), actorOf(r), id)
}

// ---------------------------------------------------------------- follower

func (x *API) myConversations(r *http.Request, _ noBody) (ConversationList, error) {
	list, err := x.app.FollowerConversations(r.Context(), followerOf(r))
	if err != nil {
		return ConversationList{}, err
	}
	out := ConversationList{Items: make([]Conversation, len(list))}
	for i, c := range list {
		out.Items[i] = ConversationOut(c, false)
	}
	return out, nil
}

func (x *API) channelConversation(r *http.Request, _ noBody) (Conversation, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return Conversation{}, err
	}
	ctx, fa := r.Context(), followerOf(r)
	ch, err := x.app.DB.TenantChannel(ctx, fa.Tenant.ID, id)
	if err != nil {
		return Conversation{}, err
	}
	c, err := x.app.DB.ConversationOf(ctx, ch.ID, fa.Follower.ID)
	if err != nil || c.LastSeq == 0 {
		return Conversation{}, regulars.ErrNotFound("conversation")
	}
	if c.Unread, err = x.app.DB.FollowerUnread(ctx, c.ID, c.FollowerReadSeq); err != nil {
		return Conversation{}, err
	}
	return ConversationOut(c, false), nil
}

func (x *API) followerSent(r *http.Request, c *regulars.Conversation, m *regulars.ChatMessage) Sent {
	return Sent{Conversation: ConversationOut(c, false), Message: MessageOut(m, nil, false)}
}

func (x *API) followerSend(r *http.Request, in FollowerMessageSend) (Sent, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return Sent{}, err
	}
	if c, old, err := x.app.AllowFollowerSend(r.Context(), followerOf(r), id, 0, in.ClientID); err != nil || old != nil {
		if err != nil {
			return Sent{}, err
		}
		return x.followerSent(r, c, old), nil
	}
	c, m, err := x.app.FollowerSend(r.Context(), followerOf(r), id, app.FollowerMessage{Text: in.Text, ClientID: in.ClientID})
	if err != nil {
		return Sent{}, err
	}
	return x.followerSent(r, c, m), nil
}

func (x *API) followerSendAttachment(r *http.Request, body io.Reader) (Sent, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return Sent{}, err
	}
	q := r.URL.Query()
	if c, old, err := x.app.AllowFollowerSend(r.Context(), followerOf(r), id, 0, q.Get("client_id")); err != nil || old != nil {
		if err != nil {
			return Sent{}, err
		}
		return x.followerSent(r, c, old), nil
	}
	c, m, err := x.app.FollowerSendAttachment(r.Context(), followerOf(r), id, app.Upload{Name: q.Get("name"), Body: body}, q.Get("client_id"))
	if err != nil {
		return Sent{}, err
	}
	return x.followerSent(r, c, m), nil
}

func (x *API) myChatMessages(r *http.Request, _ noBody) (ChatMessageList, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return ChatMessageList{}, err
	}
	p, err := chatPage(r)
	if err != nil {
		return ChatMessageList{}, err
	}
	fa := followerOf(r)
	msgs, err := x.app.FollowerChatMessages(r.Context(), fa, id, p)
	if err != nil {
		return ChatMessageList{}, err
	}
	msgs, more := messagePage(msgs, p)
	cards, err := x.app.MessageCards(r.Context(), fa.Tenant.ID, msgs)
	if err != nil {
		return ChatMessageList{}, err
	}
	done, err := x.app.CardsDone(r.Context(), fa.Follower.ID, id, cards)
	if err != nil {
		return ChatMessageList{}, err
	}
	out := messagesOut(msgs, cards, false)
	out.More = more
	MarkCardsDone(out.Items, done)
	return out, nil
}

func (x *API) myConversationRead(r *http.Request, in ReadUpTo) (noBody, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.FollowerRead(r.Context(), followerOf(r), id, in.Seq)
}

func (x *API) actOnCard(r *http.Request, _ noBody) (CardResult, error) {
	id, err := pathID(r, "conversation")
	if err != nil {
		return CardResult{}, err
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq <= 0 {
		return CardResult{}, regulars.ErrNotFound("engagement card")
	}
	done, err := x.app.ActOnCard(r.Context(), followerOf(r), id, seq)
	if err != nil {
		return CardResult{}, err
	}
	out := CardResult{Engagement: *EngagementCardOut(done.Engagement), MyActivation: activationOut(done.Activation)}
	if done.Membership != nil {
		out.MyMembership = membershipOut(done.Membership, done.Engagement)
	}
	return out, nil
}

func (x *API) followerAttachment(r *http.Request) (*File, error) {
	id, err := pathID(r, "attachment")
	if err != nil {
		return nil, err
	}
	att, f, err := x.app.FollowerAttachment(r.Context(), followerOf(r), id)
	if err != nil {
		return nil, err
	}
	return &File{Name: att.Name, ContentType: att.ContentType, ModTime: att.CreatedAt, Body: f}, nil
}
