package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"regulars"
)

const locationCols = "id, tenant_id, partner_id, name, address, lat, lng, radius_m, created_at, updated_at"

var (
	qLocationInsert  = query("location_insert", `INSERT INTO locations (tenant_id, partner_id, name, address, lat, lng, radius_m, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qLocationUpdate  = query("location_update", `UPDATE locations SET name = ?, address = ?, lat = ?, lng = ?, radius_m = ?, updated_at = ? WHERE partner_id = ? AND id = ?`)
	qLocationDelete  = query("location_delete", `DELETE FROM locations WHERE partner_id = ? AND id = ?`)
	qLocationByID    = query("location_by_id", `SELECT `+locationCols+` FROM locations WHERE partner_id = ? AND id = ?`)
	qLocationsList   = query("locations_list", `SELECT `+locationCols+` FROM locations WHERE partner_id = ? ORDER BY lower(name), id LIMIT 5000`)
	qLocationsStores = query("locations_stores", `SELECT `+locationCols+` FROM locations WHERE tenant_id = ? AND partner_id = ? AND radius_m = 0 ORDER BY lower(name), id LIMIT 500`)

	qTargetAttach   = query("engagement_location_attach", `INSERT INTO engagement_locations (engagement_id, location_id, created_at) VALUES (?, ?, ?) ON CONFLICT (engagement_id, location_id) DO NOTHING`)
	qTargetDetach   = query("engagement_location_detach", `DELETE FROM engagement_locations WHERE engagement_id = ? AND location_id = ?`)
	qTargetsOfEng   = query("engagement_locations_of", `SELECT `+locationCols+` FROM locations WHERE id IN (SELECT location_id FROM engagement_locations WHERE engagement_id = ?) ORDER BY lower(name), id`)
	qEngsOfLocation = query("location_engagements_of", `SELECT `+engagementCols+` FROM engagements WHERE id IN (SELECT engagement_id FROM engagement_locations WHERE location_id = ?) ORDER BY CASE status WHEN 'active' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, lower(name), id`)
	qTargetCounts   = query("location_target_counts", `SELECT el.location_id, e.status, COUNT(*) FROM engagement_locations el JOIN engagements e ON e.id = el.engagement_id JOIN locations l ON l.id = el.location_id WHERE l.partner_id = ? GROUP BY el.location_id, e.status`)

	geofenceSelect    = `SELECT l.id, l.partner_id, l.lat, l.lng, l.radius_m, e.id, e.channel_id, e.kind, e.cooldown_seconds FROM locations l JOIN engagement_locations el ON el.location_id = l.id JOIN engagements e ON e.id = el.engagement_id WHERE l.radius_m > 0 AND e.status = 'active' AND `
	qGeofenceTenant   = query("geofence_tenant", geofenceSelect+`l.tenant_id = ? ORDER BY l.id, e.id`)
	qGeofenceLocation = query("geofence_location", geofenceSelect+`l.tenant_id = ? AND l.id = ? ORDER BY e.id`)
	qGeofenceOfEng    = query("geofence_engagement_locations", `SELECT location_id FROM engagement_locations WHERE engagement_id = ?`)

	qCooldownSet = query("engagement_cooldown_set", `UPDATE engagements SET cooldown_seconds = ?, updated_at = ? WHERE partner_id = ? AND id = ?`)
	qTargetCheck = query("location_target_check", `SELECT l.lat, l.lng, l.radius_m FROM locations l JOIN engagement_locations el ON el.location_id = l.id WHERE l.tenant_id = ? AND l.id = ? AND el.engagement_id = ?`)
	qFiringLast  = query("location_firing_last", `SELECT fired_at FROM location_firings WHERE engagement_id = ? AND follower_id = ?`)

	// The cooldown claim: a firing happens when there is none yet for the
	// follower and engagement, or the last one is older than the window.
	// One statement, so that two nodes handling positions of the same
	// follower at once cannot both fire.
	qFiringClaim = query("location_firing_claim", `INSERT INTO location_firings (engagement_id, follower_id, location_id, fired_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (engagement_id, follower_id) DO UPDATE SET fired_at = excluded.fired_at, location_id = excluded.location_id
		WHERE location_firings.fired_at <= ?`)
)

func scanLocation(row interface{ Scan(...any) error }) (*regulars.Location, error) {
	var l regulars.Location
	var created, updated int64
	if err := row.Scan(&l.ID, &l.TenantID, &l.PartnerID, &l.Name, &l.Address, &l.Lat, &l.Lng, &l.Radius, &created, &updated); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	return &l, nil
}

// CreateLocation adds a location to a partner.
func (db *DB) CreateLocation(ctx context.Context, l *regulars.Location) error {
	now := db.now()
	l.CreatedAt, l.UpdatedAt = now, now
	id, err := db.insert(ctx, qLocationInsert, l.TenantID, l.PartnerID, l.Name, l.Address, l.Lat, l.Lng, l.Radius, ms(now), ms(now))
	l.ID = id
	return err
}

// UpdateLocation saves a location's fields.
func (db *DB) UpdateLocation(ctx context.Context, l *regulars.Location) error {
	l.UpdatedAt = db.now()
	res, err := db.exec(ctx, qLocationUpdate, l.Name, l.Address, l.Lat, l.Lng, l.Radius, ms(l.UpdatedAt), l.PartnerID, l.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("location")
	}
	return nil
}

// DeleteLocation removes a location and its engagement attachments.
func (db *DB) DeleteLocation(ctx context.Context, partnerID, id int64) error {
	res, err := db.exec(ctx, qLocationDelete, partnerID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("location")
	}
	return nil
}

// Location returns one of the partner's locations.
func (db *DB) Location(ctx context.Context, partnerID, id int64) (*regulars.Location, error) {
	l, err := scanLocation(db.queryRow(ctx, qLocationByID, partnerID, id))
	return l, notFound(err, "location")
}

// Locations lists a partner's locations by name.
func (db *DB) Locations(ctx context.Context, partnerID int64) ([]*regulars.Location, error) {
	rows, err := db.queryRows(ctx, qLocationsList, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanLocation)
}

// StoreLocations lists a partner's store locations (radius 0), the ones
// followers see on its channel pages.
func (db *DB) StoreLocations(ctx context.Context, tenantID, partnerID int64) ([]*regulars.Location, error) {
	rows, err := db.queryRows(ctx, qLocationsStores, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanLocation)
}

// AttachLocation makes an engagement target a location; attaching twice
// changes nothing.
func (db *DB) AttachLocation(ctx context.Context, engagementID, locationID int64) error {
	_, err := db.exec(ctx, qTargetAttach, engagementID, locationID, ms(db.now()))
	return err
}

// DetachLocation stops an engagement targeting a location; it reports
// whether it did.
func (db *DB) DetachLocation(ctx context.Context, engagementID, locationID int64) (bool, error) {
	res, err := db.exec(ctx, qTargetDetach, engagementID, locationID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// EngagementLocations lists the locations an engagement targets.
func (db *DB) EngagementLocations(ctx context.Context, engagementID int64) ([]*regulars.Location, error) {
	rows, err := db.queryRows(ctx, qTargetsOfEng, engagementID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanLocation)
}

// LocationEngagements lists the engagements that target a location, active
// ones first.
func (db *DB) LocationEngagements(ctx context.Context, locationID int64) ([]*regulars.Engagement, error) {
	rows, err := db.queryRows(ctx, qEngsOfLocation, locationID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanEngagement)
}

// TargetCounts counts, per location of a partner, the engagements that
// target it by engagement status.
func (db *DB) TargetCounts(ctx context.Context, partnerID int64) (map[int64]map[string]int, error) {
	rows, err := db.queryRows(ctx, qTargetCounts, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]map[string]int{}
	for rows.Next() {
		var id int64
		var status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return nil, err
		}
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][status] = n
	}
	return out, rows.Err()
}

// GeofenceRow is an active targeting location with one engagement it fires.
type GeofenceRow struct {
	LocationID   int64
	PartnerID    int64
	Lat, Lng     float64
	Radius       float64
	EngagementID int64
	ChannelID    int64
	Kind         string
	Cooldown     time.Duration // the engagement's; 0 = the default
}

func scanGeofence(row interface{ Scan(...any) error }) (GeofenceRow, error) {
	var g GeofenceRow
	var cooldown int64
	err := row.Scan(&g.LocationID, &g.PartnerID, &g.Lat, &g.Lng, &g.Radius, &g.EngagementID, &g.ChannelID, &g.Kind, &cooldown)
	g.Cooldown = time.Duration(cooldown) * time.Second
	return g, err
}

// Geofence lists a tenant's active targeting locations, one row per active
// engagement attached, ordered by location.
func (db *DB) Geofence(ctx context.Context, tenantID int64) ([]GeofenceRow, error) {
	rows, err := db.queryRows(ctx, qGeofenceTenant, tenantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanGeofence)
}

// GeofenceOf lists the rows of one location (none when it is not an active
// targeting location, or is gone).
func (db *DB) GeofenceOf(ctx context.Context, tenantID, locationID int64) ([]GeofenceRow, error) {
	rows, err := db.queryRows(ctx, qGeofenceLocation, tenantID, locationID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanGeofence)
}

// TargetedLocationIDs lists the ids of the locations an engagement targets.
func (db *DB) TargetedLocationIDs(ctx context.Context, engagementID int64) ([]int64, error) {
	rows, err := db.queryRows(ctx, qGeofenceOfEng, engagementID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[int64])
}

// SetEngagementCooldown changes the least time between two location
// firings of an engagement for one follower.
func (db *DB) SetEngagementCooldown(ctx context.Context, partnerID, engagementID int64, cooldown time.Duration) error {
	_, err := db.exec(ctx, qCooldownSet, int64(cooldown/time.Second), ms(db.now()), partnerID, engagementID)
	return err
}

// LocationTarget reads the circle of a location that an engagement
// targets now; ok is false when the location is gone or no longer
// targeted by it. Firing checks it, so a stale geofence never fires.
func (db *DB) LocationTarget(ctx context.Context, tenantID, locationID, engagementID int64) (lat, lng, radius float64, ok bool, err error) {
	err = db.queryRow(ctx, qTargetCheck, tenantID, locationID, engagementID).Scan(&lat, &lng, &radius)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, 0, false, nil
	}
	return lat, lng, radius, err == nil, err
}

// LastLocationFiring returns when a location last fired an engagement for
// a follower (zero: never). A read, so that the common "within the
// cooldown" case takes no write lock; the claim decides.
func (db *DB) LastLocationFiring(ctx context.Context, engagementID, followerID int64) (time.Time, error) {
	var at int64
	err := db.queryRow(ctx, qFiringLast, engagementID, followerID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return fromMS(at), err
}

// ClaimLocationFiring records that a location fires an engagement for a
// follower at now, unless it already did within cooldown; it reports
// whether the caller may fire. Run it in the transaction that delivers, so
// a failed delivery gives the claim back.
func (db *DB) ClaimLocationFiring(ctx context.Context, engagementID, followerID, locationID int64, now time.Time, cooldown time.Duration) (bool, error) {
	res, err := db.exec(ctx, qFiringClaim, engagementID, followerID, nullID(locationID), ms(now), ms(now.Add(-cooldown)))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
