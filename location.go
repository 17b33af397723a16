package regulars

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Location radius rules (metres). A radius of 0 makes a store location shown
// to followers; above 0 the location is used for proximity targeting.
const (
	MinRecommendedRadius = 100
	MaxRadius            = 50_000
)

// RadiusWarning is shown (not refused) when a targeting radius is below the
// recommended minimum: phone positions are rarely more precise than that.
const RadiusWarning = "The minimum recommended radius is 100 metres: phone positions are often less precise, so followers may not be recognised inside a smaller area."

// Location is a place of a partner: a store location (Radius 0), whose name
// followers see on the channel page, or a targeting location (Radius > 0),
// whose name is internal.
type Location struct {
	ID        int64
	TenantID  int64
	PartnerID int64
	Name      string
	Address   string
	Lat       float64
	Lng       float64
	Radius    float64 // metres; 0 = store location
	CreatedAt time.Time
	UpdatedAt time.Time
}

// IsStore reports whether the location is a shop shown to followers.
func (l *Location) IsStore() bool { return l.Radius == 0 }

// Warning returns the advice to show for a saved location, or "".
func (l *Location) Warning() string {
	if l.Radius > 0 && l.Radius < MinRecommendedRadius {
		return RadiusWarning
	}
	return ""
}

// LocationInput is what a form or API call sends: text as typed, so that
// "abc" in the radius is refused with a message rather than read as 0.
type LocationInput struct {
	Name    string
	Address string
	Lat     string
	Lng     string
	Radius  string // empty = 0 (store location)
}

// Parse validates the input and returns the location fields; every problem
// has a message on its field.
func (in LocationInput) Parse() (name, address string, lat, lng, radius float64, err error) {
	v := Validation{}
	name, address = strings.TrimSpace(in.Name), strings.TrimSpace(in.Address)
	CheckName(v, "name", name, 120)
	if utf8.RuneCountInString(address) > 300 {
		v.Add("address", "Use at most 300 characters.")
	}
	lat, ok := parseCoordinate(v, "lat", in.Lat, "Latitude")
	if ok && (lat < -90 || lat > 90) {
		v.Add("lat", "Latitude must be between -90 and 90.")
	}
	lng, ok = parseCoordinate(v, "lng", in.Lng, "Longitude")
	if ok && (lng < -180 || lng > 180) {
		v.Add("lng", "Longitude must be between -180 and 180.")
	}
	radius, _ = ParseRadius(v, "radius", in.Radius)
	return name, address, lat, lng, radius, v.Err()
}

func parseCoordinate(v Validation, field, s, label string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1) // a decimal comma: 51,5074
	}
	if s == "" {
		v.Add(field, label+" is required: search an address, drag the pin or type it.")
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		v.Add(field, label+" must be a number, e.g. 51.5074.")
		return 0, false
	}
	return f, true
}

// ParseRadius reads a radius in metres: empty means 0; negative,
// non-numeric and over MaxRadius are refused with a message on field.
func ParseRadius(v Validation, field, s string) (float64, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "m"))
	if s == "" {
		return 0, true
	}
	r, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(r) || math.IsInf(r, 0):
		v.Add(field, "The radius must be a number of metres, e.g. 150, or empty for a store location.")
	case r < 0:
		v.Add(field, "The radius cannot be negative. Leave it empty (or 0) for a store location.")
	case r > MaxRadius:
		v.Add(field, "The radius can be at most 50 km (50000 metres).")
	default:
		return math.Round(r*10) / 10, true
	}
	return 0, false
}

// FormatRadius shows a radius for people: "150 m", "2.5 km".
func FormatRadius(m float64) string {
	if m >= 1000 {
		return strconv.FormatFloat(m/1000, 'f', -1, 64) + " km"
	}
	return strconv.FormatFloat(m, 'f', -1, 64) + " m"
}
