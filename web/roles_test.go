package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// radio returns the <input> of a permission radio in the role editor.
func radio(t *testing.T, r *testenv.Response, feature regulars.Feature, level string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="radio" name="perm\.` + string(feature) + `" value="` + level + `"[^>]*>`).FindString(r.Body)
	if m == "" {
		t.Fatalf("no %s radio for %s in the role editor", level, feature)
	}
	return m
}

// addUserWithRole adds an active user of partner A holding role.
func addUserWithRole(t *testing.T, w *testenv.World, name, email string, role *regulars.Role) *regulars.User {
	t.Helper()
	u := &regulars.User{TenantID: w.Tenant.ID, PartnerID: role.PartnerID, RoleID: role.ID, Name: name, Email: email,
		Status: regulars.UserActive, PasswordHash: app.HashPassword(testenv.Password, testenv.FastPasswords)}
	if err := w.DB.CreateUser(t.Context(), u, false); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestNobodyGrantsMoreThanTheirOwnLevel(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		mgr := srv.SignedIn(t, manager(t, w).Email) // coupons: view only; chat: none
		rolesBefore := func() int {
			rs, err := db.Roles(t.Context(), w.Tenant.ID, w.Partner.ID)
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		before := rolesBefore()

		// The editor offers only what the manager has.
		page := mgr.Get("/admin/roles/new")
		wantStatus(t, page, http.StatusOK)
		for level, disabled := range map[string]bool{"none": false, "view": false, "update": true, "manage": true} {
			if got := regexp.MustCompile(`\bdisabled\b`).MatchString(radio(t, page, regulars.FeatureCoupons, level)); got != disabled {
				t.Errorf("coupons %s radio disabled=%v, want %v", level, got, disabled)
			}
		}

		// The server refuses what the page does not offer.
		r := mgr.PostForm("/admin/roles", form("name", "Coupon boss", "perm.coupons", "manage"))
		wantFieldError(t, r, "perm.coupons", "You cannot grant more than your own level (View only).")
		r = mgr.PostForm("/admin/roles", form("name", "Chatter", "perm.chat", "view"))
		wantFieldError(t, r, "perm.chat", "You cannot grant more than your own level (None).")
		r = mgr.PostForm("/admin/roles", form("name", "Hacker", "perm.coupons", "superuser"))
		wantFieldError(t, r, "perm.coupons", "Choose one of the four levels.")
		wantFieldError(t, mgr.PostForm("/admin/roles", form("name", "viewer")), "name", "A role with this name already exists.")
		wantFieldError(t, mgr.PostForm("/admin/roles", form("name", "account OWNER")), "name", "This name is reserved")
		wantFieldError(t, mgr.PostForm("/admin/roles", form("name", " ")), "name", "This field is required.")
		if n := rolesBefore(); n != before {
			t.Fatalf("refused roles were saved: %d roles, was %d", n, before)
		}

		// Editing is held to the same rule, and the role stays as it was.
		small := addRole(t, w, "Coupon clerk", regulars.Permissions{regulars.FeatureCoupons: regulars.LevelView})
		r = mgr.PostForm(idPath("/admin/roles", small.ID, ""), form("name", "Coupon clerk", "perm.coupons", "manage"))
		wantFieldError(t, r, "perm.coupons", "You cannot grant more than your own level (View only).")
		if got, _ := db.Role(t.Context(), w.Tenant.ID, w.Partner.ID, small.ID); got.Permissions.Level(regulars.FeatureCoupons) != regulars.LevelView {
			t.Errorf("the refused edit changed the role to %v", got.Permissions)
		}
		// A role above the manager's level cannot be edited at all.
		big := addRole(t, w, "Coupon manager", regulars.Permissions{regulars.FeatureCoupons: regulars.LevelManage})
		wantText(t, mgr.Get(idPath("/admin/roles", big.ID, "")), big.Name)
		noText(t, mgr.Get(idPath("/admin/roles", big.ID, "")), "Save role", "Delete role")
		r = mgr.PostForm(idPath("/admin/roles", big.ID, ""), form("name", "Coupon manager", "perm.coupons", "view"))
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, "The role Coupon manager has more rights than your own")

		// Within the manager's levels all is well.
		r = mgr.PostForm("/admin/roles", form("name", "Coupon reader", "perm.coupons", "view", "perm.chat", "none"))
		wantRedirect(t, r, "/admin/roles")
		wantText(t, follow(t, mgr, r), "Role Coupon reader created.")
		if n := rolesBefore(); n != before+3 {
			t.Errorf("%d roles, want %d", n, before+3)
		}
	})
}

func TestTheAccountOwnerRoleIsBuiltIn(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		page := idPath("/admin/roles", w.OwnerRole.ID, "")

		editor := owner.Get(page)
		wantText(t, editor, "It cannot be edited or deleted.")
		noText(t, editor, "Save role", "Delete role")

		r := submit(srv, owner, page, page, form("name", "Boss", "perm.chat", "view"))
		wantRedirect(t, r, page)
		wantText(t, follow(t, owner, r), "The Account owner role cannot be edited.")
		r = submit(srv, owner, page, page+"/delete", nil)
		wantRedirect(t, r, page)
		wantText(t, follow(t, owner, r), "The Account owner role cannot be deleted.")
		role, err := db.Role(t.Context(), w.Tenant.ID, w.Partner.ID, w.OwnerRole.ID)
		if err != nil || role.Name != regulars.OwnerRoleName || !role.IsOwner {
			t.Fatalf("the owner role is now %+v (%v)", role, err)
		}

		// It is not given to a second user, neither on creation nor by an edit.
		u := addUserWithRole(t, w, "Ann Agent", "ann@alpha.example", w.Role)
		r = owner.PostForm(idPath("/admin/users", u.ID, ""), form("name", u.Name, "email", u.Email, "role", fmt.Sprint(w.OwnerRole.ID)))
		wantFieldError(t, r, "role", "Only one user can be the Account owner.")
		if got := user(t, db, u.ID).RoleID; got != w.Role.ID {
			t.Errorf("Ann's role is %d, want %d", got, w.Role.ID)
		}
		noText(t, owner.Get(idPath("/admin/users", u.ID, "")), `value="`+fmt.Sprint(w.OwnerRole.ID)+`"`)

		// Only the owner edits the owner.
		mgr := srv.SignedIn(t, manager(t, w).Email)
		r = mgr.PostForm(idPath("/admin/users", w.Owner.ID, ""), form("name", "Someone else", "email", w.Owner.Email, "role", fmt.Sprint(w.Role.ID)))
		wantStatus(t, r, http.StatusForbidden)
		if got := user(t, db, w.Owner.ID); got.Name != w.Owner.Name || got.RoleID != w.OwnerRole.ID {
			t.Errorf("the manager changed the owner to %q, role %d", got.Name, got.RoleID)
		}
	})
}

func TestDeletingARoleInUseNamesItsHolders(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		lead := addRole(t, w, "Shift lead", regulars.Permissions{regulars.FeatureChat: regulars.LevelManage})
		addUserWithRole(t, w, "Bob Barista", "bob@alpha.example", lead)
		addUserWithRole(t, w, "Ann Agent", "ann@alpha.example", lead)
		page := idPath("/admin/roles", lead.ID, "")

		wantText(t, owner.Get(page), "Ann Agent", "Bob Barista")
		r := submit(srv, owner, page, page+"/delete", nil)
		wantRedirect(t, r, page)
		wantText(t, follow(t, owner, r), "This role is in use by Ann Agent, Bob Barista. Give them another role first.")
		if _, err := db.Role(t.Context(), w.Tenant.ID, w.Partner.ID, lead.ID); err != nil {
			t.Fatalf("the role in use was deleted: %v", err)
		}

		unused := addRole(t, w, "Night shift", regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		r = submit(srv, owner, "/admin/roles", idPath("/admin/roles", unused.ID, "/delete"), nil)
		wantRedirect(t, r, "/admin/roles")
		wantText(t, follow(t, owner, r), "Role Night shift deleted.")
		if _, err := db.Role(t.Context(), w.Tenant.ID, w.Partner.ID, unused.ID); regulars.ErrorCode(err) != regulars.ENOTFOUND {
			t.Errorf("the deleted role is still there: %v", err)
		}
	})
}

func TestOwnershipTransferMovesTheRoleAtomically(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		ann := addUserWithRole(t, w, "Ann Agent", "ann@alpha.example", w.Role)
		owners := func() []string {
			var out []string
			for _, u := range users(t, db, w, w.Partner.ID) {
				if u.RoleID == w.OwnerRole.ID {
					out = append(out, u.Email)
				}
			}
			if o, err := db.Owner(t.Context(), w.Tenant.ID, w.Partner.ID); err != nil || !slices.Equal(out, []string{o.Email}) {
				t.Fatalf("owner role held by %v, owner flag on %v (%v)", out, o, err)
			}
			return out
		}

		r := owner.PostForm("/account/transfer", form("to", fmt.Sprint(ann.ID), "transfer_password", "wrong password"))
		wantFieldError(t, r, "transfer_password", "Your password is not correct.")
		if got := owners(); !slices.Equal(got, []string{w.Owner.Email}) {
			t.Fatalf("after a refused transfer the owners are %v", got)
		}

		r = owner.PostForm("/account/transfer", form("to", fmt.Sprint(ann.ID), "transfer_password", testenv.Password))
		wantRedirect(t, r, "/account")
		wantText(t, follow(t, owner, r), "Ownership is transferred.")
		if got := owners(); !slices.Equal(got, []string{ann.Email}) {
			t.Fatalf("after the transfer the owners are %v, want only Ann", got)
		}
		if got := user(t, db, w.Owner.ID).RoleID; got != w.Role.ID {
			t.Errorf("the former owner has role %d, want Ann's former role %d", got, w.Role.ID)
		}
		// The former owner's open session has the new role at once.
		wantStatus(t, owner.Get("/admin/users"), http.StatusOK)
		wantStatus(t, owner.Get("/admin/users/new"), http.StatusForbidden)
		wantStatus(t, owner.PostForm("/account/transfer", form("to", fmt.Sprint(w.Owner.ID), "transfer_password", testenv.Password)), http.StatusForbidden)
		wantText(t, srv.SignedIn(t, ann.Email).Get("/account"), "Transfer ownership")
	})
}

func TestConcurrentOwnershipTransfersLeaveOneOwner(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		owner := srv.SignedIn(t, w.Owner.Email)
		other := addRole(t, w, "Other", regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		targets := []*regulars.User{
			addUserWithRole(t, w, "Ann Agent", "ann@alpha.example", w.Role),
			addUserWithRole(t, w, "Bob Barista", "bob@alpha.example", other),
		}
		var wg sync.WaitGroup
		status := make([]int, len(targets))
		for i, to := range targets {
			wg.Go(func() {
				status[i] = owner.PostForm("/account/transfer", form("to", fmt.Sprint(to.ID), "transfer_password", testenv.Password)).StatusCode
			})
		}
		wg.Wait()
		var holders []string
		for _, u := range users(t, db, w, w.Partner.ID) {
			if u.RoleID == w.OwnerRole.ID {
				holders = append(holders, u.Email)
			}
		}
		if len(holders) != 1 || holders[0] == w.Owner.Email {
			t.Fatalf("after two transfers at once the owner role is held by %v (answers %v)", holders, status)
		}
		for _, s := range status {
			if s >= 500 {
				t.Errorf("a transfer failed with %d (answers %v)", s, status)
			}
		}
		// The former owner has exactly one of the two former roles.
		if got := user(t, db, w.Owner.ID).RoleID; got != w.Role.ID && got != other.ID {
			t.Errorf("the former owner has role %d", got)
		}
	})
}

// basicPartner adds partner "Gamma Gym" whose package lacks locations and
// loyalty, with its owner and a role made before a downgrade that still
// grants locations.
func basicPartner(t *testing.T, w *testenv.World) (owner, old *regulars.User, oldRole *regulars.Role) {
	t.Helper()
	ctx := t.Context()
	db := w.DB
	var features []regulars.Feature
	for _, f := range regulars.AllPartnerFeatures() {
		if f != regulars.FeatureLocations && f != regulars.FeatureLoyalty {
			features = append(features, f)
		}
	}
	pkg := &regulars.Package{TenantID: w.Tenant.ID, Name: "Basic", Currency: "EUR", Features: features}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreatePackage(ctx, pkg))
	p := &regulars.Partner{TenantID: w.Tenant.ID, BrandName: "Gamma Gym", PackageID: pkg.ID, Status: regulars.PartnerActive}
	must(db.CreatePartner(ctx, p))
	or := &regulars.Role{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: regulars.OwnerRoleName, IsOwner: true}
	must(db.CreateRole(ctx, or))
	hash := app.HashPassword(testenv.Password, testenv.FastPasswords)
	owner = &regulars.User{TenantID: w.Tenant.ID, PartnerID: p.ID, RoleID: or.ID, Name: "Gamma Owner", Email: "owner@gamma.example", Status: regulars.UserActive, PasswordHash: hash}
	must(db.CreateUser(ctx, owner, true))
	oldRole = &regulars.Role{TenantID: w.Tenant.ID, PartnerID: p.ID, Name: "Area manager", Permissions: regulars.Permissions{
		regulars.FeatureLocations: regulars.LevelManage, regulars.FeatureChat: regulars.LevelView}}
	must(db.CreateRole(ctx, oldRole))
	old = &regulars.User{TenantID: w.Tenant.ID, PartnerID: p.ID, RoleID: oldRole.ID, Name: "Gina Area", Email: "gina@gamma.example", Status: regulars.UserActive, PasswordHash: hash}
	must(db.CreateUser(ctx, old, false))
	return owner, old, oldRole
}

func TestFeaturesOutsideThePackageAreHiddenAndRefused(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		gammaOwner, gina, areaManager := basicPartner(t, w)
		owner := srv.SignedIn(t, gammaOwner.Email)

		links := drawerLinks(owner.Get("/admin"))
		for _, hidden := range []string{"/admin/locations", "/admin/loyalty"} {
			if slices.Contains(links, hidden) {
				t.Errorf("the drawer shows %s, which the package lacks", hidden)
			}
		}
		if !slices.Contains(links, "/admin/coupons") {
			t.Errorf("the drawer lacks coupons, which the package has: %v", links)
		}
		editor := owner.Get("/admin/roles/new")
		noText(t, editor, "perm.locations", "perm.loyalty", "Loyalty programs")
		wantText(t, editor, "perm.coupons")

		for _, p := range []string{"/admin/locations", "/admin/loyalty"} {
			r := owner.Get(p)
			wantStatus(t, r, http.StatusForbidden)
			wantText(t, r, "This feature is not part of your package.")
		}
		r := owner.PostForm("/admin/roles", form("name", "Mapper", "perm.locations", "view"))
		wantFieldError(t, r, "perm.locations", "This feature is not part of your package.")
		// A role from before a downgrade can still be given to people.
		wantText(t, owner.Get("/admin/users/new"), ">Area manager<")

		// A role from before a downgrade grants nothing outside the package…
		g := srv.SignedIn(t, gina.Email)
		wantStatus(t, g.Get("/admin/locations"), http.StatusForbidden)
		if slices.Contains(drawerLinks(g.Get("/admin")), "/admin/locations") {
			t.Error("the drawer shows locations to a role from before the downgrade")
		}
		// …and editing it keeps that level for a later upgrade.
		r = owner.PostForm(idPath("/admin/roles", areaManager.ID, ""), form("name", "Area manager", "perm.chat", "update"))
		wantRedirect(t, r, idPath("/admin/roles", areaManager.ID, ""))
		got, err := db.RoleByID(t.Context(), areaManager.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Permissions.Level(regulars.FeatureLocations) != regulars.LevelManage || got.Permissions.Level(regulars.FeatureChat) != regulars.LevelUpdate {
			t.Errorf("after the edit the role has %v", got.Permissions)
		}
	})
}
