package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves goroutines behind (a run must
// stop every client and close its connections).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
