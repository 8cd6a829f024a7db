package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// TestRangeConcurrentWithBatches runs readers against an applier that writes
// batches and compacts behind itself, with a small compaction chunk so the
// physical removal interleaves with everything, and the flusher moving
// records from memory to bbolt under them: every millisecond, or only when
// Commit hits the limit of pending records (every third batch or so). Every
// batch writes the same value to all keys k0..k9 (ten revisions per batch),
// so a reader that saw half a batch, or a revision not committed, would see
// mixed values, and one that missed a record in both places would fail.
func TestRangeConcurrentWithBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"interval", Options{CompactionBatchLimit: 4, FlushInterval: time.Millisecond}},
		{"backpressure", Options{CompactionBatchLimit: 4, MaxPendingRecords: 25, hooks: &testHooks{manualFlush: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) { testRangeConcurrentWithBatches(t, tc.opts) })
	}
}

func testRangeConcurrentWithBatches(t *testing.T, opts Options) {
	const (
		keys    = 10
		batches = 200
		readers = 4
	)
	s := MustOpen(t, testDB(t), opts)
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		failures = make(chan error, readers)
	)
	// Batch i (from 1) ends at revision 1 + keys*i.
	boundary := func(i int64) int64 { return 1 + keys*i }

	check := func(resp *cairn.RangeResponse, atRev int64) error {
		if len(resp.Kvs) == 0 {
			if atRev == 1 || resp.Header.Revision == 1 {
				return nil
			}
			return fmt.Errorf("no keys at %d (header %d)", atRev, resp.Header.Revision)
		}
		if len(resp.Kvs) != keys || resp.Count != keys {
			return fmt.Errorf("%d keys (count %d) at %d", len(resp.Kvs), resp.Count, atRev)
		}
		for _, kv := range resp.Kvs {
			if string(kv.Value) != string(resp.Kvs[0].Value) {
				return fmt.Errorf("mixed batches at %d: %s vs %s", atRev, kvString(kv), kvString(resp.Kvs[0]))
			}
		}
		if last := resp.Kvs[keys-1].ModRevision; atRev == 0 && last != resp.Header.Revision {
			return fmt.Errorf("newest mod_revision %d but header %d", last, resp.Header.Revision)
		} else if atRev != 0 && last != atRev {
			return fmt.Errorf("read at %d found newest mod_revision %d", atRev, last)
		}
		return nil
	}

	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			var lastHeader int64
			for i := 0; !stop.Load(); i++ {
				req := &cairn.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")}
				if i%2 == 1 {
					// A past batch boundary at or above the compaction.
					cur := s.Rev()
					lo := (max(s.CompactRev(), 1) - 1 + keys - 1) / keys
					hi := (cur - 1) / keys
					if hi >= lo {
						req.Revision = boundary(lo + int64(i)%(hi-lo+1))
					}
				}
				resp, err := s.Range(req)
				if errors.Is(err, cairn.ErrCompacted) && req.Revision < s.CompactRev() {
					continue // the compaction overtook us: fine
				}
				if err == nil {
					err = check(resp, req.Revision)
				}
				if err == nil && resp.Header.Revision < lastHeader {
					err = fmt.Errorf("header went back from %d to %d", lastHeader, resp.Header.Revision)
				}
				if err != nil {
					failures <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				lastHeader = resp.Header.Revision
			}
		}(r)
	}

	for i := int64(1); i <= batches && len(failures) == 0; i++ {
		MustApply(t, s, func(b *Batch) {
			for k := 0; k < keys; k++ {
				if _, err := b.Put(&cairn.PutRequest{Key: []byte(fmt.Sprintf("k%d", k)), Value: []byte(fmt.Sprint(i))}); err != nil {
					t.Error(err)
				}
			}
			if i%10 == 0 {
				// Compact three batches behind.
				if _, _, err := b.Compact(&cairn.CompactionRequest{Revision: boundary(i - 3)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	stop.Store(true)
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	if s.Rev() != boundary(batches) {
		t.Fatalf("ended at revision %d, want %d", s.Rev(), boundary(batches))
	}
	if opts.hooks != nil {
		// 2000 records through a limit of 25: Commit had to flush.
		if s.DurableIndex() == 0 {
			t.Fatal("nothing was flushed while the batches ran")
		}
	} else {
		// The flusher gets everything to bbolt on its own.
		waitFor(t, "flusher to catch up", func() bool { return s.DurableIndex() == s.ConsistentIndex() })
	}
}
