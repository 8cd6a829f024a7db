//go:build !linux

package raftlog

import "os"

// fdatasync flushes f; without fdatasync this is a full fsync.
func fdatasync(f *os.File) error { return f.Sync() }

// preallocate gives f a size of at least size bytes (sparse on these
// systems).
func preallocate(f *os.File, size int64) error { return extend(f, size) }

// lockDir does nothing on these systems: the directory is not locked.
func lockDir(d *os.File) error { return nil }
