package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawChunks sends one HTTP/1.1 request on a new connection to ts and returns
// a function that reads the response's next HTTP chunk as it arrived on the
// wire (no client library merges or splits them).
func rawChunks(t *testing.T, ts *testServer, path, body string) func() string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	// The deadline only keeps a broken stream from hanging the test.
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, len(body), body)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		if strings.HasPrefix(line, "HTTP/1.1 ") && !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("status line %q", line)
		}
	}
	return func() string {
		t.Helper()
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
		if err != nil {
			t.Fatalf("chunk size line %q: %v", line, err)
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(r, data); err != nil {
			t.Fatal(err)
		}
		return string(data[:n])
	}
}

// checkOneMessage fails unless chunk is exactly one {"result": ...} line,
// and returns its result.
func checkOneMessage(t *testing.T, chunk string) map[string]any {
	t.Helper()
	if strings.Count(chunk, "\n") != 1 || !strings.HasSuffix(chunk, "\n") {
		t.Fatalf("a chunk holds other than one message: %q", chunk)
	}
	var m struct {
		Result map[string]any `json:"result"`
	}
	if err := json.Unmarshal([]byte(chunk), &m); err != nil || m.Result == nil {
		t.Fatalf("chunk %q: %v", chunk, err)
	}
	return m.Result
}

// Every stream writes each {"result": ...} message as its own HTTP chunk,
// as etcd's gateway does: python etcd3gw decodes chunk by chunk, and lost
// the events that came in the chunk of the "created" message.
func TestStreamMessagePerChunk(t *testing.T) {
	ts := newTestServer(t)
	for _, v := range []string{"a", "b", "c"} {
		if r := ts.post("/v3/kv/put", `{"key":"`+b64("foo")+`","value":"`+b64(v)+`"}`); r.status != 200 {
			t.Fatalf("put: %d %s", r.status, r.body)
		}
	}
	// A watch from revision 2: the created message and the three past
	// events are ready at once.
	next := rawChunks(t, ts, "/v3/watch", `{"create_request":{"key":"`+b64("foo")+`","start_revision":"2"}}`)
	if res := checkOneMessage(t, next()); res["created"] != true {
		t.Fatalf("first message %v, want created", res)
	}
	events := 0
	for events < 3 {
		res := checkOneMessage(t, next())
		evs, _ := res["events"].([]any)
		if len(evs) == 0 {
			t.Fatalf("message without events: %v", res)
		}
		events += len(evs)
	}

	// A keepalive body with three requests: three chunks.
	grant := ts.post("/v3/lease/grant", `{"TTL":"60","ID":"7"}`)
	if grant.status != 200 {
		t.Fatalf("grant: %d %s", grant.status, grant.body)
	}
	next = rawChunks(t, ts, "/v3/lease/keepalive", `{"ID":"7"}{"ID":"7"}{"ID":"7"}`)
	for range 3 {
		if res := checkOneMessage(t, next()); res["ID"] != "7" {
			t.Fatalf("keepalive message %v", res)
		}
	}
}
