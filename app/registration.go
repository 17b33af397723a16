package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"regulars"
)

// Registration throttling: a public form must not become a way to flood the
// queue or send emails to strangers.
const (
	registrationWindow = time.Hour
	maxRegistrationsIP = 10
)

// RegistrationInput is what the public partnership form sends.
type RegistrationInput struct {
	regulars.Registration
	PackageID     int64
	BillingPeriod string
}

// RegistrationPage is what the public form needs: the tenant and the
// packages it offers.
type RegistrationPage struct {
	Tenant   *regulars.Tenant
	Packages []*regulars.Package
}

// RegistrationForm loads the public form of a tenant (by slug).
func (a *App) RegistrationForm(ctx context.Context, slug string) (*RegistrationPage, error) {
	t, err := a.DB.TenantBySlug(ctx, slug)
	if err != nil {
		return nil, regulars.ErrNotFound("page")
	}
	all, err := a.DB.Packages(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	page := &RegistrationPage{Tenant: t}
	for _, p := range all {
		if !p.Retired {
			page.Packages = append(page.Packages, p)
		}
	}
	return page, nil
}

// Register puts a partnership registration in the tenant's queue. The
// answer is the same whether or not the email already has an account or a
// request waiting, so the form tells strangers nothing; the operator sees
// such cases when deciding.
func (a *App) Register(ctx context.Context, slug string, in RegistrationInput, ip string) error {
	page, err := a.RegistrationForm(ctx, slug)
	if err != nil {
		return err
	}
	t := page.Tenant
	key := "register:" + ip
	if n, err := a.DB.LoginFailures(ctx, key, a.now().Add(-registrationWindow)); err != nil {
		return err
	} else if n >= maxRegistrationsIP {
		return regulars.Errorf(regulars.ETOOMANY, "Too many registrations from your network. Try again in an hour.")
	}
	reg := &in.Registration
	reg.BrandName = strings.TrimSpace(reg.BrandName)
	reg.ContactName = strings.TrimSpace(reg.ContactName)
	reg.ContactEmail = regulars.NormalizeEmail(reg.ContactEmail)
	reg.ContactPhone = regulars.NormalizePhone(reg.ContactPhone)
	v := regulars.Validation{}
	info := PartnerInfo{BrandName: reg.BrandName, Country: reg.Country, Website: reg.Website}
	info.check(v)
	reg.BrandName, reg.Country, reg.Website = info.BrandName, info.Country, info.Website
	regulars.CheckName(v, "contact_name", reg.ContactName, 120)
	switch {
	case reg.ContactEmail == "":
		v.Add("contact_email", "This field is required.")
	case !regulars.ValidEmail(reg.ContactEmail):
		v.Add("contact_email", "Enter an email address like name@example.com.")
	}
	if reg.ContactPhone != "" && !regulars.ValidPhone(reg.ContactPhone) {
		v.Add("contact_phone", "Enter a phone number with 7 to 15 digits, e.g. +44 20 7946 0958.")
	}
	var pkg *regulars.Package
	for _, p := range page.Packages {
		if p.ID == in.PackageID {
			pkg = p
		}
	}
	if pkg == nil {
		v.Add("package", "Choose one of the packages.")
	}
	if in.BillingPeriod != regulars.BillingMonthly && in.BillingPeriod != regulars.BillingYearly {
		v.Add("period", "Choose monthly or yearly billing.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := a.DB.RecordLoginFailure(ctx, key); err != nil {
		return err
	}
	if pending, err := a.DB.HasPendingRegistration(ctx, t.ID, reg.ContactEmail); err != nil || pending {
		return err // the same answer: the first request is in the queue
	}
	r := &regulars.Request{TenantID: t.ID, Kind: regulars.RequestRegistration, Registration: reg,
		PackageID: pkg.ID, PackageName: pkg.Name, BillingPeriod: in.BillingPeriod, Price: pkg.Price(in.BillingPeriod), Currency: pkg.Currency,
		RequestedByName: reg.ContactName}
	if err := a.DB.CreateRequest(ctx, r); err != nil {
		if regulars.ErrorCode(err) == regulars.ECONFLICT {
			return nil // a twin submission won the race; same answer
		}
		return err
	}
	body := fmt.Sprintf("Hello %s,\n\nThank you for asking to become a partner of %s with %s.\nWe received your request for the package %s (billed %s) and will answer by email.\n\nIf you did not send this request, ignore this email.\n",
		reg.ContactName, t.Name, reg.BrandName, pkg.Name, in.BillingPeriod)
	if err := a.Mail.Send(ctx, &regulars.Mail{TenantID: t.ID, To: reg.ContactEmail, Subject: "We received your partnership request", Body: body}); err != nil {
		a.Log.Warn("emailing a registration receipt", "request", r.ID, "err", err)
	}
	if t.SupportEmail != "" {
		body := fmt.Sprintf("%s (%s, %s) asked for %s.\n\nDecide in the requests queue:\n%s/tenant/requests/%d\n", reg.BrandName, reg.ContactName, reg.ContactEmail, describeRequest(r), a.BaseURL, r.ID)
		if err := a.Mail.Send(ctx, &regulars.Mail{TenantID: t.ID, To: t.SupportEmail, Subject: "New partnership registration: " + reg.BrandName, Body: body}); err != nil {
			a.Log.Warn("emailing the tenant about a registration", "request", r.ID, "err", err)
		}
	}
	return nil
}

// createRegisteredPartner turns an approved registration into a partner
// with its Account owner role and invites the requester as the owner. It
// runs inside the deciding transaction and returns the invitation.
func (a *App) createRegisteredPartner(ctx context.Context, actor *Actor, r *regulars.Request) (*regulars.Mail, error) {
	reg := r.Registration
	if _, err := a.DB.UserByEmail(ctx, reg.ContactEmail); err == nil {
		return nil, regulars.Errorf(regulars.ECONFLICT, "A user with the email %s already exists. Reject this registration with a reason (e.g. ask them to register with another email).", reg.ContactEmail)
	} else if regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	pkg, err := a.DB.Package(ctx, r.TenantID, r.PackageID)
	if err != nil {
		return nil, err
	}
	p := &regulars.Partner{TenantID: r.TenantID, BrandName: reg.BrandName, Country: reg.Country, Website: reg.Website,
		ContactEmail: reg.ContactEmail, ContactPhone: reg.ContactPhone, Status: regulars.PartnerActive, PackageID: pkg.ID, BillingPeriod: r.BillingPeriod}
	if err := a.DB.CreatePartner(ctx, p); err != nil {
		return nil, err
	}
	role := &regulars.Role{TenantID: r.TenantID, PartnerID: p.ID, Name: regulars.OwnerRoleName, IsOwner: true}
	if err := a.DB.CreateRole(ctx, role); err != nil {
		return nil, err
	}
	u := &regulars.User{TenantID: r.TenantID, PartnerID: p.ID, RoleID: role.ID, Name: reg.ContactName, Email: reg.ContactEmail, Phone: reg.ContactPhone, Status: regulars.UserInvited}
	if err := a.DB.CreateUser(ctx, u, true); err != nil {
		return nil, err
	}
	if err := a.DB.SetRequestPartner(ctx, r.ID, p.ID); err != nil {
		return nil, err
	}
	r.PartnerID, r.PartnerName = p.ID, p.BrandName
	secret := NewSecret("")
	if err := a.DB.CreateUserToken(ctx, u.ID, regulars.TokenSetPassword, HashSecret(secret), a.InviteTTL); err != nil {
		return nil, err
	}
	body := fmt.Sprintf("Hello %s,\n\n%s approved the partnership of %s on the package %s (billed %s).\nYou are its Account owner. Open this link within %s to choose your password:\n\n%s/password/%s\n\nYour sign-in email is %s. After signing in you can invite your team.\n",
		u.Name, actor.Tenant.Name, p.BrandName, pkg.Name, r.BillingPeriod, humanDuration(a.InviteTTL), a.BaseURL, secret, u.Email)
	return &regulars.Mail{TenantID: r.TenantID, To: u.Email, Subject: "Welcome to " + actor.Tenant.Name + ": your partnership is approved", Body: body}, nil
}
