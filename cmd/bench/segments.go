package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/demo"
	"regulars/server"
	"regulars/store"
)

func init() {
	suites["segments"] = suite{"segment counts, targeting checks and list uploads on the demo world of 1,000,000 followers (-db required: the world takes minutes to make)", segments}
}

// segments measures the segmentation feature on `regulars demo --followers
// N` (N from REGULARS_BENCH_FOLLOWERS, default 1,000,000), each next to a
// baseline of the same run:
//
//   - the count of a five-condition segmentation (from the in-memory index,
//     from the compiled SQL, and end to end through the editor's live-count
//     request) against a brute-force scan of the same facts in Go slices;
//   - the targeting check of one follower against the engagements of a
//     channel against a bare primary-key lookup of a follower;
//   - a list upload of 1,000,000 end-user IDs against a raw batched insert
//     (SQLite) or COPY (PostgreSQL) of the same rows.
func segments(ctx context.Context, o options) error {
	if o.DatabaseURL == "" {
		return fmt.Errorf("give -db: a SQLite file to keep (e.g. -db /tmp/bench/regulars.db) or a postgres:// URL; the demo world of a million followers takes minutes to make, once")
	}
	n := 1_000_000
	if v := os.Getenv("REGULARS_BENCH_FOLLOWERS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, o.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: os.TempDir(), DatabaseURL: o.DatabaseURL, BaseURL: "http://127.0.0.1"}
	p, err := server.Assemble(ctx, cfg, log, db)
	if err != nil {
		return err
	}
	a := p.App
	if _, err := db.TenantBySlug(ctx, "demo"); err != nil {
		fmt.Fprintf(os.Stderr, "making the demo world with %d followers (once)…\n", n)
		if _, err := demo.Load(ctx, db, app.DefaultPasswordParams, demo.Options{Followers: n, Progress: os.Stderr}); err != nil {
			return err
		}
	}
	signIn, err := a.SignIn(ctx, "owner@beanandleaf.example", demo.Password, "127.0.0.1", "bench")
	if err != nil {
		return err
	}
	owner := signIn.Actor
	partner := owner.Partner
	channels, err := db.Channels(ctx, partner.ID)
	if err != nil {
		return err
	}
	var city, airport *regulars.Channel
	for _, c := range channels {
		switch {
		case strings.Contains(c.Name, "City"):
			city = c
		case strings.Contains(c.Name, "Airport"):
			airport = c
		}
	}
	programs, err := db.Engagements(ctx, partner.ID, regulars.KindLoyalty, "")
	if err != nil || city == nil || airport == nil || len(programs) == 0 {
		return fmt.Errorf("the demo world lacks its channels or programs: %v", err)
	}
	var points *regulars.Engagement
	for _, pr := range programs {
		if pr.Loyalty.ProgramKind == regulars.ProgramPoints {
			points = pr
		}
	}
	started := time.Now()
	if err := a.Segments.Warm(ctx, owner.User.TenantID, partner.ID); err != nil {
		return err
	}
	build := time.Since(started)
	population, err := a.SegmentPopulation(ctx, owner, 0)
	if err != nil {
		return err
	}
	fmt.Printf("Database: %s. Demo world: %d followers of %s (all channels).\n\n", db.Dialect(), population, partner.BrandName)

	if os.Getenv("REGULARS_BENCH_ONLY") == "upload" {
		facts, err := bruteFacts(ctx, db, partner.ID, points.ID, airport.ID)
		if err != nil {
			return err
		}
		return listUploadBench(ctx, a, owner, db, facts)
	}

	// The five conditions.
	ip := func(v int) *int { return &v }
	rule := regulars.Rule{Conditions: []regulars.Condition{
		{Type: regulars.CondAge, MinAge: ip(18), MaxAge: ip(40)},
		{Type: regulars.CondGender, Genders: []string{regulars.GenderFemale}},
		{Type: regulars.CondLanguage, Languages: []string{"en", "de"}},
		{Type: regulars.CondCurrentPoints, ProgramID: points.ID, Op: regulars.OpMore, Points: func() *int64 { v := int64(20); return &v }()},
		{Type: regulars.CondChannel, ChannelID: airport.ID, Not: true},
	}}
	scope := store.SegmentScope{PartnerID: partner.ID}
	started = time.Now()
	want, err := a.Segments.Count(ctx, owner.User.TenantID, scope, rule) // loads the points program
	if err != nil {
		return err
	}
	firstUse := time.Since(started)

	fmt.Println("### Count of a five-condition segmentation")
	fmt.Println()
	fmt.Printf("Age 18–40, female, English or German, more than 20 points now in %s, not following %s: **%d** of %d followers. "+
		"Building the in-memory copy took %s; the first count that needed the program's points %s (both once per node, in the background).\n\n",
		points.Name, airport.Name, want, population, build.Round(time.Millisecond), firstUse.Round(time.Millisecond))

	// Baseline: the same facts in Go slices, scanned one follower at a time.
	facts, err := bruteFacts(ctx, db, partner.ID, points.ID, airport.ID)
	if err != nil {
		return err
	}
	now := a.Clock.Now().UTC()
	after, upTo := regulars.AgeBounds(now, 18, 40)
	var bruteN int64
	brute := measure(20, func() {
		bruteN = 0
		for i := range facts {
			f := &facts[i]
			if f.active && f.follows && f.birth > after && f.birth <= upTo && f.gender == regulars.GenderFemale &&
				(f.lang == "en" || f.lang == "de") && f.member && f.current > 20 && !f.airport {
				bruteN++
			}
		}
	})
	var ixN, sqlN int64
	ix := measure(20, func() { ixN, err = a.Segments.Count(ctx, owner.User.TenantID, scope, rule) })
	if err != nil {
		return err
	}
	sqlRuns := measure(5, func() { sqlN, err = db.CountSegmentSQL(ctx, scope, rule, now) })
	if err != nil {
		return err
	}
	live, liveErr := liveCount(ctx, p, owner, rule, 20)
	if liveErr != nil {
		return liveErr
	}
	if ixN != bruteN || sqlN != bruteN {
		return fmt.Errorf("the counts differ: index %d, SQL %d, brute force %d", ixN, sqlN, bruteN)
	}
	fmt.Println("| measurement | median | p95 | × baseline |")
	fmt.Println("|---|---:|---:|---:|")
	fmt.Println(brute.row("baseline: brute-force scan of the facts in Go slices", brute))
	fmt.Println(ix.row("segment index (change-log read + column scan)", brute))
	fmt.Println(sqlRuns.row("compiled SQL alone", brute))
	fmt.Println(live.row("editor live count, HTTP request end to end (count + population + 20-row preview)", brute))
	fmt.Println()

	// Targeting: one follower against the engagements of a channel.
	seg, err := a.CreateSegmentation(ctx, owner, app.SegmentationInput{Name: fmt.Sprintf("Bench %d", time.Now().UnixNano()), Rule: rule})
	if err != nil {
		return err
	}
	defer a.DB.DeleteSegmentation(context.WithoutCancel(ctx), seg)
	es, err := db.ActiveChannelEngagements(ctx, city.ID, "")
	if err != nil {
		return err
	}
	for _, e := range es {
		if e.Kind != regulars.KindChat {
			if _, _, err := a.AttachSegmentation(ctx, owner, e.ID, seg.ID); err != nil {
				return err
			}
		}
	}
	defer func() {
		for _, e := range es {
			a.DetachSegmentation(context.WithoutCancel(ctx), owner, e.ID, seg.ID)
		}
	}()
	ids := make([]int64, 0, len(facts))
	for _, f := range facts {
		if f.follows {
			ids = append(ids, f.id)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() int64 { return ids[r.IntN(len(ids))] }
	a.TargetedEngagements(ctx, es, pick()) // warm the rules
	pk := measure(3000, func() { _, err = db.Follower(ctx, owner.User.TenantID, pick()) })
	if err != nil {
		return err
	}
	targeted := measure(3000, func() { _, err = a.TargetedEngagements(ctx, es, pick()) })
	if err != nil {
		return err
	}
	one := measure(3000, func() { _, err = a.Segments.Matches(ctx, es[0], pick()) })
	if err != nil {
		return err
	}
	audience := measure(1000, func() {
		f := pick()
		for _, e := range es {
			if _, err = a.InAudience(ctx, e, f); err != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("### Targeting check of one follower\n\nThe %d active engagements of %s all target the five-condition segmentation; random followers.\n\n", len(es), city.Name)
	fmt.Println("| measurement | median | p95 | × baseline |")
	fmt.Println("|---|---:|---:|---:|")
	fmt.Println(pk.row("baseline: bare primary-key lookup of a follower (prepared)", pk))
	fmt.Println(targeted.row(fmt.Sprintf("all %d engagements of the channel in one check (`TargetedEngagements`)", len(es)), pk))
	fmt.Println(one.row("one engagement (`Targeting.Matches`)", pk))
	fmt.Println(audience.row(fmt.Sprintf("`InAudience` per engagement, %d times (follow check + hook each)", len(es)), pk))
	fmt.Println()

	// List upload of a million end-user IDs.
	return listUploadBench(ctx, a, owner, db, facts)
}

// bruteFact is one follower as the brute-force baseline holds it.
type bruteFact struct {
	id                       int64
	birth, gender, lang      string
	active, follows, airport bool
	member                   bool
	current                  int64
}

// bruteFacts loads the partner's followers with what the five conditions
// need, in one pass (not timed).
func bruteFacts(ctx context.Context, db *store.DB, partnerID, programID, airportID int64) ([]bruteFact, error) {
	var out []bruteFact
	idx := map[int64]int{}
	err := db.PartnerFollowerFacts(ctx, partnerID, func(f *store.FollowerFacts) {
		b := bruteFact{id: f.ID, birth: f.BirthDate, gender: f.Gender, lang: f.Language, active: f.Active, follows: len(f.Follows) > 0}
		for _, fl := range f.Follows {
			if fl.ChannelID == airportID {
				b.airport = true
			}
		}
		idx[f.ID] = len(out)
		out = append(out, b)
	})
	if err != nil {
		return nil, err
	}
	err = db.ProgramFacts(ctx, programID, func(m store.MembershipFact) {
		if i, ok := idx[m.FollowerID]; ok {
			out[i].member, out[i].current = true, m.CurrentPoints
		}
	})
	return out, err
}

// runs are timings of one measurement.
type runs []time.Duration

func measure(n int, fn func()) runs {
	out := make(runs, n)
	for i := range out {
		t := time.Now()
		fn()
		out[i] = time.Since(t)
	}
	slices.Sort(out)
	return out
}

func (r runs) median() time.Duration { return r[len(r)/2] }
func (r runs) p95() time.Duration    { return r[min(len(r)-1, len(r)*95/100)] }

func (r runs) row(what string, base runs) string {
	return fmt.Sprintf("| %s | %s | %s | %.1f× |", what, human(r.median()), human(r.p95()), float64(r.median())/float64(base.median()))
}

func human(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// liveCount times the editor's live-count request through the whole HTTP
// handler chain, signed in as the owner.
func liveCount(ctx context.Context, p *server.Product, owner *app.Actor, rule regulars.Rule, n int) (runs, error) {
	s, err := p.App.SignIn(ctx, owner.User.Email, demo.Password, "127.0.0.1", "bench")
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(p.Handler)
	defer srv.Close()
	form := url.Values{"name": {"x"}}
	for i, c := range rule.Conditions {
		k := strconv.Itoa(i)
		form.Add("c", k)
		set := func(name, v string) { form.Add("c."+k+"."+name, v) }
		set("type", c.Type)
		switch c.Type {
		case regulars.CondAge:
			set("min_age", strconv.Itoa(*c.MinAge))
			set("max_age", strconv.Itoa(*c.MaxAge))
		case regulars.CondGender:
			for _, g := range c.Genders {
				set("gender", g)
			}
		case regulars.CondLanguage:
			for _, l := range c.Languages {
				set("language", l)
			}
		case regulars.CondCurrentPoints:
			set("program", strconv.FormatInt(c.ProgramID, 10))
			set("op", c.Op)
			set("points", strconv.FormatInt(*c.Points, 10))
		case regulars.CondChannel:
			set("channel", strconv.FormatInt(c.ChannelID, 10))
			if c.Not {
				set("not", "1")
			}
		}
	}
	body := form.Encode()
	var failed error
	out := measure(n, func() {
		req, _ := http.NewRequest("POST", srv.URL+"/admin/segmentations/editor/count", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: "rg_session", Value: s.Secret})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			failed = err
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), `data-count="`) || strings.Contains(string(b), `data-count=""`) {
			failed = fmt.Errorf("live count: %d %.300s", resp.StatusCode, b)
		}
	})
	return out, failed
}

// listUploadBench uploads a million end-user IDs into a fresh list and
// inserts the same rows raw.
func listUploadBench(ctx context.Context, a *app.App, owner *app.Actor, db *store.DB, facts []bruteFact) error {
	const rows = 1_000_000
	ids := make([]int64, 0, rows)
	for _, f := range facts {
		if len(ids) < rows {
			ids = append(ids, f.id)
		}
	}
	fs, err := db.FollowersByIDs(ctx, owner.User.TenantID, ids)
	if err != nil {
		return err
	}
	var file strings.Builder
	file.WriteString("end_user_id\n")
	for _, f := range fs {
		file.WriteString(f.EndUserID + "\n")
	}
	body := file.String()
	l, err := a.CreateList(ctx, owner, fmt.Sprintf("Bench %d", time.Now().UnixNano()))
	if err != nil {
		return err
	}
	defer a.DeleteList(context.WithoutCancel(ctx), owner, l.ID)
	t := time.Now()
	u, err := a.ImportList(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadReplace, FileName: "million.csv", File: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		return err
	}
	upload := time.Since(t)
	if u.State != regulars.UploadDone || u.Matched != int64(len(fs)) {
		return fmt.Errorf("the upload: %+v", u)
	}
	// Baselines, raw: the file's rows (list, line, identifier) as they
	// are, and the member rows (list, generation, follower) the upload
	// writes.
	lines := make([][]any, len(fs))
	for i, f := range fs {
		lines[i] = []any{l.ID, int64(i + 2), f.EndUserID}
	}
	rawLines, err := db.RawInsertBaseline(ctx, "", nil, lines)
	if err != nil {
		return err
	}
	members := make([][]any, len(fs))
	gen := -time.Now().UnixNano()
	for i, f := range fs {
		members[i] = []any{l.ID, gen, f.ID}
	}
	rawMembers, err := db.RawInsertBaseline(ctx, "custom_list_members", []string{"list_id", "generation", "follower_id"}, members)
	if err != nil {
		return err
	}
	if err := db.DiscardGeneration(ctx, l.ID, gen); err != nil {
		return err
	}
	how := "COPY"
	if db.Dialect() != "postgres" {
		how = "batched INSERT (prepared, 1,000 rows a statement, 20,000 a transaction)"
	}
	fmt.Printf("### List upload of %d end-user IDs\n\n", len(fs))
	fmt.Println("| measurement | time | rows/s | upload's rate |")
	fmt.Println("|---|---:|---:|---:|")
	rate := func(d time.Duration) float64 { return float64(len(fs)) / d.Seconds() }
	fmt.Printf("| baseline: raw %s of the file's rows (list, line, end-user ID) into a table without constraints | %s | %.0f | %.0f%% of it |\n", how, human(rawLines), rate(rawLines), 100*rate(upload)/rate(rawLines))
	fmt.Printf("| baseline: raw %s of the member rows the upload writes (list, generation, follower id) into `custom_list_members` | %s | %.0f | %.0f%% of it |\n", how, human(rawMembers), rate(rawMembers), 100*rate(upload)/rate(rawMembers))
	fmt.Printf("| upload: parse, validate, find repeats, resolve to the partner's followers, report, write, switch | %s | %.0f | |\n", human(upload), rate(upload))
	fmt.Println()
	return nil
}
