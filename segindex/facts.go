package segindex

import (
	"strconv"

	"regulars"
	"regulars/store"
)

// facts holds, column by column, what a partner's segments are evaluated
// on: one slot per follower who follows (or followed, while the index
// was up) one of the partner's channels. A few bytes per follower and
// per loaded program, so a million followers fit in tens of megabytes and
// a count is a tight loop over arrays.
type facts struct {
	slot    map[int64]int32 // follower id → slot
	ids     []int64
	birth   []int32  // YYYYMMDD, 0 unknown
	gender  []uint8  // 0 unknown, else genderCodes
	lang    []uint16 // 0 unknown, else langCodes
	active  []bool
	nfollow []uint8 // how many of the partner's channels the follower follows now
	// follows maps a partner channel to the start (Unix ms) of each slot's
	// current follow period; 0 = not following.
	follows map[int64][]int64

	langCodes map[string]uint16

	programs map[int64]*programFacts // loaded on first use
	engaged  map[int64]*bitset       // coupons activated, messages opened
	lists    map[int64]*bitset       // current members
}

type programFacts struct {
	member  bitset
	current []int64
	total   []int64
	level   []int16
}

var genderCodes = map[string]uint8{regulars.GenderFemale: 1, regulars.GenderMale: 2, regulars.GenderOther: 3}

func newFacts() *facts {
	return &facts{slot: map[int64]int32{}, follows: map[int64][]int64{}, langCodes: map[string]uint16{},
		programs: map[int64]*programFacts{}, engaged: map[int64]*bitset{}, lists: map[int64]*bitset{}}
}

// birthNumber turns YYYY-MM-DD into YYYYMMDD (0 for unknown or malformed).
func birthNumber(s string) int32 {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0
	}
	n, err := strconv.Atoi(s[:4] + s[5:7] + s[8:])
	if err != nil || n <= 0 {
		return 0
	}
	return int32(n)
}

// dateNumber turns a YYYY-MM-DD bound (maybe not a real date) into YYYYMMDD.
func dateNumber(s string) int32 {
	n, _ := strconv.Atoi(s[:4] + s[5:7] + s[8:])
	return int32(n)
}

func (f *facts) langCode(l string) uint16 {
	if l == "" {
		return 0
	}
	c, ok := f.langCodes[l]
	if !ok {
		c = uint16(len(f.langCodes) + 1)
		f.langCodes[l] = c
	}
	return c
}

// slotOf returns the follower's slot, adding one when add is set.
func (f *facts) slotOf(id int64, add bool) (int32, bool) {
	if s, ok := f.slot[id]; ok {
		return s, true
	}
	if !add {
		return 0, false
	}
	s := int32(len(f.ids))
	f.slot[id] = s
	f.ids = append(f.ids, id)
	f.birth = append(f.birth, 0)
	f.gender = append(f.gender, 0)
	f.lang = append(f.lang, 0)
	f.active = append(f.active, false)
	f.nfollow = append(f.nfollow, 0)
	for ch, col := range f.follows {
		f.follows[ch] = append(col, 0)
	}
	for _, p := range f.programs {
		p.grow(len(f.ids))
	}
	return s, true
}

func (p *programFacts) grow(n int) {
	for len(p.current) < n {
		p.current = append(p.current, 0)
		p.total = append(p.total, 0)
		p.level = append(p.level, 0)
	}
}

// set writes a follower's attributes and current follows into slot s.
func (f *facts) set(s int32, ff *store.FollowerFacts) {
	f.birth[s] = birthNumber(ff.BirthDate)
	f.gender[s] = genderCodes[ff.Gender]
	f.lang[s] = f.langCode(ff.Language)
	f.active[s] = ff.Active
	for _, col := range f.follows {
		col[s] = 0
	}
	f.nfollow[s] = 0
	for _, fl := range ff.Follows {
		col := f.column(fl.ChannelID)
		if col[s] == 0 {
			f.nfollow[s]++
		}
		col[s] = max(fl.FollowedAt, 1)
	}
}

// column returns the follow column of a channel, adding it if needed.
func (f *facts) column(channelID int64) []int64 {
	col, ok := f.follows[channelID]
	if !ok {
		col = make([]int64, len(f.ids))
		f.follows[channelID] = col
	}
	return col
}

// bitset is a set of slots.
type bitset []uint64

func (b bitset) has(s int32) bool {
	i := int(s) >> 6
	return i < len(b) && b[i]&(1<<(uint(s)&63)) != 0
}

func (b *bitset) set(s int32, on bool) {
	i := int(s) >> 6
	for len(*b) <= i {
		*b = append(*b, 0)
	}
	if on {
		(*b)[i] |= 1 << (uint(s) & 63)
	} else {
		(*b)[i] &^= 1 << (uint(s) & 63)
	}
}
