// Package events is the event path between app nodes: realtime chat,
// geofence index updates and session revocation all publish here. With
// SQLite (one node) delivery is in-process; with PostgreSQL several nodes
// share events through LISTEN/NOTIFY (see the realtime package), all behind
// the same Bus interface.
package events

import (
	"context"
	"sync"
)

// Event is one published fact. Topic names a stream ("partner:12",
// "tenant:3:geofence", "user:7"); Data is a small JSON document.
type Event struct {
	Topic string
	Data  []byte
}

// Bus publishes events to every subscriber on every node.
type Bus interface {
	Publish(ctx context.Context, topic string, data []byte) error
	// Subscribe calls fn for each event whose topic is topic, until cancel.
	// fn must not block for long.
	Subscribe(topic string, fn func(Event)) (cancel func())
}

// Local is an in-process Bus: what a single node needs.
type Local struct {
	mu   sync.RWMutex
	subs map[string]map[int]func(Event)
	next int
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{subs: map[string]map[int]func(Event){}} }

// Publish delivers to the local subscribers of topic, synchronously.
func (b *Local) Publish(_ context.Context, topic string, data []byte) error {
	b.Deliver(Event{Topic: topic, Data: data})
	return nil
}

// Deliver hands an event (local or received from another node) to the
// subscribers of its topic.
func (b *Local) Deliver(e Event) {
	b.mu.RLock()
	fns := make([]func(Event), 0, len(b.subs[e.Topic]))
	for _, fn := range b.subs[e.Topic] {
		fns = append(fns, fn)
	}
	b.mu.RUnlock()
	for _, fn := range fns {
		fn(e)
	}
}

// Subscribe registers fn for topic.
func (b *Local) Subscribe(topic string, fn func(Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[int]func(Event){}
	}
	id := b.next
	b.next++
	b.subs[topic][id] = fn
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs[topic], id)
		if len(b.subs[topic]) == 0 {
			delete(b.subs, topic)
		}
	}
}
