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
package server
