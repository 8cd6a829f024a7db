package httpapi

import (
	"context"
	"sync/atomic"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// The lease half of storeBackend: leases granted and revoked in the real
// store, with etcd's default rules at the edge (minimum TTL 2 seconds, the
// maximum TTL, picked IDs). It has no clock: nothing expires, a keepalive
// answers the granted TTL, and timetolive reports the full TTL as
// remaining. Expiry and remaining time are package server's (its tests, and
// this package's tests over a real member, cover them).

// testMinLeaseTTL is etcd's minimum TTL with its default election timeout.
const testMinLeaseTTL = 2

// LeaseStreamsClosed is closed by closeLeaseStreams (tests of the shutdown).
func (b *storeBackend) LeaseStreamsClosed() <-chan struct{} {
	b.leaseStreamsOnce.Do(func() { b.leaseStreams = make(chan struct{}) })
	return b.leaseStreams
}

func (b *storeBackend) closeLeaseStreams() {
	b.LeaseStreamsClosed()
	close(b.leaseStreams)
}

// nextLeaseID numbers the IDs storeBackend picks.
var nextLeaseID atomic.Int64

func (b *storeBackend) LeaseGrant(ctx context.Context, req *cairn.LeaseGrantRequest) (resp *cairn.LeaseGrantResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if req.TTL > cairn.MaxLeaseTTL {
		return nil, cairn.ErrLeaseTTLTooLarge
	}
	g := cairn.LeaseGrantRequest{ID: req.ID, TTL: max(req.TTL, testMinLeaseTTL)}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if g.ID == cairn.NoLease {
			g.ID = 7587869000000000000 + nextLeaseID.Add(1)
		}
		if resp, err = batch.LeaseGrant(&g); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	return resp, err
}

func (b *storeBackend) LeaseRevoke(ctx context.Context, req *cairn.LeaseRevokeRequest) (resp *cairn.LeaseRevokeResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if resp, err = batch.LeaseRevoke(req); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	return resp, err
}

func (b *storeBackend) LeaseKeepAlive(ctx context.Context, req *cairn.LeaseKeepAliveRequest) (*cairn.LeaseKeepAliveResponse, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	resp := &cairn.LeaseKeepAliveResponse{ID: req.ID}
	if l, ok := b.s.Lease(req.ID); ok {
		resp.TTL = l.TTL
	}
	resp.Header.Revision = b.s.Rev()
	fillHeader(&resp.Header)
	return resp, nil
}

func (b *storeBackend) LeaseTimeToLive(ctx context.Context, req *cairn.LeaseTimeToLiveRequest) (*cairn.LeaseTimeToLiveResponse, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	resp := &cairn.LeaseTimeToLiveResponse{ID: req.ID, TTL: -1}
	if l, ok := b.s.Lease(req.ID); ok {
		resp.TTL, resp.GrantedTTL = l.TTL, l.TTL
		if req.Keys {
			resp.Keys, _ = b.s.LeaseKeys(req.ID)
		}
	}
	resp.Header.Revision = b.s.Rev()
	fillHeader(&resp.Header)
	return resp, nil
}

func (b *storeBackend) LeaseLeases(ctx context.Context) (*cairn.LeaseLeasesResponse, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	resp := &cairn.LeaseLeasesResponse{}
	for _, l := range b.s.Leases() {
		resp.Leases = append(resp.Leases, cairn.LeaseStatus{ID: l.ID})
	}
	resp.Header.Revision = b.s.Rev()
	fillHeader(&resp.Header)
	return resp, nil
}
