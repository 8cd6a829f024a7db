// Package metrics owns the member's Prometheus metrics: their names, types,
// labels and help are etcd 3.4's, so that etcd's Grafana dashboard and
// alert rules read a cairn member as they read an etcd member
// (docs/operations.md lists them). The peer transport and the HTTP layer
// keep their own (packages peer and httpapi).
//
// The hot paths pay one observation each: the raft log's fsync and the
// store's bbolt commits a histogram observation (through
// raftlog.Options.ObserveFsync and store.Options.ObserveCommit, so neither
// package imports a metrics library), a proposal an atomic add (Pending)
// and, only when it fails, a counter. What the member keeps anyway
// (indexes, sizes, leadership, watcher counts) is read when Prometheus
// scrapes, through the functions of a Source.
package metrics
