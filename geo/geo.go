// Package geo is the spherical geometry of locations: great-circle
// distances and an in-memory index that finds every circle containing a
// point. It depends on nothing else in the product, so its property test and
// benchmarks run on their own.
package geo

import "math"

// EarthRadius is the mean radius of the Earth in metres.
const EarthRadius = 6_371_008.8

const toRad = math.Pi / 180

// Distance returns the great-circle distance in metres between two points
// given in degrees (the haversine formula).
func Distance(lat1, lng1, lat2, lng2 float64) float64 {
	a := hav(lat1*toRad, lng1*toRad, math.Cos(lat1*toRad), lat2*toRad, lng2*toRad, math.Cos(lat2*toRad))
	return 2 * EarthRadius * math.Asin(math.Sqrt(math.Min(1, a)))
}

// Within reports whether the point (lat, lng) lies within radius metres of
// the centre (clat, clng), all in degrees. It is the exact test the Index
// applies after its cell lookup, computed the same way, so that a
// brute-force scan with Within and the Index agree to the last bit.
func Within(lat, lng, clat, clng, radius float64) bool {
	return hav(lat*toRad, lng*toRad, math.Cos(lat*toRad), clat*toRad, clng*toRad, math.Cos(clat*toRad)) <= threshold(radius)
}

// hav is the haversine of the central angle between two points given in
// radians with the cosines of their latitudes. Comparing it with
// threshold(r) avoids the square root and arcsine of the distance.
func hav(lat1, lng1, cos1, lat2, lng2, cos2 float64) float64 {
	s1 := math.Sin((lat2 - lat1) / 2)
	s2 := math.Sin((lng2 - lng1) / 2)
	return s1*s1 + cos1*cos2*s2*s2
}

// threshold is the haversine of the central angle of radius metres.
func threshold(radius float64) float64 {
	s := math.Sin(radius / EarthRadius / 2)
	return s * s
}
