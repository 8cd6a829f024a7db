package v2store

import (
	"github.com/cairnkv/cairn/store"
)

// Get answers a v2 GET of the clean path p at the reader's current
// revision rev (the caller reads rev once, e.g. store.Store.Rev, so that
// every read of the answer sees the same state): a file with its value, or
// a directory with its direct children (files with values, directories
// without their children) or, with recursive, its whole subtree. Hidden
// children (names starting with '_') and v3 keys that do not fit the tree
// are left out. Children come in ascending key order whether or not sorted
// is asked (etcd sorts only when asked; any order is correct for it).
//
// Errors: *Error 100 (Key not found) or 104 (Not a directory), naming the
// path where etcd's walk stops (notFound), index rev; store errors
// (ErrCompacted if rev was compacted meanwhile).
func (t *Tree) Get(r Reader, rev int64, p string, recursive bool) (*Event, error) {
	n, err := t.lookup(r, rev, p)
	if err != nil {
		return nil, err
	}
	if !n.exists {
		return nil, t.notFound(r, rev, rev, p)
	}
	out := nodeOf(p, n)
	if n.dir {
		if out.Nodes, err = t.children(r, rev, p, recursive); err != nil {
			return nil, err
		}
	}
	return &Event{Action: "get", Node: out, Index: rev}, nil
}

// children lists the v2 children of the directory p at rev, descending
// into subdirectories if recursive.
func (t *Tree) children(r Reader, rev int64, p string, recursive bool) ([]*Node, error) {
	lr, err := r.List(&store.ListRequest{Prefix: t.childPrefix(p), Sep: '/', Revision: rev})
	if err != nil {
		return nil, err
	}
	var out []*Node
	for _, e := range lr.Entries {
		if !childName(e.Name) || e.Name[0] == '_' {
			continue
		}
		cp := join(p, string(e.Name))
		n := node{exists: true, kv: e.Kv, dir: e.HasChildren || e.Kv.Dir}
		c := nodeOf(cp, n)
		if n.dir && recursive {
			if c.Nodes, err = t.children(r, rev, cp, true); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}
