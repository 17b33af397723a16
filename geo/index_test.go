package geo

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDistanceKnownPlaces(t *testing.T) {
	cases := []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want, tolerance        float64
	}{
		{"same point", 51.5, -0.12, 51.5, -0.12, 0, 0},
		{"London to Paris", 51.5074, -0.1278, 48.8566, 2.3522, 343_500, 1_000},
		{"one degree of latitude", 10, 20, 11, 20, 111_195, 1},
		{"across the antimeridian", 0, 179.999, 0, -179.999, 222.4, 0.5},
		{"pole to pole", 90, 0, -90, 0, math.Pi * EarthRadius, 1},
	}
	for _, c := range cases {
		if got := Distance(c.lat1, c.lng1, c.lat2, c.lng2); math.Abs(got-c.want) > c.tolerance {
			t.Errorf("%s: %.1f m, want %.1f ± %.1f", c.name, got, c.want, c.tolerance)
		}
	}
}

// circle is a test circle.
type circle struct {
	id            int64
	lat, lng, rad float64
}

// bruteForce is the reference: every circle, tested with Within.
func bruteForce(cs []circle, lat, lng float64) []int64 {
	var out []int64
	for _, c := range cs {
		if Within(lat, lng, c.lat, c.lng, c.rad) {
			out = append(out, c.id)
		}
	}
	return out
}

func sorted(ids []int64) []int64 {
	slices.Sort(ids)
	return ids
}

// randomWorld makes circles the way the product sees them: mostly small
// radii in clusters (towns), some large ones, some near the poles and the
// antimeridian, where grids usually break.
func randomWorld(rng *rand.Rand, n int) []circle {
	cs := make([]circle, n)
	for i := range cs {
		var lat, lng float64
		switch rng.IntN(10) {
		case 0: // anywhere, including the poles
			lat, lng = rng.Float64()*180-90, rng.Float64()*360-180
		case 1: // next to the antimeridian
			lat, lng = rng.Float64()*120-60, 179.5+rng.Float64()
			if lng > 180 {
				lng -= 360
			}
		case 2: // far north
			lat, lng = 85+rng.Float64()*5, rng.Float64()*360-180
		default: // a European town
			lat, lng = 45+rng.Float64()*10, rng.Float64()*20
		}
		var rad float64
		switch rng.IntN(10) {
		case 0:
			rad = 1 + rng.Float64()*50_000
		case 1:
			rad = 1 + rng.Float64()*99
		default:
			rad = 100 + rng.Float64()*1_900
		}
		cs[i] = circle{int64(i + 1), lat, lng, rad}
	}
	return cs
}

// randomPoint is near a circle's edge half the time (where mistakes
// show), anywhere otherwise.
func randomPoint(rng *rand.Rand, cs []circle) (float64, float64) {
	if rng.IntN(2) == 0 {
		return rng.Float64()*180 - 90, rng.Float64()*360 - 180
	}
	c := cs[rng.IntN(len(cs))]
	// Walk from the centre in a random direction for about the radius.
	d := c.rad * (0.9 + rng.Float64()*0.2) / EarthRadius
	bearing := rng.Float64() * 2 * math.Pi
	φ1, λ1 := c.lat*toRad, c.lng*toRad
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(d) + math.Cos(φ1)*math.Sin(d)*math.Cos(bearing))
	λ2 := λ1 + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(φ1), math.Cos(d)-math.Sin(φ1)*math.Sin(φ2))
	lat, lng := φ2/toRad, math.Mod(λ2/toRad+540, 360)-180
	return math.Max(-90, math.Min(90, lat)), lng
}

// The index finds exactly what a brute-force scan finds, over random
// circles and points, while circles are added, moved and removed.
func TestIndexMatchesBruteForce(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		cs := randomWorld(rng, 2_000)
		x := NewIndex()
		for _, c := range cs {
			x.Insert(c.id, c.lat, c.lng, c.rad)
		}
		check := func(phase string) {
			t.Helper()
			hits := 0
			for range 3_000 {
				lat, lng := randomPoint(rng, cs)
				want := bruteForce(cs, lat, lng)
				got := sorted(x.Lookup(lat, lng, nil))
				if !slices.Equal(got, sorted(want)) {
					t.Fatalf("seed %d, %s: point (%v, %v): index %v, brute force %v", seed, phase, lat, lng, got, want)
				}
				hits += len(got)
			}
			if hits == 0 {
				t.Fatalf("seed %d, %s: no point hit any circle: the test proves nothing", seed, phase)
			}
		}
		check("after inserting")

		// Move a third, remove a third.
		for i := range cs {
			switch i % 3 {
			case 0:
				cs[i].lat, cs[i].lng = rng.Float64()*170-85, rng.Float64()*360-180
				x.Insert(cs[i].id, cs[i].lat, cs[i].lng, cs[i].rad)
			case 1:
				x.Remove(cs[i].id)
				cs[i].id = -cs[i].id // not in the index any more
			}
		}
		var kept []circle
		for _, c := range cs {
			if c.id > 0 {
				kept = append(kept, c)
			}
		}
		if x.Len() != len(kept) {
			t.Fatalf("Len = %d, want %d", x.Len(), len(kept))
		}
		cs = kept
		check("after moving and removing")
	}
}

func TestIndexEdges(t *testing.T) {
	t.Parallel()
	x := NewIndex()
	x.Insert(1, 51.5, -0.12, 100)
	x.Insert(2, 89.99, 0, 5_000) // the North Pole is inside
	x.Insert(3, 0, 179.9999, 1_000)
	x.Insert(1, 48.85, 2.35, 100) // replaces the first
	cases := []struct {
		lat, lng float64
		want     []int64
	}{
		{51.5, -0.12, nil},
		{48.85, 2.35, []int64{1}},
		{90, 0, []int64{2}},
		{89.99, 179, []int64{2}},
		{0, -179.9999, []int64{3}},
		{0, 180, []int64{3}},
		{0, -180, []int64{3}},
		{math.NaN(), 0, nil},
		{91, 0, nil},
	}
	for _, c := range cases {
		if got := sorted(x.Lookup(c.lat, c.lng, nil)); !slices.Equal(got, c.want) {
			t.Errorf("Lookup(%v, %v) = %v, want %v", c.lat, c.lng, got, c.want)
		}
	}
	x.Remove(2)
	x.Remove(99)
	if got := x.Lookup(90, 0, nil); len(got) != 0 {
		t.Errorf("after Remove: %v", got)
	}
	if x.Len() != 2 {
		t.Errorf("Len = %d", x.Len())
	}
}
