package main

import (
	"os"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// TestWorkloadsAgainstEtcd runs every workload against a real etcd 3.4
// member on loopback.
func TestWorkloadsAgainstEtcd(t *testing.T) {
	testWorkloads(t, startEtcd(t))
}

// TestWorkloadsAgainstEndpoint runs the same checks against a server that is
// already running, e.g. cairn:
//
//	CAIRN_BENCH_TEST_ENDPOINT=http://127.0.0.1:2379 go test -run AgainstEndpoint ./cmd/cairn-bench
func TestWorkloadsAgainstEndpoint(t *testing.T) {
	endpoint := os.Getenv("CAIRN_BENCH_TEST_ENDPOINT")
	if endpoint == "" {
		t.Skip("set CAIRN_BENCH_TEST_ENDPOINT to the v3 JSON gateway URL of a running server")
	}
	testWorkloads(t, endpoint)
}

// startEtcd starts a one-member etcd with the v2 API on (testbin.StartEtcd).
func startEtcd(t *testing.T) string {
	t.Helper()
	return testbin.StartEtcd(t, "--enable-v2")
}
