package store

import (
	"testing"

	"github.com/cairnkv/cairn"
)

// TestV2Metadata checks that the v2 metadata of a write (Dir, Action) is
// kept by the store: in Range, in OnCommit events, in history read back
// for a watcher that catches up, and after a reopen; and that a lease
// revoke marks its deletions ActionExpire.
func TestV2Metadata(t *testing.T) {
	path := testDB(t)
	var live []cairn.Event
	s, err := Open(path, Options{OnCommit: func(_ int64, evs []cairn.Event) { live = append(live, evs...) }})
	if err != nil {
		t.Fatal(err)
	}
	MustApply(t, s, func(b *Batch) {
		if _, err := b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("/d"), Dir: true, Action: cairn.ActionCreate}},
			{Put: &cairn.PutRequest{Key: []byte("/d/f"), Value: []byte("v"), Action: cairn.ActionCreate}},
		}}); err != nil {
			t.Fatal(err)
		}
	}) // rev 2
	MustApply(t, s, func(b *Batch) {
		if _, err := b.LeaseGrant(&cairn.LeaseGrantRequest{ID: 9, TTL: 60}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Put(&cairn.PutRequest{Key: []byte("/t"), Value: []byte("x"), Lease: 9, Action: cairn.ActionSet}); err != nil {
			t.Fatal(err)
		}
	}) // rev 3
	MustApply(t, s, func(b *Batch) {
		if _, err := b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte("/d/f"), Action: cairn.ActionCompareAndDelete}); err != nil {
			t.Fatal(err)
		}
	}) // rev 4
	MustApply(t, s, func(b *Batch) {
		if _, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: 9}); err != nil {
			t.Fatal(err)
		}
	}) // rev 5
	MustPut(t, s, "/d", "now a v3 file") // rev 6: a v3 put clears Dir

	type meta struct {
		key    string
		typ    cairn.EventType
		dir    bool
		action cairn.Action
	}
	want := []meta{
		{"/d", cairn.EventPut, true, cairn.ActionCreate},
		{"/d/f", cairn.EventPut, false, cairn.ActionCreate},
		{"/t", cairn.EventPut, false, cairn.ActionSet},
		{"/d/f", cairn.EventDelete, false, cairn.ActionCompareAndDelete},
		{"/t", cairn.EventDelete, false, cairn.ActionExpire},
		{"/d", cairn.EventPut, false, cairn.ActionNone},
	}
	check := func(what string, evs []cairn.Event) {
		t.Helper()
		if len(evs) != len(want) {
			t.Fatalf("%s: %d events, want %d", what, len(evs), len(want))
		}
		for i, ev := range evs {
			got := meta{string(ev.Kv.Key), ev.Type, ev.Kv.Dir, ev.Kv.Action}
			if got != want[i] {
				t.Errorf("%s: event %d = %+v, want %+v", what, i, got, want[i])
			}
		}
	}
	check("OnCommit", live)
	history := func(what string, s *Store) {
		t.Helper()
		for _, rk := range []rangeKey{{key: "/", end: "0"}, {key: "/d"}, {key: "/t"}} {
			wevs, _, err := s.watchHistory(rk, 2, 6, 1<<20, false)
			if err != nil {
				t.Fatal(err)
			}
			if rk.end == "" {
				continue // single keys: checked through the prefix walk below
			}
			evs := make([]cairn.Event, len(wevs))
			for i := range wevs {
				evs[i] = wevs[i].Event
			}
			check(what, evs)
		}
	}
	history("history", s)

	rr, err := s.Range(&cairn.RangeRequest{Key: []byte("/d"), Revision: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != 1 || !rr.Kvs[0].Dir || rr.Kvs[0].Action != cairn.ActionCreate {
		t.Fatalf("range /d at 2: %+v, want a dir written by create", rr.Kvs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := MustOpen(t, path, Options{})
	history("history after reopen", s2)
	rr, err = s2.Range(&cairn.RangeRequest{Key: []byte("/d")})
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Kvs) != 1 || rr.Kvs[0].Dir || string(rr.Kvs[0].Value) != "now a v3 file" {
		t.Fatalf("range /d after reopen: %+v, want the v3 file", rr.Kvs)
	}
}
