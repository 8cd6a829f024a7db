package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/compaction: etcd's KV.Compact. Request:
// etcdserverpb.CompactionRequest; response: etcdserverpb.CompactionResponse.

// CompactionRequest fields in .proto order.
const (
	compactRevision = iota
	compactPhysical
	compactFields
)

func compactionField(name []byte) (int, bool) {
	switch string(name) {
	case "revision":
		return compactRevision, false
	case "physical":
		return compactPhysical, false
	}
	return -1, false
}

// parseCompaction decodes a /v3/kv/compaction body.
func parseCompaction(d *decoder) (*cairn.CompactionRequest, error) {
	req := new(cairn.CompactionRequest)
	start, ok, err := d.topObject()
	if err != nil {
		return nil, err
	}
	if !ok {
		return req, nil
	}
	var slots [compactFields]slot
	d.collect(start, slots[:], compactionField)
	if sp := slots[compactRevision].value(); sp.s != 0 {
		if req.Revision, err = d.int64Field(sp); err != nil {
			return nil, err
		}
	}
	if sp := slots[compactPhysical].value(); sp.s != 0 {
		if req.Physical, err = d.boolField(sp); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func (a *api) kvCompact(ctx context.Context, d *decoder) (response, error) {
	req, err := parseCompaction(d)
	if err != nil {
		return nil, err
	}
	resp, err := a.b.Compact(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*compactionResponse)(resp), nil
}

type compactionResponse cairn.CompactionResponse

// appendJSON appends an etcdserverpb.CompactionResponse object.
func (r *compactionResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	return append(b, '}')
}
