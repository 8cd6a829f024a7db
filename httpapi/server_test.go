package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/store"
)

// The identity the test backend reports in every header.
const (
	testClusterID = 15051795338112125376
	testMemberID  = 5323637266735179746
	testTerm      = 2
)

// storeBackend is a Backend over a real store in a temp dir, applying
// requests as a one-member server does: stateless validation first (store's
// Validate methods), then each write in its own batch committed with the next
// raft index, the batch committed even when the request fails (a failed
// request changes nothing). It stands in for package server until that
// lands; newTestServer is the one place to swap it.
type storeBackend struct {
	s     *store.Store
	hub   *store.WatchHub // the store's watch hub (Watch: watch_test.go)
	mu    sync.Mutex      // one batch at a time, as the server's applier
	index uint64

	// fault, when set, is returned by every call: the named point where
	// tests inject failures the real store cannot be made to produce.
	faultMu sync.Mutex
	fault   error

	// leaseStreams is closed to end the open keepalive streams
	// (lease_backend_test.go).
	leaseStreamsOnce sync.Once
	leaseStreams     chan struct{}
}

var _ Backend = (*storeBackend)(nil)

func (b *storeBackend) injected() error {
	b.faultMu.Lock()
	defer b.faultMu.Unlock()
	return b.fault
}

func (b *storeBackend) setFault(err error) {
	b.faultMu.Lock()
	b.fault = err
	b.faultMu.Unlock()
}

func fillHeader(h *cairn.ResponseHeader) {
	h.ClusterID, h.MemberID, h.RaftTerm = testClusterID, testMemberID, testTerm
}

func (b *storeBackend) Range(ctx context.Context, req *cairn.RangeRequest) (*cairn.RangeResponse, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	resp, err := b.s.Range(req)
	if err != nil {
		return nil, err
	}
	fillHeader(&resp.Header)
	return resp, nil
}

func (b *storeBackend) History(ctx context.Context, req *cairn.HistoryRequest) (*cairn.HistoryResponse, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	resp, err := b.s.History(req)
	if err != nil {
		return nil, err
	}
	fillHeader(&resp.Header)
	return resp, nil
}

// apply runs one write in its own batch and commits it.
func (b *storeBackend) apply(fn func(*store.Batch) (*cairn.ResponseHeader, error)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	batch := b.s.Begin()
	h, err := fn(batch)
	b.index++
	if cerr := batch.Commit(b.index); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fillHeader(h)
	return nil
}

func (b *storeBackend) Put(ctx context.Context, req *cairn.PutRequest) (resp *cairn.PutResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if resp, err = batch.Put(req); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	return resp, err
}

func (b *storeBackend) DeleteRange(ctx context.Context, req *cairn.DeleteRangeRequest) (resp *cairn.DeleteRangeResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if resp, err = batch.DeleteRange(req); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	return resp, err
}

func (b *storeBackend) Txn(ctx context.Context, req *cairn.TxnRequest) (resp *cairn.TxnResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	if err := req.Validate(0); err != nil {
		return nil, err
	}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if resp, err = batch.Txn(req); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	return resp, err
}

func (b *storeBackend) Compact(ctx context.Context, req *cairn.CompactionRequest) (resp *cairn.CompactionResponse, err error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	var done <-chan struct{}
	err = b.apply(func(batch *store.Batch) (*cairn.ResponseHeader, error) {
		if resp, done, err = batch.Compact(req); err != nil {
			return nil, err
		}
		return &resp.Header, nil
	})
	if err == nil && req.Physical {
		select {
		case <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return resp, err
}

func (b *storeBackend) Status(ctx context.Context) (*cairn.Status, error) {
	if err := b.injected(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	index := b.index
	b.mu.Unlock()
	st := &cairn.Status{
		Version:          cairn.APIVersion,
		DBSize:           b.s.Size(),
		DBSizeInUse:      b.s.SizeInUse(),
		Leader:           testMemberID,
		RaftIndex:        index,
		RaftTerm:         testTerm,
		RaftAppliedIndex: index,
	}
	st.Header.Revision = b.s.Rev()
	fillHeader(&st.Header)
	return st, nil
}

// testServer is cairn's HTTP API over a real store (or, in the external
// tests, a real member), served on 127.0.0.1 by httptest. Every exchange goes
// through call, check or callOffSpec, which check it against openapi.yaml.
type testServer struct {
	t       testing.TB
	URL     string
	backend *storeBackend // nil over a member
	store   *store.Store  // nil over a member
	logs    *syncBuffer   // what the handler and net/http logged
	client  *http.Client
	// chunked makes requests go without a Content-Length.
	chunked bool
	// token, if set, goes in every request's Authorization header.
	token string
}

// newTestServer starts a test server with the default Config.
func newTestServer(t testing.TB) *testServer { return newTestServerConfig(t, Config{}) }

// newTestServerConfig starts a test server over a new store with cfg (its
// Logger is replaced by one that records into ts.logs).
func newTestServerConfig(t testing.TB, cfg Config) *testServer {
	t.Helper()
	b := newStoreBackend(t, store.WatchOptions{})
	s := b.s
	ts := serveBackend(t, b, cfg)
	ts.backend, ts.store = b, s
	return ts
}

// serveBackend serves New(b, cfg) on 127.0.0.1 until the test ends. cfg's
// Logger is replaced by one that records into ts.logs, and so is the HTTP
// server's error log (a recovered panic, as cmd/cairn logs it). Without a
// registry in cfg.Metrics it gets one of its own, so every test's requests
// go through the metrics middleware, as the cairn command's do.
func serveBackend(t testing.TB, b Backend, cfg Config) *testServer {
	t.Helper()
	ts := &testServer{t: t, logs: &syncBuffer{}}
	cfg.Logger = slog.New(slog.NewTextHandler(ts.logs, nil))
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	srv := httptest.NewUnstartedServer(New(b, cfg))
	srv.Config.ErrorLog = slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)
	srv.Listener.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	ts.URL = srv.URL
	ts.client = srv.Client()
	return ts
}

// syncBuffer is a bytes.Buffer safe for the handler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	body   string
}

// The OpenAPI document and its router, loaded and validated once.
var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func loadSpec() (routers.Router, error) {
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(cairn.OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		specRouter, specErr = legacy.NewRouter(doc)
	})
	return specRouter, specErr
}

// post sends body to a v3 path and checks the exchange against the spec.
func (ts *testServer) post(path, body string) *reply {
	ts.t.Helper()
	return ts.call(http.MethodPost, path, "application/json", body)
}

// call sends a request whose operation the spec describes, and fails the
// test unless the response is one the spec allows for it, and, when the
// server accepted the request (2xx), unless the spec allows the request too.
// contentType is sent as is; the request is validated as application/json,
// since the server reads every body as JSON whatever its type.
func (ts *testServer) call(method, path, contentType, body string) *reply {
	ts.t.Helper()
	r, err := ts.check(method, path, contentType, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return r
}

// check is call for any goroutine: it returns what call would fail on.
func (ts *testServer) check(method, path, contentType, body string) (*reply, error) {
	router, err := loadSpec()
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %v", err)
	}
	// /v3beta/ is an alias of /v3/ (documented in the spec's description).
	specPath := strings.Replace(path, "/v3beta/", "/v3/", 1)
	vreq, err := http.NewRequest(method, "http://127.0.0.1:2379"+specPath, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != "" {
		vreq.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		return nil, fmt.Errorf("%s %s is not in openapi.yaml: %v", method, path, err)
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route}
	reqErr := validateSpecRequest(ctx, in)

	r, err := ts.do(method, path, contentType, body)
	if err != nil {
		return nil, err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(strings.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return nil, fmt.Errorf("%s %s %s: response %d %s does not match openapi.yaml: %v", method, path, body, r.status, r.body, err)
	}
	if r.status/100 == 2 && reqErr != nil {
		return nil, fmt.Errorf("%s %s %s: the server accepted a request openapi.yaml forbids: %v", method, path, body, reqErr)
	}
	return r, nil
}

// callOffSpec sends a request the spec must not describe (an unknown path,
// a wrong method) and asserts that it does not.
func (ts *testServer) callOffSpec(method, path, body string) *reply {
	ts.t.Helper()
	router, err := loadSpec()
	if err != nil {
		ts.t.Fatalf("openapi.yaml: %v", err)
	}
	vreq, _ := http.NewRequest(method, "http://127.0.0.1:2379"+path, nil)
	var routeErr *routers.RouteError
	if _, _, err := router.FindRoute(vreq); err == nil {
		ts.t.Fatalf("%s %s is in openapi.yaml; use call", method, path)
	} else if !errors.As(err, &routeErr) {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	return ts.send(method, path, "", body)
}

// send makes a request without checking it against the spec (for the
// reference etcd, and for callOffSpec).
func (ts *testServer) send(method, path, contentType, body string) *reply {
	ts.t.Helper()
	r, err := ts.do(method, path, contentType, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return r
}

func (ts *testServer) do(method, path, contentType, body string) (*reply, error) {
	var rd io.Reader = strings.NewReader(body)
	if ts.chunked {
		rd = io.MultiReader(rd) // hides the length
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if ts.token != "" {
		req.Header.Set("Authorization", ts.token)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %v", method, path, err)
	}
	return &reply{status: resp.StatusCode, header: resp.Header, body: string(b)}, nil
}
