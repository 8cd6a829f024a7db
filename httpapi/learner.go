package httpapi

import (
	"net/http"

	"github.com/cairnkv/cairn/store"
)

// Learner is implemented by a member that can be a raft learner (a
// non-voting member catching up). IsLearner reports whether it is one now.
//
// A learner serves what etcd 3.4 lets a learner serve over its v3 API
// (etcdserver's isRPCSupportedForLearner): /v3/maintenance/status and
// serializable ranges (the member's own KV.Range refuses the others).
// Every other v3 endpoint answers store.ErrNotSupportedForLearner: HTTP
// 503, gRPC code 14, "etcdserver: rpc not supported for learner"; the
// streams (watch, lease keepalive) with the gateway's stream error object,
// before any upgrade to a websocket. The v2 API is served as etcd 3.4
// serves it on a learner (writes go to the leader through raft).
type Learner interface {
	IsLearner() bool
}

// notForLearner wraps a v3 handler that a learner refuses.
func (a *api) notForLearner(h http.HandlerFunc) http.HandlerFunc {
	if a.learner == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if a.learner.IsLearner() {
			a.writeV3Error(w, r, store.ErrNotSupportedForLearner)
			return
		}
		h(w, r)
	}
}

// streamNotForLearner wraps a v3 stream handler that a learner refuses: the
// answer is the gateway's stream error object with status 503, as etcd's
// gateway ends a stream the member refused at once.
func (a *api) streamNotForLearner(h http.HandlerFunc) http.HandlerFunc {
	if a.learner == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if a.learner.IsLearner() {
			buf := getBuffer()
			*buf = appendStreamError(*buf, codeUnavailable, store.ErrNotSupportedForLearner.Error())
			writeJSON(w, codeUnavailable.httpStatus(), *buf)
			putBuffer(buf)
			return
		}
		h(w, r)
	}
}
