package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	"regulars/events"
	"regulars/geo"
	"regulars/store"
)

// The geofence: per tenant, an in-memory index of the active targeting
// locations (radius > 0, targeted by at least one active engagement), with
// the engagements each one fires. A node builds a tenant's geofence when it
// first handles a position of that tenant, subscribes to the tenant's
// geofence topic on the bus, and from then on applies every change any
// node publishes there. The index only finds candidates: firing re-reads
// the engagement, so a stale entry can never fire a finished engagement.

// geofenceMaxAge bounds how long a geofence lives without a full rebuild:
// a safety net for an event a node missed (e.g. while its database
// connection for notifications was down).
const geofenceMaxAge = 10 * time.Minute

// GeofenceTopic is the bus topic of a tenant's geofence changes.
func GeofenceTopic(tenantID int64) string {
	return "tenant:" + strconv.FormatInt(tenantID, 10) + ":geofence"
}

// geofenceEvent is the data of a geofence event: the location or the
// engagement that changed; neither means "rebuild everything".
type geofenceEvent struct {
	LocationID   int64 `json:"location_id,omitempty"`
	EngagementID int64 `json:"engagement_id,omitempty"`
}

// geofences holds the geofences this node has built. The zero value is
// ready to use.
type geofences struct {
	mu      sync.Mutex
	tenants map[int64]*geofence
}

// geofence is one tenant's index.
//
// Changes arrive as events: one location (or one engagement's locations)
// is read again and put in or taken out, serialised by update so that the
// last to apply has read the latest state. A full rebuild (first use,
// after a failed update, or when the geofence is older than
// geofenceMaxAge) reads everything without blocking those: events that
// arrive meanwhile wait in pending and are applied on top of the new index.
type geofence struct {
	tenantID int64
	ready    chan struct{} // closed once the first build ended
	err      error         // of the first build

	update   sync.Mutex // serialises incremental changes
	building sync.Mutex // one full rebuild at a time

	mu         sync.RWMutex
	index      *geo.Index
	targets    map[int64]*fenceTarget // by location id
	builtAt    time.Time
	stale      bool
	rebuilding bool
	pending    []geofenceEvent
}

// fenceTarget is an active targeting location and what it fires.
type fenceTarget struct {
	LocationID  int64
	PartnerID   int64
	Lat, Lng    float64
	Radius      float64
	Engagements []fenceEngagement
}

type fenceEngagement struct {
	ID        int64
	ChannelID int64
	Kind      string
	Cooldown  time.Duration
}

// targetsOf groups geofence rows (ordered by location) into targets.
func targetsOf(rows []store.GeofenceRow) map[int64]*fenceTarget {
	out := map[int64]*fenceTarget{}
	for _, r := range rows {
		t := out[r.LocationID]
		if t == nil {
			t = &fenceTarget{LocationID: r.LocationID, PartnerID: r.PartnerID, Lat: r.Lat, Lng: r.Lng, Radius: r.Radius}
			out[r.LocationID] = t
		}
		t.Engagements = append(t.Engagements, fenceEngagement{ID: r.EngagementID, ChannelID: r.ChannelID, Kind: r.Kind, Cooldown: r.Cooldown})
	}
	return out
}

// geofence returns the tenant's geofence, building it on first use.
func (a *App) geofence(ctx context.Context, tenantID int64) (*geofence, error) {
	a.fences.mu.Lock()
	if a.fences.tenants == nil {
		a.fences.tenants = map[int64]*geofence{}
	}
	g := a.fences.tenants[tenantID]
	if g == nil {
		g = &geofence{tenantID: tenantID, ready: make(chan struct{}), index: geo.NewIndex(), targets: map[int64]*fenceTarget{}}
		a.fences.tenants[tenantID] = g
		a.fences.mu.Unlock()
		// Subscribe before reading, so that no change falls between the two.
		cancel := a.Bus.Subscribe(GeofenceTopic(tenantID), func(e events.Event) { a.applyGeofenceEvent(g, e) })
		g.building.Lock()
		g.err = a.rebuildGeofence(context.WithoutCancel(ctx), g)
		g.building.Unlock()
		if g.err != nil {
			// Forget it, so that the next position tries again.
			cancel()
			a.fences.mu.Lock()
			delete(a.fences.tenants, tenantID)
			a.fences.mu.Unlock()
		}
		close(g.ready)
	} else {
		a.fences.mu.Unlock()
	}
	select {
	case <-g.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if g.err != nil {
		return nil, g.err
	}
	g.mu.RLock()
	old := g.stale || a.now().Sub(g.builtAt) > geofenceMaxAge
	g.mu.RUnlock()
	if old && g.building.TryLock() {
		// Rebuild in the background; meanwhile lookups use the current
		// index (a firing re-checks the location and the engagement).
		go func() {
			defer g.building.Unlock()
			if err := a.rebuildGeofence(context.Background(), g); err != nil {
				a.Log.Error("geofence rebuild failed", "tenant", tenantID, "err", err)
			}
		}()
	}
	return g, nil
}

// rebuildGeofence reads the tenant's whole geofence and swaps it in, then
// applies the events that came meanwhile. The caller holds g.building.
func (a *App) rebuildGeofence(ctx context.Context, g *geofence) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	g.mu.Lock()
	g.rebuilding = true
	g.mu.Unlock()
	rows, err := a.DB.Geofence(ctx, g.tenantID)
	var targets map[int64]*fenceTarget
	var index *geo.Index
	if err == nil {
		targets = targetsOf(rows)
		index = geo.NewIndex()
		for _, t := range targets {
			index.Insert(t.LocationID, t.Lat, t.Lng, t.Radius)
		}
	}
	g.mu.Lock()
	if err == nil {
		g.index, g.targets, g.builtAt, g.stale = index, targets, a.now(), false
	} else {
		g.stale = true
	}
	pending := g.pending
	g.pending, g.rebuilding = nil, false
	g.mu.Unlock()
	for _, ev := range pending {
		a.applyIncremental(ctx, g, ev)
	}
	return err
}

// reloadTarget re-reads one location and puts it in, or takes it out of,
// the index. The caller holds g.update.
func (a *App) reloadTarget(ctx context.Context, g *geofence, locationID int64) error {
	rows, err := a.DB.GeofenceOf(ctx, g.tenantID, locationID)
	if err != nil {
		return err
	}
	t := targetsOf(rows)[locationID]
	g.mu.Lock()
	defer g.mu.Unlock()
	if t == nil {
		g.index.Remove(locationID)
		delete(g.targets, locationID)
		return nil
	}
	g.index.Insert(t.LocationID, t.Lat, t.Lng, t.Radius)
	g.targets[locationID] = t
	return nil
}

// applyGeofenceEvent applies a change published by any node. It runs on
// the bus's delivery path, so it only reads a few rows; a full rebuild it
// leaves to the next position.
func (a *App) applyGeofenceEvent(g *geofence, e events.Event) {
	v, err := events.Decode[geofenceEvent](e)
	if err != nil {
		a.Log.Error("bad geofence event", "topic", e.Topic, "err", err)
		return
	}
	ev := *v
	g.mu.Lock()
	if g.rebuilding {
		g.pending = append(g.pending, ev)
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.applyIncremental(ctx, g, ev)
}

func (a *App) applyIncremental(ctx context.Context, g *geofence, ev geofenceEvent) {
	g.update.Lock()
	defer g.update.Unlock()
	var err error
	switch {
	case ev.LocationID > 0:
		err = a.reloadTarget(ctx, g, ev.LocationID)
	case ev.EngagementID > 0:
		var ids []int64
		if ids, err = a.DB.TargetedLocationIDs(ctx, ev.EngagementID); err == nil {
			// An engagement that left the geofence may also be listed under
			// locations it no longer targets: drop it there too.
			g.mu.RLock()
			for id, t := range g.targets {
				for _, fe := range t.Engagements {
					if fe.ID == ev.EngagementID {
						ids = append(ids, id)
					}
				}
			}
			g.mu.RUnlock()
			for _, id := range ids {
				if err = a.reloadTarget(ctx, g, id); err != nil {
					break
				}
			}
		}
	default: // everything: rebuilt on the next position
		g.mu.Lock()
		g.stale = true
		g.mu.Unlock()
		return
	}
	if err != nil {
		a.Log.Error("geofence update failed; rebuilding on next use", "tenant", g.tenantID, "err", err)
		g.mu.Lock()
		g.stale = true
		g.mu.Unlock()
	}
}

// lookup returns the active targeting locations that contain the point.
func (g *geofence) lookup(lat, lng float64) []*fenceTarget {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var buf [8]int64
	ids := g.index.Lookup(lat, lng, buf[:0])
	if len(ids) == 0 {
		return nil
	}
	out := make([]*fenceTarget, 0, len(ids))
	for _, id := range ids {
		if t := g.targets[id]; t != nil {
			out = append(out, t)
		}
	}
	return out
}

// publishGeofence tells every node that part of a tenant's geofence
// changed. Call it after the change is committed.
func (a *App) publishGeofence(ctx context.Context, tenantID int64, ev geofenceEvent) {
	if err := a.Bus.Publish(context.WithoutCancel(ctx), events.Event{Topic: GeofenceTopic(tenantID), Value: &ev}); err != nil {
		a.Log.Error("geofence event not published", "tenant", tenantID, "err", err)
	}
}

func (a *App) geofenceLocationChanged(ctx context.Context, tenantID, locationID int64) {
	a.publishGeofence(ctx, tenantID, geofenceEvent{LocationID: locationID})
}

// GeofenceChanged tells every node that an engagement's status, dates or
// channel changed, so the geofence adds or drops the locations it
// targets. The engagement pages call it after publishing or finishing an
// engagement; a firing re-checks the engagement anyway, so a late call
// only delays a newly published engagement.
func (a *App) GeofenceChanged(ctx context.Context, tenantID, engagementID int64) {
	a.publishGeofence(ctx, tenantID, geofenceEvent{EngagementID: engagementID})
}
