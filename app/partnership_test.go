package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"regulars"
	"regulars/app"
	"regulars/files"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// psEnv is an App over a small world whose tenant offers every add-on.
type psEnv struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	a   *app.App
	w   *testenv.World

	operator *app.Actor // tenant owner
	owner    *app.Actor // Account owner of partner A
}

func newPSEnv(t *testing.T, db *store.DB) *psEnv {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mailer, err := mail.New(db, "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	a := app.New(db, mailer, log, "http://regulars.test")
	a.Password = testenv.FastPasswords
	e := &psEnv{t: t, ctx: context.Background(), db: db, a: a, w: testenv.NewWorld(t, db)}
	e.operator = e.actor(e.w.Operator.Email)
	e.owner = e.actor(e.w.Owner.Email)
	for _, ad := range []app.AddonInput{
		{Name: "Gigabytes", UnitSize: 10, UnitPrice: 500, Currency: "EUR", Available: true},
		{Name: "Terabytes", UnitSize: 1, UnitPrice: 30000, Currency: "EUR", Available: true},
		{Name: "Tenant points", UnitSize: 1000, UnitPrice: 1000, Currency: "EUR", Available: true},
		{Name: "Tenant VIP", UnitSize: 1, UnitPrice: 2500, Currency: "EUR", Available: false},
	} {
		kind := map[string]string{"Gigabytes": regulars.AddonGigabytes, "Terabytes": regulars.AddonTerabytes, "Tenant points": regulars.AddonTenantPoints, "Tenant VIP": regulars.AddonTenantVIP}[ad.Name]
		if _, err := a.SaveAddon(e.ctx, e.operator, kind, ad); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// actor signs a user in and returns what the app sees.
func (e *psEnv) actor(email string) *app.Actor {
	e.t.Helper()
	res, err := e.a.SignIn(e.ctx, email, testenv.Password, fmt.Sprintf("10.0.%d.%d", rand.IntN(250), rand.IntN(250)), "test")
	if err != nil {
		e.t.Fatalf("sign in %s: %v", email, err)
	}
	return res.Actor
}

func (e *psEnv) wallet(partnerID int64) map[string]int64 {
	e.t.Helper()
	w, err := e.db.Wallet(e.ctx, partnerID)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *psEnv) pkg(name string, features []regulars.Feature, limits map[string]int64) *regulars.Package {
	e.t.Helper()
	p, err := e.a.CreatePackage(e.ctx, e.operator, app.PackageInput{Name: name, MonthlyPrice: 1000, YearlyPrice: 10000, Currency: "EUR", Features: features, Limits: limits})
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func TestAddonRequestIsAppliedExactlyOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		r, err := e.a.RequestAddons(e.ctx, e.owner, []app.AddonLine{{regulars.AddonGigabytes, 3}, {regulars.AddonTenantPoints, 2}})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Totals(); len(got) != 1 || got[0].Amount != 3*500+2*1000 {
			t.Fatalf("total = %v, want EUR 35.00", got)
		}
		if w := e.wallet(e.w.Partner.ID); len(w) != 0 {
			t.Fatalf("wallet changed before approval: %v", w)
		}
		if _, err := e.a.ApproveRequest(e.ctx, e.operator, r.ID); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{regulars.AddonGigabytes: 30, regulars.AddonTenantPoints: 2000}
		if w := e.wallet(e.w.Partner.ID); fmt.Sprint(w) != fmt.Sprint(want) {
			t.Fatalf("wallet = %v, want %v", w, want)
		}
		// A second decision and a late cancel change nothing and say why.
		_, err = e.a.ApproveRequest(e.ctx, e.operator, r.ID)
		wantCode(t, err, regulars.ECONFLICT)
		if !strings.Contains(regulars.ErrorMessage(err), "already approved by Olivia Operator") {
			t.Errorf("message = %q", regulars.ErrorMessage(err))
		}
		_, err = e.a.RejectRequest(e.ctx, e.operator, r.ID, "too late")
		wantCode(t, err, regulars.ECONFLICT)
		_, err = e.a.CancelRequest(e.ctx, e.owner, r.ID)
		wantCode(t, err, regulars.ECONFLICT)
		if w := e.wallet(e.w.Partner.ID); fmt.Sprint(w) != fmt.Sprint(want) {
			t.Fatalf("wallet after repeated decisions = %v, want %v", w, want)
		}
		// The partner was told by email, with the new balance.
		m := testenv.LastMailTo(t, db, e.w.Owner.Email)
		if m.Subject != "Your add-on request was approved" || !strings.Contains(m.Body, "balance now 30 GB") {
			t.Errorf("approval email: %q\n%s", m.Subject, m.Body)
		}
	})
}

func TestAddonRequestsAreValidated(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		for name, c := range map[string]struct {
			lines []app.AddonLine
			field string
		}{
			"nothing selected":   {nil, "items"},
			"zero":               {[]app.AddonLine{{regulars.AddonGigabytes, 0}}, "qty.gigabytes"},
			"negative":           {[]app.AddonLine{{regulars.AddonGigabytes, 2}, {regulars.AddonTerabytes, -1}}, "qty.terabytes"},
			"not offered":        {[]app.AddonLine{{regulars.AddonTenantVIP, 1}}, "qty.tenant_vip"},
			"unknown":            {[]app.AddonLine{{"gold", 1}}, "qty.gold"},
			"absurd":             {[]app.AddonLine{{regulars.AddonGigabytes, 5_000_000}}, "qty.gigabytes"},
			"the same one twice": {[]app.AddonLine{{regulars.AddonGigabytes, 1}, {regulars.AddonGigabytes, 1}}, "qty.gigabytes"},
		} {
			_, err := e.a.RequestAddons(e.ctx, e.owner, c.lines)
			if regulars.ErrorCode(err) != regulars.EINVALID || regulars.FieldErrors(err)[c.field] == "" {
				t.Errorf("%s: got %v, want a message on %s", name, err, c.field)
			}
		}
		list, err := e.a.PartnerRequests(e.ctx, e.owner, regulars.RequestAddons)
		if err != nil || len(list) != 0 {
			t.Fatalf("refused requests were stored: %v %v", list, err)
		}
		// A viewer may look but not ask.
		viewer := e.actor(e.w.AddUser(t, e.w.Partner.ID, "viewer@alpha.example", regulars.Permissions{regulars.FeaturePartnership: regulars.LevelView}).Email)
		_, err = e.a.RequestAddons(e.ctx, viewer, []app.AddonLine{{regulars.AddonGigabytes, 1}})
		wantCode(t, err, regulars.EFORBIDDEN)
	})
}

func TestRequestsBelongToTheirPartnerAndTenant(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		r, err := e.a.RequestAddons(e.ctx, e.owner, []app.AddonLine{{regulars.AddonGigabytes, 1}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.a.CancelRequest(e.ctx, e.actor(e.w.OtherOwner.Email), r.ID)
		wantCode(t, err, regulars.ENOTFOUND)
		_, err = e.a.ApproveRequest(e.ctx, e.actor(e.w.OtherTenantOperator.Email), r.ID)
		wantCode(t, err, regulars.ENOTFOUND)
		_, err = e.a.PartnerRequest(e.ctx, e.actor(e.w.OtherOwner.Email), r.ID)
		wantCode(t, err, regulars.ENOTFOUND)
		got, err := e.a.TenantRequest(e.ctx, e.operator, r.ID)
		if err != nil || got.Status != regulars.RequestPending {
			t.Fatalf("request after foreign attempts: %+v %v", got, err)
		}
	})
}

func TestRejectionNeedsAReasonAndEmailsIt(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		r, err := e.a.RequestAddons(e.ctx, e.owner, []app.AddonLine{{regulars.AddonTerabytes, 2}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.a.RejectRequest(e.ctx, e.operator, r.ID, "   ")
		if regulars.FieldErrors(err)["reason"] == "" {
			t.Fatalf("empty reason: got %v", err)
		}
		if _, err := e.a.RejectRequest(e.ctx, e.operator, r.ID, "Start with Gigabytes."); err != nil {
			t.Fatal(err)
		}
		got, _ := e.a.PartnerRequest(e.ctx, e.owner, r.ID)
		if got.Status != regulars.RequestRejected || got.Reason != "Start with Gigabytes." || got.DecidedByName != "Olivia Operator" || got.DecidedAt.IsZero() {
			t.Fatalf("rejected request: %+v", got)
		}
		if w := e.wallet(e.w.Partner.ID); len(w) != 0 {
			t.Fatalf("a rejection changed the wallet: %v", w)
		}
		m := testenv.LastMailTo(t, db, e.w.Owner.Email)
		if m.Subject != "Your add-on request was rejected" || !strings.Contains(m.Body, "Start with Gigabytes.") {
			t.Errorf("rejection email: %q\n%s", m.Subject, m.Body)
		}
	})
}

func TestPackageChangeIsRefusedUpFrontWhenUsageDoesNotFit(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		// Partner A has 1 channel and 1 user; give it a second channel.
		if err := db.CreateChannel(e.ctx, &regulars.Channel{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: "Second"}); err != nil {
			t.Fatal(err)
		}
		small := e.pkg("Small", []regulars.Feature{regulars.FeatureChat, regulars.FeaturePartnership}, map[string]int64{"channels": 1, "users": 5})
		_, err := e.a.RequestPackageChange(e.ctx, e.owner, small.ID, regulars.BillingMonthly)
		wantCode(t, err, regulars.ELIMIT)
		if msg := regulars.ErrorMessage(err); !strings.Contains(msg, "Reduce channels from 2 to 1") {
			t.Errorf("message = %q, want it to name what to reduce", msg)
		}
		// Followers count too: three people follow A's channel (one of them
		// twice over two channels counts once), the package allows two.
		second, _ := db.Channels(e.ctx, e.w.Partner.ID)
		e.w.AddFollower(t, "FOLL0001", second)
		e.w.AddFollower(t, "FOLL0002", []*regulars.Channel{e.w.Channel})
		e.w.AddFollower(t, "FOLL0003", []*regulars.Channel{e.w.Channel})
		e.w.AddFollower(t, "OTHER001", []*regulars.Channel{e.w.OtherChannel})
		few := e.pkg("Few followers", regulars.AllPartnerFeatures(), map[string]int64{"channels": 5, "users": 5, "followers": 2})
		_, err = e.a.RequestPackageChange(e.ctx, e.owner, few.ID, regulars.BillingMonthly)
		wantCode(t, err, regulars.ELIMIT)
		if msg := regulars.ErrorMessage(err); !strings.Contains(msg, "followers from 3 to 2") {
			t.Errorf("message = %q, want it to name the followers", msg)
		}
		// Same package and period: nothing to ask.
		_, err = e.a.RequestPackageChange(e.ctx, e.owner, e.w.Package.ID, regulars.BillingMonthly)
		wantCode(t, err, regulars.EINVALID)
		// A retired package cannot be chosen.
		retired := e.pkg("Old", regulars.AllPartnerFeatures(), nil)
		if _, err := e.a.SetPackageRetired(e.ctx, e.operator, retired.ID, true); err != nil {
			t.Fatal(err)
		}
		_, err = e.a.RequestPackageChange(e.ctx, e.owner, retired.ID, regulars.BillingMonthly)
		wantCode(t, err, regulars.EINVALID)
		// Bad input.
		_, err = e.a.RequestPackageChange(e.ctx, e.owner, 0, "weekly")
		if f := regulars.FieldErrors(err); f["package"] == "" || f["period"] == "" {
			t.Errorf("bad input: %v", err)
		}
	})
}

func TestOnePendingPackageChangeAndTheCurrentPackageStays(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		big := e.pkg("Big", regulars.AllPartnerFeatures(), map[string]int64{"channels": 100})
		r, err := e.a.RequestPackageChange(e.ctx, e.owner, big.ID, regulars.BillingYearly)
		if err != nil {
			t.Fatal(err)
		}
		if r.Price != big.YearlyPrice || r.FromPackageID != e.w.Package.ID {
			t.Errorf("request = %+v", r)
		}
		_, err = e.a.RequestPackageChange(e.ctx, e.owner, e.w.Package.ID, regulars.BillingYearly)
		wantCode(t, err, regulars.ECONFLICT)
		p, _ := db.Partner(e.ctx, e.w.Tenant.ID, e.w.Partner.ID)
		if p.PackageID != e.w.Package.ID {
			t.Fatalf("package changed while pending")
		}
		// Cancelled, another one may be asked for.
		if _, err := e.a.CancelRequest(e.ctx, e.owner, r.ID); err != nil {
			t.Fatal(err)
		}
		r2, err := e.a.RequestPackageChange(e.ctx, e.owner, big.ID, regulars.BillingMonthly)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.ApproveRequest(e.ctx, e.operator, r2.ID); err != nil {
			t.Fatal(err)
		}
		p, _ = db.Partner(e.ctx, e.w.Tenant.ID, e.w.Partner.ID)
		if p.PackageID != big.ID || p.BillingPeriod != regulars.BillingMonthly {
			t.Fatalf("after approval: package %d %s, want %d monthly", p.PackageID, p.BillingPeriod, big.ID)
		}
		if m := testenv.LastMailTo(t, db, e.w.Owner.Email); !strings.Contains(m.Body, "your package is now Big") {
			t.Errorf("approval email: %s", m.Body)
		}
	})
}

func TestDowngradeTakesLostFeaturesOutOfRoles(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		var archived atomic.Int64
		e.a.OnFeatureLost(func(ctx context.Context, tenantID, partnerID int64, lost []regulars.Feature) (int64, error) {
			if partnerID == e.w.Partner.ID && len(lost) > 0 {
				archived.Add(int64(len(lost)))
			}
			return 0, nil
		})
		lite := e.pkg("Lite", []regulars.Feature{regulars.FeatureChat, regulars.FeatureUsers, regulars.FeatureRoles, regulars.FeaturePartnership}, nil)
		r, err := e.a.RequestPackageChange(e.ctx, e.owner, lite.ID, regulars.BillingMonthly)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.ApproveRequest(e.ctx, e.operator, r.ID); err != nil {
			t.Fatal(err)
		}
		role, err := db.Role(e.ctx, e.w.Tenant.ID, e.w.Partner.ID, e.w.Role.ID)
		if err != nil {
			t.Fatal(err)
		}
		if role.Permissions.Level(regulars.FeatureCoupons) != regulars.LevelNone || role.Permissions.Level(regulars.FeatureChat) != regulars.LevelView {
			t.Fatalf("role after downgrade: %v", role.Permissions)
		}
		if archived.Load() == 0 {
			t.Fatal("the feature-lost hooks did not run")
		}
		// The partner's own view follows the package at once.
		owner := e.actor(e.w.Owner.Email)
		if owner.Can(regulars.FeatureCoupons, regulars.LevelView) {
			t.Fatal("the owner still has coupons")
		}
		// Another partner's roles are untouched.
		other, _ := db.Role(e.ctx, e.w.Tenant.ID, e.w.OtherPartner.ID, e.w.OtherRole.ID)
		if other.Permissions.Level(regulars.FeatureCoupons) != regulars.LevelView {
			t.Fatalf("partner B's role changed: %v", other.Permissions)
		}
	})
}

// TestConcurrentDecisionsDecideEachRequestOnce fires approvals, rejections
// and cancellations at the same requests from many goroutines: every
// request ends decided exactly once and the wallet holds exactly the
// approved quantities.
func TestConcurrentDecisionsDecideEachRequestOnce(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		operators := []*app.Actor{e.operator, e.actor(e.w.AddUser(t, 0, "second@tenant.example", regulars.Permissions{regulars.FeatureTenantRequests: regulars.LevelUpdate}).Email)}
		const n = 12
		var ids []int64
		qty := map[int64]int64{}
		for i := range n {
			r, err := e.a.RequestAddons(e.ctx, e.owner, []app.AddonLine{{regulars.AddonTenantPoints, int64(i + 1)}})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
			qty[r.ID] = int64(i+1) * 1000
		}
		pkgReq, err := e.a.RequestPackageChange(e.ctx, e.owner, e.pkg("Alt", regulars.AllPartnerFeatures(), nil).ID, regulars.BillingYearly)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pkgReq.ID)

		var mu sync.Mutex
		wins := map[int64][]string{}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, id := range ids {
			for k := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					var err error
					action := []string{"approve", "reject", "cancel"}[k%3]
					switch action {
					case "approve":
						_, err = e.a.ApproveRequest(e.ctx, operators[k%2], id)
					case "reject":
						_, err = e.a.RejectRequest(e.ctx, operators[k%2], id, "no")
					case "cancel":
						_, err = e.a.CancelRequest(e.ctx, e.owner, id)
					}
					switch regulars.ErrorCode(err) {
					case "":
						mu.Lock()
						wins[id] = append(wins[id], action)
						mu.Unlock()
					case regulars.ECONFLICT:
						if !strings.Contains(regulars.ErrorMessage(err), "already") {
							t.Errorf("request %d %s: %v", id, action, err)
						}
					default:
						t.Errorf("request %d %s: %v", id, action, err)
					}
				}()
			}
		}
		close(start)
		wg.Wait()

		var wantPoints int64
		for _, id := range ids {
			if len(wins[id]) != 1 {
				t.Fatalf("request %d was decided %d times: %v", id, len(wins[id]), wins[id])
			}
			r, err := e.a.TenantRequest(e.ctx, e.operator, id)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"approve": regulars.RequestApproved, "reject": regulars.RequestRejected, "cancel": regulars.RequestCancelled}[wins[id][0]]
			if r.Status != want {
				t.Errorf("request %d: status %s, the winner was %s", id, r.Status, wins[id][0])
			}
			if r.Status == regulars.RequestApproved && r.Kind == regulars.RequestAddons {
				wantPoints += qty[id]
			}
		}
		if got := e.wallet(e.w.Partner.ID)[regulars.AddonTenantPoints]; got != wantPoints {
			t.Fatalf("tenant points = %d, want exactly %d", got, wantPoints)
		}
		p, _ := db.Partner(e.ctx, e.w.Tenant.ID, e.w.Partner.ID)
		if approved := wins[pkgReq.ID][0] == "approve"; approved != (p.PackageID == pkgReq.PackageID) {
			t.Fatalf("package %d after %s", p.PackageID, wins[pkgReq.ID][0])
		}
	})
}

// TestLimitHoldsUnderConcurrentActions invites users in parallel with one
// slot left per round: the package limit is never passed.
func TestLimitHoldsUnderConcurrentActions(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		tight := e.pkg("Tight", regulars.AllPartnerFeatures(), map[string]int64{"users": 4})
		if err := db.SetPartnerPackage(e.ctx, e.w.Tenant.ID, e.w.Partner.ID, tight.ID, regulars.BillingMonthly); err != nil {
			t.Fatal(err)
		}
		owner := e.actor(e.w.Owner.Email)
		var ok, limited atomic.Int64
		var wg sync.WaitGroup
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := e.a.CreateUser(e.ctx, owner, app.UserInput{Name: "Racer", Email: fmt.Sprintf("racer%d@alpha.example", i), RoleID: e.w.Role.ID})
				switch regulars.ErrorCode(err) {
				case "":
					ok.Add(1)
				case regulars.ELIMIT:
					limited.Add(1)
					if !strings.Contains(regulars.ErrorMessage(err), "allows 4 staff users") {
						t.Errorf("message = %q", regulars.ErrorMessage(err))
					}
				default:
					t.Errorf("create user: %v", err)
				}
			}()
		}
		wg.Wait()
		n, _ := db.CountActiveUsers(e.ctx, e.w.Tenant.ID, e.w.Partner.ID)
		// The world has the owner; three more fit.
		if ok.Load() != 3 || limited.Load() != 7 || n != 4 {
			t.Fatalf("created %d, refused %d, users now %d; want 3, 7, 4", ok.Load(), limited.Load(), n)
		}
		// Outside a transaction the check refuses to run at all.
		if err := e.a.CheckLimit(e.ctx, owner, regulars.LimitUsers, 1); err == nil || regulars.ErrorCode(err) != regulars.EINTERNAL {
			t.Fatalf("CheckLimit outside a transaction: %v", err)
		}
	})
}

func TestStorageAllowanceCountsPackageAndAddons(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		pkg := e.pkg("Storage", regulars.AllPartnerFeatures(), map[string]int64{"storage_gb": 1})
		if err := db.SetPartnerPackage(e.ctx, e.w.Tenant.ID, e.w.Partner.ID, pkg.ID, regulars.BillingMonthly); err != nil {
			t.Fatal(err)
		}
		tID, pID := e.w.Tenant.ID, e.w.Partner.ID
		if err := e.a.ReserveStorage(e.ctx, tID, pID, 900_000_000); err != nil {
			t.Fatal(err)
		}
		err := e.a.ReserveStorage(e.ctx, tID, pID, 200_000_000)
		wantCode(t, err, regulars.ELIMIT)
		if !strings.Contains(regulars.ErrorMessage(err), "100 MB of your 1 GB are free") {
			t.Errorf("message = %q", regulars.ErrorMessage(err))
		}
		// One unit of Gigabytes is 10 GB here.
		r, _ := e.a.RequestAddons(e.ctx, e.owner, []app.AddonLine{{regulars.AddonGigabytes, 1}})
		if _, err := e.a.ApproveRequest(e.ctx, e.operator, r.ID); err != nil {
			t.Fatal(err)
		}
		st, _ := e.a.PartnerStorage(e.ctx, tID, pID)
		if st.Allowed != 11*regulars.GB || st.Used != 900_000_000 {
			t.Fatalf("storage = %+v", st)
		}
		// Concurrent uploads never overshoot the allowance.
		var wg sync.WaitGroup
		var stored atomic.Int64
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := e.a.ReserveStorage(e.ctx, tID, pID, 500_000_000); err == nil {
					stored.Add(1)
				}
			}()
		}
		wg.Wait()
		st, _ = e.a.PartnerStorage(e.ctx, tID, pID)
		if st.Used > st.Allowed || stored.Load() != 20 {
			t.Fatalf("stored %d uploads, used %d of %d", stored.Load(), st.Used, st.Allowed)
		}
		// A channel logo counts too: refused when it does not fit, and a
		// replaced logo gives its space back.
		e.a.Media = files.NewDisk(t.TempDir())
		full := 11*regulars.GB - st.Used - 1_000_000
		if err := e.a.ReserveStorage(e.ctx, tID, pID, full); err != nil {
			t.Fatal(err)
		}
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1_500_000)...)
		_, err = e.a.SetChannelLogo(e.ctx, e.owner, e.w.Channel.ID, png)
		wantCode(t, err, regulars.ELIMIT)
		if ch, _ := db.Channel(e.ctx, pID, e.w.Channel.ID); ch.Logo != "" {
			t.Fatalf("a refused logo was kept: %q", ch.Logo)
		}
		if err := e.a.ReserveStorage(e.ctx, tID, pID, -full); err != nil {
			t.Fatal(err)
		}
		before, _ := e.a.PartnerStorage(e.ctx, tID, pID)
		if _, err := e.a.SetChannelLogo(e.ctx, e.owner, e.w.Channel.ID, png); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.SetChannelLogo(e.ctx, e.owner, e.w.Channel.ID, png[:1_000_000]); err != nil {
			t.Fatal(err)
		}
		if st, _ = e.a.PartnerStorage(e.ctx, tID, pID); st.Used != before.Used+1_000_000 {
			t.Fatalf("after two logos, used %d; want %d (only the current logo counts)", st.Used, before.Used+1_000_000)
		}
		// Deleting gives space back, never below zero.
		if err := e.a.ReserveStorage(e.ctx, tID, pID, -100*regulars.GB); err != nil {
			t.Fatal(err)
		}
		if st, _ = e.a.PartnerStorage(e.ctx, tID, pID); st.Used != 0 {
			t.Fatalf("used after delete = %d", st.Used)
		}
	})
}

func TestRegistrationApprovalCreatesThePartnerAndInvitesItsOwner(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		in := app.RegistrationInput{Registration: regulars.Registration{BrandName: "Gamma Grill", Country: "ie", Website: "gammagrill.example",
			ContactName: "Gina Gamma", ContactEmail: "Gina@GammaGrill.example"}, PackageID: e.w.Package.ID, BillingPeriod: regulars.BillingYearly}
		bad := in
		bad.Country, bad.Website, bad.ContactEmail, bad.BillingPeriod = "XX", "not a site", "gina@", ""
		err := e.a.Register(e.ctx, "test", bad, "192.0.2.1")
		f := regulars.FieldErrors(err)
		for _, k := range []string{"country", "website", "contact_email", "period"} {
			if f[k] == "" {
				t.Errorf("no message for %s: %v", k, err)
			}
		}
		if err := e.a.Register(e.ctx, "test", in, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		// A second submission is answered the same and not queued twice.
		if err := e.a.Register(e.ctx, "test", in, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		list, _ := e.a.TenantRequests(e.ctx, e.operator, store.RequestFilter{Kind: regulars.RequestRegistration, Tab: "pending"})
		if len(list) != 1 || list[0].Registration.ContactEmail != "gina@gammagrill.example" || list[0].Registration.Website != "https://gammagrill.example" {
			t.Fatalf("queue = %+v", list)
		}
		if _, err := e.a.ApproveRequest(e.ctx, e.operator, list[0].ID); err != nil {
			t.Fatal(err)
		}
		u, err := db.UserByEmail(e.ctx, "gina@gammagrill.example")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := db.Partner(e.ctx, e.w.Tenant.ID, u.PartnerID)
		role, _ := db.RoleByID(e.ctx, u.RoleID)
		if p.BrandName != "Gamma Grill" || p.Country != "IE" || p.PackageID != e.w.Package.ID || p.BillingPeriod != regulars.BillingYearly || !role.IsOwner || u.Status != regulars.UserInvited {
			t.Fatalf("partner %+v, role %+v, user %+v", p, role, u)
		}
		m := testenv.LastMailTo(t, db, u.Email)
		link := testenv.LinkIn(t, m.Body, "http://regulars.test/password/")
		if _, err := e.a.UsePasswordLink(e.ctx, strings.TrimPrefix(link, "http://regulars.test/password/"), "a long new password", "a long new password"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.SignIn(e.ctx, u.Email, "a long new password", "192.0.2.7", "test"); err != nil {
			t.Fatalf("the new owner cannot sign in: %v", err)
		}
		// Unknown tenants have no form.
		wantCode(t, e.a.Register(e.ctx, "nope", in, "192.0.2.1"), regulars.ENOTFOUND)
	})
}

func TestRegistrationsAreThrottledPerAddress(t *testing.T) {
	db := testenv.OpenSQLite(t)
	e := newPSEnv(t, db)
	var last error
	for i := range 12 {
		last = e.a.Register(e.ctx, "test", app.RegistrationInput{Registration: regulars.Registration{BrandName: "Spam", Country: "GB",
			ContactName: "S", ContactEmail: fmt.Sprintf("s%d@spam.example", i)}, PackageID: e.w.Package.ID, BillingPeriod: regulars.BillingMonthly}, "198.51.100.9")
	}
	wantCode(t, last, regulars.ETOOMANY)
}

func TestSuspendedPartnerCannotSignIn(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		res, err := e.a.SignIn(e.ctx, e.w.Owner.Email, testenv.Password, "192.0.2.3", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.SetPartnerSuspended(e.ctx, e.operator, e.w.Partner.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Authenticate(e.ctx, res.Secret); !app.ErrIsAuth(err) {
			t.Fatalf("the session survived the suspension: %v", err)
		}
		if _, err := e.a.SignIn(e.ctx, e.w.Owner.Email, testenv.Password, "192.0.2.3", "test"); !app.ErrIsAuth(err) {
			t.Fatalf("sign-in while suspended: %v", err)
		}
		_, err = e.a.SetPartnerSuspended(e.ctx, e.operator, e.w.Partner.ID, true)
		wantCode(t, err, regulars.ECONFLICT)
		if _, err := e.a.SetPartnerSuspended(e.ctx, e.operator, e.w.Partner.ID, false); err != nil {
			t.Fatal(err)
		}
		e.actor(e.w.Owner.Email)
		// Another tenant's partner is not found.
		_, err = e.a.SetPartnerSuspended(e.ctx, e.actor(e.w.OtherTenantOperator.Email), e.w.Partner.ID, true)
		wantCode(t, err, regulars.ENOTFOUND)
	})
}

func TestPackagesAreValidatedAndEditsApplyToPartners(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		_, err := e.a.CreatePackage(e.ctx, e.operator, app.PackageInput{Name: "", MonthlyPrice: -1, Currency: "euro", Features: []regulars.Feature{"teleport"},
			Limits: map[string]int64{"channels": -2, "users": 0, "moons": 1}})
		f := regulars.FieldErrors(err)
		for _, k := range []string{"name", "monthly_price", "currency", "features", "limit.channels", "limit.users", "limit.moons"} {
			if f[k] == "" {
				t.Errorf("no message for %s: %v", k, err)
			}
		}
		_, err = e.a.CreatePackage(e.ctx, e.operator, app.PackageInput{Name: "Everything", Currency: "EUR", Features: []regulars.Feature{regulars.FeatureChat}})
		if regulars.FieldErrors(err)["name"] == "" {
			t.Errorf("duplicate name: %v", err)
		}
		// Taking coupons out of the world's package takes them from partner roles.
		in := app.PackageInput{Name: "Everything", MonthlyPrice: 100, YearlyPrice: 1000, Currency: "eur", Limits: map[string]int64{"channels": 3}}
		for _, f := range regulars.AllPartnerFeatures() {
			if f != regulars.FeatureCoupons {
				in.Features = append(in.Features, f)
			}
		}
		if _, err := e.a.UpdatePackage(e.ctx, e.operator, e.w.Package.ID, in); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []int64{e.w.Role.ID, e.w.OtherRole.ID} {
			r, _ := db.RoleByID(e.ctx, pid)
			if _, ok := r.Permissions[regulars.FeatureCoupons]; ok {
				t.Errorf("role %s kept coupons", r.Name)
			}
		}
		pkg, _ := db.Package(e.ctx, e.w.Tenant.ID, e.w.Package.ID)
		if pkg.Currency != "EUR" || pkg.Includes(regulars.FeatureCoupons) || len(pkg.Limits) != 1 {
			t.Errorf("package = %+v", pkg)
		}
		// A viewer of packages cannot edit them.
		viewer := e.actor(e.w.AddUser(t, 0, "pkgviewer@tenant.example", regulars.Permissions{regulars.FeatureTenantPackages: regulars.LevelView}).Email)
		_, err = e.a.UpdatePackage(e.ctx, viewer, e.w.Package.ID, in)
		wantCode(t, err, regulars.EFORBIDDEN)
	})
}

// An engagement's picture is stored only when the engagement is, counts
// against the partner's storage, and gives its space back when replaced.
func TestEngagementPicturesCountAgainstStorage(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		pkg := e.pkg("Storage", regulars.AllPartnerFeatures(), map[string]int64{"storage_gb": 1})
		tID, pID := e.w.Tenant.ID, e.w.Partner.ID
		if err := db.SetPartnerPackage(e.ctx, tID, pID, pkg.ID, regulars.BillingMonthly); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		e.a.Media = files.NewDisk(dir)
		stored := func() []string {
			t.Helper()
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, de := range entries {
				names = append(names, de.Name())
			}
			return names
		}
		used := func() int64 {
			t.Helper()
			st, err := e.a.PartnerStorage(e.ctx, tID, pID)
			if err != nil {
				t.Fatal(err)
			}
			return st.Used
		}
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 300_000)...)
		in := app.EngagementInput{ChannelID: e.w.Channel.ID, Name: "Welcome", Text: "Hello there", Image: png}

		// A form that fails validation keeps no picture; nor does a file
		// that is not a picture.
		bad := in
		bad.Text = ""
		_, err := e.a.CreateEngagement(e.ctx, e.owner, regulars.KindMessage, bad)
		wantCode(t, err, regulars.EINVALID)
		bad = in
		bad.Image = []byte("%PDF-1.4 not a picture")
		_, err = e.a.CreateEngagement(e.ctx, e.owner, regulars.KindMessage, bad)
		if fe := regulars.FieldErrors(err); !strings.Contains(fe["image"], "PNG, JPEG") {
			t.Fatalf("a PDF as picture: %v", err)
		}
		if n := stored(); len(n) != 0 || used() != 0 {
			t.Fatalf("after refused forms: files %v, used %d", n, used())
		}

		eng, err := e.a.CreateEngagement(e.ctx, e.owner, regulars.KindMessage, in)
		if err != nil {
			t.Fatal(err)
		}
		if n := stored(); len(n) != 1 || n[0] != eng.Image || used() != int64(len(png)) {
			t.Fatalf("after creating: files %v (image %q), used %d", n, eng.Image, used())
		}
		// Saving without a picture keeps it; a new one replaces it.
		keep := in
		keep.Image, keep.Name = nil, "Welcome!"
		if got, err := e.a.UpdateEngagement(e.ctx, e.owner, regulars.KindMessage, eng.ID, keep); err != nil || got.Image != eng.Image {
			t.Fatalf("update without a picture: %v, %v", got, err)
		}
		smaller := png[:100_000]
		in.Image = smaller
		got, err := e.a.UpdateEngagement(e.ctx, e.owner, regulars.KindMessage, eng.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if n := stored(); len(n) != 1 || n[0] != got.Image || got.Image == eng.Image || used() != int64(len(smaller)) {
			t.Fatalf("after replacing: files %v (image %q), used %d", n, got.Image, used())
		}
		// Over the allowance: refused, the engagement keeps its picture
		// and nothing else is stored.
		st, _ := e.a.PartnerStorage(e.ctx, tID, pID)
		if err := e.a.ReserveStorage(e.ctx, tID, pID, st.Free()-100_000); err != nil {
			t.Fatal(err)
		}
		before := used()
		in.Image = png
		_, err = e.a.UpdateEngagement(e.ctx, e.owner, regulars.KindMessage, eng.ID, in)
		wantCode(t, err, regulars.ELIMIT)
		now, _ := db.Engagement(e.ctx, pID, eng.ID)
		if n := stored(); len(n) != 1 || now.Image != got.Image || used() != before {
			t.Fatalf("after a refused picture: files %v, image %q (was %q), used %d (was %d)", n, now.Image, got.Image, used(), before)
		}
	})
}

// Pictures replaced at the same moment, and saves without a picture among
// them: the partner's storage ends up counting exactly the picture in
// place, which is the only one kept; a replacement that lost the race is
// refused, not counted.
func TestConcurrentPictureReplacements(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newPSEnv(t, db)
		tID, pID := e.w.Tenant.ID, e.w.Partner.ID
		dir := t.TempDir()
		e.a.Media = files.NewDisk(dir)
		picture := func(n int) []byte { return append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, n)...) }
		in := app.EngagementInput{ChannelID: e.w.Channel.ID, Name: "Welcome", Text: "Hello there", Image: picture(50_000)}
		eng, err := e.a.CreateEngagement(e.ctx, e.owner, regulars.KindMessage, in)
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		errs := make(chan error, 12)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				in := in
				in.Name = fmt.Sprintf("Welcome %d", i)
				in.Image = nil
				if i < 8 {
					in.Image = picture(10_000 * (i + 1))
				}
				<-start
				_, err := e.a.UpdateEngagement(e.ctx, e.owner, regulars.KindMessage, eng.ID, in)
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			switch {
			case err == nil:
				ok++
			case regulars.ErrorCode(err) != regulars.ECONFLICT:
				t.Errorf("a save at the same moment: %v", err)
			}
		}
		if ok < 5 { // the 4 saves without a picture, and at least one picture
			t.Errorf("%d of 12 saves went through", ok)
		}
		now, err := db.Engagement(e.ctx, pID, eng.ID)
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 || entries[0].Name() != now.Image {
			t.Fatalf("stored %v, the engagement shows %q", entries, now.Image)
		}
		info, _ := entries[0].Info()
		st, _ := e.a.PartnerStorage(e.ctx, tID, pID)
		if st.Used != info.Size() {
			t.Fatalf("storage counts %d bytes, the picture in place has %d", st.Used, info.Size())
		}
	})
}
