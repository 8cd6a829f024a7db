package grpcapi

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/internal/snapstream"
)

// maintenanceServer is etcd's Maintenance service
// (etcdserverpb.MaintenanceServer): Status over cairn.Maintenance, the
// rest over cairn.MaintenanceOps (Unimplemented when the Backend is not
// one). MoveLeader and Downgrade are not in the contract: Unimplemented.
type maintenanceServer struct {
	*api
	*pb.UnimplementedMaintenanceServer
}

var _ pb.MaintenanceServer = maintenanceServer{}

// errNoOps answers the operations a Backend without MaintenanceOps lacks.
var errNoOps = status.Error(codes.Unimplemented, "not implemented: maintenance operations")

// localHeader is the member's current header (its Status is local and
// cheap), for the answers whose contract method returns none.
func (s maintenanceServer) localHeader(ctx context.Context) *pb.ResponseHeader {
	st, err := s.b.Status(ctx)
	if err != nil {
		return &pb.ResponseHeader{}
	}
	return header(&st.Header)
}

func (s maintenanceServer) Status(ctx context.Context, _ *pb.StatusRequest) (*pb.StatusResponse, error) {
	st, err := s.b.Status(ctx)
	if err != nil {
		return nil, s.status("Status", err)
	}
	return &pb.StatusResponse{Header: header(&st.Header), Version: st.Version, DbSize: st.DBSize,
		Leader: st.Leader, RaftIndex: st.RaftIndex, RaftTerm: st.RaftTerm, RaftAppliedIndex: st.RaftAppliedIndex,
		Errors: st.Errors, DbSizeInUse: st.DBSizeInUse, IsLearner: st.IsLearner}, nil
}

func (s maintenanceServer) Alarm(ctx context.Context, r *pb.AlarmRequest) (*pb.AlarmResponse, error) {
	if s.ops == nil {
		return nil, errNoOps
	}
	alarms, err := s.ops.Alarm(ctx, int32(r.Action), cairn.AlarmMember{MemberID: r.MemberID, Alarm: int32(r.Alarm)})
	if err != nil {
		return nil, s.status("Alarm", err)
	}
	out := &pb.AlarmResponse{Header: s.localHeader(ctx)}
	for _, a := range alarms {
		out.Alarms = append(out.Alarms, &pb.AlarmMember{MemberID: a.MemberID, Alarm: pb.AlarmType(a.Alarm)})
	}
	return out, nil
}

func (s maintenanceServer) Defragment(ctx context.Context, _ *pb.DefragmentRequest) (*pb.DefragmentResponse, error) {
	if s.ops == nil {
		return nil, errNoOps
	}
	if err := s.ops.Defragment(ctx); err != nil {
		return nil, s.status("Defragment", err)
	}
	return &pb.DefragmentResponse{Header: s.localHeader(ctx)}, nil
}

func (s maintenanceServer) Hash(ctx context.Context, _ *pb.HashRequest) (*pb.HashResponse, error) {
	if s.ops == nil {
		return nil, errNoOps
	}
	h, hdr, err := s.ops.Hash(ctx)
	if err != nil {
		return nil, s.status("Hash", err)
	}
	return &pb.HashResponse{Header: header(hdr), Hash: h}, nil
}

func (s maintenanceServer) HashKV(ctx context.Context, r *pb.HashKVRequest) (*pb.HashKVResponse, error) {
	if s.ops == nil {
		return nil, errNoOps
	}
	resp, err := s.ops.HashKV(ctx, r.Revision)
	if err != nil {
		return nil, s.status("HashKV", err)
	}
	return &pb.HashKVResponse{Header: header(&resp.Header), Hash: resp.Hash, CompactRevision: resp.CompactRevision}, nil
}

// Snapshot streams a consistent copy of the member's store file as etcd
// does (internal/snapstream): 32 KiB blobs with the bytes remaining after
// each, then the SHA-256 of the file, which etcdctl snapshot save appends
// to the file and restore checks.
func (s maintenanceServer) Snapshot(_ *pb.SnapshotRequest, stream pb.Maintenance_SnapshotServer) error {
	if s.ops == nil {
		return errNoOps
	}
	ctx := stream.Context()
	sn, err := s.ops.Snapshot(ctx)
	if err != nil {
		return s.status("Snapshot", err)
	}
	defer sn.Close()
	hdr := s.localHeader(ctx)
	w := snapstream.New(sn.Size(), func(remaining int64, blob []byte) error {
		// Send marshals the message before it returns: blob may be reused.
		return stream.Send(&pb.SnapshotResponse{Header: hdr, RemainingBytes: uint64(remaining), Blob: blob})
	})
	if _, err := sn.WriteTo(w); err != nil {
		if _, ok := status.FromError(err); ok {
			return err // the client's stream failed
		}
		return s.status("Snapshot", err)
	}
	return w.Close()
}
