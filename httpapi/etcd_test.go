package httpapi

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// startEtcd runs the real etcd 3.4 on loopback for a side-by-side
// comparison, or skips the test when it is not installed (or with -short).
func startEtcd(t *testing.T, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no real etcd")
	}
	return testbin.StartEtcd(t, flags...)
}

var (
	memberFields = regexp.MustCompile(`"(cluster_id|member_id|raft_term)":"[0-9]+"`)
	remainingTTL = regexp.MustCompile(`"TTL":"[0-9]+","grantedTTL"`)
)

// normalize hides what differs between any two clusters: their ids and term,
// and the remaining time of a lease (it runs down as the session goes).
func normalize(body string) string {
	body = memberFields.ReplaceAllString(body, `"$1":"_"`)
	return remainingTTL.ReplaceAllString(body, `"TTL":"_","grantedTTL"`)
}

// TestCompareWithEtcd sends the same requests to a real etcd 3.4 and to
// cairn over a store, both new, and asserts the same status and body from
// both (cluster ids aside). Requests are spec-valid or refused by both, so
// each goes through the contract checks too. (external_test.go runs the same
// against package server.)
func TestCompareWithEtcd(t *testing.T) {
	compareWithEtcd(t, newTestServer(t))
}

// compareWithEtcd runs etcdScript against a new etcd and ts, a new member.
func compareWithEtcd(t *testing.T, ts *testServer) {
	etcd := startEtcd(t)
	for _, s := range etcdScript {
		want := etcdPost(t, etcd+s.path, s.body)
		got := ts.post(s.path, s.body)
		if got.status != want.status || normalize(got.body) != normalize(want.body) {
			t.Errorf("POST %s %s\ncairn %d %s\netcd  %d %s", s.path, s.body, got.status, got.body, want.status, want.body)
		}
	}
	// GET /version and /health: same status and type, cairn's values.
	for _, path := range []string{"/version", "/health"} {
		want := etcdGet(t, etcd+path)
		got := ts.call("GET", path, "", "")
		if got.status != want.status || got.header.Get("Content-Type") != want.header.Get("Content-Type") {
			t.Errorf("GET %s: cairn %d %q, etcd %d %q", path, got.status, got.header.Get("Content-Type"), want.status, want.header.Get("Content-Type"))
		}
	}
}

// etcdScript is a session of requests whose answers must be etcd's.
var etcdScript = []struct{ path, body string }{
	{"/v3/kv/range", `{"key":"Zm9v"}`},
	{"/v3/kv/put", `{"key":"Zm9v","value":"YmFy"}`},
	{"/v3/kv/put", `{"key":"Zm9v","value":"YmFy","prev_kv":true}`},
	{"/v3/kv/put", `{"key":"YQ==","value":"MQ==","prevKv":true}`},
	{"/v3/kv/put", `{"key":"Yg==","value":""}`},
	{"/v3/kv/put", `{"key":"Yw==","value":"Mw=="}`},
	{"/v3/kv/put", `{"key":"Yw==","ignore_value":true}`},
	{"/v3/kv/range", `{"key":"Zm9v"}`},
	{"/v3/kv/range", `{"key":"Zm9v","count_only":true}`},
	{"/v3/kv/range", `{"key":"AA==","range_end":"AA==","keys_only":true}`},
	{"/v3/kv/range", `{"key":"AA==","range_end":"AA==","limit":2}`},
	{"/v3/kv/range", `{"key":"AA==","range_end":"AA==","limit":"-1","sort_order":"DESCEND","sort_target":"MOD"}`},
	{"/v3/kv/range", `{"key":"YQ==","rangeEnd":"ZA==","sortOrder":2,"sortTarget":4}`},
	{"/v3/kv/range", `{"key":"YQ==","range_end":"ZA==","min_mod_revision":4,"max_mod_revision":"5"}`},
	{"/v3/kv/range", `{"key":"YQ==","range_end":"ZA==","min_create_revision":"4","maxCreateRevision":6,"keysOnly":true}`},
	{"/v3/kv/range", `{"key":"YQ==","range_end":"ZA==","revision":"4"}`},
	{"/v3/kv/range", `{"key":"YQ==","range_end":"ZA==","serializable":true}`},
	{"/v3/kv/range", `{"key":"Zm9v","range_end":"ZQ=="}`},
	// camelCase wins over the proto name; the last of duplicate names wins.
	{"/v3/kv/range", `{"key":"YQ==","rangeEnd":"AA==","range_end":"Yg==","count_only":true}`},
	{"/v3/kv/range", `{"key":"eHl6","key":"YQ==","unknown":{"a":[1,"b"]}}`},
	{"/v3/kv/range", `{"key":"YQ==","range_end":"AA==","limit":"1","sort_order":2,"sort_target":"KEY"}`},
	{"/v3/kv/deleterange", `{"key":"Zm9v","range_end":"ZQ=="}`},
	{"/v3/kv/deleterange", `{"key":"eHh4"}`},
	{"/v3/kv/txn", `{}`},
	{"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VALUE","result":"EQUAL","value":"YmFy"}],` +
		`"success":[{"request_range":{"key":"Zm9v"}},{"request_put":{"key":"eA==","value":"Yg=="}},{"request_delete_range":{"key":"YQ=="}}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VERSION","result":"GREATER","version":"5"}],"failure":[{"request_range":{"key":"eA=="}}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"bm8=","target":"CREATE","result":"EQUAL","create_revision":0},{"key":"Zm9v","target":"MOD","result":"LESS","mod_revision":"100"}],` +
		`"success":[{"request_put":{"key":"bm8=","value":"eQ==","prev_kv":true}},{"request_range":{"key":"bm8="}}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"LEASE","result":"NOT_EQUAL","lease":"0"}],"failure":[{"requestTxn":{"success":[{"requestPut":{"key":"eQ=="}}]}}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"YQ==","range_end":"eg==","target":"VERSION","result":"LESS","version":3}],"success":[{"request_delete_range":{"key":"YQ==","range_end":"eg==","prev_kv":true}}]}`},
	{"/v3/kv/deleterange", `{"key":"AA==","range_end":"AA==","prev_kv":true}`},
	{"/v3/kv/put", `{"key":"Zm9v","value":"YmF6"}`},
	{"/v3/kv/compaction", `{"revision":3}`},
	{"/v3/kv/compaction", `{"revision":"4","physical":true}`},
	{"/v3beta/kv/range", `{"key":"Zm9v"}`},
	// Refused by both, identically.
	{"/v3/kv/range", `{"key":"Zm9v","revision":2}`},
	{"/v3/kv/range", `{"key":"Zm9v","revision":100}`},
	{"/v3/kv/compaction", `{"revision":100}`},
	{"/v3/kv/compaction", `{"revision":4}`},
	{"/v3/kv/compaction", `{"revision":-5}`},
	{"/v3/kv/range", `{"key":""}`},
	{"/v3/kv/range", ``},
	{"/v3/kv/range", `{"key":`},
	{"/v3/kv/range", `notjson`},
	{"/v3/kv/range", `[]`},
	{"/v3/kv/range", `{"key":123}`},
	{"/v3/kv/range", `{"limit":true,"key":123}`},
	{"/v3/kv/range", `{"key":"Zm9v","limit":1.5}`},
	{"/v3/kv/range", `{"key":"Zm9v","limit":"abc"}`},
	{"/v3/kv/range", `{"key":"Zm9v","sort_order":"DOWN"}`},
	{"/v3/kv/range", `{"key":"Zm9v","sort_target":"2"}`},
	{"/v3/kv/range", `{"key":"Zm9v","keys_only":"true"}`},
	{"/v3/kv/range", `{"key":"Zm-v"}`},
	{"/v3/kv/put", `{"value":"YmFy"}`},
	{"/v3/kv/put", `{"key":"Zm9v","value":"YmFy","ignore_value":true}`},
	{"/v3/kv/put", `{"key":"Zm9v","ignore_lease":true,"lease":3}`},
	{"/v3/kv/put", `{"key":"bm9uZQ==","ignore_value":true}`},
	{"/v3/kv/put", `{"key":"Zm9v","lease":5}`},
	{"/v3/kv/deleterange", `{}`},
	{"/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_put":{"key":"YQ==","value":"Yg=="}}]}`},
	{"/v3/kv/txn", `{"success":[{"request_delete_range":{"key":"YQ==","range_end":"Yw=="}},{"request_put":{"key":"Yg=="}}]}`},
	{"/v3/kv/txn", `{"success":[{}]}`},
	{"/v3/kv/txn", `{"success":{}}`},
	{"/v3/kv/txn", `{"success":[5]}`},
	{"/v3/kv/txn", `{"compare":[{"target":"VALUE","result":"GREATER"}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VAL","result":"EQUAL"}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VALUE","result":"EQUAL","value":"YmF"}]}`},
	{"/v3/kv/txn", `{"success":[{"request_range":{"key":"eA==","revision":100}}]}`},
	{"/v3/maintenance/status", `garbage`},
	{"/v3/maintenance/status", `[]`},
	// Leases, with IDs the client picks (etcd's picked IDs differ from
	// ours) and TTLs at or above etcd's default minimum.
	{"/v3/lease/grant", `{"TTL":600,"ID":100}`},
	{"/v3/lease/grant", `{"TTL":"30","ID":"50"}`},
	{"/v3/lease/grant", `{"TTL":9000000000,"ID":-3}`},
	{"/v3/lease/grant", `{"TTL":60,"ID":100}`},
	{"/v3/lease/grant", `{"TTL":9000000001}`},
	{"/v3/lease/grant", `{"TTL":true}`},
	{"/v3/lease/grant", `{"TTL":5,"ID":"x"}`},
	{"/v3/lease/grant", `[]`},
	{"/v3/kv/put", `{"key":"bDE=","value":"dg==","lease":100}`},
	{"/v3/kv/put", `{"key":"bDM=","value":"dg==","lease":12345}`},
	{"/v3/kv/range", `{"key":"bDE="}`},
	{"/v3/lease/timetolive", `{"ID":100}`},
	{"/v3/lease/timetolive", `{"ID":100,"keys":true}`},
	{"/v3/kv/lease/timetolive", `{"ID":"999","keys":true}`},
	{"/v3/lease/timetolive", `{}`},
	{"/v3/lease/timetolive", `{"ID":true}`},
	{"/v3/lease/timetolive", `{"ID":100,"keys":1}`},
	{"/v3/kv/put", `{"key":"bDI=","value":"dg==","lease":"100"}`},
	{"/v3/kv/put", `{"key":"bDE=","value":"dw==","ignore_lease":true,"prev_kv":true}`},
	{"/v3/kv/txn", `{"success":[{"request_put":{"key":"bDQ=","lease":100}},{"request_put":{"key":"bDU=","lease":101}}]}`},
	{"/v3/kv/txn", `{"compare":[{"key":"bDE=","target":"LEASE","result":"EQUAL","lease":100}],"success":[{"request_put":{"key":"bDQ=","lease":50}}]}`},
	{"/v3/kv/lease/revoke", `{"ID":50}`},
	{"/v3/lease/revoke", `{"ID":-3}`},
	{"/v3/lease/leases", ``},
	{"/v3/kv/lease/leases", `{"x":1}`},
	{"/v3/lease/leases", `xx`},
	{"/v3/kv/range", `{"key":"bDE=","range_end":"bDk="}`},
	{"/v3/lease/revoke", `{"ID":100}`},
	{"/v3/lease/revoke", `{"ID":100}`},
	{"/v3/lease/revoke", `{}`},
	{"/v3/lease/revoke", `{"ID":"x"}`},
	{"/v3/kv/range", `{"key":"bDE=","range_end":"bDk="}`},
	{"/v3/lease/keepalive", `{"ID":100}`},
	{"/v3/lease/leases", `{}`},
}

func etcdPost(t *testing.T, url, body string) *reply {
	t.Helper()
	resp, err := http.Post(url, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return readReply(t, resp)
}

func etcdGet(t *testing.T, url string) *reply {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return readReply(t, resp)
}

func readReply(t *testing.T, resp *http.Response) *reply {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
