package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// exactQuantile is the reference: the value of rank ceil(q*n) in sorted.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q * float64(len(sorted))))
	rank = max(rank, 1)
	return sorted[rank-1]
}

// lognormal returns n latencies around 1ms with a long tail, from a fixed seed.
func lognormal(n int, seed uint64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(math.Exp(rng.NormFloat64()*1.2) * float64(time.Millisecond))
	}
	return out
}

func TestBucketsCoverEveryValueWithBoundedWidth(t *testing.T) {
	values := []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 12345, 1e9, 3e11, 1<<62 + 5}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range values {
		i := bucketOf(v)
		low, width := bucketRange(i)
		if v < low || v-low >= width {
			t.Fatalf("value %d in bucket %d = [%d, %d+%d)", v, i, low, low, width)
		}
		if width > 1 && width > low/subCount {
			t.Fatalf("bucket %d of %d is %d wide, more than 1/%d of %d", i, v, width, subCount, low)
		}
	}
	// Consecutive buckets tile the line with no gap or overlap.
	for i := 0; i < 40*subCount; i++ {
		low, width := bucketRange(i)
		next, _ := bucketRange(i + 1)
		if low+width != next {
			t.Fatalf("bucket %d ends at %d, bucket %d starts at %d", i, low+width, i+1, next)
		}
	}
}

func TestQuantilesMatchExactWithinHalfAPercent(t *testing.T) {
	for _, n := range []int{1, 2, 7, 100, 1000, 50000} {
		samples := lognormal(n, uint64(n))
		var h histogram
		var sum time.Duration
		for _, d := range samples {
			h.record(d)
			sum += d
		}
		sorted := slices.Clone(samples)
		slices.Sort(sorted)
		if h.count() != uint64(n) {
			t.Fatalf("n=%d: count %d", n, h.count())
		}
		if h.quantile(0) != sorted[0] || h.quantile(1) != sorted[n-1] {
			t.Fatalf("n=%d: min/max %v/%v, want %v/%v", n, h.quantile(0), h.quantile(1), sorted[0], sorted[n-1])
		}
		if h.mean() != sum/time.Duration(n) {
			t.Fatalf("n=%d: mean %v, want %v", n, h.mean(), sum/time.Duration(n))
		}
		for _, q := range []float64{0.001, 0.1, 0.5, 0.9, 0.99, 0.999} {
			got, want := h.quantile(q), exactQuantile(sorted, q)
			if rel := math.Abs(float64(got-want)) / float64(want); rel > 0.005 {
				t.Errorf("n=%d q=%v: got %v, exact %v (off by %.2f%%)", n, q, got, want, 100*rel)
			}
		}
	}
}

func TestSmallValuesAreExact(t *testing.T) {
	var h histogram
	for v := time.Duration(100); v >= 1; v-- {
		h.record(v)
	}
	for _, q := range []float64{0.01, 0.5, 0.9, 0.99} {
		if got, want := h.quantile(q), time.Duration(math.Ceil(q*100)); got != want {
			t.Errorf("q=%v: got %v, want %v", q, got, want)
		}
	}
}

func TestMergeEqualsRecordingEverythingInOne(t *testing.T) {
	samples := lognormal(20000, 3)
	var whole histogram
	parts := make([]histogram, 5)
	for i, d := range samples {
		whole.record(d)
		parts[i%len(parts)].record(d)
	}
	var merged histogram
	merged.merge(&histogram{}) // an empty part changes nothing
	for i := range parts {
		merged.merge(&parts[i])
	}
	if merged.count() != whole.count() || merged.mean() != whole.mean() {
		t.Fatalf("merged count/mean %d/%v, whole %d/%v", merged.count(), merged.mean(), whole.count(), whole.mean())
	}
	for _, q := range []float64{0, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
		if merged.quantile(q) != whole.quantile(q) {
			t.Errorf("q=%v: merged %v, whole %v", q, merged.quantile(q), whole.quantile(q))
		}
	}
}

func TestBinsAddUpAndSpanMinToMax(t *testing.T) {
	var h histogram
	if h.bins(10) != nil || h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Fatal("empty histogram is not empty")
	}
	h.record(5 * time.Millisecond)
	h.record(5 * time.Millisecond)
	if b := h.bins(10); len(b) != 1 || b[0].Count != 2 || b[0].From != 5*time.Millisecond || b[0].To != 5*time.Millisecond {
		t.Fatalf("one distinct value: bins %+v", b)
	}

	samples := lognormal(10000, 4)
	h = histogram{}
	for _, d := range samples {
		h.record(d)
	}
	bins := h.bins(12)
	if len(bins) != 12 || bins[0].From != h.quantile(0) || bins[11].To != h.quantile(1) {
		t.Fatalf("bins %+v do not span [%v, %v]", bins, h.quantile(0), h.quantile(1))
	}
	var total uint64
	for i, b := range bins {
		total += b.Count
		if b.To <= b.From || (i > 0 && b.From != bins[i-1].To) {
			t.Fatalf("bin %d %+v does not follow %+v", i, b, bins[max(i-1, 0)])
		}
		// Each bin holds about the samples in it (exact up to bucket width).
		var exact uint64
		for _, d := range samples {
			if d >= b.From && (d < b.To || i == len(bins)-1) {
				exact++
			}
		}
		if diff := math.Abs(float64(exact) - float64(b.Count)); diff > 0.02*float64(len(samples)) {
			t.Errorf("bin %d [%v, %v): %d, exact %d", i, b.From, b.To, b.Count, exact)
		}
	}
	if total != h.count() {
		t.Fatalf("bins hold %d, histogram %d", total, h.count())
	}
}
