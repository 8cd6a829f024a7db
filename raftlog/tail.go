package raftlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
)

// classifyTail decides what the bytes from x (where decoding failed with
// cause) to the end of the segment are.
//
// Only the last segment can hold writes that never became durable: every
// other segment was fsynced and cut to its exact length before the next one
// was created. In the last segment, the writes after the last fdatasync that
// returned may reach the disk in any pattern, page by page, or not at all:
// a write that only moved the commit index is not fsynced, and neither is
// the final write if the crash came before its fdatasync returned. A sector
// that never reached the disk reads as it last did: the bytes of earlier
// writes, then the zeroes of preallocated space.
//
// Format 2 records say how far the file was durable when they were written
// (their synced offset), so a whole record after x tells whether the bytes
// at x had been made durable: they had when its synced offset is beyond x.
// The bytes from x on are cut off as a torn write when:
//
//   - they are all zero (the ordinary end of the log), or
//   - no whole record follows x, or
//   - every whole record after x was written while x was not yet known to
//     be durable (format 2: synced offset at most x; format 1, which does not
//     say: it belongs to the write that was in progress at x), and the
//     damaged span [x, first such record) holds a zero-filled stretch that
//     ends on a sector boundary, the mark of a page that never reached the
//     disk.
//
// Anything else means the damage sits in data that was durable (and may
// have been acknowledged), and replay stops with a CorruptError.
func classifyTail(sr *segReader, path string, last bool, x, batchStart int64, cause error, res scanResult) (scanResult, error) {
	if !last {
		return res, corruptf(path, x, "%v (not the last segment: every record up to the end of the file must be whole)", cause)
	}
	res.end = x
	recs, nonzero, err := findRecords(sr, path, x, res.format, cause)
	if err != nil {
		return res, err
	}
	if !nonzero {
		res.tail = tailClean
		return res, nil
	}
	res.tail = tailTorn
	res.reason = cause.Error()
	res.dropped = len(recs)
	if len(recs) == 0 {
		return res, nil
	}
	for _, r := range recs {
		if err := provesDurable(path, x, batchStart, res.format, cause, r); err != nil {
			return res, err
		}
	}
	y := recs[0].off
	zeroed, err := hasZeroedSector(sr, x, y)
	if err != nil {
		return res, fmt.Errorf("raftlog: reading %s: %w", path, err)
	}
	if !zeroed {
		return res, corruptf(path, x, "%v; whole records follow from offset %d, but the damaged bytes do not look unwritten (no zeroed sector)", cause, y)
	}
	return res, nil
}

// provesDurable returns a CorruptError when r, a whole record found after
// the damage at x, shows that the bytes at x had been made durable.
func provesDurable(path string, x, batchStart int64, format uint32, cause error, r found) error {
	switch {
	case format < formatVersion:
		if r.start != batchStart && r.start != x {
			return corruptf(path, x, "%v, but a complete record of a later write follows at offset %d", cause, r.off)
		}
	case !r.hasSynced:
		return corruptf(path, x, "%v, but a complete %s record without a synced offset follows at offset %d", cause, r.typ, r.off)
	case r.synced > x:
		return corruptf(path, x, "%v, but a complete record of a later write follows at offset %d, written when the file was durable up to offset %d: the damaged record had been synced",
			cause, r.off, r.synced)
	}
	return nil
}

// found is a whole record that classifyTail found after damage.
type found struct {
	off, start int64 // its offset and the start of its write
	typ        recordType
	synced     int64 // format 2: its synced offset, when hasSynced
	hasSynced  bool
}

// findRecords searches the last segment after x, at every 8-byte boundary,
// for whole records, and reports whether anything after x is non-zero.
func findRecords(sr *segReader, path string, x int64, format uint32, cause error) (recs []found, nonzero bool, err error) {
	readErr := func(err error) ([]found, bool, error) {
		return nil, false, fmt.Errorf("raftlog: reading %s: %w", path, err)
	}
	// Each CRC check costs its record length; cap the total so crafted
	// garbage cannot make this quadratic.
	budget := 4*(sr.size-x) + readWindow
	p := x
	for p < sr.size {
		hn := int(min(sr.size-p, headerSize))
		h, err := sr.get(p, hn)
		if err != nil {
			return readErr(err)
		}
		if isZero(h) {
			// Skip the zero run in bulk; a header may start up to 8 bytes
			// before the first non-zero byte.
			q, err := nextNonZero(sr, p)
			if err != nil {
				return readErr(err)
			}
			p = max(p+frameAlign, q-q%frameAlign-frameAlign)
			continue
		}
		nonzero = true
		if p == x {
			// The frame at x is the damaged one.
			p += frameAlign
			continue
		}
		if hn == headerSize {
			n := int64(binary.LittleEndian.Uint32(h[0:4]))
			if n <= maxBodyBytes && int64(frameSize(int(n))) <= sr.size-p {
				budget -= n
				if budget < 0 {
					return nil, true, corruptf(path, x, "%v, followed by %d bytes too costly to search for records; cannot tell a torn write from damage", cause, sr.size-x)
				}
				f, err := sr.frameAt(p)
				if err == nil {
					r := found{off: p, start: p - int64(f.back), typ: f.typ}
					if format >= formatVersion && f.typ != typeSegment {
						r.hasSynced = splitSynced(&f) == nil
						r.synced = f.synced
					}
					recs = append(recs, r)
					p += f.size
					continue
				}
				var ioe ioError
				if errors.As(err, &ioe) {
					return readErr(ioe.err)
				}
			}
		}
		p += frameAlign
	}
	return recs, nonzero, nil
}

// nextNonZero returns the offset of the first non-zero byte at or after
// off, or the segment size if there is none.
func nextNonZero(sr *segReader, off int64) (int64, error) {
	for off < sr.size {
		n := int(min(sr.size-off, readWindow))
		b, err := sr.get(off, n)
		if err != nil {
			return 0, err
		}
		i := 0
		for ; i+8 <= len(b); i += 8 {
			if binary.LittleEndian.Uint64(b[i:]) != 0 {
				break
			}
		}
		for ; i < len(b); i++ {
			if b[i] != 0 {
				return off + int64(i), nil
			}
		}
		off += int64(n)
	}
	return sr.size, nil
}

// hasZeroedSector reports whether [x, y) holds a stretch of zeroes that runs
// from x or from a sector boundary up to the next sector boundary (<= y).
func hasZeroedSector(sr *segReader, x, y int64) (bool, error) {
	for s := x - x%sectorSize; s+sectorSize <= y; s += sectorSize {
		lo := max(s, x)
		b, err := sr.get(lo, int(s+sectorSize-lo))
		if err != nil {
			return false, err
		}
		if isZero(b) {
			return true, nil
		}
	}
	return false, nil
}

// repairTail cuts a torn write off the last segment, gives the segment its
// preallocated room again and fsyncs it: what replay read is then durable,
// so the next write may say the file is durable up to res.end.
func (l *Log) repairTail(f *os.File, path string, res scanResult) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	if res.tail == tailTorn {
		l.logger.Warn("raftlog: cut off a torn write at the end of the log",
			"file", path, "offset", res.end, "bytes", fi.Size()-res.end,
			"reason", res.reason, "complete_records_dropped", res.dropped)
		if err := f.Truncate(res.end); err != nil {
			return fmt.Errorf("raftlog: %w", err)
		}
	}
	if res.tail == tailTorn || fi.Size() < l.segBytes {
		if err := preallocate(f, l.segBytes); err != nil {
			return fmt.Errorf("raftlog: preallocating %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("raftlog: %w", err)
	}
	return nil
}
