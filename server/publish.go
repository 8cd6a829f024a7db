package server

import (
	"context"
	"slices"
	"time"

	"github.com/cairnkv/cairn/entry"
	"github.com/cairnkv/cairn/membership"
)

// Published is closed once the cluster state holds this member's name and
// client URLs, committed through raft (or once the member finds itself
// removed from the cluster). Serve clients only then, as etcd does
// (etcdserver's ReadyNotify): before that, a client that discovers the
// cluster's members through this member (/v2/members, etcdctl
// cluster-health, the v2 client's Sync) would not find this member's
// client URLs.
func (s *Server) Published() <-chan struct{} { return s.publishedc }

// publish records this member's name and client URLs in the cluster state
// through raft once the member has a leader, unless the cluster already has
// them (etcd's publish). It retries until it succeeds or the member stops.
func (s *Server) publish() {
	defer s.loops.Done()
	attrs := &membership.Attributes{ID: s.memberID, Name: s.cfg.Name, ClientURLs: slices.Clone(s.cfg.ClientURLs)}
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	for {
		if m := s.cluster.Get(s.memberID); m == nil || (m.Name == attrs.Name && slices.Equal(m.ClientURLs, attrs.ClientURLs)) {
			close(s.publishedc)
			return // published, or not a member (any more)
		}
		if s.lead.Load() != 0 {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.requestTimeout())
			_, err := s.propose(ctx, &entry.Request{Attrs: attrs})
			cancel()
			if err == nil {
				s.log.Info("published the member's name and client URLs", "name", attrs.Name, "client_urls", attrs.ClientURLs)
				continue
			}
			s.log.Debug("publishing the member's attributes", "err", err)
		}
		select {
		case <-retry.C:
		case <-s.stopc:
			return
		}
	}
}
