package httpapi

import (
	"context"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/concurrency"
)

// etcd's v3lock service as its 3.4 gateway serves it (v3lock.proto's HTTP
// bindings), over package concurrency:
//
//	POST /v3/lock/lock    v3lockpb.LockRequest {name, lease}  -> LockResponse {header, key}
//	POST /v3/lock/unlock  v3lockpb.UnlockRequest {key}        -> UnlockResponse {header}
//
// Lock answers once the lock is held; it waits as long as the client
// waits. Served when the Backend is also a cairn.Watcher.

// Fields of LockRequest and UnlockRequest.
const (
	lockFieldName = iota
	lockFieldLease
	lockFieldKey
	lockFields
)

func lockField(name []byte) (int, bool) {
	switch string(name) {
	case "name":
		return lockFieldName, false
	case "lease":
		return lockFieldLease, false
	case "key":
		return lockFieldKey, false
	}
	return -1, false
}

// lockRequest is a decoded LockRequest or UnlockRequest.
type lockRequest struct {
	name, key []byte
	lease     int64
}

func (d *decoder) lockRequest(start int, req *lockRequest) error {
	var slots [lockFields]slot
	d.collect(start, slots[:], lockField)
	for f := range slots {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		var err error
		switch f {
		case lockFieldName:
			req.name, err = d.bytesField(sp)
		case lockFieldLease:
			req.lease, err = d.int64Field(sp)
		case lockFieldKey:
			req.key, err = d.bytesField(sp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lockBackend is the Backend with its watch service, for package
// concurrency.
type lockBackend struct {
	Backend
	cairn.Watcher
}

func (a *api) lockLock(ctx context.Context, d *decoder) (response, error) {
	req, err := parseTopObject(d, (*decoder).lockRequest)
	if err != nil {
		return nil, err
	}
	// The lock puts, ranges, watches and deletes under name/, as the
	// requester (etcd's v3lock calls the member with the caller's token).
	pfx := append(append([]byte(nil), req.name...), '/')
	if err := a.permitted(ctx, cairn.PermReadWrite, pfx, concurrency.PrefixEnd(pfx)); err != nil {
		return nil, err
	}
	resp, err := a.locks.Lock(ctx, req.name, req.lease)
	if err != nil {
		return nil, viaClient(err)
	}
	return (*lockResponse)(resp), nil
}

func (a *api) lockUnlock(ctx context.Context, d *decoder) (response, error) {
	req, err := parseTopObject(d, (*decoder).lockRequest)
	if err != nil {
		return nil, err
	}
	if err := a.permitted(ctx, cairn.PermWrite, req.key, nil); err != nil {
		return nil, err
	}
	hdr, err := a.locks.Unlock(ctx, req.key)
	if err != nil {
		return nil, viaClient(err)
	}
	return headerResponse{hdr}, nil
}

// viaClient answers err as etcd's v3lock and v3election do: they call
// the member through a clientv3 client, whose errors reach the gateway as
// gRPC Unknown (HTTP 500) with the error's message ("etcdserver: requested
// lease not found", code 2).
func viaClient(err error) error {
	_, msg, _ := v3Status(err)
	return &gatewayError{msg: msg}
}

type lockResponse concurrency.LockResponse

// appendJSON appends a v3lockpb.LockResponse object.
func (r *lockResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendBytes(b, &f, "key", r.Key)
	return append(b, '}')
}

// headerResponse is a response with only a header (UnlockResponse).
type headerResponse struct{ h *cairn.ResponseHeader }

func (r headerResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, r.h)
	return append(b, '}')
}
