package api

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/httpx"
)

// obj is a JSON object of the OpenAPI document.
type obj = map[string]any

// openAPI describes the routes table as an OpenAPI 3.1 document.
func (x *API) openAPI() obj {
	g := &schemas{components: obj{}, types: map[string]reflect.Type{}}
	problem := g.of(reflect.TypeFor[Problem]())
	paths := obj{}
	for _, e := range x.endpoints {
		path := openAPIPath(e.Pattern)
		item, _ := paths[path].(obj)
		if item == nil {
			item = obj{}
			paths[path] = item
		}
		method := strings.ToLower(e.Method)
		if item[method] != nil {
			panic("api: duplicate route " + e.Method + " " + e.Pattern)
		}
		item[method] = g.operation(e, path, problem)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":   "Regulars API",
			"version": "1.0.0",
			"description": "The JSON API of Regulars. Authenticate with a personal access token: `Authorization: Bearer <token>`. " +
				"Errors are RFC 9457 problem details (`application/problem+json`); another partner's object answers 404, like a missing one.",
		},
		"paths": paths,
		"components": obj{
			"schemas": g.components,
			"securitySchemes": obj{
				"bearer": obj{"type": "http", "scheme": "bearer", "description": "A personal access token of a staff user, or on /api/v1/follower/… the token a follower gets from sign-in."},
			},
		},
	}
}

// openAPIPath turns a net/http pattern into an OpenAPI path template.
func openAPIPath(pattern string) string {
	pattern = strings.TrimSuffix(pattern, "{$}")
	return strings.ReplaceAll(pattern, "...}", "}")
}

// pathParams lists the wildcards of a path template in order.
func pathParams(path string) []string {
	var out []string
	for rest := path; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(rest[i:], '}')
		out = append(out, rest[i+1:i+j])
		rest = rest[i+j+1:]
	}
}

func (g *schemas) operation(e endpoint, path string, problem obj) obj {
	op := obj{
		"operationId": e.Op.name,
		"summary":     e.Doc,
		"tags":        []string{tagOf(path)},
	}
	var params []obj
	for _, name := range pathParams(path) {
		schema := obj{"type": "string"}
		if name == "id" || strings.HasSuffix(name, "_id") {
			schema = obj{"type": "integer", "format": "int64", "minimum": 1}
		}
		params = append(params, obj{"name": name, "in": "path", "required": true, "schema": schema})
	}
	for _, q := range e.Query {
		schema := obj{"type": "string"}
		if q.Integer {
			schema = obj{"type": "integer", "format": "int64"}
		}
		params = append(params, obj{"name": q.Name, "in": "query", "required": false, "schema": schema, "description": q.Doc})
	}
	if params != nil {
		op["parameters"] = params
	}
	if e.Op.in != nil {
		op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": g.of(e.Op.in)}}}
	}
	if e.Op.upload {
		op["requestBody"] = obj{"required": true, "description": "the file itself, with its Content-Type", "content": fileContent()}
	}

	responses := obj{}
	ok := obj{"description": http.StatusText(e.Op.status)}
	if e.Op.out != nil {
		ok["content"] = obj{"application/json": obj{"schema": g.of(e.Op.out)}}
	}
	if e.Op.download {
		ok["content"] = fileContent()
	}
	responses[strconv.Itoa(e.Op.status)] = ok
	problems := []int{http.StatusInternalServerError}
	if e.Side != httpx.Public {
		op["security"] = []obj{{"bearer": []string{}}}
		op["x-regulars-access"] = obj{"side": e.Side.String(), "feature": string(e.Feature), "level": string(levelName(e.Level)), "owner_only": e.OwnerOnly}
		op["description"] = access(e)
		problems = append(problems, http.StatusUnauthorized)
	} else {
		op["security"] = []obj{}
	}
	if e.Feature != "" || e.OwnerOnly {
		problems = append(problems, http.StatusForbidden)
	}
	if e.Side == httpx.Partner || e.Side == httpx.Tenant || e.Side == httpx.Follower || len(params) > 0 {
		problems = append(problems, http.StatusNotFound)
	}
	switch {
	case e.Op.in != nil || e.Op.upload:
		problems = append(problems, http.StatusBadRequest, http.StatusUnprocessableEntity)
	case len(e.Query) > 0:
		problems = append(problems, http.StatusBadRequest, http.StatusUnprocessableEntity) // a malformed or invalid parameter
	}
	problems = append(problems, e.Errors...)
	for _, status := range problems {
		responses[strconv.Itoa(status)] = obj{
			"description": http.StatusText(status),
			"content":     obj{"application/problem+json": obj{"schema": problem}},
		}
	}
	op["responses"] = responses
	return op
}

// access says in words who may call a route.
func access(e endpoint) string {
	who := map[httpx.Side]string{httpx.Partner: "Partner staff", httpx.Tenant: "Tenant staff", httpx.Staff: "Any staff user", httpx.Follower: "A signed-in follower (a token from /api/v1/follower/signin)"}[e.Side]
	if e.OwnerOnly {
		who = "The Account owner"
	}
	if e.Feature == "" {
		return who + "."
	}
	return fmt.Sprintf("%s whose role grants %s at level %s or above.", who, e.Feature, levelName(e.Level))
}

// tagOf groups operations by the first segment after the version.
func tagOf(path string) string {
	rest := strings.TrimPrefix(path, "/api/v1/")
	seg, _, _ := strings.Cut(rest, "/")
	return seg
}

// schemas derives JSON Schemas from Go types; named structs become
// components referenced by $ref.
type schemas struct {
	components obj
	types      map[string]reflect.Type
}

// enumer is a string type that lists its allowed values.
type enumer interface{ Enum() []string }

var (
	timeType   = reflect.TypeFor[time.Time]()
	enumerType = reflect.TypeFor[enumer]()
)

// of returns the schema of t.
func (g *schemas) of(t reflect.Type) obj {
	if t.Kind() == reflect.Pointer {
		return nullable(g.of(t.Elem()))
	}
	if t == timeType {
		return obj{"type": "string", "format": "date-time"}
	}
	if t.Implements(enumerType) && t.Kind() == reflect.String {
		return obj{"type": "string", "enum": reflect.Zero(t).Interface().(enumer).Enum()}
	}
	switch t.Kind() {
	case reflect.String:
		return obj{"type": "string"}
	case reflect.Bool:
		return obj{"type": "boolean"}
	case reflect.Int64:
		return obj{"type": "integer", "format": "int64"}
	case reflect.Int, reflect.Int32:
		return obj{"type": "integer"}
	case reflect.Float64:
		return obj{"type": "number"}
	case reflect.Slice:
		return obj{"type": "array", "items": g.of(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic("api: schema of " + t.String() + ": map keys must be strings")
		}
		s := obj{"type": "object", "additionalProperties": g.of(t.Elem())}
		if t.Key().Implements(enumerType) {
			s["propertyNames"] = obj{"enum": reflect.Zero(t.Key()).Interface().(enumer).Enum()}
		}
		return s
	case reflect.Struct:
		if t.Name() == "" {
			return g.object(t)
		}
		if seen, ok := g.types[t.Name()]; ok {
			if seen != t {
				panic("api: two schema types are named " + t.Name() + ": " + seen.String() + " and " + t.String())
			}
		} else {
			g.types[t.Name()] = t
			g.components[t.Name()] = nil // reserve the name: t may refer to itself
			g.components[t.Name()] = g.object(t)
		}
		return obj{"$ref": "#/components/schemas/" + t.Name()}
	}
	panic("api: no schema for " + t.String())
}

// object describes a struct: a member without omitempty (or omitzero) is
// required, and no other members are allowed.
func (g *schemas) object(t reflect.Type) obj {
	props, required := obj{}, []string{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		if f.Anonymous {
			panic("api: schema of " + t.String() + ": embedded fields are not supported")
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		ft, null := f.Type, f.Type.Kind() == reflect.Pointer
		if null {
			ft = ft.Elem()
		}
		s := g.of(ft)
		if enum := f.Tag.Get("enum"); enum != "" {
			if s["type"] != "string" {
				panic("api: schema of " + t.String() + "." + f.Name + ": enum on a non-string")
			}
			s["enum"] = strings.Split(enum, ",")
		}
		if null {
			s = nullable(s)
		}
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		props[name] = s
		if !slices.Contains(strings.Split(opts, ","), "omitempty") && !slices.Contains(strings.Split(opts, ","), "omitzero") {
			required = append(required, name)
		}
	}
	return obj{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// nullable lets s be null too.
func nullable(s obj) obj {
	if typ, ok := s["type"].(string); ok {
		out := obj{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		if enum, ok := s["enum"].([]string); ok {
			vals := make([]any, 0, len(enum)+1)
			for _, v := range enum {
				vals = append(vals, v)
			}
			out["enum"] = append(vals, nil)
		}
		return out
	}
	return obj{"anyOf": []obj{s, {"type": "null"}}}
}

// fileContent describes a file body: a picture or a PDF, as is.
func fileContent() obj {
	out := obj{}
	for ctype := range regulars.ChatContentTypes {
		out[ctype] = obj{"schema": obj{"type": "string", "format": "binary"}}
	}
	return out
}
