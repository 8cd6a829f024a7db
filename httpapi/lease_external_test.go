package httpapi_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/internal/testmember"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/server"
)

// Leases over a real member: the HTTP API, raft, the lessor and the store.

// startLeaseMember starts a member whose lessor runs on clock and waits
// until it answers keepalives (it leads and times leases).
func startLeaseMember(t *testing.T, clock lessor.Clock) *server.Server {
	t.Helper()
	s := testmember.Start(t, func(cfg *server.Config) {
		cfg.LeaseClock = clock
		cfg.LeaseCheckInterval = 5 * time.Millisecond
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.LeaseKeepAlive(ctx, &cairn.LeaseKeepAliveRequest{ID: 1}); err != nil {
		t.Fatalf("the member never answered a keepalive: %v", err)
	}
	return s
}

// field digs a string field out of a JSON answer: path names nested objects.
func field(t *testing.T, body string, path ...string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

// TestMemberLeaseLifecycle: grant, attach, keep alive, expire, over HTTP and
// a real member whose lease clock the test moves.
func TestMemberLeaseLifecycle(t *testing.T) {
	clock := lessor.NewManualClock()
	ts := httpapi.ServeBackend(t, startLeaseMember(t, clock), httpapi.Config{})

	status, body := ts.Post("/v3/lease/grant", `{"TTL":10}`)
	id := field(t, body, "ID")
	if status != 200 || field(t, body, "TTL") != "10" || id == "" || strings.HasPrefix(id, "-") {
		t.Fatalf("grant: %d %s", status, body)
	}
	for _, k := range []string{"YQ==", "Yg=="} {
		if status, body := ts.Post("/v3/kv/put", `{"key":"`+k+`","value":"dg==","lease":"`+id+`"}`); status != 200 {
			t.Fatalf("put: %d %s", status, body)
		}
	}
	status, body = ts.Post("/v3/kv/put", `{"key":"Yw==","value":"dg=="}`)
	if status != 200 {
		t.Fatalf("put without a lease: %d %s", status, body)
	}
	rev, _ := strconv.Atoi(field(t, body, "header", "revision"))
	if status != 200 || rev == 0 {
		t.Fatalf("put without a lease: %d %s", status, body)
	}

	clock.Advance(7 * time.Second)
	status, body = ts.Post("/v3/lease/timetolive", `{"ID":"`+id+`","keys":true}`)
	if status != 200 || field(t, body, "TTL") != "3" || field(t, body, "grantedTTL") != "10" || !strings.Contains(body, `"keys":["YQ==","Yg=="]`) {
		t.Fatalf("timetolive 7s after the grant: %d %s", status, body)
	}
	status, body = ts.Post("/v3/lease/keepalive", `{"ID":"`+id+`"}`)
	if status != 200 || field(t, strings.TrimSpace(body), "result", "TTL") != "10" {
		t.Fatalf("keepalive: %d %s", status, body)
	}
	clock.Advance(7 * time.Second) // 14s after the grant, 7s after the keepalive
	if status, body = ts.Post("/v3/kv/range", `{"key":"YQ==","range_end":"Yw==","count_only":true}`); field(t, body, "count") != "2" {
		t.Fatalf("keys gone before their lease expired: %d %s", status, body)
	}

	clock.Advance(3 * time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, body = ts.Post("/v3/kv/range", `{"key":"YQ==","range_end":"Yw==","count_only":true}`)
		if status != 200 {
			t.Fatalf("range while waiting for the expiry: %d %s", status, body)
		}
		if field(t, body, "count") == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease never expired: %s", body)
		}
		time.Sleep(time.Millisecond)
	}
	// Both keys went in one revision, the one after the last put.
	if got := field(t, body, "header", "revision"); got != strconv.Itoa(rev+1) {
		t.Fatalf("revision after the expiry %s, want %d", got, rev+1)
	}
	if status, body = ts.Post("/v3/lease/timetolive", `{"ID":"`+id+`"}`); field(t, body, "TTL") != "-1" {
		t.Fatalf("timetolive of the expired lease: %d %s", status, body)
	}
	if status, body = ts.Post("/v3/lease/leases", ``); strings.Contains(body, "leases") {
		t.Fatalf("leases after the expiry: %d %s", status, body)
	}
}

func TestMemberKeepAliveCompareWithEtcd(t *testing.T) {
	s := startLeaseMember(t, lessor.NewManualClock())
	httpapi.CompareKeepAliveWithEtcd(t, httpapi.ServeBackend(t, s, httpapi.Config{}))
}
