// Package segdata generates a partner's followers in bulk, with everything
// segments look at: attributes (some unknown), follows of two channels,
// memberships of a points and a gamification program, coupon activations,
// message opens and a custom list. The segment benchmarks and the
// development server use it; the data is random but repeatable (seeded).
package segdata

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"regulars"
	"regulars/store"
)

// World is what Generate made.
type World struct {
	TenantID, PartnerID int64
	Channels            []int64 // the partner's main and second channel
	Points, Game        *regulars.Engagement
	Coupon, Message     *regulars.Engagement
	List                *regulars.CustomList
	FirstID, LastID     int64 // the followers' ids
	Now                 time.Time
}

// Spec says how much to generate.
type Spec struct {
	TenantID, PartnerID int64
	MainChannel         int64 // an existing channel of the partner
	Followers           int
	ListMembers         int // followers on the custom list
	Seed                uint64
	Now                 time.Time
	Prefix              string // end-user ID prefix (unique per run on one tenant)
}

// Languages are the generated followers' languages ("" = unknown).
var Languages = []string{"en", "en", "en", "de", "fr", "es", "it", "nl", ""}

// Genders are the generated followers' genders ("" = unknown).
var Genders = []string{regulars.GenderFemale, regulars.GenderFemale, regulars.GenderMale, regulars.GenderMale, regulars.GenderOther, ""}

// Generate writes the followers of spec and returns the world.
func Generate(ctx context.Context, db *store.DB, spec Spec) (*World, error) {
	if spec.Now.IsZero() {
		spec.Now = time.Now().UTC()
	}
	if spec.Prefix == "" {
		spec.Prefix = "G"
	}
	w := &World{TenantID: spec.TenantID, PartnerID: spec.PartnerID, Now: spec.Now}
	second := &regulars.Channel{TenantID: spec.TenantID, PartnerID: spec.PartnerID, Name: "Second channel " + spec.Prefix, Status: regulars.ChannelActive, ChatEnabled: true}
	if err := db.CreateChannel(ctx, second); err != nil {
		return nil, err
	}
	w.Channels = []int64{spec.MainChannel, second.ID}
	eng := func(kind, name string, l *regulars.LoyaltySpec) (*regulars.Engagement, error) {
		e := &regulars.Engagement{TenantID: spec.TenantID, PartnerID: spec.PartnerID, ChannelID: spec.MainChannel, Kind: kind, Name: name, Status: regulars.EngagementActive, Loyalty: l}
		switch kind {
		case regulars.KindMessage:
			e.Message = &regulars.MessageSpec{Text: "Hello from " + name, Recurring: regulars.RecurOnce}
		case regulars.KindCoupon:
			e.Coupon = &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}
		}
		return e, db.CreateEngagement(ctx, e)
	}
	var err error
	if w.Points, err = eng(regulars.KindLoyalty, "Points Loyalty "+spec.Prefix, &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints, PointSingular: "point", PointPlural: "points"}); err != nil {
		return nil, err
	}
	levels := []regulars.ProgramLevel{{Position: 1, Name: "Bronze", Threshold: 0}, {Position: 2, Name: "Silver", Threshold: 2000}, {Position: 3, Name: "Gold", Threshold: 5000}, {Position: 4, Name: "Platinum", Threshold: 10000}, {Position: 5, Name: "Diamond", Threshold: 15000}}
	if w.Game, err = eng(regulars.KindLoyalty, "Gamification Loyalty "+spec.Prefix, &regulars.LoyaltySpec{ProgramKind: regulars.ProgramGamification, PointSingular: "star", PointPlural: "stars", Levels: levels}); err != nil {
		return nil, err
	}
	if w.Coupon, err = eng(regulars.KindCoupon, "Coffee Coupon "+spec.Prefix, nil); err != nil {
		return nil, err
	}
	if w.Message, err = eng(regulars.KindMessage, "Spring message "+spec.Prefix, nil); err != nil {
		return nil, err
	}

	maxID, err := db.MaxID(ctx, "followers")
	if err != nil {
		return nil, err
	}
	w.FirstID = maxID + 1
	game := &regulars.LoyaltySpec{Levels: levels}
	r := rand.New(rand.NewPCG(spec.Seed, 99))
	nowMS := spec.Now.UnixMilli()
	const batch = 20000
	for start := 0; start < spec.Followers; start += batch {
		n := min(batch, spec.Followers-start)
		var fs, fl, ms, acts, dels [][]any
		for i := range n {
			id := w.FirstID + int64(start+i)
			birth := ""
			if r.IntN(100) < 85 {
				birth = time.Date(spec.Now.Year()-16-r.IntN(64), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
			}
			gender, lang := Genders[r.IntN(len(Genders))], Languages[r.IntN(len(Languages))]
			phone := ""
			if r.IntN(2) == 0 {
				phone = fmt.Sprintf("+44 7700 %06d", id%1000000)
			}
			fs = append(fs, []any{id, spec.TenantID, fmt.Sprintf("%s%07d", spec.Prefix, start+i), fmt.Sprintf("Follower %s%d", spec.Prefix, start+i),
				fmt.Sprintf("f%d.%s@example.com", start+i, spec.Prefix), phone, birth, gender, lang, regulars.FollowerActive, nowMS - int64(r.IntN(700))*regulars.DayMS})
			fl = append(fl, []any{spec.TenantID, spec.MainChannel, id, nowMS - int64(r.IntN(700*24))*3600_000, int64(0)})
			if r.IntN(100) < 25 {
				fl = append(fl, []any{spec.TenantID, second.ID, id, nowMS - int64(r.IntN(700*24))*3600_000, int64(0)})
			}
			if r.IntN(100) < 60 {
				total := int64(r.IntN(5000))
				ms = append(ms, []any{w.Points.ID, id, spec.TenantID, nowMS, total - int64(r.IntN(int(total)+1)), total, 0})
			}
			if r.IntN(100) < 40 {
				total := int64(r.IntN(20000))
				ms = append(ms, []any{w.Game.ID, id, spec.TenantID, nowMS, total - int64(r.IntN(int(total)+1)), total, game.LevelFor(total)})
			}
			if r.IntN(100) < 10 {
				acts = append(acts, []any{spec.TenantID, w.Coupon.ID, id, regulars.ActivationActive, nowMS})
			}
			if r.IntN(100) < 50 {
				opened := int64(0)
				if r.IntN(100) < 40 {
					opened = nowMS
				}
				dels = append(dels, []any{w.Message.ID, id, "once", nowMS, opened})
			}
		}
		for _, t := range []struct {
			table string
			cols  []string
			rows  [][]any
		}{
			{"followers", []string{"id", "tenant_id", "end_user_id", "name", "email", "phone", "birth_date", "gender", "language", "status", "created_at"}, fs},
			{"follows", []string{"tenant_id", "channel_id", "follower_id", "followed_at", "unfollowed_at"}, fl},
			{"memberships", []string{"program_id", "follower_id", "tenant_id", "joined_at", "current_points", "total_points", "level"}, ms},
			{"coupon_activations", []string{"tenant_id", "coupon_id", "follower_id", "status", "activated_at"}, acts},
			{"message_deliveries", []string{"engagement_id", "follower_id", "run_key", "delivered_at", "opened_at"}, dels},
		} {
			if err := db.CopyRows(ctx, t.table, t.cols, t.rows); err != nil {
				return nil, fmt.Errorf("segdata: %s: %w", t.table, err)
			}
		}
	}
	w.LastID = w.FirstID + int64(spec.Followers) - 1
	if err := db.SyncIdentity(ctx, "followers"); err != nil {
		return nil, err
	}
	// The list: every k-th follower, in a generation no upload can have
	// (uploads use their own positive id).
	w.List = &regulars.CustomList{TenantID: spec.TenantID, PartnerID: spec.PartnerID, Name: "Tasting evening " + spec.Prefix}
	if err := db.CreateList(ctx, w.List); err != nil {
		return nil, err
	}
	if spec.ListMembers > 0 {
		step := max(1, spec.Followers/spec.ListMembers)
		var rows [][]any
		for id := w.FirstID; id <= w.LastID && len(rows) < spec.ListMembers; id += int64(step) {
			rows = append(rows, []any{w.List.ID, -w.List.ID, id})
		}
		if err := db.CopyRows(ctx, "custom_list_members", []string{"list_id", "generation", "follower_id"}, rows); err != nil {
			return nil, err
		}
		if _, err := db.SwitchGeneration(ctx, w.List, 0, -w.List.ID, int64(len(rows))); err != nil {
			return nil, err
		}
		w.List.Generation, w.List.MemberCount = -w.List.ID, int64(len(rows))
	}
	return w, db.Analyze(ctx)
}
