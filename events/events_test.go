package events_test

import (
	"context"
	"testing"

	"regulars/events"
)

func TestLocalBusDeliversToTopicSubscribersOnly(t *testing.T) {
	b := events.NewLocal()
	var got []string
	cancel := b.Subscribe("partner:1", func(e events.Event) { got = append(got, string(e.Data)) })
	b.Subscribe("partner:2", func(e events.Event) { t.Errorf("partner 2 received %s", e.Data) })
	b.Publish(context.Background(), events.Event{Topic: "partner:1", Data: []byte("a")})
	cancel()
	b.Publish(context.Background(), events.Event{Topic: "partner:1", Data: []byte("b")})
	if len(got) != 1 || got[0] != "a" {
		t.Fatalf("got %v, want [a]", got)
	}
}

type note struct{ N int }

func TestDecodeReadsTheValueOrItsJSON(t *testing.T) {
	v := &note{N: 7}
	got, err := events.Decode[note](events.Event{Topic: "t", Value: v})
	if err != nil || got != v {
		t.Fatalf("local: %v, %v; want the published value itself", got, err)
	}
	// A bus that crosses nodes gets the JSON; the local one does not.
	if e, err := events.Encoded(events.NewLocal(), events.Event{Value: v}); err != nil || e.Data != nil {
		t.Fatalf("encoded for the local bus: %s, %v", e.Data, err)
	}
	e, err := events.Encoded(crossing{events.NewLocal()}, events.Event{Value: v})
	data := e.Data
	if err != nil || string(data) != `{"N":7}` {
		t.Fatalf("JSON: %s, %v", data, err)
	}
	got, err = events.Decode[note](events.Event{Topic: "t", Data: data})
	if err != nil || got.N != 7 {
		t.Fatalf("remote: %v, %v", got, err)
	}
	if _, err := events.Decode[note](events.Event{Topic: "t", Data: []byte("not json")}); err == nil {
		t.Fatal("bad JSON decoded")
	}
	if _, err := events.Decode[note](events.Event{Topic: "t", Value: "a string"}); err == nil {
		t.Fatal("a value of another type decoded")
	}
}

// crossing stands for a bus to other nodes.
type crossing struct{ *events.Local }

func (crossing) CrossesNodes() bool { return true }
