package failpoint

// Point is one named failpoint: where it is and what a crash there leaves.
type Point struct {
	Name string
	// CanFail: the code reaches the point through Err, so "return" can
	// make it fail; else through Hit (crash or sleep only).
	CanFail bool
	Doc     string
}

// Points are every failpoint in cairn, in the order a write meets them.
var Points = []Point{
	{"raftlog/beforeWrite", true, "raftlog: a batch of records (a Ready's entries and HardState, or a snapshot record) is encoded and about to be written to the segment. A failure here fails the write as a full disk would."},
	{"raftlog/afterWrite", false, "raftlog: the batch is in the segment file (the page cache), not yet fdatasynced. Nothing in it has been sent or acknowledged."},
	{"raftlog/beforeSync", true, "raftlog: before each fdatasync or fsync of a segment. A sleep here is a slow disk: it counts in the fsync duration metric, and the Ready loop waits for it. A failure here is an fsync failure."},
	{"raftlog/afterSync", false, "raftlog: the batch is durable; the Ready's answers that vouch for it (append and vote responses) are not sent yet and its entries not applied."},
	{"server/beforeApplyEntry", false, "server: a committed entry is about to be applied to the store batch."},
	{"server/afterApplyEntry", false, "server: the entry is applied to the store batch in memory; the batch is not committed and its client has no answer."},
	{"store/beforeCommit", true, "store: a bbolt write transaction (a flush of applied batches with their consistent index, or a step of a compaction) is filled and about to commit. A sleep here is a slow bbolt commit; a failure aborts the transaction as a full disk would (the store takes no more batches and the member stops)."},
	{"store/afterCommit", false, "store: the bbolt transaction is committed and fsynced; the store has not yet moved its durable index."},
	{"server/beforeRaftSnapshot", false, "server: the store is flushed up to the applied index; the raft snapshot record at that index is about to be written."},
	{"server/afterRaftSnapshot", false, "server: the raft snapshot record is durable; the log is not yet compacted."},
	{"snapshot/afterReceive", false, "snapshot: a snapshot received from the leader is in the snapshot directory (store file and cluster state, fsynced); raft has not seen it, so the raft log does not know it."},
	{"server/beforeSnapshotInstall", false, "server: the raft log holds a received snapshot's record; the old store is still in place."},
	{"server/afterSnapshotInstall", false, "server: the received snapshot's store file replaced the store and is open; the member's membership and applied index are not yet those of the snapshot."},
}

// lookup returns the point called name.
func lookup(name string) (Point, bool) {
	for _, p := range Points {
		if p.Name == name {
			return p, true
		}
	}
	return Point{}, false
}
