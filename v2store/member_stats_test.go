package v2store

import (
	"testing"
	"time"
)

// /v2/stats/self names the member's state, and the leader's uptime counts
// from when the member first reported that leader, not from each call.
func TestMemberStatsSelf(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	m := NewMemberStats(t0)
	if st := m.Self("m1", 0xa, 0, t0); st.State != "StateCandidate" || st.LeaderInfo.Leader != "" || st.ID != "a" || st.Name != "m1" {
		t.Fatalf("no leader: %+v", st)
	}
	m.Self("m1", 0xa, 0xb, t0.Add(time.Second))
	st := m.Self("m1", 0xa, 0xb, t0.Add(5*time.Second))
	if st.State != "StateFollower" || st.LeaderInfo.Leader != "b" || st.LeaderInfo.Uptime != "4s" {
		t.Fatalf("follower of b: %+v", st)
	}
	if st.StartTime != t0.Format(time.RFC3339Nano) || st.LeaderInfo.StartTime != t0.Add(time.Second).Format(time.RFC3339Nano) {
		t.Fatalf("start times: %+v", st)
	}
	if st := m.Self("m1", 0xa, 0xa, t0.Add(7*time.Second)); st.State != "StateLeader" || st.LeaderInfo.Uptime != "0s" {
		t.Fatalf("leader: %+v", st)
	}
	f := FollowerStats(0.002, 0.001, 0.0005, 0.0001, 0.01, 7, 1)
	if f.Latency.Current != 2 || f.Latency.Maximum != 10 || f.Counts.Success != 7 || f.Counts.Fail != 1 {
		t.Fatalf("follower stats in ms: %+v", f)
	}
}
