package httpapi

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn"
)

// The v3 cluster requests' fields, in .proto order. etcd's proto names are
// camelCase already (peerURLs, isLearner, ID), so one name each.
const (
	memberFieldID = iota
	memberFieldPeerURLs
	memberFieldIsLearner
	memberFieldLinearizable
	memberReqFields
)

func memberRequestField(name []byte) (int, bool) {
	switch string(name) {
	case "ID":
		return memberFieldID, false
	case "peerURLs":
		return memberFieldPeerURLs, false
	case "isLearner":
		return memberFieldIsLearner, false
	case "linearizable":
		return memberFieldLinearizable, false
	}
	return -1, false
}

// memberRequest is any v3 cluster request, decoded.
type memberRequest struct {
	id           uint64
	peerURLs     []string
	isLearner    bool
	linearizable bool
}

// parseMemberRequest decodes the body of a v3 cluster request. fields says
// which fields the request type has, in .proto order (others are ignored,
// as unknown names).
func parseMemberRequest(d *decoder, fields ...int) (*memberRequest, error) {
	req := new(memberRequest)
	start, ok, err := d.topObject()
	if err != nil || !ok {
		return req, err
	}
	var slots [memberReqFields]slot
	d.collect(start, slots[:], memberRequestField)
	for _, f := range fields {
		sp := slots[f].value()
		if sp.s == 0 {
			continue
		}
		switch f {
		case memberFieldID:
			req.id, err = d.uint64Field(sp)
		case memberFieldPeerURLs:
			req.peerURLs, err = d.stringsField(sp)
		case memberFieldIsLearner:
			req.isLearner, err = d.boolField(sp)
		case memberFieldLinearizable:
			req.linearizable, err = d.boolField(sp)
		}
		if err != nil {
			return nil, err
		}
	}
	return req, nil
}

// uint64Field decodes a uint64 field (a number, or a string holding one),
// as int64Field does for int64.
func (d *decoder) uint64Field(sp span) (uint64, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; {
	case c == '"':
		inner := raw[1 : len(raw)-1]
		if v, err := strconv.ParseUint(string(inner), 10, 64); err == nil && (len(inner) == 1 || inner[0] != '0') {
			return v, nil
		}
		var v uint64
		if err := stdjson.Unmarshal(inner, &v); err != nil {
			return 0, &parseError{msg: err.Error()}
		}
		return v, nil
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := strconv.ParseUint(string(raw), 10, 64)
		if err != nil {
			return 0, typeError("number "+string(raw), "uint64")
		}
		return v, nil
	case c == 'n':
		return 0, nil
	default:
		return 0, typeError(kindOf(c), "uint64")
	}
}

// stringsField decodes a repeated string field.
func (d *decoder) stringsField(sp span) ([]string, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; c {
	case '[':
		var out []string
		if err := stdjson.Unmarshal(raw, &out); err != nil {
			var te *stdjson.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, typeError(te.Value, "string")
			}
			return nil, &parseError{msg: err.Error()}
		}
		return out, nil
	case 'n':
		return nil, nil
	default:
		return nil, typeError(kindOf(c), typeRepeated)
	}
}

// v3Cluster adapts the cluster endpoints to the v3 wrapper.
func (a *api) memberList(ctx context.Context, d *decoder) (response, error) {
	req, err := parseMemberRequest(d, memberFieldLinearizable)
	if err != nil {
		return nil, err
	}
	return wrapMembers(a.cluster.MemberList(ctx, req.linearizable))
}

func (a *api) memberAdd(ctx context.Context, d *decoder) (response, error) {
	req, err := parseMemberRequest(d, memberFieldPeerURLs, memberFieldIsLearner)
	if err != nil {
		return nil, err
	}
	if err := cairn.ValidatePeerURLs(req.peerURLs); err != nil {
		return nil, err
	}
	return wrapMembers(a.cluster.MemberAdd(ctx, req.peerURLs, req.isLearner))
}

func (a *api) memberRemove(ctx context.Context, d *decoder) (response, error) {
	req, err := parseMemberRequest(d, memberFieldID)
	if err != nil {
		return nil, err
	}
	return wrapMembers(a.cluster.MemberRemove(ctx, req.id))
}

func (a *api) memberUpdate(ctx context.Context, d *decoder) (response, error) {
	req, err := parseMemberRequest(d, memberFieldID, memberFieldPeerURLs)
	if err != nil {
		return nil, err
	}
	// etcd 3.4 takes an update without peer URLs and crashes applying it;
	// it is refused here as an add without them is.
	if err := cairn.ValidatePeerURLs(req.peerURLs); err != nil {
		return nil, err
	}
	return wrapMembers(a.cluster.MemberUpdate(ctx, req.id, req.peerURLs))
}

func (a *api) memberPromote(ctx context.Context, d *decoder) (response, error) {
	req, err := parseMemberRequest(d, memberFieldID)
	if err != nil {
		return nil, err
	}
	return wrapMembers(a.cluster.MemberPromote(ctx, req.id))
}

func wrapMembers(r *cairn.MemberResponse, err error) (response, error) {
	if err != nil {
		return nil, err
	}
	return (*memberResponse)(r), nil
}

type memberResponse cairn.MemberResponse

// appendJSON appends an etcdserverpb.Member{Add,Remove,Update,List,
// Promote}Response: header, member (add only), members.
func (r *memberResponse) appendJSON(b []byte) []byte {
	b = append(b, '{')
	f := true
	b = appendHeader(b, &f, &r.Header)
	if r.Member != nil {
		b = appendName(b, &f, "member")
		b = appendMember(b, r.Member)
	}
	if len(r.Members) > 0 {
		b = appendName(b, &f, "members")
		b = append(b, '[')
		for i, m := range r.Members {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMember(b, m)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendMember appends one etcdserverpb.Member, zero fields left out.
func appendMember(b []byte, m *cairn.Member) []byte {
	b = append(b, '{')
	f := true
	b = appendUint64(b, &f, "ID", m.ID)
	if m.Name != "" {
		b = appendName(b, &f, "name")
		b = appendString(b, m.Name)
	}
	b = appendStrings(b, &f, "peerURLs", m.PeerURLs)
	b = appendStrings(b, &f, "clientURLs", m.ClientURLs)
	b = appendBool(b, &f, "isLearner", m.IsLearner)
	return append(b, '}')
}

// appendStrings appends a repeated string field, left out when empty.
func appendStrings(b []byte, first *bool, name string, v []string) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendName(b, first, name)
	b = append(b, '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// hexID formats a member id as etcd's v2 API does.
func hexID(id uint64) string { return strconv.FormatUint(id, 16) }

// parseHexID parses a v2 member id; false for anything but lower-case or
// upper-case hex that fits 64 bits.
func parseHexID(s string) (uint64, bool) {
	if s == "" || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		return 0, false
	}
	id, err := strconv.ParseUint(s, 16, 64)
	return id, err == nil
}
