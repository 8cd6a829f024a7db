package main

import (
	"math/rand/v2"
	"strconv"
)

// keyGen makes the keys of a run: key number i is prefix followed by i in
// decimal, zero-padded to width bytes (key 42 of width 8 is "00000042").
// A keyGen is read-only after construction and safe for concurrent use.
type keyGen struct {
	prefix     []byte
	width      int
	space      uint64
	sequential bool
}

// newKeyGen returns the key generator of cfg.
func newKeyGen(cfg *Config) *keyGen {
	return &keyGen{
		prefix:     []byte(cfg.Prefix),
		width:      cfg.KeySize,
		space:      cfg.KeySpaceSize,
		sequential: cfg.SequentialKeys,
	}
}

// pick returns the key number for request n (numbered from 0 over all
// clients): n mod space for sequential keys, else uniform in [0, space)
// drawn from rng.
func (g *keyGen) pick(n uint64, rng *rand.Rand) uint64 {
	if g.sequential {
		return n % g.space
	}
	return rng.Uint64N(g.space)
}

// appendKey appends key number i to dst and returns the extended slice.
// i must be below 10^width (Config.Validate ensures that for i < space).
func (g *keyGen) appendKey(dst []byte, i uint64) []byte {
	dst = append(dst, g.prefix...)
	var digits [20]byte
	d := strconv.AppendUint(digits[:0], i, 10)
	for n := len(d); n < g.width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}
