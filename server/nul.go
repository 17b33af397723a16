package server

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
)

// nulDetail is why a request holding a NUL character is refused: no text
// the product stores can hold one (PostgreSQL refuses it outright, and
// no one types it), so it is refused before anything reads it.
const nulDetail = "The request holds a NUL character (\\u0000), which text cannot hold."

// refuseNUL answers 400 to a request whose query or form holds a NUL
// character, as a problem for the API and as text for pages. (JSON bodies
// are checked where the API decodes them.)
func refuseNUL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hasNUL(r) {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				body, _ := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(http.StatusBadRequest),
					"status": http.StatusBadRequest, "detail": nulDetail, "code": "bad_request"})
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusBadRequest)
				w.Write(append(body, '\n'))
				return
			}
			http.Error(w, nulDetail, http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hasNUL(r *http.Request) bool {
	if strings.Contains(r.URL.RawQuery, "%00") || strings.ContainsRune(r.URL.Path, 0) {
		return true
	}
	if r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch {
		return false
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return false // files are bytes; multipart text fields are checked by the forms' own rules
	}
	if r.ParseForm() != nil {
		return false // the handler reports the bad form
	}
	for _, vs := range r.PostForm {
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return true
			}
		}
	}
	return false
}
