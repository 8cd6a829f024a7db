package store

import (
	"bytes"
	"fmt"
	"math"

	"github.com/cairnkv/cairn"
	bolt "go.etcd.io/bbolt"
)

// ListRequest asks for the direct children of Prefix in a tree whose path
// separator is Sep, as they were at Revision (0: the current revision).
// Package v2store lists v2 directories with it: Prefix "/a/", Sep '/'.
// Sep must not be 0xff. Limit > 0 stops the walk after that many
// children, the first found in key order, and the HasChildren of the last
// one may be false when it is not (Limit 1 asks cheaply whether the prefix
// has any key).
type ListRequest struct {
	Prefix   []byte
	Sep      byte
	Revision int64
	Limit    int
}

// ListEntry is one direct child of a ListRequest's prefix: Name is the
// bytes after the prefix up to the next Sep (it may be empty, for a key
// "prefix/" or "prefix//x"); Kv is the key Prefix+Name if it exists
// (with its value), else nil; HasChildren says some key starts with
// Prefix+Name+Sep.
type ListEntry struct {
	Name        []byte
	Kv          *cairn.KeyValue
	HasChildren bool
}

// ListResponse answers a ListRequest: the children in ascending byte order
// of Name, each once. Header.Revision is the current revision.
type ListResponse struct {
	Header  cairn.ResponseHeader
	Entries []ListEntry
}

// List returns the direct children of req.Prefix without walking the
// subtree under each child: after the first key found under Prefix+Name+Sep
// it seeks past that subtree, so its cost grows with the number of
// children, not of keys under them (S3's list with a delimiter).
//
// Errors as Range: ErrFutureRev, ErrCompacted, ErrStopped. Safe for
// concurrent use as Range; the slices returned are the caller's.
func (s *Store) List(req *ListRequest) (*ListResponse, error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, cairn.ErrStopped
	}
	cur := s.rev
	atRev, err := resolveRev(req.Revision, cur, s.compactRev)
	if err != nil {
		s.mu.RUnlock()
		return nil, err
	}
	hits, names, _ := s.idx.children(req.Prefix, req.Sep, atRev, req.Limit)
	rd := recordReader{ownAbove: math.MaxInt64, ov: overlay{flushed: s.flushed, pending: s.pending}}
	var tx *bolt.Tx
	if rd.needsBolt(hits) {
		tx, err = s.db.Begin(false)
	}
	s.mu.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	if tx != nil {
		defer tx.Rollback()
		rd.bucket = tx.Bucket(bucketRevisions)
	}
	return listResponse(req, hits, names, &rd, cur)
}

// List lists inside the batch, as Store.List, seeing the batch's own
// writes.
func (b *Batch) List(req *ListRequest) (*ListResponse, error) {
	if err := b.usable(); err != nil {
		return nil, err
	}
	atRev, err := resolveRev(req.Revision, b.rev, b.compactRev)
	if err != nil {
		return nil, err
	}
	hits, names, _ := b.s.idx.children(req.Prefix, req.Sep, atRev, req.Limit)
	rd := b.reader()
	return listResponse(req, hits, names, &rd, b.rev)
}

// children walks the direct children of prefix at atRev: hits are the
// visible keys prefix+name (no sep in name), in key order; deeper are the
// names with visible keys under prefix+name+sep, in order. After a key
// under prefix+name+sep it seeks to prefix+name+(sep+1), past the subtree.
// With limit > 0 it stops once len(hits)+len(deeper) reaches limit.
// visited counts the keys the walk looked at under prefix (for tests).
func (ix *index) children(prefix []byte, sep byte, atRev int64, limit int) (hits []hit, deeper [][]byte, visited int) {
	full := func() bool { return limit > 0 && len(hits)+len(deeper) >= limit }
	seek := prefix
	for {
		var next []byte
		ix.tree.AscendGreaterOrEqual(&keyIndex{key: seek}, func(ki *keyIndex) bool {
			if !bytes.HasPrefix(ki.key, prefix) {
				return false
			}
			visited++
			rev, created, ver, ok := ki.at(atRev)
			if !ok {
				return true
			}
			rest := ki.key[len(prefix):]
			i := bytes.IndexByte(rest, sep)
			if i < 0 {
				hits = append(hits, hit{key: ki.key, rev: rev, created: created, ver: ver})
				return !full()
			}
			deeper = append(deeper, rest[:i:i])
			if !full() {
				next = make([]byte, 0, len(prefix)+i+1)
				next = append(append(append(next, prefix...), rest[:i]...), sep+1)
			}
			return false
		})
		if next == nil {
			return hits, deeper, visited
		}
		seek = next
	}
}

// listResponse merges the leaf hits (read through rd) with the deeper
// names into entries sorted by name.
func listResponse(req *ListRequest, hits []hit, deeper [][]byte, rd *recordReader, cur int64) (*ListResponse, error) {
	kvs, err := readKVs(rd, hits, false)
	if err != nil {
		return nil, err
	}
	resp := &ListResponse{Header: cairn.ResponseHeader{Revision: cur}, Entries: make([]ListEntry, 0, len(kvs)+len(deeper))}
	i, j := 0, 0
	for i < len(kvs) || j < len(deeper) {
		var e ListEntry
		switch {
		case j == len(deeper):
			e = ListEntry{Name: bytes.Clone(kvs[i].Key[len(req.Prefix):]), Kv: kvs[i]}
			i++
		case i == len(kvs):
			e = ListEntry{Name: bytes.Clone(deeper[j]), HasChildren: true}
			j++
		default:
			name := kvs[i].Key[len(req.Prefix):]
			switch c := bytes.Compare(name, deeper[j]); {
			case c < 0:
				e = ListEntry{Name: bytes.Clone(name), Kv: kvs[i]}
				i++
			case c > 0:
				e = ListEntry{Name: bytes.Clone(deeper[j]), HasChildren: true}
				j++
			default:
				e = ListEntry{Name: bytes.Clone(name), Kv: kvs[i], HasChildren: true}
				i++
				j++
			}
		}
		resp.Entries = append(resp.Entries, e)
	}
	if req.Limit > 0 && len(resp.Entries) > req.Limit {
		resp.Entries = resp.Entries[:req.Limit]
	}
	return resp, nil
}
