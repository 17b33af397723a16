package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/internal/testenv"
	"regulars/store"
)

func TestMe(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)

		var me api.Me
		e.must(http.StatusOK, e.token(e.w.Owner), "GET", "/api/v1/me", nil).decode(t, &me)
		if me.User.ID != e.w.Owner.ID || !me.Role.IsOwner || me.Partner == nil || me.Partner.ID != e.w.Partner.ID || me.Tenant.ID != e.w.Tenant.ID {
			t.Fatalf("owner's me = %+v", me)
		}
		for _, f := range regulars.PartnerFeatures {
			if me.Permissions[api.FeatureName(f.Feature)] != "manage" {
				t.Errorf("the owner's level on %s = %q, want manage", f.Feature, me.Permissions[api.FeatureName(f.Feature)])
			}
		}

		agent := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		me = api.Me{}
		e.must(http.StatusOK, e.token(agent), "GET", "/api/v1/me", nil).decode(t, &me)
		if me.Role.IsOwner || me.Permissions["chat"] != "update" || me.Permissions["users"] != "none" {
			t.Fatalf("agent's me = %+v", me)
		}

		me = api.Me{}
		e.must(http.StatusOK, e.token(e.w.Operator), "GET", "/api/v1/me", nil).decode(t, &me)
		if me.Partner != nil || me.Permissions["tenant_partners"] != "manage" || me.Permissions["chat"] != "" {
			t.Fatalf("operator's me = %+v", me)
		}
	})
}

func TestFeaturesAreThoseTheCallerCanGrant(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		agent := e.userWith(e.w.Partner.ID, regulars.Permissions{regulars.FeatureChat: regulars.LevelUpdate})
		var list api.FeatureList
		e.must(http.StatusOK, e.token(agent), "GET", "/api/v1/features", nil).decode(t, &list)
		if len(list.Items) != len(regulars.PartnerFeatures) {
			t.Fatalf("%d features, want the package's %d", len(list.Items), len(regulars.PartnerFeatures))
		}
		chat := list.Items[slices.IndexFunc(list.Items, func(f api.FeatureInfo) bool { return f.Feature == "chat" })]
		if chat.Label != "Chat" || chat.MaxLevel != "update" {
			t.Fatalf("chat = %+v", chat)
		}

		list = api.FeatureList{}
		e.must(http.StatusOK, e.token(e.w.Operator), "GET", "/api/v1/features", nil).decode(t, &list)
		if len(list.Items) != len(regulars.TenantFeatures) {
			t.Fatalf("operator: %d features, want the tenant's %d", len(list.Items), len(regulars.TenantFeatures))
		}
	})
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t, testenv.OpenSQLite(t))

	r := e.must(http.StatusUnauthorized, "", "GET", "/api/v1/me", nil)
	if got := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") || strings.Contains(got, "invalid_token") {
		t.Errorf("without a token: WWW-Authenticate %q", got)
	}
	if r.problem(t).Code != regulars.EUNAUTHORIZED {
		t.Errorf("without a token: %s", r.body)
	}
	r = e.must(http.StatusUnauthorized, "rgs_revoked", "GET", "/api/v1/me", nil)
	if got := r.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("with a bad token: WWW-Authenticate %q", got)
	}

	// A session cookie is no way in: the API reads bearer tokens only.
	res, err := e.app.SignIn(e.ctx, e.w.Owner.Email, testenv.Password, "127.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.url+"/api/v1/me", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: res.Secret})
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("with a session cookie: %d, want 401", resp.StatusCode)
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("the API set a cookie")
	}
}

func TestUnknownPathsAnswerProblems(t *testing.T) {
	e := newEnv(t, testenv.OpenSQLite(t))
	owner := e.token(e.w.Owner)

	for _, path := range []string{"/api/v1/nothing", "/api/v2/users", "/api/"} {
		r := e.must(http.StatusNotFound, owner, "GET", path, nil)
		if r.Header.Get("Content-Type") != "application/problem+json" || r.problem(t).Status != http.StatusNotFound {
			t.Errorf("GET %s: %s %s", path, r.Header.Get("Content-Type"), r.body)
		}
	}
	r := e.must(http.StatusMethodNotAllowed, owner, "DELETE", "/api/v1/users", nil)
	if allow := r.Header.Values("Allow"); !slices.Equal(allow, []string{"GET", "POST"}) {
		t.Errorf("Allow = %v", allow)
	}
	// The other side's routes do not exist for the caller: same answer.
	unknown := e.must(http.StatusNotFound, e.token(e.w.Operator), "GET", "/api/v1/nothing", nil)
	partnerOnly := e.must(http.StatusNotFound, e.token(e.w.Operator), "GET", "/api/v1/roles", nil)
	if string(unknown.body) != string(partnerOnly.body) {
		t.Errorf("a partner route for an operator: %s, an unknown one: %s", partnerOnly.body, unknown.body)
	}
}
