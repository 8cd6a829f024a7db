// Package store is cairn's flat MVCC key-value store on one bbolt file: the
// state machine every member applies raft entries to. It owns revisions,
// the in-memory key index, range, put, delete, transactions and
// compaction, with etcd v3's semantics, plus the domain types and the error
// vocabulary of the client APIs (types.go, errors.go). It knows nothing of
// raft or HTTP.
//
// # Use
//
//	s, err := store.Open(filepath.Join(dir, "db"), store.Options{})
//	b := s.Begin()                           // one batch per raft Ready
//	resp, err := b.Put(&store.PutRequest{Key: k, Value: v})
//	err = b.Commit(appliedIndex)             // durable and visible at once
//	rr, err := s.Range(&store.RangeRequest{Key: k}) // any goroutine
//
// Requests are validated before they are proposed (RangeRequest.Validate,
// PutRequest.Validate, DeleteRangeRequest.Validate, TxnRequest.Validate);
// the apply only returns the errors that depend on the state (ErrCompacted,
// ErrFutureRev, ErrKeyNotFound, ErrLeaseNotFound), and a request that fails
// changes nothing.
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
// One bbolt file with two buckets. Integers are big-endian.
//
// Bucket "revisions": one entry per change, in revision order.
//
//	key:   16 bytes  main (8, uint64) | sub (8, uint64)
//	value: a record
//	  off  len  field
//	  0    1    record format, 1
//	  1    1    flags: bit 0 = tombstone (the key was deleted at this
//	            revision); other bits 0
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
//	consistent_index       uint64  raft index of the last entry applied,
//	                               written by every Batch.Commit
//	scheduled_compact_rev  int64   revision of the newest compaction; reads
//	                               below it fail; absent: never compacted
//	finished_compact_rev   int64   newest compaction whose physical removal
//	                               finished; absent: none
//
// The current revision is not stored: Open takes the highest main revision
// in "revisions", or scheduled_compact_rev if higher (the newest write can
// be a tombstone that compaction removed), and at least 1.
//
// # Recovery
//
// Open reads every record in revision order and rebuilds the key index
// (index.go). Each batch is one bbolt transaction, so the file always holds
// whole batches together with the consistent index that produced them: the
// server replays raft entries after ConsistentIndex. If
// finished_compact_rev < scheduled_compact_rev a physical compaction was
// interrupted: Open compacts the index at scheduled_compact_rev and the
// background removal starts over from the first record. Because removal
// goes in revision order, an interrupted one may leave a tombstone whose
// puts are gone; Open ignores it and the resumed removal deletes it.
//
// # Key index
//
// An in-memory B-tree (github.com/google/btree) maps each key to its
// generations: the runs of revisions from a create to a delete (index.go
// walks through an example). A read at revision R finds, per key, the
// newest revision at or below R unless a tombstone at or below R ended that
// generation, then reads the records from bbolt. Count and the
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
// A background goroutine then deletes from "revisions", in chunks of
// Options.CompactionBatchLimit per bbolt transaction, every revision at or
// below C the index no longer holds, and writes finished_compact_rev.
//
// # Concurrency
//
// Only the applier writes, through one Batch at a time; its changes go into
// its bbolt write transaction and into the key index at revisions above the
// committed one, so readers, which read at the committed revision, ignore
// them. Commit publishes the new revision under the index lock after bbolt's
// fsynced commit. Store.Range takes the index lock shared, reads the
// committed and compacted revisions, walks the index and begins its bbolt
// read transaction before letting go, then copies the records out: it sees
// exactly one committed batch, and the physical compaction, which deletes
// only revisions the index no longer holds, never removes one it needs.
package store
