package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"regulars/httpx"
	"regulars/internal/testenv"
)

// TestOpenAPIDocumentsEveryRoute checks that the document holds exactly
// the routes of the table, each with its method and path, an operation id,
// its security and a schema for every response.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	e := newEnv(t, testenv.OpenSQLite(t))
	doc := e.doc
	if doc.root["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", doc.root["openapi"])
	}
	if _, ok := doc.schemas["Problem"]; !ok {
		t.Error("components/schemas has no Problem")
	}
	components := doc.root["components"].(map[string]any)
	bearer, _ := components["securitySchemes"].(map[string]any)["bearer"].(map[string]any)
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("bearer security scheme = %v", bearer)
	}

	documented := map[string]bool{}
	for path, item := range doc.paths {
		for method := range item {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	ids := map[string]string{}
	for _, rt := range e.api.Routes() {
		key := rt.Method + " " + rt.Pattern
		if !documented[key] {
			t.Errorf("%s is not in the document", key)
			continue
		}
		delete(documented, key)
		op := doc.paths[rt.Pattern][strings.ToLower(rt.Method)].(map[string]any)
		id, _ := op["operationId"].(string)
		if id == "" || ids[id] != "" {
			t.Errorf("%s: operationId %q is empty or also used by %s", key, id, ids[id])
		}
		ids[id] = key
		if op["summary"] != rt.Doc {
			t.Errorf("%s: summary %q, want the route's Doc %q", key, op["summary"], rt.Doc)
		}
		security, _ := op["security"].([]any)
		if (rt.Side != httpx.Public) != (len(security) == 1) {
			t.Errorf("%s: security %v for a %s route", key, op["security"], rt.Side)
		}
		for _, name := range pathParamsOf(rt.Pattern) {
			params, _ := op["parameters"].([]any)
			if !slices.ContainsFunc(params, func(p any) bool { return p.(map[string]any)["name"] == name }) {
				t.Errorf("%s: path parameter %s is not documented", key, name)
			}
		}
		responses := op["responses"].(map[string]any)
		for _, status := range []string{"401", "500"} {
			if status == "401" && rt.Side == httpx.Public {
				continue
			}
			if responses[status] == nil {
				t.Errorf("%s: response %s is not documented", key, status)
			}
		}
		for status, r := range responses {
			content, _ := r.(map[string]any)["content"].(map[string]any)
			if status != "204" && content == nil {
				t.Errorf("%s: response %s has no schema", key, status)
			}
		}
		// Every schema the document uses resolves and uses only keywords
		// the validator understands.
		for _, r := range responses {
			content, _ := r.(map[string]any)["content"].(map[string]any)
			for _, media := range content {
				checkSchema(t, doc, key, media.(map[string]any)["schema"])
			}
		}
		if body, ok := op["requestBody"].(map[string]any); ok {
			for _, media := range body["content"].(map[string]any) {
				checkSchema(t, doc, key, media.(map[string]any)["schema"])
			}
		}
	}
	for key := range documented {
		t.Errorf("%s is in the document but not in the routes table", key)
	}
}

// checkSchema fails on keywords the validator does not know and on
// unresolved references, anywhere in schema.
func checkSchema(t *testing.T, doc *document, where string, schema any) {
	t.Helper()
	seen := map[string]bool{}
	var walk func(s any)
	walk = func(s any) {
		m, ok := s.(map[string]any)
		if !ok {
			t.Errorf("%s: schema %v is not an object", where, s)
			return
		}
		for k, v := range m {
			if !slices.Contains(knownKeywords, k) {
				t.Errorf("%s: schema keyword %q is not understood by the test validator", where, k)
			}
			switch k {
			case "$ref":
				name := strings.TrimPrefix(v.(string), "#/components/schemas/")
				target, ok := doc.schemas[name]
				if !ok {
					t.Errorf("%s: unresolved $ref %v", where, v)
				} else if !seen[name] {
					seen[name] = true
					walk(target)
				}
			case "properties":
				for _, p := range v.(map[string]any) {
					walk(p)
				}
			case "items", "propertyNames":
				walk(v)
			case "additionalProperties":
				if _, isBool := v.(bool); !isBool {
					walk(v)
				}
			case "anyOf":
				for _, sub := range v.([]any) {
					walk(sub)
				}
			}
		}
	}
	walk(schema)
}

func TestOpenAPIIsPublic(t *testing.T) {
	e := newEnv(t, testenv.OpenSQLite(t))
	r := e.must(http.StatusOK, "", "GET", "/api/openapi.json", nil)
	if !strings.Contains(string(r.body), `"/api/v1/users/{id}"`) {
		t.Fatalf("document lacks the users route: %.200s", r.body)
	}
}
