package raftlog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/failpoint"
)

// keepBufBytes is the largest encoding buffer kept between writes.
const keepBufBytes = 4 << 20

// Save writes hs (unless raft.IsEmptyHardState(hs)) and ents in one write
// and makes them durable with one fdatasync before it returns, then adds them
// to the in-memory storage. A HardState that only moves the commit index,
// with no entries, is written without the fdatasync, as raft.MustSync
// allows: raft does not need a commit index to survive a crash (it learns it
// again), and replay cuts such records off when a crash lost them (see the
// package documentation, "Writes"). Call Save with a raft Ready's HardState
// and Entries before sending the Ready's messages or answering clients.
// Entries are written before the HardState, so a HardState never refers to
// entries a crash could have cut off.
//
// ents must be consecutive, start after the latest snapshot and at most one
// past LastIndex, and not lower the term of the entry before them; entries
// whose first index is at or below LastIndex replace the log from that index
// on (what raft sends after a leader change). Violations return an error and
// write nothing, as does an entry larger than MaxRecordBytes (ErrTooLarge).
// Saving nothing (empty HardState, no entries) does not touch the disk.
//
// A write or fsync failure is returned and makes every later write fail;
// the caller should stop the member.
func (l *Log) Save(hs raftpb.HardState, ents []raftpb.Entry) error {
	if err := l.usable(); err != nil {
		return err
	}
	hasHS := !raft.IsEmptyHardState(hs)
	if !hasHS && len(ents) == 0 {
		return nil
	}
	if err := l.checkEntries(ents); err != nil {
		return err
	}
	// As raft.MustSync: only a new term, a new vote or new entries need the
	// fdatasync. A lost commit index is learned again from the leader (or,
	// on a single member, from the entries and the store's applied index).
	// The write still reaches the file, so the next fdatasync covers it.
	l.mu.Lock()
	prev := l.hs
	l.mu.Unlock()
	sync := len(ents) > 0 || hs.Term != prev.Term || hs.Vote != prev.Vote
	err := l.writeBatch(sync, func(buf []byte, synced int64) ([]byte, error) {
		var err error
		for i := range ents {
			if buf, err = appendEntry(buf, synced, &ents[i]); err != nil {
				return buf, err
			}
		}
		if hasHS {
			buf, err = appendHardState(buf, synced, &hs)
		}
		return buf, err
	})
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		if err := l.ms.Append(ents); err != nil {
			return l.fail(err)
		}
		seg := &l.segs[len(l.segs)-1]
		seg.maxEntry = max(seg.maxEntry, ents[len(ents)-1].Index)
	}
	if hasHS {
		l.ms.SetHardState(hs)
		l.mu.Lock()
		l.hs = hs
		l.mu.Unlock()
	}
	return nil
}

// checkEntries refuses entries that would leave the log in a shape replay
// rejects.
func (l *Log) checkEntries(ents []raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	for i := 1; i < len(ents); i++ {
		if ents[i].Index != ents[i-1].Index+1 {
			return fmt.Errorf("raftlog: entries not consecutive: %d follows %d", ents[i].Index, ents[i-1].Index)
		}
		if ents[i].Term < ents[i-1].Term {
			return fmt.Errorf("raftlog: entry %d has term %d, lower than the term %d of entry %d", ents[i].Index, ents[i].Term, ents[i-1].Term, ents[i-1].Index)
		}
	}
	first := ents[0].Index
	l.mu.Lock()
	snap := l.snap
	l.mu.Unlock()
	if first <= snap.Index {
		return fmt.Errorf("raftlog: entry %d is at or before the snapshot at index %d", first, snap.Index)
	}
	last, _ := l.ms.LastIndex()
	if first > last+1 {
		return fmt.Errorf("raftlog: entry %d would leave a gap after the last entry %d", first, last)
	}
	if prev, err := l.ms.Term(first - 1); err == nil && ents[0].Term < prev {
		return fmt.Errorf("raftlog: entry %d has term %d, lower than the term %d of entry %d", first, ents[0].Term, prev, first-1)
	}
	return nil
}

// SaveSnapshot records snap's metadata (index, term, conf state) durably and
// applies it to the in-memory storage; Snapshot then returns it.
//
// A snapshot taken from this log (its index is in the log with the same
// term) keeps the entries in memory: Compact drops the old ones later, so the
// member can still send them to slow followers. Any other snapshot (one
// received from a leader) replaces the whole log, which then continues right
// after snap's index. On Open the log starts after the latest snapshot either
// way. For a Ready that carries a snapshot, call SaveSnapshot before Save
// with the Ready's HardState and entries.
//
// snap.Data must be empty (the state machine's snapshot is kept elsewhere).
// It returns raft.ErrSnapOutOfDate when snap is not newer than the latest
// snapshot, and an error for an empty snapshot (index 0); neither writes
// anything. A write or fsync failure is returned and makes every later write
// fail.
func (l *Log) SaveSnapshot(snap raftpb.Snapshot) error {
	if err := l.usable(); err != nil {
		return err
	}
	md := snap.Metadata
	md.ConfState = cloneConfState(md.ConfState)
	if md.Index == 0 {
		return errors.New("raftlog: empty snapshot (index 0)")
	}
	if len(snap.Data) > 0 {
		return fmt.Errorf("raftlog: snapshot carries %d bytes of data; the raft log keeps snapshot metadata only", len(snap.Data))
	}
	l.mu.Lock()
	cur := l.snap.Index
	l.mu.Unlock()
	if md.Index <= cur {
		return raft.ErrSnapOutOfDate
	}
	mode := snapReplace
	if last, _ := l.ms.LastIndex(); md.Index <= last {
		if t, err := l.ms.Term(md.Index); err == nil && t == md.Term {
			mode = snapKeep
		}
	}
	err := l.writeBatch(true, func(buf []byte, synced int64) ([]byte, error) {
		return appendSnapshot(buf, synced, mode, &md)
	})
	if err != nil {
		return err
	}
	if mode == snapKeep {
		cs := cloneConfState(md.ConfState)
		_, err = l.ms.CreateSnapshot(md.Index, &cs, nil)
	} else {
		err = l.ms.ApplySnapshot(raftpb.Snapshot{Metadata: md})
	}
	if err != nil {
		return l.fail(err)
	}
	l.mu.Lock()
	l.snap = md
	l.mu.Unlock()
	return nil
}

// writeBatch appends one batch to the current segment, rotating first if
// it does not fit, and fdatasyncs it if sync. encode appends the batch's
// records to buf, each saying that the segment is durable up to synced; it
// runs again after a rotation, for the new segment. Write failures are
// sticky; an encoding error writes nothing.
func (l *Log) writeBatch(sync bool, encode func(buf []byte, synced int64) ([]byte, error)) error {
	b, err := encode(l.buf[:0], l.synced)
	defer func() { l.keepBuf(b) }()
	if err != nil {
		return err
	}
	if len(b) > math.MaxUint32 {
		return fmt.Errorf("%w: one write of %d bytes", ErrTooLarge, len(b))
	}
	if l.off+int64(len(b)) > l.segBytes && l.off > l.headEnd {
		if err := l.rotate(); err != nil {
			return l.fail(err)
		}
		if b, err = encode(b[:0], l.synced); err != nil {
			return err
		}
	}
	err = failpoint.Err("raftlog/beforeWrite")
	if err == nil {
		_, err = l.f.WriteAt(b, l.off)
	}
	if err != nil {
		return l.fail(fmt.Errorf("raftlog: writing %s: %w", l.segs[len(l.segs)-1].name, err))
	}
	l.off += int64(len(b))
	failpoint.Hit("raftlog/afterWrite")
	if !sync {
		return nil
	}
	if err := l.sync(fdatasync); err != nil {
		return l.fail(fmt.Errorf("raftlog: syncing %s: %w", l.segs[len(l.segs)-1].name, err))
	}
	l.synced = l.off
	failpoint.Hit("raftlog/afterSync")
	return nil
}

func (l *Log) keepBuf(b []byte) {
	if cap(b) <= keepBufBytes {
		l.buf = b[:0]
	} else {
		l.buf = nil
	}
}

// rotate ends the current segment and starts the next one. The current
// segment is cut to the bytes it holds and fsynced before the new segment
// appears, so every segment but the last ends exactly after its last record.
func (l *Log) rotate() error {
	cur := l.segs[len(l.segs)-1]
	if err := l.f.Truncate(l.off); err != nil {
		return fmt.Errorf("raftlog: ending %s: %w", cur.name, err)
	}
	if err := l.sync((*os.File).Sync); err != nil {
		return fmt.Errorf("raftlog: ending %s: %w", cur.name, err)
	}
	last, _ := l.ms.LastIndex()
	f, name, headEnd, err := l.createSegment(cur.seq+1, last+1)
	if err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		f.Close()
		return fmt.Errorf("raftlog: closing %s: %w", cur.name, err)
	}
	prevBytes := l.off
	l.f, l.off, l.headEnd, l.synced = f, headEnd, headEnd, headEnd
	l.segs = append(l.segs, segmentInfo{seq: cur.seq + 1, name: name})
	l.logger.Debug("raftlog: started a new segment", "dir", l.dir, "file", name, "previous", cur.name, "previous_bytes", prevBytes)
	return nil
}

// sync syncs the current segment with how (fdatasync or a full fsync) and
// tells Options.ObserveFsync how long it took.
func (l *Log) sync(how func(*os.File) error) error {
	start := time.Now()
	err := failpoint.Err("raftlog/beforeSync") // a slow disk counts in the fsync time
	if err == nil {
		err = how(l.f)
	}
	if l.observe != nil {
		l.observe(time.Since(start))
	}
	return err
}

// fail makes err sticky and returns it.
func (l *Log) fail(err error) error {
	l.err = err
	return err
}
