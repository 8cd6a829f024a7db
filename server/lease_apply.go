package server

import (
	"context"
	"math"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/store"
	"github.com/cairnkv/cairn/v2store"
)

// The lease side of the Ready loop and the applier.

// leaseLeadership tells the lessor what the Ready loop saw: this member
// became leader (in the current term) or stopped being it. A new leader's
// lessor becomes primary only when the first entry of its term is applied
// (apply.go calls promote), as etcd promotes its lessor then.
func (s *Server) leaseLeadership(leader bool) {
	if leader {
		s.lessor.BecameLeader(s.term.Load())
	} else {
		s.lessor.Demote()
	}
}

// leaseApplied tells the lessor about the grants and revokes of an applied
// request. It runs after the batch is committed, before the proposer is
// answered, so a client that got its grant can renew it at once.
func (s *Server) leaseApplied(r *applyResult) {
	if r.err != nil {
		return
	}
	if g := r.leaseGrant; g != nil {
		s.lessor.Granted(g.ID, g.TTL)
		s.metrics.LeaseGranted.Inc()
		s.metrics.LeaseTTL.Observe(float64(g.TTL))
	}
	for _, id := range r.revokedLeases {
		s.lessor.Revoked(id)
	}
	s.metrics.LeaseRevoked.Add(float64(len(r.revokedLeases)))
	for range r.revokedV2TTLs {
		s.v2Stats.CountExpire()
	}
}

// applyLeaseGrant grants g in the batch. An ID the proposer picked (Auto)
// that is already taken is replaced by the next free one, deterministically,
// so a grant with ID 0 never fails with cairn.ErrLeaseExists.
func applyLeaseGrant(b *store.Batch, g *entry.LeaseGrant) (*cairn.LeaseGrantResponse, error) {
	id := g.ID
	if g.Auto {
		for id == cairn.NoLease || b.HasLease(id) {
			if id == math.MaxInt64 {
				id = 1
			} else {
				id++
			}
		}
	}
	return b.LeaseGrant(&cairn.LeaseGrantRequest{ID: id, TTL: g.TTL})
}

// applyLeaseExpire revokes the leases of e that are still granted, each in
// its own revision, into r.revokedLeases (and the v2 TTLs among them into
// r.revokedV2TTLs). Leases already revoked (by a client, or by an earlier
// expiry entry) are skipped.
func applyLeaseExpire(b *store.Batch, e *entry.LeaseExpire, r *applyResult) error {
	for _, id := range e.IDs {
		l, ok := b.Lease(id)
		if !ok {
			continue
		}
		if l.V2TTL {
			// A v2 directory's TTL takes its subtree with it.
			if err := v2store.ExpireDirs(b, id); err != nil {
				return err
			}
		}
		if _, err := b.LeaseRevoke(&cairn.LeaseRevokeRequest{ID: id}); err != nil {
			return err
		}
		r.revokedLeases = append(r.revokedLeases, id)
		if l.V2TTL {
			r.revokedV2TTLs++
		}
	}
	return nil
}

// revokeExpired proposes the revocation of expired leases ids (the lessor's
// expiry loop calls it) and returns once it is applied.
func (s *Server) revokeExpired(ids []int64) error {
	r, err := s.propose(context.Background(), &entry.Request{LeaseExpire: &entry.LeaseExpire{IDs: ids}})
	if err == nil { // as etcd, counted by the leader that expired them
		s.metrics.LeaseExpired.Add(float64(len(r.revokedLeases)))
	}
	return err
}
