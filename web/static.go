package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
)

//go:embed static
var staticFS embed.FS

// Static serves the embedded files under content-hashed URLs
// (/static/<hash>/css/app.css), so browsers may cache them for a year.
type Static struct {
	files     fs.FS
	hashes    map[string]string
	appHashes sync.Map // follower app file → ETag
}

// NewStatic indexes the static files. With dir set (development) files are
// read from disk on every request.
func NewStatic(dir string) (*Static, error) {
	var files fs.FS
	if dir != "" {
		files = os.DirFS(dir)
	} else {
		sub, err := fs.Sub(staticFS, "static")
		if err != nil {
			return nil, err
		}
		files = sub
	}
	s := &Static{files: files, hashes: map[string]string{}}
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s.hashes[p] = hex.EncodeToString(sum[:5])
		return nil
	})
	return s, err
}

// URL returns the cache-busted URL of a static file; an unknown file panics
// at template execution, which the template check at start-up catches.
func (s *Static) URL(name string) string {
	name = strings.TrimPrefix(name, "/")
	h, ok := s.hashes[name]
	if !ok {
		panic("static file not found: " + name)
	}
	return "/static/" + h + "/" + name
}

// ServeHTTP serves /static/<hash>/<name>.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	_, name, ok := strings.Cut(rest, "/")
	if !ok || s.hashes[name] == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeFileFS(w, r, s.files, name)
}

// appHash returns the content hash of a follower app file (memoised).
func (s *Static) appHash(name string, b []byte) string {
	if h, ok := s.appHashes.Load(name); ok {
		return h.(string)
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:8])
	s.appHashes.Store(name, h)
	return h
}
