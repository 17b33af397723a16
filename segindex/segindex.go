// Package segindex answers segment questions (how many followers match,
// which ones, is this follower targeted) from an in-memory, column-wise
// copy of the facts segments are about, kept per partner.
//
// The answers are exact, not "recent": before answering, the index reads
// the change log that database triggers write for every change to
// followers, follows, memberships, coupon activations and message opens
// (and that the store writes for lists and targeting), and reloads the
// followers that changed. While a partner's copy is being built (the first
// use after start, or after falling far behind), the same questions are
// answered by the compiled SQL, which is slower but exact too.
package segindex

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"regulars"
	"regulars/store"
)

// Index is the segment index of all partners of the database.
type Index struct {
	db  *store.DB
	log *slog.Logger
	// Now is the time rules are evaluated at (ages, follow durations).
	Now func() time.Time
	// CatchUp is the most changes applied one by one; beyond it a
	// partner's copy is rebuilt.
	CatchUp int
	// Retention is how long the change log keeps rows; a copy that has
	// not caught up for half of it is rebuilt.
	Retention time.Duration
	// Idle is how long an unused partner copy stays in memory.
	Idle time.Duration
	// Sync builds copies in the calling goroutine instead of the
	// background (tests and benchmarks that want the copy at once).
	Sync bool

	mu     sync.Mutex
	parts  map[int64]*part
	pruned time.Time
}

// New returns an index over db. Call Run to keep it fresh and pruned.
func New(db *store.DB, log *slog.Logger) *Index {
	return &Index{db: db, log: log, Now: func() time.Time { return db.Clock.Now() }, CatchUp: 20000,
		Retention: 15 * time.Minute, Idle: 30 * time.Minute, parts: map[int64]*part{}}
}

// part is one partner's copy.
type part struct {
	ix        *Index
	tenantID  int64
	partnerID int64

	mu        sync.Mutex // everything below
	state     int
	f         *facts
	cursor    store.ChangeCursor
	caughtUp  time.Time // wall clock of the last successful read of the log
	channels  map[int64]bool
	kinds     map[int64]string // engagement → kind; "" = not the partner's
	targeting map[int64][]regulars.Rule
	usedAt    atomic.Int64
}

const (
	cold = iota
	building
	ready
)

// errCold means the copy is not there yet: answer with SQL.
var errCold = errors.New("segindex: partner copy not ready")

func (ix *Index) part(tenantID, partnerID int64) *part {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	p := ix.parts[partnerID]
	if p == nil {
		p = &part{ix: ix, tenantID: tenantID, partnerID: partnerID}
		ix.parts[partnerID] = p
	}
	p.usedAt.Store(time.Now().UnixNano())
	return p
}

// Ready reports whether a partner's copy is built (answers come from
// memory rather than SQL).
func (ix *Index) Ready(partnerID int64) bool {
	ix.mu.Lock()
	p := ix.parts[partnerID]
	ix.mu.Unlock()
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == ready
}

// Warm builds a partner's copy now, or waits for the build under way.
func (ix *Index) Warm(ctx context.Context, tenantID, partnerID int64) error {
	p := ix.part(tenantID, partnerID)
	for {
		p.mu.Lock()
		st := p.state
		if st == cold {
			p.state = building
		}
		p.mu.Unlock()
		switch st {
		case ready:
			return nil
		case cold:
			return p.build(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// acquire locks the partner's copy and brings it up to date. It returns
// errCold (unlocked) when the copy is not built; the build then starts
// in the background.
func (p *part) acquire(ctx context.Context) error {
	p.mu.Lock()
	switch p.state {
	case cold:
		p.state = building
		p.mu.Unlock()
		if p.ix.Sync {
			if err := p.build(ctx); err != nil {
				return err
			}
			return p.acquire(ctx)
		}
		go func() {
			if err := p.build(context.WithoutCancel(ctx)); err != nil {
				p.ix.log.Error("segment index: build failed", "partner", p.partnerID, "err", err)
			}
		}()
		return errCold
	case building:
		p.mu.Unlock()
		return errCold
	}
	if err := p.catchUp(ctx); err != nil {
		p.mu.Unlock()
		if errors.Is(err, errCold) {
			return errCold
		}
		return err
	}
	return nil
}

// build loads the partner's followers into a new copy and swaps it in.
func (p *part) build(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			p.mu.Lock()
			p.state = cold
			p.mu.Unlock()
		}
	}()
	db := p.ix.db
	cursor, err := db.ChangeCursorNow(ctx)
	if err != nil {
		return err
	}
	started := time.Now()
	f := newFacts()
	err = db.PartnerFollowerFacts(ctx, p.partnerID, func(ff *store.FollowerFacts) {
		s, _ := f.slotOf(ff.ID, true)
		f.set(s, ff)
	})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.f, p.cursor, p.caughtUp, p.state = f, cursor, started, ready
	p.channels, p.kinds, p.targeting = nil, map[int64]string{}, map[int64][]regulars.Rule{}
	p.ix.log.Debug("segment index: built", "partner", p.partnerID, "followers", len(f.ids), "took", time.Since(started))
	return nil
}

// catchUp applies the change log since the cursor. Called with p.mu held.
func (p *part) catchUp(ctx context.Context) error {
	db := p.ix.db
	if time.Since(p.caughtUp) > p.ix.Retention/2 {
		return p.rebuildLater()
	}
	started := time.Now()
	changes, next, full, err := db.SegmentChanges(ctx, p.tenantID, p.cursor, p.ix.CatchUp)
	if err != nil {
		return err
	}
	if full {
		return p.rebuildLater()
	}
	var followers []int64
	seen := map[int64]bool{}
	for _, c := range changes {
		switch c.Kind {
		case store.ChangeFollower:
			if !seen[c.RefID] {
				seen[c.RefID] = true
				followers = append(followers, c.RefID)
			}
		case store.ChangeList:
			if _, ok := p.f.lists[c.RefID]; ok {
				delete(p.f.lists, c.RefID)
				if err := p.loadList(ctx, c.RefID); err != nil {
					return err
				}
			}
		case store.ChangeTargeting:
			if c.RefID == p.partnerID {
				p.targeting = map[int64][]regulars.Rule{}
				p.channels = nil
			}
		}
	}
	if len(followers) > 0 {
		if err := p.reload(ctx, followers); err != nil {
			return err
		}
	}
	p.cursor, p.caughtUp = next, started
	return nil
}

// rebuildLater drops the copy and starts building a new one; meanwhile
// answers come from SQL. Called with p.mu held.
func (p *part) rebuildLater() error {
	p.state, p.f = building, nil
	ctx := context.Background()
	if p.ix.Sync {
		p.mu.Unlock()
		err := p.build(ctx)
		p.mu.Lock()
		if err != nil {
			return err
		}
		return p.catchUp(ctx)
	}
	go func() {
		if err := p.build(ctx); err != nil {
			p.ix.log.Error("segment index: rebuild failed", "partner", p.partnerID, "err", err)
		}
	}()
	return errCold
}

// reload reads the current facts of followers that changed. Called with
// p.mu held.
func (p *part) reload(ctx context.Context, ids []int64) error {
	db, f := p.ix.db, p.f
	facts, err := db.FollowerFactsOf(ctx, p.partnerID, ids)
	if err != nil {
		return err
	}
	var slots []int64 // followers of the partner among ids, in the copy now
	for _, ff := range facts {
		s, ok := f.slotOf(ff.ID, len(ff.Follows) > 0)
		if !ok {
			continue
		}
		f.set(s, ff)
		slots = append(slots, ff.ID)
	}
	if len(slots) == 0 {
		return nil
	}
	programs := keys(f.programs)
	if len(programs) > 0 {
		ms, err := db.MembershipFactsOf(ctx, programs, slots)
		if err != nil {
			return err
		}
		for _, pid := range programs {
			pf := f.programs[pid]
			for _, id := range slots {
				s := f.slot[id]
				pf.member.set(s, false)
				pf.current[s], pf.total[s], pf.level[s] = 0, 0, 0
			}
			for _, m := range ms[pid] {
				s := f.slot[m.FollowerID]
				pf.member.set(s, true)
				pf.current[s], pf.total[s], pf.level[s] = m.CurrentPoints, m.TotalPoints, int16(m.Level)
			}
		}
	}
	if lists := keys(f.lists); len(lists) > 0 {
		got, err := db.ListedAmong(ctx, p.partnerID, lists, slots)
		if err != nil {
			return err
		}
		for _, lid := range lists {
			b := f.lists[lid]
			for _, id := range slots {
				b.set(f.slot[id], false)
			}
			for _, id := range got[lid] {
				b.set(f.slot[id], true)
			}
		}
	}
	for _, kind := range []string{regulars.KindCoupon, regulars.KindMessage} {
		var eids []int64
		for id := range f.engaged {
			if p.kinds[id] == kind {
				eids = append(eids, id)
			}
		}
		if len(eids) == 0 {
			continue
		}
		got, err := db.EngagedAmong(ctx, kind, eids, slots)
		if err != nil {
			return err
		}
		for _, eid := range eids {
			b := f.engaged[eid]
			for _, id := range slots {
				b.set(f.slot[id], false)
			}
			for _, id := range got[eid] {
				b.set(f.slot[id], true)
			}
		}
	}
	return nil
}

func keys[V any](m map[int64]V) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// kind returns the kind of one of the partner's engagements ("" for none).
// Called with p.mu held.
func (p *part) kind(ctx context.Context, id int64) (string, error) {
	if k, ok := p.kinds[id]; ok {
		return k, nil
	}
	k, err := p.ix.db.EngagementKind(ctx, p.partnerID, id)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		k, err = "", nil
	}
	if err != nil {
		return "", err
	}
	p.kinds[id] = k
	return k, nil
}

// ownsChannel reports whether the channel is the partner's. Called with
// p.mu held.
func (p *part) ownsChannel(ctx context.Context, id int64) (bool, error) {
	if p.channels == nil || !p.channels[id] {
		ids, err := p.ix.db.PartnerChannelIDs(ctx, p.partnerID)
		if err != nil {
			return false, err
		}
		p.channels = map[int64]bool{}
		for _, c := range ids {
			p.channels[c] = true
		}
	}
	return p.channels[id], nil
}

// loadProgram loads a program's members. Called with p.mu held.
func (p *part) loadProgram(ctx context.Context, id int64) (*programFacts, error) {
	f := p.f
	if pf, ok := f.programs[id]; ok {
		return pf, nil
	}
	pf := &programFacts{}
	pf.grow(len(f.ids))
	err := p.ix.db.ProgramFacts(ctx, id, func(m store.MembershipFact) {
		if s, ok := f.slot[m.FollowerID]; ok {
			pf.member.set(s, true)
			pf.current[s], pf.total[s], pf.level[s] = m.CurrentPoints, m.TotalPoints, int16(m.Level)
		}
	})
	if err != nil {
		return nil, err
	}
	f.programs[id] = pf
	return pf, nil
}

// loadEngaged loads who activated a coupon or opened a message. Called
// with p.mu held.
func (p *part) loadEngaged(ctx context.Context, kind string, id int64) (*bitset, error) {
	f := p.f
	if b, ok := f.engaged[id]; ok {
		return b, nil
	}
	b := &bitset{}
	err := p.ix.db.EngagedFollowers(ctx, kind, id, func(fid int64) {
		if s, ok := f.slot[fid]; ok {
			b.set(s, true)
		}
	})
	if err != nil {
		return nil, err
	}
	f.engaged[id] = b
	return b, nil
}

// loadList loads a list's current members (nil set for another partner's
// list). Called with p.mu held.
func (p *part) loadList(ctx context.Context, id int64) error {
	f := p.f
	b := &bitset{}
	own, err := p.ix.db.IsPartnerList(ctx, p.partnerID, id)
	if err != nil {
		return err
	}
	if own {
		var after int64
		for {
			ids, err := p.ix.db.ListMemberIDs(ctx, id, after, 50000)
			if err != nil {
				return err
			}
			for _, fid := range ids {
				if s, ok := f.slot[fid]; ok {
					b.set(s, true)
				}
			}
			if len(ids) < 50000 {
				break
			}
			after = ids[len(ids)-1]
		}
	}
	f.lists[id] = b
	return nil
}

// Run keeps the copies fresh (so that catching up stays small), drops the
// ones nobody used for a while and prunes the change log, every interval
// until ctx ends.
func (ix *Index) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			ix.Tick(ctx)
		}
	}
}

// Tick does the upkeep of Run once: it also builds, in the background, the
// copies of partners whose active engagements target segmentations, so
// that deliveries and the follower app do not wait for them.
func (ix *Index) Tick(ctx context.Context) {
	if pairs, err := ix.db.TargetingPartners(ctx); err == nil {
		for _, pr := range pairs {
			ix.mu.Lock()
			_, known := ix.parts[pr[1]]
			ix.mu.Unlock()
			if !known {
				p := ix.part(pr[0], pr[1])
				p.mu.Lock()
				cold := p.state == cold
				if cold {
					p.state = building
				}
				p.mu.Unlock()
				if cold {
					go func() {
						if err := p.build(context.WithoutCancel(ctx)); err != nil {
							ix.log.Error("segment index: build failed", "partner", p.partnerID, "err", err)
						}
					}()
				}
			}
		}
	} else if ctx.Err() == nil {
		ix.log.Warn("segment index: listing partners to warm", "err", err)
	}
	ix.mu.Lock()
	parts := make([]*part, 0, len(ix.parts))
	for id, p := range ix.parts {
		if time.Since(time.Unix(0, p.usedAt.Load())) > ix.Idle {
			delete(ix.parts, id)
			continue
		}
		parts = append(parts, p)
	}
	prune := time.Since(ix.pruned) > time.Minute
	if prune {
		ix.pruned = time.Now()
	}
	ix.mu.Unlock()
	for _, p := range parts {
		p.mu.Lock()
		if p.state == ready {
			if err := p.catchUp(ctx); err != nil && !errors.Is(err, errCold) && ctx.Err() == nil {
				ix.log.Warn("segment index: catching up", "partner", p.partnerID, "err", err)
			}
		}
		p.mu.Unlock()
	}
	if prune {
		if _, err := ix.db.PruneSegmentChanges(ctx, time.Now().Add(-ix.Retention).UnixMilli()); err != nil && ctx.Err() == nil {
			ix.log.Warn("segment index: pruning the change log", "err", err)
		}
	}
}
