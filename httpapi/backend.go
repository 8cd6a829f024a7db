package httpapi

import (
	"context"

	"github.com/cairnkv/cairn/store"
)

// KV is what the v3 KV endpoints need from a cluster member.
//
// Every method is safe for concurrent use. Writes (Put, DeleteRange, Txn with
// a write, Compact) return after the request is committed by raft and applied
// to the store, with the result of the apply. Range is linearizable unless
// req.Serializable. Errors are the sentinels of package store (wrapped or
// not); ctx cancellation gives ctx.Err(). The returned responses are owned by
// the caller. Each response's Header is complete (cluster, member, revision,
// raft term).
type KV interface {
	Range(ctx context.Context, req *store.RangeRequest) (*store.RangeResponse, error)
	Put(ctx context.Context, req *store.PutRequest) (*store.PutResponse, error)
	DeleteRange(ctx context.Context, req *store.DeleteRangeRequest) (*store.DeleteRangeResponse, error)
	Txn(ctx context.Context, req *store.TxnRequest) (*store.TxnResponse, error)
	Compact(ctx context.Context, req *store.CompactionRequest) (*store.CompactionResponse, error)
}

// Status is a member's answer to /v3/maintenance/status, as etcd's
// StatusResponse. Sizes are bytes; indexes are raft log indexes.
type Status struct {
	Header           store.ResponseHeader
	Version          string
	DBSize           int64
	DBSizeInUse      int64
	Leader           uint64
	RaftIndex        uint64
	RaftTerm         uint64
	RaftAppliedIndex uint64
	Errors           []string
	IsLearner        bool
}

// Maintenance is what the maintenance endpoints need from a member.
type Maintenance interface {
	// Status reports the member's state; it does not go through raft.
	Status(ctx context.Context) (*Status, error)
}

// Backend is everything the HTTP API needs from a member.
type Backend interface {
	KV
	Maintenance
}
