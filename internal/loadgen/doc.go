// Package loadgen is a small closed-loop load generator for measuring the
// product against baselines on the same machine, in the same run.
//
// It only ever talks to loopback addresses: RunHTTP refuses any target
// whose host is not localhost, 127.0.0.0/8 or ::1, its transport refuses
// to dial anything else, it never uses a proxy and it does not follow
// redirects.
//
// A run is bounded: it stops after HTTPConfig.Duration or
// HTTPConfig.MaxRequests, whichever comes first, and a config with
// neither is refused.
//
// Measuring one endpoint:
//
//	res, err := loadgen.RunHTTP(ctx, loadgen.HTTPConfig{
//		URL:         "http://127.0.0.1:8080/",
//		Concurrency: 16,
//		Duration:    10 * time.Second,
//		Warmup:      time.Second,
//	})
//	if err != nil { ... }
//	fmt.Println(res) // one-line summary; res is also JSON-encodable
//
// Comparing an authenticated page with a bare handler serving the same
// bytes, for a row of a benchmarks document:
//
//	base := loadgen.HTTPConfig{URL: bareURL, Concurrency: 16, Duration: 5 * time.Second}
//	subj := base
//	subj.URL = pageURL
//	subj.Header = http.Header{"Cookie": {"session=" + token}}
//	cmp, err := loadgen.Compare(ctx, base, subj)
//	fmt.Println(loadgen.MarkdownHeader())
//	fmt.Println(cmp.MarkdownRow("home page, signed in"))
//
// The same is available from the command line as cmd/loadgen.
//
// Latencies are kept in a Histogram, which is independent of HTTP so that
// other modes (such as WebSocket messages) can record into it and report
// through the same Result.
package loadgen
