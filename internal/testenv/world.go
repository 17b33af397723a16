package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"regulars"
	"regulars/app"
	"regulars/store"
)

// OpenSQLite returns a fresh, migrated SQLite database in a temp folder.
func OpenSQLite(t testing.TB) *store.DB {
	t.Helper()
	return openMigrated(t, filepath.Join(t.TempDir(), "regulars.db"))
}

// OpenPostgres returns a fresh, migrated PostgreSQL database (see
// PostgresURL for when it skips or fails). It is a copy of a template
// database migrated once for the current set of migrations, which is much
// faster than migrating every test's database.
func OpenPostgres(t testing.TB) *store.DB {
	t.Helper()
	return openMigrated(t, postgresURL(t, migratedTemplate))
}

var (
	templateMu   sync.Mutex
	templateName string
)

// migratedTemplate returns the name of a database holding exactly the
// current migrations, creating it once; the name carries a hash of the
// migrations, so a changed migration set gets a template of its own, and
// test binaries running at once agree through an advisory lock.
func migratedTemplate(ctx context.Context, base string, conn *pgx.Conn) (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateName != "" {
		return templateName, nil
	}
	list, err := store.Migrations("postgres")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range list {
		io.WriteString(h, m.Name+"\x00"+m.SQL+"\x00")
	}
	name := "regulars_tpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727275)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727275)")
	var n int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		return "", err
	}
	if n == 0 {
		building := name + "_building"
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)")
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
			return "", err
		}
		url, err := withDatabase(base, building)
		if err != nil {
			return "", err
		}
		db, err := store.Open(ctx, url)
		if err != nil {
			return "", err
		}
		_, err = db.Migrate(ctx)
		db.Close()
		if err != nil {
			return "", err
		}
		// Renamed only when complete: a killed build never leaves a half template.
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", err
		}
	}
	templateName = name
	return name, nil
}

func openMigrated(t testing.TB, url string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckQueries(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// FastPasswords are cheap argon2id parameters for tests only.
var FastPasswords = app.PasswordParams{Memory: 64, Time: 1, Threads: 1}

// Password is the password of every user NewWorld creates.
const Password = "correct horse battery staple"

// World is a tenant with an operator, a full package, and two partners (A
// and B) each with an account owner, a custom role and a channel.
type World struct {
	DB       *store.DB
	Tenant   *regulars.Tenant
	Package  *regulars.Package
	Operator *regulars.User

	Partner   *regulars.Partner // partner A
	OwnerRole *regulars.Role
	Owner     *regulars.User
	Role      *regulars.Role // a custom role of A: view on everything
	Channel   *regulars.Channel

	// A second tenant with its own operator: tenant isolation.
	OtherTenant         *regulars.Tenant
	OtherTenantOperator *regulars.User

	OtherPartner *regulars.Partner // partner B
	OtherOwner   *regulars.User
	OtherRole    *regulars.Role
	OtherChannel *regulars.Channel
}

// NewWorld fills db with a small world; every user's password is Password.
func NewWorld(t testing.TB, db *store.DB) *World {
	t.Helper()
	ctx := context.Background()
	w := &World{DB: db}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	hash := app.HashPassword(Password, FastPasswords)
	w.Tenant = &regulars.Tenant{Name: "Test Tenant", Slug: "test", SupportEmail: "support@tenant.example"}
	must(db.CreateTenant(ctx, w.Tenant))
	w.Package = &regulars.Package{TenantID: w.Tenant.ID, Name: "Everything", MonthlyPrice: 9900, YearlyPrice: 99000, Currency: "EUR",
		Features: regulars.AllPartnerFeatures(), Limits: map[string]int64{"channels": 10, "users": 50}}
	must(db.CreatePackage(ctx, w.Package))

	opRole := &regulars.Role{TenantID: w.Tenant.ID, Name: regulars.OwnerRoleName, IsOwner: true}
	must(db.CreateRole(ctx, opRole))
	w.Operator = &regulars.User{TenantID: w.Tenant.ID, RoleID: opRole.ID, Name: "Olivia Operator", Email: "operator@tenant.example", Status: regulars.UserActive, PasswordHash: hash}
	must(db.CreateUser(ctx, w.Operator, true))

	mk := func(brand, ownerEmail string) (*regulars.Partner, *regulars.Role, *regulars.User, *regulars.Role, *regulars.Channel) {
		p := &regulars.Partner{TenantID: w.Tenant.ID, BrandName: brand, Country: "GB", PackageID: w.Package.ID, Status: regulars.PartnerActive}
		must(db.CreatePartner(ctx, p))
		or := &regulars.Role{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: regulars.OwnerRoleName, IsOwner: true}
		must(db.CreateRole(ctx, or))
		owner := &regulars.User{TenantID: w.Tenant.ID, PartnerID: p.ID, RoleID: or.ID, Name: brand + " Owner", Email: ownerEmail, Status: regulars.UserActive, PasswordHash: hash}
		must(db.CreateUser(ctx, owner, true))
		viewer := regulars.Permissions{}
		for _, f := range regulars.AllPartnerFeatures() {
			viewer[f] = regulars.LevelView
		}
		r := &regulars.Role{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: "Viewer", Permissions: viewer}
		must(db.CreateRole(ctx, r))
		c := &regulars.Channel{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: brand + " Main", Status: regulars.ChannelActive, ChatEnabled: true}
		must(db.CreateChannel(ctx, c))
		return p, or, owner, r, c
	}
	w.Partner, w.OwnerRole, w.Owner, w.Role, w.Channel = mk("Alpha Coffee", "owner@alpha.example")
	w.OtherPartner, _, w.OtherOwner, w.OtherRole, w.OtherChannel = mk("Beta Bakery", "owner@beta.example")

	w.OtherTenant = &regulars.Tenant{Name: "Other Tenant", Slug: "other"}
	must(db.CreateTenant(ctx, w.OtherTenant))
	otRole := &regulars.Role{TenantID: w.OtherTenant.ID, Name: regulars.OwnerRoleName, IsOwner: true}
	must(db.CreateRole(ctx, otRole))
	w.OtherTenantOperator = &regulars.User{TenantID: w.OtherTenant.ID, RoleID: otRole.ID, Name: "Other Operator", Email: "operator@other.example", Status: regulars.UserActive, PasswordHash: hash}
	must(db.CreateUser(ctx, w.OtherTenantOperator, true))
	return w
}

// AddUser adds an active user with a role of its own carrying perms to
// partner p (0 = tenant staff) and returns it. Its password is Password.
func (w *World) AddUser(t testing.TB, partnerID int64, email string, perms regulars.Permissions) *regulars.User {
	t.Helper()
	ctx := context.Background()
	r := &regulars.Role{TenantID: w.Tenant.ID, PartnerID: partnerID, Name: "Role for " + email, Permissions: perms}
	if err := w.DB.CreateRole(ctx, r); err != nil {
		t.Fatal(err)
	}
	u := &regulars.User{TenantID: w.Tenant.ID, PartnerID: partnerID, RoleID: r.ID, Name: "User " + email, Email: email, Status: regulars.UserActive,
		PasswordHash: app.HashPassword(Password, FastPasswords)}
	if err := w.DB.CreateUser(ctx, u, false); err != nil {
		t.Fatal(err)
	}
	return u
}

// AddFollower adds a follower of the world's tenant with the given end-user
// ID, following the given channels. mod may set optional attributes.
func (w *World) AddFollower(t testing.TB, endUserID string, channels []*regulars.Channel, mod ...func(*regulars.Follower)) *regulars.Follower {
	t.Helper()
	ctx := context.Background()
	f := &regulars.Follower{TenantID: w.Tenant.ID, EndUserID: endUserID, Name: "Follower " + endUserID,
		PasswordHash: app.HashPassword(Password, FastPasswords)}
	for _, m := range mod {
		m(f)
	}
	if err := w.DB.CreateFollower(ctx, f); err != nil {
		t.Fatal(err)
	}
	for _, c := range channels {
		if _, _, err := w.DB.Follow(ctx, w.Tenant.ID, c.ID, f.ID, w.DB.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}
