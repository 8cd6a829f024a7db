package server

import (
	"context"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/lessor"
	"github.com/cairnkv/cairn/store"
	"github.com/cairnkv/cairn/v2store"
)

// applyV2 runs a v2 write in the batch: one store transaction, or a
// *v2store.Error with nothing written. The lease a TTL granted goes in
// r.leaseGrant for the lessor.
func applyV2(b *store.Batch, w *entry.V2Write, r *applyResult) {
	if w.Request == nil {
		r.err = errEmptyV2
		return
	}
	t := v2store.Tree{Prefix: w.Prefix}
	r.v2, r.err = t.Apply(b, w.Request)
	if r.err == nil && r.v2.GrantedLease != 0 {
		r.leaseGrant = &cairn.LeaseGrantResponse{ID: r.v2.GrantedLease, TTL: r.v2.GrantedTTL}
	}
}

var errEmptyV2 = v2store.NewError(v2store.EcodeInvalidForm, "empty v2 request", 0)

// V2Header returns the member's current values of the v2 headers besides
// X-Etcd-Index: the cluster id, the applied raft index, the raft term.
func (s *Server) V2Header() cairn.V2Header {
	return cairn.V2Header{ClusterID: s.clusterID, RaftIndex: s.appliedIndex.Load(), RaftTerm: s.term.Load()}
}

// V2Prefix returns the store prefix of the v2 tree (Config.V2Prefix).
func (s *Server) V2Prefix() string { return s.cfg.V2Prefix }

// V2Write runs a v2 keys write (PUT, POST, DELETE) through raft and
// returns once it is applied. Errors: *v2store.Error for the v2 answers
// (the store changed nothing), the store's sentinels (cairn.ErrTimeout,
// cairn.ErrNoLeader, cairn.ErrNoSpace, cairn.ErrStopped...) and ctx.Err().
func (s *Server) V2Write(ctx context.Context, req *v2store.Request) (*v2store.Event, error) {
	r, err := s.propose(ctx, &entry.Request{V2: &entry.V2Write{Prefix: s.cfg.V2Prefix, Request: req}})
	s.v2Stats.CountWrite(req, err)
	if err != nil {
		return nil, err
	}
	s.v2Expiry(r.v2)
	return r.v2, nil
}

// V2Get reads the clean v2 path p (a file, or a directory with its
// children, all of them with recursive) at one revision of the local
// store; with quorum after a ReadIndex round (linearizable), as etcd v2's
// quorum=true. Errors: *v2store.Error 100, cairn.ErrStopped, ctx.Err().
func (s *Server) V2Get(ctx context.Context, p string, recursive, quorum bool) (*v2store.Event, error) {
	if quorum {
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	t := v2store.Tree{Prefix: s.cfg.V2Prefix}
	s.storeMu.RLock()
	defer s.storeMu.RUnlock()
	for {
		rev := s.store.Rev()
		ev, err := t.Get(s.store, rev, p, recursive)
		if err == cairn.ErrCompacted {
			continue // compacted between Rev and the reads: read again
		}
		s.v2Stats.CountGet(err)
		if err == nil {
			s.v2Expiry(ev)
		}
		return ev, err
	}
}

var _ cairn.V2Members = (*Server)(nil)

// V2Members lists the cluster's members in ascending ID order with the
// client URLs they published, and the leader this member knows (0: none).
func (s *Server) V2Members() ([]cairn.V2Member, uint64) {
	var out []cairn.V2Member
	for _, m := range s.cluster.List() { // copies, by ID
		out = append(out, cairn.V2Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs})
	}
	return out, s.lead.Load()
}

// v2Expiry fills the expiration and ttl of the event's nodes that hold a
// lease: from the lessor on the leader; elsewhere (a follower's lessor
// keeps no clocks) the granted TTL from now, as if just renewed.
func (s *Server) v2Expiry(ev *v2store.Event) {
	if ev == nil {
		return
	}
	now := time.Now() // shown as wall-clock time; the lessor says how long is left
	set := func(n *v2store.Node) {
		if n.Lease == 0 {
			return
		}
		left, _, err := s.lessor.Remaining(n.Lease)
		if err != nil {
			l, ok := s.storeNow().Lease(n.Lease)
			if !ok {
				return
			}
			left = lessor.TTLDuration(l.TTL)
		}
		n.SetExpiry(now.Add(left), now)
	}
	ev.Node.Walk(set)
	ev.PrevNode.Walk(set)
}
