package cairn

import "context"

// Key history (cairn's own; no etcd has it): every change of one key the
// store still holds, newest first, as POST /v3/kv/history serves it.

// HistoryRequest asks for the changes of Key at or below Revision (0 or
// negative: the current revision), newest first, at most Limit of them (0
// or negative: all). To page backwards, ask again with Revision set to the
// mod_revision of the oldest event received minus 1 (a key changes at most
// once per revision).
type HistoryRequest struct {
	Key      []byte
	Limit    int64
	Revision int64
}

// Validate checks a history request: ErrEmptyKey without a key (the
// rule of DeleteRangeRequest).
func (r *HistoryRequest) Validate() error {
	return (&DeleteRangeRequest{Key: r.Key}).Validate()
}

// HistoryResponse is the answer to a HistoryRequest. Events are the key's
// changes, newest first, each in a watch event's shape: a put's Kv is the key
// as written (value, create_revision, mod_revision, version, lease); a
// delete's Kv holds only the key and the delete's mod_revision. More says
// Limit cut older changes off. CompactRevision is the store's compacted
// revision (0: never compacted): the history before it is gone, except the
// version that was visible at it.
type HistoryResponse struct {
	Header          ResponseHeader
	Events          []*Event
	More            bool
	CompactRevision int64
}

// KeyHistory is what POST /v3/kv/history needs from a member. New serves
// the route when its Backend also implements KeyHistory.
type KeyHistory interface {
	// History reads the key's history linearizably. Errors: ErrEmptyKey;
	// ErrCompacted for a Revision below the compacted one; ErrFutureRev
	// for one above the current one; the errors of a linearizable read
	// (ErrNotSupportedForLearner, ErrTimeout, ErrNoLeader, ctx.Err()).
	// A key never written has an empty history, not an error.
	History(ctx context.Context, req *HistoryRequest) (*HistoryResponse, error)
}
