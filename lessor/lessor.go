package lessor

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
)

// ErrNotPrimary: this member's lessor does not time leases (it is not the
// leader, or a new leader that has not applied its first entry yet).
var ErrNotPrimary = errors.New("lessor: not the primary lessor")

// RevokeRetry is how long the lessor waits for the revoke of an
// Expired lease to be applied before proposing it again (etcd's
// expiredLeaseRetryInterval).
const RevokeRetry = 3 * time.Second

// MinTTL is etcd's minimum lease TTL in seconds for an election timeout
// and heartbeat: 1.5 election timeouts, counted in whole ticks, rounded up to
// a second (1s election timeout, 100ms heartbeat: 2 seconds). A lease must
// outlive a leader election, or a failover would expire it.
func MinTTL(electionTimeout, heartbeat time.Duration) int64 {
	ticks := int64(electionTimeout / heartbeat)
	d := time.Duration(3*ticks/2) * heartbeat
	return int64(math.Ceil(d.Seconds()))
}

// Lessor times the leases of the store. Every member keeps the set of
// Granted leases (ID and granted TTL, updated as grants and revokes are
// applied); only the primary lessor, on the leader, gives them expiry times,
// renews them on keepalive and hands expired ones to the revoker. A member
// becomes primary when, as leader, it has applied the first entry of its
// term (so it knows every grant and revoke of earlier terms); it then gives
// every lease its full TTL plus the extension (one election timeout), so a
// failover never expires a lease early. It stops being primary when it stops
// being leader, and forgets the expiry times.
//
// The lessor's methods are safe for concurrent use.
type Lessor struct {
	clock  Clock
	extend time.Duration

	mu      sync.Mutex
	leases  map[int64]*leaseTimer
	primary bool
	// leaderTerm is the term in which the Ready loop last saw this member
	// become leader, 0 when it is not leader. promote succeeds only for it.
	leaderTerm uint64
	// demotec is closed when the primary lessor is demoted; promotedc is
	// closed when a lessor becomes primary. Both are replaced for the next
	// round.
	demotec   chan struct{}
	promotedc chan struct{}
	expiries  expiryHeap
}

// leaseTimer is one granted lease as the lessor knows it.
type leaseTimer struct {
	id  int64
	ttl int64 // granted TTL, seconds
	// expiry is when the lease expires (primary only). While revoking, it is
	// when the revoke is proposed again.
	expiry time.Time
	// revoking: the lease expired and its revoke was handed to the revoker.
	// A keepalive then waits for the revoke rather than renewing it.
	revoking bool
	// heapIndex is the lease's place in expiries, -1 when not in it.
	heapIndex int
	// revokedc is closed when the lease's revoke is applied.
	revokedc chan struct{}
}

// New returns a lessor that knows leases (none primary yet), timing them
// on clock (nil: SystemClock) with extend added to every lease's TTL when
// it becomes primary (one election timeout, so a failover never expires a
// lease early).
func New(clock Clock, extend time.Duration, leases []cairn.LeaseRecord) *Lessor {
	if clock == nil {
		clock = SystemClock{}
	}
	le := &Lessor{
		clock:     clock,
		extend:    extend,
		leases:    make(map[int64]*leaseTimer, len(leases)),
		demotec:   make(chan struct{}),
		promotedc: make(chan struct{}),
	}
	for _, l := range leases {
		le.leases[l.ID] = &leaseTimer{id: l.ID, ttl: l.TTL, heapIndex: -1, revokedc: make(chan struct{})}
	}
	return le
}

// Reset replaces the known leases with leases (after the store was replaced
// by a snapshot). Leases that stay keep their timers; a primary lessor gives
// new ones their full TTL plus the extension; waiters on leases that are
// gone are told they were revoked.
func (le *Lessor) Reset(leases []cairn.LeaseRecord) {
	le.mu.Lock()
	defer le.mu.Unlock()
	keep := make(map[int64]*leaseTimer, len(leases))
	now := le.clock.Now()
	for _, l := range leases {
		if t := le.leases[l.ID]; t != nil {
			t.ttl = l.TTL
			keep[l.ID] = t
			continue
		}
		t := &leaseTimer{id: l.ID, ttl: l.TTL, heapIndex: -1, revokedc: make(chan struct{})}
		keep[l.ID] = t
		if le.primary {
			t.expiry = now.Add(le.extend + TTLDuration(t.ttl))
			heap.Push(&le.expiries, t)
		}
	}
	for id, t := range le.leases {
		if keep[id] == nil {
			le.removeLocked(t)
		}
	}
	le.leases = keep
}

// TTLDuration converts a TTL in seconds to a Duration, saturating (TTLs go
// up to cairn.MaxLeaseTTL, which overflows nothing, but be safe).
func TTLDuration(ttl int64) time.Duration {
	if ttl > int64(math.MaxInt64/time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(ttl) * time.Second
}

// Granted records a grant that was applied. A primary lessor starts its
// clock: it expires TTL seconds from now.
func (le *Lessor) Granted(id, ttl int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if old := le.leases[id]; old != nil {
		// Cannot happen (the store refuses an existing ID); keep the newer.
		le.removeLocked(old)
	}
	t := &leaseTimer{id: id, ttl: ttl, heapIndex: -1, revokedc: make(chan struct{})}
	le.leases[id] = t
	if le.primary {
		t.expiry = le.clock.Now().Add(TTLDuration(ttl))
		heap.Push(&le.expiries, t)
	}
}

// Revoked records a revoke that was applied (by a client or by expiry).
func (le *Lessor) Revoked(id int64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if t := le.leases[id]; t != nil {
		le.removeLocked(t)
	}
}

func (le *Lessor) removeLocked(t *leaseTimer) {
	delete(le.leases, t.id)
	if t.heapIndex >= 0 {
		heap.Remove(&le.expiries, t.heapIndex)
	}
	close(t.revokedc)
}

// BecameLeader records that the Ready loop saw this member become leader in
// term; the lessor becomes primary when promote(term) follows.
func (le *Lessor) BecameLeader(term uint64) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.primary && le.leaderTerm != term {
		le.demoteLocked()
	}
	le.leaderTerm = term
}

// Promote makes the lessor primary if this member is still the leader of
// term, giving every lease its full TTL plus the extension from now (etcd's
// Promote). It reports whether it did.
func (le *Lessor) Promote(term uint64) bool {
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.primary || le.leaderTerm != term || term == 0 {
		return false
	}
	le.primary = true
	now := le.clock.Now()
	le.expiries = le.expiries[:0]
	for _, t := range le.leases {
		t.revoking = false
		t.expiry = now.Add(le.extend + TTLDuration(t.ttl))
		t.heapIndex = len(le.expiries)
		le.expiries = append(le.expiries, t)
	}
	heap.Init(&le.expiries)
	close(le.promotedc)
	le.promotedc = make(chan struct{})
	return true
}

// Demote stops timing leases: this member is no longer the leader.
func (le *Lessor) Demote() {
	le.mu.Lock()
	defer le.mu.Unlock()
	le.leaderTerm = 0
	le.demoteLocked()
}

func (le *Lessor) demoteLocked() {
	if !le.primary {
		return
	}
	le.primary = false
	for _, t := range le.expiries {
		t.heapIndex = -1
	}
	for _, t := range le.leases {
		t.expiry, t.revoking = time.Time{}, false
	}
	le.expiries = le.expiries[:0]
	close(le.demotec)
	le.demotec = make(chan struct{})
}

// IsPrimary reports whether the lessor times leases, and a channel closed
// when that changes from false to true (nil when primary).
func (le *Lessor) IsPrimary() (bool, <-chan struct{}) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if le.primary {
		return true, nil
	}
	return false, le.promotedc
}

// Renew restarts the clock of lease id: it now expires its granted TTL from
// now, which renew returns. Errors: ErrNotPrimary (ask the leader);
// cairn.ErrLeaseNotFound if the lease does not exist or expired (an expired
// lease is being revoked: renew waits for the revoke, or returns
// ErrNotPrimary if the lessor is demoted first, as etcd's Renew);
// ctx.Err().
func (le *Lessor) Renew(ctx context.Context, id int64) (int64, error) {
	le.mu.Lock()
	if !le.primary {
		le.mu.Unlock()
		return 0, ErrNotPrimary
	}
	t := le.leases[id]
	if t == nil {
		le.mu.Unlock()
		return 0, cairn.ErrLeaseNotFound
	}
	now := le.clock.Now()
	if t.revoking || !now.Before(t.expiry) {
		revokedc, demotec := t.revokedc, le.demotec
		le.mu.Unlock()
		select {
		case <-revokedc:
			return 0, cairn.ErrLeaseNotFound
		case <-demotec:
			return 0, ErrNotPrimary
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	t.expiry = now.Add(TTLDuration(t.ttl))
	if t.heapIndex >= 0 {
		heap.Fix(&le.expiries, t.heapIndex)
	} else { // not expected: a primary lessor times every lease
		heap.Push(&le.expiries, t)
	}
	le.mu.Unlock()
	return t.ttl, nil
}

// Remaining returns the time lease id has left and its granted TTL.
// Errors: ErrNotPrimary, cairn.ErrLeaseNotFound.
func (le *Lessor) Remaining(id int64) (time.Duration, int64, error) {
	le.mu.Lock()
	defer le.mu.Unlock()
	if !le.primary {
		return 0, 0, ErrNotPrimary
	}
	t := le.leases[id]
	if t == nil {
		return 0, 0, cairn.ErrLeaseNotFound
	}
	if t.revoking {
		return 0, t.ttl, nil
	}
	return max(t.expiry.Sub(le.clock.Now()), 0), t.ttl, nil
}

// Exists reports whether lease id is granted, as the applied entries say.
func (le *Lessor) Exists(id int64) bool {
	le.mu.Lock()
	defer le.mu.Unlock()
	return le.leases[id] != nil
}

// Expired takes up to limit leases whose time is up, marks them revoking
// and returns their IDs, earliest expiry first. A revoking lease comes back
// after RevokeRetry if its revoke has not been applied by then.
// Nothing expires on a lessor that is not primary.
func (le *Lessor) Expired(limit int) []int64 {
	le.mu.Lock()
	defer le.mu.Unlock()
	if !le.primary {
		return nil
	}
	now := le.clock.Now()
	var ids []int64
	for len(ids) < limit && len(le.expiries) > 0 {
		t := le.expiries[0]
		if now.Before(t.expiry) {
			break
		}
		ids = append(ids, t.id)
		t.revoking = true
		t.expiry = now.Add(RevokeRetry)
		heap.Fix(&le.expiries, 0)
	}
	return ids
}

// Count returns the number of granted leases the lessor knows.
func (le *Lessor) Count() int {
	le.mu.Lock()
	defer le.mu.Unlock()
	return len(le.leases)
}

// expiryHeap orders leases by expiry, earliest first (container/heap).
type expiryHeap []*leaseTimer

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].expiry.Before(h[j].expiry) }
func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex = i
	h[j].heapIndex = j
}

func (h *expiryHeap) Push(x any) {
	t := x.(*leaseTimer)
	t.heapIndex = len(*h)
	*h = append(*h, t)
}

func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.heapIndex = -1
	*h = old[:n-1]
	return t
}
