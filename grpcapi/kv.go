package grpcapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/cairnkv/cairn"
)

// kvServer is etcd's KV service (etcdserverpb.KVServer) over cairn.KV.
// The member validates the requests; writes are held to
// --max-request-bytes here (tooLarge); errors come back as etcd's
// statuses.
type kvServer struct{ *api }

// raftEntryOverhead is the size of etcd's InternalRaftRequest around its
// request field, not counting that field's tag and length: the header
// (field 100: a two-byte tag, a length, and the request id as a varint of
// up to 9 bytes). httpapi/size.go makes the same count from JSON.
const raftEntryOverhead = 2 + 1 + 1 + 9

// tooLarge is etcd's check of a write against --max-request-bytes: the
// size of the raft entry it would propose, which holds the request's
// protobuf encoding (size bytes).
func (s kvServer) tooLarge(size int) bool {
	return int64(raftEntryOverhead+1+cairn.ProtoVarintLen(uint64(size))+size) > s.maxRequestBytes
}

var _ pb.KVServer = kvServer{}

func (s kvServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	resp, err := s.b.Range(ctx, rangeRequest(r))
	return answer(s.api, "Range", resp, err, rangeResponse)
}

func (s kvServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	if s.tooLarge(r.Size()) {
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	resp, err := s.b.Put(ctx, putRequest(r))
	return answer(s.api, "Put", resp, err, putResponse)
}

func (s kvServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if s.tooLarge(r.Size()) {
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	resp, err := s.b.DeleteRange(ctx, deleteRangeRequest(r))
	return answer(s.api, "DeleteRange", resp, err, deleteRangeResponse)
}

func (s kvServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	req := txnRequest(r)
	if req.HasWrite() && s.tooLarge(r.Size()) { // a read-only txn is not proposed by etcd
		return nil, rpctypes.ErrGRPCRequestTooLarge
	}
	resp, err := s.b.Txn(ctx, req)
	return answer(s.api, "Txn", resp, err, txnResponse)
}

func (s kvServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := s.b.Compact(ctx, &cairn.CompactionRequest{Revision: r.Revision, Physical: r.Physical})
	return answer(s.api, "Compact", resp, err, func(r *cairn.CompactionResponse) *pb.CompactionResponse {
		return &pb.CompactionResponse{Header: header(&r.Header)}
	})
}
