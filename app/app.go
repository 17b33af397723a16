// Package app holds the use cases of Regulars: the rules that every surface
// (HTML, JSON API, realtime) goes through. Handlers parse and render; app
// decides and authorizes; store persists.
package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"regulars"
	"regulars/events"
	"regulars/files"
	"regulars/httpx"
	"regulars/segindex"
	"regulars/store"
)

// Mailer sends (and keeps) emails.
type Mailer interface {
	Send(ctx context.Context, m *regulars.Mail) error
}

// App is the core, built once in main and passed to every surface.
type App struct {
	DB       *store.DB
	Mail     Mailer
	Log      *slog.Logger
	Clock    regulars.Clock
	BaseURL  string // e.g. http://localhost:8080, no trailing slash
	Password PasswordParams
	// Bus carries events to every node (realtime, geofence updates).
	Bus events.Bus
	// Targeting narrows engagements to their segmentations; nil = every
	// follower of the channel (see InAudience).
	Targeting Targeting
	// Segments answers segment counts and targeting from memory (see
	// package segindex); it is also the Targeting hook.
	Segments *segindex.Index
	// Media holds uploaded pictures (channel logos, engagement images).
	Media files.Store
	// JobInterval is how often the background jobs look for work.
	JobInterval time.Duration
	// FollowerTokenTTL is how long a follower's sign-in lasts.
	FollowerTokenTTL time.Duration

	kick   chan struct{} // wakes the background jobs early
	caches caches        // see cache.go
	// Files stores chat attachments; nil refuses attachments.
	Files files.Store
	// ChatMaxAttachment is the largest chat attachment in bytes (0: the default).
	ChatMaxAttachment int64
	// ChatSends holds each sender of chat messages (a follower, an agent)
	// to a rate, over the WebSocket and the API together; nil: no limit.
	ChatSends *httpx.Limiter
	// Geocoder searches addresses for the locations form; nil = no search.
	Geocoder Geocoder
	// MapTiles is where maps load their tiles (follower app and admin).
	MapTiles MapTiles

	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	InviteTTL       time.Duration
	ResetTTL        time.Duration

	fences geofences // proximity targeting, per tenant (geofence.go)

	// dummyHash is verified for unknown emails so both answers take as long.
	// It is made on first use, with the Password parameters in force then
	// (callers may change Password after New).
	dummyOnce sync.Once
	dummyHash string

	usage       map[string]UsageCounter // package limits by key (limits.go)
	featureLost []FeatureLostHook
}

// New returns an App with production defaults.
func New(db *store.DB, mailer Mailer, log *slog.Logger, baseURL string) *App {
	a := &App{
		DB: db, Mail: mailer, Log: log, Clock: regulars.SystemClock{}, BaseURL: baseURL,
		Password:         DefaultPasswordParams,
		SessionIdle:      24 * time.Hour,
		SessionAbsolute:  30 * 24 * time.Hour,
		InviteTTL:        72 * time.Hour,
		ResetTTL:         2 * time.Hour,
		JobInterval:      15 * time.Second,
		FollowerTokenTTL: 180 * 24 * time.Hour,
		kick:             make(chan struct{}, 1),
	}
	a.Bus = events.NewLocal()
	a.usage = map[string]UsageCounter{}
	a.registerCoreUsage()
	a.Segments = segindex.New(db, log)
	a.Segments.Now = a.now
	a.Targeting = a.Segments
	return a
}

// dummy returns a hash with the current cost parameters that no password
// matches.
func (a *App) dummy() string {
	a.dummyOnce.Do(func() { a.dummyHash = HashPassword(NewSecret(""), a.Password) })
	return a.dummyHash
}

func (a *App) now() time.Time { return a.Clock.Now().UTC() }

// Actor is a signed-in staff user with everything authorization needs.
type Actor struct {
	User    *regulars.User
	Role    *regulars.Role
	Tenant  *regulars.Tenant
	Partner *regulars.Partner // nil for tenant staff
	Package *regulars.Package // the partner's package; nil for tenant staff
	// Perms is what the user may do: the role's levels limited to the
	// package (partners) or to the tenant features (tenant staff).
	Perms     regulars.Permissions
	SessionID int64 // 0 for API tokens
	TokenID   int64 // personal access token in use, if any
}

// IsOwner reports whether the actor holds the Account owner role.
func (a *Actor) IsOwner() bool { return a.Role.IsOwner }

// PartnerID is the partner the actor works for (0 = tenant staff).
func (a *Actor) PartnerID() int64 { return a.User.PartnerID }

// Can reports whether the actor has at least level on f. Account and support
// are open to every signed-in user of the right side.
func (a *Actor) Can(f regulars.Feature, level regulars.Level) bool {
	switch f {
	case regulars.FeatureAccount:
		return true
	case regulars.FeatureSupport:
		return a.Partner != nil
	}
	return a.Perms.Allows(f, level)
}

// Require returns a forbidden error unless the actor has level on f.
func (a *Actor) Require(f regulars.Feature, level regulars.Level) error {
	if a.Can(f, level) {
		return nil
	}
	return regulars.Errorf(regulars.EFORBIDDEN, "Your role does not allow this.")
}

// GrantableFeatures lists the features the actor's side can assign in roles:
// the package's features for partners, the tenant features for operators.
func (a *Actor) GrantableFeatures() []regulars.FeatureInfo {
	if a.Partner == nil {
		return regulars.TenantFeatures
	}
	var out []regulars.FeatureInfo
	for _, f := range regulars.PartnerFeatures {
		if a.Package != nil && a.Package.Includes(f.Feature) {
			out = append(out, f)
		}
	}
	return out
}

// actorFor loads the actor of a user id.
func (a *App) actorFor(ctx context.Context, userID int64) (*Actor, error) {
	d, err := a.DB.UserActor(ctx, userID)
	if err != nil {
		return nil, err
	}
	return actorFromData(d)
}

// actorFromData checks that the user may act and works out the effective
// permissions: the role's levels limited to the package (partners) or to
// the tenant features (tenant staff); the owner role has all of them.
func actorFromData(d *store.ActorData) (*Actor, error) {
	u := d.User
	if u.Status != regulars.UserActive {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "Your account is not active.")
	}
	act := &Actor{User: u, Role: d.Role, Tenant: d.Tenant}
	var features []regulars.Feature
	if u.PartnerID == 0 {
		for _, f := range regulars.TenantFeatures {
			features = append(features, f.Feature)
		}
	} else {
		if d.Partner == nil {
			return nil, regulars.ErrNotFound("partner")
		}
		if d.Partner.Status == regulars.PartnerSuspended {
			return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "This partner account is suspended. Contact your platform operator.")
		}
		act.Partner, act.Package = d.Partner, d.Package
		if d.Package != nil {
			features = d.Package.Features
		}
	}
	if d.Role.IsOwner {
		act.Perms = regulars.FullPermissions(features)
	} else {
		act.Perms = d.Role.Permissions.Restrict(features)
	}
	return act, nil
}
