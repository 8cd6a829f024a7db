package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The client API's metrics, under cairn's own names (etcd counts its gRPC
// requests with grpc_server_*, which an HTTP API cannot honestly fill):
//
//	cairn_http_requests_total{api,route,code}           counter
//	cairn_http_request_duration_seconds{api,route}      histogram
//
// api is v3 (also /v3beta), v2 or other (/version, /health, /metrics...);
// route is the route's pattern (/v3/kv/put, /v2/keys/*), "unmatched" for
// a path no route serves; code is the HTTP status. A response that is a
// stream (watch, lease keepalive, v2 wait, snapshot, a websocket) is
// counted when it ends but its duration is not observed: it is the
// stream's lifetime, not a request's latency. docs/operations.md lists
// every metric a member serves.

// httpMetrics count the requests of one handler.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// routes caches each route's series of the common case (status 200)
	// by route pattern: *routeMetrics.
	routes sync.Map
}

type routeMetrics struct {
	ok       prometheus.Counter
	duration prometheus.Observer
}

// forRoute returns the series of a route that matched (its API follows
// from its pattern).
func (m *httpMetrics) forRoute(route string) *routeMetrics {
	if rm, ok := m.routes.Load(route); ok {
		return rm.(*routeMetrics)
	}
	api := apiOf(route)
	rm, _ := m.routes.LoadOrStore(route, &routeMetrics{
		ok:       m.requests.WithLabelValues(api, route, "200"),
		duration: m.duration.WithLabelValues(api, route),
	})
	return rm.(*routeMetrics)
}

// newHTTPMetrics registers the request metrics with reg (sharing them if
// another handler on reg did first) and, if v2Watchers is set, etcd's
// gauge of v2 watchers.
func newHTTPMetrics(reg prometheus.Registerer, v2Watchers func() float64) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_http_requests_total",
			Help: "Client requests served, by API, route and HTTP status.",
		}, []string{"api", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_http_request_duration_seconds",
			Help:    "Latency of the client requests that are not streams, by API and route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 17), // 100µs to 6.5s
		}, []string{"api", "route"}),
	}
	var err error
	if m.requests, err = registerShared(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = registerShared(reg, m.duration); err != nil {
		return nil, err
	}
	if v2Watchers != nil {
		g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "etcd_debugging_store_watchers",
			Help: "Count of currently active watchers.",
		}, v2Watchers)
		if _, err := registerShared(reg, prometheus.Collector(g)); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// registerShared registers c with reg, or returns the collector already
// registered under its name.
func registerShared[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// metricsHandler serves a registry's metrics in Prometheus's text format.
func metricsHandler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{})
}

// instrument is the router's middleware: it counts each request under the
// pattern of the route that served it and observes its duration.
func (m *httpMetrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK // nothing written: net/http answers 200
		}
		var route string
		if rc := chi.RouteContext(r.Context()); rc != nil {
			route = rc.RoutePattern()
		}
		if route == "" {
			m.requests.WithLabelValues(apiOf(r.URL.Path), "unmatched", codeLabel(code)).Inc()
			return
		}
		rm := m.forRoute(route)
		if code == http.StatusOK {
			rm.ok.Inc()
		} else {
			m.requests.WithLabelValues(apiOf(route), route, codeLabel(code)).Inc()
		}
		if !sw.streamed && code != http.StatusSwitchingProtocols {
			rm.duration.Observe(time.Since(start).Seconds())
		}
	})
}

// codeLabels are the status codes as label values, made once rather than
// per request.
var codeLabels = func() (l [600]string) {
	for i := range l {
		l[i] = strconv.Itoa(i)
	}
	return l
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(codeLabels) {
		return codeLabels[code]
	}
	return strconv.Itoa(code)
}

// apiOf names the API of a request path.
func apiOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v3/"), strings.HasPrefix(path, "/v3beta/"):
		return "v3"
	case strings.HasPrefix(path, "/v2/"):
		return "v2"
	}
	return "other"
}

// statusWriter notes the status a handler writes and whether it flushed
// before the end (a stream). Unwrap lets http.ResponseController and the
// websocket upgrade reach the connection underneath.
type statusWriter struct {
	http.ResponseWriter
	code     int
	streamed bool
}

// WriteHeader notes the first final status (or a switch of protocols).
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write notes the implicit 200 of a body written without a status.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush marks the response a stream and flushes it.
func (w *statusWriter) Flush() { _ = w.FlushError() }

// FlushError marks the response a stream and flushes it
// (http.ResponseController calls it).
func (w *statusWriter) FlushError() error {
	w.streamed = true
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the ResponseWriter underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
