package peer

import (
	"context"
	"errors"
	"io"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn"
)

// Raft is the member's raft node as the transport sees it (etcd's
// rafthttp.Raft). The transport calls it from its own goroutines (one per
// stream and per snapshot), concurrently.
type Raft interface {
	// Process steps m, received from a peer, into raft. An error refuses a
	// snapshot (the sender reports it failed); on a stream it is ignored
	// (raft refuses local message types and answers from members it does
	// not know).
	Process(ctx context.Context, m raftpb.Message) error
	// IsIDRemoved reports whether member id was removed from the cluster:
	// its requests are answered 410 and its open stream is ended.
	IsIDRemoved(id uint64) bool
	// ReportUnreachable tells raft that member id could not be reached
	// (a stream broke or was refused, a snapshot could not be sent).
	ReportUnreachable(id uint64)
	// ReportSnapshot tells raft the outcome of a snapshot sent to member
	// id: SnapshotFinish once the receiver has stored it and stepped it,
	// SnapshotFailure otherwise (also when one is under way already).
	ReportSnapshot(id uint64, status raft.SnapshotStatus)
}

// ErrLeaseNotLeader is what Member's lease methods return when this member
// is not (or not yet) the leader's primary lessor; it crosses the wire as
// 409, and the forwarding member then looks again at who leads.
var ErrLeaseNotLeader = errors.New("lessor: not the leader")

// Member is what the transport asks of its member besides raft. Its
// methods are called concurrently, from the goroutines that serve peer
// requests and send snapshots.
type Member interface {
	// Removed is called when a peer answered 410: this member was removed
	// from the cluster, and stops. by is the peer that said so. It may be
	// called more than once, from several goroutines, and must not block
	// on the transport (Stop waits for the caller).
	Removed(by uint64)
	// ClusterState returns the member's encoded cluster state (members,
	// removed ids, alarms), sent with every snapshot and handed to the
	// receiver's snapshot.Dir as is. The slice is the caller's.
	ClusterState() []byte
	// MembersJSON returns the cluster's members as the JSON array that
	// GET /members answers (and FetchMembers returns).
	MembersJSON() ([]byte, error)
	// WriteSnapshot writes a consistent copy of the store file to w, for a
	// follower that needs a snapshot, and returns how many bytes it wrote.
	// The copy's consistent index is at least the index of every raft
	// snapshot the member took.
	WriteSnapshot(w io.Writer) (int64, error)
	// LeaseKeepAlive is the leader's side of a keepalive a follower
	// forwarded: it waits (within the member's request timeout) until the
	// member has applied the follower's applied index, then renews the
	// lease on this member's primary lessor, never forwarding again. It
	// returns ErrLeaseNotLeader when this member is not the primary lessor,
	// else the lessor's answer (Header.Revision filled in) or its error:
	// cairn.ErrLeaseNotFound, cairn.ErrTimeout, cairn.ErrStopped...
	LeaseKeepAlive(ctx context.Context, req *cairn.LeaseKeepAliveRequest, applied uint64) (*cairn.LeaseKeepAliveResponse, error)
	// LeaseTimeToLive is LeaseKeepAlive for a forwarded timetolive: the
	// same wait, the same errors, answered from the primary lessor.
	LeaseTimeToLive(ctx context.Context, req *cairn.LeaseTimeToLiveRequest, applied uint64) (*cairn.LeaseTimeToLiveResponse, error)
	// Promote is the leader's side of a forwarded promotion of learner id:
	// nil once the change is applied on this member, else why not
	// (cairn.ErrLearnerNotReady, cairn.ErrMemberNotLearner, cairn.ErrNoLeader
	// when this member does not lead...). Its text crosses the wire.
	Promote(ctx context.Context, id uint64) error
}
