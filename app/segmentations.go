package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"regulars"
	"regulars/store"
)

// SegmentationInput is what the editor and the API send.
type SegmentationInput struct {
	Name string
	Rule regulars.Rule
}

// MaxSegmentationName bounds a segmentation's name.
const MaxSegmentationName = 80

// SegmentOptions is what the editor offers: the partner's objects a rule
// can name.
type SegmentOptions struct {
	Engagements []*regulars.Engagement // messages, coupons and programs, not finished
	Channels    []*regulars.Channel
	Programs    []*regulars.Engagement // loyalty programs (with levels)
	Lists       []*regulars.CustomList
	Languages   []Language
}

// LevelPrograms lists the programs with levels: gamification and advanced.
func (o *SegmentOptions) LevelPrograms() []*regulars.Engagement {
	var out []*regulars.Engagement
	for _, p := range o.Programs {
		if p.Loyalty != nil && p.Loyalty.HasLevels() {
			out = append(out, p)
		}
	}
	return out
}

// Name returns the name of an object of the options, for summaries.
func (o *SegmentOptions) Name(kind string, id int64) string {
	switch kind {
	case "engagement", "program":
		for _, e := range slices.Concat(o.Engagements, o.Programs) {
			if e.ID == id {
				return "“" + e.Name + "”"
			}
		}
		return fmt.Sprintf("engagement %d (gone)", id)
	case "channel":
		for _, c := range o.Channels {
			if c.ID == id {
				return c.Name
			}
		}
		return fmt.Sprintf("channel %d (gone)", id)
	case "list":
		for _, l := range o.Lists {
			if l.ID == id {
				return "“" + l.Name + "”"
			}
		}
		return fmt.Sprintf("list %d (gone)", id)
	}
	return fmt.Sprint(id)
}

// Describe summarises a rule in words.
func (o *SegmentOptions) Describe(r regulars.Rule) []string {
	out := make([]string, len(r.Conditions))
	for i, c := range r.Conditions {
		out[i] = c.Describe(o.Name)
	}
	return out
}

// Language is a language a condition can name.
type Language struct{ Code, Name string }

// languageOptions lists the languages followers may choose (Languages),
// by name.
func languageOptions() []Language {
	out := make([]Language, 0, len(Languages))
	for code, name := range Languages {
		out = append(out, Language{code, name})
	}
	slices.SortFunc(out, func(x, y Language) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// LanguageName names a language code.
func LanguageName(code string) string {
	if n, ok := Languages[code]; ok {
		return n
	}
	return code
}

// SegmentOptionsFor loads what the actor's rules may name.
func (a *App) SegmentOptionsFor(ctx context.Context, actor *Actor) (*SegmentOptions, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return nil, err
	}
	o := &SegmentOptions{Languages: languageOptions()}
	es, err := a.DB.Engagements(ctx, actor.PartnerID(), "", "")
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		switch e.Kind {
		case regulars.KindLoyalty:
			o.Programs = append(o.Programs, e)
			fallthrough
		case regulars.KindMessage, regulars.KindCoupon:
			if e.Status != regulars.EngagementFinished {
				o.Engagements = append(o.Engagements, e)
			}
		}
	}
	if o.Channels, err = a.DB.Channels(ctx, actor.PartnerID()); err != nil {
		return nil, err
	}
	if o.Lists, err = a.DB.Lists(ctx, actor.PartnerID()); err != nil {
		return nil, err
	}
	return o, nil
}

// checkRuleRefs checks that every object a rule names is the actor's
// partner's, of the right kind: a condition naming another partner's
// engagement or list gets the same message as a missing one.
func (a *App) checkRuleRefs(ctx context.Context, actor *Actor, r regulars.Rule) error {
	v := regulars.Validation{}
	for k, msg := range regulars.FieldErrors(r.Check()) {
		v.Add(k, msg)
	}
	pid := actor.PartnerID()
	engagement := func(id int64) *regulars.Engagement {
		e, err := a.DB.Engagement(ctx, pid, id)
		if err != nil {
			return nil
		}
		return e
	}
	for i, c := range r.Conditions {
		key := regulars.CondKey(i)
		if _, bad := v[key]; bad {
			continue // its shape is wrong already: one message per condition
		}
		name := fmt.Sprintf("Condition %d (%s)", i+1, regulars.ConditionLabel(c.Type))
		fail := func(format string, args ...any) { v.Add(key, name+": "+fmt.Sprintf(format, args...)) }
		switch c.Type {
		case regulars.CondEngagement:
			e := engagement(c.EngagementID)
			switch {
			case e == nil:
				fail("engagement %d is not one of yours; choose a message, coupon or loyalty program of your channels.", c.EngagementID)
			case e.Kind != regulars.KindMessage && e.Kind != regulars.KindCoupon && e.Kind != regulars.KindLoyalty:
				fail("%s cannot be enabled; choose a message, coupon or loyalty program.", e.Name)
			}
		case regulars.CondChannel:
			if _, err := a.DB.Channel(ctx, pid, c.ChannelID); err != nil {
				fail("channel %d is not one of yours.", c.ChannelID)
			}
		case regulars.CondCurrentPoints, regulars.CondTotalPoints:
			if p := engagement(c.ProgramID); p == nil || p.Kind != regulars.KindLoyalty {
				fail("choose one of your loyalty programs (%d is not one).", c.ProgramID)
			}
		case regulars.CondLevel:
			p := engagement(c.ProgramID)
			switch {
			case p == nil || p.Kind != regulars.KindLoyalty:
				fail("choose one of your gamification or advanced programs (%d is not one).", c.ProgramID)
			case !p.Loyalty.HasLevels():
				fail("%s is a points-only program: it has no levels. Choose a gamification or advanced program.", p.Name)
			case *c.MaxLevel > len(p.Loyalty.Levels):
				fail("%s has %d levels; level %d does not exist.", p.Name, len(p.Loyalty.Levels), *c.MaxLevel)
			}
		case regulars.CondList:
			for _, id := range c.ListIDs {
				if _, err := a.DB.List(ctx, pid, id); err != nil {
					fail("list %d is not one of yours.", id)
					break
				}
			}
		}
	}
	if len(v) == 0 {
		return nil
	}
	msg := v["conditions"]
	for i := range r.Conditions {
		if m, ok := v[regulars.CondKey(i)]; ok && msg == "" {
			msg = "The segmentation's conditions need correcting: " + m
		}
	}
	return &regulars.Error{Code: regulars.EINVALID, Message: msg, Fields: map[string]string(v)}
}

func (a *App) checkSegmentation(ctx context.Context, actor *Actor, in *SegmentationInput) error {
	in.Name = strings.TrimSpace(in.Name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", in.Name, MaxSegmentationName)
	if err := a.checkRuleRefs(ctx, actor, in.Rule); err != nil {
		for k, msg := range regulars.FieldErrors(err) {
			v.Add(k, msg)
		}
	}
	if len(v) == 0 {
		return nil
	}
	msg := "Please correct the highlighted fields."
	for i := range in.Rule.Conditions {
		if m, ok := v[regulars.CondKey(i)]; ok {
			msg = "The segmentation's conditions need correcting: " + m
			break
		}
	}
	if m, ok := v["conditions"]; ok {
		msg = m
	}
	return &regulars.Error{Code: regulars.EINVALID, Message: msg, Fields: map[string]string(v)}
}

// Segmentations lists the partner's segmentations.
func (a *App) Segmentations(ctx context.Context, actor *Actor) ([]*regulars.Segmentation, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Segmentations(ctx, actor.PartnerID())
}

// Segmentation returns one of the partner's segmentations.
func (a *App) Segmentation(ctx context.Context, actor *Actor, id int64) (*regulars.Segmentation, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Segmentation(ctx, actor.PartnerID(), id)
}

// CreateSegmentation saves a new segmentation.
func (a *App) CreateSegmentation(ctx context.Context, actor *Actor, in SegmentationInput) (*regulars.Segmentation, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelManage); err != nil {
		return nil, err
	}
	if err := a.checkSegmentation(ctx, actor, &in); err != nil {
		return nil, err
	}
	s := &regulars.Segmentation{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: in.Name, Rule: in.Rule}
	if err := a.DB.CreateSegmentation(ctx, s, actor.User.ID); err != nil {
		return nil, err
	}
	return s, nil
}

// UpdateSegmentation changes a segmentation's name and conditions; the
// engagements that use it target the new conditions at once.
func (a *App) UpdateSegmentation(ctx context.Context, actor *Actor, id int64, in SegmentationInput) (*regulars.Segmentation, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	s, err := a.DB.Segmentation(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if err := a.checkSegmentation(ctx, actor, &in); err != nil {
		return nil, err
	}
	s.Name, s.Rule = in.Name, in.Rule
	if err := a.DB.UpdateSegmentation(ctx, s); err != nil {
		return nil, err
	}
	return s, nil
}

// DeleteSegmentation deletes a segmentation that no draft or active
// engagement uses; the refusal names those that do. Links to finished
// (archived) engagements go with it.
func (a *App) DeleteSegmentation(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelManage); err != nil {
		return err
	}
	s, err := a.DB.Segmentation(ctx, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	users, err := a.DB.SegmentationEngagements(ctx, s.ID)
	if err != nil {
		return err
	}
	var live []string
	var detail []*regulars.Engagement
	for _, e := range users {
		if e.Status != regulars.EngagementFinished {
			live = append(live, fmt.Sprintf("%s (%s)", e.Name, e.Kind))
			detail = append(detail, e)
		}
	}
	if len(live) > 0 {
		return &regulars.Error{Code: regulars.ECONFLICT, Detail: detail,
			Message: fmt.Sprintf("The segmentation %s is used by %s. Detach it from %s first.", s.Name, strings.Join(live, ", "), map[bool]string{true: "it", false: "them"}[len(live) == 1])}
	}
	return a.DB.DeleteSegmentation(ctx, s)
}

// SegmentEngagements lists the engagements that use a segmentation.
func (a *App) SegmentEngagements(ctx context.Context, actor *Actor, s *regulars.Segmentation) ([]*regulars.Engagement, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.SegmentationEngagements(ctx, s.ID)
}

// scopeFor checks the channel a count is limited to (0 = all channels).
func (a *App) scopeFor(ctx context.Context, actor *Actor, channelID int64) (store.SegmentScope, error) {
	scope := store.SegmentScope{PartnerID: actor.PartnerID(), ChannelID: channelID}
	if channelID != 0 {
		if _, err := a.DB.Channel(ctx, actor.PartnerID(), channelID); err != nil {
			return scope, &regulars.Error{Code: regulars.EINVALID, Message: "Choose one of your channels.", Fields: map[string]string{"channel": "Choose one of your channels."}}
		}
	}
	return scope, nil
}

// CountSegment counts the partner's followers (of one channel, or of any)
// who match the rule now. The rule is checked as on save, so an editor
// shows the same message while editing as when saving.
func (a *App) CountSegment(ctx context.Context, actor *Actor, r regulars.Rule, channelID int64) (int64, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return 0, err
	}
	if err := a.checkRuleRefs(ctx, actor, r); err != nil {
		return 0, err
	}
	scope, err := a.scopeFor(ctx, actor, channelID)
	if err != nil {
		return 0, err
	}
	return a.Segments.Count(ctx, actor.User.TenantID, scope, r)
}

// SegmentPopulation counts the followers a segment is counted among: the
// partner's active followers (of one channel, or of any).
func (a *App) SegmentPopulation(ctx context.Context, actor *Actor, channelID int64) (int64, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return 0, err
	}
	scope, err := a.scopeFor(ctx, actor, channelID)
	if err != nil {
		return 0, err
	}
	return a.Segments.Count(ctx, actor.User.TenantID, scope, regulars.Rule{})
}

// PreviewRow is a matching follower as the preview and the export show it.
type PreviewRow struct {
	Follower *regulars.Follower
	Age      int // -1 unknown
	// Points are the current points in the preview's program (-1: not a
	// member, or no program).
	Points int64
}

// Preview is a page of matching followers.
type Preview struct {
	Rows    []PreviewRow
	Program *regulars.Engagement // whose points are shown (nil: none)
	More    bool                 // more followers match after the last row
}

// previewProgram picks the program whose points a preview shows: the
// first the rule names, else the partner's first program.
func (a *App) previewProgram(ctx context.Context, actor *Actor, r regulars.Rule) (*regulars.Engagement, error) {
	for _, c := range r.Conditions {
		if c.ProgramID != 0 {
			if p, err := a.DB.Engagement(ctx, actor.PartnerID(), c.ProgramID); err == nil && p.Kind == regulars.KindLoyalty {
				return p, nil
			}
		}
	}
	ps, err := a.DB.Engagements(ctx, actor.PartnerID(), regulars.KindLoyalty, "")
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return ps[len(ps)-1], nil
}

// PreviewSegment returns up to limit matching followers after the id given.
func (a *App) PreviewSegment(ctx context.Context, actor *Actor, r regulars.Rule, channelID, after int64, limit int) (*Preview, error) {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return nil, err
	}
	if err := a.checkRuleRefs(ctx, actor, r); err != nil {
		return nil, err
	}
	scope, err := a.scopeFor(ctx, actor, channelID)
	if err != nil {
		return nil, err
	}
	ids, err := a.Segments.Members(ctx, actor.User.TenantID, scope, r, after, limit+1)
	if err != nil {
		return nil, err
	}
	p := &Preview{}
	if len(ids) > limit {
		ids, p.More = ids[:limit], true
	}
	if p.Program, err = a.previewProgram(ctx, actor, r); err != nil {
		return nil, err
	}
	p.Rows, err = a.previewRows(ctx, actor, p.Program, ids)
	return p, err
}

func (a *App) previewRows(ctx context.Context, actor *Actor, program *regulars.Engagement, ids []int64) ([]PreviewRow, error) {
	fs, err := a.DB.FollowersByIDs(ctx, actor.User.TenantID, ids)
	if err != nil {
		return nil, err
	}
	points := map[int64]int64{}
	if program != nil {
		ms, err := a.DB.MembershipFactsOf(ctx, []int64{program.ID}, ids)
		if err != nil {
			return nil, err
		}
		for _, m := range ms[program.ID] {
			points[m.FollowerID] = m.CurrentPoints
		}
	}
	now := a.now()
	rows := make([]PreviewRow, 0, len(fs))
	for _, f := range fs {
		pts, ok := points[f.ID]
		if !ok {
			pts = -1
		}
		rows = append(rows, PreviewRow{Follower: f, Age: f.Age(now), Points: pts})
	}
	return rows, nil
}

// ExportSegment calls fn with every matching follower, a page at a time, in
// id order: the CSV export of a segment.
func (a *App) ExportSegment(ctx context.Context, actor *Actor, r regulars.Rule, channelID int64, fn func(program *regulars.Engagement, rows []PreviewRow) error) error {
	if err := actor.Require(regulars.FeatureSegmentations, regulars.LevelView); err != nil {
		return err
	}
	if err := a.checkRuleRefs(ctx, actor, r); err != nil {
		return err
	}
	scope, err := a.scopeFor(ctx, actor, channelID)
	if err != nil {
		return err
	}
	program, err := a.previewProgram(ctx, actor, r)
	if err != nil {
		return err
	}
	var after int64
	for {
		ids, err := a.Segments.Members(ctx, actor.User.TenantID, scope, r, after, 2000)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		rows, err := a.previewRows(ctx, actor, program, ids)
		if err != nil {
			return err
		}
		if err := fn(program, rows); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
}

// attachable loads an engagement the actor may change the targeting of:
// the partner's, not finished, and the actor may update its kind.
func (a *App) attachable(ctx context.Context, actor *Actor, engagementID int64) (*regulars.Engagement, error) {
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, err
	}
	f := regulars.FeatureOfKind(e.Kind)
	if f == "" || e.Kind == regulars.KindChat {
		return nil, regulars.ErrNotFound("engagement")
	}
	if err := actor.Require(f, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	if e.Status == regulars.EngagementFinished {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is finished (archived); its targeting cannot change.", e.Name)
	}
	return e, nil
}

// AttachSegmentation makes an engagement target a segmentation: with
// several, a follower in any of them is targeted. It changes the
// engagement, so it needs update on the engagement's kind (messages,
// coupons, loyalty), like any other edit of the engagement.
func (a *App) AttachSegmentation(ctx context.Context, actor *Actor, engagementID, segmentationID int64) (*regulars.Engagement, *regulars.Segmentation, error) {
	e, err := a.attachable(ctx, actor, engagementID)
	if err != nil {
		return nil, nil, err
	}
	s, err := a.DB.Segmentation(ctx, actor.PartnerID(), segmentationID)
	if err != nil {
		return nil, nil, err
	}
	return e, s, a.DB.AttachSegmentation(ctx, e, s.ID)
}

// DetachSegmentation stops an engagement targeting a segmentation. With
// none left, the engagement is for every follower of its channel.
func (a *App) DetachSegmentation(ctx context.Context, actor *Actor, engagementID, segmentationID int64) (*regulars.Engagement, *regulars.Segmentation, error) {
	e, err := a.attachable(ctx, actor, engagementID)
	if err != nil {
		return nil, nil, err
	}
	s, err := a.DB.Segmentation(ctx, actor.PartnerID(), segmentationID)
	if err != nil {
		return nil, nil, err
	}
	done, err := a.DB.DetachSegmentation(ctx, e, s.ID)
	if err == nil && !done {
		err = regulars.Errorf(regulars.ECONFLICT, "%s does not use the segmentation %s.", e.Name, s.Name)
	}
	return e, s, err
}

// EngagementTargeting is an engagement's segmentations and those it could add.
type EngagementTargeting struct {
	Engagement *regulars.Engagement
	Attached   []*regulars.Segmentation
	Available  []*regulars.Segmentation
	// CanChange is whether the actor may attach and detach.
	CanChange bool
}

// TargetingOf returns an engagement's segmentations, for the attach panel
// of engagement pages.
func (a *App) TargetingOf(ctx context.Context, actor *Actor, engagementID int64) (*EngagementTargeting, error) {
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), engagementID)
	if err != nil {
		return nil, err
	}
	if f := regulars.FeatureOfKind(e.Kind); f == "" || e.Kind == regulars.KindChat || !actor.Can(f, regulars.LevelView) {
		return nil, regulars.ErrNotFound("engagement")
	}
	t := &EngagementTargeting{Engagement: e, CanChange: e.Status != regulars.EngagementFinished && actor.Can(regulars.FeatureOfKind(e.Kind), regulars.LevelUpdate)}
	if t.Attached, err = a.DB.EngagementSegmentations(ctx, e.ID); err != nil {
		return nil, err
	}
	if !actor.Can(regulars.FeatureSegmentations, regulars.LevelView) {
		return t, nil // they see what it targets, but choose among nothing
	}
	all, err := a.DB.Segmentations(ctx, actor.PartnerID())
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if !slices.ContainsFunc(t.Attached, func(x *regulars.Segmentation) bool { return x.ID == s.ID }) {
			t.Available = append(t.Available, s)
		}
	}
	return t, nil
}

// TargetedEngagements reports which of a channel's engagements target the
// follower by segmentation (one read of the change log for all of them):
// the channel page and the chat's list of available engagements.
func (a *App) TargetedEngagements(ctx context.Context, es []*regulars.Engagement, followerID int64) ([]bool, error) {
	return a.Segments.Targeted(ctx, es, followerID)
}

// audienceTotal is how many followers a delivery of e will reach: the
// channel's current followers, or those of them in its segmentations.
func (a *App) audienceTotal(ctx context.Context, e *regulars.Engagement) (int64, error) {
	n, ok, err := a.Segments.AudienceSize(ctx, e)
	if err != nil || ok {
		return n, err
	}
	return a.DB.CountFollowers(ctx, e.ChannelID)
}
