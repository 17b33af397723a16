package web

import (
	"embed"
	"net/http"
	"path"
)

// The follower web app: static ES modules, no build step, served at /app/
// and talking only to the follower API. Modules import each other by
// relative path, so they are served under stable names and revalidated
// (ETag) instead of content-hashed like the admin's static files.
//
//go:embed followerapp
var followerApp embed.FS

var followerAppTypes = map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

func (h *Handler) followerApp(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "" {
		name = "index.html"
	}
	ctype, ok := followerAppTypes[path.Ext(name)]
	b, err := followerApp.ReadFile("followerapp/" + name)
	if !ok || err != nil || name == "." {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", `"`+h.static.appHash(name, b)+`"`)
	if match := r.Header.Get("If-None-Match"); match != "" && match == w.Header().Get("ETag") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(b)
}

func (h *Handler) followerAppHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/app/", http.StatusMovedPermanently)
}
