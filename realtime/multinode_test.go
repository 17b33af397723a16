package realtime_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// node is a `regulars serve` process of a multi-node test.
type node struct {
	url    string
	stderr *bytes.Buffer
}

var addrRE = regexp.MustCompile(`msg=serving addr=(\S+)`)

// startNode runs the binary on dbURL with a data folder of its own and
// returns once it serves.
func startNode(t *testing.T, bin, dbURL, name string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "-addr", "127.0.0.1:0", "-database", dbURL, "-data", t.TempDir())
	cmd.Env = append(os.Environ(), "REGULARS_LOG_LEVEL=info")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{stderr: &bytes.Buffer{}}
	var mu sync.Mutex
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			n.stderr.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			mu.Lock()
			t.Logf("%s's log:\n%s", name, n.stderr)
			mu.Unlock()
		}
	})
	select {
	case addr := <-found:
		n.url = "http://" + addr
	case <-time.After(60 * time.Second):
		t.Fatalf("%s does not serve", name)
	}
	// Ready when it listens for the other nodes' events.
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(n.url + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(body), "regulars_realtime_bus_listening 1") {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not listen for the other nodes' events", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// buildBinary compiles cmd/regulars into the test's temporary folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "regulars")
	if out, err := exec.Command("go", "build", "-o", bin, "regulars/cmd/regulars").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Two `regulars serve` processes on one PostgreSQL database: a message
// sent through node 1 reaches a WebSocket connected to node 2, and an
// answer sent through node 2 reaches the follower's WebSocket on node 1.
func TestTwoNodesShareChatEvents(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	bin := buildBinary(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := testenv.NewWorld(t, db)
	mailer, err := mail.New(db, "", "", testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(db, mailer, testenv.Logger(t), "http://regulars.test")
	a.Password = testenv.FastPasswords
	agent := w.AddUser(t, w.Partner.ID, "ann@alpha.example", regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
	signed, err := a.SignIn(ctx, agent.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, agentToken, err := a.CreateAPIToken(ctx, signed.Actor, "multi-node test")
	if err != nil {
		t.Fatal(err)
	}
	fan, err := a.SignUpFollower(ctx, app.SignUpInput{Tenant: "test", Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Mia", Email: "mia@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Follow(ctx, fan.Actor, w.Channel.ID); err != nil {
		t.Fatal(err)
	}

	n1 := startNode(t, bin, dbURL, "node 1")
	n2 := startNode(t, bin, dbURL, "node 2")

	onNode2 := dial(t, "agent on node 2", n2.url, nil, "?token="+url.QueryEscape(agentToken))
	onNode2.await("hello", func(f frame) bool { return f.Type == "hello" && f.Role == "agent" })
	onNode1 := dial(t, "follower on node 1", n1.url, nil, "?token="+url.QueryEscape(fan.Token))
	onNode1.await("hello", func(f frame) bool { return f.Type == "hello" && f.Role == "follower" })

	// The follower writes through node 1's JSON API.
	body, _ := json.Marshal(map[string]string{"text": "Hello from node 1"})
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/follower/channels/%d/chat", n1.url, w.Channel.ID), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+fan.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sent struct {
		Conversation struct{ ID int64 } `json:"conversation"`
	}
	json.NewDecoder(res.Body).Decode(&sent)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("sending through node 1: %d", res.StatusCode)
	}
	got := onNode2.await("the message on node 2", isMessage("Hello from node 1"))
	if got.Conversation.ID != sent.Conversation.ID || got.Conversation.Status != regulars.ConversationUnanswered {
		t.Fatalf("node 2 got %+v", got.Conversation)
	}

	// The agent answers through node 2's WebSocket; the follower on node 1
	// sees it join and answer.
	onNode2.send(map[string]any{"type": "send", "conversation_id": sent.Conversation.ID, "text": "Hello from node 2", "ref": "1"})
	onNode2.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "1" })
	onNode1.await("the answer on node 1", isMessage("Hello from node 2"))

	// Both nodes lose their listening connections (the database ends
	// them): each listens again and tells its clients to catch up, since
	// events may have passed meanwhile; then events flow again.
	raw, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var ended int
	if err := raw.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()`).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended < 2 {
		t.Fatalf("ended %d listening connections, want both nodes'", ended)
	}
	onNode2.await("resync on node 2", func(f frame) bool { return f.Type == "resync" })
	onNode1.await("resync on node 1", func(f frame) bool { return f.Type == "resync" })
	onNode2.send(map[string]any{"type": "send", "conversation_id": sent.Conversation.ID, "text": "Still here", "ref": "2"})
	onNode2.await("ack", func(f frame) bool { return f.Type == "ack" && f.Ref == "2" })
	onNode1.await("a message after listening again", isMessage("Still here"))
}
