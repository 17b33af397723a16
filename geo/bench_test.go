package geo

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// benchWorld is 100,000 targeting locations spread over a continent-sized
// area (most 100 m to 2 km, some up to 50 km) and 10,000 positions, half of
// them next to a location.
func benchWorld() ([]circle, [][2]float64) {
	rng := rand.New(rand.NewPCG(7, 7))
	cs := make([]circle, 100_000)
	for i := range cs {
		rad := 100 + rng.Float64()*1_900
		if rng.IntN(100) == 0 {
			rad = 2_000 + rng.Float64()*48_000
		}
		cs[i] = circle{int64(i + 1), 36 + rng.Float64()*24, -10 + rng.Float64()*40, rad}
	}
	points := make([][2]float64, 10_000)
	for i := range points {
		if i%2 == 0 {
			points[i][0], points[i][1] = randomPoint(rng, cs)
			continue
		}
		points[i] = [2]float64{36 + rng.Float64()*24, -10 + rng.Float64()*40}
	}
	return cs, points
}

// BenchmarkPositionMatch100k matches one position update per operation
// against 100,000 targeting locations: with the index, and with a brute-force
// haversine scan of every location. Before timing, both must find identical
// matches for every position.
func BenchmarkPositionMatch100k(b *testing.B) {
	cs, points := benchWorld()
	x := NewIndex()
	for _, c := range cs {
		x.Insert(c.id, c.lat, c.lng, c.rad)
	}
	matches := 0
	for i, p := range points {
		if i%10 != 0 { // a 1,000-position sample keeps the check quick
			continue
		}
		got := sorted(x.Lookup(p[0], p[1], nil))
		want := sorted(bruteForce(cs, p[0], p[1]))
		if !slices.Equal(got, want) {
			b.Fatalf("position %v: index %v, brute force %v", p, got, want)
		}
		matches += len(got)
	}
	if matches == 0 {
		b.Fatal("no position matched any location")
	}
	b.Logf("index and brute force found the same %d matches for 1,000 positions", matches)

	b.Run("index", func(b *testing.B) {
		var dst []int64
		for i := 0; b.Loop(); i++ {
			p := points[i%len(points)]
			dst = x.Lookup(p[0], p[1], dst[:0])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "positions/s")
	})
	b.Run("brute-force", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			p := points[i%len(points)]
			bruteForce(cs, p[0], p[1])
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "positions/s")
	})
}

// BenchmarkIndexBuild100k builds the index of 100,000 locations, as a node
// does when it first serves a tenant.
func BenchmarkIndexBuild100k(b *testing.B) {
	cs, _ := benchWorld()
	for b.Loop() {
		x := NewIndex()
		for _, c := range cs {
			x.Insert(c.id, c.lat, c.lng, c.rad)
		}
	}
}
