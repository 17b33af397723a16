package api

import (
	"time"

	"regulars"
	"regulars/app"
)

// The bodies of the follower API (/api/v1/follower/…): what the tenant's
// app sends and receives. Unknown attributes are null, a state of their
// own; zero times are null.

// when returns nil for a zero time.
func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// known returns nil for "" (unknown).
func known(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Gender is a follower's stated gender.
type Gender string

// Enum lists the genders.
func (Gender) Enum() []string {
	return []string{regulars.GenderFemale, regulars.GenderMale, regulars.GenderOther}
}

// FollowerProfile is the signed-in follower.
type FollowerProfile struct {
	ID        int64     `json:"id"`
	EndUserID string    `json:"end_user_id" doc:"short ID shown at the till (also as a QR code, see /api/v1/follower/me/code)"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone" doc:"empty when not given"`
	BirthDate *string   `json:"birth_date" doc:"YYYY-MM-DD; null when unknown"`
	Age       *int      `json:"age" doc:"derived from the birth date; null when unknown"`
	Gender    *Gender   `json:"gender" doc:"null when unknown"`
	Language  *string   `json:"language" doc:"ISO 639-1 code; null when unknown"`
	CreatedAt time.Time `json:"created_at"`
}

func profileOut(f *regulars.Follower, now time.Time) FollowerProfile {
	p := FollowerProfile{ID: f.ID, EndUserID: f.EndUserID, Name: f.Name, Email: f.Email, Phone: f.Phone, BirthDate: known(f.BirthDate),
		Language: known(f.Language), CreatedAt: f.CreatedAt}
	if age := f.Age(now); age >= 0 {
		p.Age = &age
	}
	if f.Gender != "" {
		g := Gender(f.Gender)
		p.Gender = &g
	}
	return p
}

// SignUp creates a follower account.
type SignUp struct {
	Tenant    string  `json:"tenant,omitempty" doc:"the app's tenant slug; may be left out when the installation hosts one tenant"`
	Name      string  `json:"name,omitempty"`
	Email     string  `json:"email" doc:"used to sign in"`
	Password  string  `json:"password" doc:"at least 8 characters, not a common password"`
	Phone     string  `json:"phone,omitempty"`
	BirthDate *string `json:"birth_date,omitempty" doc:"YYYY-MM-DD; null or left out: unknown"`
	Gender    *string `json:"gender,omitempty" doc:"female, male or other; null or left out: unknown"`
	Language  *string `json:"language,omitempty" doc:"ISO 639-1 code; null or left out: unknown"`
}

// SignIn starts a follower session.
type SignIn struct {
	Tenant   string `json:"tenant,omitempty" doc:"the app's tenant slug; may be left out when the installation hosts one tenant"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

// FollowerSession is a follower's bearer token and profile.
type FollowerSession struct {
	Token    string          `json:"token" doc:"send as Authorization: Bearer <token> on follower calls"`
	Follower FollowerProfile `json:"follower"`
}

// ProfileUpdate replaces the follower's profile: an optional attribute
// left out or null becomes unknown.
type ProfileUpdate struct {
	Name      string  `json:"name,omitempty"`
	Email     string  `json:"email"`
	Phone     string  `json:"phone,omitempty"`
	BirthDate *string `json:"birth_date,omitempty" doc:"YYYY-MM-DD; null or left out: unknown"`
	Gender    *string `json:"gender,omitempty" doc:"female, male or other; null or left out: unknown"`
	Language  *string `json:"language,omitempty" doc:"ISO 639-1 code; null or left out: unknown"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// EndUserCode is the follower's end-user ID and its QR code.
type EndUserCode struct {
	EndUserID string `json:"end_user_id"`
	QRSVG     string `json:"qr_svg" doc:"an SVG image of a QR code holding the end-user ID, for staff to scan"`
}

// Channel is a channel as followers see it.
type Channel struct {
	ID            int64  `json:"id"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	Welcome       string `json:"welcome"`
	LogoURL       string `json:"logo_url" doc:"empty when the channel has no logo"`
	ChatEnabled   bool   `json:"chat_enabled"`
	Following     bool   `json:"following"`
	Notifications bool   `json:"notifications" doc:"whether the follower gets this channel's notifications (false when not following)"`
}

func mediaURL(name string) string {
	if name == "" {
		return ""
	}
	return "/media/" + name
}

func channelOut(c *regulars.Channel, f *regulars.Follow) Channel {
	out := Channel{ID: c.ID, Name: c.Name, Description: c.Description, Welcome: c.Welcome, LogoURL: mediaURL(c.Logo), ChatEnabled: c.ChatEnabled}
	if f != nil && f.UnfollowedAt.IsZero() {
		out.Following, out.Notifications = true, f.Notifications
	}
	return out
}

// ChannelList is the tenant's active channels.
type ChannelList struct {
	Items []Channel `json:"items"`
}

// FollowPeriod is one period of following a channel.
type FollowPeriod struct {
	FollowedAt   time.Time  `json:"followed_at"`
	UnfollowedAt *time.Time `json:"unfollowed_at" doc:"null while it lasts"`
}

// FollowedChannel is a channel the follower follows or followed.
type FollowedChannel struct {
	Channel Channel        `json:"channel"`
	Periods []FollowPeriod `json:"periods" doc:"newest first; re-following starts a new period"`
}

// FollowList is the follower's channels with their history.
type FollowList struct {
	Items []FollowedChannel `json:"items"`
}

// NotificationSwitch turns a channel's notifications on or off.
type NotificationSwitch struct {
	Enabled bool `json:"enabled"`
}

// Kind is an engagement kind.
type Kind string

// Enum lists the engagement kinds a follower sees.
func (Kind) Enum() []string {
	return []string{regulars.KindMessage, regulars.KindCoupon, regulars.KindLoyalty}
}

// RedemptionType says how a coupon is redeemed.
type RedemptionType string

// Enum lists the redemption types.
func (RedemptionType) Enum() []string {
	return []string{regulars.RedeemClick, regulars.RedeemCode, regulars.RedeemTimed, regulars.RedeemAutoPoint, regulars.RedeemAutoVisit}
}

// CouponInfo is what a coupon asks and offers.
type CouponInfo struct {
	RedemptionType RedemptionType `json:"redemption_type" doc:"click: the follower redeems; code: staff redeem with the end-user ID; timed: a 3-minute proof screen; auto_point / auto_visit: enabled automatically"`
	ProgramID      *int64         `json:"program_id" doc:"the loyalty program whose points it costs; null for none"`
	PointCost      int64          `json:"point_cost"`
	MinLevel       int            `json:"min_level" doc:"level position required, 0 for none"`
	MinLevelName   string         `json:"min_level_name"`
	AutoThreshold  int64          `json:"auto_threshold" doc:"total points that enable it (auto_point)"`
	Stock          int64          `json:"stock" doc:"total redemptions allowed, 0 = unlimited"`
	Remaining      *int64         `json:"remaining" doc:"redemptions left; null when unlimited"`
	PerFollower    int64          `json:"per_follower" doc:"redemptions per follower, 0 = unlimited"`
	ValidDays      int64          `json:"valid_days" doc:"days an enabled coupon stays valid, 0 = until the coupon ends"`
}

func couponInfo(e *regulars.Engagement, program *regulars.Engagement) *CouponInfo {
	c := e.Coupon
	out := &CouponInfo{RedemptionType: RedemptionType(c.RedemptionType), PointCost: c.PointCost, MinLevel: c.MinLevel, AutoThreshold: c.AutoThreshold,
		Stock: c.Stock, PerFollower: c.PerFollower, ValidDays: c.ValidDays}
	if c.ProgramID != 0 {
		id := c.ProgramID
		out.ProgramID = &id
	}
	if c.Stock > 0 {
		left := max(c.Stock-c.Redeemed, 0)
		out.Remaining = &left
	}
	if c.MinLevel > 0 && program != nil && program.Loyalty != nil {
		for _, l := range program.Loyalty.Levels {
			if l.Position == c.MinLevel {
				out.MinLevelName = l.Name
			}
		}
	}
	return out
}

// ProgramKind is the kind of a loyalty program.
type ProgramKind string

// Enum lists the program kinds.
func (ProgramKind) Enum() []string {
	return []string{regulars.ProgramPoints, regulars.ProgramGamification, regulars.ProgramAdvanced}
}

// ProgramLevel is a level of a gamification or advanced program.
type ProgramLevel struct {
	Position  int    `json:"position"`
	Name      string `json:"name"`
	Threshold int64  `json:"threshold" doc:"total points that reach it"`
}

// ProgramInfo is what a loyalty program offers.
type ProgramInfo struct {
	ProgramKind      ProgramKind    `json:"program_kind"`
	PointSingular    string         `json:"point_singular"`
	PointPlural      string         `json:"point_plural"`
	Levels           []ProgramLevel `json:"levels"`
	NoNewMembersFrom *time.Time     `json:"no_new_members_from" doc:"null when always open"`
	ExpiryDays       int64          `json:"expiry_days" doc:"points expire this many days after earning; 0 = never"`
	PointsOnFollow   int64          `json:"points_on_follow"`
	PointsOnJoin     int64          `json:"points_on_join"`
	PointsPerVisit   int64          `json:"points_per_visit"`
	PointsPerAmount  int64          `json:"points_per_amount" doc:"per whole currency unit of a purchase recorded by staff"`
	PointsOnLocation int64          `json:"points_on_location"`
}

func programInfo(e *regulars.Engagement) *ProgramInfo {
	l := e.Loyalty
	out := &ProgramInfo{ProgramKind: ProgramKind(l.ProgramKind), PointSingular: l.PointSingular, PointPlural: l.PointPlural, Levels: []ProgramLevel{},
		NoNewMembersFrom: when(l.NoNewMembersAt), ExpiryDays: l.ExpiryDays, PointsOnFollow: l.PointsOnFollow, PointsOnJoin: l.PointsOnJoin,
		PointsPerVisit: l.PointsPerVisit, PointsPerAmount: l.PointsPerAmount, PointsOnLocation: l.PointsOnLocation}
	for _, lv := range l.Levels {
		out.Levels = append(out.Levels, ProgramLevel{Position: lv.Position, Name: lv.Name, Threshold: lv.Threshold})
	}
	return out
}

// ActivationStatus is the state of an enabled coupon.
type ActivationStatus string

// Enum lists the activation states.
func (ActivationStatus) Enum() []string {
	return []string{regulars.ActivationActive, regulars.ActivationRedeemed, regulars.ActivationExpired}
}

// Activation is a coupon the follower enabled.
type Activation struct {
	ID          int64            `json:"id"`
	CouponID    int64            `json:"coupon_id"`
	Status      ActivationStatus `json:"status"`
	ActivatedAt time.Time        `json:"activated_at"`
	ValidUntil  *time.Time       `json:"valid_until" doc:"null when valid until the coupon ends"`
	RedeemedAt  *time.Time       `json:"redeemed_at"`
	ProofUntil  *time.Time       `json:"proof_until" doc:"time-based coupons: show the proof screen until then"`
}

func activationOut(a *regulars.CouponActivation) *Activation {
	if a == nil {
		return nil
	}
	return &Activation{ID: a.ID, CouponID: a.CouponID, Status: ActivationStatus(a.Status), ActivatedAt: a.ActivatedAt, ValidUntil: when(a.ValidUntil),
		RedeemedAt: when(a.RedeemedAt), ProofUntil: when(a.ProofUntil)}
}

// Membership is a follower's standing in a program.
type Membership struct {
	ProgramID     int64     `json:"program_id"`
	JoinedAt      time.Time `json:"joined_at"`
	CurrentPoints int64     `json:"current_points" doc:"the balance: never negative"`
	TotalPoints   int64     `json:"total_points" doc:"earned over the program's life; spending does not lower it"`
	Level         int       `json:"level" doc:"level position, 0 below every level"`
	LevelName     string    `json:"level_name"`
}

func membershipOut(m *regulars.Membership, p *regulars.Engagement) *Membership {
	if m == nil {
		return nil
	}
	out := &Membership{ProgramID: m.ProgramID, JoinedAt: m.JoinedAt, CurrentPoints: m.CurrentPoints, TotalPoints: m.TotalPoints, Level: m.Level}
	if p != nil && p.Loyalty != nil {
		for _, l := range p.Loyalty.Levels {
			if l.Position == m.Level {
				out.LevelName = l.Name
			}
		}
	}
	return out
}

// Offer is an engagement on a channel page, with where the follower stands.
type Offer struct {
	ID            int64        `json:"id"`
	Kind          Kind         `json:"kind"`
	Name          string       `json:"name"`
	Description   string       `json:"description"`
	ImageURL      string       `json:"image_url" doc:"empty when none"`
	EndsAt        *time.Time   `json:"ends_at" doc:"null when open-ended"`
	Coupon        *CouponInfo  `json:"coupon" doc:"coupons only"`
	Program       *ProgramInfo `json:"program" doc:"loyalty programs only"`
	ProgramName   string       `json:"program_name" doc:"coupons inside a program: its name"`
	MyActivation  *Activation  `json:"my_activation" doc:"coupons: the follower's active (or last) activation"`
	RedeemedCount int64        `json:"redeemed_count" doc:"coupons: times the follower redeemed it"`
	Refusal       string       `json:"refusal" doc:"coupons: why it cannot be enabled now; empty when it can"`
	MyMembership  *Membership  `json:"my_membership" doc:"programs: null until the follower joins"`
}

// ThreadMessage is a message in the follower's channel thread.
type ThreadMessage struct {
	DeliveryID   int64      `json:"delivery_id"`
	EngagementID int64      `json:"engagement_id"`
	Name         string     `json:"name"`
	Text         string     `json:"text"`
	Link         string     `json:"link"`
	ImageURL     string     `json:"image_url"`
	DeliveredAt  time.Time  `json:"delivered_at"`
	OpenedAt     *time.Time `json:"opened_at"`
}

func threadOut(ms []*app.ThreadMessage) []ThreadMessage {
	out := make([]ThreadMessage, 0, len(ms))
	for _, m := range ms {
		t := ThreadMessage{DeliveryID: m.DeliveryID, EngagementID: m.Engagement.ID, Name: m.Engagement.Name, ImageURL: mediaURL(m.Engagement.Image),
			DeliveredAt: m.DeliveredAt, OpenedAt: when(m.OpenedAt)}
		if m.Engagement.Message != nil {
			t.Text, t.Link = m.Engagement.Message.Text, m.Engagement.Message.Link
		}
		out = append(out, t)
	}
	return out
}

// ThreadMessageList is a channel thread, newest first.
type ThreadMessageList struct {
	Items []ThreadMessage `json:"items"`
}

// ChannelPage is a channel with its live engagements for the follower and
// the messages they received there.
type ChannelPage struct {
	Channel     Channel         `json:"channel"`
	FollowedAt  *time.Time      `json:"followed_at" doc:"start of the current follow period; null when not following"`
	Engagements []Offer         `json:"engagements"`
	Messages    []ThreadMessage `json:"messages" doc:"newest first"`
	// ChatFileLimit lets the app refuse a file that is too large before
	// uploading it.
	ChatFileLimit    int64  `json:"chat_file_limit" doc:"bytes: the largest picture or PDF the chat takes"`
	ChatFileTooLarge string `json:"chat_file_too_large" doc:"what the chat answers a larger file, for the app to say without uploading it"`
}

// MyCoupon is one of the follower's coupons.
type MyCoupon struct {
	Activation  Activation  `json:"activation"`
	CouponID    int64       `json:"coupon_id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	ImageURL    string      `json:"image_url"`
	ChannelID   int64       `json:"channel_id"`
	ChannelName string      `json:"channel_name"`
	Coupon      *CouponInfo `json:"coupon"`
}

// MyCouponList is the follower's coupons, newest first.
type MyCouponList struct {
	Items []MyCoupon `json:"items"`
}

// MyProgram is the follower's standing in one program.
type MyProgram struct {
	ID          int64         `json:"id"`
	Name        string        `json:"name"`
	ChannelID   int64         `json:"channel_id"`
	ChannelName string        `json:"channel_name"`
	Program     *ProgramInfo  `json:"program"`
	Membership  Membership    `json:"membership"`
	NextLevel   *ProgramLevel `json:"next_level" doc:"the next level to reach; null at the top or without levels"`
}

// MyProgramList is the follower's programs.
type MyProgramList struct {
	Items []MyProgram `json:"items"`
}

// LedgerKind is the kind of a ledger entry.
type LedgerKind string

// Enum lists the ledger entry kinds.
func (LedgerKind) Enum() []string {
	return []string{regulars.LedgerEarn, regulars.LedgerSpend, regulars.LedgerExpire, regulars.LedgerAdjust}
}

// LedgerEntry is one change of the follower's points.
type LedgerEntry struct {
	ID        int64      `json:"id"`
	Kind      LedgerKind `json:"kind"`
	Points    int64      `json:"points" doc:"signed"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at" doc:"earned points: when they expire; null for never"`
}

// LedgerList is a member's ledger, newest first.
type LedgerList struct {
	Items []LedgerEntry `json:"items"`
}

// ActivityItem is one line of the follower's history.
type ActivityItem struct {
	ID             int64     `json:"id"`
	Kind           string    `json:"kind" doc:"message_received, message_opened, coupon_enabled, coupon_redeemed, points_earned, points_spent, points_expired, points_adjusted, level_reached, program_joined, location_visited, channel_followed, channel_unfollowed"`
	ChannelID      *int64    `json:"channel_id"`
	EngagementID   *int64    `json:"engagement_id"`
	EngagementKind string    `json:"engagement_kind"`
	Points         int64     `json:"points"`
	Text           string    `json:"text"`
	CreatedAt      time.Time `json:"created_at"`
}

func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// ActivityList is the follower's history, newest first.
type ActivityList struct {
	Items []ActivityItem `json:"items"`
}

// Notification is an entry of the follower's notification feed.
type Notification struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	ChannelID    *int64     `json:"channel_id"`
	EngagementID *int64     `json:"engagement_id"`
	Title        string     `json:"title"`
	Body         string     `json:"body"`
	CreatedAt    time.Time  `json:"created_at"`
	ReadAt       *time.Time `json:"read_at"`
}

// NotificationList is the feed, newest first, with the unread count.
type NotificationList struct {
	Items  []Notification `json:"items"`
	Unread int64          `json:"unread"`
}
