package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
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
// One sender goroutine notifies the other nodes: it packs the events
// waiting into as few notifications as their size allows (every NOTIFY is
// a transaction, and PostgreSQL serialises notifying transactions), in
// publishing order. A notification carries at most 8000 bytes; a larger
// event is parked in the bus_spill table and the notification names the
// row, so nothing is cut. A node that loses its listening connection may
// miss events; when it listens again it tells its subscribers through
// OnGap, and the realtime hub asks every client to catch up.
type PGBus struct {
	db    *store.DB
	log   *slog.Logger
	local *events.Local
	node  string
	own   string // how this node's notifications begin
	// OnGap is called when the node listens again after a lost connection.
	OnGap     func()
	ready     chan struct{}
	listening atomic.Bool
	outbox    chan json.RawMessage // events for the other nodes, in order
	running   atomic.Bool
}

// NewPGBus returns a bus over db, which must be PostgreSQL.
func NewPGBus(db *store.DB, log *slog.Logger) *PGBus {
	node := app.NewSecret("")[:12]
	return &PGBus{db: db, log: log, local: events.NewLocal(), node: node, own: string(batchHead(node)), ready: make(chan struct{}),
		outbox: make(chan json.RawMessage, 8192)}
}

// event is one event inside a notification.
type event struct {
	Topic string          `json:"t,omitempty"`
	Data  json.RawMessage `json:"d,omitempty"`
	Spill int64           `json:"s,omitempty"` // the event is in bus_spill
}

// batch is a notification's payload: events of one node, in order.
type batch struct {
	Node   string            `json:"n"`
	Events []json.RawMessage `json:"e"`
}

// Publish delivers to this node's subscribers and queues the event for
// the other nodes.
func (b *PGBus) Publish(ctx context.Context, e events.Event) error {
	data := e.Data
	if data == nil {
		var err error
		if data, err = json.Marshal(e.Value); err != nil {
			return err
		}
	} else if e.Value == nil && !json.Valid(data) {
		return errors.New("realtime: an event's data must be a JSON document")
	}
	b.local.Deliver(e)
	if !b.running.Load() {
		// Not running (a command that serves nobody): this node alone.
		return nil
	}
	// {"t":topic,"d":data}, put together rather than encoded: data is
	// JSON already (encoding it again as a RawMessage would check and
	// compact it once more).
	topic, _ := json.Marshal(e.Topic)
	ev := make(json.RawMessage, 0, len(topic)+len(data)+12)
	ev = append(append(append(append(append(ev, `{"t":`...), topic...), `,"d":`...), data...), '}')
	select {
	case b.outbox <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CrossesNodes tells publishers that events go to other nodes as JSON.
func (b *PGBus) CrossesNodes() bool { return true }

// Subscribe registers fn for topic on this node.
func (b *PGBus) Subscribe(topic string, fn func(events.Event)) func() {
	return b.local.Subscribe(topic, fn)
}

// Ready is closed once the node listens for the first time.
func (b *PGBus) Ready() <-chan struct{} { return b.ready }

// Listening reports whether the node has a listening connection (it may
// have lost it since and not be told yet).
func (b *PGBus) Listening() bool { return b.listening.Load() }

// Run sends this node's events to the others and listens for theirs until
// ctx ends, and purges old spilled events.
func (b *PGBus) Run(ctx context.Context) {
	b.running.Store(true)
	defer b.running.Store(false)
	go b.purge(ctx)
	go b.send(ctx)
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

// send notifies the other nodes of the queued events, as many per
// notification as fit.
func (b *PGBus) send(ctx context.Context) {
	var next json.RawMessage // an event that did not fit the last batch
	for {
		if next == nil {
			select {
			case next = <-b.outbox:
			case <-ctx.Done():
				return
			}
		}
		out := batch{Node: b.node}
		size := 64
		for next != nil {
			ev := next
			if len(ev) > store.MaxNotifyPayload-64 {
				spilled, err := b.spill(ctx, ev)
				if err != nil {
					b.log.Warn("realtime: parking a large event", "err", err)
					next = b.take()
					continue
				}
				ev = spilled
			}
			if size+len(ev)+1 > store.MaxNotifyPayload {
				break // next waits for the following notification
			}
			out.Events = append(out.Events, ev)
			size += len(ev) + 1
			next = b.take()
		}
		payload := encodeBatch(&out)
		for attempt := 0; ; attempt++ {
			err := b.db.Notify(ctx, PGChannel, string(payload))
			if err == nil || ctx.Err() != nil {
				break
			}
			if attempt == 4 {
				b.log.Error("realtime: the other nodes miss events", "events", len(out.Events), "err", err)
				break
			}
			time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
		}
	}
}

// encodeBatch writes {"n":node,"e":[events…]}, node first so that a node
// can skip its own notifications without decoding them.
func encodeBatch(out *batch) []byte {
	head := batchHead(out.Node)
	size := len(head) + 8
	for _, ev := range out.Events {
		size += len(ev) + 1
	}
	p := append(append(make([]byte, 0, size), head...), `"e":[`...)
	for i, ev := range out.Events {
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, ev...)
	}
	return append(p, "]}"...)
}

// batchHead is how a node's notifications begin: {"n":node,
func batchHead(node string) []byte {
	n, _ := json.Marshal(node)
	return append(append([]byte(`{"n":`), n...), ',')
}

// take returns a queued event without waiting, or nil.
func (b *PGBus) take() json.RawMessage {
	select {
	case ev := <-b.outbox:
		return ev
	default:
		return nil
	}
}

// spill parks a large event and returns the small one that names it.
func (b *PGBus) spill(ctx context.Context, ev json.RawMessage) (json.RawMessage, error) {
	id, err := b.db.Spill(ctx, string(ev))
	if err != nil {
		return nil, err
	}
	return json.Marshal(event{Spill: id})
}

func (b *PGBus) receive(ctx context.Context, payload string) {
	if strings.HasPrefix(payload, b.own) {
		return // delivered when published
	}
	var in batch
	if err := json.Unmarshal([]byte(payload), &in); err != nil {
		b.log.Warn("realtime: a notification that is not an event", "err", err)
		return
	}
	if in.Node == b.node {
		return // delivered when published
	}
	for _, raw := range in.Events {
		var ev event
		if err := json.Unmarshal(raw, &ev); err != nil {
			b.log.Warn("realtime: an event that cannot be read", "err", err)
			continue
		}
		if ev.Spill != 0 {
			data, err := b.db.Spilled(ctx, ev.Spill)
			if err == nil {
				err = json.Unmarshal([]byte(data), &ev)
			}
			if err != nil {
				b.log.Warn("realtime: reading a spilled event", "id", ev.Spill, "err", err)
				continue
			}
		}
		b.local.Deliver(events.Event{Topic: ev.Topic, Data: ev.Data})
	}
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
