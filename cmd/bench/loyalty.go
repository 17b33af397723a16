package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"regulars/demo"
	"regulars/internal/loadgen"
)

func init() {
	suites["loyalty"] = suite{"follower channel page with my engagements (follower API) vs a bare handler", loyalty}
}

// loyalty measures the follower app's busiest call: the channel page with
// the follower's coupons, programs and messages, on the demo world.
func loyalty(ctx context.Context, o options) error {
	p, base, stop, err := product(ctx, o)
	if err != nil {
		return err
	}
	defer stop()
	s, err := p.App.SignInFollower(ctx, "demo", demo.FollowerEmail, demo.Password, "127.0.0.1")
	if err != nil {
		return err
	}
	chans, err := p.App.BrowseChannels(ctx, s.Actor, "City Centre")
	if err != nil || len(chans) == 0 {
		return fmt.Errorf("the demo channel: %v", err)
	}
	path := "/api/v1/follower/channels/" + strconv.FormatInt(chans[0].ID, 10)
	header := http.Header{"Authorization": {"Bearer " + s.Token}}
	body, ctype, err := fetch(base+path, header)
	if err != nil {
		return err
	}
	bareURL, stopBare := bare(body, ctype)
	defer stopBare()
	fmt.Printf("Database: %s. Duration %s per run, %d connections. Response: %d bytes.\n\n", p.DB.Dialect(), o.Duration, o.Concurrency, len(body))
	fmt.Println(loadgen.MarkdownHeader())
	cmp, err := loadgen.Compare(ctx,
		loadgen.HTTPConfig{Method: "GET", URL: bareURL, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10},
		loadgen.HTTPConfig{Method: "GET", URL: base + path, Header: header, Concurrency: o.Concurrency, Duration: o.Duration, Warmup: o.Duration / 10})
	if err != nil {
		return err
	}
	fmt.Println(cmp.MarkdownRow("Follower channel page `GET /api/v1/follower/channels/{id}` (follower token)"))
	return nil
}
