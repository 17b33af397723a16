package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"time"

	"regulars"
	"regulars/httpx"
)

// maxBody is the largest request body the API reads.
const maxBody = 1 << 20

// endpoint is one entry of the routes table: the route, and the typed
// operation whose request and response types the OpenAPI document shows.
type endpoint struct {
	Method  string
	Pattern string // net/http pattern, e.g. /api/v1/users/{id}
	Side    httpx.Side
	Feature regulars.Feature
	Level   regulars.Level
	// OwnerOnly restricts the route to the Account owner.
	OwnerOnly bool
	Doc       string
	Op        operation
	// Errors lists problem statuses the operation answers beyond those the
	// table implies (401, 403, 404, 400/422 with a body, 500), e.g. 409.
	Errors []int
	// Query documents the query parameters the operation reads.
	Query []queryParam
}

// queryParam is an optional query parameter of an operation.
type queryParam struct {
	Name    string
	Integer bool // an integer, else a string
	Doc     string
}

func (e endpoint) route() httpx.Route {
	return httpx.Route{Method: e.Method, Pattern: e.Pattern, Side: e.Side, Feature: e.Feature, Level: e.Level, OwnerOnly: e.OwnerOnly, Handler: e.Op.serve, Doc: e.Doc}
}

// operation is a handler with the Go types it reads and writes.
type operation struct {
	name    string       // operationId: the handler's name
	in, out reflect.Type // nil: no body
	status  int          // success status
	serve   http.HandlerFunc
	// upload: the request body is a file (an image or a PDF) sent as is;
	// download: the response is a file.
	upload, download bool
}

// noBody is the In of operations without a request body and the Out of
// operations that answer 204 No Content.
type noBody struct{}

// handle adapts a typed handler: it decodes In from the JSON body (unless
// In is noBody), calls fn and renders Out with status (nothing for noBody).
// The OpenAPI document describes the same In and Out, so the two cannot
// drift apart.
func handle[In, Out any](x *API, status int, fn func(r *http.Request, in In) (Out, error)) operation {
	op := operation{status: status, name: funcName(fn)}
	if t := reflect.TypeFor[In](); t != reflect.TypeFor[noBody]() {
		op.in = t
	}
	if t := reflect.TypeFor[Out](); t != reflect.TypeFor[noBody]() {
		op.out = t
	}
	if (op.out == nil) != (status == http.StatusNoContent) {
		panic(fmt.Sprintf("api: %s: status %d does not fit its response type", op.name, status))
	}
	op.serve = func(w http.ResponseWriter, r *http.Request) {
		var in In
		if op.in != nil {
			if err := decode(w, r, &in); err != nil {
				x.fail(w, r, err)
				return
			}
		}
		out, err := fn(r, in)
		if err != nil {
			x.fail(w, r, err)
			return
		}
		if op.out == nil {
			w.WriteHeader(status)
			return
		}
		body, err := json.Marshal(out)
		if err != nil {
			x.fail(w, r, err)
			return
		}
		if l, ok := any(out).(interface{ location() string }); ok && status == http.StatusCreated {
			w.Header().Set("Location", l.location())
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	}
	return op
}

// funcName returns the name of a function or method value, e.g. "getUser".
func funcName(fn any) string {
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name = strings.TrimSuffix(name, "-fm")
	return name[strings.LastIndexByte(name, '.')+1:]
}

func badRequest(format string, args ...any) *regulars.Error {
	return &regulars.Error{Code: codeBadRequest, Message: fmt.Sprintf(format, args...)}
}

// decode reads one JSON value of at most maxBody bytes into v; unknown
// fields are refused so that a typo does not pass silently.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil && len(body) == 0 {
		err = io.EOF
	}
	if err == nil && hasNULEscape(body) {
		return badRequest("The request body holds a NUL character (\\u0000), which text cannot hold.")
	}
	if err == nil && string(bytes.TrimSpace(body)) == "null" {
		// Decoding null changes nothing: it would pass for {}.
		return badRequest("The request body must be %s, not null.", jsonKind(reflect.TypeOf(v)))
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
		if err == nil {
			if _, extra := dec.Token(); extra != io.EOF {
				err = errTrailing
			}
		}
	}
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		tooLong *http.MaxBytesError
	)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return badRequest("The request body is empty; send a JSON object.")
	case errors.As(err, &tooLong):
		return badRequest("The request body is larger than 1 MiB.")
	case errors.As(err, &syntax):
		return badRequest("The request body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The request body is not valid JSON: it ends too early.")
	case errors.As(err, &typ) && typ.Field != "":
		e := badRequest("Field %s must be %s.", typ.Field, jsonKind(typ.Type))
		e.Fields = map[string]string{typ.Field: "Must be " + jsonKind(typ.Type) + "."}
		return e
	case errors.As(err, &typ):
		return badRequest("The request body must be %s.", jsonKind(typ.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		e := badRequest("Unknown field %q.", field)
		e.Fields = map[string]string{field: "Unknown field."}
		return e
	case errors.Is(err, errTrailing):
		return badRequest("The request body must hold one JSON value.")
	}
	return badRequest("The request body could not be read: %v", err)
}

var errTrailing = errors.New("trailing data")

// hasNULEscape reports whether a JSON text holds the escape \u0000 (a
// NUL cannot appear raw in valid JSON): one whose backslash is not itself
// escaped.
func hasNULEscape(body []byte) bool {
	for i := 0; ; {
		j := bytes.Index(body[i:], []byte(`u0000`))
		if j < 0 {
			return false
		}
		j += i
		n := 0 // backslashes right before it
		for k := j - 1; k >= 0 && body[k] == '\\'; k-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = j + 1
	}
}

// jsonKind names a Go type the way a JSON client thinks of it.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// pathID reads the {id} of the path. A malformed id is a missing object.
func pathID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, regulars.ErrNotFound(what)
	}
	return id, nil
}

// handleUpload adapts a handler whose request body is a file sent as is
// (its other inputs travel in the query). The response is Out as JSON.
func handleUpload[Out any](x *API, status int, fn func(r *http.Request, body io.Reader) (Out, error)) operation {
	op := handle(x, status, func(r *http.Request, _ noBody) (Out, error) { return fn(r, r.Body) })
	op.name, op.upload = funcName(fn), true
	return op
}

// File is a file a download operation answers.
type File struct {
	Name        string
	ContentType string
	ModTime     time.Time
	Body        io.ReadSeekCloser
}

// handleDownload adapts a handler that answers a file, with caching and
// range requests, offered for download under its name.
func handleDownload(x *API, fn func(r *http.Request) (*File, error)) operation {
	op := operation{status: http.StatusOK, name: funcName(fn), download: true}
	op.serve = func(w http.ResponseWriter, r *http.Request) {
		f, err := fn(r)
		if err != nil {
			x.fail(w, r, err)
			return
		}
		defer f.Body.Close()
		ServeFile(w, r, f)
	}
	return op
}

// ServeFile writes a stored file: the sniffed type, never executed as
// anything else, inline for pictures and as an attachment otherwise.
func ServeFile(w http.ResponseWriter, r *http.Request, f *File) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	disposition := "attachment"
	if strings.HasPrefix(f.ContentType, "image/") {
		disposition = "inline"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	http.ServeContent(w, r, "", f.ModTime, f.Body)
}
