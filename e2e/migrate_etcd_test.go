package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// postJSON posts body to url+path and decodes a 200 answer into out.
func postJSON(t testing.TB, url, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s%s: %v", url, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s%s %s: HTTP %d %s", url, path, b, resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("%s%s: %v in %s", url, path, err, data)
	}
}

// etcdView is what a v3 client sees of a keyspace: every key now, every
// key at an older revision, and the leases with their granted TTLs and keys.
type etcdView struct {
	Rev    string
	Now    []kv
	Before []kv
	Leases map[string]string // ID -> grantedTTL
	Keys   map[string][]string
}

func viewOf(t testing.TB, url string, before int64) etcdView {
	t.Helper()
	all := map[string]any{"key": b64("\x00"), "range_end": b64("\x00")}
	var now, old rangeResult
	postJSON(t, url, "/v3/kv/range", all, &now)
	all["revision"] = fmt.Sprint(before)
	postJSON(t, url, "/v3/kv/range", all, &old)
	var ls struct {
		Leases []struct {
			ID string `json:"ID"`
		} `json:"leases"`
	}
	postJSON(t, url, "/v3/lease/leases", map[string]any{}, &ls)
	v := etcdView{Rev: now.Header.Revision, Now: now.Kvs, Before: old.Kvs, Leases: map[string]string{}, Keys: map[string][]string{}}
	for _, l := range ls.Leases {
		var ttl struct {
			GrantedTTL string   `json:"grantedTTL"`
			Keys       []string `json:"keys"`
		}
		postJSON(t, url, "/v3/lease/timetolive", map[string]any{"ID": l.ID, "keys": true}, &ttl)
		v.Leases[l.ID], v.Keys[l.ID] = ttl.GrantedTTL, ttl.Keys
	}
	return v
}

// An etcd 3.4 snapshot (etcdctl snapshot save) restores into cairn with
// every key, value, revision, version and lease as etcd had them: the
// history that etcd kept (after a compaction) reads the same at an older
// revision, reads below the compaction fail as they did in etcd, the v2
// API shows the keys with their revisions as indexes, and the next write
// takes the next revision.
func TestMigrateFromEtcdSnapshot(t *testing.T) {
	etcdctl := testbin.Need(t, "etcdctl")
	etcdURL := testbin.StartEtcd(t)
	put := func(k, v string, lease string) {
		body := map[string]any{"key": b64(k), "value": b64(v)}
		if lease != "" {
			body["lease"] = lease
		}
		var out struct{}
		postJSON(t, etcdURL, "/v3/kv/put", body, &out)
	}
	var grant struct {
		ID string `json:"ID"`
	}
	postJSON(t, etcdURL, "/v3/lease/grant", map[string]any{"TTL": "600"}, &grant)
	put("/app/a", "1", "")
	put("/app/b", "x", "")
	put("/app/a", "2", "")
	put("/gone", "soon", "")
	var del struct{}
	postJSON(t, etcdURL, "/v3/kv/deleterange", map[string]any{"key": b64("/gone")}, &del)
	put("plain-v3-key", "no slash", "")
	var compacted struct {
		Header header `json:"header"`
	}
	postJSON(t, etcdURL, "/v3/kv/range", map[string]any{"key": b64("/app/a")}, &compacted)
	compactAt := atoi(t, compacted.Header.Revision)
	postJSON(t, etcdURL, "/v3/kv/compaction", map[string]any{"revision": fmt.Sprint(compactAt), "physical": true}, &del)
	put("/app/a", "3", "")
	put("/app/leased", "held", grant.ID)
	var txn struct{}
	postJSON(t, etcdURL, "/v3/kv/txn", map[string]any{"success": []any{
		map[string]any{"request_put": map[string]any{"key": b64("/app/t1"), "value": b64("t")}},
		map[string]any{"request_put": map[string]any{"key": b64("/app/t2"), "value": b64("t")}},
	}}, &txn)
	put("/app/b", "y", "")
	before := compactAt + 2 // after the compaction: a's "3" and the leased key, not the txn
	want := viewOf(t, etcdURL, before)

	file := filepath.Join(t.TempDir(), "etcd.snapshot.db")
	cmd := exec.Command(etcdctl, "--endpoints", etcdURL, "snapshot", "save", file)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("etcdctl snapshot save: %v\n%s", err, out)
	}

	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	dir := filepath.Join(t.TempDir(), "m1")
	out := cairnCmd(t, "snapshot", "restore", file, "--data-dir", dir, "--name", "m1", "--initial-cluster", "m1="+peer)
	if !strings.Contains(out, "Restored") {
		t.Fatalf("restore said: %s", out)
	}
	m := startMember(t, dir, "--name", "m1", "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer)
	got := viewOf(t, m.url, before)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cairn after the migration:\n%+v\netcd before it:\n%+v", got, want)
	}
	if len(want.Now) != 6 || len(want.Leases) != 1 || len(want.Keys[grant.ID]) != 1 {
		t.Fatalf("the etcd data is not what the test wrote: %+v", want)
	}

	// Below the compaction: etcd's error, on cairn too.
	resp, err := http.Post(m.url+"/v3/kv/range", "application/json",
		strings.NewReader(fmt.Sprintf(`{"key":%q,"revision":"%d"}`, b64("/app/a"), compactAt-1)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "required revision has been compacted") {
		t.Fatalf("range below the compaction: %d %s", resp.StatusCode, body)
	}
	// The v2 view of the same keys: indexes are the revisions.
	code, ev := v2Do(t, http.MethodGet, m.url+"/v2/keys/app/a", "")
	var a kv
	for _, k := range want.Now {
		if unb64(t, k.Key) == "/app/a" {
			a = k
		}
	}
	if code != http.StatusOK || ev.Node.Value != "3" || fmt.Sprint(ev.Node.ModifiedIndex) != a.ModRevision ||
		fmt.Sprint(ev.Node.CreatedIndex) != a.CreateRevision {
		t.Fatalf("v2 GET /app/a: %d %+v; v3 had %+v", code, ev, a)
	}
	if code, ev := v2Do(t, http.MethodGet, m.url+"/v2/keys/app", ""); code != http.StatusOK || len(ev.Node.Nodes) != 5 {
		t.Fatalf("v2 GET /app: %d %+v", code, ev)
	}
	// The next write continues etcd's revisions.
	next, err := m.put(context.Background(), "/after", "x")
	if err != nil || fmt.Sprint(next-1) != want.Rev {
		t.Fatalf("first write after the migration at revision %d (%v); etcd was at %s", next, err, want.Rev)
	}
}
