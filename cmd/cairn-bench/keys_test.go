package main

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAppendKeyPadsToKeySizeAfterPrefix(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		width  int
		i      uint64
		want   string
	}{
		{"", 8, 0, "00000000"},
		{"", 8, 42, "00000042"},
		{"", 3, 999, "999"},
		{"", 1, 7, "7"},
		{"bench/", 8, 12345678, "bench/12345678"},
		{"p", 20, 18446744073709551615, "p18446744073709551615"},
	} {
		g := &keyGen{prefix: []byte(tc.prefix), width: tc.width, space: 1}
		if got := string(g.appendKey([]byte("junk"), tc.i)); got != "junk"+tc.want {
			t.Errorf("appendKey(%q, width %d, %d) = %q, want %q", tc.prefix, tc.width, tc.i, got, "junk"+tc.want)
		}
	}
}

func TestSequentialKeysCycleThroughTheSpace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeySpaceSize, cfg.SequentialKeys, cfg.KeySize = 5, true, 2
	g := newKeyGen(&cfg)
	var got []string
	for n := uint64(0); n < 12; n++ {
		got = append(got, string(g.appendKey(nil, g.pick(n, nil))))
	}
	want := "00 01 02 03 04 00 01 02 03 04 00 01"
	if strings.Join(got, " ") != want {
		t.Fatalf("keys %v, want %s", got, want)
	}
}

func TestRandomKeysAreUniformInTheSpace(t *testing.T) {
	cfg := DefaultConfig()
	cfg.KeySpaceSize = 10
	g := newKeyGen(&cfg)
	rng := rand.New(rand.NewPCG(1, 1))
	const draws = 100000
	var seen [10]int
	for n := uint64(0); n < draws; n++ {
		i := g.pick(n, rng)
		if i >= 10 {
			t.Fatalf("key number %d outside [0, 10)", i)
		}
		seen[i]++
	}
	// Each key should get draws/10 = 10000; the standard deviation is ~95,
	// so 5% (500) is over five deviations and a skewed picker still fails.
	for i, n := range seen {
		if n < 9500 || n > 10500 {
			t.Errorf("key %d drawn %d times of %d, want about %d", i, n, draws, draws/10)
		}
	}
}
