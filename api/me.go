package api

import "net/http"

func (x *API) me(r *http.Request, _ noBody) (Me, error) {
	a := actorOf(r)
	me := Me{
		User:        userOut(a.User),
		Role:        roleOut(a, a.Role),
		Tenant:      Tenant{ID: a.Tenant.ID, Name: a.Tenant.Name},
		Permissions: permissionsOf(a, a.Perms.Level),
	}
	if p := a.Partner; p != nil {
		me.Partner = &Partner{ID: p.ID, BrandName: p.BrandName, Country: p.Country, Website: p.Website, Status: p.Status}
	}
	return me, nil
}

func (x *API) features(r *http.Request, _ noBody) (FeatureList, error) {
	a := actorOf(r)
	out := FeatureList{Items: []FeatureInfo{}}
	for _, f := range a.GrantableFeatures() {
		out.Items = append(out.Items, FeatureInfo{Feature: FeatureName(f.Feature), Label: f.Label, Help: f.Help, MaxLevel: levelName(a.Perms.Level(f.Feature))})
	}
	return out, nil
}
