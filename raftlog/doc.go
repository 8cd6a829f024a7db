// Package raftlog owns the raft log of one cairn member on disk: a
// write-ahead log (WAL) of segment files holding the member's metadata, its
// raft HardState, its log entries and the metadata of its latest raft
// snapshot. A *Log implements raft.Storage for go.etcd.io/raft/v3 by keeping
// a raft.MemoryStorage in step with every write, so raft reads from memory
// and only writes touch the disk.
//
// The state machine's data (the MVCC store) and snapshot data are not here;
// a snapshot record holds index, term and conf state only.
//
// # Use
//
//	l, err := raftlog.Create(dir, metadata, raftlog.Options{}) // new member
//	l, err := raftlog.Open(dir, raftlog.Options{})             // restart
//
//	// in the raft loop, for each Ready, before sending or answering:
//	l.SaveSnapshot(rd.Snapshot)        // only if the Ready carries one
//	l.Save(rd.HardState, rd.Entries)   // one write, one fdatasync (none if only the commit index moved)
//
//	// after the state machine has a snapshot at index i:
//	l.SaveSnapshot(raftpb.Snapshot{Metadata: ...Index: i...})
//	l.Compact(i - margin)              // drop old entries and old segment files
//
// # Files
//
// A WAL is a directory of segment files named
//
//	<seq>-<index>.wal
//
// with seq and index as 16 lower-case hex digits each. seq numbers the
// segments 0, 1, 2, ... with no gaps. index is the raft index that was next
// (the log's last index + 1) when the segment was started; it is there for
// people, replay reads the segment's own records instead. A new WAL starts
// with 0000000000000000-0000000000000001.wal.
//
// A segment is first written as <name>.tmp, filled with its head, fsynced,
// renamed to <name> and the directory fsynced: a segment file either has a
// whole head or does not exist. Open removes leftover .tmp files. While a Log
// is open it holds an exclusive flock on the directory (on Linux), so a
// second Open fails with ErrLocked.
//
// Each segment is preallocated to Options.SegmentBytes (64 MiB by default)
// with fallocate, so an append neither grows the file nor runs out of space,
// and space not yet written reads as zeroes. When the next write does not fit
// in the rest of the segment, the segment is cut to the bytes it holds,
// fsynced, and the next one is created. A single write larger than a whole
// segment is not split: it goes into a fresh segment, which grows past
// SegmentBytes to hold it. Every segment but the last therefore ends exactly
// after its last record; only the last one has zeroed room after it.
//
// Every segment starts with a head: a segment record, a metadata record, and
// then, when they exist, a snapshot record restating the latest snapshot and
// a hardstate record restating the latest HardState. The head makes a
// segment readable without the segments before it, which is what lets
// Compact delete old segments.
//
// # Records
//
// A segment is a sequence of records. Each record starts at a multiple of 8
// bytes from the start of its file and has a 16-byte header (integers are
// little-endian):
//
//	offset  size  field
//	     0     4  n: body length in bytes
//	     4     4  CRC-32C (Castagnoli) of bytes 0..3 followed by bytes 8..16+n
//	     8     1  record type
//	     9     3  reserved, zero
//	    12     4  back: bytes from the start of this record's write to this record
//	    16     n  body
//	  16+n     p  zero padding, p = (8 - n%8) % 8
//
// The body of the segment record, the first record of every file, is its
// payload. In format 2, which this version writes, the body of every other
// record is
//
//	offset  size  field
//	     0     8  synced: the offset in this file up to which every byte was
//	              durable (an fdatasync had returned) when this record's write began
//	     8   n-8  payload (at most MaxRecordBytes)
//
// Format 1, written by cairn before the synced offset, has no synced field:
// the body is the payload. The segment record, the same in both formats,
// names the format of its file. Open reads both and writes format 2 only:
// when the last segment is of format 1, Open starts a new segment for the
// appends, so that each file is of one format and a build that reads only
// format 1 refuses the new files by their version rather than misreading
// them.
//
// The CRC covers the length, type, back distance and body; each record is
// checked on its own, with no chain from record to record, so that after a
// hole replay can still recognize whole records that follow it (see
// Recovery). Stale bytes cannot pass for records: segment files are always
// new, zero-filled files, and a repair truncates and re-preallocates.
//
// Record types and payloads:
//
//	1 segment    24 bytes: "cairnwal", format version (uint32, 1 or 2), 4 zero bytes, seq (uint64)
//	2 metadata   the bytes given to Create, unchanged
//	3 hardstate  a raftpb.HardState in protobuf encoding
//	4 entry      a raftpb.Entry in protobuf encoding
//	5 snapshot   a mode byte, then a raftpb.SnapshotMetadata in protobuf encoding;
//	             mode 1: taken from this log, the entries after it stay;
//	             mode 2: received, it replaces the whole log
//
// # Writes
//
// Each Save, SaveSnapshot and segment head is one write: its records are
// encoded into one buffer and written with one pwrite. The first record of
// a write has back 0; every later record of the same write has back = its
// distance from the write's first record. Every record of a write has the
// same synced offset: how far the file was durable when the write began. A
// Save writes its entries first and the HardState last, so a HardState on
// disk never commits an entry that a crash could have cut off.
//
// A segment head is written to a new file and fsynced before the file is
// renamed into place; its records say synced 0. SaveSnapshot, and a Save
// with entries or with a new term or vote, is made durable with one
// fdatasync before the call returns; the file is then durable up to the end
// of the write, and the next write says so. A Save of a HardState that only
// moves the commit index is written without an fdatasync, as raft.MustSync
// allows; the next fdatasync covers it.
//
// Raft does not need a commit index to survive a crash: of its state only
// the term, the vote and the log entries must (the commit index is volatile
// in the Raft paper). A member that restarts with an older commit index
// learns the newer one from the leader, and the server raises it to the
// store's applied index, which only ever holds committed entries. A
// commit-only HardState has the term and vote of the fsynced HardState
// before it, so losing any run of them loses commit progress and nothing
// else. Open fsyncs the last segment once, so that the records written after
// it may say the file is durable up to where replay ended.
//
// # Worked example
//
// Create(dir, []byte("m1"), opts), then
// Save(HardState{Term: 2, Vote: 1}, []Entry{{Index: 1, Term: 2, Data: []byte("put a=1")}})
// and Save(HardState{Term: 2, Vote: 1, Commit: 1}, nil) leave this at the
// start of 0000000000000000-0000000000000001.wal:
//
//	00000000  18 00 00 00 ef 9d 15 30  01 00 00 00 00 00 00 00  |.......0........|
//	00000010  63 61 69 72 6e 77 61 6c  02 00 00 00 00 00 00 00  |cairnwal........|
//	00000020  00 00 00 00 00 00 00 00  0a 00 00 00 86 57 65 f2  |.............We.|
//	00000030  02 00 00 00 28 00 00 00  00 00 00 00 00 00 00 00  |....(...........|
//	00000040  6d 31 00 00 00 00 00 00  17 00 00 00 7e 5a 7b 9a  |m1..........~Z{.|
//	00000050  04 00 00 00 00 00 00 00  48 00 00 00 00 00 00 00  |........H.......|
//	00000060  08 00 10 02 18 01 22 07  70 75 74 20 61 3d 31 00  |......".put a=1.|
//	00000070  0e 00 00 00 62 84 2e 3a  03 00 00 00 28 00 00 00  |....b..:....(...|
//	00000080  48 00 00 00 00 00 00 00  08 02 10 01 18 00 00 00  |H...............|
//	00000090  0e 00 00 00 c0 2f db 75  03 00 00 00 00 00 00 00  |...../.u........|
//	000000a0  90 00 00 00 00 00 00 00  08 02 10 01 18 01 00 00  |................|
//
// Read it as five records in three writes:
//
//   - offset 0x00, the head write, segment record: n = 0x18 (24), CRC
//     0x30159def, type 1, back 0; payload "cairnwal", format 2, seq 0.
//   - offset 0x28, metadata record: n = 0x0a (10), type 2, back 0x28 (40
//     bytes after the head write began at 0); synced 0 (nothing in the new
//     file was durable yet); payload "m1", then 6 bytes of padding.
//   - offset 0x48, the first Save, entry record: n = 0x17 (23), type 4, back
//     0 (a new write); synced 0x48 (the head was fsynced); payload is the
//     protobuf Entry {Term: 2, Index: 1, Data: "put a=1"}, then 1 byte of
//     padding.
//   - offset 0x70, hardstate record: n = 0x0e (14), type 3, back 0x28 (40
//     bytes after the entry record); synced 0x48; payload is the protobuf
//     HardState {Term: 2, Vote: 1, Commit: 0}, then 2 bytes of padding. The
//     Save has entries, so its fdatasync made the file durable up to 0x90.
//   - offset 0x90, the second Save, hardstate record: n = 0x0e, type 3, back
//     0 (a new write); synced 0x90; payload {Term: 2, Vote: 1, Commit: 1}.
//     It only moves the commit index: it was not fsynced.
//
// The zeroes from 0xb0 to the end of the preallocated segment are unwritten
// space. The next write starts at 0xb0 and says synced 0x90, or 0xb0 after
// a reopen, since Open fsyncs the file.
//
// # Replay
//
// Open checks that the segment sequence numbers have no gap, then reads the
// segments in order and folds each record into the state:
//
//   - metadata: the first one is kept; every segment's must be identical.
//   - hardstate: the latest one wins.
//   - entry with index i: ignored when i is at or before the snapshot
//     index; otherwise it replaces entry i and drops every entry after i (an
//     overwrite by a new leader), so the log is always the latest writer's.
//     An entry more than one past the last entry is a gap (damage).
//   - snapshot: a restatement of the current snapshot (a segment head) does
//     nothing; a newer mode 1 snapshot drops the entries up to its index and
//     keeps the rest (its term must match the entry at its index); a newer
//     mode 2 snapshot drops all entries. An older one is damage.
//
// At the end the entries must follow the snapshot without a hole. The
// result is the storage raft restarts from: the latest snapshot, the
// HardState, the entries after the snapshot (so FirstIndex is the snapshot
// index + 1, whatever Compact had kept in memory before). The caller saves a
// received snapshot before the same Ready's HardState; if a crash fell in
// between, the HardState is older than the snapshot, and replay raises its
// commit to the snapshot index and its term to the snapshot's term (with no
// vote), which is what the lost HardState said. A commit index beyond the
// last entry is damage (raft would refuse to start on it).
//
// # Recovery: torn writes and damage
//
// Every segment but the last was fsynced and cut to size before the next one
// was created. In the last segment, the bytes written after the last
// fdatasync that returned may be incomplete after a crash, in any pattern:
// the commit-only writes since then, and the write whose fdatasync was under
// way. The kernel writes pages back in any order, and a sector that never
// reached the disk reads as it last did: the bytes of earlier writes, then
// the zeroes of preallocated space. Nothing acknowledged lies there: a Save
// returns only after its fdatasync, and a commit-only HardState is not
// needed (see Writes).
//
// Replay reads records until one does not decode (zero header, length past
// the end of the file or beyond MaxRecordBytes + 8, CRC mismatch, non-zero
// reserved or padding bytes, unknown type). Call its offset X. A record that
// decodes but says the file was durable past the start of its own write, or
// less far than an earlier record said, is a *CorruptError.
//
// In a segment that is not the last, anything but a clean end of file at X
// is a *CorruptError for that file and offset.
//
// In the last segment, replay searches the rest of the file, at every
// 8-byte boundary after X, for whole records (correct length, CRC, padding).
// Each one says how far the file was durable when it was written, so it
// tells whether the record at X had been made durable before it. Replay
// decides:
//
//   - Only zeroes from X on: the ordinary end of the log. Nothing to do.
//   - A whole record after X says the file was durable beyond X: a
//     *CorruptError at X. The damaged record had been fsynced (and may
//     have been acknowledged); a crash does not undo that.
//   - Non-zero bytes, but no whole record after X: a torn write (a record
//     cut short by the crash, or with a CRC mismatch and nothing but
//     unwritten space after it). It is cut off and logged.
//   - Whole records after X, each saying the file was durable up to X at
//     most, and somewhere in the damaged stretch from X to the first of them
//     a run of zeroes from X or from a 512-byte sector boundary up to the
//     next sector boundary (a sector that never reached the disk): a torn
//     write; it is cut off at X, with the whole records after it. None of
//     them was acknowledged: each was written while X was not known to be
//     durable, and a write whose fdatasync returned would have made X
//     durable.
//   - Otherwise, a *CorruptError at X: the damaged bytes do not look
//     unwritten.
//
// So replay cuts only what lies after the last point known to be durable.
// For example: a Save with entries returns, the file is durable up to S, and
// commit-only HardStates follow, each saying synced S. If after a crash a
// sector after S reads as zeroes from the record at X on while later
// sectors reached the disk, the whole records after the hole say synced S,
// at most X, and the log is cut at X: it opens with the commit index of the
// record before X (TestLostUnsyncedRecords). Had a Save with entries after
// the hole returned before the crash, the records after it would say
// synced beyond X, and the same damage would be a *CorruptError
// (TestSyncedDamageWithUnsyncedRecordsAfter).
//
// A last segment of format 1 has no synced offsets. There, the fourth case
// requires instead that every whole record after X belong to the write that
// was in progress at X (its back distance leads to the start of the write
// holding the last good record, or to X), and any whole record of a later
// write makes the damage a *CorruptError: format 1 cannot tell a lost
// commit-only HardState from damage to durable data. This matters only on
// the first Open after an upgrade; the appends then go to a format 2
// segment.
//
// Cutting off means truncating the file at X and preallocating it again, so
// the next write lands at X followed by zeroes. The Warn log line names the
// file, the offset, the bytes dropped, the reason and the number of whole
// records dropped.
//
// Limits of the rules: a durable write that no later whole record vouches
// for (the last fsynced write, when nothing written after it survives)
// cannot be told from a write whose fdatasync never returned, so damage to
// it that zeroes a sector, or damage to its very last record with only
// zeroes after it, is taken for a torn write (as etcd does). The same holds
// for the segment head of a segment that holds nothing else. Replay never
// cuts damage that a whole later record says was durable.
//
// A missing segment in the middle of the sequence is a CorruptError naming
// the directory. A missing first segment is found when the entries no longer
// reach back to the snapshot.
//
// # Compaction
//
// Compact(i) drops the entries before i from memory and deletes the oldest
// segment files whose entries all have index <= i (never the last segment).
// i may not be after the latest snapshot, so every deleted entry is covered
// by a snapshot; the metadata, latest snapshot and HardState live on in the
// head of every later segment. Files are deleted oldest first and the
// directory is fsynced, so a crash part way leaves a contiguous run.
//
// # Limits
//
// One record's payload is at most MaxRecordBytes (128 MiB); one write is at
// most 4 GiB. Both are refused with ErrTooLarge before anything is written.
package raftlog
