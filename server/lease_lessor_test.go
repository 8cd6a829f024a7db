package server

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
)

// The lessor on its own: who times leases and when they expire.

func TestLessorPrimaryOnlyAfterPromoteInItsTerm(t *testing.T) {
	clock := newManualClock()
	le := newLessor(clock, time.Second, []cairn.LeaseRecord{{ID: 1, TTL: 10}})
	ctx := context.Background()
	if _, err := le.renew(ctx, 1); !errors.Is(err, errNotPrimary) {
		t.Fatalf("renew on a follower's lessor: %v", err)
	}
	if le.promote(3) {
		t.Fatal("promoted without being leader")
	}
	le.becameLeader(3)
	if le.promote(2) {
		t.Fatal("promoted by an entry of an older term")
	}
	if p, _ := le.isPrimary(); p {
		t.Fatal("primary before the first entry of the term is applied")
	}
	if !le.promote(3) {
		t.Fatal("not promoted by the first entry of its term")
	}
	// Promotion gives the full TTL plus the extension.
	left, granted, err := le.remaining(1)
	if err != nil || left != 11*time.Second || granted != 10 {
		t.Fatalf("remaining after promotion: %v %d %v; want 11s 10", left, granted, err)
	}
	le.demote()
	if _, _, err := le.remaining(1); !errors.Is(err, errNotPrimary) {
		t.Fatalf("remaining after demotion: %v", err)
	}
	if le.promote(3) {
		t.Fatal("promoted again after demotion without a new leadership")
	}
	if got := le.expired(10); got != nil {
		t.Fatalf("a demoted lessor expires %v", got)
	}
}

func TestLessorExpiresInOrderWithinTheLimit(t *testing.T) {
	clock := newManualClock()
	le := newLessor(clock, 0, nil)
	le.becameLeader(1)
	le.promote(1)
	for id, ttl := range map[int64]int64{1: 5, 2: 3, 3: 4, 4: 100, 5: 3} {
		le.granted(id, ttl)
	}
	if got := le.expired(10); len(got) != 0 {
		t.Fatalf("expired before time: %v", got)
	}
	clock.Advance(4 * time.Second)
	got := le.expired(2)
	if len(got) != 2 || !slices.Contains([]int64{2, 5}, got[0]) || !slices.Contains([]int64{2, 5}, got[1]) {
		t.Fatalf("first round %v, want 2 and 5 (TTL 3)", got)
	}
	if got := le.expired(2); !slices.Equal(got, []int64{3}) {
		t.Fatalf("second round %v, want [3]", got)
	}
	// Handed-over leases come back if their revoke is not applied in time.
	le.revoked(2)
	clock.Advance(leaseRevokeRetry)
	got = le.expired(10)
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 3, 5}) {
		t.Fatalf("after the retry interval %v, want [1 3 5]", got)
	}
	if le.count() != 4 {
		t.Fatalf("count %d, want 4", le.count())
	}
}

func TestLessorRenew(t *testing.T) {
	clock := newManualClock()
	le := newLessor(clock, 0, nil)
	le.becameLeader(1)
	le.promote(1)
	le.granted(1, 10)
	ctx := context.Background()
	if _, err := le.renew(ctx, 9); !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("renew of an unknown lease: %v", err)
	}
	clock.Advance(9 * time.Second)
	if ttl, err := le.renew(ctx, 1); err != nil || ttl != 10 {
		t.Fatalf("renew: %d %v", ttl, err)
	}
	if left, _, _ := le.remaining(1); left != 10*time.Second {
		t.Fatalf("remaining after renew %v", left)
	}

	// An expired lease: renew waits for its revoke...
	clock.Advance(10 * time.Second)
	res := make(chan error, 1)
	go func() { _, err := le.renew(ctx, 1); res <- err }()
	le.revoked(1)
	if err := <-res; !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("renew of an expired lease, then revoked: %v", err)
	}
	// ...or for a demotion.
	le.granted(2, 1)
	clock.Advance(time.Second)
	go func() { _, err := le.renew(ctx, 2); res <- err }()
	le.demote()
	if err := <-res; !errors.Is(err, errNotPrimary) {
		t.Fatalf("renew of an expired lease, then demoted: %v", err)
	}
	// ...or for the caller.
	le.becameLeader(2)
	le.promote(2)
	clock.Advance(2 * time.Second)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := le.renew(cctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("renew with a canceled context: %v", err)
	}
}

func TestLessorReset(t *testing.T) {
	clock := newManualClock()
	le := newLessor(clock, 0, []cairn.LeaseRecord{{ID: 1, TTL: 10}, {ID: 2, TTL: 10}})
	le.becameLeader(1)
	le.promote(1)
	clock.Advance(5 * time.Second)
	le.reset([]cairn.LeaseRecord{{ID: 2, TTL: 10}, {ID: 3, TTL: 20}})
	if le.exists(1) || !le.exists(2) || !le.exists(3) {
		t.Fatal("reset kept the wrong leases")
	}
	if left, _, _ := le.remaining(2); left != 5*time.Second {
		t.Fatalf("a kept lease's remaining time %v, want 5s", left)
	}
	if left, _, _ := le.remaining(3); left != 20*time.Second {
		t.Fatalf("a new lease's remaining time %v, want 20s", left)
	}
}
