package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/internal/testenv"
	"regulars/store"
)

func init() {
	for _, p := range []string{"/api/v1/partnership/requests/{id}/cancel", "/api/v1/tenant/requests/{id}", "/api/v1/tenant/requests/{id}/approve", "/api/v1/tenant/requests/{id}/reject"} {
		fixtures[p] = pendingAddonRequest
	}
	for _, p := range []string{"/api/v1/tenant/packages/{id}", "/api/v1/tenant/packages/{id}/retire", "/api/v1/tenant/packages/{id}/restore"} {
		fixtures[p] = freshPackage
	}
	fixtures["/api/v1/tenant/partners/{id}"] = func(e *env) map[string]int64 { return map[string]int64{"id": e.w.Partner.ID} }
	// Suspending partner A would lock its staff out of the next routes.
	fixtures["/api/v1/tenant/partners/{id}/suspend"] = freshPartner
	fixtures["/api/v1/tenant/partners/{id}/reactivate"] = freshPartner
}

// pendingAddonRequest is a pending request of partner A for one Gigabytes unit.
func pendingAddonRequest(e *env) map[string]int64 {
	r := &regulars.Request{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Kind: regulars.RequestAddons,
		Items: []regulars.RequestItem{{Kind: regulars.AddonGigabytes, Name: "Gigabytes", Quantity: 1, UnitSize: 10, UnitPrice: 500, Currency: "EUR"}}}
	if err := e.db.CreateRequest(e.ctx, r); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": r.ID}
}

func freshPackage(e *env) map[string]int64 {
	p := &regulars.Package{TenantID: e.w.Tenant.ID, Name: fmt.Sprintf("Fixture package %d", e.next()), Currency: "EUR", Features: []regulars.Feature{regulars.FeatureChat}}
	if err := e.db.CreatePackage(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": p.ID}
}

func freshPartner(e *env) map[string]int64 {
	p := &regulars.Partner{TenantID: e.w.Tenant.ID, BrandName: fmt.Sprintf("Fixture partner %d", e.next()), PackageID: e.w.Package.ID}
	if err := e.db.CreatePartner(e.ctx, p); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": p.ID}
}

func offer(e *env) {
	e.t.Helper()
	for _, a := range []*regulars.Addon{
		{TenantID: e.w.Tenant.ID, Kind: regulars.AddonGigabytes, Name: "Gigabytes", UnitSize: 10, UnitPrice: 500, Currency: "EUR", Available: true},
		{TenantID: e.w.Tenant.ID, Kind: regulars.AddonTenantPoints, Name: "Tenant points", UnitSize: 1000, UnitPrice: 1000, Currency: "EUR", Available: true},
	} {
		if err := e.db.SaveAddon(e.ctx, a); err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestPartnershipThroughTheAPI(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		offer(e)
		owner, op := e.token(e.w.Owner), e.token(e.w.Operator)

		// Refusals name the member.
		r := e.call(owner, "POST", "/api/v1/partnership/addon-requests", map[string]any{"items": []any{map[string]any{"kind": "gigabytes", "quantity": 2}, map[string]any{"kind": "tenant_points", "quantity": 0}}})
		if p := r.problem(t); r.StatusCode != http.StatusUnprocessableEntity || p.Errors["items[1].quantity"] == "" {
			t.Fatalf("zero quantity: %d %s", r.StatusCode, r.body)
		}
		r = e.call(owner, "POST", "/api/v1/partnership/addon-requests", map[string]any{"items": []any{}})
		if p := r.problem(t); r.StatusCode != http.StatusUnprocessableEntity || p.Errors["items"] == "" {
			t.Fatalf("nothing: %d %s", r.StatusCode, r.body)
		}

		r = e.call(owner, "POST", "/api/v1/partnership/addon-requests", map[string]any{"items": []any{map[string]any{"kind": "gigabytes", "quantity": 2}}})
		var req api.Request
		r.decode(t, &req)
		if r.StatusCode != http.StatusCreated || req.Status != "pending" || req.Totals[0].Amount != 1000 || req.Items[0].Amount != 20 || r.Header.Get("Location") == "" {
			t.Fatalf("request: %d %s", r.StatusCode, r.body)
		}

		// Two operators at once: one approval, one "already decided".
		second := e.token(e.userWith(0, regulars.Permissions{regulars.FeatureTenantRequests: regulars.LevelUpdate}))
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, tok := range []string{op, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = e.call(tok, "POST", fmt.Sprintf("/api/v1/tenant/requests/%d/approve", req.ID), nil).StatusCode
			}()
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("two approvals answered %v, want one 200 and one 409", codes)
		}
		r = e.call(owner, "POST", fmt.Sprintf("/api/v1/partnership/requests/%d/cancel", req.ID), nil)
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "already approved") {
			t.Fatalf("late cancel: %d %s", r.StatusCode, r.body)
		}

		var ps api.Partnership
		e.call(owner, "GET", "/api/v1/partnership", nil).decode(t, &ps)
		balance := map[api.AddonKind]int64{}
		for _, b := range ps.Wallet {
			balance[b.Kind] = b.Balance
		}
		if balance["gigabytes"] != 20 || ps.Package == nil || ps.Package.Name != "Everything" || ps.Price.Amount != 9900 {
			t.Fatalf("partnership: %+v", ps)
		}

		// A package change the usage does not fit is refused up front.
		var small api.Package
		r = e.call(op, "POST", "/api/v1/tenant/packages", map[string]any{"name": "Small", "monthly_price": 900, "yearly_price": 9000, "currency": "eur",
			"features": []string{"chat", "partnership"}, "limits": map[string]int64{"users": 0}})
		if p := r.problem(t); r.StatusCode != http.StatusUnprocessableEntity || p.Errors["limits.users"] == "" {
			t.Fatalf("package with 0 users: %d %s", r.StatusCode, r.body)
		}
		r = e.call(op, "POST", "/api/v1/tenant/packages", map[string]any{"name": "Small", "monthly_price": 900, "yearly_price": 9000, "currency": "eur",
			"features": []string{"chat", "partnership"}, "limits": map[string]int64{"users": 1, "channels": 0}})
		r.decode(t, &small)
		if r.StatusCode != http.StatusCreated || small.MonthlyPrice.Currency != "EUR" {
			t.Fatalf("create package: %d %s", r.StatusCode, r.body)
		}
		r = e.call(owner, "POST", "/api/v1/partnership/package-requests", map[string]any{"package_id": small.ID, "billing_period": "monthly"})
		if r.StatusCode != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "Reduce channels from 1 to 0") {
			t.Fatalf("package that does not fit: %d %s", r.StatusCode, r.body)
		}
		var options api.PackageOptionList
		e.call(owner, "GET", "/api/v1/partnership/packages", nil).decode(t, &options)
		for _, o := range options.Items {
			if o.Package.ID == small.ID && (len(o.Reduce) != 1 || len(o.Lose) == 0) {
				t.Errorf("option Small: %+v", o)
			}
		}

		// Reject with a reason; the reason is required.
		r = e.call(owner, "POST", "/api/v1/partnership/package-requests", map[string]any{"package_id": e.w.Package.ID, "billing_period": "yearly"})
		r.decode(t, &req)
		if r.StatusCode != http.StatusCreated || req.Package == nil || req.Package.Price.Amount != 99000 {
			t.Fatalf("package request: %d %s", r.StatusCode, r.body)
		}
		if r := e.call(op, "POST", fmt.Sprintf("/api/v1/tenant/requests/%d/reject", req.ID), map[string]any{"reason": ""}); r.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("reject without reason: %d", r.StatusCode)
		}
		r = e.call(op, "POST", fmt.Sprintf("/api/v1/tenant/requests/%d/reject", req.ID), map[string]any{"reason": "Stay monthly this year."})
		r.decode(t, &req)
		if req.Status != "rejected" || req.Reason != "Stay monthly this year." || req.DecidedAt == nil {
			t.Fatalf("rejected: %s", r.body)
		}
		var history api.RequestList
		e.call(op, "GET", "/api/v1/tenant/requests/history", nil).decode(t, &history)
		if len(history.Items) != 2 {
			t.Fatalf("history: %+v", history)
		}

		// Another tenant's operator finds nothing.
		other := e.token(e.w.OtherTenantOperator)
		if r := e.call(other, "GET", fmt.Sprintf("/api/v1/tenant/requests/%d", req.ID), nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("other tenant: %d", r.StatusCode)
		}
		if r := e.call(other, "GET", fmt.Sprintf("/api/v1/tenant/partners/%d", e.w.Partner.ID), nil); r.StatusCode != http.StatusNotFound {
			t.Fatalf("other tenant's partner: %d", r.StatusCode)
		}

		// Info: the owner only, with a valid country and website.
		r = e.call(owner, "PATCH", "/api/v1/partnership/info", map[string]any{"country": "XX", "website": "nope"})
		if p := r.problem(t); r.StatusCode != http.StatusUnprocessableEntity || p.Errors["country"] == "" || p.Errors["website"] == "" {
			t.Fatalf("bad info: %d %s", r.StatusCode, r.body)
		}
		var partner api.Partner
		r = e.call(owner, "PATCH", "/api/v1/partnership/info", map[string]any{"country": "ie", "website": "alpha.example"})
		r.decode(t, &partner)
		if partner.Country != "IE" || partner.Website != "https://alpha.example" {
			t.Fatalf("info: %s", r.body)
		}
	})
}

// TestDowngradeInTheAPI: approving a package without coupons archives the
// partner's active coupons (followers no longer see them), takes coupons
// out of roles and out of the caller's permissions.
func TestDowngradeInTheAPI(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		owner, op := e.token(e.w.Owner), e.token(e.w.Operator)
		coupon := &regulars.Engagement{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ChannelID: e.w.Channel.ID, Kind: regulars.KindCoupon, Name: "Coffee Coupon",
			Status: regulars.EngagementActive, Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
		if err := db.CreateEngagement(e.ctx, coupon); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.SetEngagementStatus(e.ctx, coupon.ID, regulars.EngagementDraft, regulars.EngagementActive, e.app.Clock.Now()); err != nil {
			t.Fatal(err)
		} else if !ok {
			coupon.Status = regulars.EngagementActive
		}
		var features []string
		for _, f := range regulars.AllPartnerFeatures() {
			if f != regulars.FeatureCoupons {
				features = append(features, string(f))
			}
		}
		var lite api.Package
		e.call(op, "POST", "/api/v1/tenant/packages", map[string]any{"name": "No coupons", "monthly_price": 100, "yearly_price": 1000, "currency": "EUR", "features": features}).decode(t, &lite)
		var req api.Request
		e.call(owner, "POST", "/api/v1/partnership/package-requests", map[string]any{"package_id": lite.ID, "billing_period": "monthly"}).decode(t, &req)
		if r := e.call(op, "POST", fmt.Sprintf("/api/v1/tenant/requests/%d/approve", req.ID), nil); r.StatusCode != http.StatusOK {
			t.Fatalf("approve: %d %s", r.StatusCode, r.body)
		}

		got, err := db.Engagement(e.ctx, e.w.Partner.ID, coupon.ID)
		if err != nil || got.Status != regulars.EngagementFinished || got.FinishedAt.IsZero() {
			t.Fatalf("coupon after downgrade: %+v %v", got, err)
		}
		live, err := db.ActiveChannelEngagements(e.ctx, e.w.Channel.ID, regulars.KindCoupon)
		if err != nil || len(live) != 0 {
			t.Fatalf("followers still see %d coupons (%v)", len(live), err)
		}
		var me api.Me
		e.call(owner, "GET", "/api/v1/me", nil).decode(t, &me)
		if _, ok := me.Permissions["coupons"]; ok {
			t.Fatalf("permissions after downgrade: %v", me.Permissions)
		}
		role, _ := db.RoleByID(e.ctx, e.w.Role.ID)
		if role.Permissions.Level(regulars.FeatureCoupons) != regulars.LevelNone {
			t.Fatalf("role kept coupons: %v", role.Permissions)
		}
	})
}
