package store

import (
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
)

// rangeFixture builds, in batches of one write each:
//
//	rev 2 put a=1, 3 put b=2, 4 put c=3, 5 put b=22, 6 put d=4,
//	7 del c, 8 put e=5, 9 put a=11
//
// leaving a=11 (c2 m9 v2), b=22 (c3 m5 v2), d=4 (c6 m6 v1), e=5 (c8 m8 v1).
func rangeFixture(t *testing.T) *Store {
	s := MustNew(t)
	MustPut(t, s, "a", "1")
	MustPut(t, s, "b", "2")
	MustPut(t, s, "c", "3")
	MustPut(t, s, "b", "22")
	MustPut(t, s, "d", "4")
	MustDelete(t, s, "c", "")
	MustPut(t, s, "e", "5")
	MustPut(t, s, "a", "11")
	if s.Rev() != 9 {
		t.Fatalf("fixture at revision %d, want 9", s.Rev())
	}
	return s
}

func TestRange(t *testing.T) {
	s := rangeFixture(t)
	all := func(r cairn.RangeRequest) cairn.RangeRequest { r.Key, r.RangeEnd = []byte{0}, []byte{0}; return r }
	tests := []struct {
		name      string
		req       cairn.RangeRequest
		wantKeys  []string
		wantCount int64
		wantMore  bool
		wantErr   error
	}{
		{name: "single key", req: cairn.RangeRequest{Key: []byte("a")}, wantKeys: []string{"a"}, wantCount: 1},
		{name: "deleted key", req: cairn.RangeRequest{Key: []byte("c")}, wantKeys: []string{}, wantCount: 0},
		{name: "never written key", req: cairn.RangeRequest{Key: []byte("zz")}, wantKeys: []string{}, wantCount: 0},
		{name: "range", req: cairn.RangeRequest{Key: []byte("a"), RangeEnd: []byte("d")}, wantKeys: []string{"a", "b"}, wantCount: 2},
		{name: "range end is exclusive", req: cairn.RangeRequest{Key: []byte("b"), RangeEnd: []byte("e")}, wantKeys: []string{"b", "d"}, wantCount: 2},
		{name: "range_end \\x00: from key on", req: cairn.RangeRequest{Key: []byte("b"), RangeEnd: []byte{0}}, wantKeys: []string{"b", "d", "e"}, wantCount: 3},
		{name: "all keys", req: all(cairn.RangeRequest{}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "end before key", req: cairn.RangeRequest{Key: []byte("d"), RangeEnd: []byte("a")}, wantKeys: []string{}, wantCount: 0},
		{name: "end equals key", req: cairn.RangeRequest{Key: []byte("a"), RangeEnd: []byte("a")}, wantKeys: []string{}, wantCount: 0},
		{name: "limit", req: all(cairn.RangeRequest{Limit: 2}), wantKeys: []string{"a", "b"}, wantCount: 4, wantMore: true},
		{name: "limit equal to count", req: all(cairn.RangeRequest{Limit: 4}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "limit above count", req: all(cairn.RangeRequest{Limit: 10}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "count_only", req: all(cairn.RangeRequest{CountOnly: true}), wantKeys: []string{}, wantCount: 4},
		{name: "count_only with limit", req: all(cairn.RangeRequest{CountOnly: true, Limit: 1}), wantKeys: []string{}, wantCount: 4},
		{name: "count_only ignores filters", req: all(cairn.RangeRequest{CountOnly: true, MinModRevision: 9}), wantKeys: []string{}, wantCount: 4},
		{name: "key descend", req: all(cairn.RangeRequest{SortOrder: cairn.SortDescend}), wantKeys: []string{"e", "d", "b", "a"}, wantCount: 4},
		{name: "key descend limit", req: all(cairn.RangeRequest{SortOrder: cairn.SortDescend, Limit: 1}), wantKeys: []string{"e"}, wantCount: 4, wantMore: true},
		{name: "key ascend", req: all(cairn.RangeRequest{SortOrder: cairn.SortAscend, Limit: 3}), wantKeys: []string{"a", "b", "d"}, wantCount: 4, wantMore: true},
		{name: "version ascend, ties by key", req: all(cairn.RangeRequest{SortTarget: cairn.SortByVersion, SortOrder: cairn.SortAscend}), wantKeys: []string{"d", "e", "a", "b"}, wantCount: 4},
		{name: "version with order none sorts ascend", req: all(cairn.RangeRequest{SortTarget: cairn.SortByVersion}), wantKeys: []string{"d", "e", "a", "b"}, wantCount: 4},
		{name: "version descend, ties by key", req: all(cairn.RangeRequest{SortTarget: cairn.SortByVersion, SortOrder: cairn.SortDescend}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "create descend", req: all(cairn.RangeRequest{SortTarget: cairn.SortByCreate, SortOrder: cairn.SortDescend}), wantKeys: []string{"e", "d", "b", "a"}, wantCount: 4},
		{name: "mod ascend", req: all(cairn.RangeRequest{SortTarget: cairn.SortByMod, SortOrder: cairn.SortAscend}), wantKeys: []string{"b", "d", "e", "a"}, wantCount: 4},
		{name: "mod descend limit", req: all(cairn.RangeRequest{SortTarget: cairn.SortByMod, SortOrder: cairn.SortDescend, Limit: 2}), wantKeys: []string{"a", "e"}, wantCount: 4, wantMore: true},
		{name: "value ascend", req: all(cairn.RangeRequest{SortTarget: cairn.SortByValue, SortOrder: cairn.SortAscend}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "value descend limit", req: all(cairn.RangeRequest{SortTarget: cairn.SortByValue, SortOrder: cairn.SortDescend, Limit: 2}), wantKeys: []string{"e", "d"}, wantCount: 4, wantMore: true},
		{name: "value sort with keys_only", req: all(cairn.RangeRequest{SortTarget: cairn.SortByValue, SortOrder: cairn.SortDescend, KeysOnly: true}), wantKeys: []string{"e", "d", "b", "a"}, wantCount: 4},
		{name: "min_mod_revision", req: all(cairn.RangeRequest{MinModRevision: 6}), wantKeys: []string{"a", "d", "e"}, wantCount: 4},
		{name: "max_mod_revision", req: all(cairn.RangeRequest{MaxModRevision: 6}), wantKeys: []string{"b", "d"}, wantCount: 4},
		{name: "create revision window", req: all(cairn.RangeRequest{MinCreateRevision: 3, MaxCreateRevision: 6}), wantKeys: []string{"b", "d"}, wantCount: 4},
		{name: "filter then limit", req: all(cairn.RangeRequest{MinModRevision: 6, Limit: 2}), wantKeys: []string{"a", "d"}, wantCount: 4, wantMore: true},
		{name: "filter leaves exactly limit", req: all(cairn.RangeRequest{MaxModRevision: 6, Limit: 2}), wantKeys: []string{"b", "d"}, wantCount: 4},
		{name: "at revision 4", req: all(cairn.RangeRequest{Revision: 4}), wantKeys: []string{"a", "b", "c"}, wantCount: 3},
		{name: "at revision 7: c deleted", req: all(cairn.RangeRequest{Revision: 7}), wantKeys: []string{"a", "b", "d"}, wantCount: 3},
		{name: "at revision 1: nothing", req: all(cairn.RangeRequest{Revision: 1}), wantKeys: []string{}, wantCount: 0},
		{name: "sort at a past revision", req: all(cairn.RangeRequest{Revision: 5, SortTarget: cairn.SortByMod, SortOrder: cairn.SortDescend}), wantKeys: []string{"b", "c", "a"}, wantCount: 3},
		{name: "revision 0 is current", req: all(cairn.RangeRequest{Revision: 0}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "negative revision is current", req: all(cairn.RangeRequest{Revision: -3}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "current revision", req: all(cairn.RangeRequest{Revision: 9}), wantKeys: []string{"a", "b", "d", "e"}, wantCount: 4},
		{name: "future revision", req: all(cairn.RangeRequest{Revision: 10}), wantErr: cairn.ErrFutureRev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, via := range []string{"store", "batch"} {
				var resp *cairn.RangeResponse
				var err error
				if via == "store" {
					resp, err = s.Range(&tt.req)
				} else {
					b := s.Begin()
					resp, err = b.Range(&tt.req)
					if cerr := b.Commit(s.ConsistentIndex()); cerr != nil {
						t.Fatal(cerr)
					}
				}
				if tt.wantErr != nil {
					wantErr(t, err, tt.wantErr)
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", via, err)
				}
				if got := keysOf(resp.Kvs); !slices.Equal(got, tt.wantKeys) || resp.Count != tt.wantCount || resp.More != tt.wantMore {
					t.Fatalf("%s: keys %q count %d more %v; want %q count %d more %v",
						via, got, resp.Count, resp.More, tt.wantKeys, tt.wantCount, tt.wantMore)
				}
				if resp.Header.Revision != 9 {
					t.Fatalf("%s: header revision %d, want the current 9", via, resp.Header.Revision)
				}
				for _, kv := range resp.Kvs {
					if tt.req.KeysOnly && kv.Value != nil {
						t.Fatalf("%s: keys_only returned value of %s", via, kv.Key)
					}
					if !tt.req.KeysOnly && len(kv.Value) == 0 {
						t.Fatalf("%s: no value for %s", via, kv.Key)
					}
				}
			}
		})
	}
}

func TestRangeReturnsFullKeyValues(t *testing.T) {
	s := rangeFixture(t)
	resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a=11 c2 m9 v2 l0", "b=22 c3 m5 v2 l0", "d=4 c6 m6 v1 l0", "e=5 c8 m8 v1 l0"}
	if got := kvsString(resp.Kvs); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	resp, err = s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: 4, KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"a= c2 m2 v1 l0", "b= c3 m3 v1 l0", "c= c4 m4 v1 l0"}
	if got := kvsString(resp.Kvs); !slices.Equal(got, want) {
		t.Fatalf("keys_only at 4: got %q\nwant %q", got, want)
	}
}

func TestRangeNulKey(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "\x00", "nul")
	MustPut(t, s, "a", "1")
	resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := kvsString(resp.Kvs); !slices.Equal(got, []string{"\x00=nul c2 m2 v1 l0"}) {
		t.Fatalf("key \\x00 alone: %q", got)
	}
	resp, err = s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(resp.Kvs); !slices.Equal(got, []string{"\x00", "a"}) {
		t.Fatalf("all keys: %q", got)
	}
}
