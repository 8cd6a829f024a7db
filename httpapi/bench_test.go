package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn"
)

// The requests cairn-bench sends (small keys and values).
const (
	benchPut   = `{"key":"a2V5LTAwMDAwMDAx","value":"dmFsdWUtdmFsdWUtdmFsdWUtdmFsdWUtdmFsdWUtMDE="}`
	benchRange = `{"key":"a2V5LTAwMDAwMDAx"}`
	benchTxn   = `{"compare":[{"key":"a2V5LTAwMDAwMDAx","target":"MOD","result":"LESS","mod_revision":"1000"}],` +
		`"success":[{"request_put":{"key":"a2V5LTAwMDAwMDAx","value":"dmFsdWU="}}],"failure":[{"request_range":{"key":"a2V5LTAwMDAwMDAx"}}]}`
)

func BenchmarkParsePut(b *testing.B) {
	body := []byte(benchPut)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		d := decoder{b: body}
		if _, err := parsePut(&d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRange(b *testing.B) {
	body := []byte(benchRange)
	b.ReportAllocs()
	for b.Loop() {
		d := decoder{b: body}
		if _, err := parseRange(&d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTxn(b *testing.B) {
	body := []byte(benchTxn)
	b.ReportAllocs()
	for b.Loop() {
		d := decoder{b: body}
		if _, err := parseTxn(&d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeRange(b *testing.B) {
	resp := &cairn.RangeResponse{Header: cairn.ResponseHeader{ClusterID: testClusterID, MemberID: testMemberID, Revision: 123456, RaftTerm: 2}, Count: 10}
	for i := 0; i < 10; i++ {
		resp.Kvs = append(resp.Kvs, &cairn.KeyValue{Key: []byte("key-00000001"), Value: bytes.Repeat([]byte("v"), 64), CreateRevision: 100, ModRevision: 123456, Version: 7})
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendRangeResponse(buf[:0], resp)
	}
	b.SetBytes(int64(len(buf)))
}

// benchHandler runs requests through the whole handler (routing, body, parse,
// store, encode) in process, without the network.
func benchHandler(b *testing.B, path, body string, cfg Config) {
	ts := newTestServer(b)
	h := New(ts.backend, cfg)
	for _, setup := range []string{benchPut} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/v3/kv/put", bytes.NewReader([]byte(setup))))
	}
	req := httptest.NewRequest("POST", path, nil)
	rd := bytes.NewReader([]byte(body))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset([]byte(body))
		req.Body = readCloser{rd}
		req.ContentLength = int64(len(body))
		clear(w.h)
		w.status = 0
		h.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

func BenchmarkHandlerRange(b *testing.B) { benchHandler(b, "/v3/kv/range", benchRange, Config{}) }
func BenchmarkHandlerPut(b *testing.B)   { benchHandler(b, "/v3/kv/put", benchPut, Config{}) }

// The same with the request metrics (as the cairn command serves): the
// difference is their cost per request.
func BenchmarkHandlerPutMetrics(b *testing.B) {
	benchHandler(b, "/v3/kv/put", benchPut, Config{Metrics: prometheus.NewRegistry()})
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
