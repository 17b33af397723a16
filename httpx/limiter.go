package httpx

import (
	"sync"
	"time"
)

// Limiter holds each sender (by key) to Burst actions at once and Rate a
// second after that: a token bucket per key, the same whichever
// connection or route the action comes through, so that opening more
// connections does not buy more.
type Limiter struct {
	Rate  float64
	Burst int

	mu      sync.Mutex
	buckets map[string]*Bucket
}

// Bucket is one token bucket, for one goroutine (or under its owner's
// lock): Take holds its user to burst actions at once and rate a second
// after that. The zero Bucket is full.
type Bucket struct {
	tokens float64
	filled time.Time
}

// Take takes a token, or reports that there is none left now.
func (b *Bucket) Take(now time.Time, rate float64, burst int) bool {
	if b.filled.IsZero() {
		b.tokens = float64(burst)
	} else {
		b.tokens = min(float64(burst), b.tokens+now.Sub(b.filled).Seconds()*rate)
	}
	b.filled = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// NewLimiter returns a limiter of rate a second after burst at once.
func NewLimiter(rate float64, burst int) *Limiter {
	return &Limiter{Rate: rate, Burst: burst, buckets: map[string]*Bucket{}}
}

// Allow takes a token of key's bucket, or reports that key acts too fast.
// A nil limiter allows everything.
func (l *Limiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= 10_000 {
			l.prune(now)
		}
		b = &Bucket{}
		l.buckets[key] = b
	}
	return b.Take(now, l.Rate, l.Burst)
}

// prune forgets the buckets that have filled up again: a new one is the
// same.
func (l *Limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.filled).Seconds()*l.Rate >= float64(l.Burst) {
			delete(l.buckets, k)
		}
	}
}
