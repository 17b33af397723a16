package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"regulars"
)

const listCols = "l.id, l.tenant_id, l.partner_id, l.name, l.generation, l.member_count, l.created_at, l.updated_at"

var (
	qListInsert      = query("list_insert", `INSERT INTO custom_lists (tenant_id, partner_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	qListByID        = query("list_by_id", `SELECT `+listCols+`, (SELECT COUNT(*) FROM segmentation_refs r WHERE r.ref_kind = 'list' AND r.ref_id = l.id) FROM custom_lists l WHERE l.partner_id = ? AND l.id = ?`)
	qListsOf         = query("lists_of", `SELECT `+listCols+`, (SELECT COUNT(*) FROM segmentation_refs r WHERE r.ref_kind = 'list' AND r.ref_id = l.id) FROM custom_lists l WHERE l.partner_id = ? ORDER BY lower(l.name), l.id`)
	qListRename      = query("list_rename", `UPDATE custom_lists SET name = ?, updated_at = ? WHERE partner_id = ? AND id = ?`)
	qListDelete      = query("list_delete", `DELETE FROM custom_lists WHERE partner_id = ? AND id = ?`)
	qListSwitch      = query("list_switch", `UPDATE custom_lists SET generation = ?, member_count = ?, updated_at = ? WHERE id = ? AND generation = ?`)
	qListMembers     = query("list_member_ids", `SELECT x.follower_id FROM custom_lists l JOIN custom_list_members x ON x.list_id = l.id AND x.generation = l.generation WHERE l.id = ? AND x.follower_id > ? ORDER BY x.follower_id LIMIT ?`)
	qGenMembers      = query("list_generation_ids", `SELECT follower_id FROM custom_list_members WHERE list_id = ? AND generation = ? AND follower_id > ? ORDER BY follower_id LIMIT ?`)
	qGenCopy         = query("list_generation_copy", `INSERT INTO custom_list_members (list_id, generation, follower_id) SELECT list_id, ?, follower_id FROM custom_list_members WHERE list_id = ? AND generation = ? AND follower_id > ? AND follower_id <= ?`)
	qGenBound        = query("list_generation_bound", `SELECT COALESCE(MAX(follower_id), 0) FROM (SELECT follower_id FROM custom_list_members WHERE list_id = ? AND generation = ? AND follower_id > ? ORDER BY follower_id LIMIT ?) t`)
	qListDropRows    = query("list_drop_rows", `DELETE FROM custom_list_members WHERE list_id = ?`)
	qListDropGarbage = query("list_drop_garbage", `DELETE FROM custom_list_garbage WHERE list_id = ?`)
	qGarbageAdd      = query("list_garbage_add", `INSERT INTO custom_list_garbage (list_id, generation) VALUES (?, ?) ON CONFLICT (list_id, generation) DO NOTHING`)
	qGarbageNext     = query("list_garbage_next", `SELECT list_id, generation FROM custom_list_garbage ORDER BY list_id, generation LIMIT 1`)
	qGarbageDone     = query("list_garbage_done", `DELETE FROM custom_list_garbage WHERE list_id = ? AND generation = ?`)
	qGarbageDrop     = query("list_garbage_drop", `DELETE FROM custom_list_members WHERE list_id = ? AND generation = ? AND follower_id IN (SELECT follower_id FROM custom_list_members WHERE list_id = ? AND generation = ? ORDER BY follower_id LIMIT ?)`)

	qUploadInsert  = query("upload_insert", `INSERT INTO list_uploads (tenant_id, partner_id, list_id, user_id, file_name, file_size, mode, match_by, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id`)
	qUploadByID    = query("upload_by_id", `SELECT `+uploadCols+` FROM list_uploads WHERE partner_id = ? AND id = ?`)
	qUploadsOf     = query("uploads_of_list", `SELECT `+uploadCols+` FROM list_uploads WHERE list_id = ? ORDER BY id DESC LIMIT ?`)
	qUploadRun     = query("upload_running_of_list", `SELECT `+uploadCols+` FROM list_uploads WHERE list_id = ? AND state = 'running'`)
	qUploadProg    = query("upload_progress", `UPDATE list_uploads SET rows_read = ?, matched = ?, duplicates = ?, unknown = ?, invalid = ?, updated_at = ? WHERE id = ? AND state = 'running'`)
	qUploadEnd     = query("upload_finish", `UPDATE list_uploads SET state = ?, error = ?, rows_read = ?, matched = ?, duplicates = ?, unknown = ?, invalid = ?, members = ?, updated_at = ?, finished_at = ? WHERE id = ? AND state = 'running'`)
	qUploadCancel  = query("upload_cancel", `UPDATE list_uploads SET cancel = TRUE WHERE partner_id = ? AND id = ? AND state = 'running'`)
	qUploadCancel2 = query("upload_cancel_requested", `SELECT cancel FROM list_uploads WHERE id = ?`)
	qUploadsStale  = query("uploads_stale", `SELECT `+uploadCols+` FROM list_uploads WHERE state = 'running' AND updated_at < ? ORDER BY id LIMIT 50`)
	qRejectsOf     = query("upload_rejects", `SELECT line, value, reason, detail FROM list_upload_rejects WHERE upload_id = ? AND line > ? ORDER BY line LIMIT ?`)
)

const uploadCols = "id, tenant_id, partner_id, list_id, COALESCE(user_id, 0), file_name, file_size, mode, match_by, state, error, rows_read, matched, duplicates, unknown, invalid, members, created_at, updated_at, finished_at"

func scanList(row interface{ Scan(...any) error }) (*regulars.CustomList, error) {
	var l regulars.CustomList
	var created, updated int64
	if err := row.Scan(&l.ID, &l.TenantID, &l.PartnerID, &l.Name, &l.Generation, &l.MemberCount, &created, &updated, &l.SegmentationCount); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return &l, nil
}

func scanUpload(row interface{ Scan(...any) error }) (*regulars.ListUpload, error) {
	var u regulars.ListUpload
	var created, updated, finished int64
	if err := row.Scan(&u.ID, &u.TenantID, &u.PartnerID, &u.ListID, &u.UserID, &u.FileName, &u.FileSize, &u.Mode, &u.MatchBy, &u.State, &u.Error,
		&u.Rows, &u.Matched, &u.Duplicates, &u.Unknown, &u.Invalid, &u.Members, &created, &updated, &finished); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt, u.FinishedAt = fromMS(created), fromMS(updated), fromMS(finished)
	return &u, nil
}

// CreateList adds an empty list.
func (db *DB) CreateList(ctx context.Context, l *regulars.CustomList) error {
	now := db.now()
	l.CreatedAt, l.UpdatedAt = now, now
	id, err := db.insert(ctx, qListInsert, l.TenantID, l.PartnerID, l.Name, ms(now), ms(now))
	if db.dialect.isUnique(err) {
		return nameTaken()
	}
	l.ID = id
	return err
}

// List returns one of the partner's lists.
func (db *DB) List(ctx context.Context, partnerID, id int64) (*regulars.CustomList, error) {
	l, err := scanList(db.queryRow(ctx, qListByID, partnerID, id))
	return l, notFound(err, "list")
}

// Lists lists the partner's lists by name.
func (db *DB) Lists(ctx context.Context, partnerID int64) ([]*regulars.CustomList, error) {
	rows, err := db.queryRows(ctx, qListsOf, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanList)
}

// RenameList changes a list's name.
func (db *DB) RenameList(ctx context.Context, l *regulars.CustomList) error {
	l.UpdatedAt = db.now()
	res, err := db.exec(ctx, qListRename, l.Name, ms(l.UpdatedAt), l.PartnerID, l.ID)
	if db.dialect.isUnique(err) {
		return nameTaken()
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("list")
	}
	return nil
}

// DeleteList removes a list with its uploads, member rows of every
// generation and pending garbage, in one transaction: SQLite may hand the
// list's id (and its uploads' ids, which name generations) to a new list,
// which must not meet rows of the old one. The caller checked that no
// segmentation uses it.
func (db *DB) DeleteList(ctx context.Context, l *regulars.CustomList) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		res, err := db.exec(ctx, qListDelete, l.PartnerID, l.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return regulars.ErrNotFound("list")
		}
		if _, err := db.exec(ctx, qListDropRows, l.ID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, qListDropGarbage, l.ID); err != nil {
			return err
		}
		return db.ListChanged(ctx, l.TenantID, l.ID)
	})
}

// ListMemberIDs pages through the current members of a list in id order.
func (db *DB) ListMemberIDs(ctx context.Context, listID, after int64, limit int) ([]int64, error) {
	return db.ids(ctx, qListMembers, listID, after, limit)
}

// GenerationMemberIDs pages through one generation of a list.
func (db *DB) GenerationMemberIDs(ctx context.Context, listID, generation, after int64, limit int) ([]int64, error) {
	return db.ids(ctx, qGenMembers, listID, generation, after, limit)
}

// CopyGeneration copies the rows of generation from into generation to, a
// batch of rows per transaction so that no lock is held for long. It
// returns how many rows it copied.
func (db *DB) CopyGeneration(ctx context.Context, listID, from, to int64, batch int) (int64, error) {
	var after, total int64
	for {
		var bound int64
		if err := db.queryRow(ctx, qGenBound, listID, from, after, batch).Scan(&bound); err != nil {
			return total, err
		}
		if bound == 0 {
			return total, nil
		}
		res, err := db.exec(ctx, qGenCopy, to, listID, from, after, bound)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		after = bound
		if ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// MemberWriter inserts member rows of one generation in batches: prepared
// multi-row INSERTs on SQLite, COPY on PostgreSQL.
type MemberWriter struct {
	db         *DB
	listID     int64
	generation int64
	pending    []int64
	stmt       *sql.Stmt
	conn       *sql.Conn
	written    int64
}

// memberBatch is the number of rows per INSERT statement on SQLite (three
// parameters each, well under SQLite's limit of 32766).
const memberBatch = 1000

// NewMemberWriter starts writing rows of a list generation. Close it.
func (db *DB) NewMemberWriter(ctx context.Context, listID, generation int64) (*MemberWriter, error) {
	w := &MemberWriter{db: db, listID: listID, generation: generation}
	if db.dialect == postgres {
		c, err := db.write.Conn(ctx)
		if err != nil {
			return nil, err
		}
		w.conn = c
		return w, nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO custom_list_members (list_id, generation, follower_id) VALUES ")
	for i := 0; i < memberBatch; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
	}
	st, err := db.write.PrepareContext(ctx, b.String())
	if err != nil {
		return nil, err
	}
	w.stmt = st
	return w, nil
}

// Add queues follower ids; full batches are written at once.
func (w *MemberWriter) Add(ctx context.Context, ids ...int64) error {
	w.pending = append(w.pending, ids...)
	if len(w.pending) >= 20*memberBatch {
		return w.Flush(ctx)
	}
	return nil
}

// Written counts the rows written so far.
func (w *MemberWriter) Written() int64 { return w.written }

// Flush writes every queued row, in one transaction.
func (w *MemberWriter) Flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	ids := w.pending
	w.pending = w.pending[:0]
	if w.conn != nil {
		err := w.conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			_, err := pc.CopyFrom(ctx, pgx.Identifier{"custom_list_members"}, []string{"list_id", "generation", "follower_id"},
				pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return []any{w.listID, w.generation, ids[i]}, nil }))
			return err
		})
		if err == nil {
			w.written += int64(len(ids))
		}
		return err
	}
	return w.db.InTx(ctx, func(ctx context.Context) error {
		tx := ctx.Value(txKey{}).(*sql.Tx)
		full := tx.StmtContext(ctx, w.stmt)
		args := make([]any, 0, 3*memberBatch)
		i := 0
		for ; i+memberBatch <= len(ids); i += memberBatch {
			args = args[:0]
			for _, id := range ids[i : i+memberBatch] {
				args = append(args, w.listID, w.generation, id)
			}
			if _, err := full.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		if rest := ids[i:]; len(rest) > 0 {
			args = args[:0]
			for _, id := range rest {
				args = append(args, w.listID, w.generation, id)
			}
			q := "INSERT INTO custom_list_members (list_id, generation, follower_id) VALUES (?, ?, ?)" + strings.Repeat(", (?, ?, ?)", len(rest)-1)
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		w.written += int64(len(ids))
		return nil
	})
}

// Close releases the writer's statement or connection (queued rows that
// were not flushed are dropped).
func (w *MemberWriter) Close() error {
	if w.stmt != nil {
		return w.stmt.Close()
	}
	if w.conn != nil {
		return w.conn.Close()
	}
	return nil
}

// SwitchGeneration makes generation the list's members in one step,
// provided the list is still at generation from; it reports false when
// another upload switched it first. The old generation becomes garbage.
func (db *DB) SwitchGeneration(ctx context.Context, l *regulars.CustomList, from, to, members int64) (bool, error) {
	var ok bool
	err := db.InTx(ctx, func(ctx context.Context) error {
		res, err := db.exec(ctx, qListSwitch, to, members, ms(db.now()), l.ID, from)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ok = true
		if from != 0 {
			if _, err := db.exec(ctx, qGarbageAdd, l.ID, from); err != nil {
				return err
			}
		}
		return db.ListChanged(ctx, l.TenantID, l.ID)
	})
	return ok, err
}

// DiscardGeneration marks a generation that will never be used (a failed
// or cancelled upload) for deletion.
func (db *DB) DiscardGeneration(ctx context.Context, listID, generation int64) error {
	_, err := db.exec(ctx, qGarbageAdd, listID, generation)
	return err
}

// CollectListGarbage deletes rows of unused generations, at most batch rows
// per transaction, until none are left or ctx ends. It returns the rows it
// deleted.
func (db *DB) CollectListGarbage(ctx context.Context, batch int) (int64, error) {
	var total int64
	for ctx.Err() == nil {
		var listID, gen int64
		err := db.queryRow(ctx, qGarbageNext).Scan(&listID, &gen)
		if err == sql.ErrNoRows {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		res, err := db.exec(ctx, qGarbageDrop, listID, gen, listID, gen, batch)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		if n == 0 {
			if _, err := db.exec(ctx, qGarbageDone, listID, gen); err != nil {
				return total, err
			}
		}
	}
	return total, ctx.Err()
}

// CreateUpload records a running upload. A second upload to the same list
// while one runs is refused with ECONFLICT.
func (db *DB) CreateUpload(ctx context.Context, u *regulars.ListUpload) error {
	now := db.now()
	u.CreatedAt, u.UpdatedAt, u.State = now, now, regulars.UploadRunning
	id, err := db.insert(ctx, qUploadInsert, u.TenantID, u.PartnerID, u.ListID, nullID(u.UserID), u.FileName, u.FileSize, u.Mode, u.MatchBy, ms(now), ms(now))
	if db.dialect.isUnique(err) {
		return regulars.Errorf(regulars.ECONFLICT, "Another upload to this list is still running. Wait for it to finish or cancel it.")
	}
	u.ID = id
	return err
}

// Upload returns one of the partner's uploads.
func (db *DB) Upload(ctx context.Context, partnerID, id int64) (*regulars.ListUpload, error) {
	u, err := scanUpload(db.queryRow(ctx, qUploadByID, partnerID, id))
	return u, notFound(err, "upload")
}

// Uploads lists a list's latest uploads, newest first.
func (db *DB) Uploads(ctx context.Context, listID int64, limit int) ([]*regulars.ListUpload, error) {
	rows, err := db.queryRows(ctx, qUploadsOf, listID, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUpload)
}

// RunningUpload returns the list's running upload, or ENOTFOUND.
func (db *DB) RunningUpload(ctx context.Context, listID int64) (*regulars.ListUpload, error) {
	u, err := scanUpload(db.queryRow(ctx, qUploadRun, listID))
	return u, notFound(err, "upload")
}

// StaleUploads lists running uploads whose worker has not reported since
// before.
func (db *DB) StaleUploads(ctx context.Context, before time.Time) ([]*regulars.ListUpload, error) {
	rows, err := db.queryRows(ctx, qUploadsStale, ms(before))
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUpload)
}

// UploadProgress saves a running upload's counts (the worker's heartbeat)
// and reports whether someone asked to cancel it.
func (db *DB) UploadProgress(ctx context.Context, u *regulars.ListUpload) (cancel bool, err error) {
	u.UpdatedAt = db.now()
	if _, err := db.exec(ctx, qUploadProg, u.Rows, u.Matched, u.Duplicates, u.Unknown, u.Invalid, ms(u.UpdatedAt), u.ID); err != nil {
		return false, err
	}
	err = db.queryRow(ctx, qUploadCancel2, u.ID).Scan(&cancel)
	return cancel, err
}

// FinishUpload ends a running upload in state (done, failed, cancelled)
// with its final counts; it reports false when it was not running.
func (db *DB) FinishUpload(ctx context.Context, u *regulars.ListUpload, state, reason string) (bool, error) {
	now := db.now()
	res, err := db.exec(ctx, qUploadEnd, state, reason, u.Rows, u.Matched, u.Duplicates, u.Unknown, u.Invalid, u.Members, ms(now), ms(now), u.ID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	if n > 0 {
		u.State, u.Error, u.UpdatedAt, u.FinishedAt = state, reason, now, now
	}
	return n > 0, nil
}

// CancelUpload asks a running upload to stop; the worker stops at its next
// batch. It reports false when the upload was not running.
func (db *DB) CancelUpload(ctx context.Context, partnerID, id int64) (bool, error) {
	res, err := db.exec(ctx, qUploadCancel, partnerID, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// AddRejects stores rejected rows of an upload.
func (db *DB) AddRejects(ctx context.Context, uploadID int64, rows []regulars.RejectedRow) error {
	for start := 0; start < len(rows); start += 500 {
		chunk := rows[start:min(start+500, len(rows))]
		args := make([]any, 0, 5*len(chunk))
		for _, r := range chunk {
			args = append(args, uploadID, r.Line, r.Value, r.Reason, r.Detail)
		}
		q := "INSERT INTO list_upload_rejects (upload_id, line, value, reason, detail) VALUES (?, ?, ?, ?, ?)" + strings.Repeat(", (?, ?, ?, ?, ?)", len(chunk)-1)
		if _, err := db.exec(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// Rejects pages through an upload's rejected rows by line.
func (db *DB) Rejects(ctx context.Context, uploadID, afterLine int64, limit int) ([]regulars.RejectedRow, error) {
	rows, err := db.queryRows(ctx, qRejectsOf, uploadID, afterLine, limit)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (regulars.RejectedRow, error) {
		var r regulars.RejectedRow
		return r, row.Scan(&r.Line, &r.Value, &r.Reason, &r.Detail)
	})
}

// Resolved is what FollowerIDsBy found, by position of the key: a key
// names no follower, one, or (a shared phone number) several.
type Resolved struct {
	first []int64         // the (first) follower of key i; 0: none
	more  map[int][]int64 // every follower of the keys that name several
}

func newResolved(n int) *Resolved { return &Resolved{first: make([]int64, n), more: map[int][]int64{}} }

func (r *Resolved) add(i int, id int64) {
	switch {
	case r.first[i] == 0:
		r.first[i] = id
	case r.more[i] == nil:
		r.more[i] = []int64{r.first[i], id}
	default:
		r.more[i] = append(r.more[i], id)
	}
}

// Of returns the followers of key i.
func (r *Resolved) Of(i int) []int64 {
	if m := r.more[i]; m != nil {
		return m
	}
	if r.first[i] == 0 {
		return nil
	}
	return r.first[i : i+1]
}

// All returns every follower found.
func (r *Resolved) All() []int64 {
	out := make([]int64, 0, len(r.first))
	for i, id := range r.first {
		if m := r.more[i]; m != nil {
			out = append(out, m...)
		} else if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

// FollowerIDsBy resolves identifiers (end-user IDs, emails or phone
// numbers, normalised, sorted byte-wise and distinct) to followers of the
// tenant. Phone numbers compare without spaces, dashes, dots and
// brackets; one number may name several followers.
//
// On SQLite, where an index probe costs as much as writing a row, keys
// that lie close together are read as one range of the index and merged
// with the keys in order (SQLite compares text byte-wise, like Go); keys
// spread thinly fall back to IN lists. PostgreSQL compares text by the
// database's collation, so it gets the keys as one array to probe, or for
// a big upload joins a temporary table of them.
func (db *DB) FollowerIDsBy(ctx context.Context, tenantID int64, by string, keys []string) (*Resolved, error) {
	out := newResolved(len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var col, extra string
	switch by {
	case regulars.MatchEndUserID:
		col = "f.end_user_id"
	case regulars.MatchEmail:
		col, extra = "f.email", " AND f.email <> ''"
	case regulars.MatchPhone:
		col, extra = phoneDigitsSQL, " AND f.phone <> ''"
	default:
		return nil, fmt.Errorf("store: match by %q", by)
	}
	scan := func(rows *sql.Rows, fn func(v string, id int64)) error {
		defer rows.Close()
		for rows.Next() {
			var v string
			var id int64
			if err := rows.Scan(&v, &id); err != nil {
				return err
			}
			fn(v, id)
		}
		return rows.Err()
	}
	// byKey reads rows of (key, id) for the keys from offset on.
	byKey := func(rows *sql.Rows, offset int, chunk []string) error {
		pos := make(map[string]int, len(chunk))
		for i, k := range chunk {
			pos[k] = offset + i
		}
		return scan(rows, func(v string, id int64) {
			if i, ok := pos[v]; ok {
				out.add(i, id)
			}
		})
	}
	if db.dialect == postgres && len(keys) >= bulkKeys {
		return out, db.followerIDsByJoin(ctx, tenantID, col, extra, keys, out)
	}
	if db.dialect == postgres {
		// One array parameter: a plan that does not grow with the keys.
		for start := 0; start < len(keys); start += 10000 {
			chunk := keys[start:min(start+10000, len(keys))]
			rows, err := db.queryRows(ctx, `SELECT `+col+`, f.id FROM followers f WHERE f.tenant_id = ? AND `+col+` = ANY(?)`+extra, tenantID, chunk)
			if err != nil {
				return nil, err
			}
			if err := byKey(rows, start, chunk); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	in := func(offset int, chunk []string) error {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, tenantID)
		for _, v := range chunk {
			args = append(args, v)
		}
		rows, err := db.queryRows(ctx, `SELECT `+col+`, f.id FROM followers f WHERE f.tenant_id = ? AND `+col+` IN (`+placeholders(len(chunk))+`)`+extra, args...)
		if err != nil {
			return err
		}
		return byKey(rows, offset, chunk)
	}
	const chunkSize = 2000
	for start := 0; start < len(keys); start += chunkSize {
		chunk := keys[start:min(start+chunkSize, len(keys))]
		if len(chunk) < 50 {
			if err := in(start, chunk); err != nil {
				return nil, err
			}
			continue
		}
		limit := 3*len(chunk) + 16
		rows, err := db.queryRows(ctx, `SELECT `+col+`, f.id FROM followers f WHERE f.tenant_id = ? AND `+col+` >= ? AND `+col+` <= ?`+extra+` ORDER BY `+col+` LIMIT ?`,
			tenantID, chunk[0], chunk[len(chunk)-1], limit)
		if err != nil {
			return nil, err
		}
		i, n, last := 0, 0, ""
		var seen []int // keys this range found, to forget when it falls back
		err = scan(rows, func(v string, id int64) {
			n, last = n+1, v
			for i < len(chunk) && chunk[i] < v {
				i++
			}
			if i < len(chunk) && chunk[i] == v {
				out.add(start+i, id)
				seen = append(seen, start+i)
			}
		})
		if err != nil {
			return nil, err
		}
		if n == limit {
			// The range was thinly used: the keys from the last one it
			// read on (which may have more rows) are probed one by one.
			from := sort.SearchStrings(chunk, last)
			for _, j := range seen {
				if j >= start+from {
					out.first[j] = 0
					delete(out.more, j)
				}
			}
			if err := in(start+from, chunk[from:]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// bulkKeys is how many keys make PostgreSQL join a temporary table of them
// with the followers (one hash join) instead of probing the index per key.
var bulkKeys = 100_000

// followerIDsByJoin copies the keys with their positions into a temporary
// table and joins it with the followers in one statement (PostgreSQL).
func (db *DB) followerIDsByJoin(ctx context.Context, tenantID int64, col, extra string, keys []string, out *Resolved) error {
	c, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE upload_keys (i BIGINT NOT NULL, key TEXT NOT NULL) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"upload_keys"}, []string{"i", "key"},
			pgx.CopyFromSlice(len(keys), func(i int) ([]any, error) { return []any{int64(i), keys[i]}, nil })); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `ANALYZE upload_keys`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT k.i, f.id FROM upload_keys k JOIN followers f ON f.tenant_id = $1 AND `+col+` = k.key`+extra, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var i, id int64
		for rows.Next() {
			if err := rows.Scan(&i, &id); err != nil {
				return err
			}
			out.add(int(i), id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// FollowingPartner returns those of ids who follow one of the partner's
// channels now.
func (db *DB) FollowingPartner(ctx context.Context, partnerID int64, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		got, err := db.ids(ctx, `SELECT DISTINCT b.follower_id FROM follows b JOIN channels c ON c.id = b.channel_id WHERE c.partner_id = ? AND b.unfollowed_at = 0 AND b.follower_id IN (`+placeholders(len(chunk))+`)`,
			append([]any{partnerID}, anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			out[id] = true
		}
	}
	return out, nil
}

// phoneDigitsSQL is the indexed expression phone numbers are matched on
// (see followers_phone_digits).
const phoneDigitsSQL = "replace(replace(replace(replace(replace(f.phone, ' ', ''), '-', ''), '.', ''), '(', ''), ')', '')"

// PhoneKey normalises a phone number the way phoneDigitsSQL does.
func PhoneKey(s string) string {
	return strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(strings.TrimSpace(s))
}
