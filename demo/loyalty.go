package demo

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"regulars"
	"regulars/store"
)

// FollowerEmail is the demo follower to sign in to the follower app with
// (password Password, like every demo account).
const FollowerEmail = "follower@demo.regulars.example"

// LoyaltyResult is what the loyalty part of the demo made.
type LoyaltyResult struct {
	Points, Club *regulars.Engagement // the points program and the gamification program
	Coupons      []*regulars.Engagement
	Messages     []*regulars.Engagement
	Followers    int
	Rows         int64 // rows written for the followers, all tables together
	Took         time.Duration
}

// batchSize is how many followers one transaction writes.
const batchSize = 5000

var (
	firstNames = []string{"Olivia", "Noah", "Amelia", "Oliver", "Isla", "George", "Ava", "Leo", "Mia", "Arthur", "Sofia", "Luca", "Hana", "Mateo", "Zara", "Finn", "Chloe", "Omar", "Lena", "Kai",
		"Aisha", "Ivan", "Maja", "Tomas", "Nora", "Ravi", "Elena", "Jonas", "Priya", "Felix", "Ines", "Hugo", "Yara", "Emil", "Sara", "Aarav", "Freya", "Marco", "Lucia", "Sean"}
	lastNames = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Murphy", "Kelly", "Novak", "Horvat", "Müller", "Schmidt", "Rossi", "García", "Martin", "Dubois", "Kowalski",
		"Nielsen", "Johansson", "Patel", "Khan", "Silva", "Costa", "Byrne", "O'Brien", "Walsh", "Fischer", "Weber", "Moreau"}
	languages = []struct {
		code   string
		weight int
	}{{"en", 55}, {"de", 8}, {"fr", 7}, {"es", 6}, {"it", 5}, {"pl", 4}, {"pt", 3}, {"nl", 3}, {"ga", 2}, {"hr", 2}, {"ar", 2}, {"zh", 2}, {"", 12}}
)

// endUserID turns a follower number into a distinct 8-character ID from
// the app's alphabet: an affine map modulo 31^8 scatters neighbours.
func endUserID(n int64) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	const space = 852891037441 // 31^8
	v := (n*387420489 + 12345) % space
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = alphabet[v%31]
		v /= 31
	}
	return string(b)
}

func loadLoyalty(ctx context.Context, db *store.DB, hash string, res *Result, opts Options) (*LoyaltyResult, error) {
	now := db.Clock.Now().UTC()
	city, airport := res.Channels[0], res.Channels[1]
	p := res.Partner
	out := &LoyaltyResult{}
	yearAgo := now.AddDate(-1, 0, 0)
	mk := func(e *regulars.Engagement, status string) error {
		e.TenantID, e.PartnerID = p.TenantID, p.ID
		if e.StartsAt.IsZero() && status != regulars.EngagementDraft {
			e.StartsAt = yearAgo
		}
		if err := db.CreateEngagement(ctx, e); err != nil {
			return err
		}
		if status == regulars.EngagementActive {
			if _, err := db.SetEngagementStatus(ctx, e.ID, regulars.EngagementDraft, regulars.EngagementActive, e.StartsAt); err != nil {
				return err
			}
			e.Status, e.PublishedAt = status, e.StartsAt
		}
		return nil
	}
	out.Points = &regulars.Engagement{ChannelID: city.ID, Kind: regulars.KindLoyalty, Name: "Bean Points", Description: "Collect beans with every visit and spend them on treats.",
		Loyalty: &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints, PointSingular: "bean", PointPlural: "beans", ExpiryDays: 365,
			PointsOnFollow: 20, PointsOnJoin: 50, PointsPerVisit: 10, PointsPerAmount: 5, PointsOnLocation: 5}}
	out.Club = &regulars.Engagement{ChannelID: city.ID, Kind: regulars.KindLoyalty, Name: "Coffee Club", Description: "Climb from Bronze to Platinum: the more you visit, the more you get.",
		Loyalty: &regulars.LoyaltySpec{ProgramKind: regulars.ProgramGamification, PointSingular: "star", PointPlural: "stars", PointsOnJoin: 25, PointsPerVisit: 15,
			Levels: []regulars.ProgramLevel{{Position: 1, Name: "Bronze", Threshold: 0}, {Position: 2, Name: "Silver", Threshold: 100}, {Position: 3, Name: "Gold", Threshold: 250}, {Position: 4, Name: "Platinum", Threshold: 500}}}}
	for _, e := range []*regulars.Engagement{out.Points, out.Club} {
		if err := mk(e, regulars.EngagementActive); err != nil {
			return nil, err
		}
	}
	coupon := func(ch *regulars.Channel, name, desc string, c regulars.CouponSpec) *regulars.Engagement {
		if c.PerFollower == 0 {
			c.PerFollower = 1
		}
		return &regulars.Engagement{ChannelID: ch.ID, Kind: regulars.KindCoupon, Name: name, Description: desc, Coupon: &c}
	}
	pastry := coupon(city, "Free pastry", "Swap 150 beans for any pastry from the counter.", regulars.CouponSpec{RedemptionType: regulars.RedeemClick, ProgramID: out.Points.ID, PointCost: 150, PerFollower: 0})
	out.Coupons = []*regulars.Engagement{
		pastry,
		coupon(city, "10% off your order", "Show your code at the till.", regulars.CouponSpec{RedemptionType: regulars.RedeemCode, PerFollower: 5, ValidDays: 30}),
		coupon(city, "Happy hour 2-for-1", "Two drinks for one between 3 and 5 pm: show the proof screen.", regulars.CouponSpec{RedemptionType: regulars.RedeemTimed, ProofSeconds: 180, Stock: 5000}),
		coupon(city, "Free coffee at 500 beans", "Reach 500 beans in total and a coffee is on us.", regulars.CouponSpec{RedemptionType: regulars.RedeemAutoPoint, ProgramID: out.Points.ID, AutoThreshold: 500}),
		coupon(airport, "Airport welcome drink", "Visit us at Terminal 2 and the first drink is on us.", regulars.CouponSpec{RedemptionType: regulars.RedeemAutoVisit}),
		coupon(city, "Gold lounge upgrade", "Gold members and above: any size for the price of a small.", regulars.CouponSpec{RedemptionType: regulars.RedeemClick, ProgramID: out.Club.ID, MinLevel: 3, PerFollower: 0}),
	}
	for _, c := range out.Coupons {
		if err := mk(c, regulars.EngagementActive); err != nil {
			return nil, err
		}
	}
	out.Messages = []*regulars.Engagement{
		{ChannelID: city.ID, Kind: regulars.KindMessage, Name: "Autumn menu is here", Message: &regulars.MessageSpec{Text: "Pumpkin spice is back, with a new maple oat latte. Come and taste it this week!", Link: "https://beanandleaf.example/autumn", Recurring: regulars.RecurOnce}},
		{ChannelID: city.ID, Kind: regulars.KindMessage, Name: "Weekly specials", Message: &regulars.MessageSpec{Text: "This week's specials are on the board: ask the barista for the guest roast.", Recurring: regulars.RecurWeekly, TimeOfDay: "08:00"}},
		{ChannelID: airport.ID, Kind: regulars.KindMessage, Name: "Flight delayed? Coffee's on us", Message: &regulars.MessageSpec{Text: "Delayed? Show this message at Gate 12 for a free filter coffee.", Recurring: regulars.RecurOnce}},
	}
	for i, m := range out.Messages {
		status := regulars.EngagementActive
		if i == 2 {
			status = regulars.EngagementDraft
		}
		if i == 0 {
			m.StartsAt = now.Add(-time.Hour)
		}
		if err := mk(m, status); err != nil {
			return nil, err
		}
	}
	if err := loadFollowers(ctx, db, hash, res, out, opts, now); err != nil {
		return nil, err
	}
	for _, c := range out.Coupons {
		if err := db.RecountRedeemed(ctx, c.ID); err != nil {
			return nil, err
		}
	}
	return out, db.Analyze(ctx)
}

// gen makes the rows of one batch of followers.
type gen struct {
	rnd                              *rand.Rand
	now                              time.Time
	tenant, partner                  int64
	city, airport                    *regulars.Channel
	points, club, pastry, autoCoupon *regulars.Engagement
	hash                             string
	followerID, followID, ledgerID   int64
	activityID, activationID         int64
	followers, follows, memberships  [][]any
	ledger, activities, activations  [][]any
	rows                             int64
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func (g *gen) reset() {
	g.followers, g.follows, g.memberships = g.followers[:0], g.follows[:0], g.memberships[:0]
	g.ledger, g.activities, g.activations = g.ledger[:0], g.activities[:0], g.activations[:0]
}

// between returns a time uniformly between a and b.
func (g *gen) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(g.rnd.Int64N(int64(b.Sub(a)))))
}

func (g *gen) activity(channel, follower int64, kind string, eng *regulars.Engagement, points int64, text string, at time.Time) {
	g.activityID++
	var engID, engKind any = nil, ""
	if eng != nil {
		engID, engKind = eng.ID, eng.Kind
	}
	g.activities = append(g.activities, []any{g.activityID, g.tenant, g.partner, channel, follower, kind, engID, engKind, points, text, ms(at)})
}

// follower generates follower n: attributes, follow periods, memberships
// with a consistent ledger, coupons and the activity feed of it all.
func (g *gen) follower(n int64, special bool) {
	r := g.rnd
	g.followerID++
	id := g.followerID
	// The follower's feed is written program by program; numbered in the
	// order it happened, as live rows are, once it is all there.
	defer g.inTimeOrder(len(g.activities))
	// Growth: more followers joined recently, about seven times as many a
	// day now as a year ago (an exponential of 180 days over the year;
	// a steeper curve would put a crowd on the very last day).
	const tau, span = 180.0, 365.0
	days := -tau * math.Log(1-r.Float64()*(1-math.Exp(-span/tau)))
	joined := g.now.Add(-time.Duration(days * float64(24*time.Hour)))
	first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	name, email := first+" "+last, fmt.Sprintf("%s.%s.%d@followers.example", first, last, n)
	if special {
		name, email, joined = "Fran Follower", FollowerEmail, g.now.AddDate(0, -2, 0)
	}
	birth, gender, lang := "", "", ""
	if r.IntN(100) >= 15 {
		age := 18 + int(math.Abs(r.NormFloat64()*14)) + r.IntN(8)
		birth = joined.AddDate(-min(age, 85), -r.IntN(12), -r.IntN(28)).Format("2006-01-02")
	}
	switch x := r.IntN(100); {
	case x < 46:
		gender = regulars.GenderFemale
	case x < 88:
		gender = regulars.GenderMale
	case x < 91:
		gender = regulars.GenderOther
	}
	w := r.IntN(100)
	for _, l := range languages {
		if w < l.weight {
			lang = l.code
			break
		}
		w -= l.weight
	}
	g.followers = append(g.followers, []any{id, g.tenant, endUserID(n), name, email, "", birth, gender, lang, regulars.FollowerActive, g.hash, ms(joined)})

	followsCity := special || r.IntN(100) < 75
	followsAirport := !followsCity || r.IntN(100) < 30
	for _, ch := range []*regulars.Channel{g.city, g.airport} {
		if (ch == g.city && !followsCity) || (ch == g.airport && !followsAirport) {
			continue
		}
		at := joined
		if ch == g.airport && followsCity {
			at = g.between(joined, g.now)
		}
		// A few unfollow, and some of those come back.
		if !special && r.IntN(100) < 5 {
			end := g.between(at, g.now)
			g.followID++
			g.follows = append(g.follows, []any{g.followID, g.tenant, ch.ID, id, ms(at), ms(end), true})
			g.activity(ch.ID, id, regulars.ActChannelFollowed, nil, 0, "Followed "+ch.Name, at)
			g.activity(ch.ID, id, regulars.ActChannelUnfollowed, nil, 0, "Unfollowed "+ch.Name, end)
			if r.IntN(2) == 0 {
				continue
			}
			at = g.between(end, g.now)
		}
		g.followID++
		g.follows = append(g.follows, []any{g.followID, g.tenant, ch.ID, id, ms(at), 0, r.IntN(100) < 85})
		g.activity(ch.ID, id, regulars.ActChannelFollowed, nil, 0, "Followed "+ch.Name, at)
	}
	if !followsCity {
		return
	}
	if special || r.IntN(100) < 60 {
		g.member(id, g.points, joined, special)
	}
	if special || r.IntN(100) < 35 {
		g.member(id, g.club, joined, special)
	}
	// Some enabled the till coupon.
	if r.IntN(100) < 10 {
		g.activationID++
		at := g.between(joined, g.now)
		g.activations = append(g.activations, []any{g.activationID, g.tenant, g.city.ID, id, regulars.ActivationActive, ms(at), ms(at.AddDate(0, 0, 30)), 0})
	}
}

// inTimeOrder sorts the activities from index from on by their time and
// numbers them again in that order.
func (g *gen) inTimeOrder(from int) {
	rows := g.activities[from:]
	if len(rows) == 0 {
		return
	}
	first := rows[0][0].(int64)
	slices.SortStableFunc(rows, func(a, b []any) int { return cmp.Compare(a[10].(int64), b[10].(int64)) })
	for i, row := range rows {
		row[0] = first + int64(i)
	}
}

// member joins follower id to program p and writes a believable ledger.
func (g *gen) member(id int64, p *regulars.Engagement, followed time.Time, special bool) {
	r, l := g.rnd, p.Loyalty
	// Joined within two weeks of following, and not after now (clamping
	// to now would put every recent follower's welcome bonus on today).
	until := followed.Add(14 * 24 * time.Hour)
	if until.After(g.now) {
		until = g.now
	}
	joined := g.between(followed, until)
	var current, total int64
	level := 0
	earn := func(points int64, reason string, at time.Time) {
		g.ledgerID++
		var expires int64
		if l.ExpiryDays > 0 {
			expires = ms(at.AddDate(0, 0, int(l.ExpiryDays)))
		}
		g.ledger = append(g.ledger, []any{g.ledgerID, g.tenant, p.ID, id, regulars.LedgerEarn, points, reason, nil, nil, expires, ms(at)})
		current += points
		total += points
		g.activity(p.ChannelID, id, regulars.ActPointsEarned, p, points, fmt.Sprintf("%d %s in %s: %s", points, l.PointPlural, p.Name, reason), at)
		if lv := l.LevelFor(total); lv > level && l.HasLevels() {
			level = lv
			g.activity(p.ChannelID, id, regulars.ActLevelReached, p, 0, fmt.Sprintf("Reached level %d (%s) in %s", lv, l.Levels[lv-1].Name, p.Name), at)
		}
	}
	g.activity(p.ChannelID, id, regulars.ActProgramJoined, p, 0, "Joined "+p.Name, joined)
	at := joined
	if l.PointsOnJoin > 0 {
		earn(l.PointsOnJoin, "Welcome bonus for joining", at)
	}
	if l.PointsOnFollow > 0 {
		earn(l.PointsOnFollow, "Bonus for following the channel", at)
	}
	visits := int(r.ExpFloat64() * 6)
	if special {
		visits = 12
	}
	// Visits fall anywhere between joining and now, in order (each one
	// drawn after the last would crowd them all into the last days).
	times := make([]time.Time, visits)
	for i := range times {
		times[i] = g.between(joined, g.now)
	}
	slices.SortFunc(times, time.Time.Compare)
	for _, t := range times {
		at = t
		amount := int64(2 + r.IntN(14))
		earn(l.PointsPerVisit+l.PointsPerAmount*amount, fmt.Sprintf("Purchase of %d.%02d", amount, r.IntN(100)), at)
		if p == g.points && current >= g.pastry.Coupon.PointCost && r.IntN(100) < 35 {
			// A free pastry: enabled, redeemed, points spent.
			cost := g.pastry.Coupon.PointCost
			g.activationID++
			g.activations = append(g.activations, []any{g.activationID, g.tenant, g.pastry.ID, id, regulars.ActivationRedeemed, ms(at), 0, ms(at)})
			g.ledgerID++
			g.ledger = append(g.ledger, []any{g.ledgerID, g.tenant, p.ID, id, regulars.LedgerSpend, -cost, "Spent on " + g.pastry.Name, nil, g.pastry.ID, 0, ms(at)})
			current -= cost
			g.activity(p.ChannelID, id, regulars.ActCouponEnabled, g.pastry, 0, "Enabled "+g.pastry.Name, at)
			g.activity(p.ChannelID, id, regulars.ActCouponRedeemed, g.pastry, -cost, fmt.Sprintf("Redeemed %s for %d beans", g.pastry.Name, cost), at)
			g.activity(p.ChannelID, id, regulars.ActPointsSpent, p, -cost, fmt.Sprintf("%d beans in %s: Spent on %s", -cost, p.Name, g.pastry.Name), at)
		}
	}
	if p == g.points && total >= g.autoCoupon.Coupon.AutoThreshold {
		g.activationID++
		g.activations = append(g.activations, []any{g.activationID, g.tenant, g.autoCoupon.ID, id, regulars.ActivationActive, ms(at), 0, 0})
		g.activity(p.ChannelID, id, regulars.ActCouponEnabled, g.autoCoupon, 0, "Enabled "+g.autoCoupon.Name, at)
	}
	g.memberships = append(g.memberships, []any{p.ID, id, g.tenant, ms(joined), current, total, level})
}

// loadFollowers writes opts.Followers followers in transactions of
// batchSize, printing progress.
func loadFollowers(ctx context.Context, db *store.DB, hash string, res *Result, out *LoyaltyResult, opts Options, now time.Time) error {
	start := time.Now()
	restore, err := db.BulkLoading(ctx)
	if err != nil {
		return err
	}
	defer restore()
	seed := opts.Seed
	if seed == 0 {
		seed = 20261124
	}
	g := &gen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: now, tenant: res.Partner.TenantID, partner: res.Partner.ID,
		city: res.Channels[0], airport: res.Channels[1], points: out.Points, club: out.Club, pastry: out.Coupons[0], autoCoupon: out.Coupons[3], hash: hash}
	for _, x := range []struct {
		table string
		to    *int64
	}{{"followers", &g.followerID}, {"follows", &g.followID}, {"point_ledger", &g.ledgerID}, {"activities", &g.activityID}, {"coupon_activations", &g.activationID}} {
		if *x.to, err = db.MaxID(ctx, x.table); err != nil {
			return err
		}
	}
	tillCoupon := out.Coupons[1].ID
	total := max(opts.Followers, 1) // the demo follower always exists
	progress := func(done int) {
		if opts.Progress != nil {
			el := time.Since(start)
			rate := float64(done) / el.Seconds()
			fmt.Fprintf(opts.Progress, "followers %d/%d (%.0f%%), %d rows, %s, %.0f followers/s\n", done, total, 100*float64(done)/float64(total), g.rows, el.Round(time.Second), rate)
		}
	}
	for done := 0; done < total; {
		n := min(batchSize, total-done)
		g.reset()
		for i := range n {
			g.follower(int64(done+i), done+i == 0)
		}
		// The till coupon id was not known to the row maker: fill it in.
		for _, a := range g.activations {
			if a[2] == g.city.ID {
				a[2] = tillCoupon
			}
		}
		err := db.InTx(ctx, func(ctx context.Context) error {
			for _, t := range []struct {
				table string
				cols  []string
				rows  [][]any
			}{
				{"followers", []string{"id", "tenant_id", "end_user_id", "name", "email", "phone", "birth_date", "gender", "language", "status", "password_hash", "created_at"}, g.followers},
				{"follows", []string{"id", "tenant_id", "channel_id", "follower_id", "followed_at", "unfollowed_at", "notifications"}, g.follows},
				{"memberships", []string{"program_id", "follower_id", "tenant_id", "joined_at", "current_points", "total_points", "level"}, g.memberships},
				{"point_ledger", []string{"id", "tenant_id", "program_id", "follower_id", "kind", "points", "reason", "staff_user_id", "engagement_id", "expires_at", "created_at"}, g.ledger},
				{"coupon_activations", []string{"id", "tenant_id", "coupon_id", "follower_id", "status", "activated_at", "valid_until", "redeemed_at"}, g.activations},
				{"activities", []string{"id", "tenant_id", "partner_id", "channel_id", "follower_id", "kind", "engagement_id", "engagement_kind", "points", "text", "created_at"}, g.activities},
			} {
				if err := db.BulkInsert(ctx, t.table, t.cols, t.rows); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		g.rows += int64(len(g.followers) + len(g.follows) + len(g.memberships) + len(g.ledger) + len(g.activations) + len(g.activities))
		done += n
		if done%50000 == 0 || done == total || total <= 50000 {
			progress(done)
		}
	}
	for _, t := range []string{"followers", "follows", "point_ledger", "activities", "coupon_activations"} {
		if err := db.SyncIdentity(ctx, t); err != nil {
			return err
		}
	}
	out.Followers, out.Rows, out.Took = total, g.rows, time.Since(start)
	return nil
}
