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
	b.Publish(context.Background(), "partner:1", []byte("a"))
	cancel()
	b.Publish(context.Background(), "partner:1", []byte("b"))
	if len(got) != 1 || got[0] != "a" {
		t.Fatalf("got %v, want [a]", got)
	}
}
