package server

import (
	"context"
	"fmt"
	"io"

	json "github.com/goccy/go-json"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/cairnkv/cairn/peer"
)

// The member's side of the peer transport (package peer): the transport
// holds these two narrow views of the member, not the Server.

// errMemberRemoved is why a removed member stops, etcd's message (the
// transport answers a removed sender with it).
var errMemberRemoved = peer.ErrMemberRemoved

// newTransport makes the member's peer transport; s.node, s.snaps, s.log
// and the ids are set.
func (s *Server) newTransport() *peer.Transport {
	return peer.New(peer.Config{
		MemberID:  s.memberID,
		ClusterID: s.clusterID,
		Logger:    s.log,
		Snapshots: s.snaps,
		Stopping:  s.stopc,
		Raft:      peerRaft{s},
		Member:    peerMember{s},
		TLS:       s.cfg.PeerTLS,
	})
}

// peerRaft is the member's raft node as the transport sees it.
type peerRaft struct{ s *Server }

var _ peer.Raft = peerRaft{}

func (r peerRaft) Process(_ context.Context, m raftpb.Message) error {
	if m.Type == raftpb.MsgProp {
		return r.s.node.StepProposal(m)
	}
	return r.s.node.Step(m)
}
func (r peerRaft) IsIDRemoved(id uint64) bool  { return r.s.cluster.IsRemoved(id) }
func (r peerRaft) ReportUnreachable(id uint64) { r.s.node.ReportUnreachable(id) }
func (r peerRaft) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	r.s.node.ReportSnapshot(id, status)
}

// peerMember is the rest of the member the transport asks of (the lease
// methods are in lease_forward.go).
type peerMember struct{ s *Server }

var _ peer.Member = peerMember{}

func (m peerMember) Removed(by uint64) {
	m.s.fatal(fmt.Errorf("%w (peer %x says so)", errMemberRemoved, by))
}

func (m peerMember) ClusterState() []byte { return m.s.cluster.Encode() }

func (m peerMember) MembersJSON() ([]byte, error) { return json.Marshal(m.s.cluster.List()) }

func (m peerMember) WriteSnapshot(w io.Writer) (int64, error) { return m.s.writeStoreSnapshot(w) }

func (m peerMember) Promote(ctx context.Context, id uint64) error {
	_, err := m.s.promoteOnLeader(ctx, id)
	return err
}
