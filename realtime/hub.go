// Package realtime is the live side of the chat: one WebSocket endpoint for
// agents (partner staff, signed in with the session cookie or a personal
// access token) and followers (their bearer token), fed by the event bus,
// and the PostgreSQL LISTEN/NOTIFY implementation of that bus so that an
// event published on one app node reaches the clients of every node.
//
// # Protocol
//
// Connect to /api/v1/ws. Agents in the browser are signed in by their
// session cookie (same origin only); other clients send a token, either as
// ?token=… or as the first message {"type":"auth","token":"…"} within ten
// seconds. The server answers {"type":"hello",…} and then pushes frames,
// JSON objects. A WebSocket message from the server holds one frame or,
// when several were waiting, several, one per line (JSON never holds a raw
// newline): clients split each message on "\n". The server pushes:
//
//	{"type":"message","conversation":{…},"message":{…}}   a new message (also system lines)
//	{"type":"read","conversation_id":…,"author":…,"seq":…} someone read up to seq
//	{"type":"typing","conversation_id":…,"author":…,"name":…}
//	{"type":"profile","follower_id":…,"name":…}            (agents) a follower's new name
//	{"type":"channel","channel":{"id":…,"chat_enabled":…,"following":…}}
//	                                                       (followers) a channel's chat switched on or off
//	                                                       (following left out: for every follower), or
//	                                                       the follower followed or unfollowed it
//	{"type":"resync"}                                      events may have been missed: catch up
//
// Messages of a conversation are numbered 1, 2, 3 … without gaps (seq). A
// client remembers the last number it holds for each conversation; after
// a reconnect, a resync, or when it sees a jump, it sends
//
//	{"type":"sync","conversation_id":…,"after_seq":…,"ref":"…"}
//
// and gets {"type":"synced","conversation":{…},"messages":[…],"more":…}
// with what it missed. Live messages may arrive during a sync: clients
// keep one copy per seq, so nothing is lost and nothing shows twice.
//
// Clients may also send (each answered with {"type":"ack","ref":…} or
// {"type":"error","ref":…,"code":…,"detail":…}):
//
//	{"type":"send","conversation_id":…,"text":…,"client_id":…,"overtake_from":…,"engagement_id":…}
//	{"type":"send","channel_id":…,"text":…,"client_id":…}     (followers: starts the conversation)
//	{"type":"take","conversation_id":…,"overtake_from":…}     (agents)
//	{"type":"finish","conversation_id":…}                     (agents)
//	{"type":"read","conversation_id":…,"seq":…}
//	{"type":"typing","conversation_id":…}
//	{"type":"ping"}                                           answered {"type":"pong"}
//
// A message that is not such a request (not a JSON object, a member of
// the wrong type) is answered with code "bad_request", its ref when it
// has a readable one, and the member at fault in fields; a message over
// 64 KiB closes the connection (1009). Sends are held to their sender's
// rate over all their connections and the API (a retry of a message
// stored before, by its client_id, is answered with it even over the
// rate); a connection's other
// requests (ping aside) to 200 at once and 20 a second after that. Past
// either, the request is refused with code "too_many".
//
// Every request and every pushed event is authorized for the connection:
// its partner, its role's chat level, the follower's own conversations.
// A disabled user's connections close at once on every node (code 4403),
// and so does a connection whose session or token ends (signing out,
// another session ending it, a password change, a revoked token); a
// connection that cannot sign in closes with 4401.
package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"regulars"
	"regulars/api"
	"regulars/app"
	"regulars/events"

	"github.com/coder/websocket"
)

// Path is the WebSocket endpoint.
const Path = "/api/v1/ws"

// Close codes of the protocol.
const (
	CodeUnauthorized websocket.StatusCode = 4401 // sign in again
	CodeRevoked      websocket.StatusCode = 4403 // access ended: do not reconnect
	CodeTooSlow      websocket.StatusCode = 4008 // the client fell behind: reconnect and catch up
)

// Options configure the endpoint.
type Options struct {
	SessionCookie string   // the staff session cookie
	Hosts         []string // hosts besides the request's own that may open cookie-signed connections
	AuthTimeout   time.Duration
	PingEvery     time.Duration // ping connections silent for this long
	Recheck       time.Duration // re-check a connection's sign-in before a request when older
	Revalidate    time.Duration // re-check idle connections' sign-in this often
	MaxQueued     int           // bytes of frames waiting for a slow client before it is dropped
}

func (o *Options) defaults() {
	if o.AuthTimeout == 0 {
		o.AuthTimeout = 10 * time.Second
	}
	if o.PingEvery == 0 {
		o.PingEvery = 30 * time.Second
	}
	if o.Recheck == 0 {
		o.Recheck = 30 * time.Second
	}
	if o.Revalidate == 0 {
		o.Revalidate = 5 * time.Minute
	}
	if o.MaxQueued == 0 {
		o.MaxQueued = 1 << 20
	}
}

// Hub holds this node's connections and hands them the bus's events.
type Hub struct {
	app  *app.App
	log  *slog.Logger
	opts Options

	mu     sync.Mutex
	conns  map[*conn]struct{}
	topics map[string]*topicConns
	closed bool
}

// topicConns are a topic's connections on this node: a slice, as most
// topics (a follower's, a user's) hold one or two.
type topicConns struct {
	conns  []*conn
	cancel func()
}

// NewHub returns a hub delivering a.Bus's events.
func NewHub(a *app.App, log *slog.Logger, opts Options) *Hub {
	opts.defaults()
	return &Hub{app: a, log: log, opts: opts, conns: map[*conn]struct{}{}, topics: map[string]*topicConns{}}
}

// Register adds the endpoint to mux.
func (h *Hub) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Path, h.serve)
}

// Connections counts this node's open connections.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// add registers an authenticated connection and subscribes its topics.
func (h *Hub) add(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	for _, topic := range c.topics {
		tc := h.topics[topic]
		if tc == nil {
			tc = &topicConns{}
			tc.cancel = h.app.Bus.Subscribe(topic, func(ev events.Event) { h.deliver(topic, ev) })
			h.topics[topic] = tc
		}
		tc.conns = append(tc.conns, c)
	}
	return true
}

func (h *Hub) remove(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
	for _, topic := range c.topics {
		tc := h.topics[topic]
		if tc == nil {
			continue
		}
		if i := slices.Index(tc.conns, c); i >= 0 {
			last := len(tc.conns) - 1
			tc.conns[i], tc.conns[last] = tc.conns[last], nil
			tc.conns = tc.conns[:last]
		}
		if len(tc.conns) == 0 {
			tc.cancel()
			delete(h.topics, topic)
		}
	}
}

func (h *Hub) connsOf(topic string) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	tc := h.topics[topic]
	if tc == nil {
		return nil
	}
	return slices.Clone(tc.conns)
}

func (h *Hub) all() []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// deliver hands one bus event to the connections of its topic that may
// see it, each in the shape of its side.
func (h *Hub) deliver(topic string, ev events.Event) {
	conns := h.connsOf(topic)
	if len(conns) == 0 {
		return
	}
	ce, err := events.Decode[app.ChatEvent](ev)
	if err != nil {
		h.log.Warn("realtime: an event that is not a chat event", "topic", topic, "err", err)
		return
	}
	switch ce.Type {
	case app.EventRevoked:
		for _, c := range conns {
			c.close(CodeRevoked, "Your access has ended.")
		}
		return
	case app.EventRecheck:
		// Sessions or tokens ended, or roles changed: those connections
		// signed in by an ended one close (recheck does), the others go on
		// with their levels as they are now. Until the recheck is done, a
		// request checks the sign-in itself (fresh) instead of acting on
		// the old levels.
		for _, c := range conns {
			c.expire()
			go c.recheck(c.ctx)
		}
		return
	}
	var staff, follower []byte
	for _, c := range conns {
		who := c.identity()
		if !allowed(who, ce) {
			continue
		}
		if who.staff != nil {
			if staff == nil {
				staff = encode(eventFrame(ce, true))
			}
			c.send(staff)
		} else {
			if follower == nil {
				follower = encode(eventFrame(ce, false))
			}
			c.send(follower)
		}
	}
}

// allowed is the authorization of a pushed event: agents of the
// conversation's partner whose role lets them read chat; the follower of
// the conversation. Reads by an agent matter to that agent's other
// screens only, and nobody is told about their own typing.
func allowed(who *identity, ev *app.ChatEvent) bool {
	switch {
	case who.staff != nil:
		a := who.staff
		if ev.Type == app.EventChannel || a.Partner == nil || a.PartnerID() != ev.PartnerID || !a.Can(regulars.FeatureChat, regulars.LevelView) {
			return false
		}
		switch ev.Type {
		case app.EventRead:
			return ev.Author == regulars.AuthorFollower || ev.UserID == a.User.ID
		case app.EventTyping:
			return ev.Author == regulars.AuthorFollower || ev.UserID != a.User.ID
		}
		return true
	case who.follower != nil:
		if ev.Type == app.EventChannel && ev.FollowerID == 0 {
			return ev.TenantID == who.follower.Tenant.ID
		}
		if ev.FollowerID != who.follower.Follower.ID {
			return false
		}
		return ev.Type != app.EventTyping || ev.Author == regulars.AuthorAgent
	}
	return false
}

// frame is everything the server sends; each type uses some members.
type frame struct {
	Type           string            `json:"type"`
	Ref            string            `json:"ref,omitempty"`
	Conversation   *api.Conversation `json:"conversation,omitempty"`
	Message        *api.ChatMessage  `json:"message,omitempty"`
	Messages       []api.ChatMessage `json:"messages,omitempty"`
	More           bool              `json:"more,omitempty"`
	ConversationID int64             `json:"conversation_id,omitempty"`
	FollowerID     int64             `json:"follower_id,omitempty"`
	Author         string            `json:"author,omitempty"`
	UserID         int64             `json:"user_id,omitempty"`
	Name           string            `json:"name,omitempty"`
	Seq            int64             `json:"seq,omitempty"`
	Role           string            `json:"role,omitempty"`
	User           *api.UserRef      `json:"user,omitempty"`
	CanAnswer      bool              `json:"can_answer,omitempty"`
	Code           string            `json:"code,omitempty"`
	Detail         string            `json:"detail,omitempty"`
	Fields         map[string]string `json:"fields,omitempty"`
	Owner          *api.UserRef      `json:"owner,omitempty"`
	ClientID       string            `json:"client_id,omitempty"`
	Channel        *channelState     `json:"channel,omitempty"`
}

// channelState is what a channel event says: whether the channel takes
// chat messages and, when the event is the follower's own, whether they
// follow it.
type channelState struct {
	ID          int64 `json:"id"`
	ChatEnabled bool  `json:"chat_enabled"`
	Following   *bool `json:"following,omitempty"`
}

func encode(f *frame) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		panic(err) // frames hold only plain data
	}
	return b
}

// eventFrame shapes a bus event for one side.
func eventFrame(ev *app.ChatEvent, forStaff bool) *frame {
	f := &frame{Type: ev.Type, ConversationID: ev.ConversationID, Author: ev.Author, Name: ev.Name, Seq: ev.Seq}
	if forStaff {
		f.UserID = ev.UserID
		if ev.Type == app.EventProfile {
			f.FollowerID = ev.FollowerID
		}
	}
	if ev.Type == app.EventChannel {
		f.Channel = &channelState{ID: ev.ChannelID, ChatEnabled: ev.ChatEnabled, Following: ev.Following}
	}
	if ev.Conversation != nil {
		c := api.ConversationOut(ev.Conversation, forStaff)
		f.Conversation = &c
	}
	if ev.Message != nil {
		m := api.MessageOut(ev.Message, ev.Engagement, forStaff)
		if !forStaff && ev.EngagementDone && m.Engagement != nil {
			m.Engagement.Done = true
		}
		f.Message = &m
	}
	return f
}

// Resync asks every client of this node to catch up: events may have been
// missed (the bus lost its connection).
func (h *Hub) Resync() {
	b := encode(&frame{Type: "resync"})
	for _, c := range h.all() {
		c.send(b)
	}
}

// Run pings quiet connections and re-checks idle ones' sign-in until ctx
// ends; then it closes every connection, telling clients to reconnect
// (to another node).
func (h *Hub) Run(ctx context.Context) {
	tick := time.NewTicker(h.opts.PingEvery / 3)
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	for {
		select {
		case <-ctx.Done():
			h.mu.Lock()
			h.closed = true
			h.mu.Unlock()
			for _, c := range h.all() {
				c.close(websocket.StatusGoingAway, "The server is restarting: reconnect.")
			}
			return
		case <-tick.C:
		}
		now := time.Now()
		for _, c := range h.all() {
			quiet := now.Sub(time.Unix(0, c.lastSeen.Load())) >= h.opts.PingEvery
			who := c.identity()
			every := h.opts.Revalidate
			if who.staff != nil {
				// Few, and their roles change: agents are re-checked every minute.
				every = min(every, time.Minute)
			}
			stale := now.Sub(who.checked) >= every
			if !quiet && !stale {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				continue
			}
			go func() {
				defer func() { <-sem }()
				if stale {
					c.recheck(ctx)
				}
				if quiet {
					c.ping(ctx)
				}
			}()
		}
	}
}
