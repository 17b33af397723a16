package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
