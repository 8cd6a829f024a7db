package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// DefaultSegmentBytes is the preallocated size of a segment file when
// Options.SegmentBytes is 0: 64 MiB, as etcd's WAL.
const DefaultSegmentBytes = 64 << 20

// Options tunes a Log. The zero value is ready to use.
type Options struct {
	// SegmentBytes is the size, in bytes, preallocated for each segment file;
	// a segment is rotated when the next write would not fit. A single write
	// larger than this grows its segment instead of being split. 0 means
	// DefaultSegmentBytes; negative is an error.
	SegmentBytes int64
	// Logger receives torn-tail repairs (Warn), opening summaries (Info)
	// and segment rotation and removal (Debug). nil means slog.Default().
	Logger *slog.Logger
	// ObserveFsync, if set, is called after every fsync of a segment (the
	// one of each Save or SaveSnapshot that must be durable, and the one
	// that ends a segment) with how long it took, on the goroutine that
	// writes: keep it as cheap as a histogram observation.
	ObserveFsync func(time.Duration)
}

// Log is the raft log of one member on disk: a WAL of segment files in one
// directory, plus an in-memory raft.MemoryStorage kept in step with it, through
// which Log implements raft.Storage.
//
// Save, SaveSnapshot, Compact and Close must be called from one goroutine
// (the raft Ready loop). The raft.Storage methods and Metadata are safe to
// call from any goroutine at any time, also after Close.
//
// After a write or fsync fails, the Log refuses further writes: the page
// cache can no longer be trusted to match the disk. Reopen it to recover.
type Log struct {
	dir      string
	segBytes int64
	logger   *slog.Logger
	observe  func(time.Duration) // Options.ObserveFsync, or nil
	lockf    *os.File            // the directory, flocked while the Log is open
	metadata []byte
	ms       *raft.MemoryStorage

	mu   sync.Mutex // guards hs and snap for InitialState
	hs   raftpb.HardState
	snap raftpb.SnapshotMetadata

	segs    []segmentInfo // oldest first; the last one is being written
	f       *os.File      // the last segment
	off     int64         // where the next batch goes in f
	headEnd int64         // end of f's head batch
	synced  int64         // f is durable up to here (an fdatasync returned)
	buf     []byte        // batch encoding buffer

	err    error // sticky write failure
	closed bool
}

var _ raft.Storage = (*Log)(nil)

// segmentInfo is what Compact needs to know of a segment.
type segmentInfo struct {
	seq      uint64
	name     string
	maxEntry uint64 // highest entry index in any entry record; 0 if none
}

func (o Options) resolve() (int64, *slog.Logger, error) {
	size := o.SegmentBytes
	switch {
	case size == 0:
		size = DefaultSegmentBytes
	case size < 0:
		return 0, nil, fmt.Errorf("raftlog: negative SegmentBytes %d", size)
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return size, logger, nil
}

// Exist reports whether dir holds a WAL: at least one segment file. A
// directory left by a Create that crashed before its first segment was
// complete holds none.
func Exist(dir string) bool {
	segs, _, err := listSegments(dir)
	return err == nil && len(segs) > 0
}

// Create makes a new WAL in dir, which must be absent or empty (leftover
// temporary files of a crashed Create are removed), and returns it open for
// appends with an empty log. metadata (any bytes, such as the member and
// cluster ids) is stored as the WAL's first record, durably, before Create
// returns; Metadata returns it. If dir already holds a WAL the error
// matches fs.ErrExist; if another Log holds dir, ErrLocked.
func Create(dir string, metadata []byte, opts Options) (*Log, error) {
	segBytes, logger, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	if len(metadata) > MaxRecordBytes {
		return nil, fmt.Errorf("%w: metadata of %d bytes", ErrTooLarge, len(metadata))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftlog: %w", err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("raftlog: %w", err)
	}
	for _, de := range des {
		if _, ok := parseSegmentName(de.Name()); ok {
			return nil, fmt.Errorf("raftlog: %s already holds a WAL: %w", dir, fs.ErrExist)
		}
		if filepath.Ext(de.Name()) != tmpExt {
			return nil, fmt.Errorf("raftlog: cannot create a WAL in %s: the directory is not empty (%s)", dir, de.Name())
		}
	}
	l := &Log{
		dir:      dir,
		segBytes: segBytes,
		logger:   logger,
		observe:  opts.ObserveFsync,
		metadata: bytes.Clone(metadata),
		ms:       raft.NewMemoryStorage(),
	}
	if l.metadata == nil {
		l.metadata = []byte{}
	}
	if err := l.lock(); err != nil {
		return nil, err
	}
	for _, de := range des {
		if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
			l.lockf.Close()
			return nil, fmt.Errorf("raftlog: %w", err)
		}
	}
	f, name, headEnd, err := l.createSegment(0, 1)
	if err != nil {
		l.lockf.Close()
		return nil, err
	}
	// The directory itself may be new: make its entry durable too.
	if err := fsutil.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		f.Close()
		l.lockf.Close()
		return nil, fmt.Errorf("raftlog: %w", err)
	}
	l.f, l.off, l.headEnd, l.synced = f, headEnd, headEnd, headEnd
	l.segs = []segmentInfo{{seq: 0, name: name}}
	return l, nil
}

// Open replays the WAL in dir and returns it ready for appends, with its
// raft.Storage holding what the member had saved: the latest snapshot
// metadata, the latest HardState and the entries after the snapshot
// (FirstIndex is the snapshot index + 1).
//
// A torn write at the end of the last segment is cut off and logged (Warn).
// Damage anywhere else is an error matching ErrCorrupt (a *CorruptError
// naming the file and offset); see the package documentation for the exact
// rules. If dir holds no WAL the error matches fs.ErrNotExist; if another Log
// holds dir, ErrLocked.
func Open(dir string, opts Options) (*Log, error) {
	segBytes, logger, err := opts.resolve()
	if err != nil {
		return nil, err
	}
	l := &Log{dir: dir, segBytes: segBytes, logger: logger, observe: opts.ObserveFsync}
	if err := l.lock(); err != nil {
		return nil, err
	}
	if err := l.replay(); err != nil {
		if l.f != nil {
			l.f.Close()
		}
		l.lockf.Close()
		return nil, err
	}
	first, _ := l.ms.FirstIndex()
	last, _ := l.ms.LastIndex()
	l.logger.Info("raftlog: opened", "dir", dir, "segments", len(l.segs),
		"snapshot_index", l.snap.Index, "first_index", first, "last_index", last,
		"term", l.hs.Term, "commit", l.hs.Commit)
	return l, nil
}

func (l *Log) lock() error {
	d, err := os.Open(l.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("raftlog: no WAL in %s: %w", l.dir, err)
		}
		return fmt.Errorf("raftlog: %w", err)
	}
	if err := lockDir(d); err != nil {
		d.Close()
		if errors.Is(err, ErrLocked) {
			return fmt.Errorf("%w: %s", ErrLocked, l.dir)
		}
		return fmt.Errorf("raftlog: locking %s: %w", l.dir, err)
	}
	l.lockf = d
	return nil
}

// replay reads every segment into a fresh MemoryStorage and leaves the last
// segment open for appends.
func (l *Log) replay() error {
	segs, tmps, err := listSegments(l.dir)
	if err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	if len(segs) == 0 {
		return fmt.Errorf("raftlog: no WAL in %s: %w", l.dir, fs.ErrNotExist)
	}
	for i := 1; i < len(segs); i++ {
		if segs[i].seq != segs[i-1].seq+1 {
			return corruptf(l.dir, -1, "segment %d is missing: %s is followed by %s", segs[i-1].seq+1, segs[i-1].name, segs[i].name)
		}
	}
	if len(tmps) > 0 {
		// A rotation that crashed before its rename: the segment never
		// became part of the log.
		for _, t := range tmps {
			if err := os.Remove(filepath.Join(l.dir, t)); err != nil {
				return fmt.Errorf("raftlog: %w", err)
			}
			l.logger.Info("raftlog: removed an unfinished segment", "file", t)
		}
		if err := fsutil.SyncDir(l.dir); err != nil {
			return fmt.Errorf("raftlog: %w", err)
		}
	}
	var st replayState
	var format uint32
	for i, sf := range segs {
		last := i == len(segs)-1
		info, res, f, err := l.replaySegment(&st, sf, last)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, info)
		if last {
			l.f = f
			if err := l.repairTail(f, segmentPath(l.dir, sf.name), res); err != nil {
				return err
			}
			l.off, l.headEnd, l.synced = res.end, res.headEnd, res.end
			format = res.format
		}
	}
	hs, err := st.finish()
	if err != nil {
		return &CorruptError{Path: l.dir, Offset: -1, Reason: err.Error()}
	}
	l.metadata, l.hs, l.snap = st.metadata, hs, st.snap
	l.ms = raft.NewMemoryStorage()
	if st.snap.Index > 0 {
		if err := l.ms.ApplySnapshot(raftpb.Snapshot{Metadata: st.snap}); err != nil {
			return fmt.Errorf("raftlog: %w", err)
		}
	}
	if err := l.ms.Append(st.ents); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	if err := l.ms.SetHardState(hs); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	if format < formatVersion {
		// Records of this format go into a segment of their own, which
		// older builds refuse by its version instead of misreading it.
		if err := l.rotate(); err != nil {
			return err
		}
		l.logger.Info("raftlog: continuing an older-format WAL in a new segment", "format", format, "file", l.segs[len(l.segs)-1].name)
	}
	return nil
}

// replaySegment folds one segment's records into st. For the last segment
// it returns the file, open for writing.
func (l *Log) replaySegment(st *replayState, sf segmentFile, last bool) (segmentInfo, scanResult, *os.File, error) {
	info := segmentInfo{seq: sf.seq, name: sf.name}
	path := segmentPath(l.dir, sf.name)
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return info, scanResult{}, nil, fmt.Errorf("raftlog: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return info, scanResult{}, nil, fmt.Errorf("raftlog: %w", err)
	}
	n := 0
	res, err := scanSegment(f, fi.Size(), path, last, func(off int64, fr frame) error {
		rec, err := decodePayload(fr)
		if err != nil {
			return corruptf(path, off, "%v", err)
		}
		switch {
		case n == 0 && rec.typ != typeSegment:
			return corruptf(path, off, "the segment starts with a %s record, not a segment record", rec.typ)
		case n == 0 && rec.seq != sf.seq:
			return corruptf(path, off, "segment record says sequence %d, the file name says %d", rec.seq, sf.seq)
		case n == 1 && rec.typ != typeMetadata:
			return corruptf(path, off, "the second record is a %s record, not metadata", rec.typ)
		case n > 0 && rec.typ == typeSegment:
			return corruptf(path, off, "a segment record after the start of the segment")
		case n > 1 && rec.typ == typeMetadata:
			return corruptf(path, off, "a metadata record after the head of the segment")
		}
		n++
		if rec.typ == typeEntry {
			info.maxEntry = max(info.maxEntry, rec.ent.Index)
		}
		if err := st.apply(&rec); err != nil {
			return corruptf(path, off, "%v", err)
		}
		return nil
	})
	if err == nil && n < 2 {
		err = corruptf(path, res.end, "the segment head (segment and metadata records) is missing or damaged")
	}
	if err != nil || !last {
		f.Close()
		f = nil
	}
	return info, res, f, err
}

// createSegment writes a new segment with its head batch (segment record,
// metadata, the current snapshot and HardState) under a temporary name,
// fsyncs it, renames it into place and fsyncs the directory, so a segment
// file either does not exist or has a whole head.
func (l *Log) createSegment(seq, index uint64) (f *os.File, name string, headEnd int64, err error) {
	// Nothing in the new file is durable before its head is written.
	buf, err := appendSegment(nil, seq)
	if err == nil {
		buf, err = appendMetadata(buf, 0, l.metadata)
	}
	if err == nil && l.snap.Index > 0 {
		buf, err = appendSnapshot(buf, 0, snapKeep, &l.snap)
	}
	if err == nil && !raft.IsEmptyHardState(l.hs) {
		buf, err = appendHardState(buf, 0, &l.hs)
	}
	if err != nil {
		return nil, "", 0, err
	}
	name = segmentName(seq, index)
	final := segmentPath(l.dir, name)
	tmp := final + tmpExt
	f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, "", 0, fmt.Errorf("raftlog: %w", err)
	}
	fail := func(err error) (*os.File, string, int64, error) {
		f.Close()
		os.Remove(tmp)
		return nil, "", 0, fmt.Errorf("raftlog: creating segment %s: %w", name, err)
	}
	if err := preallocate(f, max(l.segBytes, int64(len(buf)))); err != nil {
		return fail(err)
	}
	if _, err := f.WriteAt(buf, 0); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	// fail also removes tmp: nothing to remove when only the directory's
	// fsync failed, after the rename.
	if err := fsutil.Rename(tmp, final); err != nil {
		return fail(err)
	}
	return f, name, int64(len(buf)), nil
}

// Metadata returns a copy of the bytes given to Create.
func (l *Log) Metadata() []byte { return bytes.Clone(l.metadata) }

// Close closes the segment file and releases the directory. Everything Save
// and SaveSnapshot returned success for is already durable. The
// raft.Storage methods keep answering from memory after Close. Calling Close
// again returns nil.
func (l *Log) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	if l.f != nil {
		errs = append(errs, l.f.Close())
	}
	errs = append(errs, l.lockf.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	return nil
}

// usable returns the reason writes are refused, if any.
func (l *Log) usable() error {
	if l.closed {
		return ErrClosed
	}
	if l.err != nil {
		return fmt.Errorf("raftlog: an earlier write failed, reopen the log: %w", l.err)
	}
	return nil
}

// InitialState implements raft.Storage: the latest saved HardState and the
// ConfState of the latest snapshot (zero values for a new log).
func (l *Log) InitialState() (raftpb.HardState, raftpb.ConfState, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hs, cloneConfState(l.snap.ConfState), nil
}

// Entries implements raft.Storage: entries [lo, hi) limited to maxSize
// bytes (at least one), from memory. The caller may append to the returned
// slice but must not modify its entries. It returns raft.ErrCompacted when lo
// is at or before the snapshot or compaction point, raft.ErrUnavailable when
// the log holds no entries, and panics (as raft.MemoryStorage does) when hi
// is beyond LastIndex()+1.
func (l *Log) Entries(lo, hi, maxSize uint64) ([]raftpb.Entry, error) {
	return l.ms.Entries(lo, hi, maxSize)
}

// Term implements raft.Storage: the term of entry i, for i in
// [FirstIndex()-1, LastIndex()]; raft.ErrCompacted below that range,
// raft.ErrUnavailable above it.
func (l *Log) Term(i uint64) (uint64, error) { return l.ms.Term(i) }

// LastIndex implements raft.Storage: the index of the last entry, or of the
// snapshot when no entry follows it.
func (l *Log) LastIndex() (uint64, error) { return l.ms.LastIndex() }

// FirstIndex implements raft.Storage: the index of the first entry that
// Entries may return. After Open it is the snapshot index + 1; Compact moves
// it to its index + 1.
func (l *Log) FirstIndex() (uint64, error) { return l.ms.FirstIndex() }

// Snapshot implements raft.Storage: the latest snapshot's metadata (index,
// term, conf state). Data is always empty: the state machine's snapshot lives
// outside the raft log.
func (l *Log) Snapshot() (raftpb.Snapshot, error) { return l.ms.Snapshot() }

func cloneConfState(cs raftpb.ConfState) raftpb.ConfState {
	cs.Voters = slices.Clone(cs.Voters)
	cs.Learners = slices.Clone(cs.Learners)
	cs.VotersOutgoing = slices.Clone(cs.VotersOutgoing)
	cs.LearnersNext = slices.Clone(cs.LearnersNext)
	return cs
}
