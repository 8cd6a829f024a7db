package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hashKV asks m for /v3/maintenance/hashkv at rev.
func (m *member) hashKV(t testing.TB, rev int64) (hash uint64, compact int64) {
	t.Helper()
	var out struct {
		Hash            uint64 `json:"hash"`
		CompactRevision string `json:"compact_revision"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := m.call(ctx, "/v3/maintenance/hashkv", map[string]any{"revision": strconv.FormatInt(rev, 10)}, &out)
		cancel()
		if err == nil {
			return out.Hash, atoi(t, out.CompactRevision)
		}
		// A member that has not applied rev yet answers "future revision".
		if time.Now().After(deadline) {
			t.Fatalf("hashkv at %d on %s: %v", rev, m.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cairnCmd runs the cairn binary with args and returns its output.
func cairnCmd(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "cairn"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cairn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// A backup of a live member (cairn snapshot save) restores into a new
// 3-member cluster (cairn snapshot restore on each data dir): the new
// cluster holds the same history (hashkv equal at the same revision), takes
// writes, and its members agree.
func TestClusterBackupAndRestore(t *testing.T) {
	c := startCluster(t, 3)
	for i := 0; i < 300; i++ {
		c.members[i%3].putRetry(t, fmt.Sprintf("b/%03d", i), fmt.Sprint(i))
	}
	rev := c.members[0].revision(t)
	file := filepath.Join(t.TempDir(), "backup.db")
	out := cairnCmd(t, "snapshot", "save", file, "--endpoints", c.members[1].url)
	if !strings.Contains(out, "Snapshot saved at "+file) {
		t.Fatalf("snapshot save said: %s", out)
	}
	if fi, err := os.Stat(file); err != nil || fi.Size()%512 != 32 {
		t.Fatalf("backup file: %v %v (want pages plus a 32-byte SHA-256)", fi, err)
	}
	want, _ := c.members[0].hashKV(t, rev)

	// Restore into a new cluster with new names, ports and token.
	r := &cluster{t: t, token: "restored"}
	var initial []string
	for i := 0; i < 3; i++ {
		m := &cmember{name: fmt.Sprintf("r%d", i), peerURL: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
		r.members = append(r.members, m)
		initial = append(initial, m.name+"="+m.peerURL)
	}
	ic := strings.Join(initial, ",")
	dirs := map[*cmember]string{}
	for _, m := range r.members {
		dirs[m] = filepath.Join(t.TempDir(), m.name)
		out := cairnCmd(t, "snapshot", "restore", file, "--data-dir", dirs[m], "--name", m.name,
			"--initial-cluster", ic, "--initial-cluster-token", r.token)
		if !strings.Contains(out, "Restored") {
			t.Fatalf("restore said: %s", out)
		}
	}
	// Restoring into a data dir that holds a member is refused.
	bad, err := exec.Command(filepath.Join(binDir, "cairn"), "snapshot", "restore", file, "--data-dir", dirs[r.members[0]],
		"--name", "r0", "--initial-cluster", ic).CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "already holds") {
		t.Fatalf("restore over a member: %v %s", err, bad)
	}
	for _, m := range r.members {
		if !r.launch(m, ic, "new", dirs[m]) {
			t.Skip("peer port taken")
		}
	}
	for _, m := range r.members {
		m.waitReady()
	}
	for _, m := range r.members {
		n, err := m.countPrefix(context.Background(), "b/", false)
		if err != nil || n != 300 {
			t.Fatalf("restored %s holds %d keys (%v)", m.name, n, err)
		}
		if got, _ := m.hashKV(t, rev); got != want {
			t.Fatalf("restored %s: hashkv at %d is %d, the original's %d", m.name, rev, got, want)
		}
	}
	next := r.members[2].putRetry(t, "after-restore", "x")
	if next <= rev {
		t.Fatalf("first write after the restore at revision %d, the backup was at %d", next, rev)
	}
	// The restored members form their own cluster: 3 members, new names.
	list, err := r.members[0].members(t, "list", map[string]any{})
	if err != nil || len(list.Members) != 3 || !strings.HasPrefix(list.Members[0].Name, "r") {
		t.Fatalf("restored cluster members: %+v %v", list, err)
	}
}
