package lessor

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
)

// Expiry: the leader's lessor finds the leases whose time is up, and
// RunExpiry hands their revocation to the member, which proposes it through
// raft, so every member deletes the
// same keys at the same revision and the apply never reads a clock. Revokes
// are bounded, as etcd bounds them (leaseRevokeRate, 1000 leases a second
// by default, --lease-revoke-rate here), so a mass expiry cannot crowd out client writes: every
// check interval the loop takes at most revoke rate x the
// interval leases, proposes them in entries of at most leaseRevokesPerEntry
// leases with at most leaseExpireInFlight entries in flight, and waits for
// them before the next round. A revoke that fails (leadership lost, a
// timeout) is proposed again after RevokeRetry if this member still
// leads; a new leader times every lease afresh.

const (
	// leaseRevokesPerEntry bounds the leases revoked by one raft entry.
	leaseRevokesPerEntry = 128
	// leaseExpireInFlight bounds the expiry entries proposed at once.
	leaseExpireInFlight = 4
)

// RunExpiry runs the expiry rounds until stop is closed: every interval it
// takes at most rate x interval expired leases (at least one) from the
// primary lessor and passes them to revoke, in chunks of at most
// leaseRevokesPerEntry IDs with at most leaseExpireInFlight chunks in
// flight, and waits for them before the next round. revoke proposes the
// revocation and returns once it is applied (or failed); a failure other
// than cairn.ErrStopped is logged, and the lease is handed out again after
// RevokeRetry while this member is primary.
func (le *Lessor) RunExpiry(stop <-chan struct{}, interval time.Duration, rate int, revoke func(ids []int64) error, log *slog.Logger) {
	budget := max(int(float64(rate)*interval.Seconds()), 1)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
		case <-stop:
			return
		}
		if ids := le.Expired(budget); len(ids) > 0 {
			revokeChunks(stop, ids, revoke, log)
		}
	}
}

// revokeChunks passes ids to revoke in bounded chunks and waits for them.
func revokeChunks(stop <-chan struct{}, ids []int64, revoke func([]int64) error, log *slog.Logger) {
	sem := make(chan struct{}, leaseExpireInFlight)
	var wg sync.WaitGroup
	for len(ids) > 0 {
		n := min(len(ids), leaseRevokesPerEntry)
		chunk := ids[:n:n]
		ids = ids[n:]
		select {
		case sem <- struct{}{}:
		case <-stop:
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := revoke(chunk); err != nil && !errors.Is(err, cairn.ErrStopped) {
				log.Warn("proposing the revoke of expired leases failed; retrying later",
					"leases", len(chunk), "err", err)
			}
		}()
	}
	wg.Wait()
}
