package raftlog

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkOpen measures replaying a WAL of 10,000 256-byte entries in
// default-size (64 MiB, preallocated) segments.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	opts, _ := testOptions(0)
	l := mustCreate(b, dir, nil, opts)
	for i := uint64(1); i <= 10000; i += 100 {
		mustSave(b, l, raftpb.HardState{Term: 1, Commit: i + 99}, makeEntries(i, i+99, 1, 256))
	}
	mustClose(b, l)
	for b.Loop() {
		l, err := Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}
