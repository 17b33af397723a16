package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"regulars/httpx"
	"regulars/internal/testenv"
	"regulars/store"
)

// TestBadInputIsRefusedNotBroken sends every operation of the API, as a
// caller allowed to use it, input a client could get wrong: bodies that
// are not JSON or not an object, every documented member of the wrong
// type, edge values of the right type, malformed ids in the path and in
// documented query parameters. Wrong input must be refused with a 4xx
// problem that says what is wrong (the checker holds every response to
// the document); nothing may answer 5xx.
func TestBadInputIsRefusedNotBroken(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, rt := range e.api.Routes() {
			if rt.Pattern == "/api/v1/follower/signout" {
				continue // ends the follower's token for the routes after it
			}
			t.Run(rt.Method+" "+rt.Pattern, func(t *testing.T) {
				e.t = t
				token := callerOf(e, rt)
				op := e.doc.paths[rt.Pattern][strings.ToLower(rt.Method)].(map[string]any)
				path := fill(t, e, rt.Pattern)

				// Wrong input: a 4xx problem with a detail.
				refused := func(what, path string, body any) {
					t.Helper()
					r := e.call(token, rt.Method, path, body)
					if r.StatusCode < 400 || r.StatusCode >= 500 {
						t.Errorf("%s: status %d, want a 4xx refusal: %s", what, r.StatusCode, r.body)
						return
					}
					if p := r.problem(t); strings.TrimSpace(p.Detail) == "" && strings.TrimSpace(p.Title) == "" {
						t.Errorf("%s: refused with nothing said: %s", what, r.body)
					}
				}
				// Odd but well-formed input: anything but a server error.
				survives := func(what, path string, body any) {
					t.Helper()
					if r := e.call(token, rt.Method, path, body); r.StatusCode >= 500 {
						t.Errorf("%s: status %d: %s", what, r.StatusCode, r.body)
					}
				}

				for _, id := range []string{"abc", "-1", "0", "1.5", "99999999999999999999", "%00"} {
					if bad := badPath(rt.Pattern, path, id); bad != "" {
						if id == "0" || id == "-1" {
							survives("path id "+id, bad, jsonBody(rt, op, "{}"))
						} else {
							refused("path id "+id, bad, jsonBody(rt, op, "{}"))
						}
					}
				}
				for _, q := range queryParams(op) {
					for _, v := range []string{"abc", "-1", "99999999999999999999", strings.Repeat("x", 5000), "%00"} {
						survives("query "+q+"="+v, path+"?"+q+"="+v, jsonBody(rt, op, "{}"))
					}
				}

				schema := requestSchema(e.doc, op)
				if schema == nil {
					return
				}
				for _, body := range []string{"not json", "{", "[]", "null", `"text"`, "12", `{"a":1}{"b":2}`} {
					refused("body "+body, path, body)
				}
				props, _ := schema["properties"].(map[string]any)
				for name, p := range props {
					ps := resolve(e.doc, p)
					for _, v := range wrongValues(ps) {
						refused(fmt.Sprintf("%s = %s", name, v), path, map[string]json.RawMessage{name: json.RawMessage(v)})
					}
					for _, v := range edgeValues(ps) {
						survives(fmt.Sprintf("%s = %.40s", name, v), path, map[string]json.RawMessage{name: json.RawMessage(v)})
					}
				}
			})
		}
	})
}

// callerOf is a token allowed to call rt: the partner's owner, the tenant's
// operator or a follower ("" for public routes).
func callerOf(e *env, rt httpx.Route) string {
	switch rt.Side {
	case httpx.Partner, httpx.Staff:
		return e.token(e.w.Owner)
	case httpx.Tenant:
		return e.token(e.w.Operator)
	case httpx.Follower:
		return e.followerToken()
	}
	return ""
}

// jsonBody is what to send with a malformed path or query: an empty
// object where the operation takes a body, none otherwise.
func jsonBody(rt httpx.Route, op map[string]any, body string) any {
	if _, ok := op["requestBody"]; ok || rt.Method == http.MethodPost {
		return body
	}
	return nil
}

// badPath is path with its last wildcard's value replaced by id ("" when
// the pattern has no wildcard).
func badPath(pattern, path, id string) string {
	names := pathParamsOf(pattern)
	if len(names) == 0 {
		return ""
	}
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	for i := len(ps) - 1; i >= 0; i-- {
		if strings.HasPrefix(ps[i], "{") {
			qs[i] = id
			break
		}
	}
	return strings.Join(qs, "/")
}

// queryParams lists the operation's documented query parameters.
func queryParams(op map[string]any) []string {
	var out []string
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		m := p.(map[string]any)
		if m["in"] == "query" {
			out = append(out, url.QueryEscape(m["name"].(string)))
		}
	}
	return out
}

// requestSchema is the operation's JSON request body schema, resolved; nil
// when it takes none (or only a file).
func requestSchema(d *document, op map[string]any) map[string]any {
	body, _ := op["requestBody"].(map[string]any)
	content, _ := body["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	if media == nil {
		return nil
	}
	return resolve(d, media["schema"])
}

// resolve follows a schema's $ref, and of an anyOf with null the other
// branch.
func resolve(d *document, s any) map[string]any {
	m, _ := s.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		m, _ = d.schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	}
	if anyOf, ok := m["anyOf"].([]any); ok {
		for _, sub := range anyOf {
			if r := resolve(d, sub); r["type"] != "null" {
				return r
			}
		}
	}
	return m
}

// typeOf is a schema's type, the first that is not null.
func typeOf(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if x != "null" {
				return fmt.Sprint(x)
			}
		}
	}
	return ""
}

// wrongValues are JSON values of another type than the schema's.
func wrongValues(s map[string]any) []string {
	all := map[string]string{"string": `"12"`, "integer": `12`, "number": `12.5`, "boolean": `true`, "array": `[1]`, "object": `{"a":1}`}
	typ := typeOf(s)
	var out []string
	for t, v := range all {
		switch {
		case t == typ,
			typ == "number" && t == "integer",
			typ == "integer" && t == "number", // below, as a fraction
			typ == "" || (typ == "object" && s["additionalProperties"] != nil && s["properties"] == nil && t == "object"):
			continue
		}
		out = append(out, v)
	}
	if typ == "integer" {
		out = append(out, `1.5`, `99999999999999999999`)
	}
	return out
}

var word = regexp.MustCompile(`\w`)

// edgeValues are values of the schema's type a careless handler might
// trip on.
func edgeValues(s map[string]any) []string {
	long, _ := json.Marshal(strings.Repeat("é", 100_000))
	switch typeOf(s) {
	case "string":
		out := []string{`""`, `"   "`, string(long), `"\u202e\ufeff"`, `"<script>alert(1)</script>"`}
		if enum, ok := s["enum"].([]any); ok && len(enum) > 0 && word.MatchString(fmt.Sprint(enum[0])) {
			out = append(out, `"`+strings.ToUpper(fmt.Sprint(enum[0]))+`"`)
		}
		return out
	case "integer":
		return []string{`0`, `-1`, `-9223372036854775808`, `9223372036854775807`}
	case "number":
		return []string{`0`, `-1e308`, `1e308`, `-0.0000001`}
	case "array":
		big := make([]int, 10_000)
		data, _ := json.Marshal(big)
		return []string{`[]`, `[null]`, `[""]`, string(data)}
	case "object":
		return []string{`{}`}
	}
	return nil
}
