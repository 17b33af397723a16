package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/internal/loadgen"
	"regulars/mail"
	"regulars/server"
	"regulars/store"
)

func init() {
	suites["chat"] = suite{"live chat over WebSocket: 5,000 followers, 1,000 active conversations, vs a bare echo server", chatBench}
	suites["chat-node"] = suite{"(used by chat) one app node with a memory probe", chatNode}
	suites["ws-echo"] = suite{"(used by chat) the bare WebSocket echo server with a memory probe", echoNode}
}

// The chat benchmark's shape, from the issue.
const (
	benchFollowers     = 5000 // connected followers
	benchConversations = 1000 // active conversations, one follower each
	benchRate          = 1000 // messages per second in the fixed-rate run
	benchAgents        = 4    // agents' connections; each receives every message
	benchWarmUp        = 3 * time.Second
)

// child starts this binary as a server process (chat-node or ws-echo) and
// returns its address and process id once it listens. Servers run in
// processes of their own so that their memory and CPU time are theirs
// alone.
func child(ctx context.Context, suite string, args ...string) (string, int, func(), error) {
	self, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.CommandContext(ctx, self, append([]string{suite}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	stop := func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			go io.Copy(io.Discard, out)
			return addr, cmd.Process.Pid, stop, nil
		}
	}
	stop()
	return "", 0, nil, fmt.Errorf("%s did not start", suite)
}

// serveWithProbe serves h on a loopback port with /debug/memstats beside
// it and prints the address for the parent.
func serveWithProbe(ctx context.Context, h http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("GET /debug/memstats", loadgen.MemStatsHandler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	fmt.Printf("listening %s\n", ln.Addr())
	err = srv.Serve(ln)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func echoNode(ctx context.Context, _ options) error {
	ctx, stop := signalContext(ctx)
	defer stop()
	return serveWithProbe(ctx, loadgen.EchoHandler())
}

// chatNode is one app node, as `regulars serve` builds it.
func chatNode(ctx context.Context, o options) error {
	ctx, stop := signalContext(ctx)
	defer stop()
	dir, err := os.MkdirTemp("", "regulars-chat-node-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: o.DatabaseURL, BaseURL: "http://127.0.0.1",
		// The closed-loop run sends as fast as the node answers: far above
		// the per-connection limit a real client is held to.
		ChatSendRate: 1e6, ChatSendBurst: 1e6}
	p, err := server.Build(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer p.DB.Close()
	if path := os.Getenv("REGULARS_BENCH_NODE_PROFILE"); path != "" {
		// A CPU profile of the node for the whole run.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if path := os.Getenv("REGULARS_BENCH_NODE_ALLOCS"); path != "" {
		// What the node allocated over the whole run, by where.
		defer func() {
			if f, err := os.Create(path); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	go p.RunRealtime(ctx)
	<-p.RealtimeReady()
	return serveWithProbe(ctx, p.Handler)
}

// chatWorld is what the benchmark seeds: followers with tokens, the first
// benchConversations of them in an active conversation, agents' tokens.
type chatWorld struct {
	followerTokens []string
	conversations  []int64 // of followers 0 … benchConversations-1
	agentTokens    []string
}

func seedChat(ctx context.Context, dbURL string) (*chatWorld, error) {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		return nil, err
	}
	a := app.New(db, mailer, log, "http://127.0.0.1")
	a.Password = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}
	hash := app.HashPassword("bench password", a.Password)
	t := &regulars.Tenant{Name: "Bench", Slug: "bench"}
	cw := &chatWorld{}
	var ch *regulars.Channel
	var agents []*regulars.User
	err = db.InTx(ctx, func(ctx context.Context) error {
		if err := db.CreateTenant(ctx, t); err != nil {
			return err
		}
		pkg := &regulars.Package{TenantID: t.ID, Name: "All", Currency: "EUR", Features: regulars.AllPartnerFeatures(), Limits: map[string]int64{}}
		if err := db.CreatePackage(ctx, pkg); err != nil {
			return err
		}
		p := &regulars.Partner{TenantID: t.ID, BrandName: "Bench Coffee", PackageID: pkg.ID, Status: regulars.PartnerActive}
		if err := db.CreatePartner(ctx, p); err != nil {
			return err
		}
		role := &regulars.Role{TenantID: t.ID, PartnerID: p.ID, Name: "Agent", Permissions: regulars.Permissions{regulars.FeatureChat: regulars.LevelManage}}
		if err := db.CreateRole(ctx, role); err != nil {
			return err
		}
		for i := range benchAgents {
			u := &regulars.User{TenantID: t.ID, PartnerID: p.ID, RoleID: role.ID, Name: fmt.Sprintf("Agent %d", i+1), Email: fmt.Sprintf("agent%d@bench.example", i+1),
				Status: regulars.UserActive, PasswordHash: hash}
			if err := db.CreateUser(ctx, u, false); err != nil {
				return err
			}
			agents = append(agents, u)
		}
		ch = &regulars.Channel{TenantID: t.ID, PartnerID: p.ID, Name: "Bench channel", Status: regulars.ChannelActive, ChatEnabled: true}
		if err := db.CreateChannel(ctx, ch); err != nil {
			return err
		}
		for i := range benchFollowers {
			f := &regulars.Follower{TenantID: t.ID, EndUserID: fmt.Sprintf("B%07d", i), Name: fmt.Sprintf("Follower %d", i)}
			if err := db.CreateFollower(ctx, f); err != nil {
				return err
			}
			if _, _, err := db.Follow(ctx, t.ID, ch.ID, f.ID, time.Now()); err != nil {
				return err
			}
			token := "rgf_" + app.NewSecret("")
			if err := db.CreateFollowerToken(ctx, f.ID, app.HashSecret(token), 24*time.Hour); err != nil {
				return err
			}
			cw.followerTokens = append(cw.followerTokens, token)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var actors []*app.Actor
	for _, u := range agents {
		res, err := a.SignIn(ctx, u.Email, "bench password", "127.0.0.1", "bench")
		if err != nil {
			return nil, err
		}
		_, tok, err := a.CreateAPIToken(ctx, res.Actor, "bench")
		if err != nil {
			return nil, err
		}
		actors = append(actors, res.Actor)
		cw.agentTokens = append(cw.agentTokens, tok)
	}
	// The active conversations: a follower's message, an agent's answer.
	for i := range benchConversations {
		fa, err := a.AuthenticateFollower(ctx, cw.followerTokens[i])
		if err != nil {
			return nil, err
		}
		c, _, err := a.FollowerSend(ctx, fa, ch.ID, app.FollowerMessage{Text: "Hello"})
		if err != nil {
			return nil, err
		}
		if _, err := a.SendAgentMessage(ctx, actors[i%len(actors)], c.ID, app.AgentMessage{Text: "Hi, how can I help?"}); err != nil {
			return nil, err
		}
		cw.conversations = append(cw.conversations, c.ID)
	}
	if strings.HasPrefix(dbURL, "postgres") {
		// What autovacuum would do soon after the seeding, done before the
		// runs rather than during them.
		raw, err := sql.Open("pgx", dbURL)
		if err != nil {
			return nil, err
		}
		defer raw.Close()
		if _, err := raw.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return nil, err
		}
	}
	return cw, nil
}

// field returns the string value of the first "name":"…" in data. The
// load generator reads frames this way rather than decoding them so that
// its own work takes as little as possible of the machine it shares with
// the server (the strings it looks for have no escapes).
func field(data []byte, name string) string {
	key := `"` + name + `":"`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return ""
	}
	v := data[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return ""
	}
	return string(v[:j])
}

// followerMessage returns the text of a message frame of a follower's
// message.
func followerMessage(data []byte) (string, bool) {
	if !bytes.HasPrefix(data, []byte(`{"type":"message"`)) {
		return "", false
	}
	i := bytes.Index(data, []byte(`"message":{`))
	if i < 0 {
		return "", false
	}
	m := data[i:]
	if field(m, "author") != regulars.AuthorFollower {
		return "", false
	}
	return field(m, "text"), true
}

// waiters hand a message's receipt to a closed-loop sender waiting for it.
type waiters struct{ m sync.Map }

func (w *waiters) wait(id string) chan struct{} {
	ch := make(chan struct{}, 1)
	w.m.Store(id, ch)
	return ch
}

func (w *waiters) done(id string) {
	if ch, ok := w.m.LoadAndDelete(id); ok {
		ch.(chan struct{}) <- struct{}{}
	}
}

// reader reads a connection until it closes, handing each frame to fn.
func reader(c *websocket.Conn, fn func(data []byte, at time.Time)) {
	for {
		_, data, err := c.Read(context.Background())
		if err != nil {
			if code := websocket.CloseStatus(err); code != -1 && code != websocket.StatusGoingAway {
				// The server closed it: the run's numbers lack its frames.
				fmt.Fprintf(os.Stderr, "a connection was closed by the server: %v\n", err)
			}
			return
		}
		at := time.Now()
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			fn(line, at)
		}
	}
}

// runSet is the two measurements of one server: a fixed rate (open loop)
// and the most it sustains (closed loop: each sender waits for its
// message to arrive before sending the next).
type runSet struct {
	MemPerConn float64 // bytes per idle connection
	Fixed      loadgen.WSResult
	Saturated  loadgen.WSResult
	Deliveries float64 // frames of messages delivered per second at the fixed rate, all receivers
	// CPU time spent in the saturated run: Procs are the server and the
	// load generator. CPUErr says why there is none (no /proc).
	CPU        loadgen.CPUSample
	CPUErr     error
	Goroutines int
	ConnsHeld  int
	PerCommit  float64 // writes per group-commit transaction in the saturated run
}

// groupCommits reads the node's group-commit counters off its /metrics:
// transactions and the writes in them (zero when it cannot).
func groupCommits(base string) (batches, functions int64) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch {
		case !ok:
		case name == "regulars_store_batches_total":
			batches = n
		case name == "regulars_store_batched_functions_total":
			functions = n
		}
	}
	return batches, functions
}

var idSeq atomic.Int64

func nextID() string { return "m" + strconv.FormatInt(idSeq.Add(1), 36) }

// measureMemory connects n idle connections and returns the growth of
// the server's memory in use per connection. The first fifth connect
// before the measure starts: what a server sets up once, under the first
// load, is not a connection's (database pool connections and their
// statement caches, grown buffers).
func measureMemory(ctx context.Context, base string, n int, url func(i int) string, ready func(i int, c *websocket.Conn) error) ([]*websocket.Conn, float64, loadgen.MemStats, error) {
	fail := func(err error) ([]*websocket.Conn, float64, loadgen.MemStats, error) {
		return nil, 0, loadgen.MemStats{}, err
	}
	warm := n / 5
	first, err := loadgen.DialMany(ctx, warm, 200, url, ready)
	if err != nil {
		return fail(err)
	}
	time.Sleep(500 * time.Millisecond)
	before, err := loadgen.ReadMemStats(ctx, base+"/debug/memstats")
	if err != nil {
		return fail(err)
	}
	rest, err := loadgen.DialMany(ctx, n-warm, 200, func(i int) string { return url(warm + i) }, func(i int, c *websocket.Conn) error {
		if ready == nil {
			return nil
		}
		return ready(warm+i, c)
	})
	if err != nil {
		return fail(err)
	}
	time.Sleep(500 * time.Millisecond)
	after, err := loadgen.ReadMemStats(ctx, base+"/debug/memstats")
	if err != nil {
		return fail(err)
	}
	return append(first, rest...), (float64(after.InUse()) - float64(before.InUse())) / float64(n-warm), after, nil
}

func echoRuns(ctx context.Context, d time.Duration) (runSet, error) {
	addr, pid, stop, err := child(ctx, "ws-echo")
	if err != nil {
		return runSet{}, err
	}
	defer stop()
	base := "http://" + addr
	conns, perConn, ms, err := measureMemory(ctx, base, benchFollowers, func(int) string { return "ws://" + addr + "/" }, nil)
	if err != nil {
		return runSet{}, err
	}
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	rs := runSet{MemPerConn: perConn, Goroutines: ms.Goroutines, ConnsHeld: len(conns)}
	var meter atomic.Pointer[loadgen.Meter]
	var w waiters
	var delivered atomic.Int64
	for _, c := range conns {
		go reader(c, func(data []byte, at time.Time) {
			delivered.Add(1)
			id := field(data, "text")
			meter.Load().Received(id, at)
			w.done(id)
		})
	}
	send := func(c *websocket.Conn, id string) {
		b, _ := json.Marshal(map[string]any{"type": "send", "conversation_id": 1, "text": id, "client_id": id})
		c.Write(ctx, websocket.MessageText, b)
	}
	// Fixed rate, after a warm-up at that rate.
	pace := func(d time.Duration) time.Duration {
		return loadgen.Pace(ctx, benchRate, d, func(i int) {
			id := nextID()
			meter.Load().Sent(id, time.Now())
			send(conns[i%benchConversations], id)
		})
	}
	meter.Store(loadgen.NewMeter())
	pace(benchWarmUp)
	time.Sleep(time.Second)
	meter.Store(loadgen.NewMeter())
	delivered.Store(0)
	elapsed := pace(d)
	time.Sleep(time.Second)
	rs.Fixed = meter.Load().Result(elapsed)
	rs.Deliveries = float64(delivered.Load()) / elapsed.Seconds()
	// Saturated.
	rs.Saturated, rs.CPU, rs.CPUErr = closedLoop(ctx, d, pid, &meter, &w, func(i int, id string) { send(conns[i], id) })
	return rs, nil
}

// closedLoop runs benchConversations senders, each waiting for its message
// to arrive before sending the next, for d, and returns what arrived and
// the CPU time spent meanwhile by the server (process pid), by this load
// generator and by the machine.
func closedLoop(ctx context.Context, d time.Duration, pid int, meter *atomic.Pointer[loadgen.Meter], w *waiters, send func(i int, id string)) (loadgen.WSResult, loadgen.CPUSample, error) {
	m := loadgen.NewMeter()
	meter.Store(m)
	cpu, cpuErr := loadgen.SampleCPU(pid, 0)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range benchConversations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				id := nextID()
				ch := w.wait(id)
				m.Sent(id, time.Now())
				send(i, id)
				select {
				case <-ch:
				case <-time.After(10 * time.Second):
					return
				}
			}
		}()
	}
	wg.Wait()
	res := m.Result(time.Since(start))
	if cpuErr == nil {
		var after loadgen.CPUSample
		after, cpuErr = loadgen.SampleCPU(pid, 0)
		cpu = after.Sub(cpu)
	}
	return res, cpu, cpuErr
}

func chatRuns(ctx context.Context, d time.Duration, dbURL string, cw *chatWorld) (runSet, error) {
	addr, pid, stop, err := child(ctx, "chat-node", "-db", dbURL)
	if err != nil {
		return runSet{}, err
	}
	defer stop()
	base := "http://" + addr
	hello := func(_ int, c *websocket.Conn) error {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		_, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), `"hello"`) {
			return fmt.Errorf("first frame %s", data)
		}
		return nil
	}
	wsURL := func(token string) string { return "ws://" + addr + "/api/v1/ws?token=" + url.QueryEscape(token) }
	followers, perConn, ms, err := measureMemory(ctx, base, benchFollowers, func(i int) string { return wsURL(cw.followerTokens[i]) }, hello)
	if err != nil {
		return runSet{}, err
	}
	defer func() {
		for _, c := range followers {
			c.CloseNow()
		}
	}()
	agents, err := loadgen.DialMany(ctx, benchAgents, benchAgents, func(i int) string { return wsURL(cw.agentTokens[i]) }, hello)
	if err != nil {
		return runSet{}, err
	}
	defer func() {
		for _, c := range agents {
			c.CloseNow()
		}
	}()
	rs := runSet{MemPerConn: perConn, Goroutines: ms.Goroutines, ConnsHeld: len(followers)}
	var meter atomic.Pointer[loadgen.Meter]
	meter.Store(loadgen.NewMeter())
	var w waiters
	var delivered, refused atomic.Int64
	// Receipt is timed at the first agent's connection; every agent
	// connection counts its deliveries.
	for i, c := range agents {
		go reader(c, func(data []byte, at time.Time) {
			id, ok := followerMessage(data)
			if !ok {
				return
			}
			delivered.Add(1)
			if i == 0 {
				meter.Load().Received(id, at)
				w.done(id)
			}
		})
	}
	for _, c := range followers {
		go reader(c, func(data []byte, _ time.Time) {
			if bytes.HasPrefix(data, []byte(`{"type":"error"`)) {
				refused.Add(1)
				fmt.Fprintf(os.Stderr, "refused: %s\n", data)
			}
		})
	}
	send := func(i int, id string) {
		b, _ := json.Marshal(map[string]any{"type": "send", "conversation_id": cw.conversations[i], "text": id, "client_id": id})
		followers[i].Write(ctx, websocket.MessageText, b)
	}
	// Fixed rate, after a warm-up at that rate (the node opens its
	// database connections and prepares its statements).
	pace := func(d time.Duration) time.Duration {
		return loadgen.Pace(ctx, benchRate, d, func(i int) {
			id := nextID()
			meter.Load().Sent(id, time.Now())
			send(i%benchConversations, id)
		})
	}
	pace(benchWarmUp)
	time.Sleep(time.Second)
	meter.Store(loadgen.NewMeter())
	delivered.Store(0)
	elapsed := pace(d)
	time.Sleep(time.Second)
	rs.Fixed = meter.Load().Result(elapsed)
	rs.Deliveries = float64(delivered.Load()) / elapsed.Seconds()
	batches, functions := groupCommits(base)
	rs.Saturated, rs.CPU, rs.CPUErr = closedLoop(ctx, d, pid, &meter, &w, send)
	if b, f := groupCommits(base); b > batches {
		rs.PerCommit = float64(f-functions) / float64(b-batches)
	}
	if n := refused.Load(); n > 0 {
		return rs, fmt.Errorf("the server refused %d messages", n)
	}
	return rs, nil
}

func chatBench(ctx context.Context, o options) error {
	dbURL := o.DatabaseURL
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "regulars-chat-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "bench.db")
	}
	fmt.Fprintf(os.Stderr, "seeding %d followers, %d conversations…\n", benchFollowers, benchConversations)
	cw, err := seedChat(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	fmt.Fprintln(os.Stderr, "bare echo server…")
	echo, err := echoRuns(ctx, o.Duration)
	if err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	fmt.Fprintln(os.Stderr, "chat node…")
	chat, err := chatRuns(ctx, o.Duration, dbURL, cw)
	if err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	dialect := "SQLite"
	if strings.HasPrefix(dbURL, "postgres") {
		dialect = "PostgreSQL"
	}
	fmt.Printf("Database: %s. %d connected followers (%d in active conversations), %d agents' connections; %s per run.\n\n",
		dialect, benchFollowers, benchConversations, benchAgents, o.Duration)
	fmt.Println("| Measure | Bare echo server | Chat node | Chat / echo |")
	fmt.Println("|---|--:|--:|--:|")
	row := func(name string, e, c float64, unit string, ratio bool) {
		r := ""
		if ratio && e > 0 {
			r = fmt.Sprintf("%.0f%%", 100*c/e)
		}
		fmt.Printf("| %s | %s | %s | %s |\n", name, fmtUnit(e, unit), fmtUnit(c, unit), r)
	}
	row(fmt.Sprintf("Messages/s at a fixed %d/s", benchRate), echo.Fixed.Rate, chat.Fixed.Rate, "/s", true)
	row("… p50 send → receipt", ms(echo.Fixed.P50), ms(chat.Fixed.P50), "ms", false)
	row("… p99 send → receipt", ms(echo.Fixed.P99), ms(chat.Fixed.P99), "ms", false)
	row("… deliveries/s (every receiving connection)", echo.Deliveries, chat.Deliveries, "/s", false)
	row("Most messages/s (1,000 senders, each waits for its receipt)", echo.Saturated.Rate, chat.Saturated.Rate, "/s", true)
	row("… p50 send → receipt", ms(echo.Saturated.P50), ms(chat.Saturated.P50), "ms", false)
	row("… p99 send → receipt", ms(echo.Saturated.P99), ms(chat.Saturated.P99), "ms", false)
	if echo.CPUErr == nil && chat.CPUErr == nil {
		// CPU per message: both runs keep the machine busy, so the rate
		// follows from what each message costs, and where.
		per := func(rs runSet, d time.Duration) float64 {
			return float64(d) / float64(time.Microsecond) / float64(max(rs.Saturated.Messages, 1))
		}
		part := func(name string, f func(loadgen.CPUSample) time.Duration) {
			row(name, per(echo, f(echo.CPU)), per(chat, f(chat.CPU)), "µs", false)
		}
		part("… CPU per message: the server", func(c loadgen.CPUSample) time.Duration { return c.Procs[0] })
		part("… CPU per message: the load generator", func(c loadgen.CPUSample) time.Duration { return c.Procs[1] })
		part("… CPU per message: the rest of the machine (database server, kernel)", loadgen.CPUSample.Rest)
		part("… CPU per message: all", func(c loadgen.CPUSample) time.Duration { return c.Machine })
		row("… machine busy (of its cores)", 100*echo.CPU.Machine.Seconds()/echo.Saturated.Elapsed.Seconds()/float64(runtime.NumCPU()),
			100*chat.CPU.Machine.Seconds()/chat.Saturated.Elapsed.Seconds()/float64(runtime.NumCPU()), "%", false)
	} else {
		fmt.Fprintf(os.Stderr, "no CPU accounting: %v %v\n", echo.CPUErr, chat.CPUErr)
	}
	if chat.PerCommit > 0 {
		fmt.Printf("| … messages per group commit (one transaction) | | %.1f | |\n", chat.PerCommit)
	}
	row(fmt.Sprintf("Memory per idle connection (%d held)", benchFollowers), echo.MemPerConn/1024, chat.MemPerConn/1024, "KiB", false)
	fmt.Printf("\nLost messages: echo %d + %d, chat %d + %d. Server goroutines with the connections open: echo %d, chat %d.\n",
		echo.Fixed.Lost, echo.Saturated.Lost, chat.Fixed.Lost, chat.Saturated.Lost, echo.Goroutines, chat.Goroutines)
	return nil
}

// signalContext ends ctx when the parent stops the child.
func signalContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func fmtUnit(v float64, unit string) string {
	switch unit {
	case "ms":
		return fmt.Sprintf("%.2f ms", v)
	case "KiB":
		return fmt.Sprintf("%.1f KiB", v)
	case "µs":
		return fmt.Sprintf("%.0f µs", v)
	}
	return fmt.Sprintf("%.0f%s", v, unit)
}
