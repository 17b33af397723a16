package testenv

import (
	"sync"
	"time"
)

// Clock is a clock that a test moves by hand. It satisfies regulars.Clock,
// so it can stand in for the clocks of app.App and store.DB:
//
//	clock := testenv.NewClock()
//	srv.UseClock(clock)
//	clock.Advance(72 * time.Hour)
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that starts at the current time, in UTC.
func NewClock() *Clock { return &Clock{now: time.Now().UTC().Truncate(time.Millisecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// UseClock makes the server's app and database tell the time by c. Call it
// before the requests that should see the clock.
func (s *Server) UseClock(c *Clock) {
	s.App.Clock = c
	s.DB.Clock = c
}
