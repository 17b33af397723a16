package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketRoundTrip(t *testing.T) {
	// Every value must land in a bucket whose bounds contain it, and
	// bucket bounds must tile the range without gaps.
	vals := []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, math.MaxInt64}
	for range 10000 {
		vals = append(vals, rand.Uint64N(math.MaxInt64))
	}
	for _, v := range vals {
		i := bucketIndex(v)
		if i < 0 || i >= bucketCount {
			t.Fatalf("bucketIndex(%d) = %d out of range", v, i)
		}
		lo, hi := bucketBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
	}
	for i := 1; i < bucketIndex(math.MaxInt64); i++ {
		_, prevHi := bucketBounds(i - 1)
		lo, _ := bucketBounds(i)
		if lo != prevHi+1 {
			t.Fatalf("gap between bucket %d (hi %d) and %d (lo %d)", i-1, prevHi, i, lo)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Count() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	samples := make([]time.Duration, 100000)
	var sum float64
	for i := range samples {
		// Log-normal-ish spread from microseconds to about a second.
		d := time.Duration(math.Exp(rand.NormFloat64()*2+11)) + time.Microsecond
		samples[i] = d
		sum += float64(d)
	}
	// Split across two histograms to exercise Merge.
	var other Histogram
	for i, d := range samples {
		if i%2 == 0 {
			h.Record(d)
		} else {
			other.Record(d)
		}
	}
	h.Merge(&other)
	slices.Sort(samples)

	if got := h.Count(); got != int64(len(samples)) {
		t.Fatalf("Count = %d, want %d", got, len(samples))
	}
	if h.Min() != samples[0] || h.Max() != samples[len(samples)-1] {
		t.Fatalf("Min/Max = %v/%v, want %v/%v", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
	}
	if h.Quantile(0) != h.Min() || h.Quantile(1) != h.Max() {
		t.Fatal("Quantile(0)/Quantile(1) should be Min/Max")
	}
	wantMean := sum / float64(len(samples))
	if got := float64(h.Mean()); math.Abs(got-wantMean) > 1 {
		t.Fatalf("Mean = %v, want %v", got, wantMean)
	}
	for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999} {
		rank := int(math.Ceil(q*float64(len(samples)))) - 1
		want := float64(samples[rank])
		got := float64(h.Quantile(q))
		if rel := math.Abs(got-want) / want; rel > 1.0/64 {
			t.Errorf("Quantile(%v) = %v, want %v (relative error %.4f)", q, time.Duration(got), time.Duration(want), rel)
		}
	}
}

func TestHistogramSmallExact(t *testing.T) {
	var h Histogram
	for i := 1; i <= 100; i++ {
		h.Record(time.Duration(i))
	}
	h.Record(-5) // recorded as zero
	if got := h.Quantile(0.5); got != 50 {
		t.Errorf("median of 0..100ns = %v, want 50ns", got)
	}
	if h.Min() != 0 {
		t.Errorf("Min = %v, want 0", h.Min())
	}
	h.Reset()
	if h.Count() != 0 || h.Max() != 0 {
		t.Error("Reset did not empty the histogram")
	}
}
