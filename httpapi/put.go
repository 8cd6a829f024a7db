package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/put: etcd's KV.Put. Request: etcdserverpb.PutRequest; response:
// etcdserverpb.PutResponse.

// PutRequest fields in .proto order.
const (
	putKey = iota
	putValue
	putLease
	putPrevKV
	putIgnoreValue
	putIgnoreLease
	putFields
)

func putField(name []byte) (int, bool) {
	switch string(name) {
	case "key":
		return putKey, false
	case "value":
		return putValue, false
	case "lease":
		return putLease, false
	case "prev_kv":
		return putPrevKV, false
	case "prevKv":
		return putPrevKV, true
	case "ignore_value":
		return putIgnoreValue, false
	case "ignoreValue":
		return putIgnoreValue, true
	case "ignore_lease":
		return putIgnoreLease, false
	case "ignoreLease":
		return putIgnoreLease, true
	}
	return -1, false
}

// putRequest decodes the PutRequest object at b[start] into req.
func (d *decoder) putRequest(start int, req *cairn.PutRequest) error {
	var slots [putFields]slot
	d.collect(start, slots[:], putField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		switch f {
		case putKey:
			req.Key, err = d.bytesField(sp)
		case putValue:
			req.Value, err = d.bytesField(sp)
		case putLease:
			req.Lease, err = d.int64Field(sp)
		case putPrevKV:
			req.PrevKV, err = d.boolField(sp)
		case putIgnoreValue:
			req.IgnoreValue, err = d.boolField(sp)
		case putIgnoreLease:
			req.IgnoreLease, err = d.boolField(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// parsePut decodes a /v3/kv/put body.
func parsePut(d *decoder) (*cairn.PutRequest, error) {
	return parseTopObject(d, (*decoder).putRequest)
}

func (a *api) kvPut(ctx context.Context, d *decoder) (response, error) {
	req, err := parsePut(d)
	if err != nil {
		return nil, err
	}
	if err := a.permittedPut(ctx, req); err != nil {
		return nil, err
	}
	if err := a.checkSize(req.ProtoSize()); err != nil {
		return nil, err
	}
	resp, err := a.b.Put(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*putResponse)(resp), nil
}

type putResponse cairn.PutResponse

func (r *putResponse) appendJSON(b []byte) []byte {
	return appendPutResponse(b, (*cairn.PutResponse)(r))
}

// appendPutResponse appends an etcdserverpb.PutResponse object.
func appendPutResponse(b []byte, r *cairn.PutResponse) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	if r.PrevKV != nil {
		b = appendName(b, &f, "prev_kv")
		b = appendKeyValue(b, r.PrevKV)
	}
	return append(b, '}')
}
