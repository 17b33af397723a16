package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// segmentTable is the API of segmentations, custom end-user lists and the
// segmentations engagements target.
func (x *API) segmentTable() []endpoint {
	const (
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	seg, lists := regulars.FeatureSegmentations, regulars.FeatureCustomLists
	p := httpx.Partner
	conflict := []int{http.StatusConflict}
	out := []endpoint{
		{Method: "GET", Pattern: "/api/v1/segmentations", Side: p, Feature: seg, Level: view,
			Doc: "List the partner's segmentations", Op: handle(x, http.StatusOK, x.listSegmentations)},
		{Method: "POST", Pattern: "/api/v1/segmentations", Side: p, Feature: seg, Level: manage,
			Doc: "Create a segmentation: a name and a rule whose conditions must all hold", Op: handle(x, http.StatusCreated, x.createSegmentation)},
		{Method: "POST", Pattern: "/api/v1/segmentations/count", Side: p, Feature: seg, Level: view,
			Doc: "Count the followers a rule matches now (the editor's live count), checked like a save", Op: handle(x, http.StatusOK, x.countSegment)},
		{Method: "GET", Pattern: "/api/v1/segmentations/{id}", Side: p, Feature: seg, Level: view,
			Doc: "Get a segmentation with its current size", Op: handle(x, http.StatusOK, x.getSegmentation)},
		{Method: "PATCH", Pattern: "/api/v1/segmentations/{id}", Side: p, Feature: seg, Level: update,
			Doc: "Rename a segmentation or replace its rule; engagements that use it follow at once", Op: handle(x, http.StatusOK, x.updateSegmentation)},
		{Method: "DELETE", Pattern: "/api/v1/segmentations/{id}", Side: p, Feature: seg, Level: manage,
			Doc: "Delete a segmentation no draft or active engagement uses; otherwise 409 naming them", Op: handle(x, http.StatusNoContent, x.deleteSegmentation), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/segmentations/{id}/members", Side: p, Feature: seg, Level: view,
			Doc: "Page through the followers a segmentation matches now (after: last id seen; limit up to 1000)", Op: handle(x, http.StatusOK, x.segmentationMembers)},

		{Method: "GET", Pattern: "/api/v1/lists", Side: p, Feature: lists, Level: view,
			Doc: "List the partner's custom end-user lists", Op: handle(x, http.StatusOK, x.listLists)},
		{Method: "POST", Pattern: "/api/v1/lists", Side: p, Feature: lists, Level: manage,
			Doc: "Create an empty list", Op: handle(x, http.StatusCreated, x.createList)},
		{Method: "GET", Pattern: "/api/v1/lists/{id}", Side: p, Feature: lists, Level: view,
			Doc: "Get a list", Op: handle(x, http.StatusOK, x.getList)},
		{Method: "PATCH", Pattern: "/api/v1/lists/{id}", Side: p, Feature: lists, Level: update,
			Doc: "Rename a list", Op: handle(x, http.StatusOK, x.renameList)},
		{Method: "DELETE", Pattern: "/api/v1/lists/{id}", Side: p, Feature: lists, Level: manage,
			Doc: "Delete a list no segmentation uses; otherwise 409 naming them", Op: handle(x, http.StatusNoContent, x.deleteList), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/lists/{id}/uploads", Side: p, Feature: lists, Level: update,
			Doc: "Load identifiers into a list (replace or append) and answer with the report; larger files go through the web upload", Op: handle(x, http.StatusCreated, x.uploadIdentifiers), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/lists/{id}/uploads", Side: p, Feature: lists, Level: view,
			Doc: "The list's latest uploads with their reports", Op: handle(x, http.StatusOK, x.listUploads)},
		{Method: "GET", Pattern: "/api/v1/uploads/{id}", Side: p, Feature: lists, Level: view,
			Doc: "An upload's progress and report", Op: handle(x, http.StatusOK, x.getUpload)},
		{Method: "GET", Pattern: "/api/v1/uploads/{id}/rejected", Side: p, Feature: lists, Level: view,
			Doc: "The rows of an upload that did not become members, with the reason for each", Op: handle(x, http.StatusOK, x.rejectedRows)},
		{Method: "POST", Pattern: "/api/v1/uploads/{id}/cancel", Side: p, Feature: lists, Level: update,
			Doc: "Cancel a running upload; the list stays as it was", Op: handle(x, http.StatusOK, x.cancelUpload), Errors: conflict},
	}
	// An engagement's segmentations belong to the engagement: its kind's
	// feature decides who may see and change them.
	for _, k := range []struct {
		path                 string
		f                    regulars.Feature
		list, attach, detach operation
	}{
		{"messages", regulars.FeatureMessages, handle(x, http.StatusOK, x.messageSegmentations), handle(x, http.StatusNoContent, x.messageAttach), handle(x, http.StatusNoContent, x.messageDetach)},
		{"coupons", regulars.FeatureCoupons, handle(x, http.StatusOK, x.couponSegmentations), handle(x, http.StatusNoContent, x.couponAttach), handle(x, http.StatusNoContent, x.couponDetach)},
		{"loyalty", regulars.FeatureLoyalty, handle(x, http.StatusOK, x.programSegmentations), handle(x, http.StatusNoContent, x.programAttach), handle(x, http.StatusNoContent, x.programDetach)},
	} {
		base := "/api/v1/" + k.path + "/{id}/segmentations"
		out = append(out,
			endpoint{Method: "GET", Pattern: base, Side: p, Feature: k.f, Level: view,
				Doc: "The segmentations the engagement targets (none: every follower of its channel)", Op: k.list},
			endpoint{Method: "PUT", Pattern: base + "/{segmentation_id}", Side: p, Feature: k.f, Level: update,
				Doc: "Make the engagement target a segmentation too (a follower in any of them is targeted)", Op: k.attach, Errors: conflict},
			endpoint{Method: "DELETE", Pattern: base + "/{segmentation_id}", Side: p, Feature: k.f, Level: update,
				Doc: "Stop the engagement targeting a segmentation", Op: k.detach, Errors: conflict},
		)
	}
	return out
}

// Rule is a segmentation's rule: every condition must hold. Unknown
// members, members another kind of condition uses, wrong JSON types and
// bad values are refused with a message naming the condition.
type Rule struct {
	Conditions []Condition `json:"conditions"`
	raw        []byte
}

// UnmarshalJSON keeps the text: the domain parses it, so that every
// mistake is reported on its condition.
func (r *Rule) UnmarshalJSON(b []byte) error {
	r.raw = bytes.Clone(b)
	// Clients decoding answers get the conditions; the server's own check
	// is ParseRule's, so a mistake here is not an error yet.
	var plain struct {
		Conditions []Condition `json:"conditions"`
	}
	if json.Unmarshal(b, &plain) == nil {
		r.Conditions = plain.Conditions
	}
	return nil
}

func (r Rule) domain() (regulars.Rule, error) {
	if r.raw == nil {
		return regulars.Rule{}, &regulars.Error{Code: regulars.EINVALID, Message: "Send the rule.", Fields: map[string]string{"rule": "Send the rule: {\"conditions\": […]}."}}
	}
	rule, err := regulars.ParseRule(r.raw)
	if err != nil {
		return rule, prefixFields(err, "rule.")
	}
	return rule, nil
}

// prefixFields moves a nested validation's field names under prefix.
func prefixFields(err error, prefix string) error {
	e, ok := err.(*regulars.Error)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &regulars.Error{Code: e.Code, Message: e.Message, Detail: e.Detail, Fields: map[string]string{}}
	for k, v := range e.Fields {
		out.Fields[prefix+k] = v
	}
	return out
}

// ConditionType names a kind of condition.
type ConditionType string

// Enum lists the condition types.
func (ConditionType) Enum() []string { return regulars.ConditionTypes }

// Condition is one criterion; which members apply depends on type.
type Condition struct {
	Type         ConditionType `json:"type" doc:"engagement, channel, age, gender, language, current_points, total_points, level or list"`
	Not          bool          `json:"not,omitempty" doc:"engagement: hasn't enabled; channel: doesn't follow"`
	EngagementID int64         `json:"engagement_id,omitempty" doc:"engagement: a message (opened), coupon (activated) or loyalty program (joined)"`
	ChannelID    int64         `json:"channel_id,omitempty" doc:"channel: one of the partner's channels"`
	MinDays      *int64        `json:"min_days,omitempty" doc:"channel: followed for at least this many days (of 24 hours)"`
	MaxDays      *int64        `json:"max_days,omitempty" doc:"channel: followed for at most this many days"`
	MinAge       *int          `json:"min_age,omitempty" doc:"age: from (known ages only)"`
	MaxAge       *int          `json:"max_age,omitempty" doc:"age: to, inclusive"`
	Genders      []string      `json:"genders,omitempty" doc:"gender: female, male and/or other (known genders only)"`
	Languages    []string      `json:"languages,omitempty" doc:"language: ISO 639-1 codes (known languages only)"`
	ProgramID    int64         `json:"program_id,omitempty" doc:"current_points, total_points: a loyalty program; level: a gamification or advanced program"`
	Op           string        `json:"op,omitempty" enum:"lt,eq,gt" doc:"points: less than, exactly or more than"`
	Points       *int64        `json:"points,omitempty" doc:"points: N (members of the program only)"`
	MinLevel     *int          `json:"min_level,omitempty" doc:"level: from level (position, from 1)"`
	MaxLevel     *int          `json:"max_level,omitempty" doc:"level: to level; the same as min_level for one level"`
	ListIDs      []int64       `json:"list_ids,omitempty" doc:"list: member of any of these lists"`
}

func ruleOut(r regulars.Rule) Rule {
	out := Rule{Conditions: make([]Condition, len(r.Conditions))}
	for i, c := range r.Conditions {
		out.Conditions[i] = Condition{Type: ConditionType(c.Type), Not: c.Not, EngagementID: c.EngagementID, ChannelID: c.ChannelID, MinDays: c.MinDays, MaxDays: c.MaxDays,
			MinAge: c.MinAge, MaxAge: c.MaxAge, Genders: c.Genders, Languages: c.Languages, ProgramID: c.ProgramID, Op: c.Op, Points: c.Points,
			MinLevel: c.MinLevel, MaxLevel: c.MaxLevel, ListIDs: c.ListIDs}
	}
	return out
}

// Segmentation is a named rule.
type Segmentation struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Rule        Rule      `json:"rule"`
	Engagements int       `json:"engagements" doc:"how many engagements target it"`
	Size        *int64    `json:"size,omitempty" doc:"followers of the partner's channels it matches now (single gets only)"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (s Segmentation) location() string {
	return "/api/v1/segmentations/" + strconv.FormatInt(s.ID, 10)
}

func segmentationOut(s *regulars.Segmentation) Segmentation {
	return Segmentation{ID: s.ID, Name: s.Name, Rule: ruleOut(s.Rule), Engagements: s.EngagementCount, UpdatedAt: s.UpdatedAt}
}

// SegmentationList is the partner's segmentations by name.
type SegmentationList struct {
	Items []Segmentation `json:"items"`
}

// SegmentationCreate creates a segmentation.
type SegmentationCreate struct {
	Name string `json:"name"`
	Rule Rule   `json:"rule"`
}

// SegmentationUpdate changes what it holds.
type SegmentationUpdate struct {
	Name *string `json:"name,omitempty"`
	Rule *Rule   `json:"rule,omitempty"`
}

// SegmentCount asks how many followers a rule matches.
type SegmentCount struct {
	Rule      Rule  `json:"rule"`
	ChannelID int64 `json:"channel_id,omitempty" doc:"count the followers of this channel only (default: of all the partner's channels)"`
}

// SegmentSize is a count.
type SegmentSize struct {
	Count     int64 `json:"count" doc:"followers that match"`
	Followers int64 `json:"followers" doc:"followers counted: active, following the channel (or any of the partner's)"`
}

// SegmentMember is a matching follower.
type SegmentMember struct {
	ID        int64  `json:"id"`
	EndUserID string `json:"end_user_id"`
	Name      string `json:"name"`
	Age       *int   `json:"age" doc:"null when the birth date is unknown"`
	Gender    string `json:"gender" doc:"empty when unknown"`
	Language  string `json:"language" doc:"empty when unknown"`
	Points    *int64 `json:"points" doc:"current points in program_id; null for non-members"`
}

// SegmentMembers is a page of matching followers.
type SegmentMembers struct {
	Items     []SegmentMember `json:"items"`
	ProgramID int64           `json:"program_id" doc:"the program whose points are shown (0: none)"`
	More      bool            `json:"more" doc:"more followers match after the last item: pass its id as after"`
}

func (x *API) listSegmentations(r *http.Request, _ noBody) (SegmentationList, error) {
	segs, err := x.app.Segmentations(r.Context(), actorOf(r))
	if err != nil {
		return SegmentationList{}, err
	}
	out := SegmentationList{Items: make([]Segmentation, len(segs))}
	for i, s := range segs {
		out.Items[i] = segmentationOut(s)
	}
	return out, nil
}

func (x *API) withSize(r *http.Request, s *regulars.Segmentation) (Segmentation, error) {
	out := segmentationOut(s)
	n, err := x.app.CountSegment(r.Context(), actorOf(r), s.Rule, 0)
	if err == nil {
		out.Size = &n
	} else if regulars.ErrorCode(err) != regulars.EINVALID {
		return out, err // a rule that names a deleted object has no size
	}
	return out, nil
}

func (x *API) createSegmentation(r *http.Request, in SegmentationCreate) (Segmentation, error) {
	rule, err := in.Rule.domain()
	if err != nil {
		return Segmentation{}, err
	}
	s, err := x.app.CreateSegmentation(r.Context(), actorOf(r), app.SegmentationInput{Name: in.Name, Rule: rule})
	if err != nil {
		return Segmentation{}, prefixRule(err)
	}
	return x.withSize(r, s)
}

// prefixRule moves the app's condition fields under rule. in API errors.
func prefixRule(err error) error {
	e, ok := err.(*regulars.Error)
	if !ok || len(e.Fields) == 0 {
		return err
	}
	out := &regulars.Error{Code: e.Code, Message: e.Message, Detail: e.Detail, Fields: map[string]string{}}
	for k, v := range e.Fields {
		if strings.HasPrefix(k, "conditions") {
			k = "rule." + k
		}
		out.Fields[k] = v
	}
	return out
}

func (x *API) getSegmentation(r *http.Request, _ noBody) (Segmentation, error) {
	id, err := pathID(r, "segmentation")
	if err != nil {
		return Segmentation{}, err
	}
	s, err := x.app.Segmentation(r.Context(), actorOf(r), id)
	if err != nil {
		return Segmentation{}, err
	}
	return x.withSize(r, s)
}

func (x *API) updateSegmentation(r *http.Request, in SegmentationUpdate) (Segmentation, error) {
	id, err := pathID(r, "segmentation")
	if err != nil {
		return Segmentation{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	s, err := x.app.Segmentation(ctx, actor, id)
	if err != nil {
		return Segmentation{}, err
	}
	change := app.SegmentationInput{Name: s.Name, Rule: s.Rule}
	set(&change.Name, in.Name)
	if in.Rule != nil {
		if change.Rule, err = in.Rule.domain(); err != nil {
			return Segmentation{}, err
		}
	}
	if s, err = x.app.UpdateSegmentation(ctx, actor, id, change); err != nil {
		return Segmentation{}, prefixRule(err)
	}
	return x.withSize(r, s)
}

func (x *API) deleteSegmentation(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "segmentation")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteSegmentation(r.Context(), actorOf(r), id)
}

func (x *API) countSegment(r *http.Request, in SegmentCount) (SegmentSize, error) {
	rule, err := in.Rule.domain()
	if err != nil {
		return SegmentSize{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	n, err := x.app.CountSegment(ctx, actor, rule, in.ChannelID)
	if err != nil {
		return SegmentSize{}, prefixRule(jsonChannel(err))
	}
	total, err := x.app.SegmentPopulation(ctx, actor, in.ChannelID)
	return SegmentSize{Count: n, Followers: total}, err
}

// jsonChannel names the API's member for the scope's channel.
func jsonChannel(err error) error {
	e, ok := err.(*regulars.Error)
	if !ok || e.Fields["channel"] == "" {
		return err
	}
	out := &regulars.Error{Code: e.Code, Message: e.Message, Fields: map[string]string{"channel_id": e.Fields["channel"]}}
	return out
}

func (x *API) segmentationMembers(r *http.Request, _ noBody) (SegmentMembers, error) {
	id, err := pathID(r, "segmentation")
	if err != nil {
		return SegmentMembers{}, err
	}
	after, err := queryNumber(r, "after")
	if err != nil {
		return SegmentMembers{}, err
	}
	limit, err := queryNumber(r, "limit")
	if err != nil {
		return SegmentMembers{}, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	ctx, actor := r.Context(), actorOf(r)
	s, err := x.app.Segmentation(ctx, actor, id)
	if err != nil {
		return SegmentMembers{}, err
	}
	p, err := x.app.PreviewSegment(ctx, actor, s.Rule, 0, after, int(limit))
	if err != nil {
		return SegmentMembers{}, err
	}
	out := SegmentMembers{Items: make([]SegmentMember, len(p.Rows)), More: p.More}
	if p.Program != nil {
		out.ProgramID = p.Program.ID
	}
	for i, row := range p.Rows {
		f := row.Follower
		m := SegmentMember{ID: f.ID, EndUserID: f.EndUserID, Name: f.Name, Gender: f.Gender, Language: f.Language}
		if row.Age >= 0 {
			age := row.Age
			m.Age = &age
		}
		if row.Points >= 0 {
			pts := row.Points
			m.Points = &pts
		}
		out.Items[i] = m
	}
	return out, nil
}

// SegmentationRef names a segmentation.
type SegmentationRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// EngagementSegmentations is what an engagement targets.
type EngagementSegmentations struct {
	Items []SegmentationRef `json:"items" doc:"empty: every follower of the engagement's channel"`
}

// engagementKindOf is the engagement kind of a per-kind path: a message's
// id under /api/v1/coupons/ is not found.
func (x *API) engagementKindOf(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/messages/"):
		return regulars.KindMessage
	case strings.HasPrefix(r.URL.Path, "/api/v1/coupons/"):
		return regulars.KindCoupon
	}
	return regulars.KindLoyalty
}

func (x *API) engagementSegmentations(r *http.Request, _ noBody) (EngagementSegmentations, error) {
	id, err := pathID(r, "engagement")
	if err != nil {
		return EngagementSegmentations{}, err
	}
	t, err := x.app.TargetingOf(r.Context(), actorOf(r), id)
	if err != nil {
		return EngagementSegmentations{}, err
	}
	if t.Engagement.Kind != x.engagementKindOf(r) {
		return EngagementSegmentations{}, regulars.ErrNotFound("engagement")
	}
	out := EngagementSegmentations{Items: []SegmentationRef{}}
	for _, s := range t.Attached {
		out.Items = append(out.Items, SegmentationRef{ID: s.ID, Name: s.Name})
	}
	return out, nil
}

// targetingIDs reads the engagement and segmentation of the path, checking
// the engagement's kind against the path.
func (x *API) targetingIDs(r *http.Request) (int64, int64, error) {
	id, err := pathID(r, "engagement")
	if err != nil {
		return 0, 0, err
	}
	sid, err := strconv.ParseInt(r.PathValue("segmentation_id"), 10, 64)
	if err != nil || sid <= 0 {
		return 0, 0, regulars.ErrNotFound("segmentation")
	}
	t, err := x.app.TargetingOf(r.Context(), actorOf(r), id)
	if err != nil {
		return 0, 0, err
	}
	if t.Engagement.Kind != x.engagementKindOf(r) {
		return 0, 0, regulars.ErrNotFound("engagement")
	}
	return id, sid, nil
}

// One operation per kind, so that each has its own operationId.
func (x *API) messageSegmentations(r *http.Request, in noBody) (EngagementSegmentations, error) {
	return x.engagementSegmentations(r, in)
}
func (x *API) couponSegmentations(r *http.Request, in noBody) (EngagementSegmentations, error) {
	return x.engagementSegmentations(r, in)
}
func (x *API) programSegmentations(r *http.Request, in noBody) (EngagementSegmentations, error) {
	return x.engagementSegmentations(r, in)
}
func (x *API) messageAttach(r *http.Request, in noBody) (noBody, error) {
	return x.attachSegmentation(r, in)
}
func (x *API) couponAttach(r *http.Request, in noBody) (noBody, error) {
	return x.attachSegmentation(r, in)
}
func (x *API) programAttach(r *http.Request, in noBody) (noBody, error) {
	return x.attachSegmentation(r, in)
}
func (x *API) messageDetach(r *http.Request, in noBody) (noBody, error) {
	return x.detachSegmentation(r, in)
}
func (x *API) couponDetach(r *http.Request, in noBody) (noBody, error) {
	return x.detachSegmentation(r, in)
}
func (x *API) programDetach(r *http.Request, in noBody) (noBody, error) {
	return x.detachSegmentation(r, in)
}

func (x *API) attachSegmentation(r *http.Request, _ noBody) (noBody, error) {
	id, sid, err := x.targetingIDs(r)
	if err != nil {
		return noBody{}, err
	}
	_, _, err = x.app.AttachSegmentation(r.Context(), actorOf(r), id, sid)
	return noBody{}, err
}

func (x *API) detachSegmentation(r *http.Request, _ noBody) (noBody, error) {
	id, sid, err := x.targetingIDs(r)
	if err != nil {
		return noBody{}, err
	}
	_, _, err = x.app.DetachSegmentation(r.Context(), actorOf(r), id, sid)
	return noBody{}, err
}

// CustomList is a custom end-user list.
type CustomList struct {
	ID            int64     `json:"id"`
	Name          string    `json:"name"`
	Members       int64     `json:"members" doc:"followers on the list now"`
	Segmentations int       `json:"segmentations" doc:"how many segmentations use it (it cannot be deleted while any does)"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func (l CustomList) location() string { return "/api/v1/lists/" + strconv.FormatInt(l.ID, 10) }

func listOut(l *regulars.CustomList) CustomList {
	return CustomList{ID: l.ID, Name: l.Name, Members: l.MemberCount, Segmentations: l.SegmentationCount, UpdatedAt: l.UpdatedAt}
}

// CustomListList is the partner's lists by name.
type CustomListList struct {
	Items []CustomList `json:"items"`
}

// ListName names a list.
type ListName struct {
	Name string `json:"name"`
}

// IdentifierUpload loads identifiers into a list.
type IdentifierUpload struct {
	Mode        string   `json:"mode" enum:"replace,append" doc:"replace the list, or add to it"`
	MatchBy     string   `json:"match_by" enum:"end_user_id,email,phone" doc:"what the identifiers are"`
	Identifiers []string `json:"identifiers" doc:"one per follower; the report says what became of each (line = index + 2, as in a file with a header)"`
}

// Upload is an upload's progress and report.
type Upload struct {
	ID         int64      `json:"id"`
	ListID     int64      `json:"list_id"`
	FileName   string     `json:"file_name"`
	Mode       string     `json:"mode" enum:"replace,append"`
	MatchBy    string     `json:"match_by" enum:"end_user_id,email,phone"`
	State      string     `json:"state" enum:"running,done,failed,cancelled" doc:"failed and cancelled uploads left the list as it was"`
	Error      string     `json:"error" doc:"why it failed, for people"`
	Rows       int64      `json:"rows" doc:"data rows read"`
	Matched    int64      `json:"matched" doc:"rows that added a follower"`
	Duplicates int64      `json:"duplicates" doc:"rows naming a follower named before, or already on the list when appending"`
	Unknown    int64      `json:"unknown" doc:"well-formed identifiers of no follower of the partner"`
	Invalid    int64      `json:"invalid" doc:"malformed rows"`
	Members    int64      `json:"members" doc:"followers on the list after the upload"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at" doc:"null while running"`
}

func (u Upload) location() string { return "/api/v1/uploads/" + strconv.FormatInt(u.ID, 10) }

func uploadOut(u *regulars.ListUpload) Upload {
	out := Upload{ID: u.ID, ListID: u.ListID, FileName: u.FileName, Mode: u.Mode, MatchBy: u.MatchBy, State: u.State, Error: u.Error,
		Rows: u.Rows, Matched: u.Matched, Duplicates: u.Duplicates, Unknown: u.Unknown, Invalid: u.Invalid, Members: u.Members, CreatedAt: u.CreatedAt}
	if !u.FinishedAt.IsZero() {
		t := u.FinishedAt
		out.FinishedAt = &t
	}
	return out
}

// UploadList is a list's latest uploads.
type UploadList struct {
	Items []Upload `json:"items"`
}

// RejectedRow is a row that did not become a member.
type RejectedRow struct {
	Line   int64  `json:"line" doc:"line in the file; the header is line 1"`
	Value  string `json:"value"`
	Reason string `json:"reason" enum:"duplicate,unknown,invalid"`
	Detail string `json:"detail" doc:"the reason, for people"`
}

// RejectedRows is every rejected row of an upload.
type RejectedRows struct {
	Items []RejectedRow `json:"items"`
}

func (x *API) listLists(r *http.Request, _ noBody) (CustomListList, error) {
	ls, err := x.app.Lists(r.Context(), actorOf(r))
	if err != nil {
		return CustomListList{}, err
	}
	out := CustomListList{Items: make([]CustomList, len(ls))}
	for i, l := range ls {
		out.Items[i] = listOut(l)
	}
	return out, nil
}

func (x *API) createList(r *http.Request, in ListName) (CustomList, error) {
	l, err := x.app.CreateList(r.Context(), actorOf(r), in.Name)
	if err != nil {
		return CustomList{}, err
	}
	return listOut(l), nil
}

func (x *API) getList(r *http.Request, _ noBody) (CustomList, error) {
	id, err := pathID(r, "list")
	if err != nil {
		return CustomList{}, err
	}
	l, err := x.app.List(r.Context(), actorOf(r), id)
	if err != nil {
		return CustomList{}, err
	}
	return listOut(l), nil
}

func (x *API) renameList(r *http.Request, in ListName) (CustomList, error) {
	id, err := pathID(r, "list")
	if err != nil {
		return CustomList{}, err
	}
	l, err := x.app.RenameList(r.Context(), actorOf(r), id, in.Name)
	if err != nil {
		return CustomList{}, err
	}
	return listOut(l), nil
}

func (x *API) deleteList(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "list")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.DeleteList(r.Context(), actorOf(r), id)
}

func (x *API) uploadIdentifiers(r *http.Request, in IdentifierUpload) (Upload, error) {
	id, err := pathID(r, "list")
	if err != nil {
		return Upload{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	if _, err := x.app.List(ctx, actor, id); err != nil {
		return Upload{}, err
	}
	v := regulars.Validation{}
	v.Check(in.MatchBy == regulars.MatchEndUserID || in.MatchBy == regulars.MatchEmail || in.MatchBy == regulars.MatchPhone, "match_by", "Use end_user_id, email or phone.")
	v.Check(len(in.Identifiers) > 0, "identifiers", "Send at least one identifier.")
	if err := v.Err(); err != nil {
		return Upload{}, err
	}
	var file strings.Builder
	file.WriteString(in.MatchBy + "\n")
	for _, s := range in.Identifiers {
		// One identifier per line: line breaks and quotes inside one make
		// it invalid rather than a second row.
		if strings.ContainsAny(s, "\r\n\"") {
			s = `"` + strings.NewReplacer(`"`, `""`).Replace(s) + `"`
		}
		file.WriteString(s + "\n")
	}
	body := file.String()
	u, err := x.app.ImportList(ctx, actor, app.UploadInput{ListID: id, Mode: in.Mode, MatchBy: in.MatchBy, FileName: "api.csv", File: strings.NewReader(body), Size: int64(len(body))})
	if err != nil {
		return Upload{}, err
	}
	return uploadOut(u), nil
}

func (x *API) listUploads(r *http.Request, _ noBody) (UploadList, error) {
	id, err := pathID(r, "list")
	if err != nil {
		return UploadList{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	l, err := x.app.List(ctx, actor, id)
	if err != nil {
		return UploadList{}, err
	}
	us, err := x.app.Uploads(ctx, actor, l)
	if err != nil {
		return UploadList{}, err
	}
	out := UploadList{Items: make([]Upload, len(us))}
	for i, u := range us {
		out.Items[i] = uploadOut(u)
	}
	return out, nil
}

func (x *API) getUpload(r *http.Request, _ noBody) (Upload, error) {
	id, err := pathID(r, "upload")
	if err != nil {
		return Upload{}, err
	}
	u, err := x.app.Upload(r.Context(), actorOf(r), id)
	if err != nil {
		return Upload{}, err
	}
	return uploadOut(u), nil
}

func (x *API) cancelUpload(r *http.Request, _ noBody) (Upload, error) {
	id, err := pathID(r, "upload")
	if err != nil {
		return Upload{}, err
	}
	u, err := x.app.CancelUpload(r.Context(), actorOf(r), id)
	if err != nil {
		return Upload{}, err
	}
	return uploadOut(u), nil
}

func (x *API) rejectedRows(r *http.Request, _ noBody) (RejectedRows, error) {
	id, err := pathID(r, "upload")
	if err != nil {
		return RejectedRows{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	u, err := x.app.Upload(ctx, actor, id)
	if err != nil {
		return RejectedRows{}, err
	}
	out := RejectedRows{Items: []RejectedRow{}}
	err = x.app.Rejects(ctx, actor, u, func(rows []regulars.RejectedRow) error {
		for _, row := range rows {
			out.Items = append(out.Items, RejectedRow{Line: row.Line, Value: row.Value, Reason: row.Reason, Detail: row.Detail})
		}
		return nil
	})
	return out, err
}
