package regulars

import (
	"time"
)

// Clock tells the time; tests replace it.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Tenant is the platform operator.
type Tenant struct {
	ID           int64
	Name         string
	Slug         string
	SupportEmail string
	SupportPhone string
	CreatedAt    time.Time
}

// Partner statuses.
const (
	PartnerPending   = "pending"
	PartnerActive    = "active"
	PartnerSuspended = "suspended"
)

// Billing periods.
const (
	BillingMonthly = "monthly"
	BillingYearly  = "yearly"
)

// Partner is a business on the platform.
type Partner struct {
	ID            int64
	TenantID      int64
	BrandName     string
	Country       string
	Website       string
	ContactEmail  string
	ContactPhone  string
	Status        string
	PackageID     int64
	BillingPeriod string
	CreatedAt     time.Time
}

// Package is what a partner buys from the tenant: features and limits.
type Package struct {
	ID           int64
	TenantID     int64
	Name         string
	MonthlyPrice int64 // minor units (cents)
	YearlyPrice  int64
	Currency     string
	Features     []Feature
	Limits       map[string]int64
	Retired      bool
	CreatedAt    time.Time
}

// Includes reports whether the package includes f.
func (p *Package) Includes(f Feature) bool {
	for _, x := range p.Features {
		if x == f {
			return true
		}
	}
	return false
}

// Staff user statuses.
const (
	UserInvited  = "invited"
	UserActive   = "active"
	UserDisabled = "disabled"
)

// User is a staff member: of a partner (PartnerID > 0) or of the tenant.
type User struct {
	ID                int64
	TenantID          int64
	PartnerID         int64 // 0 for tenant staff
	RoleID            int64
	Name              string
	Email             string
	Phone             string
	Status            string
	PasswordHash      string
	PasswordChangedAt time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// IsTenantStaff reports whether u works for the tenant rather than a partner.
func (u *User) IsTenantStaff() bool { return u.PartnerID == 0 }

// Role is a named set of permissions. The owner role of a partner is built in.
type Role struct {
	ID          int64
	TenantID    int64
	PartnerID   int64 // 0 for tenant staff roles
	Name        string
	IsOwner     bool
	Permissions Permissions
	CreatedAt   time.Time
	UserCount   int // filled by list queries
}

// OwnerRoleName is the name of the built-in role.
const OwnerRoleName = "Account owner"

// Session is a signed-in browser.
type Session struct {
	ID         int64
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute expiry
	UserAgent  string
	IP         string
}

// Token purposes for single-use emailed links.
const (
	TokenSetPassword   = "set_password"
	TokenResetPassword = "reset_password"
)

// APIToken is a personal access token for the JSON API.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// Channel statuses.
const (
	ChannelDraft  = "draft"
	ChannelActive = "active"
)

// Channel is what a partner publishes for followers.
type Channel struct {
	ID          int64
	TenantID    int64
	PartnerID   int64
	Name        string
	Description string
	Welcome     string
	Logo        string // stored file name under the media folder, "" for none
	Status      string
	ChatEnabled bool
	CreatedAt   time.Time
}

// Mail is an email the platform sends; it is kept in the outbox either way.
type Mail struct {
	ID        int64
	TenantID  int64
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
	SentAt    time.Time
	Error     string
}

// SupportMessage is a message from partner staff to the tenant.
type SupportMessage struct {
	ID          int64
	TenantID    int64
	PartnerID   int64
	UserID      int64
	Subject     string
	Body        string
	CreatedAt   time.Time
	PartnerName string
	UserName    string
	UserEmail   string
}

// IncludesOr reports whether the package includes f; for a nil package
// (tenant staff) it returns orNil.
func (p *Package) IncludesOr(f Feature, orNil bool) bool {
	if p == nil {
		return orNil
	}
	return p.Includes(f)
}
