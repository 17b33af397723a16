package api

import (
	"net/http"
	"strconv"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// locationTable is the locations part of the API: staff manage locations
// and what targets them; followers see store locations and report their
// position.
func (x *API) locationTable() []endpoint {
	loc := regulars.FeatureLocations
	conflict := []int{http.StatusConflict}
	return []endpoint{
		{Method: "GET", Pattern: "/api/v1/locations", Side: httpx.Partner, Feature: loc, Level: regulars.LevelView,
			Doc: "List the partner's locations: store locations (radius 0) and targeting locations", Op: handle(x, http.StatusOK, x.listLocations)},
		{Method: "POST", Pattern: "/api/v1/locations", Side: httpx.Partner, Feature: loc, Level: regulars.LevelManage,
			Doc: "Create a location; a radius under 100 m is saved with a warning", Op: handle(x, http.StatusCreated, x.createLocation)},
		{Method: "GET", Pattern: "/api/v1/locations/{id}", Side: httpx.Partner, Feature: loc, Level: regulars.LevelView,
			Doc: "Get a location", Op: handle(x, http.StatusOK, x.getLocation)},
		{Method: "PATCH", Pattern: "/api/v1/locations/{id}", Side: httpx.Partner, Feature: loc, Level: regulars.LevelUpdate,
			Doc: "Change a location's members that the body holds", Op: handle(x, http.StatusOK, x.updateLocation)},
		{Method: "DELETE", Pattern: "/api/v1/locations/{id}", Side: httpx.Partner, Feature: loc, Level: regulars.LevelManage,
			Doc: "Delete a location; refused (409, naming them) while active engagements target it", Op: handle(x, http.StatusNoContent, x.deleteLocation), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/locations/{id}/engagements", Side: httpx.Partner, Feature: loc, Level: regulars.LevelView,
			Doc: "The engagements that target a location, active first", Op: handle(x, http.StatusOK, x.locationEngagements)},
		{Method: "PUT", Pattern: "/api/v1/locations/{id}/engagements/{engagement_id}", Side: httpx.Partner, Feature: loc, Level: regulars.LevelUpdate,
			Doc: "Make an engagement (message, coupon, loyalty program) target a targeting location; the role must also allow updating the engagement's kind",
			Op:  handle(x, http.StatusNoContent, x.targetLocation), Errors: conflict},
		{Method: "DELETE", Pattern: "/api/v1/locations/{id}/engagements/{engagement_id}", Side: httpx.Partner, Feature: loc, Level: regulars.LevelUpdate,
			Doc: "Stop an engagement targeting a location", Op: handle(x, http.StatusNoContent, x.untargetLocation)},

		{Method: "GET", Pattern: "/api/v1/follower/channels/{id}/locations", Side: httpx.Follower,
			Doc: "The store locations shown on a channel page; with ?lat=&lng= (the follower's position) each has its distance, nearest first",
			Op:  handle(x, http.StatusOK, x.channelLocations), Errors: []int{http.StatusUnprocessableEntity}},
		{Method: "POST", Pattern: "/api/v1/follower/position", Side: httpx.Follower,
			Doc: "Report the follower's position: engagements targeting a location that contains it fire (once per cooldown window)",
			Op:  handle(x, http.StatusOK, x.reportPosition)},
	}
}

// Location is a place of the partner.
type Location struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name" doc:"shown to followers for a store location; internal for a targeting location"`
	Address   string    `json:"address"`
	Lat       float64   `json:"lat" doc:"latitude in degrees, -90 to 90"`
	Lng       float64   `json:"lng" doc:"longitude in degrees, -180 to 180"`
	Radius    float64   `json:"radius" doc:"metres; 0 = a store location shown on the channel pages, above 0 = a targeting location (at most 50000)"`
	Kind      string    `json:"kind" enum:"store,targeting"`
	Warning   string    `json:"warning" doc:"advice about the location, e.g. a radius under the recommended 100 metres; empty when none"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (l Location) location() string { return "/api/v1/locations/" + strconv.FormatInt(l.ID, 10) }

func locationOut(l *regulars.Location) Location {
	kind := "targeting"
	if l.IsStore() {
		kind = "store"
	}
	return Location{ID: l.ID, Name: l.Name, Address: l.Address, Lat: l.Lat, Lng: l.Lng, Radius: l.Radius, Kind: kind, Warning: l.Warning(),
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// LocationList is the partner's locations by name.
type LocationList struct {
	Items []Location `json:"items"`
}

// LocationCreate adds a location. Coordinates and radius are numbers; a
// missing radius (or 0) makes a store location.
type LocationCreate struct {
	Name    string   `json:"name"`
	Address string   `json:"address,omitempty"`
	Lat     *float64 `json:"lat"`
	Lng     *float64 `json:"lng"`
	Radius  *float64 `json:"radius,omitempty" doc:"metres; omit or 0 for a store location"`
}

// LocationUpdate changes the members it holds.
type LocationUpdate struct {
	Name    *string  `json:"name,omitempty"`
	Address *string  `json:"address,omitempty"`
	Lat     *float64 `json:"lat,omitempty"`
	Lng     *float64 `json:"lng,omitempty"`
	Radius  *float64 `json:"radius,omitempty"`
}

// number formats a JSON number for the domain's input, which reads text.
func number(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func (x *API) listLocations(r *http.Request, _ noBody) (LocationList, error) {
	list, err := x.app.Locations(r.Context(), actorOf(r))
	if err != nil {
		return LocationList{}, err
	}
	out := LocationList{Items: make([]Location, len(list))}
	for i, l := range list {
		out.Items[i] = locationOut(l.Location)
	}
	return out, nil
}

func (x *API) createLocation(r *http.Request, in LocationCreate) (Location, error) {
	l, err := x.app.CreateLocation(r.Context(), actorOf(r), regulars.LocationInput{Name: in.Name, Address: in.Address, Lat: number(in.Lat), Lng: number(in.Lng), Radius: number(in.Radius)})
	if err != nil {
		return Location{}, err
	}
	return locationOut(l), nil
}

func (x *API) getLocation(r *http.Request, _ noBody) (Location, error) {
	id, err := pathID(r, "location")
	if err != nil {
		return Location{}, err
	}
	l, err := x.app.Location(r.Context(), actorOf(r), id)
	if err != nil {
		return Location{}, err
	}
	return locationOut(l), nil
}

func (x *API) updateLocation(r *http.Request, in LocationUpdate) (Location, error) {
	id, err := pathID(r, "location")
	if err != nil {
		return Location{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	l, err := x.app.Location(ctx, actor, id)
	if err != nil {
		return Location{}, err
	}
	change := regulars.LocationInput{Name: l.Name, Address: l.Address, Lat: number(&l.Lat), Lng: number(&l.Lng), Radius: number(&l.Radius)}
	set(&change.Name, in.Name)
	set(&change.Address, in.Address)
	if in.Lat != nil {
		change.Lat = number(in.Lat)
	}
	if in.Lng != nil {
		change.Lng = number(in.Lng)
	}
	if in.Radius != nil {
		change.Radius = number(in.Radius)
	}
	if l, err = x.app.UpdateLocation(ctx, actor, id, change); err != nil {
		return Location{}, err
	}
	return locationOut(l), nil
}

func (x *API) deleteLocation(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "location")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteLocation(r.Context(), actorOf(r), id)
}

// EngagementRef names an engagement.
type EngagementRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Kind   string `json:"kind" enum:"message,coupon,loyalty"`
	Status string `json:"status" enum:"draft,active,finished"`
}

// EngagementRefList lists engagements.
type EngagementRefList struct {
	Items []EngagementRef `json:"items"`
}

func (x *API) locationEngagements(r *http.Request, _ noBody) (EngagementRefList, error) {
	id, err := pathID(r, "location")
	if err != nil {
		return EngagementRefList{}, err
	}
	list, err := x.app.LocationEngagements(r.Context(), actorOf(r), id)
	if err != nil {
		return EngagementRefList{}, err
	}
	out := EngagementRefList{Items: make([]EngagementRef, len(list))}
	for i, e := range list {
		out.Items[i] = EngagementRef{ID: e.ID, Name: e.Name, Kind: e.Kind, Status: e.Status}
	}
	return out, nil
}

// targetIDs reads the location and engagement ids of the path; malformed
// ones are missing objects.
func targetIDs(r *http.Request) (locationID, engagementID int64, err error) {
	if locationID, err = pathID(r, "location"); err != nil {
		return 0, 0, err
	}
	engagementID, perr := strconv.ParseInt(r.PathValue("engagement_id"), 10, 64)
	if perr != nil || engagementID <= 0 {
		return 0, 0, regulars.ErrNotFound("engagement")
	}
	return locationID, engagementID, nil
}

func (x *API) targetLocation(r *http.Request, _ noBody) (noBody, error) {
	lid, eid, err := targetIDs(r)
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.TargetLocation(r.Context(), actorOf(r), eid, lid)
}

func (x *API) untargetLocation(r *http.Request, _ noBody) (noBody, error) {
	lid, eid, err := targetIDs(r)
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.UntargetLocation(r.Context(), actorOf(r), eid, lid)
}

// StoreLocation is a shop of the channel's business.
type StoreLocation struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Address  string   `json:"address"`
	Lat      float64  `json:"lat"`
	Lng      float64  `json:"lng"`
	Distance *float64 `json:"distance" doc:"metres from the position given as ?lat=&lng=; null without one"`
}

// StoreLocationList is a channel's store locations.
type StoreLocationList struct {
	Items []StoreLocation `json:"items"`
	Map   MapTiles        `json:"map"`
}

// MapTiles says where a map of the locations loads its tiles.
type MapTiles struct {
	TileURL     string `json:"tile_url" doc:"a Leaflet-style URL template with {z}, {x} and {y}"`
	Attribution string `json:"attribution" doc:"HTML credit to show on the map"`
}

// queryFloat reads an optional number from the query; a malformed one is
// a field error.
func queryFloat(r *http.Request, name string, v regulars.Validation) *float64 {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		v.Add(name, "Must be a number of degrees.")
		return nil
	}
	return &f
}

func (x *API) channelLocations(r *http.Request, _ noBody) (StoreLocationList, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return StoreLocationList{}, err
	}
	v := regulars.Validation{}
	lat, lng := queryFloat(r, "lat", v), queryFloat(r, "lng", v)
	if err := v.Err(); err != nil {
		return StoreLocationList{}, err
	}
	list, err := x.app.ChannelLocations(r.Context(), followerOf(r), id, lat, lng)
	if err != nil {
		return StoreLocationList{}, err
	}
	out := StoreLocationList{Items: make([]StoreLocation, len(list)), Map: MapTiles{TileURL: x.app.MapTiles.URL, Attribution: x.app.MapTiles.Attribution}}
	for i, l := range list {
		out.Items[i] = StoreLocation{ID: l.ID, Name: l.Name, Address: l.Address, Lat: l.Lat, Lng: l.Lng}
		if l.Distance >= 0 {
			d := l.Distance
			out.Items[i].Distance = &d
		}
	}
	return out, nil
}

// Position is where the follower's device is.
type Position struct {
	Lat      *float64   `json:"lat" doc:"degrees, -90 to 90"`
	Lng      *float64   `json:"lng" doc:"degrees, -180 to 180"`
	Accuracy *float64   `json:"accuracy,omitempty" doc:"metres; positions less precise than 1000 m fire nothing"`
	Time     *time.Time `json:"time,omitempty" doc:"when the device measured it; default now; refused more than 2 minutes ahead or an hour behind"`
}

// Fired is an engagement a position fired.
type Fired struct {
	EngagementID int64  `json:"engagement_id"`
	ChannelID    int64  `json:"channel_id"`
	Kind         string `json:"kind" enum:"message,coupon,loyalty"`
	Name         string `json:"name"`
	Outcome      string `json:"outcome" enum:"message_delivered,coupon_enabled,coupon_available,points_awarded,visit_recorded"`
	Points       int64  `json:"points" doc:"points awarded, for points_awarded"`
}

// PositionResult says what a position fired.
type PositionResult struct {
	Fired []Fired `json:"fired" doc:"empty when nothing fired (no location here, or within the cooldown)"`
	Note  string  `json:"note" doc:"why the position could not fire anything, when it says so itself; else empty"`
}

func (x *API) reportPosition(r *http.Request, in Position) (PositionResult, error) {
	res, err := x.app.ReportPosition(r.Context(), followerOf(r), app.PositionInput{Lat: in.Lat, Lng: in.Lng, Accuracy: in.Accuracy, Time: in.Time})
	if err != nil {
		return PositionResult{}, err
	}
	out := PositionResult{Fired: make([]Fired, len(res.Fired)), Note: res.Note}
	for i, f := range res.Fired {
		e := f.Engagement
		out.Fired[i] = Fired{EngagementID: e.ID, ChannelID: e.ChannelID, Kind: e.Kind, Name: e.Name, Outcome: f.Outcome, Points: f.Points}
	}
	return out, nil
}
