package server

import (
	"context"
	"errors"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/peer"
)

// A follower forwards keepalive and timetolive to the leader over the peer
// transport (package peer, lease.go), as etcd does; the leader answers from
// its lessor once it applied the follower's applied index, and never
// forwards again (errLeaseNotLeader: the follower looks again).

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
