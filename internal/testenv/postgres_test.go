package testenv

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	return conn
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	conn := connect(t, os.Getenv(PostgresEnv))
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_database WHERE datname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestPostgresURL(t *testing.T) {
	ctx := context.Background()
	first := PostgresURL(t)
	second := PostgresURL(t)
	if first == second {
		t.Fatalf("two calls gave the same database: %s", first)
	}

	a := connect(t, first)
	defer a.Close(ctx)
	var name string
	if err := a.QueryRow(ctx, `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(name, dbPrefix) {
		t.Errorf("database %q does not start with %q", name, dbPrefix)
	}
	if _, err := a.Exec(ctx, `CREATE TABLE things (id int PRIMARY KEY, name text); INSERT INTO things VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := a.QueryRow(ctx, `SELECT name FROM things WHERE id = 1`).Scan(&got); err != nil || got != "one" {
		t.Fatalf("reading back: %q, %v", got, err)
	}

	b := connect(t, second)
	defer b.Close(ctx)
	var tables int
	if err := b.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename = 'things'`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("the second database sees the table of the first")
	}
}

func TestPostgresURLDropsDatabase(t *testing.T) {
	PostgresURL(t) // skips without PostgreSQL
	var name string
	t.Run("inner", func(t *testing.T) {
		url := PostgresURL(t)
		// Leave a connection open: the drop must end it.
		conn := connect(t, url)
		if err := conn.QueryRow(context.Background(), `SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !databaseExists(t, name) {
			t.Fatalf("database %s does not exist", name)
		}
	})
	if name == "" {
		t.Fatal("the inner test did not run")
	}
	if databaseExists(t, name) {
		t.Errorf("database %s still exists after the cleanup", name)
	}
}

func TestPostgresURLParallel(t *testing.T) {
	PostgresURL(t) // skips without PostgreSQL
	var mu sync.Mutex
	seen := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for range 8 {
			t.Run("db", func(t *testing.T) {
				t.Parallel()
				url := PostgresURL(t)
				conn := connect(t, url)
				defer conn.Close(context.Background())
				if _, err := conn.Exec(context.Background(), `CREATE TABLE t (x int)`); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if seen[url] {
					t.Errorf("duplicate database %s", url)
				}
				seen[url] = true
			})
		}
	})
	if len(seen) != 8 {
		t.Errorf("got %d databases, want 8", len(seen))
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"},
		{"postgresql://u:p%40ss@db:5433?sslmode=disable", "postgresql://u:p%40ss@db:5433/x?sslmode=disable"},
		{"host=127.0.0.1 dbname=test user=postgres", "host=127.0.0.1 dbname=test user=postgres dbname=x"},
	} {
		got, err := withDatabase(tc.base, "x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
		}
		if cfg, err := pgx.ParseConfig(got); err != nil || cfg.Database != "x" {
			t.Errorf("parsing %q: database %v, %v", got, cfg, err)
		}
	}
}
