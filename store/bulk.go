package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// Bulk loading for the demo generator (and other imports of many rows):
// multi-row INSERTs with explicit ids, run inside the caller's transaction.
// Table and column names come from code, never from users.

var bulkStmts sync.Map // "table|cols|rows" → rebound SQL

// BulkInsert inserts rows (each a value per column) into table, many rows
// per statement. Call it inside InTx: one transaction per batch keeps
// SQLite fast and the data consistent. The statement is prepared once per
// call: parsing a many-row INSERT costs as much as running it.
func (db *DB) BulkInsert(ctx context.Context, table string, cols []string, rows [][]any) error {
	const maxParams = 30000
	per := max(1, min(500, maxParams/len(cols)))
	tx, ok := ctx.Value(txKey{}).(*sql.Tx)
	if !ok {
		return db.InTx(ctx, func(ctx context.Context) error { return db.BulkInsert(ctx, table, cols, rows) })
	}
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	args := make([]any, 0, per*len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		st := stmts[len(chunk)]
		if st == nil {
			key := fmt.Sprintf("%s|%s|%s|%d", db.dialect, table, strings.Join(cols, ","), len(chunk))
			q, ok := bulkStmts.Load(key)
			if !ok {
				one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
				q = db.dialect.rebind("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", "))
				bulkStmts.Store(key, q)
			}
			var err error
			if st, err = tx.PrepareContext(ctx, q.(string)); err != nil {
				return fmt.Errorf("bulk insert into %s: %w", table, err)
			}
			stmts[len(chunk)] = st
		}
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("bulk insert into %s: %w", table, err)
		}
	}
	return nil
}

// MaxID returns the highest id of table (0 when empty), to number rows of a
// bulk insert.
func (db *DB) MaxID(ctx context.Context, table string) (int64, error) {
	var n int64
	err := db.writer(ctx).QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(&n)
	return n, err
}

// SyncIdentity moves PostgreSQL's id sequence of table past the ids a bulk
// insert gave explicitly (SQLite needs nothing).
func (db *DB) SyncIdentity(ctx context.Context, table string) error {
	if db.dialect != postgres {
		return nil
	}
	_, err := db.writer(ctx).ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+table+"', 'id'), (SELECT COALESCE(MAX(id), 1) FROM "+table+"))")
	return err
}

var qRecountRedeemed = query("coupon_recount_redeemed", `UPDATE engagements SET redeemed = (SELECT COUNT(*) FROM coupon_activations a WHERE a.coupon_id = engagements.id AND a.status = 'redeemed') WHERE id = ?`)

// RecountRedeemed sets a coupon's redeemed counter from its activations
// (after a bulk load).
func (db *DB) RecountRedeemed(ctx context.Context, couponID int64) error {
	_, err := db.exec(ctx, qRecountRedeemed, couponID)
	return err
}

// Analyze refreshes the query planner's statistics after a bulk load.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, "ANALYZE")
	return err
}

// BulkLoading switches SQLite to bulk-load settings (no fsync per
// checkpoint, larger checkpoints) until the returned func restores them.
// Foreign keys are not checked meanwhile. Use it only for generated data,
// whose consistency the generator guarantees.
func (db *DB) BulkLoading(ctx context.Context) (restore func(), err error) {
	if db.dialect != sqlite {
		return func() {}, nil
	}
	if _, err := db.write.ExecContext(ctx, "PRAGMA synchronous=OFF"); err != nil {
		return nil, err
	}
	if _, err := db.write.ExecContext(ctx, "PRAGMA wal_autocheckpoint=100000"); err != nil {
		return nil, err
	}
	// The generator's rows reference each other correctly by construction;
	// checking every foreign key would double the work.
	if _, err := db.write.ExecContext(ctx, "PRAGMA foreign_keys=OFF"); err != nil {
		return nil, err
	}
	return func() {
		db.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys=ON")
		db.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_autocheckpoint=1000")
		db.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA synchronous=NORMAL")
		db.write.ExecContext(context.WithoutCancel(ctx), "PRAGMA wal_checkpoint(TRUNCATE)")
	}, nil
}
