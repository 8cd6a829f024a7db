package store

import (
	"slices"
	"testing"

	"github.com/cairnkv/cairn"
)

func cmp(target cairn.CompareTarget, result cairn.CompareResult, key, end string, operand any) cairn.Compare {
	c := cairn.Compare{Target: target, Result: result, Key: []byte(key), RangeEnd: []byte(end)}
	switch v := operand.(type) {
	case string:
		c.Value = []byte(v)
	case int:
		switch target {
		case cairn.CompareVersion:
			c.Version = int64(v)
		case cairn.CompareCreate:
			c.CreateRevision = int64(v)
		case cairn.CompareMod:
			c.ModRevision = int64(v)
		case cairn.CompareLease:
			c.Lease = int64(v)
		}
	}
	return c
}

func TestTxnCompare(t *testing.T) {
	// a=2 (c2 m3 v2), b=x (c4 m4 v1).
	s := MustNew(t)
	MustPut(t, s, "a", "1")
	MustPut(t, s, "a", "2")
	MustPut(t, s, "b", "x")

	tests := []struct {
		name string
		cmps []cairn.Compare
		want bool
	}{
		{"version equal", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 2)}, true},
		{"version greater", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareGreater, "a", "", 1)}, true},
		{"version less fails", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareLess, "a", "", 2)}, false},
		{"version not equal fails", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareNotEqual, "a", "", 2)}, false},
		{"create equal", []cairn.Compare{cmp(cairn.CompareCreate, cairn.CompareEqual, "a", "", 2)}, true},
		{"mod equal", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareEqual, "a", "", 3)}, true},
		{"mod greater fails", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareGreater, "a", "", 3)}, false},
		{"mod less", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareLess, "a", "", 4)}, true},
		{"value equal", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareEqual, "a", "", "2")}, true},
		{"value greater", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareGreater, "a", "", "1")}, true},
		{"value less", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareLess, "a", "", "3")}, true},
		{"value not equal fails", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareNotEqual, "a", "", "2")}, false},
		{"lease equal 0", []cairn.Compare{cmp(cairn.CompareLease, cairn.CompareEqual, "a", "", 0)}, true},
		{"lease greater fails", []cairn.Compare{cmp(cairn.CompareLease, cairn.CompareGreater, "a", "", 0)}, false},
		// A missing key compares as zero...
		{"missing: version 0", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "zz", "", 0)}, true},
		{"missing: create 0", []cairn.Compare{cmp(cairn.CompareCreate, cairn.CompareEqual, "zz", "", 0)}, true},
		{"missing: mod 0", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareEqual, "zz", "", 0)}, true},
		{"missing: lease 0", []cairn.Compare{cmp(cairn.CompareLease, cairn.CompareEqual, "zz", "", 0)}, true},
		{"missing: version greater fails", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareGreater, "zz", "", 0)}, false},
		{"missing: mod less", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareLess, "zz", "", 5)}, true},
		// ...but fails every value compare, even not-equal.
		{"missing: value equal empty fails", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareEqual, "zz", "", "")}, false},
		{"missing: value not equal fails", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareNotEqual, "zz", "", "q")}, false},
		// A range: every key must hold.
		{"range: all versions > 0", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareGreater, "a", "c", 0)}, true},
		{"range: one version differs", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "c", 2)}, false},
		{"range: mods > 2", []cairn.Compare{cmp(cairn.CompareMod, cairn.CompareGreater, "a", "c", 2)}, true},
		{"range: one value equal", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareNotEqual, "a", "c", "x")}, false},
		{"range to the end", []cairn.Compare{cmp(cairn.CompareCreate, cairn.CompareGreater, "a", "\x00", 1)}, true},
		{"empty range: version 0", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "x", "y", 0)}, true},
		{"empty range: value fails", []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareNotEqual, "x", "y", "q")}, false},
		{"deleted key is missing", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "c", "", 0)}, true},
		// Several compares: all must hold.
		{"all hold", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 2), cmp(cairn.CompareValue, cairn.CompareEqual, "b", "", "x")}, true},
		{"one fails", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 2), cmp(cairn.CompareValue, cairn.CompareEqual, "b", "", "y")}, false},
		{"no compares", nil, true},
		// etcd treats an unknown result as holding.
		{"unknown result holds", []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareResult(9), "a", "", 5)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *cairn.TxnResponse
			MustApply(t, s, func(b *Batch) {
				var err error
				resp, err = b.Txn(&cairn.TxnRequest{
					Compare: tt.cmps,
					Success: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: []byte("a")}}},
					Failure: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: []byte("b")}}, {Range: &cairn.RangeRequest{Key: []byte("b")}}},
				})
				if err != nil {
					t.Fatal(err)
				}
			})
			if resp.Succeeded != tt.want {
				t.Fatalf("succeeded = %v, want %v", resp.Succeeded, tt.want)
			}
			wantOps := 1
			if !tt.want {
				wantOps = 2
			}
			if len(resp.Responses) != wantOps || resp.Header.Revision != 4 || s.Rev() != 4 {
				t.Fatalf("%d responses, header %d, store %d; want %d, 4, 4", len(resp.Responses), resp.Header.Revision, s.Rev(), wantOps)
			}
		})
	}
}

func TestTxnOpsShareOneRevisionAndSeeEarlierWrites(t *testing.T) {
	path := testDB(t)
	s := MustOpen(t, path, Options{})
	MustPut(t, s, "a", "1")
	MustPut(t, s, "b", "2")
	MustPut(t, s, "zz", "3") // rev 4
	var resp *cairn.TxnResponse
	MustApply(t, s, func(b *Batch) {
		var err error
		resp, err = b.Txn(&cairn.TxnRequest{
			Compare: []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareEqual, "a", "", "1")},
			Success: []cairn.RequestOp{
				{Range: &cairn.RangeRequest{Key: []byte("a")}},
				{Put: &cairn.PutRequest{Key: []byte("a"), Value: []byte("new"), PrevKV: true}},
				{Range: &cairn.RangeRequest{Key: []byte("a")}},
				{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("b"), PrevKV: true}},
				{Range: &cairn.RangeRequest{Key: []byte("b")}},
				{Range: &cairn.RangeRequest{Key: []byte("a"), Revision: 4}},
				{Put: &cairn.PutRequest{Key: []byte("c"), Value: []byte("c")}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	if !resp.Succeeded || resp.Header.Revision != 5 || s.Rev() != 5 {
		t.Fatalf("succeeded %v header %d store %d", resp.Succeeded, resp.Header.Revision, s.Rev())
	}
	r := resp.Responses
	check := func(i int, gotRev, wantRev int64, got, want []string) {
		t.Helper()
		if gotRev != wantRev || !slices.Equal(got, want) {
			t.Errorf("op %d: header %d %q, want %d %q", i, gotRev, got, wantRev, want)
		}
	}
	check(0, r[0].Range.Header.Revision, 4, kvsString(r[0].Range.Kvs), []string{"a=1 c2 m2 v1 l0"})
	check(1, r[1].Put.Header.Revision, 5, []string{kvString(r[1].Put.PrevKV)}, []string{"a=1 c2 m2 v1 l0"})
	check(2, r[2].Range.Header.Revision, 5, kvsString(r[2].Range.Kvs), []string{"a=new c2 m5 v2 l0"})
	check(3, r[3].DeleteRange.Header.Revision, 5, kvsString(r[3].DeleteRange.PrevKVs), []string{"b=2 c3 m3 v1 l0"})
	check(4, r[4].Range.Header.Revision, 5, kvsString(r[4].Range.Kvs), []string{})
	check(5, r[5].Range.Header.Revision, 5, kvsString(r[5].Range.Kvs), []string{"a=1 c2 m2 v1 l0"})
	check(6, r[6].Put.Header.Revision, 5, nil, nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"2.0 a", "3.0 b", "4.0 zz", "5.0 a", "5.1 b tomb", "5.2 c"}
	if got := diskRevisions(t, path); !slices.Equal(got, want) {
		t.Fatalf("on disk %q, want %q", got, want)
	}
}

func TestTxnWithoutChangesKeepsRevision(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "a", "1")
	for _, req := range []*cairn.TxnRequest{
		{}, // empty
		{Success: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: []byte("a")}}}},
		{Success: []cairn.RequestOp{{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("zz")}}}},
		{Compare: []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 9)},
			Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("a")}}}},
	} {
		var resp *cairn.TxnResponse
		MustApply(t, s, func(b *Batch) {
			var err error
			if resp, err = b.Txn(req); err != nil {
				t.Fatal(err)
			}
		})
		if resp.Header.Revision != 2 || s.Rev() != 2 {
			t.Fatalf("txn %+v: header %d store %d, want 2", req, resp.Header.Revision, s.Rev())
		}
	}
	// A delete of nothing after a write reports the new revision, as etcd.
	var resp *cairn.TxnResponse
	MustApply(t, s, func(b *Batch) {
		var err error
		resp, err = b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("zz")}},
			{Put: &cairn.PutRequest{Key: []byte("b")}},
			{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("zz")}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	})
	got := []int64{resp.Responses[0].DeleteRange.Header.Revision, resp.Responses[2].DeleteRange.Header.Revision, resp.Header.Revision}
	if !slices.Equal(got, []int64{2, 3, 3}) {
		t.Fatalf("delete headers and txn header %v, want [2 3 3]", got)
	}
}

// TestTxnNested mirrors what etcd 3.4 answers: a nested transaction's
// compares see the state before the outer transaction, its ops see the
// outer transaction's writes, and its own header is empty.
func TestTxnNested(t *testing.T) {
	s := MustNew(t)
	MustPut(t, s, "a", "1")
	var resp *cairn.TxnResponse
	MustApply(t, s, func(b *Batch) {
		var err error
		resp, err = b.Txn(&cairn.TxnRequest{Success: []cairn.RequestOp{
			{Put: &cairn.PutRequest{Key: []byte("a"), Value: []byte("2")}},
			{Txn: &cairn.TxnRequest{
				Compare: []cairn.Compare{cmp(cairn.CompareValue, cairn.CompareEqual, "a", "", "1")},
				Success: []cairn.RequestOp{
					{Range: &cairn.RangeRequest{Key: []byte("a")}},
					{Put: &cairn.PutRequest{Key: []byte("b"), Value: []byte("x")}},
					{DeleteRange: &cairn.DeleteRangeRequest{Key: []byte("zz")}},
					{Txn: &cairn.TxnRequest{
						Compare: []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareGreater, "b", "", 0)}, // b is new: fails
						Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("s")}}},
						Failure: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("f")}}},
					}},
				},
				Failure: []cairn.RequestOp{{Range: &cairn.RangeRequest{Key: []byte("a")}}},
			}},
		}})
		if err != nil {
			t.Fatal(err)
		}
	})
	if !resp.Succeeded || resp.Header.Revision != 3 {
		t.Fatalf("outer: succeeded %v header %d", resp.Succeeded, resp.Header.Revision)
	}
	n := resp.Responses[1].Txn
	if !n.Succeeded || n.Header.Revision != 0 || len(n.Responses) != 4 {
		t.Fatalf("nested: %+v", n)
	}
	if got := kvsString(n.Responses[0].Range.Kvs); !slices.Equal(got, []string{"a=2 c2 m3 v2 l0"}) || n.Responses[0].Range.Header.Revision != 3 {
		t.Fatalf("nested range: %q header %d", got, n.Responses[0].Range.Header.Revision)
	}
	if n.Responses[1].Put.Header.Revision != 3 || n.Responses[2].DeleteRange.Header.Revision != 3 {
		t.Fatalf("nested put/delete headers %d %d, want 3 3", n.Responses[1].Put.Header.Revision, n.Responses[2].DeleteRange.Header.Revision)
	}
	nn := n.Responses[3].Txn
	if nn.Succeeded || len(nn.Responses) != 1 || nn.Responses[0].Put == nil {
		t.Fatalf("doubly nested: %+v", nn)
	}
	rr, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a=2 c2 m3 v2 l0", "b=x c3 m3 v1 l0", "f= c3 m3 v1 l0"}
	if got := kvsString(rr.Kvs); !slices.Equal(got, want) {
		t.Fatalf("after: %q, want %q", got, want)
	}
}

// TestTxnErrorsChangeNothing: a transaction whose path holds an op that
// fails is refused whole, before any write.
func TestTxnErrorsChangeNothing(t *testing.T) {
	put := func(k string) cairn.RequestOp {
		return cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte(k), Value: []byte("v")}}
	}
	rng := func(rev int64) cairn.RequestOp {
		return cairn.RequestOp{Range: &cairn.RangeRequest{Key: []byte("a"), Revision: rev}}
	}
	ignoreMissing := cairn.RequestOp{Put: &cairn.PutRequest{Key: []byte("missing"), IgnoreValue: true}}
	tests := []struct {
		name    string
		compact int64 // compact here first (0: no compaction)
		req     cairn.TxnRequest
		wantErr error
	}{
		{name: "ignore_value on missing key", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), ignoreMissing}}, wantErr: cairn.ErrKeyNotFound},
		{name: "ignore_lease on missing key", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), {Put: &cairn.PutRequest{Key: []byte("missing"), IgnoreLease: true}}}}, wantErr: cairn.ErrKeyNotFound},
		{name: "lease", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), {Put: &cairn.PutRequest{Key: []byte("y"), Lease: 5}}}}, wantErr: cairn.ErrLeaseNotFound},
		{name: "in a txn the key is checked before the lease", req: cairn.TxnRequest{Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("missing"), IgnoreValue: true, Lease: 5}}}}, wantErr: cairn.ErrKeyNotFound},
		{name: "range at a future revision", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(100)}}, wantErr: cairn.ErrFutureRev},
		{name: "range at the txn's own revision", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(4)}}, wantErr: cairn.ErrFutureRev},
		{name: "puts are checked before ranges", req: cairn.TxnRequest{Success: []cairn.RequestOp{rng(100), ignoreMissing}}, wantErr: cairn.ErrKeyNotFound},
		{name: "range below compaction", compact: 3, req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(2)}}, wantErr: cairn.ErrCompacted},
		{name: "negative range revision is below compaction", compact: 3, req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(-1)}}, wantErr: cairn.ErrCompacted},
		{name: "negative range revision below etcd's initial -1", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(-5)}}, wantErr: cairn.ErrCompacted},
		{name: "failure branch", req: cairn.TxnRequest{
			Compare: []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 7)},
			Failure: []cairn.RequestOp{put("x"), ignoreMissing}}, wantErr: cairn.ErrKeyNotFound},
		{name: "nested", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), {Txn: &cairn.TxnRequest{Success: []cairn.RequestOp{ignoreMissing}}}}}, wantErr: cairn.ErrKeyNotFound},
		{name: "nested range", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), {Txn: &cairn.TxnRequest{Failure: []cairn.RequestOp{rng(50)}, Compare: []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "zz", "", 1)}}}}}, wantErr: cairn.ErrFutureRev},
		// Only the path taken counts.
		{name: "branch not taken", req: cairn.TxnRequest{
			Compare: []cairn.Compare{cmp(cairn.CompareVersion, cairn.CompareEqual, "a", "", 7)},
			Success: []cairn.RequestOp{ignoreMissing, rng(100)}, Failure: []cairn.RequestOp{put("x")}}},
		{name: "negative range revision without compaction", req: cairn.TxnRequest{Success: []cairn.RequestOp{put("x"), rng(-1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustNew(t)
			MustPut(t, s, "a", "1")
			MustPut(t, s, "b", "2") // rev 3
			if tt.compact != 0 {
				MustCompact(t, s, tt.compact)
			}
			var err error
			MustApply(t, s, func(b *Batch) { _, err = b.Txn(&tt.req) })
			if tt.wantErr == nil {
				if err != nil || s.Rev() != 4 {
					t.Fatalf("err %v, rev %d; want success at 4", err, s.Rev())
				}
				return
			}
			wantErr(t, err, tt.wantErr)
			if s.Rev() != 3 {
				t.Fatalf("refused txn moved the revision to %d", s.Rev())
			}
			rr, _ := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
			if got := keysOf(rr.Kvs); !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("refused txn left keys %q", got)
			}
		})
	}
}
