package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/config"
	"regulars/files"
	"regulars/internal/testenv"
	"regulars/server"
	"regulars/store"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		srv := testenv.NewServer(t, db)
		c := srv.Client(t)
		if r := c.Get("/healthz"); r.StatusCode != http.StatusOK {
			t.Errorf("/healthz: %d", r.StatusCode)
		}
		if r := c.Get("/readyz"); r.StatusCode != http.StatusOK {
			t.Errorf("/readyz with the database up: %d", r.StatusCode)
		}
		db.Close()
		if r := c.Get("/readyz"); r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.Body, "database unreachable") {
			t.Errorf("/readyz with the database closed: %d %q, want 503", r.StatusCode, r.Body)
		}
		// Alive is not ready: the process still answers.
		if r := c.Get("/healthz"); r.StatusCode != http.StatusOK {
			t.Errorf("/healthz with the database closed: %d", r.StatusCode)
		}
	})
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		c := srv.SignedIn(t, w.Owner.Email)
		for range 3 {
			c.Get("/admin/users")
		}
		c.Get("/admin/users/999999") // another partner's or missing: 404
		srv.Client(t).Get("/no/such/page")
		// A follower's two messages: the first starts the conversation, the
		// second is stored by the batch's statements on PostgreSQL.
		f := w.AddFollower(t, "METRICS", []*regulars.Channel{w.Channel})
		fa := &app.FollowerActor{Follower: f, Tenant: w.Tenant}
		conv, _, err := srv.App.FollowerSend(context.Background(), fa, w.Channel.ID, app.FollowerMessage{Text: "Hello"})
		if err == nil {
			_, _, err = srv.App.FollowerSendTo(context.Background(), fa, conv.ID, app.FollowerMessage{Text: "Again"})
		}
		if err != nil {
			t.Fatal(err)
		}
		batchedTexts := 0
		if db.Dialect() == "postgres" {
			batchedTexts = 1
		}

		m := srv.Client(t).Get("/metrics")
		if m.StatusCode != http.StatusOK || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("/metrics: %d %s", m.StatusCode, m.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`regulars_http_requests_total{method="GET",route="GET /admin/users",status="2xx"} 3`,
			`regulars_http_requests_total{method="GET",route="GET /admin/users/{id}",status="4xx"} 1`,
			`regulars_http_requests_total{method="POST",route="POST /login",status="3xx"} 1`,
			`regulars_http_requests_total{method="GET",route="/",status="4xx"} 1`, // the catch-all: unknown paths never become labels
			`regulars_http_request_duration_seconds_count{method="GET",route="GET /admin/users",status="2xx"} 3`,
			`regulars_http_request_duration_seconds_bucket{method="GET",route="GET /admin/users",status="2xx",le="+Inf"} 3`,
			"regulars_store_batches_total ", "regulars_store_batch_text_fallbacks_total 0\n",
			fmt.Sprintf("regulars_store_batched_texts_total %d\n", batchedTexts),
		} {
			if !strings.Contains(m.Body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if !regexp.MustCompile(`regulars_db_connections\{pool="[a-z]+",state="idle"\} \d+`).MatchString(m.Body) {
			t.Error("/metrics lacks the database pool gauges")
		}
		// Request paths never become labels: ids would make endless series.
		if strings.Contains(m.Body, "999999") || strings.Contains(m.Body, "/no/such/page") {
			t.Error("/metrics labels series with raw paths")
		}
	})
}

// Files in an S3-compatible bucket (-files-s3): a follower's picture
// goes to the bucket under the prefix, the follower downloads it over
// HTTP; channel pictures go to its media folder and are served from it;
// a node whose bucket is missing does not start.
func TestFilesInS3(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.OpenSQLite(t)
	s3URL := testenv.FakeS3(t, "uploads")
	srv := testenv.NewServer(t, db, func(c *config.Config) {
		c.FilesS3URL, c.FilesS3AccessKey, c.FilesS3SecretKey = s3URL+"/uploads/regulars", "key", "secret"
	})
	bucket, ok := srv.App.Files.(*files.S3)
	if !ok {
		t.Fatalf("the node stores files in %T, want the S3 bucket", srv.App.Files)
	}
	w := testenv.NewWorld(t, db)
	f := w.AddFollower(t, "S3FAN", []*regulars.Channel{w.Channel})
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{9}, 4000)...)
	_, m, err := srv.App.FollowerSendAttachment(ctx, &app.FollowerActor{Follower: f, Tenant: w.Tenant}, w.Channel.ID, app.Upload{Name: "map.png", Body: bytes.NewReader(img)}, "")
	if err != nil {
		t.Fatal(err)
	}
	// In the bucket, under the prefix.
	direct, err := files.NewS3(files.S3Config{URL: s3URL + "/uploads", AccessKey: "key", SecretKey: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := direct.Open(ctx, "regulars/"+m.Attachment.StorageKey)
	if err != nil {
		t.Fatalf("the attachment is not in the bucket under the prefix: %v", err)
	}
	obj.Close()
	if _, err := bucket.Open(ctx, m.Attachment.StorageKey); err != nil {
		t.Fatal(err)
	}

	token := "rgf_" + app.NewSecret("")
	if err := db.CreateFollowerToken(ctx, f.ID, app.HashSecret(token), time.Hour); err != nil {
		t.Fatal(err)
	}
	r := srv.Client(t).Do("GET", fmt.Sprintf("/api/v1/follower/attachments/%d", m.AttachmentID), nil, http.Header{"Authorization": {"Bearer " + token}})
	if r.StatusCode != http.StatusOK || r.Body != string(img) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("download: %d, %d bytes, %s", r.StatusCode, len(r.Body), r.Header.Get("Content-Type"))
	}

	// Pictures (logos, engagement images) go to the bucket's media folder
	// and are served from there.
	logo, err := srv.App.SaveImage(ctx, img, "logo")
	if err != nil {
		t.Fatal(err)
	}
	if obj, err := direct.Open(ctx, "regulars/media/"+logo); err != nil {
		t.Fatalf("the picture is not in the bucket's media folder: %v", err)
	} else {
		obj.Close()
	}
	if r := srv.Client(t).Get("/media/" + logo); r.StatusCode != http.StatusOK || r.Body != string(img) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("/media/%s: %d, %d bytes, %s", logo, r.StatusCode, len(r.Body), r.Header.Get("Content-Type"))
	}
	if r := srv.Client(t).Get("/media/0000.png"); r.StatusCode != http.StatusNotFound {
		t.Errorf("a missing picture: %d", r.StatusCode)
	}

	cfg := &config.Config{DataDir: t.TempDir(), DatabaseURL: db.URL(), BaseURL: "http://127.0.0.1", FilesS3URL: s3URL + "/nobucket", FilesS3AccessKey: "key", FilesS3SecretKey: "secret"}
	if _, err := server.Assemble(ctx, cfg, testenv.Logger(t), db); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a node with a missing bucket: %v, want it not to start", err)
	}
}

// Pictures on the local disk (the default): stored under <data>/media and
// served from there; names SaveImage could not have made are not found.
func TestMediaOnDisk(t *testing.T) {
	t.Parallel()
	srv := testenv.NewServer(t, testenv.OpenSQLite(t))
	img := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{5}, 500)...)
	name, err := srv.App.SaveImage(context.Background(), img, "logo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(srv.Config.DataDir, "media", name)); err != nil {
		t.Fatalf("the picture is not in the media folder: %v", err)
	}
	c := srv.Client(t)
	if r := c.Get("/media/" + name); r.StatusCode != http.StatusOK || r.Body != string(img) || r.Header.Get("Cache-Control") == "" {
		t.Fatalf("/media/%s: %d, %d bytes", name, r.StatusCode, len(r.Body))
	}
	for _, bad := range []string{"/media/.." + name, "/media/x.txt", "/media/missing.png"} {
		if r := c.Get(bad); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.StatusCode)
		}
	}
}

// A NUL character in a query or a form is refused before anything reads
// it, as a problem for the API and as text for pages; on PostgreSQL,
// which cannot store one, text that reaches the store with one anyway is
// refused as bad input, not a failure of ours.
func TestNULRefused(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		srv := testenv.NewServer(t, db)
		for _, c := range []struct{ path, ctype string }{
			{"/api/v1/chat/conversations?q=a%00b", "application/problem+json"},
			{"/admin/chat?q=a%00b", "text/plain; charset=utf-8"},
		} {
			res, err := http.Get(srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != c.ctype {
				t.Errorf("GET %s: %d %s, want 400 %s", c.path, res.StatusCode, res.Header.Get("Content-Type"), c.ctype)
			}
		}
		res, err := http.PostForm(srv.URL+"/login", map[string][]string{"email": {"a\x00@example.com"}, "password": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("a sign-in form with a NUL: %d, want 400", res.StatusCode)
		}

		w := testenv.NewWorld(t, db)
		ch := *w.Channel
		ch.Description = "nul \x00 char"
		err = db.UpdateChannel(context.Background(), &ch)
		if db.Dialect() == "postgres" && regulars.ErrorCode(err) != regulars.EINVALID {
			t.Errorf("PostgreSQL storing a NUL: %v, want a refusal of the input", err)
		}
	})
}
