package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

func (h *Handler) locationRoutes() []httpx.Route {
	r := featureRoutes("/admin/locations", httpx.Partner, regulars.FeatureLocations)
	// The engagement's kind is checked by the app on top.
	e := featureRoutes("/admin/engagements/{id}", httpx.Partner, regulars.FeatureLocations)
	return []httpx.Route{
		r("GET", "", regulars.LevelView, h.locations),
		r("GET", "/new", regulars.LevelManage, h.newLocation),
		r("POST", "", regulars.LevelManage, h.createLocation),
		r("GET", "/search", regulars.LevelUpdate, h.searchAddress),
		r("GET", "/{id}", regulars.LevelView, h.editLocation),
		r("POST", "/{id}", regulars.LevelUpdate, h.updateLocation),
		r("POST", "/{id}/delete", regulars.LevelManage, h.deleteLocation),
		r("POST", "/{id}/target", regulars.LevelUpdate, h.targetLocation),
		r("POST", "/{id}/untarget", regulars.LevelUpdate, h.untargetLocation),

		// The locations panel of engagement pages (loaded with htmx).
		e("GET", "/locations", regulars.LevelView, h.engagementLocations),
		e("POST", "/locations", regulars.LevelUpdate, h.engagementTarget),
		e("POST", "/locations/remove", regulars.LevelUpdate, h.engagementUntarget),
		e("POST", "/cooldown", regulars.LevelUpdate, h.engagementCooldown),
	}
}

// mapData is what the map script reads from data attributes.
type mapData struct {
	Tiles       string
	Attribution string
	Points      string // JSON: [{id, name, lat, lng, radius, url}]
}

type mapPoint struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Radius float64 `json:"radius"`
	URL    string  `json:"url"`
}

func (h *Handler) mapOf(list []*regulars.Location) mapData {
	points := make([]mapPoint, len(list))
	for i, l := range list {
		points[i] = mapPoint{l.ID, l.Name, l.Lat, l.Lng, l.Radius, "/admin/locations/" + strconv.FormatInt(l.ID, 10)}
	}
	b, _ := json.Marshal(points)
	return mapData{Tiles: h.opts.TileURL, Attribution: h.opts.TileAttribution, Points: string(b)}
}

type locationsData struct {
	Locations []*app.LocationSummary
	Stores    int
	Targeting int
	Map       mapData
	CanManage bool
}

func (h *Handler) locations(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	list, err := h.app.Locations(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	d := &locationsData{Locations: list, CanManage: a.Can(regulars.FeatureLocations, regulars.LevelManage)}
	plain := make([]*regulars.Location, len(list))
	for i, l := range list {
		plain[i] = l.Location
		if l.IsStore() {
			d.Stores++
		} else {
			d.Targeting++
		}
	}
	d.Map = h.mapOf(plain)
	h.render(w, r, http.StatusOK, "locations", &Page{Title: "Locations", Data: d})
}

// locationFormData feeds the location form and, for an existing location,
// its targeting panel.
type locationFormData struct {
	Location  *regulars.Location
	Map       mapData
	Search    bool // an address search is configured
	ReadOnly  bool
	CanDelete bool

	Targets   []*regulars.Engagement // engagements that target it
	Available []*regulars.Engagement // engagements it could be attached to
	CanTarget bool
}

// Value returns the value to show in a field: the submitted one after a
// failed save, else the location's.
func (d *locationFormData) Value(f *Form, field string) string {
	if f.Submitted() {
		return f.Get(field)
	}
	l := d.Location
	if l == nil {
		return ""
	}
	switch field {
	case "name":
		return l.Name
	case "address":
		return l.Address
	case "lat":
		return strconv.FormatFloat(l.Lat, 'f', -1, 64)
	case "lng":
		return strconv.FormatFloat(l.Lng, 'f', -1, 64)
	case "radius":
		if l.Radius == 0 {
			return ""
		}
		return strconv.FormatFloat(l.Radius, 'f', -1, 64)
	}
	return ""
}

func (h *Handler) locationForm(r *http.Request, l *regulars.Location) (*Page, error) {
	a := actorFrom(r.Context())
	ctx := r.Context()
	d := &locationFormData{Location: l, Search: h.app.Geocoder != nil}
	title := "New location"
	var all []*regulars.Location
	if l != nil {
		title = l.Name
		d.ReadOnly = !a.Can(regulars.FeatureLocations, regulars.LevelUpdate)
		d.CanDelete = a.Can(regulars.FeatureLocations, regulars.LevelManage)
		all = []*regulars.Location{l}
		targets, err := h.app.LocationEngagements(ctx, a, l.ID)
		if err != nil {
			return nil, err
		}
		d.Targets = targets
		if !l.IsStore() && !d.ReadOnly {
			attached := map[int64]bool{}
			for _, e := range targets {
				attached[e.ID] = true
			}
			engagements, err := h.app.DB.Engagements(ctx, a.PartnerID(), "", "")
			if err != nil {
				return nil, err
			}
			for _, e := range engagements {
				switch e.Kind {
				case regulars.KindMessage, regulars.KindCoupon, regulars.KindLoyalty:
				default:
					continue
				}
				if e.Status != regulars.EngagementFinished && !attached[e.ID] && a.Can(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate) {
					d.Available = append(d.Available, e)
				}
			}
			d.CanTarget = true
		}
	}
	d.Map = h.mapOf(all)
	return &Page{Title: title, Data: d, Active: "/admin/locations"}, nil
}

func locationInput(r *http.Request) regulars.LocationInput {
	return regulars.LocationInput{
		Name: r.PostFormValue("name"), Address: r.PostFormValue("address"),
		Lat: r.PostFormValue("lat"), Lng: r.PostFormValue("lng"), Radius: r.PostFormValue("radius"),
	}
}

func (h *Handler) newLocation(w http.ResponseWriter, r *http.Request) {
	p, err := h.locationForm(r, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "location_form", p)
}

// savedLocation redirects after a save, with the radius advice when the
// location needs it.
func (h *Handler) savedLocation(w http.ResponseWriter, r *http.Request, l *regulars.Location, verb string) {
	to := "/admin/locations/" + strconv.FormatInt(l.ID, 10)
	if warn := l.Warning(); warn != "" {
		h.redirect(w, r, to, "warning", l.Name+" "+verb+". "+warn)
		return
	}
	h.redirect(w, r, to, "success", l.Name+" "+verb+".")
}

func (h *Handler) createLocation(w http.ResponseWriter, r *http.Request) {
	l, err := h.app.CreateLocation(r.Context(), actorFrom(r.Context()), locationInput(r))
	if err != nil {
		p, perr := h.locationForm(r, nil)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "location_form", p)
		return
	}
	h.savedLocation(w, r, l, "created")
}

func (h *Handler) loadLocation(w http.ResponseWriter, r *http.Request) *regulars.Location {
	return loadByID(h, w, r, h.app.Location)
}

func (h *Handler) editLocation(w http.ResponseWriter, r *http.Request) {
	l := h.loadLocation(w, r)
	if l == nil {
		return
	}
	p, err := h.locationForm(r, l)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "location_form", p)
}

func (h *Handler) updateLocation(w http.ResponseWriter, r *http.Request) {
	old := h.loadLocation(w, r)
	if old == nil {
		return
	}
	l, err := h.app.UpdateLocation(r.Context(), actorFrom(r.Context()), old.ID, locationInput(r))
	if err != nil {
		p, perr := h.locationForm(r, old)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "location_form", p)
		return
	}
	h.savedLocation(w, r, l, "saved")
}

func (h *Handler) deleteLocation(w http.ResponseWriter, r *http.Request) {
	l := h.loadLocation(w, r)
	if l == nil {
		return
	}
	if err := h.app.DeleteLocation(r.Context(), actorFrom(r.Context()), l.ID); err != nil {
		if regulars.ErrorCode(err) == regulars.ECONFLICT {
			h.redirect(w, r, "/admin/locations/"+strconv.FormatInt(l.ID, 10), "error", regulars.ErrorMessage(err))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/locations", "success", l.Name+" deleted.")
}

func (h *Handler) targetLocation(w http.ResponseWriter, r *http.Request) {
	l := h.loadLocation(w, r)
	if l == nil {
		return
	}
	to := "/admin/locations/" + strconv.FormatInt(l.ID, 10)
	eid := formInt(r, "engagement_id")
	if eid <= 0 {
		h.redirect(w, r, to, "error", "Choose an engagement to target this location.")
		return
	}
	if err := h.app.TargetLocation(r.Context(), actorFrom(r.Context()), eid, l.ID); err != nil {
		if regulars.ErrorCode(err) == regulars.EINVALID || regulars.ErrorCode(err) == regulars.ENOTFOUND {
			h.redirect(w, r, to, "error", regulars.ErrorMessage(err))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, to, "success", "The engagement now targets "+l.Name+".")
}

func (h *Handler) untargetLocation(w http.ResponseWriter, r *http.Request) {
	l := h.loadLocation(w, r)
	if l == nil {
		return
	}
	to := "/admin/locations/" + strconv.FormatInt(l.ID, 10)
	if err := h.app.UntargetLocation(r.Context(), actorFrom(r.Context()), formInt(r, "engagement_id"), l.ID); err != nil {
		if regulars.ErrorCode(err) == regulars.ENOTFOUND { // the engagement: the location was found above
			h.redirect(w, r, to, "error", "That engagement does not exist any more.")
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, to, "success", "The engagement no longer targets "+l.Name+".")
}

// searchAddress answers the form's address search with JSON:
// {"results": [{"name", "lat", "lng"}]} or {"error": "…"}.
func (h *Handler) searchAddress(w http.ResponseWriter, r *http.Request) {
	places, err := h.app.Geocode(r.Context(), actorFrom(r.Context()), r.URL.Query().Get("q"), r.Header.Get("Accept-Language"))
	status, body := http.StatusOK, map[string]any{"results": places}
	switch {
	case errors.Is(err, app.ErrSearchUnavailable):
		status, body = http.StatusServiceUnavailable, map[string]any{"error": "Address search is unavailable right now. Type the coordinates or drag the pin instead."}
	case err != nil && regulars.ErrorCode(err) == regulars.EINTERNAL:
		h.serverError(w, r, err)
		return
	case err != nil:
		msg := regulars.ErrorMessage(err)
		if f := regulars.FieldErrors(err); f["q"] != "" {
			msg = f["q"]
		}
		status, body = statusOf(regulars.ErrorCode(err)), map[string]any{"error": msg}
	case len(places) == 0:
		body["results"] = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

// engagementBack is the engagement page a panel form returns to.
func engagementBack(r *http.Request) string {
	if b := r.FormValue("back"); strings.HasPrefix(b, "/admin/") && !strings.HasPrefix(b, "//") && !strings.ContainsAny(b, "\\\r\n") {
		return b
	}
	return "/admin/locations"
}

// engagementLocations is the locations panel of an engagement page:
//
//	<section hx-get="/admin/engagements/{id}/locations?back=…" hx-trigger="load"></section>
func (h *Handler) engagementLocations(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	t, err := h.app.TargetsOf(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.renderPart(w, r, "location_form", "engagement_locations", &Page{Data: map[string]any{"T": t, "Back": engagementBack(r)}})
}

func (h *Handler) engagementTarget(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.app.TargetsOf(r.Context(), actorFrom(r.Context()), id); err != nil {
		h.fail(w, r, err, "", nil) // another partner's engagement: 404
		return
	}
	back := engagementBack(r)
	lid := formInt(r, "location_id")
	if lid <= 0 {
		h.redirect(w, r, back, "error", "Choose a targeting location.")
		return
	}
	err := h.app.TargetLocation(r.Context(), actorFrom(r.Context()), id, lid)
	switch code := regulars.ErrorCode(err); {
	case err == nil:
		h.redirect(w, r, back, "success", "The location now fires this engagement.")
	case code == regulars.EINVALID, code == regulars.ECONFLICT:
		h.redirect(w, r, back, "error", regulars.ErrorMessage(err))
	default:
		h.fail(w, r, err, "", nil)
	}
}

func (h *Handler) engagementUntarget(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.app.TargetsOf(r.Context(), actorFrom(r.Context()), id); err != nil {
		h.fail(w, r, err, "", nil) // another partner's engagement: 404
		return
	}
	back := engagementBack(r)
	err := h.app.UntargetLocation(r.Context(), actorFrom(r.Context()), id, formInt(r, "location_id"))
	switch {
	case err == nil:
		h.redirect(w, r, back, "success", "The location no longer fires this engagement.")
	case regulars.ErrorCode(err) == regulars.ENOTFOUND && formInt(r, "location_id") <= 0:
		h.redirect(w, r, back, "error", "Choose a location to remove.")
	default:
		h.fail(w, r, err, "", nil)
	}
}

func (h *Handler) engagementCooldown(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	back := engagementBack(r)
	e, err := h.app.SetLocationCooldown(r.Context(), actorFrom(r.Context()), id, r.PostFormValue("cooldown_hours"))
	switch code := regulars.ErrorCode(err); {
	case err == nil:
		h.redirect(w, r, back, "success", e.Name+" fires at most once every "+strconv.FormatInt(e.CooldownSeconds/3600, 10)+" hours per follower.")
	case code == regulars.EINVALID:
		h.redirect(w, r, back, "error", regulars.FieldErrors(err)["cooldown_hours"])
	case code == regulars.ECONFLICT:
		h.redirect(w, r, back, "error", regulars.ErrorMessage(err))
	default:
		h.fail(w, r, err, "", nil)
	}
}
