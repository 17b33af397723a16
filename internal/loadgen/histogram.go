package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// The histogram uses log-linear buckets in the style of HdrHistogram:
// values below subBucketCount nanoseconds get one bucket each, and every
// power-of-two range above that is split into subBucketHalf equal buckets.
// With 7 sub-bucket bits the relative error of a reported quantile is below
// 1/64 (about 1.6%), for any duration up to the int64 limit, in a fixed
// 30 KiB of counters.
const (
	subBucketBits  = 7
	subBucketCount = 1 << subBucketBits
	subBucketHalf  = subBucketCount / 2
	bucketCount    = subBucketCount + (64-subBucketBits)*subBucketHalf
)

// Histogram records durations and answers quantile queries with a relative
// error below 1.6%. Min, Max, Count and Mean are exact.
//
// The zero value is an empty histogram ready to use. A Histogram is not
// safe for concurrent use: give each worker its own and Merge them.
type Histogram struct {
	counts [bucketCount]uint64
	total  uint64
	sum    float64 // nanoseconds
	min    time.Duration
	max    time.Duration
}

// bucketIndex maps a non-negative value in nanoseconds to its bucket.
func bucketIndex(v uint64) int {
	if v < subBucketCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBucketBits // >= 1
	top := v >> uint(shift)                // in [subBucketHalf, subBucketCount)
	return subBucketCount + (shift-1)*subBucketHalf + int(top-subBucketHalf)
}

// bucketBounds returns the smallest and largest value held by bucket i.
func bucketBounds(i int) (lo, hi uint64) {
	if i < subBucketCount {
		return uint64(i), uint64(i)
	}
	k := i - subBucketCount
	shift := uint(k/subBucketHalf + 1)
	top := uint64(k%subBucketHalf + subBucketHalf)
	lo = top << shift
	return lo, lo + (1 << shift) - 1
}

// Record adds one observation. Negative durations are recorded as zero.
func (h *Histogram) Record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketIndex(uint64(d))]++
	if h.total == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.total++
	h.sum += float64(d)
}

// Merge adds every observation recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
	h.sum += o.sum
}

// Reset empties the histogram.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count returns the number of recorded observations.
func (h *Histogram) Count() int64 { return int64(h.total) }

// Min returns the smallest recorded duration, or 0 if h is empty.
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the largest recorded duration, or 0 if h is empty.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean returns the arithmetic mean of the recorded durations, or 0 if h is
// empty.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(math.Round(h.sum / float64(h.total)))
}

// Quantile returns the duration at quantile q (0.5 for the median, 0.99 for
// the 99th percentile): the value below or at which a fraction q of the
// observations fall. q is clamped to [0, 1]; Quantile(0) is Min and
// Quantile(1) is Max. It returns 0 if h is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	switch {
	case q <= 0 || math.IsNaN(q):
		return h.min
	case q >= 1:
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen < rank {
			continue
		}
		lo, hi := bucketBounds(i)
		v := time.Duration(lo + (hi-lo)/2)
		return min(max(v, h.min), h.max)
	}
	return h.max
}
