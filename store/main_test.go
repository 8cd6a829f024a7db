package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (a
// compactor of a store that was not closed, say).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
