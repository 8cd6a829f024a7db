package entry

import (
	"reflect"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/auth"
	"github.com/cairnkv/cairn/internal/golden"
	"github.com/cairnkv/cairn/membership"
	"github.com/cairnkv/cairn/v2store"
)

// The payloads of raft entries are on disk in every member's log and go
// to members running other versions, so their bytes are a format: these
// tests pin them. A change that fails one of them changes what existing
// logs hold; it needs a decoder for the old bytes, not a new golden.

// goldenEntry is one raft entry payload and the request it holds.
type goldenEntry struct {
	name string
	req  *Request
	// oldJSON marks the JSON form of a put or a v2 write, which marshal
	// no longer writes but logs from before the binary forms hold.
	oldJSON bool
	// want is the payload: JSON (indented here, compacted to compare) or
	// hex, one field a line, with // comments.
	want string
}

func goldenEntries() []goldenEntry {
	rangeReq := &cairn.RangeRequest{Key: []byte("r1"), RangeEnd: []byte("r9"), Limit: 10, Revision: 11,
		SortOrder: cairn.SortDescend, SortTarget: cairn.SortByValue, Serializable: true, KeysOnly: true, CountOnly: true,
		MinModRevision: 12, MaxModRevision: 13, MinCreateRevision: 14, MaxCreateRevision: 15}
	putReq := &cairn.PutRequest{Key: []byte("k1"), Value: []byte("v1"), Lease: -300, PrevKV: true,
		IgnoreValue: true, IgnoreLease: true, Dir: true, Action: cairn.ActionCompareAndSwap}
	deleteReq := &cairn.DeleteRangeRequest{Key: []byte("k1"), RangeEnd: []byte("k9"), PrevKV: true, Action: cairn.ActionExpire}
	cmp := cairn.Compare{Result: cairn.CompareNotEqual, Target: cairn.CompareLease, Key: []byte("c1"), RangeEnd: []byte("c9"),
		Version: 1, CreateRevision: 2, ModRevision: 3, Value: []byte("cv"), Lease: 5}
	v2Req := &v2store.Request{Method: v2store.MethodPut, Path: "/a/b", Value: "v", Dir: true, PrevExist: ptr(true),
		PrevValue: "old", PrevIndex: 300, Recursive: true, TTL: ptr[int64](60), Refresh: true}
	return []goldenEntry{
		{name: "put", req: &Request{ID: 300, Put: putReq}, want: `
			01     // kind: put
			ac02   // id 300 (uvarint)
			02 6b31 // key "k1"
			02 7631 // value "v1"
			d704   // lease -300 (varint)
			0f     // flags: prev_kv, ignore_value, ignore_lease, dir
			04     // action: compareAndSwap`},
		{name: "v2", req: &Request{ID: 301, V2: &V2Write{Prefix: "/v2", Request: v2Req}}, want: `
			02          // kind: v2
			ad02        // id 301
			03 2f7632   // prefix "/v2"
			01          // method: PUT
			04 2f612f62 // path "/a/b"
			01 76       // value "v"
			03 6f6c64   // prev_value "old"
			ac02        // prev_index 300
			3f          // flags: dir, recursive, refresh, prev_exist given, prev_exist, ttl given
			78          // ttl 60 (varint)`},
		{name: "v2 prevExist=false, no ttl", req: &Request{ID: 2, V2: &V2Write{Request: &v2store.Request{
			Method: v2store.MethodDelete, Path: "/d", PrevExist: ptr(false)}}}, want: `
			02 02 // kind, id
			00    // no prefix
			03    // method: DELETE
			02 2f64 // path "/d"
			00 00 // no value, no prev_value
			00    // prev_index 0
			08    // flags: prev_exist given (false); no ttl follows`},
		{name: "put, old JSON form", oldJSON: true, req: &Request{ID: 300, Put: putReq}, want: `{
			"id": 300,
			"put": {"Key": "azE=", "Value": "djE=", "Lease": -300, "PrevKV": true, "IgnoreValue": true,
				"IgnoreLease": true, "Dir": true, "Action": 4}}`},
		{name: "put without v2 fields, old JSON form", oldJSON: true, req: &Request{ID: 1, Put: &cairn.PutRequest{}}, want: `{
			"id": 1,
			"put": {"Key": null, "Value": null, "Lease": 0, "PrevKV": false, "IgnoreValue": false, "IgnoreLease": false}}`},
		{name: "v2, old JSON form", oldJSON: true, req: &Request{ID: 301, V2: &V2Write{Prefix: "/v2", Request: v2Req}}, want: `{
			"id": 301,
			"v2": {"prefix": "/v2", "method": 1, "path": "/a/b", "value": "v", "dir": true, "prev_exist": true,
				"prev_value": "old", "prev_index": 300, "recursive": true, "ttl": 60, "refresh": true}}`},
		{name: "v2 bare, old JSON form", oldJSON: true, req: &Request{ID: 2, V2: &V2Write{Request: &v2store.Request{}}}, want: `{
			"id": 2, "v2": {"method": 0, "path": ""}}`},
		{name: "delete_range", req: &Request{ID: 302, DeleteRange: deleteReq}, want: `{
			"id": 302,
			"delete_range": {"Key": "azE=", "RangeEnd": "azk=", "PrevKV": true, "Action": 7}}`},
		{name: "delete_range zero", req: &Request{ID: 1, DeleteRange: &cairn.DeleteRangeRequest{}}, want: `{
			"id": 1, "delete_range": {"Key": null, "RangeEnd": null, "PrevKV": false}}`},
		{name: "txn", req: &Request{ID: 303, Txn: &cairn.TxnRequest{
			Compare: []cairn.Compare{cmp},
			Success: []cairn.RequestOp{{Range: rangeReq}, {Put: putReq}, {DeleteRange: deleteReq},
				{Txn: &cairn.TxnRequest{Compare: []cairn.Compare{cmp}, Success: []cairn.RequestOp{{Put: putReq}},
					Failure: []cairn.RequestOp{{DeleteRange: deleteReq}}}}},
			Failure: []cairn.RequestOp{{Put: &cairn.PutRequest{Key: []byte("f")}}},
		}}, want: `{
			"id": 303,
			"txn": {
				"Compare": [{"Result": 3, "Target": 4, "Key": "YzE=", "RangeEnd": "Yzk=", "Version": 1,
					"CreateRevision": 2, "ModRevision": 3, "Value": "Y3Y=", "Lease": 5}],
				"Success": [
					{"Range": {"Key": "cjE=", "RangeEnd": "cjk=", "Limit": 10, "Revision": 11, "SortOrder": 2,
						"SortTarget": 4, "Serializable": true, "KeysOnly": true, "CountOnly": true,
						"MinModRevision": 12, "MaxModRevision": 13, "MinCreateRevision": 14, "MaxCreateRevision": 15},
					 "Put": null, "DeleteRange": null, "Txn": null},
					{"Range": null,
					 "Put": {"Key": "azE=", "Value": "djE=", "Lease": -300, "PrevKV": true, "IgnoreValue": true,
						"IgnoreLease": true, "Dir": true, "Action": 4},
					 "DeleteRange": null, "Txn": null},
					{"Range": null, "Put": null,
					 "DeleteRange": {"Key": "azE=", "RangeEnd": "azk=", "PrevKV": true, "Action": 7},
					 "Txn": null},
					{"Range": null, "Put": null, "DeleteRange": null,
					 "Txn": {
						"Compare": [{"Result": 3, "Target": 4, "Key": "YzE=", "RangeEnd": "Yzk=", "Version": 1,
							"CreateRevision": 2, "ModRevision": 3, "Value": "Y3Y=", "Lease": 5}],
						"Success": [{"Range": null,
							"Put": {"Key": "azE=", "Value": "djE=", "Lease": -300, "PrevKV": true, "IgnoreValue": true,
								"IgnoreLease": true, "Dir": true, "Action": 4},
							"DeleteRange": null, "Txn": null}],
						"Failure": [{"Range": null, "Put": null,
							"DeleteRange": {"Key": "azE=", "RangeEnd": "azk=", "PrevKV": true, "Action": 7},
							"Txn": null}]}}],
				"Failure": [{"Range": null,
					"Put": {"Key": "Zg==", "Value": null, "Lease": 0, "PrevKV": false, "IgnoreValue": false, "IgnoreLease": false},
					"DeleteRange": null, "Txn": null}]}}`},
		{name: "txn zero", req: &Request{ID: 1, Txn: &cairn.TxnRequest{Compare: []cairn.Compare{{}}}}, want: `{
			"id": 1,
			"txn": {"Compare": [{"Result": 0, "Target": 0, "Key": null, "RangeEnd": null, "Version": 0,
				"CreateRevision": 0, "ModRevision": 0, "Value": null, "Lease": 0}],
				"Success": null, "Failure": null}}`},
		{name: "compaction", req: &Request{ID: 304, Compaction: &cairn.CompactionRequest{Revision: 99, Physical: true}}, want: `{
			"id": 304, "compaction": {"Revision": 99, "Physical": true}}`},
		{name: "compaction zero", req: &Request{ID: 1, Compaction: &cairn.CompactionRequest{}}, want: `{
			"id": 1, "compaction": {"Revision": 0, "Physical": false}}`},
		{name: "member_attributes", req: &Request{ID: 305, Attrs: &membership.Attributes{ID: 0x1234, Name: "m1",
			ClientURLs: []string{"http://10.0.0.1:2379", "http://10.0.0.1:4001"}}}, want: `{
			"id": 305,
			"member_attributes": {"id": 4660, "name": "m1", "client_urls": ["http://10.0.0.1:2379", "http://10.0.0.1:4001"]}}`},
		{name: "member_attributes zero", req: &Request{ID: 1, Attrs: &membership.Attributes{}}, want: `{
			"id": 1, "member_attributes": {"id": 0, "name": "", "client_urls": null}}`},
		{name: "lease_grant", req: &Request{ID: 306, LeaseGrant: &LeaseGrant{ID: 7, TTL: 60, Auto: true}}, want: `{
			"id": 306, "lease_grant": {"id": 7, "ttl": 60, "auto": true}}`},
		{name: "lease_grant zero", req: &Request{ID: 1, LeaseGrant: &LeaseGrant{}}, want: `{
			"id": 1, "lease_grant": {"id": 0, "ttl": 0}}`},
		{name: "lease_revoke", req: &Request{ID: 307, LeaseRevoke: &cairn.LeaseRevokeRequest{ID: 7}}, want: `{
			"id": 307, "lease_revoke": {"ID": 7}}`},
		{name: "lease_revoke zero", req: &Request{ID: 1, LeaseRevoke: &cairn.LeaseRevokeRequest{}}, want: `{
			"id": 1, "lease_revoke": {"ID": 0}}`},
		{name: "lease_expire", req: &Request{ID: 308, LeaseExpire: &LeaseExpire{IDs: []int64{7, -8}}}, want: `{
			"id": 308, "lease_expire": {"ids": [7, -8]}}`},
		{name: "lease_expire zero", req: &Request{ID: 1, LeaseExpire: &LeaseExpire{}}, want: `{
			"id": 1, "lease_expire": {"ids": null}}`},
		{name: "alarm", req: &Request{ID: 309, Alarm: &membership.AlarmRequest{Action: 1, MemberID: 0x1234, Type: 1}}, want: `{
			"id": 309, "alarm": {"action": 1, "member_id": 4660, "type": 1}}`},
		{name: "alarm zero", req: &Request{ID: 1, Alarm: &membership.AlarmRequest{}}, want: `{
			"id": 1, "alarm": {"action": 0, "member_id": 0, "type": 0}}`},
		{name: "auth user_add", req: &Request{ID: 310, Auth: &auth.Request{Op: auth.OpUserAdd, Name: "alice",
			Hash: []byte("$2a$10$h"), NoPassword: true}}, want: `{
			"id": 310, "auth": {"op": "user_add", "name": "alice", "hash": "JDJhJDEwJGg=", "no_password": true}}`},
		{name: "auth role_grant_permission", req: &Request{ID: 311, Auth: &auth.Request{Op: auth.OpRoleGrantPerm, Role: "r1",
			Perm: &cairn.Permission{PermType: cairn.PermReadWrite, Key: []byte("a"), RangeEnd: []byte("b")}}}, want: `{
			"id": 311, "auth": {"op": "role_grant_permission", "role": "r1",
				"perm": {"perm_type": 2, "key": "YQ==", "range_end": "Yg=="}}}`},
		{name: "auth authenticate", req: &Request{ID: 312, Auth: &auth.Request{Op: auth.OpAuthenticate, Name: "alice",
			Token: "abcdefghijklmnop"}}, want: `{
			"id": 312, "auth": {"op": "authenticate", "name": "alice", "token": "abcdefghijklmnop"}}`},
		{name: "auth zero", req: &Request{ID: 1, Auth: &auth.Request{}}, want: `{
			"id": 1, "auth": {"op": ""}}`},
	}
}

// Every kind of entry encodes to its golden bytes, and the golden bytes
// decode to the request.
func TestEntryGolden(t *testing.T) {
	kinds := map[string]bool{}
	for _, c := range goldenEntries() {
		t.Run(c.name, func(t *testing.T) {
			var got []byte
			var err error
			if c.oldJSON {
				got, err = json.Marshal(c.req)
			} else {
				got, err = c.req.Marshal()
			}
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "encoding", got, c.want)
			dec, err := Unmarshal(golden.Bytes(t, c.want))
			if err != nil {
				t.Fatalf("decoding the golden bytes: %v", err)
			}
			if !reflect.DeepEqual(dec, c.req) {
				t.Errorf("the golden bytes decode to\n%s\nwant\n%s", dump(dec), dump(c.req))
			}
		})
		kinds[entryKind(c.req)] = true
	}
	// A new kind of request needs its golden case.
	rt := reflect.TypeFor[Request]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "id" && !kinds[name] {
			t.Errorf("no golden entry for request field %s (%q)", rt.Field(i).Name, name)
		}
	}
}

// entryKind names the operation r carries by its JSON field.
func entryKind(r *Request) string {
	v := reflect.ValueOf(r).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return ""
}

// dump shows a request with its pointers followed, for failure messages.
func dump(r *Request) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// The member a configuration change carries in its Context: written by
// bootstrap (id, name, peer URLs), member add (id, peer URLs, learner),
// member update and promote (the whole member, client URLs included).
func TestConfChangeContextGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *membership.Member
		want string
	}{
		{"whole member", &membership.Member{ID: 0x1234, Name: "m1", PeerURLs: []string{"http://10.0.0.1:2380", "http://10.0.0.2:2380"},
			ClientURLs: []string{"http://10.0.0.1:2379"}, IsLearner: true}, `{
			"id": 4660, "name": "m1", "peer_urls": ["http://10.0.0.1:2380", "http://10.0.0.2:2380"],
			"client_urls": ["http://10.0.0.1:2379"], "is_learner": true}`},
		{"member add", &membership.Member{ID: 0x1234, PeerURLs: []string{"http://10.0.0.1:2380"}}, `{
			"id": 4660, "peer_urls": ["http://10.0.0.1:2380"]}`},
		{"zero", &membership.Member{}, `{"id": 0, "peer_urls": null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.m)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "context", got, c.want)
			dec, err := membership.DecodeMemberContext(raftpb.ConfChange{NodeID: c.m.ID, Context: golden.Bytes(t, c.want)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dec, c.m) {
				t.Errorf("the golden context decodes to %+v, want %+v", dec, c.m)
			}
		})
	}
}
