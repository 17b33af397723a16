package app

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"regulars"
)

// EngagementInput is what the message, coupon and loyalty forms send.
// Numbers and dates come as typed, so that each gets its own message.
type EngagementInput struct {
	ChannelID   int64
	Name        string
	Description string
	StartsAt    string // YYYY-MM-DDTHH:MM (UTC) or YYYY-MM-DD; empty: on publish
	EndsAt      string // empty: open-ended
	// Image is an uploaded picture, stored when the rest is valid and
	// counted against the partner's storage; nil keeps the current one.
	Image []byte
	// CooldownHours is the least time between two firings of the
	// engagement for one follower by its targeting locations (empty: 24,
	// or the engagement's current value).
	CooldownHours string

	// Message
	Text, Link, Recurring, TimeOfDay string

	// Coupon
	RedemptionType                                                    string
	ProgramID                                                         int64
	PointCost, MinLevel, AutoThreshold, Stock, PerFollower, ValidDays string

	// Loyalty program
	ProgramKind, PointSingular, PointPlural, NoNewMembersAt                                     string
	ExpiryDays, PointsOnFollow, PointsOnJoin, PointsPerVisit, PointsPerAmount, PointsOnLocation string
	Levels                                                                                      []LevelInput
}

// LevelInput is one level row of the program form.
type LevelInput struct {
	Name      string
	Threshold string
}

// parseWhen reads a form date: "2006-01-02T15:04" (UTC) or "2006-01-02"
// (midnight UTC, or the end of that day when endOfDay).
func parseWhen(s string, endOfDay bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		if endOfDay {
			t = t.Add(24*time.Hour - time.Minute)
		}
		return t, true
	}
	return time.Time{}, false
}

// num reads a whole number field (empty = def) no lower than lo.
func num(v regulars.Validation, field, s string, def, lo, hi int64) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		v.Add(field, "Enter a whole number.")
	case n < lo:
		if lo == 0 {
			v.Add(field, "Enter 0 or more.")
		} else {
			v.Add(field, "Enter "+strconv.FormatInt(lo, 10)+" or more.")
		}
	case n > hi:
		v.Add(field, "Enter at most "+strconv.FormatInt(hi, 10)+".")
	}
	return n
}

var timeOfDayRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// build validates in for an engagement of kind and fills e; nothing is
// written. old is the engagement being edited (nil for a new one).
func (a *App) buildEngagement(ctx context.Context, actor *Actor, kind string, in EngagementInput, e *regulars.Engagement, old *regulars.Engagement) error {
	v := regulars.Validation{}
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	regulars.CheckName(v, "name", in.Name, 120)
	if utf8.RuneCountInString(in.Description) > 2000 {
		v.Add("description", "Use at most 2000 characters.")
	}
	if in.ChannelID == 0 {
		v.Add("channel", "Choose a channel.")
	} else if _, err := a.DB.Channel(ctx, actor.PartnerID(), in.ChannelID); err != nil {
		v.Add("channel", "Choose one of your channels.")
	}
	var starts, ends time.Time
	if s := strings.TrimSpace(in.StartsAt); s != "" {
		t, ok := parseWhen(s, false)
		if !ok {
			v.Add("starts_at", "Enter a date like 2026-05-01 or 2026-05-01T09:00 (UTC), or leave it empty to start on publishing.")
		}
		starts = t
	}
	if s := strings.TrimSpace(in.EndsAt); s != "" {
		t, ok := parseWhen(s, true)
		switch {
		case !ok:
			v.Add("ends_at", "Enter a date like 2026-06-30 or 2026-06-30T18:00 (UTC), or leave it empty.")
		case !starts.IsZero() && !t.After(starts):
			v.Add("ends_at", "The end must come after the start.")
		case old == nil || old.Status == regulars.EngagementDraft:
			if !t.After(a.now()) {
				v.Add("ends_at", "The end must be in the future.")
			}
		}
		ends = t
	}
	if old != nil && old.Status != regulars.EngagementDraft && (!starts.Equal(old.StartsAt) || !ends.Equal(old.EndsAt)) {
		if !starts.Equal(old.StartsAt) {
			v.Add("starts_at", "Dates can only change while the engagement is a draft.")
		}
		if !ends.Equal(old.EndsAt) {
			v.Add("ends_at", "Dates can only change while the engagement is a draft.")
		}
	}
	if old != nil && old.Status != regulars.EngagementDraft && in.ChannelID != old.ChannelID {
		v.Add("channel", "The channel can only change while the engagement is a draft.")
	}
	e.TenantID, e.PartnerID, e.ChannelID, e.Kind = actor.User.TenantID, actor.PartnerID(), in.ChannelID, kind
	e.Name, e.Description, e.StartsAt, e.EndsAt = in.Name, in.Description, starts, ends
	cooldown := int64(DefaultCooldown / time.Hour)
	if old != nil && old.CooldownSeconds > 0 {
		cooldown = max(1, old.CooldownSeconds/3600)
	}
	e.CooldownSeconds = num(v, "cooldown_hours", in.CooldownHours, cooldown, 1, 24*365) * 3600
	if in.Image != nil {
		if _, problem := checkImage(in.Image); problem != "" {
			v.Add("image", problem)
		}
	}
	switch kind {
	case regulars.KindMessage:
		a.buildMessage(v, in, e)
	case regulars.KindCoupon:
		a.buildCoupon(ctx, actor, v, in, e, old)
	case regulars.KindLoyalty:
		a.buildLoyalty(v, in, e, old)
	default:
		return regulars.ErrNotFound("engagement kind")
	}
	return v.Err()
}

func (a *App) buildMessage(v regulars.Validation, in EngagementInput, e *regulars.Engagement) {
	m := &regulars.MessageSpec{Text: strings.TrimSpace(in.Text), Link: strings.TrimSpace(in.Link), Recurring: in.Recurring, TimeOfDay: strings.TrimSpace(in.TimeOfDay)}
	switch n := utf8.RuneCountInString(m.Text); {
	case n == 0:
		v.Add("text", "Write the message.")
	case n > 2000:
		v.Add("text", "Use at most 2000 characters.")
	}
	if m.Link != "" {
		u, err := url.Parse(m.Link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(m.Link) > 500 {
			v.Add("link", "Enter a web address starting with https://.")
		}
	}
	switch m.Recurring {
	case "", regulars.RecurOnce:
		m.Recurring, m.TimeOfDay = regulars.RecurOnce, ""
	case regulars.RecurDaily, regulars.RecurWeekly, regulars.RecurMonthly:
		if !timeOfDayRE.MatchString(m.TimeOfDay) {
			v.Add("time_of_day", "Enter the time of day as HH:MM (UTC), e.g. 09:30.")
		}
	default:
		v.Add("recurring", "Choose once, daily, weekly or monthly.")
	}
	e.Message = m
}

func (a *App) buildCoupon(ctx context.Context, actor *Actor, v regulars.Validation, in EngagementInput, e *regulars.Engagement, old *regulars.Engagement) {
	c := &regulars.CouponSpec{RedemptionType: in.RedemptionType, ProgramID: in.ProgramID}
	switch c.RedemptionType {
	case regulars.RedeemClick, regulars.RedeemCode, regulars.RedeemTimed, regulars.RedeemAutoPoint, regulars.RedeemAutoVisit:
	default:
		v.Add("redemption_type", "Choose how the coupon is redeemed.")
	}
	c.PointCost = num(v, "point_cost", in.PointCost, 0, 0, 10_000_000)
	c.MinLevel = int(num(v, "min_level", in.MinLevel, 0, 0, 100))
	c.AutoThreshold = num(v, "auto_threshold", in.AutoThreshold, 0, 0, 100_000_000)
	c.Stock = num(v, "stock", in.Stock, 0, 0, 100_000_000)
	c.PerFollower = num(v, "per_follower", in.PerFollower, 1, 0, 1000)
	c.ValidDays = num(v, "valid_days", in.ValidDays, 0, 0, 3650)
	c.ProofSeconds = DefaultProofSeconds
	if old != nil && old.Coupon != nil {
		c.Redeemed = old.Coupon.Redeemed
		if c.Stock > 0 && c.Stock < c.Redeemed {
			v.Add("stock", "Already "+strconv.FormatInt(c.Redeemed, 10)+" redeemed: the stock cannot be lower.")
		}
	}
	var p *regulars.Engagement
	if c.ProgramID != 0 {
		prog, err := a.DB.Engagement(ctx, actor.PartnerID(), c.ProgramID)
		if err != nil || prog.Kind != regulars.KindLoyalty {
			v.Add("program", "Choose one of your loyalty programs.")
		} else {
			p = prog
		}
	}
	switch {
	case c.PointCost > 0 && c.ProgramID == 0:
		v.Add("point_cost", "A point cost needs a loyalty program: choose one.")
	case c.PointCost > 0 && p != nil && !p.Loyalty.CanSpend():
		v.Add("point_cost", p.Name+" is a gamification program: its points cannot be spent.")
	}
	switch {
	case c.MinLevel > 0 && c.ProgramID == 0:
		v.Add("min_level", "A level restriction needs a gamification or advanced program.")
	case c.MinLevel > 0 && p != nil && !p.Loyalty.HasLevels():
		v.Add("min_level", p.Name+" has no levels.")
	case c.MinLevel > 0 && p != nil && c.MinLevel > len(p.Loyalty.Levels):
		v.Add("min_level", p.Name+" has "+strconv.Itoa(len(p.Loyalty.Levels))+" levels.")
	}
	if c.RedemptionType == regulars.RedeemAutoPoint {
		if c.ProgramID == 0 {
			v.Add("program", "A coupon that activates at a points threshold needs a loyalty program.")
		}
		if c.AutoThreshold <= 0 {
			v.Add("auto_threshold", "Enter the total points at which the coupon activates.")
		}
	} else {
		c.AutoThreshold = 0
	}
	e.Coupon = c
}

func (a *App) buildLoyalty(v regulars.Validation, in EngagementInput, e *regulars.Engagement, old *regulars.Engagement) {
	l := &regulars.LoyaltySpec{ProgramKind: in.ProgramKind, PointSingular: strings.TrimSpace(in.PointSingular), PointPlural: strings.TrimSpace(in.PointPlural)}
	switch l.ProgramKind {
	case regulars.ProgramPoints, regulars.ProgramGamification, regulars.ProgramAdvanced:
	default:
		v.Add("program_kind", "Choose points, gamification or advanced.")
	}
	if l.PointSingular == "" {
		l.PointSingular = "point"
	}
	if l.PointPlural == "" {
		l.PointPlural = l.PointSingular + "s"
	}
	if utf8.RuneCountInString(l.PointSingular) > 30 {
		v.Add("point_singular", "Use at most 30 characters.")
	}
	if utf8.RuneCountInString(l.PointPlural) > 30 {
		v.Add("point_plural", "Use at most 30 characters.")
	}
	if s := strings.TrimSpace(in.NoNewMembersAt); s != "" {
		t, ok := parseWhen(s, false)
		if !ok {
			v.Add("no_new_members_at", "Enter a date like 2026-12-31, or leave it empty.")
		}
		l.NoNewMembersAt = t
	}
	l.ExpiryDays = num(v, "expiry_days", in.ExpiryDays, 0, 0, 3650)
	l.PointsOnFollow = num(v, "points_on_follow", in.PointsOnFollow, 0, 0, 1_000_000)
	l.PointsOnJoin = num(v, "points_on_join", in.PointsOnJoin, 0, 0, 1_000_000)
	l.PointsPerVisit = num(v, "points_per_visit", in.PointsPerVisit, 0, 0, 1_000_000)
	l.PointsPerAmount = num(v, "points_per_amount", in.PointsPerAmount, 0, 0, 1_000_000)
	l.PointsOnLocation = num(v, "points_on_location", in.PointsOnLocation, 0, 0, 1_000_000)
	if l.HasLevels() {
		var prev int64 = -1
		for i, row := range in.Levels {
			name := strings.TrimSpace(row.Name)
			if name == "" && strings.TrimSpace(row.Threshold) == "" {
				continue
			}
			field := "levels." + strconv.Itoa(i)
			th := num(v, field+".threshold", row.Threshold, -1, 0, 100_000_000)
			switch {
			case name == "":
				v.Add(field+".name", "Name the level.")
			case utf8.RuneCountInString(name) > 40:
				v.Add(field+".name", "Use at most 40 characters.")
			case th < 0:
				v.Add(field+".threshold", "Enter the total points that reach this level.")
			case th <= prev:
				v.Add(field+".threshold", "Each level needs more total points than the one before.")
			}
			prev = th
			l.Levels = append(l.Levels, regulars.ProgramLevel{Position: len(l.Levels) + 1, Name: name, Threshold: th})
		}
		if len(l.Levels) == 0 {
			v.Add("levels", "Add at least one level: name and total points to reach it.")
		}
		if old != nil && old.Status != regulars.EngagementDraft && old.Loyalty != nil && len(l.Levels) < len(old.Loyalty.Levels) {
			v.Add("levels", "Levels of a published program can be renamed and added, not removed.")
		}
	}
	e.Loyalty = l
}

// featureOf returns the feature that governs a kind, or an error.
func featureOf(kind string) (regulars.Feature, error) {
	f := regulars.FeatureOfKind(kind)
	if f == "" || kind == regulars.KindChat {
		return "", regulars.ErrNotFound("engagement kind")
	}
	return f, nil
}

// requireKind checks that kind is an engagement kind and that the actor has
// level on the feature that governs it.
func requireKind(actor *Actor, kind string, level regulars.Level) error {
	f, err := featureOf(kind)
	if err != nil {
		return err
	}
	return actor.Require(f, level)
}

// StaffEngagements lists the actor's engagements of a kind.
func (a *App) StaffEngagements(ctx context.Context, actor *Actor, kind, status string) ([]*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Engagements(ctx, actor.PartnerID(), kind, status)
}

// StaffEngagement returns one of the actor's engagements of a kind.
func (a *App) StaffEngagement(ctx context.Context, actor *Actor, kind string, id int64) (*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelView); err != nil {
		return nil, err
	}
	e, err := a.DB.Engagement(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if e.Kind != kind {
		return nil, regulars.ErrNotFound(kind)
	}
	return e, nil
}

// CreateEngagement adds a draft engagement of kind.
func (a *App) CreateEngagement(ctx context.Context, actor *Actor, kind string, in EngagementInput) (*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelManage); err != nil {
		return nil, err
	}
	e := &regulars.Engagement{Status: regulars.EngagementDraft}
	if err := a.buildEngagement(ctx, actor, kind, in, e, nil); err != nil {
		return nil, err
	}
	if err := a.saveEngagement(ctx, e, nil, in.Image, a.DB.CreateEngagement); err != nil {
		return nil, err
	}
	return e, nil
}

// saveEngagement writes e with write, storing its new picture first when
// there is one (replacing old's, when e is stored already).
func (a *App) saveEngagement(ctx context.Context, e *regulars.Engagement, old *regulars.Engagement, image []byte, write func(context.Context, *regulars.Engagement) error) error {
	var oldImage string
	var current func(context.Context) (string, error)
	if old != nil {
		oldImage = old.Image
		current = func(ctx context.Context) (string, error) {
			now, err := a.DB.Engagement(ctx, old.PartnerID, old.ID)
			if err != nil {
				return "", err
			}
			return now.Image, nil
		}
	}
	switch {
	case image == nil && current == nil:
		return write(ctx, e)
	case image == nil:
		// The picture stays: the one in place now, which a replacement
		// since old was read may have changed (writing old's back would
		// point at a removed file).
		return a.DB.InTx(ctx, func(ctx context.Context) error {
			now, err := a.imageInPlace(ctx, e.TenantID, e.PartnerID, current)
			if err != nil {
				return err
			}
			e.Image = now
			return write(ctx, e)
		})
	}
	_, err := a.replaceImage(ctx, e.TenantID, e.PartnerID, "image", oldImage, image, current, func(ctx context.Context, name string) error {
		e.Image = name
		return write(ctx, e)
	})
	return err
}

// UpdateEngagement saves an engagement. Dates and channel change only while
// it is a draft; a finished engagement is archived and changes no more.
func (a *App) UpdateEngagement(ctx context.Context, actor *Actor, kind string, id int64, in EngagementInput) (*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	old, err := a.StaffEngagement(ctx, actor, kind, id)
	if err != nil {
		return nil, err
	}
	if old.Status == regulars.EngagementFinished {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is finished and archived: it cannot change.", old.Name)
	}
	e := *old
	if err := a.buildEngagement(ctx, actor, kind, in, &e, old); err != nil {
		return nil, err
	}
	if err := a.saveEngagement(ctx, &e, old, in.Image, a.DB.UpdateEngagement); err != nil {
		return nil, err
	}
	a.catalogChanged()
	if e.Status == regulars.EngagementActive && e.CooldownSeconds != old.CooldownSeconds {
		a.GeofenceChanged(ctx, e.TenantID, e.ID)
	}
	return &e, nil
}

// PublishEngagement makes a draft active: an empty start means now. Its
// package's limit on active engagements of the kind applies.
func (a *App) PublishEngagement(ctx context.Context, actor *Actor, kind string, id int64) (*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	e, err := a.StaffEngagement(ctx, actor, kind, id)
	if err != nil {
		return nil, err
	}
	if e.Status != regulars.EngagementDraft {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is already published.", e.Name)
	}
	now := a.now()
	if !e.EndsAt.IsZero() && !e.EndsAt.After(now) {
		return nil, regulars.Errorf(regulars.ECONFLICT, "The end date of %s has passed: change it before publishing.", e.Name)
	}
	c, err := a.DB.Channel(ctx, actor.PartnerID(), e.ChannelID)
	if err != nil {
		return nil, err
	}
	if c.Status != regulars.ChannelActive {
		return nil, regulars.Errorf(regulars.ECONFLICT, "Publish the channel %s first: followers cannot see a draft channel.", c.Name)
	}
	if e.Kind == regulars.KindCoupon && e.Coupon.ProgramID != 0 {
		p, err := a.DB.Engagement(ctx, actor.PartnerID(), e.Coupon.ProgramID)
		if err != nil {
			return nil, err
		}
		if p.Status != regulars.EngagementActive {
			return nil, regulars.Errorf(regulars.ECONFLICT, "Publish the loyalty program %s first: this coupon belongs to it.", p.Name)
		}
	}
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.CheckLimit(ctx, actor, limitOfKind(kind), 1); err != nil {
			return err
		}
		if e.StartsAt.IsZero() {
			e.StartsAt = now
			if err := a.DB.UpdateEngagement(ctx, e); err != nil {
				return err
			}
		}
		ok, err := a.DB.SetEngagementStatus(ctx, e.ID, regulars.EngagementDraft, regulars.EngagementActive, now)
		if err != nil {
			return err
		}
		if !ok {
			return regulars.Errorf(regulars.ECONFLICT, "%s is already published.", e.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	e.Status, e.PublishedAt = regulars.EngagementActive, now
	a.catalogChanged()
	a.Kick()
	a.GeofenceChanged(ctx, e.TenantID, e.ID)
	return e, nil
}

// FinishEngagement ends an active engagement now and archives it.
func (a *App) FinishEngagement(ctx context.Context, actor *Actor, kind string, id int64) (*regulars.Engagement, error) {
	if err := requireKind(actor, kind, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	e, err := a.StaffEngagement(ctx, actor, kind, id)
	if err != nil {
		return nil, err
	}
	now := a.now()
	ok, err := a.DB.SetEngagementStatus(ctx, e.ID, regulars.EngagementActive, regulars.EngagementFinished, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, regulars.Errorf(regulars.ECONFLICT, "Only an active engagement can be finished; %s is %s.", e.Name, e.Status)
	}
	e.Status, e.FinishedAt = regulars.EngagementFinished, now
	a.catalogChanged()
	a.GeofenceChanged(ctx, e.TenantID, e.ID)
	return e, nil
}

// StaffFollowerView is a follower as staff see them: their standing in a
// program and its ledger, and their history with the partner.
type StaffFollowerView struct {
	Follower   *regulars.Follower
	Program    *regulars.Engagement
	Membership *regulars.Membership
	Ledger     []*regulars.LedgerEntry
	Activity   []*regulars.Activity
}

// StaffMemberView shows a member of one of the actor's programs with the
// program's ledger and the follower's history with the partner.
func (a *App) StaffMemberView(ctx context.Context, actor *Actor, programID, followerID int64) (*StaffFollowerView, error) {
	if err := actor.Require(regulars.FeatureLoyalty, regulars.LevelView); err != nil {
		return nil, err
	}
	p, err := a.staffProgram(ctx, actor, programID)
	if err != nil {
		return nil, err
	}
	f, err := a.DB.Follower(ctx, actor.User.TenantID, followerID)
	if err != nil {
		return nil, err
	}
	m, err := a.DB.Membership(ctx, p.ID, f.ID)
	if err != nil {
		return nil, err
	}
	v := &StaffFollowerView{Follower: f, Program: p, Membership: m}
	if v.Ledger, err = a.DB.Ledger(ctx, p.ID, f.ID, 200); err != nil {
		return nil, err
	}
	if v.Activity, err = a.DB.Activities(ctx, f.ID, storeFilterPartner(actor.PartnerID())); err != nil {
		return nil, err
	}
	return v, nil
}

// StaffFollower finds a follower by end-user ID for staff of a partner: only
// one who follows or followed one of the partner's channels.
func (a *App) StaffFollower(ctx context.Context, actor *Actor, endUserID string) (*regulars.Follower, error) {
	f, err := a.staffFollower(ctx, actor, endUserID)
	if err != nil {
		return nil, err
	}
	known, err := a.DB.FollowedPartner(ctx, actor.PartnerID(), f.ID)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, regulars.Validation{"end_user_id": NormalizeEndUserID(endUserID) + " has never followed your channels."}.Err()
	}
	return f, nil
}

// ProgramLedger is a follower's standing and ledger in one program.
type ProgramLedger struct {
	Program    *regulars.Engagement
	Membership *regulars.Membership
	Ledger     []*regulars.LedgerEntry
}

// FollowerLedgers is a follower as the partner's staff see them.
type FollowerLedgers struct {
	Follower *regulars.Follower
	Programs []*ProgramLedger
	Activity []*regulars.Activity
}

// StaffFollowerLedgers shows a follower of the partner's channels: their
// standing and ledger in each of the partner's programs they joined, and
// their history with the partner. Anyone else is not found.
func (a *App) StaffFollowerLedgers(ctx context.Context, actor *Actor, followerID int64) (*FollowerLedgers, error) {
	if err := actor.Require(regulars.FeatureLoyalty, regulars.LevelView); err != nil {
		return nil, err
	}
	f, err := a.DB.Follower(ctx, actor.User.TenantID, followerID)
	if err != nil {
		return nil, err
	}
	known, err := a.DB.FollowedPartner(ctx, actor.PartnerID(), f.ID)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, regulars.ErrNotFound("follower")
	}
	out := &FollowerLedgers{Follower: f}
	ms, err := a.DB.Memberships(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		p, err := a.DB.Engagement(ctx, actor.PartnerID(), m.ProgramID)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			continue // another partner's program
		} else if err != nil {
			return nil, err
		}
		l, err := a.DB.Ledger(ctx, p.ID, f.ID, 100)
		if err != nil {
			return nil, err
		}
		out.Programs = append(out.Programs, &ProgramLedger{Program: p, Membership: m, Ledger: l})
	}
	if out.Activity, err = a.DB.Activities(ctx, f.ID, storeFilterPartner(actor.PartnerID())); err != nil {
		return nil, err
	}
	return out, nil
}
