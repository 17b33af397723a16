package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL's LISTEN/NOTIFY carries events between app nodes (see the
// realtime package). A notification holds at most 8000 bytes; larger
// events are parked in bus_spill and the notification names the row.

// MaxNotifyPayload is the largest payload Notify sends in one notification.
const MaxNotifyPayload = 7900

var errNotPostgres = errors.New("store: LISTEN/NOTIFY needs PostgreSQL")

// Notify sends payload to every session listening on channel.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.dialect != postgres {
		return errNotPostgres
	}
	// Not a named query: pg_notify does not exist on SQLite.
	_, err := db.write.ExecContext(ctx, `SELECT pg_notify($1, $2)`, channel, payload)
	return err
}

// Listen opens a connection of its own, LISTENs on channel and calls fn
// with each notification's payload, until ctx ends. After a lost
// connection it connects again; connected is called each time it is
// listening (again), so the caller can catch up on what it missed.
func (db *DB) Listen(ctx context.Context, channel string, connected func(), fn func(payload string)) error {
	if db.dialect != postgres {
		return errNotPostgres
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, func() {
			backoff = 100 * time.Millisecond
			if connected != nil {
				connected()
			}
		}, fn)
		if ctx.Err() != nil {
			break
		}
		_ = err // the caller learns of gaps through connected
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return ctx.Err()
}

func (db *DB) listenOnce(ctx context.Context, channel string, connected func(), fn func(payload string)) error {
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(connectCtx, db.url)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}

var (
	qSpillInsert = query("bus_spill_insert", `INSERT INTO bus_spill (data, created_at) VALUES (?, ?) RETURNING id`)
	qSpillGet    = query("bus_spill_get", `SELECT data FROM bus_spill WHERE id = ?`)
	qSpillPurge  = query("bus_spill_purge", `DELETE FROM bus_spill WHERE created_at < ?`)
)

// Spill parks an event too large for a notification and returns its id.
func (db *DB) Spill(ctx context.Context, data string) (int64, error) {
	return db.insert(ctx, qSpillInsert, data, ms(db.now()))
}

// Spilled reads a parked event.
func (db *DB) Spilled(ctx context.Context, id int64) (string, error) {
	var data string
	err := db.queryRow(ctx, qSpillGet, id).Scan(&data)
	return data, notFound(err, "event")
}

// PurgeSpill deletes parked events older than before.
func (db *DB) PurgeSpill(ctx context.Context, before time.Time) error {
	_, err := db.exec(ctx, qSpillPurge, ms(before))
	return err
}
