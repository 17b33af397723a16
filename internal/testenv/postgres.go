package testenv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresEnv is the environment variable that names the PostgreSQL server of
// the tests. The user of the URL must be allowed to create databases.
const PostgresEnv = "REGULARS_TEST_POSTGRES_URL"

// dbPrefix starts the name of each database that PostgresURL creates. The
// name goes on with the creation time in Unix seconds and a random part, so
// that a later run can drop the databases that a killed run left.
const dbPrefix = "regulars_t_"

// staleAfter is the age after which a test database counts as left over by a
// run that was killed before its cleanup.
const staleAfter = 6 * time.Hour

// pgAdminTimeout limits each administrative step, so that a server that hangs
// fails the test and does not block it.
const pgAdminTimeout = 30 * time.Second

var sweepOnce sync.Once

// PostgresURL creates a new, empty database for the test and returns its
// URL. A cleanup of the test drops the database, also when a connection to
// it is still open.
//
// The server comes from the environment variable REGULARS_TEST_POSTGRES_URL.
// Without it, the test is skipped, or it fails when CI is true.
//
// PostgresURL is safe to call from parallel tests and from several test
// binaries at once: each call gets its own database.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return postgresURL(t, nil)
}

// postgresURL is PostgresURL with an optional template: a function that
// returns the name of a database to copy (made once by the caller).
func postgresURL(t testing.TB, template func(ctx context.Context, base string, conn *pgx.Conn) (string, error)) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		missing(t, "PostgreSQL", "PostgreSQL tests need "+PostgresEnv+
			" (for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	name := fmt.Sprintf("%s%d_%s", dbPrefix, time.Now().Unix(), randomHex(8))
	dbURL, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("testenv: %s: %v", PostgresEnv, err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), pgAdminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testenv: connecting to PostgreSQL (%s): %v", PostgresEnv, err)
	}
	defer conn.Close(context.Background())

	sweepOnce.Do(func() { sweepStale(ctx, conn) })

	from := ""
	if template != nil {
		if from, err = template(ctx, base, conn); err != nil {
			t.Fatalf("testenv: preparing the template database: %v", err)
		}
	}
	if err := createDatabase(ctx, conn, name, from); err != nil {
		t.Fatalf("testenv: creating the test database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			t.Errorf("testenv: dropping the test database %s: %v", name, err)
		}
	})
	return dbURL
}

// createDatabase creates the database name. It tries again for a while when
// the template database is busy, because CREATE DATABASE fails when another
// session uses the template.
func createDatabase(ctx context.Context, conn *pgx.Conn, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		_, err := conn.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(delay):
		}
	}
}

// dropDatabase drops the database name, and ends the sessions that still use
// it.
func dropDatabase(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), pgAdminTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// sweepStale drops the test databases that are older than staleAfter. Such a
// database was left by a test binary that was killed before its cleanup.
// Errors do not matter: another test binary can sweep at the same time.
func sweepStale(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, dbPrefix)
	if err != nil {
		return
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return
	}
	for _, name := range names {
		created, _, ok := strings.Cut(strings.TrimPrefix(name, dbPrefix), "_")
		if !ok {
			continue
		}
		sec, err := strconv.ParseInt(created, 10, 64)
		if err != nil || time.Since(time.Unix(sec, 0)) < staleAfter {
			continue
		}
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
}

// withDatabase returns the connection string base with the database name.
// It accepts a URL (postgres://...) and the keyword/value form
// (host=... dbname=...).
func withDatabase(base, name string) (string, error) {
	if _, err := pgx.ParseConfig(base); err != nil {
		return "", err
	}
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the keyword/value form, the last value of a keyword wins.
	return base + " dbname=" + name, nil
}
