package httpapi

import (
	"github.com/cairnkv/cairn"
)

// --max-request-bytes, as etcd applies it.
//
// etcd limits a write by the size of the protobuf raft entry it proposes
// (etcdserverpb.InternalRaftRequest: a request header and the request),
// answering "etcdserver: request is too large" (InvalidArgument, HTTP 400)
// when it exceeds --max-request-bytes; reads are not limited that way. The
// JSON body of a request is about 4/3 larger than that entry (bytes travel as
// base64), so limiting the body itself to --max-request-bytes would refuse
// values etcd accepts. cairn therefore does what etcd does, in two steps:
//
//  1. The body is read up to bodyLimit bytes, enough for the JSON of any
//     request etcd's gRPC server would accept (its message limit is
//     --max-request-bytes + 512 KiB). A longer body is refused with
//     ErrRequestTooLarge without reading the rest (etcd answers such a body
//     with gRPC ResourceExhausted, HTTP 429 and the message "grpc: received
//     message larger than max (N vs. M)", which cairn does not copy).
//  2. A write whose protobuf encoding, computed here from the parsed request,
//     exceeds --max-request-bytes is refused with ErrRequestTooLarge before it
//     reaches the backend. The size counts etcd's entry framing as well, so the
//     boundary agrees with etcd's to within a few bytes (the id in etcd's
//     request header varies in length).

// grpcOverheadBytes is the slack etcd adds to --max-request-bytes for its gRPC
// message limit (embed.grpcOverheadBytes).
const grpcOverheadBytes = 512 * 1024

// bodyLimit is the longest body read for a given --max-request-bytes: the
// base64 expansion of the largest message etcd's gRPC server accepts, plus
// room for JSON syntax.
func bodyLimit(maxRequestBytes int64) int64 {
	return (maxRequestBytes+grpcOverheadBytes)/3*4 + 64*1024
}

// raftEntryOverhead is the size of an InternalRaftRequest around its request
// field, not counting that field's tag and length: the header (field 100,
// two-byte tag, length, and an 8-byte request id as a varint of 9 bytes).
const raftEntryOverhead = 2 + 1 + 1 + 9

// checkSize refuses a write whose request message is size bytes.
func (a *api) checkSize(size int) error {
	if int64(raftEntryOverhead+1+cairn.ProtoVarintLen(uint64(size))+size) > a.maxRequestBytes {
		return cairn.ErrRequestTooLarge
	}
	return nil
}
