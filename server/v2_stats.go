package server

import (
	"strconv"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

var _ cairn.V2Stats = (*Server)(nil)

// V2StoreStats returns the counters of /v2/stats/store (Watchers is the
// HTTP layer's).
func (s *Server) V2StoreStats() cairn.V2StoreStats { return s.v2Stats.Snapshot() }

// V2SelfStats returns /v2/stats/self (v2store.MemberStats.Self).
func (s *Server) V2SelfStats() cairn.V2SelfStats {
	return s.v2Member.Self(s.cfg.Name, s.memberID, s.lead.Load(), time.Now())
}

// V2LeaderStats returns /v2/stats/leader on the leader: every other
// member's heartbeat latencies (milliseconds) and counts, as the peer
// transport measured them. ok is false on any other member.
func (s *Server) V2LeaderStats() (string, map[string]cairn.V2FollowerStats, bool) {
	if s.lead.Load() != s.memberID {
		return "", nil, false
	}
	out := map[string]cairn.V2FollowerStats{}
	for _, m := range s.cluster.List() {
		if m.ID != s.memberID {
			fs := s.tr.FollowerStats(m.ID)
			out[strconv.FormatUint(m.ID, 16)] = v2store.FollowerStats(fs.Current, fs.Average, fs.StdDev, fs.Min, fs.Max, fs.Success, fs.Fail)
		}
	}
	return strconv.FormatUint(s.memberID, 16), out, true
}
