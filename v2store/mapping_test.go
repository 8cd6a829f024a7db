package v2store

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// TestV3KeysInTheTree checks what v2 shows of keys written by v3 clients:
// implicit directories, a key that is both a file and a prefix of others
// (a directory for v2), keys v2 cannot name (left out), /foo vs /foobar.
func TestV3KeysInTheTree(t *testing.T) {
	h := newHarness(t, "")
	h.v3put("/app/db/host", "h")   // 2
	h.v3put("/app/db", "conflict") // 3: a file with keys under it
	h.v3put("/foobar", "fb")       // 4
	h.v3put("/foo/x", "x")         // 5
	h.v3put("nolead", "n")         // 6: outside the tree
	h.v3put("/foo//y", "y")        // 7: empty segment
	h.v3put("/foo/", "slash")      // 8: trailing slash
	runSteps(t, h, []step{
		{name: "root", get: "/",
			want: `{"action":"get","node":{"dir":true,"nodes":[{"key":"/app","dir":true},{"key":"/foo","dir":true},{"key":"/foobar","value":"fb","modifiedIndex":4,"createdIndex":4}]}}`},
		{name: "file and prefix is a dir", get: "/app", rec: true,
			want: `{"action":"get","node":{"key":"/app","dir":true,"nodes":[{"key":"/app/db","dir":true,"nodes":[{"key":"/app/db/host","value":"h","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":3,"createdIndex":3}]}}`},
		{name: "its get", get: "/app/db",
			want: `{"action":"get","node":{"key":"/app/db","dir":true,"nodes":[{"key":"/app/db/host","value":"h","modifiedIndex":2,"createdIndex":2}],"modifiedIndex":3,"createdIndex":3}}`},
		{name: "not /foobar under /foo", get: "/foo",
			want: `{"action":"get","node":{"key":"/foo","dir":true,"nodes":[{"key":"/foo/x","value":"x","modifiedIndex":5,"createdIndex":5}]}}`},
		{name: "writing the conflicting key as a file", req: &Request{Method: MethodPut, Path: "/app/db", Value: "v"},
			want: `{"errorCode":102,"message":"Not a file","cause":"/app/db","index":8}`},
		{name: "writing under it", req: &Request{Method: MethodPut, Path: "/app/db/port", Value: "1"},
			want: `{"action":"set","node":{"key":"/app/db/port","value":"1","modifiedIndex":9,"createdIndex":9}}`},
		{name: "rm -r of an implicit dir", req: &Request{Method: MethodDelete, Path: "/foo", Recursive: true},
			want: `{"action":"delete","node":{"key":"/foo","dir":true,"modifiedIndex":10},"prevNode":{"key":"/foo","dir":true}}`},
	})
	// The rm -r took the v3 keys under /foo/ that v2 could not name too,
	// but neither /foobar nor keys outside the tree.
	rr, err := h.s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, kv := range rr.Kvs {
		keys = append(keys, string(kv.Key))
	}
	if got, want := keys, []string{"/app/db", "/app/db/host", "/app/db/port", "/foobar", "nolead"}; !equal(got, want) {
		t.Errorf("keys after rm -r /foo: %q, want %q", got, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestV2KeysForV3: a v2 file is the v3 key of the same bytes, its value
// the same bytes; directories are keys with the dir flag and no value.
func TestV2KeysForV3(t *testing.T) {
	h := newHarness(t, "")
	h.apply(&Request{Method: MethodPut, Path: "/a/b/c", Value: "v"})
	rr, err := h.s.Range(&cairn.RangeRequest{Key: []byte("/"), RangeEnd: []byte("0")})
	if err != nil {
		t.Fatal(err)
	}
	type kv struct {
		key, value string
		dir        bool
		action     cairn.Action
	}
	want := []kv{{"/a", "", true, cairn.ActionImplied}, {"/a/b", "", true, cairn.ActionImplied}, {"/a/b/c", "v", false, cairn.ActionSet}}
	if len(rr.Kvs) != len(want) {
		t.Fatalf("%d keys, want %d", len(rr.Kvs), len(want))
	}
	for i, k := range rr.Kvs {
		if got := (kv{string(k.Key), string(k.Value), k.Dir, k.Action}); got != want[i] {
			t.Errorf("key %d: %+v, want %+v", i, got, want[i])
		}
		if k.ModRevision != 2 {
			t.Errorf("key %q at revision %d: one v2 write is one revision (2)", k.Key, k.ModRevision)
		}
	}
}

// TestPrefix: with --v2-prefix the v2 tree lives under the prefix and
// does not see the rest.
func TestPrefix(t *testing.T) {
	h := newHarness(t, "/v2")
	h.v3put("/outside", "o")
	h.v3put("/v2x", "not under the prefix's tree")
	runSteps(t, h, []step{
		{name: "set", req: &Request{Method: MethodPut, Path: "/k", Value: "1"},
			want: `{"action":"set","node":{"key":"/k","value":"1","modifiedIndex":4,"createdIndex":4}}`},
		{name: "root", get: "/",
			want: `{"action":"get","node":{"dir":true,"nodes":[{"key":"/k","value":"1","modifiedIndex":4,"createdIndex":4}]}}`},
	})
	rr, err := h.s.Range(&cairn.RangeRequest{Key: []byte("/v2/k")})
	if err != nil || len(rr.Kvs) != 1 || string(rr.Kvs[0].Value) != "1" {
		t.Fatalf("v3 key /v2/k: %v %+v", err, rr)
	}
}

// TestErrorsWriteNothing: every refused write leaves the store's revision
// and keys as they were.
func TestErrorsWriteNothing(t *testing.T) {
	h := newHarness(t, "")
	h.apply(&Request{Method: MethodPut, Path: "/f", Value: "1"})
	h.apply(&Request{Method: MethodPut, Path: "/d/x", Value: "1"})
	rev := h.s.Rev()
	for _, req := range []*Request{
		{Method: MethodPut, Path: "/f/under/deep", Value: "x"},
		{Method: MethodPost, Path: "/f/q", Value: "x"},
		{Method: MethodPut, Path: "/d", Value: "x"},
		{Method: MethodPut, Path: "/f", PrevExist: no()},
		{Method: MethodPut, Path: "/f", PrevValue: "0", Value: "2"},
		{Method: MethodDelete, Path: "/d"},
		{Method: MethodDelete, Path: "/d", Dir: true},
		{Method: MethodDelete, Path: "/missing"},
		{Method: MethodDelete, Path: "/"},
		{Method: MethodPut, Path: "/"},
	} {
		if _, err := h.apply(req); err == nil {
			t.Errorf("%+v: accepted", req)
		}
	}
	if h.s.Rev() != rev {
		t.Errorf("revision %d after refused writes, want %d", h.s.Rev(), rev)
	}
}

// TestWatchEvents: a recursive watch of the root sees the store events of
// v2 writes as the v2 events etcd sends, one per write; v3 writes show as
// set/delete; lease revokes as expire.
func TestWatchEvents(t *testing.T) {
	h := newHarness(t, "")
	h.apply(&Request{Method: MethodPut, Path: "/a/b", Value: "1"})
	h.apply(&Request{Method: MethodPut, Path: "/a/b", Value: "2", PrevValue: "1"})
	h.apply(&Request{Method: MethodDelete, Path: "/a", Recursive: true})
	h.v3put("/c", "3")
	b := h.s.Begin()
	if _, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 5, TTL: 10}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(&cairn.PutRequest{Key: []byte("/t"), Value: []byte("ttl"), Lease: 5, Action: cairn.ActionSet}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: 5}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(h.s.ConsistentIndex() + 1); err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range h.events {
		if ev, ok := h.tree.Watch("/", true).Event(&h.events[i]); ok {
			got = append(got, jsonOf(t, ev, nil))
		}
	}
	want := []string{
		`{"action":"set","node":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`,
		`{"action":"compareAndSwap","node":{"key":"/a/b","value":"2","modifiedIndex":3,"createdIndex":2},"prevNode":{"key":"/a/b","value":"1","modifiedIndex":2,"createdIndex":2}}`,
		`{"action":"delete","node":{"key":"/a","dir":true,"modifiedIndex":4,"createdIndex":2},"prevNode":{"key":"/a","dir":true,"modifiedIndex":2,"createdIndex":2}}`,
		`{"action":"set","node":{"key":"/c","value":"3","modifiedIndex":5,"createdIndex":5}}`,
		`{"action":"set","node":{"key":"/t","value":"ttl","modifiedIndex":6,"createdIndex":6}}`,
		`{"action":"expire","node":{"key":"/t","modifiedIndex":7,"createdIndex":6},"prevNode":{"key":"/t","value":"ttl","modifiedIndex":6,"createdIndex":6}}`,
	}
	if !equal(got, want) {
		t.Errorf("v2 events:\n%s\nwant\n%s", join2(got), join2(want))
	}
}

func join2(s []string) string {
	out := ""
	for _, x := range s {
		out += x + "\n"
	}
	return out
}
