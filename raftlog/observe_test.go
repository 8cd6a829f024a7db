package raftlog

import (
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// ObserveFsync hears of every fsync a Save makes durable, and of none for
// a Save that only moves the commit index (which is not fsynced), on a log
// that was created and on one that was reopened.
func TestObserveFsync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "wal")
	var syncs []time.Duration
	opts, _ := testOptions(0)
	opts.ObserveFsync = func(d time.Duration) { syncs = append(syncs, d) }
	l := mustCreate(t, dir, nil, opts)
	ents := []raftpb.Entry{{Index: 1, Term: 1, Data: []byte("a")}}
	if err := l.Save(raftpb.HardState{Term: 1, Commit: 1}, ents); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 1 {
		t.Fatalf("after a Save with entries: %d fsyncs observed, want 1", len(syncs))
	}
	if err := l.Save(raftpb.HardState{Term: 1, Commit: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 1 {
		t.Fatalf("after a Save of an unchanged HardState: %d fsyncs observed, want 1", len(syncs))
	}
	l.Close()
	l = mustOpen(t, dir, opts)
	if err := l.Save(raftpb.HardState{Term: 2, Vote: 1, Commit: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 2 {
		t.Fatalf("after a vote on the reopened log: %d fsyncs observed, want 2", len(syncs))
	}
}
