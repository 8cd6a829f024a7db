package v2store

import "github.com/cairnkv/cairn/store"

// Node is one v2 node as etcd's v2 JSON shows it. Value is nil for a
// directory and points to the value (possibly "") for a file. Nodes are a
// directory's children when listed, in ascending key order. CreatedIndex
// and ModifiedIndex are the store's create_revision and mod_revision; both
// are 0 (and left out of the JSON) for the root and for implicit
// directories (see docs/v2-mapping.md).
type Node struct {
	Key           string  `json:"key,omitempty"`
	Value         *string `json:"value,omitempty"`
	Dir           bool    `json:"dir,omitempty"`
	Nodes         []*Node `json:"nodes,omitempty"`
	ModifiedIndex int64   `json:"modifiedIndex,omitempty"`
	CreatedIndex  int64   `json:"createdIndex,omitempty"`
}

// Event is the answer to a v2 request or one v2 watch event:
// {"action":"set","node":{...},"prevNode":{...}}. Index is the store
// revision the answer reflects (the X-Etcd-Index header: the new revision
// after a write); Created says a write created the node (HTTP 201 rather
// than 200).
type Event struct {
	Action   string `json:"action"`
	Node     *Node  `json:"node,omitempty"`
	PrevNode *Node  `json:"prevNode,omitempty"`
	Index    int64  `json:"-"`
	Created  bool   `json:"-"`
}

// fileNode returns the node of a file at p.
func fileNode(p string, kv *store.KeyValue) *Node {
	v := string(kv.Value)
	return &Node{Key: p, Value: &v, CreatedIndex: kv.CreateRevision, ModifiedIndex: kv.ModRevision}
}

// dirNode returns the node of a directory at p; kv is its marker (nil for
// the root and implicit directories).
func dirNode(p string, kv *store.KeyValue) *Node {
	n := &Node{Dir: true}
	if p != "/" {
		n.Key = p
	}
	if kv != nil {
		n.CreatedIndex, n.ModifiedIndex = kv.CreateRevision, kv.ModRevision
	}
	return n
}
