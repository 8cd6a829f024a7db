// Package cairn is the contract between cairn's API adapters and the member
// that implements them. It owns:
//
//   - the request and response types of etcd's v3 services, shaped as
//     etcd's protobuf messages (kv.go: KeyValue, RangeRequest, PutRequest,
//     TxnRequest...; lease.go; watch.go; event.go; cluster.go;
//     maintenance.go), and the v2 member and stats types (v2.go);
//   - the interfaces the adapters call: KV, Watcher (WatchStream), Lease,
//     Cluster, Learner, Maintenance, MaintenanceOps, V2Members, V2Stats;
//   - the error vocabulary (errors.go): one sentinel per etcd error, with
//     etcd's message to the letter; package httpapi maps each to its gRPC
//     code, HTTP status and v2 errorCode in one table;
//   - the alarm kinds (maintenance.go) and the v2 action recorded with each
//     write (action.go);
//   - request validation that needs no state (validate.go);
//   - cairn's version and the OpenAPI document of its client endpoints
//     (version.go, openapi.go).
//
// It imports nothing of cairn's own. The arrows point down to it: the
// adapters (httpapi) call these interfaces, package server implements them
// (each implementation asserts it beside itself: var _ cairn.KV =
// (*Server)(nil)), and package store speaks these types in its MVCC
// operations. Neither adapters nor the member name each other.
//
// The request types that raft entries carry as JSON (kv.go, lease.go) have
// json tags equal to their Go field names: the tags pin the format of the
// raft log (server/entry_golden_test.go fails if a byte changes); they are
// not the HTTP API's JSON, which httpapi writes itself.
package cairn
