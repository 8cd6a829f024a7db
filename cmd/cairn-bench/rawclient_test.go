package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTestPool is a raw pool of conns connections to base.
func newTestPool(base string, conns int, timeout time.Duration) *rawPool {
	return newRawPool(base, conns, timeout, nil)
}

// seenRequest is what a test server saw of one request.
type seenRequest struct {
	method, path, host, contentType string
	contentLength                   int64
	body                            string
}

// recordingServer is an httptest server on 127.0.0.1 that records every
// request and counts the connections opened to it; handle answers.
type recordingServer struct {
	*httptest.Server
	mu    sync.Mutex
	seen  []seenRequest
	conns atomic.Int64
}

func newRecordingServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) *recordingServer {
	t.Helper()
	s := &recordingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server reading the body: %v", err)
		}
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{r.Method, r.URL.RequestURI(), r.Host, r.Header.Get("Content-Type"), r.ContentLength, string(body)})
		s.mu.Unlock()
		handle(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *recordingServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

func TestRawClientReadsContentLengthAndChunkedBodies(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 5000) // 80 KB: several reads, several chunks
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/len":
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		case "/chunked":
			for i := 0; i < len(big); i += 7000 {
				io.WriteString(w, big[i:min(i+7000, len(big))])
				w.(http.Flusher).Flush() // each write its own chunk
			}
		case "/empty":
			w.WriteHeader(204)
		}
	})
	p := newTestPool(srv.URL, 1, 30*time.Second)
	defer p.close()
	var buf bytes.Buffer
	for round := range 3 {
		for _, path := range []string{"/len", "/chunked", "/empty"} {
			status, body, err := p.do(t.Context(), request{path: path, body: []byte(`{"round":` + strconv.Itoa(round) + `}`)}, &buf)
			want, wantStatus := big, 200
			if path == "/empty" {
				want, wantStatus = "", 204
			}
			if err != nil || status != wantStatus || string(body) != want {
				t.Fatalf("%s round %d: status %d, %d-byte body, err %v; want %d and %d bytes", path, round, status, len(body), err, wantStatus, len(want))
			}
		}
	}
	seen := srv.requests()
	if len(seen) != 9 {
		t.Fatalf("server saw %d requests, want 9", len(seen))
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for i, r := range seen {
		wantBody := `{"round":` + strconv.Itoa(i/3) + `}`
		if r.method != "POST" || r.host != host || r.contentType != "application/json" || r.body != wantBody || r.contentLength != int64(len(wantBody)) {
			t.Errorf("request %d seen as %+v, want POST to %s of %s", i, r, host, wantBody)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 9 requests on a keep-alive pool of one", n)
	}
}

func TestRawClientReturnsStatusesWithTheirBodies(t *testing.T) {
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Query().Get("code"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"errorCode":%d,"message":"answer %d"}`, code, code)
	})
	p := newTestPool(srv.URL, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	for _, code := range []int{201, 200, 400, 404, 412, 500, 503, 200} {
		status, body, err := p.do(t.Context(), request{method: "PUT", path: "/v2/keys/a?code=" + strconv.Itoa(code), body: []byte("value=x"), contentType: formContentType}, &buf)
		want := fmt.Sprintf(`{"errorCode":%d,"message":"answer %d"}`, code, code)
		if err != nil || status != code || string(body) != want {
			t.Fatalf("status %d body %q err %v; want %d %q", status, body, err, code, want)
		}
	}
	for _, r := range srv.requests() {
		if r.method != "PUT" || r.contentType != formContentType || r.body != "value=x" {
			t.Errorf("request seen as %+v", r)
		}
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections: an error status must not cost the connection", n)
	}
}

func TestRawClientGETHasNoBody(t *testing.T) {
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	p := newTestPool(srv.URL, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	if status, body, err := p.do(t.Context(), request{method: "GET", path: "/v2/keys/a%2Fb?quorum=true"}, &buf); err != nil || status != 200 || string(body) != "ok" {
		t.Fatalf("status %d body %q err %v", status, body, err)
	}
	if seen := srv.requests(); len(seen) != 1 || seen[0].method != "GET" || seen[0].path != "/v2/keys/a%2Fb?quorum=true" || seen[0].contentLength != 0 || seen[0].body != "" {
		t.Fatalf("server saw %+v", seen)
	}
	// A bodiless GET carries no Content-Length (as net/http sends it); a
	// POST always does.
	if got := string(appendRequest(nil, "h:1", "", request{method: "GET", path: "/x"})); got != "GET /x HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\n\r\n" {
		t.Errorf("GET request %q", got)
	}
	if got := string(appendRequest(nil, "h:1", "", request{path: "/x"})); got != "POST /x HTTP/1.1\r\nHost: h:1\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n" {
		t.Errorf("empty POST request %q", got)
	}
}

func TestRawClientDropsAConnectionTheServerCloses(t *testing.T) {
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close") // net/http's server then closes after the answer
		io.WriteString(w, "bye")
	})
	p := newTestPool(srv.URL, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	for i := range 5 {
		if status, body, err := p.do(t.Context(), request{path: "/x"}, &buf); err != nil || status != 200 || string(body) != "bye" {
			t.Fatalf("request %d: status %d body %q err %v", i, status, body, err)
		}
	}
	if n, seen := srv.conns.Load(), len(srv.requests()); n != 5 || seen != 5 {
		t.Fatalf("%d connections and %d requests seen, want a new connection for each of 5 requests", n, seen)
	}
}

// scriptedServer is a raw TCP server on 127.0.0.1: for each connection it
// reads requests and calls answer with the connection's number and the
// request's number on it; answer writes what it likes and says whether to
// keep the connection.
type scriptedServer struct {
	url      string
	conns    atomic.Int64 // connections accepted
	requests atomic.Int64 // whole requests read
}

func newScriptedServer(t *testing.T, answer func(conn, req int, w io.Writer, body []byte) bool) *scriptedServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{url: "http://" + l.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			n := int(s.conns.Add(1))
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for req := 0; ; req++ {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					body, err := io.ReadAll(r.Body)
					if err != nil {
						return
					}
					s.requests.Add(1)
					if !answer(n, req, c, body) {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return s
}

const okAnswer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

func TestRawClientRetriesOnceWhenAReusedIdleConnectionWasClosed(t *testing.T) {
	// The server answers one request per connection, then closes it
	// without saying so, as a server whose idle timeout fires would.
	srv := newScriptedServer(t, func(_, _ int, w io.Writer, _ []byte) bool {
		io.WriteString(w, okAnswer)
		return false
	})
	p := newTestPool(srv.url, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	for i := range 5 {
		if status, body, err := p.do(t.Context(), request{path: "/x", body: []byte("b")}, &buf); err != nil || status != 200 || string(body) != "ok" {
			t.Fatalf("request %d: status %d body %q err %v", i, status, body, err)
		}
	}
	// Each request was read (so answered) exactly once: none lost, none
	// sent twice to a server that took it.
	if c, r := srv.conns.Load(), srv.requests.Load(); r != 5 || c < 5 {
		t.Fatalf("server saw %d requests over %d connections, want 5 requests over at least 5", r, c)
	}
}

func TestRawClientDoesNotRetryOnANewConnection(t *testing.T) {
	// The server reads each request and closes without answering.
	srv := newScriptedServer(t, func(_, _ int, _ io.Writer, _ []byte) bool { return false })
	p := newTestPool(srv.url, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	_, _, err := p.do(t.Context(), request{path: "/x", body: []byte("b")}, &buf)
	if err == nil || !errors.Is(err, io.EOF) {
		t.Fatalf("err %v, want the server's close (EOF)", err)
	}
	if c, r := srv.conns.Load(), srv.requests.Load(); c != 1 || r != 1 {
		t.Fatalf("server saw %d requests over %d connections, want the one request once", r, c)
	}
}

func TestRawClientDoesNotRetryAfterPartOfAnAnswer(t *testing.T) {
	// First request: a whole answer. Second, on the same connection: the
	// status line, then the close.
	srv := newScriptedServer(t, func(_, req int, w io.Writer, _ []byte) bool {
		if req == 0 {
			io.WriteString(w, okAnswer)
			return true
		}
		io.WriteString(w, "HTTP/1.1 200 OK\r\nContent-Len")
		return false
	})
	p := newTestPool(srv.url, 1, 0)
	defer p.close()
	var buf bytes.Buffer
	if _, _, err := p.do(t.Context(), request{path: "/x"}, &buf); err != nil {
		t.Fatal(err)
	}
	_, _, err := p.do(t.Context(), request{path: "/x"}, &buf)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want unexpected EOF", err)
	}
	if c, r := srv.conns.Load(), srv.requests.Load(); c != 1 || r != 2 {
		t.Fatalf("server saw %d requests over %d connections, want 2 over 1 (no retry)", r, c)
	}
	// The broken connection is gone: the next request dials anew.
	if _, _, err := p.do(t.Context(), request{path: "/x"}, &buf); err != nil || srv.conns.Load() != 2 {
		t.Fatalf("after a broken answer: err %v, %d connections", err, srv.conns.Load())
	}
}

func TestRawClientParsesWhatServersSend(t *testing.T) {
	for _, tc := range []struct {
		name, answer, wantBody string
		wantStatus             int
		wantKeep               bool
	}{
		{"interim 100 then 201", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\nnew", "new", 201, true},
		{"chunk extensions and trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n", "abcd0123456789", 200, true},
		{"chunked wins over a length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", "hi", 200, true},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok", "ok", 200, false},
		{"HTTP/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "ok", 200, false},
		{"HTTP/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", "ok", 200, true},
		{"no length: body to the close", "HTTP/1.1 200 OK\r\n\r\nuntil close", "until close", 200, false},
		{"bare LF lines", "HTTP/1.1 404 Not Found\nContent-Length: 4\n\nnone", "none", 404, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptedServer(t, func(_, _ int, w io.Writer, _ []byte) bool {
				io.WriteString(w, tc.answer)
				return tc.wantKeep
			})
			p := newTestPool(srv.url, 1, 0)
			defer p.close()
			var buf bytes.Buffer
			for i := range 2 {
				status, body, err := p.do(t.Context(), request{path: "/x"}, &buf)
				if err != nil || status != tc.wantStatus || string(body) != tc.wantBody {
					t.Fatalf("request %d: status %d body %q err %v; want %d %q", i, status, body, err, tc.wantStatus, tc.wantBody)
				}
			}
			wantConns := int64(2)
			if tc.wantKeep {
				wantConns = 1
			}
			if n := srv.conns.Load(); n != wantConns {
				t.Fatalf("%d connections for 2 requests, want %d", n, wantConns)
			}
		})
	}
}

func TestRawClientRefusesMalformedAnswers(t *testing.T) {
	for _, tc := range []struct{ answer, want string }{
		{"HTTP/2 200 OK\r\n\r\n", "malformed HTTP status line"},
		{"HTTP/1.1 2x0 OK\r\n\r\n", "malformed HTTP status line"},
		{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "bad Content-Length"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunk size"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "chunk not followed by CRLF"},
		{"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "malformed HTTP header line"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "unexpected EOF"},
	} {
		srv := newScriptedServer(t, func(_, _ int, w io.Writer, _ []byte) bool {
			io.WriteString(w, tc.answer)
			return false
		})
		p := newTestPool(srv.url, 1, 0)
		var buf bytes.Buffer
		_, _, err := p.do(t.Context(), request{path: "/x"}, &buf)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("answer %q: err %v, want %q", tc.answer, err, tc.want)
		}
		p.close()
	}
}

func TestRawClientHeaderTimeoutAndCancel(t *testing.T) {
	received := make(chan struct{}, 10)
	release := make(chan struct{})
	srv := newScriptedServer(t, func(_, _ int, w io.Writer, _ []byte) bool {
		received <- struct{}{}
		<-release // never answers before the test ends
		return false
	})
	defer close(release)
	var buf bytes.Buffer

	p := newTestPool(srv.url, 1, 50*time.Millisecond)
	_, _, err := p.do(t.Context(), request{path: "/x"}, &buf)
	if !errors.Is(err, errHeaderTimeout) {
		t.Fatalf("err %v, want %v", err, errHeaderTimeout)
	}
	p.close()

	p = newTestPool(srv.url, 1, 0)
	defer p.close()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-received
		<-received // the second request is at the server: cancel it
		cancel()
	}()
	if _, _, err = p.do(ctx, request{path: "/x"}, &buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	// A cancelled context also ends a wait for a free connection.
	if _, _, err = p.do(ctx, request{path: "/x"}, &buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := srv.requests.Load(); n != 2 {
		t.Fatalf("server saw %d requests, want 2", n)
	}
}

func TestRawClientSharesAtMostItsConnections(t *testing.T) {
	var inFlight, maxInFlight atomic.Int64
	srv := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		io.WriteString(w, r.URL.Path)
		inFlight.Add(-1)
	})
	p := newTestPool(srv.URL, 2, 0)
	defer p.close()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := range 30 {
				path := fmt.Sprintf("/%d/%d", g, i)
				if status, body, err := p.do(t.Context(), request{path: path}, &buf); err != nil || status != 200 || string(body) != path {
					t.Errorf("%s: status %d body %q err %v", path, status, body, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(srv.requests()); n != 180 {
		t.Errorf("server saw %d requests, want 180", n)
	}
	if c, m := srv.conns.Load(), maxInFlight.Load(); c > 2 || m > 2 {
		t.Errorf("%d connections, %d requests at once; want at most 2", c, m)
	}
}

// trivialServerEnv makes the test binary a trivial HTTP server (see
// TestMain) for BenchmarkClientCPU, so that the server's CPU time is not
// counted as the client's.
const trivialServerEnv = "CAIRN_BENCH_TRIVIAL_SERVER"

// serveTrivial answers every request with a small JSON body, like a put's
// answer, on a loopback port it prints; it returns when stdin closes.
func serveTrivial() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	answer := []byte(`{"header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"4"}}`)
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	fmt.Println(l.Addr())
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startTrivialServer runs serveTrivial in a child process and returns its
// URL.
func startTrivialServer(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), trivialServerEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return "http://" + strings.TrimSpace(line)
}

// BenchmarkClientCPU sends puts from 8 clients over 8 connections to a
// trivial server in another process, through each HTTP client, and reports
// this process's CPU time per request (client-µs/op) next to the wall time.
func BenchmarkClientCPU(b *testing.B) {
	base := startTrivialServer(b)
	for _, kind := range []string{"raw", "std"} {
		b.Run(kind, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Endpoints, cfg.Clients, cfg.HTTPClient, cfg.ValSize = []string{base}, 8, kind, 256
			if err := cfg.Validate(); err != nil {
				b.Fatal(err)
			}
			eps := newEndpoints(&cfg)
			defer closeEndpoints(eps)
			value := valueBytes(1, cfg.ValSize)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0, _ := processCPU()
			for range cfg.Clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					o, _ := putWorkload.newOp(&cfg, value)
					var buf bytes.Buffer
					for next.Add(1) <= int64(b.N) {
						if status, _, err := eps[0].do(context.Background(), o.build([]byte("key00001")), &buf); err != nil || status != 200 {
							b.Errorf("status %d err %v", status, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			cpu1, _ := processCPU()
			b.StopTimer()
			b.ReportMetric(float64(cpu1-cpu0)/float64(time.Microsecond)/float64(b.N), "client-µs/op")
		})
	}
}
