package geo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Place is an address search result.
type Place struct {
	Name string  `json:"name"`
	Lat  float64 `json:"lat"`
	Lng  float64 `json:"lng"`
}

// Nominatim searches addresses with a Nominatim-compatible HTTP API
// (GET <URL>?q=…&format=jsonv2). It keeps to the public server's usage
// policy: an identifying User-Agent, at most one request per second from
// this process, and answers cached for a day.
type Nominatim struct {
	URL       string // the search endpoint, e.g. https://nominatim.openstreetmap.org/search
	UserAgent string
	Client    *http.Client
	// Interval is the least time between two requests (default 1 s).
	Interval time.Duration

	mu    sync.Mutex
	next  time.Time // earliest time of the next request
	cache map[string]cachedSearch
}

type cachedSearch struct {
	places []Place
	at     time.Time
}

const (
	searchCacheSize = 1000
	searchCacheTTL  = 24 * time.Hour
)

// ErrUnavailable says the geocoder could not answer (no network, an error
// status, a malformed answer).
var ErrUnavailable = errors.New("geocoder unavailable")

// NewNominatim returns a client of the search endpoint at searchURL.
func NewNominatim(searchURL, userAgent string) *Nominatim {
	return &Nominatim{URL: searchURL, UserAgent: userAgent, Client: &http.Client{Timeout: 8 * time.Second}}
}

// Search returns up to 6 places matching query, in the language lang (an
// Accept-Language value, may be empty). Errors wrap ErrUnavailable.
func (n *Nominatim) Search(ctx context.Context, query, lang string) ([]Place, error) {
	key := strings.ToLower(strings.TrimSpace(query)) + "\x00" + lang
	n.mu.Lock()
	if c, ok := n.cache[key]; ok && time.Since(c.at) < searchCacheTTL {
		n.mu.Unlock()
		return c.places, nil
	}
	// Take the next free request slot, then wait for it outside the lock.
	interval := n.Interval
	if interval == 0 {
		interval = time.Second
	}
	now := time.Now()
	slot := now
	if n.next.After(now) {
		slot = n.next
	}
	n.next = slot.Add(interval)
	n.mu.Unlock()
	if wait := slot.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
		}
	}

	places, err := n.fetch(ctx, query, lang)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	n.mu.Lock()
	if n.cache == nil || len(n.cache) >= searchCacheSize {
		n.cache = map[string]cachedSearch{} // crude, but bounded
	}
	n.cache[key] = cachedSearch{places: places, at: time.Now()}
	n.mu.Unlock()
	return places, nil
}

func (n *Nominatim) fetch(ctx context.Context, query, lang string) ([]Place, error) {
	u, err := url.Parse(n.URL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("q", query)
	q.Set("format", "jsonv2")
	q.Set("limit", "6")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", n.UserAgent)
	req.Header.Set("Accept", "application/json")
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	res, err := n.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", res.StatusCode)
	}
	var raw []struct {
		DisplayName string `json:"display_name"`
		Lat         number `json:"lat"`
		Lon         number `json:"lon"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("malformed answer: %v", err)
	}
	out := make([]Place, 0, len(raw))
	for _, r := range raw {
		lat, lng := float64(r.Lat), float64(r.Lon)
		if r.DisplayName == "" || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			continue
		}
		out = append(out, Place{Name: r.DisplayName, Lat: lat, Lng: lng})
	}
	return out, nil
}

// number reads a JSON number or a string holding one (Nominatim sends
// coordinates as strings, some compatible servers as numbers).
type number float64

func (v *number) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*v = number(f)
	return nil
}
