// Package store is the only package that talks to the database. It runs the
// same SQL on SQLite (embedded, pure Go) and PostgreSQL (pgx); the few
// differences between the two live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"regulars"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"
)

// DB is a handle on the database. With SQLite, writes go through one
// connection and reads through a pool; with PostgreSQL both share one pool.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect dialect
	url     string
	Clock   regulars.Clock
}

// Open connects to url: "postgres://…" (or "postgresql://…") for PostgreSQL,
// otherwise a SQLite file path (optionally prefixed "sqlite:" or "file:").
func Open(ctx context.Context, url string) (*DB, error) {
	db := &DB{url: url, Clock: regulars.SystemClock{}}
	var err error
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		db.dialect = postgres
		db.write, err = sql.Open("pgx", url)
		if err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(32)
		db.write.SetMaxIdleConns(32)
		db.write.SetConnMaxIdleTime(5 * time.Minute)
		db.read = db.write
	} else {
		db.dialect = sqlite
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
		if path == "" {
			return nil, errors.New("store: empty database path")
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create data folder: %w", err)
			}
		}
		pragmas := "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
		db.write, err = sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetConnMaxIdleTime(0)
		db.read, err = sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
		if err != nil {
			db.write.Close()
			return nil, err
		}
		db.read.SetMaxOpenConns(8)
		db.read.SetMaxIdleConns(8)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return db, nil
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return db.write.PingContext(ctx)
}

// Dialect names the database: "sqlite" or "postgres".
func (db *DB) Dialect() string { return string(db.dialect) }

// URL is the connection string Open was given.
func (db *DB) URL() string { return db.url }

// PoolStats reports the connection pools for /metrics.
func (db *DB) PoolStats() map[string]sql.DBStats {
	if db.read == db.write {
		return map[string]sql.DBStats{"main": db.write.Stats()}
	}
	return map[string]sql.DBStats{"write": db.write.Stats(), "read": db.read.Stats()}
}

func (db *DB) now() time.Time { return db.Clock.Now().UTC() }

// Named queries are registered at package level and checked by CheckQueries at
// start-up, so a broken query stops the start instead of a request.
var (
	queriesMu sync.Mutex
	queries   = map[string]string{}
)

// query registers a named SQL text written with ? placeholders.
func query(name, text string) string {
	queriesMu.Lock()
	defer queriesMu.Unlock()
	if _, dup := queries[name]; dup {
		panic("store: duplicate query name " + name)
	}
	queries[name] = text
	return text
}

// CheckQueries prepares every named query against the migrated schema.
func (db *DB) CheckQueries(ctx context.Context) error {
	queriesMu.Lock()
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	queriesMu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		stmt, err := db.write.PrepareContext(ctx, db.dialect.rebind(queries[n]))
		if err != nil {
			errs = append(errs, fmt.Errorf("query %s: %w", n, err))
			continue
		}
		stmt.Close()
	}
	return errors.Join(errs...)
}

// conn is what both *sql.DB and *sql.Tx offer.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type txKey struct{}

// reader returns the transaction in ctx, or the read pool.
func (db *DB) reader(ctx context.Context) conn {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.read
}

// writer returns the transaction in ctx, or the write pool.
func (db *DB) writer(ctx context.Context) conn {
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.write
}

func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.writer(ctx).ExecContext(ctx, db.dialect.rebind(q), args...)
}

func (db *DB) queryRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return db.reader(ctx).QueryContext(ctx, db.dialect.rebind(q), args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return db.reader(ctx).QueryRowContext(ctx, db.dialect.rebind(q), args...)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (db *DB) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := db.writer(ctx).QueryRowContext(ctx, db.dialect.rebind(q), args...).Scan(&id)
	return id, err
}

// InTx runs fn in one transaction carried by the context; store methods
// called with that context join it. Nested calls join the outer transaction.
// Transient conflicts (SQLite busy, PostgreSQL serialization failures and
// deadlocks) are retried a few times, so fn must be safe to run again.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return fn(ctx)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.runTx(ctx, fn)
		if err == nil || !db.dialect.retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 15 * time.Millisecond)
	}
	return err
}

func (db *DB) runTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	return tx.Commit()
}

// Time is stored as Unix milliseconds (0 = no time) so both databases run the
// same comparisons and the Go side decides time zones and calendars.

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// nullID maps 0 to NULL for optional foreign keys.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// notFound turns sql.ErrNoRows into the domain's not-found error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return regulars.ErrNotFound(what)
	}
	return err
}
