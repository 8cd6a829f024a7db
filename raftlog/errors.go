package raftlog

import (
	"errors"
	"fmt"
)

// ErrCorrupt is matched (with errors.Is) by every error that reports damage
// found while replaying a WAL: a bad record before the tail, a bad record in
// a segment that is not the last, a missing segment, records that contradict
// each other. Open never skips such damage; the error is a *CorruptError that
// names the file and the byte offset.
var ErrCorrupt = errors.New("raftlog: corrupt WAL")

// ErrClosed is returned by Save, SaveSnapshot and Compact after Close.
var ErrClosed = errors.New("raftlog: log is closed")

// ErrLocked is returned by Create and Open when another Log (in this process
// or another) holds the directory.
var ErrLocked = errors.New("raftlog: WAL directory is in use by another process")

// ErrTooLarge is returned by Save and SaveSnapshot when one record would be
// larger than MaxRecordBytes. Nothing is written.
var ErrTooLarge = errors.New("raftlog: record too large")

// CorruptError describes damage found while replaying a WAL. It matches
// ErrCorrupt with errors.Is.
type CorruptError struct {
	// Path is the segment file that holds the damage, or the WAL directory
	// when the damage is not inside one file (a missing segment).
	Path string
	// Offset is the byte offset in Path of the record that is bad, or -1
	// when the damage is not at one offset.
	Offset int64
	// Reason says what is wrong, in words.
	Reason string
}

// Error says which file, which offset and what is wrong:
// "raftlog: corrupt WAL <path> at offset <n>: <reason>".
func (e *CorruptError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("raftlog: corrupt WAL %s: %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("raftlog: corrupt WAL %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

func corruptf(path string, off int64, format string, args ...any) *CorruptError {
	return &CorruptError{Path: path, Offset: off, Reason: fmt.Sprintf(format, args...)}
}
