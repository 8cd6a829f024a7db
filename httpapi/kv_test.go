package httpapi

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// hdr is the top-level header the test backend answers with at revision rev,
// printed as etcd prints it.
func hdr(rev int) string {
	return fmt.Sprintf(`"header":{"cluster_id":"15051795338112125376","member_id":"5323637266735179746","revision":"%d","raft_term":"2"}`, rev)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// expect asserts an exact status and body.
func expect(t *testing.T, r *reply, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}

// The bodies below are etcd 3.4.23's answers to the same requests, with
// etcd's cluster and member ids (the test backend uses the same ones).
func TestKVRoundTrip(t *testing.T) {
	ts := newTestServer(t)

	// A new store is at revision 1; a range that finds nothing has only a header.
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v"}`), 200, `{`+hdr(1)+`}`)
	expect(t, ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmFy"}`), 200, `{`+hdr(2)+`}`)
	expect(t, ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmFy","prev_kv":true}`), 200,
		`{`+hdr(3)+`,"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v"}`), 200,
		`{`+hdr(3)+`,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}],"count":"1"}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v","count_only":true}`), 200, `{`+hdr(3)+`,"count":"1"}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"AA==","range_end":"AA==","keys_only":true}`), 200,
		`{`+hdr(3)+`,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2"}],"count":"1"}`)
	// Deleting a missing key changes nothing and says nothing.
	expect(t, ts.post("/v3/kv/deleterange", `{"key":"eHh4"}`), 200, `{`+hdr(3)+`}`)
	expect(t, ts.post("/v3/kv/txn", `{}`), 200, `{`+hdr(3)+`,"succeeded":true}`)
	// Nested responses carry only their revision; a range before the
	// transaction's write sees the old revision.
	expect(t, ts.post("/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VALUE","result":"EQUAL","value":"YmFy"}],`+
		`"success":[{"request_range":{"key":"Zm9v"}},{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_delete_range":{"key":"eA=="}}]}`), 200,
		`{`+hdr(4)+`,"succeeded":true,"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmFy"}],"count":"1"}},`+
			`{"response_put":{"header":{"revision":"4"}}},{"response_delete_range":{"header":{"revision":"4"}}}]}`)
	// A failed compare: "succeeded" is left out (false).
	expect(t, ts.post("/v3/kv/txn", `{"compare":[{"key":"Zm9v","target":"VERSION","result":"GREATER","version":"5"}],"failure":[{"request_range":{"key":"YQ=="}}]}`), 200,
		`{`+hdr(4)+`,"responses":[{"response_range":{"header":{"revision":"4"},"kvs":[{"key":"YQ==","create_revision":"4","mod_revision":"4","version":"1","value":"Yg=="}],"count":"1"}}]}`)
	// A put then a range in one transaction: the range sees the put.
	expect(t, ts.post("/v3/kv/txn", `{"success":[{"request_put":{"key":"eA==","value":"eA==","prev_kv":true}},{"request_range":{"key":"eA=="}}]}`), 200,
		`{`+hdr(5)+`,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"5"}}},`+
			`{"response_range":{"header":{"revision":"5"},"kvs":[{"key":"eA==","create_revision":"5","mod_revision":"5","version":"1","value":"eA=="}],"count":"1"}}]}`)
	// A nested transaction's header is empty.
	expect(t, ts.post("/v3/kv/txn", `{"success":[{"request_txn":{"success":[{"request_put":{"key":"eQ=="}}]}}]}`), 200,
		`{`+hdr(6)+`,"succeeded":true,"responses":[{"response_txn":{"header":{},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"6"}}}]}}]}`)
	expect(t, ts.post("/v3/kv/deleterange", `{"key":"eA==","prev_kv":true}`), 200,
		`{`+hdr(7)+`,"deleted":"1","prev_kvs":[{"key":"eA==","create_revision":"5","mod_revision":"5","version":"1","value":"eA=="}]}`)
	expect(t, ts.post("/v3/kv/deleterange", `{"key":"eQ=="}`), 200, `{`+hdr(8)+`,"deleted":"1"}`)
	expect(t, ts.post("/v3/kv/compaction", `{"revision":2}`), 200, `{`+hdr(8)+`}`)
}

func TestRangeOptions(t *testing.T) {
	ts := newTestServer(t)
	// Values sort in the reverse order of keys.
	for _, kv := range [][2]string{{"a", "zzzz"}, {"b", "yyy"}, {"c", "xx"}, {"d", "w"}} {
		ts.post("/v3/kv/put", fmt.Sprintf(`{"key":%q,"value":%q}`, b64(kv[0]), b64(kv[1])))
	}
	kv := func(k string, rev int, v string) string {
		return fmt.Sprintf(`{"key":%q,"create_revision":"%d","mod_revision":"%d","version":"1","value":%q}`, b64(k), rev, rev, b64(v))
	}
	a, b, c, d := kv("a", 2, "zzzz"), kv("b", 3, "yyy"), kv("c", 4, "xx"), kv("d", 5, "w")
	tests := []struct{ body, want string }{
		{`{"key":"YQ==","range_end":"ZA=="}`, `"kvs":[` + a + `,` + b + `,` + c + `],"count":"3"`},
		{`{"key":"YQ==","range_end":"ZQ==","limit":2}`, `"kvs":[` + a + `,` + b + `],"more":true,"count":"4"`},
		// Negative limit: no limit, as etcd.
		{`{"key":"YQ==","range_end":"ZQ==","limit":"-1"}`, `"kvs":[` + a + `,` + b + `,` + c + `,` + d + `],"count":"4"`},
		{`{"key":"YQ==","range_end":"ZQ==","sort_order":"DESCEND","limit":1}`, `"kvs":[` + d + `],"more":true,"count":"4"`},
		{`{"key":"YQ==","rangeEnd":"ZQ==","sortOrder":"ASCEND","sortTarget":"VALUE","limit":1}`, `"kvs":[` + d + `],"more":true,"count":"4"`},
		{`{"key":"YQ==","range_end":"AA==","min_mod_revision":"4","keys_only":true}`,
			`"kvs":[{"key":"Yw==","create_revision":"4","mod_revision":"4","version":"1"},{"key":"ZA==","create_revision":"5","mod_revision":"5","version":"1"}],"count":"4"`},
		{`{"key":"YQ==","range_end":"AA==","revision":"3"}`, `"kvs":[` + a + `,` + b + `],"count":"2"`},
		// range_end below key: an empty range, as etcd.
		{`{"key":"Yw==","range_end":"YQ=="}`, ``},
	}
	for _, tt := range tests {
		want := `{` + hdr(5)
		if tt.want != "" {
			want += `,` + tt.want
		}
		want += `}`
		r := ts.post("/v3/kv/range", tt.body)
		if r.status != 200 || r.body != want {
			t.Errorf("%s:\n got %d %s\nwant 200 %s", tt.body, r.status, r.body, want)
		}
	}
	// /v3beta/ serves the same, and a form content type (curl -d) is read as JSON.
	expect(t, ts.post("/v3beta/kv/range", `{"key":"ZA=="}`), 200, `{`+hdr(5)+`,"kvs":[`+d+`],"count":"1"}`)
	expect(t, ts.call("POST", "/v3/kv/range", "application/x-www-form-urlencoded", `{"key":"ZA=="}`), 200, `{`+hdr(5)+`,"kvs":[`+d+`],"count":"1"}`)
	expect(t, ts.call("POST", "/v3/kv/range", "", `{"key":"ZA=="}`), 200, `{`+hdr(5)+`,"kvs":[`+d+`],"count":"1"}`)
}

// TestBadRequests sends requests etcd refuses and asserts etcd 3.4.23's
// answer (status, gRPC code, message) and that nothing was written.
func TestBadRequests(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmFy"}`) // rev 2
	ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmF6"}`) // rev 3
	expect(t, ts.post("/v3/kv/compaction", `{"revision":3}`), 200, `{`+hdr(3)+`}`)

	const (
		invalid    = 3  // InvalidArgument
		notFound   = 5  // NotFound
		outOfRange = 11 // OutOfRange
	)
	tests := []struct {
		path, body string
		status     int
		code       int
		msg        string
	}{
		{"/v3/kv/put", `{"key":`, 400, invalid, "unexpected EOF"},
		{"/v3/kv/put", `notjson`, 400, invalid, "invalid character 'o' in literal null (expecting 'u')"},
		{"/v3/kv/put", `{"key":"Zm9v","value":123}`, 400, invalid, "json: cannot unmarshal number into Go value of type []uint8"},
		{"/v3/kv/put", `{"key":"Zm9v","lease":true}`, 400, invalid, "json: cannot unmarshal bool into Go value of type int64"},
		{"/v3/kv/range", `{"key":"Zm9v","sort_order":"DOWN"}`, 400, invalid, `unknown value "DOWN" for enum etcdserverpb.RangeRequest_SortOrder`},
		{"/v3/kv/put", `{"key":"Zm9v","value":"YmF"}`, 400, invalid, "illegal base64 data at input byte 0"},
		{"/v3/kv/put", `{"key":"*&^"}`, 400, invalid, "illegal base64 data at input byte 0"},
		{"/v3/kv/range", `{"key":""}`, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/range", ``, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/put", `{"value":"YmFy"}`, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/deleterange", `{}`, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/txn", `{"compare":[{"target":"VALUE","result":"GREATER"}]}`, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/txn", `{"success":[{"request_put":{"key":"","value":"eA=="}}]}`, 400, invalid, "etcdserver: key is not provided"},
		{"/v3/kv/txn", `{"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_put":{"key":"YQ==","value":"Yg=="}}]}`, 400, invalid, "etcdserver: duplicate key given in txn request"},
		{"/v3/kv/txn", `{"success":[{}]}`, 400, invalid, "etcdserver: key not found"},
		{"/v3/kv/put", `{"key":"Zm9v","value":"YmFy","ignore_value":true}`, 400, invalid, "etcdserver: value is provided"},
		{"/v3/kv/put", `{"key":"bm9uZQ==","ignore_value":true}`, 400, invalid, "etcdserver: key not found"},
		{"/v3/kv/put", `{"key":"Zm9v","lease":5}`, 404, notFound, "etcdserver: requested lease not found"},
		{"/v3/kv/range", `{"key":"Zm9v","revision":100}`, 400, outOfRange, "etcdserver: mvcc: required revision is a future revision"},
		{"/v3/kv/range", `{"key":"Zm9v","revision":2}`, 400, outOfRange, "etcdserver: mvcc: required revision has been compacted"},
		{"/v3/kv/txn", `{"success":[{"request_range":{"key":"eA==","revision":100}}]}`, 400, outOfRange, "etcdserver: mvcc: required revision is a future revision"},
		{"/v3/kv/compaction", `{"revision":100}`, 400, outOfRange, "etcdserver: mvcc: required revision is a future revision"},
		{"/v3/kv/compaction", `{"revision":3}`, 400, outOfRange, "etcdserver: mvcc: required revision has been compacted"},
		{"/v3/kv/compaction", `{"revision":-5}`, 400, outOfRange, "etcdserver: mvcc: required revision has been compacted"},
		{"/v3/maintenance/status", `[]`, 400, invalid, "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		// cairn refuses what etcd 3.4 crashed on (etcd 3.5's answer).
		{"/v3/kv/range", `{"key":"Zm9v","sort_target":9,"sort_order":"ASCEND"}`, 400, invalid, "etcdserver: invalid sort option"},
	}
	for _, tt := range tests {
		r := ts.post(tt.path, tt.body)
		want := fmt.Sprintf(`{"error":%q,"message":%q,"code":%d}`, tt.msg, tt.msg, tt.code)
		if r.status != tt.status || r.body != want {
			t.Errorf("%s %s:\n got %d %s\nwant %d %s", tt.path, tt.body, r.status, r.body, tt.status, want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tt.path, tt.body, ct)
		}
		if rev := ts.store.Rev(); rev != 3 {
			t.Fatalf("%s %s: the store moved to revision %d", tt.path, tt.body, rev)
		}
	}
	// The key still holds its value.
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v"}`), 200,
		`{`+hdr(3)+`,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}],"count":"1"}`)
	// None of these is an internal error worth a log line.
	if logs := ts.logs.String(); logs != "" {
		t.Errorf("logged: %s", logs)
	}
}

// TestRangeEndBelowKey: etcd answers a range or delete whose range_end sorts
// at or below its key with an empty result, not an error.
func TestRangeEndBelowKey(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmFy"}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v","range_end":"ZQ=="}`), 200, `{`+hdr(2)+`}`)
	expect(t, ts.post("/v3/kv/deleterange", `{"key":"Zm9v","range_end":"ZQ=="}`), 200, `{`+hdr(2)+`}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"Zm9v","count_only":true}`), 200, `{`+hdr(2)+`,"count":"1"}`)
}

// TestRequestTooLarge: --max-request-bytes limits a write by its protobuf
// size, as etcd does; a body too long to hold any acceptable request is
// refused unread.
func TestRequestTooLarge(t *testing.T) {
	const max = 4096
	ts := newTestServerConfig(t, Config{MaxRequestBytes: max})
	tooLarge := `{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}`
	put := func(n int) *reply {
		return ts.post("/v3/kv/put", fmt.Sprintf(`{"key":"Zm9v","value":%q}`, b64(strings.Repeat("x", n))))
	}
	// A value of max-100 bytes fits although its JSON body is longer than max.
	if body := fmt.Sprintf(`{"key":"Zm9v","value":%q}`, b64(strings.Repeat("x", max-100))); len(body) <= max {
		t.Fatalf("the body (%d bytes) should be longer than the limit", len(body))
	}
	expect(t, put(max-100), 200, `{`+hdr(2)+`}`)
	expect(t, put(max), 400, tooLarge)
	// Inside a transaction too; a read-only one is not limited (etcd does
	// not propose it).
	bigPut := fmt.Sprintf(`{"request_put":{"key":"eA==","value":%q}}`, b64(strings.Repeat("x", max)))
	expect(t, ts.post("/v3/kv/txn", `{"success":[`+bigPut+`]}`), 400, tooLarge)
	bigKey := b64(strings.Repeat("k", max))
	expect(t, ts.post("/v3/kv/txn", fmt.Sprintf(`{"success":[{"request_range":{"key":%q}}]}`, bigKey)), 200,
		`{`+hdr(2)+`,"succeeded":true,"responses":[{"response_range":{"header":{"revision":"2"}}}]}`)
	expect(t, ts.post("/v3/kv/range", fmt.Sprintf(`{"key":%q}`, bigKey)), 200, `{`+hdr(2)+`}`)
	// A body over the read limit, with or without a Content-Length.
	huge := fmt.Sprintf(`{"key":"Zm9v","ignored":%q}`, strings.Repeat("y", int(bodyLimit(max))))
	expect(t, ts.post("/v3/kv/put", huge), 400, tooLarge)
	ts.chunked = true
	expect(t, ts.post("/v3/kv/put", huge), 400, tooLarge)
	expect(t, put(max-100), 200, `{`+hdr(3)+`}`)
	if rev := ts.store.Rev(); rev != 3 {
		t.Fatalf("revision %d, want 3", rev)
	}
}

func TestStatus(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/kv/put", `{"key":"Zm9v","value":"YmFy"}`)
	for _, body := range []string{``, `{}`, `{"whatever":1}`} {
		r := ts.post("/v3/maintenance/status", body)
		want := fmt.Sprintf(`{`+hdr(2)+`,"version":"3.4.0","dbSize":"%d","leader":"5323637266735179746","raftIndex":"1","raftTerm":"2","raftAppliedIndex":"1","dbSizeInUse":"%d"}`,
			ts.store.Size(), ts.store.SizeInUse())
		expect(t, r, 200, want)
	}
}

// TestRequestTooLargeBoundary: with etcd's default --max-request-bytes, the
// largest value etcd 3.4.23 accepts under the key "foo" is 1572838 bytes
// (measured by bisection against a real etcd); cairn draws the line at the
// same byte.
func TestRequestTooLargeBoundary(t *testing.T) {
	ts := newTestServer(t)
	put := func(n int) *reply {
		return ts.post("/v3/kv/put", fmt.Sprintf(`{"key":"Zm9v","value":%q}`, b64(strings.Repeat("x", n))))
	}
	expect(t, put(1572838), 200, `{`+hdr(2)+`}`)
	expect(t, put(1572839), 400, `{"error":"etcdserver: request is too large","message":"etcdserver: request is too large","code":3}`)
}

// TestConcurrentClients: many clients at once, each reading back its own
// writes; pooled buffers must never mix two requests' bytes.
func TestConcurrentClients(t *testing.T) {
	ts := newTestServer(t)
	const clients, rounds = 16, 20
	errs := make(chan error, clients)
	for c := 0; c < clients; c++ {
		go func() {
			for i := 0; i < rounds; i++ {
				key, val := b64(fmt.Sprintf("client-%02d", c)), b64(fmt.Sprintf("value-%02d-%03d-%s", c, i, strings.Repeat("v", c*100)))
				r, err := ts.check("POST", "/v3/kv/put", "", fmt.Sprintf(`{"key":%q,"value":%q}`, key, val))
				if err != nil || r.status != 200 {
					errs <- fmt.Errorf("put: %v %v", r, err)
					return
				}
				r, err = ts.check("POST", "/v3/kv/range", "", fmt.Sprintf(`{"key":%q}`, key))
				if err != nil {
					errs <- err
					return
				}
				if !strings.Contains(r.body, fmt.Sprintf(`"key":%q,`, key)) || !strings.Contains(r.body, fmt.Sprintf(`"value":%q}`, val)) {
					errs <- fmt.Errorf("range of %s after writing %s: %d %s", key, val, r.status, r.body)
					return
				}
			}
			errs <- nil
		}()
	}
	for c := 0; c < clients; c++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
