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

// Lease is what the v3 lease endpoints need from a cluster member (etcd's
// Lease service).
//
// Every method is safe for concurrent use; errors are the sentinels of
// package store, ctx cancellation gives ctx.Err(), and each response's
// Header is complete.
//
//   - LeaseGrant and LeaseRevoke go through raft and return once applied.
//     Grant: store.ErrLeaseTTLTooLarge above store.MaxLeaseTTL, a TTL below
//     the member's minimum raised to it, ID 0 answered with a member-picked
//     ID, store.ErrLeaseExists for a client-chosen ID in use. Revoke:
//     store.ErrLeaseNotFound; it deletes the lease's keys in one revision.
//   - LeaseKeepAlive renews one lease (answered by the leader) and returns
//     its granted TTL, or TTL 0 for a lease that does not exist: that is not
//     an error on the keepalive stream.
//   - LeaseTimeToLive returns the remaining TTL in seconds (-1 for a lease
//     that does not exist), the granted TTL and, if asked, the attached
//     keys in ascending order.
//   - LeaseLeases lists every granted lease.
//   - LeaseStreamsClosed returns a channel the member closes when open
//     keepalive streams must end (it is shutting down); they end with the
//     stream error of store.ErrStopped. nil: never.
type Lease interface {
	LeaseGrant(ctx context.Context, req *store.LeaseGrantRequest) (*store.LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, req *store.LeaseRevokeRequest) (*store.LeaseRevokeResponse, error)
	LeaseKeepAlive(ctx context.Context, req *store.LeaseKeepAliveRequest) (*store.LeaseKeepAliveResponse, error)
	LeaseTimeToLive(ctx context.Context, req *store.LeaseTimeToLiveRequest) (*store.LeaseTimeToLiveResponse, error)
	LeaseLeases(ctx context.Context) (*store.LeaseLeasesResponse, error)
	LeaseStreamsClosed() <-chan struct{}
}

// Backend is everything the HTTP API needs from a member.
type Backend interface {
	KV
	Maintenance
	Lease
}
