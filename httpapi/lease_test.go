package httpapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/coder/websocket"
	"github.com/getkin/kin-openapi/openapi3filter"
)

func TestLeaseParse(t *testing.T) {
	const toInt = "json: cannot unmarshal bool into Go value of type int64"
	bad := []struct{ endpoint, body, msg string }{
		{"grant", `{"TTL":true}`, toInt},
		{"grant", `{"ID":true,"TTL":"x"}`, "invalid character 'x' looking for beginning of value"}, // TTL first
		{"grant", `[]`, "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{"revoke", `{"ID":true}`, toInt},
		{"timetolive", `{"ID":200,"keys":1}`, "json: cannot unmarshal number into Go value of type bool"},
		{"timetolive", `{"keys":1,"ID":true}`, toInt}, // ID first
		{"timetolive", `{"ID":`, "unexpected EOF"},
	}
	for _, tt := range bad {
		_, err := parseLeaseAny(tt.endpoint, tt.body)
		var pe *parseError
		if !errors.As(err, &pe) || pe.msg != tt.msg {
			t.Errorf("%s %s: %v, want %q", tt.endpoint, tt.body, err, tt.msg)
		}
	}
	good := []struct {
		endpoint, body string
		want           any
	}{
		{"grant", ``, &cairn.LeaseGrantRequest{}},
		{"grant", `{"TTL":"60","ID":-3}`, &cairn.LeaseGrantRequest{TTL: 60, ID: -3}},
		// Only the .proto names: "ttl" and "id" are unknown fields.
		{"grant", `{"ttl":7,"id":77}`, &cairn.LeaseGrantRequest{}},
		{"revoke", `{"ID":"9223372036854775807"}`, int64(9223372036854775807)},
		{"revoke", `null`, int64(0)},
		{"timetolive", `{"ID":5,"keys":true}`, &cairn.LeaseTimeToLiveRequest{ID: 5, Keys: true}},
		{"timetolive", `{"ID":5,"Keys":true}`, &cairn.LeaseTimeToLiveRequest{ID: 5}},
	}
	for _, tt := range good {
		got, err := parseLeaseAny(tt.endpoint, tt.body)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s: %#v %v, want %#v", tt.endpoint, tt.body, got, err, tt.want)
		}
	}
}

func parseLeaseAny(endpoint, body string) (any, error) {
	d := &decoder{b: []byte(body)}
	switch endpoint {
	case "grant":
		return parseLeaseGrant(d)
	case "revoke":
		return parseLeaseID(d)
	case "timetolive":
		return parseLeaseTimeToLive(d)
	}
	panic(endpoint)
}

// TestLeaseRoundTrip: grant, attach, read, list, revoke, over a real store,
// every exchange checked against openapi.yaml.
func TestLeaseRoundTrip(t *testing.T) {
	ts := newTestServer(t)
	expect(t, ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`), 200, `{`+hdr(1)+`,"ID":"7","TTL":"60"}`)
	expect(t, ts.post("/v3/lease/grant", `{"TTL":0,"ID":8}`), 200, `{`+hdr(1)+`,"ID":"8","TTL":"2"}`)
	expect(t, ts.post("/v3/lease/grant", `{"TTL":5,"ID":7}`), 412,
		`{"error":"etcdserver: lease already exists","message":"etcdserver: lease already exists","code":9}`)
	expect(t, ts.post("/v3/lease/grant", `{"TTL":9000000001}`), 400,
		`{"error":"etcdserver: too large lease TTL","message":"etcdserver: too large lease TTL","code":11}`)
	r := ts.post("/v3/lease/grant", `{"TTL":10}`)
	if r.status != 200 || !strings.Contains(r.body, `"TTL":"10"`) || strings.Contains(r.body, `"ID":"0"`) {
		t.Fatalf("grant with a picked ID: %d %s", r.status, r.body)
	}

	expect(t, ts.post("/v3/kv/put", `{"key":"Yg==","value":"dg==","lease":7}`), 200, `{`+hdr(2)+`}`)
	expect(t, ts.post("/v3/kv/put", `{"key":"YQ==","value":"dg==","lease":"7"}`), 200, `{`+hdr(3)+`}`)
	expect(t, ts.post("/v3/kv/put", `{"key":"Yw==","value":"dg==","lease":99}`), 404,
		`{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"YQ=="}`), 200,
		`{`+hdr(3)+`,"kvs":[{"key":"YQ==","create_revision":"3","mod_revision":"3","version":"1","value":"dg==","lease":"7"}],"count":"1"}`)
	// Keys in ascending order, whatever order they were attached in.
	expect(t, ts.post("/v3/lease/timetolive", `{"ID":7,"keys":true}`), 200,
		`{`+hdr(3)+`,"ID":"7","TTL":"60","grantedTTL":"60","keys":["YQ==","Yg=="]}`)
	expect(t, ts.post("/v3/kv/lease/timetolive", `{"ID":7}`), 200, `{`+hdr(3)+`,"ID":"7","TTL":"60","grantedTTL":"60"}`)
	expect(t, ts.post("/v3/lease/timetolive", `{"ID":99,"keys":true}`), 200, `{`+hdr(3)+`,"ID":"99","TTL":"-1"}`)
	r = ts.post("/v3/lease/leases", ``)
	if r.status != 200 || !strings.HasPrefix(r.body, `{`+hdr(3)+`,"leases":[{"ID":"7"},{"ID":"8"},{"ID":"`) {
		t.Fatalf("leases: %d %s", r.status, r.body)
	}
	expect(t, ts.post("/v3/lease/keepalive", `{"ID":7}`), 200, `{"result":{`+hdr(3)+`,"ID":"7","TTL":"60"}}`+"\n")

	// The revoke deletes both keys in revision 4.
	expect(t, ts.post("/v3/kv/lease/revoke", `{"ID":7}`), 200, `{`+hdr(4)+`}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"YQ==","range_end":"Yw==","revision":3,"count_only":true}`), 200, `{`+hdr(4)+`,"count":"2"}`)
	expect(t, ts.post("/v3/kv/range", `{"key":"YQ==","range_end":"Yw==","count_only":true}`), 200, `{`+hdr(4)+`}`)
	expect(t, ts.post("/v3/lease/revoke", `{"ID":7}`), 404,
		`{"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5}`)
	expect(t, ts.post("/v3/lease/revoke", `{"ID":8}`), 200, `{`+hdr(4)+`}`)
	expect(t, ts.post("/v3/lease/keepalive", `{"ID":7}`), 200, `{"result":{`+hdr(4)+`,"ID":"7"}}`+"\n")
}

// keepAliveSchemaCheck validates each line of a keepalive answer against the
// 200 response of /v3/lease/keepalive in openapi.yaml.
func keepAliveSchemaCheck(t *testing.T, status int, lines []string) {
	t.Helper()
	router, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:2379/v3/lease/keepalive", nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatal(err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
	for _, line := range lines {
		h := http.Header{"Content-Type": []string{"application/json"}}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h,
			Body: io.NopCloser(strings.NewReader(line)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("keepalive line %q (status %d) does not match openapi.yaml: %v", line, status, err)
		}
	}
}

// splitLines splits a keepalive answer into its lines; a final line
// without a newline (a stream error) counts too.
func splitLines(body string) []string {
	var lines []string
	for body != "" {
		i := strings.IndexByte(body, '\n')
		if i < 0 {
			return append(lines, body)
		}
		lines = append(lines, body[:i])
		body = body[i+1:]
	}
	return lines
}

// TestKeepAliveOneShot: the ends of the stream, as etcd's gateway has them.
func TestKeepAliveOneShot(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`)
	line := func(id string, ttl string) string {
		s := `{"result":{` + hdr(1)
		if id != "" {
			s += `,"ID":"` + id + `"`
		}
		if ttl != "" {
			s += `,"TTL":"` + ttl + `"`
		}
		return s + "}}"
	}
	tests := []struct {
		body   string
		status int
		lines  []string
	}{
		{``, 200, nil},
		{`{"ID":7}`, 200, []string{line("7", "60")}},
		{`{"ID":7} {"ID":"99"}` + "\n" + `{"ID":7}`, 200, []string{line("7", "60"), line("99", ""), line("7", "60")}},
		{`null`, 200, []string{line("", "")}},
		{`{"ID":"0"}`, 200, []string{line("", "")}},
		// A bad request after good ones ends the stream quietly.
		{`{"ID":7}xx`, 200, []string{line("7", "60")}},
		{`{"ID":7}[1]{"ID":7}`, 200, []string{line("7", "60")}},
		{`{"ID":7}{"ID":true}`, 200, []string{line("7", "60")}},
		// A bad first request: the unary error body, code 2, 500.
		{`xx`, 500, []string{`{"error":"invalid character 'x' looking for beginning of value","message":"invalid character 'x' looking for beginning of value","code":2}`}},
		{`[1]`, 500, []string{`{"error":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","message":"json: cannot unmarshal array into Go value of type map[string]json.RawMessage","code":2}`}},
		{`{"ID":true}`, 500, []string{`{"error":"json: cannot unmarshal bool into Go value of type int64","message":"json: cannot unmarshal bool into Go value of type int64","code":2}`}},
	}
	for _, tt := range tests {
		r := ts.send("POST", "/v3/lease/keepalive", "application/x-www-form-urlencoded", tt.body)
		lines := splitLines(r.body)
		if r.status != tt.status || !reflect.DeepEqual(lines, tt.lines) || (tt.status == 200 && len(lines) > 0 && !strings.HasSuffix(r.body, "\n")) {
			t.Errorf("keepalive %q:\n got %d %q\nwant %d %q", tt.body, r.status, r.body, tt.status, tt.lines)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("keepalive %q: Content-Type %q", tt.body, r.header.Get("Content-Type"))
		}
		keepAliveSchemaCheck(t, r.status, lines)
	}
	if strings.Contains(ts.logs.String(), "level=ERROR") {
		t.Errorf("bad client input was logged as an internal error: %s", ts.logs.String())
	}
}

// TestKeepAliveStreamErrors: a renewal that fails ends the stream with the
// gateway's stream error object, with its status if nothing was written.
func TestKeepAliveStreamErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.backend.setFault(cairn.ErrNoLeader)
	r := ts.send("POST", "/v3/lease/keepalive", "", `{"ID":7}`)
	want := `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}}`
	if r.status != 503 || r.body != want {
		t.Fatalf("first renewal fails:\n got %d %q\nwant 503 %q", r.status, r.body, want)
	}
	keepAliveSchemaCheck(t, 503, []string{r.body})
}

// keepAliveStream is a client of the keepalive stream that sends requests
// and reads answers over one open HTTP exchange.
type keepAliveStream struct {
	t    *testing.T
	pw   *io.PipeWriter
	resp *http.Response
	rd   *bufio.Reader
}

func openKeepAliveStream(t *testing.T, url string) *keepAliveStream {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", url+"/v3/lease/keepalive", pr)
	if err != nil {
		t.Fatal(err)
	}
	s := &keepAliveStream{t: t, pw: pw}
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err == nil {
			s.resp, s.rd = resp, bufio.NewReader(resp.Body)
		}
		done <- err
	}()
	// The transport returns the response once the server wrote its
	// headers, which it does with the first answer: send the first request
	// before waiting.
	s.send(`{"ID":0}`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	if l := s.line(); !strings.HasPrefix(l, `{"result":{"header":`) {
		t.Fatalf("first line %q", l)
	}
	return s
}

func (s *keepAliveStream) send(body string) {
	s.t.Helper()
	if _, err := io.WriteString(s.pw, body); err != nil {
		s.t.Fatal(err)
	}
}

// line reads the next answer line (without its newline).
func (s *keepAliveStream) line() string {
	s.t.Helper()
	l, err := s.rd.ReadString('\n')
	if err != nil {
		s.t.Fatalf("reading a keepalive line: %v (read %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

func (s *keepAliveStream) close() {
	s.pw.Close()
	if s.resp != nil {
		io.Copy(io.Discard, s.resp.Body)
		s.resp.Body.Close()
	}
}

// TestKeepAliveIsAStream: each request is answered while the request body
// is still open, so a client keeps one exchange for all its keepalives; a
// renewal that fails later ends the stream with the stream error object.
func TestKeepAliveIsAStream(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`)
	s := openKeepAliveStream(t, ts.URL)
	for i := 0; i < 3; i++ {
		s.send(`{"ID":7}` + "\n")
		if l := s.line(); l != `{"result":{`+hdr(1)+`,"ID":"7","TTL":"60"}}` {
			t.Fatalf("answer %d: %q", i, l)
		}
	}
	ts.post("/v3/lease/revoke", `{"ID":7}`)
	s.send(`{"ID":7}`)
	if l := s.line(); l != `{"result":{`+hdr(1)+`,"ID":"7"}}` {
		t.Fatalf("answer after the revoke: %q", l)
	}
	ts.backend.setFault(cairn.ErrTimeout)
	s.send(`{"ID":7}`)
	rest, _ := io.ReadAll(s.rd)
	if want := `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: request timed out","http_status":"Service Unavailable"}}`; string(rest) != want {
		t.Fatalf("after a failed renewal: %q, want %q", rest, want)
	}
	if s.resp.StatusCode != 200 {
		t.Fatalf("status %d", s.resp.StatusCode)
	}
}

func dialKeepAlive(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/v3/lease/keepalive", nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func wsRead(t *testing.T, c *websocket.Conn) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, b, err := c.Read(ctx)
	if err == nil && typ != websocket.MessageText {
		t.Fatalf("frame of type %v", typ)
	}
	return string(b), err
}

func wsWrite(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(context.Background(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

// TestKeepAliveWebSocket: the websocket form, as etcd's websocket proxy:
// frames in are requests (a frame may hold several), each answer is a text
// frame; a bad first request gets the error body as a frame, and the
// server closes.
func TestKeepAliveWebSocket(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`)
	c := dialKeepAlive(t, ts.URL)
	ok := `{"result":{` + hdr(1) + `,"ID":"7","TTL":"60"}}`
	wsWrite(t, c, `{"ID":7}`)
	if got, err := wsRead(t, c); got != ok || err != nil {
		t.Fatalf("first answer %q %v", got, err)
	}
	wsWrite(t, c, `{"ID":99}{"ID":7}`)
	for _, want := range []string{`{"result":{` + hdr(1) + `,"ID":"99"}}`, ok} {
		if got, err := wsRead(t, c); got != want || err != nil {
			t.Fatalf("answer %q %v, want %q", got, err, want)
		}
	}
	// A bad request after good ones: the server closes without an error.
	wsWrite(t, c, `xx`)
	if got, err := wsRead(t, c); err == nil {
		t.Fatalf("after a bad request: %q", got)
	} else if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("after a bad request: %v", err)
	}

	c = dialKeepAlive(t, ts.URL)
	wsWrite(t, c, `xx`)
	want := `{"error":"invalid character 'x' looking for beginning of value","message":"invalid character 'x' looking for beginning of value","code":2}`
	if got, err := wsRead(t, c); got != want || err != nil {
		t.Fatalf("bad first request: %q %v, want %q", got, err, want)
	}

	// The client closing ends the stream on the server too (goleak checks
	// that nothing is left running).
	c = dialKeepAlive(t, ts.URL)
	wsWrite(t, c, `{"ID":7}`)
	if got, err := wsRead(t, c); got != ok || err != nil {
		t.Fatalf("answer %q %v", got, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	// A GET without the upgrade is refused as etcd refuses it.
	expect(t, ts.callOffSpec("GET", "/v3/lease/keepalive", ""), 405, "Method Not Allowed\n")
}

// TestLeaseCompareWithEtcd: the keepalive stream's answers, byte for byte,
// against a real etcd 3.4 (the unary lease endpoints are in etcdScript).
func TestLeaseCompareWithEtcd(t *testing.T) {
	compareKeepAliveWithEtcd(t, newTestServer(t))
}

func compareKeepAliveWithEtcd(t *testing.T, ts *testServer) {
	etcd := startEtcd(t)
	setup := []string{`{"TTL":600,"ID":100}`, `{"TTL":30,"ID":50}`}
	for _, body := range setup {
		want := etcdPost(t, etcd+"/v3/lease/grant", body)
		got := ts.post("/v3/lease/grant", body)
		if got.status != want.status || normalize(got.body) != normalize(want.body) {
			t.Fatalf("grant %s: cairn %d %s, etcd %d %s", body, got.status, got.body, want.status, want.body)
		}
	}
	for _, body := range []string{
		`{"ID":100}`, `{"ID":100}{"ID":999}` + "\n" + `{"ID":"50"}`, ``, `null`, `{"ID":"0"}`,
		`xx`, `[1]`, `{"ID":true}`, `{"ID":100}xx`, `{"ID":100}[1]{"ID":100}`, `{"ID":100} {"ID":`,
	} {
		want := etcdPost(t, etcd+"/v3/lease/keepalive", body)
		got := ts.send("POST", "/v3/lease/keepalive", "application/x-www-form-urlencoded", body)
		if got.status != want.status || normalize(got.body) != normalize(want.body) {
			t.Errorf("keepalive %q\ncairn %d %q\netcd  %d %q", body, got.status, got.body, want.status, want.body)
		}
	}
}

// TestLeaseErrorsChangeNothing: refused lease requests write nothing.
func TestLeaseErrorsChangeNothing(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`)
	ts.post("/v3/kv/put", `{"key":"YQ==","value":"dg==","lease":7}`)
	for _, c := range []struct{ path, body string }{
		{"/v3/lease/grant", `{"TTL":5,"ID":7}`},
		{"/v3/lease/grant", `{"TTL":9000000001,"ID":8}`},
		{"/v3/lease/grant", `{"TTL":true}`},
		{"/v3/lease/revoke", `{"ID":8}`},
		{"/v3/lease/revoke", `{"ID":"x"}`},
		{"/v3/kv/put", `{"key":"Yg==","lease":8}`},
		{"/v3/kv/txn", `{"success":[{"request_put":{"key":"Yw==","lease":7}},{"request_put":{"key":"ZA==","lease":8}}]}`},
	} {
		if r := ts.post(c.path, c.body); r.status == 200 {
			t.Fatalf("%s %s accepted: %s", c.path, c.body, r.body)
		}
	}
	expect(t, ts.post("/v3/kv/range", `{"key":"AA==","range_end":"AA==","keys_only":true}`), 200,
		`{`+hdr(2)+`,"kvs":[{"key":"YQ==","create_revision":"2","mod_revision":"2","version":"1","lease":"7"}],"count":"1"}`)
	expect(t, ts.post("/v3/lease/leases", `{}`), 200, `{`+hdr(2)+`,"leases":[{"ID":"7"}]}`)
	expect(t, ts.post("/v3/lease/timetolive", `{"ID":7,"keys":true}`), 200,
		`{`+hdr(2)+`,"ID":"7","TTL":"60","grantedTTL":"60","keys":["YQ=="]}`)
}

// TestKeepAliveStreamsEndOnClose: when the member closes its keepalive
// streams (a graceful shutdown), open ones end with the stream error of a
// stopped member, over HTTP and websocket, and new ones end at once.
func TestKeepAliveStreamsEndOnClose(t *testing.T) {
	ts := newTestServer(t)
	ts.post("/v3/lease/grant", `{"TTL":60,"ID":7}`)
	s := openKeepAliveStream(t, ts.URL)
	c := dialKeepAlive(t, ts.URL)
	wsWrite(t, c, `{"ID":7}`)
	if _, err := wsRead(t, c); err != nil {
		t.Fatal(err)
	}

	ts.backend.closeLeaseStreams()
	stopped := `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: server stopped","http_status":"Service Unavailable"}}`
	rest, _ := io.ReadAll(s.rd)
	if string(rest) != stopped {
		t.Fatalf("the HTTP stream after the close: %q, want %q", rest, stopped)
	}
	if got, err := wsRead(t, c); got != stopped || err != nil {
		t.Fatalf("the websocket after the close: %q %v, want %q", got, err, stopped)
	}
	if _, err := wsRead(t, c); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("the websocket's close: %v, want going away", err)
	}
	r := ts.send("POST", "/v3/lease/keepalive", "", `{"ID":7}`)
	if r.status != 503 || r.body != stopped {
		t.Fatalf("a new stream after the close: %d %q", r.status, r.body)
	}
}
