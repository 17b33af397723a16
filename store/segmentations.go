package store

import (
	"context"
	"encoding/json"
	"strings"

	"regulars"
)

const segmentationCols = "s.id, s.tenant_id, s.partner_id, s.name, s.rule, s.created_at, s.updated_at"

var (
	qSegInsert   = query("segmentation_insert", `INSERT INTO segmentations (tenant_id, partner_id, name, rule, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qSegUpdate   = query("segmentation_update", `UPDATE segmentations SET name = ?, rule = ?, updated_at = ? WHERE partner_id = ? AND id = ?`)
	qSegDelete   = query("segmentation_delete", `DELETE FROM segmentations WHERE partner_id = ? AND id = ?`)
	qSegByID     = query("segmentation_by_id", `SELECT `+segmentationCols+`, (SELECT COUNT(*) FROM engagement_segmentations es WHERE es.segmentation_id = s.id) FROM segmentations s WHERE s.partner_id = ? AND s.id = ?`)
	qSegList     = query("segmentations_list", `SELECT `+segmentationCols+`, (SELECT COUNT(*) FROM engagement_segmentations es WHERE es.segmentation_id = s.id) FROM segmentations s WHERE s.partner_id = ? ORDER BY lower(s.name), s.id`)
	qSegRefsDel  = query("segmentation_refs_delete", `DELETE FROM segmentation_refs WHERE segmentation_id = ?`)
	qSegRefAdd   = query("segmentation_ref_add", `INSERT INTO segmentation_refs (segmentation_id, ref_kind, ref_id) VALUES (?, ?, ?)`)
	qSegUsingRef = query("segmentations_using_ref", `SELECT `+segmentationCols+`, 0 FROM segmentations s JOIN segmentation_refs r ON r.segmentation_id = s.id WHERE s.partner_id = ? AND r.ref_kind = ? AND r.ref_id = ? ORDER BY lower(s.name), s.id`)

	qEngSegs      = query("engagement_segmentations_of", `SELECT `+segmentationCols+`, 0 FROM segmentations s JOIN engagement_segmentations es ON es.segmentation_id = s.id WHERE es.engagement_id = ? ORDER BY lower(s.name), s.id`)
	qEngSegAttach = query("engagement_segmentation_attach", `INSERT INTO engagement_segmentations (engagement_id, segmentation_id, created_at) VALUES (?, ?, ?) ON CONFLICT (engagement_id, segmentation_id) DO NOTHING`)
	qEngSegDetach = query("engagement_segmentation_detach", `DELETE FROM engagement_segmentations WHERE engagement_id = ? AND segmentation_id = ?`)
	qEngSegUsers  = query("segmentation_engagements", `SELECT `+engagementCols2+` FROM engagements e JOIN engagement_segmentations es ON es.engagement_id = e.id WHERE es.segmentation_id = ? ORDER BY CASE e.status WHEN 'active' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, e.id DESC`)
	qEngSegDrop   = query("segmentation_detach_all", `DELETE FROM engagement_segmentations WHERE segmentation_id = ?`)

	qChangeAdd = query("segment_change_add", `INSERT INTO segment_changes (tenant_id, kind, ref_id, created_at) VALUES (?, ?, ?, ?)`)
)

// engagementCols2 is engagementCols for the alias e.
var engagementCols2 = strings.Replace("e."+strings.ReplaceAll(engagementCols, ", ", ", e."), "e.COALESCE(program_id, e.0)", "COALESCE(e.program_id, 0)", 1)

func scanSegmentation(row interface{ Scan(...any) error }) (*regulars.Segmentation, error) {
	var s regulars.Segmentation
	var rule string
	var created, updated int64
	if err := row.Scan(&s.ID, &s.TenantID, &s.PartnerID, &s.Name, &rule, &created, &updated, &s.EngagementCount); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(rule), &s.Rule); err != nil {
		return nil, err
	}
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// nameTaken is the answer for a name the partner already uses.
func nameTaken() error {
	return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"name": "You already have one with this name."}}
}

// CreateSegmentation stores a new segmentation and the objects its rule
// refers to.
func (db *DB) CreateSegmentation(ctx context.Context, s *regulars.Segmentation, userID int64) error {
	now := db.now()
	s.CreatedAt, s.UpdatedAt = now, now
	return db.InTx(ctx, func(ctx context.Context) error {
		id, err := db.insert(ctx, qSegInsert, s.TenantID, s.PartnerID, s.Name, s.Rule.JSON(), nullID(userID), ms(now), ms(now))
		if db.dialect.isUnique(err) {
			return nameTaken()
		}
		if err != nil {
			return err
		}
		s.ID = id
		return db.saveSegRefs(ctx, s)
	})
}

// UpdateSegmentation saves a segmentation's name and rule.
func (db *DB) UpdateSegmentation(ctx context.Context, s *regulars.Segmentation) error {
	s.UpdatedAt = db.now()
	return db.InTx(ctx, func(ctx context.Context) error {
		res, err := db.exec(ctx, qSegUpdate, s.Name, s.Rule.JSON(), ms(s.UpdatedAt), s.PartnerID, s.ID)
		if db.dialect.isUnique(err) {
			return nameTaken()
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return regulars.ErrNotFound("segmentation")
		}
		if err := db.saveSegRefs(ctx, s); err != nil {
			return err
		}
		return db.TargetingChanged(ctx, s.TenantID, s.PartnerID)
	})
}

func (db *DB) saveSegRefs(ctx context.Context, s *regulars.Segmentation) error {
	if _, err := db.exec(ctx, qSegRefsDel, s.ID); err != nil {
		return err
	}
	for kind, ids := range s.Rule.Refs() {
		for _, id := range ids {
			if _, err := db.exec(ctx, qSegRefAdd, s.ID, kind, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Segmentation returns one of the partner's segmentations.
func (db *DB) Segmentation(ctx context.Context, partnerID, id int64) (*regulars.Segmentation, error) {
	s, err := scanSegmentation(db.queryRow(ctx, qSegByID, partnerID, id))
	return s, notFound(err, "segmentation")
}

// Segmentations lists the partner's segmentations by name.
func (db *DB) Segmentations(ctx context.Context, partnerID int64) ([]*regulars.Segmentation, error) {
	rows, err := db.queryRows(ctx, qSegList, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSegmentation)
}

// SegmentationsUsing lists the partner's segmentations whose rule refers to
// an object: kind is "engagement", "channel", "program" or "list".
func (db *DB) SegmentationsUsing(ctx context.Context, partnerID int64, kind string, id int64) ([]*regulars.Segmentation, error) {
	rows, err := db.queryRows(ctx, qSegUsingRef, partnerID, kind, id)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSegmentation)
}

// DeleteSegmentation removes a segmentation and its links to finished
// engagements; the caller has checked that no live engagement uses it.
func (db *DB) DeleteSegmentation(ctx context.Context, s *regulars.Segmentation) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, qEngSegDrop, s.ID); err != nil {
			return err
		}
		res, err := db.exec(ctx, qSegDelete, s.PartnerID, s.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return regulars.ErrNotFound("segmentation")
		}
		return db.TargetingChanged(ctx, s.TenantID, s.PartnerID)
	})
}

// EngagementSegmentations lists the segmentations an engagement targets.
func (db *DB) EngagementSegmentations(ctx context.Context, engagementID int64) ([]*regulars.Segmentation, error) {
	rows, err := db.queryRows(ctx, qEngSegs, engagementID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSegmentation)
}

// SegmentationEngagements lists the engagements that use a segmentation,
// active first.
func (db *DB) SegmentationEngagements(ctx context.Context, segmentationID int64) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngSegUsers, segmentationID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEngagement)
}

// AttachSegmentation makes an engagement target a segmentation (again is
// a no-op).
func (db *DB) AttachSegmentation(ctx context.Context, e *regulars.Engagement, segmentationID int64) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, qEngSegAttach, e.ID, segmentationID, ms(db.now())); err != nil {
			return err
		}
		return db.TargetingChanged(ctx, e.TenantID, e.PartnerID)
	})
}

// DetachSegmentation stops an engagement targeting a segmentation; it
// reports whether it did.
func (db *DB) DetachSegmentation(ctx context.Context, e *regulars.Engagement, segmentationID int64) (bool, error) {
	var done bool
	err := db.InTx(ctx, func(ctx context.Context) error {
		res, err := db.exec(ctx, qEngSegDetach, e.ID, segmentationID)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		done = n > 0
		return db.TargetingChanged(ctx, e.TenantID, e.PartnerID)
	})
	return done, err
}

// TargetingChanged records that a partner's segmentations or their links
// changed, so that every node's segment index reloads them.
func (db *DB) TargetingChanged(ctx context.Context, tenantID, partnerID int64) error {
	_, err := db.exec(ctx, qChangeAdd, tenantID, ChangeTargeting, partnerID, ms(db.now()))
	return err
}

// ListChanged records that a list's members changed.
func (db *DB) ListChanged(ctx context.Context, tenantID, listID int64) error {
	_, err := db.exec(ctx, qChangeAdd, tenantID, ChangeList, listID, ms(db.now()))
	return err
}

// Kinds of segment changes.
const (
	ChangeFollower  = "follower"  // ref: follower id (written by triggers)
	ChangeList      = "list"      // ref: list id
	ChangeTargeting = "targeting" // ref: partner id
)

// FollowersByIDs returns the tenant's followers with the given ids, in id
// order.
func (db *DB) FollowersByIDs(ctx context.Context, tenantID int64, ids []int64) ([]*regulars.Follower, error) {
	var out []*regulars.Follower
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := db.queryRows(ctx, `SELECT `+followerCols+` FROM followers WHERE tenant_id = ? AND id IN (`+placeholders(len(chunk))+`) ORDER BY id`, append([]any{tenantID}, anys(chunk)...)...)
		if err != nil {
			return nil, err
		}
		got, err := collect(rows, scanFollower)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
