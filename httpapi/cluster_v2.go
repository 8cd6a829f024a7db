package httpapi

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cairnkv/cairn"
)

// /v2/members: etcd 3.4's v2 members API (etcdserver/api/v2http).
//
//	GET    /v2/members       200 {"members":[member...]}
//	POST   /v2/members       {"peerURLs":[...]} -> 201 member
//	DELETE /v2/members/<id>  204
//	PUT    /v2/members/<id>  {"peerURLs":[...]} -> 204
//
// A member is {"id":"<hex>","name":"...","peerURLs":[...],"clientURLs":[...]}
// with every field present. Errors are {"message":"..."} with etcd's
// statuses: 400 bad body or URLs, 404 no such member, 409 a peer URL or id
// in use, 410 a removed member, 415 a body that is not application/json,
// and 500 "Internal Server Error" for the rest (a timeout, an unhealthy
// cluster), as etcd answers. Every answer carries X-Etcd-Cluster-ID.

func toV2Member(m *cairn.Member) v2MemberJSON {
	return memberJSON(cairn.V2Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs})
}

// v2MembersAllow is the Allow header of a method /v2/members refuses.
const v2MembersAllow = "GET,POST,DELETE,PUT"

// serveV2MembersRoot serves /v2/members: GET lists (v2members.go, when the
// backend is a V2Members), POST adds a member.
func (a *api) serveV2MembersRoot(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && a.v2m != nil:
		a.serveV2Members(w, r)
	case r.Method == http.MethodGet:
		resp, err := a.cluster.MemberList(r.Context(), false)
		if err != nil {
			a.writeV2MemberError(w, r, err, "")
			return
		}
		out := struct {
			Members []v2MemberJSON `json:"members"`
		}{Members: []v2MemberJSON{}}
		for _, m := range resp.Members {
			out.Members = append(out.Members, toV2Member(m))
		}
		a.writeV2Members(w, http.StatusOK, out, resp.Header.ClusterID)
	case r.Method == http.MethodPost && a.cluster != nil:
		urls, err := readV2PeerURLs(r)
		if err != nil {
			a.writeV2MemberError(w, r, err, "")
			return
		}
		resp, err := a.cluster.MemberAdd(r.Context(), urls, false)
		if err != nil {
			a.writeV2MemberError(w, r, err, "")
			return
		}
		a.writeV2Members(w, http.StatusCreated, toV2Member(resp.Member), resp.Header.ClusterID)
	default:
		w.Header().Set("Allow", v2MembersAllow)
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed\n")
	}
}

// serveV2Member serves /v2/members/<id>: DELETE removes the member, PUT
// replaces its peer URLs. (/v2/members/leader is v2members.go's.)
func (a *api) serveV2Member(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rest := strings.TrimPrefix(r.URL.Path, "/v2/members/")
	switch r.Method {
	case http.MethodDelete:
		id, ok := parseHexID(rest)
		if !ok {
			a.writeV2MemberError(w, r, cairn.ErrMemberNotFound, rest)
			return
		}
		resp, err := a.cluster.MemberRemove(ctx, id)
		if err != nil {
			a.writeV2MemberError(w, r, err, rest)
			return
		}
		a.writeV2NoContent(w, resp.Header.ClusterID)
	case http.MethodPut:
		id, ok := parseHexID(rest)
		if !ok {
			a.writeV2MemberError(w, r, cairn.ErrMemberNotFound, rest)
			return
		}
		urls, err := readV2PeerURLs(r)
		if err != nil {
			a.writeV2MemberError(w, r, err, rest)
			return
		}
		resp, err := a.cluster.MemberUpdate(ctx, id, urls)
		if err != nil {
			a.writeV2MemberError(w, r, err, rest)
			return
		}
		a.writeV2NoContent(w, resp.Header.ClusterID)
	case http.MethodGet:
		// etcd knows only /v2/members and /v2/members/leader for GET.
		writeText(w, http.StatusNotFound, "404 page not found\n")
	default:
		w.Header().Set("Allow", v2MembersAllow)
		writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed\n")
	}
}

// v2HTTPError is an error /v2/members answers with its own status and
// message.
type v2HTTPError struct {
	status int
	msg    string
}

func (e *v2HTTPError) Error() string { return e.msg }

// readV2PeerURLs decodes a {"peerURLs": [...]} body, which must be
// application/json, and checks the URLs.
func readV2PeerURLs(r *http.Request) ([]string, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, &v2HTTPError{http.StatusUnsupportedMediaType, "Bad Content-Type " + ct + ", accept application/json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, &v2HTTPError{http.StatusBadRequest, err.Error()}
	}
	var req struct {
		PeerURLs []string `json:"peerURLs"`
	}
	if err := stdjson.Unmarshal(body, &req); err != nil {
		return nil, &v2HTTPError{http.StatusBadRequest, err.Error()}
	}
	if err := cairn.ValidatePeerURLs(req.PeerURLs); err != nil {
		msg := strings.TrimPrefix(err.Error(), cairn.ErrMemberBadURLs.Error()+": ")
		return nil, &v2HTTPError{http.StatusBadRequest, msg}
	}
	return req.PeerURLs, nil
}

// writeV2MemberError answers err as etcd's /v2/members does; id is the id
// from the path, for the messages that name it.
func (a *api) writeV2MemberError(w http.ResponseWriter, r *http.Request, err error, id string) {
	var he *v2HTTPError
	status, msg := http.StatusInternalServerError, "Internal Server Error"
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, cairn.ErrMemberNotFound):
		status, msg = http.StatusNotFound, "No such member: "+id
	case errors.Is(err, cairn.ErrMemberRemoved):
		status, msg = http.StatusGone, "Member permanently removed: "+id
	case errors.Is(err, cairn.ErrPeerURLExist):
		status, msg = http.StatusConflict, "membership: peerURL exists"
	case errors.Is(err, cairn.ErrMemberExist):
		status, msg = http.StatusConflict, "membership: ID exists"
	case errors.Is(err, cairn.ErrMemberBadURLs):
		status, msg = http.StatusBadRequest, strings.TrimPrefix(err.Error(), cairn.ErrMemberBadURLs.Error()+": ")
	default:
		if errors.Is(err, context.Canceled) {
			return // the client is gone
		}
		a.log.Error("v2 members request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	body, _ := stdjson.Marshal(map[string]string{"message": msg})
	a.setClusterIDHeader(w)
	writeJSON(w, status, body)
}

// writeV2Members writes a member answer as etcd's json.Encoder does (a
// trailing newline).
func (a *api) writeV2Members(w http.ResponseWriter, status int, v any, clusterID uint64) {
	body, _ := stdjson.Marshal(v)
	w.Header().Set("X-Etcd-Cluster-ID", hexID(clusterID))
	writeJSON(w, status, append(body, '\n'))
}

func (a *api) writeV2NoContent(w http.ResponseWriter, clusterID uint64) {
	w.Header().Set("X-Etcd-Cluster-ID", hexID(clusterID))
	w.WriteHeader(http.StatusNoContent)
}

// setClusterIDHeader sets X-Etcd-Cluster-ID on an error answer, from the
// member's status (errors carry no header).
func (a *api) setClusterIDHeader(w http.ResponseWriter) {
	if st, err := a.b.Status(context.Background()); err == nil {
		w.Header().Set("X-Etcd-Cluster-ID", hexID(st.Header.ClusterID))
	}
}
