package grpcapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairnkv/cairn"
)

// kvServer is etcd's KV service (etcdserverpb.KVServer) over cairn.KV.
// The member validates the requests and limits the size of writes
// (--max-request-bytes); its errors come back as etcd's statuses.
type kvServer struct{ *api }

var _ pb.KVServer = kvServer{}

func (s kvServer) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	resp, err := s.b.Range(ctx, rangeRequest(r))
	return answer(s.api, "Range", resp, err, rangeResponse)
}

func (s kvServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	resp, err := s.b.Put(ctx, putRequest(r))
	return answer(s.api, "Put", resp, err, putResponse)
}

func (s kvServer) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	resp, err := s.b.DeleteRange(ctx, deleteRangeRequest(r))
	return answer(s.api, "DeleteRange", resp, err, deleteRangeResponse)
}

func (s kvServer) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	resp, err := s.b.Txn(ctx, txnRequest(r))
	return answer(s.api, "Txn", resp, err, txnResponse)
}

func (s kvServer) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	resp, err := s.b.Compact(ctx, &cairn.CompactionRequest{Revision: r.Revision, Physical: r.Physical})
	return answer(s.api, "Compact", resp, err, func(r *cairn.CompactionResponse) *pb.CompactionResponse {
		return &pb.CompactionResponse{Header: header(&r.Header)}
	})
}
