package peer

import (
	"math"
	"sync"
	"time"

	"go.etcd.io/raft/v3/raftpb"
)

// peerStats measures, on the leader, each follower as etcd's
// /v2/stats/leader shows it: the latency of a heartbeat round trip (sent to
// answered) and the counts of successful round trips and failed sends.
type peerStats struct {
	mu sync.Mutex
	m  map[uint64]*followerStats
}

type followerStats struct {
	hbSent  time.Time // when the oldest unanswered heartbeat left
	current time.Duration
	min     time.Duration
	max     time.Duration
	sum     float64 // seconds
	sumSq   float64
	success uint64
	fail    uint64
}

// FollowerStats is one follower's line of /v2/stats/leader: latencies in
// seconds over the heartbeat round trips seen by this leader, counts of
// answered heartbeats (success) and of messages that could not be sent
// (fail). It mirrors etcd's stats.FollowerStats.
type FollowerStats struct {
	Current, Average, StdDev, Min, Max float64
	Success, Fail                      uint64
}

func newPeerStats() *peerStats { return &peerStats{m: map[uint64]*followerStats{}} }

func (p *peerStats) get(id uint64) *followerStats {
	f := p.m[id]
	if f == nil {
		f = &followerStats{}
		p.m[id] = f
	}
	return f
}

// sent notes a message queued for id.
func (p *peerStats) sent(id uint64, m *raftpb.Message) {
	if m.Type != raftpb.MsgHeartbeat {
		return
	}
	p.mu.Lock()
	if f := p.get(id); f.hbSent.IsZero() {
		f.hbSent = time.Now()
	}
	p.mu.Unlock()
}

// dropped notes a message that could not be sent to id.
func (p *peerStats) dropped(id uint64, m *raftpb.Message) {
	if m.Type != raftpb.MsgApp && m.Type != raftpb.MsgHeartbeat {
		return
	}
	p.mu.Lock()
	p.get(id).fail++
	p.mu.Unlock()
}

// received notes a message from id; for the answer to a heartbeat it
// returns the round trip.
func (p *peerStats) received(id uint64, m *raftpb.Message) (time.Duration, bool) {
	if m.Type != raftpb.MsgHeartbeatResp {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.get(id)
	if f.hbSent.IsZero() {
		return 0, false
	}
	d := time.Since(f.hbSent)
	f.hbSent = time.Time{}
	f.current = d
	if f.success == 0 || d < f.min {
		f.min = d
	}
	f.max = max(f.max, d)
	sec := d.Seconds()
	f.sum += sec
	f.sumSq += sec * sec
	f.success++
	return d, true
}

// ForgetStats drops the numbers and the metrics of member id, which left
// the cluster.
func (t *Transport) ForgetStats(id uint64) {
	t.metrics.forget(id)
	p := t.stats
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

// FollowerStats returns the numbers of member id as this member measured
// them while it led (zero for a member it never sent a heartbeat).
func (t *Transport) FollowerStats(id uint64) FollowerStats {
	p := t.stats
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.get(id)
	out := FollowerStats{Current: f.current.Seconds(), Min: f.min.Seconds(), Max: f.max.Seconds(), Success: f.success, Fail: f.fail}
	if f.success > 0 {
		n := float64(f.success)
		out.Average = f.sum / n
		out.StdDev = math.Sqrt(max(0, f.sumSq/n-out.Average*out.Average))
	}
	return out
}
