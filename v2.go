package cairn

// V2Header holds the member's values for a v2 answer's headers:
// X-Etcd-Cluster-Id (ClusterID in hex), X-Raft-Index (the applied raft
// index) and X-Raft-Term.
type V2Header struct {
	ClusterID uint64
	RaftIndex uint64
	RaftTerm  uint64
}

// V2Member is one cluster member as GET /v2/members shows it.
type V2Member struct {
	ID         uint64
	Name       string
	PeerURLs   []string
	ClientURLs []string
}

// V2Members is what /v2/members, /v2/members/leader and /v2/machines need
// from a member: the cluster's members (learners included) in ascending ID
// order, with the client URLs each published (none yet for a member that
// has not published them), and the ID of the leader this member knows (0:
// none). Safe for concurrent use; the slices are the caller's.
type V2Members interface {
	V2Members() (members []V2Member, leader uint64)
}

// V2StoreStats are the counters of GET /v2/stats/store, named as etcd's
// (v2store stats): v2 requests answered by this member, by kind and
// outcome; ExpireCount counts v2 TTLs that ran out; Watchers the v2 waits
// open now.
type V2StoreStats struct {
	GetsSuccess             uint64 `json:"getsSuccess"`
	GetsFail                uint64 `json:"getsFail"`
	SetsSuccess             uint64 `json:"setsSuccess"`
	SetsFail                uint64 `json:"setsFail"`
	DeleteSuccess           uint64 `json:"deleteSuccess"`
	DeleteFail              uint64 `json:"deleteFail"`
	UpdateSuccess           uint64 `json:"updateSuccess"`
	UpdateFail              uint64 `json:"updateFail"`
	CreateSuccess           uint64 `json:"createSuccess"`
	CreateFail              uint64 `json:"createFail"`
	CompareAndSwapSuccess   uint64 `json:"compareAndSwapSuccess"`
	CompareAndSwapFail      uint64 `json:"compareAndSwapFail"`
	CompareAndDeleteSuccess uint64 `json:"compareAndDeleteSuccess"`
	CompareAndDeleteFail    uint64 `json:"compareAndDeleteFail"`
	ExpireCount             uint64 `json:"expireCount"`
	Watchers                uint64 `json:"watchers"`
}

// V2FollowerStats is one follower's entry of GET /v2/stats/leader:
// heartbeat round-trip latencies in milliseconds and counts, as etcd's.
type V2FollowerStats struct {
	Latency struct {
		Current           float64 `json:"current"`
		Average           float64 `json:"average"`
		StandardDeviation float64 `json:"standardDeviation"`
		Minimum           float64 `json:"minimum"`
		Maximum           float64 `json:"maximum"`
	} `json:"latency"`
	Counts struct {
		Fail    uint64 `json:"fail"`
		Success uint64 `json:"success"`
	} `json:"counts"`
}

// V2SelfStats is GET /v2/stats/self, as etcd's (the rates etcd adds are
// left out).
type V2SelfStats struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	State      string `json:"state"` // StateLeader, StateFollower, StateCandidate...
	StartTime  string `json:"startTime"`
	LeaderInfo struct {
		Leader    string `json:"leader"`
		Uptime    string `json:"uptime"`
		StartTime string `json:"startTime"`
	} `json:"leaderInfo"`
	RecvAppendRequestCnt uint64 `json:"recvAppendRequestCnt"`
	SendAppendRequestCnt uint64 `json:"sendAppendRequestCnt"`
}

// V2Stats is what /v2/stats/* need from a member. V2LeaderStats returns
// false on a member that is not the leader (etcd answers 403 then).
type V2Stats interface {
	V2SelfStats() V2SelfStats
	V2LeaderStats() (leader string, followers map[string]V2FollowerStats, ok bool)
	V2StoreStats() V2StoreStats
}
