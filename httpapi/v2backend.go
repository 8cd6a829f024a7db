package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

// V2Keys is what the v2 keys endpoints (/v2/keys/...) need from a member;
// New serves them when the Backend also implements it.
//
//   - V2Write runs a parsed v2 write (PUT, POST, DELETE) through raft and
//     returns its event once applied (Index: the new revision). A v2
//     refusal is a *v2store.Error (nothing written); other errors are
//     the contract's sentinels (package cairn) or ctx.Err().
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
	V2Header() cairn.V2Header
	V2Prefix() string
}
