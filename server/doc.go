// Package server is the member core: one cairn cluster member's raft node
// and its Ready loop, proposals and their waiters, the applier that feeds
// committed entries into the store, linearizable reads through ReadIndex,
// raft snapshots (taken and received), membership, alarms and maintenance,
// and the member's identity. It implements the contract's interfaces
// (package cairn: KV, Watcher, Lease, Cluster, Maintenance...) and knows
// nothing of client HTTP or JSON. Beside it: the lessor (package lessor)
// times leases, the peer transport (package peer) carries raft messages
// and snapshots between members, internal/wait pairs proposals with their
// results.
//
// # One v3 put, from the handler to the fsync and the bbolt write
//
//  1. httpapi/put.go: POST /v3/kv/put is decoded, its size checked against
//     --max-request-bytes, and handed to the contract.
//  2. kv.go (package cairn): the KV interface, Put's contract.
//  3. server/kv.go: Server.Put validates and proposes: propose gives the
//     request an id, encodes its raft entry (package entry), registers a waiter
//     and appends the entry to raft's log (raftnode/node.go).
//  4. server/ready.go: the Ready loop sends the entry to the followers and
//     saves it to the raft log.
//  5. raftlog/save.go: the entries and HardState are written and made
//     durable with one fdatasync.
//  6. server/apply.go: once committed, the applier applies the entry in a
//     store batch and wakes the waiter with the result, which goes back up
//     to the handler.
//  7. store/put.go: the batch's MVCC put (revision, key index, record);
//     store/flush.go writes the batch to bbolt in one transaction.
//
// # Data flow
//
// A write (Put, DeleteRange, Txn, Compact, a v2 write) is validated, given a
// unique request id, encoded into a raft entry (package entry: binary for puts
// and v2 writes, JSON for the rest) and proposed. Raft is a raft.RawNode
// behind a mutex (package raftnode), not raft.Node's goroutine and channels: the
// proposer's goroutine appends the entry to raft's log itself and wakes the
// Ready loop; on a follower that knows its leader it queues the proposal on
// the leader's peer stream instead, as raft would forward it, without
// waiting for the Ready loop. The Ready loop, one goroutine, handles each raft.Ready in
// raft's order: it saves the HardState and the new entries to the raft log
// with one fsync, sends messages, hands the committed entries to the
// applier, delivers ReadStates, and advances. The applier applies committed
// entries in log order into the store, one store batch for everything it
// has in hand (published to the store's memory at once, written to bbolt by
// the store's flusher; the raft log makes it durable), and then wakes the
// waiter of each request with its result. A write is answered only after
// that: it is in the raft log of a quorum and applied.
//
// A linearizable read joins the next ReadIndex round: one raft ReadIndex
// serves every read that arrived while the previous round was in flight. When
// raft confirms the read index, the round waits until the applied index has
// reached it and then releases its readers, who read the store directly. A
// serializable read skips all that and reads the local store.
//
// # Data directory
//
//	<data-dir>/wal/          raft log segments (package raftlog); with
//	                         --wal-dir (Config.WALDir) they are in that
//	                         directory instead, and none may be here
//	<data-dir>/store.db      the MVCC store (package store, bbolt)
//	<data-dir>/cluster.json  the cluster state: members, removed ids, alarms
//	<data-dir>/snap/         a store file received from the leader (package
//	                         snapshot), until it is installed
//
// The WAL's metadata record holds the member and cluster ids. On restart the
// store's consistent index tells the applier which replayed entries are
// already applied, so each entry is applied exactly once.
//
// # Clusters
//
// Bootstrap (bootstrap.go): a new member of a new cluster derives every
// member's id from its peer URLs and --initial-cluster-token (so all agree
// without talking) and the cluster id from the member ids; raft starts with
// one configuration change per member. A member added to a running cluster
// (--initial-cluster-state existing) asks the others listed in
// --initial-cluster for GET /members, finds itself by its peer URLs and
// starts with an empty log that the leader fills. A data dir that holds a
// member ignores the bootstrap settings.
//
// Peer transport: package peer (endpoints, framing, streams, snapshot
// transfer; peer.go gives it what it asks of the member). A Ready's
// messages leave before its fsync, except the answers that vouch for this
// member's disk (raftnode.SplitMessages).
//
// Membership (membership.go; the state itself: package membership):
// configuration changes carry the member's record (id, name, peer URLs,
// learner) in their context; the
// applier applies each to raft and to the cluster state and saves
// cluster.json before the batch is acknowledged. The cluster state may be
// ahead of a replay (raft re-delivers every entry after its snapshot): each
// change is idempotent given the later ones, so replaying them on top ends
// in the same state. A member publishes its name and client URLs through
// raft once it has a leader. One change at a time goes through a member; a
// change raft drops (another is pending, or a new leader has not applied
// its first entry) is proposed again until it applies.
//
// Disaster recovery (--force-new-cluster; membership.ForceNewCluster): when
// a quorum is lost for good, one survivor restarts with the flag; before
// raft starts, its raft log loses the entries after its commit index and
// gains committed configuration changes that remove every other member,
// which the applier then applies like any removal. The store is untouched.
//
// # Snapshots
//
// The store's bbolt file is the state-machine snapshot. Every
// Config.SnapshotCount applied entries the member flushes its store and
// records a raft snapshot at the store's DurableIndex (metadata only:
// index, term, configuration), and drops the log entries before it, keeping
// a margin of Config.SnapshotCatchUpEntries for slow followers, as etcd
// does.
//
// A follower too far behind gets the leader's store file with raft's
// MsgSnap, over the peer transport, and swaps it in on the applier
// (installSnapshot); package snapshot's doc.go gives the order of the steps
// and what a crash between them leaves (recoverStore finishes it at the
// next start). Watches on the replaced store end; their clients resume
// from their next revision.
//
// # Alarms and maintenance
//
// Alarms live in the cluster state, raised and cleared through raft
// (alarm.go). A write past --quota-backend-bytes fails with
// cairn.ErrNoSpace and raises NOSPACE; while it is raised every member
// refuses writes that take space. Defragment runs on the applier between
// batches (maintenance.go); Snapshot, Hash and HashKV read after a flush.
//
// # Leases
//
// The store holds the granted leases and their keys; the lessor (package
// lessor, whose doc.go tells the whole story with an example) times them on
// the leader. The member proposes grants (the TTL raised to
// lessor.MinTTL, an ID picked for ID 0), client revokes and the lessor's
// expiries through raft, tells the lessor what each apply granted and
// revoked, and answers keepalive and timetolive at the leader's lessor,
// forwarding them from a follower over the peer transport
// (lease_forward.go).
//
// # Auto-compaction and metrics
//
// Beside the lessor's expiry loop runs the auto-compaction loop (package
// compactor, etcd's --auto-compaction-*), which compacts through Compact
// while this member leads. With Config.Metrics the member registers etcd's
// metrics (package metrics; metrics.go here says where each value comes from).
package server
