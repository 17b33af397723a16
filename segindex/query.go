package segindex

import (
	"context"
	"errors"
	"slices"
	"time"

	"regulars"
	"regulars/store"
)

// test is one compiled condition: does slot s hold?
type test func(s int32) bool

// compile turns a rule into tests over the copy, loading what it refers to.
// Called with p.mu held.
func (p *part) compile(ctx context.Context, r regulars.Rule, now time.Time) ([]test, error) {
	f := p.f
	never := func(int32) bool { return false }
	out := make([]test, 0, len(r.Conditions))
	for _, c := range r.Conditions {
		var t test
		switch c.Type {
		case regulars.CondEngagement:
			kind, err := p.kind(ctx, c.EngagementID)
			if err != nil {
				return nil, err
			}
			switch kind {
			case regulars.KindLoyalty:
				pf, err := p.loadProgram(ctx, c.EngagementID)
				if err != nil {
					return nil, err
				}
				t = pf.member.has
			case regulars.KindCoupon, regulars.KindMessage:
				b, err := p.loadEngaged(ctx, kind, c.EngagementID)
				if err != nil {
					return nil, err
				}
				t = b.has
			default:
				t = never
			}
		case regulars.CondChannel:
			own, err := p.ownsChannel(ctx, c.ChannelID)
			if err != nil {
				return nil, err
			}
			if !own {
				t = never
				break
			}
			col := f.column(c.ChannelID)
			lo, hi := int64(1), int64(1<<62)
			if c.MaxDays != nil {
				lo = max(lo, now.UnixMilli()-*c.MaxDays*regulars.DayMS)
			}
			if c.MinDays != nil {
				hi = now.UnixMilli() - *c.MinDays*regulars.DayMS
			}
			t = func(s int32) bool { at := col[s]; return at != 0 && at >= lo && at <= hi }
		case regulars.CondAge:
			after, upTo := regulars.AgeBounds(now, *c.MinAge, *c.MaxAge)
			a, u := dateNumber(after), dateNumber(upTo)
			birth := f.birth
			t = func(s int32) bool { b := birth[s]; return b != 0 && b > a && b <= u }
		case regulars.CondGender:
			var want [4]bool
			for _, g := range c.Genders {
				want[genderCodes[g]] = true
			}
			want[0] = false
			gender := f.gender
			t = func(s int32) bool { return want[gender[s]] }
		case regulars.CondLanguage:
			want := map[uint16]bool{}
			for _, l := range c.Languages {
				if code, ok := f.langCodes[l]; ok {
					want[code] = true
				}
			}
			lang := f.lang
			switch len(want) {
			case 0:
				t = never
			case 1:
				var only uint16
				for k := range want {
					only = k
				}
				t = func(s int32) bool { return lang[s] == only }
			default:
				t = func(s int32) bool { return want[lang[s]] }
			}
		case regulars.CondCurrentPoints, regulars.CondTotalPoints, regulars.CondLevel:
			kind, err := p.kind(ctx, c.ProgramID)
			if err != nil {
				return nil, err
			}
			if kind != regulars.KindLoyalty {
				t = never
				break
			}
			pf, err := p.loadProgram(ctx, c.ProgramID)
			if err != nil {
				return nil, err
			}
			member := pf.member
			if c.Type == regulars.CondLevel {
				lo, hi, level := int16(*c.MinLevel), int16(*c.MaxLevel), pf.level
				t = func(s int32) bool { return member.has(s) && level[s] >= lo && level[s] <= hi }
				break
			}
			col := pf.current
			if c.Type == regulars.CondTotalPoints {
				col = pf.total
			}
			n := *c.Points
			switch c.Op {
			case regulars.OpLess:
				t = func(s int32) bool { return member.has(s) && col[s] < n }
			case regulars.OpExactly:
				t = func(s int32) bool { return member.has(s) && col[s] == n }
			default:
				t = func(s int32) bool { return member.has(s) && col[s] > n }
			}
		case regulars.CondList:
			var sets []*bitset
			for _, id := range c.ListIDs {
				if _, ok := f.lists[id]; !ok {
					if err := p.loadList(ctx, id); err != nil {
						return nil, err
					}
				}
				sets = append(sets, f.lists[id])
			}
			t = func(s int32) bool {
				for _, b := range sets {
					if b.has(s) {
						return true
					}
				}
				return false
			}
		default:
			t = never
		}
		if c.Not {
			inner := t
			t = func(s int32) bool { return !inner(s) }
		}
		out = append(out, t)
	}
	return out, nil
}

func all(tests []test, s int32) bool {
	for _, t := range tests {
		if !t(s) {
			return false
		}
	}
	return true
}

func (p *part) isReady() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == ready
}

// population returns the test of "in scope": active and following one of
// the partner's channels now (or the one channel of the scope).
func (p *part) population(scope store.SegmentScope) test {
	f := p.f
	active := f.active
	if scope.ChannelID == 0 {
		n := f.nfollow
		return func(s int32) bool { return active[s] && n[s] > 0 }
	}
	col := f.follows[scope.ChannelID]
	if col == nil {
		return func(int32) bool { return false }
	}
	return func(s int32) bool { return active[s] && col[s] != 0 }
}

// Count counts the followers in scope who match the rule.
func (ix *Index) Count(ctx context.Context, tenantID int64, scope store.SegmentScope, r regulars.Rule) (int64, error) {
	now := ix.Now()
	p := ix.part(tenantID, scope.PartnerID)
	if err := p.acquire(ctx); err != nil {
		if errors.Is(err, errCold) {
			return ix.db.CountSegmentSQL(ctx, scope, r, now)
		}
		return 0, err
	}
	defer p.mu.Unlock()
	tests, err := p.compile(ctx, r, now)
	if err != nil {
		return 0, err
	}
	in := p.population(scope)
	var n int64
	for s := range int32(len(p.f.ids)) {
		if in(s) && all(tests, s) {
			n++
		}
	}
	return n, nil
}

// Members returns up to limit ids of followers in scope who match the rule,
// in id order after the id given.
func (ix *Index) Members(ctx context.Context, tenantID int64, scope store.SegmentScope, r regulars.Rule, after int64, limit int) ([]int64, error) {
	now := ix.Now()
	p := ix.part(tenantID, scope.PartnerID)
	if err := p.acquire(ctx); err != nil {
		if errors.Is(err, errCold) {
			return ix.db.SegmentMembersSQL(ctx, scope, r, now, after, limit)
		}
		return nil, err
	}
	defer p.mu.Unlock()
	tests, err := p.compile(ctx, r, now)
	if err != nil {
		return nil, err
	}
	in := p.population(scope)
	// Slots are in id order only for the first build; collect, then sort.
	var out []int64
	f := p.f
	for s := range int32(len(f.ids)) {
		if f.ids[s] > after && in(s) && all(tests, s) {
			out = append(out, f.ids[s])
		}
	}
	slices.Sort(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// rules returns the rules of an engagement's segmentations. Called with
// p.mu held.
func (p *part) rules(ctx context.Context, engagementID int64) ([]regulars.Rule, error) {
	if r, ok := p.targeting[engagementID]; ok {
		return r, nil
	}
	r, err := p.ix.db.EngagementRules(ctx, engagementID)
	if err != nil {
		return nil, err
	}
	p.targeting[engagementID] = r
	return r, nil
}

// FilterFollowers returns those of ids that are in at least one of the
// engagement's segmentations, in the order given; all of them when it has
// none. It is the targeting test of message delivery, coupons, programs,
// the chat and proximity targeting.
func (ix *Index) FilterFollowers(ctx context.Context, e *regulars.Engagement, ids []int64) ([]int64, error) {
	now := ix.Now()
	p := ix.part(e.TenantID, e.PartnerID)
	if !p.isReady() {
		// Most engagements target everyone: find out before building a
		// copy of the partner's followers.
		rules, err := ix.db.EngagementRules(ctx, e.ID)
		if err != nil || len(rules) == 0 {
			return ids, err
		}
		if err := p.acquire(ctx); err != nil {
			if !errors.Is(err, errCold) {
				return nil, err
			}
			return ix.db.MatchAnySQL(ctx, e.PartnerID, rules, ids, now)
		}
	} else if err := p.acquire(ctx); err != nil {
		if !errors.Is(err, errCold) {
			return nil, err
		}
		rules, err := ix.db.EngagementRules(ctx, e.ID)
		if err != nil || len(rules) == 0 {
			return ids, err
		}
		return ix.db.MatchAnySQL(ctx, e.PartnerID, rules, ids, now)
	}
	rules, err := p.rules(ctx, e.ID)
	if err != nil || len(rules) == 0 {
		p.mu.Unlock()
		return ids, err
	}
	compiled := make([][]test, len(rules))
	for i, r := range rules {
		if compiled[i], err = p.compile(ctx, r, now); err != nil {
			p.mu.Unlock()
			return nil, err
		}
	}
	var out, outside []int64
	matched := map[int64]bool{}
	for _, id := range ids {
		s, ok := p.f.slot[id]
		if !ok {
			// Not a follower of the partner now: rare (the caller checks
			// the follow first), and answered by SQL below.
			outside = append(outside, id)
			continue
		}
		for _, t := range compiled {
			if all(t, s) {
				matched[id] = true
				break
			}
		}
	}
	p.mu.Unlock()
	if len(outside) > 0 {
		got, err := ix.db.MatchAnySQL(ctx, e.PartnerID, rules, outside, now)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			matched[id] = true
		}
	}
	for _, id := range ids {
		if matched[id] {
			out = append(out, id)
			delete(matched, id)
		}
	}
	return out, nil
}

// Matches reports whether a follower is in at least one of the
// engagement's segmentations (true when it has none).
func (ix *Index) Matches(ctx context.Context, e *regulars.Engagement, followerID int64) (bool, error) {
	got, err := ix.FilterFollowers(ctx, e, []int64{followerID})
	return len(got) == 1, err
}

// Targeted reports, for each engagement (all of one partner), whether it
// targets the follower: the check of a channel page or the chat's list of
// engagements, with one read of the change log for all of them.
func (ix *Index) Targeted(ctx context.Context, es []*regulars.Engagement, followerID int64) ([]bool, error) {
	out := make([]bool, len(es))
	if len(es) == 0 {
		return out, nil
	}
	now := ix.Now()
	p := ix.part(es[0].TenantID, es[0].PartnerID)
	if err := p.acquire(ctx); err != nil {
		if !errors.Is(err, errCold) {
			return nil, err
		}
		for i, e := range es {
			if out[i], err = ix.Matches(ctx, e, followerID); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	s, known := p.f.slot[followerID]
	var fallback []int
	for i, e := range es {
		if e.PartnerID != p.partnerID {
			p.mu.Unlock()
			return nil, errors.New("segindex: Targeted needs engagements of one partner")
		}
		rules, err := p.rules(ctx, e.ID)
		if err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if len(rules) == 0 {
			out[i] = true
			continue
		}
		if !known {
			fallback = append(fallback, i)
			continue
		}
		for _, r := range rules {
			tests, err := p.compile(ctx, r, now)
			if err != nil {
				p.mu.Unlock()
				return nil, err
			}
			if all(tests, s) {
				out[i] = true
				break
			}
		}
	}
	p.mu.Unlock()
	for _, i := range fallback {
		rules, err := ix.db.EngagementRules(ctx, es[i].ID)
		if err != nil {
			return nil, err
		}
		got, err := ix.db.MatchAnySQL(ctx, es[i].PartnerID, rules, []int64{followerID}, now)
		if err != nil {
			return nil, err
		}
		out[i] = len(got) == 1
	}
	return out, nil
}

// AudienceSize counts the current followers of an engagement's channel in
// at least one of its segmentations, whatever their status: the total of a
// delivery run, which goes to the same people. ok is false when the
// engagement has no segmentations (everyone is in it).
func (ix *Index) AudienceSize(ctx context.Context, e *regulars.Engagement) (n int64, ok bool, err error) {
	now := ix.Now()
	p := ix.part(e.TenantID, e.PartnerID)
	rules, err := ix.db.EngagementRules(ctx, e.ID)
	if err != nil || len(rules) == 0 {
		return 0, false, err
	}
	if err := p.acquire(ctx); err != nil {
		if !errors.Is(err, errCold) {
			return 0, false, err
		}
		n, err := ix.db.CountAudienceSQL(ctx, e.PartnerID, e.ChannelID, rules, now)
		return n, true, err
	}
	defer p.mu.Unlock()
	compiled := make([][]test, len(rules))
	for i, r := range rules {
		if compiled[i], err = p.compile(ctx, r, now); err != nil {
			return 0, false, err
		}
	}
	col := p.f.follows[e.ChannelID]
	for s := range int32(len(p.f.ids)) {
		if col == nil || col[s] == 0 {
			continue
		}
		for _, t := range compiled {
			if all(t, s) {
				n++
				break
			}
		}
	}
	return n, true, nil
}

// FollowingPartner returns those of ids who follow one of the partner's
// channels now (whatever their status): "your followers", for list
// uploads.
func (ix *Index) FollowingPartner(ctx context.Context, tenantID, partnerID int64, ids []int64) (map[int64]bool, error) {
	p := ix.part(tenantID, partnerID)
	if err := p.acquire(ctx); err != nil {
		if errors.Is(err, errCold) {
			return ix.db.FollowingPartner(ctx, partnerID, ids)
		}
		return nil, err
	}
	defer p.mu.Unlock()
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if s, ok := p.f.slot[id]; ok && p.f.nfollow[s] > 0 {
			out[id] = true
		}
	}
	return out, nil
}
