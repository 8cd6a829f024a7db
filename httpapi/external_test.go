package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/internal/testmember"
	"github.com/cairnkv/cairn/server"
)

// The HTTP API over a real member (package server: raft, WAL, store), the
// way cmd/cairn wires it.

var _ httpapi.Backend = (*server.Server)(nil)

// startMember starts a new one-member cluster in a temp dir and waits until
// it answers a linearizable read.
func startMember(t *testing.T) *server.Server { return startMemberWith(t, nil) }

// startMemberWith is startMember with the configuration changed by edit
// (when not nil).
func startMemberWith(t *testing.T, edit func(*server.Config)) *server.Server {
	return testmember.Start(t, edit)
}

func TestMemberCompareWithEtcd(t *testing.T) {
	httpapi.CompareWithEtcd(t, httpapi.ServeBackend(t, startMember(t), httpapi.Config{}))
}

// TestMemberRequestTooLargeBoundary: etcd 3.4.23 accepts a 1572838-byte value
// under the key "foo" at the default --max-request-bytes and refuses one
// byte more; so must the member behind the HTTP API.
func TestMemberRequestTooLargeBoundary(t *testing.T) {
	ts := httpapi.ServeBackend(t, startMember(t), httpapi.Config{})
	put := func(n int) (int, string) {
		v := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", n)))
		return ts.Post("/v3/kv/put", fmt.Sprintf(`{"key":"Zm9v","value":%q}`, v))
	}
	if status, body := put(1572838); status != 200 {
		t.Errorf("a 1572838-byte value: %d %s; etcd accepts it", status, body)
	}
	if status, body := put(1572839); status != 400 || !strings.Contains(body, "etcdserver: request is too large") {
		t.Errorf("a 1572839-byte value: %d %s; etcd refuses it as too large", status, body)
	}
}
