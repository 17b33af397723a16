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
	write *sql.DB
	read  *sql.DB
	// Prepared named queries (SQLite): parsing SQL costs more than running
	// most of our queries. PostgreSQL's driver caches statements itself.
	readStmts, writeStmts map[string]*sql.Stmt
	dialect               dialect
	batches               batching
	url                   string
	Clock                 regulars.Clock
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
		// The writer gets a large page cache: index inserts of big tables
		// (a million followers and their history) stay in memory.
		db.write, err = sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-262144)&_pragma=temp_store(MEMORY)&_txlock=immediate")
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
	for _, st := range db.readStmts {
		st.Close()
	}
	for _, st := range db.writeStmts {
		st.Close()
	}
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

// CheckQueries prepares every named query against the migrated schema; a
// broken query fails here. With SQLite the prepared statements are kept and
// used by every later call.
func (db *DB) CheckQueries(ctx context.Context) error {
	queriesMu.Lock()
	names := make([]string, 0, len(queries))
	for n := range queries {
		names = append(names, n)
	}
	queriesMu.Unlock()
	sort.Strings(names)
	keep := db.dialect == sqlite && db.readStmts == nil
	readStmts, writeStmts := map[string]*sql.Stmt{}, map[string]*sql.Stmt{}
	var errs []error
	for _, n := range names {
		text := queries[n]
		stmt, err := db.write.PrepareContext(ctx, db.dialect.rebind(text))
		if err != nil {
			errs = append(errs, fmt.Errorf("query %s: %w", n, err))
			continue
		}
		if !keep {
			stmt.Close()
			continue
		}
		writeStmts[text] = stmt
		if isRead(text) {
			rs, err := db.read.PrepareContext(ctx, text)
			if err != nil {
				errs = append(errs, fmt.Errorf("query %s: %w", n, err))
				continue
			}
			readStmts[text] = rs
		}
	}
	if err := errors.Join(errs...); err != nil {
		for _, st := range writeStmts {
			st.Close()
		}
		for _, st := range readStmts {
			st.Close()
		}
		return err
	}
	if keep {
		db.readStmts, db.writeStmts = readStmts, writeStmts
	}
	return nil
}

func isRead(q string) bool {
	q = strings.TrimSpace(q)
	return len(q) > 6 && strings.EqualFold(q[:6], "SELECT")
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
	var (
		res sql.Result
		err error
	)
	if st := db.stmt(ctx, q, true); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = db.writer(ctx).ExecContext(ctx, db.dialect.rebind(q), args...)
	}
	return res, db.dialect.textError(err)
}

func (db *DB) queryRows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if st := db.stmt(ctx, q, false); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = db.reader(ctx).QueryContext(ctx, db.dialect.rebind(q), args...)
	}
	return rows, db.dialect.textError(err)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) row {
	if st := db.stmt(ctx, q, false); st != nil {
		return row{st.QueryRowContext(ctx, args...), db.dialect}
	}
	return row{db.reader(ctx).QueryRowContext(ctx, db.dialect.rebind(q), args...), db.dialect}
}

// row is a one-row result whose Scan reports text the database refused
// (a NUL character a search or a lookup was given) as bad input, as exec
// does, not as a failure.
type row struct {
	r *sql.Row
	d dialect
}

func (r row) Scan(dest ...any) error { return r.d.textError(r.r.Scan(dest...)) }

// insert runs an INSERT … RETURNING id and returns the id.
func (db *DB) insert(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	if st := db.stmt(ctx, q, true); st != nil {
		err := st.QueryRowContext(ctx, args...).Scan(&id)
		return id, db.dialect.textError(err)
	}
	err := db.writer(ctx).QueryRowContext(ctx, db.dialect.rebind(q), args...).Scan(&id)
	return id, db.dialect.textError(err)
}

// stmt returns the prepared statement for a named query, bound to the
// transaction in ctx if there is one; nil for other queries.
func (db *DB) stmt(ctx context.Context, q string, write bool) *sql.Stmt {
	if db.writeStmts == nil {
		return nil
	}
	if tx, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		if st := db.writeStmts[q]; st != nil {
			return tx.StmtContext(ctx, st)
		}
		return nil
	}
	if write {
		return db.writeStmts[q]
	}
	if st := db.readStmts[q]; st != nil {
		return st
	}
	return db.writeStmts[q]
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
	var after []func(ctx context.Context)
	if err = fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), afterKey{}, &after)); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	for _, f := range after {
		f(ctx)
	}
	return nil
}

type afterKey struct{}

// AfterCommit runs fn once the transaction carried by ctx has committed, or
// at once outside a transaction. fn gets a context without the transaction.
// Work with effects outside the database (sending email) goes here: it must
// not run for a change that is rolled back or retried, nor hold the
// transaction open while it waits on the network.
func (db *DB) AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if after, ok := ctx.Value(afterKey{}).(*[]func(context.Context)); ok {
		*after = append(*after, fn)
		return
	}
	fn(ctx)
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
