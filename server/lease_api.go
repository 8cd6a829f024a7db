package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/store"
)

var _ cairn.Lease = (*Server)(nil)

// MinLeaseTTL is the smallest TTL in seconds this member grants: a grant
// asking for less gets this much (etcd's rule: 1.5 election timeouts,
// rounded up to a second).
func (s *Server) MinLeaseTTL() int64 {
	return lessor.MinTTL(s.cfg.ElectionTimeout, s.cfg.HeartbeatInterval)
}

// LeaseGrant grants a lease through raft, as etcd's LeaseGrant: a TTL above
// cairn.MaxLeaseTTL fails with cairn.ErrLeaseTTLTooLarge before anything is
// proposed; a TTL below MinLeaseTTL is raised to it; ID 0 lets the member
// pick an unused positive ID; a client-chosen ID that is already granted
// fails with cairn.ErrLeaseExists. The lease's clock starts when the leader
// applies the grant.
func (s *Server) LeaseGrant(ctx context.Context, req *cairn.LeaseGrantRequest) (*cairn.LeaseGrantResponse, error) {
	if req.TTL > cairn.MaxLeaseTTL {
		return nil, cairn.ErrLeaseTTLTooLarge
	}
	g := &entry.LeaseGrant{ID: req.ID, TTL: max(req.TTL, s.MinLeaseTTL())}
	if g.ID == cairn.NoLease {
		g.ID, g.Auto = int64(s.ids.Next()&(1<<63-1)), true
	}
	r, err := s.propose(ctx, &entry.Request{LeaseGrant: g})
	if err != nil {
		return nil, err
	}
	s.header(&r.leaseGrant.Header)
	return r.leaseGrant, nil
}

// LeaseRevoke revokes a lease through raft and deletes its keys, all in one
// revision. Errors: cairn.ErrLeaseNotFound, and those of any write.
func (s *Server) LeaseRevoke(ctx context.Context, req *cairn.LeaseRevokeRequest) (*cairn.LeaseRevokeResponse, error) {
	r, err := s.propose(ctx, &entry.Request{LeaseRevoke: req})
	if err != nil {
		return nil, err
	}
	s.header(&r.leaseRevoke.Header)
	return r.leaseRevoke, nil
}

// LeaseKeepAlive renews a lease: it now expires its granted TTL from now.
// Only the leader's lessor renews; a follower forwards the request to the
// leader (through the LeaseForwarder if one is set, else over the peer
// transport). A lease that does not exist, or that expired and is being
// revoked, gets TTL 0 (etcd's answer on the keepalive stream); the renewal
// of an expired lease waits until its revoke is applied. The header is this
// member's. Errors: cairn.ErrTimeout if no leader answers within the
// request timeout, cairn.ErrStopped, ctx.Err().
func (s *Server) LeaseKeepAlive(ctx context.Context, req *cairn.LeaseKeepAliveRequest) (*cairn.LeaseKeepAliveResponse, error) {
	var resp *cairn.LeaseKeepAliveResponse
	err := s.atLeaseLeader(ctx,
		func(ctx context.Context) (err error) {
			resp, err = s.leaseRenewLocal(ctx, req)
			return err
		},
		func(ctx context.Context, leader uint64) (err error) {
			resp, err = s.tr.ForwardLeaseKeepAlive(ctx, leader, req, s.appliedIndex.Load())
			return fromPeerLeaseErr(err)
		})
	if err != nil {
		return nil, err
	}
	resp.Header = cairn.ResponseHeader{Revision: s.storeNow().Rev()}
	s.header(&resp.Header)
	return resp, nil
}

// leaseRenewLocal renews a lease on this member's primary lessor
// (lessor.ErrNotPrimary otherwise).
func (s *Server) leaseRenewLocal(ctx context.Context, req *cairn.LeaseKeepAliveRequest) (*cairn.LeaseKeepAliveResponse, error) {
	ttl, err := s.lessor.Renew(ctx, req.ID)
	if errors.Is(err, cairn.ErrLeaseNotFound) {
		ttl, err = 0, nil
	}
	if err != nil {
		return nil, err
	}
	if ttl > 0 {
		s.metrics.LeaseRenewed.Inc()
	}
	resp := &cairn.LeaseKeepAliveResponse{ID: req.ID, TTL: ttl}
	resp.Header.Revision = s.storeNow().Rev()
	return resp, nil
}

// LeaseTimeToLive answers how long a lease has left, as the leader's lessor
// knows it (a follower forwards the request): TTL in whole seconds,
// truncated, GrantedTTL, and with req.Keys the attached keys in ascending
// order. A lease that does not exist gets TTL -1, as etcd answers. Errors
// as LeaseKeepAlive.
func (s *Server) LeaseTimeToLive(ctx context.Context, req *cairn.LeaseTimeToLiveRequest) (*cairn.LeaseTimeToLiveResponse, error) {
	var resp *cairn.LeaseTimeToLiveResponse
	err := s.atLeaseLeader(ctx,
		func(context.Context) (err error) {
			resp, err = s.leaseTimeToLiveLocal(req)
			return err
		},
		func(ctx context.Context, leader uint64) (err error) {
			resp, err = s.tr.ForwardLeaseTimeToLive(ctx, leader, req, s.appliedIndex.Load())
			return fromPeerLeaseErr(err)
		})
	if err != nil {
		return nil, err
	}
	resp.Header = cairn.ResponseHeader{Revision: s.storeNow().Rev()}
	s.header(&resp.Header)
	return resp, nil
}

// leaseTimeToLiveLocal answers from this member's primary lessor
// (lessor.ErrNotPrimary otherwise).
func (s *Server) leaseTimeToLiveLocal(req *cairn.LeaseTimeToLiveRequest) (*cairn.LeaseTimeToLiveResponse, error) {
	left, granted, err := s.lessor.Remaining(req.ID)
	r := &cairn.LeaseTimeToLiveResponse{ID: req.ID}
	switch {
	case errors.Is(err, cairn.ErrLeaseNotFound):
		r.TTL = -1
	case err != nil:
		return nil, err
	default:
		r.TTL = int64(left / time.Second)
		r.GrantedTTL = granted
	}
	st := s.storeNow()
	if req.Keys && r.TTL >= 0 {
		r.Keys, _ = st.LeaseKeys(req.ID)
	}
	r.Header.Revision = st.Rev()
	return r, nil
}

// LeaseLeases lists every lease granted on this member's store, in
// ascending ID order (etcd lists them in no particular order). Like etcd it
// answers from the local member without asking the leader.
func (s *Server) LeaseLeases(ctx context.Context) (*cairn.LeaseLeasesResponse, error) {
	select {
	case <-s.stopc:
		return nil, cairn.ErrStopped
	default:
	}
	st := s.storeNow()
	ls := st.Leases()
	resp := &cairn.LeaseLeasesResponse{Leases: make([]cairn.LeaseStatus, len(ls))}
	for i, l := range ls {
		resp.Leases[i].ID = l.ID
	}
	resp.Header.Revision = st.Rev()
	s.header(&resp.Header)
	return resp, nil
}

// errLeaseNotLeader: the member asked is not the leader's primary lessor
// (lessor.ErrNotLeader); the asker looks again at who leads.
var errLeaseNotLeader = lessor.ErrNotLeader

// atLeaseLeader runs local on this member's primary lessor or remote on the
// leader, within the request timeout (lessor.AtLeader says when each runs).
// With remote nil (a request forwarded to this member) it does not forward:
// errLeaseNotLeader when another member leads. Our own deadline becomes
// cairn.ErrTimeout.
func (s *Server) atLeaseLeader(ctx context.Context,
	local func(context.Context) error,
	remote func(context.Context, uint64) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	err := s.lessor.AtLeader(ctx, s.memberID, s.lead.Load, s.stopc, local, remote)
	return s.leaseContextErr(ctx, err)
}

// leaseContextErr maps our own request deadline to cairn.ErrTimeout.
func (s *Server) leaseContextErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return s.contextErr(ctx, err)
	}
	return err
}

// leaseState is the lease machinery a Server holds (see New).
type leaseState struct {
	lessor *lessor.Lessor

	// leaseStreams is closed by CloseLeaseStreams.
	leaseStreamsInit  sync.Once
	leaseStreamsClose sync.Once
	leaseStreams      chan struct{}
}

// reloadLeases makes the lessor take the store's leases afresh, after the
// applier replaced the store by an installed raft snapshot (only the
// applier calls it, so it reads s.store without storeMu). Leases the lessor
// knew keep their timers; a leader's lessor gives new ones their full TTL.
func (s *Server) reloadLeases() { s.lessor.Reset(s.store.Leases()) }

// storeNow returns the current store: the applier replaces it when it
// installs a raft snapshot.
func (s *Server) storeNow() *store.Store {
	s.storeMu.RLock()
	defer s.storeMu.RUnlock()
	return s.store
}

// LeaseStreamsClosed returns a channel closed by CloseLeaseStreams (or
// Close): the HTTP layer then ends its open keepalive streams.
func (s *Server) LeaseStreamsClosed() <-chan struct{} { return s.leaseStreamsDone() }

// CloseLeaseStreams ends every open keepalive stream of the member's HTTP
// API (each ends with the stream error of cairn.ErrStopped), so that a
// graceful shutdown is not held up by clients that keep them open. New
// streams end at once. It is idempotent; Close calls it too.
func (s *Server) CloseLeaseStreams() {
	ch := s.leaseStreamsDone()
	s.leaseStreamsClose.Do(func() { close(ch) })
}

func (s *Server) leaseStreamsDone() chan struct{} {
	s.leaseStreamsInit.Do(func() { s.leaseStreams = make(chan struct{}) })
	return s.leaseStreams
}
