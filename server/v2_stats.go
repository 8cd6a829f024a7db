package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

var _ cairn.V2Stats = (*Server)(nil)

// v2State holds what /v2/stats/* report beyond the v2 store's counters:
// the member's start time and when it first saw its current leader.
type v2State struct {
	stats     v2store.Stats
	startTime time.Time

	mu          sync.Mutex
	leader      uint64
	leaderSince time.Time
}

// V2StoreStats returns the counters of /v2/stats/store (Watchers is the
// HTTP layer's).
func (s *Server) V2StoreStats() cairn.V2StoreStats { return s.v2.stats.Snapshot() }

// V2SelfStats returns /v2/stats/self. The leader's startTime and uptime
// count from when this member first reported that leader (etcd: from when
// it saw the leader change). The append request counts are not kept (0).
func (s *Server) V2SelfStats() cairn.V2SelfStats {
	lead := s.lead.Load()
	now := time.Now()
	s.v2.mu.Lock()
	if lead != s.v2.leader {
		s.v2.leader, s.v2.leaderSince = lead, now
	}
	since := s.v2.leaderSince
	s.v2.mu.Unlock()
	var st cairn.V2SelfStats
	st.Name = s.cfg.Name
	st.ID = strconv.FormatUint(s.memberID, 16)
	switch {
	case lead == s.memberID:
		st.State = "StateLeader"
	case lead == 0:
		st.State = "StateCandidate"
	default:
		st.State = "StateFollower"
	}
	st.StartTime = s.v2.startTime.UTC().Format(time.RFC3339Nano)
	if lead != 0 {
		st.LeaderInfo.Leader = strconv.FormatUint(lead, 16)
		st.LeaderInfo.Uptime = now.Sub(since).String()
		st.LeaderInfo.StartTime = since.UTC().Format(time.RFC3339Nano)
	}
	return st
}

// V2LeaderStats returns /v2/stats/leader on the leader: every other
// member's heartbeat latencies (milliseconds) and counts. ok is false on
// any other member.
func (s *Server) V2LeaderStats() (string, map[string]cairn.V2FollowerStats, bool) {
	if s.lead.Load() != s.memberID {
		return "", nil, false
	}
	out := map[string]cairn.V2FollowerStats{}
	for _, m := range s.cluster.List() {
		if m.ID == s.memberID {
			continue
		}
		fs := s.tr.FollowerStats(m.ID)
		var f cairn.V2FollowerStats
		ms := func(sec float64) float64 { return sec * 1000 }
		f.Latency.Current, f.Latency.Average, f.Latency.StandardDeviation = ms(fs.Current), ms(fs.Average), ms(fs.StdDev)
		f.Latency.Minimum, f.Latency.Maximum = ms(fs.Min), ms(fs.Max)
		f.Counts.Success, f.Counts.Fail = fs.Success, fs.Fail
		out[strconv.FormatUint(m.ID, 16)] = f
	}
	return strconv.FormatUint(s.memberID, 16), out, true
}
