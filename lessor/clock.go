package lessor

import (
	"sync"
	"time"
)

// Clock is the lessor's time source. Now must be monotonic (time.Now's
// values are: they carry a monotonic reading). Tests inject a ManualClock
// and advance it by hand instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock's monotonic reading, the default Clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when Advance is called, for tests
// and simulations of lease expiry. It is safe for concurrent use; the zero
// value is not ready: use NewManualClock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a ManualClock that starts at time.Now().
func NewManualClock() *ManualClock { return &ManualClock{now: time.Now()} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
