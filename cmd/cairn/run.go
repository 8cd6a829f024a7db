package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/cairnkv/cairn/grpcapi"
	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/server"
	"github.com/cairnkv/cairn/web"
)

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 10 * time.Second

// Run starts the member and serves clients until ctx is done (a signal) or
// the member fails. On ctx done it stops taking requests, lets in-flight ones
// finish (or fail cleanly after shutdownGrace), then stops the member.
func (m *Main) Run(ctx context.Context) error {
	logger, closeLogs, err := m.openLogger()
	if err != nil {
		return err
	}
	defer closeLogs()
	m.logStart(logger)
	stopFailpoints, err := m.startFailpoints(logger)
	if err != nil {
		return err
	}
	defer stopFailpoints()

	tlsFiles, err := m.Config.loadTLS(logger)
	if err != nil {
		return err
	}
	clientURLs, _ := parseURLs(m.Config.ListenClientURLs)
	peerURLs, _ := parseURLs(m.Config.ListenPeerURLs)
	var listeners, peerListeners []net.Listener
	closeAll := func() {
		for _, l := range append(listeners, peerListeners...) {
			l.Close()
		}
	}
	for _, u := range clientURLs {
		l, err := listen(u, tlsFiles.client)
		if err != nil {
			closeAll()
			return fmt.Errorf("listening for clients on %s: %w", u, err)
		}
		listeners = append(listeners, l)
	}
	for _, u := range peerURLs {
		l, err := listen(u, tlsFiles.peer)
		if err != nil {
			closeAll()
			return fmt.Errorf("listening for peers on %s: %w", u, err)
		}
		peerListeners = append(peerListeners, l)
	}
	metricsLn, err := listenMetrics(m.Config.ListenMetricsURLs)
	if err != nil {
		closeAll()
		return err
	}
	defer metricsLn.Close()
	// An advertised URL with port 0 means the port the listener got.
	cfg := m.Config
	cfg.AdvertiseClientURLs = resolvePortZero(cfg.AdvertiseClientURLs, listeners)
	cfg.InitialAdvertisePeerURLs = resolvePortZero(cfg.InitialAdvertisePeerURLs, peerListeners)

	sc, err := cfg.serverConfig(logger)
	if err != nil {
		closeAll()
		return err
	}
	reg := newRegistry()
	sc.Metrics = reg
	sc.PeerTLS = tlsFiles.peerClient()
	srv, err := server.New(sc)
	if err != nil {
		closeAll()
		return err
	}
	// The v2 keys API is served when the member implements httpapi.V2Keys.
	var _ httpapi.V2Keys = srv
	var ui http.Handler
	if m.Config.EnableUI {
		ui = web.Handler()
	}
	handler := httpapi.New(srv, httpapi.Config{
		MaxRequestBytes: int64(sc.MaxRequestBytes),
		Logger:          logger,
		DisableV2:       !m.Config.EnableV2,
		CORS:            m.Config.Security.origins(),
		HostWhitelist:   listFlag(m.Config.Security.HostWhitelist),
		Metrics:         reg,
		UI:              ui,
	})
	metricsLn.serve(reg, handler, logger)
	if m.Config.EnablePprof {
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		mux.Handle("/", handler)
		handler = mux
	}
	hs := &http.Server{
		ReadHeaderTimeout: m.Config.ClientReadHeaderTimeout,
		IdleTimeout:       m.Config.ClientIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(srv.CloseWatches)      // open watch streams end, not hold up Shutdown
	hs.RegisterOnShutdown(srv.CloseLeaseStreams) // and so do keepalive streams
	gs := grpcapi.New(srv, grpcapi.Config{
		MaxRequestBytes:      int64(sc.MaxRequestBytes),
		MaxConcurrentStreams: uint32(m.Config.MaxConcurrentStreams),
		KeepaliveMinTime:     m.Config.GRPCKeepaliveMinTime,
		KeepaliveInterval:    m.Config.GRPCKeepaliveInterval,
		KeepaliveTimeout:     m.Config.GRPCKeepaliveTimeout,
		Logger:               logger,
	})
	clients := newClientServer(hs, handler, gs, m.Config.MaxConcurrentStreams, logger)
	peerHS := &http.Server{
		Handler:           srv.PeerHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 3*len(listeners)+len(peerListeners)) // clientServer.serve: up to 3 per listener
	for _, l := range peerListeners {
		logger.Info("serving peer traffic", "address", l.Addr().String(), "url", listenerURL(l))
		go func(l net.Listener) { serveErr <- peerHS.Serve(l) }(l)
	}
	// Clients are served once the member has published its name and client
	// URLs through raft (etcd waits the same way); until then connections
	// wait in the listeners' backlog.
	for _, l := range listeners {
		logger.Info("listening for client requests", "address", l.Addr().String(), "url", listenerURL(l))
	}
	published := srv.Published()
	var runErr error
	for running := true; running; {
		select {
		case <-published:
			published = nil // served from now on
			for _, l := range listeners {
				logger.Info("serving client requests", "address", l.Addr().String(), "url", listenerURL(l))
				clients.serve(l, serveErr)
			}
		case <-ctx.Done():
			logger.Info("shutting down", "reason", "signal")
			running = false
		case <-srv.Done():
			runErr = srv.Err()
			logger.Error("member stopped", "err", runErr)
			running = false
		case err := <-serveErr:
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			if err != nil {
				runErr = err
				running = false
			}
		}
	}
	if published != nil { // never served: Shutdown does not know these listeners
		for _, l := range listeners {
			l.Close()
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	clients.shutdown(sctx)
	if err := srv.Close(); err != nil && runErr == nil {
		runErr = err
	}
	// Peer streams never go idle: close them once the member has stopped.
	peerHS.Close()
	return runErr
}

// resolvePortZero replaces port 0 in the comma list of URLs urls with the
// port of the listener on the same host (or of the first listener).
func resolvePortZero(urls string, ls []net.Listener) string {
	if len(ls) == 0 {
		return urls
	}
	parsed, err := parseURLs(urls)
	if err != nil {
		return urls
	}
	var out []string
	for _, u := range parsed {
		if u.Port() == "0" {
			addr := ls[0].Addr().(*net.TCPAddr)
			for _, l := range ls {
				if a := l.Addr().(*net.TCPAddr); a.IP.String() == u.Hostname() {
					addr = a
					break
				}
			}
			u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(addr.Port))
		}
		out = append(out, strings.TrimRight(u.String(), "/"))
	}
	return strings.Join(out, ",")
}
