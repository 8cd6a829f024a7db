package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/soheilhy/cmux"
	"google.golang.org/grpc"
)

// clientServer serves the client listeners: etcd's gRPC services
// (package grpcapi) and the HTTP API (package httpapi: v3 JSON, v2, /health,
// /metrics...) on the same ports, split by protocol as etcd 3.4 splits
// them:
//
//   - plain http listeners: the first bytes of a connection decide (a
//     connection multiplexer, cmux, as etcd's): one that opens with the
//     HTTP/2 preface is gRPC, served by grpc-go's own HTTP/2 transport;
//     anything else is HTTP/1.1, served by net/http. A plain HTTP/2 (h2c)
//     client of the JSON API is not served, as in etcd.
//   - https listeners: TLS offers "h2" and "http/1.1" (ALPN) and net/http
//     serves both; a request over HTTP/2 whose content-type is
//     application/grpc goes to the gRPC server's ServeHTTP, every other
//     request to the HTTP API (etcd's grpcHandlerFunc). So curl over
//     https may speak HTTP/2 to the JSON API.
//
// grpc-go's own transport is the faster of the two (docs/performance.md,
// "gRPC"), which is why plain listeners do not use ServeHTTP as well.
type clientServer struct {
	hs    *http.Server
	gs    *grpc.Server
	muxes []cmux.CMux
	log   *slog.Logger
}

// newClientServer serves gs and the HTTP handler h with the settings of
// hs (whose Handler it replaces). maxStreams is --max-concurrent-streams,
// applied to HTTP/2 over TLS (grpc-go's transport has its own option).
func newClientServer(hs *http.Server, h http.Handler, gs *grpc.Server, maxStreams uint, log *slog.Logger) *clientServer {
	hs.Handler = grpcOr(gs, h)
	hs.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: int(maxStreams)}
	return &clientServer{hs: hs, gs: gs, log: log}
}

// grpcOr routes gRPC requests (HTTP/2, content-type application/grpc...)
// to gs and the others to h.
func grpcOr(gs *grpc.Server, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
			gs.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serve serves l until shutdown, sending each server's end to errc (nil
// for an end that shutdown caused).
func (c *clientServer) serve(l net.Listener, errc chan<- error) {
	if _, ok := l.(*tlsListener); ok {
		go func() { errc <- serveEnd(c.hs.Serve(l)) }()
		return
	}
	m := cmux.New(l)
	m.SetReadTimeout(c.hs.ReadHeaderTimeout) // a client that sends nothing does not hold a goroutine
	grpcL := m.Match(cmux.HTTP2())
	httpL := m.Match(cmux.Any())
	c.muxes = append(c.muxes, m)
	go func() { errc <- serveEnd(c.gs.Serve(grpcL)) }()
	go func() { errc <- serveEnd(c.hs.Serve(httpL)) }()
	go func() { errc <- serveEnd(m.Serve()) }()
}

// serveEnd is nil for the errors a server returns when shutdown closed
// its listener.
func serveEnd(err error) error {
	if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, cmux.ErrListenerClosed) || errors.Is(err, cmux.ErrServerClosed) ||
		errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// shutdown stops taking connections and lets the requests in progress
// finish until ctx is done; then it closes what is left. The member
// closes its watch and keepalive streams first (hs's RegisterOnShutdown),
// so streams do not hold it up.
func (c *clientServer) shutdown(ctx context.Context) {
	if err := c.hs.Shutdown(ctx); err != nil {
		c.log.Warn("in-flight requests did not finish in time", "err", err)
		c.hs.Close()
	}
	done := make(chan struct{})
	go func() { c.gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		c.log.Warn("in-flight gRPC calls did not finish in time")
		c.gs.Stop()
		<-done
	}
	for _, m := range c.muxes {
		m.Close()
	}
}
