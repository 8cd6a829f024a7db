package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/range: etcd's KV.Range. Request: etcdserverpb.RangeRequest;
// response: etcdserverpb.RangeResponse.

var sortOrderType = enumType{
	protoName: "etcdserverpb.RangeRequest_SortOrder",
	names:     []string{"NONE", "ASCEND", "DESCEND"},
}

var sortTargetType = enumType{
	protoName: "etcdserverpb.RangeRequest_SortTarget",
	names:     []string{"KEY", "VERSION", "CREATE", "MOD", "VALUE"},
}

// RangeRequest fields in .proto order.
const (
	rangeKey = iota
	rangeRangeEnd
	rangeLimit
	rangeRevision
	rangeSortOrder
	rangeSortTarget
	rangeSerializable
	rangeKeysOnly
	rangeCountOnly
	rangeMinModRevision
	rangeMaxModRevision
	rangeMinCreateRevision
	rangeMaxCreateRevision
	rangeFields
)

func rangeField(name []byte) (int, bool) {
	switch string(name) {
	case "key":
		return rangeKey, false
	case "range_end":
		return rangeRangeEnd, false
	case "rangeEnd":
		return rangeRangeEnd, true
	case "limit":
		return rangeLimit, false
	case "revision":
		return rangeRevision, false
	case "sort_order":
		return rangeSortOrder, false
	case "sortOrder":
		return rangeSortOrder, true
	case "sort_target":
		return rangeSortTarget, false
	case "sortTarget":
		return rangeSortTarget, true
	case "serializable":
		return rangeSerializable, false
	case "keys_only":
		return rangeKeysOnly, false
	case "keysOnly":
		return rangeKeysOnly, true
	case "count_only":
		return rangeCountOnly, false
	case "countOnly":
		return rangeCountOnly, true
	case "min_mod_revision":
		return rangeMinModRevision, false
	case "minModRevision":
		return rangeMinModRevision, true
	case "max_mod_revision":
		return rangeMaxModRevision, false
	case "maxModRevision":
		return rangeMaxModRevision, true
	case "min_create_revision":
		return rangeMinCreateRevision, false
	case "minCreateRevision":
		return rangeMinCreateRevision, true
	case "max_create_revision":
		return rangeMaxCreateRevision, false
	case "maxCreateRevision":
		return rangeMaxCreateRevision, true
	}
	return -1, false
}

// rangeRequest decodes the RangeRequest object at b[start] into req.
func (d *decoder) rangeRequest(start int, req *cairn.RangeRequest) error {
	var slots [rangeFields]slot
	d.collect(start, slots[:], rangeField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		switch f {
		case rangeKey:
			req.Key, err = d.bytesField(sp)
		case rangeRangeEnd:
			req.RangeEnd, err = d.bytesField(sp)
		case rangeLimit:
			req.Limit, err = d.int64Field(sp)
		case rangeRevision:
			req.Revision, err = d.int64Field(sp)
		case rangeSortOrder:
			var v int32
			v, err = d.enumField(sp, &sortOrderType)
			req.SortOrder = cairn.SortOrder(v)
		case rangeSortTarget:
			var v int32
			v, err = d.enumField(sp, &sortTargetType)
			req.SortTarget = cairn.SortTarget(v)
		case rangeSerializable:
			req.Serializable, err = d.boolField(sp)
		case rangeKeysOnly:
			req.KeysOnly, err = d.boolField(sp)
		case rangeCountOnly:
			req.CountOnly, err = d.boolField(sp)
		case rangeMinModRevision:
			req.MinModRevision, err = d.int64Field(sp)
		case rangeMaxModRevision:
			req.MaxModRevision, err = d.int64Field(sp)
		case rangeMinCreateRevision:
			req.MinCreateRevision, err = d.int64Field(sp)
		case rangeMaxCreateRevision:
			req.MaxCreateRevision, err = d.int64Field(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parseRange decodes a /v3/kv/range body.
func parseRange(d *decoder) (*cairn.RangeRequest, error) {
	return parseTopObject(d, (*decoder).rangeRequest)
}

func (a *api) kvRange(ctx context.Context, d *decoder) (response, error) {
	req, err := parseRange(d)
	if err != nil {
		return nil, err
	}
	if err := a.permitted(ctx, cairn.PermRead, req.Key, req.RangeEnd); err != nil {
		return nil, err
	}
	resp, err := a.b.Range(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*rangeResponse)(resp), nil
}

type rangeResponse cairn.RangeResponse

func (r *rangeResponse) appendJSON(b []byte) []byte {
	return appendRangeResponse(b, (*cairn.RangeResponse)(r))
}

// appendRangeResponse appends an etcdserverpb.RangeResponse object.
func appendRangeResponse(b []byte, r *cairn.RangeResponse) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendKeyValues(b, &f, "kvs", r.Kvs)
	b = appendBool(b, &f, "more", r.More)
	b = appendInt64(b, &f, "count", r.Count)
	return append(b, '}')
}
