package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn/v2store"
)

// serveV2Keys serves /v2/keys and /v2/keys/...: GET (and HEAD), PUT, POST,
// DELETE with etcd 3.4's parameters (v2parse.go), answers and headers.
// An unclean path is redirected (301) to its clean form as etcd's mux does.
func (a *api) serveV2Keys(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		w.Header().Set("Allow", "HEAD,GET,PUT,POST,DELETE")
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed\n")
		return
	}
	if to := v2Redirect(r.URL); to != "" {
		http.Redirect(w, r, to, http.StatusMovedPermanently)
		return
	}
	w.Header().Set("X-Etcd-Cluster-Id", strconv.FormatUint(a.v2.V2Header().ClusterID, 16))
	if r.ContentLength > a.bodyLimit {
		a.writeV2Error(w, v2store.NewError(v2store.EcodeInvalidForm, "http: request body too large", 0))
		return
	}
	r.Body = http.MaxBytesReader(baseWriter(w), r.Body, a.bodyLimit)
	q, perr := parseV2KeyRequest(r)
	if perr != nil {
		a.writeV2Error(w, perr)
		return
	}
	if name := q.unimplemented(a.watcher != nil); name != "" {
		a.writeV2Error(w, v2store.NewError(v2store.EcodeInvalidField, "not implemented: "+name, 0))
		return
	}
	info, checked, aerr := a.v2Requester(r)
	var readKeyErr error // a read refused on the key, allowed if it is a directory
	if checked && aerr == nil {
		aerr, readKeyErr = a.v2Allowed(info, q)
	}
	if aerr != nil {
		a.writeV2Error(w, errV2NoAuth())
		return
	}
	if q.wait {
		a.serveV2Wait(w, r, q)
		return
	}
	ev, err := a.v2Do(r.Context(), q)
	if checked && (q.method == http.MethodGet || q.method == http.MethodHead) &&
		a.v2ReadRefused(info, q, ev, err, readKeyErr) {
		a.writeV2Error(w, errV2NoAuth())
		return
	}
	if err != nil {
		var e *v2store.Error
		if !errors.As(err, &e) {
			// etcd answers every other failure as 300 (status 500).
			if !errors.Is(err, context.Canceled) {
				a.log.Warn("v2 keys request failed", "path", q.path, "err", err)
			}
			e = v2store.NewError(v2store.EcodeRaftInternal, err.Error(), 0)
		}
		a.writeV2Error(w, e)
		return
	}
	status := http.StatusOK
	if ev.Created {
		status = http.StatusCreated
	}
	a.writeV2Headers(w, ev.Index)
	if (q.method == http.MethodGet || q.method == http.MethodHead) && q.cond.notModified(w, ev) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if q.noValue && noValueAction(ev.Action) {
		// etcd's noValueOnSuccess: the event without node and prevNode
		// (etcd 3.4 v2http writeKeyEvent); the Go v2 client decodes it.
		trimmed := *ev
		trimmed.Node, trimmed.PrevNode = nil, nil
		ev = &trimmed
	}
	buf := getBuffer()
	*buf = append(appendV2Event(*buf, ev), '\n')
	writeJSON(w, status, *buf)
	putBuffer(buf)
}

// noValueAction reports whether noValueOnSuccess drops the nodes of an
// event with this action: set, compareAndSwap, create and update, as etcd
// 3.4 (a get, delete or compareAndDelete keeps them).
func noValueAction(action string) bool {
	switch action {
	case "set", "compareAndSwap", "create", "update":
		return true
	}
	return false
}

// v2Do runs the parsed request against the member.
func (a *api) v2Do(ctx context.Context, q *v2KeyRequest) (*v2store.Event, error) {
	if q.method == http.MethodGet || q.method == http.MethodHead {
		return a.v2.V2Get(ctx, q.path, q.recursive, q.quorum)
	}
	return a.v2.V2Write(ctx, q.storeRequest())
}

// writeV2Headers sets the headers of a successful v2 answer.
func (a *api) writeV2Headers(w http.ResponseWriter, index int64) {
	h := a.v2.V2Header()
	w.Header().Set("X-Etcd-Index", strconv.FormatInt(index, 10))
	w.Header().Set("X-Raft-Index", strconv.FormatUint(h.RaftIndex, 10))
	w.Header().Set("X-Raft-Term", strconv.FormatUint(h.RaftTerm, 10))
}

// writeV2Error writes e as etcd v2 does: its status, X-Etcd-Index, and
// {"errorCode","message","cause","index"} with a newline.
func (a *api) writeV2Error(w http.ResponseWriter, e *v2store.Error) {
	body, _ := json.Marshal(e)
	w.Header().Set("X-Etcd-Index", strconv.FormatInt(e.Index, 10))
	writeJSON(w, v2Status(e.Code), append(body, '\n'))
}
