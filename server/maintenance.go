package server

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/internal/logattr"
	"github.com/cairnkv/cairn/store"
)

var _ cairn.MaintenanceOps = (*Server)(nil)

// Snapshot opens a consistent copy of this member's store file, after
// writing everything applied so far to it (cairn.MaintenanceOps): a
// backup holds every write acknowledged before the call. The caller closes
// it.
func (s *Server) Snapshot(ctx context.Context) (cairn.SnapshotReader, error) {
	s.storeMu.RLock()
	st := s.store
	s.storeMu.RUnlock()
	if err := st.Flush(); err != nil {
		return nil, s.errStoppedOr(err)
	}
	sn, err := st.OpenSnapshot()
	if err != nil {
		return nil, s.errStoppedOr(err)
	}
	return sn, nil
}

// Defragment rewrites this member's store file without its free pages
// (cairn.MaintenanceOps), on the applier goroutine between two batches:
// the store is closed (everything applied is written first), rewritten with
// store.DefragmentFile, and opened again with the same watch hub. Reads and
// applies wait meanwhile, as they do during etcd's defragmentation.
func (s *Server) Defragment(ctx context.Context) error {
	done := make(chan error, 1)
	fn := func() {
		start := time.Now()
		s.storeMu.Lock()
		defer s.storeMu.Unlock()
		if err := s.store.Close(); err != nil {
			done <- err
			return
		}
		before, after, derr := store.DefragmentFile(s.storePath())
		ns, err := s.openStoreWith(s.storePath(), s.watch)
		if err != nil {
			// The store cannot be opened again: nothing can go on.
			s.fatal(fmt.Errorf("reopening the store after a defragmentation: %w", err))
			done <- err
			return
		}
		s.store = ns
		if derr != nil {
			done <- derr
			return
		}
		s.log.Info("store defragmented", "size_before", before, "size_after", after, logattr.TookMS(start))
		done <- nil
	}
	select {
	case s.applierc <- fn:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopc:
		return cairn.ErrStopped
	}
	select {
	case err := <-done:
		return err
	case <-s.stopc:
		return cairn.ErrStopped
	}
}

// Hash hashes this member's store file contents (cairn.MaintenanceOps).
func (s *Server) Hash(ctx context.Context) (uint32, *cairn.ResponseHeader, error) {
	s.storeMu.RLock()
	st := s.store
	s.storeMu.RUnlock()
	h, err := st.Hash()
	if err != nil {
		return 0, nil, s.errStoppedOr(err)
	}
	hdr := &cairn.ResponseHeader{Revision: st.Rev()}
	s.header(hdr)
	return h, hdr, nil
}

// HashKV hashes the MVCC history up to rev (cairn.MaintenanceOps); equal
// on every member at the same revision.
func (s *Server) HashKV(ctx context.Context, rev int64) (*cairn.HashKVResponse, error) {
	s.storeMu.RLock()
	st := s.store
	s.storeMu.RUnlock()
	h, compacted, err := st.HashKV(rev)
	if err != nil {
		return nil, s.errStoppedOr(err)
	}
	resp := &cairn.HashKVResponse{Hash: h, CompactRevision: compacted}
	resp.Header.Revision = st.Rev()
	s.header(&resp.Header)
	return resp, nil
}
