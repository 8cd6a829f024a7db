// Package grpcapi is cairn's gRPC client API: etcd's v3 services, served
// with google.golang.org/grpc over the messages and service definitions of
// go.etcd.io/etcd/api/v3 (etcdserverpb, mvccpb), so that etcdctl (v3), the
// Go clientv3 and its concurrency package work unchanged. Like httpapi it
// is an adapter over the contract (package cairn: KV, Watcher, Lease,
// Cluster, Maintenance, MaintenanceOps, Learner) and knows nothing of raft
// or bbolt; it converts etcd's messages to the contract's types and back.
// No protobuf code lives in this tree.
//
// # What it serves
//
//	etcdserverpb.KV           Range, Put, DeleteRange, Txn, Compact      kv.go
//	etcdserverpb.Watch        Watch (bidirectional stream)                 watch.go
//	etcdserverpb.Lease        LeaseGrant, LeaseRevoke, LeaseKeepAlive
//	                          (bidirectional stream), LeaseTimeToLive,
//	                          LeaseLeases                                  lease.go
//	etcdserverpb.Cluster      MemberAdd, MemberRemove, MemberUpdate,
//	                          MemberList, MemberPromote                    cluster.go
//	etcdserverpb.Maintenance  Status, Alarm, Defragment, Hash, HashKV,
//	                          Snapshot (server stream)                     maintenance.go
//
// Maintenance.MoveLeader and Downgrade answer Unimplemented (the contract
// has no leader transfer yet; etcd 3.4 has no Downgrade). The Auth service
// and etcd's v3lock and v3election services are not served yet: each will
// be one file here and one Register line in New.
//
// # Errors
//
// One table (errors.go) maps the contract's sentinels to rpctypes'
// ErrGRPC* statuses, code and message as etcd's server sends them, so that
// clientv3's rpctypes.Error(err) == rpctypes.ErrCompacted (and the like)
// holds:
//
//	$ etcdctl get foo --rev 2    # after compacting at 3
//	Error: etcdserver: mvcc: required revision has been compacted
//
// An error outside the vocabulary is logged and answered as codes.Unknown.
// As in etcd, a learner answers every call but Status and serializable
// ranges, and every stream, with "etcdserver: rpc not supported for
// learner" (Unavailable); a stream whose client requires a leader
// (metadata hasleader=true, clientv3's WithRequireLeader) is refused with
// "etcdserver: no leader" when the member knows none.
//
// # Server options
//
// New sets etcd's options from Config (cmd/cairn fills it from etcd's
// flags): the largest message received is --max-request-bytes + 512 KiB
// (writes are held to --max-request-bytes by the member, as etcd's
// proposals are), sends are unlimited, --max-concurrent-streams, and the
// keepalive policy --grpc-keepalive-min-time, --grpc-keepalive-interval,
// --grpc-keepalive-timeout.
//
// # Streams
//
// Watch: one cairn.WatchStream per gRPC stream, any number of watchers on
// it; the member's hub does the work (ids, catch-up from history,
// progress notifications, fragments, cancel, compaction cancels) and the
// adapter converts requests in and responses out. The client closing its
// send side leaves the watchers running, as in etcd. LeaseKeepAlive
// answers each request once the lease is renewed, in order. Snapshot sends
// the store file in 32 KiB blobs and then its SHA-256
// (internal/snapstream, shared with httpapi).
//
// # Sharing the client port
//
// The server does not listen by itself: cmd/cairn (client.go) hands it the
// connections of plain client listeners that open with the HTTP/2 preface
// and, over TLS, the HTTP/2 requests whose content-type is
// application/grpc, as etcd 3.4 splits its client port.
package grpcapi
