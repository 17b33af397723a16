package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"regulars/app"
	"regulars/events"
	"regulars/store"
)

// PGChannel is the PostgreSQL notification channel every node listens on.
const PGChannel = "regulars_events"

// PGBus is the events.Bus of several app nodes sharing one PostgreSQL
// database: an event published on one node reaches the subscribers of
// every node through LISTEN/NOTIFY. The publishing node delivers to its own
// subscribers at once and skips its own notifications.
//
// A notification carries at most 8000 bytes. A larger event is parked in
// the bus_spill table and the notification names the row, so nothing is
// cut. A node that loses its listening connection may miss events; when it
// listens again it tells its subscribers through OnGap, and the realtime
// hub asks every client to catch up.
type PGBus struct {
	db    *store.DB
	log   *slog.Logger
	local *events.Local
	node  string
	// OnGap is called when the node listens again after a lost connection.
	OnGap     func()
	ready     chan struct{}
	listening atomic.Bool
}

// NewPGBus returns a bus over db, which must be PostgreSQL.
func NewPGBus(db *store.DB, log *slog.Logger) *PGBus {
	return &PGBus{db: db, log: log, local: events.NewLocal(), node: app.NewSecret("")[:12], ready: make(chan struct{})}
}

// envelope is the notification payload.
type envelope struct {
	Node  string          `json:"n"`
	Topic string          `json:"t,omitempty"`
	Data  json.RawMessage `json:"d,omitempty"`
	Spill int64           `json:"s,omitempty"` // the event is in bus_spill
}

// Publish delivers to this node's subscribers and notifies the others.
func (b *PGBus) Publish(ctx context.Context, topic string, data []byte) error {
	if !json.Valid(data) {
		return errors.New("realtime: an event's data must be a JSON document")
	}
	b.local.Deliver(events.Event{Topic: topic, Data: data})
	payload, err := json.Marshal(envelope{Node: b.node, Topic: topic, Data: data})
	if err != nil {
		return err
	}
	if len(payload) > store.MaxNotifyPayload {
		id, err := b.db.Spill(ctx, string(payload))
		if err != nil {
			return err
		}
		payload, _ = json.Marshal(envelope{Node: b.node, Spill: id})
	}
	return b.db.Notify(ctx, PGChannel, string(payload))
}

// Subscribe registers fn for topic on this node.
func (b *PGBus) Subscribe(topic string, fn func(events.Event)) func() {
	return b.local.Subscribe(topic, fn)
}

// Ready is closed once the node listens for the first time.
func (b *PGBus) Ready() <-chan struct{} { return b.ready }

// Listening reports whether the node has a listening connection (it may
// have lost it since and not be told yet).
func (b *PGBus) Listening() bool { return b.listening.Load() }

// Run listens for the other nodes' events until ctx ends, and purges old
// spilled events.
func (b *PGBus) Run(ctx context.Context) {
	go b.purge(ctx)
	first := true
	defer b.listening.Store(false)
	b.db.Listen(ctx, PGChannel, func() {
		b.listening.Store(true)
		if first {
			first = false
			close(b.ready)
			return
		}
		b.log.Warn("realtime: listening again after a lost connection; clients catch up")
		if b.OnGap != nil {
			b.OnGap()
		}
	}, func(payload string) { b.receive(ctx, payload) })
}

func (b *PGBus) receive(ctx context.Context, payload string) {
	var env envelope
	if err := json.Unmarshal([]byte(payload), &env); err != nil {
		b.log.Warn("realtime: a notification that is not an event", "err", err)
		return
	}
	if env.Node == b.node {
		return // delivered when published
	}
	if env.Spill != 0 {
		data, err := b.db.Spilled(ctx, env.Spill)
		if err != nil {
			b.log.Warn("realtime: reading a spilled event", "id", env.Spill, "err", err)
			return
		}
		if err := json.Unmarshal([]byte(data), &env); err != nil {
			b.log.Warn("realtime: a spilled event that is not an event", "id", strconv.FormatInt(env.Spill, 10), "err", err)
			return
		}
	}
	b.local.Deliver(events.Event{Topic: env.Topic, Data: env.Data})
}

// purge deletes spilled events every node has had time to read.
func (b *PGBus) purge(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.db.PurgeSpill(ctx, time.Now().Add(-10*time.Minute)); err != nil && ctx.Err() == nil {
				b.log.Warn("realtime: purging spilled events", "err", err)
			}
		}
	}
}
