package app

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"regulars"
	"regulars/geo"
)

// Geocoder finds places by address.
type Geocoder interface {
	Search(ctx context.Context, query, lang string) ([]geo.Place, error)
}

// MapTiles is the tile server of the maps: a Leaflet URL template and the
// credit to show.
type MapTiles struct {
	URL         string
	Attribution string
}

// ErrSearchUnavailable says the address search cannot answer now; the
// locations form still works with typed coordinates or the pin.
var ErrSearchUnavailable = errors.New("address search unavailable")

// Geocode searches an address for the locations form.
func (a *App) Geocode(ctx context.Context, actor *Actor, query, lang string) ([]geo.Place, error) {
	if err := actor.Require(regulars.FeatureLocations, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	query = strings.TrimSpace(query)
	v := regulars.Validation{}
	switch n := utf8.RuneCountInString(query); {
	case n < 3:
		v.Add("q", "Type at least 3 characters of the address.")
	case n > 200:
		v.Add("q", "Use at most 200 characters.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if a.Geocoder == nil {
		return nil, ErrSearchUnavailable
	}
	places, err := a.Geocoder.Search(ctx, query, lang)
	if err != nil {
		a.Log.Warn("address search failed", "err", err)
		return nil, ErrSearchUnavailable
	}
	return places, nil
}
