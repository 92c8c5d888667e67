package main

import (
	"math"
	"math/bits"
	"slices"
)

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It returns 0 for an empty slice.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summary is the p50/p99/max of a set of values, as reported in JSON.
type summary struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// summarize sorts vs in place and returns its p50, p99 and max. An empty vs
// gives zeros.
func summarize(vs []float64) summary {
	slices.Sort(vs)
	if len(vs) == 0 {
		return summary{}
	}
	return summary{P50: percentile(vs, 50), P99: percentile(vs, 99), Max: vs[len(vs)-1]}
}

// spread is the min/p50/max of a set of values, as reported in JSON.
type spread struct {
	Min float64 `json:"min"`
	P50 float64 `json:"p50"`
	Max float64 `json:"max"`
}

// spreadOf sorts vs in place and returns its min, p50 and max.
func spreadOf(vs []float64) spread {
	slices.Sort(vs)
	if len(vs) == 0 {
		return spread{}
	}
	return spread{Min: vs[0], P50: percentile(vs, 50), Max: vs[len(vs)-1]}
}

// Histogram geometry: values (nanoseconds) are bucketed by their top
// histSubBits+1 significant bits, so each bucket's width is at most 1/64 of
// its lower bound (1.6% relative error); values below 2^histSubBits ns get
// a bucket each.
const (
	histSubBits = 6
	histSub     = 1 << histSubBits
	histBuckets = (65 - histSubBits) * histSub // shifts 0…57 above the first 64
)

// histogram counts durations in nanoseconds with bounded relative error in
// fixed memory (about 15 KiB), so a load generator can record every
// request without allocating. The zero value is empty and ready; a
// histogram is not safe for concurrent use (give each goroutine its own and
// merge them).
type histogram struct {
	counts [histBuckets]uint32
	n      uint64
	max    int64
}

// bucketOf returns the bucket index of v ≥ 0.
func bucketOf(v int64) int {
	u := uint64(v)
	if u < histSub {
		return int(u)
	}
	shift := bits.Len64(u) - histSubBits - 1 // ≥ 0
	return (shift+1)*histSub + int(u>>shift) - histSub
}

// bucketHigh returns the largest value bucket b holds.
func bucketHigh(b int) int64 {
	if b < histSub {
		return int64(b)
	}
	shift := b/histSub - 1
	mant := int64(b%histSub + histSub)
	return (mant+1)<<shift - 1
}

// record adds one value (negative values count as 0).
func (h *histogram) record(v int64) {
	v = max(v, 0)
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

// merge adds o's values to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the p-th percentile (0 < p ≤ 100) by the nearest-rank
// method, as the upper bound of the bucket holding it (never above the
// maximum recorded), or 0 if h is empty.
func (h *histogram) quantile(p float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}
