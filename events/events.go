// Package events is the event path between app nodes: realtime chat,
// geofence index updates and session revocation all publish here. With
// SQLite (one node) delivery is in-process; with PostgreSQL several nodes
// share events through LISTEN/NOTIFY (see the realtime package), all behind
// the same Bus interface.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Event is one published fact. Topic names a stream ("partner:12",
// "tenant:3:geofence", "user:7"). A publisher gives Value, a pointer to a
// value that encodes as a small JSON document; subscribers on the
// publishing node receive that same value (they must not change it), and
// subscribers on other nodes its JSON in Data. Decode reads either.
type Event struct {
	Topic string
	Value any
	Data  []byte
}

// Decode returns the event's value as a *T: the published one on the
// publishing node, decoded from Data on the others.
func Decode[T any](e Event) (*T, error) {
	if v, ok := e.Value.(*T); ok {
		return v, nil
	}
	if e.Data == nil {
		return nil, fmt.Errorf("events: %s: a %T, not a %T", e.Topic, e.Value, new(T))
	}
	v := new(T)
	if err := json.Unmarshal(e.Data, v); err != nil {
		return nil, fmt.Errorf("events: %s: %w", e.Topic, err)
	}
	return v, nil
}

// Bus publishes events to every subscriber on every node.
type Bus interface {
	Publish(ctx context.Context, e Event) error
	// Subscribe calls fn for each event whose topic is topic, until cancel.
	// fn must not block for long.
	Subscribe(topic string, fn func(Event)) (cancel func())
}

// Crosser is a Bus that carries events to other nodes, as JSON.
type Crosser interface {
	CrossesNodes() bool
}

// Encoded returns e with Data filled when b carries events to other
// nodes: a publisher sending one value to several topics encodes it once.
func Encoded(b Bus, e Event) (Event, error) {
	if c, ok := b.(Crosser); !ok || !c.CrossesNodes() || e.Data != nil {
		return e, nil
	}
	data, err := json.Marshal(e.Value)
	e.Data = data
	return e, err
}

// Local is an in-process Bus: what a single node needs.
type Local struct {
	mu   sync.RWMutex
	subs map[string][]subscriber // a slice: most topics have one or two
	next int
}

type subscriber struct {
	id int
	fn func(Event)
}

// NewLocal returns an empty in-process bus.
func NewLocal() *Local { return &Local{subs: map[string][]subscriber{}} }

// Publish delivers to the local subscribers of the event's topic,
// synchronously; their values are not encoded.
func (b *Local) Publish(_ context.Context, e Event) error {
	b.Deliver(e)
	return nil
}

// Deliver hands an event (local or received from another node) to the
// subscribers of its topic.
func (b *Local) Deliver(e Event) {
	b.mu.RLock()
	subs := slices.Clone(b.subs[e.Topic])
	b.mu.RUnlock()
	for _, s := range subs {
		s.fn(e)
	}
}

// Subscribe registers fn for topic.
func (b *Local) Subscribe(topic string, fn func(Event)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs[topic] = append(b.subs[topic], subscriber{id, fn})
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		subs := slices.DeleteFunc(b.subs[topic], func(s subscriber) bool { return s.id == id })
		if len(subs) == 0 {
			delete(b.subs, topic)
		} else {
			b.subs[topic] = subs
		}
	}
}
