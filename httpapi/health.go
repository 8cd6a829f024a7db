package httpapi

import (
	"context"
	"net/http"

	"github.com/cairnkv/cairn"
)

// GET /health, as etcd 3.4 answers it: 200 and {"health":"true"} when the
// member knows a leader and a linearizable read through raft succeeds within
// Config.HealthTimeout; otherwise 503 and {"health":"false"} followed by a
// newline (etcd writes the failure with http.Error). etcd 3.4 gives no reason
// in the body; cairn logs it. Both bodies are sent as text/plain, as etcd
// sends them (it sets no content type and net/http sniffs one).

var (
	healthTrue  = []byte(`{"health":"true"}`)
	healthFalse = "{\"health\":\"false\"}\n"
	healthKey   = []byte("health")
)

func (a *api) serveHealth(w http.ResponseWriter, r *http.Request) {
	if err := a.checkHealth(r.Context()); err != nil {
		a.log.Warn("health check failed", "err", err)
		writeText(w, http.StatusServiceUnavailable, healthFalse)
		return
	}
	w.Header()["Content-Type"] = headerText
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(healthTrue)
}

// checkHealth is etcd's checkHealth without alarms: a leader must be known
// and a linearizable read must complete in time.
func (a *api) checkHealth(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.healthTimeout)
	defer cancel()
	st, err := a.b.Status(ctx)
	if err != nil {
		return err
	}
	if st.Leader == 0 {
		return errNoLeader
	}
	_, err = a.b.Range(ctx, &cairn.RangeRequest{Key: healthKey, CountOnly: true})
	return err
}
