package segindex_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/segindex"
	"regulars/store"
)

// fixedClock is a clock that stands still.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// model is what the test itself knows about the followers it made, to
// evaluate rules the plain way: one follower at a time, with the domain's
// own Age.
type model struct {
	now       time.Time
	followers map[int64]*mFollower
	kinds     map[int64]string // the partner's engagements
	channels  map[int64]bool   // the partner's channels
	lists     map[int64]bool   // the partner's lists
}

type mFollower struct {
	f        regulars.Follower
	follows  map[int64]time.Time // channel → start of the current period
	members  map[int64]*regulars.Membership
	coupons  map[int64]bool
	opened   map[int64]bool
	listedIn map[int64]bool
}

func (m *model) holds(mf *mFollower, c regulars.Condition) bool {
	res := func() bool {
		switch c.Type {
		case regulars.CondEngagement:
			switch m.kinds[c.EngagementID] {
			case regulars.KindCoupon:
				return mf.coupons[c.EngagementID]
			case regulars.KindMessage:
				return mf.opened[c.EngagementID]
			case regulars.KindLoyalty:
				return mf.members[c.EngagementID] != nil
			}
			return false
		case regulars.CondChannel:
			at, ok := mf.follows[c.ChannelID]
			if !ok || !m.channels[c.ChannelID] {
				return false
			}
			d := m.now.Sub(at)
			if c.MinDays != nil && d < time.Duration(*c.MinDays)*24*time.Hour {
				return false
			}
			if c.MaxDays != nil && d > time.Duration(*c.MaxDays)*24*time.Hour {
				return false
			}
			return true
		case regulars.CondAge:
			age := mf.f.Age(m.now)
			return age >= 0 && age >= *c.MinAge && age <= *c.MaxAge
		case regulars.CondGender:
			return mf.f.Gender != "" && slices.Contains(c.Genders, mf.f.Gender)
		case regulars.CondLanguage:
			return mf.f.Language != "" && slices.Contains(c.Languages, mf.f.Language)
		case regulars.CondCurrentPoints, regulars.CondTotalPoints:
			ms := mf.members[c.ProgramID]
			if ms == nil || m.kinds[c.ProgramID] != regulars.KindLoyalty {
				return false
			}
			v := ms.CurrentPoints
			if c.Type == regulars.CondTotalPoints {
				v = ms.TotalPoints
			}
			switch c.Op {
			case regulars.OpLess:
				return v < *c.Points
			case regulars.OpExactly:
				return v == *c.Points
			}
			return v > *c.Points
		case regulars.CondLevel:
			ms := mf.members[c.ProgramID]
			return ms != nil && ms.Level >= *c.MinLevel && ms.Level <= *c.MaxLevel
		case regulars.CondList:
			for _, id := range c.ListIDs {
				if m.lists[id] && mf.listedIn[id] {
					return true
				}
			}
			return false
		}
		return false
	}()
	return res != c.Not
}

func (m *model) members(scope store.SegmentScope, r regulars.Rule) []int64 {
	var out []int64
	for id, mf := range m.followers {
		if mf.f.Status != regulars.FollowerActive {
			continue
		}
		in := false
		for ch := range mf.follows {
			if m.channels[ch] && (scope.ChannelID == 0 || scope.ChannelID == ch) {
				in = true
			}
		}
		if !in {
			continue
		}
		ok := true
		for _, c := range r.Conditions {
			if !m.holds(mf, c) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// fixture is a partner with two channels, two programs, a coupon, a
// message and two lists, plus the other partner's channel, program and
// list, and random followers.
type fixture struct {
	t        testing.TB
	db       *store.DB
	w        *testenv.World
	m        *model
	rnd      *rand.Rand
	channels []int64 // partner A's, then B's
	programs []int64 // A: points, gamification (4 levels); B: one
	coupon   int64
	message  int64
	lists    []int64 // A, A, B
	gen      int64
}

func newFixture(t testing.TB, db *store.DB, seed uint64) *fixture {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	db.Clock = fixedClock{now}
	w := testenv.NewWorld(t, db)
	fx := &fixture{t: t, db: db, w: w, rnd: rand.New(rand.NewPCG(seed, 7)), gen: 1000,
		m: &model{now: now, followers: map[int64]*mFollower{}, kinds: map[int64]string{}, channels: map[int64]bool{}, lists: map[int64]bool{}}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	second := &regulars.Channel{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Second", Status: regulars.ChannelActive}
	must(db.CreateChannel(ctx, second))
	fx.channels = []int64{w.Channel.ID, second.ID, w.OtherChannel.ID}
	fx.m.channels[w.Channel.ID], fx.m.channels[second.ID] = true, true
	eng := func(partner *regulars.Partner, channel int64, kind, name string, l *regulars.LoyaltySpec) int64 {
		e := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: partner.ID, ChannelID: channel, Kind: kind, Name: name, Status: regulars.EngagementActive, Loyalty: l}
		if kind == regulars.KindMessage {
			e.Message = &regulars.MessageSpec{Text: "Hello"}
		}
		if kind == regulars.KindCoupon {
			e.Coupon = &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}
		}
		must(db.CreateEngagement(ctx, e))
		if partner.ID == w.Partner.ID {
			fx.m.kinds[e.ID] = kind
		}
		return e.ID
	}
	levels := []regulars.ProgramLevel{{Position: 1, Name: "One", Threshold: 0}, {Position: 2, Name: "Two", Threshold: 100}, {Position: 3, Name: "Three", Threshold: 200}, {Position: 4, Name: "Four", Threshold: 300}}
	fx.programs = []int64{
		eng(w.Partner, w.Channel.ID, regulars.KindLoyalty, "Points", &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints}),
		eng(w.Partner, w.Channel.ID, regulars.KindLoyalty, "Game", &regulars.LoyaltySpec{ProgramKind: regulars.ProgramGamification, Levels: levels}),
		eng(w.OtherPartner, w.OtherChannel.ID, regulars.KindLoyalty, "Theirs", &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints}),
	}
	fx.coupon = eng(w.Partner, w.Channel.ID, regulars.KindCoupon, "Coffee Coupon", nil)
	fx.message = eng(w.Partner, second.ID, regulars.KindMessage, "Hello message", nil)
	for i, p := range []*regulars.Partner{w.Partner, w.Partner, w.OtherPartner} {
		l := &regulars.CustomList{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: fmt.Sprintf("List %d", i)}
		must(db.CreateList(ctx, l))
		fx.lists = append(fx.lists, l.ID)
		if p.ID == w.Partner.ID {
			fx.m.lists[l.ID] = true
		}
	}
	return fx
}

var (
	langs   = []string{"", "en", "de", "fr"}
	genders = []string{"", regulars.GenderFemale, regulars.GenderMale, regulars.GenderOther}
)

// addFollowers adds n random followers.
func (fx *fixture) addFollowers(n int) {
	ctx := context.Background()
	db, w, r, now := fx.db, fx.w, fx.rnd, fx.m.now
	for range n {
		i := len(fx.m.followers)
		f := w.AddFollower(fx.t, fmt.Sprintf("P%05d", i), nil, func(f *regulars.Follower) {
			switch r.IntN(6) {
			case 0:
				f.BirthDate = ""
			case 1: // a birthday today or tomorrow: the age boundary
				f.BirthDate = now.AddDate(-18-r.IntN(3), 0, r.IntN(2)).Format("2006-01-02")
			default:
				f.BirthDate = time.Date(1950+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			}
			f.Gender = genders[r.IntN(len(genders))]
			f.Language = langs[r.IntN(len(langs))]
			if r.IntN(10) == 0 {
				f.Status = regulars.FollowerDisabled
			}
			f.Email = fmt.Sprintf("p%d@x.example", i)
		})
		mf := &mFollower{f: *f, follows: map[int64]time.Time{}, members: map[int64]*regulars.Membership{}, coupons: map[int64]bool{}, opened: map[int64]bool{}, listedIn: map[int64]bool{}}
		if mf.f.Status == "" {
			mf.f.Status = regulars.FollowerActive
		}
		fx.m.followers[f.ID] = mf
		for _, ch := range fx.channels {
			if r.IntN(3) == 0 {
				continue
			}
			// Exactly 10 or 30 days ago now and then: the day boundary.
			at := now.Add(-time.Duration(r.IntN(60*24)) * time.Hour)
			switch r.IntN(5) {
			case 0:
				at = now.Add(-10 * 24 * time.Hour)
			case 1:
				at = now.Add(-30*24*time.Hour + time.Second)
			}
			if _, _, err := db.Follow(ctx, w.Tenant.ID, ch, f.ID, at); err != nil {
				fx.t.Fatal(err)
			}
			if r.IntN(8) == 0 {
				if _, err := db.Unfollow(ctx, ch, f.ID, now); err != nil {
					fx.t.Fatal(err)
				}
				continue
			}
			mf.follows[ch] = at.Truncate(time.Millisecond)
		}
		for _, p := range fx.programs {
			if r.IntN(2) == 0 {
				continue
			}
			fx.earn(mf, p, int64(r.IntN(4))*100+int64(r.IntN(2))*50)
		}
		if r.IntN(3) == 0 {
			a := &regulars.CouponActivation{CouponID: fx.coupon, FollowerID: f.ID, ActivatedAt: now}
			if err := db.CreateActivation(ctx, w.Tenant.ID, a); err != nil {
				fx.t.Fatal(err)
			}
			mf.coupons[fx.coupon] = true
		}
		if r.IntN(2) == 0 {
			if _, err := db.AddDelivery(ctx, fx.message, f.ID, "once", now); err != nil {
				fx.t.Fatal(err)
			}
			if r.IntN(2) == 0 {
				if _, err := db.MarkOpened(ctx, fx.message, f.ID); err != nil {
					fx.t.Fatal(err)
				}
				mf.opened[fx.message] = true
			}
		}
	}
}

// earn makes the follower a member of p (if not yet) and gives points;
// half of them are spent again.
func (fx *fixture) earn(mf *mFollower, p int64, points int64) {
	ctx := context.Background()
	db := fx.db
	if mf.members[p] == nil {
		if err := db.Join(ctx, fx.w.Tenant.ID, p, mf.f.ID, fx.m.now); err != nil {
			fx.t.Fatal(err)
		}
		mf.members[p] = &regulars.Membership{}
	}
	ms := mf.members[p]
	if points > 0 {
		if _, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: fx.w.Tenant.ID, ProgramID: p, FollowerID: mf.f.ID, Kind: regulars.LedgerEarn, Points: points}); err != nil {
			fx.t.Fatal(err)
		}
		ms.CurrentPoints += points
		ms.TotalPoints += points
		if fx.rnd.IntN(2) == 0 {
			spend := points / 2
			if _, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: fx.w.Tenant.ID, ProgramID: p, FollowerID: mf.f.ID, Kind: regulars.LedgerSpend, Points: -spend}); err != nil {
				fx.t.Fatal(err)
			}
			ms.CurrentPoints -= spend
		}
	}
	level := 0
	for i, threshold := range []int64{0, 100, 200, 300} {
		if ms.TotalPoints >= threshold {
			level = i + 1
		}
	}
	if p == fx.programs[1] && level != ms.Level {
		if err := db.SetMembershipLevel(ctx, p, mf.f.ID, level); err != nil {
			fx.t.Fatal(err)
		}
		ms.Level = level
	}
}

// setList makes the given followers the members of a list, the way an
// upload does: a new generation, then the switch.
func (fx *fixture) setList(listID int64, ids []int64) {
	ctx := context.Background()
	db := fx.db
	l := &regulars.CustomList{ID: listID, TenantID: fx.w.Tenant.ID}
	var cur int64
	for _, p := range []int64{fx.w.Partner.ID, fx.w.OtherPartner.ID} {
		if got, err := db.List(ctx, p, listID); err == nil {
			cur = got.Generation
		}
	}
	fx.gen++
	mw, err := db.NewMemberWriter(ctx, listID, fx.gen)
	if err != nil {
		fx.t.Fatal(err)
	}
	defer mw.Close()
	if err := mw.Add(ctx, ids...); err != nil {
		fx.t.Fatal(err)
	}
	if err := mw.Flush(ctx); err != nil {
		fx.t.Fatal(err)
	}
	if ok, err := db.SwitchGeneration(ctx, l, cur, fx.gen, int64(len(ids))); err != nil || !ok {
		fx.t.Fatalf("switch: %v %v", ok, err)
	}
	for _, mf := range fx.m.followers {
		delete(mf.listedIn, listID)
	}
	for _, id := range ids {
		fx.m.followers[id].listedIn[listID] = true
	}
}

func (fx *fixture) randomLists() {
	var ids []int64
	for id := range fx.m.followers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, l := range fx.lists {
		var in []int64
		for _, id := range ids {
			if fx.rnd.IntN(3) == 0 {
				in = append(in, id)
			}
		}
		fx.setList(l, in)
	}
}

func ptr[T any](v T) *T { return &v }

// randomRule makes a valid rule of one to four conditions; now and then it
// names the other partner's objects, which must match nobody.
func (fx *fixture) randomRule() regulars.Rule {
	r := fx.rnd
	pick := func(xs []int64) int64 { return xs[r.IntN(len(xs))] }
	var rule regulars.Rule
	for range 1 + r.IntN(4) {
		var c regulars.Condition
		switch typ := regulars.ConditionTypes[r.IntN(len(regulars.ConditionTypes))]; typ {
		case regulars.CondEngagement:
			c = regulars.Condition{Type: typ, EngagementID: pick([]int64{fx.coupon, fx.message, fx.programs[0], fx.programs[1], fx.programs[2]}), Not: r.IntN(2) == 0}
		case regulars.CondChannel:
			c = regulars.Condition{Type: typ, ChannelID: pick(fx.channels), Not: r.IntN(2) == 0}
			switch r.IntN(4) {
			case 0:
				c.MinDays = ptr(int64(10))
			case 1:
				c.MaxDays = ptr(int64(30))
			case 2:
				c.MinDays, c.MaxDays = ptr(int64(10)), ptr(int64(30))
			}
		case regulars.CondAge:
			a := 17 + r.IntN(4)
			c = regulars.Condition{Type: typ, MinAge: ptr(a), MaxAge: ptr(a + r.IntN(40))}
		case regulars.CondGender:
			c = regulars.Condition{Type: typ, Genders: []string{genders[1+r.IntN(3)]}}
			if r.IntN(2) == 0 && c.Genders[0] != regulars.GenderOther {
				c.Genders = append(c.Genders, regulars.GenderOther)
			}
		case regulars.CondLanguage:
			c = regulars.Condition{Type: typ, Languages: []string{langs[1+r.IntN(3)]}}
			if r.IntN(2) == 0 {
				c.Languages = append(c.Languages, "xx")
			}
		case regulars.CondCurrentPoints, regulars.CondTotalPoints:
			c = regulars.Condition{Type: typ, ProgramID: pick(fx.programs), Op: []string{regulars.OpLess, regulars.OpExactly, regulars.OpMore}[r.IntN(3)], Points: ptr(int64(r.IntN(5)) * 50)}
		case regulars.CondLevel:
			a := 1 + r.IntN(4)
			c = regulars.Condition{Type: typ, ProgramID: fx.programs[1], MinLevel: ptr(a), MaxLevel: ptr(a + r.IntN(5-a))}
		case regulars.CondList:
			c = regulars.Condition{Type: typ, ListIDs: []int64{pick(fx.lists)}}
			if r.IntN(2) == 0 {
				if other := pick(fx.lists); other != c.ListIDs[0] {
					c.ListIDs = append(c.ListIDs, other)
				}
			}
		}
		rule.Conditions = append(rule.Conditions, c)
	}
	if err := rule.Check(); err != nil {
		fx.t.Fatalf("random rule %s is invalid: %v", rule.JSON(), err)
	}
	return rule
}

// compare checks SQL, the index and the model agree on a rule in a scope.
func (fx *fixture) compare(ix *segindex.Index, scope store.SegmentScope, r regulars.Rule) {
	fx.t.Helper()
	ctx := context.Background()
	want := fx.m.members(scope, r)
	sqlCount, err := fx.db.CountSegmentSQL(ctx, scope, r, fx.m.now)
	if err != nil {
		fx.t.Fatalf("%s: %v", r.JSON(), err)
	}
	sqlIDs, err := fx.db.SegmentMembersSQL(ctx, scope, r, fx.m.now, 0, 100000)
	if err != nil {
		fx.t.Fatal(err)
	}
	ixCount, err := ix.Count(ctx, fx.w.Tenant.ID, scope, r)
	if err != nil {
		fx.t.Fatal(err)
	}
	ixIDs, err := ix.Members(ctx, fx.w.Tenant.ID, scope, r, 0, 100000)
	if err != nil {
		fx.t.Fatal(err)
	}
	if int(sqlCount) != len(want) || !slices.Equal(sqlIDs, want) {
		fx.t.Fatalf("rule %s in channel %d: SQL finds %d %v, the model %d %v", r.JSON(), scope.ChannelID, sqlCount, sqlIDs, len(want), want)
	}
	if int(ixCount) != len(want) || !slices.Equal(ixIDs, want) {
		fx.t.Fatalf("rule %s in channel %d: the index finds %d %v, the model %d %v", r.JSON(), scope.ChannelID, ixCount, ixIDs, len(want), want)
	}
	// The targeting test agrees too, for every follower of the tenant.
	var all []int64
	for id := range fx.m.followers {
		all = append(all, id)
	}
	slices.Sort(all)
	got, err := fx.db.MatchAnySQL(ctx, fx.w.Partner.ID, []regulars.Rule{r}, all, fx.m.now)
	if err != nil {
		fx.t.Fatal(err)
	}
	var wantAny []int64
	for _, id := range all {
		ok := true
		for _, c := range r.Conditions {
			ok = ok && fx.m.holds(fx.m.followers[id], c)
		}
		if ok {
			wantAny = append(wantAny, id)
		}
	}
	if !slices.Equal(got, wantAny) {
		fx.t.Fatalf("rule %s: MatchAnySQL finds %v, the model %v", r.JSON(), got, wantAny)
	}
}

// TestCompiledSQLAndIndexAgreeWithModel builds random followers and random
// rules and checks that the compiled SQL, the in-memory index and a plain
// evaluation one follower at a time find exactly the same members; then
// changes followers under the index and checks again.
func TestCompiledSQLAndIndexAgreeWithModel(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db, 1)
		fx.addFollowers(120)
		fx.randomLists()
		ix := segindex.New(db, testenv.Logger(t))
		ix.Sync = true
		scopes := []store.SegmentScope{{PartnerID: fx.w.Partner.ID}, {PartnerID: fx.w.Partner.ID, ChannelID: fx.channels[1]}}
		for range 150 {
			fx.compare(ix, scopes[fx.rnd.IntN(2)], fx.randomRule())
		}
		// Change things while the index is warm: new followers, more points,
		// unfollows, new list members, profile changes.
		ctx := context.Background()
		fx.addFollowers(15)
		var ids []int64
		for id := range fx.m.followers {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids[:30] {
			mf := fx.m.followers[id]
			fx.earn(mf, fx.programs[1], 100)
			if len(mf.follows) > 0 {
				for ch := range mf.follows {
					if _, err := db.Unfollow(ctx, ch, id, fx.m.now); err != nil {
						t.Fatal(err)
					}
					delete(mf.follows, ch)
					break
				}
			}
			mf.f.Language, mf.f.Gender = "de", regulars.GenderFemale
			if err := db.UpdateFollowerProfile(ctx, &mf.f); err != nil {
				t.Fatal(err)
			}
		}
		fx.randomLists()
		for range 150 {
			fx.compare(ix, scopes[fx.rnd.IntN(2)], fx.randomRule())
		}
	})
}
