package store

import (
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestDeleteRange(t *testing.T) {
	tests := []struct {
		name        string
		key, end    string
		prevKV      bool
		wantDeleted int64
		wantRev     int64 // header revision
		wantLeft    []string
		wantPrev    []string
	}{
		{name: "one key", key: "b", wantDeleted: 1, wantRev: 5, wantLeft: []string{"a", "c"}},
		{name: "missing key: no revision", key: "zz", wantDeleted: 0, wantRev: 4, wantLeft: []string{"a", "b", "c"}},
		{name: "empty range: no revision", key: "x", end: "z", wantDeleted: 0, wantRev: 4, wantLeft: []string{"a", "b", "c"}},
		{name: "range", key: "a", end: "c", wantDeleted: 2, wantRev: 5, wantLeft: []string{"c"}},
		{name: "from key on", key: "b", end: "\x00", wantDeleted: 2, wantRev: 5, wantLeft: []string{"a"}},
		{name: "everything", key: "\x00", end: "\x00", wantDeleted: 3, wantRev: 5, wantLeft: []string{}},
		{name: "prev_kv", key: "a", end: "c", prevKV: true, wantDeleted: 2, wantRev: 5, wantLeft: []string{"c"},
			wantPrev: []string{"a=1 c2 m2 v1 l0", "b=2 c3 m3 v1 l0"}},
		{name: "prev_kv of nothing", key: "zz", prevKV: true, wantDeleted: 0, wantRev: 4, wantLeft: []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustNew(t)
			MustPut(t, s, "a", "1")
			MustPut(t, s, "b", "2")
			MustPut(t, s, "c", "3")
			var resp *cairn.DeleteRangeResponse
			MustApply(t, s, func(b *Batch) {
				var err error
				resp, err = b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte(tt.key), RangeEnd: []byte(tt.end), PrevKV: tt.prevKV})
				if err != nil {
					t.Fatal(err)
				}
			})
			if resp.Deleted != tt.wantDeleted || resp.Header.Revision != tt.wantRev || s.Rev() != tt.wantRev {
				t.Fatalf("deleted %d header %d store %d; want %d, %d", resp.Deleted, resp.Header.Revision, s.Rev(), tt.wantDeleted, tt.wantRev)
			}
			if got := kvsString(resp.PrevKVs); !slices.Equal(got, tt.wantPrev) && !(len(got) == 0 && len(tt.wantPrev) == 0) {
				t.Fatalf("prev_kvs %q, want %q", got, tt.wantPrev)
			}
			rr, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
			if err != nil {
				t.Fatal(err)
			}
			if got := keysOf(rr.Kvs); !slices.Equal(got, tt.wantLeft) {
				t.Fatalf("left %q, want %q", got, tt.wantLeft)
			}
			// The keys deleted are still there one revision earlier.
			old, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: 4})
			if err != nil || old.Count != 3 {
				t.Fatalf("at revision 4: %v, %v", old, err)
			}
		})
	}
}

// TestEvents checks what Options.OnCommit receives: one call per batch that
// changed something, every event in revision order, with PrevKv.
func TestEvents(t *testing.T) {
	type call struct {
		rev    int64
		events []string
	}
	var calls []call
	render := func(e cairn.Event) string {
		return e.Type.String() + " " + kvString(e.Kv) + " prev " + kvString(e.PrevKv)
	}
	s := MustOpen(t, testDB(t), Options{OnCommit: func(rev int64, evs []cairn.Event) {
		c := call{rev: rev}
		for _, e := range evs {
			c.events = append(c.events, render(e))
		}
		calls = append(calls, c)
	}})
	MustApply(t, s, func(b *Batch) {
		b.Put(&cairn.PutRequest{Key: []byte("a"), Value: []byte("1")})
		b.Put(&cairn.PutRequest{Key: []byte("b"), Value: []byte("2")})
		b.Put(&cairn.PutRequest{Key: []byte("a"), Value: []byte("3")})
	})
	MustApply(t, s, func(b *Batch) {
		b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte("zz")}) // nothing
		b.Range(&cairn.RangeRequest{Key: []byte("a")})
	})
	MustApply(t, s, func(b *Batch) {
		b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("c"), Value: []byte("4")}},
			{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}},
		}})
	})
	want := []call{
		{rev: 4, events: []string{
			"PUT a=1 c2 m2 v1 l0 prev <nil>",
			"PUT b=2 c3 m3 v1 l0 prev <nil>",
			"PUT a=3 c2 m4 v2 l0 prev a=1 c2 m2 v1 l0",
		}},
		{rev: 5, events: []string{
			"PUT c=4 c5 m5 v1 l0 prev <nil>",
			"DELETE a= c0 m5 v0 l0 prev a=3 c2 m4 v2 l0",
			"DELETE b= c0 m5 v0 l0 prev b=2 c3 m3 v1 l0",
		}},
	}
	if len(calls) != len(want) {
		t.Fatalf("%d OnCommit calls, want %d: %+v", len(calls), len(want), calls)
	}
	for i := range want {
		if calls[i].rev != want[i].rev || !slices.Equal(calls[i].events, want[i].events) {
			t.Errorf("call %d: rev %d %q\nwant rev %d %q", i, calls[i].rev, calls[i].events, want[i].rev, want[i].events)
		}
	}
}
