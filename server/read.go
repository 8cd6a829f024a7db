package server

import (
	"context"
	"encoding/binary"
	"time"

	"github.com/cairnkv/cairn"
)

// readRound is one ReadIndex round shared by every linearizable read that
// joined it; done is closed when the applied index has reached the round's
// read index (err nil) or the round failed (err set).
type readRound struct {
	done chan struct{}
	err  error
}

func newReadRound() *readRound { return &readRound{done: make(chan struct{})} }

// readIndexRetry is how often an unanswered ReadIndex is sent again (raft
// drops it silently while there is no leader).
const readIndexRetry = 500 * time.Millisecond

// linearizableWait returns once the local store reflects every write that
// was acknowledged before the call.
func (s *Server) linearizableWait(ctx context.Context) error {
	s.readMu.Lock()
	r := s.nextRead
	s.readMu.Unlock()
	select {
	case s.readWake <- struct{}{}:
	default:
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopc:
		return cairn.ErrStopped
	}
}

// readLoop runs ReadIndex rounds, one at a time, while reads are waiting.
func (s *Server) readLoop() {
	defer s.loops.Done()
	for {
		select {
		case <-s.readWake:
		case <-s.stopc:
			return
		}
		s.readMu.Lock()
		r := s.nextRead
		s.nextRead = newReadRound()
		s.readMu.Unlock()

		r.err = s.readIndexRound()
		close(r.done)
	}
}

func (s *Server) readIndexRound() error {
	id := s.ids.Next()
	var rctx [8]byte
	binary.BigEndian.PutUint64(rctx[:], id)
	deadline := time.NewTimer(s.cfg.requestTimeout())
	defer deadline.Stop()
	retry := time.NewTicker(readIndexRetry)
	defer retry.Stop()

	// raft drops the request when it knows no leader, and a leader that
	// dies takes it along: it is sent again when the leader changes and at
	// every retry tick, until the deadline.
	leadc := s.node.LeaderChange()
	s.node.ReadIndex(rctx[:])
	var index uint64
wait:
	for {
		select {
		case <-leadc:
			leadc = s.node.LeaderChange()
			s.node.ReadIndex(rctx[:])
		case rs := <-s.readStatec:
			if binary.BigEndian.Uint64(rs.RequestCtx) == id && len(rs.RequestCtx) == 8 {
				index = rs.Index
				break wait
			}
			// An answer to an earlier round that timed out: ignore it.
		case <-retry.C:
			s.node.ReadIndex(rctx[:])
		case <-deadline.C:
			return cairn.ErrTimeout
		case <-s.stopc:
			return cairn.ErrStopped
		}
	}
	select {
	case <-s.applied.Wait(index):
		return nil
	case <-deadline.C:
		return cairn.ErrTimeout
	case <-s.stopc:
		return cairn.ErrStopped
	}
}
