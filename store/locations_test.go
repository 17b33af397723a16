package store_test

import (
	"context"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestLocationTargetsAndCooldownClaims(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		f := w.AddFollower(t, "LOC001", []*regulars.Channel{w.Channel})
		shop := &regulars.Location{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Shop", Lat: 51.5, Lng: -0.12}
		zone := &regulars.Location{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, Name: "Zone", Lat: 51.51, Lng: -0.13, Radius: 150}
		for _, l := range []*regulars.Location{shop, zone} {
			if err := db.CreateLocation(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Location(ctx, w.OtherPartner.ID, zone.ID); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			t.Fatalf("another partner's location: %v", err)
		}
		stores, err := db.StoreLocations(ctx, w.Tenant.ID, w.Partner.ID)
		if err != nil || len(stores) != 1 || stores[0].ID != shop.ID {
			t.Fatalf("store locations: %v %v", stores, err)
		}
		msg := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindMessage, Name: "Hello",
			Message: &regulars.MessageSpec{Text: "Hi", Recurring: regulars.RecurOnce}}
		if err := db.CreateEngagement(ctx, msg); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachLocation(ctx, msg.ID, zone.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.AttachLocation(ctx, msg.ID, zone.ID); err != nil {
			t.Fatalf("attaching twice: %v", err)
		}
		rows, err := db.Geofence(ctx, w.Tenant.ID)
		if err != nil || len(rows) != 0 {
			t.Fatalf("a draft engagement is not in the geofence: %v %v", rows, err)
		}
		if ok, err := db.SetEngagementStatus(ctx, msg.ID, regulars.EngagementDraft, regulars.EngagementActive, time.Now()); !ok || err != nil {
			t.Fatal(ok, err)
		}
		rows, err = db.GeofenceOf(ctx, w.Tenant.ID, zone.ID)
		if err != nil || len(rows) != 1 || rows[0].EngagementID != msg.ID || rows[0].Radius != 150 || rows[0].ChannelID != w.Channel.ID {
			t.Fatalf("geofence of the zone: %+v %v", rows, err)
		}
		counts, err := db.TargetCounts(ctx, w.Partner.ID)
		if err != nil || counts[zone.ID][regulars.EngagementActive] != 1 {
			t.Fatalf("target counts: %v %v", counts, err)
		}

		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		claim := func(at time.Time) bool {
			t.Helper()
			ok, err := db.ClaimLocationFiring(ctx, msg.ID, f.ID, zone.ID, at, 24*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim(t0) {
			t.Fatal("the first claim must succeed")
		}
		if claim(t0.Add(23 * time.Hour)) {
			t.Fatal("a claim within the cooldown must fail")
		}
		if !claim(t0.Add(24 * time.Hour)) {
			t.Fatal("a claim after the cooldown must succeed")
		}

		if err := db.DeleteLocation(ctx, w.Partner.ID, zone.ID); err != nil {
			t.Fatal(err)
		}
		if ids, err := db.TargetedLocationIDs(ctx, msg.ID); err != nil || len(ids) != 0 {
			t.Fatalf("attachments of a deleted location: %v %v", ids, err)
		}
	})
}
