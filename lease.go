package cairn

import (
	"context"
	"errors"
)

// The lease vocabulary of the client APIs, as etcd's etcdserverpb Lease*
// messages and lease package errors. The store persists leases (ID and
// granted TTL) and the keys attached to them; expiry is the server's
// business (only the leader times leases and proposes their revocation).

// MaxLeaseTTL is the largest TTL a lease may be granted, in seconds (etcd's
// lease.MaxLeaseTTL, about 285 years). A larger one is ErrLeaseTTLTooLarge.
const MaxLeaseTTL = 9000000000

// NoLease is the lease ID meaning "no lease": a key without a lease, or a
// grant that lets the server pick the ID.
const NoLease = 0

var (
	// ErrLeaseExists: a grant naming an ID that is already granted.
	// etcd rpctypes.ErrLeaseExist, gRPC FailedPrecondition.
	ErrLeaseExists = errors.New("etcdserver: lease already exists")
	// ErrLeaseTTLTooLarge: a grant with a TTL above MaxLeaseTTL.
	// etcd rpctypes.ErrLeaseTTLTooLarge, gRPC OutOfRange.
	ErrLeaseTTLTooLarge = errors.New("etcdserver: too large lease TTL")
)

// LeaseRecord is a granted lease as the store keeps it: its ID and the TTL it was
// granted, in seconds (after the server raised it to the minimum TTL). The
// store knows no expiry times.
type LeaseRecord struct {
	ID  int64
	TTL int64
	// V2TTL marks a lease that a v2 write granted for a node's TTL
	// (package v2store): when it expires, the v2 directories attached to
	// it go with their whole subtree, and the v2 stats count an expiry.
	V2TTL bool
}

// LeaseGrantRequest grants a lease, as etcd's LeaseGrantRequest. TTL is in
// seconds. ID NoLease asks the server to pick an unused positive ID; any
// other ID (negative ones included, as etcd accepts them) is taken as is.
type LeaseGrantRequest struct {
	TTL int64
	ID  int64
}

// LeaseGrantResponse answers a LeaseGrantRequest with the lease's ID and its
// granted TTL in seconds (the minimum TTL if the request asked for less).
// Error is etcd's unused error string field, always empty.
type LeaseGrantResponse struct {
	Header ResponseHeader
	ID     int64
	TTL    int64
	Error  string
}

// LeaseRevokeRequest revokes a lease and deletes every key attached to it,
// as etcd's LeaseRevokeRequest.
//
// The json tags pin the format of raft entries (server/entry.go), which
// members keep on disk: never change them, whatever the Go names become.
type LeaseRevokeRequest struct {
	ID int64 `json:"ID"`
}

// LeaseRevokeResponse answers a LeaseRevokeRequest. Header.Revision is the
// revision of the deletion of the lease's keys, or the current revision if
// it had none.
type LeaseRevokeResponse struct {
	Header ResponseHeader
}

// LeaseKeepAliveRequest renews a lease, as etcd's LeaseKeepAliveRequest.
type LeaseKeepAliveRequest struct {
	ID int64
}

// LeaseKeepAliveResponse answers a LeaseKeepAliveRequest: TTL is the
// lease's granted TTL in seconds, which is now its remaining time, or 0 if
// the lease does not exist (etcd answers a missing lease this way on the
// keepalive stream, not with an error).
type LeaseKeepAliveResponse struct {
	Header ResponseHeader
	ID     int64
	TTL    int64
}

// LeaseTimeToLiveRequest asks for a lease's remaining time, as etcd's
// LeaseTimeToLiveRequest; Keys asks for the attached keys too.
type LeaseTimeToLiveRequest struct {
	ID   int64
	Keys bool
}

// LeaseTimeToLiveResponse answers a LeaseTimeToLiveRequest: TTL is the
// remaining time in whole seconds (-1 if the lease does not exist, as etcd
// answers), GrantedTTL the TTL it was granted, Keys the attached keys in
// ascending order when asked for.
type LeaseTimeToLiveResponse struct {
	Header     ResponseHeader
	ID         int64
	TTL        int64
	GrantedTTL int64
	Keys       [][]byte
}

// LeaseStatus is one entry of LeaseLeasesResponse, as etcd's LeaseStatus.
type LeaseStatus struct {
	ID int64
}

// LeaseLeasesResponse lists every granted lease, as etcd's
// LeaseLeasesResponse (cairn lists them in ascending ID order).
type LeaseLeasesResponse struct {
	Header ResponseHeader
	Leases []LeaseStatus
}

// Lease is what the v3 lease endpoints need from a cluster member (etcd's
// Lease service).
//
// Every method is safe for concurrent use; errors are this package's
// sentinels (errors.go), ctx cancellation gives ctx.Err(), and each response's
// Header is complete.
//
//   - LeaseGrant and LeaseRevoke go through raft and return once applied.
//     Grant: ErrLeaseTTLTooLarge above MaxLeaseTTL, a TTL below
//     the member's minimum raised to it, ID 0 answered with a member-picked
//     ID, ErrLeaseExists for a client-chosen ID in use. Revoke:
//     ErrLeaseNotFound; it deletes the lease's keys in one revision.
//   - LeaseKeepAlive renews one lease (answered by the leader) and returns
//     its granted TTL, or TTL 0 for a lease that does not exist: that is not
//     an error on the keepalive stream.
//   - LeaseTimeToLive returns the remaining TTL in seconds (-1 for a lease
//     that does not exist), the granted TTL and, if asked, the attached
//     keys in ascending order.
//   - LeaseLeases lists every granted lease.
//   - LeaseStreamsClosed returns a channel the member closes when open
//     keepalive streams must end (it is shutting down); they end with the
//     stream error of ErrStopped. nil: never.
type Lease interface {
	LeaseGrant(ctx context.Context, req *LeaseGrantRequest) (*LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, req *LeaseRevokeRequest) (*LeaseRevokeResponse, error)
	LeaseKeepAlive(ctx context.Context, req *LeaseKeepAliveRequest) (*LeaseKeepAliveResponse, error)
	LeaseTimeToLive(ctx context.Context, req *LeaseTimeToLiveRequest) (*LeaseTimeToLiveResponse, error)
	LeaseLeases(ctx context.Context) (*LeaseLeasesResponse, error)
	LeaseStreamsClosed() <-chan struct{}
}
