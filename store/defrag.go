package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// DefragmentFile rewrites the store file at path without its free pages
// (etcd's defragmentation): it copies every bucket into a new file next to
// it with bbolt's Compact, syncs it, renames it over path and syncs the
// directory, so a crash leaves either the old file or the new one. The
// store must be closed (Open it again afterwards); the data, including the
// consistent index, are unchanged. It returns the sizes in bytes before and
// after.
func DefragmentFile(path string) (before, after int64, err error) {
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: true})
	if err != nil {
		return 0, 0, fmt.Errorf("store: defragment %s: %w", path, err)
	}
	defer src.Close()
	if fi, err := os.Stat(path); err == nil {
		before = fi.Size()
	}
	tmp := path + ".defrag"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 10 * time.Second, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return 0, 0, fmt.Errorf("store: defragment %s: %w", path, err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: defragment %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: defragment %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: defragment %s: %w", path, err)
	}
	// The directory's fsync error is ignored: the rename has happened, and
	// the old file and the new one hold the same data.
	fsutil.SyncDir(filepath.Dir(path))
	if fi, err := os.Stat(path); err == nil {
		after = fi.Size()
	}
	return before, after, nil
}
