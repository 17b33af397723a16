package geo

import (
	"math"
	"sync"
)

// Index finds the circles (centre and radius in metres) that contain a
// point. It is a hierarchical grid: each circle is filed under the level
// whose cells are at least as wide as the circle's bounding box, in the at
// most four cells (2×2) that box overlaps. A lookup visits the point's one
// cell on each level in use, then applies the exact test of Within to the
// candidates. Circles around a pole, or wider than the coarsest level,
// stay in a short list that every lookup scans.
//
// An Index is safe for concurrent use: lookups share a read lock, changes
// take the write lock.
type Index struct {
	mu      sync.RWMutex
	slots   []entry         // entries; a removed entry's slot is reused
	free    []int32         // free slots
	byID    map[int64]int32 // id → slot
	cells   map[uint64][]int32
	global  []int32     // circles the grid cannot file
	inLevel [levels]int // circles per level, to skip empty levels
}

type entry struct {
	id                   int64
	lat, lng, cos, limit float64 // radians, cos(lat), threshold(radius)
	keys                 []uint64
	global               bool
}

// Grid levels: cells of baseCell·2^k degrees, k = 0 … levels-1 (about 217 m
// to 16°). Powers of two keep the cell arithmetic exact.
const (
	baseCell = 1.0 / 512
	levels   = 14
)

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{byID: map[int64]int32{}, cells: map[uint64][]int32{}}
}

// Len returns the number of circles in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byID)
}

// Insert adds the circle id, replacing an earlier circle with the same id.
// Coordinates are degrees; the radius is in metres and must be positive.
func (x *Index) Insert(id int64, lat, lng, radius float64) {
	e := entry{id: id, lat: lat * toRad, lng: lng * toRad, cos: math.Cos(lat * toRad), limit: threshold(radius)}
	level, boxes := cover(lat, lng, radius)
	if level < 0 {
		e.global = true
	} else {
		for _, b := range boxes {
			for y := cellOf(b.lat0+90, level); y <= cellOf(b.lat1+90, level); y++ {
				for xx := cellOf(b.lng0+180, level); xx <= cellOf(b.lng1+180, level); xx++ {
					k := key(level, y, xx)
					dup := false
					for _, have := range e.keys {
						dup = dup || have == k
					}
					if !dup {
						e.keys = append(e.keys, k)
					}
				}
			}
		}
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(id)
	var slot int32
	if n := len(x.free); n > 0 {
		slot = x.free[n-1]
		x.free = x.free[:n-1]
		x.slots[slot] = e
	} else {
		slot = int32(len(x.slots))
		x.slots = append(x.slots, e)
	}
	x.byID[id] = slot
	if e.global {
		x.global = append(x.global, slot)
		return
	}
	x.inLevel[level]++
	for _, k := range e.keys {
		x.cells[k] = append(x.cells[k], slot)
	}
}

// Remove takes the circle id out; an unknown id is ignored.
func (x *Index) Remove(id int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.remove(id)
}

func (x *Index) remove(id int64) {
	slot, ok := x.byID[id]
	if !ok {
		return
	}
	e := &x.slots[slot]
	if e.global {
		x.global = without(x.global, slot)
	} else {
		x.inLevel[e.keys[0]>>40]--
		for _, k := range e.keys {
			if rest := without(x.cells[k], slot); len(rest) > 0 {
				x.cells[k] = rest
			} else {
				delete(x.cells, k)
			}
		}
	}
	*e = entry{}
	delete(x.byID, id)
	x.free = append(x.free, slot)
}

func without(s []int32, v int32) []int32 {
	for i, x := range s {
		if x == v {
			s[i] = s[len(s)-1]
			return s[:len(s)-1]
		}
	}
	return s
}

// Lookup appends to dst the ids of every circle that contains the point
// (lat, lng) in degrees, in no particular order, and returns dst.
func (x *Index) Lookup(lat, lng float64, dst []int64) []int64 {
	if math.IsNaN(lat) || math.IsNaN(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return dst
	}
	plat, plng := lat*toRad, lng*toRad
	pcos := math.Cos(plat)
	x.mu.RLock()
	defer x.mu.RUnlock()
	test := func(slot int32) {
		e := &x.slots[slot]
		if hav(plat, plng, pcos, e.lat, e.lng, e.cos) <= e.limit {
			dst = append(dst, e.id)
		}
	}
	for level := 0; level < levels; level++ {
		if x.inLevel[level] == 0 {
			continue
		}
		for _, slot := range x.cells[key(level, cellOf(lat+90, level), cellOf(lng+180, level))] {
			test(slot)
		}
	}
	for _, slot := range x.global {
		test(slot)
	}
	return dst
}

// box is a latitude/longitude rectangle in degrees that does not cross the
// antimeridian.
type box struct{ lat0, lat1, lng0, lng1 float64 }

// cover returns the grid level of a circle and the boxes (one, or two when
// it crosses the antimeridian) that contain it; level -1 when the grid
// cannot file it (a pole inside, or too wide).
func cover(lat, lng, radius float64) (int, []box) {
	delta := radius / EarthRadius // angular radius
	dLat := delta / toRad
	// A slight widening keeps rounding from cutting a sliver off the box;
	// the exact test decides anyway.
	const margin = 1 + 1e-9
	dLat = dLat*margin + 1e-12
	if lat+dLat >= 90 || lat-dLat <= -90 {
		return -1, nil
	}
	// The widest longitude span of a spherical cap (bounding coordinates
	// of a circle on the sphere).
	s := math.Sin(delta) / math.Cos(lat*toRad)
	if s >= 1 {
		return -1, nil
	}
	dLng := math.Asin(s)/toRad*margin + 1e-12
	extent := 2 * math.Max(dLat, dLng)
	level := 0
	for level < levels && baseCell*float64(uint(1)<<level) < extent {
		level++
	}
	if level == levels {
		return -1, nil
	}
	b := box{lat - dLat, lat + dLat, lng - dLng, lng + dLng}
	switch {
	case b.lng0 < -180:
		return level, []box{{b.lat0, b.lat1, -180, b.lng1}, {b.lat0, b.lat1, b.lng0 + 360, 180}}
	case b.lng1 > 180:
		return level, []box{{b.lat0, b.lat1, b.lng0, 180}, {b.lat0, b.lat1, -180, b.lng1 - 360}}
	}
	return level, []box{b}
}

// cellOf is the cell number of an offset coordinate (lat+90 or lng+180) on
// a level. The cell sizes are powers of two, so the division is exact and
// a point inside a box always falls in one of the box's cells.
func cellOf(v float64, level int) int {
	return int(math.Floor(v / (baseCell * float64(uint(1)<<level))))
}

func key(level, y, x int) uint64 {
	return uint64(level)<<40 | uint64(y)<<20 | uint64(x)
}
