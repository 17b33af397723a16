package regulars

import (
	"encoding/json"
	"fmt"
	"slices"
)

// Feature is a part of the partner admin that a package includes and a role
// grants a level of.
type Feature string

// The partner features. Every area of the product is one of them.
const (
	FeatureDashboard      Feature = "dashboard"
	FeatureChat           Feature = "chat"
	FeatureCanned         Feature = "canned_responses"
	FeatureChannels       Feature = "channels"
	FeatureMessages       Feature = "messages"
	FeatureCoupons        Feature = "coupons"
	FeatureLoyalty        Feature = "loyalty"
	FeatureSegmentations  Feature = "segmentations"
	FeatureCustomLists    Feature = "custom_lists"
	FeatureLocations      Feature = "locations"
	FeatureUsers          Feature = "users"
	FeatureRoles          Feature = "roles"
	FeaturePartnership    Feature = "partnership"
	FeatureAccount        Feature = "account" // own profile: every signed-in user has it
	FeatureSupport        Feature = "support" // contact the tenant: every signed-in user has it
	FeatureTenantPartners Feature = "tenant_partners"
	FeatureTenantPackages Feature = "tenant_packages"
	FeatureTenantRequests Feature = "tenant_requests"
	FeatureTenantStaff    Feature = "tenant_staff"
	FeatureTenantOutbox   Feature = "tenant_outbox"
	FeatureTenantSupport  Feature = "tenant_support"
	FeatureTenantCanned   Feature = "tenant_canned"
)

// FeatureInfo describes a feature for the role editor and menus.
type FeatureInfo struct {
	Feature Feature
	Label   string
	Help    string
}

// PartnerFeatures lists, in menu order, the features a partner role can grant.
var PartnerFeatures = []FeatureInfo{
	{FeatureDashboard, "Dashboard and reports", "Followers, engagements and redemptions at a glance"},
	{FeatureChat, "Chat", "Live conversations with followers"},
	{FeatureCanned, "Canned responses", "Prepared answers for the chat"},
	{FeatureChannels, "Channels", "Channel pages, welcome message, chat switch"},
	{FeatureMessages, "Messages", "Message engagements"},
	{FeatureCoupons, "Coupons", "Coupon engagements and redemption"},
	{FeatureLoyalty, "Loyalty programs", "Points, levels and ledgers"},
	{FeatureSegmentations, "Segmentations", "Target groups of followers"},
	{FeatureCustomLists, "Custom end-user lists", "Uploaded lists of followers"},
	{FeatureLocations, "Locations", "Store and targeting locations"},
	{FeatureUsers, "Users", "Admin users of this partner"},
	{FeatureRoles, "Roles", "What each role may do"},
	{FeaturePartnership, "Partnership settings", "Package, add-ons, wallet and requests"},
}

// TenantFeatures lists the features of the tenant console.
var TenantFeatures = []FeatureInfo{
	{FeatureTenantPartners, "Partners", "Partners and registrations"},
	{FeatureTenantPackages, "Packages and add-ons", "Packages, prices, the add-on catalogue"},
	{FeatureTenantRequests, "Requests", "Approve or reject partner requests"},
	{FeatureTenantStaff, "Staff", "Tenant staff users and roles"},
	{FeatureTenantOutbox, "Email outbox", "Emails the platform sent or keeps"},
	{FeatureTenantSupport, "Support inbox", "Messages from partners"},
	{FeatureTenantCanned, "Canned response defaults", "Prepared chat answers every partner's agents can use"},
}

// AllPartnerFeatures returns the partner features' names.
func AllPartnerFeatures() []Feature {
	out := make([]Feature, len(PartnerFeatures))
	for i, f := range PartnerFeatures {
		out[i] = f.Feature
	}
	return out
}

// IsPartnerFeature reports whether f can be granted by a partner role.
func IsPartnerFeature(f Feature) bool {
	return slices.ContainsFunc(PartnerFeatures, func(i FeatureInfo) bool { return i.Feature == f })
}

// IsTenantFeature reports whether f is a tenant console feature.
func IsTenantFeature(f Feature) bool {
	return slices.ContainsFunc(TenantFeatures, func(i FeatureInfo) bool { return i.Feature == f })
}

// Level is how much a role may do with a feature.
type Level int

// The levels of the seed, in increasing order.
const (
	LevelNone   Level = 0
	LevelView   Level = 1 // view only
	LevelUpdate Level = 2 // view and update
	LevelManage Level = 3 // create, update and delete
)

// Levels lists the levels in order for forms.
var Levels = []Level{LevelNone, LevelView, LevelUpdate, LevelManage}

func (l Level) String() string {
	switch l {
	case LevelNone:
		return "None"
	case LevelView:
		return "View only"
	case LevelUpdate:
		return "View and update"
	case LevelManage:
		return "Create, update and delete"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool { return l >= LevelNone && l <= LevelManage }

// Permissions maps a feature to a level. A missing feature is LevelNone.
type Permissions map[Feature]Level

// Level returns the level for f.
func (p Permissions) Level(f Feature) Level { return p[f] }

// Allows reports whether p grants at least want on f.
func (p Permissions) Allows(f Feature, want Level) bool { return p[f] >= want }

// Clone returns a copy of p.
func (p Permissions) Clone() Permissions {
	out := make(Permissions, len(p))
	for k, v := range p {
		if v > LevelNone {
			out[k] = v
		}
	}
	return out
}

// Restrict returns p limited to the features in allowed.
func (p Permissions) Restrict(allowed []Feature) Permissions {
	out := Permissions{}
	for _, f := range allowed {
		if l := p[f]; l > LevelNone {
			out[f] = l
		}
	}
	return out
}

// Exceeding lists the features where p grants more than limit.
func (p Permissions) Exceeding(limit Permissions) []Feature {
	var out []Feature
	for f, l := range p {
		if l > limit[f] {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out
}

// MarshalText-free JSON encoding keeps the map readable in the database.

// EncodePermissions returns the JSON form stored in the database.
func EncodePermissions(p Permissions) string {
	b, _ := json.Marshal(p.Clone())
	return string(b)
}

// DecodePermissions parses the stored JSON form.
func DecodePermissions(s string) (Permissions, error) {
	p := Permissions{}
	if s == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("decode permissions: %w", err)
	}
	return p, nil
}

// FullPermissions grants LevelManage on every feature in fs.
func FullPermissions(fs []Feature) Permissions {
	p := Permissions{}
	for _, f := range fs {
		p[f] = LevelManage
	}
	return p
}
