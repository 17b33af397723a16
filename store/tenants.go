package store

import (
	"context"
	"encoding/json"
	"strings"

	"regulars"
)

const tenantCols = "id, name, slug, support_email, support_phone, created_at"

var (
	qTenantInsert = query("tenant_insert", `INSERT INTO tenants (name, slug, support_email, support_phone, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	qTenantByID   = query("tenant_by_id", `SELECT `+tenantCols+` FROM tenants WHERE id = ?`)
	qTenantBySlug = query("tenant_by_slug", `SELECT `+tenantCols+` FROM tenants WHERE slug = ?`)
	qTenantUpdate = query("tenant_update", `UPDATE tenants SET name = ?, support_email = ?, support_phone = ? WHERE id = ?`)
)

func scanTenant(row interface{ Scan(...any) error }) (*regulars.Tenant, error) {
	var t regulars.Tenant
	var created int64
	if err := row.Scan(&t.ID, &t.Name, &t.Slug, &t.SupportEmail, &t.SupportPhone, &created); err != nil {
		return nil, err
	}
	t.CreatedAt = fromMS(created)
	return &t, nil
}

// CreateTenant adds a tenant.
func (db *DB) CreateTenant(ctx context.Context, t *regulars.Tenant) error {
	t.CreatedAt = db.now()
	id, err := db.insert(ctx, qTenantInsert, t.Name, t.Slug, t.SupportEmail, t.SupportPhone, ms(t.CreatedAt))
	if db.dialect.isUnique(err) {
		return &regulars.Error{Code: regulars.ECONFLICT, Message: "A tenant with this slug exists.", Fields: map[string]string{"slug": "Already taken."}}
	}
	t.ID = id
	return err
}

// Tenant returns a tenant by id.
func (db *DB) Tenant(ctx context.Context, id int64) (*regulars.Tenant, error) {
	t, err := scanTenant(db.queryRow(ctx, qTenantByID, id))
	return t, notFound(err, "tenant")
}

// TenantBySlug returns a tenant by slug.
func (db *DB) TenantBySlug(ctx context.Context, slug string) (*regulars.Tenant, error) {
	t, err := scanTenant(db.queryRow(ctx, qTenantBySlug, slug))
	return t, notFound(err, "tenant")
}

// UpdateTenant saves the tenant's name and support contact.
func (db *DB) UpdateTenant(ctx context.Context, t *regulars.Tenant) error {
	_, err := db.exec(ctx, qTenantUpdate, t.Name, t.SupportEmail, t.SupportPhone, t.ID)
	return err
}

const packageCols = "id, tenant_id, name, monthly_price, yearly_price, currency, features, limits, retired, created_at"

var (
	qPackageInsert = query("package_insert", `INSERT INTO packages (tenant_id, name, monthly_price, yearly_price, currency, features, limits, retired, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qPackageByID   = query("package_by_id", `SELECT `+packageCols+` FROM packages WHERE tenant_id = ? AND id = ?`)
	qPackages      = query("packages_list", `SELECT `+packageCols+` FROM packages WHERE tenant_id = ? ORDER BY monthly_price, name`)
)

func scanPackage(row interface{ Scan(...any) error }) (*regulars.Package, error) {
	var p regulars.Package
	var features, limits string
	var created int64
	if err := row.Scan(&p.ID, &p.TenantID, &p.Name, &p.MonthlyPrice, &p.YearlyPrice, &p.Currency, &features, &limits, &p.Retired, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMS(created)
	if err := json.Unmarshal([]byte(features), &p.Features); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(limits), &p.Limits); err != nil {
		return nil, err
	}
	return &p, nil
}

// CreatePackage adds a package to a tenant.
func (db *DB) CreatePackage(ctx context.Context, p *regulars.Package) error {
	p.CreatedAt = db.now()
	if p.Limits == nil {
		p.Limits = map[string]int64{}
	}
	features, _ := json.Marshal(p.Features)
	limits, _ := json.Marshal(p.Limits)
	id, err := db.insert(ctx, qPackageInsert, p.TenantID, strings.TrimSpace(p.Name), p.MonthlyPrice, p.YearlyPrice, p.Currency, string(features), string(limits), p.Retired, ms(p.CreatedAt))
	if db.dialect.isUnique(err) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "A package with this name exists.", Fields: map[string]string{"name": "Already taken."}}
	}
	p.ID = id
	return err
}

// Package returns one of the tenant's packages.
func (db *DB) Package(ctx context.Context, tenantID, id int64) (*regulars.Package, error) {
	p, err := scanPackage(db.queryRow(ctx, qPackageByID, tenantID, id))
	return p, notFound(err, "package")
}

// Packages lists the tenant's packages.
func (db *DB) Packages(ctx context.Context, tenantID int64) ([]*regulars.Package, error) {
	rows, err := db.queryRows(ctx, qPackages, tenantID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanPackage)
}

const partnerCols = "id, tenant_id, brand_name, country, website, contact_email, contact_phone, status, COALESCE(package_id, 0), billing_period, created_at"

var (
	qPartnerInsert = query("partner_insert", `INSERT INTO partners (tenant_id, brand_name, country, website, contact_email, contact_phone, status, package_id, billing_period, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qPartnerByID   = query("partner_by_id", `SELECT `+partnerCols+` FROM partners WHERE tenant_id = ? AND id = ?`)
	qPartners      = query("partners_list", `SELECT `+partnerCols+` FROM partners WHERE tenant_id = ? AND (? = '' OR lower(brand_name) LIKE ? ESCAPE '\') ORDER BY brand_name LIMIT 500`)
	qPartnerUpdate = query("partner_update_info", `UPDATE partners SET brand_name = ?, country = ?, website = ?, contact_email = ?, contact_phone = ? WHERE tenant_id = ? AND id = ?`)
)

func scanPartner(row interface{ Scan(...any) error }) (*regulars.Partner, error) {
	var p regulars.Partner
	var created int64
	if err := row.Scan(&p.ID, &p.TenantID, &p.BrandName, &p.Country, &p.Website, &p.ContactEmail, &p.ContactPhone, &p.Status, &p.PackageID, &p.BillingPeriod, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMS(created)
	return &p, nil
}

// CreatePartner adds a partner to its tenant.
func (db *DB) CreatePartner(ctx context.Context, p *regulars.Partner) error {
	p.CreatedAt = db.now()
	if p.Status == "" {
		p.Status = regulars.PartnerActive
	}
	if p.BillingPeriod == "" {
		p.BillingPeriod = regulars.BillingMonthly
	}
	id, err := db.insert(ctx, qPartnerInsert, p.TenantID, p.BrandName, p.Country, p.Website, p.ContactEmail, p.ContactPhone, p.Status, nullID(p.PackageID), p.BillingPeriod, ms(p.CreatedAt))
	p.ID = id
	return err
}

// Partner returns one of the tenant's partners.
func (db *DB) Partner(ctx context.Context, tenantID, id int64) (*regulars.Partner, error) {
	p, err := scanPartner(db.queryRow(ctx, qPartnerByID, tenantID, id))
	return p, notFound(err, "partner")
}

// Partners lists the tenant's partners whose brand name contains search.
func (db *DB) Partners(ctx context.Context, tenantID int64, search string) ([]*regulars.Partner, error) {
	search = strings.ToLower(strings.TrimSpace(search))
	rows, err := db.queryRows(ctx, qPartners, tenantID, search, "%"+likeEscape(search)+"%")
	if err != nil {
		return nil, err
	}
	return collect(rows, scanPartner)
}

// UpdatePartnerInfo saves the partner's brand name, country, website and contact.
func (db *DB) UpdatePartnerInfo(ctx context.Context, p *regulars.Partner) error {
	_, err := db.exec(ctx, qPartnerUpdate, p.BrandName, p.Country, p.Website, p.ContactEmail, p.ContactPhone, p.TenantID, p.ID)
	return err
}

// collect scans every row with scan.
func collect[T any](rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanValue reads a row of one column, for collect.
func scanValue[T any](row interface{ Scan(...any) error }) (T, error) {
	var v T
	return v, row.Scan(&v)
}

// likeEscape quotes LIKE wildcards in user input; queries use ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}
