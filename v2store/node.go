package v2store

import (
	"time"

	"github.com/cairnkv/cairn"
)

// Node is one v2 node as etcd's v2 JSON shows it. Value is nil for a
// directory and points to the value (possibly "") for a file. Nodes are a
// directory's children when listed, in ascending key order. CreatedIndex
// and ModifiedIndex are the store's create_revision and mod_revision; both
// are 0 (and left out of the JSON) for the root and for implicit
// directories (see docs/v2-mapping.md).
//
// Lease is the lease the node's key is attached to (0: none), not shown;
// a node with a lease expires with it: the member that answers fills
// Expiration (UTC) and TTL (whole seconds left, rounded up; 0 and left
// out once it is due) from its lessor (SetExpiry).
type Node struct {
	Key           string     `json:"key,omitempty"`
	Value         *string    `json:"value,omitempty"`
	Dir           bool       `json:"dir,omitempty"`
	Expiration    *time.Time `json:"expiration,omitempty"`
	TTL           int64      `json:"ttl,omitempty"`
	Nodes         []*Node    `json:"nodes,omitempty"`
	ModifiedIndex int64      `json:"modifiedIndex,omitempty"`
	CreatedIndex  int64      `json:"createdIndex,omitempty"`
	Lease         int64      `json:"-"`
}

// SetExpiry sets Expiration and TTL of a node that expires at the
// instant exp, seen at now, as etcd v2 shows them.
func (n *Node) SetExpiry(exp, now time.Time) {
	e := exp.UTC()
	n.Expiration = &e
	left := exp.Sub(now)
	if left <= 0 {
		n.TTL = 0
		return
	}
	n.TTL = int64(left / time.Second)
	if left%time.Second > 0 {
		n.TTL++
	}
}

// Walk calls f for n and every node under it.
func (n *Node) Walk(f func(*Node)) {
	if n == nil {
		return
	}
	f(n)
	for _, c := range n.Nodes {
		c.Walk(f)
	}
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
	// GrantedLease and GrantedTTL name the lease a write granted for its
	// ttl (0: none), for the member's lessor.
	GrantedLease int64 `json:"-"`
	GrantedTTL   int64 `json:"-"`
}

// fileNode returns the node of a file at p.
func fileNode(p string, kv *cairn.KeyValue) *Node {
	v := string(kv.Value)
	return &Node{Key: p, Value: &v, CreatedIndex: kv.CreateRevision, ModifiedIndex: kv.ModRevision, Lease: kv.Lease}
}

// dirNode returns the node of a directory at p; kv is its marker (nil for
// the root and implicit directories).
func dirNode(p string, kv *cairn.KeyValue) *Node {
	n := &Node{Dir: true}
	if p != "/" {
		n.Key = p
	}
	if kv != nil {
		n.CreatedIndex, n.ModifiedIndex, n.Lease = kv.CreateRevision, kv.ModRevision, kv.Lease
	}
	return n
}
