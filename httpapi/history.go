package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/kv/history: one key's changes still held, newest first, deletions
// included (cairn's own; no etcd has it). Request {"key", "limit",
// "revision"}: key in base64, limit 0 for all, revision 0 for now (only
// changes at or before it: pages backwards). Response {"header", "events",
// "more", "compact_revision"}, each event in a watch event's shape. Served
// when the Backend is also a cairn.KeyHistory. docs/api.md, "Key history".

// HistoryRequest fields.
const (
	historyKey = iota
	historyLimit
	historyRevision
	historyFields
)

func historyField(name []byte) (int, bool) {
	switch string(name) {
	case "key":
		return historyKey, false
	case "limit":
		return historyLimit, false
	case "revision":
		return historyRevision, false
	}
	return -1, false
}

// parseHistory decodes a /v3/kv/history body.
func parseHistory(d *decoder) (*cairn.HistoryRequest, error) {
	req := new(cairn.HistoryRequest)
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	var slots [historyFields]slot
	d.collect(start, slots[:], historyField)
	if sp := slots[historyKey].value(); sp.s != 0 {
		if req.Key, err = d.bytesField(sp); err != nil {
			return nil, err
		}
	}
	for i, dst := range []*int64{historyLimit: &req.Limit, historyRevision: &req.Revision} {
		if sp := slots[i].value(); sp.s != 0 && dst != nil {
			if *dst, err = d.int64Field(sp); err != nil {
				return nil, err
			}
		}
	}
	return req, nil
}

func (a *api) kvHistory(ctx context.Context, d *decoder) (response, error) {
	req, err := parseHistory(d)
	if err != nil {
		return nil, err
	}
	if err := a.permitted(ctx, cairn.PermRead, req.Key, nil); err != nil {
		return nil, err
	}
	resp, err := a.history.History(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*historyResponse)(resp), nil
}

type historyResponse cairn.HistoryResponse

// appendJSON appends {"header", "events", "more", "compact_revision"},
// zero values left out as in every v3 answer.
func (r *historyResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendEvents(b, &f, len(r.Events), func(i int) []byte { return encodeEvent(r.Events[i]) })
	b = appendBool(b, &f, "more", r.More)
	b = appendInt64(b, &f, "compact_revision", r.CompactRevision)
	return append(b, '}')
}
