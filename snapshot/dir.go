package snapshot

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn/internal/failpoint"
	"github.com/cairnkv/cairn/internal/fsutil"
)

// Dir is the directory of snapshots a member received from its leader,
// <data-dir>/snap. Each received snapshot is two files named after its raft
// index in 16 hex digits:
//
//	<index>.db            the leader's store file (a bbolt database)
//	<index>.cluster.json  the leader's cluster state (members, alarms)
//
// Files are written under a .tmp name, fsynced, renamed and the directory
// fsynced, so a name without .tmp is always a whole, durable file. A Dir's
// methods are not safe for concurrent use with each other on the same index.
type Dir struct {
	path string
}

// OpenDir opens (creating it if needed) the directory at path and removes
// leftover temporary files of interrupted receives.
func OpenDir(path string) (*Dir, error) {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), fsutil.TempSuffix) {
			os.Remove(filepath.Join(path, e.Name()))
		}
	}
	return &Dir{path: path}, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

func (d *Dir) name(index uint64, suffix string) string {
	return filepath.Join(d.path, fmt.Sprintf("%016x%s", index, suffix))
}

// DBPath is the path of the store file of the snapshot at index.
func (d *Dir) DBPath(index uint64) string { return d.name(index, ".db") }

// ClusterPath is the path of the cluster state of the snapshot at index.
func (d *Dir) ClusterPath(index uint64) string { return d.name(index, ".cluster.json") }

// Has reports whether both files of the snapshot at index are present.
func (d *Dir) Has(index uint64) bool {
	_, err1 := os.Stat(d.DBPath(index))
	_, err2 := os.Stat(d.ClusterPath(index))
	return err1 == nil && err2 == nil
}

// ErrChecksum is returned by Receive when the received store file does not
// hash to the checksum the sender gave.
var ErrChecksum = errors.New("snapshot: checksum mismatch")

// Receive stores the snapshot at index: cluster as <index>.cluster.json and
// everything db yields as <index>.db. Before renaming the store file into
// place it calls sum() for the SHA-256 the sender computed (known only once
// db is exhausted, e.g. from an HTTP trailer) and refuses the file with
// ErrChecksum when it differs; a nil sum() skips the check. It returns the
// size of the store file in bytes. On any error nothing of the snapshot is
// left behind.
func (d *Dir) Receive(index uint64, cluster []byte, db io.Reader, sum func() []byte) (int64, error) {
	if err := writeSynced(d.ClusterPath(index), func(w io.Writer) error {
		_, err := w.Write(cluster)
		return err
	}); err != nil {
		return 0, err
	}
	var n int64
	err := writeSynced(d.DBPath(index), func(w io.Writer) error {
		h := sha256.New()
		var err error
		n, err = io.Copy(io.MultiWriter(w, h), db)
		if err != nil {
			return err
		}
		return checkSum(h, sum)
	})
	if err != nil {
		os.Remove(d.ClusterPath(index))
		return 0, err
	}
	failpoint.Hit("snapshot/afterReceive")
	return n, nil
}

func checkSum(h hash.Hash, sum func() []byte) error {
	if sum == nil {
		return nil
	}
	want := sum()
	if got := h.Sum(nil); string(got) != string(want) {
		return fmt.Errorf("%w: got %x, the sender sent %x", ErrChecksum, got, want)
	}
	return nil
}

// writeSynced writes path through fill with fsutil.WriteAtomic (a .tmp file,
// fsynced, renamed into place, the directory fsynced), naming the file in
// its error.
func writeSynced(path string, fill func(io.Writer) error) error {
	if err := fsutil.WriteAtomic(path, 0o600, fill); err != nil {
		return fmt.Errorf("snapshot: writing %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Cluster returns the cluster state of the snapshot at index.
func (d *Dir) Cluster(index uint64) ([]byte, error) {
	return os.ReadFile(d.ClusterPath(index))
}

// Install moves the store file of the snapshot at index to dst (replacing
// what is there) and fsyncs both directories. The cluster state stays until
// Prune.
func (d *Dir) Install(index uint64, dst string) error {
	if err := os.Rename(d.DBPath(index), dst); err != nil {
		return fmt.Errorf("snapshot: installing %016x.db: %w", index, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(dst)); err != nil {
		return err
	}
	return fsutil.SyncDir(d.path)
}

// Indexes lists the indexes that have a store file, ascending.
func (d *Dir) Indexes() ([]uint64, error) {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".db")
		if !ok || len(name) != 16 {
			continue
		}
		if i, err := strconv.ParseUint(name, 16, 64); err == nil {
			out = append(out, i)
		}
	}
	return out, nil
}

// Prune removes every file of snapshots at or below index.
func (d *Dir) Prune(index uint64) error {
	ents, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if len(e.Name()) < 16 {
			continue
		}
		i, err := strconv.ParseUint(e.Name()[:16], 16, 64)
		if err != nil || i > index {
			continue
		}
		if err := os.Remove(filepath.Join(d.path, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
