package v2store

import (
	"bytes"

	"github.com/cairnkv/cairn"
)

// Watch is what a v2 watcher (GET ?wait=true) of one path sees of the
// store's watch hub: Range is the store range to watch, Event turns each
// store event of that range into the v2 event the watcher gets, or skips
// it. A Watch holds no state that changes; its methods are safe for
// concurrent use.
type Watch struct {
	tree      *Tree
	path      string
	key       []byte
	recursive bool
}

// Watch returns the watch of the clean path p (see CleanPath): of its own
// node, or with recursive of the node and everything under it.
func (t *Tree) Watch(p string, recursive bool) *Watch {
	return &Watch{tree: t, path: p, key: t.Key(p), recursive: recursive}
}

// Range returns the store range [key, end) of the watch: key is Key(p);
// end is nil (the key alone) unless the watch is recursive, then the end
// of the key's subtree (subtreeEnd: Key(p)+"0", Prefix+"0" for the root).
// The range also holds keys Event skips: siblings such as Key(p)+"!" that
// sort between Key(p) and Key(p)+"/", and keys that are not in the tree.
// The slices are new; the caller may keep them.
func (w *Watch) Range() (key, end []byte) {
	if w.recursive {
		end = w.tree.subtreeEnd(w.path)
	}
	return bytes.Clone(w.key), end
}

// Event returns the v2 event the watcher sees for the store event ev of its
// Range, or false if it sees none:
//
//   - A change of the watched key is its v2 event (Tree.event), except
//     that a watch of the key alone sees the key deleted with a directory
//     above it (cairn.ActionImplied) as a "delete" of the watched path,
//     with the delete's revision as modifiedIndex (etcd names the deleted
//     directory; docs/v2-mapping.md).
//   - With recursive, a change of a key strictly under the watched path is
//     its v2 event, unless a node below the watched path on the way to it
//     is hidden (a name starting with '_').
//   - Nothing else is: keys not in the tree, siblings the range holds,
//     and the side changes of v2 writes and refreshes (ActionImplied).
func (w *Watch) Event(ev *cairn.Event) (*Event, bool) {
	kv := ev.Kv
	if bytes.Equal(kv.Key, w.key) {
		if !w.recursive && ev.Type == cairn.EventDelete && kv.Action == cairn.ActionImplied {
			return &Event{Action: cairn.ActionDelete.String(), Node: &Node{Key: w.path, ModifiedIndex: kv.ModRevision}, Index: kv.ModRevision}, true
		}
		return w.tree.event(ev)
	}
	if !w.recursive {
		return nil, false
	}
	if p, ok := w.tree.Path(kv.Key); !ok || !visibleUnder(w.path, p) {
		return nil, false
	}
	return w.tree.event(ev)
}

// event returns the v2 event of the store event ev, or false if v2
// watchers do not see it: keys outside the tree (Path) and the side
// changes of a v2 write (cairn.ActionImplied: parent directories created
// on the way, keys deleted with their directory, a refresh).
//
// The action is the one recorded with the change; a v3 write
// (cairn.ActionNone) shows as "set" (put) or "delete". A delete's node has
// the key, the delete's revision as modifiedIndex and, when ev.PrevKv is
// known, the createdIndex and dir flag of the node deleted, and prevNode.
func (t *Tree) event(ev *cairn.Event) (*Event, bool) {
	kv := ev.Kv
	p, ok := t.Path(kv.Key)
	if !ok || kv.Action == cairn.ActionImplied {
		return nil, false
	}
	action := kv.Action
	out := &Event{Index: kv.ModRevision}
	if ev.PrevKv != nil {
		out.PrevNode = kvNode(p, ev.PrevKv)
	}
	if ev.Type == cairn.EventPut {
		if action == cairn.ActionNone {
			action = cairn.ActionSet
		}
		out.Node = kvNode(p, kv)
		out.Created = ev.PrevKv == nil
	} else {
		if action == cairn.ActionNone {
			action = cairn.ActionDelete
		}
		out.Node = &Node{Key: p, ModifiedIndex: kv.ModRevision}
		if ev.PrevKv != nil {
			out.Node.Dir = ev.PrevKv.Dir
			out.Node.CreatedIndex = ev.PrevKv.CreateRevision
		}
	}
	out.Action = action.String()
	return out, true
}

// kvNode returns the node of the key kv at p, a directory if it carries
// the dir flag. (A v3 file that also has keys under it shows as a file
// here: an event does not know what lies under its key.)
func kvNode(p string, kv *cairn.KeyValue) *Node {
	if kv.Dir {
		return dirNode(p, kv)
	}
	return fileNode(p, kv)
}
