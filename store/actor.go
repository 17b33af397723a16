package store

import (
	"context"
	"database/sql"
	"encoding/json"

	"regulars"
)

// ActorData is everything authorization needs about a signed-in staff user,
// read in one query: every request of the admin and the API starts here.
type ActorData struct {
	User    *regulars.User
	Role    *regulars.Role
	Tenant  *regulars.Tenant
	Partner *regulars.Partner // nil for tenant staff
	Package *regulars.Package // nil without a package
	Session *regulars.Session // set by SessionActor
}

const actorSelect = `SELECT u.id, u.tenant_id, COALESCE(u.partner_id, 0), u.role_id, u.name, u.email, u.phone, u.status, u.password_hash, u.password_changed_at, u.created_at, u.updated_at,
	r.id, r.name, r.is_owner, r.permissions,
	t.id, t.name, t.slug, t.support_email, t.support_phone, t.created_at,
	p.id, p.brand_name, p.country, p.website, p.contact_email, p.contact_phone, p.status, p.package_id, p.billing_period, p.created_at,
	k.id, k.name, k.monthly_price, k.yearly_price, k.currency, k.features, k.limits, k.retired, k.created_at`

const actorFrom = ` FROM users u JOIN roles r ON r.id = u.role_id JOIN tenants t ON t.id = u.tenant_id
	LEFT JOIN partners p ON p.id = u.partner_id LEFT JOIN packages k ON k.id = p.package_id`

var (
	qActorByUser    = query("actor_by_user", actorSelect+actorFrom+` WHERE u.id = ?`)
	qActorBySession = query("actor_by_session", actorSelect+`, s.id, s.created_at, s.last_seen_at, s.expires_at, s.user_agent, s.ip`+actorFrom+` JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = ?`)
)

func scanActor(row interface{ Scan(...any) error }, withSession bool) (*ActorData, error) {
	var (
		u                         regulars.User
		r                         regulars.Role
		t                         regulars.Tenant
		pwAt, uCreated, uUpdated  int64
		perms                     string
		tCreated                  int64
		pID, pPkg, pCreated       sql.NullInt64
		pBrand, pCountry, pSite   sql.NullString
		pMail, pPhone, pStatus    sql.NullString
		pBilling                  sql.NullString
		kID, kMonthly, kYearly    sql.NullInt64
		kCreated                  sql.NullInt64
		kName, kCur, kFeat, kLim  sql.NullString
		kRetired                  sql.NullBool
		s                         regulars.Session
		sCreated, sSeen, sExpires int64
	)
	dest := []any{&u.ID, &u.TenantID, &u.PartnerID, &u.RoleID, &u.Name, &u.Email, &u.Phone, &u.Status, &u.PasswordHash, &pwAt, &uCreated, &uUpdated,
		&r.ID, &r.Name, &r.IsOwner, &perms,
		&t.ID, &t.Name, &t.Slug, &t.SupportEmail, &t.SupportPhone, &tCreated,
		&pID, &pBrand, &pCountry, &pSite, &pMail, &pPhone, &pStatus, &pPkg, &pBilling, &pCreated,
		&kID, &kName, &kMonthly, &kYearly, &kCur, &kFeat, &kLim, &kRetired, &kCreated}
	if withSession {
		dest = append(dest, &s.ID, &sCreated, &sSeen, &sExpires, &s.UserAgent, &s.IP)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromMS(pwAt), fromMS(uCreated), fromMS(uUpdated)
	r.TenantID, r.PartnerID = u.TenantID, u.PartnerID
	p, err := regulars.DecodePermissions(perms)
	if err != nil {
		return nil, err
	}
	r.Permissions = p
	t.CreatedAt = fromMS(tCreated)
	d := &ActorData{User: &u, Role: &r, Tenant: &t}
	if pID.Valid {
		d.Partner = &regulars.Partner{ID: pID.Int64, TenantID: u.TenantID, BrandName: pBrand.String, Country: pCountry.String, Website: pSite.String,
			ContactEmail: pMail.String, ContactPhone: pPhone.String, Status: pStatus.String, PackageID: pPkg.Int64, BillingPeriod: pBilling.String, CreatedAt: fromMS(pCreated.Int64)}
	}
	if kID.Valid {
		k := &regulars.Package{ID: kID.Int64, TenantID: u.TenantID, Name: kName.String, MonthlyPrice: kMonthly.Int64, YearlyPrice: kYearly.Int64,
			Currency: kCur.String, Retired: kRetired.Bool, CreatedAt: fromMS(kCreated.Int64)}
		if err := json.Unmarshal([]byte(kFeat.String), &k.Features); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(kLim.String), &k.Limits); err != nil {
			return nil, err
		}
		d.Package = k
	}
	if withSession {
		s.UserID = u.ID
		s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(sCreated), fromMS(sSeen), fromMS(sExpires)
		d.Session = &s
	}
	return d, nil
}

// UserActor reads a user with role, tenant, partner and package.
func (db *DB) UserActor(ctx context.Context, userID int64) (*ActorData, error) {
	d, err := scanActor(db.queryRow(ctx, qActorByUser, userID), false)
	return d, notFound(err, "user")
}

// SessionActor reads a session with its user, role, tenant, partner and
// package, by the hash of the session secret.
func (db *DB) SessionActor(ctx context.Context, tokenHash string) (*ActorData, error) {
	d, err := scanActor(db.queryRow(ctx, qActorBySession, tokenHash), true)
	return d, notFound(err, "session")
}
