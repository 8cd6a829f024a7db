package snapshot

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cairnkv/cairn/internal/fsutil"
)

// A backup file (what Save writes and Restore reads) is a member's store
// file followed by the SHA-256 of it (32 bytes), as etcd's snapshot files
// are: etcdctl snapshot save writes the same bytes from the same stream.

// Save writes the backup file at path from stream, the body of a member's
// answer to POST /v3/maintenance/snapshot: etcd's gateway stream, one JSON
// object a line, {"result":{"blob":"<base64>"}} for each piece of the store
// file and last for its SHA-256, or {"error":{"message":"..."}} if the
// member fails midway. It checks the SHA-256 and writes the file under a
// temporary name, fsynced, then renamed (fsutil.WriteAtomic): path is
// whole or absent. It returns the size of the store file in bytes. A stream
// that ends without its SHA-256, or with one that does not match
// (ErrChecksum), or with an error line, fails the save.
func Save(path string, stream io.Reader) (int64, error) {
	var n int64
	err := fsutil.WriteAtomic(path, 0o600, func(w io.Writer) error {
		var err error
		n, err = readStream(stream, w)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// readStream copies the blobs of a snapshot stream to w: the store file,
// then its hash, which it checks. It returns the store file's size.
func readStream(r io.Reader, w io.Writer) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 128<<10), 16<<20)
	h := sha256.New()
	var (
		n    int64
		prev []byte // the last blob: the hash, once the stream ends
	)
	for sc.Scan() {
		var line struct {
			Result *struct {
				Blob string `json:"blob"`
			} `json:"result"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return 0, fmt.Errorf("snapshot: bad stream line: %w", err)
		}
		if line.Error != nil {
			return 0, fmt.Errorf("snapshot: the member failed: %s", line.Error.Message)
		}
		if line.Result == nil {
			continue
		}
		blob, err := base64.StdEncoding.DecodeString(line.Result.Blob)
		if err != nil {
			return 0, fmt.Errorf("snapshot: bad blob: %w", err)
		}
		if prev != nil {
			if _, err := w.Write(prev); err != nil {
				return 0, err
			}
			h.Write(prev)
			n += int64(len(prev))
		}
		prev = blob
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("snapshot: reading the stream: %w", err)
	}
	if len(prev) != sha256.Size {
		return 0, errors.New("snapshot: the stream ended without its SHA-256 (cut short?)")
	}
	if !bytes.Equal(h.Sum(nil), prev) {
		return 0, fmt.Errorf("%w: the stream's data and its SHA-256 differ", ErrChecksum)
	}
	if _, err := w.Write(prev); err != nil {
		return 0, err
	}
	return n, nil
}

// Verify checks a backup file: a store file followed by its SHA-256. It
// returns the size of the store file. A file without the trailing hash (a
// bare store file, e.g. copied from a data dir) is accepted as it is, with
// hashed false.
func Verify(path string) (dbSize int64, hashed bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	size := fi.Size()
	// bbolt files are a whole number of pages (at least 512 bytes each).
	if size%512 != sha256.Size {
		return size, false, nil
	}
	dbSize = size - sha256.Size
	h := sha256.New()
	if _, err := io.CopyN(h, f, dbSize); err != nil {
		return 0, false, err
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return 0, false, err
	}
	if !bytes.Equal(h.Sum(nil), want) {
		return 0, false, fmt.Errorf("%w: %s is damaged (its data and its SHA-256 differ)", ErrChecksum, path)
	}
	return dbSize, true, nil
}

// CopyStoreFile copies the store file of the backup at path (without the
// hash; Verify it first) to dst, fsynced.
func CopyStoreFile(path, dst string, dbSize int64) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	return writeSynced(dst, func(w io.Writer) error {
		_, err := io.CopyN(w, src, dbSize)
		return err
	})
}
