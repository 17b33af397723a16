package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"regulars"
)

// UsageCounter counts what a partner uses of one package limit (its
// channels, its active coupons…). It runs inside the caller's transaction
// when there is one, so it sees the caller's own writes.
type UsageCounter func(ctx context.Context, tenantID, partnerID int64) (int64, error)

// FeatureLostHook runs inside the transaction that takes features away
// from a partner (a package downgrade, or a package edited by the tenant). It
// archives what depends on the lost features and returns how many objects it
// archived.
type FeatureLostHook func(ctx context.Context, tenantID, partnerID int64, lost []regulars.Feature) (int64, error)

// RegisterUsage makes key a counted limit: CheckLimit enforces it and the
// partnership pages show its usage. Features register their counters while
// the App is built (New); the registry is read-only afterwards.
func (a *App) RegisterUsage(key string, count UsageCounter) {
	if _, ok := regulars.LimitInfoOf(key); !ok || key == regulars.LimitStorageGB {
		panic("app: RegisterUsage: " + key + " is not a counted package limit")
	}
	a.usage[key] = count
}

// OnFeatureLost adds a hook that archives what a lost feature leaves behind.
func (a *App) OnFeatureLost(h FeatureLostHook) { a.featureLost = append(a.featureLost, h) }

// registerCoreUsage registers the counters of channels, staff users and
// active engagements, and archives engagements whose feature is lost.
func (a *App) registerCoreUsage() {
	a.RegisterUsage(regulars.LimitChannels, func(ctx context.Context, _, partnerID int64) (int64, error) {
		return a.DB.CountChannels(ctx, partnerID, "")
	})
	a.RegisterUsage(regulars.LimitUsers, func(ctx context.Context, tenantID, partnerID int64) (int64, error) {
		return a.DB.CountActiveUsers(ctx, tenantID, partnerID)
	})
	// Followers are counted for the package page and package changes; a
	// follow itself is never refused over the partner's package.
	a.RegisterUsage(regulars.LimitFollowers, func(ctx context.Context, _, partnerID int64) (int64, error) {
		return a.DB.CountPartnerFollowers(ctx, partnerID)
	})
	for _, kind := range []string{regulars.KindCoupon, regulars.KindMessage, regulars.KindLoyalty} {
		a.RegisterUsage(limitOfKind(kind), func(ctx context.Context, _, partnerID int64) (int64, error) {
			return a.DB.CountActiveEngagements(ctx, partnerID, kind)
		})
	}
	a.OnFeatureLost(func(ctx context.Context, _, partnerID int64, lost []regulars.Feature) (int64, error) {
		var kinds []string
		for _, kind := range []string{regulars.KindCoupon, regulars.KindMessage, regulars.KindLoyalty} {
			if slices.Contains(lost, regulars.FeatureOfKind(kind)) {
				kinds = append(kinds, kind)
			}
		}
		return a.DB.ArchiveEngagements(ctx, partnerID, kinds, a.now())
	})
}

// limitOfKind is the package limit on active engagements of a kind.
func limitOfKind(kind string) string {
	switch kind {
	case regulars.KindCoupon:
		return regulars.LimitActiveCoupons
	case regulars.KindMessage:
		return regulars.LimitActiveMessages
	case regulars.KindLoyalty:
		return regulars.LimitActiveLoyalty
	}
	return "" // CheckLimit refuses an unknown key with an internal error
}

// LimitUsage is a partner's use of one package limit.
type LimitUsage struct {
	regulars.LimitInfo
	Limited  bool  // false: the package sets no limit
	Limit    int64 // the limit; bytes for storage (package + add-ons)
	Counted  bool  // false: nothing counts this yet
	Used     int64 // bytes for storage
	Included bool  // false when the limit's feature is not in the package
}

// Over reports whether usage passes the limit.
func (u LimitUsage) Over() bool { return u.Limited && u.Counted && u.Used > u.Limit }

// Percent is the share of the limit in use, 0 to 100.
func (u LimitUsage) Percent() int {
	if !u.Limited || !u.Counted || u.Limit <= 0 {
		if u.Limited && u.Used > 0 {
			return 100
		}
		return 0
	}
	return int(min(100, u.Used*100/u.Limit))
}

// UsedText renders the usage for people.
func (u LimitUsage) UsedText() string {
	if !u.Counted {
		return "—"
	}
	if u.Key == regulars.LimitStorageGB {
		return FormatBytes(u.Used)
	}
	return regulars.Thousands(u.Used)
}

// LimitText renders the limit for people.
func (u LimitUsage) LimitText() string {
	if !u.Limited {
		return "Unlimited"
	}
	if u.Key == regulars.LimitStorageGB {
		return FormatBytes(u.Limit)
	}
	return regulars.Thousands(u.Limit)
}

// FormatBytes renders bytes in decimal units: "1.5 GB", "320 MB".
func FormatBytes(b int64) string {
	switch {
	case b >= regulars.TB:
		return trimZero(fmt.Sprintf("%.2f", float64(b)/regulars.TB)) + " TB"
	case b >= regulars.GB:
		return trimZero(fmt.Sprintf("%.2f", float64(b)/regulars.GB)) + " GB"
	case b >= 1_000_000:
		return trimZero(fmt.Sprintf("%.1f", float64(b)/1e6)) + " MB"
	case b >= 1000:
		return trimZero(fmt.Sprintf("%.1f", float64(b)/1e3)) + " kB"
	}
	return fmt.Sprintf("%d bytes", b)
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// storageAllowance is what a partner may store: the package's storage plus
// the Gigabytes and Terabytes balances. limited is false when the package
// sets no storage limit.
func (a *App) storageAllowance(ctx context.Context, pkg *regulars.Package, partnerID int64) (allowed int64, limited bool, err error) {
	gb, ok := pkg.Limit(regulars.LimitStorageGB)
	if !ok {
		return 0, false, nil
	}
	wallet, err := a.DB.Wallet(ctx, partnerID)
	if err != nil {
		return 0, false, err
	}
	return gb*regulars.GB + wallet[regulars.AddonGigabytes]*regulars.GB + wallet[regulars.AddonTerabytes]*regulars.TB, true, nil
}

// usageOf measures a partner against every limit of pkg.
func (a *App) usageOf(ctx context.Context, tenantID, partnerID int64, pkg *regulars.Package) ([]LimitUsage, error) {
	out := make([]LimitUsage, 0, len(regulars.PackageLimits))
	for _, info := range regulars.PackageLimits {
		u := LimitUsage{LimitInfo: info, Included: info.Feature == "" || pkg.Includes(info.Feature)}
		u.Limit, u.Limited = pkg.Limit(info.Key)
		if info.Key == regulars.LimitStorageGB {
			used, err := a.DB.StorageBytes(ctx, partnerID)
			if err != nil {
				return nil, err
			}
			u.Used, u.Counted = used, true
			if u.Limit, u.Limited, err = a.storageAllowance(ctx, pkg, partnerID); err != nil {
				return nil, err
			}
		} else if count := a.usage[info.Key]; count != nil {
			used, err := count(ctx, tenantID, partnerID)
			if err != nil {
				return nil, err
			}
			u.Used, u.Counted = used, true
		}
		out = append(out, u)
	}
	return out, nil
}

// CheckLimit refuses an action that would take the actor's partner past a
// limit of its package, naming the limit (ELIMIT). Call it inside the
// transaction that performs the action (a.DB.InTx), before the action's own
// writes, with delta the number of objects the action adds (e.g.
// CheckLimit(ctx, actor, "active_coupons", 1) before publishing a coupon).
//
// It locks the partner's row first, so two actions racing for the last
// slot are serialised and the second one is refused: on PostgreSQL with
// SELECT … FOR UPDATE, on SQLite by the single writer. The package is read
// after the lock, so a package change approved a moment earlier counts.
func (a *App) CheckLimit(ctx context.Context, actor *Actor, key string, delta int64) error {
	if actor.Partner == nil {
		return nil // tenant staff have no package
	}
	return a.CheckPartnerLimit(ctx, actor.User.TenantID, actor.PartnerID(), key, delta)
}

// errNoTx guards CheckPartnerLimit: outside a transaction the check and the
// action could interleave with another action and both pass.
var errNoTx = errors.New("app: CheckLimit must run inside the action's transaction (a.DB.InTx)")

// CheckPartnerLimit is CheckLimit for actions without a staff actor (a
// follower following a channel, a scheduled job).
func (a *App) CheckPartnerLimit(ctx context.Context, tenantID, partnerID int64, key string, delta int64) error {
	info, ok := regulars.LimitInfoOf(key)
	if !ok || key == regulars.LimitStorageGB {
		return fmt.Errorf("app: CheckLimit: %q is not a counted limit (storage goes through ReserveStorage)", key)
	}
	if !a.DB.InTransaction(ctx) {
		return errNoTx
	}
	if delta <= 0 {
		return nil // giving back is always allowed
	}
	p, err := a.DB.LockPartner(ctx, tenantID, partnerID)
	if err != nil {
		return err
	}
	if p.PackageID == 0 {
		return regulars.Errorf(regulars.EFORBIDDEN, "Your account has no package yet. Contact your platform operator.")
	}
	pkg, err := a.DB.Package(ctx, tenantID, p.PackageID)
	if err != nil {
		return err
	}
	if info.Feature != "" && !pkg.Includes(info.Feature) {
		return regulars.Errorf(regulars.EFORBIDDEN, "This feature is not part of your package. See Partnership settings to change it.")
	}
	limit, limited := pkg.Limit(key)
	if !limited {
		return nil
	}
	count := a.usage[key]
	if count == nil {
		return fmt.Errorf("app: CheckLimit: no usage counter registered for %q", key)
	}
	used, err := count(ctx, tenantID, partnerID)
	if err != nil {
		return err
	}
	if used+delta <= limit {
		return nil
	}
	return &regulars.Error{Code: regulars.ELIMIT,
		Message: fmt.Sprintf("Limit reached: your package %s allows %s %s and you have %s. %s, or ask for a bigger package in Partnership settings.",
			pkg.Name, regulars.Thousands(limit), info.Noun, regulars.Thousands(used), reduceHint(info)),
		Detail: LimitUsage{LimitInfo: info, Limited: true, Limit: limit, Counted: true, Used: used, Included: true}}
}

func reduceHint(info regulars.LimitInfo) string {
	switch info.Key {
	case regulars.LimitActiveCoupons, regulars.LimitActiveMessages, regulars.LimitActiveLoyalty:
		return "Finish one first"
	case regulars.LimitUsers:
		return "Disable a user first"
	}
	return "Remove one first"
}

// Storage is a partner's storage use against its allowance.
type Storage struct {
	Used    int64
	Allowed int64 // package storage + Gigabytes and Terabytes balances
	Limited bool
}

// Free returns the bytes left (-1 when unlimited).
func (s Storage) Free() int64 {
	if !s.Limited {
		return -1
	}
	return max(0, s.Allowed-s.Used)
}

// PartnerStorage returns a partner's storage use and allowance.
func (a *App) PartnerStorage(ctx context.Context, tenantID, partnerID int64) (Storage, error) {
	p, err := a.DB.Partner(ctx, tenantID, partnerID)
	if err != nil {
		return Storage{}, err
	}
	used, err := a.DB.StorageBytes(ctx, partnerID)
	if err != nil {
		return Storage{}, err
	}
	if p.PackageID == 0 {
		return Storage{Used: used, Limited: true}, nil
	}
	pkg, err := a.DB.Package(ctx, tenantID, p.PackageID)
	if err != nil {
		return Storage{}, err
	}
	allowed, limited, err := a.storageAllowance(ctx, pkg, partnerID)
	return Storage{Used: used, Allowed: allowed, Limited: limited}, err
}

// ReserveStorage counts bytes of a new attachment or media file against the
// partner's storage allowance, refusing (ELIMIT) when they do not fit; a
// negative value gives space back (a deleted file). The check and the
// change are one statement, so concurrent uploads cannot overshoot.
// Call it in the transaction that stores the file's record.
func (a *App) ReserveStorage(ctx context.Context, tenantID, partnerID, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	st, err := a.PartnerStorage(ctx, tenantID, partnerID)
	if err != nil {
		return err
	}
	ok, err := a.DB.AddStorageBytes(ctx, partnerID, bytes, st.Limited, st.Allowed)
	if err != nil {
		return err
	}
	if !ok {
		return &regulars.Error{Code: regulars.ELIMIT,
			Message: fmt.Sprintf("Not enough storage: this file needs %s and %s of your %s are free. Buy more Gigabytes in Partnership settings, or delete old files.",
				FormatBytes(bytes), FormatBytes(st.Free()), FormatBytes(st.Allowed)),
			Detail: st}
	}
	return nil
}

// violations lists, for people, what a partner uses beyond pkg's limits.
// Limits of features pkg lacks are skipped: those engagements are archived
// when the change is approved.
func (a *App) violations(ctx context.Context, tenantID, partnerID int64, pkg *regulars.Package) ([]string, error) {
	usage, err := a.usageOf(ctx, tenantID, partnerID, pkg)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range usage {
		if !u.Included || !u.Over() {
			continue
		}
		out = append(out, fmt.Sprintf("%s from %s to %s", u.Noun, u.UsedText(), u.LimitText()))
	}
	return out, nil
}

// loseFeatures archives what depends on lost features and takes them out of
// the partner's custom roles. It runs inside the caller's transaction.
func (a *App) loseFeatures(ctx context.Context, tenantID, partnerID int64, lost []regulars.Feature) error {
	if len(lost) == 0 {
		return nil
	}
	for _, h := range a.featureLost {
		if _, err := h(ctx, tenantID, partnerID, lost); err != nil {
			return err
		}
	}
	_, err := a.DB.StripRoleFeatures(ctx, tenantID, partnerID, lost)
	return err
}

// lostFeatures lists the partner features in from that to lacks.
func lostFeatures(from, to *regulars.Package) []regulars.Feature {
	if from == nil {
		return nil
	}
	var out []regulars.Feature
	for _, f := range from.Features {
		if regulars.IsPartnerFeature(f) && !to.Includes(f) {
			out = append(out, f)
		}
	}
	return out
}
