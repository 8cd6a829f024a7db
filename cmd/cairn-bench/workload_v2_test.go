package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// v2DirSize lists the direct children of the v2 directory dir (no leading
// slash) at endpoint.
func v2DirSize(t *testing.T, endpoint, dir string) int {
	t.Helper()
	resp, err := testHTTP.Get(endpoint + "/v2/keys/" + dir)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Node struct {
			Dir   bool              `json:"dir"`
			Nodes []json.RawMessage `json:"nodes"`
		} `json:"node"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 || !ans.Node.Dir {
		t.Fatalf("GET %s: status %d, err %v, answer %+v", dir, resp.StatusCode, err, ans)
	}
	return len(ans.Node.Nodes)
}

// testV2Workloads runs v2-set, v2-get and v2-cas over 40 keys at endpoint
// through the given HTTP client. v2-set's first round creates each key
// (201), its second replaces it (200); every get must find its key and
// every compare-and-swap must find the value v2-set wrote.
func testV2Workloads(t *testing.T, endpoint, client string) {
	dir := fmt.Sprintf("cairn-bench-v2-test/%d", time.Now().UnixNano())
	bench := func(workload, consistency string, total int64) {
		t.Helper()
		cfg := DefaultConfig()
		cfg.Endpoints, cfg.Seed, cfg.HTTPClient = []string{endpoint}, testSeed, client
		cfg.Workload, cfg.Prefix, cfg.SequentialKeys, cfg.KeySpaceSize, cfg.KeySize = workload, dir+"/", true, 40, 2
		cfg.Total, cfg.Clients, cfg.Conns, cfg.ValSize = total, 6, 3, 64
		if consistency != "" {
			cfg.Consistency = consistency
		}
		rep, err := Run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkReportAddsUp(t, rep)
		wantClean(t, rep, uint64(total))
		if rep.HTTPClient != client {
			t.Errorf("report names the %q client, want %q", rep.HTTPClient, client)
		}
	}
	bench("v2-set", "", 80)
	if n := v2DirSize(t, endpoint, dir); n != 40 {
		t.Fatalf("%d keys in %s after v2-set, want 40", n, dir)
	}
	bench("v2-get", "l", 80)
	bench("v2-get", "s", 40)
	bench("v2-cas", "", 80)
}

func TestV2WorkloadsAgainstCairn(t *testing.T) {
	ep := startCairn(t)
	for _, client := range []string{"raw", "std"} {
		t.Run(client, func(t *testing.T) { testV2Workloads(t, ep, client) })
	}
}

func TestV2WorkloadsAgainstEtcd(t *testing.T) {
	ep := startEtcd(t)
	for _, client := range []string{"raw", "std"} {
		t.Run(client, func(t *testing.T) { testV2Workloads(t, ep, client) })
	}
}
