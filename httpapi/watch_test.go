package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/goleak"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// newStoreBackend opens a store in a temp dir with a watch hub wired to it,
// as the server does; both close when the test ends.
func newStoreBackend(t testing.TB, wopts store.WatchOptions) *storeBackend {
	t.Helper()
	hub := store.NewWatchHub(wopts)
	s, err := store.Open(filepath.Join(t.TempDir(), "store.db"), store.Options{OnCommit: hub.Publish})
	if err != nil {
		t.Fatal(err)
	}
	hub.Attach(s)
	t.Cleanup(func() {
		hub.Close()
		s.Close()
	})
	return &storeBackend{s: s, hub: hub}
}

// Watch makes storeBackend a Watcher: the hub's streams with the test
// identity in their headers.
func (b *storeBackend) Watch(ctx context.Context) (cairn.WatchStream, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	st, err := b.hub.NewStream()
	if err != nil {
		return nil, err
	}
	return testWatchStream{st}, nil
}

type testWatchStream struct{ *store.WatchStream }

func (w testWatchStream) Next(ctx context.Context, dst []*cairn.WatchResponse) ([]*cairn.WatchResponse, error) {
	out, err := w.WatchStream.Next(ctx, dst)
	for _, r := range out[len(dst):] {
		fillHeader(&r.Header)
	}
	return out, err
}

// newWatchServer serves a store backend with a hub configured by wopts.
func newWatchServer(t *testing.T, wopts store.WatchOptions) *testServer {
	t.Helper()
	b := newStoreBackend(t, wopts)
	ts := serveBackend(t, b, Config{})
	ts.backend, ts.store = b, b.s
	return ts
}

// wireKV and wireWatch are a client's view of the watch stream's JSON.
type wireKV struct {
	Key            string `json:"key"`
	CreateRevision string `json:"create_revision"`
	ModRevision    string `json:"mod_revision"`
	Version        string `json:"version"`
	Value          string `json:"value"`
}

type wireEvent struct {
	Type   string  `json:"type"`
	Kv     wireKV  `json:"kv"`
	PrevKv *wireKV `json:"prev_kv"`
}

type wireWatch struct {
	Header struct {
		ClusterID string `json:"cluster_id"`
		Revision  string `json:"revision"`
	} `json:"header"`
	WatchID         string      `json:"watch_id"`
	Created         bool        `json:"created"`
	Canceled        bool        `json:"canceled"`
	CompactRevision string      `json:"compact_revision"`
	CancelReason    string      `json:"cancel_reason"`
	Fragment        bool        `json:"fragment"`
	Events          []wireEvent `json:"events"`
}

func (w *wireWatch) id() int64 {
	n, _ := strconv.ParseInt(w.WatchID, 10, 64)
	return n
}

func (w *wireWatch) rev() int64 {
	n, _ := strconv.ParseInt(w.Header.Revision, 10, 64)
	return n
}

func (e *wireEvent) rev() int64 {
	n, _ := strconv.ParseInt(e.Kv.ModRevision, 10, 64)
	return n
}

// The schema of one line of a watch stream, from openapi.yaml.
var (
	lineSchemaOnce sync.Once
	lineSchema     *openapi3.Schema
	lineSchemaErr  error
)

// parseWatchLine checks one line (or websocket message) against
// openapi.yaml's cairnWatchStreamLine and decodes it.
func parseWatchLine(t testing.TB, line []byte) *wireWatch {
	t.Helper()
	lineSchemaOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(cairn.OpenAPI)
		if err != nil {
			lineSchemaErr = err
			return
		}
		lineSchema = doc.Components.Schemas["cairnWatchStreamLine"].Value
	})
	if lineSchemaErr != nil {
		t.Fatal(lineSchemaErr)
	}
	var generic any
	if err := json.Unmarshal(line, &generic); err != nil {
		t.Fatalf("a watch line that is not JSON: %q: %v", line, err)
	}
	if err := lineSchema.VisitJSON(generic); err != nil {
		t.Fatalf("a watch line that openapi.yaml does not allow: %s: %v", line, err)
	}
	var m struct {
		Result wireWatch `json:"result"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	return &m.Result
}

// watchConn is one client watch stream, over HTTP or a websocket.
type watchConn struct {
	t      testing.TB
	lines  chan []byte
	errc   chan error
	cancel context.CancelFunc
	send   func(req string) // more requests; nil when the body was fixed
	status int
	header http.Header
	done   chan struct{}
}

// openWatch POSTs body to /v3/watch and reads the stream's lines. With
// streaming true the body stays open and send writes more requests to it.
func openWatch(t testing.TB, ts *testServer, body string, streaming bool) *watchConn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &watchConn{t: t, lines: make(chan []byte), errc: make(chan error, 1), cancel: cancel, done: make(chan struct{})}
	var rd io.Reader = strings.NewReader(body)
	var pw *io.PipeWriter
	if streaming {
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		rd = pr
		go pw.Write([]byte(body))
		c.send = func(req string) {
			if _, err := pw.Write([]byte(req)); err != nil {
				t.Errorf("sending %s: %v", req, err)
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v3/watch", rd)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	go func() {
		defer close(c.done)
		resp, err := ts.client.Do(req)
		if err != nil {
			c.errc <- err
			close(started)
			return
		}
		defer resp.Body.Close()
		c.status, c.header = resp.StatusCode, resp.Header
		close(started)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			select {
			case c.lines <- append([]byte(nil), sc.Bytes()...):
			case <-ctx.Done():
				return
			}
		}
		c.errc <- sc.Err()
		close(c.lines)
	}()
	if pw != nil {
		c.cancel = func() { // a client going away closes its request too
			cancel()
			pw.Close()
		}
	}
	t.Cleanup(func() {
		c.cancel()
		<-c.done
	})
	if !streaming || body != "" {
		<-started
	}
	return c
}

// next returns the next response of the stream; the bound only turns a
// hang into a failure.
func (c *watchConn) next() *wireWatch {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			c.t.Fatalf("the stream ended: %v", <-c.errc)
		}
		return parseWatchLine(c.t, line)
	case <-time.After(time.Minute):
		c.t.Fatal("no watch response in a minute")
	}
	return nil
}

func mustPut(t testing.TB, ts *testServer, key, value string) int64 {
	t.Helper()
	r := ts.post("/v3/kv/put", fmt.Sprintf(`{"key":%q,"value":%q}`, b64(key), b64(value)))
	if r.status != 200 {
		t.Fatalf("put: %d %s", r.status, r.body)
	}
	var resp struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	json.Unmarshal([]byte(r.body), &resp)
	n, _ := strconv.ParseInt(resp.Header.Revision, 10, 64)
	return n
}

func TestWatchHTTPStream(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	mustPut(t, ts, "foo", "before")
	c := openWatch(t, ts, fmt.Sprintf(`{"create_request": {"key": %q, "prev_kv": true}}`, b64("foo")), false)
	if c.status != 200 || c.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", c.status, c.header.Get("Content-Type"))
	}
	created := c.next()
	if !created.Created || created.WatchID != "" || created.rev() != 2 || created.Header.ClusterID != strconv.FormatUint(testClusterID, 10) {
		t.Fatalf("created response %+v", created)
	}
	mustPut(t, ts, "foo", "bar")
	mustPut(t, ts, "fooo", "other key")
	if r := ts.post("/v3/kv/deleterange", fmt.Sprintf(`{"key":%q}`, b64("foo"))); r.status != 200 {
		t.Fatal(r.body)
	}
	// The two events come in one response or two: a watcher that fell
	// behind the writes catches up in one (as etcd's unsynced watchers do).
	var evs []wireEvent
	for len(evs) < 2 {
		r := c.next()
		if len(r.Events) == 0 {
			t.Fatalf("a response without events: %+v", r)
		}
		evs = append(evs, r.Events...)
	}
	put, del := evs[0], evs[1]
	if len(evs) != 2 || put.Type != "" || put.Kv.Value != b64("bar") || put.Kv.ModRevision != "3" ||
		put.PrevKv == nil || put.PrevKv.Value != b64("before") {
		t.Fatalf("put event %+v (of %d)", put, len(evs))
	}
	if del.Type != "DELETE" || del.Kv.ModRevision != "5" || del.Kv.Value != "" || del.PrevKv == nil || del.PrevKv.Value != b64("bar") {
		t.Fatalf("delete event %+v", del)
	}
}

// The lines of etcd 3.4.23 for the same sessions, recorded with curl and
// held here with the header's ids and term removed: created, history,
// compaction, a refused create, a cancel, a progress request.
func TestWatchHTTPLinesAsEtcd(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	mustPut(t, ts, "foo", "bar") // 2
	mustPut(t, ts, "foo", "baz") // 3
	mustPut(t, ts, "other", "x") // 4
	if r := ts.post("/v3/kv/compaction", `{"revision": 3}`); r.status != 200 {
		t.Fatal(r.body)
	}
	h := `"header":{"cluster_id":"_","member_id":"_","revision":"4","raft_term":"_"}`
	for _, tc := range []struct {
		body string
		want []string
	}{
		{`{"create_request": {"key": "Zm9v", "start_revision": 3, "prev_kv": true}}`, []string{
			`{"result":{` + h + `,"created":true}}`,
			`{"result":{` + h + `,"events":[{"kv":{"key":"Zm9v","create_revision":"2","mod_revision":"3","version":"2","value":"YmF6"}}]}}`,
		}},
		{`{"create_request": {"key": "Zm9v", "start_revision": 2, "watch_id": 5}}`, []string{
			`{"result":{` + h + `,"watch_id":"5","created":true}}`,
			`{"result":{"header":{"cluster_id":"_","member_id":"_","raft_term":"_"},"watch_id":"5","canceled":true,"compact_revision":"3"}}`,
		}},
		{`{"create_request": {"key": "Zm9w", "range_end":"Zm9v"}}`, []string{
			`{"result":{` + h + `,"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: watcher range is empty"}}`,
		}},
		{`{"create_request": {"key": "Zm9v", "watch_id": 3}}{"create_request": {"key": "Zm9v", "watch_id": 3}}`, []string{
			`{"result":{` + h + `,"watch_id":"3","created":true}}`,
			`{"result":{` + h + `,"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream"}}`,
		}},
		{`{"create_request": {"key": "Zm9v"}} {"cancel_request": {"watch_id": "0"}}`, []string{
			`{"result":{` + h + `,"created":true}}`,
			`{"result":{` + h + `,"canceled":true}}`,
		}},
		{`{"createRequest": {"key": "Zm9v"}}{"progress_request": {}}`, []string{
			`{"result":{` + h + `,"created":true}}`,
			`{"result":{` + h + `,"watch_id":"-1"}}`,
		}},
	} {
		c := openWatch(t, ts, tc.body, false)
		for i, want := range tc.want {
			var line []byte
			select {
			case line = <-c.lines:
			case <-time.After(time.Minute):
				t.Fatalf("%s: no line %d", tc.body, i)
			}
			parseWatchLine(t, line)
			if got := normalize(string(line)); got != want {
				t.Errorf("%s: line %d\n got %s\nwant %s", tc.body, i, got, want)
			}
		}
		c.cancel()
	}
}

// A first request that does not decode gets the gateway's error (gRPC
// Unknown, HTTP 500) and creates nothing; the messages are etcd 3.4.23's.
func TestWatchHTTPFirstRequestErrors(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	for _, tc := range []struct{ body, msg string }{
		{`{"create_request": `, "unexpected EOF"},
		{`garbage`, "invalid character 'g' looking for beginning of value"},
		{`[]`, "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{`"abc"`, "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
		{`{"create_request": "x"}`, "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
		{`{"create_request": {"key": 5}}`, "json: cannot unmarshal number into Go value of type []uint8"},
		{`{"create_request": {"key": "Zm9v", "filters": ["X"]}}`, `unknown value "X" for enum etcdserverpb.WatchCreateRequest_FilterType`},
		{`{"create_request": {"key": "Zm9v", "filters": "NOPUT"}}`, `invalid target "slice" for enum etcdserverpb.WatchCreateRequest_FilterType`},
		{`{"create_request": {"key": "Zm9v", "filters": "x"}}`, `unknown value "x" for enum etcdserverpb.WatchCreateRequest_FilterType`},
		{`{"create_request": {"key": "Zm9v", "filters": 5}}`, "json: cannot unmarshal number into Go value of type []json.RawMessage"},
		{`{"create_request": {"key": "Zm9v", "filters": [true]}}`, "json: cannot unmarshal bool into Go value of type etcdserverpb.WatchCreateRequest_FilterType"},
		{`{"create_request": {"key": "Zm9v", "filters": [1.5]}}`, "json: cannot unmarshal number 1.5 into Go value of type etcdserverpb.WatchCreateRequest_FilterType"},
		{`{"create_request": {"key": "Zm9v", "start_revision": "x"}}`, "invalid character 'x' looking for beginning of value"},
		{`{"create_request": {"key": "Zm9v", "prev_kv": 1}}`, "json: cannot unmarshal number into Go value of type bool"},
		{`{"create_request": {"key": "Zm9v", "watch_id": 1.5}}`, "json: cannot unmarshal number 1.5 into Go value of type int64"},
		{`{"cancel_request": {"watch_id": "1x"}}`, "invalid character 'x' after top-level value"},
		{`{"cancel_request": 5}`, "json: cannot unmarshal number into Go value of type map[string]json.RawMessage"},
		{`{"progress_request": 5}`, "json: cannot unmarshal number into Go value of type map[string]json.RawMessage"},
	} {
		r := ts.call("POST", "/v3/watch", "application/json", tc.body)
		want := fmt.Sprintf(`{"error":%q,"message":%q,"code":2}`, tc.msg, tc.msg)
		if r.status != 500 || r.body != want {
			t.Errorf("%s: %d %s, want 500 %s", tc.body, r.status, r.body, want)
		}
	}
	if st := ts.backend.hub.Stats(); st.Streams != 0 || st.Watchers != 0 {
		t.Fatalf("refused requests left %+v", st)
	}
}

// Requests accepted as etcd accepts them: odd but valid shapes.
func TestWatchHTTPRequestShapes(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	for _, body := range []string{
		`{"create_request": {"key": "Zm9v", "filters": [null, "NODELETE", 7]}}`,
		`{"create_request": {"key": "Zm9v", "filters": null, "startRevision": "0", "watchId": "0"}}`,
		`{"create_request": {"key": "Zm9v"}, "cancel_request": {"watch_id": 0}}`,
		`{"progress_request": null}{"create_request": {"key": "Zm9v"}}`,
		"\n {\"create_request\": {\"key\": \"Zm9v\"}}",
	} {
		c := openWatch(t, ts, body, false)
		if w := c.next(); !w.Created || w.Canceled {
			t.Errorf("%s: first response %+v, want created", body, w)
		}
		c.cancel()
	}
}

// A later request that does not decode ends the reading of requests, not
// the stream: the watches go on, as in etcd.
func TestWatchHTTPLaterBadRequestStopsReading(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	c := openWatch(t, ts, `{"create_request": {"key": "Zm9v"}} garbage {"create_request": {"key": "Zm9v"}}`, false)
	if w := c.next(); !w.Created {
		t.Fatal(w)
	}
	mustPut(t, ts, "foo", "1")
	if w := c.next(); len(w.Events) != 1 || w.id() != 0 {
		t.Fatalf("after the bad request: %+v, want the event of watch 0", w)
	}
	if st := ts.backend.hub.Stats(); st.Watchers != 1 {
		t.Fatalf("watchers %d: the request after the bad one was read", st.Watchers)
	}
}

// The body stays open: creates, cancels and progress requests keep coming
// while responses go out (full duplex).
func TestWatchHTTPStreamingRequests(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	c := openWatch(t, ts, fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("a")), true)
	if w := c.next(); !w.Created {
		t.Fatal(w)
	}
	c.send(fmt.Sprintf(`{"create_request": {"key": %q, "watch_id": 7}}`, b64("b")))
	if w := c.next(); !w.Created || w.id() != 7 {
		t.Fatal(w)
	}
	rev := mustPut(t, ts, "b", "1")
	if w := c.next(); w.id() != 7 || len(w.Events) != 1 || w.Events[0].rev() != rev {
		t.Fatal(w)
	}
	c.send(`{"cancel_request": {"watch_id": 7}}`)
	if w := c.next(); !w.Canceled || w.id() != 7 {
		t.Fatal(w)
	}
	mustPut(t, ts, "b", "2")
	rev = mustPut(t, ts, "a", "3")
	c.send(`{"progress_request": {}}`)
	if w := c.next(); w.id() != 0 || len(w.Events) != 1 || w.Events[0].rev() != rev {
		t.Fatalf("%+v, want the event of a (b's watch is canceled)", w)
	}
	if w := c.next(); w.id() != -1 || w.rev() != rev || len(w.Events) != 0 {
		t.Fatalf("%+v, want progress at %d", w, rev)
	}
}

func TestWatchHTTPProgressNotify(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{ProgressNotifyInterval: 10 * time.Millisecond})
	rev := mustPut(t, ts, "x", "1")
	c := openWatch(t, ts, fmt.Sprintf(`{"create_request": {"key": %q, "progress_notify": true}}`, b64("k")), false)
	c.next() // created
	w := c.next()
	if len(w.Events) != 0 || w.Created || w.Canceled || w.rev() != rev || w.WatchID != "" {
		t.Fatalf("%+v, want a progress response for watch 0 at %d", w, rev)
	}
}

// The same bad first requests, sent to a real etcd 3.4 and to cairn, get
// the same status and body.
func TestWatchHTTPErrorsSameAsEtcd(t *testing.T) {
	etcd := startEtcd(t)
	ts := newWatchServer(t, store.WatchOptions{})
	for _, body := range []string{
		`{"create_request": `, `garbage`, `[]`, `{"create_request": {"key": 5}}`,
		`{"create_request": {"key": "Zm9v", "filters": "NOPUT"}}`,
		`{"create_request": {"key": "Zm9v", "filters": [1.5]}}`,
		`{"cancel_request": {"watch_id": "1x"}}`,
	} {
		got := ts.send("POST", "/v3/watch", "application/json", body)
		resp, err := http.Post(etcd+"/v3/watch", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got.status != resp.StatusCode || got.body != string(b) {
			t.Errorf("%s: cairn %d %s, etcd %d %s", body, got.status, got.body, resp.StatusCode, b)
		}
	}
}

// A client that reads nothing while the writers write never holds them up,
// and gets every event, in order, once it reads.
func TestWatchHTTPSlowConsumer(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{MaxPendingBytes: 4096, RecentBytes: 8192})
	// Small socket buffers on both ends, so that a client that does not
	// read soon blocks the server's writes.
	small := &smallBufferListener{}
	srv := httptest.NewUnstartedServer(New(ts.backend, Config{}))
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	small.Listener = l
	srv.Listener = small
	srv.Start()
	t.Cleanup(srv.Close)
	dialer := &net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	slowTS := &testServer{t: t, URL: srv.URL, client: &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}}
	t.Cleanup(slowTS.client.CloseIdleConnections)

	c := openWatch(t, slowTS, fmt.Sprintf(`{"create_request": {"key": %q, "range_end": %q}}`, b64("k"), b64("l")), false)
	c.next() // created; from now on the test reads nothing until the writes are done
	big := strings.Repeat("v", 2000)
	var last int64
	for i := range 300 { // ~800 KB of events: far more than the socket buffers hold
		last = mustPut(t, ts, fmt.Sprintf("k%d", i%10), big)
	}
	if st := ts.backend.hub.Stats(); st.SlowWatchers == 0 {
		t.Fatalf("the watcher was never switched to catching up: %+v", st)
	}
	want := int64(2)
	for want <= last {
		for _, ev := range c.next().Events {
			if ev.rev() != want {
				t.Fatalf("event at %d, want %d", ev.rev(), want)
			}
			want++
		}
	}
}

// wsConn is one client websocket to /v3/watch.
type wsConn struct {
	t testing.TB
	c *websocket.Conn
}

func dialWatch(t testing.TB, ts *testServer) *wsConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/v3/watch"
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c.SetReadLimit(16 << 20)
	t.Cleanup(func() { c.CloseNow() })
	return &wsConn{t: t, c: c}
}

func (w *wsConn) send(msg string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		w.t.Fatalf("send: %v", err)
	}
}

func (w *wsConn) read() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	typ, b, err := w.c.Read(ctx)
	if err == nil && typ != websocket.MessageText {
		w.t.Fatalf("a %v message", typ)
	}
	return b, err
}

func (w *wsConn) next() *wireWatch {
	w.t.Helper()
	b, err := w.read()
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return parseWatchLine(w.t, b)
}

// 100 watches multiplexed on one websocket: each gets exactly its events;
// cancels and a progress request go over the same connection.
func TestWatchWebsocketHundredWatches(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	ws := dialWatch(t, ts)
	const n = 100
	for i := range n {
		ws.send(fmt.Sprintf(`{"create_request": {"key": %q, "range_end": %q, "watch_id": %d}}`, b64(fmt.Sprintf("k%02d/", i)), b64(fmt.Sprintf("k%02d0", i)), i+1))
	}
	created := map[int64]bool{}
	for len(created) < n {
		w := ws.next()
		if !w.Created || w.Canceled {
			t.Fatalf("%+v", w)
		}
		created[w.id()] = true
	}
	want := map[int64][]int64{} // watch id -> revisions
	for round := range 3 {
		for i := range n {
			if i%7 == round {
				rev := mustPut(t, ts, fmt.Sprintf("k%02d/x", i), "v")
				want[int64(i+1)] = append(want[int64(i+1)], rev)
			}
		}
	}
	ws.send(`{"cancel_request": {"watch_id": 1}}`)
	ws.send(`{"progress_request": {}}`)
	got := map[int64][]int64{}
	var progress *wireWatch
	for progress == nil {
		w := ws.next()
		switch {
		case w.id() == -1:
			progress = w
		case w.Canceled:
			if w.id() != 1 {
				t.Fatalf("%+v", w)
			}
		default:
			for _, ev := range w.Events {
				got[w.id()] = append(got[w.id()], ev.rev())
			}
		}
	}
	for id := int64(1); id <= n; id++ {
		if fmt.Sprint(got[id]) != fmt.Sprint(want[id]) {
			t.Errorf("watch %d: revisions %v, want %v", id, got[id], want[id])
		}
	}
	rev := mustPut(t, ts, "k00/x", "after cancel")
	mustPut(t, ts, "k01/x", "v")
	if w := ws.next(); w.id() != 2 || w.Events[0].rev() != rev+1 {
		t.Fatalf("%+v: watch 1 is canceled, watch 2 gets k01/x", w)
	}
}

// A first message that does not decode: the error object as a message, then
// the connection is closed (etcd's websocket proxy).
func TestWatchWebsocketBadFirstMessage(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	ws := dialWatch(t, ts)
	ws.send("garbage")
	b, err := ws.read()
	want := `{"error":"invalid character 'g' looking for beginning of value","message":"invalid character 'g' looking for beginning of value","code":2}`
	if err != nil || string(b) != want {
		t.Fatalf("got %q, %v; want %s", b, err, want)
	}
	if _, err := ws.read(); err == nil {
		t.Fatal("the connection is still open")
	}
	// A later bad message stops the reading of requests; the watch goes on.
	ws = dialWatch(t, ts)
	ws.send(fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("k")))
	ws.next()
	ws.send("garbage")
	ws.send(fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("k")))
	rev := mustPut(t, ts, "k", "v")
	if w := ws.next(); w.id() != 0 || len(w.Events) != 1 || w.Events[0].rev() != rev {
		t.Fatalf("%+v", w)
	}
}

// Clients that go away, in the middle of a stream or a websocket, free
// every goroutine and every watcher they had.
func TestWatchDisconnectFreesEverything(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	mustPut(t, ts, "k", "0")
	ignore := goleak.IgnoreCurrent()
	var conns []*watchConn
	for i := range 20 {
		body := fmt.Sprintf(`{"create_request": {"key": %q}}{"create_request": {"key": %q, "start_revision": 1}}`, b64("k"), b64("k"))
		conns = append(conns, openWatch(t, ts, body, i%2 == 0))
	}
	var wss []*wsConn
	for range 5 {
		ws := dialWatch(t, ts)
		for range 10 {
			ws.send(fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("k")))
		}
		wss = append(wss, ws)
	}
	for _, c := range conns {
		c.next()
	}
	for _, ws := range wss {
		ws.next()
	}
	if st := ts.backend.hub.Stats(); st.Streams != 25 {
		t.Fatalf("%+v, want 25 streams", st)
	}
	mustPut(t, ts, "k", "1")
	for _, c := range conns {
		c.cancel()
		<-c.done
	}
	for _, ws := range wss {
		ws.c.CloseNow()
	}
	ts.client.CloseIdleConnections()
	for st := ts.backend.hub.Stats(); st.Streams != 0 || st.Watchers != 0; st = ts.backend.hub.Stats() {
		time.Sleep(time.Millisecond) // polling the hub, not guessing a duration
	}
	goleak.VerifyNone(t, ignore)
}

// CloseWatches-like shutdown: the hub closing ends open streams, so that an
// HTTP server's graceful shutdown is not held up by them.
func TestWatchStreamsEndWhenTheHubCloses(t *testing.T) {
	ts := newWatchServer(t, store.WatchOptions{})
	c := openWatch(t, ts, fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("k")), false)
	c.next()
	ws := dialWatch(t, ts)
	ws.send(fmt.Sprintf(`{"create_request": {"key": %q}}`, b64("k")))
	ws.next()
	ts.backend.hub.Close()
	select {
	case _, ok := <-c.lines:
		if ok {
			t.Fatal("a line after the hub closed")
		}
	case <-time.After(time.Minute):
		t.Fatal("the HTTP stream did not end")
	}
	if err := <-c.errc; err != nil {
		t.Fatalf("the stream ended with %v, want a clean end", err)
	}
	_, err := ws.read()
	if websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("websocket: %v, want a going-away close", err)
	}
}

// smallBufferListener gives every accepted connection a small send buffer.
type smallBufferListener struct{ net.Listener }

func (l *smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}
