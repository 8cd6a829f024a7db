package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/membership"
)

var _ cairn.Cluster = (*Server)(nil)

// learnerReadyPercent is how close to the leader a learner's log must be
// for a promotion (etcd 3.4's readyPercent).
const learnerReadyPercent = 0.9

// MemberList lists the members (cairn.Cluster). With linearizable it
// first waits for a ReadIndex round, so every change acknowledged before
// the call is in the list.
func (s *Server) MemberList(ctx context.Context, linearizable bool) (*cairn.MemberResponse, error) {
	if linearizable {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	return s.memberResponse(nil), nil
}

var _ cairn.Learner = (*Server)(nil)

// IsLearner reports whether this member is a learner now (cairn.Learner).
func (s *Server) IsLearner() bool { return s.isLearner.Load() }

// MemberAdd adds a member (cairn.Cluster). Its id derives from its peer
// URLs, the cluster and the time. Unless it is a learner, the cluster must
// be healthy: every voting member reachable, and enough of them started
// that the new configuration has a quorum of started members (etcd's
// --strict-reconfig-check, always on here).
func (s *Server) MemberAdd(ctx context.Context, peerURLs []string, isLearner bool) (*cairn.MemberResponse, error) {
	if err := cairn.ValidatePeerURLs(peerURLs); err != nil {
		return nil, err
	}
	s.confMu.Lock()
	defer s.confMu.Unlock()
	id := membership.MemberID(peerURLs, fmt.Sprintf("%x/%d", s.clusterID, time.Now().UnixNano()))
	if err := s.cluster.CheckAdd(id, peerURLs, isLearner); err != nil {
		return nil, err
	}
	members := s.cluster.List()
	if !isLearner {
		if err := s.checkQuorumAfter(members, 1, 0); err != nil {
			return nil, err
		}
	}
	m := &membership.Member{ID: id, PeerURLs: slices.Clone(peerURLs), IsLearner: isLearner}
	ctxData, _ := json.Marshal(m)
	typ := raftpb.ConfChangeAddNode
	if isLearner {
		typ = raftpb.ConfChangeAddLearnerNode
	}
	r, err := s.proposeConfChange(ctx, raftpb.ConfChange{Type: typ, NodeID: id, Context: ctxData})
	if err != nil {
		return nil, err
	}
	return s.memberResponse(r.member), nil
}

// MemberRemove removes member id (cairn.Cluster). Removing the leader
// first hands leadership to another voter, so the cluster does not wait an
// election timeout for a new one. The removed member stops by itself.
func (s *Server) MemberRemove(ctx context.Context, id uint64) (*cairn.MemberResponse, error) {
	s.confMu.Lock()
	defer s.confMu.Unlock()
	m, err := s.cluster.Existing(id)
	if err != nil {
		return nil, err
	}
	if !m.IsLearner {
		if err := s.checkQuorumAfter(s.cluster.List(), 0, id); err != nil {
			return nil, err
		}
		if id == s.lead.Load() {
			s.handOverLeadership(ctx, id)
		}
	}
	if _, err := s.proposeConfChange(ctx, raftpb.ConfChange{Type: raftpb.ConfChangeRemoveNode, NodeID: id}); err != nil {
		return nil, err
	}
	return s.memberResponse(nil), nil
}

// MemberUpdate replaces the peer URLs of member id (cairn.Cluster).
func (s *Server) MemberUpdate(ctx context.Context, id uint64, peerURLs []string) (*cairn.MemberResponse, error) {
	if err := cairn.ValidatePeerURLs(peerURLs); err != nil {
		return nil, err
	}
	s.confMu.Lock()
	defer s.confMu.Unlock()
	m, err := s.cluster.Existing(id)
	if err != nil {
		return nil, err
	}
	if err := s.cluster.CheckUpdate(id, peerURLs); err != nil {
		return nil, err
	}
	u := &membership.Member{ID: id, Name: m.Name, PeerURLs: slices.Clone(peerURLs), IsLearner: m.IsLearner}
	ctxData, _ := json.Marshal(u)
	if _, err := s.proposeConfChange(ctx, raftpb.ConfChange{Type: raftpb.ConfChangeUpdateNode, NodeID: id, Context: ctxData}); err != nil {
		return nil, err
	}
	return s.memberResponse(nil), nil
}

// MemberPromote makes learner id a voter (cairn.Cluster). Only the leader
// knows how far behind the learner is, so another member forwards the
// request to the leader over the peer transport, as etcd 3.4 does.
func (s *Server) MemberPromote(ctx context.Context, id uint64) (*cairn.MemberResponse, error) {
	m, err := s.cluster.Existing(id)
	if err != nil {
		return nil, err
	}
	if !m.IsLearner {
		return nil, cairn.ErrMemberNotLearner
	}
	lead := s.lead.Load()
	if lead == 0 {
		return nil, cairn.ErrNoLeader
	}
	if lead != s.memberID {
		if err := s.forwardPromote(ctx, lead, id); err != nil {
			return nil, err
		}
		// The leader answered once the change was applied there; wait for
		// it here too, so the list shows it.
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
		return s.memberResponse(nil), nil
	}
	return s.promoteOnLeader(ctx, id)
}

func (s *Server) promoteOnLeader(ctx context.Context, id uint64) (*cairn.MemberResponse, error) {
	s.confMu.Lock()
	defer s.confMu.Unlock()
	m, err := s.cluster.Existing(id)
	if err != nil {
		return nil, err
	}
	if !m.IsLearner {
		return nil, cairn.ErrMemberNotLearner
	}
	if err := s.checkQuorumAfter(s.cluster.List(), 1, id); err != nil {
		return nil, err
	}
	st := s.node.Status()
	if st.RaftState != raft.StateLeader {
		return nil, cairn.ErrNoLeader
	}
	pr, ok := st.Progress[id]
	self := st.Progress[s.memberID]
	if !ok || float64(pr.Match) < float64(self.Match)*learnerReadyPercent {
		return nil, cairn.ErrLearnerNotReady
	}
	m.IsLearner = false
	ctxData, _ := json.Marshal(m)
	r, err := s.proposeConfChange(ctx, raftpb.ConfChange{Type: raftpb.ConfChangeAddNode, NodeID: id, Context: ctxData})
	if err != nil {
		return nil, err
	}
	_ = r
	return s.memberResponse(nil), nil
}

// checkQuorumAfter applies membership.CheckQuorumAfter with this
// member's view of which voters are reachable (its stream to each is up).
func (s *Server) checkQuorumAfter(members []*membership.Member, adding int, removing uint64) error {
	return membership.CheckQuorumAfter(members, adding, removing, func(id uint64) bool {
		return id == s.memberID || s.tr.Active(id)
	})
}

// handOverLeadership asks the leader (being removed) to hand leadership to
// another voter, and waits a little for it.
func (s *Server) handOverLeadership(ctx context.Context, lead uint64) {
	var to uint64
	if lead != s.memberID && !s.isLearner.Load() {
		to = s.memberID
	} else {
		var best uint64
		for id, pr := range s.node.Status().Progress {
			if id != lead && !pr.IsLearner && pr.Match >= best && s.tr.Active(id) {
				to, best = id, pr.Match
			}
		}
	}
	if to == 0 {
		return
	}
	s.log.Info("handing leadership over before removing the leader", "leader", fmt.Sprintf("%x", lead), "to", fmt.Sprintf("%x", to))
	s.node.TransferLeadership(to)
	deadline := time.Now().Add(2 * s.cfg.ElectionTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if l := s.lead.Load(); l != 0 && l != lead {
			return
		}
		time.Sleep(s.cfg.HeartbeatInterval / 2)
	}
}

// proposeConfChange proposes cc and waits until it is applied here.
//
// raft drops a configuration change while another one is not applied yet,
// and a new leader drops them until it has applied its first entry; the
// proposer cannot tell. So an attempt not applied within confChangeRetry is
// proposed again (every change is idempotent: adding, updating or removing
// the same member twice ends in the same state), until the request times
// out.
func (s *Server) proposeConfChange(ctx context.Context, cc raftpb.ConfChange) (applyResult, error) {
	select {
	case <-s.stopc:
		return applyResult{}, cairn.ErrStopped
	default:
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	results := make(chan applyResult, 1)
	var ids []uint64
	defer func() {
		for _, id := range ids {
			s.waits.Cancel(id)
		}
	}()
	retry := time.NewTicker(max(s.cfg.ElectionTimeout, 500*time.Millisecond))
	defer retry.Stop()
	for {
		cc.ID = s.ids.Next()
		ids = append(ids, cc.ID)
		ch := s.waits.Register(cc.ID)
		go func() {
			select {
			case r := <-ch:
				select {
				case results <- r:
				default:
				}
			case <-ctx.Done():
			}
		}()
		if err := s.node.ProposeConfChange(ctx, cc); err != nil && !errors.Is(err, raft.ErrProposalDropped) {
			return applyResult{}, s.proposeErr(ctx, err)
		}
		select {
		case r := <-results:
			return r, r.err
		case <-retry.C:
			s.log.Debug("configuration change not applied yet; proposing it again", "change", cc.Type.String(), "member", fmt.Sprintf("%x", cc.NodeID))
		case <-ctx.Done():
			return applyResult{}, s.contextErr(ctx, ctx.Err())
		case <-s.stopc:
			return applyResult{}, cairn.ErrStopped
		}
	}
}

// memberResponse is the answer of the cluster endpoints: this member's
// header and the members, with added as the member an add created.
func (s *Server) memberResponse(added *membership.Member) *cairn.MemberResponse {
	resp := &cairn.MemberResponse{}
	s.header(&resp.Header)
	for _, m := range s.cluster.List() {
		resp.Members = append(resp.Members, apiMember(m))
	}
	if added != nil {
		resp.Member = apiMember(added)
	}
	return resp
}

func apiMember(m *membership.Member) *cairn.Member {
	return &cairn.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs, IsLearner: m.IsLearner}
}

// forwardPromote asks the leader to promote learner id, over the peer
// transport.
func (s *Server) forwardPromote(ctx context.Context, lead, id uint64) error {
	urls := s.cluster.PeerURLs(lead)
	if len(urls) == 0 {
		return cairn.ErrNoLeader
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	err := s.tr.ForwardPromote(ctx, lead, urls, id)
	if err != nil && ctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return s.contextErr(ctx, ctx.Err())
	}
	return err
}
