package app

import (
	"context"
	"strconv"

	"regulars"
	"regulars/events"
)

// Topics of the event bus. Staff connections of a partner listen on its
// partner topic, a follower's connections on the follower topic, and every
// connection of a staff user on the user topic (to be closed when the user
// is disabled).

// PartnerTopic carries a partner's chat events to its agents.
func PartnerTopic(partnerID int64) string { return "partner:" + strconv.FormatInt(partnerID, 10) }

// FollowerTopic carries a follower's chat events to their apps.
func FollowerTopic(followerID int64) string { return "follower:" + strconv.FormatInt(followerID, 10) }

// UserTopic carries events about one staff user's connections.
func UserTopic(userID int64) string { return "user:" + strconv.FormatInt(userID, 10) }

// FollowersTopic carries to every follower app of a tenant what concerns
// all of them: a channel's chat switched on or off.
func FollowersTopic(tenantID int64) string { return "followers:" + strconv.FormatInt(tenantID, 10) }

// Chat event types.
const (
	EventMessage = "message" // a new message (and the conversation after it)
	EventRead    = "read"    // someone read a conversation up to a message
	EventTyping  = "typing"  // someone is typing
	EventRevoked = "revoked" // the user's or follower's access ended: close
	EventRecheck = "recheck" // some of their sign-ins ended: connections check theirs again
	EventProfile = "profile" // a follower's name changed: agents show the new one
	EventChannel = "channel" // (followers) a channel's chat switched, or it was followed or unfollowed
)

// ChatEvent is what the app publishes on the bus about a conversation. The
// realtime package decides for each connection whether it may see it and
// shapes it for that reader.
type ChatEvent struct {
	Type           string `json:"type"`
	PartnerID      int64  `json:"partner_id,omitempty"`
	FollowerID     int64  `json:"follower_id,omitempty"`
	ConversationID int64  `json:"conversation_id,omitempty"`

	Conversation *regulars.Conversation `json:"conversation,omitempty"`
	Message      *regulars.ChatMessage  `json:"message,omitempty"`
	// Engagement is the card of an engagement message.
	Engagement *regulars.Engagement `json:"engagement,omitempty"`
	// EngagementDone says the conversation's follower has already done
	// what the card offers (CardsDone), as it stood when it was sent.
	EngagementDone bool `json:"engagement_done,omitempty"`

	// Read and typing: who (an agent's user id, or the follower when 0),
	// their name and, for reads, up to which message.
	Author string `json:"author,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
	Name   string `json:"name,omitempty"`
	Seq    int64  `json:"seq,omitempty"`

	// Channel events: which channel, whether it takes chat messages now
	// and, sent to one follower, whether they follow it (nil when the
	// event is for every follower of the tenant).
	TenantID    int64 `json:"tenant_id,omitempty"`
	ChannelID   int64 `json:"channel_id,omitempty"`
	ChatEnabled bool  `json:"chat_enabled,omitempty"`
	Following   *bool `json:"following,omitempty"`
}

// publish sends ev to the partner's agents and, unless staffOnly, to the
// follower.
func (a *App) publish(ctx context.Context, ev *ChatEvent, staffOnly bool) {
	if staffOnly || ev.FollowerID == 0 {
		a.publishOn(ctx, ev, PartnerTopic(ev.PartnerID))
		return
	}
	a.publishOn(ctx, ev, PartnerTopic(ev.PartnerID), FollowerTopic(ev.FollowerID))
}

// publishOn sends ev, encoded once, on each of topics. Delivery failures
// are logged: the data is committed, and clients catch up from the last
// message they saw (or check again when they reconnect).
func (a *App) publishOn(ctx context.Context, ev *ChatEvent, topics ...string) {
	e, err := events.Encoded(a.Bus, events.Event{Value: ev})
	if err != nil {
		a.Log.Error("chat event", "type", ev.Type, "err", err)
		return
	}
	for _, topic := range topics {
		e.Topic = topic
		if err := a.Bus.Publish(ctx, e); err != nil {
			a.Log.Warn("publishing a chat event", "type", ev.Type, "topic", topic, "err", err)
		}
	}
}

// signInsEnded tells every node that sessions or tokens of the topic's user
// or follower ended: their connections check their own sign-in at once,
// and those signed in by an ended one close.
func (a *App) signInsEnded(ctx context.Context, topic string) {
	if err := a.Bus.Publish(ctx, events.Event{Topic: topic, Value: &ChatEvent{Type: EventRecheck}}); err != nil {
		a.Log.Warn("publishing ended sign-ins", "topic", topic, "err", err)
	}
}

// accessChanged tells every node that what the topic's staff may do
// changed (a role's levels, a user's role): their connections sign in
// again at once, taking the new levels, and close where the chat is gone.
func (a *App) accessChanged(ctx context.Context, topic string) { a.signInsEnded(ctx, topic) }

// publishRevoked tells every node to close the connections on topic.
func (a *App) publishRevoked(ctx context.Context, topic string) {
	if err := a.Bus.Publish(ctx, events.Event{Topic: topic, Value: &ChatEvent{Type: EventRevoked}}); err != nil {
		a.Log.Warn("publishing a revocation", "topic", topic, "err", err)
	}
}

// publishProfile tells the agents of every partner the follower talks to
// their new name (their end-user ID when they removed it, as in typing
// frames), so that open lists and threads show it.
func (a *App) publishProfile(ctx context.Context, f *regulars.Follower) {
	partners, err := a.DB.FollowerChatPartners(ctx, f.ID)
	if err != nil {
		a.Log.Warn("finding a follower's conversations", "err", err)
		return
	}
	for _, p := range partners {
		a.publish(ctx, &ChatEvent{Type: EventProfile, PartnerID: p, FollowerID: f.ID, Name: firstName(f)}, true)
	}
}

// publishChannel tells follower apps that whether they can write to
// channel c has changed: to followerID alone (their follow of it, now
// following), or with followerID 0 to every follower of the tenant (its
// chat switched on or off). An open chat with c swaps its composer for
// the reason it cannot write, or back, without waiting for a refused send.
func (a *App) publishChannel(ctx context.Context, c *regulars.Channel, followerID int64, following bool) {
	ev := &ChatEvent{Type: EventChannel, TenantID: c.TenantID, ChannelID: c.ID, ChatEnabled: c.ChatEnabled}
	if followerID == 0 {
		a.publishOn(ctx, ev, FollowersTopic(c.TenantID))
		return
	}
	ev.FollowerID, ev.Following = followerID, &following
	a.publishOn(ctx, ev, FollowerTopic(followerID))
}
