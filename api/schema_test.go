package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// document is a parsed OpenAPI document with a small JSON Schema validator
// for the keywords the API generates.
type document struct {
	root    map[string]any
	paths   map[string]map[string]any // path template → path item
	schemas map[string]any            // components/schemas
}

func loadDocument(t testing.TB, url string) *document {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	var root map[string]any
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}
	return parseDocument(t, root)
}

func parseDocument(t testing.TB, root map[string]any) *document {
	t.Helper()
	d := &document{root: root, paths: map[string]map[string]any{}}
	paths, _ := root["paths"].(map[string]any)
	for path, item := range paths {
		d.paths[path], _ = item.(map[string]any)
	}
	components, _ := root["components"].(map[string]any)
	d.schemas, _ = components["schemas"].(map[string]any)
	return d
}

// match finds the path template of a concrete path; literal segments win
// over wildcards, as in net/http.
func (d *document) match(path string) (string, map[string]any) {
	segs := strings.Split(path, "/")
	best, bestLiterals := "", -1
	for tmpl := range d.paths {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		literals, ok := 0, true
		for i, ts := range tsegs {
			switch {
			case strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}"):
				ok = ok && segs[i] != ""
			case ts == segs[i]:
				literals++
			default:
				ok = false
			}
		}
		if ok && literals > bestLiterals {
			best, bestLiterals = tmpl, literals
		}
	}
	if best == "" {
		return "", nil
	}
	return best, d.paths[best]
}

// checkResponse lists how a response differs from the document.
func (d *document) checkResponse(method, path string, status int, contentType string, body []byte) []string {
	if path == "/api/openapi.json" || method == http.MethodHead {
		return nil
	}
	problemOnly := func(want int) []string {
		if status != want {
			return []string{fmt.Sprintf("undocumented path or method: want %d, got %d", want, status)}
		}
		return d.checkBody(map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}, contentType, body)
	}
	_, item := d.match(path)
	if item == nil {
		return problemOnly(http.StatusNotFound)
	}
	op, _ := item[strings.ToLower(method)].(map[string]any)
	if op == nil {
		return problemOnly(http.StatusMethodNotAllowed)
	}
	responses, _ := op["responses"].(map[string]any)
	resp, _ := responses[strconv.Itoa(status)].(map[string]any)
	if resp == nil {
		return []string{fmt.Sprintf("status %d is not documented for %s %s", status, method, path)}
	}
	content, _ := resp["content"].(map[string]any)
	return d.checkBody(content, contentType, body)
}

func (d *document) checkBody(content map[string]any, contentType string, body []byte) []string {
	if content == nil {
		if len(body) > 0 {
			return []string{"a body where none is documented"}
		}
		return nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media, _ := content[mt].(map[string]any)
	if media == nil {
		return []string{fmt.Sprintf("content type %q is not documented", contentType)}
	}
	if schema, _ := media["schema"].(map[string]any); schema["format"] == "binary" {
		return nil // a file, as is
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return []string{"the body is not JSON: " + err.Error()}
	}
	return d.validate(media["schema"], v, "$")
}

// knownKeywords are the keywords the validator understands; a schema using
// any other is an error, so nothing goes unchecked silently.
var knownKeywords = []string{"$ref", "anyOf", "type", "enum", "format", "properties", "required",
	"additionalProperties", "propertyNames", "items", "description", "minimum"}

// validate lists where v does not match schema; at is v's JSON path.
func (d *document) validate(schema any, v any, at string) []string {
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	for k := range s {
		if !slices.Contains(knownKeywords, k) {
			fail("unsupported schema keyword %q", k)
		}
	}
	if ref, ok := s["$ref"].(string); ok {
		name, found := strings.CutPrefix(ref, "#/components/schemas/")
		target, exists := d.schemas[name]
		if !found || !exists {
			fail("unresolved $ref %q", ref)
			return errs
		}
		errs = append(errs, d.validate(target, v, at)...)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		matched := false
		for _, sub := range anyOf {
			if len(d.validate(sub, v, at)) == 0 {
				matched = true
				break
			}
		}
		if !matched {
			fail("matches none of anyOf")
		}
	}
	if typ, ok := s["type"]; ok {
		var types []string
		switch t := typ.(type) {
		case string:
			types = []string{t}
		case []any:
			for _, x := range t {
				types = append(types, fmt.Sprint(x))
			}
		}
		if !slices.ContainsFunc(types, func(t string) bool { return hasType(v, t) }) {
			fail("want %s, got %s", strings.Join(types, " or "), describe(v))
			return errs
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%s is not one of %v", describe(v), enum)
	}
	if s["format"] == "date-time" {
		if str, ok := v.(string); ok {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				fail("%q is not an RFC 3339 date-time", str)
			}
		}
	}
	if m, ok := v.(map[string]any); ok {
		props, _ := s["properties"].(map[string]any)
		if required, ok := s["required"].([]any); ok {
			for _, r := range required {
				if _, ok := m[r.(string)]; !ok {
					fail("required member %q is missing", r)
				}
			}
		}
		for k, val := range m {
			if names, ok := s["propertyNames"].(map[string]any); ok {
				errs = append(errs, d.validate(names, k, at+"{"+k+"}")...)
			}
			if sub, ok := props[k]; ok {
				errs = append(errs, d.validate(sub, val, at+"."+k)...)
				continue
			}
			switch extra := s["additionalProperties"].(type) {
			case bool:
				if !extra {
					fail("member %q is not allowed", k)
				}
			case map[string]any:
				errs = append(errs, d.validate(extra, val, at+"."+k)...)
			}
		}
	}
	if a, ok := v.([]any); ok {
		if items, ok := s["items"]; ok {
			for i, item := range a {
				errs = append(errs, d.validate(items, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return errs
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(n.String(), 10, 64)
		return err == nil
	}
	return false
}

func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return strconv.Quote(v)
	}
	return fmt.Sprint(v)
}

func TestValidatorCatchesMismatches(t *testing.T) {
	doc := parseDocument(t, map[string]any{"components": map[string]any{"schemas": map[string]any{
		"Thing": map[string]any{
			"type": "object", "additionalProperties": false, "required": []any{"id", "status", "at"},
			"properties": map[string]any{
				"id":     map[string]any{"type": "integer"},
				"status": map[string]any{"type": "string", "enum": []any{"on", "off"}},
				"at":     map[string]any{"type": "string", "format": "date-time"},
				"note":   map[string]any{"type": []any{"string", "null"}},
				"tags":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"levels": map[string]any{"type": "object", "propertyNames": map[string]any{"enum": []any{"a"}}, "additionalProperties": map[string]any{"type": "boolean"}},
				"parent": map[string]any{"anyOf": []any{map[string]any{"$ref": "#/components/schemas/Thing"}, map[string]any{"type": "null"}}},
			},
		},
	}}})
	ref := map[string]any{"$ref": "#/components/schemas/Thing"}
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"valid", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "note": null, "tags": ["x"], "levels": {"a": true}, "parent": null}`, true},
		{"valid nested", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "parent": {"id": 2, "status": "off", "at": "2024-05-01T10:00:00.123Z"}}`, true},
		{"missing required", `{"id": 1, "status": "on"}`, false},
		{"extra member", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "password_hash": "x"}`, false},
		{"wrong type", `{"id": "1", "status": "on", "at": "2024-05-01T10:00:00Z"}`, false},
		{"fraction for integer", `{"id": 1.5, "status": "on", "at": "2024-05-01T10:00:00Z"}`, false},
		{"not in enum", `{"id": 1, "status": "maybe", "at": "2024-05-01T10:00:00Z"}`, false},
		{"bad date-time", `{"id": 1, "status": "on", "at": "yesterday"}`, false},
		{"null where not nullable", `{"id": 1, "status": null, "at": "2024-05-01T10:00:00Z"}`, false},
		{"bad array item", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "tags": [1]}`, false},
		{"null array", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "tags": null}`, false},
		{"bad map key", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "levels": {"b": true}}`, false},
		{"bad map value", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "levels": {"a": 1}}`, false},
		{"bad nested", `{"id": 1, "status": "on", "at": "2024-05-01T10:00:00Z", "parent": {"id": 2}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := doc.checkBody(map[string]any{"application/json": map[string]any{"schema": ref}}, "application/json", []byte(tt.body))
			if ok := len(errs) == 0; ok != tt.ok {
				t.Fatalf("valid = %v, want %v: %v", ok, tt.ok, errs)
			}
		})
	}
	if errs := doc.validate(map[string]any{"type": "string", "pattern": "x"}, "x", "$"); len(errs) == 0 {
		t.Fatal("an unsupported keyword passed")
	}
}
