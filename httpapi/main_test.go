package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaks a goroutine (a
// handler, a store's compactor, an HTTP connection).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
