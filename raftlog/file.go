package raftlog

import "os"

// extend grows f to size bytes if it is smaller; the new bytes read as zero.
func extend(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() >= size {
		return nil
	}
	return f.Truncate(size)
}
