package lessor

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
	clock := NewManualClock()
	le := New(clock, time.Second, []cairn.LeaseRecord{{ID: 1, TTL: 10}})
	ctx := context.Background()
	if _, err := le.Renew(ctx, 1); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("renew on a follower's lessor: %v", err)
	}
	if le.Promote(3) {
		t.Fatal("promoted without being leader")
	}
	le.BecameLeader(3)
	if le.Promote(2) {
		t.Fatal("promoted by an entry of an older term")
	}
	if p, _ := le.IsPrimary(); p {
		t.Fatal("primary before the first entry of the term is applied")
	}
	if !le.Promote(3) {
		t.Fatal("not promoted by the first entry of its term")
	}
	// Promotion gives the full TTL plus the extension.
	left, granted, err := le.Remaining(1)
	if err != nil || left != 11*time.Second || granted != 10 {
		t.Fatalf("remaining after promotion: %v %d %v; want 11s 10", left, granted, err)
	}
	le.Demote()
	if _, _, err := le.Remaining(1); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("remaining after demotion: %v", err)
	}
	if le.Promote(3) {
		t.Fatal("promoted again after demotion without a new leadership")
	}
	if got := le.Expired(10); got != nil {
		t.Fatalf("a demoted lessor expires %v", got)
	}
}

func TestLessorExpiresInOrderWithinTheLimit(t *testing.T) {
	clock := NewManualClock()
	le := New(clock, 0, nil)
	le.BecameLeader(1)
	le.Promote(1)
	for id, ttl := range map[int64]int64{1: 5, 2: 3, 3: 4, 4: 100, 5: 3} {
		le.Granted(id, ttl)
	}
	if got := le.Expired(10); len(got) != 0 {
		t.Fatalf("expired before time: %v", got)
	}
	clock.Advance(4 * time.Second)
	got := le.Expired(2)
	if len(got) != 2 || !slices.Contains([]int64{2, 5}, got[0]) || !slices.Contains([]int64{2, 5}, got[1]) {
		t.Fatalf("first round %v, want 2 and 5 (TTL 3)", got)
	}
	if got := le.Expired(2); !slices.Equal(got, []int64{3}) {
		t.Fatalf("second round %v, want [3]", got)
	}
	// Handed-over leases come back if their revoke is not applied in time.
	le.Revoked(2)
	clock.Advance(RevokeRetry)
	got = le.Expired(10)
	slices.Sort(got)
	if !slices.Equal(got, []int64{1, 3, 5}) {
		t.Fatalf("after the retry interval %v, want [1 3 5]", got)
	}
	if le.Count() != 4 {
		t.Fatalf("count %d, want 4", le.Count())
	}
}

func TestLessorRenew(t *testing.T) {
	clock := NewManualClock()
	le := New(clock, 0, nil)
	le.BecameLeader(1)
	le.Promote(1)
	le.Granted(1, 10)
	ctx := context.Background()
	if _, err := le.Renew(ctx, 9); !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("renew of an unknown lease: %v", err)
	}
	clock.Advance(9 * time.Second)
	if ttl, err := le.Renew(ctx, 1); err != nil || ttl != 10 {
		t.Fatalf("renew: %d %v", ttl, err)
	}
	if left, _, _ := le.Remaining(1); left != 10*time.Second {
		t.Fatalf("remaining after renew %v", left)
	}

	// An expired lease: renew waits for its revoke...
	clock.Advance(10 * time.Second)
	res := make(chan error, 1)
	go func() { _, err := le.Renew(ctx, 1); res <- err }()
	le.Revoked(1)
	if err := <-res; !errors.Is(err, cairn.ErrLeaseNotFound) {
		t.Fatalf("renew of an expired lease, then revoked: %v", err)
	}
	// ...or for a demotion.
	le.Granted(2, 1)
	clock.Advance(time.Second)
	go func() { _, err := le.Renew(ctx, 2); res <- err }()
	le.Demote()
	if err := <-res; !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("renew of an expired lease, then demoted: %v", err)
	}
	// ...or for the caller.
	le.BecameLeader(2)
	le.Promote(2)
	clock.Advance(2 * time.Second)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := le.Renew(cctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("renew with a canceled context: %v", err)
	}
}

func TestLessorReset(t *testing.T) {
	clock := NewManualClock()
	le := New(clock, 0, []cairn.LeaseRecord{{ID: 1, TTL: 10}, {ID: 2, TTL: 10}})
	le.BecameLeader(1)
	le.Promote(1)
	clock.Advance(5 * time.Second)
	le.Reset([]cairn.LeaseRecord{{ID: 2, TTL: 10}, {ID: 3, TTL: 20}})
	if le.Exists(1) || !le.Exists(2) || !le.Exists(3) {
		t.Fatal("reset kept the wrong leases")
	}
	if left, _, _ := le.Remaining(2); left != 5*time.Second {
		t.Fatalf("a kept lease's remaining time %v, want 5s", left)
	}
	if left, _, _ := le.Remaining(3); left != 20*time.Second {
		t.Fatalf("a new lease's remaining time %v, want 20s", left)
	}
}
