package v2store

import "github.com/cairnkv/cairn"

// WatchEvent returns the v2 event a v2 watcher sees for the store event ev,
// or false if v2 watchers do not see it: keys outside the tree (Path) and
// the side changes of a v2 write (cairn.ActionImplied: parent directories
// created on the way, keys deleted with their directory).
//
// The action is the one recorded with the change; a v3 write
// (cairn.ActionNone) shows as "set" (put) or "delete". A delete's node has
// the key, the delete's revision as modifiedIndex and, when ev.PrevKv is
// known, the createdIndex and dir flag of the node deleted, and prevNode.
func (t *Tree) WatchEvent(ev *cairn.Event) (*Event, bool) {
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
