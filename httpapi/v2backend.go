package httpapi

import (
	"context"

	"github.com/cairnkv/cairn/v2store"
)

// V2Keys is what the v2 keys endpoints (/v2/keys/...) need from a member;
// New serves them when the Backend also implements it.
//
//   - V2Write runs a parsed v2 write (PUT, POST, DELETE) through raft and
//     returns its event once applied (Index: the new revision). A v2
//     refusal is a *v2store.Error (nothing written); other errors are
//     package store's sentinels or ctx.Err().
//   - V2Get reads the clean path p, with its whole subtree if recursive,
//     from the local store, after a ReadIndex round if quorum. Errors as
//     V2Write.
//   - V2Header returns the values of the X-Etcd-Cluster-Id, X-Raft-Index
//     and X-Raft-Term headers.
//   - V2Prefix returns the store prefix of the v2 tree (v2store.Tree),
//     which v2 watches (over the member's Watcher) need.
//
// All methods are safe for concurrent use; returned events are the
// caller's.
type V2Keys interface {
	V2Write(ctx context.Context, req *v2store.Request) (*v2store.Event, error)
	V2Get(ctx context.Context, p string, recursive, quorum bool) (*v2store.Event, error)
	V2Header() V2Header
	V2Prefix() string
}

// V2Header holds the member's values for a v2 answer's headers:
// X-Etcd-Cluster-Id (ClusterID in hex), X-Raft-Index (the applied raft
// index) and X-Raft-Term.
type V2Header struct {
	ClusterID uint64
	RaftIndex uint64
	RaftTerm  uint64
}

// V2Member is one cluster member as GET /v2/members shows it.
type V2Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
}

// V2Members is what /v2/members, /v2/members/leader and /v2/machines need
// from a member: the cluster's members (learners included) in ascending ID
// order, with the client URLs each published (none yet for a member that
// has not published them), and the ID of the leader this member knows (0:
// none). Safe for concurrent use; the slices are the caller's.
type V2Members interface {
	V2Members() (members []V2Member, leader uint64)
}
