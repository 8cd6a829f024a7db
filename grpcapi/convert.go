package grpcapi

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/cairnkv/cairn"
)

// Conversions between etcd's protobuf messages (api/v3) and the contract's
// types. Byte slices are shared, not copied: requests are owned by the
// handler that decoded them, responses by the caller (KV's contract).

func header(h *cairn.ResponseHeader) *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: h.ClusterID, MemberId: h.MemberID, Revision: h.Revision, RaftTerm: h.RaftTerm}
}

func keyValue(kv *cairn.KeyValue) *mvccpb.KeyValue {
	if kv == nil {
		return nil
	}
	return &mvccpb.KeyValue{Key: kv.Key, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision,
		Version: kv.Version, Value: kv.Value, Lease: kv.Lease}
}

// keyValues converts kvs with one allocation for all the messages.
func keyValues(kvs []*cairn.KeyValue) []*mvccpb.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	out := make([]*mvccpb.KeyValue, len(kvs))
	all := make([]mvccpb.KeyValue, len(kvs))
	for i, kv := range kvs {
		all[i] = mvccpb.KeyValue{Key: kv.Key, CreateRevision: kv.CreateRevision, ModRevision: kv.ModRevision,
			Version: kv.Version, Value: kv.Value, Lease: kv.Lease}
		out[i] = &all[i]
	}
	return out
}

func rangeRequest(r *pb.RangeRequest) *cairn.RangeRequest {
	return &cairn.RangeRequest{Key: r.Key, RangeEnd: r.RangeEnd, Limit: r.Limit, Revision: r.Revision,
		SortOrder: cairn.SortOrder(r.SortOrder), SortTarget: cairn.SortTarget(r.SortTarget),
		Serializable: r.Serializable, KeysOnly: r.KeysOnly, CountOnly: r.CountOnly,
		MinModRevision: r.MinModRevision, MaxModRevision: r.MaxModRevision,
		MinCreateRevision: r.MinCreateRevision, MaxCreateRevision: r.MaxCreateRevision}
}

func rangeResponse(r *cairn.RangeResponse) *pb.RangeResponse {
	return &pb.RangeResponse{Header: header(&r.Header), Kvs: keyValues(r.Kvs), More: r.More, Count: r.Count}
}

func putRequest(r *pb.PutRequest) *cairn.PutRequest {
	return &cairn.PutRequest{Key: r.Key, Value: r.Value, Lease: r.Lease, PrevKV: r.PrevKv,
		IgnoreValue: r.IgnoreValue, IgnoreLease: r.IgnoreLease}
}

func putResponse(r *cairn.PutResponse) *pb.PutResponse {
	return &pb.PutResponse{Header: header(&r.Header), PrevKv: keyValue(r.PrevKV)}
}

func deleteRangeRequest(r *pb.DeleteRangeRequest) *cairn.DeleteRangeRequest {
	return &cairn.DeleteRangeRequest{Key: r.Key, RangeEnd: r.RangeEnd, PrevKV: r.PrevKv}
}

func deleteRangeResponse(r *cairn.DeleteRangeResponse) *pb.DeleteRangeResponse {
	return &pb.DeleteRangeResponse{Header: header(&r.Header), Deleted: r.Deleted, PrevKvs: keyValues(r.PrevKVs)}
}

func compare(c *pb.Compare) cairn.Compare {
	out := cairn.Compare{Result: cairn.CompareResult(c.Result), Target: cairn.CompareTarget(c.Target),
		Key: c.Key, RangeEnd: c.RangeEnd}
	switch u := c.TargetUnion.(type) {
	case *pb.Compare_Version:
		out.Version = u.Version
	case *pb.Compare_CreateRevision:
		out.CreateRevision = u.CreateRevision
	case *pb.Compare_ModRevision:
		out.ModRevision = u.ModRevision
	case *pb.Compare_Value:
		out.Value = u.Value
	case *pb.Compare_Lease:
		out.Lease = u.Lease
	}
	return out
}

func requestOps(ops []*pb.RequestOp) []cairn.RequestOp {
	if len(ops) == 0 {
		return nil
	}
	out := make([]cairn.RequestOp, len(ops))
	for i, op := range ops {
		switch r := op.Request.(type) {
		case *pb.RequestOp_RequestRange:
			out[i].Range = rangeRequest(r.RequestRange)
		case *pb.RequestOp_RequestPut:
			out[i].Put = putRequest(r.RequestPut)
		case *pb.RequestOp_RequestDeleteRange:
			out[i].DeleteRange = deleteRangeRequest(r.RequestDeleteRange)
		case *pb.RequestOp_RequestTxn:
			out[i].Txn = txnRequest(r.RequestTxn)
		}
		// An empty RequestOp stays empty: the member's Validate answers it.
	}
	return out
}

func txnRequest(r *pb.TxnRequest) *cairn.TxnRequest {
	out := &cairn.TxnRequest{Success: requestOps(r.Success), Failure: requestOps(r.Failure)}
	if len(r.Compare) > 0 {
		out.Compare = make([]cairn.Compare, len(r.Compare))
		for i, c := range r.Compare {
			out.Compare[i] = compare(c)
		}
	}
	return out
}

func txnResponse(r *cairn.TxnResponse) *pb.TxnResponse {
	out := &pb.TxnResponse{Header: header(&r.Header), Succeeded: r.Succeeded}
	if len(r.Responses) > 0 {
		out.Responses = make([]*pb.ResponseOp, len(r.Responses))
		for i, op := range r.Responses {
			o := &pb.ResponseOp{}
			switch {
			case op.Range != nil:
				o.Response = &pb.ResponseOp_ResponseRange{ResponseRange: rangeResponse(op.Range)}
			case op.Put != nil:
				o.Response = &pb.ResponseOp_ResponsePut{ResponsePut: putResponse(op.Put)}
			case op.DeleteRange != nil:
				o.Response = &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: deleteRangeResponse(op.DeleteRange)}
			case op.Txn != nil:
				o.Response = &pb.ResponseOp_ResponseTxn{ResponseTxn: txnResponse(op.Txn)}
			}
			out.Responses[i] = o
		}
	}
	return out
}

func member(m *cairn.Member) *pb.Member {
	if m == nil {
		return nil
	}
	return &pb.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
}

func members(ms []*cairn.Member) []*pb.Member {
	out := make([]*pb.Member, len(ms))
	for i, m := range ms {
		out[i] = member(m)
	}
	return out
}
