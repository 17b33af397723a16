package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/httpx"
	"regulars/store"
)

// chatRoutes are the agents' chat (list, thread, history panel, sending
// engagements and files) and the canned responses in settings. With
// JavaScript, sending and live updates go over the WebSocket (see
// static/js/chat.js); every page and form also works without it.
func (h *Handler) chatRoutes() []httpx.Route {
	const (
		view   = regulars.LevelView
		update = regulars.LevelUpdate
	)
	r := func(method, pattern string, f regulars.Feature, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Side: httpx.Partner, Feature: f, Level: l, Handler: fn}
	}
	chat, canned := regulars.FeatureChat, regulars.FeatureCanned
	routes := []httpx.Route{
		r("GET", "/admin/chat", chat, view, h.chat),
		r("GET", "/admin/chat/{id}", chat, view, h.chat),
		r("POST", "/admin/chat/{id}/messages", chat, update, h.chatSend),
		r("POST", "/admin/chat/{id}/take", chat, update, h.chatTake),
		r("POST", "/admin/chat/{id}/finish", chat, update, h.chatFinish),
		r("POST", "/admin/chat/{id}/attachments", chat, update, h.chatAttach),
		r("GET", "/admin/chat/{id}/history", chat, view, h.chatHistory),
		r("GET", "/admin/chat/{id}/engagements", chat, update, h.chatEngagements),
		r("GET", "/admin/chat-files/{id}", chat, view, h.chatAttachment),
	}
	routes = append(routes, h.cannedRoutes("/admin", httpx.Partner, canned)...)
	return append(routes, h.cannedRoutes("/tenant", httpx.Tenant, regulars.FeatureTenantCanned)...)
}

// cannedRoutes are the canned-response settings: a partner's own under
// /admin, the tenant's defaults under /tenant (the same handlers).
func (h *Handler) cannedRoutes(prefix string, side httpx.Side, f regulars.Feature) []httpx.Route {
	r := featureRoutes(prefix, side, f)
	return []httpx.Route{
		r("GET", "/canned", regulars.LevelView, h.canned),
		r("POST", "/canned", regulars.LevelManage, h.createCanned),
		r("GET", "/canned/{id}", regulars.LevelView, h.editCanned),
		r("POST", "/canned/{id}", regulars.LevelUpdate, h.updateCanned),
		r("POST", "/canned/{id}/delete", regulars.LevelManage, h.deleteCanned),
		r("POST", "/canned-categories", regulars.LevelManage, h.createCannedCategory),
		r("POST", "/canned-categories/{id}", regulars.LevelUpdate, h.renameCannedCategory),
		r("POST", "/canned-categories/{id}/delete", regulars.LevelManage, h.deleteCannedCategory),
	}
}

// chatTabs are the agent's tabs, in order.
var chatTabs = []struct{ Key, Label string }{
	{app.TabUnanswered, "Unanswered"}, {app.TabMine, "Mine"}, {app.TabActive, "All active"}, {app.TabFinished, "Finished"},
}

// chatListLimit is how many conversations a tab lists; a search finds
// older ones.
const chatListLimit = 100

// tabMatches is how many conversations of a tab match a search.
type tabMatches struct {
	Key, Label string
	N          int
}

// chatData is what the chat page shows.
type chatData struct {
	Tab, Q   string
	Tabs     []struct{ Key, Label string }
	Counts   store.ConversationCounts
	List     []*regulars.Conversation
	Conv     *regulars.Conversation
	Messages []*regulars.ChatMessage
	Earlier  int64 // seq of the oldest message shown, when there are older ones
	// Older is set on a page of earlier messages (?before=): newer ones
	// follow it, so live messages must not be added under it.
	Older bool
	// Kept is the open conversation when it no longer belongs to the tab
	// (the agent took or finished it): its row stays in the list until the
	// agent leaves it, saying where it went (KeptIn).
	Kept   *regulars.Conversation
	KeptIn string
	// Elsewhere says, when a search finds nothing in the tab, which other
	// tabs hold matches and how many.
	Elsewhere []tabMatches
	// More is set (to the list's length) when the tab holds more
	// conversations than the list shows.
	More    int
	Cards   map[int64]*regulars.Engagement
	Channel *regulars.Channel
	Panel   *app.FollowerPanel
	Kind    string // history filter
	Kinds   []string
	Canned  []*regulars.CannedCategory
	// CannedJSON feeds the composer's "/" shortcut.
	CannedJSON template.JS
	CanAnswer  bool
	CanFinish  bool
	// MaxAttachment (bytes) and TooLarge (the server's refusal) let the
	// composer refuse a file that is too large before uploading it.
	MaxAttachment int64
	TooLarge      string
	// Conflict asks the agent to confirm taking over from the owner; its
	// form sends again what was refused: the Draft, the card
	// (RetryCard, an engagement's ID) or a file (RetryFile: the file must
	// be chosen again).
	Conflict  *app.OwnerConflict
	Draft     string
	RetryCard int64
	RetryFile bool
	// LastBy names the agent who wrote a listed conversation's newest
	// message ("You" for the reader): the conversation keeps only that an
	// agent wrote it.
	LastBy map[int64]string
}

// chatQuery keeps the list's tab and search across links.
func (d *chatData) ListQuery() string {
	v := url.Values{}
	if d.Tab != "" && d.Tab != app.TabUnanswered {
		v.Set("tab", d.Tab)
	}
	if d.Q != "" {
		v.Set("q", d.Q)
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// Count returns the size of a tab ("" for finished, which is not counted).
func (d *chatData) Count(tab string) string {
	switch tab {
	case app.TabUnanswered:
		return strconv.FormatInt(d.Counts.Unanswered, 10)
	case app.TabMine:
		return strconv.FormatInt(d.Counts.Mine, 10)
	case app.TabActive:
		return strconv.FormatInt(d.Counts.Active, 10)
	}
	return ""
}

// chatPage renders the list and, with d.Conv, the thread; flash may carry
// the reason an action was refused.
func (h *Handler) chatPage(w http.ResponseWriter, r *http.Request, status int, d *chatData, flash *Flash) {
	a := actorFrom(r.Context())
	ctx := r.Context()
	q := r.URL.Query()
	d.Tab, d.Q, d.Tabs, d.Kinds = q.Get("tab"), strings.TrimSpace(q.Get("q")), chatTabs, app.HistoryKinds
	if d.Tab == "" {
		d.Tab = app.TabUnanswered
		if d.Conv != nil && d.Conv.Status != regulars.ConversationUnanswered {
			d.Tab = app.TabActive
			if d.Conv.Status == regulars.ConversationFinished {
				d.Tab = app.TabFinished
			} else if d.Conv.OwnerID == a.User.ID {
				d.Tab = app.TabMine
			}
		}
	}
	var err error
	if d.List, d.Counts, err = h.app.Conversations(ctx, a, app.ConversationQuery{Tab: d.Tab, Search: d.Q, Limit: chatListLimit + 1}); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	if len(d.List) > chatListLimit {
		d.List, d.More = d.List[:chatListLimit], chatListLimit
	}
	if d.Q != "" && len(d.List) == 0 {
		n, err := h.app.SearchTabs(ctx, a, d.Q)
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		for _, t := range chatTabs {
			if t.Key != d.Tab && n[t.Key] > 0 {
				d.Elsewhere = append(d.Elsewhere, tabMatches{Key: t.Key, Label: t.Label, N: n[t.Key]})
			}
		}
	}
	if d.Conv != nil {
		d.keep(a)
	}
	shown := d.List
	if d.Kept != nil {
		shown = append([]*regulars.Conversation{d.Kept}, d.List...)
	}
	d.LastBy = h.lastWriters(r, a, shown)
	d.CanAnswer = a.Can(regulars.FeatureChat, regulars.LevelUpdate)
	if r.Header.Get("X-Fragment") == "list" {
		// The chat script refreshes the tabs and the list in place.
		h.fragment(w, r, "chat", "chat-list-body", &Page{Data: d})
		return
	}
	if d.Conv != nil {
		if err := h.loadThread(r, a, d); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
	}
	title := "Chat"
	if d.Conv != nil {
		title = followerName(d.Conv.FollowerName, d.Conv.FollowerEndUserID) + " · Chat"
	}
	h.render(w, r, status, "chat", &Page{Title: title, Active: "/admin/chat", Data: d, Flash: flash, Unanswered: d.Counts.Unanswered, counted: true})
}

// keep sets Kept when the open conversation is not in the tab because it
// moved to another one: answering an unanswered conversation would
// otherwise make its row vanish from beside the thread. A conversation
// that is in the tab but does not match the search is not kept.
func (d *chatData) keep(a *app.Actor) {
	c := d.Conv
	tab := app.TabOf(c, a.User.ID)
	if tab == d.Tab || (d.Tab == app.TabActive && tab == app.TabMine) {
		return
	}
	for _, t := range chatTabs {
		if t.Key == tab {
			d.Kept, d.KeptIn = c, t.Label
		}
	}
}

// lastWriters names who wrote the newest message of the listed
// conversations an agent answered last: "You" for the reader, else the
// agent's first name. A row whose writer is not known gets no name
// rather than a wrong one.
func (h *Handler) lastWriters(r *http.Request, a *app.Actor, list []*regulars.Conversation) map[int64]string {
	ids := make([]int64, 0, len(list))
	for _, c := range list {
		if c.LastAuthor == regulars.AuthorAgent {
			ids = append(ids, c.ID)
		}
	}
	by := map[int64]string{}
	writers, err := h.app.DB.LastWriters(r.Context(), ids)
	if err != nil {
		h.log.Warn("chat list: last writers", "err", err)
		return by
	}
	for id, w := range writers {
		switch {
		case w.UserID == a.User.ID:
			by[id] = "You"
		case strings.TrimSpace(w.Name) != "":
			by[id] = strings.Fields(w.Name)[0]
		}
	}
	return by
}

func (h *Handler) loadThread(r *http.Request, a *app.Actor, d *chatData) error {
	ctx := r.Context()
	c := d.Conv
	before, err := h.threadMessages(r, a, d)
	if err != nil {
		return err
	}
	d.Older = before > 0 && before <= c.LastSeq
	d.MaxAttachment, d.TooLarge = h.app.MaxAttachment(), regulars.ErrorMessage(h.app.AttachmentTooLarge())
	if d.Channel, err = h.app.DB.Channel(ctx, a.PartnerID(), c.ChannelID); err != nil {
		return err
	}
	d.Kind = r.URL.Query().Get("kind")
	if d.Panel, err = h.app.ConversationPanel(ctx, a, c.ID, d.Kind); err != nil {
		if regulars.ErrorCode(err) != regulars.EINVALID {
			return err
		}
		d.Kind = ""
		if d.Panel, err = h.app.ConversationPanel(ctx, a, c.ID, ""); err != nil {
			return err
		}
	}
	if d.Canned, err = h.app.CannedResponses(ctx, a); err != nil {
		return err
	}
	type item struct {
		Title    string `json:"title"`
		Text     string `json:"text"`
		Category string `json:"category"`
	}
	items := []item{}
	for _, cat := range d.Canned {
		for _, r := range cat.Responses {
			items = append(items, item{Title: r.Title, Text: r.Text, Category: cat.Name})
		}
	}
	b, _ := json.Marshal(items)
	d.CannedJSON = template.JS(b)
	d.CanFinish = d.CanAnswer && c.Status != regulars.ConversationFinished &&
		(c.OwnerID == a.User.ID || a.Can(regulars.FeatureChat, regulars.LevelManage))
	if !h.noRead(r) && c.LastSeq > c.ReadSeq {
		if err := h.app.MarkConversationRead(ctx, a, c.ID, c.LastSeq); err != nil {
			return err
		}
		// The list was read before: its row of this conversation must
		// not count as unread what the agent is reading now.
		c.Unread = 0
		for _, l := range d.List {
			if l.ID == c.ID {
				l.Unread = 0
			}
		}
	}
	return nil
}

// noRead is set on pages re-rendered after a failed form: they do not
// count as reading.
func (h *Handler) noRead(r *http.Request) bool { return r.Method != http.MethodGet }

func (h *Handler) chatConv(w http.ResponseWriter, r *http.Request) *regulars.Conversation {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return nil
	}
	c, err := h.app.Conversation(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return nil
	}
	return c
}

func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	d := &chatData{}
	if r.PathValue("id") != "" {
		if d.Conv = h.chatConv(w, r); d.Conv == nil {
			return
		}
		if r.Header.Get("X-Fragment") == "earlier" {
			h.chatEarlier(w, r, d)
			return
		}
	}
	h.chatPage(w, r, http.StatusOK, d, nil)
}

// chatEarlier is a page of messages before ?before= alone, for the chat
// script to put above the ones shown.
func (h *Handler) chatEarlier(w http.ResponseWriter, r *http.Request, d *chatData) {
	if _, err := h.threadMessages(r, actorFrom(r.Context()), d); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.fragment(w, r, "chat", "messages-page", &Page{Data: d})
}

// threadMessages loads the page of d.Conv's messages the request asks
// for (the newest 200, or those before ?before=) and their cards; it
// returns the before it read.
func (h *Handler) threadMessages(r *http.Request, a *app.Actor, d *chatData) (int64, error) {
	ctx := r.Context()
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	msgs, err := h.app.ChatMessages(ctx, a, d.Conv.ID, app.ChatPage{BeforeSeq: before, Limit: 200})
	if err != nil {
		return 0, err
	}
	d.Messages = msgs
	if len(msgs) > 0 && msgs[0].Seq > 1 {
		d.Earlier = msgs[0].Seq
	}
	d.Cards, err = h.app.MessageCards(ctx, a.User.TenantID, msgs)
	return before, err
}

// chatRefused re-renders the thread after a refused action: a conflict
// with another owner asks to confirm the overtake; other refusals show
// their reason.
func (h *Handler) chatRefused(w http.ResponseWriter, r *http.Request, c *regulars.Conversation, err error) {
	var e *regulars.Error
	if errors.As(err, &e) {
		if oc, ok := e.Detail.(app.OwnerConflict); ok {
			h.chatPage(w, r, http.StatusConflict, &chatData{Conv: c, Conflict: &oc, Draft: r.PostFormValue("text"),
				RetryCard: formInt(r, "engagement_id"), RetryFile: strings.HasSuffix(r.URL.Path, "/attachments")}, nil)
			return
		}
	}
	if code := regulars.ErrorCode(err); code == regulars.EINVALID || code == regulars.ECONFLICT || code == regulars.ELIMIT || code == regulars.EFORBIDDEN {
		flash := &Flash{Kind: "error", Text: regulars.ErrorMessage(err)}
		for _, msg := range regulars.FieldErrors(err) {
			flash.Text = msg
		}
		h.chatPage(w, r, statusOf(code), &chatData{Conv: c, Draft: r.PostFormValue("text")}, flash)
		return
	}
	h.fail(w, r, err, "", nil)
}

func (h *Handler) chatBack(w http.ResponseWriter, r *http.Request, c *regulars.Conversation) {
	h.redirect(w, r, "/admin/chat/"+strconv.FormatInt(c.ID, 10)+"#composer", "", "")
}

func (h *Handler) chatSend(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	in := app.AgentMessage{Text: r.PostFormValue("text"), ClientID: r.PostFormValue("client_id"),
		OvertakeFrom: formInt(r, "overtake_from"), EngagementID: formInt(r, "engagement_id")}
	if _, err := h.app.SendAgentMessage(r.Context(), actorFrom(r.Context()), c.ID, in); err != nil {
		h.chatRefused(w, r, c, err)
		return
	}
	h.chatBack(w, r, c)
}

func (h *Handler) chatTake(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	if _, err := h.app.TakeConversation(r.Context(), actorFrom(r.Context()), c.ID, formInt(r, "overtake_from")); err != nil {
		h.chatRefused(w, r, c, err)
		return
	}
	h.chatBack(w, r, c)
}

func (h *Handler) chatFinish(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	if _, err := h.app.FinishConversation(r.Context(), actorFrom(r.Context()), c.ID); err != nil {
		h.chatRefused(w, r, c, err)
		return
	}
	// The agent stays in the tab (and search) they worked in; the finished
	// conversation's row stays there too, saying where it went.
	back := url.Values{}
	for _, t := range chatTabs {
		if t.Key == r.PostFormValue("tab") {
			back.Set("tab", t.Key)
		}
	}
	if q := strings.TrimSpace(r.PostFormValue("q")); q != "" {
		back.Set("q", q)
	}
	to := "/admin/chat/" + strconv.FormatInt(c.ID, 10)
	if len(back) > 0 {
		to += "?" + back.Encode()
	}
	h.redirect(w, r, to, "success", "The conversation is finished. A new message from the follower reopens it.")
}

// chatAttach receives a file (multipart field "file"). The composer's
// script asks for JSON (Accept: application/json) to handle the owner
// warning itself; a plain form gets the page.
func (h *Handler) chatAttach(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	wantJSON := strings.Contains(r.Header.Get("Accept"), "application/json")
	r.Body = http.MaxBytesReader(w, r.Body, h.app.MaxAttachment()+1<<20)
	var err error
	var m *regulars.ChatMessage
	file, header, ferr := r.FormFile("file")
	if ferr != nil {
		err = &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"file": "Choose a picture or a PDF to send."}}
		if errors.As(ferr, new(*http.MaxBytesError)) {
			err = h.app.AttachmentTooLarge()
		}
	} else {
		defer file.Close()
		m, err = h.app.SendAgentAttachment(r.Context(), actorFrom(r.Context()), c.ID, app.Upload{Name: header.Filename, Body: file},
			app.AgentMessage{Text: r.PostFormValue("text"), ClientID: r.PostFormValue("client_id"), OvertakeFrom: formInt(r, "overtake_from")})
	}
	if wantJSON {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			out := map[string]any{"code": regulars.ErrorCode(err), "detail": regulars.ErrorMessage(err), "fields": regulars.FieldErrors(err)}
			var e *regulars.Error
			if errors.As(err, &e) {
				if oc, ok := e.Detail.(app.OwnerConflict); ok {
					out["owner"] = api.UserRef{ID: oc.OwnerID, Name: oc.OwnerName}
				}
			}
			status := statusOf(regulars.ErrorCode(err))
			if status == http.StatusInternalServerError {
				h.log.Error("chat attachment", "err", err)
				out["detail"] = regulars.ErrorMessage(err)
			}
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(out)
			return
		}
		json.NewEncoder(w).Encode(api.MessageOut(m, nil, true))
		return
	}
	if err != nil {
		h.chatRefused(w, r, c, err)
		return
	}
	h.chatBack(w, r, c)
}

func (h *Handler) chatAttachment(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	att, f, err := h.app.AgentAttachment(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	defer f.Close()
	api.ServeFile(w, r, &api.File{Name: att.Name, ContentType: att.ContentType, ModTime: att.CreatedAt, Body: f})
}

// fragment renders one template of a page without the layout, for the
// chat script to put in place.
func (h *Handler) fragment(w http.ResponseWriter, r *http.Request, page, name string, p *Page) {
	p.Actor = actorFrom(r.Context())
	var buf bytes.Buffer
	if err := h.pages[page].ExecuteTemplate(&buf, name, p); err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// chatHistory is the history panel alone (the script filters it in place);
// without the script, the filter links reload the thread.
func (h *Handler) chatHistory(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	kind := r.URL.Query().Get("kind")
	panel, err := h.app.ConversationPanel(r.Context(), actorFrom(r.Context()), c.ID, kind)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.fragment(w, r, "chat", "history", &Page{Data: &chatData{Conv: c, Panel: panel, Kind: kind, Kinds: app.HistoryKinds}})
}

// chatEngagements lists what the agent may send to the follower: a page
// of its own, which the script shows in a dialog.
func (h *Handler) chatEngagements(w http.ResponseWriter, r *http.Request) {
	c := h.chatConv(w, r)
	if c == nil {
		return
	}
	kind := r.URL.Query().Get("kind")
	list, enabled, err := h.app.AvailableEngagements(r.Context(), actorFrom(r.Context()), c.ID, kind)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	p := &Page{Title: "Send an engagement", Active: "/admin/chat", Data: map[string]any{"Conv": c, "List": list, "Enabled": enabled, "Kind": kind, "Kinds": app.HistoryKinds}}
	if r.Header.Get("X-Fragment") != "" {
		h.fragment(w, r, "chat_engagements", "picker", p)
		return
	}
	h.render(w, r, http.StatusOK, "chat_engagements", p)
}

// followerName is what the agents' chat calls a follower: their name or,
// when they gave none (signing up asks for none), their end-user ID, as
// the app's system lines and typing frames do (app.firstName).
func followerName(name, endUserID string) string {
	if strings.TrimSpace(name) == "" {
		return endUserID
	}
	return name
}

// chatFuncs are the template functions of the chat pages.
var chatFuncs = template.FuncMap{
	"follower": followerName,
	// iso is the machine-readable time of a <time> element; the chat
	// script shows it in the reader's time zone.
	"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"clock": func(t time.Time) string { return t.UTC().Format("2 Jan 15:04") },
	// fileSize is matched by fileSize in static/js/chat.js, for files
	// sent live: both round halves up.
	"fileSize": func(n int64) string {
		switch {
		case n >= 1<<20:
			return strconv.FormatFloat(math.Round(float64(n)*10/(1<<20))/10, 'f', 1, 64) + " MB"
		case n >= 1<<10:
			return strconv.FormatInt(n>>10, 10) + " kB"
		}
		return strconv.FormatInt(n, 10) + " bytes"
	},
}
