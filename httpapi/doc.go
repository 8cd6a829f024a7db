// Package httpapi is cairn's client HTTP API: the routes, the JSON in and
// out, and the mapping of cairn's errors to what etcd answers. It talks to a
// cluster member through the contract (package cairn: KV, Watcher, Lease,
// Cluster, Maintenance..., and V2Keys for the v2 tree) and knows nothing of
// raft or bbolt; requests and responses are the contract's types.
//
// # What it serves
//
// The v3 KV JSON API of etcd 3.4's gRPC gateway, to the letter (see
// openapi.yaml at the repository root and docs/api.md):
//
//	POST /v3/kv/range            etcdserverpb.RangeRequest       -> RangeResponse
//	POST /v3/kv/put              etcdserverpb.PutRequest         -> PutResponse
//	POST /v3/kv/deleterange      etcdserverpb.DeleteRangeRequest -> DeleteRangeResponse
//	POST /v3/kv/txn              etcdserverpb.TxnRequest         -> TxnResponse
//	POST /v3/kv/compaction       etcdserverpb.CompactionRequest  -> CompactionResponse
//	POST /v3/maintenance/status  etcdserverpb.StatusRequest      -> StatusResponse
//	POST /v3/watch               WatchRequest stream -> {"result": WatchResponse} lines
//	GET  /v3/watch               the same stream over a websocket (upgrade)
//	POST /v3/lease/grant         etcdserverpb.LeaseGrantRequest  -> LeaseGrantResponse
//	POST /v3/lease/revoke        etcdserverpb.LeaseRevokeRequest -> LeaseRevokeResponse
//	POST /v3/lease/timetolive    etcdserverpb.LeaseTimeToLiveRequest -> LeaseTimeToLiveResponse
//	POST /v3/lease/leases        etcdserverpb.LeaseLeasesRequest -> LeaseLeasesResponse
//	     (the last three also as /v3/kv/lease/..., etcd's additional bindings)
//	POST /v3/lease/keepalive     LeaseKeepAliveRequest stream -> {"result": LeaseKeepAliveResponse} lines
//	GET  /v3/lease/keepalive     the same stream over a websocket (upgrade)
//	POST /v3/cluster/member/list|add|remove|update|promote   etcdserverpb.Member*Request -> Member*Response
//	POST /v3/maintenance/alarm|defragment|hash|hashkv        etcd's Maintenance API
//	POST /v3/maintenance/snapshot  {"result": SnapshotResponse} lines: the store file, then its SHA-256
//	GET, POST /v2/members; DELETE, PUT /v2/members/<id>      etcd 3.4's v2 members API
//	GET  /version, GET /health   as etcd 3.4
//	GET  /openapi.yaml           the contract
//
// The POST routes are also served under /v3beta/, as etcd 3.4 does. The
// lease routes (lease.go, lease_keepalive.go) go to the Backend's Lease
// methods; the keepalive stream answers each request as it arrives. The
// watch routes exist when the Backend is also a Watcher (watch.go); they are
// adapters over the member's watch hub (package store): watch_decode.go
// reads the stream of requests, watch_http.go writes the responses, each
// event's JSON made once for all the watchers that receive it. The
// membership routes exist when the Backend is also a Cluster (cluster.go,
// cluster_v2.go), the maintenance routes beyond status when it is a
// MaintenanceOps (maintenance.go).
//
// # Wire format
//
// Requests are JSON whatever their Content-Type. Fields are named as in etcd's
// .proto files (range_end) or in lowerCamelCase (rangeEnd); unknown fields are
// ignored; bytes are standard base64; 64-bit integers are numbers or decimal
// strings; enums are names ("DESCEND") or numbers; an empty body is an empty
// request. Responses print fields in .proto order with zero values left out,
// 64-bit integers as strings and bytes as base64:
//
//	$ curl -s localhost:2379/v3/kv/put -d '{"key":"Zm9v","value":"YmFy"}'
//	{"header":{"cluster_id":"804796472195053508","member_id":"666793220911216134","revision":"2","raft_term":"2"}}
//
// # Decoding: once, at the edge
//
// Each body is decoded once into the store request types, by a hand-written
// decoder (jsonscan.go, decode.go and one file per endpoint) that reproduces
// etcd's gateway (grpc-gateway v1 with golang/protobuf jsonpb) without
// reflection: first the body's first JSON value is validated as
// encoding/json's Decoder would (what follows it is ignored, as in etcd),
// then each object's members are collected by name and its fields decoded in
// .proto order. The first error is etcd's, message for message; the parser
// tests hold the answers recorded from etcd 3.4.23. Validation that needs no
// state (empty key, duplicate keys in a transaction, ...) is not done here:
// the member runs store's Validate methods and this package maps the errors.
//
// # Errors
//
// Every v3 error is written by writeV3Error as etcd's gateway writes it:
//
//	{"error":"etcdserver: key is not provided","message":"etcdserver: key is not provided","code":3}
//
// with the HTTP status grpc-gateway v1 gives the gRPC code (3 InvalidArgument
// and 11 OutOfRange: 400, 5 NotFound: 404, 8 ResourceExhausted: 429,
// 14 Unavailable: 503). One table (v3Errors) maps store's error sentinels,
// matched with errors.Is, to the code and etcd's message. Any other error is
// internal: code 2 (Unknown), status 500, and logged.
//
// # Origin limits
//
// Before routing, every request passes etcd's access controller:
// --host-whitelist for plain-HTTP requests (421), --cors headers and the
// preflight answer, and cairn's refusal (403) of a state-changing request
// from an origin --cors does not allow (origin.go). The handler knows
// nothing of TLS itself: a request that came over TLS carries its verified
// client certificate in r.TLS.
//
// # Limits
//
// --max-request-bytes (Config.MaxRequestBytes) is applied as etcd applies it,
// to the protobuf size of a write rather than to the JSON body; bodies are
// read up to a bound derived from it. See size.go.
//
// # Performance
//
// Request bodies and responses live in pooled buffers; decoded keys and
// values of one request share one allocation; responses are appended by hand.
package httpapi
