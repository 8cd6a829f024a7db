package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputGetsEtcdsErrorAndChangesNothing sends the list of bad
// requests to the real binary and checks etcd's status, code and message,
// and that the revision did not move.
func TestBadInputGetsEtcdsErrorAndChangesNothing(t *testing.T) {
	m := startMember(t, t.TempDir(), "--max-request-bytes", "4096")
	ctx := context.Background()
	if _, err := m.put(ctx, "foo", "bar"); err != nil {
		t.Fatal(err)
	}
	const invalid, outOfRange = 3, 11
	cases := []struct {
		name, path, body string
		status, code     int
		msg              string
	}{
		{"invalid JSON", "/v3/kv/put", `notjson`, 400, invalid, "invalid character 'o' in literal null (expecting 'u')"},
		{"wrong field type", "/v3/kv/put", `{"key":"Zm9v","value":123}`, 400, invalid, "json: cannot unmarshal number into Go value of type []uint8"},
		{"unknown enum name", "/v3/kv/range", `{"key":"Zm9v","sort_order":"DOWN"}`, 400, invalid, `unknown value "DOWN" for enum etcdserverpb.RangeRequest_SortOrder`},
		{"bad base64", "/v3/kv/put", `{"key":"Zm9v","value":"YmF"}`, 400, invalid, "illegal base64 data at input byte 0"},
		{"empty key", "/v3/kv/put", `{"value":"YmFy"}`, 400, invalid, "etcdserver: key is not provided"},
		{"over --max-request-bytes", "/v3/kv/put", fmt.Sprintf(`{"key":"Zm9v","value":"%s"}`, strings.Repeat("A", 8192)), 400, invalid, "etcdserver: request is too large"},
		{"txn writes a key twice", "/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_put":{"key":"YQ==","value":"Yg=="}}]}`, 400, invalid, "etcdserver: duplicate key given in txn request"},
		{"compaction at a future revision", "/v3/kv/compaction", `{"revision":100}`, 400, outOfRange, "etcdserver: mvcc: required revision is a future revision"},
		{"range at a future revision", "/v3/kv/range", `{"key":"Zm9v","revision":100}`, 400, outOfRange, "etcdserver: mvcc: required revision is a future revision"},
		// etcd 3.4 keeps alarm 7 (and lists it as 7) and crashes on action 7.
		{"alarm type without a name", "/v3/maintenance/alarm", `{"action":"ACTIVATE","memberID":"1","alarm":7}`, 400, invalid, "unknown value 7 for enum etcdserverpb.AlarmType"},
		{"alarm action without a name", "/v3/maintenance/alarm", `{"action":7}`, 400, invalid, "unknown value 7 for enum etcdserverpb.AlarmRequest_AlarmAction"},
	}
	for _, c := range cases {
		resp, err := http.Post(m.url+c.path, "application/x-www-form-urlencoded", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf(`{"error":%q,"message":%q,"code":%d}`, c.msg, c.msg, c.code)
		if resp.StatusCode != c.status || strings.TrimSpace(string(body)) != want {
			t.Errorf("%s: got %d %s\nwant %d %s", c.name, resp.StatusCode, body, c.status, want)
		}
	}
	if rev := m.revision(t); rev != 2 {
		t.Fatalf("revision %d after bad requests, want 2", rev)
	}
	var alarms map[string]any
	if err := m.call(ctx, "/v3/maintenance/alarm", map[string]string{"action": "GET"}, &alarms); err != nil || len(alarms) != 0 {
		t.Fatalf("alarms after bad requests: %v %v", alarms, err)
	}
	r, err := m.rangeKey(ctx, "foo")
	if err != nil || len(r.Kvs) != 1 || unb64(t, r.Kvs[0].Value) != "bar" {
		t.Fatalf("foo after bad requests: %+v %v", r, err)
	}
}
