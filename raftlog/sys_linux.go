//go:build linux

package raftlog

import (
	"errors"
	"os"
	"syscall"
)

// fdatasync flushes f's data and the metadata needed to read it back (its
// size), skipping timestamps.
func fdatasync(f *os.File) error {
	return control(f, func(fd int) error {
		for {
			err := syscall.Fdatasync(fd)
			if err != syscall.EINTR {
				return err
			}
		}
	})
}

// preallocate reserves size bytes for f so appends neither grow the file nor
// find the disk full; the reserved space reads as zeroes. File systems
// without fallocate get a sparse file of that size instead.
func preallocate(f *os.File, size int64) error {
	err := control(f, func(fd int) error {
		for {
			err := syscall.Fallocate(fd, 0, 0, size)
			if err != syscall.EINTR {
				return err
			}
		}
	})
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return extend(f, size)
	}
	return err
}

// lockDir takes an exclusive, non-blocking flock on the open directory d.
// The lock lasts until d is closed.
func lockDir(d *os.File) error {
	err := control(d, func(fd int) error {
		return syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
	})
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) { opErr = fn(int(fd)) }); err != nil {
		return err
	}
	return opErr
}
