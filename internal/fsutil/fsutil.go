package fsutil

import (
	"io"
	"os"
	"path/filepath"
)

// TempSuffix is appended to a path to name the temporary file that
// WriteFileAtomic and WriteAtomic write before renaming it over the path:
// cluster.json is written as cluster.json.tmp. A file with this suffix that
// outlives a crash is a write that never happened.
const TempSuffix = ".tmp"

// SyncDir fsyncs the directory dir, making the creates, renames and removes
// of its entries durable. It returns the error of opening dir, else of the
// fsync, else of closing it.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Rename renames tmp to path, replacing whatever path was, and fsyncs the
// directory of path so that the rename survives a crash. The caller has
// already written and fsynced tmp. For a rename across directories the
// caller also syncs tmp's directory (SyncDir), if the old name's removal
// must be durable too. It returns the error of the rename (tmp is then left
// where it is) or of the directory's fsync (path then has the new content,
// which a crash may still undo).
func Rename(tmp, path string) error {
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// WriteFileAtomic replaces the file at path with data, durably and
// atomically: path holds either its old content or data, even across a
// crash (see the package doc for the steps). perm is the mode of a new
// file, as for os.WriteFile. On an error before the rename the old file is
// untouched and no temporary file is left; an error from the final
// directory fsync leaves path with data.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteAtomic is WriteFileAtomic with the content written by fill, which
// writes it to w (the temporary file, an *os.File, so io.Copy may use the
// kernel's copy paths) and returns nil, or an error that stops the write:
// the old file at path is then untouched, no temporary file is left, and
// WriteAtomic returns fill's error.
func WriteAtomic(path string, perm os.FileMode, fill func(w io.Writer) error) error {
	tmp := path + TempSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}
