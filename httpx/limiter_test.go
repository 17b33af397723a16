package httpx

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := NewLimiter(1000, 3)
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("action %d of the burst refused", i+1)
		}
	}
	if l.Allow("a") {
		t.Fatal("the action after the burst was allowed")
	}
	if !l.Allow("b") {
		t.Fatal("another key was held to the first one's bucket")
	}
	time.Sleep(5 * time.Millisecond) // 5 tokens at 1000 a second, capped at 3
	for i := range 3 {
		if !l.Allow("a") {
			t.Fatalf("action %d after the refill refused", i+1)
		}
	}
	// Full buckets are forgotten when there are many; a forgotten key
	// starts full, as it would have been.
	for i := range 10_000 {
		l.buckets[string(rune(0x10000+i))] = &Bucket{tokens: 3, filled: time.Now()}
	}
	l.Allow("c")
	if len(l.buckets) > 100 {
		t.Fatalf("%d buckets after pruning", len(l.buckets))
	}
	var none *Limiter
	if !none.Allow("x") {
		t.Fatal("a nil limiter refused")
	}
}
