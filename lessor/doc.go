// Package lessor times a member's leases. The store (package store) keeps
// the granted leases and their keys and knows no time; the lessor gives
// them expiry times, on the leader only.
//
// It owns:
//
//   - the Lessor (lessor.go): the granted leases as every member learns
//     them from the applier (Granted, Revoked, Reset after a snapshot), and,
//     on the leader once it has applied the first entry of its term (Promote),
//     their expiry times, renewals (Renew) and remaining times (Remaining).
//     A new primary gives every lease its full TTL plus one election timeout,
//     so a failover never expires a lease early;
//   - leader-side expiry (expire.go): RunExpiry finds the leases whose time
//     is up and hands them, rate-limited as etcd's --lease-revoke-rate, to the
//     member, which proposes their revocation through raft, so every member
//     deletes the same keys at the same revision and the apply never reads a
//     clock;
//   - keepalive forwarding (leader.go): AtLeader runs a lease request on the
//     primary lessor, or forwards it to the member that leads (the member
//     supplies the forwarding, over the peer transport), waiting out
//     elections within the caller's deadline;
//   - the clocks (clock.go): Clock, SystemClock, and ManualClock for tests.
//
// v2 TTLs are leases too (package v2store grants them); what their expiry
// deletes beyond the lease's own keys (a v2 directory's subtree) is the
// applier's business, not the lessor's.
//
// # The story
//
// The store holds the granted leases (ID, granted TTL) and their keys; the
// lessor times them. Every member's lessor learns each grant and
// revoke as it is applied; only the leader's lessor is primary and gives
// leases expiry times, on a monotonic clock (server.Config.LeaseClock). Nothing in
// the apply reads a clock: expiry is a raft entry.
//
//   - Grant: the proposer raises the TTL to the minimum (1.5 election
//     timeouts, whole ticks, rounded up to a second, as etcd), refuses one
//     above cairn.MaxLeaseTTL, and for ID 0 picks an ID (if it is taken by
//     the time the entry applies, the apply takes the next free one, the
//     same on every member).
//   - Promotion: a new leader becomes primary when it applies the empty
//     entry of its term, so it knows every grant and revoke before it; it
//     gives every lease its full TTL plus one election timeout from then (as
//     etcd's Promote). A failover or a restart therefore never expires a
//     lease early; a lease lives at most TTL + election timeout longer. A
//     leader that loses the leadership is demoted and forgets expiries.
//   - Expiry (RunExpiry): every server.Config.LeaseCheckInterval the primary
//     lessor takes the leases whose time is up, at most
//     server.Config.LeaseRevokeRate per second (etcd's 1000), and proposes their
//     revocation in entries of at most 128 leases, 4 entries in flight; the
//     apply revokes each lease still granted in its own revision, deleting
//     its keys in that one revision. A revoke that is not applied within 3
//     seconds is proposed again. Revokes are exempt from the quota.
//   - Keepalive and timetolive are answered by the primary lessor; a
//     follower forwards them to the leader's peer URL (AtLeader; the
//     transport is package peer's). A keepalive of an expired lease
//     whose revoke is under way waits for the revoke and answers TTL 0.
//
// Example: TTL 10 granted at t=0 on leader A; at t=8 A dies; B is elected
// and applies its first entry at t=8.3: the lease now expires at t=8.3+1+10
// (1s election timeout), and a keepalive through C at t=15 moves that to
// t=25.
//
// The lessor knows nothing of raft, HTTP or the store's bytes; it imports
// only the contract (package cairn) for its types and errors.
package lessor
