package v2store

import (
	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// applyPut runs a v2 PUT: with prevExist=true an update (or a
// compareAndSwap if prevValue/prevIndex are given), with prevExist=false a
// create, else a compareAndSwap if prevValue/prevIndex are given, else a
// set; etcd v2's dispatch.
//
// Errors (*Error, nothing written): 100 Key not found (update or
// compareAndSwap of a missing node); 101 Compare failed; 102 Not a file
// (a value written to a directory, set or compareAndSwap of a directory);
// 104 Not a directory (an ancestor is a file); 105 Key already exists
// (create).
func (t *Tree) applyPut(b *store.Batch, req *Request) (*Event, error) {
	p := req.Path
	cur, err := t.lookup(b, 0, p)
	if err != nil {
		return nil, err
	}
	rev := b.Rev()
	action := cairn.ActionSet
	switch {
	case req.PrevExist != nil && !*req.PrevExist:
		if cur.exists {
			return nil, NewError(EcodeNodeExist, p, rev)
		}
		action = cairn.ActionCreate
	case req.compares():
		if !cur.exists {
			return nil, t.notFound(b, 0, rev, p)
		}
		if cur.dir {
			return nil, NewError(EcodeNotFile, p, rev)
		}
		if cause, failed := compareFailed(req, cur.kv); failed {
			return nil, NewError(EcodeTestFailed, cause, rev)
		}
		action = cairn.ActionCompareAndSwap
	case req.PrevExist != nil:
		if !cur.exists {
			return nil, t.notFound(b, 0, rev, p)
		}
		if cur.dir && req.Value != "" {
			return nil, NewError(EcodeNotFile, p, rev)
		}
		action = cairn.ActionUpdate
	default:
		if cur.exists && cur.dir {
			return nil, NewError(EcodeNotFile, p, rev)
		}
	}

	if req.Refresh && !cur.exists {
		return nil, t.notFound(b, 0, rev, p)
	}

	var ops []cairn.RequestOp
	if !cur.exists {
		if ops, err = t.parents(b, p); err != nil {
			return nil, err
		}
	}
	dir := req.Dir
	if action == cairn.ActionUpdate || action == cairn.ActionCompareAndSwap || req.Refresh {
		dir = cur.dir // an update keeps the kind of the node
	}
	ev := &Event{Action: action.String(), Created: !cur.exists}
	target := &cairn.PutRequest{Key: t.Key(p), Dir: dir, Action: action}
	switch {
	case req.Refresh:
		// etcd's refresh: the value stays, the TTL changes, no watcher
		// wakes (the record is a side change for v2 watchers).
		if !dir {
			target.Value = cur.kv.Value
		}
		target.Action = cairn.ActionImplied
	case !dir:
		target.Value = []byte(req.Value)
	}
	if req.TTL != nil {
		if target.Lease, err = grantTTL(b, *req.TTL, ev); err != nil {
			return nil, err
		}
	}
	ops = append(ops, cairn.RequestOp{Put: target})
	newRev, kv, err := commit(b, ops, target, cur.kv)
	if err != nil {
		return nil, err
	}
	ev.Node, ev.Index = nodeOf(p, node{exists: true, dir: dir, kv: kv}), newRev
	if cur.exists {
		ev.PrevNode = nodeOf(p, cur)
	}
	return ev, nil
}

// applyPost runs a v2 POST: a file (a directory with req.Dir) named after
// the new revision (inOrderName) in the directory req.Path, created with
// its missing parents. Errors: 104 Not a directory (req.Path or an ancestor is a
// file).
func (t *Tree) applyPost(b *store.Batch, req *Request) (*Event, error) {
	dir := req.Path
	n, err := t.lookup(b, 0, dir)
	if err != nil {
		return nil, err
	}
	var ops []cairn.RequestOp
	switch {
	case n.exists && !n.dir:
		return nil, NewError(EcodeNotDir, dir, b.Rev())
	case !n.exists:
		if ops, err = t.parents(b, dir); err != nil {
			return nil, err
		}
		ops = append(ops, markerOp(t.Key(dir), cairn.ActionImplied))
	}
	p := join(dir, inOrderName(b.Rev()+1))
	ev := &Event{Action: "create", Created: true}
	// With dir=true the new node is a directory (the value is ignored),
	// as etcd 3.4 creates it.
	target := &cairn.PutRequest{Key: t.Key(p), Dir: req.Dir, Action: cairn.ActionCreate}
	if !req.Dir {
		target.Value = []byte(req.Value)
	}
	if req.TTL != nil {
		if target.Lease, err = grantTTL(b, *req.TTL, ev); err != nil {
			return nil, err
		}
	}
	ops = append(ops, cairn.RequestOp{Put: target})
	newRev, kv, err := commit(b, ops, target, nil)
	if err != nil {
		return nil, err
	}
	ev.Node, ev.Index = nodeOf(p, node{exists: true, dir: req.Dir, kv: kv}), newRev
	return ev, nil
}
