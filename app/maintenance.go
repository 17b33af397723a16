package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"regulars"
)

// RunMaintenance purges expired sessions and old sign-in failures every
// few minutes until ctx ends. Safe to run on every node.
func (a *App) RunMaintenance(ctx context.Context) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		now := a.now()
		if err := a.DB.PurgeSessions(ctx, now, a.SessionIdle); err != nil && ctx.Err() == nil {
			a.Log.Warn("purging sessions", "err", err)
		}
		if err := a.DB.PurgeLoginFailures(ctx, now.Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
			a.Log.Warn("purging sign-in failures", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CreateOperator creates a tenant (when the slug is new) and an invited
// operator who owns the tenant console; it returns the set-password link.
func (a *App) CreateOperator(ctx context.Context, tenantName, slug, name, email string) (string, error) {
	email = regulars.NormalizeEmail(email)
	name = strings.TrimSpace(name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", name, 120)
	v.Check(regulars.ValidEmail(email), "email", "Enter an email address like name@example.com.")
	v.Check(slug != "", "slug", "This field is required.")
	if err := v.Err(); err != nil {
		return "", err
	}
	var link string
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		t, err := a.DB.TenantBySlug(ctx, slug)
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			if strings.TrimSpace(tenantName) == "" {
				return regulars.Errorf(regulars.EINVALID, "No tenant %q yet: give its name with -tenant.", slug)
			}
			t = &regulars.Tenant{Name: strings.TrimSpace(tenantName), Slug: slug}
			if err := a.DB.CreateTenant(ctx, t); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		role, err := a.DB.OwnerRole(ctx, t.ID, 0)
		owner := false
		if regulars.ErrorCode(err) == regulars.ENOTFOUND {
			role = &regulars.Role{TenantID: t.ID, Name: regulars.OwnerRoleName, IsOwner: true}
			if err := a.DB.CreateRole(ctx, role); err != nil {
				return err
			}
			owner = true
		} else if err != nil {
			return err
		}
		if !owner {
			return regulars.Errorf(regulars.ECONFLICT, "Tenant %q already has an operator; they can invite more staff in the console.", slug)
		}
		u := &regulars.User{TenantID: t.ID, RoleID: role.ID, Name: name, Email: email, Status: regulars.UserInvited}
		if err := a.DB.CreateUser(ctx, u, true); err != nil {
			return err
		}
		secret := NewSecret("")
		if err := a.DB.CreateUserToken(ctx, u.ID, regulars.TokenSetPassword, HashSecret(secret), a.InviteTTL); err != nil {
			return err
		}
		link = fmt.Sprintf("%s/password/%s", a.BaseURL, secret)
		return nil
	})
	return link, err
}
