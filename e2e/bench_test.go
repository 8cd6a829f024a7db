package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
)

type benchReport struct {
	Total     int64            `json:"total"`
	Succeeded int64            `json:"succeeded"`
	Failed    int64            `json:"failed"`
	Errors    map[string]int64 `json:"errors"`
	OpsPerSec float64          `json:"ops_per_second"`
}

// TestLoadToolAgainstCairn runs every cairn-bench workload against a real
// member and checks that nothing failed and the writes landed.
func TestLoadToolAgainstCairn(t *testing.T) {
	m := startMember(t, t.TempDir())
	run := func(args ...string) benchReport {
		t.Helper()
		args = append(args, "--endpoints", m.url, "--output", "json")
		out, err := exec.Command(filepath.Join(binDir, "cairn-bench"), args...).Output()
		if err != nil {
			t.Fatalf("cairn-bench %v: %v\n%s", args, err, out)
		}
		var r benchReport
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("cairn-bench %v: %v\n%s", args, err, out)
		}
		if r.Failed != 0 || r.Succeeded != r.Total {
			t.Fatalf("cairn-bench %v: %d of %d failed: %v", args, r.Failed, r.Total, r.Errors)
		}
		return r
	}
	run("put", "--clients", "16", "--total", "800", "--val-size", "256", "--key-space-size", "200",
		"--sequential-keys", "--prefix", "bench/")
	got, err := m.rangePrefix(context.Background(), "bench/")
	if err != nil {
		t.Fatal(err)
	}
	if atoi(t, got.Count) != 200 {
		t.Fatalf("%s keys after 800 sequential puts over 200 keys, want 200", got.Count)
	}
	var versions int64
	for _, kv := range got.Kvs {
		versions += atoi(t, kv.Version)
		if len(unb64(t, kv.Value)) != 256 {
			t.Fatalf("%s: value of %d bytes, want 256", unb64(t, kv.Key), len(unb64(t, kv.Value)))
		}
	}
	if versions != 800 {
		t.Fatalf("versions add up to %d, want 800 (one per acknowledged put)", versions)
	}
	for _, c := range []string{"l", "s"} {
		run("range", "--consistency", c, "--clients", "8", "--total", "400", "--key-space-size", "200",
			"--prefix", "bench/")
	}
	run("txn-put", "--clients", "8", "--total", "400", "--key-space-size", "100", "--prefix", "txn/")
}
