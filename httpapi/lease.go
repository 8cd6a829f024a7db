package httpapi

import (
	"context"
	"encoding/base64"

	"github.com/cairnkv/cairn"
)

// The unary v3 lease endpoints, etcd's Lease service as its 3.4 gateway
// serves it (rpc.proto's HTTP bindings):
//
//	POST /v3/lease/grant                             LeaseGrantRequest      -> LeaseGrantResponse
//	POST /v3/lease/revoke, /v3/kv/lease/revoke       LeaseRevokeRequest     -> LeaseRevokeResponse
//	POST /v3/lease/timetolive, /v3/kv/lease/timetolive LeaseTimeToLiveRequest -> LeaseTimeToLiveResponse
//	POST /v3/lease/leases, /v3/kv/lease/leases       LeaseLeasesRequest     -> LeaseLeasesResponse
//
// The keepalive stream is in lease_keepalive.go. The .proto names these
// messages' fields TTL, ID, keys and grantedTTL, so those are the JSON
// names, in and out (no lowerCamelCase variant differs from them: "ttl" or
// "id" are unknown fields, ignored as etcd ignores them).

// Fields of LeaseRevokeRequest, LeaseKeepAliveRequest and
// LeaseTimeToLiveRequest, in .proto order.
const (
	leaseFieldID = iota
	leaseFieldKeys
	leaseFields
)

// Fields of LeaseGrantRequest, in .proto order.
const (
	grantFieldTTL = iota
	grantFieldID
	grantFields
)

// grantField looks up LeaseGrantRequest fields.
func grantField(name []byte) (int, bool) {
	switch string(name) {
	case "TTL":
		return grantFieldTTL, false
	case "ID":
		return grantFieldID, false
	}
	return -1, false
}

// idKeysField looks up the fields of LeaseRevokeRequest, LeaseKeepAliveRequest
// (ID) and LeaseTimeToLiveRequest (ID, keys).
func idKeysField(name []byte) (int, bool) {
	switch string(name) {
	case "ID":
		return leaseFieldID, false
	case "keys":
		return leaseFieldKeys, false
	}
	return -1, false
}

// parseLeaseGrant decodes a /v3/lease/grant body.
func parseLeaseGrant(d *decoder) (*cairn.LeaseGrantRequest, error) {
	req := new(cairn.LeaseGrantRequest)
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	var slots [grantFields]slot
	d.collect(start, slots[:], grantField)
	if sp := slots[grantFieldTTL].value(); sp.s != 0 {
		if req.TTL, err = d.int64Field(sp); err != nil {
			return nil, err
		}
	}
	if sp := slots[grantFieldID].value(); sp.s != 0 {
		if req.ID, err = d.int64Field(sp); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// leaseIDKeys decodes the object at start as a request with an ID and, if
// withKeys, a keys flag.
func (d *decoder) leaseIDKeys(start int, withKeys bool) (id int64, keys bool, err error) {
	var slots [leaseFields]slot
	d.collect(start, slots[:], idKeysField)
	if sp := slots[leaseFieldID].value(); sp.s != 0 {
		if id, err = d.int64Field(sp); err != nil {
			return 0, false, err
		}
	}
	if sp := slots[leaseFieldKeys].value(); withKeys && sp.s != 0 {
		if keys, err = d.boolField(sp); err != nil {
			return 0, false, err
		}
	}
	return id, keys, nil
}

// parseLeaseID decodes a body holding a request whose only field is ID.
func parseLeaseID(d *decoder) (int64, error) {
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return 0, err
	}
	id, _, err := d.leaseIDKeys(start, false)
	return id, err
}

// parseLeaseTimeToLive decodes a /v3/lease/timetolive body.
func parseLeaseTimeToLive(d *decoder) (*cairn.LeaseTimeToLiveRequest, error) {
	req := new(cairn.LeaseTimeToLiveRequest)
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	req.ID, req.Keys, err = d.leaseIDKeys(start, true)
	if err != nil {
		return nil, err
	}
	return req, nil
}

func (a *api) leaseGrant(ctx context.Context, d *decoder) (response, error) {
	req, err := parseLeaseGrant(d)
	if err != nil {
		return nil, err
	}
	resp, err := a.b.LeaseGrant(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*leaseGrantResponse)(resp), nil
}

func (a *api) leaseRevoke(ctx context.Context, d *decoder) (response, error) {
	id, err := parseLeaseID(d)
	if err != nil {
		return nil, err
	}
	if err := a.permittedLeaseKeys(ctx, id, cairn.PermWrite); err != nil {
		return nil, err
	}
	resp, err := a.b.LeaseRevoke(ctx, &cairn.LeaseRevokeRequest{ID: id})
	if err != nil {
		return nil, err
	}
	return (*leaseRevokeResponse)(resp), nil
}

func (a *api) leaseTimeToLive(ctx context.Context, d *decoder) (response, error) {
	req, err := parseLeaseTimeToLive(d)
	if err != nil {
		return nil, err
	}
	if err := a.permittedLeaseKeys(ctx, req.ID, cairn.PermRead); err != nil {
		return nil, err
	}
	resp, err := a.b.LeaseTimeToLive(ctx, req)
	if err != nil {
		return nil, err
	}
	return (*leaseTimeToLiveResponse)(resp), nil
}

func (a *api) leaseLeases(ctx context.Context, d *decoder) (response, error) {
	// LeaseLeasesRequest has no fields, but a malformed body is still an
	// error, as in etcd.
	if _, _, err := d.topObject(); err != nil {
		return nil, err
	}
	resp, err := a.b.LeaseLeases(ctx)
	if err != nil {
		return nil, err
	}
	return (*leaseLeasesResponse)(resp), nil
}

type leaseGrantResponse cairn.LeaseGrantResponse

// appendJSON appends an etcdserverpb.LeaseGrantResponse object.
func (r *leaseGrantResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendInt64(b, &f, "ID", r.ID)
	b = appendInt64(b, &f, "TTL", r.TTL)
	if r.Error != "" {
		b = appendName(b, &f, "error")
		b = appendString(b, r.Error)
	}
	return append(b, '}')
}

type leaseRevokeResponse cairn.LeaseRevokeResponse

// appendJSON appends an etcdserverpb.LeaseRevokeResponse object.
func (r *leaseRevokeResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	return append(b, '}')
}

type leaseTimeToLiveResponse cairn.LeaseTimeToLiveResponse

// appendJSON appends an etcdserverpb.LeaseTimeToLiveResponse object.
func (r *leaseTimeToLiveResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendInt64(b, &f, "ID", r.ID)
	b = appendInt64(b, &f, "TTL", r.TTL)
	b = appendInt64(b, &f, "grantedTTL", r.GrantedTTL)
	if len(r.Keys) > 0 {
		b = appendName(b, &f, "keys")
		b = append(b, '[')
		for i, k := range r.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = base64.StdEncoding.AppendEncode(b, k)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

type leaseLeasesResponse cairn.LeaseLeasesResponse

// appendJSON appends an etcdserverpb.LeaseLeasesResponse object.
func (r *leaseLeasesResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	if len(r.Leases) > 0 {
		b = appendName(b, &f, "leases")
		b = append(b, '[')
		for i := range r.Leases {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			lf := true
			b = appendInt64(b, &lf, "ID", r.Leases[i].ID)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// leaseKeepAliveResponse is one result of the keepalive stream.
type leaseKeepAliveResponse cairn.LeaseKeepAliveResponse

// appendJSON appends an etcdserverpb.LeaseKeepAliveResponse object.
func (r *leaseKeepAliveResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	b = appendInt64(b, &f, "ID", r.ID)
	b = appendInt64(b, &f, "TTL", r.TTL)
	return append(b, '}')
}
