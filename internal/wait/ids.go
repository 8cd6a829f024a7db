package wait

import (
	"sync/atomic"
	"time"
)

// IDGenerator hands out request ids that are unique across the members of a
// cluster and across restarts of one member: the low 16 bits of the member id,
// then 40 bits of milliseconds at start, then a counter in the low 8 bits that
// carries into the timestamp (ids run ahead of the clock, never behind it).
type IDGenerator struct {
	prefix uint64
	next   atomic.Uint64
}

// NewIDGenerator returns the generator of member, started at now.
func NewIDGenerator(member uint64, now time.Time) *IDGenerator {
	g := &IDGenerator{prefix: (member & 0xffff) << 48}
	ms := uint64(now.UnixMilli()) & (1<<40 - 1)
	g.next.Store(ms << 8)
	return g
}

// Next returns a new request id; safe for concurrent use.
func (g *IDGenerator) Next() uint64 {
	return g.prefix | (g.next.Add(1) & (1<<48 - 1))
}
