package server

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
)

// Expiry: the leader's lessor finds the leases whose time is up, and this
// loop proposes their revocation through raft, so every member deletes the
// same keys at the same revision and the apply never reads a clock. Revokes
// are bounded, as etcd bounds them (leaseRevokeRate, 1000 leases a second
// by default), so a mass expiry cannot crowd out client writes: every
// Config.LeaseCheckInterval the loop takes at most LeaseRevokeRate x the
// interval leases, proposes them in entries of at most leaseRevokesPerEntry
// leases with at most leaseExpireInFlight entries in flight, and waits for
// them before the next round. A revoke that fails (leadership lost, a
// timeout) is proposed again after leaseRevokeRetry if this member still
// leads; a new leader times every lease afresh.

const (
	// leaseRevokesPerEntry bounds the leases revoked by one raft entry.
	leaseRevokesPerEntry = 128
	// leaseExpireInFlight bounds the expiry entries proposed at once.
	leaseExpireInFlight = 4
)

// leaseLoop runs the expiry rounds until the member stops.
func (s *Server) leaseLoop() {
	defer s.loops.Done()
	interval := s.cfg.LeaseCheckInterval
	budget := int(float64(s.cfg.LeaseRevokeRate) * interval.Seconds())
	budget = max(budget, 1)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
		case <-s.stopc:
			return
		}
		ids := s.lessor.expired(budget)
		if len(ids) > 0 {
			s.proposeExpiry(ids)
		}
	}
}

// proposeExpiry proposes the revocation of ids in bounded entries and waits
// for them.
func (s *Server) proposeExpiry(ids []int64) {
	sem := make(chan struct{}, leaseExpireInFlight)
	var wg sync.WaitGroup
	for len(ids) > 0 {
		n := min(len(ids), leaseRevokesPerEntry)
		chunk := ids[:n:n]
		ids = ids[n:]
		select {
		case sem <- struct{}{}:
		case <-s.stopc:
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := s.propose(context.Background(), &request{LeaseExpire: &leaseExpire{IDs: chunk}})
			if err != nil && !errors.Is(err, cairn.ErrStopped) {
				s.log.Warn("proposing the revoke of expired leases failed; retrying later",
					"leases", len(chunk), "err", err)
			}
		}()
	}
	wg.Wait()
}
