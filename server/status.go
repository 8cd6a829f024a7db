package server

import (
	"context"

	"github.com/cairnkv/cairn"
)

// Status reports this member's state without going through raft.
func (s *Server) Status(ctx context.Context) (*cairn.Status, error) {
	s.storeMu.RLock()
	size, inUse, rev := s.store.Size(), s.store.SizeInUse(), s.store.Rev()
	s.storeMu.RUnlock()
	st := &cairn.Status{
		Version:          cairn.APIVersion,
		DBSize:           size,
		DBSizeInUse:      inUse,
		Leader:           s.lead.Load(),
		RaftIndex:        s.committed.Load(),
		RaftTerm:         s.term.Load(),
		RaftAppliedIndex: s.appliedIndex.Load(),
	}
	st.IsLearner = s.isLearner.Load()
	st.Errors = s.alarmErrors()
	st.Header.Revision = rev
	s.header(&st.Header)
	return st, nil
}
