// Package store is cairn's flat MVCC key-value store on one bbolt file: the
// state machine every member applies raft entries to. It owns revisions,
// the in-memory key index, range, put, delete, transactions, compaction,
// leases and the watch hub, with etcd v3's semantics. It speaks the
// contract's types and errors (package cairn: KeyValue, RangeRequest,
// ErrCompacted...). It knows nothing of raft or HTTP, nor of time: leases
// expire because the member revokes them.
//
// # Use
//
//	s, err := store.Open(filepath.Join(dir, "db"), store.Options{})
//	b := s.Begin()                           // one batch per raft Ready
//	resp, err := b.Put(&store.PutRequest{Key: k, Value: v})
//	err = b.Commit(appliedIndex)             // visible at once, in bbolt soon
//	rr, err := s.Range(&store.RangeRequest{Key: k}) // any goroutine
//	err = s.Flush()                          // in bbolt now (DurableIndex)
//
// Requests are validated before they are proposed (RangeRequest.Validate,
// PutRequest.Validate, DeleteRangeRequest.Validate, TxnRequest.Validate);
// the apply only returns the errors that depend on the state (ErrCompacted,
// ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound, ErrLeaseExists), and a
// request that fails changes nothing.
//
// # Revisions
//
// A revision is a pair (main, sub). Every write request that changes
// something (a put, a delete that deletes something, a transaction with
// such a write) takes the next main revision; its changes take sub
// revisions 0, 1, 2... in order. A new store is at revision 1 (etcd's first
// revision), so the first write is revision 2. Per key the store keeps
// create_revision (main revision of the put that created it in its current
// life), mod_revision (of its last put), version (puts since creation: 1,
// 2...; a delete ends the life and the next put starts again at 1) and
// lease.
//
// # On disk
//
// One bbolt file with three buckets. Integers are big-endian.
//
// Bucket "revisions": one entry per change, in revision order.
//
//	key:   16 bytes  main (8, uint64) | sub (8, uint64)
//	value: a record
//	  off  len  field
//	  0    1    record format, 1
//	  1    1    flags: bit 0 = tombstone (the key was deleted at this
//	            revision); bit 1 = v2 directory node (KeyValue.Dir);
//	            bits 4-7 = the v2 action (Action, 0 for v3 writes);
//	            bits 2-3 are 0
//	  2    8    create_revision (int64; 0 in a tombstone)
//	  10   8    mod_revision    (int64; always equal to main)
//	  18   8    version         (int64; 0 in a tombstone)
//	  26   8    lease           (int64; 0 in a tombstone)
//	  34   4    key length K    (uint32)
//	  38   K    key
//	  38+K …    value: the rest of the record (empty in a tombstone)
//
// Example: put "foo"="bar" as the first write of a new store, then delete
// it:
//
//	00000000 00000002 00000000 00000000 -> 01 00 0000000000000002
//	    0000000000000002 0000000000000001 0000000000000000 00000003 "foo" "bar"
//	00000000 00000003 00000000 00000000 -> 01 01 0000000000000000
//	    0000000000000003 0000000000000000 0000000000000000 00000003 "foo"
//
// Bucket "meta": one named field per key.
//
//	format                 uint64  layout version, 1; Open refuses others
//	consistent_index       uint64  raft index of the last entry applied
//	                               in the newest batch the file holds,
//	                               written by every flush
//	scheduled_compact_rev  int64   revision of the newest compaction; reads
//	                               below it fail; absent: never compacted
//	finished_compact_rev   int64   newest compaction whose physical removal
//	                               finished; absent: none
//
// Bucket "leases": one entry per granted lease (lease.go).
//
//	key:   8 bytes   lease ID (int64 as uint64)
//	value: 10 bytes  record format, 2 (1) | granted TTL in seconds (8, int64) |
//	                 flags (1): 1 = the lease of a v2 TTL (Batch.LeaseGrantV2TTL)
//
// Example: lease 7 granted for 60 seconds, and the lease v2store granted
// for a v2 node's TTL of 30 seconds at revision 9:
//
//	0000000000000007 -> 02 000000000000003c 00
//	4000000000000009 -> 02 000000000000001e 01
//
// Files written before format 2 hold 9-byte format 1 records (01, then the
// TTL, no flags), which are still read: there a positive ID with bit 62 set
// (the IDs v2store picks) marks a v2 TTL's lease. Format 1 is never written.
//
// A file from before leases has no "leases" bucket; Open creates it.
//
// Buckets "auth", "authUsers", "authRoles" (auth.go): the users, roles and
// auth flags of package auth, whose bytes that package owns (auth/doc.go).
// The store writes them with their batch (Batch.StageAuth) and reads them
// back only for a fresh Open (Store.ForEachAuth); Open creates them in a
// file that lacks them.
//
// The current revision is not stored: Open takes the highest main revision
// in "revisions", or scheduled_compact_rev if higher (the newest write can
// be a tombstone that compaction removed), and at least 1.
//
// # Commit and flush
//
// A raft entry is durable once it is in the raft log, which the server
// replays from the store's consistent index after a restart. So the store
// need not fsync bbolt before a write is answered, and it does not (etcd's
// backend batch transaction does the same, committing bbolt every 100 ms or
// 10000 operations and reading the rest from a buffer):
//
//   - Batch operations encode their records into the batch. Commit puts the
//     batch's revisions in the key index (done as the batch runs, invisible
//     until then), appends the batch (records, consistent index, compaction)
//     to the overlay of committed batches and publishes the new revision,
//     all under the index lock: a reader sees a whole batch or none of it.
//     No bbolt transaction, no fsync.
//   - The flusher goroutine (flush.go) writes every batch of the overlay in
//     ONE bbolt write transaction (bbolt's commit: an fsync of the pages,
//     then one of the meta page) together with the consistent index of the
//     newest batch and the newest compaction among them, then, under the
//     index lock, drops those batches and raises the flushed revision. It
//     flushes Options.FlushInterval after it finds something pending, at
//     once when a tenth of Options.MaxPendingRecords or MaxPendingBytes is
//     pending or a batch compacted, and when asked (Flush, Close). Batches
//     committed during a flush wait for the next one, so flushes grow with
//     the load (group commit).
//   - Memory is bounded: while more than Options.MaxPendingRecords records
//     or MaxPendingBytes bytes are pending, Commit first waits for a flush.
//   - Reads find a revision above the flushed revision in the overlay (a
//     binary search over the pending batches, then over the batch's
//     records) and any other in bbolt. Store.Range takes its view of the
//     overlay under the index lock and begins its bbolt read transaction, if
//     any hit needs one, before letting go: the transaction sees every
//     revision the view calls flushed. Reads inside a batch also see the
//     batch's own records.
//   - ConsistentIndex is what the store has applied (and serves);
//     DurableIndex what bbolt holds. The server takes raft snapshots, and
//     so compacts its log, only up to DurableIndex (it calls Flush first),
//     so the entries between the two can always be replayed.
//   - A flush error is fatal and sticky: Begin, Commit and Flush return it
//     from then on (there is no callback). The server stops the member; on
//     the next start bbolt holds the last flush that succeeded and the raft
//     log the rest.
//
// Example: batches at consistent indexes 7 (revision 5), 8 (revisions 6
// and 7) and 9 (a compaction at 6) are committed; the flusher took 7 and 8
// and is inside bbolt's commit:
//
//	overlay  flushed=4  pending=[ci 7: 5.0] [ci 8: 6.0 6.1 7.0] [ci 9: compact 6]
//	bbolt    revisions up to 4, consistent_index 6
//
// A read at revision 6 finds 5.0 and 6.x in the overlay, the rest in
// bbolt. When bbolt's commit returns, the flusher drops the first two
// batches and sets flushed=7; bbolt says consistent_index 8. A crash before
// that commit returns leaves bbolt at consistent index 6 with exactly the
// revisions up to 4; the server replays entries 7, 8 and 9.
//
// # Recovery
//
// Open reads every record in revision order and rebuilds the key index
// (index.go). Each flush is one bbolt transaction, so the file always holds
// whole batches together with the consistent index of the newest of them,
// whatever instant the process died at: the server replays raft entries
// after ConsistentIndex (after Open it equals DurableIndex). If
// finished_compact_rev < scheduled_compact_rev a physical compaction was
// interrupted: Open compacts the index at scheduled_compact_rev and the
// background removal starts over from the first record. Because removal
// goes in revision order, an interrupted one may leave a tombstone whose
// puts are gone; Open ignores it and the resumed removal deletes it.
//
// # Leases
//
// A lease is an ID and a granted TTL; the store never times it. The keys
// attached to a lease are the live keys whose newest put named it: a put
// attaches its key to the lease it names (and detaches it from the one it
// had; IgnoreLease keeps it), a put without a lease detaches it, a delete
// detaches it. In memory, each key's index entry knows its lease and each
// lease the set of its keys; Open rebuilds both from the records (the
// lease field of each live key's newest put) and the "leases" bucket.
//
// Batch.LeaseGrant adds a lease (no revision); Batch.LeaseRevoke deletes
// every attached key in ONE revision, in ascending key order (sub revisions
// 0, 1, 2..., as a DeleteRange would), then the lease. Both changes to the
// "leases" bucket travel with their batch to the flusher and reach bbolt in
// the same transaction as the batch's records and consistent index, so a
// crash never leaves a key attached to a lease bbolt does not hold, nor a
// revoked lease with keys left. Example: leases 1 (keys a, c) and 2 (key b)
// at revision 9; revoking 1 writes tombstones 10.0 a and 10.1 c, removes
// key 1 from "leases", and b stays.
//
// The lease state changes in place as the batch applies (as etcd's lessor
// does); Store.Leases, Store.Lease and Store.LeaseKeys read it under its own
// lock. The server answers a request only after its batch is committed.
//
// # Key index
//
// An in-memory B-tree (github.com/google/btree) maps each key to its
// generations: the runs of revisions from a create to a delete (index.go
// walks through an example). A read at revision R finds, per key, the
// newest revision at or below R unless a tombstone at or below R ended that
// generation, then reads the records from the overlay or bbolt. Count and the
// mod/create-revision filters and sorts need only the index; values are read
// only for the keys returned.
//
// # Compaction
//
// Compacting at C (Batch.Compact) makes reads below C fail with
// ErrCompacted at once. At Commit the index keeps, per key, the newest
// revision at or below C unless it is a tombstone, and everything above C.
// Example, key k with puts at 2 and 4, delete at 5, put at 7:
//
//	C = 3: keeps 2, 4, 5, 7   (2 is what a read at 3 sees)
//	C = 4: keeps 4, 5, 7
//	C = 6: keeps 7            (k did not exist at 6)
//
// Commit asks the flusher to write the batch at once. Once
// scheduled_compact_rev = C is in bbolt (and with it every record at or
// below C), a background goroutine deletes from "revisions", in chunks of
// Options.CompactionBatchLimit per bbolt transaction, every revision at or
// below C the index no longer holds, and writes finished_compact_rev. It
// never starts earlier: a record compacted away while still in the overlay
// would reach bbolt behind it, and a crash could leave records removed by a
// compaction that bbolt's meta does not know of.
//
// # Watch
//
// A WatchHub hands the events of every committed revision to watchers;
// every transport (the v3 HTTP stream, the websocket, the v2 long-poll) is
// a thin adapter over its WatchStream. Wiring, as the server does it:
//
//	hub := store.NewWatchHub(store.WatchOptions{})
//	s, err := store.Open(path, store.Options{OnCommit: hub.Publish})
//	hub.Attach(s)
//	st, err := hub.NewStream()               // one per client connection
//	st.Create(&store.WatchCreateRequest{Key: k, StartRevision: r})
//	resps, err := st.Next(ctx, nil)          // created, events, progress...
//
// Publish runs on the applier after each commit and never waits for a
// consumer. Watchers are grouped by range (one group per distinct key or
// range, so 10,000 watchers of one key cost one map lookup per event); for
// each revision Publish finds the groups its keys touch and appends a
// pointer to the revision, shared by all, to each of their watchers'
// queues. Each revision is kept twice, with and without PrevKv, so that
// every watcher of either kind shares the same WatchEvents, and their
// encodings (WatchEvent.Memo).
//
// A watcher is synced (its queue receives live revisions) or catching up
// (it reads history from its next revision). A watcher whose queue, not
// yet taken by its stream's Next, grows over WatchOptions.MaxPendingBytes
// is switched to catching up from the first revision it has not been
// given, and its queue is dropped: a slow consumer holds at most that much
// and never slows the writers. A watcher created with a start revision at
// or below the current one starts catching up from there; one above starts
// synced and takes revisions from its start on.
//
// Catching up happens in Next, on the consumer's goroutine, one chunk of
// at most MaxResponseBytes per watcher per call: from the hub's memory of
// the newest revisions (WatchOptions.RecentBytes) when it reaches back far
// enough, else from the store (watch_history.go: a narrow range through
// the key index, a wide one by scanning the revisions, both over the
// overlay and bbolt). After each chunk, under the hub's lock, a watcher
// that has reached the hub's revision rejoins the live events: since
// Publish skips it while it catches up and it resumes exactly after the
// last revision read, no revision is missed or repeated. Only a next
// revision below the compacted one ends it, with a canceled response
// carrying compact_revision, as etcd.
//
// Guarantees, per watcher, as etcd's: ordered (revisions only grow),
// reliable (no revision of its range is skipped), atomic (the events of a
// revision are in one response; a response merges whole revisions up to
// MaxResponseBytes, and only a watcher that asked for fragments gets a
// revision over that split), no duplicates. A progress response's revision
// vouches for every event up to it: the periodic ones (ProgressNotify)
// go only to synced watchers with nothing queued, and RequestProgress is
// answered once every watcher of the stream is synced, after their queued
// events (etcd 3.4 answers at once, even when a watcher lags behind).
//
// Bounds: one call of Next takes the queues of the stream's watchers up to
// about 256 KiB of events (at least one watcher's), the rest
// following at the next call, so the memory a transport needs to encode one
// call's responses is bounded however many watchers share the stream; each
// watcher's queue is bounded by MaxPendingBytes, and the revisions queued
// are shared by every watcher that has them.
//
// Pacing: when events arrive faster than WatchOptions.StreamWakeups per
// second over all streams, a stream waits a little before returning from
// Next again, so that each write to a client carries more events instead
// of there being more writes (with 1,000 streams, at most one return per
// 50 ms each).
//
// # Concurrency
//
// Only the applier writes, through one Batch at a time; its changes go into
// the batch's records and into the key index at revisions above the
// committed one, so readers, which read at the committed revision, ignore
// them. Commit publishes the new revision and the batch's place in the
// overlay under the index lock. Store.Range takes the index lock shared,
// reads the committed and compacted revisions, walks the index, takes its
// view of the overlay and begins its bbolt read transaction before letting
// go, then copies the records out: it sees exactly one committed batch, and
// neither the flusher (which drops batches only after bbolt holds them, and
// only under the lock) nor the physical compaction (which deletes only
// revisions the index no longer holds) removes a record it needs.
//
// Lock order: nobody waits for the index lock, or for the flusher, while
// holding a bbolt read transaction, because a bbolt write transaction that
// grows the memory map waits for every read transaction, and readers may
// hold the index lock shared while they begin theirs. The batch therefore
// ends its read transaction before each index mutation and at Commit.
package store
