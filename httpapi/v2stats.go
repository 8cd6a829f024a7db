package httpapi

import (
	"net/http"

	"github.com/cairnkv/cairn"
)

// serveV2StatsSelf answers GET /v2/stats/self as etcd 3.4.
func (a *api) serveV2StatsSelf(w http.ResponseWriter, r *http.Request) {
	a.writeV2JSON(w, a.v2s.V2SelfStats())
}

// serveV2StatsLeader answers GET /v2/stats/leader as etcd 3.4: the
// followers' heartbeat statistics on the leader, 403
// {"message":"not current leader"} elsewhere.
func (a *api) serveV2StatsLeader(w http.ResponseWriter, r *http.Request) {
	leader, followers, ok := a.v2s.V2LeaderStats()
	if !ok {
		writeJSON(w, http.StatusForbidden, []byte(`{"message":"not current leader"}`))
		return
	}
	a.writeV2JSON(w, struct {
		Leader    string                           `json:"leader"`
		Followers map[string]cairn.V2FollowerStats `json:"followers"`
	}{leader, followers})
}

// serveV2StatsStore answers GET /v2/stats/store as etcd 3.4: the member's
// v2 request counters and the v2 waits open now.
func (a *api) serveV2StatsStore(w http.ResponseWriter, r *http.Request) {
	st := a.v2s.V2StoreStats()
	st.Watchers = uint64(a.v2Watchers.Load())
	a.writeV2JSON(w, st)
}
