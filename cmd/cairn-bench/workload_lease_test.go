package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// leaseCount counts the leases granted at endpoint.
func leaseCount(t *testing.T, endpoint string) int {
	t.Helper()
	resp, err := http.Post(endpoint+"/v3/lease/leases", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Leases []struct {
			ID string `json:"ID"`
		} `json:"leases"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatal(err)
	}
	return len(ans.Leases)
}

// testLeaseWorkloads runs lease-grant and lease-keepalive against endpoint.
func testLeaseWorkloads(t *testing.T, endpoint string) {
	before := leaseCount(t, endpoint)
	cfg := DefaultConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.Workload, cfg.Total, cfg.Clients, cfg.LeaseTTL = "lease-grant", 200, 8, 300
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReportAddsUp(t, rep)
	wantClean(t, rep, 200)
	if got := leaseCount(t, endpoint); got != before+200 {
		t.Fatalf("%d leases after 200 grants, had %d", got, before)
	}

	cfg = DefaultConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.Workload, cfg.Total, cfg.Clients, cfg.KeySpaceSize, cfg.SequentialKeys, cfg.LeaseTTL = "lease-keepalive", 300, 8, 50, true, 300
	cfg.KeySize = 2
	rep, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReportAddsUp(t, rep)
	wantClean(t, rep, 300)
	if got := leaseCount(t, endpoint); got != before+250 {
		t.Fatalf("%d leases after lease-keepalive granted 50, want %d", got, before+250)
	}
}

func TestLeaseWorkloadsAgainstEtcd(t *testing.T) { testLeaseWorkloads(t, startEtcd(t)) }

func TestLeaseWorkloadsAgainstCairn(t *testing.T) { testLeaseWorkloads(t, startCairn(t)) }

// TestLeaseChecks: what counts as a success of each lease workload.
func TestLeaseChecks(t *testing.T) {
	grant := &leaseGrantOp{}
	if _, err := grant.check([]byte(`{"header":{},"ID":"7587869","TTL":"60"}`)); err != nil {
		t.Errorf("a grant with an ID: %v", err)
	}
	if _, err := grant.check([]byte(`{"header":{},"TTL":"60"}`)); err == nil {
		t.Error("a grant without an ID passed")
	}
	ka := &leaseKeepAliveOp{prefix: 2, ids: []int64{11, 22, 33}}
	if r := ka.build([]byte("p/02")); string(r.body) != `{"ID":"33"}` || r.path != "/v3/lease/keepalive" {
		t.Errorf("keepalive of key 2: %s %s", r.path, r.body)
	}
	if _, err := ka.check([]byte(`{"result":{"header":{},"ID":"33","TTL":"60"}}` + "\n")); err != nil {
		t.Errorf("a renewed lease: %v", err)
	}
	if _, err := ka.check([]byte(`{"result":{"header":{},"ID":"33"}}` + "\n")); err != errLeaseGone {
		t.Errorf("an expired lease: %v", err)
	}
	if _, err := ka.check([]byte(`{"error":{"grpc_code":14}}`)); err == nil {
		t.Error("a stream error passed")
	}
}

// testLeaseExpiry runs lease-expiry with a few hundred short leases against
// endpoint: every lease key goes, no put fails, and the phases add up.
func testLeaseExpiry(t *testing.T, endpoint string) {
	cfg := DefaultConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.Workload, cfg.Clients, cfg.Leases, cfg.LeaseTTL = "lease-expiry", 4, 300, 2
	cfg.Total, cfg.Duration, cfg.Rate, cfg.LeaseTail = 0, time.Minute, 200, 200*time.Millisecond
	cfg.Prefix, cfg.KeySpaceSize = fmt.Sprintf("expiry-%d/", time.Now().UnixNano()), 100
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkReportAddsUp(t, rep)
	le := rep.LeaseExpiry
	if le == nil || !le.Complete {
		t.Fatalf("lease keys left at the end: %+v", le)
	}
	if rep.Failed != 0 {
		t.Fatalf("puts failed during the expiry: %v", rep.Errors)
	}
	if le.Before.Puts+le.During.Puts+le.After.Puts != rep.Succeeded || le.Before.Puts == 0 || le.After.Puts == 0 {
		t.Fatalf("phases %d + %d + %d, %d puts in all", le.Before.Puts, le.During.Puts, le.After.Puts, rep.Succeeded)
	}
	if n := countPrefix(endpoint, cfg.Prefix+"lease/"); n != 0 {
		t.Fatalf("%d lease keys left", n)
	}
	var b strings.Builder
	le.writeText(&b)
	if !strings.Contains(b.String(), "Puts during the expiry") {
		t.Fatalf("text report: %s", b.String())
	}
}

func TestLeaseExpiryAgainstEtcd(t *testing.T) { testLeaseExpiry(t, startEtcd(t)) }

func TestLeaseExpiryAgainstCairn(t *testing.T) { testLeaseExpiry(t, startCairn(t)) }
