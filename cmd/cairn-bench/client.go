package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// endpoint is one base URL and the keep-alive HTTP/1.1 connections to it:
// a raw pool (--http-client raw) or net/http's transport (std), exactly
// one of which is set. Its clients share it; both are safe for concurrent
// use.
type endpoint struct {
	base  string
	token string // the Authorization header, if any (--user)
	raw   *rawPool
	rt    *http.Transport
}

// newEndpoints makes one endpoint per cfg.Endpoints entry, giving the
// cfg.conns() connections out round-robin: endpoint e may open
// conns/E (+1 for the first conns%E) connections and keeps them alive.
// The client is cfg.httpClient()'s.
func newEndpoints(cfg *Config) []*endpoint {
	total, n := cfg.conns(), len(cfg.Endpoints)
	out := make([]*endpoint, n)
	for e, base := range cfg.Endpoints {
		conns := total / n
		if e < total%n {
			conns++
		}
		if cfg.httpClient() == "raw" {
			out[e] = &endpoint{base: base, token: cfg.token, raw: newRawPool(base, conns, cfg.Timeout, cfg.tls)}
			out[e].raw.token = cfg.token
			continue
		}
		dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		out[e] = &endpoint{base: base, token: cfg.token, rt: &http.Transport{
			Proxy:                 nil, // a benchmark measures the server, not a proxy
			DialContext:           dialer.DialContext,
			TLSClientConfig:       cfg.tls, // HTTP/1.1 still: a TLS configuration of our own turns HTTP/2 off
			MaxConnsPerHost:       conns,
			MaxIdleConns:          conns,
			MaxIdleConnsPerHost:   conns,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: cfg.Timeout,
			DisableCompression:    true,
		}}
	}
	return out
}

// close drops the idle connections of every endpoint.
func closeEndpoints(eps []*endpoint) {
	for _, e := range eps {
		if e.raw != nil {
			e.raw.close()
		} else {
			e.rt.CloseIdleConnections()
		}
	}
}

// do sends r and reads the whole answer into buf (reset first), so that
// the connection goes back to the pool. It returns the status code and the
// body, which aliases buf.
func (e *endpoint) do(ctx context.Context, r request, buf *bytes.Buffer) (int, []byte, error) {
	if e.raw != nil {
		return e.raw.do(ctx, r, buf)
	}
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+r.path, bytes.NewReader(r.body))
	if err != nil {
		return 0, nil, err
	}
	ct := r.contentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if e.token != "" {
		req.Header.Set("Authorization", e.token)
	}
	resp, err := e.rt.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, buf.Bytes(), nil
}

// statusMessage is the failure message of a non-200 answer: "HTTP
// <status>: <message>" with the message of etcd's gateway error body
// {"error", "code", "message"}, or the start of the body if it is not one.
func statusMessage(status int, body []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		msg = e.Message
		if msg == "" {
			msg = e.Error
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 120 {
			msg = msg[:120] + "..."
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return fmt.Sprintf("HTTP %d: %s", status, msg)
}

// errorMessage is the failure message of a transport error, stripped of
// what differs from request to request (the URL wrapper, the local
// address) so that equal causes count together.
func errorMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		if oe.Addr != nil {
			return fmt.Sprintf("%s %s %s: %v", oe.Op, oe.Net, oe.Addr, oe.Err)
		}
		return fmt.Sprintf("%s %s: %v", oe.Op, oe.Net, oe.Err)
	}
	return err.Error()
}
