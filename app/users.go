package app

import (
	"context"
	"fmt"
	"strings"

	"regulars"
)

// UserInput is what the user form and API send.
type UserInput struct {
	Name   string
	Email  string
	Phone  string
	RoleID int64
}

func (in *UserInput) normalize() {
	in.Name = strings.TrimSpace(in.Name)
	in.Email = regulars.NormalizeEmail(in.Email)
	in.Phone = regulars.NormalizePhone(in.Phone)
}

func (in *UserInput) validate(v regulars.Validation) {
	regulars.CheckName(v, "name", in.Name, 120)
	switch {
	case in.Email == "":
		v.Add("email", "This field is required.")
	case !regulars.ValidEmail(in.Email):
		v.Add("email", "Enter an email address like name@example.com.")
	}
	if in.Phone != "" && !regulars.ValidPhone(in.Phone) {
		v.Add("phone", "Enter a phone number with 7 to 15 digits, e.g. +44 20 7946 0958.")
	}
	if in.RoleID == 0 {
		v.Add("role", "Choose a role.")
	}
}

// assignableRole loads a role the actor may give to a user: of the actor's
// own side, not the owner role, and not above the actor's own levels.
func (a *App) assignableRole(ctx context.Context, actor *Actor, roleID int64, v regulars.Validation) *regulars.Role {
	if roleID == 0 {
		return nil
	}
	role, err := a.DB.Role(ctx, actor.User.TenantID, actor.PartnerID(), roleID)
	switch {
	case err != nil:
		v.Add("role", "Choose one of the existing roles.")
		return nil
	case role.IsOwner:
		v.Add("role", "Only one user can be the Account owner. Transfer ownership from your account settings instead.")
		return nil
	case len(role.Permissions.Restrict(featuresOf(actor)).Exceeding(actor.Perms)) > 0:
		v.Add("role", "This role has more rights than your own; you cannot assign it.")
		return nil
	}
	return role
}

func featuresOf(actor *Actor) []regulars.Feature {
	fs := actor.GrantableFeatures()
	out := make([]regulars.Feature, len(fs))
	for i, f := range fs {
		out[i] = f.Feature
	}
	return out
}

// Users lists the users of the actor's partner (or tenant staff).
func (a *App) Users(ctx context.Context, actor *Actor) ([]*regulars.User, error) {
	if err := actor.Require(usersFeature(actor), regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Users(ctx, actor.User.TenantID, actor.PartnerID())
}

// User returns one user of the actor's side; another partner's is not found.
func (a *App) User(ctx context.Context, actor *Actor, id int64) (*regulars.User, error) {
	if err := actor.Require(usersFeature(actor), regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), id)
}

func usersFeature(actor *Actor) regulars.Feature {
	if actor.Partner == nil {
		return regulars.FeatureTenantStaff
	}
	return regulars.FeatureUsers
}

// CreateUser invites a new staff user: the user is "invited" until they set
// a password through the emailed single-use link.
func (a *App) CreateUser(ctx context.Context, actor *Actor, in UserInput) (*regulars.User, error) {
	if err := actor.Require(usersFeature(actor), regulars.LevelManage); err != nil {
		return nil, err
	}
	in.normalize()
	v := regulars.Validation{}
	in.validate(v)
	role := a.assignableRole(ctx, actor, in.RoleID, v)
	if in.Email != "" && v["email"] == "" {
		if _, err := a.DB.UserByEmail(ctx, in.Email); err == nil {
			v.Add("email", "A user with this email already exists.")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	u := &regulars.User{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), RoleID: role.ID, Name: in.Name, Email: in.Email, Phone: in.Phone, Status: regulars.UserInvited}
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.CheckLimit(ctx, actor, regulars.LimitUsers, 1); err != nil {
			return err
		}
		if err := a.DB.CreateUser(ctx, u, false); err != nil {
			return err
		}
		return a.sendInvite(ctx, actor, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// sendInvite emails a fresh set-password link; earlier links stop working.
func (a *App) sendInvite(ctx context.Context, actor *Actor, u *regulars.User) error {
	secret := NewSecret("")
	if err := a.DB.CreateUserToken(ctx, u.ID, regulars.TokenSetPassword, HashSecret(secret), a.InviteTTL); err != nil {
		return err
	}
	org := actor.Tenant.Name
	if actor.Partner != nil {
		org = actor.Partner.BrandName
	}
	body := fmt.Sprintf("Hello %s,\n\n%s invited you to manage %s on Regulars.\nOpen this link within %s to choose your password:\n\n%s/password/%s\n\nYour sign-in email is %s.\n",
		u.Name, actor.User.Name, org, humanDuration(a.InviteTTL), a.BaseURL, secret, u.Email)
	return a.Mail.Send(ctx, &regulars.Mail{TenantID: u.TenantID, To: u.Email, Subject: "You are invited to " + org + " on Regulars", Body: body})
}

// ResendInvite sends a new set-password link to an invited user.
func (a *App) ResendInvite(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(usersFeature(actor), regulars.LevelUpdate); err != nil {
		return err
	}
	u, err := a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	if u.Status != regulars.UserInvited {
		return regulars.Errorf(regulars.ECONFLICT, "%s has already set a password.", u.Name)
	}
	return a.sendInvite(ctx, actor, u)
}

// UpdateUser changes a user's details and role.
func (a *App) UpdateUser(ctx context.Context, actor *Actor, id int64, in UserInput) (*regulars.User, error) {
	if err := actor.Require(usersFeature(actor), regulars.LevelUpdate); err != nil {
		return nil, err
	}
	u, err := a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	in.normalize()
	current, err := a.DB.RoleByID(ctx, u.RoleID)
	if err != nil {
		return nil, err
	}
	v := regulars.Validation{}
	if current.IsOwner {
		// The owner keeps the owner role; ownership moves only by transfer.
		in.RoleID = u.RoleID
		if actor.User.ID != u.ID && !actor.IsOwner() {
			return nil, regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can edit the Account owner's details.")
		}
	}
	in.validate(v)
	if !current.IsOwner && in.RoleID != u.RoleID {
		a.assignableRole(ctx, actor, in.RoleID, v)
	}
	if !current.IsOwner && len(current.Permissions.Restrict(featuresOf(actor)).Exceeding(actor.Perms)) > 0 {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "%s has more rights than you; you cannot edit this user.", u.Name)
	}
	if in.Email != u.Email && v["email"] == "" {
		if _, err := a.DB.UserByEmail(ctx, in.Email); err == nil {
			v.Add("email", "A user with this email already exists.")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	moved := in.RoleID != u.RoleID
	u.Name, u.Email, u.Phone, u.RoleID = in.Name, in.Email, in.Phone, in.RoleID
	if err := a.DB.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if moved {
		a.accessChanged(ctx, UserTopic(u.ID))
	}
	return u, nil
}

// SetUserEnabled disables or re-enables a user. Disabling ends the user's
// sessions and live connections at once.
func (a *App) SetUserEnabled(ctx context.Context, actor *Actor, id int64, enabled bool) error {
	if err := actor.Require(usersFeature(actor), regulars.LevelUpdate); err != nil {
		return err
	}
	u, err := a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	if u.ID == actor.User.ID {
		return regulars.Errorf(regulars.ECONFLICT, "You cannot disable your own account.")
	}
	role, err := a.DB.RoleByID(ctx, u.RoleID)
	if err != nil {
		return err
	}
	if role.IsOwner {
		return regulars.Errorf(regulars.ECONFLICT, "The Account owner cannot be disabled. Transfer ownership first.")
	}
	if err := notAbove(actor, u, role); err != nil {
		return err
	}
	status := regulars.UserDisabled
	if enabled {
		status = regulars.UserActive
		if u.PasswordHash == "" {
			status = regulars.UserInvited
		}
	}
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if u.Status == regulars.UserDisabled && enabled {
			// A disabled user does not count against the package; enabling does.
			if err := a.CheckLimit(ctx, actor, regulars.LimitUsers, 1); err != nil {
				return err
			}
		}
		return a.DB.SetUserStatus(ctx, u.ID, status)
	})
	if err != nil {
		return err
	}
	if !enabled {
		// Every node closes the user's live connections.
		a.publishRevoked(ctx, UserTopic(u.ID))
	}
	return nil
}

// SetUserPassword sets another user's password (user management at update
// level, or the owner). The user's sessions end.
func (a *App) SetUserPassword(ctx context.Context, actor *Actor, id int64, password, confirm string) error {
	if err := actor.Require(usersFeature(actor), regulars.LevelUpdate); err != nil {
		return err
	}
	u, err := a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	role, err := a.DB.RoleByID(ctx, u.RoleID)
	if err != nil {
		return err
	}
	if role.IsOwner && !actor.IsOwner() {
		return regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can change the Account owner's password.")
	}
	if err := notAbove(actor, u, role); err != nil {
		return err
	}
	if err := checkNewPassword(password, confirm); err != nil {
		return err
	}
	keep := int64(0)
	if u.ID == actor.User.ID {
		keep = actor.SessionID
	}
	if err := a.DB.SetPassword(ctx, u.ID, HashPassword(password, a.Password), keep); err != nil {
		return err
	}
	a.signInsEnded(ctx, UserTopic(u.ID))
	return nil
}

// notAbove refuses to act on a user whose role grants more than the actor
// has: setting their password would let the actor sign in as them, and
// disabling them would let a junior lock out a senior.
func notAbove(actor *Actor, u *regulars.User, role *regulars.Role) error {
	if RoleAbove(actor, role) {
		return regulars.Errorf(regulars.EFORBIDDEN, "%s has more rights than you; you cannot change their password or access.", u.Name)
	}
	return nil
}

// RoleAbove reports whether role grants more than the actor has, counting
// only the features of the actor's package.
func RoleAbove(actor *Actor, role *regulars.Role) bool {
	if role.IsOwner {
		return !actor.IsOwner()
	}
	return len(role.Permissions.Restrict(featuresOf(actor)).Exceeding(actor.Perms)) > 0
}

// TransferOwnership moves the Account owner role to another active user of
// the partner; the previous owner takes that user's former role.
func (a *App) TransferOwnership(ctx context.Context, actor *Actor, toID int64, password string) error {
	if !actor.IsOwner() {
		return regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can transfer ownership.")
	}
	if !VerifyPassword(password, actor.User.PasswordHash) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"password": "Your password is not correct."}}
	}
	to, err := a.DB.ScopedUser(ctx, actor.User.TenantID, actor.PartnerID(), toID)
	if err != nil {
		return err
	}
	if to.ID == actor.User.ID {
		return regulars.Errorf(regulars.EINVALID, "You already are the Account owner.")
	}
	if to.Status != regulars.UserActive {
		return regulars.Errorf(regulars.ECONFLICT, "%s must have signed in before becoming the Account owner.", to.Name)
	}
	if err := a.DB.TransferOwnership(ctx, actor.User, to, actor.Role.ID, to.RoleID); err != nil {
		return err
	}
	// Both changed roles: the former owner's connections take their new one.
	a.accessChanged(ctx, UserTopic(actor.User.ID))
	a.accessChanged(ctx, UserTopic(to.ID))
	return nil
}
