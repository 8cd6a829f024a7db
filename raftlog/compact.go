package raftlog

import (
	"errors"
	"fmt"
	"os"

	"go.etcd.io/raft/v3"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// Compact drops the entries before index from memory (FirstIndex becomes
// index+1; the term of entry index is kept) and removes the oldest segment
// files whose entries all lie at or before index. index must not be after
// the latest snapshot, so every removed entry is covered by it; what replay
// needs survives in the remaining segments, because every segment starts
// with the metadata, the latest snapshot and the HardState current when it
// was created. The segment being written is never removed.
//
// It returns raft.ErrCompacted (after removing files) when memory was
// already compacted to index or beyond, an error when index is after the
// latest snapshot, and file-system errors from removing segments.
func (l *Log) Compact(index uint64) error {
	if err := l.usable(); err != nil {
		return err
	}
	l.mu.Lock()
	snap := l.snap.Index
	l.mu.Unlock()
	if index > snap {
		return fmt.Errorf("raftlog: cannot compact to %d: the latest snapshot is at %d", index, snap)
	}
	memErr := l.ms.Compact(index)
	if memErr != nil && !errors.Is(memErr, raft.ErrCompacted) {
		return memErr
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n].maxEntry <= index {
		n++
	}
	if n == 0 {
		return memErr
	}
	// Oldest first: a crash part way leaves a contiguous run of segments.
	removed := 0
	var err error
	for ; removed < n; removed++ {
		if err = os.Remove(segmentPath(l.dir, l.segs[removed].name)); err != nil {
			break
		}
	}
	if removed > 0 {
		l.logger.Debug("raftlog: removed old segments", "dir", l.dir, "count", removed,
			"first", l.segs[0].name, "last", l.segs[removed-1].name, "compact_index", index)
		l.segs = append(l.segs[:0], l.segs[removed:]...)
		if serr := fsutil.SyncDir(l.dir); err == nil {
			err = serr
		}
	}
	if err != nil {
		return fmt.Errorf("raftlog: removing old segments: %w", err)
	}
	return memErr
}
