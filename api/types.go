package api

import (
	"slices"
	"strconv"
	"time"

	"regulars"
	"regulars/app"
)

// The bodies of the staff API. Field tags: json names the member; a member
// without omitempty is always present (required in the schema); a pointer
// may be null; enum lists the allowed strings; doc describes the member.

// Level is a permission level by name.
type Level string

// levelNames are indexed by regulars.Level.
var levelNames = []string{"none", "view", "update", "manage"}

// Enum lists the level names in increasing order.
func (Level) Enum() []string { return levelNames }

func levelName(l regulars.Level) Level {
	if !l.Valid() {
		return ""
	}
	return Level(levelNames[l])
}

// level parses a level name; an unknown name gives an invalid level, which
// the domain refuses with a message for the field.
func (l Level) level() regulars.Level {
	if i := slices.Index(levelNames, string(l)); i >= 0 {
		return regulars.Level(i)
	}
	return -1
}

// FeatureName is a feature a role grants a level of.
type FeatureName string

// Enum lists the partner and tenant features.
func (FeatureName) Enum() []string {
	var out []string
	for _, f := range slices.Concat(regulars.PartnerFeatures, regulars.TenantFeatures) {
		out = append(out, string(f.Feature))
	}
	return out
}

// Permissions maps each feature the caller can see to a level.
type Permissions map[FeatureName]Level

// permissionsOf lists every feature grantable on the actor's side (those of
// the partner's package): features outside it stay hidden.
func permissionsOf(actor *app.Actor, level func(regulars.Feature) regulars.Level) Permissions {
	out := Permissions{}
	for _, f := range actor.GrantableFeatures() {
		out[FeatureName(f.Feature)] = levelName(level(f.Feature))
	}
	return out
}

func (p Permissions) domain() regulars.Permissions {
	out := regulars.Permissions{}
	for f, l := range p {
		out[regulars.Feature(f)] = l.level()
	}
	return out
}

// User is a staff user. The password hash never leaves the server.
type User struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone" doc:"empty when not given"`
	Status    string    `json:"status" enum:"invited,active,disabled" doc:"invited until the user sets a password"`
	RoleID    int64     `json:"role_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (u User) location() string { return "/api/v1/users/" + strconv.FormatInt(u.ID, 10) }

func userOut(u *regulars.User) User {
	return User{ID: u.ID, Name: u.Name, Email: u.Email, Phone: u.Phone, Status: u.Status, RoleID: u.RoleID, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// UserRef names a user.
type UserRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// UserList is the users of the caller's partner.
type UserList struct {
	Items []User `json:"items"`
}

// UserCreate invites a user.
type UserCreate struct {
	Name   string `json:"name"`
	Email  string `json:"email" doc:"the sign-in email; the invitation goes there"`
	Phone  string `json:"phone,omitempty"`
	RoleID int64  `json:"role_id" doc:"a role of the partner other than the Account owner, not above the caller's own levels"`
}

// UserUpdate changes the members it holds and keeps the others.
type UserUpdate struct {
	Name   *string `json:"name,omitempty"`
	Email  *string `json:"email,omitempty"`
	Phone  *string `json:"phone,omitempty" doc:"empty string to remove"`
	RoleID *int64  `json:"role_id,omitempty"`
}

// PasswordSet sets another user's password; their sessions end.
type PasswordSet struct {
	Password string `json:"password"`
}

// Role is a named set of permission levels.
type Role struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	IsOwner bool   `json:"is_owner" doc:"the built-in Account owner role: every permission of the package, held by one user, not editable"`
	// Permissions holds every feature of the partner's package.
	Permissions Permissions `json:"permissions" doc:"a level for every feature of the package"`
	UserCount   int         `json:"user_count" doc:"how many users hold the role"`
	CreatedAt   time.Time   `json:"created_at"`
}

func (r Role) location() string { return "/api/v1/roles/" + strconv.FormatInt(r.ID, 10) }

func roleOut(actor *app.Actor, r *regulars.Role) Role {
	return Role{ID: r.ID, Name: r.Name, IsOwner: r.IsOwner, UserCount: r.UserCount, CreatedAt: r.CreatedAt,
		Permissions: permissionsOf(actor, func(f regulars.Feature) regulars.Level {
			if r.IsOwner {
				return regulars.LevelManage
			}
			return r.Permissions.Level(f)
		})}
}

// RoleList is the roles of the caller's partner, the Account owner first.
type RoleList struct {
	Items []Role `json:"items"`
}

// RoleCreate adds a custom role.
type RoleCreate struct {
	Name        string      `json:"name"`
	Permissions Permissions `json:"permissions,omitempty" doc:"missing features get none; no level above the caller's own"`
}

// RoleUpdate changes the name and the levels of the features it holds.
type RoleUpdate struct {
	Name        *string     `json:"name,omitempty"`
	Permissions Permissions `json:"permissions,omitempty" doc:"levels to change; features not mentioned keep theirs"`
}

// Partner is the business the caller works for.
type Partner struct {
	ID        int64  `json:"id"`
	BrandName string `json:"brand_name"`
	Country   string `json:"country"`
	Website   string `json:"website"`
	Status    string `json:"status" enum:"pending,active,suspended"`
}

// Tenant is the operator of the platform.
type Tenant struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Me is the caller.
type Me struct {
	User    User     `json:"user"`
	Role    Role     `json:"role"`
	Partner *Partner `json:"partner" doc:"null for tenant staff"`
	Tenant  Tenant   `json:"tenant"`
	// Permissions is what the caller may do: the role's levels within the
	// package.
	Permissions Permissions `json:"permissions" doc:"effective levels: the role's, within the package"`
}

// FeatureInfo describes a feature for a role editor.
type FeatureInfo struct {
	Feature  FeatureName `json:"feature"`
	Label    string      `json:"label"`
	Help     string      `json:"help"`
	MaxLevel Level       `json:"max_level" doc:"the caller's own level: the most a role the caller edits may grant"`
}

// FeatureList is the features the caller's roles can grant.
type FeatureList struct {
	Items []FeatureInfo `json:"items"`
}
