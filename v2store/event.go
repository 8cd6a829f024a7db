package v2store

import (
	"github.com/cairnkv/cairn/store"
)

// WatchEvent returns the v2 event a v2 watcher sees for the store event ev,
// or false if v2 watchers do not see it: keys outside the tree (Path) and
// the side changes of a v2 write (store.ActionImplied: parent directories
// created on the way, keys deleted with their directory).
//
// The action is the one recorded with the change; a v3 write
// (store.ActionNone) shows as "set" (put) or "delete". A delete's node has
// the key, the delete's revision as modifiedIndex and, when ev.PrevKv is
// known, the createdIndex and dir flag of the node deleted, and prevNode.
func (t *Tree) WatchEvent(ev *store.Event) (*Event, bool) {
	kv := ev.Kv
	p, ok := t.Path(kv.Key)
	if !ok || kv.Action == store.ActionImplied {
		return nil, false
	}
	action := kv.Action
	out := &Event{Index: kv.ModRevision}
	if ev.PrevKv != nil {
		out.PrevNode = kvNode(p, ev.PrevKv)
	}
	if ev.Type == store.EventPut {
		if action == store.ActionNone {
			action = store.ActionSet
		}
		out.Node = kvNode(p, kv)
		out.Created = ev.PrevKv == nil
	} else {
		if action == store.ActionNone {
			action = store.ActionDelete
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
func kvNode(p string, kv *store.KeyValue) *Node {
	if kv.Dir {
		return dirNode(p, kv)
	}
	return fileNode(p, kv)
}
