package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// segmentRoutes are the pages of segmentations and custom lists, and the
// targeting panel of engagement pages.
func (h *Handler) segmentRoutes() []httpx.Route {
	r := func(method, pattern string, f regulars.Feature, l regulars.Level, fn http.HandlerFunc) httpx.Route {
		return httpx.Route{Method: method, Pattern: pattern, Side: httpx.Partner, Feature: f, Level: l, Handler: fn}
	}
	seg, lists := regulars.FeatureSegmentations, regulars.FeatureCustomLists
	view, update, manage := regulars.LevelView, regulars.LevelUpdate, regulars.LevelManage
	return []httpx.Route{
		r("GET", "/admin/segmentations", seg, view, h.segmentations),
		r("GET", "/admin/segmentations/new", seg, manage, h.newSegmentation),
		r("POST", "/admin/segmentations", seg, manage, h.createSegmentation),
		r("GET", "/admin/segmentations/condition", seg, view, h.segmentCondition),
		r("GET", "/admin/segmentations/levels", seg, view, h.segmentLevels),
		r("POST", "/admin/segmentations/editor/count", seg, view, h.segmentCount),
		r("POST", "/admin/segmentations/editor/csv", seg, view, h.segmentExport),
		r("GET", "/admin/segmentations/{id}", seg, view, h.editSegmentation),
		r("POST", "/admin/segmentations/{id}", seg, update, h.updateSegmentation),
		r("POST", "/admin/segmentations/{id}/delete", seg, manage, h.deleteSegmentation),
		r("GET", "/admin/segmentations/{id}/size", seg, view, h.segmentationSize),
		r("GET", "/admin/segmentations/{id}/export", seg, view, h.segmentationExport),
		r("POST", "/admin/segmentations/{id}/engagements", seg, view, h.segmentationAttach),
		r("POST", "/admin/segmentations/{id}/engagements/{eid}/detach", seg, view, h.segmentationDetach),
		r("GET", "/admin/engagements/{id}/targeting", seg, view, h.targetingPanel),
		r("POST", "/admin/engagements/{id}/targeting", seg, view, h.targetingAttach),
		r("POST", "/admin/engagements/{id}/targeting/{sid}/detach", seg, view, h.targetingDetach),

		r("GET", "/admin/lists", lists, view, h.lists),
		r("GET", "/admin/lists/new", lists, manage, h.newList),
		r("POST", "/admin/lists", lists, manage, h.createList),
		r("GET", "/admin/lists/{id}", lists, view, h.list),
		r("POST", "/admin/lists/{id}", lists, update, h.renameList),
		r("POST", "/admin/lists/{id}/upload", lists, update, h.uploadList),
		r("POST", "/admin/lists/{id}/delete", lists, manage, h.deleteList),
		r("GET", "/admin/lists/uploads/{id}", lists, view, h.upload),
		r("GET", "/admin/lists/uploads/{id}/progress", lists, view, h.uploadProgress),
		r("POST", "/admin/lists/uploads/{id}/cancel", lists, update, h.cancelUpload),
		r("GET", "/admin/lists/uploads/{id}/rejected.csv", lists, view, h.rejectedRows),
	}
}

// condRow is a condition as the editor shows it: the submitted text after a
// failed save, else the saved rule.
type condRow struct {
	Key, Type                                     string
	Not                                           bool
	Engagement, Channel, DaysOp, Days             string
	MinAge, MaxAge, Program, Op, Points, MinLevel string
	MaxLevel                                      string
	Genders, Languages, Lists                     []string
	Error                                         string
}

// Label names the row's condition type.
func (c condRow) Label() string { return regulars.ConditionLabel(c.Type) }

// Negatable reports whether the row has a "haven't" form.
func (c condRow) Negatable() bool { return regulars.Negatable(c.Type) }

// Is reports whether v (a number or a string) is the row's value of a
// multiple choice.
func (c condRow) Is(list []string, v any) bool { return slices.Contains(list, fmt.Sprint(v)) }

// Sel reports whether v is the single value s.
func (c condRow) Sel(s string, v any) bool { return s == fmt.Sprint(v) }

var rowSeq atomic.Int64

func newRowKey() string { return "n" + strconv.FormatInt(rowSeq.Add(1), 36) }

func rowsFromRule(r regulars.Rule) []condRow {
	out := make([]condRow, len(r.Conditions))
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	for i, c := range r.Conditions {
		row := condRow{Key: strconv.Itoa(i), Type: c.Type, Not: c.Not, Genders: c.Genders, Languages: c.Languages, Op: c.Op}
		if c.EngagementID != 0 {
			row.Engagement = num(c.EngagementID)
		}
		if c.ChannelID != 0 {
			row.Channel = num(c.ChannelID)
		}
		switch {
		case c.MinDays != nil && c.MaxDays != nil:
			row.DaysOp, row.Days = "between", num(*c.MinDays)+"-"+num(*c.MaxDays)
		case c.MinDays != nil:
			row.DaysOp, row.Days = "at_least", num(*c.MinDays)
		case c.MaxDays != nil:
			row.DaysOp, row.Days = "at_most", num(*c.MaxDays)
		}
		if c.MinAge != nil {
			row.MinAge = strconv.Itoa(*c.MinAge)
		}
		if c.MaxAge != nil {
			row.MaxAge = strconv.Itoa(*c.MaxAge)
		}
		if c.ProgramID != 0 {
			row.Program = num(c.ProgramID)
		}
		if c.Points != nil {
			row.Points = num(*c.Points)
		}
		if c.MinLevel != nil {
			row.MinLevel = strconv.Itoa(*c.MinLevel)
		}
		if c.MaxLevel != nil {
			row.MaxLevel = strconv.Itoa(*c.MaxLevel)
		}
		for _, id := range c.ListIDs {
			row.Lists = append(row.Lists, num(id))
		}
		out[i] = row
	}
	return out
}

// ruleForm reads the editor's conditions: rows in the order of the "c"
// values, each row's fields under "c.<key>.". Numbers that are not numbers
// are reported on their condition, like the rule's own checks.
func ruleForm(r *http.Request) (regulars.Rule, []condRow, error) {
	r.ParseForm()
	f := r.Form
	var rule regulars.Rule
	var rows []condRow
	v := regulars.Validation{}
	for i, key := range f["c"] {
		g := func(name string) string { return strings.TrimSpace(f.Get("c." + key + "." + name)) }
		row := condRow{Key: key, Type: g("type"), Not: g("not") == "1", Engagement: g("engagement"), Channel: g("channel"), DaysOp: g("days_op"), Days: g("days"),
			MinAge: g("min_age"), MaxAge: g("max_age"), Program: g("program"), Op: g("op"), Points: g("points"), MinLevel: g("min_level"), MaxLevel: g("max_level"),
			Genders: f["c."+key+".gender"], Languages: f["c."+key+".language"], Lists: f["c."+key+".list"]}
		rows = append(rows, row)
		name := fmt.Sprintf("Condition %d (%s)", i+1, regulars.ConditionLabel(row.Type))
		bad := func(msg string) { v.Add(regulars.CondKey(i), name+": "+msg) }
		id := func(s, what string) int64 {
			if s == "" {
				return 0
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				bad("choose " + what + ".")
			}
			return n
		}
		whole := func(s, what string) *int64 {
			if s == "" {
				return nil
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				bad(what + " must be a whole number.")
				return nil
			}
			return &n
		}
		small := func(s, what string) *int {
			n := whole(s, what)
			if n == nil {
				return nil
			}
			if *n > 1<<20 || *n < -(1<<20) {
				bad(what + " is out of range.")
				return nil
			}
			x := int(*n)
			return &x
		}
		c := regulars.Condition{Type: row.Type, Not: row.Not && regulars.Negatable(row.Type)}
		switch row.Type {
		case regulars.CondEngagement:
			c.EngagementID = id(row.Engagement, "an engagement")
		case regulars.CondChannel:
			c.ChannelID = id(row.Channel, "a channel")
			switch row.DaysOp {
			case "at_least":
				if c.MinDays = whole(row.Days, "The number of days"); c.MinDays == nil && row.Days == "" {
					bad("give the number of days.")
				}
			case "at_most":
				if c.MaxDays = whole(row.Days, "The number of days"); c.MaxDays == nil && row.Days == "" {
					bad("give the number of days.")
				}
			case "between":
				lo, hi, ok := strings.Cut(row.Days, "-")
				if !ok {
					bad("give the days as from-to, e.g. 7-30.")
				} else {
					c.MinDays, c.MaxDays = whole(strings.TrimSpace(lo), "The number of days"), whole(strings.TrimSpace(hi), "The number of days")
				}
			}
		case regulars.CondAge:
			c.MinAge, c.MaxAge = small(row.MinAge, "From"), small(row.MaxAge, "To")
		case regulars.CondGender:
			c.Genders = row.Genders
		case regulars.CondLanguage:
			c.Languages = row.Languages
		case regulars.CondCurrentPoints, regulars.CondTotalPoints:
			c.ProgramID, c.Op, c.Points = id(row.Program, "a loyalty program"), row.Op, whole(row.Points, "The number of points")
		case regulars.CondLevel:
			c.ProgramID, c.MinLevel, c.MaxLevel = id(row.Program, "a program"), small(row.MinLevel, "From level"), small(row.MaxLevel, "To level")
		case regulars.CondList:
			for _, s := range row.Lists {
				if n := id(s, "a list"); n > 0 {
					c.ListIDs = append(c.ListIDs, n)
				}
			}
		}
		rule.Conditions = append(rule.Conditions, c)
	}
	if len(v) > 0 {
		return rule, rows, &regulars.Error{Code: regulars.EINVALID, Message: "The segmentation's conditions need correcting.", Fields: map[string]string(v)}
	}
	return rule, rows, nil
}

// rowsRequest is a form request holding rows, to read them as a rule.
func rowsRequest(rows []condRow) *http.Request {
	v := url.Values{}
	for _, row := range rows {
		k := "c." + row.Key + "."
		v.Add("c", row.Key)
		v.Set(k+"type", row.Type)
		for name, val := range map[string]string{"engagement": row.Engagement, "channel": row.Channel, "days_op": row.DaysOp, "days": row.Days, "min_age": row.MinAge,
			"max_age": row.MaxAge, "program": row.Program, "op": row.Op, "points": row.Points, "min_level": row.MinLevel, "max_level": row.MaxLevel} {
			if val != "" {
				v.Set(k+name, val)
			}
		}
		if row.Not {
			v.Set(k+"not", "1")
		}
		v[k+"gender"], v[k+"language"], v[k+"list"] = row.Genders, row.Languages, row.Lists
	}
	return &http.Request{Method: http.MethodGet, URL: &url.URL{RawQuery: v.Encode()}}
}

// segEditor is the segmentation editor.
type segEditor struct {
	Seg        *regulars.Segmentation
	Opt        *app.SegmentOptions
	Rows       []condRow
	Scope      string
	CanSave    bool
	CanDelete  bool
	Users      []*regulars.Engagement
	Attachable []*regulars.Engagement
	Live       *segLive
	Types      []string
}

// LevelsOf returns the levels of a program of the options.
func (d *segEditor) LevelsOf(program string) []regulars.ProgramLevel { return levelsOf(d.Opt, program) }

func levelsOf(o *app.SegmentOptions, program string) []regulars.ProgramLevel {
	for _, p := range o.Programs {
		if strconv.FormatInt(p.ID, 10) == program && p.Loyalty != nil {
			return p.Loyalty.Levels
		}
	}
	return nil
}

// TypeLabel names a condition type.
func (d *segEditor) TypeLabel(t string) string { return regulars.ConditionLabel(t) }

// segLive is the live count and preview.
type segLive struct {
	Count    int64
	Total    int64 // followers in scope
	Preview  *app.Preview
	Problems []string
	Took     time.Duration
}

// Percent is the matching share of the followers in scope, for the bar.
func (l *segLive) Percent() string {
	if l.Total <= 0 {
		return "0"
	}
	return strconv.FormatFloat(100*float64(l.Count)/float64(l.Total), 'f', 1, 64)
}

// Millis is how long the count took, in whole milliseconds (at least 1).
func (l *segLive) Millis() int64 { return max(1, l.Took.Milliseconds()) }

// Thousands writes n with separators: 1,000,000.
func (l *segLive) Thousands(n int64) string { return regulars.Thousands(n) }

// GenderLabel names a gender for the preview.
func (l *segLive) GenderLabel(g string) string {
	if g == "" {
		return "—"
	}
	return strings.ToUpper(g[:1]) + g[1:]
}

// LanguageLabel names a language for the preview.
func (l *segLive) LanguageLabel(code string) string {
	if code == "" {
		return "—"
	}
	return app.LanguageName(code)
}

func (h *Handler) segmentations(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorFrom(r.Context())
	segs, err := h.app.Segmentations(ctx, a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	opt, err := h.app.SegmentOptionsFor(ctx, a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "segmentations", &Page{Title: "Segmentations", Data: map[string]any{
		"Segs": segs, "Opt": opt, "CanManage": a.Can(regulars.FeatureSegmentations, regulars.LevelManage)}})
}

func (h *Handler) segEditorPage(r *http.Request, s *regulars.Segmentation, rows []condRow) (*Page, error) {
	ctx, a := r.Context(), actorFrom(r.Context())
	opt, err := h.app.SegmentOptionsFor(ctx, a)
	if err != nil {
		return nil, err
	}
	d := &segEditor{Seg: s, Opt: opt, Rows: rows, Types: regulars.ConditionTypes, Scope: r.FormValue("scope")}
	title := "New segmentation"
	if s == nil {
		d.CanSave = a.Can(regulars.FeatureSegmentations, regulars.LevelManage)
	} else {
		title = s.Name
		d.CanSave = a.Can(regulars.FeatureSegmentations, regulars.LevelUpdate)
		d.CanDelete = a.Can(regulars.FeatureSegmentations, regulars.LevelManage)
		if d.Users, err = h.app.SegmentEngagements(ctx, a, s); err != nil {
			return nil, err
		}
		for _, e := range opt.Engagements {
			if e.Status == regulars.EngagementFinished || !a.Can(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate) {
				continue
			}
			if !slices.ContainsFunc(d.Users, func(u *regulars.Engagement) bool { return u.ID == e.ID }) {
				d.Attachable = append(d.Attachable, e)
			}
		}
		if rows == nil {
			d.Rows = rowsFromRule(s.Rule)
		}
	}
	if d.Rows == nil {
		d.Rows = []condRow{{Key: newRowKey(), Type: regulars.CondAge, MinAge: "18", MaxAge: "99"}}
	}
	return &Page{Title: title, Active: "/admin/segmentations", Data: d}, nil
}

func (h *Handler) newSegmentation(w http.ResponseWriter, r *http.Request) {
	p, err := h.segEditorPage(r, nil, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	d := p.Data.(*segEditor)
	rule, _, err := ruleForm(rowsRequest(d.Rows))
	d.Live = h.live(r, rule, err, true)
	h.render(w, r, http.StatusOK, "segmentation_form", p)
}

func (h *Handler) loadSegmentation(w http.ResponseWriter, r *http.Request) *regulars.Segmentation {
	return loadByID(h, w, r, h.app.Segmentation)
}

func (h *Handler) editSegmentation(w http.ResponseWriter, r *http.Request) {
	s := h.loadSegmentation(w, r)
	if s == nil {
		return
	}
	p, err := h.segEditorPage(r, s, nil)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	p.Data.(*segEditor).Live = h.live(r, s.Rule, nil, true)
	h.render(w, r, http.StatusOK, "segmentation_form", p)
}

// saveSegmentation creates (s nil) or updates a segmentation from the form.
func (h *Handler) saveSegmentation(w http.ResponseWriter, r *http.Request, s *regulars.Segmentation) {
	ctx, a := r.Context(), actorFrom(r.Context())
	rule, rows, err := ruleForm(r)
	if err == nil {
		in := app.SegmentationInput{Name: r.PostFormValue("name"), Rule: rule}
		var saved *regulars.Segmentation
		if s == nil {
			saved, err = h.app.CreateSegmentation(ctx, a, in)
		} else {
			saved, err = h.app.UpdateSegmentation(ctx, a, s.ID, in)
		}
		if err == nil {
			h.redirect(w, r, "/admin/segmentations/"+strconv.FormatInt(saved.ID, 10), "success", "Segmentation "+saved.Name+" saved.")
			return
		}
	}
	fields := regulars.FieldErrors(err)
	for i := range rows {
		rows[i].Error = fields[regulars.CondKey(i)]
	}
	p, perr := h.segEditorPage(r, s, rows)
	if perr != nil {
		h.fail(w, r, perr, "", nil)
		return
	}
	p.Data.(*segEditor).Live = h.live(r, rule, err, err == nil)
	h.fail(w, r, err, "segmentation_form", p)
}

func (h *Handler) createSegmentation(w http.ResponseWriter, r *http.Request) {
	h.saveSegmentation(w, r, nil)
}

func (h *Handler) updateSegmentation(w http.ResponseWriter, r *http.Request) {
	if s := h.loadSegmentation(w, r); s != nil {
		h.saveSegmentation(w, r, s)
	}
}

func (h *Handler) deleteSegmentation(w http.ResponseWriter, r *http.Request) {
	s := h.loadSegmentation(w, r)
	if s == nil {
		return
	}
	if err := h.app.DeleteSegmentation(r.Context(), actorFrom(r.Context()), s.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/segmentations", "success", "Segmentation "+s.Name+" deleted.")
}

// previewSize is how many matching followers the editor shows.
const previewSize = 20

// live counts and previews a rule; problems (a validation error) are shown
// instead of a count.
func (h *Handler) live(r *http.Request, rule regulars.Rule, problem error, run bool) *segLive {
	ctx, a := r.Context(), actorFrom(r.Context())
	l := &segLive{}
	scope, _ := strconv.ParseInt(r.FormValue("scope"), 10, 64)
	if problem == nil && run {
		started := time.Now()
		var err error
		if l.Count, err = h.app.CountSegment(ctx, a, rule, scope); err == nil {
			l.Took = time.Since(started)
			l.Preview, err = h.app.PreviewSegment(ctx, a, rule, scope, 0, previewSize)
		}
		if err == nil {
			l.Total, err = h.app.SegmentPopulation(ctx, a, scope)
		}
		problem = err
	}
	if problem != nil {
		if regulars.ErrorCode(problem) == regulars.EINTERNAL {
			h.log.Error("segment count", "err", problem)
		}
		l.Problems = problemList(problem)
	}
	return l
}

// problemList lists an error's messages, conditions in order.
func problemList(err error) []string {
	fields := regulars.FieldErrors(err)
	if len(fields) == 0 {
		return []string{regulars.ErrorMessage(err)}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		na, _ := strconv.Atoi(strings.TrimPrefix(a, "conditions."))
		nb, _ := strconv.Atoi(strings.TrimPrefix(b, "conditions."))
		if na != nb {
			return na - nb
		}
		return strings.Compare(a, b)
	})
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fields[k]
	}
	return out
}

// segmentCount answers the editor's live count (an htmx fragment).
func (h *Handler) segmentCount(w http.ResponseWriter, r *http.Request) {
	rule, _, err := ruleForm(r)
	if err == nil && len(rule.Conditions) == 0 {
		err = regulars.Errorf(regulars.EINVALID, "Add at least one condition.")
	}
	h.renderPart(w, r, "segmentation_form", "live-update", &Page{Data: h.live(r, rule, err, true)})
}

// segmentCondition renders a new condition row (htmx "Add condition").
func (h *Handler) segmentCondition(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if typ == "" {
		typ = regulars.CondAge
	}
	if !slices.Contains(regulars.ConditionTypes, typ) {
		h.fail(w, r, regulars.Errorf(regulars.EINVALID, "There is no condition of type %q.", typ), "", nil)
		return
	}
	opt, err := h.app.SegmentOptionsFor(r.Context(), actorFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	row := condRow{Key: newRowKey(), Type: typ}
	switch typ {
	case regulars.CondAge:
		row.MinAge, row.MaxAge = "18", "30"
	case regulars.CondCurrentPoints, regulars.CondTotalPoints:
		row.Op, row.Points = regulars.OpMore, "0"
	}
	h.renderPart(w, r, "segmentation_form", "condition", &Page{Data: map[string]any{"Row": row, "D": &segEditor{Opt: opt}}})
}

// segmentLevels renders the level pickers of a level condition once a
// program is chosen.
func (h *Handler) segmentLevels(w http.ResponseWriter, r *http.Request) {
	opt, err := h.app.SegmentOptionsFor(r.Context(), actorFrom(r.Context()))
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	key := r.URL.Query().Get("key")
	row := condRow{Key: key, Type: regulars.CondLevel, Program: r.URL.Query().Get("c." + key + ".program"), MinLevel: "1", MaxLevel: "1"}
	h.renderPart(w, r, "segmentation_form", "levels", &Page{Data: map[string]any{"Row": row, "D": &segEditor{Opt: opt}}})
}

func (h *Handler) segmentationSize(w http.ResponseWriter, r *http.Request) {
	s := h.loadSegmentation(w, r)
	if s == nil {
		return
	}
	n, err := h.app.CountSegment(r.Context(), actorFrom(r.Context()), s.Rule, 0)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if regulars.ErrorCode(err) == regulars.EINTERNAL {
			h.log.Error("segment size", "err", err)
		}
		fmt.Fprintf(w, `<span class="muted" title="%s">needs attention</span>`, templateEscape(regulars.ErrorMessage(err)))
		return
	}
	fmt.Fprint(w, regulars.Thousands(n))
}

func templateEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// writeSegmentCSV streams the matching followers as CSV.
func (h *Handler) writeSegmentCSV(w http.ResponseWriter, r *http.Request, name string, rule regulars.Rule, scope int64) {
	ctx, a := r.Context(), actorFrom(r.Context())
	// Check before the first byte so that a refusal is a page, not a file.
	if _, err := h.app.CountSegment(ctx, a, rule, scope); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileSafe(name)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	header := false
	err := h.app.ExportSegment(ctx, a, rule, scope, func(program *regulars.Engagement, rows []app.PreviewRow) error {
		if !header {
			header = true
			points := "points"
			if program != nil {
				points = "points (" + program.Name + ")"
			}
			cw.Write([]string{"name", "end_user_id", "age", "gender", "language", points})
		}
		for _, row := range rows {
			f := row.Follower
			age, pts := "", ""
			if row.Age >= 0 {
				age = strconv.Itoa(row.Age)
			}
			if row.Points >= 0 {
				pts = strconv.FormatInt(row.Points, 10)
			}
			cw.Write([]string{csvSafe(f.Name), f.EndUserID, age, f.Gender, f.Language, pts})
		}
		cw.Flush()
		return cw.Error()
	})
	if !header && err == nil {
		cw.Write([]string{"name", "end_user_id", "age", "gender", "language", "points"})
	}
	cw.Flush()
	if err != nil {
		h.log.Error("segment export", "err", err)
	}
}

func fileSafe(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		case r == ' ':
			return '-'
		}
		return -1
	}, s)
	if out == "" {
		out = "segment"
	}
	return out
}

func (h *Handler) segmentExport(w http.ResponseWriter, r *http.Request) {
	rule, _, err := ruleForm(r)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	scope, _ := strconv.ParseInt(r.FormValue("scope"), 10, 64)
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = "segment"
	}
	h.writeSegmentCSV(w, r, name, rule, scope)
}

func (h *Handler) segmentationExport(w http.ResponseWriter, r *http.Request) {
	if s := h.loadSegmentation(w, r); s != nil {
		h.writeSegmentCSV(w, r, s.Name, s.Rule, 0)
	}
}

func (h *Handler) segmentationAttach(w http.ResponseWriter, r *http.Request) {
	s := h.loadSegmentation(w, r)
	if s == nil {
		return
	}
	eid := formInt(r, "engagement")
	if eid <= 0 {
		h.redirect(w, r, "/admin/segmentations/"+strconv.FormatInt(s.ID, 10), "error", "Choose an engagement to use this segmentation in.")
		return
	}
	e, _, err := h.app.AttachSegmentation(r.Context(), actorFrom(r.Context()), eid, s.ID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/segmentations/"+strconv.FormatInt(s.ID, 10), "success", e.Name+" now targets "+s.Name+".")
}

func (h *Handler) segmentationDetach(w http.ResponseWriter, r *http.Request) {
	s := h.loadSegmentation(w, r)
	if s == nil {
		return
	}
	eid, ok := pathID(r, "eid")
	if !ok {
		h.notFound(w, r)
		return
	}
	e, _, err := h.app.DetachSegmentation(r.Context(), actorFrom(r.Context()), eid, s.ID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/segmentations/"+strconv.FormatInt(s.ID, 10), "success", e.Name+" no longer targets "+s.Name+".")
}

// targetingPanel is the segmentations panel of an engagement page: an
// htmx fragment engagement pages load with
//
//	<div hx-get="/admin/engagements/{id}/targeting" hx-trigger="load"></div>
func (h *Handler) targetingPanel(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	t, err := h.app.TargetingOf(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, "/admin/") {
		back = ""
	}
	h.renderPart(w, r, "segmentation_form", "targeting", &Page{Data: map[string]any{"T": t, "Back": back}})
}

// targetingBack is where an attach or detach from an engagement page
// returns: the page it came from.
func targetingBack(r *http.Request, id int64) string {
	if b := r.PostFormValue("back"); strings.HasPrefix(b, "/admin/") && !strings.HasPrefix(b, "//") {
		return b
	}
	if ref, err := url.Parse(r.Header.Get("Referer")); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, "/admin/") {
		return ref.RequestURI()
	}
	return "/admin/segmentations"
}

func (h *Handler) targetingAttach(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	if _, err := h.app.TargetingOf(r.Context(), actorFrom(r.Context()), id); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	sid := formInt(r, "segmentation")
	if sid <= 0 {
		h.redirect(w, r, targetingBack(r, id), "error", "Choose a segmentation.")
		return
	}
	e, s, err := h.app.AttachSegmentation(r.Context(), actorFrom(r.Context()), id, sid)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, targetingBack(r, id), "success", e.Name+" now targets "+s.Name+".")
}

func (h *Handler) targetingDetach(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	sid, ok := pathID(r, "sid")
	if !ok {
		h.notFound(w, r)
		return
	}
	e, s, err := h.app.DetachSegmentation(r.Context(), actorFrom(r.Context()), id, sid)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, targetingBack(r, id), "success", e.Name+" no longer targets "+s.Name+".")
}
