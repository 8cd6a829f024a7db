package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// manual opens a store whose flusher writes only when a flush is waited for.
func manual(tb testing.TB, path string, opts Options) *Store {
	tb.Helper()
	if opts.hooks == nil {
		opts.hooks = &testHooks{}
	}
	opts.hooks.manualFlush = true
	return MustOpen(tb, path, opts)
}

func mustFlush(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.Flush(); err != nil {
		tb.Fatalf("Flush: %v", err)
	}
	if s.DurableIndex() != s.ConsistentIndex() {
		tb.Fatalf("after Flush: durable index %d, consistent index %d", s.DurableIndex(), s.ConsistentIndex())
	}
}

// crash stops s as kill -9 would: the batches not flushed never reach bbolt.
func crash(tb testing.TB, s *Store) {
	tb.Helper()
	if err := s.close(false); err != nil {
		tb.Fatalf("close without flush: %v", err)
	}
}

// TestCommitVisibleBeforeFlush: a committed batch is visible to every read
// (Range, reads inside later batches) before it is in bbolt, and the same
// after the flush moved it there.
func TestCommitVisibleBeforeFlush(t *testing.T) {
	s := manual(t, testDB(t), Options{})
	MustPut(t, s, "a", "1") // 2
	if got := kvString(MustGet(t, s, "a")); got != "a=1 c2 m2 v1 l0" {
		t.Fatalf("a = %s", got)
	}
	if s.ConsistentIndex() != 1 || s.DurableIndex() != 0 {
		t.Fatalf("consistent index %d durable %d, want 1 0", s.ConsistentIndex(), s.DurableIndex())
	}
	if got := storeRevisions(t, s); len(got) != 0 {
		t.Fatalf("bbolt already holds %q", got)
	}
	// A later batch reads the unflushed record: prev_kv, ignore_value, a
	// value compare.
	MustApply(t, s, func(b *Batch) {
		resp, err := b.Put(&cairn.PutRequest{Key: []byte("a"), IgnoreValue: true, PrevKV: true}) // 3
		if err != nil || kvString(resp.PrevKV) != "a=1 c2 m2 v1 l0" {
			t.Fatalf("put ignore_value: %v, prev %s", err, kvString(resp.PrevKV))
		}
		tr, err := b.Txn(&cairn.TxnRequest{
			Compare: []cairn.Compare{{Key: []byte("a"), Target: cairn.CompareValue, Result: cairn.CompareEqual, Value: []byte("1")}},
			Success: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("b"), Value: []byte("2")}}}, // 4
		})
		if err != nil || !tr.Succeeded {
			t.Fatalf("txn on the unflushed value: %v %+v", err, tr)
		}
	})
	check := func(when string) {
		t.Helper()
		for rev, want := range map[int64][]string{
			2: {"a=1 c2 m2 v1 l0"},
			3: {"a=1 c2 m3 v2 l0"},
			4: {"a=1 c2 m3 v2 l0", "b=2 c4 m4 v1 l0"},
		} {
			resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if got := kvsString(resp.Kvs); !slices.Equal(got, want) {
				t.Fatalf("%s: at %d %q, want %q", when, rev, got, want)
			}
		}
	}
	check("before the flush")
	mustFlush(t, s)
	if got, want := storeRevisions(t, s), []string{"2.0 a", "3.0 a", "4.0 b"}; !slices.Equal(got, want) {
		t.Fatalf("bbolt holds %q, want %q", got, want)
	}
	check("after the flush")
	// Half flushed, half not: one range reads from both.
	MustPut(t, s, "c", "3")
	resp, err := s.Range(&cairn.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := kvsString(resp.Kvs), []string{"a=1 c2 m3 v2 l0", "b=2 c4 m4 v1 l0", "c=3 c5 m5 v1 l0"}; !slices.Equal(got, want) {
		t.Fatalf("mixed read %q, want %q", got, want)
	}
}

// TestCrashKeepsLastFlush: a crash loses exactly the batches after the last
// flush; bbolt holds the flushed state with its consistent index, never a
// mix, and replaying the lost batches gives the same state again.
func TestCrashKeepsLastFlush(t *testing.T) {
	path := testDB(t)
	s := manual(t, path, Options{})
	MustPut(t, s, "a", "1") // 2, ci 1
	MustPut(t, s, "b", "1") // 3, ci 2
	mustFlush(t, s)
	before := snapshot(t, s)

	lost := []func(b *Batch){
		func(b *Batch) { b.Put(&cairn.PutRequest{Key: []byte("a"), Value: []byte("2")}) }, // 4
		func(b *Batch) { b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte("b")}) },     // 5
		func(b *Batch) { b.Compact(&cairn.CompactionRequest{Revision: 4}) },
		func(b *Batch) { b.Put(&cairn.PutRequest{Key: []byte("c"), Value: []byte("3")}) }, // 6
	}
	for _, f := range lost {
		MustApply(t, s, f)
	}
	after := snapshot(t, s)
	if s.Rev() != 6 || s.CompactRev() != 4 || s.ConsistentIndex() != 6 || s.DurableIndex() != 2 {
		t.Fatalf("before the crash: rev %d compact %d ci %d durable %d", s.Rev(), s.CompactRev(), s.ConsistentIndex(), s.DurableIndex())
	}
	crash(t, s)

	if got, want := diskRevisions(t, path), []string{"2.0 a", "3.0 b"}; !slices.Equal(got, want) {
		t.Fatalf("bbolt holds %q, want %q", got, want)
	}
	if ci, sch := metaField(t, path, metaConsistentIndex), metaField(t, path, metaScheduledCompactRev); ci != 2 || sch != -1 {
		t.Fatalf("meta consistent_index %d scheduled_compact_rev %d, want 2 and absent", ci, sch)
	}
	s = MustOpen(t, path, Options{})
	if s.Rev() != 3 || s.CompactRev() != 0 || s.ConsistentIndex() != 2 || s.DurableIndex() != 2 {
		t.Fatalf("reopened at rev %d compact %d ci %d durable %d, want 3 0 2 2", s.Rev(), s.CompactRev(), s.ConsistentIndex(), s.DurableIndex())
	}
	if got := snapshot(t, s); !mapsEqual(got, before) {
		t.Fatalf("reopened state %v, want the flushed %v", got, before)
	}
	// The server replays the raft entries after the consistent index.
	for _, f := range lost {
		MustApply(t, s, f)
	}
	if got := snapshot(t, s); !mapsEqual(got, after) {
		t.Fatalf("replayed state %v, want %v", got, after)
	}
}

func mapsEqual(a, b map[int64][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestFlushFailureIsSticky: a flush that fails (bbolt rolls it back, as a
// crash before its commit would) stops the store taking batches: Commit and
// Flush return the error, reads still see what was committed, Close returns
// the error, and bbolt keeps the last good flush.
func TestFlushFailureIsSticky(t *testing.T) {
	path := testDB(t)
	boom := errors.New("disk on fire")
	var fail bool
	s, err := Open(path, Options{hooks: &testHooks{manualFlush: true, duringFlush: func(int) error {
		if fail {
			return boom
		}
		return nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	mustFlush(t, s)
	MustPut(t, s, "a", "2")
	fail = true
	if err := s.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v, want %v", err, boom)
	}
	if err := s.Flush(); !errors.Is(err, boom) {
		t.Fatalf("second Flush = %v, want %v", err, boom)
	}
	if got := kvString(MustGet(t, s, "a")); got != "a=2 c2 m3 v2 l0" {
		t.Fatalf("a = %s after the failed flush", got)
	}
	b := s.Begin()
	if _, err := b.Put(&cairn.PutRequest{Key: []byte("a"), Value: []byte("3")}); !errors.Is(err, boom) {
		t.Fatalf("Put after the failed flush: %v", err)
	}
	if err := b.Commit(3); !errors.Is(err, boom) {
		t.Fatalf("Commit after the failed flush: %v", err)
	}
	if s.Rev() != 3 || s.ConsistentIndex() != 2 || s.DurableIndex() != 1 {
		t.Fatalf("rev %d ci %d durable %d, want 3 2 1", s.Rev(), s.ConsistentIndex(), s.DurableIndex())
	}
	if err := s.Close(); !errors.Is(err, boom) {
		t.Fatalf("Close = %v, want %v", err, boom)
	}
	s = MustOpen(t, path, Options{})
	if got := kvString(MustGet(t, s, "a")); got != "a=1 c2 m2 v1 l0" || s.ConsistentIndex() != 1 {
		t.Fatalf("reopened: a = %s ci %d, want the first flush", got, s.ConsistentIndex())
	}
}

// TestCommitAfterFlushFailed: a batch open while a flush fails cannot
// commit, and nothing of it becomes visible.
func TestCommitAfterFlushFailed(t *testing.T) {
	boom := errors.New("disk on fire")
	s, err := Open(testDB(t), Options{hooks: &testHooks{manualFlush: true, duringFlush: func(int) error { return boom }}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	MustPut(t, s, "a", "1")
	b := s.Begin()
	if _, err := b.Put(&cairn.PutRequest{Key: []byte("b"), Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v", err)
	}
	if err := b.Commit(2); !errors.Is(err, boom) {
		t.Fatalf("Commit = %v, want %v", err, boom)
	}
	if MustGet(t, s, "b") != nil || s.Rev() != 2 {
		t.Fatalf("the refused batch is visible: rev %d", s.Rev())
	}
}

// TestBackpressure: with the flusher never flushing on its own, Commit
// itself waits for a flush whenever more than the limit is pending, so the
// lag stays bounded.
func TestBackpressure(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"records", Options{MaxPendingRecords: 10}},
		{"bytes", Options{MaxPendingBytes: 10 * (recordHeaderLen + 2 + 100 + recOverhead)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := manual(t, testDB(t), tc.opts)
			val := strings.Repeat("v", 100)
			flushes := 0
			for i := 1; i <= 30; i++ {
				durable := s.DurableIndex()
				MustApply(t, s, func(b *Batch) {
					for k := 0; k < 3; k++ {
						if _, err := b.Put(&cairn.PutRequest{Key: fmt.Appendf(nil, "k%d", k), Value: []byte(val)}); err != nil {
							t.Fatal(err)
						}
					}
				})
				if s.DurableIndex() != durable {
					flushes++
				}
				// 10 records (or their bytes) pass the limit after 4
				// batches of 3; the next Commit flushes them first.
				if lag := s.ConsistentIndex() - s.DurableIndex(); lag > 4 {
					t.Fatalf("batch %d: %d batches not flushed", i, lag)
				}
			}
			if flushes < 5 {
				t.Fatalf("%d flushes for 90 records through a limit of 10", flushes)
			}
		})
	}
}

// TestFlusherOnItsOwn: the flusher writes pending batches after
// FlushInterval, and at once when a tenth of a limit is pending.
func TestFlusherOnItsOwn(t *testing.T) {
	t.Run("interval", func(t *testing.T) {
		s := MustOpen(t, testDB(t), Options{FlushInterval: time.Millisecond})
		MustPut(t, s, "a", "1")
		waitFor(t, "flush after the interval", func() bool { return s.DurableIndex() == 1 })
		MustPut(t, s, "a", "2")
		waitFor(t, "second flush", func() bool { return s.DurableIndex() == 2 })
	})
	t.Run("size", func(t *testing.T) {
		// An hour's interval: only the size can start the flush.
		s := MustOpen(t, testDB(t), Options{FlushInterval: time.Hour, MaxPendingRecords: 100})
		MustPut(t, s, "a", "1")
		MustApply(t, s, func(b *Batch) {
			for k := 0; k < 9; k++ {
				b.Put(&cairn.PutRequest{Key: fmt.Appendf(nil, "k%d", k)})
			}
		})
		waitFor(t, "flush of 10 records", func() bool { return s.DurableIndex() == 2 })
	})
}

// TestCompactionWaitsForItsFlush: the physical removal starts only once the
// compaction is in bbolt, and removes records that were compacted away while
// still in memory once they reach bbolt.
func TestCompactionWaitsForItsFlush(t *testing.T) {
	path := testDB(t)
	s := manual(t, path, Options{})
	MustPut(t, s, "a", "1") // 2
	MustPut(t, s, "a", "2") // 3
	mustFlush(t, s)
	MustPut(t, s, "a", "3") // 4, in memory
	MustPut(t, s, "a", "4") // 5, in memory
	_, done, err := compact(t, s, 5)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("physical compaction done before the compaction was flushed")
	default:
	}
	if got, want := storeRevisions(t, s), []string{"2.0 a", "3.0 a"}; !slices.Equal(got, want) {
		t.Fatalf("before the flush bbolt holds %q, want %q", got, want)
	}
	mustFlush(t, s)
	waitClosed(t, done, "physical compaction")
	if got, want := storeRevisions(t, s), []string{"5.0 a"}; !slices.Equal(got, want) {
		t.Fatalf("after the compaction bbolt holds %q, want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if sch, fin := metaField(t, path, metaScheduledCompactRev), metaField(t, path, metaFinishedCompactRev); sch != 5 || fin != 5 {
		t.Fatalf("meta scheduled %d finished %d, want 5 5", sch, fin)
	}
}

// TestCloseFlushes: Close writes what the flusher had not.
func TestCloseFlushes(t *testing.T) {
	path := testDB(t)
	s := manual(t, path, Options{})
	MustPut(t, s, "a", "1")
	MustDelete(t, s, "a", "")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := diskRevisions(t, path), []string{"2.0 a", "3.0 a tomb"}; !slices.Equal(got, want) {
		t.Fatalf("bbolt holds %q, want %q", got, want)
	}
	if ci := metaField(t, path, metaConsistentIndex); ci != 2 {
		t.Fatalf("consistent_index %d, want 2", ci)
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("Flush after Close, everything written: %v", err)
	}
}
