package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/httpx"

	"github.com/coder/websocket"
)

// identity is who a connection acts for, as last checked.
type identity struct {
	staff    *app.Actor
	follower *app.FollowerActor
	secret   string // the session cookie's secret or the bearer token
	cookie   bool
	checked  time.Time
}

// conn is one WebSocket connection. Its handler goroutine reads and
// answers requests; pushed frames queue up and a writer goroutine, started
// only while there is something to write, sends them. An idle connection
// costs one goroutine.
type conn struct {
	hub    *Hub
	ws     *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	topics []string

	who      atomic.Pointer[identity]
	lastSeen atomic.Int64 // Unix nanoseconds of the last sign of life

	mu      sync.Mutex
	queue   [][]byte
	queued  int // bytes in queue
	writing bool
	holding bool // a request is being answered: its frames wait for its end
	closed  bool

	typedAt  map[int64]time.Time // read goroutine only
	requests httpx.Bucket        // read goroutine only: requests other than send and ping
}

func (c *conn) identity() *identity { return c.who.Load() }

func (c *conn) alive() { c.lastSeen.Store(time.Now().UnixNano()) }

// send queues a frame; a client too slow to take its frames is dropped
// and catches up after reconnecting.
func (c *conn) send(b []byte) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	if c.queued+len(b) > c.hub.opts.MaxQueued {
		c.mu.Unlock()
		c.close(CodeTooSlow, "Too many messages waiting: reconnect and catch up.")
		return
	}
	c.queue = append(c.queue, b)
	c.queued += len(b)
	if c.writing || c.holding {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	go c.writeLoop()
}

// maxCoalesced is the most bytes of queued frames joined into one
// WebSocket message (a larger frame goes alone).
const maxCoalesced = 16 << 10

// coalesceBuffers hold the frames joined into one message while a write
// loop runs: shared, since a connection coalesces only while frames pile
// up, and a buffer kept by every connection that once did would stay with
// it while it idles.
var coalesceBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, maxCoalesced)
	return &b
}}

// writeLoop writes the queued frames. Frames that waited together go out
// as one WebSocket message, one frame per line: one write instead of one
// per frame for an agent who receives every message of a busy partner.
func (c *conn) writeLoop() {
	var buf *[]byte
	defer func() {
		if buf != nil {
			coalesceBuffers.Put(buf)
		}
	}()
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue, c.queued = nil, 0
		if len(batch) == 0 || c.closed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		for len(batch) > 0 {
			msg, n := batch[0], 1
			if len(batch) > 1 && len(msg) < maxCoalesced {
				if buf == nil {
					buf = coalesceBuffers.Get().(*[]byte)
				}
				b := append((*buf)[:0], msg...)
				for n < len(batch) && len(b)+1+len(batch[n]) <= maxCoalesced {
					b = append(append(b, '\n'), batch[n]...)
					n++
				}
				*buf, msg = b, b
			}
			batch = batch[n:]
			if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
				cancel()
				c.close(websocket.StatusGoingAway, "")
				c.mu.Lock()
				c.writing = false
				c.mu.Unlock()
				return
			}
		}
		cancel()
	}
}

// close ends the connection with a code the client can act on.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.queue, c.queued = true, nil, 0
	c.mu.Unlock()
	go func() {
		c.ws.Close(code, reason)
		c.cancel()
	}()
}

func (c *conn) ping(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := c.ws.Ping(ctx); err != nil {
		c.close(websocket.StatusGoingAway, "No answer to ping.")
		return
	}
	c.alive()
}

// recheck signs the connection in again (the session or token may have
// ended, the role changed); it reports whether the connection may go on.
func (c *conn) recheck(ctx context.Context) bool {
	old := c.identity()
	who, err := c.hub.authenticate(ctx, old.secret, old.cookie)
	if err != nil {
		if app.ErrIsAuth(err) || regulars.ErrorCode(err) == regulars.EFORBIDDEN {
			c.close(CodeRevoked, regulars.ErrorMessage(err))
		}
		return false
	}
	c.who.Store(who)
	return true
}

// expire makes the next request re-check the sign-in (fresh).
func (c *conn) expire() {
	for {
		old := c.identity()
		if old == nil || old.checked.IsZero() {
			return
		}
		stale := *old
		stale.checked = time.Time{}
		if c.who.CompareAndSwap(old, &stale) {
			return
		}
	}
}

// fresh re-checks the sign-in before a request when the last check is
// older than Recheck.
func (c *conn) fresh() *identity {
	who := c.identity()
	if time.Since(who.checked) < c.hub.opts.Recheck {
		return who
	}
	if !c.recheck(c.ctx) {
		return nil
	}
	return c.identity()
}

// authenticate resolves a session secret (cookie) or a bearer token.
// Agents need a partner and a role that reads chat.
func (h *Hub) authenticate(ctx context.Context, secret string, cookie bool) (*identity, error) {
	who := &identity{secret: secret, cookie: cookie, checked: time.Now()}
	var err error
	switch {
	case cookie:
		who.staff, err = h.app.Authenticate(ctx, secret)
	case app.IsFollowerToken(secret):
		who.follower, err = h.app.AuthenticateFollower(ctx, secret)
	default:
		who.staff, err = h.app.AuthenticateToken(ctx, secret)
	}
	if err != nil {
		return nil, err
	}
	if who.staff != nil && (who.staff.Partner == nil || !who.staff.Can(regulars.FeatureChat, regulars.LevelView)) {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "Your role does not include the chat.")
	}
	return who, nil
}

// sameOrigin reports whether a browser opened the connection from this
// site: only then may the session cookie sign it in.
func (h *Hub) sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || slices.ContainsFunc(h.opts.Hosts, func(h string) bool { return strings.EqualFold(h, u.Host) })
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	var (
		who     *identity
		authErr error
	)
	if tok := r.URL.Query().Get("token"); tok != "" {
		who, authErr = h.authenticate(r.Context(), tok, false)
	} else if ck, err := r.Cookie(h.opts.SessionCookie); err == nil && ck.Value != "" && h.sameOrigin(r) {
		who, authErr = h.authenticate(r.Context(), ck.Value, true)
	}
	if authErr != nil && regulars.ErrorCode(authErr) == regulars.EINTERNAL {
		h.log.Error("realtime: signing a connection in", "err", authErr)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
		return
	}
	// The origin was checked above: a cookie counts only from this site,
	// and a token is proof enough from anywhere (apps, other front ends).
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	ws.SetReadLimit(64 << 10)
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{hub: h, ws: ws, ctx: ctx, cancel: cancel}
	c.alive()
	// The connection lives on in a goroutine of its own, started small:
	// the HTTP handler's goroutine, its stack grown by the request and the
	// sign-in, ends here.
	go c.run(who, authErr)
}

func (c *conn) run(who *identity, authErr error) {
	h := c.hub
	defer func() {
		h.remove(c)
		c.close(websocket.StatusNormalClosure, "")
	}()
	if authErr != nil {
		c.refuse(authErr)
		return
	}
	if who == nil {
		if who = c.awaitAuth(); who == nil {
			return
		}
	}
	c.who.Store(who)
	if who.staff != nil {
		c.topics = []string{app.PartnerTopic(who.staff.PartnerID()), app.UserTopic(who.staff.User.ID)}
	} else {
		c.topics = []string{app.FollowerTopic(who.follower.Follower.ID), app.FollowersTopic(who.follower.Tenant.ID)}
	}
	if !h.add(c) {
		c.close(websocket.StatusGoingAway, "The server is restarting: reconnect.")
		return
	}
	c.send(encode(helloFrame(who)))
	c.readLoop()
}

func helloFrame(who *identity) *frame {
	if who.staff != nil {
		return &frame{Type: "hello", Role: "agent", User: &api.UserRef{ID: who.staff.User.ID, Name: who.staff.User.Name},
			CanAnswer: who.staff.Can(regulars.FeatureChat, regulars.LevelUpdate)}
	}
	f := who.follower.Follower
	return &frame{Type: "hello", Role: "follower", User: &api.UserRef{ID: f.ID, Name: f.Name}, CanAnswer: true}
}

// refuse closes a connection that could not sign in.
func (c *conn) refuse(err error) {
	code := CodeUnauthorized
	if regulars.ErrorCode(err) == regulars.EFORBIDDEN {
		code = CodeRevoked
	}
	c.ws.Close(code, truncate(regulars.ErrorMessage(err)))
}

// truncate keeps a close reason within the 123 bytes a close frame allows.
func truncate(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:120]
}

// awaitAuth reads the first message, which must sign the connection in.
func (c *conn) awaitAuth() *identity {
	// Too slow, the connection closes with the protocol's code and reason
	// (a read's deadline would drop it without either).
	timer := time.AfterFunc(c.hub.opts.AuthTimeout, func() {
		c.ws.Close(CodeUnauthorized, "Send {\"type\":\"auth\",\"token\":…} first: the time to sign in is over.")
	})
	_, data, err := c.ws.Read(c.ctx)
	if !timer.Stop() || err != nil {
		c.ws.Close(CodeUnauthorized, "Send {\"type\":\"auth\",\"token\":…} first.")
		return nil
	}
	var req request
	if json.Unmarshal(data, &req) != nil || req.Type != "auth" || req.Token == "" {
		c.ws.Close(CodeUnauthorized, "Send {\"type\":\"auth\",\"token\":…} first.")
		return nil
	}
	who, err := c.hub.authenticate(c.ctx, req.Token, false)
	if err != nil {
		if regulars.ErrorCode(err) == regulars.EINTERNAL {
			c.hub.log.Error("realtime: signing a connection in", "err", err)
			c.ws.Close(websocket.StatusInternalError, "Something went wrong on our side.")
			return nil
		}
		c.refuse(err)
		return nil
	}
	return who
}

// request is everything a client sends; each type uses some members.
type request struct {
	Type           string `json:"type"`
	Ref            string `json:"ref"`
	Token          string `json:"token"`
	ConversationID int64  `json:"conversation_id"`
	ChannelID      int64  `json:"channel_id"`
	AfterSeq       int64  `json:"after_seq"`
	Seq            int64  `json:"seq"`
	Text           string `json:"text"`
	ClientID       string `json:"client_id"`
	EngagementID   int64  `json:"engagement_id"`
	OvertakeFrom   int64  `json:"overtake_from"`
}

func (c *conn) readLoop() {
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			return
		}
		c.alive()
		var req request
		if f := badRequest(typ, data, &req); f != nil {
			c.send(encode(f))
			continue
		}
		// What the request brings this connection (its own message's
		// event, then the answer) leaves together, in one write.
		c.hold(true)
		c.handle(&req)
		c.hold(false)
	}
}

// badRequest decodes a client's message into req, or returns the error
// frame refusing it: one that names the member of the wrong type, and
// keeps the ref (and client_id) when they can be read, so that the client
// waiting for the answer gets it instead of running out of time.
func badRequest(typ websocket.MessageType, data []byte, req *request) *frame {
	if typ != websocket.MessageText {
		return &frame{Type: "error", Code: codeBadRequest, Detail: "Send JSON text messages."}
	}
	err := json.Unmarshal(data, req)
	if err == nil {
		return nil
	}
	f := &frame{Type: "error", Code: codeBadRequest, Detail: "Send a JSON object, such as {\"type\":\"ping\"}."}
	var members map[string]json.RawMessage
	if json.Unmarshal(data, &members) != nil {
		return f
	}
	// The members that can be read, each on its own.
	var ref, clientID string
	if json.Unmarshal(members["ref"], &ref) == nil {
		f.Ref = ref
	}
	if json.Unmarshal(members["client_id"], &clientID) == nil {
		f.ClientID = clientID
	}
	var typErr *json.UnmarshalTypeError
	if errors.As(err, &typErr) && typErr.Field != "" {
		f.Detail = "Member " + typErr.Field + " must be " + jsonKind(typErr.Type.Kind()) + "."
		f.Fields = map[string]string{typErr.Field: "Must be " + jsonKind(typErr.Type.Kind()) + "."}
	}
	return f
}

// codeBadRequest is the error code of a message that is not a request at
// all, as the API's for a body it cannot read.
const codeBadRequest = "bad_request"

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Int64:
		return "an integer"
	}
	return "a " + k.String()
}

// hold keeps queued frames from being written until hold(false).
func (c *conn) hold(on bool) {
	c.mu.Lock()
	c.holding = on
	start := !on && !c.writing && !c.closed && len(c.queue) > 0
	if start {
		c.writing = true
	}
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// handle answers one request. Each goes through the app with the
// connection's identity, so every rule and permission applies.
func (c *conn) handle(req *request) {
	if req.Type == "ping" {
		c.send(encode(&frame{Type: "pong", Ref: req.Ref}))
		return
	}
	// Sends are held to their sender's rate (AllowAgentSend, ...); every
	// other request reads the database too, and a client flooding them
	// is answered with refusals instead.
	if req.Type != "send" && !c.requests.Take(time.Now(), requestRate, requestBurst) {
		c.send(encode(errorFrame(req, errTooManyRequests)))
		return
	}
	who := c.fresh()
	if who == nil {
		return
	}
	var err error
	switch req.Type {
	case "sync":
		err = c.sync(who, req)
	case "send":
		var (
			conv *regulars.Conversation
			old  *regulars.ChatMessage
		)
		if who.staff != nil {
			conv, old, err = c.hub.app.AllowAgentSend(c.ctx, who.staff, req.ConversationID, req.ClientID)
		} else {
			conv, old, err = c.hub.app.AllowFollowerSend(c.ctx, who.follower, req.ChannelID, req.ConversationID, req.ClientID)
		}
		switch {
		case err != nil:
		case old != nil:
			// A retry of a message stored before: answered with it.
			c.sendAck(who, req, conv, old)
		default:
			err = c.sendMessage(who, req)
		}
	case "take", "finish":
		err = c.takeOrFinish(who, req)
	case "read":
		if who.staff != nil {
			err = c.hub.app.MarkConversationRead(c.ctx, who.staff, req.ConversationID, req.Seq)
		} else {
			err = c.hub.app.FollowerRead(c.ctx, who.follower, req.ConversationID, req.Seq)
		}
		if err == nil && req.Ref != "" {
			c.send(encode(&frame{Type: "ack", Ref: req.Ref}))
		}
	case "typing":
		err = c.typing(who, req)
		if err == nil && req.Ref != "" {
			c.send(encode(&frame{Type: "ack", Ref: req.Ref}))
		}
	case "auth":
		err = regulars.Errorf(regulars.ECONFLICT, "This connection is signed in already.")
	default:
		err = regulars.Errorf(regulars.EINVALID, "Unknown request type %q.", req.Type)
	}
	if err != nil {
		c.send(encode(errorFrame(req, err)))
	}
}

// A connection's requests other than send and ping: a client that syncs
// every conversation of a long list after reconnecting stays well inside
// the burst, and typing and read marks come at a person's pace.
const (
	requestRate  = 20 // a second
	requestBurst = 200
)

var errTooManyRequests = regulars.Errorf(regulars.ETOOMANY, "Too many requests on this connection: slow down and try again in a moment.")

func errorFrame(req *request, err error) *frame {
	code := regulars.ErrorCode(err)
	f := &frame{Type: "error", Ref: req.Ref, ClientID: req.ClientID, Code: code, Detail: regulars.ErrorMessage(err), Fields: regulars.FieldErrors(err)}
	var e *regulars.Error
	if errors.As(err, &e) {
		if oc, ok := e.Detail.(app.OwnerConflict); ok {
			f.Owner = &api.UserRef{ID: oc.OwnerID, Name: oc.OwnerName}
		}
	}
	return f
}

// cards loads the engagements of the cards among msgs.
const syncPage = 500

// sync sends what a client missed in a conversation after a seq.
func (c *conn) sync(who *identity, req *request) error {
	var (
		conv *regulars.Conversation
		msgs []*regulars.ChatMessage
		err  error
	)
	page := app.ChatPage{CatchUp: true, AfterSeq: req.AfterSeq, Limit: syncPage + 1}
	tenantID := int64(0)
	if who.staff != nil {
		tenantID = who.staff.User.TenantID
		if conv, err = c.hub.app.Conversation(c.ctx, who.staff, req.ConversationID); err != nil {
			return err
		}
		msgs, err = c.hub.app.ChatMessages(c.ctx, who.staff, conv.ID, page)
	} else {
		tenantID = who.follower.Tenant.ID
		if conv, err = c.hub.app.FollowerConversation(c.ctx, who.follower, req.ConversationID); err != nil {
			return err
		}
		if conv.Unread, err = c.hub.app.DB.FollowerUnread(c.ctx, conv.ID, conv.FollowerReadSeq); err != nil {
			return err
		}
		msgs, err = c.hub.app.FollowerChatMessages(c.ctx, who.follower, conv.ID, page)
	}
	if err != nil {
		return err
	}
	more := len(msgs) > syncPage
	if more {
		msgs = msgs[:syncPage]
	}
	cards, err := c.hub.app.MessageCards(c.ctx, tenantID, msgs)
	if err != nil {
		return err
	}
	out := &frame{Type: "synced", Ref: req.Ref, More: more, Messages: make([]api.ChatMessage, len(msgs))}
	cv := api.ConversationOut(conv, who.staff != nil)
	out.Conversation = &cv
	for i, m := range msgs {
		out.Messages[i] = api.MessageOut(m, cards[m.EngagementID], who.staff != nil)
	}
	if who.follower != nil {
		done, err := c.hub.app.CardsDone(c.ctx, who.follower.Follower.ID, conv.ID, cards)
		if err != nil {
			return err
		}
		api.MarkCardsDone(out.Messages, done)
	}
	// Long messages make a page too large for the client's queue (it
	// would be dropped, reconnect and ask again, for ever): send fewer,
	// and the client asks for the rest.
	b := encode(out)
	for len(b) > c.hub.opts.MaxQueued/4 && len(out.Messages) > 1 {
		out.Messages, out.More = out.Messages[:len(out.Messages)/2], true
		b = encode(out)
	}
	c.send(b)
	return nil
}

func (c *conn) sendMessage(who *identity, req *request) error {
	var (
		conv *regulars.Conversation
		msg  *regulars.ChatMessage
		err  error
	)
	if who.staff != nil {
		msg, err = c.hub.app.SendAgentMessage(c.ctx, who.staff, req.ConversationID, app.AgentMessage{Text: req.Text, EngagementID: req.EngagementID,
			ClientID: req.ClientID, OvertakeFrom: req.OvertakeFrom})
		if err != nil {
			return err
		}
		if conv, err = c.hub.app.Conversation(c.ctx, who.staff, msg.ConversationID); err != nil {
			return err
		}
	} else {
		in := app.FollowerMessage{Text: req.Text, ClientID: req.ClientID}
		if req.ConversationID != 0 && req.ChannelID != 0 {
			// Which one was meant cannot be told; neither is guessed.
			return &regulars.Error{Code: regulars.EINVALID, Message: "Give conversation_id or channel_id, not both.",
				Fields: map[string]string{"channel_id": "Leave it out when you give conversation_id."}}
		}
		if req.ConversationID != 0 {
			conv, msg, err = c.hub.app.FollowerSendTo(c.ctx, who.follower, req.ConversationID, in)
		} else {
			conv, msg, err = c.hub.app.FollowerSend(c.ctx, who.follower, req.ChannelID, in)
		}
		if err != nil {
			return err
		}
	}
	c.sendAck(who, req, conv, msg)
	return nil
}

// sendAck answers a send with the message stored and its conversation.
func (c *conn) sendAck(who *identity, req *request, conv *regulars.Conversation, msg *regulars.ChatMessage) {
	cv, m := api.ConversationOut(conv, who.staff != nil), api.MessageOut(msg, nil, who.staff != nil)
	c.send(encode(&frame{Type: "ack", Ref: req.Ref, ClientID: req.ClientID, Conversation: &cv, Message: &m}))
}

func (c *conn) takeOrFinish(who *identity, req *request) error {
	if who.staff == nil {
		return regulars.Errorf(regulars.EFORBIDDEN, "Only agents take or finish conversations.")
	}
	var (
		conv *regulars.Conversation
		err  error
	)
	if req.Type == "take" {
		conv, err = c.hub.app.TakeConversation(c.ctx, who.staff, req.ConversationID, req.OvertakeFrom)
	} else {
		conv, err = c.hub.app.FinishConversation(c.ctx, who.staff, req.ConversationID)
	}
	if err != nil {
		return err
	}
	cv := api.ConversationOut(conv, true)
	c.send(encode(&frame{Type: "ack", Ref: req.Ref, Conversation: &cv}))
	return nil
}

// typing passes on "is typing" at most every two seconds per conversation.
// Only conversations where it was passed on are remembered, and only the
// recent ones: ids of conversations that are not the client's, or long
// quiet, do not pile up for as long as the connection lives.
func (c *conn) typing(who *identity, req *request) error {
	now := time.Now()
	if now.Sub(c.typedAt[req.ConversationID]) < typingEvery {
		return nil
	}
	var err error
	if who.staff != nil {
		err = c.hub.app.AgentTyping(c.ctx, who.staff, req.ConversationID)
	} else {
		err = c.hub.app.FollowerTyping(c.ctx, who.follower, req.ConversationID)
	}
	if err != nil {
		return err
	}
	if c.typedAt == nil {
		c.typedAt = map[int64]time.Time{}
	}
	for id, at := range c.typedAt {
		if now.Sub(at) >= typingEvery {
			delete(c.typedAt, id)
		}
	}
	c.typedAt[req.ConversationID] = now
	return nil
}

// typingEvery is how often "is typing" is passed on per conversation.
const typingEvery = 2 * time.Second
