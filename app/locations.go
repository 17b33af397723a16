package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"regulars"
)

// LocationSummary is a location with how many engagements target it, by
// engagement status, for lists.
type LocationSummary struct {
	*regulars.Location
	Active, Draft, Finished int
}

// Locations lists the partner's locations with their engagement counts.
func (a *App) Locations(ctx context.Context, actor *Actor) ([]*LocationSummary, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelView); err != nil {
		return nil, err
	}
	list, err := a.DB.Locations(ctx, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	counts, err := a.DB.TargetCounts(ctx, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	out := make([]*LocationSummary, len(list))
	for i, l := range list {
		c := counts[l.ID]
		out[i] = &LocationSummary{Location: l, Active: c[regulars.EngagementActive], Draft: c[regulars.EngagementDraft], Finished: c[regulars.EngagementFinished]}
	}
	return out, nil
}

// Location returns one of the partner's locations; another partner's is
// not found.
func (a *App) Location(ctx context.Context, actor *Actor, id int64) (*regulars.Location, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Location(ctx, actor.PartnerID(), id)
}

// CreateLocation adds a location. A targeting radius under the recommended
// minimum is saved; the location's Warning says so.
func (a *App) CreateLocation(ctx context.Context, actor *Actor, in regulars.LocationInput) (*regulars.Location, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelManage); err != nil {
		return nil, err
	}
	name, address, lat, lng, radius, err := in.Parse()
	if err != nil {
		return nil, err
	}
	l := &regulars.Location{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: name, Address: address, Lat: lat, Lng: lng, Radius: radius}
	if err := a.DB.CreateLocation(ctx, l); err != nil {
		return nil, err
	}
	// Not attached to anything yet: no geofence change.
	return l, nil
}

// UpdateLocation changes a location. A location that engagements target
// cannot become a store location (radius 0): it must be taken out of them
// first.
func (a *App) UpdateLocation(ctx context.Context, actor *Actor, id int64, in regulars.LocationInput) (*regulars.Location, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	name, address, lat, lng, radius, err := in.Parse()
	if err != nil {
		return nil, err
	}
	var l *regulars.Location
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if l, err = a.DB.Location(ctx, actor.PartnerID(), id); err != nil {
			return err
		}
		if radius == 0 && l.Radius > 0 {
			targets, err := a.DB.LocationEngagements(ctx, l.ID)
			if err != nil {
				return err
			}
			if open := unfinished(targets); len(open) > 0 {
				return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{
					"radius": "A store location cannot target engagements, and " + engagementNames(open) + " target this one. Remove it from them first, or keep a radius."}}
			}
		}
		l.Name, l.Address, l.Lat, l.Lng, l.Radius = name, address, lat, lng, radius
		return a.DB.UpdateLocation(ctx, l)
	})
	if err != nil {
		return nil, err
	}
	a.geofenceLocationChanged(ctx, l.TenantID, l.ID)
	return l, nil
}

// DeleteLocation removes a location, unless an active engagement targets
// it: the refusal names them.
func (a *App) DeleteLocation(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelManage); err != nil {
		return err
	}
	var tenantID int64
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		l, err := a.DB.Location(ctx, actor.PartnerID(), id)
		if err != nil {
			return err
		}
		tenantID = l.TenantID
		targets, err := a.DB.LocationEngagements(ctx, l.ID)
		if err != nil {
			return err
		}
		var active []*regulars.Engagement
		for _, e := range targets {
			if e.Status == regulars.EngagementActive {
				active = append(active, e)
			}
		}
		if len(active) > 0 {
			verb := "targets"
			if len(active) > 1 {
				verb = "target"
			}
			return &regulars.Error{Code: regulars.ECONFLICT, Detail: active, Message: fmt.Sprintf(
				"%s cannot be deleted: the active %s %s %s it. Finish %s or remove the location from %s first.",
				l.Name, plural(len(active), "engagement", "engagements"), engagementNames(active), verb, them(len(active)), them(len(active)))}
		}
		return a.DB.DeleteLocation(ctx, actor.PartnerID(), l.ID)
	})
	if err != nil {
		return err
	}
	a.geofenceLocationChanged(ctx, tenantID, id)
	return nil
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// engagementNames lists names for a message: "Coffee morning" and "Free cookie".
func engagementNames(list []*regulars.Engagement) string {
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = "“" + e.Name + "”"
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func unfinished(list []*regulars.Engagement) []*regulars.Engagement {
	var out []*regulars.Engagement
	for _, e := range list {
		if e.Status != regulars.EngagementFinished {
			out = append(out, e)
		}
	}
	return out
}

// LocationEngagements lists the engagements that target one of the
// partner's locations, active ones first.
func (a *App) LocationEngagements(ctx context.Context, actor *Actor, locationID int64) ([]*regulars.Engagement, error) {
	l, err := a.Location(ctx, actor, locationID)
	if err != nil {
		return nil, err
	}
	return a.DB.LocationEngagements(ctx, l.ID)
}

// Who may change what an engagement targets: a user who may update
// locations (from the location's page), or one who may update the
// engagement's kind (from the engagement's form). Either owns the link.

// targetable loads an engagement and a location of the actor's partner for
// a change from the location's side.
func (a *App) targetable(ctx context.Context, actor *Actor, engagementID, locationID int64) (*regulars.Engagement, *regulars.Location, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelUpdate); err != nil {
		return nil, nil, err
	}
	l, err := a.DB.Location(ctx, actor.PartnerID(), locationID)
	if err != nil {
		return nil, nil, err
	}
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, nil, err
	}
	return e, l, nil
}

// TargetLocation makes an engagement fire when a follower enters a
// targeting location. Attaching twice changes nothing.
func (a *App) TargetLocation(ctx context.Context, actor *Actor, engagementID, locationID int64) error {
	e, l, err := a.targetable(ctx, actor, engagementID, locationID)
	if err != nil {
		return err
	}
	switch {
	case e.Kind != regulars.KindMessage && e.Kind != regulars.KindCoupon && e.Kind != regulars.KindLoyalty:
		return regulars.Errorf(regulars.ECONFLICT, "Only messages, coupons and loyalty programs can target locations.")
	case e.Status == regulars.EngagementFinished:
		return regulars.Errorf(regulars.ECONFLICT, "%s is finished; finished engagements are archived and cannot target locations.", e.Name)
	case l.IsStore():
		return &regulars.Error{Code: regulars.EINVALID, Message: l.Name + " is a store location. Give it a radius to use it for proximity targeting.",
			Fields: map[string]string{"location_id": "A store location (no radius) cannot be targeted."}}
	}
	if err := a.DB.AttachLocation(ctx, e.ID, l.ID); err != nil {
		return err
	}
	a.geofenceLocationChanged(ctx, l.TenantID, l.ID)
	return nil
}

// UntargetLocation stops an engagement targeting a location; it is fine if
// it did not.
func (a *App) UntargetLocation(ctx context.Context, actor *Actor, engagementID, locationID int64) error {
	_, l, err := a.targetable(ctx, actor, engagementID, locationID)
	if err != nil {
		return err
	}
	if _, err := a.DB.DetachLocation(ctx, engagementID, l.ID); err != nil {
		return err
	}
	a.geofenceLocationChanged(ctx, l.TenantID, l.ID)
	return nil
}

// EngagementLocations lists the locations an engagement of the actor's
// partner targets (for the engagement pages).
func (a *App) EngagementLocations(ctx context.Context, actor *Actor, engagementID int64) ([]*regulars.Location, error) {
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, err
	}
	if !actor.Can(regulars.FeatureOfKind(e.Kind), regulars.LevelView) && !actor.Can(regulars.FeatureLocations, regulars.LevelView) {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "Your role does not allow this.")
	}
	return a.DB.EngagementLocations(ctx, e.ID)
}

// TargetingLocations lists the partner's targeting locations, for an
// engagement form to choose from; it needs view on the engagement kind.
func (a *App) TargetingLocations(ctx context.Context, actor *Actor, kind string) ([]*regulars.Location, error) {
	if err := actor.Require(regulars.FeatureOfKind(kind), regulars.LevelView); err != nil {
		return nil, err
	}
	all, err := a.DB.Locations(ctx, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	var out []*regulars.Location
	for _, l := range all {
		if !l.IsStore() {
			out = append(out, l)
		}
	}
	return out, nil
}

// SetEngagementLocations makes an engagement target exactly the given
// locations (for an engagement form with location checkboxes): every id
// must be a targeting location of the partner. All or nothing. It needs
// update on the engagement's kind, not on locations.
func (a *App) SetEngagementLocations(ctx context.Context, actor *Actor, engagementID int64, locationIDs []int64) error {
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return err
	}
	if err := actor.Require(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate); err != nil {
		return err
	}
	var changed []int64
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		changed = changed[:0]
		want := map[int64]bool{}
		for _, id := range locationIDs {
			l, err := a.DB.Location(ctx, actor.PartnerID(), id)
			if err != nil {
				return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"locations": "Choose among your targeting locations."}}
			}
			if l.IsStore() {
				return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"locations": l.Name + " is a store location; give it a radius to target it."}}
			}
			want[id] = true
		}
		if len(want) > 0 && e.Status == regulars.EngagementFinished {
			return regulars.Errorf(regulars.ECONFLICT, "%s is finished; finished engagements cannot target locations.", e.Name)
		}
		have, err := a.DB.TargetedLocationIDs(ctx, e.ID)
		if err != nil {
			return err
		}
		for _, id := range have {
			if !want[id] {
				if _, err := a.DB.DetachLocation(ctx, e.ID, id); err != nil {
					return err
				}
				changed = append(changed, id)
			}
			delete(want, id)
		}
		for id := range want {
			if err := a.DB.AttachLocation(ctx, e.ID, id); err != nil {
				return err
			}
			changed = append(changed, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range changed {
		a.geofenceLocationChanged(ctx, e.TenantID, id)
	}
	return nil
}

// EngagementTargets is what the locations panel of an engagement page
// shows: the locations it targets, the others it could, its cooldown, and
// what the actor may change.
type EngagementTargets struct {
	Engagement  *regulars.Engagement
	Targeted    []*regulars.Location
	Available   []*regulars.Location // targeting locations not targeted yet
	CanTarget   bool                 // update on locations
	CanCooldown bool                 // update on the engagement's kind
}

// Hours returns the engagement's cooldown in whole hours.
func (t *EngagementTargets) Hours() int64 {
	return int64(cooldownOf(time.Duration(t.Engagement.CooldownSeconds)*time.Second) / time.Hour)
}

// TargetsOf loads the locations panel of an engagement of the actor's
// partner.
func (a *App) TargetsOf(ctx context.Context, actor *Actor, engagementID int64) (*EngagementTargets, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelView); err != nil {
		return nil, err
	}
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, err
	}
	if regulars.FeatureOfKind(e.Kind) == regulars.FeatureChat {
		return nil, regulars.ErrNotFound("engagement")
	}
	t := &EngagementTargets{Engagement: e,
		CanTarget:   actor.Can(regulars.FeatureLocations, regulars.LevelUpdate) && e.Status != regulars.EngagementFinished,
		CanCooldown: actor.Can(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate) && e.Status != regulars.EngagementFinished}
	if t.Targeted, err = a.DB.EngagementLocations(ctx, e.ID); err != nil {
		return nil, err
	}
	targeted := map[int64]bool{}
	for _, l := range t.Targeted {
		targeted[l.ID] = true
	}
	all, err := a.DB.Locations(ctx, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if !l.IsStore() && !targeted[l.ID] {
			t.Available = append(t.Available, l)
		}
	}
	return t, nil
}

// SetLocationCooldown sets how often, at most, an engagement fires for one
// follower through its targeting locations: once every hours (1 to 8760,
// a year). It needs update on the engagement's kind.
func (a *App) SetLocationCooldown(ctx context.Context, actor *Actor, engagementID int64, hours string) (*regulars.Engagement, error) {
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, err
	}
	if err := actor.Require(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate); err != nil {
		return nil, err
	}
	if e.Status == regulars.EngagementFinished {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is finished and archived: it cannot change.", e.Name)
	}
	v := regulars.Validation{}
	h := num(v, "cooldown_hours", hours, -1, 1, 24*365)
	if h == -1 {
		v.Add("cooldown_hours", "Enter a number of hours, e.g. 24.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := a.DB.SetEngagementCooldown(ctx, e.PartnerID, e.ID, time.Duration(h)*time.Hour); err != nil {
		return nil, err
	}
	e.CooldownSeconds = h * 3600
	a.GeofenceChanged(ctx, e.TenantID, e.ID)
	return e, nil
}
