package httpapi

import (
	"net/http"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
)

// GET /version, as etcd 3.4: {"etcdserver": ..., "etcdcluster": ...}, plus
// cairn's own version. etcdserver is the etcd API version cairn mirrors
// (cairn.APIVersion), not a build of etcd; etcdcluster is
// Config.ClusterVersion.
type versionBody struct {
	Server  string `json:"etcdserver"`
	Cluster string `json:"etcdcluster"`
	Cairn   string `json:"cairn"`
}

func (a *api) versionBody() []byte {
	b, err := json.Marshal(versionBody{Server: cairn.APIVersion, Cluster: a.clusterVersion, Cairn: cairn.Version})
	if err != nil {
		panic(err) // three strings always marshal
	}
	return b
}

func (a *api) serveVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.version)
}

// GET /openapi.yaml: the contract of these endpoints.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write(cairn.OpenAPI)
}
