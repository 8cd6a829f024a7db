package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

func TestClosedStore(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	size := s.Size()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = s.Range(&cairn.RangeRequest{Key: []byte("a")})
	wantErr(t, err, cairn.ErrStopped)
	b := s.Begin()
	_, err = b.Put(&cairn.PutRequest{Key: []byte("a")})
	wantErr(t, err, cairn.ErrStopped)
	wantErr(t, b.Commit(9), cairn.ErrStopped)
	if s.Rev() != 2 || s.Size() != size {
		t.Fatalf("closed store reports rev %d size %d, want 2 %d", s.Rev(), s.Size(), size)
	}
}

func TestOneBatchAtATime(t *testing.T) {
	s := MustNew(t)
	b1 := s.Begin()
	b2 := s.Begin()
	if _, err := b2.Put(&cairn.PutRequest{Key: []byte("x")}); err == nil {
		t.Fatal("second open batch accepted a put")
	}
	if _, err := b1.Put(&cairn.PutRequest{Key: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := b1.Commit(1); err != nil {
		t.Fatal(err)
	}
	if err := b1.Commit(2); err == nil {
		t.Fatal("a batch committed twice")
	}
	MustPut(t, s, "y", "1") // the next batch works
}

// TestAbortedBatch: an abandoned batch leaves nothing visible, reads keep
// working, and the store refuses further batches (the server must replay).
func TestAbortedBatch(t *testing.T) {
	path := testDB(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, "a", "1")
	b := s.Begin()
	b.Put(&cairn.PutRequest{Key: []byte("a"), Value: []byte("2")})
	b.Put(&cairn.PutRequest{Key: []byte("new"), Value: []byte("n")})
	b.DeleteRange(&cairn.DeleteRangeRequest{Key: []byte("a")})
	b.Abort()
	if got := kvString(MustGet(t, s, "a")); got != "a=1 c2 m2 v1 l0" || MustGet(t, s, "new") != nil || s.Rev() != 2 {
		t.Fatalf("after abort: a %s, new %v, rev %d", got, MustGet(t, s, "new"), s.Rev())
	}
	if _, err := s.Begin().Put(&cairn.PutRequest{Key: []byte("b")}); err == nil {
		t.Fatal("store took a batch after an abort")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening recovers the committed state.
	s = MustOpen(t, path, Options{})
	if got := kvString(MustGet(t, s, "a")); got != "a=1 c2 m2 v1 l0" || s.Rev() != 2 || s.ConsistentIndex() != 1 {
		t.Fatalf("after reopen: a %s rev %d ci %d", got, s.Rev(), s.ConsistentIndex())
	}
	MustPut(t, s, "b", "1")
}

func TestSizes(t *testing.T) {
	s := MustNew(t)
	if s.Size() <= 0 || s.SizeInUse() <= 0 || s.SizeInUse() > s.Size() {
		t.Fatalf("new store: size %d in use %d", s.Size(), s.SizeInUse())
	}
	val := bytes.Repeat([]byte("v"), 1024)
	MustApply(t, s, func(b *Batch) {
		for i := 0; i < 2000; i++ {
			if _, err := b.Put(&cairn.PutRequest{Key: []byte(fmt.Sprintf("k%05d", i)), Value: val}); err != nil {
				t.Fatal(err)
			}
		}
	})
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	full, fullInUse := s.Size(), s.SizeInUse()
	if full < 2000*1024 {
		t.Fatalf("size %d after writing 2 MB", full)
	}
	MustDelete(t, s, "\x00", "\x00")
	MustCompact(t, s, s.Rev())
	// The file does not shrink, but the pages the compaction freed are no
	// longer in use.
	if s.Size() < full || s.SizeInUse() >= fullInUse/2 {
		t.Fatalf("after compacting everything: size %d (was %d), in use %d (was %d)", s.Size(), full, s.SizeInUse(), fullInUse)
	}
}

func TestOpenLockedFile(t *testing.T) {
	path := testDB(t)
	MustOpen(t, path, Options{})
	_, err := Open(path, Options{OpenTimeout: 50 * time.Millisecond})
	if err == nil || errors.Is(err, cairn.ErrStopped) {
		t.Fatalf("second Open of a locked file: %v", err)
	}
}

// KeyCount counts the keys of the index, deleted ones too until a
// compaction drops them, and ObserveCommit hears of each bbolt write
// transaction: the flushes and the chunks of physical compaction.
func TestKeyCountAndObserveCommit(t *testing.T) {
	var commits atomic.Int64
	s := MustOpen(t, testDB(t), Options{ObserveCommit: func(time.Duration) { commits.Add(1) }})
	MustPut(t, s, "a", "1")
	MustPut(t, s, "b", "1")
	MustPut(t, s, "a", "2")
	if n := s.KeyCount(); n != 2 {
		t.Fatalf("KeyCount after 2 keys: %d", n)
	}
	MustDelete(t, s, "b", "")
	if n := s.KeyCount(); n != 2 {
		t.Fatalf("KeyCount after a delete, before compaction: %d, want 2", n)
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := commits.Load()
	if flushed == 0 {
		t.Fatal("no commit observed after a flush")
	}
	var done <-chan struct{}
	MustApply(t, s, func(b *Batch) {
		var err error
		if _, done, err = b.Compact(&cairn.CompactionRequest{Revision: s.Rev()}); err != nil {
			t.Fatal(err)
		}
	})
	<-done
	if n := s.KeyCount(); n != 1 {
		t.Fatalf("KeyCount after compacting the deleted key away: %d, want 1", n)
	}
	if commits.Load() <= flushed {
		t.Fatalf("the compaction's transactions were not observed (%d, %d before)", commits.Load(), flushed)
	}
}
