package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two of nanoseconds
// is split into 2^subBits equal buckets, so a bucket is at most 1/128 of
// its lower bound wide, and a quantile read at a bucket's midpoint is
// within 0.4% of a recorded value.
const (
	subBits  = 7
	subCount = 1 << subBits
)

// histogram records latencies in log-linear buckets, in the manner of an
// HDR histogram: values below subCount nanoseconds get one bucket per
// nanosecond; above that, bucket widths double with each power of two. It
// also keeps the exact count, sum, min and max. The zero value is empty and
// ready. A histogram is not safe for concurrent use: each client records
// into its own and the run merges them at the end.
type histogram struct {
	counts   []uint64
	n        uint64
	sum      time.Duration
	min, max time.Duration
}

// bucketOf returns the bucket index of v nanoseconds (v >= 0).
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketRange returns the lowest value of bucket i and its width, in
// nanoseconds.
func bucketRange(i int) (low, width uint64) {
	if i < subCount {
		return uint64(i), 1
	}
	shift := i/subCount - 1
	top := uint64(subCount + i%subCount)
	return top << shift, 1 << shift
}

// record adds one latency; negative durations count as 0.
func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	i := bucketOf(uint64(d))
	if i >= len(h.counts) {
		grown := make([]uint64, i+1, max(i+1, 2*len(h.counts)))
		copy(grown, h.counts)
		h.counts = grown
	}
	h.counts[i]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// merge adds every value recorded in o to h.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		grown := make([]uint64, len(o.counts))
		copy(grown, h.counts)
		h.counts = grown
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// count is the number of recorded values.
func (h *histogram) count() uint64 { return h.n }

// mean is the exact average, 0 when empty.
func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// quantile returns the q-quantile (0 <= q <= 1): the value of rank
// ceil(q*n) among the n recorded values in ascending order, as the
// midpoint of its bucket clamped to [min, max]. q=0 gives min and q=1
// gives max exactly. An empty histogram gives 0.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if q <= 0 {
		return h.min
	}
	if q >= 1 {
		return h.max
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			low, width := bucketRange(i)
			return h.clamp(time.Duration(low + (width-1)/2))
		}
	}
	return h.max
}

// clamp limits d to [min, max].
func (h *histogram) clamp(d time.Duration) time.Duration {
	return min(max(d, h.min), h.max)
}

// bin is one row of the printed histogram: the values in [From, To]
// (To inclusive for the last bin, exclusive otherwise).
type bin struct {
	From, To time.Duration
	Count    uint64
}

// bins summarises the histogram in n rows with log-spaced bounds from min
// to max (one row when min == max). Each bucket's count goes to the row
// holding the bucket's midpoint, so a row is exact to the bucket width.
// The counts add up to count(). An empty histogram gives no rows.
func (h *histogram) bins(n int) []bin {
	if h.n == 0 || n < 1 {
		return nil
	}
	if h.min == h.max {
		return []bin{{From: h.min, To: h.max, Count: h.n}}
	}
	lo := math.Log(float64(max(h.min, 1)))
	hi := math.Log(float64(h.max))
	out := make([]bin, n)
	for j := range out {
		out[j].From = time.Duration(math.Exp(lo + (hi-lo)*float64(j)/float64(n)))
		out[j].To = time.Duration(math.Exp(lo + (hi-lo)*float64(j+1)/float64(n)))
	}
	out[0].From, out[n-1].To = h.min, h.max
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		low, width := bucketRange(i)
		v := h.clamp(time.Duration(low + (width-1)/2))
		j := n - 1
		for k := 0; k < n-1; k++ {
			if v < out[k].To {
				j = k
				break
			}
		}
		out[j].Count += c
	}
	return out
}
