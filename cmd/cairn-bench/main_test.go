package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves goroutines behind (a run must
// stop every client and close its connections).
func TestMain(m *testing.M) {
	if os.Getenv(trivialServerEnv) != "" {
		serveTrivial() // BenchmarkClientCPU's server process
	}
	goleak.VerifyTestMain(m)
}
