package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
)

// POST /v3/maintenance/status: etcd's Maintenance.Status. The request
// (etcdserverpb.StatusRequest) has no fields, but its body is still decoded,
// so a malformed one gets etcd's error. The response is
// etcdserverpb.StatusResponse, whose fields etcd's .proto names in camelCase
// (dbSize, raftIndex, ...), so that is how they are printed.

func (a *api) maintenanceStatus(ctx context.Context, d *decoder) (response, error) {
	if _, _, err := d.topObject(); err != nil {
		return nil, err
	}
	st, err := a.b.Status(ctx)
	if err != nil {
		return nil, err
	}
	return (*statusResponse)(st), nil
}

type statusResponse cairn.Status

// appendJSON appends an etcdserverpb.StatusResponse object.
func (s *statusResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &s.Header)
	if s.Version != "" {
		b = appendName(b, &f, "version")
		b = appendString(b, s.Version)
	}
	b = appendInt64(b, &f, "dbSize", s.DBSize)
	b = appendUint64(b, &f, "leader", s.Leader)
	b = appendUint64(b, &f, "raftIndex", s.RaftIndex)
	b = appendUint64(b, &f, "raftTerm", s.RaftTerm)
	b = appendUint64(b, &f, "raftAppliedIndex", s.RaftAppliedIndex)
	if len(s.Errors) > 0 {
		b = appendName(b, &f, "errors")
		b = append(b, '[')
		for i, e := range s.Errors {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		b = append(b, ']')
	}
	b = appendInt64(b, &f, "dbSizeInUse", s.DBSizeInUse)
	b = appendBool(b, &f, "isLearner", s.IsLearner)
	return append(b, '}')
}
