package v2store

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// applyDelete runs a v2 DELETE: a compareAndDelete of a file if
// prevValue/prevIndex are given, else a delete of a file, of an empty
// directory (dir=true) or of a directory and everything under it
// (recursive=true, which implies dir=true).
//
// Errors (*Error, nothing written): 100 Key not found; 101 Compare
// failed; 102 Not a file (a directory without dir=true, or with a
// compare); 108 Directory not empty (without recursive).
//
// The directory's own marker gets the action; the keys deleted under it
// are ActionImplied (v2 watchers see one event, as in etcd). An implicit
// directory (no marker) has no key of its own: its keys get the action.
func (t *Tree) applyDelete(b *store.Batch, req *Request) (*Event, error) {
	p := req.Path
	cur, err := t.lookup(b, 0, p)
	if err != nil {
		return nil, err
	}
	rev := b.Rev()
	if !cur.exists {
		return nil, t.notFound(b, 0, rev, p)
	}
	action := cairn.ActionDelete
	if req.compares() {
		if cur.dir {
			return nil, NewError(EcodeNotFile, p, rev)
		}
		if cause, failed := compareFailed(req, cur.kv); failed {
			return nil, NewError(EcodeTestFailed, cause, rev)
		}
		action = cairn.ActionCompareAndDelete
	}
	if cur.dir {
		if !req.Dir && !req.Recursive {
			return nil, NewError(EcodeNotFile, p, rev)
		}
		if !req.Recursive {
			under, err := t.hasChildren(b, 0, p)
			if err != nil {
				return nil, err
			}
			if under {
				return nil, NewError(EcodeDirNotEmpty, p, rev)
			}
		}
	}

	var ops []cairn.RequestOp
	if cur.dir {
		sub := cairn.ActionImplied
		if cur.kv == nil {
			sub = action
		}
		pfx := t.childPrefix(p)
		ops = append(ops, cairn.RequestOp{DeleteRange: &cairn.DeleteRangeRequest{Key: pfx, RangeEnd: prefixEnd(pfx), Action: sub}})
	}
	if cur.kv != nil {
		ops = append(ops, cairn.RequestOp{DeleteRange: &cairn.DeleteRangeRequest{Key: t.Key(p), Action: action}})
	}
	resp, err := b.Txn(&cairn.TxnRequest{Success: ops})
	if err != nil {
		return nil, err
	}
	newRev := resp.Header.Revision
	n := &Node{Key: p, Dir: cur.dir, ModifiedIndex: newRev}
	if cur.kv != nil {
		n.CreatedIndex = cur.kv.CreateRevision
	}
	return &Event{Action: action.String(), Node: n, PrevNode: nodeOf(p, cur), Index: newRev}, nil
}
