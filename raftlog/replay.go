package raftlog

import (
	"bytes"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// replayState rebuilds the raft state from records in log order. Its rules
// mirror what Save, SaveSnapshot and segment rotation did to the in-memory
// storage, so that replay yields what the member had before it stopped.
type replayState struct {
	metadata []byte
	haveMeta bool
	hs       raftpb.HardState
	snap     raftpb.SnapshotMetadata
	// ents is a run of consecutive entries after snap.Index. It may start
	// after snap.Index+1 while replay is under way when older segments were
	// removed by Compact; a later snapshot record closes that gap, and
	// finish checks that it did.
	ents []raftpb.Entry
}

func (r *replayState) last() uint64 {
	if len(r.ents) == 0 {
		return r.snap.Index
	}
	return r.ents[len(r.ents)-1].Index
}

// apply folds one record into the state. It returns a reason (not yet tied to
// a file and offset) when the record contradicts what came before.
func (r *replayState) apply(rec *record) error {
	switch rec.typ {
	case typeMetadata:
		if !r.haveMeta {
			r.metadata, r.haveMeta = rec.metadata, true
		} else if !bytes.Equal(r.metadata, rec.metadata) {
			return fmt.Errorf("metadata record differs from the metadata of earlier segments")
		}
	case typeHardState:
		r.hs = rec.hs
	case typeEntry:
		return r.applyEntry(rec.ent)
	case typeSnapshot:
		return r.applySnapshot(rec.snapMode, rec.snap)
	}
	return nil
}

func (r *replayState) applyEntry(e raftpb.Entry) error {
	if e.Index == 0 {
		return fmt.Errorf("entry with index 0")
	}
	if e.Index <= r.snap.Index {
		// Covered by the snapshot.
		return nil
	}
	if len(r.ents) == 0 || e.Index < r.ents[0].Index {
		// The first entry after the snapshot (or after removed segments),
		// or an overwrite that starts before the run we hold.
		if e.Index == r.snap.Index+1 && e.Term < r.snap.Term {
			return fmt.Errorf("entry %d has term %d, lower than the snapshot's term %d", e.Index, e.Term, r.snap.Term)
		}
		r.ents = append(r.ents[:0], e)
		return nil
	}
	first, last := r.ents[0].Index, r.last()
	if e.Index > last+1 {
		return fmt.Errorf("entry %d follows entry %d: entries are missing", e.Index, last)
	}
	// e replaces index e.Index and everything after it.
	r.ents = r.ents[:e.Index-first]
	if n := len(r.ents); n > 0 && e.Term < r.ents[n-1].Term {
		return fmt.Errorf("entry %d has term %d, lower than the term %d of entry %d", e.Index, e.Term, r.ents[n-1].Term, r.ents[n-1].Index)
	}
	r.ents = append(r.ents, e)
	return nil
}

func (r *replayState) applySnapshot(mode byte, s raftpb.SnapshotMetadata) error {
	switch {
	case s.Index == r.snap.Index && s.Term == r.snap.Term:
		// A segment head restating the current snapshot.
		return nil
	case s.Index <= r.snap.Index:
		return fmt.Errorf("snapshot at index %d (term %d) after a snapshot at index %d (term %d)", s.Index, s.Term, r.snap.Index, r.snap.Term)
	}
	r.snap = s
	if mode == snapReplace {
		r.ents = r.ents[:0]
		return nil
	}
	// The snapshot was taken from the log: entries after it stay.
	if len(r.ents) == 0 || r.ents[0].Index > s.Index {
		return nil
	}
	if s.Index > r.last() {
		return fmt.Errorf("snapshot at index %d taken from the log, but the log ends at %d", s.Index, r.last())
	}
	i := s.Index - r.ents[0].Index
	if t := r.ents[i].Term; t != s.Term {
		return fmt.Errorf("snapshot at index %d has term %d, but entry %d has term %d", s.Index, s.Term, s.Index, t)
	}
	r.ents = append([]raftpb.Entry(nil), r.ents[i+1:]...)
	return nil
}

// finish checks the state once every record is in and returns the HardState
// to hand raft. A HardState saved before a snapshot record (the caller saves
// a received snapshot first, then the Ready's HardState; a crash may fall in
// between) is lifted to cover the snapshot: it is committed, so commit is at
// least its index, and its term is at least the snapshot's term (with no
// vote in that term).
func (r *replayState) finish() (raftpb.HardState, error) {
	if len(r.ents) > 0 && r.ents[0].Index != r.snap.Index+1 {
		return r.hs, fmt.Errorf("the log has entries from %d on, but the snapshot ends at %d: entries %d to %d are missing",
			r.ents[0].Index, r.snap.Index, r.snap.Index+1, r.ents[0].Index-1)
	}
	hs := r.hs
	if hs.Term < r.snap.Term {
		hs.Term, hs.Vote = r.snap.Term, 0
	}
	if hs.Commit < r.snap.Index {
		hs.Commit = r.snap.Index
	}
	if hs.Commit > r.last() {
		return hs, fmt.Errorf("hardstate commit index %d is beyond the last entry %d", hs.Commit, r.last())
	}
	return hs, nil
}
