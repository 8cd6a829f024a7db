// Package snapstream cuts a member's store file into the messages of etcd's
// Maintenance.Snapshot stream, for every API that serves it (the JSON
// gateway's lines in httpapi, gRPC messages in grpcapi): blobs of
// ChunkBytes with the bytes remaining after each, then one last blob, the
// SHA-256 of the whole file, with 0 remaining. etcdctl snapshot save writes
// the blobs one after another (the file with its hash appended), and
// snapshot restore checks the hash.
package snapstream

import (
	"crypto/sha256"
	"hash"
)

// ChunkBytes is the size of one blob (etcd's 32 KiB).
const ChunkBytes = 32 << 10

// Writer takes the file's bytes (an io.Writer for SnapshotReader.WriteTo)
// and hands each blob to its emit function. Not safe for concurrent use.
type Writer struct {
	emit      func(remaining int64, blob []byte) error
	remaining int64
	buf       []byte
	h         hash.Hash
}

// New returns a Writer for a file of size bytes. emit is called once per
// blob; the blob is reused after emit returns, so emit must be done with
// it (written or marshalled) by then. An error from emit ends the stream:
// Write and Close return it.
func New(size int64, emit func(remaining int64, blob []byte) error) *Writer {
	return &Writer{emit: emit, remaining: size, buf: make([]byte, 0, ChunkBytes), h: sha256.New()}
}

// Write cuts p into blobs, emitting each full one.
func (w *Writer) Write(p []byte) (int, error) {
	n := len(p)
	w.h.Write(p)
	for len(p) > 0 {
		k := min(len(p), ChunkBytes-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == ChunkBytes {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// Close emits the last partial blob, then the hash (remaining 0). Call it
// once the whole file is written, and not after an error.
func (w *Writer) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	return w.emit(0, w.h.Sum(nil))
}

func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	w.remaining = max(w.remaining-int64(len(w.buf)), 0)
	err := w.emit(w.remaining, w.buf)
	w.buf = w.buf[:0]
	return err
}
