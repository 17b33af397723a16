package store

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"regulars"
)

// The segment index (package segindex) keeps what segments are about in
// memory and asks here for it: the follower facts of a partner, and the
// change log that tells it which followers, lists and targeting changed.

// ChangeCursor is how far a reader has read the change log. On SQLite,
// writers are serial and commit in sequence order, so the last sequence
// number read is enough. On PostgreSQL sequence numbers are handed out
// before commit, so a row with a lower number can appear after one with a
// higher number; the reader therefore re-reads every row of transactions
// that were still running when it last read (txid ≥ the xmin of that
// snapshot). Reading a change twice is harmless: the index reloads the
// current facts of the follower.
type ChangeCursor struct {
	Seq  int64 // SQLite: last sequence number read
	XMin int64 // PostgreSQL: the oldest transaction that was running at the last read
}

// SegmentChange is one row of the change log.
type SegmentChange struct {
	Seq   int64
	Kind  string // ChangeFollower, ChangeList, ChangeTargeting
	RefID int64
}

var (
	qChangesLite  = query("segment_changes_since", `SELECT seq, kind, ref_id FROM segment_changes WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?`)
	qChangesNowLi = query("segment_changes_last", `SELECT COALESCE(MAX(seq), 0) FROM segment_changes`)
	qChangesPrune = query("segment_changes_prune", `DELETE FROM segment_changes WHERE seq IN (SELECT seq FROM segment_changes WHERE created_at < ? ORDER BY created_at LIMIT 5000)`)
)

// pgChanges reads the snapshot's xmin and the changes of transactions at or
// after the previous one, in one statement (one snapshot).
const pgChanges = `SELECT s.xmin, COALESCE(c.seq, 0), COALESCE(c.kind, ''), COALESCE(c.ref_id, 0)
	FROM (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin) s
	LEFT JOIN (SELECT seq, kind, ref_id FROM segment_changes WHERE tenant_id = ? AND txid >= ? ORDER BY seq LIMIT ?) c ON TRUE`

// ChangeCursorNow returns a cursor from which a reader that loads
// everything now will miss nothing: take it before loading.
func (db *DB) ChangeCursorNow(ctx context.Context) (ChangeCursor, error) {
	var c ChangeCursor
	if db.dialect == postgres {
		err := db.reader(ctx).QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&c.XMin)
		return c, err
	}
	err := db.queryRow(ctx, qChangesNowLi).Scan(&c.Seq)
	return c, err
}

// SegmentChanges returns up to limit changes of a tenant after the cursor,
// and the cursor to read from next time. full is true when there were more
// than limit: the reader should rebuild rather than catch up.
func (db *DB) SegmentChanges(ctx context.Context, tenantID int64, after ChangeCursor, limit int) (changes []SegmentChange, next ChangeCursor, full bool, err error) {
	next = after
	if db.dialect == postgres {
		rows, err := db.reader(ctx).QueryContext(ctx, db.dialect.rebind(pgChanges), tenantID, after.XMin, limit+1)
		if err != nil {
			return nil, after, false, err
		}
		defer rows.Close()
		for rows.Next() {
			var c SegmentChange
			if err := rows.Scan(&next.XMin, &c.Seq, &c.Kind, &c.RefID); err != nil {
				return nil, after, false, err
			}
			if c.Seq != 0 {
				changes = append(changes, c)
			}
		}
		if err := rows.Err(); err != nil {
			return nil, after, false, err
		}
		if len(changes) > limit {
			return changes[:limit], after, true, nil
		}
		return changes, next, false, nil
	}
	rows, err := db.queryRows(ctx, qChangesLite, tenantID, after.Seq, limit+1)
	if err != nil {
		return nil, after, false, err
	}
	changes, err = collect(rows, func(row interface{ Scan(...any) error }) (SegmentChange, error) {
		var c SegmentChange
		return c, row.Scan(&c.Seq, &c.Kind, &c.RefID)
	})
	if err != nil {
		return nil, after, false, err
	}
	if len(changes) > limit {
		return changes[:limit], after, true, nil
	}
	if len(changes) > 0 {
		next.Seq = changes[len(changes)-1].Seq
	}
	return changes, next, false, nil
}

// PruneSegmentChanges deletes change rows written before the time (Unix
// ms), a few thousand per statement so that no write waits long behind it
// after a bulk load; readers that fell further behind rebuild.
func (db *DB) PruneSegmentChanges(ctx context.Context, beforeMS int64) (int64, error) {
	var total int64
	for {
		res, err := db.exec(ctx, qChangesPrune, beforeMS)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
		if n < 5000 || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// FollowerFacts is what segments know of a follower: the attributes, and the
// partner's channels they follow now with the start of each follow period.
type FollowerFacts struct {
	ID        int64
	BirthDate string
	Gender    string
	Language  string
	Active    bool
	Follows   []FollowFact
}

// FollowFact is a current follow period.
type FollowFact struct {
	ChannelID  int64
	FollowedAt int64 // Unix ms
}

var (
	qPartnerChannelIDs = query("partner_channel_ids", `SELECT id FROM channels WHERE partner_id = ? ORDER BY id`)
	qEngagementKind    = query("engagement_kind_scoped", `SELECT kind FROM engagements WHERE partner_id = ? AND id = ?`)
	qProgramFacts      = query("segment_program_facts", `SELECT follower_id, current_points, total_points, level FROM memberships WHERE program_id = ? AND follower_id > ? ORDER BY follower_id LIMIT ?`)
	qCouponFacts       = query("segment_coupon_facts", `SELECT DISTINCT follower_id FROM coupon_activations WHERE coupon_id = ? AND follower_id > ? ORDER BY follower_id LIMIT ?`)
	qMessageFacts      = query("segment_message_facts", `SELECT DISTINCT follower_id FROM message_deliveries WHERE engagement_id = ? AND opened_at > 0 AND follower_id > ? ORDER BY follower_id LIMIT ?`)
	qListOwner         = query("list_owner", `SELECT COUNT(*) FROM custom_lists WHERE partner_id = ? AND id = ?`)
)

// factsPage is how many rows one page of a bulk load reads.
const factsPage = 50000

var (
	qChannelFollowsNow = query("segment_channel_follows", `SELECT follower_id, followed_at FROM follows WHERE channel_id = ? AND unfollowed_at = 0`)
	qTenantFollowers   = query("segment_tenant_followers", `SELECT id, birth_date, gender, language, status FROM followers WHERE tenant_id = ?`)
)

// PartnerFollowerFacts calls fn with the facts of every follower (of any
// status) who follows one of the partner's channels now. It reads each
// channel's follows through its index and the tenant's followers in one
// scan, joining them in memory: no sort in the database, which matters at
// a million rows.
func (db *DB) PartnerFollowerFacts(ctx context.Context, partnerID int64, fn func(*FollowerFacts)) error {
	channels, err := db.PartnerChannelIDs(ctx, partnerID)
	if err != nil {
		return err
	}
	type follow struct{ follower, channel, at int64 }
	var follows []follow
	for _, ch := range channels {
		rows, err := db.queryRows(ctx, qChannelFollowsNow, ch)
		if err != nil {
			return err
		}
		for rows.Next() {
			f := follow{channel: ch}
			if err := rows.Scan(&f.follower, &f.at); err != nil {
				rows.Close()
				return err
			}
			follows = append(follows, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if len(follows) == 0 {
		return nil
	}
	slices.SortFunc(follows, func(a, b follow) int { return cmp.Compare(a.follower, b.follower) })
	var tenantID int64
	if err := db.queryRow(ctx, `SELECT tenant_id FROM partners WHERE id = ?`, partnerID).Scan(&tenantID); err != nil {
		return err
	}
	rows, err := db.queryRows(ctx, qTenantFollowers, tenantID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var f FollowerFacts
		var status string
		if err := rows.Scan(&f.ID, &f.BirthDate, &f.Gender, &f.Language, &status); err != nil {
			return err
		}
		i, found := slices.BinarySearchFunc(follows, f.ID, func(x follow, id int64) int { return cmp.Compare(x.follower, id) })
		if !found {
			continue
		}
		f.Active = status == regulars.FollowerActive
		for ; i < len(follows) && follows[i].follower == f.ID; i++ {
			f.Follows = append(f.Follows, FollowFact{ChannelID: follows[i].channel, FollowedAt: follows[i].at})
		}
		fn(&f)
	}
	return rows.Err()
}

// FollowerFactsOf returns the facts of the given followers with the
// partner's channels they follow now (followers that do not exist are
// left out).
func (db *DB) FollowerFactsOf(ctx context.Context, partnerID int64, ids []int64) ([]*FollowerFacts, error) {
	var out []*FollowerFacts
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		byID := map[int64]*FollowerFacts{}
		rows, err := db.queryRows(ctx, `SELECT id, birth_date, gender, language, status FROM followers WHERE id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var f FollowerFacts
			var status string
			if err := rows.Scan(&f.ID, &f.BirthDate, &f.Gender, &f.Language, &status); err != nil {
				rows.Close()
				return nil, err
			}
			f.Active = status == regulars.FollowerActive
			byID[f.ID] = &f
			out = append(out, &f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		args := append([]any{partnerID}, anys(chunk)...)
		rows, err = db.queryRows(ctx, `SELECT b.follower_id, b.channel_id, b.followed_at FROM follows b JOIN channels c ON c.id = b.channel_id
			WHERE c.partner_id = ? AND b.unfollowed_at = 0 AND b.follower_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var ff FollowFact
			if err := rows.Scan(&id, &ff.ChannelID, &ff.FollowedAt); err != nil {
				rows.Close()
				return nil, err
			}
			if f := byID[id]; f != nil {
				f.Follows = append(f.Follows, ff)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PartnerChannelIDs lists the ids of the partner's channels.
func (db *DB) PartnerChannelIDs(ctx context.Context, partnerID int64) ([]int64, error) {
	return db.ids(ctx, qPartnerChannelIDs, partnerID)
}

// EngagementKind returns the kind of one of the partner's engagements, or
// ENOTFOUND.
func (db *DB) EngagementKind(ctx context.Context, partnerID, id int64) (string, error) {
	var kind string
	err := db.queryRow(ctx, qEngagementKind, partnerID, id).Scan(&kind)
	return kind, notFound(err, "engagement")
}

// IsPartnerList reports whether the list belongs to the partner.
func (db *DB) IsPartnerList(ctx context.Context, partnerID, id int64) (bool, error) {
	var n int
	err := db.queryRow(ctx, qListOwner, partnerID, id).Scan(&n)
	return n > 0, err
}

// MembershipFact is a follower's standing in a program.
type MembershipFact struct {
	FollowerID    int64
	CurrentPoints int64
	TotalPoints   int64
	Level         int
}

// ProgramFacts calls fn for every member of a program, in follower order.
func (db *DB) ProgramFacts(ctx context.Context, programID int64, fn func(MembershipFact)) error {
	var after int64
	for {
		rows, err := db.queryRows(ctx, qProgramFacts, programID, after, factsPage)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var m MembershipFact
			if err := rows.Scan(&m.FollowerID, &m.CurrentPoints, &m.TotalPoints, &m.Level); err != nil {
				rows.Close()
				return err
			}
			fn(m)
			after = m.FollowerID
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if n < factsPage {
			return nil
		}
	}
}

// EngagedFollowers calls fn with every follower who enabled an engagement:
// activated a coupon, opened a message (joining a program is in
// ProgramFacts).
func (db *DB) EngagedFollowers(ctx context.Context, kind string, engagementID int64, fn func(int64)) error {
	q := qCouponFacts
	if kind == regulars.KindMessage {
		q = qMessageFacts
	}
	var after int64
	for {
		ids, err := db.ids(ctx, q, engagementID, after, factsPage)
		if err != nil {
			return err
		}
		for _, id := range ids {
			fn(id)
		}
		if len(ids) < factsPage {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// MembershipFactsOf returns the standings of the given followers in the
// given programs.
func (db *DB) MembershipFactsOf(ctx context.Context, programIDs, followerIDs []int64) (map[int64][]MembershipFact, error) {
	out := map[int64][]MembershipFact{}
	if len(programIDs) == 0 || len(followerIDs) == 0 {
		return out, nil
	}
	for start := 0; start < len(followerIDs); start += 500 {
		chunk := followerIDs[start:min(start+500, len(followerIDs))]
		args := append(anys(programIDs), anys(chunk)...)
		rows, err := db.queryRows(ctx, `SELECT program_id, follower_id, current_points, total_points, level FROM memberships WHERE program_id IN (`+
			placeholders(len(programIDs))+`) AND follower_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p int64
			var m MembershipFact
			if err := rows.Scan(&p, &m.FollowerID, &m.CurrentPoints, &m.TotalPoints, &m.Level); err != nil {
				rows.Close()
				return nil, err
			}
			out[p] = append(out[p], m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EngagedAmong returns, per engagement, which of the given followers
// activated the coupon (kind coupon) or opened the message (kind message).
func (db *DB) EngagedAmong(ctx context.Context, kind string, engagementIDs, followerIDs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(engagementIDs) == 0 || len(followerIDs) == 0 {
		return out, nil
	}
	var q string
	switch kind {
	case regulars.KindCoupon:
		q = `SELECT DISTINCT coupon_id, follower_id FROM coupon_activations WHERE coupon_id IN (%E) AND follower_id IN (%F)`
	case regulars.KindMessage:
		q = `SELECT DISTINCT engagement_id, follower_id FROM message_deliveries WHERE engagement_id IN (%E) AND follower_id IN (%F) AND opened_at > 0`
	default:
		return out, nil
	}
	for start := 0; start < len(followerIDs); start += 500 {
		chunk := followerIDs[start:min(start+500, len(followerIDs))]
		text := strings.Replace(strings.Replace(q, "%E", placeholders(len(engagementIDs)), 1), "%F", placeholders(len(chunk)), 1)
		rows, err := db.queryRows(ctx, text, append(anys(engagementIDs), anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var e, f int64
			if err := rows.Scan(&e, &f); err != nil {
				rows.Close()
				return nil, err
			}
			out[e] = append(out[e], f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EngagementRules returns the rules of the segmentations an engagement
// targets (none: the engagement is for everyone).
func (db *DB) EngagementRules(ctx context.Context, engagementID int64) ([]regulars.Rule, error) {
	segs, err := db.EngagementSegmentations(ctx, engagementID)
	if err != nil {
		return nil, err
	}
	out := make([]regulars.Rule, len(segs))
	for i, s := range segs {
		out[i] = s.Rule
	}
	return out, nil
}

// ListedAmong returns, per list of the partner, which of the given
// followers are current members.
func (db *DB) ListedAmong(ctx context.Context, partnerID int64, listIDs, followerIDs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(listIDs) == 0 || len(followerIDs) == 0 {
		return out, nil
	}
	for start := 0; start < len(followerIDs); start += 500 {
		chunk := followerIDs[start:min(start+500, len(followerIDs))]
		rows, err := db.queryRows(ctx, `SELECT l.id, x.follower_id FROM custom_lists l JOIN custom_list_members x ON x.list_id = l.id AND x.generation = l.generation
			WHERE l.partner_id = ? AND l.id IN (`+placeholders(len(listIDs))+`) AND x.follower_id IN (`+placeholders(len(chunk))+`)`, append(append([]any{partnerID}, anys(listIDs)...), anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var l, f int64
			if err := rows.Scan(&l, &f); err != nil {
				rows.Close()
				return nil, err
			}
			out[l] = append(out[l], f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var qTargetingPartners = query("segment_targeting_partners", `SELECT DISTINCT e.tenant_id, e.partner_id FROM engagement_segmentations es JOIN engagements e ON e.id = es.engagement_id WHERE e.status = 'active'`)

// TargetingPartners lists (tenant, partner) pairs with active engagements
// that target segmentations: the partners whose segment index is worth
// building before anyone asks.
func (db *DB) TargetingPartners(ctx context.Context) ([][2]int64, error) {
	rows, err := db.queryRows(ctx, qTargetingPartners)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) ([2]int64, error) {
		var p [2]int64
		return p, row.Scan(&p[0], &p[1])
	})
}
