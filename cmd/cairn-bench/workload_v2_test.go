package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// v2Dir lists the direct children of the v2 directory dir (no leading
// slash) at endpoint.
func v2Dir(t *testing.T, endpoint, dir string) []v2File {
	t.Helper()
	resp, err := testHTTP.Get(endpoint + "/v2/keys/" + dir)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Node struct {
			Dir   bool     `json:"dir"`
			Nodes []v2File `json:"nodes"`
		} `json:"node"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil || resp.StatusCode != 200 || !ans.Node.Dir {
		t.Fatalf("GET %s: status %d, err %v, answer %+v", dir, resp.StatusCode, err, ans)
	}
	return ans.Node.Nodes
}

type v2File struct {
	Key   string `json:"key"`
	Value string `json:"value"`
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
	files := v2Dir(t, endpoint, dir)
	if len(files) != 40 {
		t.Fatalf("%d keys in %s after v2-set, want 40", len(files), dir)
	}
	// The value is text: 64 letters and digits, the same in every key.
	if v := files[0].Value; len(v) != 64 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" ||
		files[39].Value != v {
		t.Errorf("v2-set wrote %q to %s and %q to %s; want the same 64 letters and digits", v, files[0].Key, files[39].Value, files[39].Key)
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
