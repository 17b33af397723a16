package app

import (
	"context"
	"strings"

	"regulars"
)

// RoleInput is what the role editor sends.
type RoleInput struct {
	Name        string
	Permissions regulars.Permissions
}

func rolesFeature(actor *Actor) regulars.Feature {
	if actor.Partner == nil {
		return regulars.FeatureTenantStaff
	}
	return regulars.FeatureRoles
}

// Roles lists the roles of the actor's side.
func (a *App) Roles(ctx context.Context, actor *Actor) ([]*regulars.Role, error) {
	if !actor.Can(rolesFeature(actor), regulars.LevelView) && !actor.Can(usersFeature(actor), regulars.LevelView) {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "Your role does not allow this.")
	}
	return a.DB.Roles(ctx, actor.User.TenantID, actor.PartnerID())
}

// Role returns one role; another partner's is not found.
func (a *App) Role(ctx context.Context, actor *Actor, id int64) (*regulars.Role, error) {
	if err := actor.Require(rolesFeature(actor), regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Role(ctx, actor.User.TenantID, actor.PartnerID(), id)
}

// checkRole validates a role and refuses grants above the actor's own levels
// and features outside the package.
func (a *App) checkRole(actor *Actor, in *RoleInput) error {
	in.Name = strings.TrimSpace(in.Name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", in.Name, 60)
	if strings.EqualFold(in.Name, regulars.OwnerRoleName) {
		v.Add("name", "This name is reserved for the built-in role.")
	}
	allowed := map[regulars.Feature]bool{}
	for _, f := range actor.GrantableFeatures() {
		allowed[f.Feature] = true
	}
	clean := regulars.Permissions{}
	for f, l := range in.Permissions {
		switch {
		case !l.Valid():
			v.Add("perm."+string(f), "Choose one of the four levels.")
		case l == regulars.LevelNone:
		case !allowed[f]:
			v.Add("perm."+string(f), "This feature is not part of your package.")
		case l > actor.Perms.Level(f):
			v.Add("perm."+string(f), "You cannot grant more than your own level ("+actor.Perms.Level(f).String()+").")
		default:
			clean[f] = l
		}
	}
	in.Permissions = clean
	return v.Err()
}

// CreateRole adds a custom role.
func (a *App) CreateRole(ctx context.Context, actor *Actor, in RoleInput) (*regulars.Role, error) {
	if err := actor.Require(rolesFeature(actor), regulars.LevelManage); err != nil {
		return nil, err
	}
	if err := a.checkRole(actor, &in); err != nil {
		return nil, err
	}
	r := &regulars.Role{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: in.Name, Permissions: in.Permissions}
	if err := a.DB.CreateRole(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateRole changes a custom role; the Account owner role cannot change.
func (a *App) UpdateRole(ctx context.Context, actor *Actor, id int64, in RoleInput) (*regulars.Role, error) {
	if err := actor.Require(rolesFeature(actor), regulars.LevelUpdate); err != nil {
		return nil, err
	}
	r, err := a.DB.Role(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if r.IsOwner {
		return nil, regulars.Errorf(regulars.ECONFLICT, "The Account owner role cannot be edited.")
	}
	if r.ID == actor.Role.ID {
		return nil, regulars.Errorf(regulars.ECONFLICT, "You cannot edit your own role.")
	}
	if len(r.Permissions.Restrict(featuresOf(actor)).Exceeding(actor.Perms)) > 0 {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "The role %s has more rights than your own; you cannot edit it.", r.Name)
	}
	if err := a.checkRole(actor, &in); err != nil {
		return nil, err
	}
	// Keep levels of features outside the package as they are: a package
	// upgrade later brings them back.
	for f, l := range r.Permissions {
		if !actor.Package.IncludesOr(f, actor.Partner == nil) {
			in.Permissions[f] = l
		}
	}
	r.Name, r.Permissions = in.Name, in.Permissions
	if err := a.DB.UpdateRole(ctx, r); err != nil {
		return nil, err
	}
	if r.PartnerID != 0 {
		// Those holding it are among the partner's agents: their open
		// connections take the new levels now, not at their next check.
		a.accessChanged(ctx, PartnerTopic(r.PartnerID))
	}
	return r, nil
}

// DeleteRole removes a custom role that nobody holds.
func (a *App) DeleteRole(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(rolesFeature(actor), regulars.LevelManage); err != nil {
		return err
	}
	r, err := a.DB.Role(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	if r.IsOwner {
		return regulars.Errorf(regulars.ECONFLICT, "The Account owner role cannot be deleted.")
	}
	return a.DB.DeleteRole(ctx, r)
}
