package regulars

import "time"

// Engagement kinds.
const (
	KindMessage = "message"
	KindCoupon  = "coupon"
	KindLoyalty = "loyalty"
	KindChat    = "chat" // every channel's chat counts as an engagement
)

// Engagement statuses: draft → active (published) → finished (archived).
const (
	EngagementDraft    = "draft"
	EngagementActive   = "active"
	EngagementFinished = "finished"
)

// FeatureOfKind maps an engagement kind to the feature that governs it.
func FeatureOfKind(kind string) Feature {
	switch kind {
	case KindMessage:
		return FeatureMessages
	case KindCoupon:
		return FeatureCoupons
	case KindLoyalty:
		return FeatureLoyalty
	case KindChat:
		return FeatureChat
	}
	return ""
}

// Engagement is something a channel offers followers. Kind-specific fields
// live in Message, Coupon or Loyalty; exactly one is set.
type Engagement struct {
	ID          int64
	TenantID    int64
	PartnerID   int64
	ChannelID   int64
	Kind        string
	Name        string
	Description string
	Image       string // stored file name, "" for none
	Status      string
	StartsAt    time.Time // zero: on publish
	EndsAt      time.Time // zero: open-ended
	PublishedAt time.Time
	FinishedAt  time.Time
	// Cooldown between two location-triggered firings for one follower.
	CooldownSeconds int64
	CreatedAt       time.Time
	UpdatedAt       time.Time

	Message *MessageSpec
	Coupon  *CouponSpec
	Loyalty *LoyaltySpec
}

// Recurrence of a message.
const (
	RecurOnce    = "once"
	RecurDaily   = "daily"
	RecurWeekly  = "weekly"
	RecurMonthly = "monthly"
)

// MessageSpec is a message engagement.
type MessageSpec struct {
	Text      string // ≤ 2000 characters
	Link      string
	Recurring string // once, daily, weekly, monthly
	TimeOfDay string // HH:MM (UTC) for recurring messages
}

// Coupon redemption types.
const (
	RedeemClick     = "click"      // the follower redeems with a click
	RedeemCode      = "code"       // staff redeem with the follower's end-user ID or QR
	RedeemTimed     = "timed"      // a 3-minute proof screen
	RedeemAutoPoint = "auto_point" // auto-activated at a points threshold
	RedeemAutoVisit = "auto_visit" // auto-activated when a location is visited
)

// CouponSpec is a coupon engagement.
type CouponSpec struct {
	RedemptionType string
	ProgramID      int64 // loyalty program the coupon belongs to (0 = none)
	PointCost      int64 // points spent on redemption inside the program
	MinLevel       int   // level position required (0 = none)
	AutoThreshold  int64 // total points that auto-activate it (auto_point)
	Stock          int64 // total redemptions allowed (0 = unlimited)
	Redeemed       int64 // redemptions so far
	PerFollower    int64 // redemptions per follower (0 = unlimited; default 1)
	ValidDays      int64 // days an enabled coupon stays valid (0 = until the end)
	ProofSeconds   int64 // time-based proof screen length (default 180)
}

// Loyalty program kinds.
const (
	ProgramPoints       = "points"       // earn and spend
	ProgramGamification = "gamification" // earn and climb levels
	ProgramAdvanced     = "advanced"     // both
)

// LoyaltySpec is a loyalty program.
type LoyaltySpec struct {
	ProgramKind      string
	PointSingular    string
	PointPlural      string
	Levels           []ProgramLevel
	NoNewMembersAt   time.Time // zero: always open
	ExpiryDays       int64     // points expire this many days after earning (0 = never)
	PointsOnFollow   int64
	PointsOnJoin     int64
	PointsPerVisit   int64
	PointsPerAmount  int64 // points per whole currency unit of a recorded purchase
	PointsOnLocation int64 // points for a location visit (proximity)
}

// ProgramLevel is a level of a gamification or advanced program: followers reach
// it when their total points reach Threshold. Position counts from 1.
type ProgramLevel struct {
	Position  int
	Name      string
	Threshold int64
}

// HasLevels reports whether the program kind climbs levels.
func (l *LoyaltySpec) HasLevels() bool {
	return l.ProgramKind == ProgramGamification || l.ProgramKind == ProgramAdvanced
}

// CanSpend reports whether points of the program can be spent.
func (l *LoyaltySpec) CanSpend() bool {
	return l.ProgramKind == ProgramPoints || l.ProgramKind == ProgramAdvanced
}

// LevelFor returns the position of the highest level whose threshold ≤ total
// (0 when below every level or the program has none).
func (l *LoyaltySpec) LevelFor(total int64) int {
	pos := 0
	for _, lv := range l.Levels {
		if lv.Threshold <= total && lv.Position > pos {
			pos = lv.Position
		}
	}
	return pos
}

// Ledger entry kinds.
const (
	LedgerEarn   = "earn"
	LedgerSpend  = "spend"
	LedgerExpire = "expire"
	LedgerAdjust = "adjust"
)

// LedgerEntry is an append-only change of a follower's points in a program.
type LedgerEntry struct {
	ID           int64
	TenantID     int64
	ProgramID    int64
	FollowerID   int64
	Kind         string
	Points       int64 // signed
	Reason       string
	StaffUserID  int64
	EngagementID int64 // coupon the points were spent on, if any
	ExpiresAt    time.Time
	CreatedAt    time.Time
}

// Membership is a follower's standing in a loyalty program: the balances are
// kept in step with the ledger in the same transaction.
type Membership struct {
	ProgramID     int64
	FollowerID    int64
	JoinedAt      time.Time
	CurrentPoints int64 // sum of the ledger, never negative
	TotalPoints   int64 // points earned over the program's life
	Level         int   // level position (0 = none)
}

// Coupon activation statuses.
const (
	ActivationActive   = "active"
	ActivationRedeemed = "redeemed"
	ActivationExpired  = "expired"
)

// CouponActivation is a follower's enabled coupon.
type CouponActivation struct {
	ID          int64
	CouponID    int64
	FollowerID  int64
	Status      string
	ActivatedAt time.Time
	ValidUntil  time.Time
	RedeemedAt  time.Time
	RedeemedBy  int64 // staff user, for code redemptions
	ProofUntil  time.Time
}

// Activity kinds: the follower's engagement history.
const (
	ActMessageReceived   = "message_received"
	ActMessageOpened     = "message_opened"
	ActCouponEnabled     = "coupon_enabled"
	ActCouponRedeemed    = "coupon_redeemed"
	ActPointsEarned      = "points_earned"
	ActPointsSpent       = "points_spent"
	ActPointsExpired     = "points_expired"
	ActPointsAdjusted    = "points_adjusted"
	ActLevelReached      = "level_reached"
	ActProgramJoined     = "program_joined"
	ActLocationVisited   = "location_visited"
	ActChannelFollowed   = "channel_followed"
	ActChannelUnfollowed = "channel_unfollowed"
)

// Activity is one line of a follower's append-only history.
type Activity struct {
	ID             int64
	TenantID       int64
	PartnerID      int64
	ChannelID      int64
	FollowerID     int64
	Kind           string
	EngagementID   int64
	EngagementKind string
	Points         int64
	Text           string
	CreatedAt      time.Time
}

// Notification is an entry of a follower's notification feed.
type Notification struct {
	ID           int64
	FollowerID   int64
	ChannelID    int64
	EngagementID int64
	Kind         string
	Title        string
	Body         string
	CreatedAt    time.Time
	ReadAt       time.Time
}
