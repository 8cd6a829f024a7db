package server

import (
	"context"

	cairn "github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/httpapi"
)

// Status reports this member's state without going through raft.
func (s *Server) Status(ctx context.Context) (*httpapi.Status, error) {
	st := &httpapi.Status{
		Version:          cairn.APIVersion,
		DBSize:           s.store.Size(),
		DBSizeInUse:      s.store.SizeInUse(),
		Leader:           s.lead.Load(),
		RaftIndex:        s.committed.Load(),
		RaftTerm:         s.term.Load(),
		RaftAppliedIndex: s.appliedIndex.Load(),
	}
	st.Header.Revision = s.store.Rev()
	s.header(&st.Header)
	return st, nil
}
