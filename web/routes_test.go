package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

// fixtures fill the wildcards of a route with an object that belongs to
// partner A (or tenant A) and that the acting user could reach. A route with
// a wildcard and no fixture fails the test: add one with the route.
type fixtures struct {
	t  *testing.T
	w  *testenv.World
	db *store.DB
	a  *app.App
}

func (f *fixtures) path(rt httpx.Route, actor *regulars.User) string {
	f.t.Helper()
	ctx := context.Background()
	p := rt.Pattern
	p = strings.TrimSuffix(p, "{$}")
	if !strings.Contains(p, "{") {
		return p
	}
	if path, ok := f.segmentPath(p); ok {
		return path
	}
	var id string
	switch {
	case strings.HasPrefix(p, "/password/{token}"):
		id = "not-a-real-token"
	case strings.HasPrefix(p, "/admin/users/{id}"):
		u := f.w.AddUser(f.t, f.w.Partner.ID, fmt.Sprintf("fixture%d@alpha.example", f.seq()), regulars.Permissions{regulars.FeatureChat: regulars.LevelView})
		id = strconv.FormatInt(u.ID, 10)
	case strings.HasPrefix(p, "/tenant/users/{id}"):
		u := f.w.AddUser(f.t, 0, fmt.Sprintf("fixture%d@tenant.example", f.seq()), regulars.Permissions{regulars.FeatureTenantOutbox: regulars.LevelView})
		id = strconv.FormatInt(u.ID, 10)
	case strings.HasPrefix(p, "/admin/roles/{id}"):
		r := &regulars.Role{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", f.seq()), Permissions: regulars.Permissions{regulars.FeatureChat: regulars.LevelView}}
		if err := f.db.CreateRole(ctx, r); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(r.ID, 10)
	case strings.HasPrefix(p, "/tenant/roles/{id}"):
		r := &regulars.Role{TenantID: f.w.Tenant.ID, Name: fmt.Sprintf("Fixture %d", f.seq()), Permissions: regulars.Permissions{regulars.FeatureTenantOutbox: regulars.LevelView}}
		if err := f.db.CreateRole(ctx, r); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(r.ID, 10)
	case strings.HasPrefix(p, "/app/{file}"):
		id = "app.js"
	case strings.HasPrefix(p, "/media/{name}"):
		id = "missing.png"
	case strings.HasPrefix(p, "/admin/channels/{id}"):
		id = strconv.FormatInt(f.w.Channel.ID, 10)
	case strings.HasPrefix(p, "/admin/messages/{id}"), strings.HasPrefix(p, "/admin/coupons/{id}"), strings.HasPrefix(p, "/admin/loyalty/{id}"):
		e := &regulars.Engagement{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, ChannelID: f.w.Channel.ID, Name: fmt.Sprintf("Fixture %d", f.seq())}
		switch {
		case strings.HasPrefix(p, "/admin/messages/"):
			e.Kind, e.Message = regulars.KindMessage, &regulars.MessageSpec{Text: "Hello", Recurring: regulars.RecurOnce}
		case strings.HasPrefix(p, "/admin/coupons/"):
			e.Kind, e.Coupon = regulars.KindCoupon, &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}
		default:
			e.Kind, e.Loyalty = regulars.KindLoyalty, &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints}
		}
		if err := f.db.CreateEngagement(ctx, e); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(e.ID, 10)
	case strings.HasPrefix(p, "/admin/followers/{id}"):
		fl := f.w.AddFollower(f.t, fmt.Sprintf("FX%06d", f.seq()), []*regulars.Channel{f.w.Channel})
		id = strconv.FormatInt(fl.ID, 10)
	case strings.HasPrefix(p, "/tenant/partners/{id}/"):
		// Suspending partner A would lock its users out of the next routes.
		np := &regulars.Partner{TenantID: f.w.Tenant.ID, BrandName: fmt.Sprintf("Fixture partner %d", f.seq()), PackageID: f.w.Package.ID}
		if err := f.db.CreatePartner(ctx, np); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(np.ID, 10)
	case strings.HasPrefix(p, "/admin/locations/{id}"):
		l := &regulars.Location{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", f.seq()), Lat: 51.5, Lng: -0.12, Radius: 200}
		if err := f.db.CreateLocation(ctx, l); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(l.ID, 10)
	case strings.HasPrefix(p, "/admin/chat"), strings.HasPrefix(p, "/admin/canned"), strings.HasPrefix(p, "/tenant/canned"):
		id = f.chatFixture(p)
	case strings.HasPrefix(p, "/tenant/partners/{id}"):
		id = strconv.FormatInt(f.w.Partner.ID, 10)
	case strings.HasPrefix(p, "/tenant/packages/{id}"):
		pkg := &regulars.Package{TenantID: f.w.Tenant.ID, Name: fmt.Sprintf("Fixture package %d", f.seq()), Currency: "EUR", Features: []regulars.Feature{regulars.FeatureChat}}
		if err := f.db.CreatePackage(ctx, pkg); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(pkg.ID, 10)
	case strings.HasPrefix(p, "/tenant/addons/{kind}"):
		id = regulars.AddonGigabytes
	case strings.HasPrefix(p, "/tenant/requests/{id}"), strings.HasPrefix(p, "/admin/partnership/requests/{id}"):
		req := &regulars.Request{TenantID: f.w.Tenant.ID, PartnerID: f.w.Partner.ID, Kind: regulars.RequestAddons,
			Items: []regulars.RequestItem{{Kind: regulars.AddonGigabytes, Name: "Gigabytes", Quantity: 1, UnitSize: 1, UnitPrice: 100, Currency: "EUR"}}}
		if err := f.db.CreateRequest(ctx, req); err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(req.ID, 10)
	case strings.HasPrefix(p, "/register/{tenant}"):
		id = f.w.Tenant.Slug
	case strings.HasPrefix(p, "/account/tokens/{id}"):
		owner := actor
		if owner == nil {
			owner = f.w.Owner
		}
		act, err := f.a.SignIn(ctx, owner.Email, testenv.Password, "127.0.0.9", "fixture")
		if err != nil {
			f.t.Fatal(err)
		}
		tok, _, err := f.a.CreateAPIToken(ctx, act.Actor, "fixture")
		if err != nil {
			f.t.Fatal(err)
		}
		id = strconv.FormatInt(tok.ID, 10)
	default:
		f.t.Fatalf("route %s %s has a wildcard but no fixture: add one to fixtures.path", rt.Method, rt.Pattern)
	}
	return p[:strings.Index(p, "{")] + id + p[strings.Index(p, "}")+1:]
}

var fixtureSeq atomic.Int64

func (f *fixtures) seq() int64 { return fixtureSeq.Add(1) }

// levelUser creates a user of partner (0 = tenant staff) whose role has
// exactly level on feature and the highest level on every other feature,
// so only the feature under test can be what refuses them.
func levelUser(t *testing.T, w *testenv.World, partnerID int64, f regulars.Feature, level regulars.Level) *regulars.User {
	perms := regulars.Permissions{}
	features := regulars.AllPartnerFeatures()
	if partnerID == 0 {
		features = nil
		for _, fi := range regulars.TenantFeatures {
			features = append(features, fi.Feature)
		}
	}
	for _, x := range features {
		perms[x] = regulars.LevelManage
	}
	perms[f] = level
	return w.AddUser(t, partnerID, fmt.Sprintf("level%d@%d.example", fixtureSeqNext(), partnerID), perms)
}

func fixtureSeqNext() int64 { return fixtureSeq.Add(1) }

// TestEveryRouteIsAuthorized walks the routes table: anonymous callers are
// sent to sign in, the other side and other partners or tenants get 404,
// a role one level short gets 403 and a role at the level gets through.
func TestEveryRouteIsAuthorized(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		fx := &fixtures{t: t, w: w, db: db, a: srv.App}
		for _, rt := range srv.Web.Routes() {
			name := rt.Method + " " + rt.Pattern
			send := func(c *testenv.Client, path string) *testenv.Response {
				if rt.Method == http.MethodGet {
					return c.Get(path)
				}
				return c.PostForm(path, url.Values{})
			}
			if rt.Side == httpx.Public {
				if r := send(srv.Client(t), fx.path(rt, nil)); r.StatusCode >= 500 {
					t.Errorf("%s anonymous: status %d", name, r.StatusCode)
				}
				continue
			}
			// Anonymous: to the sign-in page.
			if r := send(srv.Client(t), fx.path(rt, nil)); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Location(), "/login") {
				t.Errorf("%s anonymous: got %d %q, want 303 to /login", name, r.StatusCode, r.Location())
			}
			// The other side of the product does not exist for you.
			switch rt.Side {
			case httpx.Partner:
				if r := send(srv.SignedIn(t, w.Operator.Email), fx.path(rt, nil)); r.StatusCode != http.StatusNotFound {
					t.Errorf("%s as tenant operator: got %d, want 404", name, r.StatusCode)
				}
			case httpx.Tenant:
				if r := send(srv.SignedIn(t, w.Owner.Email), fx.path(rt, nil)); r.StatusCode != http.StatusNotFound {
					t.Errorf("%s as partner owner: got %d, want 404", name, r.StatusCode)
				}
			}
			// Another partner's (or tenant's) object is a 404, exactly like a missing one.
			if strings.Contains(rt.Pattern, "{id}") {
				other := w.OtherOwner.Email
				if rt.Side == httpx.Tenant {
					other = w.OtherTenantOperator.Email
				}
				if rt.Side != httpx.Staff {
					if r := send(srv.SignedIn(t, other), fx.path(rt, nil)); r.StatusCode != http.StatusNotFound {
						t.Errorf("%s as another partner/tenant: got %d, want 404", name, r.StatusCode)
					}
				} else if r := send(srv.SignedIn(t, w.OtherOwner.Email), fx.path(rt, w.Owner)); r.StatusCode != http.StatusNotFound {
					t.Errorf("%s on another user's object: got %d, want 404", name, r.StatusCode)
				}
			}
			partnerID := w.Partner.ID
			if rt.Side == httpx.Tenant {
				partnerID = 0
			}
			// One level short: refused.
			if rt.Feature != "" && rt.Level > regulars.LevelNone {
				u := levelUser(t, w, partnerID, rt.Feature, rt.Level-1)
				if r := send(srv.SignedIn(t, u.Email), fx.path(rt, u)); r.StatusCode != http.StatusForbidden {
					t.Errorf("%s at level %s: got %d, want 403", name, rt.Level-1, r.StatusCode)
				}
			}
			// Owner-only routes: any other user is refused.
			if rt.OwnerOnly {
				u := levelUser(t, w, w.Partner.ID, regulars.FeatureUsers, regulars.LevelManage)
				if r := send(srv.SignedIn(t, u.Email), fx.path(rt, u)); r.StatusCode != http.StatusForbidden {
					t.Errorf("%s as a non-owner: got %d, want 403", name, r.StatusCode)
				}
			}
			// At the level: allowed (validation errors and redirects are fine).
			var u *regulars.User
			if rt.OwnerOnly {
				u = w.Owner
			} else if rt.Feature != "" && rt.Level > regulars.LevelNone {
				u = levelUser(t, w, partnerID, rt.Feature, rt.Level)
			} else if rt.Side == httpx.Tenant {
				u = w.AddUser(t, 0, fmt.Sprintf("plain%d@tenant.example", fixtureSeqNext()), regulars.Permissions{})
			} else {
				u = w.AddUser(t, w.Partner.ID, fmt.Sprintf("plain%d@alpha.example", fixtureSeqNext()), regulars.Permissions{})
			}
			r := send(srv.SignedIn(t, u.Email), fx.path(rt, u))
			switch {
			case r.StatusCode == http.StatusForbidden, r.StatusCode == http.StatusNotFound, r.StatusCode == http.StatusUnauthorized, r.StatusCode >= 500,
				r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.Location(), "/login") && rt.Pattern != "/logout":
				t.Errorf("%s at level %s: got %d %s", name, rt.Level, r.StatusCode, r.Location())
			}
		}
	})
}

func TestUnknownAddressesGetTheStyledNotFoundPage(t *testing.T) {
	db := testenv.OpenSQLite(t)
	testenv.NewWorld(t, db)
	srv := testenv.NewServer(t, db)
	r := srv.Client(t).Get("/no/such/page")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, `id="error"`) {
		t.Fatalf("got %d, want the styled 404 page:\n%s", r.StatusCode, r.Body)
	}
	if r := srv.Client(t).Get("/logout"); r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Fatalf("GET on a form action: got %d Allow=%q, want 405 Allow=POST", r.StatusCode, r.Header.Get("Allow"))
	}
}
