package app

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"regulars"
)

// The follower app's hottest calls (every screen authenticates a token and
// most show a channel) read data that changes rarely. Three small caches keep
// them off the database:
//
//   - followers (and their tenant) by id, for followerTTL, behind the
//     token check that every call still makes; a profile saved on this
//     node is dropped at once;
//
//   - channel snapshots (the channel, its partner's status and its active
//     engagements with levels), for channelTTL, and dropped on this node
//     by any staff change to channels or engagements.
//
//   - a follower's own state (current follows, coupon activations,
//     memberships), for stateTTL, dropped on this node whenever app
//     changes it (every such change writes an activity line, which drops
//     it; follows, notification switches and expiry drop it too).
//
// Decisions that matter (enabling, redeeming, earning) never use them:
// they read inside their transactions.
const (
	followerTTL = 10 * time.Second
	channelTTL  = 2 * time.Second
	stateTTL    = 2 * time.Second
	cacheMax    = 100_000 // entries per cache before it starts afresh
)

type cached[V any] struct {
	v       V
	at      time.Time
	version uint64
}

// ttlCache is a map with a time to live per entry and a version that
// invalidates every entry at once.
type ttlCache[K comparable, V any] struct {
	mu      sync.RWMutex
	m       map[K]cached[V]
	ttl     time.Duration
	version atomic.Uint64
}

func newTTLCache[K comparable, V any](ttl time.Duration) *ttlCache[K, V] {
	return &ttlCache[K, V]{m: map[K]cached[V]{}, ttl: ttl}
}

func (c *ttlCache[K, V]) get(k K, now time.Time) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) > c.ttl || now.Before(e.at) || e.version != c.version.Load() {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[K, V]) put(k K, v V, now time.Time, version uint64) {
	c.mu.Lock()
	if len(c.m) >= cacheMax {
		c.m = map[K]cached[V]{}
	}
	c.m[k] = cached[V]{v: v, at: now, version: version}
	c.mu.Unlock()
}

func (c *ttlCache[K, V]) drop(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// invalidate makes every entry stale.
func (c *ttlCache[K, V]) invalidate() { c.version.Add(1) }

// caches are the App's caches, made on first use.
type caches struct {
	once      sync.Once
	followers *ttlCache[int64, *FollowerActor]
	channels  *ttlCache[int64, *channelSnapshot]
	state     *ttlCache[int64, *followerState]
}

func (a *App) cache() *caches {
	a.caches.once.Do(func() {
		a.caches.followers = newTTLCache[int64, *FollowerActor](followerTTL)
		a.caches.channels = newTTLCache[int64, *channelSnapshot](channelTTL)
		a.caches.state = newTTLCache[int64, *followerState](stateTTL)
	})
	return &a.caches
}

// catalogChanged drops the channel snapshots after a staff change.
func (a *App) catalogChanged() { a.cache().channels.invalidate() }

// channelSnapshot is what every follower sees of a channel.
type channelSnapshot struct {
	Channel       *regulars.Channel
	PartnerActive bool
	Engagements   []*regulars.Engagement // active ones, levels loaded
	ByID          map[int64]*regulars.Engagement
	// Everyone holds the engagements without segmentations: for them the
	// targeting hook need not be asked.
	Everyone map[int64]bool
}

// snapshot returns the channel's snapshot, from the cache when fresh.
func (a *App) snapshot(ctx context.Context, tenantID, channelID int64) (*channelSnapshot, error) {
	c := a.cache().channels
	now := time.Now()
	key := channelID
	if s, ok := c.get(key, now); ok && s.Channel.TenantID == tenantID {
		return s, nil
	}
	version := c.version.Load()
	ch, err := a.DB.TenantChannel(ctx, tenantID, channelID)
	if err != nil {
		return nil, err
	}
	p, err := a.DB.Partner(ctx, ch.TenantID, ch.PartnerID)
	if err != nil {
		return nil, err
	}
	list, err := a.DB.ActiveChannelEngagements(ctx, ch.ID, "")
	if err != nil {
		return nil, err
	}
	s := &channelSnapshot{Channel: ch, PartnerActive: p.Status == regulars.PartnerActive, Engagements: list, ByID: map[int64]*regulars.Engagement{}, Everyone: map[int64]bool{}}
	for _, e := range list {
		s.ByID[e.ID] = e
		if a.Targeting != nil {
			rules, err := a.DB.EngagementRules(ctx, e.ID)
			if err != nil {
				return nil, err
			}
			s.Everyone[e.ID] = len(rules) == 0
		}
	}
	c.put(key, s, now, version)
	return s, nil
}

// followerState is what a follower has: current follows, coupon
// activations (newest first) and program memberships.
type followerState struct {
	Follows     map[int64]*regulars.Follow // by channel
	Activations []*regulars.CouponActivation
	Memberships map[int64]*regulars.Membership // by program
}

// stateOf returns a follower's state, from the cache when fresh.
func (a *App) stateOf(ctx context.Context, followerID int64) (*followerState, error) {
	c := a.cache().state
	now := time.Now()
	if s, ok := c.get(followerID, now); ok {
		return s, nil
	}
	version := c.version.Load()
	follows, err := a.DB.Follows(ctx, followerID)
	if err != nil {
		return nil, err
	}
	acts, err := a.DB.Activations(ctx, followerID)
	if err != nil {
		return nil, err
	}
	ms, err := a.DB.Memberships(ctx, followerID)
	if err != nil {
		return nil, err
	}
	s := &followerState{Follows: map[int64]*regulars.Follow{}, Activations: acts, Memberships: map[int64]*regulars.Membership{}}
	for _, f := range follows {
		s.Follows[f.ChannelID] = f
	}
	for _, m := range ms {
		s.Memberships[m.ProgramID] = m
	}
	c.put(followerID, s, now, version)
	return s, nil
}

// followerChanged drops a follower's cached state on this node.
func (a *App) followerChanged(followerID int64) { a.cache().state.drop(followerID) }
