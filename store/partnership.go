package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"regulars"
)

// InTransaction reports whether ctx carries a transaction of InTx.
func (db *DB) InTransaction(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*sql.Tx)
	return ok
}

// ---------------------------------------------------------------- add-ons

const addonCols = "id, tenant_id, kind, name, unit_size, unit_price, currency, available, updated_at"

var (
	qAddonsList  = query("addons_list", `SELECT `+addonCols+` FROM addons WHERE tenant_id = ? ORDER BY id`)
	qAddonByKind = query("addon_by_kind", `SELECT `+addonCols+` FROM addons WHERE tenant_id = ? AND kind = ?`)
	qAddonUpsert = query("addon_upsert", `INSERT INTO addons (tenant_id, kind, name, unit_size, unit_price, currency, available, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, kind) DO UPDATE SET name = excluded.name, unit_size = excluded.unit_size, unit_price = excluded.unit_price,
		currency = excluded.currency, available = excluded.available, updated_at = excluded.updated_at RETURNING id`)
)

func scanAddon(row interface{ Scan(...any) error }) (*regulars.Addon, error) {
	var a regulars.Addon
	var updated int64
	if err := row.Scan(&a.ID, &a.TenantID, &a.Kind, &a.Name, &a.UnitSize, &a.UnitPrice, &a.Currency, &a.Available, &updated); err != nil {
		return nil, err
	}
	a.UpdatedAt = fromMS(updated)
	return &a, nil
}

// Addons lists the catalogue items the tenant has saved.
func (db *DB) Addons(ctx context.Context, tenantID int64) ([]*regulars.Addon, error) {
	rows, err := db.queryRows(ctx, qAddonsList, tenantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanAddon)
}

// Addon returns the tenant's saved catalogue item of a kind.
func (db *DB) Addon(ctx context.Context, tenantID int64, kind string) (*regulars.Addon, error) {
	a, err := scanAddon(db.queryRow(ctx, qAddonByKind, tenantID, kind))
	return a, notFound(err, "add-on")
}

// SaveAddon creates or replaces the tenant's catalogue item of a kind.
func (db *DB) SaveAddon(ctx context.Context, a *regulars.Addon) error {
	a.UpdatedAt = db.now()
	id, err := db.insert(ctx, qAddonUpsert, a.TenantID, a.Kind, strings.TrimSpace(a.Name), a.UnitSize, a.UnitPrice, a.Currency, a.Available, ms(a.UpdatedAt))
	a.ID = id
	return err
}

// ---------------------------------------------------------------- wallets

var (
	qWallet    = query("wallet_of_partner", `SELECT kind, balance FROM wallet_balances WHERE partner_id = ?`)
	qWalletAdd = query("wallet_add", `INSERT INTO wallet_balances (partner_id, kind, balance) VALUES (?, ?, ?)
		ON CONFLICT (partner_id, kind) DO UPDATE SET balance = wallet_balances.balance + excluded.balance`)
)

// Wallet returns the partner's balance per add-on kind (missing = 0).
func (db *DB) Wallet(ctx context.Context, partnerID int64) (map[string]int64, error) {
	rows, err := db.queryRows(ctx, qWallet, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// AddToWallet changes a balance by amount in one statement, so concurrent
// changes add up.
func (db *DB) AddToWallet(ctx context.Context, partnerID int64, kind string, amount int64) error {
	_, err := db.exec(ctx, qWalletAdd, partnerID, kind, amount)
	return err
}

// ---------------------------------------------------------------- requests

const requestCols = `r.id, r.tenant_id, COALESCE(r.partner_id, 0), COALESCE(p.brand_name, ''), r.kind, r.status,
	COALESCE(r.package_id, 0), COALESCE(pk.name, ''), r.billing_period, r.price, r.currency,
	COALESCE(r.from_package_id, 0), COALESCE(fp.name, ''), r.from_billing_period,
	r.brand_name, r.country, r.website, r.contact_name, r.contact_email, r.contact_phone,
	COALESCE(r.requested_by, 0), r.requested_by_name, r.created_at, r.decided_at, COALESCE(r.decided_by, 0), r.decided_by_name, r.reason`

const requestFrom = ` FROM partner_requests r LEFT JOIN partners p ON p.id = r.partner_id
	LEFT JOIN packages pk ON pk.id = r.package_id LEFT JOIN packages fp ON fp.id = r.from_package_id`

var (
	qRequestInsert = query("request_insert", `INSERT INTO partner_requests (tenant_id, partner_id, kind, status, package_id, billing_period, price, currency,
		from_package_id, from_billing_period, brand_name, country, website, contact_name, contact_email, contact_phone, requested_by, requested_by_name, created_at)
		VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qRequestItemInsert = query("request_item_insert", `INSERT INTO partner_request_items (request_id, kind, name, quantity, unit_size, unit_price, currency) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qRequestByID       = query("request_by_id", `SELECT `+requestCols+requestFrom+` WHERE r.tenant_id = ? AND r.id = ?`)
	qRequestsList      = query("requests_list", `SELECT `+requestCols+requestFrom+`
		WHERE r.tenant_id = ? AND (CAST(? AS BIGINT) = 0 OR r.partner_id = ?) AND (? = '' OR r.kind = ?) AND (? = '' OR r.kind <> ?)
		AND ((? = 'pending' AND r.status = 'pending') OR (? = 'history' AND r.status <> 'pending') OR ? = '')
		ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END, CASE WHEN r.status = 'pending' THEN r.id ELSE -r.decided_at END, r.id DESC LIMIT ?`)
	qRequestDecide = query("request_decide", `UPDATE partner_requests SET status = ?, decided_at = ?, decided_by = ?, decided_by_name = ?, reason = ?
		WHERE tenant_id = ? AND id = ? AND status = 'pending'`)
	qRequestCancel = query("request_cancel", `UPDATE partner_requests SET status = 'cancelled', decided_at = ?, decided_by = ?, decided_by_name = ?
		WHERE partner_id = ? AND id = ? AND status = 'pending' AND kind <> 'registration'`)
	qRequestSetPartner = query("request_set_partner", `UPDATE partner_requests SET partner_id = ? WHERE id = ?`)
	qRequestPendingPkg = query("request_pending_package", `SELECT `+requestCols+requestFrom+` WHERE r.partner_id = ? AND r.kind = 'package' AND r.status = 'pending'`)
	qRequestPendingReg = query("request_pending_registration", `SELECT COUNT(*) FROM partner_requests WHERE tenant_id = ? AND kind = 'registration' AND status = 'pending' AND contact_email = ?`)
	qRequestsPending   = query("requests_pending_count", `SELECT COUNT(*) FROM partner_requests WHERE tenant_id = ? AND status = 'pending'`)
)

func scanRequest(row interface{ Scan(...any) error }) (*regulars.Request, error) {
	var r regulars.Request
	var reg regulars.Registration
	var created, decided int64
	if err := row.Scan(&r.ID, &r.TenantID, &r.PartnerID, &r.PartnerName, &r.Kind, &r.Status,
		&r.PackageID, &r.PackageName, &r.BillingPeriod, &r.Price, &r.Currency,
		&r.FromPackageID, &r.FromPackageName, &r.FromBillingPeriod,
		&reg.BrandName, &reg.Country, &reg.Website, &reg.ContactName, &reg.ContactEmail, &reg.ContactPhone,
		&r.RequestedBy, &r.RequestedByName, &created, &decided, &r.DecidedBy, &r.DecidedByName, &r.Reason); err != nil {
		return nil, err
	}
	r.CreatedAt, r.DecidedAt = fromMS(created), fromMS(decided)
	if r.Kind == regulars.RequestRegistration {
		r.Registration = &reg
	}
	return &r, nil
}

// CreateRequest stores a pending request with its items. A second pending
// package change of a partner, or a second pending registration of an
// email, is refused with ECONFLICT.
func (db *DB) CreateRequest(ctx context.Context, r *regulars.Request) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		r.CreatedAt = db.now()
		r.Status = regulars.RequestPending
		reg := r.Registration
		if reg == nil {
			reg = &regulars.Registration{}
		}
		id, err := db.insert(ctx, qRequestInsert, r.TenantID, nullID(r.PartnerID), r.Kind, nullID(r.PackageID), r.BillingPeriod, r.Price, r.Currency,
			nullID(r.FromPackageID), r.FromBillingPeriod, reg.BrandName, reg.Country, reg.Website, reg.ContactName, reg.ContactEmail, reg.ContactPhone,
			nullID(r.RequestedBy), r.RequestedByName, ms(r.CreatedAt))
		if db.dialect.isUnique(err) {
			if r.Kind == regulars.RequestPackage {
				return regulars.Errorf(regulars.ECONFLICT, "You already have a pending package change. Cancel it first, or wait for the decision.")
			}
			return regulars.Errorf(regulars.ECONFLICT, "A registration for this email is already waiting for approval.")
		}
		if err != nil {
			return err
		}
		r.ID = id
		for _, it := range r.Items {
			if _, err := db.insert(ctx, qRequestItemInsert, id, it.Kind, it.Name, it.Quantity, it.UnitSize, it.UnitPrice, it.Currency); err != nil {
				return err
			}
		}
		return nil
	})
}

// Request returns one of the tenant's requests with its items.
func (db *DB) Request(ctx context.Context, tenantID, id int64) (*regulars.Request, error) {
	r, err := scanRequest(db.queryRow(ctx, qRequestByID, tenantID, id))
	if err != nil {
		return nil, notFound(err, "request")
	}
	if err := db.loadItems(ctx, []*regulars.Request{r}); err != nil {
		return nil, err
	}
	return r, nil
}

// RequestFilter selects requests. Zero values select everything.
type RequestFilter struct {
	PartnerID   int64
	Kind        string // only this kind
	ExceptKind  string // every kind but this one
	Tab         string // "pending", "history" or "" for both
	Limit       int    // default 500
	WithoutItem bool   // skip loading the add-on lines
}

// Requests lists the tenant's requests: pending ones oldest first, then
// decided ones newest decision first.
func (db *DB) Requests(ctx context.Context, tenantID int64, f RequestFilter) ([]*regulars.Request, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	rows, err := db.queryRows(ctx, qRequestsList, tenantID, f.PartnerID, f.PartnerID, f.Kind, f.Kind, f.ExceptKind, f.ExceptKind, f.Tab, f.Tab, f.Tab, f.Limit)
	if err != nil {
		return nil, err
	}
	list, err := collect(rows, scanRequest)
	if err != nil || f.WithoutItem {
		return list, err
	}
	return list, db.loadItems(ctx, list)
}

// loadItems fills the add-on lines of the requests, a chunk at a time.
func (db *DB) loadItems(ctx context.Context, list []*regulars.Request) error {
	byID := map[int64]*regulars.Request{}
	var ids []any
	for _, r := range list {
		if r.Kind == regulars.RequestAddons {
			byID[r.ID] = r
			ids = append(ids, r.ID)
		}
	}
	const chunk = 200
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		part := ids[:n]
		ids = ids[n:]
		q := `SELECT request_id, kind, name, quantity, unit_size, unit_price, currency FROM partner_request_items WHERE request_id IN (?` +
			strings.Repeat(", ?", len(part)-1) + `) ORDER BY request_id, id`
		rows, err := db.queryRows(ctx, q, part...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var it regulars.RequestItem
			if err := rows.Scan(&id, &it.Kind, &it.Name, &it.Quantity, &it.UnitSize, &it.UnitPrice, &it.Currency); err != nil {
				rows.Close()
				return err
			}
			byID[id].Items = append(byID[id].Items, it)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// DecideRequest moves a pending request of the tenant to status. It
// reports false when the request was not pending any more: someone else
// decided (or the partner cancelled) first. Only one caller can win: the
// UPDATE takes the row lock and re-checks the status.
func (db *DB) DecideRequest(ctx context.Context, tenantID, id int64, status string, by int64, byName, reason string) (bool, error) {
	res, err := db.exec(ctx, qRequestDecide, status, ms(db.now()), nullID(by), byName, reason, tenantID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CancelRequest cancels a pending request of the partner; false when it was
// no longer pending.
func (db *DB) CancelRequest(ctx context.Context, partnerID, id int64, by int64, byName string) (bool, error) {
	res, err := db.exec(ctx, qRequestCancel, ms(db.now()), nullID(by), byName, partnerID, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetRequestPartner links an approved registration to the partner it created.
func (db *DB) SetRequestPartner(ctx context.Context, id, partnerID int64) error {
	_, err := db.exec(ctx, qRequestSetPartner, partnerID, id)
	return err
}

// PendingPackageRequest returns the partner's pending package change.
func (db *DB) PendingPackageRequest(ctx context.Context, partnerID int64) (*regulars.Request, error) {
	r, err := scanRequest(db.queryRow(ctx, qRequestPendingPkg, partnerID))
	return r, notFound(err, "pending package change")
}

// HasPendingRegistration reports whether email has a registration waiting.
func (db *DB) HasPendingRegistration(ctx context.Context, tenantID int64, email string) (bool, error) {
	var n int
	err := db.queryRow(ctx, qRequestPendingReg, tenantID, email).Scan(&n)
	return n > 0, err
}

// CountPendingRequests counts the tenant's requests waiting for a decision.
func (db *DB) CountPendingRequests(ctx context.Context, tenantID int64) (int, error) {
	var n int
	err := db.queryRow(ctx, qRequestsPending, tenantID).Scan(&n)
	return n, err
}

// ---------------------------------------------------------------- partners

var (
	qPartnerLock       = query("partner_lock", `SELECT `+partnerCols+` FROM partners WHERE tenant_id = ? AND id = ?`)
	qPartnerSetPackage = query("partner_set_package", `UPDATE partners SET package_id = ?, billing_period = ? WHERE tenant_id = ? AND id = ?`)
	qPartnerSetStatus  = query("partner_set_status", `UPDATE partners SET status = ? WHERE tenant_id = ? AND id = ?`)
	qPartnersSearch    = query("partners_search", `SELECT p.id, p.tenant_id, p.brand_name, p.country, p.website, p.contact_email, p.contact_phone, p.status, COALESCE(p.package_id, 0), p.billing_period, p.created_at, COALESCE(pk.name, ''),
		(SELECT COUNT(*) FROM partner_requests r WHERE r.partner_id = p.id AND r.status = 'pending')
		FROM partners p LEFT JOIN packages pk ON pk.id = p.package_id
		WHERE p.tenant_id = ? AND (? = '' OR lower(p.brand_name) LIKE ? ESCAPE '\' OR lower(p.contact_email) LIKE ? ESCAPE '\' OR lower(p.website) LIKE ? ESCAPE '\')
		AND (? = '' OR p.status = ?) AND (CAST(? AS BIGINT) = 0 OR p.package_id = ?) AND (? = '' OR p.country = ?)
		ORDER BY lower(p.brand_name), p.id LIMIT 500`)
	qPartnerIDsOnPackage = query("partner_ids_on_package", `SELECT id FROM partners WHERE tenant_id = ? AND package_id = ? ORDER BY id`)
	qPackagePartnerCount = query("package_partner_counts", `SELECT package_id, COUNT(*) FROM partners WHERE tenant_id = ? AND package_id IS NOT NULL GROUP BY package_id`)
	qPartnerStorage      = query("partner_storage", `SELECT storage_bytes FROM partners WHERE id = ?`)
	qPartnerStorageAdd   = query("partner_storage_add", `UPDATE partners SET storage_bytes = CASE WHEN storage_bytes + ? < 0 THEN 0 ELSE storage_bytes + ? END
		WHERE id = ? AND (CAST(? AS BIGINT) = 0 OR storage_bytes + ? <= ?)`)
	qTenantSlugs = query("tenant_slugs", `SELECT slug FROM tenants ORDER BY id LIMIT ?`)
)

// LockPartner reads a partner and, on PostgreSQL, locks its row until the
// transaction ends; on SQLite the transaction already holds the only write
// lock. Actions that must not race (limit checks, package changes) take it
// first. Call it inside InTx.
func (db *DB) LockPartner(ctx context.Context, tenantID, id int64) (*regulars.Partner, error) {
	p, err := scanPartner(db.queryRow(ctx, qPartnerLock+db.dialect.forUpdate(), tenantID, id))
	return p, notFound(err, "partner")
}

// SetPartnerPackage changes a partner's package and billing period.
func (db *DB) SetPartnerPackage(ctx context.Context, tenantID, id, packageID int64, period string) error {
	_, err := db.exec(ctx, qPartnerSetPackage, nullID(packageID), period, tenantID, id)
	return err
}

// SetPartnerStatus changes a partner's status.
func (db *DB) SetPartnerStatus(ctx context.Context, tenantID, id int64, status string) error {
	_, err := db.exec(ctx, qPartnerSetStatus, status, tenantID, id)
	return err
}

// PartnerFilter selects partners in the tenant console.
type PartnerFilter struct {
	Q         string // brand name, contact email or website contains
	Status    string
	PackageID int64
	Country   string
}

// PartnerRow is a partner in the tenant's list.
type PartnerRow struct {
	*regulars.Partner
	PackageName     string
	PendingRequests int
}

// SearchPartners lists the tenant's partners matching f, by brand name.
func (db *DB) SearchPartners(ctx context.Context, tenantID int64, f PartnerFilter) ([]*PartnerRow, error) {
	q := strings.ToLower(strings.TrimSpace(f.Q))
	like := "%" + likeEscape(q) + "%"
	rows, err := db.queryRows(ctx, qPartnersSearch, tenantID, q, like, like, like, f.Status, f.Status, f.PackageID, f.PackageID, f.Country, f.Country)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*PartnerRow, error) {
		var p regulars.Partner
		var pr PartnerRow
		var created int64
		if err := row.Scan(&p.ID, &p.TenantID, &p.BrandName, &p.Country, &p.Website, &p.ContactEmail, &p.ContactPhone, &p.Status, &p.PackageID, &p.BillingPeriod, &created,
			&pr.PackageName, &pr.PendingRequests); err != nil {
			return nil, err
		}
		p.CreatedAt = fromMS(created)
		pr.Partner = &p
		return &pr, nil
	})
}

// PartnerIDsOnPackage lists the partners on a package.
func (db *DB) PartnerIDsOnPackage(ctx context.Context, tenantID, packageID int64) ([]int64, error) {
	rows, err := db.queryRows(ctx, qPartnerIDsOnPackage, tenantID, packageID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[int64])
}

// PackagePartnerCounts counts the partners on each package of the tenant.
func (db *DB) PackagePartnerCounts(ctx context.Context, tenantID int64) (map[int64]int, error) {
	rows, err := db.queryRows(ctx, qPackagePartnerCount, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// StorageBytes returns the bytes a partner stores.
func (db *DB) StorageBytes(ctx context.Context, partnerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qPartnerStorage, partnerID).Scan(&n)
	return n, notFound(err, "partner")
}

// AddStorageBytes changes a partner's stored bytes by delta in one
// statement. With limited set, a positive delta that would pass max changes
// nothing and reports false; a negative delta never goes below zero.
func (db *DB) AddStorageBytes(ctx context.Context, partnerID, delta int64, limited bool, max int64) (bool, error) {
	check := 0
	if limited && delta > 0 {
		check = 1
	}
	res, err := db.exec(ctx, qPartnerStorageAdd, delta, delta, partnerID, check, delta, max)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// TenantSlugs lists up to n tenant slugs, oldest first.
func (db *DB) TenantSlugs(ctx context.Context, n int) ([]string, error) {
	rows, err := db.queryRows(ctx, qTenantSlugs, n)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanValue[string])
}

// ---------------------------------------------------------------- packages

var (
	qPackageUpdate  = query("package_update", `UPDATE packages SET name = ?, monthly_price = ?, yearly_price = ?, currency = ?, features = ?, limits = ? WHERE tenant_id = ? AND id = ?`)
	qPackageRetired = query("package_set_retired", `UPDATE packages SET retired = ? WHERE tenant_id = ? AND id = ?`)
)

// UpdatePackage saves a package's name, prices, features and limits.
func (db *DB) UpdatePackage(ctx context.Context, p *regulars.Package) error {
	if p.Limits == nil {
		p.Limits = map[string]int64{}
	}
	features, limits := encodeJSON(p.Features), encodeJSON(p.Limits)
	_, err := db.exec(ctx, qPackageUpdate, strings.TrimSpace(p.Name), p.MonthlyPrice, p.YearlyPrice, p.Currency, features, limits, p.TenantID, p.ID)
	if db.dialect.isUnique(err) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"name": "A package with this name exists."}}
	}
	return err
}

// SetPackageRetired retires a package (no new partners choose it) or
// offers it again.
func (db *DB) SetPackageRetired(ctx context.Context, tenantID, id int64, retired bool) error {
	_, err := db.exec(ctx, qPackageRetired, retired, tenantID, id)
	return err
}

// ---------------------------------------------------------------- roles

// StripRoleFeatures removes the features from every custom role of a
// partner; it returns how many roles changed.
func (db *DB) StripRoleFeatures(ctx context.Context, tenantID, partnerID int64, features []regulars.Feature) (int, error) {
	if len(features) == 0 {
		return 0, nil
	}
	roles, err := db.Roles(ctx, tenantID, partnerID)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, r := range roles {
		if r.IsOwner {
			continue
		}
		touched := false
		for _, f := range features {
			if _, ok := r.Permissions[f]; ok {
				delete(r.Permissions, f)
				touched = true
			}
		}
		if !touched {
			continue
		}
		if err := db.UpdateRole(ctx, r); err != nil {
			return changed, err
		}
		changed++
	}
	return changed, nil
}

// ---------------------------------------------------------------- engagements

var qEngagementsArchive = query("engagements_archive_kind", `UPDATE engagements SET status = 'finished', finished_at = ?, updated_at = ?
	WHERE partner_id = ? AND kind = ? AND status = 'active'`)

// ArchiveEngagements finishes the partner's active engagements of the
// kinds: followers no longer see them. Drafts stay drafts, out of sight
// with their feature until a package brings it back.
func (db *DB) ArchiveEngagements(ctx context.Context, partnerID int64, kinds []string, at time.Time) (int64, error) {
	var total int64
	for _, k := range kinds {
		res, err := db.exec(ctx, qEngagementsArchive, ms(at), ms(db.now()), partnerID, k)
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += n
	}
	return total, nil
}

func encodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
