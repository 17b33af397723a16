package regulars

import "time"

// Follower statuses.
const (
	FollowerActive   = "active"
	FollowerDisabled = "disabled"
)

// Genders a follower may state. Empty means unknown.
const (
	GenderFemale = "female"
	GenderMale   = "male"
	GenderOther  = "other"
)

// Follower is an end user of the tenant's app. Birth date, gender and
// language are optional: "" means unknown, and a segment on a known-only
// attribute never matches a follower for whom it is unknown.
type Follower struct {
	ID           int64
	TenantID     int64
	EndUserID    string // short, human-friendly, unique per tenant
	Name         string
	Email        string
	Phone        string
	BirthDate    string // YYYY-MM-DD or ""
	Gender       string // female, male, other or ""
	Language     string // ISO 639-1 code or ""
	Status       string
	PasswordHash string
	CreatedAt    time.Time
}

// Age returns the follower's age in whole years on day now, or -1 when the
// birth date is unknown.
func (f *Follower) Age(now time.Time) int {
	if f.BirthDate == "" {
		return -1
	}
	b, err := time.Parse("2006-01-02", f.BirthDate)
	if err != nil {
		return -1
	}
	years := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		years--
	}
	return years
}

// Follow is a period during which a follower follows a channel. Re-following
// starts a new period; UnfollowedAt is zero while it lasts.
type Follow struct {
	ID            int64
	TenantID      int64
	ChannelID     int64
	FollowerID    int64
	FollowedAt    time.Time
	UnfollowedAt  time.Time
	Notifications bool
}
