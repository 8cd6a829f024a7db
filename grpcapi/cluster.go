package grpcapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairnkv/cairn"
)

// clusterServer is etcd's Cluster service (etcdserverpb.ClusterServer)
// over cairn.Cluster. Every answer carries the members after the change.
type clusterServer struct{ *api }

var _ pb.ClusterServer = clusterServer{}

func (s clusterServer) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	resp, err := s.cluster.MemberAdd(ctx, r.PeerURLs, r.IsLearner)
	return answer(s.api, "MemberAdd", resp, err, func(m *cairn.MemberResponse) *pb.MemberAddResponse {
		return &pb.MemberAddResponse{Header: header(&m.Header), Member: member(m.Member), Members: members(m.Members)}
	})
}

func (s clusterServer) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	resp, err := s.cluster.MemberRemove(ctx, r.ID)
	return answer(s.api, "MemberRemove", resp, err, func(m *cairn.MemberResponse) *pb.MemberRemoveResponse {
		return &pb.MemberRemoveResponse{Header: header(&m.Header), Members: members(m.Members)}
	})
}

func (s clusterServer) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	resp, err := s.cluster.MemberUpdate(ctx, r.ID, r.PeerURLs)
	return answer(s.api, "MemberUpdate", resp, err, func(m *cairn.MemberResponse) *pb.MemberUpdateResponse {
		return &pb.MemberUpdateResponse{Header: header(&m.Header), Members: members(m.Members)}
	})
}

func (s clusterServer) MemberList(ctx context.Context, r *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	resp, err := s.cluster.MemberList(ctx, r.Linearizable)
	return answer(s.api, "MemberList", resp, err, func(m *cairn.MemberResponse) *pb.MemberListResponse {
		return &pb.MemberListResponse{Header: header(&m.Header), Members: members(m.Members)}
	})
}

func (s clusterServer) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	resp, err := s.cluster.MemberPromote(ctx, r.ID)
	return answer(s.api, "MemberPromote", resp, err, func(m *cairn.MemberResponse) *pb.MemberPromoteResponse {
		return &pb.MemberPromoteResponse{Header: header(&m.Header), Members: members(m.Members)}
	})
}
