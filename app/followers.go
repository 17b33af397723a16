package app

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"

	"regulars"
	"regulars/store"
)

// FollowerActor is a signed-in follower of the tenant's app.
type FollowerActor struct {
	Follower  *regulars.Follower
	Tenant    *regulars.Tenant
	TokenID   int64
	tokenHash string
}

// followerTokenPrefix marks follower tokens apart from staff tokens (rgs_).
const followerTokenPrefix = "rgf_"

// IsFollowerToken reports whether a bearer token is a follower's.
func IsFollowerToken(token string) bool { return strings.HasPrefix(token, followerTokenPrefix) }

// endUserAlphabet has no 0/O, 1/I/L: IDs are read aloud and typed at tills.
const endUserAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newEndUserID returns a random 8-character end-user ID.
func newEndUserID() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = endUserAlphabet[int(b[i])%len(endUserAlphabet)]
	}
	return string(b)
}

// appTenant resolves the tenant whose app a follower uses: by slug, or the
// only tenant of the installation when none is given.
func (a *App) appTenant(ctx context.Context, slug string) (*regulars.Tenant, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		t, err := a.DB.SoleTenant(ctx)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			return nil, regulars.Validation{"tenant": "Say which app you use: this installation hosts several."}.Err()
		}
		return t, err
	}
	t, err := a.DB.TenantBySlug(ctx, slug)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, regulars.Validation{"tenant": "There is no app called " + slug + "."}.Err()
	}
	return t, err
}

// Languages a follower may choose, ISO 639-1.
var Languages = map[string]string{
	"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
	"pl": "Polish", "sv": "Swedish", "da": "Danish", "fi": "Finnish", "no": "Norwegian", "cs": "Czech", "hr": "Croatian",
	"sl": "Slovenian", "sr": "Serbian", "hu": "Hungarian", "ro": "Romanian", "el": "Greek", "tr": "Turkish", "ru": "Russian",
	"uk": "Ukrainian", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
	"ga": "Irish", "cy": "Welsh",
}

// ProfileInput is what a follower may say about themselves. Empty birth
// date, gender or language means unknown, a state of its own.
type ProfileInput struct {
	Name      string
	Email     string
	Phone     string
	BirthDate string // YYYY-MM-DD
	Gender    string
	Language  string
}

func (in *ProfileInput) normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = regulars.NormalizeEmail(in.Email)
	in.Phone = regulars.NormalizePhone(in.Phone)
	in.BirthDate = strings.TrimSpace(in.BirthDate)
	in.Gender = strings.ToLower(strings.TrimSpace(in.Gender))
	in.Language = strings.ToLower(strings.TrimSpace(in.Language))
}

func (in *ProfileInput) validate(v regulars.Validation, now time.Time) {
	if utf8.RuneCountInString(in.Name) > 120 {
		v.Add("name", "Use at most 120 characters.")
	}
	if in.Email != "" && !regulars.ValidEmail(in.Email) {
		v.Add("email", "Enter an email address like name@example.com.")
	}
	if in.Phone != "" && !regulars.ValidPhone(in.Phone) {
		v.Add("phone", "Enter a phone number with 7 to 15 digits, e.g. +44 20 7946 0958.")
	}
	if in.BirthDate != "" {
		b, err := time.Parse("2006-01-02", in.BirthDate)
		switch {
		case err != nil:
			v.Add("birth_date", "Enter a date as YYYY-MM-DD, or leave it empty.")
		case b.After(now):
			v.Add("birth_date", "The birth date cannot be in the future.")
		case now.Year()-b.Year() > 120:
			v.Add("birth_date", "Enter a birth date within the last 120 years.")
		case now.Year()-b.Year() < 13:
			v.Add("birth_date", "You must be at least 13 to use the app.")
		}
	}
	switch in.Gender {
	case "", regulars.GenderFemale, regulars.GenderMale, regulars.GenderOther:
	default:
		v.Add("gender", "Choose female, male, other, or leave it unknown.")
	}
	if _, ok := Languages[in.Language]; in.Language != "" && !ok {
		v.Add("language", "Choose a language from the list (a two-letter code like en), or leave it unknown.")
	}
}

// SignUpInput creates a follower account.
type SignUpInput struct {
	Tenant   string // the app's tenant slug; may be empty with one tenant
	Password string
	ProfileInput
}

// FollowerSession is a signed-in follower and the bearer token to send.
type FollowerSession struct {
	Actor *FollowerActor
	Token string
}

// SignUpFollower creates a follower account with a fresh end-user ID and
// signs it in.
func (a *App) SignUpFollower(ctx context.Context, in SignUpInput) (*FollowerSession, error) {
	in.normalize()
	v := regulars.Validation{}
	t, err := a.appTenant(ctx, in.Tenant)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Email == "":
		v.Add("email", "This field is required.")
	}
	in.validate(v, a.now())
	if msg := regulars.CheckPassword(in.Password); msg != "" {
		v.Add("password", msg)
	}
	if v["email"] == "" {
		if _, err := a.DB.FollowerByEmail(ctx, t.ID, in.Email); err == nil {
			v.Add("email", "An account with this email exists: sign in instead.")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	f := &regulars.Follower{TenantID: t.ID, Name: in.Name, Email: in.Email, Phone: in.Phone, BirthDate: in.BirthDate, Gender: in.Gender,
		Language: in.Language, PasswordHash: HashPassword(in.Password, a.Password)}
	for attempt := 0; ; attempt++ {
		f.EndUserID = newEndUserID()
		err := a.DB.CreateFollower(ctx, f)
		if err == nil {
			break
		}
		if fe := regulars.FieldErrors(err); fe["end_user_id"] != "" && attempt < 5 {
			continue // a rare collision: draw again
		}
		return nil, err
	}
	return a.newFollowerSession(ctx, t, f)
}

func (a *App) newFollowerSession(ctx context.Context, t *regulars.Tenant, f *regulars.Follower) (*FollowerSession, error) {
	token := NewSecret(followerTokenPrefix)
	if err := a.DB.CreateFollowerToken(ctx, f.ID, HashSecret(token), a.FollowerTokenTTL); err != nil {
		return nil, err
	}
	return &FollowerSession{Actor: &FollowerActor{Follower: f, Tenant: t}, Token: token}, nil
}

var errFollowerCredentials = regulars.Errorf(regulars.EUNAUTHORIZED, "The email or password is not correct.")

// SignInFollower checks a follower's email and password and returns a new
// token. Unknown and known emails take the same time and get one answer.
func (a *App) SignInFollower(ctx context.Context, tenantSlug, email, password, ip string) (*FollowerSession, error) {
	t, err := a.appTenant(ctx, tenantSlug)
	if err != nil {
		return nil, err
	}
	email = regulars.NormalizeEmail(email)
	if email == "" {
		return nil, errFollowerCredentials
	}
	pairKey, ipKey := "follower:"+email+"|"+ip, "ip:"+ip
	since := a.now().Add(-throttleWindow)
	if n, err := a.DB.LoginFailures(ctx, pairKey, since); err != nil {
		return nil, err
	} else if n >= maxFailuresPerPair {
		return nil, regulars.Errorf(regulars.ETOOMANY, "Too many failed attempts. Wait 15 minutes.")
	}
	f, err := a.DB.FollowerByEmail(ctx, t.ID, email)
	if err != nil && regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	hash := a.dummy()
	if f != nil && f.PasswordHash != "" {
		hash = f.PasswordHash
	}
	if !VerifyPassword(password, hash) || f == nil || f.PasswordHash == "" {
		if err := a.DB.RecordLoginFailure(ctx, pairKey, ipKey); err != nil {
			return nil, err
		}
		return nil, errFollowerCredentials
	}
	if f.Status != regulars.FollowerActive {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "This account is disabled.")
	}
	return a.newFollowerSession(ctx, t, f)
}

var errFollowerToken = regulars.Errorf(regulars.EUNAUTHORIZED, "Sign in to the app: send Authorization: Bearer <token>.")

// AuthenticateFollower resolves a follower's bearer token.
func (a *App) AuthenticateFollower(ctx context.Context, token string) (*FollowerActor, error) {
	if !IsFollowerToken(token) {
		return nil, errFollowerToken
	}
	hash := HashSecret(token)
	// The token itself is always checked: signing out or disabling a
	// follower deletes their tokens, on every node at once.
	id, followerID, err := a.DB.FollowerToken(ctx, hash)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, errFollowerToken
	} else if err != nil {
		return nil, err
	}
	// The follower and tenant rows are cached briefly.
	people := a.cache().followers
	if fa, ok := people.get(followerID, time.Now()); ok {
		cp := *fa
		cp.TokenID, cp.tokenHash = id, hash
		return &cp, nil
	}
	version := people.version.Load()
	f, err := a.DB.FollowerAny(ctx, followerID)
	if err != nil {
		return nil, err
	}
	if f.Status != regulars.FollowerActive {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "This account is disabled.")
	}
	t, err := a.DB.Tenant(ctx, f.TenantID)
	if err != nil {
		return nil, err
	}
	fa := &FollowerActor{Follower: f, Tenant: t}
	people.put(followerID, fa, time.Now(), version)
	cp := *fa
	cp.TokenID, cp.tokenHash = id, hash
	return &cp, nil
}

// SignOutFollower ends the token in use.
func (a *App) SignOutFollower(ctx context.Context, fa *FollowerActor) error {
	if err := a.DB.DeleteFollowerToken(ctx, fa.TokenID); err != nil {
		return err
	}
	a.signInsEnded(ctx, FollowerTopic(fa.Follower.ID))
	return nil
}

// UpdateFollowerProfile saves a follower's own profile.
func (a *App) UpdateFollowerProfile(ctx context.Context, fa *FollowerActor, in ProfileInput) (*regulars.Follower, error) {
	in.normalize()
	v := regulars.Validation{}
	if in.Email == "" {
		v.Add("email", "This field is required: you sign in with it.")
	}
	in.validate(v, a.now())
	if err := v.Err(); err != nil {
		return nil, err
	}
	f := *fa.Follower
	f.Name, f.Email, f.Phone, f.BirthDate, f.Gender, f.Language = in.Name, in.Email, in.Phone, in.BirthDate, in.Gender, in.Language
	if err := a.DB.UpdateFollowerProfile(ctx, &f); err != nil {
		return nil, err
	}
	a.cache().followers.drop(f.ID)
	if f.Name != fa.Follower.Name {
		a.publishProfile(ctx, &f)
	}
	fa.Follower = &f
	return &f, nil
}

// followerChannel loads an active channel of the follower's tenant; a draft
// channel, or one of a partner that is not active, does not exist for them.
// It reads the database: chat and follows need the channel as it is now.
func (a *App) followerChannel(ctx context.Context, fa *FollowerActor, id int64) (*regulars.Channel, error) {
	c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, id)
	if err != nil {
		return nil, err
	}
	if c.Status != regulars.ChannelActive {
		return nil, regulars.ErrNotFound("channel")
	}
	p, err := a.DB.Partner(ctx, c.TenantID, c.PartnerID)
	if err != nil {
		return nil, err
	}
	if p.Status != regulars.PartnerActive {
		return nil, regulars.ErrNotFound("channel")
	}
	return c, nil
}

// followerSnapshot is followerChannel from the channel cache, for pages.
func (a *App) followerSnapshot(ctx context.Context, fa *FollowerActor, id int64) (*channelSnapshot, error) {
	s, err := a.snapshot(ctx, fa.Tenant.ID, id)
	if err != nil {
		return nil, err
	}
	if s.Channel.Status != regulars.ChannelActive || !s.PartnerActive {
		return nil, regulars.ErrNotFound("channel")
	}
	return s, nil
}

// BrowseChannels lists the tenant's active channels, optionally matching q.
func (a *App) BrowseChannels(ctx context.Context, fa *FollowerActor, q string) ([]*regulars.Channel, error) {
	if len(q) > 100 {
		q = q[:100]
	}
	return a.DB.BrowseChannels(ctx, fa.Tenant.ID, q, 200)
}

// Follow starts following a channel (a new period when the follower had
// unfollowed it), records the activity, sends the welcome message to the
// notification feed and applies the "on follow" earning rules.
func (a *App) Follow(ctx context.Context, fa *FollowerActor, channelID int64) (*regulars.Follow, error) {
	c, err := a.followerChannel(ctx, fa, channelID)
	if err != nil {
		return nil, err
	}
	var f *regulars.Follow
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		var created bool
		var err error
		if f, created, err = a.DB.Follow(ctx, fa.Tenant.ID, c.ID, fa.Follower.ID, a.now()); err != nil || !created {
			return err
		}
		if err := a.DB.AddActivity(ctx, &regulars.Activity{TenantID: c.TenantID, PartnerID: c.PartnerID, ChannelID: c.ID, FollowerID: fa.Follower.ID,
			Kind: regulars.ActChannelFollowed, Text: "Followed " + c.Name, CreatedAt: a.now()}); err != nil {
			return err
		}
		if c.Welcome != "" {
			if err := a.DB.AddNotification(ctx, c.TenantID, &regulars.Notification{FollowerID: fa.Follower.ID, ChannelID: c.ID, Kind: "welcome",
				Title: c.Name, Body: c.Welcome, CreatedAt: a.now()}); err != nil {
				return err
			}
		}
		programs, err := a.DB.ActiveChannelEngagements(ctx, c.ID, regulars.KindLoyalty)
		if err != nil {
			return err
		}
		for _, p := range programs {
			if Live(p, a.now()) {
				if err := a.followBonus(ctx, p, fa.Follower.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	a.followerChanged(fa.Follower.ID)
	if err == nil {
		a.publishChannel(ctx, c, fa.Follower.ID, true)
	}
	return f, err
}

// Unfollow ends the current follow period; history stays.
func (a *App) Unfollow(ctx context.Context, fa *FollowerActor, channelID int64) error {
	c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, channelID)
	if err != nil {
		return err
	}
	defer a.followerChanged(fa.Follower.ID)
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		ok, err := a.DB.Unfollow(ctx, c.ID, fa.Follower.ID, a.now())
		if err != nil || !ok {
			if err == nil {
				err = regulars.Errorf(regulars.ECONFLICT, "You do not follow %s.", c.Name)
			}
			return err
		}
		return a.DB.AddActivity(ctx, &regulars.Activity{TenantID: c.TenantID, PartnerID: c.PartnerID, ChannelID: c.ID, FollowerID: fa.Follower.ID,
			Kind: regulars.ActChannelUnfollowed, Text: "Unfollowed " + c.Name, CreatedAt: a.now()})
	})
	if err == nil {
		a.publishChannel(ctx, c, fa.Follower.ID, false)
	}
	return err
}

// SetChannelNotifications switches a followed channel's notifications.
func (a *App) SetChannelNotifications(ctx context.Context, fa *FollowerActor, channelID int64, on bool) error {
	c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, channelID)
	if err != nil {
		return err
	}
	defer a.followerChanged(fa.Follower.ID)
	err = a.DB.SetFollowNotifications(ctx, c.ID, fa.Follower.ID, on)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return regulars.Errorf(regulars.ECONFLICT, "Follow %s first.", c.Name)
	}
	return err
}

// FollowedChannel is a channel the follower follows or followed, with the
// periods.
type FollowedChannel struct {
	Channel *regulars.Channel
	Current *regulars.Follow // nil when not following now
	Periods []*regulars.Follow
}

// MyChannels lists the channels a follower follows or followed, with the
// history of follow periods.
func (a *App) MyChannels(ctx context.Context, fa *FollowerActor) ([]*FollowedChannel, error) {
	hist, err := a.DB.FollowHistory(ctx, fa.Follower.ID)
	if err != nil {
		return nil, err
	}
	var out []*FollowedChannel
	by := map[int64]*FollowedChannel{}
	for _, f := range hist {
		fc := by[f.ChannelID]
		if fc == nil {
			c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, f.ChannelID)
			if err != nil {
				return nil, err
			}
			fc = &FollowedChannel{Channel: c}
			by[f.ChannelID] = fc
			out = append(out, fc)
		}
		fc.Periods = append(fc.Periods, f)
		if f.UnfollowedAt.IsZero() {
			fc.Current = f
		}
	}
	return out, nil
}

// OfferedEngagement is an engagement on a follower's channel page, with
// where the follower stands.
type OfferedEngagement struct {
	Engagement *regulars.Engagement
	Activation *regulars.CouponActivation // coupons: the active or last one
	Redeemed   int64                      // coupons: times redeemed
	Membership *regulars.Membership       // programs: when joined
	Program    *regulars.Engagement       // coupons inside a program
	Refusal    string                     // coupons: why it cannot be enabled now
}

// ChannelPage is a channel as a follower sees it.
type ChannelPage struct {
	Channel     *regulars.Channel
	Follow      *regulars.Follow // nil when not following
	Engagements []*OfferedEngagement
	Messages    []*ThreadMessage
}

// ThreadMessage is a message delivered into a follower's channel thread.
type ThreadMessage struct {
	DeliveryID  int64
	Engagement  *regulars.Engagement
	DeliveredAt time.Time
	OpenedAt    time.Time
}

// ChannelPageFor shows a channel to a follower: its live engagements meant
// for them (all of them to a visitor who does not follow it yet, so they
// see what following brings) and the messages they received.
func (a *App) ChannelPageFor(ctx context.Context, fa *FollowerActor, channelID int64) (*ChannelPage, error) {
	snap, err := a.followerSnapshot(ctx, fa, channelID)
	if err != nil {
		return nil, err
	}
	c := snap.Channel
	page := &ChannelPage{Channel: c}
	state, err := a.stateOf(ctx, fa.Follower.ID)
	if err != nil {
		return nil, err
	}
	page.Follow = state.Follows[c.ID]
	now := a.now()
	var acts []*regulars.CouponActivation
	members := map[int64]*regulars.Membership{}
	if page.Follow != nil {
		acts, members = state.Activations, state.Memberships
	}
	var offered, segmented []*regulars.Engagement
	for _, e := range snap.Engagements {
		if Live(e, now) && e.Kind != regulars.KindMessage {
			offered = append(offered, e)
			if !snap.Everyone[e.ID] {
				segmented = append(segmented, e)
			}
		}
	}
	// A visitor sees everything on offer; a follower what targets them:
	// the hook decides for the engagements with segmentations.
	excluded := map[int64]bool{}
	if page.Follow != nil && len(segmented) > 0 {
		in, err := a.targetedAmong(ctx, segmented, fa.Follower.ID)
		if err != nil {
			return nil, err
		}
		for i, e := range segmented {
			excluded[e.ID] = !in[i]
		}
	}
	for _, e := range offered {
		if excluded[e.ID] {
			continue
		}
		oe := &OfferedEngagement{Engagement: e}
		switch e.Kind {
		case regulars.KindCoupon:
			for _, act := range acts {
				if act.CouponID != e.ID {
					continue
				}
				if act.Status == regulars.ActivationRedeemed {
					oe.Redeemed++
				}
				if oe.Activation == nil || act.Status == regulars.ActivationActive {
					oe.Activation = act
				}
			}
			if e.Coupon.ProgramID != 0 {
				if oe.Program = snap.ByID[e.Coupon.ProgramID]; oe.Program == nil {
					if oe.Program, err = a.DB.TenantEngagement(ctx, fa.Tenant.ID, e.Coupon.ProgramID); err != nil {
						return nil, err
					}
				}
			}
			if page.Follow != nil && (oe.Activation == nil || oe.Activation.Status != regulars.ActivationActive) {
				var m *regulars.Membership
				if oe.Program != nil {
					m = members[oe.Program.ID]
				}
				if err := couponRules(e, oe.Program, oe.Redeemed, m, now); err != nil {
					oe.Refusal = regulars.ErrorMessage(err)
				}
			}
		case regulars.KindLoyalty:
			oe.Membership = members[e.ID]
		}
		page.Engagements = append(page.Engagements, oe)
	}
	if page.Messages, err = a.threadWith(ctx, fa, c.ID, 50, snap.ByID); err != nil {
		return nil, err
	}
	return page, nil
}

// thread lists the messages a follower received in a channel.
func (a *App) thread(ctx context.Context, fa *FollowerActor, channelID int64, limit int) ([]*ThreadMessage, error) {
	return a.threadWith(ctx, fa, channelID, limit, nil)
}

// threadWith is thread with the engagements already known (a snapshot's).
func (a *App) threadWith(ctx context.Context, fa *FollowerActor, channelID int64, limit int, known map[int64]*regulars.Engagement) ([]*ThreadMessage, error) {
	ds, err := a.DB.ChannelThread(ctx, fa.Follower.ID, channelID, limit)
	if err != nil {
		return nil, err
	}
	cache := map[int64]*regulars.Engagement{}
	for id, e := range known {
		cache[id] = e
	}
	out := make([]*ThreadMessage, 0, len(ds))
	for _, d := range ds {
		e := cache[d.EngagementID]
		if e == nil {
			if e, err = a.DB.TenantEngagement(ctx, fa.Tenant.ID, d.EngagementID); err != nil {
				return nil, err
			}
			cache[e.ID] = e
		}
		out = append(out, &ThreadMessage{DeliveryID: d.ID, Engagement: e, DeliveredAt: d.DeliveredAt, OpenedAt: d.OpenedAt})
	}
	return out, nil
}

// ChannelMessages lists a follower's message thread of a channel.
func (a *App) ChannelMessages(ctx context.Context, fa *FollowerActor, channelID int64) ([]*ThreadMessage, error) {
	c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, channelID)
	if err != nil {
		return nil, err
	}
	return a.thread(ctx, fa, c.ID, 200)
}

// OpenMessage records that a follower opened a message they received (the
// first time only adds a "message opened" activity).
func (a *App) OpenMessage(ctx context.Context, fa *FollowerActor, engagementID int64) error {
	e, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, engagementID)
	if err != nil || e.Kind != regulars.KindMessage {
		return regulars.ErrNotFound("message")
	}
	return a.DB.InTx(ctx, func(ctx context.Context) error {
		first, err := a.DB.MarkOpened(ctx, e.ID, fa.Follower.ID)
		if err != nil {
			return err
		}
		if !first {
			n, err := a.DB.CountDeliveredTo(ctx, e.ID, fa.Follower.ID)
			if err != nil {
				return err
			}
			if n == 0 {
				return regulars.ErrNotFound("message")
			}
			return nil
		}
		return a.activity(ctx, e, fa.Follower.ID, regulars.ActMessageOpened, 0, "Opened "+e.Name)
	})
}

// followerEngagement loads a live engagement of the follower's tenant that
// is meant for them.
func (a *App) followerEngagement(ctx context.Context, fa *FollowerActor, id int64, kind, what string) (*regulars.Engagement, error) {
	e, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, id)
	if err != nil || e.Kind != kind || e.Status == regulars.EngagementDraft {
		return nil, regulars.ErrNotFound(what)
	}
	if _, err := a.followerChannel(ctx, fa, e.ChannelID); err != nil {
		return nil, regulars.ErrNotFound(what)
	}
	ok, err := a.InAudience(ctx, e, fa.Follower.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		if _, ferr := a.DB.CurrentFollow(ctx, e.ChannelID, fa.Follower.ID); regulars.ErrorCode(ferr) == regulars.ENOTFOUND {
			return nil, regulars.Errorf(regulars.ECONFLICT, "Follow the channel first.")
		}
		return nil, regulars.ErrNotFound(what)
	}
	return e, nil
}

// EnableCoupon enables a coupon for the follower. Automatic coupons enable
// themselves; the rest follow the coupon's rules, each refusal with its
// reason.
func (a *App) EnableCoupon(ctx context.Context, fa *FollowerActor, couponID int64) (*regulars.CouponActivation, error) {
	c, err := a.followerEngagement(ctx, fa, couponID, regulars.KindCoupon, "coupon")
	if err != nil {
		return nil, err
	}
	switch c.Coupon.RedemptionType {
	case regulars.RedeemAutoPoint:
		if _, err := a.DB.ActiveActivation(ctx, c.ID, fa.Follower.ID); err != nil {
			return nil, couponRefusal("This coupon enables itself when you reach %d total points.", c.Coupon.AutoThreshold)
		}
	case regulars.RedeemAutoVisit:
		if _, err := a.DB.ActiveActivation(ctx, c.ID, fa.Follower.ID); err != nil {
			return nil, couponRefusal("This coupon enables itself when you visit the shop.")
		}
	}
	act, _, err := a.activate(ctx, c, fa.Follower.ID)
	return act, err
}

// RedeemCoupon redeems one of the follower's enabled coupons. Code coupons
// are redeemed by staff at the till; a time-based coupon starts its proof
// screen.
func (a *App) RedeemCoupon(ctx context.Context, fa *FollowerActor, activationID int64) (*regulars.CouponActivation, *regulars.Engagement, error) {
	act, err := a.DB.Activation(ctx, fa.Tenant.ID, activationID)
	if err != nil || act.FollowerID != fa.Follower.ID {
		return nil, nil, regulars.ErrNotFound("coupon")
	}
	c, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, act.CouponID)
	if err != nil {
		return nil, nil, err
	}
	if c.Coupon.RedemptionType == regulars.RedeemCode && act.Status == regulars.ActivationActive {
		return nil, nil, couponRefusal("Show your code at the till: staff redeem this coupon for you.")
	}
	return a.redeem(ctx, fa.Tenant.ID, act.ID, fa.Follower.ID, 0)
}

// MyCoupon is one of a follower's coupon activations with its coupon.
type MyCoupon struct {
	Activation *regulars.CouponActivation
	Coupon     *regulars.Engagement
	Channel    *regulars.Channel
}

// MyCoupons lists the follower's coupons, newest first.
func (a *App) MyCoupons(ctx context.Context, fa *FollowerActor) ([]*MyCoupon, error) {
	acts, err := a.DB.Activations(ctx, fa.Follower.ID)
	if err != nil {
		return nil, err
	}
	now := a.now()
	out := make([]*MyCoupon, 0, len(acts))
	coupons := map[int64]*regulars.Engagement{}
	channels := map[int64]*regulars.Channel{}
	for _, act := range acts {
		c := coupons[act.CouponID]
		if c == nil {
			if c, err = a.DB.TenantEngagement(ctx, fa.Tenant.ID, act.CouponID); err != nil {
				return nil, err
			}
			coupons[c.ID] = c
		}
		ch := channels[c.ChannelID]
		if ch == nil {
			if ch, err = a.DB.TenantChannel(ctx, fa.Tenant.ID, c.ChannelID); err != nil {
				return nil, err
			}
			channels[ch.ID] = ch
		}
		if act.Status == regulars.ActivationActive && !act.ValidUntil.IsZero() && !now.Before(act.ValidUntil) {
			cp := *act
			cp.Status = regulars.ActivationExpired // the job marks it soon; show it as it is
			act = &cp
		}
		out = append(out, &MyCoupon{Activation: act, Coupon: c, Channel: ch})
	}
	return out, nil
}

// JoinProgram makes the follower a member of a loyalty program.
func (a *App) JoinProgram(ctx context.Context, fa *FollowerActor, programID int64) (*regulars.Membership, error) {
	p, err := a.followerEngagement(ctx, fa, programID, regulars.KindLoyalty, "loyalty program")
	if err != nil {
		return nil, err
	}
	if !Live(p, a.now()) {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s has ended.", p.Name)
	}
	if _, err := a.DB.Membership(ctx, p.ID, fa.Follower.ID); err == nil {
		return nil, regulars.Errorf(regulars.ECONFLICT, "You already joined %s.", p.Name)
	}
	return a.joinProgram(ctx, p, fa.Follower.ID)
}

// MyProgram is a follower's standing in a program.
type MyProgram struct {
	Program    *regulars.Engagement
	Membership *regulars.Membership
	Channel    *regulars.Channel
	Next       *regulars.ProgramLevel // the next level to reach, nil at the top
}

// MyPrograms lists the follower's programs with current and total points
// and level.
func (a *App) MyPrograms(ctx context.Context, fa *FollowerActor) ([]*MyProgram, error) {
	ms, err := a.DB.Memberships(ctx, fa.Follower.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*MyProgram, 0, len(ms))
	for _, m := range ms {
		p, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, m.ProgramID)
		if err != nil {
			return nil, err
		}
		c, err := a.DB.TenantChannel(ctx, fa.Tenant.ID, p.ChannelID)
		if err != nil {
			return nil, err
		}
		mp := &MyProgram{Program: p, Membership: m, Channel: c}
		for _, l := range p.Loyalty.Levels {
			if l.Threshold > m.TotalPoints && (mp.Next == nil || l.Threshold < mp.Next.Threshold) {
				l := l
				mp.Next = &l
			}
		}
		out = append(out, mp)
	}
	return out, nil
}

// MyLedger lists the follower's ledger entries in one of their programs.
func (a *App) MyLedger(ctx context.Context, fa *FollowerActor, programID int64) ([]*regulars.LedgerEntry, error) {
	if _, err := a.DB.Membership(ctx, programID, fa.Follower.ID); err != nil {
		return nil, regulars.ErrNotFound("loyalty program")
	}
	return a.DB.Ledger(ctx, programID, fa.Follower.ID, 200)
}

// MyActivity lists the follower's history, newest first.
func (a *App) MyActivity(ctx context.Context, fa *FollowerActor, kind string, before int64) ([]*regulars.Activity, error) {
	return a.DB.Activities(ctx, fa.Follower.ID, store.ActivityFilter{EngagementKind: kind, Before: before, Limit: 100})
}

// MyNotifications lists the follower's notification feed and the unread
// count.
func (a *App) MyNotifications(ctx context.Context, fa *FollowerActor, before int64) ([]*regulars.Notification, int64, error) {
	list, err := a.DB.Notifications(ctx, fa.Follower.ID, before, 100)
	if err != nil {
		return nil, 0, err
	}
	n, err := a.DB.UnreadNotifications(ctx, fa.Follower.ID)
	return list, n, err
}

// ReadNotification marks a notification read.
func (a *App) ReadNotification(ctx context.Context, fa *FollowerActor, id int64) error {
	if ok, err := a.DB.HasNotification(ctx, fa.Follower.ID, id); err != nil || !ok {
		if err == nil {
			err = regulars.ErrNotFound("notification")
		}
		return err
	}
	return a.DB.MarkNotificationRead(ctx, fa.Follower.ID, id)
}

func storeFilterPartner(partnerID int64) store.ActivityFilter {
	return store.ActivityFilter{PartnerID: partnerID, Limit: 100}
}
