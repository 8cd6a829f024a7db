package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/deleterange: etcd's KV.DeleteRange. Request:
// etcdserverpb.DeleteRangeRequest; response: etcdserverpb.DeleteRangeResponse.

// DeleteRangeRequest fields in .proto order.
const (
	delKey = iota
	delRangeEnd
	delPrevKV
	delFields
)

func deleteRangeField(name []byte) (int, bool) {
	switch string(name) {
	case "key":
		return delKey, false
	case "range_end":
		return delRangeEnd, false
	case "rangeEnd":
		return delRangeEnd, true
	case "prev_kv":
		return delPrevKV, false
	case "prevKv":
		return delPrevKV, true
	}
	return -1, false
}

// deleteRangeRequest decodes the DeleteRangeRequest object at b[start] into req.
func (d *decoder) deleteRangeRequest(start int, req *cairn.DeleteRangeRequest) error {
	var slots [delFields]slot
	d.collect(start, slots[:], deleteRangeField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		switch f {
		case delKey:
			req.Key, err = d.bytesField(sp)
		case delRangeEnd:
			req.RangeEnd, err = d.bytesField(sp)
		case delPrevKV:
			req.PrevKV, err = d.boolField(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseDeleteRange decodes a /v3/kv/deleterange body.
func parseDeleteRange(d *decoder) (*cairn.DeleteRangeRequest, error) {
	return parseTopObject(d, (*decoder).deleteRangeRequest)
}

func (a *api) kvDeleteRange(ctx context.Context, d *decoder) (response, error) {
	req, err := parseDeleteRange(d)
	if err != nil {
		return nil, err
	}
	if err := a.permittedDelete(ctx, req); err != nil {
		return nil, err
	}
	if err := a.checkSize(req.ProtoSize()); err != nil {
		return nil, err
	}
	resp, err := a.b.DeleteRange(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*deleteRangeResponse)(resp), nil
}

type deleteRangeResponse cairn.DeleteRangeResponse

func (r *deleteRangeResponse) appendJSON(b []byte) []byte {
	return appendDeleteRangeResponse(b, (*cairn.DeleteRangeResponse)(r))
}

// appendDeleteRangeResponse appends an etcdserverpb.DeleteRangeResponse object.
func appendDeleteRangeResponse(b []byte, r *cairn.DeleteRangeResponse) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendInt64(b, &f, "deleted", r.Deleted)
	b = appendKeyValues(b, &f, "prev_kvs", r.PrevKVs)
	return append(b, '}')
}
