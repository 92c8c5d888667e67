package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestPercentile(t *testing.T) {
	tests := []struct {
		vs   []float64
		p    float64
		want float64
	}{
		{nil, 50, 0},
		{[]float64{7}, 50, 7},
		{[]float64{7}, 99, 7},
		{[]float64{1, 2, 3, 4}, 50, 2},
		{[]float64{1, 2, 3, 4}, 75, 3},
		{[]float64{1, 2, 3, 4}, 76, 4},
		{[]float64{1, 2, 3, 4}, 100, 4},
		{[]float64{1, 2, 3, 4}, 0.1, 1},
		{[]float64{1, 2, 3, 4, 5}, 50, 3},
	}
	for _, tt := range tests {
		if got := percentile(tt.vs, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v; want %v", tt.vs, tt.p, got, tt.want)
		}
	}
	// p99 of 1..1000 is 990, of 1..100 is 99, of 1..10 is 10.
	for _, n := range []int{10, 100, 1000} {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = float64(n - i) // unsorted: summarize sorts
		}
		s := summarize(vs)
		want := summary{P50: float64(n / 2), P99: math.Ceil(0.99 * float64(n)), Max: float64(n)}
		if s != want {
			t.Errorf("summarize(1..%d) = %+v; want %+v", n, s, want)
		}
	}
	if s := spreadOf([]float64{3, -1, 2}); s != (spread{Min: -1, P50: 2, Max: 3}) {
		t.Errorf("spreadOf(3, -1, 2) = %+v; want {-1 2 3}", s)
	}
}

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 63, 64, 65, 127, 128, 129, 1000, 1 << 20, 1<<40 + 12345, math.MaxInt64} {
		b := bucketOf(v)
		if b < prev || b >= histBuckets {
			t.Errorf("bucketOf(%d) = %d after %d (of %d)", v, b, prev, histBuckets)
		}
		prev = b
		hi := bucketHigh(b)
		if hi < v || float64(hi-v) > float64(v)/histSub {
			t.Errorf("bucketHigh(bucketOf(%d)) = %d; want within 1/%d above", v, hi, histSub)
		}
		if b > 0 && bucketHigh(b-1) >= v {
			t.Errorf("bucket %d below %d's holds up to %d", b-1, v, bucketHigh(b-1))
		}
	}
}

// TestHistogramQuantile compares the histogram with exact percentiles of
// the same values, across merged parts.
func TestHistogramQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var parts [4]histogram
	var all []float64
	for i := range 100000 {
		v := int64(math.Exp(r.NormFloat64()*2 + 12)) // log-normal around 160 µs
		parts[i%4].record(v)
		all = append(all, float64(v))
	}
	var h histogram
	for i := range parts {
		h.merge(&parts[i])
	}
	slices.Sort(all)
	for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
		exact := percentile(all, p)
		got := float64(h.quantile(p))
		if got < exact || got > exact*(1+1.0/histSub)+1 {
			t.Errorf("quantile(%v) = %v; exact %v (want at most 1/%d above)", p, got, exact, histSub)
		}
	}
	if h.max != int64(all[len(all)-1]) || h.n != uint64(len(all)) {
		t.Errorf("max, n = %d, %d; want %v, %d", h.max, h.n, all[len(all)-1], len(all))
	}
	var empty histogram
	if q := empty.quantile(50); q != 0 {
		t.Errorf("empty quantile = %d; want 0", q)
	}
}
