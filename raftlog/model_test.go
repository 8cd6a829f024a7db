package raftlog

import (
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// logModel is what a reopened log must hold: the latest snapshot, the
// entries after it and the HardState.
type logModel struct {
	snapIndex, snapTerm uint64
	ents                []raftpb.Entry // after the snapshot
	hs                  raftpb.HardState
}

func (m *logModel) last() uint64 {
	if len(m.ents) == 0 {
		return m.snapIndex
	}
	return m.ents[len(m.ents)-1].Index
}

func (m *logModel) term(i uint64) uint64 {
	if i == m.snapIndex {
		return m.snapTerm
	}
	return m.ents[i-m.snapIndex-1].Term
}

// Random raft-like histories (appends that overwrite uncommitted suffixes,
// snapshots of the own log and from a leader, compaction) in small segments,
// checked against a model after every reopen.
func TestRandomHistoriesAgainstModel(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		dir := t.TempDir()
		opts, _ := testOptions(4 << 10)
		l := mustCreate(t, dir, []byte("model"), opts)
		var m logModel
		term := uint64(1)
		for step := range 400 {
			switch op := rng.IntN(100); {
			case op < 70: // a Ready with entries and a HardState
				if rng.IntN(8) == 0 {
					term++
				}
				lo := max(m.snapIndex, m.hs.Commit) + 1
				start := lo + uint64(rng.IntN(int(m.last()+2-lo)))
				ents := makeEntries(start, start+uint64(rng.IntN(20)), term, rng.IntN(300))
				m.ents = append(m.ents[:start-m.snapIndex-1], ents...)
				commit := m.hs.Commit + uint64(rng.IntN(int(m.last()-m.hs.Commit)+1))
				m.hs = raftpb.HardState{Term: term, Vote: 1, Commit: commit}
				mustSave(t, l, m.hs, ents)
			case op < 80 && m.hs.Commit > m.snapIndex: // snapshot of the own log, then compact
				i := m.snapIndex + 1 + uint64(rng.IntN(int(m.hs.Commit-m.snapIndex)))
				st := m.term(i)
				if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: st}}); err != nil {
					t.Fatal(err)
				}
				m.ents = append([]raftpb.Entry(nil), m.ents[i-m.snapIndex:]...)
				m.snapIndex, m.snapTerm = i, st
				first, _ := l.FirstIndex()
				if c := first - 1 + uint64(rng.IntN(int(i-first+2))); c >= first {
					if err := l.Compact(c); err != nil {
						t.Fatal(err)
					}
				}
			case op < 85: // a snapshot from a leader, ahead of the log
				term++
				i := m.last() + 1 + uint64(rng.IntN(50))
				if err := l.SaveSnapshot(raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: i, Term: term}}); err != nil {
					t.Fatal(err)
				}
				m.snapIndex, m.snapTerm, m.ents = i, term, nil
				if rng.IntN(3) > 0 { // else: crash before the Ready's HardState
					m.hs = raftpb.HardState{Term: term, Commit: i}
					mustSave(t, l, m.hs, nil)
				} else {
					m.hs = raftpb.HardState{Term: term, Vote: 0, Commit: i}
				}
			default: // restart
				mustClose(t, l)
				l = mustOpen(t, dir, opts)
				if first, _ := l.FirstIndex(); first != m.snapIndex+1 {
					t.Fatalf("seed %d step %d: FirstIndex %d after reopen, want %d", seed, step, first, m.snapIndex+1)
				}
				checkEntries(t, l, m.ents)
				checkHardState(t, l, m.hs)
				if term < m.hs.Term {
					term = m.hs.Term
				}
			}
			if last, _ := l.LastIndex(); last != m.last() {
				t.Fatalf("seed %d step %d: LastIndex %d, want %d", seed, step, last, m.last())
			}
		}
		mustClose(t, l)
		l = mustOpen(t, dir, opts)
		checkEntries(t, l, m.ents)
		checkHardState(t, l, m.hs)
		mustClose(t, l)
	}
}
