package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cairnkv/cairn"
)

// historyString prints a history as "rev:put=value(vN)" and "rev:del".
func historyString(evs []*cairn.Event) string {
	var parts []string
	for _, ev := range evs {
		if ev.Type == cairn.EventDelete {
			parts = append(parts, fmt.Sprintf("%d:del", ev.Kv.ModRevision))
		} else {
			parts = append(parts, fmt.Sprintf("%d:put=%s(v%d,c%d)", ev.Kv.ModRevision, ev.Kv.Value, ev.Kv.Version, ev.Kv.CreateRevision))
		}
	}
	return strings.Join(parts, " ")
}

func TestHistory(t *testing.T) {
	s := rangeFixture(t)     // a: put 2, put 9; b: put 3, put 5; c: put 4, del 7
	MustPut(t, s, "c", "33") // 10: c's second life
	tests := []struct {
		name string
		req  cairn.HistoryRequest
		want string
		more bool
		err  error
	}{
		{name: "all", req: cairn.HistoryRequest{Key: []byte("a")}, want: "9:put=11(v2,c2) 2:put=1(v1,c2)"},
		{name: "limit", req: cairn.HistoryRequest{Key: []byte("a"), Limit: 1}, want: "9:put=11(v2,c2)", more: true},
		{name: "next page", req: cairn.HistoryRequest{Key: []byte("a"), Limit: 1, Revision: 8}, want: "2:put=1(v1,c2)"},
		{name: "limit equal to the history", req: cairn.HistoryRequest{Key: []byte("a"), Limit: 2}, want: "9:put=11(v2,c2) 2:put=1(v1,c2)"},
		{name: "deletions and lives", req: cairn.HistoryRequest{Key: []byte("c")}, want: "10:put=33(v1,c10) 7:del 4:put=3(v1,c4)"},
		{name: "at a revision", req: cairn.HistoryRequest{Key: []byte("c"), Revision: 7}, want: "7:del 4:put=3(v1,c4)"},
		{name: "before the key", req: cairn.HistoryRequest{Key: []byte("c"), Revision: 3}, want: ""},
		{name: "never written", req: cairn.HistoryRequest{Key: []byte("zz")}, want: ""},
		{name: "future", req: cairn.HistoryRequest{Key: []byte("a"), Revision: 11}, err: cairn.ErrFutureRev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := s.History(&tt.req)
			wantErr(t, err, tt.err)
			if err != nil {
				return
			}
			if got := historyString(resp.Events); got != tt.want || resp.More != tt.more || resp.Header.Revision != 10 || resp.CompactRevision != 0 {
				t.Errorf("got %q more=%v rev %d compact %d, want %q more=%v rev 10", got, resp.More, resp.Header.Revision, resp.CompactRevision, tt.want, tt.more)
			}
		})
	}

	// Compaction keeps what a read at the compacted revision sees.
	MustCompact(t, s, 5)
	for key, want := range map[string]string{
		"a": "9:put=11(v2,c2) 2:put=1(v1,c2)",
		"b": "5:put=22(v2,c3)",
		"c": "10:put=33(v1,c10) 7:del 4:put=3(v1,c4)",
	} {
		resp, err := s.History(&cairn.HistoryRequest{Key: []byte(key)})
		if err != nil || historyString(resp.Events) != want || resp.CompactRevision != 5 {
			t.Errorf("after compacting at 5, %s: %v %q compact %d, want %q", key, err, historyString(resp.Events), resp.CompactRevision, want)
		}
	}
	_, err := s.History(&cairn.HistoryRequest{Key: []byte("a"), Revision: 4})
	wantErr(t, err, cairn.ErrCompacted)
}

// TestHistoryMatchesScan: under random puts, deletes, transactions and
// compactions, the history of every key, read through the index, is the
// key's changes among all the store's revisions read in order, newest
// first, at every revision; also after a restart, when the records come
// from bbolt.
func TestHistoryMatchesScan(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []string{"k0", "k1", "k2", "k3"}
	for i := range 300 {
		k := keys[rng.IntN(len(keys))]
		switch rng.IntN(10) {
		case 0:
			MustApply(t, s, func(b *Batch) { _, _ = b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte(k)}) })
		case 1:
			if i > 50 && s.Rev()-20 > s.CompactRev() {
				MustCompact(t, s, s.Rev()-20)
			}
		default:
			MustPut(t, s, k, fmt.Sprint(i))
		}
	}
	check := func(s *Store) {
		t.Helper()
		compacted := max(s.CompactRev(), 1)
		for _, k := range append(keys, "never") {
			for at := compacted; at <= s.Rev(); at += 7 {
				got, err := s.History(&cairn.HistoryRequest{Key: []byte(k), Revision: at})
				if err != nil {
					t.Fatalf("History(%s at %d): %v", k, at, err)
				}
				if want := scanKeyHistory(t, s, k, at); historyString(got.Events) != want {
					t.Fatalf("History(%s at %d):\n got %s\nwant %s", k, at, historyString(got.Events), want)
				}
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(MustOpen(t, path, Options{}))
}

// scanKeyHistory reads every record the store holds from the compacted
// revision up to at and keeps key's changes, newest first; a put of key
// at or below the compacted revision counts when it is the version visible
// there.
func scanKeyHistory(t testing.TB, s *Store, key string, at int64) string {
	t.Helper()
	v, err := s.viewHistory()
	if err != nil {
		t.Fatal(err)
	}
	defer v.release()
	var evs []*cairn.Event
	var r record
	from := max(v.compactRev, 1)
	if kv, err := s.Range(&cairn.RangeRequest{Key: []byte(key), Revision: from}); err == nil && len(kv.Kvs) == 1 && kv.Kvs[0].ModRevision < from {
		evs = append(evs, &cairn.Event{Kv: kv.Kvs[0]})
	}
	err = v.scan(from, at, func(rev revision, data []byte) bool {
		if err := decodeRecord(data, &r); err != nil {
			t.Fatal(err)
		}
		if string(r.key) != key {
			return true
		}
		if r.tombstone {
			evs = append(evs, &cairn.Event{Type: cairn.EventDelete, Kv: &cairn.KeyValue{Key: []byte(key), ModRevision: rev.main}})
		} else {
			evs = append(evs, &cairn.Event{Kv: kvOf(&r)})
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(evs)
	return historyString(evs)
}
