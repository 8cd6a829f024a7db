package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairnkv/cairn/metrics"
	"github.com/cairnkv/cairn/store"
)

// registerMetrics registers the member's metrics (package metrics) and the
// transport's with reg.
func (s *Server) registerMetrics(reg prometheus.Registerer) error {
	return s.metrics.Register(reg, metrics.Source{
		MemberID:          s.memberID,
		QuotaBackendBytes: s.cfg.QuotaBackendBytes,
		HasLeader:         func() bool { return s.lead.Load() != 0 },
		IsLeader:          func() bool { return s.lead.Load() == s.memberID },
		IsLearner:         s.isLearner.Load,
		CommittedIndex:    s.committed.Load,
		AppliedIndex:      s.appliedIndex.Load,
		Store:             func() metrics.Store { return s.storeNow() },
		Watch:             s.watchStats,
	}, s.tr.Collectors()...)
}

// watchStats returns the counts of the current watch hub (a snapshot
// install replaces it).
func (s *Server) watchStats() store.WatchStats {
	s.storeMu.RLock()
	hub := s.watch
	s.storeMu.RUnlock()
	return hub.Stats()
}
