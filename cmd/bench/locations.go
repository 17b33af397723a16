package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"regulars"
	"regulars/app"
	"regulars/demo"
	"regulars/geo"
	"regulars/internal/loadgen"
)

func init() {
	suites["locations"] = suite{"follower position updates against 100,000 targeting locations vs a bare handler", locations}
}

// targetingLocations is how many targeting locations the suite creates.
const targetingLocations = 100_000

// locations measures POST /api/v1/follower/position end to end (bearer
// token, validation, geofence lookup, and for a position inside a location
// the follow and cooldown checks) with 100,000 active targeting locations
// in the tenant's geofence.
func locations(ctx context.Context, o options) error {
	p, base, stop, err := product(ctx, o)
	if err != nil {
		return err
	}
	defer stop()
	db := p.DB
	tenant, err := db.TenantBySlug(ctx, "demo")
	if err != nil {
		return err
	}
	partners, err := db.Partners(ctx, tenant.ID, "Bean")
	if err != nil || len(partners) == 0 {
		return fmt.Errorf("demo partner: %v", err)
	}
	partner := partners[0]
	channels, err := db.Channels(ctx, partner.ID)
	if err != nil || len(channels) == 0 {
		return fmt.Errorf("demo channel: %v", err)
	}
	channel := channels[0]

	// An active message that 100,000 targeting locations all over Great
	// Britain fire (100 m to 2 km).
	msg := &regulars.Engagement{TenantID: tenant.ID, PartnerID: partner.ID, ChannelID: channel.ID, Kind: regulars.KindMessage, Name: "Bench hello",
		Message: &regulars.MessageSpec{Text: "Hello from nearby", Recurring: regulars.RecurOnce}}
	if err := db.CreateEngagement(ctx, msg); err != nil {
		return err
	}
	if _, err := db.SetEngagementStatus(ctx, msg.ID, regulars.EngagementDraft, regulars.EngagementActive, time.Now()); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type circle struct{ lat, lng, r float64 }
	circles := make([]circle, 0, targetingLocations)
	start := time.Now()
	for batch := 0; batch < targetingLocations; batch += 5000 {
		err := db.InTx(ctx, func(ctx context.Context) error {
			for i := batch; i < batch+5000 && i < targetingLocations; i++ {
				c := circle{50 + rng.Float64()*5, -5 + rng.Float64()*6.5, 100 + rng.Float64()*1900}
				l := &regulars.Location{TenantID: tenant.ID, PartnerID: partner.ID, Name: fmt.Sprintf("Bench zone %d", i), Lat: c.lat, Lng: c.lng, Radius: c.r}
				if err := db.CreateLocation(ctx, l); err != nil {
					return err
				}
				if err := db.AttachLocation(ctx, msg.ID, l.ID); err != nil {
					return err
				}
				circles = append(circles, c)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fmt.Printf("Created %d targeting locations in %s.\n", targetingLocations, time.Since(start).Round(time.Millisecond))

	// A follower of the channel, signed in through the API.
	s, err := p.App.SignUpFollower(ctx, app.SignUpInput{Tenant: "demo", Password: demo.Password, ProfileInput: app.ProfileInput{Name: "Bench Walker", Email: "bench.walker@example.com"}})
	if err != nil {
		return err
	}
	if _, err := p.App.Follow(ctx, s.Actor, channel.ID); err != nil {
		return err
	}

	// A position in no location (the usual case) and one inside the first.
	inside := [2]float64{circles[0].lat, circles[0].lng}
	var outside [2]float64
	for {
		outside = [2]float64{50 + rng.Float64()*5, -5 + rng.Float64()*6.5}
		hit := false
		for _, c := range circles {
			if geo.Within(outside[0], outside[1], c.lat, c.lng, c.r) {
				hit = true
				break
			}
		}
		if !hit {
			break
		}
	}

	header := http.Header{"Authorization": {"Bearer " + s.Token}, "Content-Type": {"application/json"}}
	post := func(pos [2]float64) ([]byte, []byte, error) {
		body, _ := json.Marshal(map[string]any{"lat": pos[0], "lng": pos[1], "accuracy": 15})
		req, _ := http.NewRequest("POST", base+"/api/v1/follower/position", bytes.NewReader(body))
		req.Header = header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("POST position: %d %s", res.StatusCode, out)
		}
		return body, out, err
	}
	t0 := time.Now()
	if _, _, err := post(outside); err != nil {
		return err
	}
	fmt.Printf("First position update (builds the tenant's geofence of %d locations): %s.\n", targetingLocations, time.Since(t0).Round(time.Millisecond))
	_, fired, err := post(inside)
	if err != nil {
		return err
	}
	fmt.Printf("Entering a location: %s\n", bytes.TrimSpace(fired))

	fmt.Printf("\nDatabase: %s. Duration %s per run, %d connections.\n\n", db.Dialect(), o.Duration, o.Concurrency)
	fmt.Println(loadgen.MarkdownHeader())
	for _, c := range []struct {
		name string
		pos  [2]float64
	}{
		{"`POST /api/v1/follower/position`, in no location", outside},
		{"`POST /api/v1/follower/position`, inside a location, within the cooldown", inside},
	} {
		body, answer, err := post(c.pos)
		if err != nil {
			return err
		}
		bareURL, stopBare := bare(answer, "application/json")
		cmp, err := loadgen.Compare(ctx,
			loadgen.HTTPConfig{Method: "POST", URL: bareURL, Body: body, Header: header, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10},
			loadgen.HTTPConfig{Method: "POST", URL: base + "/api/v1/follower/position", Body: body, Header: header, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10})
		stopBare()
		if err != nil {
			return err
		}
		fmt.Println(cmp.MarkdownRow(c.name))
	}
	return nil
}
