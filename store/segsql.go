package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"regulars"
)

// Segment rules compile to one parameterised boolean SQL expression over
// the followers table (alias f): the same text on SQLite and PostgreSQL,
// every value a placeholder. Nothing a user types becomes SQL.

// ruleRefs is what the partner's objects named by rules are: ids of other
// partners (or missing ones) are left out, so their conditions match
// nobody, whatever the rule says.
type ruleRefs struct {
	kinds    map[int64]string // engagement id → kind
	channels map[int64]bool
	lists    map[int64]bool
}

var (
	qRefEngagements = `SELECT id, kind FROM engagements WHERE partner_id = ? AND id IN (`
	qRefChannels    = `SELECT id FROM channels WHERE partner_id = ? AND id IN (`
	qRefLists       = `SELECT id FROM custom_lists WHERE partner_id = ? AND id IN (`
)

// resolveRefs looks up, scoped to the partner, the objects rules refer to.
func (db *DB) resolveRefs(ctx context.Context, partnerID int64, rules []regulars.Rule) (*ruleRefs, error) {
	refs := &ruleRefs{kinds: map[int64]string{}, channels: map[int64]bool{}, lists: map[int64]bool{}}
	want := map[string][]int64{}
	for _, r := range rules {
		for kind, ids := range r.Refs() {
			for _, id := range ids {
				if kind == "program" {
					kind = "engagement"
				}
				if !slices.Contains(want[kind], id) {
					want[kind] = append(want[kind], id)
				}
			}
		}
	}
	load := func(q string, ids []int64, scan func(row interface{ Scan(...any) error }) error) error {
		if len(ids) == 0 {
			return nil
		}
		args := []any{partnerID}
		for _, id := range ids {
			args = append(args, id)
		}
		rows, err := db.queryRows(ctx, q+placeholders(len(ids))+`)`, args...)
		if err != nil {
			return err
		}
		_, err = collect(rows, func(row interface{ Scan(...any) error }) (struct{}, error) { return struct{}{}, scan(row) })
		return err
	}
	err := load(qRefEngagements, want["engagement"], func(row interface{ Scan(...any) error }) error {
		var id int64
		var kind string
		if err := row.Scan(&id, &kind); err != nil {
			return err
		}
		refs.kinds[id] = kind
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := load(qRefChannels, want["channel"], func(row interface{ Scan(...any) error }) error {
		var id int64
		err := row.Scan(&id)
		refs.channels[id] = true
		return err
	}); err != nil {
		return nil, err
	}
	err = load(qRefLists, want["list"], func(row interface{ Scan(...any) error }) error {
		var id int64
		err := row.Scan(&id)
		refs.lists[id] = true
		return err
	})
	return refs, err
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return "?" + strings.Repeat(", ?", n-1)
}

// sqlExpr builds an expression and its arguments.
type sqlExpr struct {
	b    strings.Builder
	args []any
}

func (x *sqlExpr) add(text string, args ...any) {
	x.b.WriteString(text)
	x.args = append(x.args, args...)
}

const never = "1 = 0"

// condSQL writes one condition.
func (x *sqlExpr) cond(c regulars.Condition, refs *ruleRefs, now time.Time) {
	if c.Not {
		x.add("NOT (")
		defer x.add(")")
	}
	switch c.Type {
	case regulars.CondEngagement:
		switch refs.kinds[c.EngagementID] {
		case regulars.KindCoupon:
			x.add("EXISTS (SELECT 1 FROM coupon_activations x WHERE x.coupon_id = ? AND x.follower_id = f.id)", c.EngagementID)
		case regulars.KindLoyalty:
			x.add("EXISTS (SELECT 1 FROM memberships x WHERE x.program_id = ? AND x.follower_id = f.id)", c.EngagementID)
		case regulars.KindMessage:
			x.add("EXISTS (SELECT 1 FROM message_deliveries x WHERE x.engagement_id = ? AND x.follower_id = f.id AND x.opened_at > 0)", c.EngagementID)
		default:
			x.add(never)
		}
	case regulars.CondChannel:
		if !refs.channels[c.ChannelID] {
			x.add(never)
			return
		}
		x.add("EXISTS (SELECT 1 FROM follows x WHERE x.channel_id = ? AND x.follower_id = f.id AND x.unfollowed_at = 0", c.ChannelID)
		if c.MinDays != nil {
			x.add(" AND x.followed_at <= ?", now.UnixMilli()-*c.MinDays*regulars.DayMS)
		}
		if c.MaxDays != nil {
			x.add(" AND x.followed_at >= ?", now.UnixMilli()-*c.MaxDays*regulars.DayMS)
		}
		x.add(")")
	case regulars.CondAge:
		after, upTo := regulars.AgeBounds(now, *c.MinAge, *c.MaxAge)
		x.add("(f.birth_date > ? AND f.birth_date <= ?)", after, upTo)
	case regulars.CondGender:
		x.add("f.gender IN ("+placeholders(len(c.Genders))+")", anys(c.Genders)...)
	case regulars.CondLanguage:
		x.add("f.language IN ("+placeholders(len(c.Languages))+")", anys(c.Languages)...)
	case regulars.CondCurrentPoints, regulars.CondTotalPoints:
		if refs.kinds[c.ProgramID] != regulars.KindLoyalty {
			x.add(never)
			return
		}
		col := "x.current_points"
		if c.Type == regulars.CondTotalPoints {
			col = "x.total_points"
		}
		op := map[string]string{regulars.OpLess: " < ?", regulars.OpExactly: " = ?", regulars.OpMore: " > ?"}[c.Op]
		x.add("EXISTS (SELECT 1 FROM memberships x WHERE x.program_id = ? AND x.follower_id = f.id AND "+col+op+")", c.ProgramID, *c.Points)
	case regulars.CondLevel:
		if refs.kinds[c.ProgramID] != regulars.KindLoyalty {
			x.add(never)
			return
		}
		x.add("EXISTS (SELECT 1 FROM memberships x WHERE x.program_id = ? AND x.follower_id = f.id AND x.level >= ? AND x.level <= ?)", c.ProgramID, *c.MinLevel, *c.MaxLevel)
	case regulars.CondList:
		var ids []any
		for _, id := range c.ListIDs {
			if refs.lists[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			x.add(never)
			return
		}
		x.add("EXISTS (SELECT 1 FROM custom_lists l JOIN custom_list_members x ON x.list_id = l.id AND x.generation = l.generation WHERE l.id IN ("+placeholders(len(ids))+") AND x.follower_id = f.id)", ids...)
	default:
		x.add(never)
	}
}

// rule writes a rule: all of its conditions.
func (x *sqlExpr) rule(r regulars.Rule, refs *ruleRefs, now time.Time) {
	if len(r.Conditions) == 0 {
		x.add("1 = 1")
		return
	}
	for i, c := range r.Conditions {
		if i > 0 {
			x.add(" AND ")
		}
		x.add("(")
		x.cond(c, refs, now)
		x.add(")")
	}
}

// anyRule writes "in any of the rules".
func (x *sqlExpr) anyRule(rules []regulars.Rule, refs *ruleRefs, now time.Time) {
	if len(rules) == 0 {
		x.add(never)
		return
	}
	x.add("(")
	for i, r := range rules {
		if i > 0 {
			x.add(" OR ")
		}
		x.add("(")
		x.rule(r, refs, now)
		x.add(")")
	}
	x.add(")")
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, v := range xs {
		out[i] = v
	}
	return out
}

// CompileRule returns the rule as a parameterised SQL expression over
// followers aliased f, for the partner, at now. Exported for tests and
// benchmarks that want to see or time the SQL itself.
func (db *DB) CompileRule(ctx context.Context, partnerID int64, r regulars.Rule, now time.Time) (string, []any, error) {
	refs, err := db.resolveRefs(ctx, partnerID, []regulars.Rule{r})
	if err != nil {
		return "", nil, err
	}
	var x sqlExpr
	x.rule(r, refs, now)
	return db.dialect.rebind(x.b.String()), x.args, nil
}

// SegmentScope is the population a segment is counted in: the partner's
// active followers who follow one of its channels now (or the one channel
// given).
type SegmentScope struct {
	PartnerID int64
	ChannelID int64 // 0: any of the partner's channels
}

// scope writes the population filter.
func (x *sqlExpr) scope(s SegmentScope) {
	x.add("f.status = 'active' AND f.id IN (SELECT b.follower_id FROM follows b JOIN channels c ON c.id = b.channel_id WHERE c.partner_id = ? AND b.unfollowed_at = 0", s.PartnerID)
	if s.ChannelID != 0 {
		x.add(" AND b.channel_id = ?", s.ChannelID)
	}
	x.add(")")
}

// CountSegmentSQL counts the followers in scope who match the rule, in SQL.
func (db *DB) CountSegmentSQL(ctx context.Context, s SegmentScope, r regulars.Rule, now time.Time) (int64, error) {
	refs, err := db.resolveRefs(ctx, s.PartnerID, []regulars.Rule{r})
	if err != nil {
		return 0, err
	}
	var x sqlExpr
	x.add("SELECT COUNT(*) FROM followers f WHERE ")
	x.scope(s)
	x.add(" AND ")
	x.rule(r, refs, now)
	var n int64
	err = db.queryRow(ctx, x.b.String(), x.args...).Scan(&n)
	return n, err
}

// SegmentMembersSQL pages through the ids of the followers in scope who
// match the rule, in id order after the id given.
func (db *DB) SegmentMembersSQL(ctx context.Context, s SegmentScope, r regulars.Rule, now time.Time, after int64, limit int) ([]int64, error) {
	refs, err := db.resolveRefs(ctx, s.PartnerID, []regulars.Rule{r})
	if err != nil {
		return nil, err
	}
	var x sqlExpr
	x.add("SELECT f.id FROM followers f WHERE f.id > ? AND ", after)
	x.scope(s)
	x.add(" AND ")
	x.rule(r, refs, now)
	x.add(" ORDER BY f.id LIMIT ?", limit)
	return db.ids(ctx, x.b.String(), x.args...)
}

// MatchAnySQL returns those of ids that match at least one of the rules (a
// follower in any of an engagement's segmentations), in the order given.
// Population is the caller's business: only the rules are checked.
func (db *DB) MatchAnySQL(ctx context.Context, partnerID int64, rules []regulars.Rule, ids []int64, now time.Time) ([]int64, error) {
	if len(ids) == 0 || len(rules) == 0 {
		return nil, nil
	}
	refs, err := db.resolveRefs(ctx, partnerID, rules)
	if err != nil {
		return nil, err
	}
	matched := map[int64]bool{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		var x sqlExpr
		x.add("SELECT f.id FROM followers f WHERE f.id IN ("+placeholders(len(chunk))+") AND ", anys(chunk)...)
		x.anyRule(rules, refs, now)
		got, err := db.ids(ctx, x.b.String(), x.args...)
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			matched[id] = true
		}
	}
	out := make([]int64, 0, len(matched))
	for _, id := range ids {
		if matched[id] {
			out = append(out, id)
			delete(matched, id) // an id given twice comes back once
		}
	}
	return out, nil
}

func (db *DB) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.queryRows(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[int64])
}

// CountAudienceSQL counts the current followers of a channel (whatever
// their status) who match at least one of the rules.
func (db *DB) CountAudienceSQL(ctx context.Context, partnerID, channelID int64, rules []regulars.Rule, now time.Time) (int64, error) {
	refs, err := db.resolveRefs(ctx, partnerID, rules)
	if err != nil {
		return 0, err
	}
	var x sqlExpr
	x.add("SELECT COUNT(*) FROM followers f WHERE f.id IN (SELECT b.follower_id FROM follows b WHERE b.channel_id = ? AND b.unfollowed_at = 0) AND ", channelID)
	x.anyRule(rules, refs, now)
	var n int64
	err = db.queryRow(ctx, x.b.String(), x.args...).Scan(&n)
	return n, err
}
