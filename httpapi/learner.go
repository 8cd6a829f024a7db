package httpapi

import (
	"net/http"

	"github.com/cairnkv/cairn"
)

// notForLearner wraps a v3 handler that a learner refuses.
func (a *api) notForLearner(h http.HandlerFunc) http.HandlerFunc {
	if a.learner == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if a.learner.IsLearner() {
			a.writeV3Error(w, r, cairn.ErrNotSupportedForLearner)
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
			*buf = appendStreamError(*buf, codeUnavailable, cairn.ErrNotSupportedForLearner.Error())
			writeJSON(w, codeUnavailable.httpStatus(), *buf)
			putBuffer(buf)
			return
		}
		h(w, r)
	}
}
