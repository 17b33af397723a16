package segindex_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/segindex"
	"regulars/store"
)

// person is a follower of the criteria test, described by what matters.
type person struct {
	euid     string
	birth    string // "" unknown
	gender   string
	lang     string
	disabled bool
	main     time.Duration // followed the main channel this long ago (0: not)
	second   time.Duration // followed the second channel this long ago (0: not)
	unfollow bool          // stopped following the second channel
	points   []int64       // current, total in the points program (nil: not a member)
	level    int           // level in the gamification program (0: not a member)
	coupon   bool
	opened   bool // opened the message (delivered in any case)
	lists    []int
}

// TestEveryCriterion checks each condition of the seed on people chosen to
// sit on its edges: unknown attributes, exactly N points, one level (A =
// B), N days to the second, negation, lists and combinations. SQL, the
// index and the model must all find exactly the expected people.
func TestEveryCriterion(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fx := newFixture(t, db, 2)
		now := fx.m.now
		day := 24 * time.Hour
		// now is 2026-03-01 12:00 UTC.
		people := []person{
			{euid: "ANA", birth: "2008-03-01", gender: "female", lang: "en", main: day, points: []int64{100, 500}, level: 2, coupon: true, lists: []int{0}},   // 18 today
			{euid: "BEN", birth: "2008-03-02", gender: "male", lang: "de", main: day, second: 10 * day, points: []int64{99, 100}, level: 1, opened: true},     // 17, 18 tomorrow
			{euid: "CAT", birth: "1996-03-01", gender: "other", lang: "fr", main: day, second: 10*day - time.Second, points: []int64{101, 501}, level: 3},     // 30 today
			{euid: "DAN", birth: "1995-03-02", gender: "male", lang: "en", main: day, second: 30 * day, points: []int64{0, 0}, coupon: true, lists: []int{1}}, // 30, 31 tomorrow
			{euid: "EVE", main: day, second: 30*day + time.Second, lists: []int{0, 1}},                                                                        // nothing known
			{euid: "FAY", birth: "1990-01-01", gender: "female", lang: "de", main: day, second: day, unfollow: true, points: []int64{100, 100}, level: 2, opened: true, lists: []int{2}},
			{euid: "GUS", birth: "1990-01-01", gender: "female", lang: "en", disabled: true, main: day, coupon: true},
			{euid: "HAL", birth: "1980-05-05", gender: "male", lang: "en", second: 5 * day}, // follows only the second channel
		}
		ids := map[string]int64{}
		listIDs := make([][]int64, len(fx.lists))
		for _, p := range people {
			f := fx.w.AddFollower(t, p.euid, nil, func(f *regulars.Follower) {
				f.BirthDate, f.Gender, f.Language = p.birth, p.gender, p.lang
				if p.disabled {
					f.Status = regulars.FollowerDisabled
				}
			})
			ids[p.euid] = f.ID
			mf := &mFollower{f: *f, follows: map[int64]time.Time{}, members: map[int64]*regulars.Membership{}, coupons: map[int64]bool{}, opened: map[int64]bool{}, listedIn: map[int64]bool{}}
			if mf.f.Status == "" {
				mf.f.Status = regulars.FollowerActive
			}
			fx.m.followers[f.ID] = mf
			follow := func(ch int64, ago time.Duration, stop bool) {
				if ago == 0 {
					return
				}
				if _, _, err := db.Follow(ctx, fx.w.Tenant.ID, ch, f.ID, now.Add(-ago)); err != nil {
					t.Fatal(err)
				}
				if stop {
					if _, err := db.Unfollow(ctx, ch, f.ID, now); err != nil {
						t.Fatal(err)
					}
					return
				}
				mf.follows[ch] = now.Add(-ago)
			}
			follow(fx.channels[0], p.main, false)
			follow(fx.channels[1], p.second, p.unfollow)
			if p.points != nil {
				if err := db.Join(ctx, fx.w.Tenant.ID, fx.programs[0], f.ID, now); err != nil {
					t.Fatal(err)
				}
				if p.points[1] > 0 {
					if _, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: fx.w.Tenant.ID, ProgramID: fx.programs[0], FollowerID: f.ID, Kind: regulars.LedgerEarn, Points: p.points[1]}); err != nil {
						t.Fatal(err)
					}
				}
				if spend := p.points[1] - p.points[0]; spend > 0 {
					if _, err := db.AddLedgerEntry(ctx, &regulars.LedgerEntry{TenantID: fx.w.Tenant.ID, ProgramID: fx.programs[0], FollowerID: f.ID, Kind: regulars.LedgerSpend, Points: -spend}); err != nil {
						t.Fatal(err)
					}
				}
				mf.members[fx.programs[0]] = &regulars.Membership{CurrentPoints: p.points[0], TotalPoints: p.points[1]}
			}
			if p.level > 0 {
				if err := db.Join(ctx, fx.w.Tenant.ID, fx.programs[1], f.ID, now); err != nil {
					t.Fatal(err)
				}
				if err := db.SetMembershipLevel(ctx, fx.programs[1], f.ID, p.level); err != nil {
					t.Fatal(err)
				}
				mf.members[fx.programs[1]] = &regulars.Membership{Level: p.level}
			}
			if p.coupon {
				if err := db.CreateActivation(ctx, fx.w.Tenant.ID, &regulars.CouponActivation{CouponID: fx.coupon, FollowerID: f.ID, ActivatedAt: now}); err != nil {
					t.Fatal(err)
				}
				mf.coupons[fx.coupon] = true
			}
			if _, err := db.AddDelivery(ctx, fx.message, f.ID, "once", now); err != nil {
				t.Fatal(err)
			}
			if p.opened {
				if _, err := db.MarkOpened(ctx, fx.message, f.ID); err != nil {
					t.Fatal(err)
				}
				mf.opened[fx.message] = true
			}
			for _, l := range p.lists {
				listIDs[l] = append(listIDs[l], f.ID)
			}
		}
		for i, l := range fx.lists {
			fx.setList(l, listIDs[i])
		}

		n := func(v int64) *int64 { return &v }
		i := func(v int) *int { return &v }
		c := func(cs ...regulars.Condition) regulars.Rule { return regulars.Rule{Conditions: cs} }
		age := func(a, b int) regulars.Condition {
			return regulars.Condition{Type: regulars.CondAge, MinAge: i(a), MaxAge: i(b)}
		}
		points := func(typ, op string, v int64) regulars.Condition {
			return regulars.Condition{Type: typ, ProgramID: fx.programs[0], Op: op, Points: n(v)}
		}
		level := func(a, b int) regulars.Condition {
			return regulars.Condition{Type: regulars.CondLevel, ProgramID: fx.programs[1], MinLevel: i(a), MaxLevel: i(b)}
		}
		engaged := func(id int64, not bool) regulars.Condition {
			return regulars.Condition{Type: regulars.CondEngagement, EngagementID: id, Not: not}
		}
		second := func(not bool, minDays, maxDays *int64) regulars.Condition {
			return regulars.Condition{Type: regulars.CondChannel, ChannelID: fx.channels[1], Not: not, MinDays: minDays, MaxDays: maxDays}
		}
		tests := []struct {
			name string
			rule regulars.Rule
			want []string // in the scope of all the partner's channels
		}{
			{"age 18 to 30: 18 today is in, 18 tomorrow is not, 30 today is in, unknown never", c(age(18, 30)), []string{"ANA", "CAT", "DAN"}},
			{"age 30 to 30: one age", c(age(30, 30)), []string{"CAT", "DAN"}},
			{"age 17 to 17", c(age(17, 17)), []string{"BEN"}},
			{"gender female: unknown never, disabled not counted", c(regulars.Condition{Type: regulars.CondGender, Genders: []string{"female"}}), []string{"ANA", "FAY"}},
			{"gender male or other", c(regulars.Condition{Type: regulars.CondGender, Genders: []string{"male", "other"}}), []string{"BEN", "CAT", "DAN", "HAL"}},
			{"language en or de: unknown never", c(regulars.Condition{Type: regulars.CondLanguage, Languages: []string{"en", "de"}}), []string{"ANA", "BEN", "DAN", "FAY", "HAL"}},
			{"current points exactly 100", c(points(regulars.CondCurrentPoints, regulars.OpExactly, 100)), []string{"ANA", "FAY"}},
			{"current points less than 100: members only", c(points(regulars.CondCurrentPoints, regulars.OpLess, 100)), []string{"BEN", "DAN"}},
			{"current points more than 100", c(points(regulars.CondCurrentPoints, regulars.OpMore, 100)), []string{"CAT"}},
			{"total points exactly 500", c(points(regulars.CondTotalPoints, regulars.OpExactly, 500)), []string{"ANA"}},
			{"total points more than 100", c(points(regulars.CondTotalPoints, regulars.OpMore, 100)), []string{"ANA", "CAT"}},
			{"total points less than 1", c(points(regulars.CondTotalPoints, regulars.OpLess, 1)), []string{"DAN"}},
			{"level 2 only (A = B)", c(level(2, 2)), []string{"ANA", "FAY"}},
			{"levels 1 to 2", c(level(1, 2)), []string{"ANA", "BEN", "FAY"}},
			{"has activated the coupon", c(engaged(fx.coupon, false)), []string{"ANA", "DAN"}},
			{"hasn't activated the coupon", c(engaged(fx.coupon, true)), []string{"BEN", "CAT", "EVE", "FAY", "HAL"}},
			{"has joined the points program", c(engaged(fx.programs[0], false)), []string{"ANA", "BEN", "CAT", "DAN", "FAY"}},
			{"hasn't joined the gamification program", c(engaged(fx.programs[1], true)), []string{"DAN", "EVE", "HAL"}},
			{"has opened the message (delivered is not enough)", c(engaged(fx.message, false)), []string{"BEN", "FAY"}},
			{"the other partner's program: nobody has joined it", c(engaged(fx.programs[2], false)), nil},
			{"follows the second channel (stopped following does not count)", c(second(false, nil, nil)), []string{"BEN", "CAT", "DAN", "EVE", "HAL"}},
			{"doesn't follow the second channel", c(second(true, nil, nil)), []string{"ANA", "FAY"}},
			{"follows it for at least 10 days: 10 days to the second is in, a second less is out", c(second(false, n(10), nil)), []string{"BEN", "DAN", "EVE"}},
			{"follows it for at most 30 days: 30 days to the second is in, a second more is out", c(second(false, nil, n(30))), []string{"BEN", "CAT", "DAN", "HAL"}},
			{"follows it for 10 to 30 days", c(second(false, n(10), n(30))), []string{"BEN", "DAN"}},
			{"doesn't follow it for at least 10 days", c(second(true, n(10), nil)), []string{"ANA", "CAT", "FAY", "HAL"}},
			{"in list 0", c(regulars.Condition{Type: regulars.CondList, ListIDs: []int64{fx.lists[0]}}), []string{"ANA", "EVE"}},
			{"in list 0 or 1", c(regulars.Condition{Type: regulars.CondList, ListIDs: []int64{fx.lists[0], fx.lists[1]}}), []string{"ANA", "DAN", "EVE"}},
			{"in the other partner's list: nobody", c(regulars.Condition{Type: regulars.CondList, ListIDs: []int64{fx.lists[2]}}), nil},
			{"female, 18 to 30, activated the coupon, doesn't follow the second channel", c(
				regulars.Condition{Type: regulars.CondGender, Genders: []string{"female"}}, age(18, 30), engaged(fx.coupon, false), second(true, nil, nil)), []string{"ANA"}},
			{"five conditions, nobody", c(age(18, 60), regulars.Condition{Type: regulars.CondLanguage, Languages: []string{"en"}},
				points(regulars.CondCurrentPoints, regulars.OpMore, 0), level(1, 5), engaged(fx.message, false)), nil},
		}
		ix := segindex.New(db, testenv.Logger(t))
		ix.Sync = true
		scope := store.SegmentScope{PartnerID: fx.w.Partner.ID}
		for _, tt := range tests {
			if err := tt.rule.Check(); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			var want []int64
			for _, e := range tt.want {
				want = append(want, ids[e])
			}
			slices.Sort(want)
			if got := fx.m.members(scope, tt.rule); !slices.Equal(got, want) {
				t.Fatalf("%s: the model finds %v, want %v (%v): the test is wrong", tt.name, got, want, tt.want)
			}
			sqlIDs, err := db.SegmentMembersSQL(ctx, scope, tt.rule, now, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			ixIDs, err := ix.Members(ctx, fx.w.Tenant.ID, scope, tt.rule, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			count, err := ix.Count(ctx, fx.w.Tenant.ID, scope, tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sqlIDs, want) || !slices.Equal(ixIDs, want) || int(count) != len(want) {
				t.Errorf("%s: SQL %v, index %v (count %d), want %v %v", tt.name, sqlIDs, ixIDs, count, want, tt.want)
			}
		}
		// Scope: HAL follows only the second channel.
		r := c(regulars.Condition{Type: regulars.CondGender, Genders: []string{"male"}})
		for _, sc := range []struct {
			scope store.SegmentScope
			want  []string
		}{
			{store.SegmentScope{PartnerID: fx.w.Partner.ID, ChannelID: fx.channels[0]}, []string{"BEN", "DAN"}},
			{store.SegmentScope{PartnerID: fx.w.Partner.ID, ChannelID: fx.channels[1]}, []string{"BEN", "DAN", "HAL"}},
		} {
			var want []int64
			for _, e := range sc.want {
				want = append(want, ids[e])
			}
			slices.Sort(want)
			sqlIDs, _ := db.SegmentMembersSQL(ctx, sc.scope, r, now, 0, 100)
			ixIDs, _ := ix.Members(ctx, fx.w.Tenant.ID, sc.scope, r, 0, 100)
			if !slices.Equal(sqlIDs, want) || !slices.Equal(ixIDs, want) {
				t.Errorf("men of channel %d: SQL %v, index %v, want %v", sc.scope.ChannelID, sqlIDs, ixIDs, want)
			}
		}
	})
}
