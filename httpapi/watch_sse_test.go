package httpapi

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct {
	id, event, data string
}

// sseStream is an open SSE watch, read the way EventSource reads it.
type sseStream struct {
	resp     *http.Response
	rd       *bufio.Reader
	retry    string
	comments []string
}

// openSSE opens GET /v3/watch?query as an event stream, with Last-Event-ID
// when lastID is not empty, and fails the test unless it is answered 200
// text/event-stream.
func openSSE(t *testing.T, ts *testServer, query, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v3/watch?"+query, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /v3/watch?%s: %d %q", query, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sseStream{resp: resp, rd: bufio.NewReader(resp.Body)}
}

// next returns the next event (ok false at the end of the stream), keeping
// the retry field and the comments it passes.
func (s *sseStream) next(t *testing.T) (ev sseEvent, ok bool) {
	t.Helper()
	fields := 0
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return ev, false
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if fields > 0 && (ev.data != "" || ev.event != "") {
				return ev, true
			}
			fields = 0
			continue
		}
		if c, isComment := strings.CutPrefix(line, ":"); isComment {
			s.comments = append(s.comments, strings.TrimSpace(c))
			return sseEvent{event: "comment"}, true
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		fields++
		switch name {
		case "id":
			ev.id = value
		case "event":
			ev.event = value
		case "data":
			ev.data = value
		case "retry":
			s.retry = value
		}
	}
}

// nextEvent is next without the comments.
func (s *sseStream) nextEvent(t *testing.T) sseEvent {
	t.Helper()
	for {
		ev, ok := s.next(t)
		if !ok {
			t.Fatal("the stream ended")
		}
		if ev.event != "comment" {
			return ev
		}
	}
}

func expectSSE(t *testing.T, got sseEvent, id, event, data string) {
	t.Helper()
	if got.id != id || got.event != event || got.data != data {
		t.Errorf("got event id=%q event=%q data=%s\nwant id=%q event=%q data=%s", got.id, got.event, got.data, id, event, data)
	}
}

// TestWatchSSE: history from start_revision, then live events, one SSE event
// per watch event in the v3 JSON shape; a reconnect with Last-Event-ID
// resumes right after it; filters drop what they name.
func TestWatchSSE(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/kv/put", `{"key":"`+b64("k1")+`","value":"`+b64("v1")+`"}`) // revision 2
	ts.post("/v3/kv/put", `{"key":"`+b64("k2")+`","value":"`+b64("v2")+`"}`) // 3
	ts.post("/v3/kv/put", `{"key":"`+b64("z")+`","value":"`+b64("out")+`"}`) // 4, outside the range
	ts.post("/v3/kv/deleterange", `{"key":"`+b64("k1")+`"}`)                 // 5

	q := "key=" + url.QueryEscape(b64("k")) + "&range_end=" + url.QueryEscape(b64("l")) + "&prev_kv=true&start_revision=2"
	s := openSSE(t, ts, q, "")
	expectSSE(t, s.nextEvent(t), "2", "put", `{"kv":{"key":"`+b64("k1")+`","create_revision":"2","mod_revision":"2","version":"1","value":"`+b64("v1")+`"}}`)
	expectSSE(t, s.nextEvent(t), "3", "put", `{"kv":{"key":"`+b64("k2")+`","create_revision":"3","mod_revision":"3","version":"1","value":"`+b64("v2")+`"}}`)
	expectSSE(t, s.nextEvent(t), "5", "delete", `{"type":"DELETE","kv":{"key":"`+b64("k1")+`","mod_revision":"5"},"prev_kv":{"key":"`+b64("k1")+`","create_revision":"2","mod_revision":"2","version":"1","value":"`+b64("v1")+`"}}`)
	if s.retry != "2000" {
		t.Errorf("retry: %q, want 2000", s.retry)
	}
	ts.post("/v3/kv/put", `{"key":"`+b64("k3")+`","value":"`+b64("v3")+`"}`) // 6, live
	expectSSE(t, s.nextEvent(t), "6", "put", `{"kv":{"key":"`+b64("k3")+`","create_revision":"6","mod_revision":"6","version":"1","value":"`+b64("v3")+`"}}`)

	// EventSource reconnects with the same URL and the last id it saw.
	r := openSSE(t, ts, q, "3")
	if ev := r.nextEvent(t); ev.id != "5" || ev.event != "delete" {
		t.Errorf("resumed after 3 with %+v, want the delete at 5", ev)
	}
	if ev := r.nextEvent(t); ev.id != "6" {
		t.Errorf("then %+v, want 6", ev)
	}

	f := openSSE(t, ts, q+"&filters=NOPUT", "")
	if ev := f.nextEvent(t); ev.id != "5" || ev.event != "delete" {
		t.Errorf("filters=NOPUT: %+v, want the delete at 5 first", ev)
	}
}

// TestWatchSSECompacted: a start revision below the compaction gets one
// compacted event with the compact revision, then the stream ends.
func TestWatchSSECompacted(t *testing.T) {
	ts := newTestServer(t)
	for range 3 {
		ts.post("/v3/kv/put", `{"key":"`+b64("k")+`","value":"`+b64("v")+`"}`) // 2, 3, 4
	}
	ts.post("/v3/kv/compaction", `{"revision":"3"}`)
	s := openSSE(t, ts, "key="+url.QueryEscape(b64("k"))+"&start_revision=2", "")
	expectSSE(t, s.nextEvent(t), "", "compacted", `{"compact_revision":"3"}`)
	if ev, ok := s.next(t); ok {
		t.Errorf("the stream went on after compacted: %+v", ev)
	}
	// Resuming at a compacted revision is the same.
	s = openSSE(t, ts, "key="+url.QueryEscape(b64("k")), "1")
	expectSSE(t, s.nextEvent(t), "", "compacted", `{"compact_revision":"3"}`)
}

// TestWatchSSEHeartbeat: an idle stream sends comment lines.
func TestWatchSSEHeartbeat(t *testing.T) {
	ts := newTestServerConfig(t, Config{SSEHeartbeat: 20 * time.Millisecond})
	s := openSSE(t, ts, "key="+url.QueryEscape(b64("k")), "")
	for len(s.comments) < 2 {
		if ev, ok := s.next(t); !ok || ev.event != "comment" {
			t.Fatalf("got %+v (%v), want heartbeats only", ev, ok)
		}
	}
	if s.comments[0] != "heartbeat" {
		t.Errorf("comment %q", s.comments[0])
	}
	ts.post("/v3/kv/put", `{"key":"`+b64("k")+`","value":"`+b64("v")+`"}`)
	if ev := s.nextEvent(t); ev.id != "2" {
		t.Errorf("after heartbeats: %+v", ev)
	}
}

// TestWatchSSEBadInput: bad parameters get etcd's InvalidArgument error
// body and no stream; GET without the event-stream Accept stays 405, as
// etcd's gateway answers it.
func TestWatchSSEBadInput(t *testing.T) {
	ts := newTestServer(t)
	for _, c := range []struct{ query, lastID, msg string }{
		{"key=!!!", "", `key: illegal base64 data at input byte 0`},
		{"key=" + url.QueryEscape(b64("k")), "abc", `Last-Event-ID: not a revision: \"abc\"`},
		{"key=" + url.QueryEscape(b64("k")) + "&start_revision=x", "", `start_revision: not a decimal integer: \"x\"`},
		{"key=" + url.QueryEscape(b64("k")) + "&filters=NOPE", "", `filters: unknown filter \"NOPE\"`},
		{"key=" + url.QueryEscape(b64("k")) + "&prev_kv=maybe", "", `prev_kv: not a boolean: \"maybe\"`},
		{"key=" + url.QueryEscape(b64("k")) + "&range_end=" + url.QueryEscape(b64("a")), "", `mvcc: watcher range is empty`},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/v3/watch?"+c.query, nil)
		req.Header.Set("Accept", "text/event-stream")
		if c.lastID != "" {
			req.Header.Set("Last-Event-ID", c.lastID)
		}
		resp, err := ts.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 512)
		n, _ := resp.Body.Read(b)
		resp.Body.Close()
		want := `{"error":"` + c.msg + `","message":"` + c.msg + `","code":3}`
		if resp.StatusCode != 400 || string(b[:n]) != want {
			t.Errorf("%s (Last-Event-ID %q): %d %s, want 400 %s", c.query, c.lastID, resp.StatusCode, b[:n], want)
		}
	}
	if r := ts.send("GET", "/v3/watch", "", ""); r.status != 405 || r.body != "Method Not Allowed\n" {
		t.Errorf("GET /v3/watch without Accept: %d %s", r.status, r.body)
	}
}
