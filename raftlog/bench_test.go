package raftlog

import (
	"fmt"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// BenchmarkSave measures one Save (one write and one fdatasync) of n
// 256-byte entries and a HardState, as the raft loop does per Ready. The
// segment size is the default, so rotation is rare.
func BenchmarkSave(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			opts, _ := testOptions(0)
			l := mustCreate(b, b.TempDir(), nil, opts)
			batch := makeEntries(1, uint64(n), 1, 256)
			bytes := 0
			for i := range batch {
				bytes += batch[i].Size()
			}
			b.SetBytes(int64(bytes))
			next := uint64(1)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				for i := range batch {
					batch[i].Index = next + uint64(i)
				}
				next += uint64(n)
				if err := l.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: next - 1}, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
