package server

import (
	"context"

	"github.com/cairnkv/cairn"
)

var _ cairn.KeyHistory = (*Server)(nil)

// History reads one key's changes, newest first (cairn.KeyHistory), after a
// linearizable wait, as Range does without serializable.
func (s *Server) History(ctx context.Context, req *cairn.HistoryRequest) (*cairn.HistoryResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if s.isLearner.Load() {
		return nil, cairn.ErrNotSupportedForLearner
	}
	if err := s.linearizableWait(ctx); err != nil {
		return nil, err
	}
	s.storeMu.RLock()
	resp, err := s.store.History(req)
	s.storeMu.RUnlock()
	if err != nil {
		return nil, err
	}
	s.header(&resp.Header)
	return resp, nil
}
