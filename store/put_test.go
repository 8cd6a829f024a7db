package store

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestNewStoreIsAtRevisionOne(t *testing.T) {
	s := MustNew(t)
	if s.Rev() != 1 || s.CompactRev() != 0 || s.ConsistentIndex() != 0 {
		t.Fatalf("new store: rev %d compact %d ci %d, want 1 0 0", s.Rev(), s.CompactRev(), s.ConsistentIndex())
	}
	resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Revision != 1 || resp.Count != 0 || len(resp.Kvs) != 0 {
		t.Fatalf("range on new store: %+v", resp)
	}
}

// TestKeyLifecycle follows one key through puts, a delete and a re-create:
// create_revision, mod_revision and version as etcd keeps them.
func TestKeyLifecycle(t *testing.T) {
	s := MustNew(t)
	steps := []struct {
		op      string // "put k v" or "del k"
		wantRev int64
		want    string // MustGet("a") afterwards
	}{
		{"put a 1", 2, "a=1 c2 m2 v1 l0"},
		{"put a 2", 3, "a=2 c2 m3 v2 l0"},
		{"put b x", 4, "a=2 c2 m3 v2 l0"},
		{"put a 3", 5, "a=3 c2 m5 v3 l0"},
		{"del a", 6, "<nil>"},
		{"del a", 6, "<nil>"}, // deletes nothing: no new revision
		{"put a 4", 7, "a=4 c7 m7 v1 l0"},
		{"put a 5", 8, "a=5 c7 m8 v2 l0"},
	}
	for i, st := range steps {
		var rev int64
		switch w := strings.Fields(st.op); w[0] {
		case "put":
			rev = MustPut(t, s, w[1], w[2]).Header.Revision
		case "del":
			rev = MustDelete(t, s, w[1], "").Header.Revision
		}
		if rev != st.wantRev || s.Rev() != st.wantRev {
			t.Fatalf("step %d %q: header revision %d, store %d, want %d", i, st.op, rev, s.Rev(), st.wantRev)
		}
		if got := kvString(MustGet(t, s, "a")); got != st.want {
			t.Fatalf("step %d %q: a = %s, want %s", i, st.op, got, st.want)
		}
	}
	// History stays readable at every revision.
	history := map[int64]string{
		2: "a=1 c2 m2 v1 l0", 3: "a=2 c2 m3 v2 l0", 4: "a=2 c2 m3 v2 l0",
		5: "a=3 c2 m5 v3 l0", 6: "<nil>", 7: "a=4 c7 m7 v1 l0", 8: "a=5 c7 m8 v2 l0",
	}
	for rev, want := range history {
		resp, err := s.Range(&cairn.RangeRequest{Key: []byte("a"), Revision: rev})
		if err != nil {
			t.Fatalf("range at %d: %v", rev, err)
		}
		got := "<nil>"
		if len(resp.Kvs) == 1 {
			got = kvString(resp.Kvs[0])
		}
		if got != want || resp.Header.Revision != 8 {
			t.Errorf("a at %d = %s (header %d), want %s (header 8)", rev, got, resp.Header.Revision, want)
		}
	}
}

func TestPutOptions(t *testing.T) {
	tests := []struct {
		name     string
		setup    bool // put k=old first
		req      cairn.PutRequest
		wantErr  error
		wantKV   string // k afterwards
		wantPrev string
	}{
		{name: "plain", req: cairn.PutRequest{Value: []byte("new")}, wantKV: "k=new c2 m2 v1 l0", wantPrev: "<nil>"},
		{name: "prev_kv of missing key", req: cairn.PutRequest{Value: []byte("new"), PrevKV: true}, wantKV: "k=new c2 m2 v1 l0", wantPrev: "<nil>"},
		{name: "prev_kv", setup: true, req: cairn.PutRequest{Value: []byte("new"), PrevKV: true}, wantKV: "k=new c2 m3 v2 l0", wantPrev: "k=old c2 m2 v1 l0"},
		{name: "prev_kv not asked", setup: true, req: cairn.PutRequest{Value: []byte("new")}, wantKV: "k=new c2 m3 v2 l0", wantPrev: "<nil>"},
		{name: "ignore_value", setup: true, req: cairn.PutRequest{IgnoreValue: true}, wantKV: "k=old c2 m3 v2 l0", wantPrev: "<nil>"},
		{name: "ignore_lease", setup: true, req: cairn.PutRequest{Value: []byte("new"), IgnoreLease: true}, wantKV: "k=new c2 m3 v2 l0", wantPrev: "<nil>"},
		{name: "ignore both", setup: true, req: cairn.PutRequest{IgnoreValue: true, IgnoreLease: true, PrevKV: true}, wantKV: "k=old c2 m3 v2 l0", wantPrev: "k=old c2 m2 v1 l0"},
		{name: "ignore_value on missing key", req: cairn.PutRequest{IgnoreValue: true}, wantErr: cairn.ErrKeyNotFound, wantKV: "<nil>"},
		{name: "ignore_lease on missing key", req: cairn.PutRequest{Value: []byte("x"), IgnoreLease: true}, wantErr: cairn.ErrKeyNotFound, wantKV: "<nil>"},
		{name: "lease", setup: true, req: cairn.PutRequest{Value: []byte("new"), Lease: 7}, wantErr: cairn.ErrLeaseNotFound, wantKV: "k=old c2 m2 v1 l0"},
		// Outside a transaction etcd checks the lease before the key.
		{name: "lease and ignore_value on missing key", req: cairn.PutRequest{Lease: 7, IgnoreValue: true}, wantErr: cairn.ErrLeaseNotFound, wantKV: "<nil>"},
		{name: "empty value", setup: true, req: cairn.PutRequest{}, wantKV: "k= c2 m3 v2 l0", wantPrev: "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustNew(t)
			if tt.setup {
				MustPut(t, s, "k", "old")
			}
			before := s.Rev()
			req := tt.req
			req.Key = []byte("k")
			var resp *cairn.PutResponse
			var err error
			MustApply(t, s, func(b *Batch) { resp, err = b.Put(&req) })
			if tt.wantErr != nil {
				wantErr(t, err, tt.wantErr)
				if s.Rev() != before {
					t.Fatalf("failed put moved the revision %d -> %d", before, s.Rev())
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.Header.Revision != before+1 {
					t.Fatalf("header revision %d, want %d", resp.Header.Revision, before+1)
				}
				if got := kvString(resp.PrevKV); got != tt.wantPrev {
					t.Fatalf("prev_kv = %s, want %s", got, tt.wantPrev)
				}
			}
			if got := kvString(MustGet(t, s, "k")); got != tt.wantKV {
				t.Fatalf("k = %s, want %s", got, tt.wantKV)
			}
		})
	}
}

// TestResponsesOwnTheirBytes: changing the request or a response after the
// call changes nothing in the store.
func TestResponsesOwnTheirBytes(t *testing.T) {
	s := MustNew(t)
	key, val := []byte("key"), []byte("value")
	MustApply(t, s, func(b *Batch) {
		if _, err := b.Put(&cairn.PutRequest{Key: key, Value: val}); err != nil {
			t.Fatal(err)
		}
		copy(key, "XXX")
		copy(val, "XXXXX")
	})
	kv := MustGet(t, s, "key")
	if kv == nil || string(kv.Value) != "value" {
		t.Fatalf("got %s after the caller reused its buffers", kvString(kv))
	}
	copy(kv.Key, "YYY")
	copy(kv.Value, "YYYYY")
	if got := kvString(MustGet(t, s, "key")); got != "key=value c2 m2 v1 l0" {
		t.Fatalf("store changed through a response: %s", got)
	}
}

func TestBatchSharesOneTransactionAndRevisionsAdvance(t *testing.T) {
	s := MustNew(t)
	var revs []int64
	MustApply(t, s, func(b *Batch) {
		for _, k := range []string{"a", "b", "a"} {
			resp, err := b.Put(&cairn.PutRequest{Key: []byte(k), Value: []byte(k)})
			if err != nil {
				t.Fatal(err)
			}
			revs = append(revs, resp.Header.Revision)
		}
		// The batch reads its own writes; the store does not yet.
		rr, err := b.Range(&cairn.RangeRequest{Key: []byte("a")})
		if err != nil {
			t.Fatal(err)
		}
		if got := kvsString(rr.Kvs); !slices.Equal(got, []string{"a=a c2 m4 v2 l0"}) || rr.Header.Revision != 4 {
			t.Fatalf("batch range: %v header %d", got, rr.Header.Revision)
		}
		if s.Rev() != 1 || MustGet(t, s, "a") != nil {
			t.Fatalf("uncommitted batch visible: rev %d", s.Rev())
		}
	})
	if !slices.Equal(revs, []int64{2, 3, 4}) {
		t.Fatalf("revisions %v, want [2 3 4]", revs)
	}
	if s.Rev() != 4 || s.ConsistentIndex() != 1 {
		t.Fatalf("after commit: rev %d ci %d, want 4 1", s.Rev(), s.ConsistentIndex())
	}
}
