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
// The lessor knows nothing of raft, HTTP or the store's bytes; it imports
// only the contract (package cairn) for its types and errors.
package lessor
