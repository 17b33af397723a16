package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

func ip(v int) *int       { return &v }
func i64p(v int64) *int64 { return &v }

// Saving a rule checks it against the partner's objects; every refusal
// names the condition.
func TestSegmentationValidation(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		points := publish(t, a, owner, w, regulars.KindLoyalty, app.EngagementInput{Name: "Points Club", ProgramKind: regulars.ProgramPoints})
		game := publish(t, a, owner, w, regulars.KindLoyalty, app.EngagementInput{Name: "Stars", ProgramKind: regulars.ProgramGamification,
			Levels: []app.LevelInput{{Name: "Bronze", Threshold: "0"}, {Name: "Silver", Threshold: "100"}, {Name: "Gold", Threshold: "500"}}})
		theirs := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.OtherPartner.ID, ChannelID: w.OtherChannel.ID, Kind: regulars.KindCoupon, Name: "Their coupon",
			Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
		if err := db.CreateEngagement(ctx, theirs); err != nil {
			t.Fatal(err)
		}
		theirList := &regulars.CustomList{TenantID: w.Tenant.ID, PartnerID: w.OtherPartner.ID, Name: "Their list"}
		if err := db.CreateList(ctx, theirList); err != nil {
			t.Fatal(err)
		}
		cond := func(c regulars.Condition) regulars.Rule {
			return regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondGender, Genders: []string{"female"}}, c}}
		}
		tests := []struct {
			name string
			rule regulars.Rule
			want string
		}{
			{"a level range in a points-only program", cond(regulars.Condition{Type: regulars.CondLevel, ProgramID: points.ID, MinLevel: ip(1), MaxLevel: ip(2)}),
				"Condition 2 (Level): Points Club is a points-only program: it has no levels."},
			{"a level the program does not have", cond(regulars.Condition{Type: regulars.CondLevel, ProgramID: game.ID, MinLevel: ip(2), MaxLevel: ip(4)}),
				"Condition 2 (Level): Stars has 3 levels; level 4 does not exist."},
			{"levels from above to", cond(regulars.Condition{Type: regulars.CondLevel, ProgramID: game.ID, MinLevel: ip(3), MaxLevel: ip(2)}),
				"Condition 2 (Level): from level 3 is above to level 2."},
			{"ages from above to", cond(regulars.Condition{Type: regulars.CondAge, MinAge: ip(40), MaxAge: ip(30)}), "Condition 2 (Age): from 40 is above to 30."},
			{"negative points", cond(regulars.Condition{Type: regulars.CondCurrentPoints, ProgramID: points.ID, Op: regulars.OpMore, Points: i64p(-5)}),
				"Condition 2 (Current points): the number of points cannot be negative."},
			{"negative days", cond(regulars.Condition{Type: regulars.CondChannel, ChannelID: w.Channel.ID, MinDays: i64p(-1)}),
				"Condition 2 (Second channel): the number of days cannot be negative."},
			{"another partner's engagement", cond(regulars.Condition{Type: regulars.CondEngagement, EngagementID: theirs.ID}),
				fmt.Sprintf("Condition 2 (Engagement): engagement %d is not one of yours", theirs.ID)},
			{"another partner's list", cond(regulars.Condition{Type: regulars.CondList, ListIDs: []int64{theirList.ID}}),
				fmt.Sprintf("Condition 2 (Custom end-user lists): list %d is not one of yours.", theirList.ID)},
			{"another partner's channel", cond(regulars.Condition{Type: regulars.CondChannel, ChannelID: w.OtherChannel.ID}),
				fmt.Sprintf("Condition 2 (Second channel): channel %d is not one of yours.", w.OtherChannel.ID)},
			{"a negated age", cond(regulars.Condition{Type: regulars.CondAge, MinAge: ip(1), MaxAge: ip(2), Not: true}), "Condition 2 (Age): this condition cannot be negated."},
			{"an unknown gender", cond(regulars.Condition{Type: regulars.CondGender, Genders: []string{"robot"}}), `Condition 2 (Gender): "robot" is not a gender`},
			{"no conditions", regulars.Rule{}, "Add at least one condition."},
		}
		for _, tt := range tests {
			_, err := a.CreateSegmentation(ctx, owner, app.SegmentationInput{Name: "Test", Rule: tt.rule})
			if regulars.ErrorCode(err) != regulars.EINVALID || !strings.Contains(regulars.ErrorMessage(err)+" "+strings.Join(fieldValues(err), " "), tt.want) {
				t.Errorf("%s: got %v, want a message with %q", tt.name, err, tt.want)
			}
		}
		// The same name twice is refused (any case).
		ok := app.SegmentationInput{Name: "Women", Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondGender, Genders: []string{"female"}}}}}
		if _, err := a.CreateSegmentation(ctx, owner, ok); err != nil {
			t.Fatal(err)
		}
		ok.Name = "WOMEN"
		if _, err := a.CreateSegmentation(ctx, owner, ok); regulars.FieldErrors(err)["name"] == "" {
			t.Fatalf("duplicate name: %v", err)
		}
		// A viewer may count but not save.
		viewer := actorOf(t, a, w.AddUser(t, w.Partner.ID, "seg-viewer@alpha.example", regulars.Permissions{regulars.FeatureSegmentations: regulars.LevelView}))
		if _, err := a.CountSegment(ctx, viewer, ok.Rule, 0); err != nil {
			t.Fatalf("a viewer counts: %v", err)
		}
		if _, err := a.CreateSegmentation(ctx, viewer, ok); regulars.ErrorCode(err) != regulars.EFORBIDDEN {
			t.Fatalf("a viewer creates: %v", err)
		}
	})
}

func fieldValues(err error) []string {
	var out []string
	for _, v := range regulars.FieldErrors(err) {
		out = append(out, v)
	}
	return out
}

func actorOf(t *testing.T, a *app.App, u *regulars.User) *app.Actor {
	t.Helper()
	res, err := a.SignIn(context.Background(), u.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return res.Actor
}

// ParseRule refuses what the typed rule cannot hold, naming the condition.
func TestParseRuleNamesTheCondition(t *testing.T) {
	for _, tt := range []struct{ json, want string }{
		{`{"conditions": [{"type": "age", "min_age": 18, "max_age": 30, "colour": "red"}]}`, `Condition 1 (Age): unknown member "colour".`},
		{`{"conditions": [{"type": "age", "min_age": "eighteen", "max_age": 30}]}`, `Condition 1 (Age): "min_age" must be a whole number of years.`},
		{`{"conditions": [{"type": "gender", "genders": ["female"]}, {"type": "age", "min_age": 1, "max_age": 2, "program_id": 4}]}`, `Condition 2 (Age): "program_id" does not apply to this kind of condition.`},
		{`{"conditions": [{"type": "astrology"}]}`, `Condition 1: unknown type "astrology"`},
		{`{"conditions": [{"type": "list", "list_ids": "7"}]}`, `Condition 1 (Custom end-user lists): "list_ids" must be an array of integer ids.`},
		{`{"conditions": {"type": "age"}}`, `"conditions" must be an array of conditions.`},
		{`{"rules": []}`, `Unknown member "rules"`},
		{`[1, 2]`, `The rule must be a JSON object`},
		{`{"conditions": [{"type": "level", "program_id": 3, "min_level": 2, "max_level": -1}]}`, `Condition 1 (Level): levels count from 1.`},
	} {
		_, err := regulars.ParseRule([]byte(tt.json))
		if regulars.ErrorCode(err) != regulars.EINVALID || !strings.Contains(strings.Join(fieldValues(err), " "), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.json, err, tt.want)
		}
	}
	r, err := regulars.ParseRule([]byte(`{"conditions": [{"type": "channel", "not": true, "channel_id": 3, "min_days": 7}]}`))
	if err != nil || !r.Conditions[0].Not || *r.Conditions[0].MinDays != 7 {
		t.Fatalf("a valid rule: %+v %v", r, err)
	}
	if back, err := regulars.ParseRule([]byte(r.JSON())); err != nil || back.JSON() != r.JSON() {
		t.Fatalf("round trip: %s %v", back.JSON(), err)
	}
}

// A message attached to a segmentation reaches only the followers in it;
// detached, everyone; and the membership test follows a change at once.
func TestSegmentationTargetsEngagements(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		var de, fr []*regulars.Follower
		for i := range 3 {
			de = append(de, w.AddFollower(t, fmt.Sprintf("DE%d", i), []*regulars.Channel{w.Channel}, func(f *regulars.Follower) { f.Language = "de" }))
			fr = append(fr, w.AddFollower(t, fmt.Sprintf("FR%d", i), []*regulars.Channel{w.Channel}, func(f *regulars.Follower) { f.Language = "fr" }))
		}
		s, err := a.CreateSegmentation(ctx, owner, app.SegmentationInput{Name: "German speakers",
			Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondLanguage, Languages: []string{"de"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		msg, err := a.CreateEngagement(ctx, owner, regulars.KindMessage, app.EngagementInput{ChannelID: w.Channel.ID, Name: "Oktoberfest", Text: "Prost!", Recurring: regulars.RecurOnce})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.AttachSegmentation(ctx, owner, msg.ID, s.ID); err != nil {
			t.Fatal(err)
		}
		if msg, err = a.PublishEngagement(ctx, owner, regulars.KindMessage, msg.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		delivered := func(f *regulars.Follower) bool {
			n, err := db.CountDeliveredTo(ctx, msg.ID, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			return n > 0
		}
		for _, f := range de {
			if !delivered(f) {
				t.Errorf("%s speaks German and did not get the message", f.EndUserID)
			}
		}
		for _, f := range fr {
			if delivered(f) {
				t.Errorf("%s speaks French and got the message", f.EndUserID)
			}
		}
		// The run's progress counts the audience, not the whole channel.
		runs, err := db.DeliveryRuns(ctx, msg.ID)
		if err != nil || len(runs) != 1 || runs[0].Total != 3 || runs[0].Done != 3 {
			t.Fatalf("delivery runs: %+v %v", runs, err)
		}
		// The membership test answers from the index and follows changes at
		// once: a French speaker who switches to German is in.
		if ok, err := a.InAudience(ctx, msg, fr[0].ID); err != nil || ok {
			t.Fatalf("French speaker in the audience: %v %v", ok, err)
		}
		f := *fr[0]
		f.Language = "de"
		if err := db.UpdateFollowerProfile(ctx, &f); err != nil {
			t.Fatal(err)
		}
		if ok, err := a.InAudience(ctx, msg, fr[0].ID); err != nil || !ok {
			t.Fatalf("after switching to German: in the audience %v %v", ok, err)
		}
		// Two segmentations: a follower in either is targeted.
		s2, err := a.CreateSegmentation(ctx, owner, app.SegmentationInput{Name: "FR2", Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondLanguage, Languages: []string{"fr"}}, {Type: regulars.CondGender, Genders: []string{"other"}}}}})
		if err != nil {
			t.Fatal(err)
		}
		g := *fr[1]
		g.Gender = regulars.GenderOther
		if err := db.UpdateFollowerProfile(ctx, &g); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.AttachSegmentation(ctx, owner, msg.ID, s2.ID); err != nil {
			t.Fatal(err)
		}
		got, err := a.AudienceOf(ctx, msg, []int64{de[0].ID, fr[1].ID, fr[2].ID})
		if err != nil || !slices.Equal(got, []int64{de[0].ID, fr[1].ID}) {
			t.Fatalf("audience with two segmentations: %v %v", got, err)
		}
		// Detached from both, the message is for everyone.
		for _, id := range []int64{s.ID, s2.ID} {
			if _, _, err := a.DetachSegmentation(ctx, owner, msg.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		if ok, err := a.InAudience(ctx, msg, fr[2].ID); err != nil || !ok {
			t.Fatalf("without segmentations, everyone: %v %v", ok, err)
		}
		// The whole channel page check, one read of the change log.
		coupon := publish(t, a, owner, w, regulars.KindCoupon, app.EngagementInput{Name: "Brezel", RedemptionType: regulars.RedeemClick, PerFollower: "1"})
		if _, _, err := a.AttachSegmentation(ctx, owner, coupon.ID, s.ID); err != nil {
			t.Fatal(err)
		}
		flags, err := a.TargetedEngagements(ctx, []*regulars.Engagement{msg, coupon}, fr[2].ID)
		if err != nil || !slices.Equal(flags, []bool{true, false}) {
			t.Fatalf("targeted engagements of a French speaker: %v %v", flags, err)
		}
		// A node that starts builds the copy of a partner whose live
		// engagements target segmentations before anyone asks.
		fresh := app.New(db, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), "http://regulars.test")
		fresh.Segments.Tick(ctx)
		for deadline := time.Now().Add(10 * time.Second); !fresh.Segments.Ready(w.Partner.ID); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the upkeep did not build the partner's copy")
			}
		}
	})
}

// gatedFile is a file whose reading stops after a point until released,
// or fails there, once the upload has checked its first bytes (and gone
// back to the start).
type gatedFile struct {
	*bytes.Reader
	at      int64
	gate    chan struct{}
	fail    error
	armed   bool
	reached sync.Once
	arrived chan struct{}
}

func (g *gatedFile) Seek(off int64, whence int) (int64, error) {
	if off == 0 && whence == io.SeekStart {
		g.armed = true
	}
	return g.Reader.Seek(off, whence)
}

func (g *gatedFile) Read(p []byte) (int, error) {
	if !g.armed {
		return g.Reader.Read(p)
	}
	pos, _ := g.Reader.Seek(0, io.SeekCurrent)
	if pos >= g.at {
		g.reached.Do(func() { close(g.arrived) })
		if g.fail != nil {
			return 0, g.fail
		}
		<-g.gate
	}
	if pos < g.at && pos+int64(len(p)) > g.at {
		p = p[:g.at-pos]
	}
	return g.Reader.Read(p)
}

// A failed or cancelled upload leaves the list exactly as it was.
func TestFailedOrCancelledUploadLeavesTheList(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, w, owner := newApp(t, db)
		var all strings.Builder
		all.WriteString("end_user_id\n")
		for i := range 30 {
			w.AddFollower(t, fmt.Sprintf("UP%03d", i), []*regulars.Channel{w.Channel})
			fmt.Fprintf(&all, "UP%03d\n", i)
		}
		l, err := a.CreateList(ctx, owner, "Regulars")
		if err != nil {
			t.Fatal(err)
		}
		first, err := a.ImportList(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadReplace, FileName: "a.csv",
			File: strings.NewReader("end_user_id\nUP000\nUP001\n"), Size: 20})
		if err != nil || first.State != regulars.UploadDone || first.Members != 2 {
			t.Fatalf("first upload: %+v %v", first, err)
		}
		members := func() []int64 {
			got, err := db.ListMemberIDs(ctx, l.ID, 0, 1000)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		before := members()
		// Reading fails halfway: the upload fails, the list is as it was.
		content := strings.Repeat(all.String()[len("end_user_id\n"):], 1)
		broken := &gatedFile{Reader: bytes.NewReader([]byte("end_user_id\n" + content)), at: 100, arrived: make(chan struct{}), fail: errors.New("disk gone")}
		u, err := a.ImportList(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadReplace, FileName: "b.csv", File: broken, Size: broken.Size()})
		if err != nil || u.State != regulars.UploadFailed || u.Error == "" {
			t.Fatalf("broken upload: %+v %v", u, err)
		}
		if got := members(); !slices.Equal(got, before) {
			t.Fatalf("after a failed upload the list is %v, was %v", got, before)
		}
		// Cancelled while reading: the same.
		gated := &gatedFile{Reader: bytes.NewReader([]byte("end_user_id\n" + content)), at: 100, gate: make(chan struct{}), arrived: make(chan struct{})}
		done := make(chan struct{})
		u, err = a.StartUpload(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadAppend, FileName: "c.csv", File: gated, Size: gated.Size()}, func() { close(done) })
		if err != nil {
			t.Fatal(err)
		}
		<-gated.arrived
		if _, err := a.StartUpload(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadAppend, FileName: "d.csv", File: strings.NewReader("email\na@b.example\n"), Size: 18}, nil); regulars.ErrorCode(err) != regulars.ECONFLICT {
			t.Fatalf("a second upload while one runs: %v", err)
		}
		if _, err := a.CancelUpload(ctx, owner, u.ID); err != nil {
			t.Fatal(err)
		}
		close(gated.gate)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the cancelled upload did not stop")
		}
		u, _ = a.Upload(ctx, owner, u.ID)
		if u.State != regulars.UploadCancelled {
			t.Fatalf("cancelled upload: %+v", u)
		}
		if got := members(); !slices.Equal(got, before) {
			t.Fatalf("after a cancelled upload the list is %v, was %v", got, before)
		}
		if got, _ := db.List(ctx, w.Partner.ID, l.ID); got.MemberCount != 2 {
			t.Fatalf("member count after cancel: %d", got.MemberCount)
		}
		// The garbage of both is collected.
		if err := a.CollectListGarbage(ctx, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		u, err = a.ImportList(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadAppend, FileName: "e.csv", File: strings.NewReader("end_user_id\n" + content), Size: int64(len(content) + 12)})
		if err != nil || u.State != regulars.UploadDone || u.Members != 30 || u.Matched != 28 || u.Duplicates != 2 {
			t.Fatalf("append after all that: %+v %v", u, err)
		}
	})
}

// A file over the size limit is refused before anything is read or written.
func TestUploadRefusesOversizeFiles(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, _, owner := newApp(t, db)
		l, err := a.CreateList(ctx, owner, "Big")
		if err != nil {
			t.Fatal(err)
		}
		_, err = a.ImportList(ctx, owner, app.UploadInput{ListID: l.ID, Mode: regulars.UploadReplace, FileName: "big.csv", File: strings.NewReader("email\n"), Size: app.MaxListUploadBytes + 1})
		if !strings.Contains(regulars.FieldErrors(err)["file"], "larger than 64 MB") {
			t.Fatalf("oversize file: %v", err)
		}
		if ups, _ := a.Uploads(ctx, owner, l); len(ups) != 0 {
			t.Fatalf("an oversize file left an upload: %+v", ups[0])
		}
		if _, _, err := app.SpoolUpload(io.LimitReader(zeros{}, app.MaxListUploadBytes+10)); !strings.Contains(regulars.ErrorMessage(err), "larger than 64 MB") {
			t.Fatalf("spooling an oversize upload: %v", err)
		}
	})
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
