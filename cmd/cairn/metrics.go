package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry returns the registry of the process's metrics: Go's runtime
// and the process's (as etcd serves them), to which the member and the
// client API add theirs.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// metricsListener serves GET /metrics (from reg) and /health (from
// client, the client API's handler) on the --listen-metrics-urls, as etcd
// does. Close stops it.
type metricsListener struct {
	hs        *http.Server
	listeners []net.Listener
}

// listenMetrics opens the listeners of urls (none for ""), so a bad
// address fails the start before the member opens its data.
func listenMetrics(urls string) (*metricsListener, error) {
	ml := &metricsListener{}
	if urls == "" {
		return ml, nil
	}
	parsed, err := parseURLs(urls)
	if err != nil {
		return nil, err
	}
	for _, u := range parsed {
		l, err := net.Listen("tcp", u.Host)
		if err != nil {
			ml.Close()
			return nil, fmt.Errorf("listening for metrics on %s: %w", u, err)
		}
		ml.listeners = append(ml.listeners, l)
	}
	return ml, nil
}

// serve starts serving; a listener's failure is logged.
func (ml *metricsListener) serve(reg prometheus.Gatherer, client http.Handler, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/health", client)
	ml.hs = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	for _, l := range ml.listeners {
		logger.Info("serving metrics", "address", l.Addr().String(), "url", "http://"+l.Addr().String()+"/metrics")
		go func(l net.Listener) {
			if err := ml.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics listener failed", "address", l.Addr().String(), "err", err)
			}
		}(l)
	}
}

// Close stops serving and closes the listeners.
func (ml *metricsListener) Close() {
	if ml.hs != nil {
		ml.hs.Close()
	}
	for _, l := range ml.listeners {
		l.Close()
	}
}
