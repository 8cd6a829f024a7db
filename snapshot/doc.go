// Package snapshot owns the files of cairn's state-machine snapshots: the
// store files a member receives from its leader (Dir), until the member
// swaps one in as its store; the backup files of "cairn snapshot save"
// (Save, Verify, CopyStoreFile); and "cairn snapshot restore" (Restore),
// which makes the data dir of a member of a new cluster from a backup: the
// store file, the cluster state (package membership) and a raft log
// (package raftlog) holding the new cluster's configuration. It works on
// files and readers only: whoever talks to a member over the network (the
// transport, the cairn command) hands it the stream.
//
// # Snapshots in cairn
//
// The state-machine snapshot is the store's bbolt file itself. A member
// records a raft snapshot (metadata only: index, term, configuration; see
// package raftlog) every --snapshot-count applied entries, at an index its
// store has flushed, and compacts its raft log behind it. A follower too far
// behind for the log receives the leader's raft snapshot message together
// with a consistent copy of the leader's store file and its cluster state
// (members, alarms), streamed over the peer transport.
//
// # Files
//
//	<data-dir>/snap/<index>.db            a received store file
//	<data-dir>/snap/<index>.cluster.json  the cluster state that came with it
//
// index is the raft snapshot's index in 16 lower-case hex digits. A name
// ending in .tmp is a receive in progress (removed by OpenDir).
//
// A backup file is a store file followed by its SHA-256 (32 bytes), etcd's
// snapshot file format. Save writes one from a member's snapshot stream
// (POST /v3/maintenance/snapshot), under the name <file>.tmp until it is
// whole; Verify checks one, and also accepts a bare store file (its size is
// then not 32 bytes past a multiple of 512).
//
// # Recovery order
//
// A follower installs a received snapshot in this order:
//
//  1. the transport writes both files durably (Receive), then hands the
//     raft message to raft;
//  2. the Ready loop saves the snapshot's metadata in the raft log, which
//     replaces the log;
//  3. the applier closes the store, renames <index>.db over the store file
//     (Install), opens it, takes the cluster state, and removes the files
//     (Prune).
//
// A crash after 2 and before 3 leaves a raft log whose snapshot index is
// above the store's consistent index, with <index>.db still present: on
// restart the member installs it before opening its store. A crash before 2
// leaves files that the next install or restart prunes. The store file's own
// consistent index may be above the snapshot index (the leader's store moved
// on while it was copied); the applier then skips the entries it already
// holds, as after any restart.
package snapshot
