package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
	"regulars/store"
)

// loyaltyRoutes are the pages of channels, messages, coupons, loyalty
// programs, the till (redemption and purchases), followers' ledgers and
// the media files they show.
func (h *Handler) loyaltyRoutes() []httpx.Route {
	const (
		partner = httpx.Partner
		view    = regulars.LevelView
		update  = regulars.LevelUpdate
		manage  = regulars.LevelManage
	)
	r := func(method, pattern string, f regulars.Feature, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Side: partner, Feature: f, Level: l, Handler: fn}
	}
	ch, co, lo := regulars.FeatureChannels, regulars.FeatureCoupons, regulars.FeatureLoyalty
	routes := []httpx.Route{
		{Method: "GET", Pattern: "/media/{name}", Side: httpx.Public, Handler: h.media},
		{Method: "GET", Pattern: "/app", Side: httpx.Public, Handler: h.followerAppHome},
		{Method: "GET", Pattern: "/app/{$}", Side: httpx.Public, Handler: h.followerApp},
		{Method: "GET", Pattern: "/app/{file}", Side: httpx.Public, Handler: h.followerApp},
		r("GET", "/admin/channels", ch, view, h.channels),
		r("GET", "/admin/channels/new", ch, manage, h.newChannel),
		r("POST", "/admin/channels", ch, manage, h.createChannel),
		r("GET", "/admin/channels/{id}", ch, view, h.editChannel),
		r("POST", "/admin/channels/{id}", ch, update, h.updateChannel),
		r("POST", "/admin/channels/{id}/publish", ch, update, h.publishChannel),
		r("POST", "/admin/channels/{id}/logo", ch, update, h.channelLogo),
		r("GET", "/admin/channels/{id}/preview", ch, view, h.channelPreview),
		r("GET", "/admin/coupons/redeem", co, update, h.till),
		r("POST", "/admin/coupons/redeem", co, update, h.tillRedeem),
		r("POST", "/admin/loyalty/{id}/purchase", lo, update, h.recordPurchase),
		r("GET", "/admin/followers", lo, view, h.findFollower),
		r("GET", "/admin/followers/{id}", lo, view, h.follower),
		r("POST", "/admin/followers/{id}/adjust", lo, update, h.adjustPoints),
	}
	for _, k := range engagementKinds {
		f := regulars.FeatureOfKind(k.Kind)
		base := "/admin/" + k.Path
		routes = append(routes,
			r("GET", base, f, view, h.engagements(k)),
			r("GET", base+"/new", f, manage, h.newEngagement(k)),
			r("POST", base, f, manage, h.createEngagement(k)),
			r("GET", base+"/{id}", f, view, h.editEngagement(k)),
			r("POST", base+"/{id}", f, update, h.updateEngagement(k)),
			r("POST", base+"/{id}/publish", f, update, h.publishEngagement(k)),
			r("POST", base+"/{id}/finish", f, update, h.finishEngagement(k)),
		)
	}
	return routes
}

// engagementKind describes the admin pages of one engagement kind.
type engagementKind struct {
	Kind, Path, Title, One, Help string
}

var engagementKinds = []engagementKind{
	{regulars.KindMessage, "messages", "Messages", "message", "Messages land in each follower's channel thread and notification feed, once or on a schedule."},
	{regulars.KindCoupon, "coupons", "Coupons", "coupon", "Followers enable a coupon, then redeem it: with a click, at the till with their end-user ID, or with a 3-minute proof screen."},
	{regulars.KindLoyalty, "loyalty", "Loyalty programs", "loyalty program", "Points to earn and spend, levels to climb, or both."},
}

func (h *Handler) media(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, err := h.app.OpenMedia(r.Context(), name)
	if err != nil {
		if regulars.ErrorCode(err) != regulars.ENOTFOUND {
			h.app.Log.Error("opening a picture", "name", name, "err", err)
		}
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	http.ServeContent(w, r, name, time.Time{}, f)
}

// ---- Channels ----

func (h *Handler) channels(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	list, err := h.app.StaffChannels(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	counts := map[int64]int64{}
	for _, c := range list {
		if counts[c.ID], err = h.app.DB.CountFollowers(r.Context(), c.ID); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
	}
	h.render(w, r, http.StatusOK, "channels", &Page{Title: "Channels", Data: map[string]any{"Channels": list, "Followers": counts,
		"CanManage": a.Can(regulars.FeatureChannels, regulars.LevelManage)}})
}

func channelInput(r *http.Request) app.ChannelInput {
	return app.ChannelInput{Name: r.PostFormValue("name"), Description: r.PostFormValue("description"), Welcome: r.PostFormValue("welcome"),
		ChatEnabled: r.PostFormValue("chat_enabled") != ""}
}

func (h *Handler) newChannel(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "channel_form", &Page{Title: "New channel", Active: "/admin/channels", Data: map[string]any{}})
}

func (h *Handler) createChannel(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	c, err := h.app.CreateChannel(r.Context(), a, channelInput(r))
	if err != nil {
		h.fail(w, r, err, "channel_form", &Page{Title: "New channel", Active: "/admin/channels", Data: map[string]any{}})
		return
	}
	h.redirect(w, r, "/admin/channels/"+strconv.FormatInt(c.ID, 10), "success", "Channel "+c.Name+" created as a draft. Add a logo, then publish it.")
}

func (h *Handler) loadChannel(w http.ResponseWriter, r *http.Request) *regulars.Channel {
	return loadByID(h, w, r, h.app.StaffChannel)
}

func (h *Handler) channelPage(r *http.Request, c *regulars.Channel) (*Page, error) {
	a := actorFrom(r.Context())
	n, err := h.app.DB.CountFollowers(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	return &Page{Title: c.Name, Active: "/admin/channels", Data: map[string]any{"Channel": c, "Followers": n,
		"CanUpdate": a.Can(regulars.FeatureChannels, regulars.LevelUpdate)}}, nil
}

func (h *Handler) editChannel(w http.ResponseWriter, r *http.Request) {
	c := h.loadChannel(w, r)
	if c == nil {
		return
	}
	p, err := h.channelPage(r, c)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "channel_form", p)
}

func (h *Handler) updateChannel(w http.ResponseWriter, r *http.Request) {
	c := h.loadChannel(w, r)
	if c == nil {
		return
	}
	if _, err := h.app.UpdateChannel(r.Context(), actorFrom(r.Context()), c.ID, channelInput(r)); err != nil {
		p, perr := h.channelPage(r, c)
		if perr != nil {
			h.fail(w, r, perr, "", nil)
			return
		}
		h.fail(w, r, err, "channel_form", p)
		return
	}
	h.redirect(w, r, "/admin/channels/"+strconv.FormatInt(c.ID, 10), "success", "Saved.")
}

func (h *Handler) publishChannel(w http.ResponseWriter, r *http.Request) {
	c := h.loadChannel(w, r)
	if c == nil {
		return
	}
	if _, err := h.app.PublishChannel(r.Context(), actorFrom(r.Context()), c.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/channels/"+strconv.FormatInt(c.ID, 10), "success", c.Name+" is published: followers can find and follow it.")
}

// uploaded reads a file field of a multipart form (at most the image limit).
func uploaded(r *http.Request, field string) ([]byte, bool) {
	if err := r.ParseMultipartForm(app.MaxImageBytes + 64<<10); err != nil {
		return nil, false
	}
	f, _, err := r.FormFile(field)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, app.MaxImageBytes+1))
	return b, err == nil
}

func (h *Handler) channelLogo(w http.ResponseWriter, r *http.Request) {
	c := h.loadChannel(w, r)
	if c == nil {
		return
	}
	data, _ := uploaded(r, "logo")
	if _, err := h.app.SetChannelLogo(r.Context(), actorFrom(r.Context()), c.ID, data); err != nil {
		if regulars.ErrorCode(err) == regulars.EINVALID {
			h.redirect(w, r, "/admin/channels/"+strconv.FormatInt(c.ID, 10), "error", regulars.FieldErrors(err)["logo"])
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/channels/"+strconv.FormatInt(c.ID, 10), "success", "Logo uploaded.")
}

func (h *Handler) channelPreview(w http.ResponseWriter, r *http.Request) {
	c := h.loadChannel(w, r)
	if c == nil {
		return
	}
	list, err := h.app.DB.ActiveChannelEngagements(r.Context(), c.ID, "")
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	var live []*regulars.Engagement
	for _, e := range list {
		if app.Live(e, time.Now()) && e.Kind != regulars.KindMessage {
			live = append(live, e)
		}
	}
	h.render(w, r, http.StatusOK, "channel_preview", &Page{Title: c.Name, Active: "/admin/channels", Data: map[string]any{"Channel": c, "Engagements": live}})
}

// ---- Engagements ----

type engagementPage struct {
	Kind      engagementKind
	E         *regulars.Engagement
	Channels  []*regulars.Channel
	Programs  []*regulars.Engagement
	Runs      []*store.DeliveryRun
	Members   []*store.Member
	Q         string
	CanUpdate bool
	CanManage bool
	LevelRows []app.LevelInput
	Now       time.Time
	V         map[string]string // the saved values, by form field
	Editable  bool              // not finished, and the role may update
	Dated     bool              // dates and channel may change (a draft)
}

// V returns the form values of a saved engagement (empty for a new one).
func engagementValues(e *regulars.Engagement) map[string]string {
	v := map[string]string{"per_follower": "1", "recurring": "once", "program_kind": "points", "redemption_type": "click", "point_singular": "point", "point_plural": "points"}
	if e == nil {
		return v
	}
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02T15:04")
	}
	v["channel"], v["name"], v["description"], v["starts_at"], v["ends_at"] = i(e.ChannelID), e.Name, e.Description, when(e.StartsAt), when(e.EndsAt)
	if m := e.Message; m != nil {
		v["text"], v["link"], v["recurring"], v["time_of_day"] = m.Text, m.Link, m.Recurring, m.TimeOfDay
	}
	if c := e.Coupon; c != nil {
		v["redemption_type"], v["program"], v["point_cost"], v["min_level"], v["auto_threshold"] = c.RedemptionType, i(c.ProgramID), i(c.PointCost), strconv.Itoa(c.MinLevel), i(c.AutoThreshold)
		v["stock"], v["per_follower"], v["valid_days"] = i(c.Stock), i(c.PerFollower), i(c.ValidDays)
	}
	if l := e.Loyalty; l != nil {
		v["program_kind"], v["point_singular"], v["point_plural"], v["no_new_members_at"] = l.ProgramKind, l.PointSingular, l.PointPlural, when(l.NoNewMembersAt)
		v["expiry_days"], v["points_on_follow"], v["points_on_join"], v["points_per_visit"] = i(l.ExpiryDays), i(l.PointsOnFollow), i(l.PointsOnJoin), i(l.PointsPerVisit)
		v["points_per_amount"], v["points_on_location"] = i(l.PointsPerAmount), i(l.PointsOnLocation)
	}
	return v
}

// Val returns a field's value: the submitted one after a failed save, else
// the saved one.
func (d *engagementPage) Val(f *Form, field string) string {
	if f.Submitted() {
		return f.Get(field)
	}
	return d.V[field]
}

func (h *Handler) engagementPage(r *http.Request, k engagementKind, e *regulars.Engagement) (*Page, error) {
	ctx, a := r.Context(), actorFrom(r.Context())
	f := regulars.FeatureOfKind(k.Kind)
	d := &engagementPage{Kind: k, E: e, CanUpdate: a.Can(f, regulars.LevelUpdate), CanManage: a.Can(f, regulars.LevelManage), Now: time.Now(), V: engagementValues(e)}
	d.Editable = (e == nil && d.CanManage) || (e != nil && e.Status != regulars.EngagementFinished && d.CanUpdate)
	d.Dated = d.Editable && (e == nil || e.Status == regulars.EngagementDraft)
	var err error
	if d.Channels, err = h.app.DB.Channels(ctx, a.PartnerID()); err != nil {
		return nil, err
	}
	if e == nil && len(d.Channels) == 1 {
		// One channel: a new engagement can only be for it.
		d.V["channel"] = strconv.FormatInt(d.Channels[0].ID, 10)
	}
	if k.Kind == regulars.KindCoupon {
		if d.Programs, err = h.app.DB.Engagements(ctx, a.PartnerID(), regulars.KindLoyalty, ""); err != nil {
			return nil, err
		}
	}
	if k.Kind == regulars.KindLoyalty {
		rows := []app.LevelInput{}
		if e != nil && e.Loyalty != nil {
			for _, l := range e.Loyalty.Levels {
				rows = append(rows, app.LevelInput{Name: l.Name, Threshold: strconv.FormatInt(l.Threshold, 10)})
			}
		}
		for want := max(len(rows)+2, 4); len(rows) < want && len(rows) < 10; {
			rows = append(rows, app.LevelInput{})
		}
		d.LevelRows = rows
	}
	title := "New " + k.One
	if e != nil {
		title = e.Name
		switch k.Kind {
		case regulars.KindMessage:
			if d.Runs, err = h.app.DeliveryRuns(ctx, a, e); err != nil {
				return nil, err
			}
		case regulars.KindLoyalty:
			d.Q = r.URL.Query().Get("q")
			if d.Members, err = h.app.DB.Members(ctx, e.ID, d.Q, 50); err != nil {
				return nil, err
			}
		}
	}
	return &Page{Title: title, Active: "/admin/" + k.Path, Data: d}, nil
}

func (h *Handler) engagements(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, a := r.Context(), actorFrom(r.Context())
		list, err := h.app.StaffEngagements(ctx, a, k.Kind, r.URL.Query().Get("status"))
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		channels, err := h.app.DB.Channels(ctx, a.PartnerID())
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		byID := map[int64]*regulars.Channel{}
		for _, c := range channels {
			byID[c.ID] = c
		}
		extra := map[int64]int64{}
		for _, e := range list {
			if k.Kind == regulars.KindLoyalty {
				if extra[e.ID], err = h.app.DB.CountMembers(ctx, e.ID); err != nil {
					h.fail(w, r, err, "", nil)
					return
				}
			}
		}
		h.render(w, r, http.StatusOK, "engagements", &Page{Title: k.Title, Data: map[string]any{"Kind": k, "List": list, "Channels": byID, "Members": extra,
			"Status": r.URL.Query().Get("status"), "CanManage": a.Can(regulars.FeatureOfKind(k.Kind), regulars.LevelManage),
			"CanRedeem": a.Can(regulars.FeatureCoupons, regulars.LevelUpdate), "HasChannels": len(channels) > 0}})
	}
}

// engagementInput reads the engagement form (multipart when it carries an
// image).
func (h *Handler) engagementInput(r *http.Request) (app.EngagementInput, error) {
	var image []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if data, ok := uploaded(r, "image"); ok && len(data) > 0 {
			image = data
		}
	}
	v := func(k string) string { return r.FormValue(k) }
	in := app.EngagementInput{ChannelID: formInt(r, "channel"), Name: v("name"), Description: v("description"), StartsAt: v("starts_at"), EndsAt: v("ends_at"), Image: image,
		Text: v("text"), Link: v("link"), Recurring: v("recurring"), TimeOfDay: v("time_of_day"),
		RedemptionType: v("redemption_type"), ProgramID: formInt(r, "program"), PointCost: v("point_cost"), MinLevel: v("min_level"), AutoThreshold: v("auto_threshold"),
		Stock: v("stock"), PerFollower: v("per_follower"), ValidDays: v("valid_days"),
		ProgramKind: v("program_kind"), PointSingular: v("point_singular"), PointPlural: v("point_plural"), NoNewMembersAt: v("no_new_members_at"),
		ExpiryDays: v("expiry_days"), PointsOnFollow: v("points_on_follow"), PointsOnJoin: v("points_on_join"), PointsPerVisit: v("points_per_visit"),
		PointsPerAmount: v("points_per_amount"), PointsOnLocation: v("points_on_location")}
	if in.ChannelID == 0 {
		in.ChannelID, _ = strconv.ParseInt(v("channel"), 10, 64)
	}
	if in.ProgramID == 0 {
		in.ProgramID, _ = strconv.ParseInt(v("program"), 10, 64)
	}
	for i := 0; i < 20; i++ {
		n, t := v("levels."+strconv.Itoa(i)+".name"), v("levels."+strconv.Itoa(i)+".threshold")
		if i >= 8 && n == "" && t == "" {
			break
		}
		in.Levels = append(in.Levels, app.LevelInput{Name: n, Threshold: t})
	}
	return in, nil
}

func (h *Handler) newEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.engagementPage(r, k, nil)
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		h.render(w, r, http.StatusOK, "engagement_form", p)
	}
}

func (h *Handler) createEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a := actorFrom(r.Context())
		in, err := h.engagementInput(r)
		var e *regulars.Engagement
		if err == nil {
			e, err = h.app.CreateEngagement(r.Context(), a, k.Kind, in)
		}
		if err != nil {
			p, perr := h.engagementPage(r, k, nil)
			if perr != nil {
				h.fail(w, r, perr, "", nil)
				return
			}
			h.formFail(w, r, err, "engagement_form", p)
			return
		}
		h.redirect(w, r, "/admin/"+k.Path+"/"+strconv.FormatInt(e.ID, 10), "success", "Saved as a draft. Publish it when it is ready.")
	}
}

// formFail re-renders a multipart form with its values; so too when what
// it uploads does not fit the partner's storage, or lost a race with
// another upload.
func (h *Handler) formFail(w http.ResponseWriter, r *http.Request, err error, page string, p *Page) {
	if code := regulars.ErrorCode(err); (code == regulars.EINVALID || code == regulars.ELIMIT || code == regulars.ECONFLICT) && r.MultipartForm != nil {
		p.Form = &Form{Values: r.MultipartForm.Value, Errors: regulars.FieldErrors(err), Message: regulars.ErrorMessage(err)}
		h.render(w, r, statusOf(code), page, p)
		return
	}
	h.fail(w, r, err, page, p)
}

func (h *Handler) loadEngagement(w http.ResponseWriter, r *http.Request, k engagementKind) *regulars.Engagement {
	return loadByID(h, w, r, func(ctx context.Context, a *app.Actor, id int64) (*regulars.Engagement, error) {
		return h.app.StaffEngagement(ctx, a, k.Kind, id)
	})
}

func (h *Handler) editEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e := h.loadEngagement(w, r, k)
		if e == nil {
			return
		}
		p, err := h.engagementPage(r, k, e)
		if err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		if r.Header.Get("HX-Request") == "true" && r.URL.Query().Get("part") == "runs" {
			h.renderPart(w, r, "engagement_form", "runs", p)
			return
		}
		h.render(w, r, http.StatusOK, "engagement_form", p)
	}
}

func (h *Handler) updateEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e := h.loadEngagement(w, r, k)
		if e == nil {
			return
		}
		in, err := h.engagementInput(r)
		if err == nil {
			_, err = h.app.UpdateEngagement(r.Context(), actorFrom(r.Context()), k.Kind, e.ID, in)
		}
		if err != nil {
			p, perr := h.engagementPage(r, k, e)
			if perr != nil {
				h.fail(w, r, perr, "", nil)
				return
			}
			h.formFail(w, r, err, "engagement_form", p)
			return
		}
		h.redirect(w, r, "/admin/"+k.Path+"/"+strconv.FormatInt(e.ID, 10), "success", "Saved.")
	}
}

func (h *Handler) publishEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e := h.loadEngagement(w, r, k)
		if e == nil {
			return
		}
		if _, err := h.app.PublishEngagement(r.Context(), actorFrom(r.Context()), k.Kind, e.ID); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		msg := e.Name + " is live."
		if k.Kind == regulars.KindMessage {
			msg = e.Name + " is published: delivery runs in the background, follow its progress below."
		}
		h.redirect(w, r, "/admin/"+k.Path+"/"+strconv.FormatInt(e.ID, 10), "success", msg)
	}
}

func (h *Handler) finishEngagement(k engagementKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		e := h.loadEngagement(w, r, k)
		if e == nil {
			return
		}
		if _, err := h.app.FinishEngagement(r.Context(), actorFrom(r.Context()), k.Kind, e.ID); err != nil {
			h.fail(w, r, err, "", nil)
			return
		}
		h.redirect(w, r, "/admin/"+k.Path+"/"+strconv.FormatInt(e.ID, 10), "success", e.Name+" is finished and archived.")
	}
}

// ---- The till: redemption and purchases ----

func (h *Handler) till(w http.ResponseWriter, r *http.Request) {
	euid := strings.TrimSpace(r.URL.Query().Get("euid"))
	p := &Page{Title: "Redeem a coupon", Active: "/admin/coupons", Form: &Form{Values: r.URL.Query()}, Data: map[string]any{}}
	if euid != "" {
		tf, err := h.app.LookupAtTill(r.Context(), actorFrom(r.Context()), euid)
		if err != nil {
			if regulars.ErrorCode(err) == regulars.EINVALID {
				p.Form.Errors = regulars.FieldErrors(err)
				h.render(w, r, http.StatusOK, "till", p)
				return
			}
			h.fail(w, r, err, "", nil)
			return
		}
		p.Data = map[string]any{"Found": tf}
	}
	h.render(w, r, http.StatusOK, "till", p)
}

func (h *Handler) tillRedeem(w http.ResponseWriter, r *http.Request) {
	euid := r.PostFormValue("euid")
	back := "/admin/coupons/redeem?euid=" + urlQuery(app.NormalizeEndUserID(euid))
	act, f, err := h.app.RedeemAtTill(r.Context(), actorFrom(r.Context()), formInt(r, "coupon"), euid)
	if err != nil {
		if c := regulars.ErrorCode(err); c == regulars.ECONFLICT || c == regulars.EINVALID {
			msg := regulars.ErrorMessage(err)
			for _, m := range regulars.FieldErrors(err) {
				msg = m
			}
			h.redirect(w, r, back, "error", "Not redeemed: "+msg)
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	_ = act
	h.redirect(w, r, back, "success", "Redeemed for "+f.EndUserID+". Hand over the reward.")
}

func (h *Handler) recordPurchase(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	back := "/admin/loyalty/" + strconv.FormatInt(id, 10)
	m, pts, err := h.app.RecordPurchase(r.Context(), actorFrom(r.Context()), id, app.PurchaseInput{EndUserID: r.PostFormValue("euid"), Amount: r.PostFormValue("amount")})
	if err != nil {
		if c := regulars.ErrorCode(err); c == regulars.EINVALID {
			msg := ""
			for _, v := range regulars.FieldErrors(err) {
				msg += v + " "
			}
			h.redirect(w, r, back, "error", "Not recorded: "+strings.TrimSpace(msg))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, back, "success", "Recorded: +"+strconv.FormatInt(pts, 10)+" points, balance "+strconv.FormatInt(m.CurrentPoints, 10)+".")
}

// ---- Followers ----

func (h *Handler) findFollower(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	euid := app.NormalizeEndUserID(r.URL.Query().Get("euid"))
	p := &Page{Title: "Find a follower", Active: "/admin/loyalty", Form: &Form{Values: r.URL.Query()}}
	if euid != "" {
		f, err := h.app.StaffFollower(r.Context(), a, euid)
		if err == nil {
			http.Redirect(w, r, "/admin/followers/"+strconv.FormatInt(f.ID, 10), http.StatusSeeOther)
			return
		}
		if regulars.ErrorCode(err) != regulars.EINVALID {
			h.fail(w, r, err, "", nil)
			return
		}
		p.Form.Errors = regulars.FieldErrors(err)
	}
	h.render(w, r, http.StatusOK, "follower_find", p)
}

func (h *Handler) follower(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actorFrom(r.Context())
	v, err := h.app.StaffFollowerLedgers(r.Context(), a, id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "follower", &Page{Title: v.Follower.EndUserID, Active: "/admin/loyalty", Data: map[string]any{"V": v,
		"CanUpdate": a.Can(regulars.FeatureLoyalty, regulars.LevelUpdate), "Now": time.Now()}})
}

func (h *Handler) adjustPoints(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actorFrom(r.Context())
	if _, err := h.app.StaffFollowerLedgers(r.Context(), a, id); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	back := "/admin/followers/" + strconv.FormatInt(id, 10)
	points, perr := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(r.PostFormValue("points"), "+")), 10, 64)
	if perr != nil {
		h.redirect(w, r, back, "error", "Not saved: enter the points as a whole number, e.g. 50 or -20.")
		return
	}
	award := r.PostFormValue("kind") == "award"
	m, err := h.app.AdjustPoints(r.Context(), a, formInt(r, "program"), id, points, r.PostFormValue("reason"), award)
	if err != nil {
		if regulars.ErrorCode(err) == regulars.EINVALID {
			msg := ""
			for _, v := range regulars.FieldErrors(err) {
				msg += v + " "
			}
			h.redirect(w, r, back, "error", "Not saved: "+strings.TrimSpace(msg))
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, back, "success", "Saved. The balance is now "+strconv.FormatInt(m.CurrentPoints, 10)+".")
}

// renderPart writes one named block of a page (htmx partial updates).
func (h *Handler) renderPart(w http.ResponseWriter, r *http.Request, page, block string, p *Page) {
	t, ok := h.pages[page]
	if !ok {
		h.serverError(w, r, nil)
		return
	}
	p.Actor = actorFrom(r.Context())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := t.ExecuteTemplate(w, block, p); err != nil {
		h.log.Error("partial", "page", page, "block", block, "err", err)
	}
}
