package v2store

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// Reader is what the mapping reads from: *store.Store (reads at a fixed
// revision) and *store.Batch (reads at apply time, seeing the batch's own
// writes) both implement it.
type Reader interface {
	Range(req *cairn.RangeRequest) (*cairn.RangeResponse, error)
	List(req *store.ListRequest) (*store.ListResponse, error)
}

// node is what one v2 path names at some revision.
type node struct {
	exists bool
	dir    bool
	// kv is the key of the path: a file, a directory marker, or a v3 file
	// that also has keys under it (shown as a directory); nil for the root
	// and for implicit directories (keys under the path, no key of its
	// own).
	kv *cairn.KeyValue
}

// lookup returns what the clean path p names at rev (0: the reader's
// current revision). The rules, in docs/v2-mapping.md: a key with the dir
// flag is a directory; a key without it is a file unless keys exist under
// it, then it is a directory (its value invisible to v2); no key but keys
// under it: an implicit directory; the root always exists.
func (t *Tree) lookup(r Reader, rev int64, p string) (node, error) {
	if p == "/" {
		return node{exists: true, dir: true}, nil
	}
	rr, err := r.Range(&cairn.RangeRequest{Key: t.Key(p), Revision: rev})
	if err != nil {
		return node{}, err
	}
	if len(rr.Kvs) == 1 {
		kv := rr.Kvs[0]
		if kv.Dir {
			return node{exists: true, dir: true, kv: kv}, nil
		}
		under, err := t.hasChildren(r, rev, p)
		if err != nil {
			return node{}, err
		}
		return node{exists: true, dir: under, kv: kv}, nil
	}
	under, err := t.hasChildren(r, rev, p)
	if err != nil {
		return node{}, err
	}
	return node{exists: under, dir: under}, nil
}

// hasChildren reports whether any key lies under the clean path p.
func (t *Tree) hasChildren(r Reader, rev int64, p string) (bool, error) {
	lr, err := r.List(&store.ListRequest{Prefix: t.childPrefix(p), Sep: '/', Revision: rev, Limit: 1})
	if err != nil {
		return false, err
	}
	return len(lr.Entries) > 0, nil
}

// nodeOf returns the v2 node of n at p, without children.
func nodeOf(p string, n node) *Node {
	if n.dir {
		return dirNode(p, n.kv)
	}
	return fileNode(p, n.kv)
}

// notFound returns etcd's error for a path that names nothing, found by
// its walk from the root: 104 (Not a directory) naming the first ancestor
// that is a file, else 100 (Key not found) naming the first ancestor that
// does not exist, else 100 naming p.
func (t *Tree) notFound(r Reader, rev, index int64, p string) error {
	for _, a := range ancestors(p) {
		n, err := t.lookup(r, rev, a)
		if err != nil {
			return err
		}
		switch {
		case !n.exists:
			return NewError(EcodeKeyNotFound, a, index)
		case !n.dir:
			return NewError(EcodeNotDir, a, index)
		}
	}
	return NewError(EcodeKeyNotFound, p, index)
}
