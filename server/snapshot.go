package server

import (
	"io"
)

// writeStoreSnapshot writes a consistent copy of the store file to w, for a
// follower that needs a snapshot, and returns its size in bytes. The copy's
// consistent index is at least the index of every raft snapshot this member
// took, since those are taken at the store's DurableIndex.
func (s *Server) writeStoreSnapshot(w io.Writer) (int64, error) {
	s.storeMu.RLock()
	st := s.store
	s.storeMu.RUnlock()
	n, _, err := st.WriteSnapshot(w)
	return n, err
}
