// Package compactor owns auto-compaction, etcd 3.4's --auto-compaction-mode
// and --auto-compaction-retention (etcd's v3compactor): a loop that every
// member runs beside its lessor and that, while the member leads, compacts
// the store's history through raft as a client's compaction would go.
//
// Periodic mode, retention P: every P/10 (at most 6 minutes) the loop notes
// the store's revision, keeping the notes of the last P. Once P has passed
// since the loop started, and from then on every P (at most every hour), it
// compacts to the oldest note: the revision the store had P ago. A failed
// compaction is tried again at the next note. Followers keep sampling too,
// as etcd's do, so that a new leader can compact at once.
//
// Revision mode, retention N: every Config.RevisionInterval (etcd: a fixed
// 5 minutes) it compacts to the current revision minus N, unless that is
// not positive or is where it compacted last.
//
// A compaction that finds the revision already compacted counts as done, as
// in etcd. Each one is logged when it starts and when it ends.
//
// The package knows the member only through Target (the store's revision,
// a compaction through raft, leadership), so it imports nothing of the
// member core: package server starts Run and counts what it reports in
// cairn_server_auto_compactions_total.
package compactor
