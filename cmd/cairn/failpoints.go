package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/failpoint"
)

// The failpoints' environment variables (internal/failpoint): points armed
// at start, and the address of the endpoint that arms them at run time.
// Neither is a flag: they are for fault tests, never for a production
// member, and nothing is armed or served without them.
const (
	envFailpoints     = "CAIRN_FAILPOINTS"
	envFailpointsHTTP = "CAIRN_FAILPOINTS_HTTP"
)

// startFailpoints arms the points of CAIRN_FAILPOINTS and, with
// CAIRN_FAILPOINTS_HTTP, serves the failpoint endpoint on that address; the
// returned function stops serving. A spec that does not parse or names an
// unknown point stops the start.
func (m *Main) startFailpoints(logger *slog.Logger) (func(), error) {
	if err := failpoint.ArmAll(m.failpoints); err != nil {
		return nil, fmt.Errorf("%s: %w", envFailpoints, err)
	}
	if armed := failpoint.Armed(); len(armed) > 0 {
		logger.Warn("failpoints armed: this member may crash, stall or fail on purpose", "failpoints", armed)
	}
	if m.failpointsHTTP == "" {
		return func() {}, nil
	}
	l, err := net.Listen("tcp", m.failpointsHTTP)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envFailpointsHTTP, err)
	}
	hs := &http.Server{
		Handler:           failpointHandler{},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Warn("serving failpoints: anyone who reaches this address can crash the member", "address", l.Addr().String(), "url", "http://"+l.Addr().String())
	go hs.Serve(l)
	return func() { hs.Close() }, nil
}

// failpointHandler is gofail's HTTP interface: GET / lists every point
// ("name=terms" lines, terms empty when unarmed), GET /<name> shows one
// point's terms, PUT /<name> arms it with the body, DELETE /<name> disarms
// it. Unknown points answer 404, terms that do not parse 400.
type failpointHandler struct{}

func (failpointHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" {
		if r.Method != http.MethodGet {
			http.Error(w, "only GET on /", http.StatusMethodNotAllowed)
			return
		}
		armed := failpoint.Armed()
		for _, p := range failpoint.Points {
			fmt.Fprintf(w, "%s=%s\n", p.Name, armed[p.Name])
		}
		return
	}
	if !slices.ContainsFunc(failpoint.Points, func(p failpoint.Point) bool { return p.Name == name }) {
		http.Error(w, "no failpoint "+name, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
		fmt.Fprintln(w, failpoint.Armed()[name])
	case http.MethodPut:
		b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil {
			err = failpoint.Arm(name, strings.TrimSpace(string(b)))
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		failpoint.Disarm(name)
		w.WriteHeader(http.StatusNoContent)
	default:
		http.Error(w, "GET, PUT or DELETE", http.StatusMethodNotAllowed)
	}
}
