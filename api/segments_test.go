package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"regulars"
	"regulars/api"
	"regulars/internal/testenv"
	"regulars/store"
)

func init() {
	for _, p := range []string{"/api/v1/segmentations/{id}", "/api/v1/segmentations/{id}/members"} {
		fixtures[p] = segmentationFixture
	}
	for _, p := range []string{"/api/v1/lists/{id}", "/api/v1/lists/{id}/uploads"} {
		fixtures[p] = listFixture
	}
	for _, p := range []string{"/api/v1/uploads/{id}", "/api/v1/uploads/{id}/rejected", "/api/v1/uploads/{id}/cancel"} {
		fixtures[p] = uploadFixture
	}
	for _, kind := range []string{"messages", "coupons", "loyalty"} {
		fixtures["/api/v1/"+kind+"/{id}/segmentations"] = engagementFixture(kind)
		fixtures["/api/v1/"+kind+"/{id}/segmentations/{segmentation_id}"] = engagementFixture(kind)
	}
}

func segmentationFixture(e *env) map[string]int64 {
	s := &regulars.Segmentation{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", e.next()),
		Rule: regulars.Rule{Conditions: []regulars.Condition{{Type: regulars.CondGender, Genders: []string{regulars.GenderFemale}}}}}
	if err := e.db.CreateSegmentation(e.ctx, s, 0); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": s.ID, "segmentation_id": s.ID}
}

func listFixture(e *env) map[string]int64 {
	l := &regulars.CustomList{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, Name: fmt.Sprintf("Fixture %d", e.next())}
	if err := e.db.CreateList(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": l.ID}
}

// uploadFixture is a running upload of a fresh list, so that cancelling it
// works.
func uploadFixture(e *env) map[string]int64 {
	l := listFixture(e)["id"]
	u := &regulars.ListUpload{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ListID: l, FileName: "x.csv", Mode: regulars.UploadReplace, MatchBy: regulars.MatchEmail}
	if err := e.db.CreateUpload(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return map[string]int64{"id": u.ID}
}

func engagementFixture(kind string) fixture {
	return func(e *env) map[string]int64 {
		en := &regulars.Engagement{TenantID: e.w.Tenant.ID, PartnerID: e.w.Partner.ID, ChannelID: e.w.Channel.ID, Name: fmt.Sprintf("Fixture %d", e.next())}
		switch kind {
		case "messages":
			en.Kind, en.Message = regulars.KindMessage, &regulars.MessageSpec{Text: "Hi", Recurring: regulars.RecurOnce}
		case "coupons":
			en.Kind, en.Coupon = regulars.KindCoupon, &regulars.CouponSpec{RedemptionType: regulars.RedeemClick, PerFollower: 1}
		default:
			en.Kind, en.Loyalty = regulars.KindLoyalty, &regulars.LoyaltySpec{ProgramKind: regulars.ProgramPoints}
		}
		if err := e.db.CreateEngagement(e.ctx, en); err != nil {
			e.t.Fatal(err)
		}
		s := segmentationFixture(e)["id"]
		return map[string]int64{"id": en.ID, "segmentation_id": s}
	}
}

// Segmentations, lists and targeting through the API: the rule round-trips,
// mistakes are named by condition, counts match, uploads report.
func TestSegmentationAPI(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok := e.token(e.w.Owner)
		for i := range 4 {
			lang := "en"
			if i%2 == 1 {
				lang = "de"
			}
			e.w.AddFollower(t, fmt.Sprintf("API%03d", i), []*regulars.Channel{e.w.Channel}, func(f *regulars.Follower) {
				f.Language, f.Email = lang, fmt.Sprintf("a%d@x.example", i)
			})
		}

		// Mistakes name the condition and the member.
		r := e.must(http.StatusUnprocessableEntity, tok, "POST", "/api/v1/segmentations", `{"name": "X", "rule": {"conditions": [{"type": "language", "languages": ["de"]}, {"type": "age", "min_age": 30, "max_age": 20, "genders": ["female"]}]}}`)
		if p := r.problem(t); !strings.Contains(p.Errors["rule.conditions.2"], `Condition 2 (Age): "genders" does not apply`) {
			t.Fatalf("problem: %+v", p)
		}
		r = e.must(http.StatusUnprocessableEntity, tok, "POST", "/api/v1/segmentations", `{"name": "X", "rule": {"conditions": [{"type": "age", "min_age": 30, "max_age": 20}]}}`)
		if p := r.problem(t); p.Errors["rule.conditions.1"] != "Condition 1 (Age): from 30 is above to 20." {
			t.Fatalf("problem: %+v", p)
		}

		var s api.Segmentation
		e.must(http.StatusCreated, tok, "POST", "/api/v1/segmentations", `{"name": "German speakers", "rule": {"conditions": [{"type": "language", "languages": ["de"]}]}}`).decode(t, &s)
		if s.Size == nil || *s.Size != 2 || s.Rule.Conditions[0].Languages[0] != "de" {
			t.Fatalf("created: %+v", s)
		}
		var size api.SegmentSize
		e.must(http.StatusOK, tok, "POST", "/api/v1/segmentations/count", `{"rule": {"conditions": [{"type": "language", "languages": ["en", "de"]}]}}`).decode(t, &size)
		if size.Count != 4 || size.Followers != 4 {
			t.Fatalf("count: %+v", size)
		}
		var members api.SegmentMembers
		e.must(http.StatusOK, tok, "GET", "/api/v1/segmentations/"+strconv.FormatInt(s.ID, 10)+"/members?limit=1", nil).decode(t, &members)
		if len(members.Items) != 1 || !members.More || members.Items[0].Language != "de" || members.Items[0].Age != nil {
			t.Fatalf("members: %+v", members)
		}

		// A list by API, used in a segmentation, not deletable while used.
		var l api.CustomList
		e.must(http.StatusCreated, tok, "POST", "/api/v1/lists", `{"name": "VIPs"}`).decode(t, &l)
		var u api.Upload
		e.must(http.StatusCreated, tok, "POST", "/api/v1/lists/"+strconv.FormatInt(l.ID, 10)+"/uploads",
			`{"mode": "replace", "match_by": "email", "identifiers": ["a0@x.example", "A1@x.example", "a0@x.example", "nobody@x.example", "nonsense"]}`).decode(t, &u)
		if u.State != "done" || u.Rows != 5 || u.Matched != 2 || u.Duplicates != 1 || u.Unknown != 1 || u.Invalid != 1 || u.Members != 2 {
			t.Fatalf("upload: %+v", u)
		}
		var rejected api.RejectedRows
		e.must(http.StatusOK, tok, "GET", "/api/v1/uploads/"+strconv.FormatInt(u.ID, 10)+"/rejected", nil).decode(t, &rejected)
		if len(rejected.Items) != 3 || rejected.Items[0].Line != 4 || rejected.Items[0].Reason != "duplicate" || rejected.Items[2].Value != "nonsense" {
			t.Fatalf("rejected: %+v", rejected)
		}
		var vip api.Segmentation
		e.must(http.StatusCreated, tok, "POST", "/api/v1/segmentations", fmt.Sprintf(`{"name": "VIP", "rule": {"conditions": [{"type": "list", "list_ids": [%d]}]}}`, l.ID)).decode(t, &vip)
		if *vip.Size != 2 {
			t.Fatalf("VIP size %d", *vip.Size)
		}
		r = e.must(http.StatusConflict, tok, "DELETE", "/api/v1/lists/"+strconv.FormatInt(l.ID, 10), nil)
		if p := r.problem(t); !strings.Contains(p.Detail, "VIPs is used by the segmentation VIP") {
			t.Fatalf("delete a used list: %+v", p)
		}

		// Targeting: a coupon targets the segmentation; deleting it is refused.
		c := engagementFixture("coupons")(e)["id"]
		cpath := "/api/v1/coupons/" + strconv.FormatInt(c, 10) + "/segmentations"
		e.must(http.StatusNoContent, tok, "PUT", cpath+"/"+strconv.FormatInt(s.ID, 10), nil)
		var attached api.EngagementSegmentations
		e.must(http.StatusOK, tok, "GET", cpath, nil).decode(t, &attached)
		if len(attached.Items) != 1 || attached.Items[0].Name != "German speakers" {
			t.Fatalf("attached: %+v", attached)
		}
		e.must(http.StatusNotFound, tok, "GET", "/api/v1/messages/"+strconv.FormatInt(c, 10)+"/segmentations", nil)
		r = e.must(http.StatusConflict, tok, "DELETE", "/api/v1/segmentations/"+strconv.FormatInt(s.ID, 10), nil)
		if p := r.problem(t); !strings.Contains(p.Detail, "is used by Fixture") {
			t.Fatalf("delete a used segmentation: %+v", p)
		}
		e.must(http.StatusNoContent, tok, "DELETE", cpath+"/"+strconv.FormatInt(s.ID, 10), nil)
		e.must(http.StatusConflict, tok, "DELETE", cpath+"/"+strconv.FormatInt(s.ID, 10), nil)
		e.must(http.StatusNoContent, tok, "DELETE", "/api/v1/segmentations/"+strconv.FormatInt(s.ID, 10), nil)

		// The other partner sees none of it.
		other := e.token(e.w.OtherOwner)
		e.must(http.StatusNotFound, other, "GET", "/api/v1/lists/"+strconv.FormatInt(l.ID, 10), nil)
		e.must(http.StatusNotFound, other, "GET", "/api/v1/uploads/"+strconv.FormatInt(u.ID, 10), nil)
		r = e.must(http.StatusUnprocessableEntity, other, "POST", "/api/v1/segmentations/count", fmt.Sprintf(`{"rule": {"conditions": [{"type": "list", "list_ids": [%d]}]}}`, l.ID))
		if p := r.problem(t); !strings.Contains(p.Errors["rule.conditions.1"], "is not one of yours") {
			t.Fatalf("another partner's list: %+v", p)
		}
	})
}
