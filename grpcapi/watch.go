package grpcapi

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairnkv/cairn"
)

// watchServer is etcd's Watch service (etcdserverpb.WatchServer) over the
// member's watch hub (cairn.Watcher): one cairn.WatchStream per gRPC
// stream, holding any number of watchers. The hub does the work — ids,
// history catch-up, progress notifications, fragments, compaction
// cancels — and this adapter only converts: requests in as they arrive,
// responses out in the order Next gives them.
type watchServer struct{ *api }

var _ pb.WatchServer = watchServer{}

func (s watchServer) Watch(stream pb.Watch_WatchServer) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	st, err := s.watcher.Watch(ctx)
	if err != nil {
		return s.status("Watch", err)
	}
	defer st.Close()
	go func() {
		for {
			req, err := stream.Recv()
			if err != nil {
				// The client's end of the requests (io.EOF) leaves its
				// watchers running, as etcd does; a broken stream has
				// its context canceled by gRPC.
				return
			}
			switch r := req.RequestUnion.(type) {
			case *pb.WatchRequest_CreateRequest:
				st.Create(watchCreate(r.CreateRequest))
			case *pb.WatchRequest_CancelRequest:
				st.Cancel(r.CancelRequest.WatchId)
			case *pb.WatchRequest_ProgressRequest:
				st.RequestProgress()
			}
		}
	}()
	var resps []*cairn.WatchResponse
	for {
		resps, err = st.Next(ctx, resps[:0])
		for _, r := range resps {
			if serr := stream.Send(watchResponse(r)); serr != nil {
				return serr
			}
		}
		clear(resps)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return s.status("Watch", err)
		}
	}
}

func watchCreate(r *pb.WatchCreateRequest) *cairn.WatchCreateRequest {
	out := &cairn.WatchCreateRequest{Key: r.Key, RangeEnd: r.RangeEnd, StartRevision: r.StartRevision,
		ProgressNotify: r.ProgressNotify, PrevKV: r.PrevKv, WatchID: r.WatchId, Fragment: r.Fragment}
	for _, f := range r.Filters {
		out.Filters = append(out.Filters, cairn.WatchFilter(f))
	}
	return out
}

func watchResponse(r *cairn.WatchResponse) *pb.WatchResponse {
	out := &pb.WatchResponse{Header: header(&r.Header), WatchId: r.WatchID, Created: r.Created,
		Canceled: r.Canceled, CompactRevision: r.CompactRevision, CancelReason: r.CancelReason,
		Fragment: r.Fragment}
	if len(r.Events) > 0 {
		out.Events = make([]*mvccpb.Event, len(r.Events))
		all := make([]mvccpb.Event, len(r.Events))
		for i, ev := range r.Events {
			all[i] = mvccpb.Event{Type: mvccpb.Event_EventType(ev.Type), Kv: keyValue(ev.Kv), PrevKv: keyValue(ev.PrevKv)}
			out.Events[i] = &all[i]
		}
	}
	return out
}
