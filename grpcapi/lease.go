package grpcapi

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/cairnkv/cairn"
)

// leaseServer is etcd's Lease service (etcdserverpb.LeaseServer) over
// cairn.Lease.
type leaseServer struct{ *api }

var _ pb.LeaseServer = leaseServer{}

func (s leaseServer) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	resp, err := s.b.LeaseGrant(ctx, &cairn.LeaseGrantRequest{TTL: r.TTL, ID: r.ID})
	return answer(s.api, "LeaseGrant", resp, err, func(g *cairn.LeaseGrantResponse) *pb.LeaseGrantResponse {
		return &pb.LeaseGrantResponse{Header: header(&g.Header), ID: g.ID, TTL: g.TTL, Error: g.Error}
	})
}

func (s leaseServer) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	resp, err := s.b.LeaseRevoke(ctx, &cairn.LeaseRevokeRequest{ID: r.ID})
	return answer(s.api, "LeaseRevoke", resp, err, func(v *cairn.LeaseRevokeResponse) *pb.LeaseRevokeResponse {
		return &pb.LeaseRevokeResponse{Header: header(&v.Header)}
	})
}

func (s leaseServer) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	resp, err := s.b.LeaseTimeToLive(ctx, &cairn.LeaseTimeToLiveRequest{ID: r.ID, Keys: r.Keys})
	return answer(s.api, "LeaseTimeToLive", resp, err, func(t *cairn.LeaseTimeToLiveResponse) *pb.LeaseTimeToLiveResponse {
		return &pb.LeaseTimeToLiveResponse{Header: header(&t.Header), ID: t.ID, TTL: t.TTL, GrantedTTL: t.GrantedTTL, Keys: t.Keys}
	})
}

func (s leaseServer) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	resp, err := s.b.LeaseLeases(ctx)
	return answer(s.api, "LeaseLeases", resp, err, func(ls *cairn.LeaseLeasesResponse) *pb.LeaseLeasesResponse {
		out := &pb.LeaseLeasesResponse{Header: header(&ls.Header), Leases: make([]*pb.LeaseStatus, len(ls.Leases))}
		for i, l := range ls.Leases {
			out.Leases[i] = &pb.LeaseStatus{ID: l.ID}
		}
		return out
	})
}

// LeaseKeepAlive is etcd's bidirectional keepalive stream: each request is
// answered, in order, once the lease is renewed (TTL 0 for a lease that
// does not exist, as etcd). A renewal that fails ends the stream with its
// status; the client's end of the requests ends it cleanly, and so does the
// member's shutdown (LeaseStreamsClosed), with etcd's "server stopped".
func (s leaseServer) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	ctx := stream.Context()
	closed := s.b.LeaseStreamsClosed()
	type result struct {
		req *pb.LeaseKeepAliveRequest
		err error
	}
	reqs := make(chan result, 1)
	go func() {
		for {
			r, err := stream.Recv()
			select {
			case reqs <- result{r, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		var in result
		select {
		case in = <-reqs:
		case <-closed:
			return s.status("LeaseKeepAlive", cairn.ErrStopped)
		case <-ctx.Done():
			return nil
		}
		if errors.Is(in.err, io.EOF) {
			return nil
		}
		if in.err != nil {
			return in.err
		}
		resp, err := s.b.LeaseKeepAlive(ctx, &cairn.LeaseKeepAliveRequest{ID: in.req.ID})
		if err != nil {
			return s.status("LeaseKeepAlive", err)
		}
		out := &pb.LeaseKeepAliveResponse{Header: header(&resp.Header), ID: resp.ID, TTL: resp.TTL}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}
