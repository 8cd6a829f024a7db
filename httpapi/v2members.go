package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cairnkv/cairn"
	json "github.com/goccy/go-json"
)

// v2MemberJSON is a member in etcd 3.4's /v2/members answer:
// {"id":"7d07b6b9bfeb346a","name":"default","peerURLs":[...],"clientURLs":[...]}.
type v2MemberJSON struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peerURLs"`
	ClientURLs []string `json:"clientURLs"`
}

// serveV2Members answers GET /v2/members as etcd 3.4: {"members":[...]}
// with X-Etcd-Cluster-Id. v2 clients (etcdctl, the Go client) read it to
// find the client URLs of the cluster.
func (a *api) serveV2Members(w http.ResponseWriter, r *http.Request) {
	ms, _ := a.v2m.V2Members()
	out := struct {
		Members []v2MemberJSON `json:"members"`
	}{Members: make([]v2MemberJSON, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberJSON(m))
	}
	a.writeV2JSON(w, out)
}

// serveV2Leader answers GET /v2/members/leader as etcd 3.4: the leader as
// one member object, or 503 "During election" while there is none.
func (a *api) serveV2Leader(w http.ResponseWriter, r *http.Request) {
	ms, leader := a.v2m.V2Members()
	for _, m := range ms {
		if m.ID == leader {
			a.writeV2JSON(w, memberJSON(m))
			return
		}
	}
	writeText(w, http.StatusServiceUnavailable, "During election\n")
}

func memberJSON(m cairn.V2Member) v2MemberJSON {
	j := v2MemberJSON{ID: strconv.FormatUint(m.ID, 16), Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs}
	if j.PeerURLs == nil {
		j.PeerURLs = []string{}
	}
	if j.ClientURLs == nil {
		j.ClientURLs = []string{}
	}
	return j
}

// writeV2JSON writes v with X-Etcd-Cluster-Id, as etcd's v2 member API.
func (a *api) writeV2JSON(w http.ResponseWriter, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error())
		return
	}
	if a.v2 != nil {
		w.Header().Set("X-Etcd-Cluster-Id", strconv.FormatUint(a.v2.V2Header().ClusterID, 16))
	}
	writeJSON(w, http.StatusOK, append(body, '\n'))
}

// serveV2Machines answers GET /v2/machines as etcd 3.4: the client URLs of
// every member, comma-separated, as text.
func (a *api) serveV2Machines(w http.ResponseWriter, r *http.Request) {
	var urls []string
	ms, _ := a.v2m.V2Members()
	for _, m := range ms {
		urls = append(urls, m.ClientURLs...)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(strings.Join(urls, ", ")))
}
