package server

import (
	"sync/atomic"
	"time"
)

// idGenerator hands out request ids that are unique across the members of a
// cluster and across restarts of one member: the low 16 bits of the member id,
// then 40 bits of milliseconds at start, then a counter in the low 8 bits that
// carries into the timestamp (ids run ahead of the clock, never behind it).
type idGenerator struct {
	prefix uint64
	next   atomic.Uint64
}

func newIDGenerator(member uint64, now time.Time) *idGenerator {
	g := &idGenerator{prefix: (member & 0xffff) << 48}
	ms := uint64(now.UnixMilli()) & (1<<40 - 1)
	g.next.Store(ms << 8)
	return g
}

func (g *idGenerator) Next() uint64 {
	return g.prefix | (g.next.Add(1) & (1<<48 - 1))
}
