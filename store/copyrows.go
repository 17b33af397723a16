package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// copyTables are the tables and columns BulkInsert may write: generated
// data for benchmarks and large demos, never user input.
var copyTables = map[string][]string{
	"followers":           {"id", "tenant_id", "end_user_id", "name", "email", "phone", "birth_date", "gender", "language", "status", "created_at"},
	"follows":             {"tenant_id", "channel_id", "follower_id", "followed_at", "unfollowed_at"},
	"memberships":         {"program_id", "follower_id", "tenant_id", "joined_at", "current_points", "total_points", "level"},
	"coupon_activations":  {"tenant_id", "coupon_id", "follower_id", "status", "activated_at"},
	"message_deliveries":  {"engagement_id", "follower_id", "run_key", "delivered_at", "opened_at"},
	"custom_list_members": {"list_id", "generation", "follower_id"},
	"list_upload_rejects": {"upload_id", "line", "value", "reason", "detail"},
}

// CopyRows writes rows into one of a few tables as fast as the database
// allows: COPY on PostgreSQL, multi-row INSERTs in one transaction per
// chunk on SQLite. It is for generated data (benchmarks, large demos);
// columns must be a subset of the table's allowed ones.
func (db *DB) CopyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	allowed, ok := copyTables[table]
	if !ok {
		return fmt.Errorf("store: bulk insert into %q is not allowed", table)
	}
	for _, c := range cols {
		if !slices.Contains(allowed, c) {
			return fmt.Errorf("store: bulk insert into %s.%s is not allowed", table, c)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if db.dialect == postgres {
		c, err := db.write.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	}
	per := max(1, 30000/len(cols))
	return db.InTx(ctx, func(ctx context.Context) error {
		row := "(" + placeholders(len(cols)) + ")"
		for start := 0; start < len(rows); start += per {
			chunk := rows[start:min(start+per, len(rows))]
			args := make([]any, 0, len(chunk)*len(cols))
			for _, r := range chunk {
				args = append(args, r...)
			}
			q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + row + strings.Repeat(", "+row, len(chunk)-1)
			if _, err := db.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// RawInsertBaseline writes rows as fast as the database takes them (COPY
// on PostgreSQL; prepared 1,000-row INSERTs, 20,000 rows a transaction, on
// SQLite) and returns how long that took: the baselines of the list
// upload benchmark. With table "" the rows are (integer, integer, text)
// and go into a temporary table without constraints; otherwise table and
// cols must be allowed for CopyRows.
func (db *DB) RawInsertBaseline(ctx context.Context, table string, cols []string, rows [][]any) (time.Duration, error) {
	c, err := db.write.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if table == "" {
		table, cols = "raw_rows", []string{"a", "b", "c"}
		if _, err := c.ExecContext(ctx, `CREATE TEMP TABLE raw_rows (a BIGINT, b BIGINT, c TEXT)`); err != nil {
			return 0, err
		}
		defer c.ExecContext(context.WithoutCancel(ctx), `DROP TABLE raw_rows`)
	} else if allowed, ok := copyTables[table]; !ok || len(cols) == 0 || slices.ContainsFunc(cols, func(c string) bool { return !slices.Contains(allowed, c) }) {
		return 0, fmt.Errorf("store: raw insert into %s%v is not allowed", table, cols)
	}
	started := time.Now()
	if db.dialect == postgres {
		err = c.Raw(func(dc any) error {
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
		return time.Since(started), err
	}
	one := "(" + placeholders(len(cols)) + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	stmt, err := c.PrepareContext(ctx, head+one+strings.Repeat(", "+one, 999))
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	args := make([]any, 0, 1000*len(cols))
	for start := 0; start < len(rows); start += 20000 {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		chunk := rows[start:min(start+20000, len(rows))]
		for i := 0; i+1000 <= len(chunk); i += 1000 {
			args = args[:0]
			for _, r := range chunk[i : i+1000] {
				args = append(args, r...)
			}
			if _, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, args...); err != nil {
				tx.Rollback()
				return 0, err
			}
		}
		for _, r := range chunk[len(chunk)/1000*1000:] {
			if _, err := tx.ExecContext(ctx, head+one, r...); err != nil {
				tx.Rollback()
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(started), nil
}
