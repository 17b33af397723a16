package regulars

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Add-on kinds: the catalogue holds exactly these, one item each per tenant.
const (
	AddonGigabytes    = "gigabytes"     // storage quota, in GB
	AddonTerabytes    = "terabytes"     // storage quota, in TB
	AddonTenantPoints = "tenant_points" // points in the tenant-wide currency
	AddonTenantVIP    = "tenant_vip"    // VIP placement credits
)

// AddonKind describes an add-on kind: its default name and the unit its
// wallet balance counts in.
type AddonKind struct {
	Kind string
	Name string
	Unit string // what one counts: GB, TB, points, credits
	Help string
}

// AddonKinds lists the add-on kinds in catalogue order.
var AddonKinds = []AddonKind{
	{AddonGigabytes, "Gigabytes", "GB", "More storage for chat attachments and media"},
	{AddonTerabytes, "Terabytes", "TB", "Much more storage for chat attachments and media"},
	{AddonTenantPoints, "Tenant points", "points", "Points you can hand out in the platform-wide currency"},
	{AddonTenantVIP, "Tenant VIP", "credits", "Credits for VIP placement in the app"},
}

// AddonKindOf returns the description of kind, and false for an unknown kind.
func AddonKindOf(kind string) (AddonKind, bool) {
	i := slices.IndexFunc(AddonKinds, func(k AddonKind) bool { return k.Kind == kind })
	if i < 0 {
		return AddonKind{}, false
	}
	return AddonKinds[i], true
}

// Addon is a catalogue item: what a partner can buy from the tenant. One
// unit of it adds UnitSize to the wallet balance of its kind (e.g. one unit
// of "Tenant points" may be 1,000 points).
type Addon struct {
	ID        int64 // 0 until the tenant first saves it
	TenantID  int64
	Kind      string
	Name      string
	UnitSize  int64
	UnitPrice int64 // minor units (cents) per unit
	Currency  string
	Available bool // offered to partners
	UpdatedAt time.Time
}

// Unit returns what the wallet balance of the add-on counts in.
func (a *Addon) Unit() string {
	k, _ := AddonKindOf(a.Kind)
	return k.Unit
}

// Request kinds.
const (
	RequestAddons       = "addons"       // purchase add-ons
	RequestPackage      = "package"      // change package or billing period
	RequestRegistration = "registration" // become a partner
)

// Request statuses: pending → approved | rejected | cancelled, once.
const (
	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestRejected  = "rejected"
	RequestCancelled = "cancelled"
)

// Request is something a partner (or a would-be partner) asks the tenant
// for. It is decided exactly once.
type Request struct {
	ID          int64
	TenantID    int64
	PartnerID   int64 // 0 for a registration until it is approved
	PartnerName string
	Kind        string
	Status      string

	Items []RequestItem // add-on purchases

	// Package change and registration: the package and billing period asked
	// for, with its price then, and (package change) the ones before.
	PackageID         int64
	PackageName       string
	BillingPeriod     string
	Price             int64
	Currency          string
	FromPackageID     int64
	FromPackageName   string
	FromBillingPeriod string

	Registration *Registration

	RequestedBy     int64 // user; 0 for a registration
	RequestedByName string
	CreatedAt       time.Time
	DecidedAt       time.Time
	DecidedBy       int64 // the operator, or the partner's user who cancelled
	DecidedByName   string
	Reason          string // required on rejection
}

// Pending reports whether the request still waits for a decision.
func (r *Request) Pending() bool { return r.Status == RequestPending }

// Subject names the partner or the registering brand.
func (r *Request) Subject() string {
	if r.PartnerName != "" {
		return r.PartnerName
	}
	if r.Registration != nil {
		return r.Registration.BrandName
	}
	return ""
}

// Totals returns the price of the request per currency, in currency order.
func (r *Request) Totals() []Money {
	if r.Kind != RequestAddons {
		return []Money{{r.Price, r.Currency}}
	}
	sum := map[string]int64{}
	for _, it := range r.Items {
		sum[it.Currency] += it.Total()
	}
	out := make([]Money, 0, len(sum))
	for c, v := range sum {
		out = append(out, Money{v, c})
	}
	slices.SortFunc(out, func(a, b Money) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// KindLabel names the kind of request for people.
func (r *Request) KindLabel() string {
	switch r.Kind {
	case RequestAddons:
		return "Add-ons"
	case RequestPackage:
		return "Package change"
	case RequestRegistration:
		return "Registration"
	}
	return r.Kind
}

// RequestItem is one add-on line of a purchase, priced when requested.
type RequestItem struct {
	Kind      string
	Name      string
	Quantity  int64 // units bought
	UnitSize  int64
	UnitPrice int64
	Currency  string
}

// Amount is what the item adds to the wallet balance of its kind.
func (i RequestItem) Amount() int64 { return i.Quantity * i.UnitSize }

// Total is the item's price.
func (i RequestItem) Total() int64 { return i.Quantity * i.UnitPrice }

// Unit is what the amount counts in.
func (i RequestItem) Unit() string {
	k, _ := AddonKindOf(i.Kind)
	return k.Unit
}

// Registration is what the public partnership form collects.
type Registration struct {
	BrandName    string
	Country      string
	Website      string
	ContactName  string
	ContactEmail string
	ContactPhone string
}

// Money is an amount in minor units of a currency.
type Money struct {
	Amount   int64
	Currency string
}

func (m Money) String() string { return FormatMoney(m.Amount, m.Currency) }

// FormatMoney renders minor units as "EUR 1,234.50".
func FormatMoney(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s %s%s.%02d", currency, sign, Thousands(cents/100), cents%100)
}

// Thousands renders n with comma thousands separators.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// MaxPrice bounds prices (in minor units): 10 million in any currency.
const MaxPrice = 1_000_000_000

var priceRE = regexp.MustCompile(`^[0-9]{1,9}([.,][0-9]{1,2})?$`)

// ParsePrice reads a price typed by a person ("29", "29.9", "29,90") into
// minor units; it refuses negative, malformed and absurd amounts.
func ParsePrice(s string) (int64, bool) {
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "")
	if !priceRE.MatchString(s) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(strings.ReplaceAll(s, ",", "."), ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	return v, v <= MaxPrice
}

// PriceText renders minor units as a form value, e.g. "29.00".
func PriceText(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether s looks like an ISO 4217 code (EUR, USD…).
func ValidCurrency(s string) bool { return currencyRE.MatchString(s) }

// ValidWebsite reports whether s is an absolute http(s) URL with a host name
// that has a dot (https://example.com).
func ValidWebsite(s string) bool {
	if len(s) > 300 || strings.ContainsAny(s, " \t\r\n<>\"") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return false
	}
	host := u.Hostname()
	return host != "" && strings.Contains(strings.Trim(host, "."), ".") && !strings.HasPrefix(host, ".") && !strings.HasSuffix(host, ".")
}

// NormalizeWebsite trims s and adds https:// when no scheme was typed.
func NormalizeWebsite(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	return s
}

// Package limit keys. A package may leave a limit out: then it is unlimited.
const (
	LimitChannels       = "channels"
	LimitUsers          = "users"
	LimitActiveCoupons  = "active_coupons"
	LimitActiveMessages = "active_messages"
	LimitActiveLoyalty  = "active_loyalty"
	LimitStorageGB      = "storage_gb"
	LimitFollowers      = "followers"
)

// LimitInfo describes a package limit. Feature is set for limits that count
// engagements of one feature: a package without the feature does not use the
// limit.
type LimitInfo struct {
	Key     string
	Label   string
	Noun    string // what is counted, for messages: "active coupons"
	Unit    string // "GB" for storage
	Feature Feature
}

// PackageLimits lists the limits a package can set, in display order.
var PackageLimits = []LimitInfo{
	{LimitChannels, "Channels", "channels", "", ""},
	{LimitUsers, "Staff users", "staff users (not disabled)", "", ""},
	{LimitActiveCoupons, "Active coupons", "active coupons", "", FeatureCoupons},
	{LimitActiveMessages, "Active messages", "active messages", "", FeatureMessages},
	{LimitActiveLoyalty, "Active loyalty programs", "active loyalty programs", "", FeatureLoyalty},
	{LimitStorageGB, "Storage", "storage", "GB", ""},
	{LimitFollowers, "Followers", "followers", "", ""},
}

// LimitInfoOf returns the description of a limit key.
func LimitInfoOf(key string) (LimitInfo, bool) {
	i := slices.IndexFunc(PackageLimits, func(l LimitInfo) bool { return l.Key == key })
	if i < 0 {
		return LimitInfo{}, false
	}
	return PackageLimits[i], true
}

// Limit returns the package's limit for key and whether it has one (a
// package without the key is unlimited there).
func (p *Package) Limit(key string) (int64, bool) {
	if p == nil {
		return 0, false
	}
	v, ok := p.Limits[key]
	return v, ok
}

// Price returns the package price for a billing period.
func (p *Package) Price(period string) int64 {
	if period == BillingYearly {
		return p.YearlyPrice
	}
	return p.MonthlyPrice
}

// Bytes in a gigabyte and a terabyte of storage (decimal, as sold).
const (
	GB = 1_000_000_000
	TB = 1000 * GB
)

// MaxRequestReason bounds rejection reasons.
const MaxRequestReason = 1000
