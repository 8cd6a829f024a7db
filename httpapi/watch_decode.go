package httpapi

import (
	stdjson "encoding/json"
	"errors"
	"io"

	"github.com/cairnkv/cairn"
)

// The requests of a watch stream: a body (or the websocket's messages, one
// after another) holding a sequence of etcdserverpb.WatchRequest JSON
// values, decoded one at a time as they arrive, as etcd's gateway does with
// its json.Decoder.

// gatewayError is a request etcd's gateway fails itself, before etcd's
// server sees it: a watch stream whose first request does not decode. It
// answers gRPC Unknown (HTTP 500) with msg, as the gateway does.
type gatewayError struct{ msg string }

func (e *gatewayError) Error() string { return e.msg }

// watchRequest is one decoded WatchRequest: at most one of its fields is
// set (a request with none, such as {} or {"create_request": null}, does
// nothing).
type watchRequest struct {
	create   *cairn.WatchCreateRequest
	cancel   bool
	cancelID int64
	progress bool
}

var filterType = enumType{
	protoName: "etcdserverpb.WatchCreateRequest_FilterType",
	names:     []string{"NOPUT", "NODELETE"},
}

// WatchRequest fields (the request_union oneof) in .proto order.
const (
	wrCreate = iota
	wrCancel
	wrProgress
	wrFields
)

func watchRequestField(name []byte) (int, bool) {
	switch string(name) {
	case "create_request":
		return wrCreate, false
	case "createRequest":
		return wrCreate, true
	case "cancel_request":
		return wrCancel, false
	case "cancelRequest":
		return wrCancel, true
	case "progress_request":
		return wrProgress, false
	case "progressRequest":
		return wrProgress, true
	}
	return -1, false
}

// WatchCreateRequest fields in .proto order.
const (
	wcKey = iota
	wcRangeEnd
	wcStartRevision
	wcProgressNotify
	wcFilters
	wcPrevKV
	wcWatchID
	wcFragment
	wcFields
)

func watchCreateField(name []byte) (int, bool) {
	switch string(name) {
	case "key":
		return wcKey, false
	case "range_end":
		return wcRangeEnd, false
	case "rangeEnd":
		return wcRangeEnd, true
	case "start_revision":
		return wcStartRevision, false
	case "startRevision":
		return wcStartRevision, true
	case "progress_notify":
		return wcProgressNotify, false
	case "progressNotify":
		return wcProgressNotify, true
	case "filters":
		return wcFilters, false
	case "prev_kv":
		return wcPrevKV, false
	case "prevKv":
		return wcPrevKV, true
	case "watch_id":
		return wcWatchID, false
	case "watchId":
		return wcWatchID, true
	case "fragment":
		return wcFragment, false
	}
	return -1, false
}

func watchCancelField(name []byte) (int, bool) {
	switch string(name) {
	case "watch_id":
		return 0, false
	case "watchId":
		return 0, true
	}
	return -1, false
}

// parseWatchRequest decodes one WatchRequest value (d.b holds exactly it).
// When a client sends several members of the oneof, etcd keeps a random
// one; cairn decodes them all and keeps the first in .proto order (create,
// cancel, progress).
func parseWatchRequest(d *decoder) (watchRequest, error) {
	var req watchRequest
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	var slots [wrFields]slot
	d.collect(start, slots[:], watchRequestField)
	set := false
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		isObj, err := d.message(sp)
		if err != nil {
			return req, err
		}
		if !isObj {
			continue
		}
		switch f {
		case wrCreate:
			c := new(cairn.WatchCreateRequest)
			if err := d.watchCreateRequest(sp.s, c); err != nil {
				return req, err
			}
			if !set {
				req.create = c
			}
		case wrCancel:
			var cs [1]slot
			d.collect(sp.s, cs[:], watchCancelField)
			var id int64
			if v := cs[0].value(); v.s != 0 {
				if id, err = d.int64Field(v); err != nil {
					return req, err
				}
			}
			if !set {
				req.cancel, req.cancelID = true, id
			}
		case wrProgress:
			if !set {
				req.progress = true
			}
		}
		set = true
	}
	return req, nil
}

// watchCreateRequest decodes the WatchCreateRequest object at b[start].
func (d *decoder) watchCreateRequest(start int, req *cairn.WatchCreateRequest) error {
	var slots [wcFields]slot
	d.collect(start, slots[:], watchCreateField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		switch f {
		case wcKey:
			req.Key, err = d.bytesField(sp)
		case wcRangeEnd:
			req.RangeEnd, err = d.bytesField(sp)
		case wcStartRevision:
			req.StartRevision, err = d.int64Field(sp)
		case wcProgressNotify:
			req.ProgressNotify, err = d.boolField(sp)
		case wcFilters:
			req.Filters, err = d.filters(sp)
		case wcPrevKV:
			req.PrevKV, err = d.boolField(sp)
		case wcWatchID:
			req.WatchID, err = d.int64Field(sp)
		case wcFragment:
			req.Fragment, err = d.boolField(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// filters decodes the repeated enum field filters. Its odd answers are
// jsonpb's: a lone string that names a value is refused as a bad target,
// any other lone string as an unknown value, and a null element is NOPUT.
func (d *decoder) filters(sp span) ([]cairn.WatchFilter, error) {
	switch c := d.b[sp.s]; c {
	case '"':
		if _, err := d.enumField(sp, &filterType); err != nil {
			return nil, err
		}
		return nil, &parseError{msg: `invalid target "slice" for enum ` + filterType.protoName}
	case '[':
	case 'n':
		return nil, nil
	default:
		return nil, typeError(kindOf(c), typeRepeated)
	}
	var out []cairn.WatchFilter
	els := elementsOf(d.b, sp.s)
	for {
		vs, ve, more := els.next()
		if !more {
			return out, nil
		}
		v, err := d.enumField(span{vs, ve}, &filterType)
		if err != nil {
			return nil, err
		}
		out = append(out, cairn.WatchFilter(v))
	}
}

// watchRequestReader splits a stream of bytes into WatchRequest values.
type watchRequestReader struct {
	in  *countingReader
	dec *stdjson.Decoder
	raw stdjson.RawMessage
	d   decoder
}

// newWatchRequestReader reads requests from r; one request may not hold
// more than limit bytes (cairn.ErrRequestTooLarge).
func newWatchRequestReader(r io.Reader, limit int64) *watchRequestReader {
	in := &countingReader{r: r, limit: limit}
	rd := &watchRequestReader{in: in, dec: stdjson.NewDecoder(in)}
	in.dec = rd.dec
	return rd
}

// next returns the next request: io.EOF at the end of the stream; a
// *parseError with encoding/json's or jsonpb's message for one that does
// not decode; cairn.ErrRequestTooLarge; or the error of the underlying
// reader.
func (rd *watchRequestReader) next() (watchRequest, error) {
	rd.raw = rd.raw[:0]
	if err := rd.dec.Decode(&rd.raw); err != nil {
		var se *stdjson.SyntaxError
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, cairn.ErrRequestTooLarge):
			return watchRequest{}, err
		case errors.Is(err, io.ErrUnexpectedEOF) && rd.in.err == nil, errors.As(err, &se):
			return watchRequest{}, &parseError{msg: err.Error()}
		case rd.in.err != nil:
			return watchRequest{}, rd.in.err
		}
		return watchRequest{}, &parseError{msg: err.Error()}
	}
	rd.d = decoder{b: rd.raw} // decoded fields never alias it
	return parseWatchRequest(&rd.d)
}

// countingReader fails a read once the decoder holds more than limit bytes
// it has not consumed (one request too large), and remembers the error of
// the underlying reader.
type countingReader struct {
	r     io.Reader
	dec   *stdjson.Decoder
	read  int64
	limit int64
	err   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.read-c.dec.InputOffset() > c.limit {
		return 0, cairn.ErrRequestTooLarge
	}
	n, err := c.r.Read(p)
	c.read += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}
