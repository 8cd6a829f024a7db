package server

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

var _ cairn.V2Stats = (*Server)(nil)

// v2 request kinds, as etcd's v2 store stats count them.
const (
	v2Get = iota
	v2Set
	v2Delete
	v2Update
	v2Create
	v2CAS
	v2CAD
	v2Kinds
)

// v2State holds what /v2/stats/* report: counters of v2 requests by kind
// and outcome, the v2 TTLs that ran out, the member's start time and when
// it first saw its current leader.
type v2State struct {
	startTime time.Time
	ok, fail  [v2Kinds]atomic.Uint64
	expired   atomic.Uint64

	mu          sync.Mutex
	leader      uint64
	leaderSince time.Time
}

// v2Kind returns the kind etcd's stats count a v2 write under.
func v2Kind(req *v2store.Request) int {
	switch req.Method {
	case v2store.MethodPost:
		return v2Create
	case v2store.MethodDelete:
		if req.PrevValue != "" || req.PrevIndex != 0 {
			return v2CAD
		}
		return v2Delete
	}
	switch {
	case req.PrevExist != nil && !*req.PrevExist:
		return v2Create
	case req.PrevValue != "" || req.PrevIndex != 0:
		return v2CAS
	case req.PrevExist != nil:
		return v2Update
	}
	return v2Set
}

// v2Count counts one v2 request of kind that ended with err: a v2 answer
// (nil or a *v2store.Error) counts, a failure of the member does not.
func (s *Server) v2Count(kind int, err error) {
	var e *v2store.Error
	switch {
	case err == nil:
		s.v2.ok[kind].Add(1)
	case errors.As(err, &e):
		s.v2.fail[kind].Add(1)
	}
}

// V2StoreStats returns the counters of /v2/stats/store (Watchers is the
// HTTP layer's).
func (s *Server) V2StoreStats() cairn.V2StoreStats {
	v := &s.v2
	return cairn.V2StoreStats{
		GetsSuccess: v.ok[v2Get].Load(), GetsFail: v.fail[v2Get].Load(),
		SetsSuccess: v.ok[v2Set].Load(), SetsFail: v.fail[v2Set].Load(),
		DeleteSuccess: v.ok[v2Delete].Load(), DeleteFail: v.fail[v2Delete].Load(),
		UpdateSuccess: v.ok[v2Update].Load(), UpdateFail: v.fail[v2Update].Load(),
		CreateSuccess: v.ok[v2Create].Load(), CreateFail: v.fail[v2Create].Load(),
		CompareAndSwapSuccess: v.ok[v2CAS].Load(), CompareAndSwapFail: v.fail[v2CAS].Load(),
		CompareAndDeleteSuccess: v.ok[v2CAD].Load(), CompareAndDeleteFail: v.fail[v2CAD].Load(),
		ExpireCount: v.expired.Load(),
	}
}

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
