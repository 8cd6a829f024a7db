package v2store

import (
	"strconv"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
)

// MemberStats keeps what /v2/stats/self reports beyond the store's
// counters: when the member started and when it first saw its current
// leader. It is safe for concurrent use.
type MemberStats struct {
	start time.Time

	mu          sync.Mutex
	leader      uint64
	leaderSince time.Time
}

// NewMemberStats returns the stats of a member that started at start.
func NewMemberStats(start time.Time) *MemberStats { return &MemberStats{start: start} }

// Self returns /v2/stats/self for member id called name, whose leader is
// lead (0: none known) at now. The leader's startTime and uptime count
// from the first call that reported that leader (etcd: from when the
// member saw the leader change). The append request counts are not kept
// (0).
func (m *MemberStats) Self(name string, id, lead uint64, now time.Time) cairn.V2SelfStats {
	m.mu.Lock()
	if lead != m.leader {
		m.leader, m.leaderSince = lead, now
	}
	since := m.leaderSince
	m.mu.Unlock()
	st := cairn.V2SelfStats{Name: name, ID: strconv.FormatUint(id, 16)}
	switch {
	case lead == id:
		st.State = "StateLeader"
	case lead == 0:
		st.State = "StateCandidate"
	default:
		st.State = "StateFollower"
	}
	st.StartTime = m.start.UTC().Format(time.RFC3339Nano)
	if lead != 0 {
		st.LeaderInfo.Leader = strconv.FormatUint(lead, 16)
		st.LeaderInfo.Uptime = now.Sub(since).String()
		st.LeaderInfo.StartTime = since.UTC().Format(time.RFC3339Nano)
	}
	return st
}

// FollowerStats is one follower's entry of /v2/stats/leader from its
// heartbeat round-trip latencies in seconds (current, average, standard
// deviation, minimum, maximum; reported in milliseconds) and the counts of
// heartbeats answered and failed.
func FollowerStats(cur, avg, std, lo, hi float64, success, fail uint64) cairn.V2FollowerStats {
	var f cairn.V2FollowerStats
	ms := func(sec float64) float64 { return sec * 1000 }
	f.Latency.Current, f.Latency.Average, f.Latency.StandardDeviation = ms(cur), ms(avg), ms(std)
	f.Latency.Minimum, f.Latency.Maximum = ms(lo), ms(hi)
	f.Counts.Success, f.Counts.Fail = success, fail
	return f
}
