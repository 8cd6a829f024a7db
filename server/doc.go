// Package server runs one cairn cluster member: the raft node and its Ready
// loop, proposals and their waiters, the applier that feeds committed entries
// into the store, linearizable reads through ReadIndex, local raft snapshots,
// and the member's identity.
//
// # Data flow
//
// A write (Put, DeleteRange, Txn, Compact) is validated, given a unique
// request id, encoded into a raft entry and proposed. The Ready loop, one
// goroutine, handles each raft.Ready in raft's order: it saves the HardState
// and the new entries to the raft log with one fsync, sends messages, hands
// the committed entries to the applier, delivers ReadStates, and advances.
// The applier applies committed entries in log order into the store, one
// store batch (one bbolt transaction, fsynced, recording the applied index)
// for everything it has in hand, and then wakes the waiter of each request
// with its result. A write is answered only after that: it is in the raft log
// of a quorum and applied.
//
// A linearizable read joins the next ReadIndex round: one raft ReadIndex
// serves every read that arrived while the previous round was in flight. When
// raft confirms the read index, the round waits until the applied index has
// reached it and then releases its readers, who read the store directly. A
// serializable read skips all that and reads the local store.
//
// # Data directory
//
//	<data-dir>/wal/        raft log segments (package raftlog)
//	<data-dir>/store.db    the MVCC store (package store, bbolt)
//
// The WAL's metadata record holds the member and cluster ids. On restart the
// store's consistent index tells the applier which replayed entries are
// already applied, so each entry is applied exactly once.
//
// # Snapshots
//
// The store's bbolt file is the state-machine snapshot. Every
// Config.SnapshotCount applied entries the member records a raft snapshot at
// the applied index (metadata only: index, term, configuration) and drops the
// log entries before it, keeping a margin of Config.SnapshotCatchUpEntries for slow
// followers, as etcd does.
//
// # Leases
//
// The store holds the granted leases (ID, granted TTL) and their keys; the
// lessor (lease.go) times them. Every member's lessor learns each grant and
// revoke as it is applied; only the leader's lessor is primary and gives
// leases expiry times, on a monotonic clock (Config.LeaseClock). Nothing in
// the apply reads a clock: expiry is a raft entry.
//
//   - Grant: the proposer raises the TTL to the minimum (1.5 election
//     timeouts, whole ticks, rounded up to a second, as etcd), refuses one
//     above store.MaxLeaseTTL, and for ID 0 picks an ID (if it is taken by
//     the time the entry applies, the apply takes the next free one, the
//     same on every member).
//   - Promotion: a new leader becomes primary when it applies the empty
//     entry of its term, so it knows every grant and revoke before it; it
//     gives every lease its full TTL plus one election timeout from then (as
//     etcd's Promote). A failover or a restart therefore never expires a
//     lease early; a lease lives at most TTL + election timeout longer. A
//     leader that loses the leadership is demoted and forgets expiries.
//   - Expiry (lease_expire.go): every Config.LeaseCheckInterval the primary
//     lessor takes the leases whose time is up, at most
//     Config.LeaseRevokeRate per second (etcd's 1000), and proposes their
//     revocation in entries of at most 128 leases, 4 entries in flight; the
//     apply revokes each lease still granted in its own revision, deleting
//     its keys in that one revision. A revoke that is not applied within 3
//     seconds is proposed again. Revokes are exempt from the quota.
//   - Keepalive and timetolive are answered by the primary lessor; a
//     follower forwards them to the leader's peer URL (lease_forward.go;
//     SetLeaseForwarder can replace that). A keepalive of an expired lease
//     whose revoke is under way waits for the revoke and answers TTL 0.
//
// Example: TTL 10 granted at t=0 on leader A; at t=8 A dies; B is elected
// and applies its first entry at t=8.3: the lease now expires at t=8.3+1+10
// (1s election timeout), and a keepalive through C at t=15 moves that to
// t=25.
package server
