package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	segmentExt = ".wal"
	tmpExt     = ".tmp"
	// sectorSize is the unit a disk writes atomically; a page the kernel
	// never wrote back reads as whole zero sectors of preallocated space.
	sectorSize = 512
	// readWindow is how much of a segment replay reads at a time.
	readWindow = 1 << 20
)

// segmentName is "<seq>-<index>.wal", both as 16 lower-case hex digits. index
// is the log's last index + 1 when the segment was started; it helps a human
// find entries, replay does not rely on it.
func segmentName(seq, index uint64) string {
	return fmt.Sprintf("%016x-%016x%s", seq, index, segmentExt)
}

// parseSegmentName returns the sequence number in a segment file name.
func parseSegmentName(name string) (seq uint64, ok bool) {
	base, found := strings.CutSuffix(name, segmentExt)
	if !found || len(base) != 33 || base[16] != '-' {
		return 0, false
	}
	seq, err := strconv.ParseUint(base[:16], 16, 64)
	if err != nil {
		return 0, false
	}
	if _, err := strconv.ParseUint(base[17:], 16, 64); err != nil {
		return 0, false
	}
	return seq, true
}

// segmentFile is one segment found in the directory.
type segmentFile struct {
	seq  uint64
	name string
}

// listSegments returns the segments of dir in sequence order and the names of
// leftover temporary files (a rotation or Create that crashed before its
// rename). It does not check that the sequence is contiguous.
func listSegments(dir string) (segs []segmentFile, tmps []string, err error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, de := range des {
		name := de.Name()
		if strings.HasSuffix(name, segmentExt+tmpExt) {
			tmps = append(tmps, name)
			continue
		}
		if seq, ok := parseSegmentName(name); ok && de.Type().IsRegular() {
			segs = append(segs, segmentFile{seq: seq, name: name})
		}
	}
	slices.SortFunc(segs, func(a, b segmentFile) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	return segs, tmps, nil
}

// segReader reads a segment through a window, so replay neither reads the
// whole file at once nor issues a system call per record.
type segReader struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64 // file offset of buf[0]
}

// get returns the n bytes at off; the caller ensures off+n <= size. The slice
// is valid until the next call.
func (s *segReader) get(off int64, n int) ([]byte, error) {
	if off >= s.base && off+int64(n) <= s.base+int64(len(s.buf)) {
		return s.buf[off-s.base : off-s.base+int64(n)], nil
	}
	want := int64(max(n, readWindow))
	if rem := s.size - off; want > rem {
		want = rem
	}
	if int64(cap(s.buf)) < want {
		s.buf = make([]byte, want)
	}
	s.buf = s.buf[:want]
	s.base = off
	got, err := s.r.ReadAt(s.buf, off)
	if int64(got) < want {
		s.buf = s.buf[:0]
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return s.buf[:n], nil
}

// frameAt decodes the frame at off. I/O failures come back wrapped in
// ioError so they are never mistaken for damage.
func (s *segReader) frameAt(off int64) (frame, error) {
	rem := s.size - off
	hn := int(min(rem, headerSize))
	h, err := s.get(off, hn)
	if err != nil {
		return frame{}, ioError{err}
	}
	if hn < headerSize || isZero(h) {
		return decodeFrame(h)
	}
	n := int64(binary.LittleEndian.Uint32(h[0:4]))
	if n > maxBodyBytes {
		return frame{}, errLength
	}
	total := int64(frameSize(int(n)))
	if total > rem {
		return frame{}, errShort
	}
	b, err := s.get(off, int(total))
	if err != nil {
		return frame{}, ioError{err}
	}
	return decodeFrame(b)
}

// ioError marks a read failure, as opposed to bad bytes.
type ioError struct{ err error }

func (e ioError) Error() string { return e.err.Error() }
func (e ioError) Unwrap() error { return e.err }

// tailKind says how the bytes after the last good record of a segment look.
type tailKind int

const (
	tailClean tailKind = iota // end of file, or only zeroes after the last record
	tailTorn                  // writes that never became durable: drop them
)

// scanResult is what scanSegment found.
type scanResult struct {
	format  uint32   // the format version its segment record names (0: none)
	end     int64    // offset just after the last good record
	headEnd int64    // offset just after the segment's first batch
	tail    tailKind // for the last segment: what follows end
	reason  string   // for tailTorn: what was wrong at end
	dropped int      // for tailTorn: complete records found (and dropped) after end
}

// scanSegment decodes the frames of one segment in order and calls fn with
// each good one (fn may keep nothing that aliases f.payload). In a format 2
// segment fn gets each record after the segment record with its synced
// offset split off the payload. For a segment that is not the last,
// anything but a clean run of records to the end of the file is a
// CorruptError. For the last segment, a bad frame at offset X is judged by
// classifyTail: a torn write is reported in the result, damage to durable
// data is a CorruptError.
func scanSegment(r io.ReaderAt, size int64, path string, last bool, fn func(off int64, f frame) error) (scanResult, error) {
	sr := &segReader{r: r, size: size}
	var res scanResult
	var off, batchStart, synced int64
	firstBatch := true
	for off < size {
		f, err := sr.frameAt(off)
		if err != nil {
			var ioe ioError
			if errors.As(err, &ioe) {
				return res, fmt.Errorf("raftlog: reading %s: %w", path, ioe.err)
			}
			return classifyTail(sr, path, last, off, batchStart, err, res)
		}
		if int64(f.back) > off {
			return res, corruptf(path, off, "%s record claims its write began %d bytes before the start of the file", f.typ, f.back)
		}
		switch start := off - int64(f.back); {
		case f.back == 0:
			if firstBatch && off > 0 {
				firstBatch = false
			}
			batchStart = off
		case start != batchStart:
			return res, corruptf(path, off, "%s record claims its write began at offset %d, but that write began at %d", f.typ, start, batchStart)
		}
		if off == 0 {
			res.format = segmentFormat(f)
		} else if res.format >= formatVersion && f.typ != typeSegment {
			if err := splitSynced(&f); err != nil {
				return res, corruptf(path, off, "%v", err)
			}
			if f.synced > batchStart {
				return res, corruptf(path, off, "%s record says the file was durable up to offset %d before its write began at %d", f.typ, f.synced, batchStart)
			}
			if f.synced < synced {
				return res, corruptf(path, off, "%s record says the file was durable up to offset %d, after a record that said %d", f.typ, f.synced, synced)
			}
			synced = f.synced
		}
		if firstBatch {
			res.headEnd = off + f.size
		}
		if err := fn(off, f); err != nil {
			return res, err
		}
		off += f.size
		res.end = off
	}
	res.tail = tailClean
	return res, nil
}

func segmentPath(dir, name string) string { return filepath.Join(dir, name) }
