package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"reflect"
	"syscall"
	"testing"
)

// newTestOp makes the op of the named workload with the given flags.
func newTestOp(t *testing.T, name, consistency string, value []byte) op {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Workload, cfg.Consistency = name, consistency
	w, ok := lookupWorkload(name)
	if !ok {
		t.Fatalf("no workload %s", name)
	}
	o, err := w.newOp(&cfg, value)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// decodeBody parses a request body as generic JSON.
func decodeBody(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %s is not JSON: %v", body, err)
	}
	return m
}

func TestRequestBodiesAreTheGatewayJSON(t *testing.T) {
	value := []byte{0, 1, 2, 0xff, '"', '\\'}
	key := []byte("k/00000042")
	const kb, vb = "ay8wMDAwMDA0Mg==", "AAEC/yJc" // base64 of key and value
	for _, tc := range []struct {
		workload, consistency string
		path                  string
		want                  map[string]any
	}{
		{"put", "l", "/v3/kv/put", map[string]any{"key": kb, "value": vb}},
		{"range", "l", "/v3/kv/range", map[string]any{"key": kb}},
		{"range", "s", "/v3/kv/range", map[string]any{"key": kb, "serializable": true}},
		{"txn-put", "l", "/v3/kv/txn", map[string]any{"success": []any{
			map[string]any{"request_put": map[string]any{"key": kb, "value": vb}}}}},
	} {
		o := newTestOp(t, tc.workload, tc.consistency, value)
		r1 := o.build(key)
		r2 := o.build([]byte("other"))
		if r1.path != tc.path || r1.method != "" || r1.contentType != "" {
			t.Errorf("%s: request %s %s %s", tc.workload, r1.method, r1.path, r1.contentType)
		}
		if got := decodeBody(t, r1.body); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s/%s: body %s, want %v", tc.workload, tc.consistency, r1.body, tc.want)
		}
		if bytes.Equal(r1.body, r2.body) || &r1.body[0] == &r2.body[0] {
			t.Errorf("%s: second build reused or repeated the first body", tc.workload)
		}
	}
}

func TestChecksJudgeGatewayAnswers(t *testing.T) {
	const header = `"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"}`
	for _, tc := range []struct {
		workload, body, note string
	}{
		{"put", `{` + header + `}`, ""},
		{"range", `{` + header + `,"kvs":[{"key":"Zm9v","value":"YmFy"}],"count":"1"}`, ""},
		{"range", `{ "kvs" : [ {"key":"Zm9v"} ] }`, ""},
		{"range", `{` + header + `}`, noteEmptyRange},
		{"range", `{` + header + `,"kvs":[],"count":"0"}`, noteEmptyRange},
		{"range", `{"kvs": [ ] }`, noteEmptyRange},
		{"range", `{"count":"0","more":false}`, noteEmptyRange},
		{"txn-put", `{` + header + `,"succeeded":true,"responses":[{"response_put":{}}]}`, ""},
		{"txn-put", `{"succeeded" : true}`, ""},
		{"txn-put", `{` + header + `,"responses":[]}`, noteTxnFailure},
		{"txn-put", `{"succeeded":false}`, noteTxnFailure},
	} {
		note, err := newTestOp(t, tc.workload, "l", nil).check([]byte(tc.body))
		if err != nil || note != tc.note {
			t.Errorf("%s check(%s) = %q, %v; want %q", tc.workload, tc.body, note, err, tc.note)
		}
	}
}

func TestFailureMessagesGroupEqualCauses(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{400, `{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}`, "HTTP 400: etcdserver: request is too large"},
		{503, `{"error":"etcdserver: leader changed","code":14}`, "HTTP 503: etcdserver: leader changed"},
		{502, "Bad Gateway\n", "HTTP 502: Bad Gateway"},
		{500, "", "HTTP 500: Internal Server Error"},
	} {
		if got := statusMessage(tc.status, []byte(tc.body)); got != tc.want {
			t.Errorf("statusMessage(%d, %q) = %q, want %q", tc.status, tc.body, got, tc.want)
		}
	}

	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2379}
	reset := func(localPort int) error {
		return &url.Error{Op: "Post", URL: "http://127.0.0.1:2379/v3/kv/put", Err: &net.OpError{
			Op: "read", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: localPort},
			Addr: remote, Err: syscall.ECONNRESET}}
	}
	a, b := errorMessage(reset(40001)), errorMessage(reset(40002))
	if a != b || a != "read tcp 127.0.0.1:2379: connection reset by peer" {
		t.Errorf("messages %q and %q, want both %q", a, b, "read tcp 127.0.0.1:2379: connection reset by peer")
	}
	if got := errorMessage(fmt.Errorf("wrapped: %w", errors.New("EOF"))); got != "wrapped: EOF" {
		t.Errorf("plain error message %q", got)
	}
}

func TestCountCapsDistinctMessages(t *testing.T) {
	m := map[string]uint64{}
	for i := range maxMessages + 10 {
		count(m, fmt.Sprint("msg ", i), 1)
	}
	count(m, "msg 0", 5)
	if len(m) != maxMessages+1 || m[otherMessage] != 10 || m["msg 0"] != 6 {
		t.Fatalf("got %d messages, other %d, msg 0 %d", len(m), m[otherMessage], m["msg 0"])
	}
}
