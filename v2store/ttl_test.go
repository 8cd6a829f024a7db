package v2store

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// TestTTL: a TTL'd write holds its own new lease (deterministic ID),
// refresh keeps the value under a new lease without a v2 watch event, a
// write without ttl makes the node permanent, and the expiry of a
// directory's lease deletes its subtree in one revision, shown to v2
// watchers as one expire.
func TestTTL(t *testing.T) {
	h := newHarness(t, "")
	ttl := func(n int64) *int64 { return &n }

	ev, _ := h.apply(&Request{Method: MethodPut, Path: "/f", Value: "v", TTL: ttl(30)})
	if ev.GrantedLease != v2LeaseBase|2 || ev.GrantedTTL != 30 || ev.Node.Lease != ev.GrantedLease {
		t.Fatalf("ttl'd set: %+v node %+v", ev, ev.Node)
	}
	if l, ok := h.s.Lease(ev.GrantedLease); !ok || l.TTL != 30 || !l.V2TTL {
		t.Fatalf("lease %v %v", l, ok)
	}
	ev, _ = h.apply(&Request{Method: MethodPut, Path: "/f", TTL: ttl(60), Refresh: true})
	if ev.Action != "set" || *ev.Node.Value != "v" || ev.GrantedTTL != 60 || ev.Node.Lease != ev.GrantedLease {
		t.Fatalf("refresh: %+v %+v", ev, ev.Node)
	}
	if _, err := h.apply(&Request{Method: MethodPut, Path: "/nope", TTL: ttl(5), Refresh: true}); err == nil || err.Code != EcodeKeyNotFound {
		t.Fatalf("refresh of a missing key: %v", err)
	}
	ev, _ = h.apply(&Request{Method: MethodPut, Path: "/f", Value: "w"})
	if ev.Node.Lease != 0 || ev.PrevNode.Lease == 0 {
		t.Fatalf("set without ttl: %+v prev %+v", ev.Node, ev.PrevNode)
	}
	if _, err := h.apply(&Request{Method: MethodPut, Path: "/big", Value: "v", TTL: ttl(cairn.MaxLeaseTTL + 1)}); err == nil || err.Code != EcodeTTLNaN {
		t.Fatalf("ttl above the maximum: %v", err)
	}

	ev, _ = h.apply(&Request{Method: MethodPut, Path: "/d", Dir: true, TTL: ttl(10)})
	dirLease := ev.GrantedLease
	h.apply(&Request{Method: MethodPut, Path: "/d/x/y", Value: "1"})
	h.apply(&Request{Method: MethodPost, Path: "/d", Value: "2", TTL: ttl(100)})

	h.events = nil
	b := h.s.Begin()
	if err := ExpireDirs(b, dirLease); err != nil {
		t.Fatal(err)
	}
	if _, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: dirLease}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(h.s.ConsistentIndex() + 1); err != nil {
		t.Fatal(err)
	}
	if got, err := h.get("/d", false); err == nil {
		t.Fatalf("/d after its TTL: %+v", got.Node)
	}
	var v2 []string
	revs := map[int64]bool{}
	for i := range h.events {
		revs[h.events[i].Kv.ModRevision] = true
		if ev, ok := h.tree.Watch("/", true).Event(&h.events[i]); ok {
			v2 = append(v2, ev.Action+" "+ev.Node.Key)
		}
	}
	if len(revs) != 1 || !equal(v2, []string{"expire /d"}) {
		t.Fatalf("expiry of /d: %d revisions, v2 events %q; want 1 revision, [expire /d]", len(revs), v2)
	}
}
