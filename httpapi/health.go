package httpapi

import (
	"context"
	"net/http"
	"slices"

	"github.com/cairnkv/cairn"
)

// GET /health, as etcd 3.4 answers it: 200 and {"health":"true"} when no
// alarm is raised (by any member), the member knows a leader and a
// linearizable read through raft succeeds within Config.HealthTimeout;
// otherwise 503 and {"health":"false"} followed by a newline (etcd writes
// the failure with http.Error). A NOSPACE alarm makes the member unhealthy:
// it refuses every write that takes space. As etcd 3.4.23, ?exclude=NOSPACE
// (repeatable, the alarm type's name) leaves the alarms of that type out of
// the check. etcd 3.4 gives no reason in the body; cairn logs it. Both
// bodies are sent as text/plain, as etcd sends them (it sets no content type
// and net/http sniffs one).

var (
	healthTrue  = []byte(`{"health":"true"}`)
	healthFalse = "{\"health\":\"false\"}\n"
	healthKey   = []byte("health")
)

func (a *api) serveHealth(w http.ResponseWriter, r *http.Request) {
	if err := a.checkHealth(r.Context(), r.URL.Query()["exclude"]); err != nil {
		a.log.Warn("health check failed", "err", err)
		writeText(w, http.StatusServiceUnavailable, healthFalse)
		return
	}
	w.Header()["Content-Type"] = headerText
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(healthTrue)
}

// checkHealth is etcd's checkHealth: no alarm but those of the types named
// in exclude, a leader known, and a linearizable read completed in time.
func (a *api) checkHealth(ctx context.Context, exclude []string) error {
	ctx, cancel := context.WithTimeout(ctx, a.healthTimeout)
	defer cancel()
	if err := a.checkAlarms(ctx, exclude); err != nil {
		return err
	}
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

// alarmRaised is why a health check fails while an alarm is raised.
type alarmRaised struct{ am cairn.AlarmMember }

func (e *alarmRaised) Error() string { return "alarm raised: " + cairn.AlarmString(e.am) }

// checkAlarms returns an *alarmRaised for the first alarm raised whose type
// is not named in exclude. A backend without alarms (no MaintenanceOps) has
// none raised.
func (a *api) checkAlarms(ctx context.Context, exclude []string) error {
	if a.ops == nil {
		return nil
	}
	alarms, err := a.ops.Alarm(ctx, cairn.AlarmGet, cairn.AlarmMember{})
	if err != nil {
		return err
	}
	for _, am := range alarms {
		if !slices.Contains(exclude, alarmTypeEnum.name(am.Alarm)) {
			return &alarmRaised{am}
		}
	}
	return nil
}
