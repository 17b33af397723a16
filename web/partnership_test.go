package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestRequestsQueueFormsAndExport(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := testenv.NewWorld(t, db)
		offerAddons(t, db, w.Tenant.ID)
		srv := testenv.NewServer(t, db)
		partner := srv.SignedIn(t, w.Owner.Email)

		// Zero and text quantities are refused on the form, with a message per field.
		r := partner.PostForm("/admin/partnership/purchase", url.Values{"qty.gigabytes": {"0"}, "qty.tenant_points": {"lots"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Enter 1 or more") && !strings.Contains(r.Body, "Enter a whole number") {
			t.Fatalf("bad quantities: %d\n%s", r.StatusCode, r.Body)
		}
		r = partner.PostForm("/admin/partnership/purchase", url.Values{"qty.gigabytes": {"-2"}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Enter 1 or more, or leave it empty.") {
			t.Fatalf("negative quantity: %d", r.StatusCode)
		}
		for _, q := range []string{"2", "1"} {
			if r := partner.PostForm("/admin/partnership/purchase", url.Values{"qty.tenant_points": {q}}); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("purchase: %d\n%s", r.StatusCode, r.Body)
			}
		}
		list, err := db.Requests(context.Background(), w.Tenant.ID, store.RequestFilter{Tab: "pending"})
		if err != nil || len(list) != 2 {
			t.Fatalf("pending = %d, %v", len(list), err)
		}

		op := srv.SignedIn(t, w.Operator.Email)
		id := func(r *regulars.Request) string { return strconv.FormatInt(r.ID, 10) }
		// Rejecting needs a reason.
		r = op.PostForm("/tenant/requests/"+id(list[0])+"/reject", url.Values{"reason": {" "}})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Say why") {
			t.Fatalf("reject without reason: %d", r.StatusCode)
		}
		if r := op.PostForm("/tenant/requests/"+id(list[0])+"/reject", url.Values{"reason": {"=SUM(A1), we do not sell points yet"}}); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("reject: %d", r.StatusCode)
		}
		if r := op.PostForm("/tenant/requests/"+id(list[1])+"/approve", nil); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", r.StatusCode)
		}
		// A second approval answers "already decided" and changes nothing.
		r = op.PostForm("/tenant/requests/"+id(list[1])+"/approve", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.Contains(flash(r), "already approved") {
			t.Fatalf("second approval: %d %q", r.StatusCode, flash(r))
		}

		r = op.Get("/tenant/requests/export.csv?tab=history")
		if r.StatusCode != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 || rows[0][0] != "id" {
			t.Fatalf("csv:\n%s", r.Body)
		}
		byStatus := map[string][]string{}
		for _, row := range rows[1:] {
			byStatus[row[7]] = row
		}
		if row := byStatus["approved"]; row[1] != "Alpha Coffee" || row[3] != "1 × Tenant points (1,000 points)" || row[4] != "EUR 10.00" || row[9] != "Olivia Operator" {
			t.Errorf("approved row = %q", row)
		}
		if row := byStatus["rejected"]; row[10] != "'=SUM(A1), we do not sell points yet" {
			t.Errorf("rejected row = %q (formulas must be defused)", row)
		}
		// Another tenant's operator gets nothing of it.
		other := srv.SignedIn(t, w.OtherTenantOperator.Email)
		if r := other.Get("/tenant/requests/export.csv?tab=history"); strings.Contains(r.Body, "Alpha") {
			t.Fatal("another tenant exported our requests")
		}
	})
}

// flash returns the text of the flash cookie a redirect sets.
func flash(r *testenv.Response) string {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "rg_flash" {
			v, _ := url.QueryUnescape(c.Value)
			return v
		}
	}
	return ""
}

// TestDowngradeHidesTheFeatureEverywhere: once a package without coupons is
// approved, the partner's coupons are archived, the drawer and the role
// editor no longer offer coupons and the coupon pages refuse them.
func TestDowngradeHidesTheFeatureEverywhere(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		srv := testenv.NewServer(t, db)
		coupon := &regulars.Engagement{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, ChannelID: w.Channel.ID, Kind: regulars.KindCoupon, Name: "Coffee Coupon",
			Coupon: &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}}
		if err := db.CreateEngagement(ctx, coupon); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetEngagementStatus(ctx, coupon.ID, regulars.EngagementDraft, regulars.EngagementActive, time.Now()); err != nil {
			t.Fatal(err)
		}
		owner := srv.SignedIn(t, w.Owner.Email)
		if !slices.Contains(drawerLinks(owner.Get("/admin")), "/admin/coupons") {
			t.Fatal("the drawer lacks coupons before the downgrade")
		}
		lite := &regulars.Package{TenantID: w.Tenant.ID, Name: "Lite", Currency: "EUR", Limits: map[string]int64{}}
		for _, f := range regulars.AllPartnerFeatures() {
			if f != regulars.FeatureCoupons {
				lite.Features = append(lite.Features, f)
			}
		}
		if err := db.CreatePackage(ctx, lite); err != nil {
			t.Fatal(err)
		}
		r := owner.PostForm("/admin/partnership/package/change", url.Values{"package": {strconv.FormatInt(lite.ID, 10)}, "period": {"monthly"}})
		wantStatus(t, r, http.StatusSeeOther)
		// While pending, nothing changes.
		if !slices.Contains(drawerLinks(owner.Get("/admin")), "/admin/coupons") {
			t.Fatal("coupons went away before the approval")
		}
		pending, _ := db.PendingPackageRequest(ctx, w.Partner.ID)
		op := srv.SignedIn(t, w.Operator.Email)
		wantStatus(t, op.PostForm("/tenant/requests/"+strconv.FormatInt(pending.ID, 10)+"/approve", nil), http.StatusSeeOther)

		got, _ := db.Engagement(ctx, w.Partner.ID, coupon.ID)
		if got.Status != regulars.EngagementFinished {
			t.Fatalf("coupon status %s, want finished", got.Status)
		}
		if slices.Contains(drawerLinks(owner.Get("/admin")), "/admin/coupons") {
			t.Fatal("the drawer still offers coupons")
		}
		r = owner.Get("/admin/coupons")
		wantStatus(t, r, http.StatusForbidden)
		wantText(t, r, "not part of your package")
		r = owner.Get("/admin/roles/" + strconv.FormatInt(w.Role.ID, 10))
		wantStatus(t, r, http.StatusOK)
		noText(t, r, `name="perm.coupons"`)
		r = owner.Get("/admin/partnership/package")
		noText(t, r, "Active coupons")
	})
}
