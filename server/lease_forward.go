package server

import (
	"context"
	"errors"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/peer"
)

// Forwarding lease requests from a follower to the leader over the peer
// transport, as etcd forwards LeaseRenew and LeaseTimeToLive to its leader's
// peer URL (the endpoints and their bodies: package peer, lease.go). The
// follower sends its applied index; the leader first waits until it has
// applied as much (so its answer reflects every write the follower's client
// saw), then answers from its own lessor, and never forwards again: if it
// is not the primary lessor (it lost the leadership, or has not applied its
// first entry yet) the follower gets errLeaseNotLeader and looks again at
// who leads. The answer's header is completed by the member the client
// asked: its member id, the leader's revision.

// fromPeerLeaseErr maps the transport's "not the leader" to the lessor's.
func fromPeerLeaseErr(err error) error {
	if errors.Is(err, peer.ErrLeaseNotLeader) {
		return errLeaseNotLeader
	}
	return err
}

// LeaseKeepAlive is the leader's side of a forwarded keepalive
// (peer.Member).
func (m peerMember) LeaseKeepAlive(ctx context.Context, req *cairn.LeaseKeepAliveRequest, applied uint64) (*cairn.LeaseKeepAliveResponse, error) {
	var resp *cairn.LeaseKeepAliveResponse
	err := m.s.forwardedLease(ctx, applied, func(ctx context.Context) error {
		var err error
		resp, err = m.s.leaseRenewLocal(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// LeaseTimeToLive is the leader's side of a forwarded timetolive
// (peer.Member).
func (m peerMember) LeaseTimeToLive(ctx context.Context, req *cairn.LeaseTimeToLiveRequest, applied uint64) (*cairn.LeaseTimeToLiveResponse, error) {
	var resp *cairn.LeaseTimeToLiveResponse
	err := m.s.forwardedLease(ctx, applied, func(context.Context) error {
		var err error
		resp, err = m.s.leaseTimeToLiveLocal(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// forwardedLease runs local on this member's primary lessor, within the
// request timeout, once the member has applied index applied. It never
// forwards: peer.ErrLeaseNotLeader when the lessor is not primary.
func (s *Server) forwardedLease(ctx context.Context, applied uint64, local func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	select {
	case <-s.applied.Wait(applied):
	case <-ctx.Done():
		return cairn.ErrTimeout
	case <-s.stopc:
		return cairn.ErrStopped
	}
	err := s.atLeaseLeader(ctx, local, nil)
	if errors.Is(err, errLeaseNotLeader) {
		return peer.ErrLeaseNotLeader
	}
	return err
}
