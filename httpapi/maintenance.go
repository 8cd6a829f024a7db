package httpapi

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/internal/snapstream"
)

// The alarm enums are closed: a number without a name is refused as an
// unknown name is (400, code 3, "unknown value 7 for enum
// etcdserverpb.AlarmType"). etcd 3.4 takes {"alarm": 7}, keeps it, lists
// it as 7 and reports the member unhealthy for it; {"action": 7} crashes
// it (a nil response).
var alarmTypeEnum = &enumType{protoName: "etcdserverpb.AlarmType", names: cairn.AlarmTypeNames[:], closed: true}
var alarmActionEnum = &enumType{protoName: "etcdserverpb.AlarmRequest_AlarmAction", names: []string{"GET", "ACTIVATE", "DEACTIVATE"}, closed: true}

// POST /v3/maintenance/alarm: etcd's Maintenance.Alarm. Request
// {"action", "memberID", "alarm"}; response {"alarms": [{"memberID",
// "alarm"}]} with no header, as etcd 3.4 answers.
func (a *api) maintenanceAlarm(ctx context.Context, d *decoder) (response, error) {
	start, ok, err := d.topObject()
	if err != nil {
		return nil, err
	}
	var action int32
	var am cairn.AlarmMember
	if ok {
		var slots [3]slot
		d.collect(start, slots[:], func(name []byte) (int, bool) {
			switch string(name) {
			case "action":
				return 0, false
			case "memberID":
				return 1, false
			case "alarm":
				return 2, false
			}
			return -1, false
		})
		if sp := slots[0].value(); sp.s != 0 {
			if action, err = d.enumField(sp, alarmActionEnum); err != nil {
				return nil, err
			}
		}
		if sp := slots[1].value(); sp.s != 0 {
			if am.MemberID, err = d.uint64Field(sp); err != nil {
				return nil, err
			}
		}
		if sp := slots[2].value(); sp.s != 0 {
			if am.Alarm, err = d.enumField(sp, alarmTypeEnum); err != nil {
				return nil, err
			}
		}
	}
	alarms, err := a.ops.Alarm(ctx, action, am)
	if err != nil {
		return nil, err
	}
	return alarmResponse(alarms), nil
}

type alarmResponse []cairn.AlarmMember

func (r alarmResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if len(r) > 0 {
		b = append(b, `"alarms":[`...)
		for i, am := range r {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			f := true
			b = appendUint64(b, &f, "memberID", am.MemberID)
			if am.Alarm > 0 && int(am.Alarm) < len(alarmTypeEnum.names) {
				b = appendName(b, &f, "alarm")
				b = appendString(b, alarmTypeEnum.names[am.Alarm])
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// POST /v3/maintenance/defragment: {} once done (etcd 3.4 sends no header).
func (a *api) maintenanceDefragment(ctx context.Context, d *decoder) (response, error) {
	if _, _, err := d.topObject(); err != nil {
		return nil, err
	}
	if err := a.ops.Defragment(ctx); err != nil {
		return nil, err
	}
	return rawResponse("{}"), nil
}

type rawResponse string

func (r rawResponse) appendJSON(b []byte) []byte { return append(b, r...) }

// POST /v3/maintenance/hash: {"header", "hash"} (hash a uint32: a number).
func (a *api) maintenanceHash(ctx context.Context, d *decoder) (response, error) {
	if _, _, err := d.topObject(); err != nil {
		return nil, err
	}
	h, hdr, err := a.ops.Hash(ctx)
	if err != nil {
		return nil, err
	}
	return &hashResponse{header: *hdr, hash: h}, nil
}

type hashResponse struct {
	header cairn.ResponseHeader
	hash   uint32
}

func (r *hashResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.header)
	if r.hash != 0 {
		b = append(b, `,"hash":`...)
		b = strconv.AppendUint(b, uint64(r.hash), 10)
	}
	return append(b, '}')
}

// POST /v3/maintenance/hashkv: {"revision"} -> {"header", "hash",
// "compact_revision"}. etcd 3.4's gateway has no route for HashKV (its
// .proto gives it Hash's path); cairn serves it where etcd 3.5 does.
func (a *api) maintenanceHashKV(ctx context.Context, d *decoder) (response, error) {
	start, ok, err := d.topObject()
	if err != nil {
		return nil, err
	}
	var rev int64
	if ok {
		var slots [1]slot
		d.collect(start, slots[:], func(name []byte) (int, bool) {
			if string(name) == "revision" {
				return 0, false
			}
			return -1, false
		})
		if sp := slots[0].value(); sp.s != 0 {
			if rev, err = d.int64Field(sp); err != nil {
				return nil, err
			}
		}
	}
	resp, err := a.ops.HashKV(ctx, rev)
	if err != nil {
		return nil, err
	}
	return (*hashKVResponse)(resp), nil
}

type hashKVResponse cairn.HashKVResponse

func (r *hashKVResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	if r.Hash != 0 {
		b = append(b, `,"hash":`...)
		b = strconv.AppendUint(b, uint64(r.Hash), 10)
	}
	b = appendInt64(b, &f, "compact_revision", r.CompactRevision)
	return append(b, '}')
}

// POST /v3/maintenance/snapshot: the member's store file as a stream of
// {"result":{"remaining_bytes","blob"}} lines, 32 KiB of file each, then
// one line whose blob is the SHA-256 of the file, as etcd 3.4 streams it
// (etcdctl snapshot save writes the blobs one after another: the file with
// its hash appended). A failure after the first line ends the stream with
// an {"error": ...} line, as the gateway does.
func (a *api) serveMaintenanceSnapshot(w http.ResponseWriter, r *http.Request) {
	x := getExchange()
	body, err := a.readBody(w, r, &x.in)
	if err == nil {
		x.d = decoder{b: body}
		_, _, err = x.d.topObject()
	}
	putExchange(x)
	if err != nil {
		a.writeV3Error(w, r, err)
		return
	}
	sn, err := a.ops.Snapshot(r.Context())
	if err != nil {
		a.writeV3Error(w, r, err)
		return
	}
	defer sn.Close()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	sw := snapstream.New(sn.Size(), (&snapshotStream{w: w, rc: http.NewResponseController(w)}).line)
	if _, err := sn.WriteTo(sw); err == nil {
		if err = sw.Close(); err != nil {
			a.log.Warn("snapshot stream failed", "err", err)
		}
	} else {
		code, msg, _ := v3Status(err)
		b := append([]byte(`{"error":`), appendV3Error(nil, code, msg)...)
		w.Write(append(b, '}', '\n'))
	}
}

// snapshotStream writes the lines of the stream.
type snapshotStream struct {
	w      io.Writer
	rc     *http.ResponseController
	line64 []byte
}

func (s *snapshotStream) line(remaining int64, blob []byte) error {
	b := append(s.line64[:0], `{"result":{`...)
	if remaining > 0 {
		b = append(b, `"remaining_bytes":"`...)
		b = strconv.AppendInt(b, remaining, 10)
		b = append(b, `",`...)
	}
	b = append(b, `"blob":"`...)
	b = base64.StdEncoding.AppendEncode(b, blob)
	b = append(b, "\"}}\n"...)
	s.line64 = b
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}
