package server

import (
	"context"
	"errors"

	"go.etcd.io/raft/v3"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/entry"
)

var (
	_ cairn.KV          = (*Server)(nil)
	_ cairn.Maintenance = (*Server)(nil)
)

// header completes a store header with this member's identity and term.
func (s *Server) header(h *cairn.ResponseHeader) {
	h.ClusterID = s.clusterID
	h.MemberID = s.memberID
	h.RaftTerm = s.term.Load()
}

// Range reads keys: linearizable (after a ReadIndex round) unless
// req.Serializable. Errors: those of req.Validate, cairn.ErrCompacted,
// cairn.ErrFutureRev, cairn.ErrTimeout, cairn.ErrStopped, ctx.Err().
func (s *Server) Range(ctx context.Context, req *cairn.RangeRequest) (*cairn.RangeResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	if !req.Serializable {
		if s.isLearner.Load() {
			return nil, cairn.ErrNotSupportedForLearner
		}
		if err := s.linearizableWait(ctx); err != nil {
			return nil, err
		}
	}
	s.storeMu.RLock()
	resp, err := s.store.Range(req)
	s.storeMu.RUnlock()
	if err != nil {
		return nil, err
	}
	s.header(&resp.Header)
	return resp, nil
}

// Put writes one key through raft and returns once it is applied.
func (s *Server) Put(ctx context.Context, req *cairn.PutRequest) (*cairn.PutResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	r, err := s.propose(ctx, &entry.Request{Put: req})
	if err != nil {
		return nil, err
	}
	s.header(&r.put.Header)
	return r.put, nil
}

// DeleteRange deletes a key or a range through raft.
func (s *Server) DeleteRange(ctx context.Context, req *cairn.DeleteRangeRequest) (*cairn.DeleteRangeResponse, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	r, err := s.propose(ctx, &entry.Request{DeleteRange: req})
	if err != nil {
		return nil, err
	}
	s.header(&r.deleteRange.Header)
	return r.deleteRange, nil
}

// Txn runs a transaction through raft (read-only ones too, so they are
// linearizable).
func (s *Server) Txn(ctx context.Context, req *cairn.TxnRequest) (*cairn.TxnResponse, error) {
	if err := req.Validate(s.cfg.MaxTxnOps); err != nil {
		return nil, err
	}
	r, err := s.propose(ctx, &entry.Request{Txn: req})
	if err != nil {
		return nil, err
	}
	s.header(&r.txn.Header)
	return r.txn, nil
}

// Compact compacts the store's history below req.Revision. With
// req.Physical it returns after the old revisions are gone from disk.
func (s *Server) Compact(ctx context.Context, req *cairn.CompactionRequest) (*cairn.CompactionResponse, error) {
	r, err := s.propose(ctx, &entry.Request{Compaction: req})
	if err != nil {
		return nil, err
	}
	if req.Physical && r.compacted != nil {
		select {
		case <-r.compacted:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-s.stopc:
			return nil, cairn.ErrStopped
		}
	}
	s.header(&r.compaction.Header)
	return r.compaction, nil
}

// propose sends req through raft and waits for its apply result.
func (s *Server) propose(ctx context.Context, req *entry.Request) (applyResult, error) {
	select {
	case <-s.stopc:
		return applyResult{}, cairn.ErrStopped
	default:
	}
	if s.isLearner.Load() && !req.IsCluster() && req.V2 == nil { // v2 writes: as etcd 3.4, through the leader
		return applyResult{}, cairn.ErrNotSupportedForLearner
	}
	req.ID = s.ids.Next()
	data, err := req.Marshal()
	if err != nil {
		return applyResult{}, err
	}
	if len(data) > maxEntryBytes(s.cfg.MaxRequestBytes) {
		return applyResult{}, cairn.ErrRequestTooLarge
	}
	if err := s.checkSpace(req, len(data)); err != nil {
		return applyResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.requestTimeout())
	defer cancel()
	ch := s.waits.Register(req.ID)
	p := s.inflight.Add(req.ID)
	defer s.inflight.Remove(req.ID)
	// As etcd counts them: pending once raft took the proposal, failed when
	// raft refused it or it was not applied in time.
	pending := false
	defer func() {
		if pending {
			s.metrics.Pending.Add(-1)
		}
	}()
	for {
		term, err := s.node.Propose(ctx, data)
		if err != nil {
			s.waits.Cancel(req.ID)
			s.metrics.ProposalsFailed.Inc()
			return applyResult{}, s.proposeErr(ctx, err)
		}
		if !pending {
			pending = true
			s.metrics.Pending.Add(1)
		}
		s.inflight.Proposed(p, term)
		select {
		case r := <-ch:
			if r.err != nil {
				return applyResult{}, r.err
			}
			return r, nil
		case <-p.Retry():
			// Lost with the leader of its term (internal/wait, Inflight): the same
			// request, with the same id, goes to the new leader. (The
			// applier removes an applied request before it looks for lost
			// ones, so an applied one never gets here; the check is cheap.)
			select {
			case r := <-ch:
				if r.err != nil {
					return applyResult{}, r.err
				}
				return r, nil
			default:
			}
			s.log.Debug("proposal lost with its leader; proposing it again", "request_id", req.ID)
		case <-ctx.Done():
			s.waits.Cancel(req.ID)
			s.metrics.ProposalsFailed.Inc()
			return applyResult{}, s.contextErr(ctx, ctx.Err())
		case <-s.stopc:
			s.waits.Cancel(req.ID)
			return applyResult{}, cairn.ErrStopped
		}
	}
}

// proposeErr explains a proposal raft refused: it drops proposals while
// the member knows no leader (or the leader is handing over).
func (s *Server) proposeErr(ctx context.Context, err error) error {
	if errors.Is(err, raft.ErrProposalDropped) {
		if s.lead.Load() == 0 {
			return cairn.ErrNoLeader
		}
		return cairn.ErrTimeout
	}
	return s.contextErr(ctx, err)
}

// contextErr turns our own request deadline into cairn.ErrTimeout and
// leaves the caller's cancellation as it is.
func (s *Server) contextErr(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return cairn.ErrTimeout
	}
	return s.errStoppedOr(err)
}

// maxEntryBytes bounds the raft entry of one request. The client API applies
// etcd's --max-request-bytes exactly, to the request's protobuf size (see
// httpapi/size.go); puts and v2 writes are binary entries about as large as
// that, the other kinds JSON, where bytes travel as base64, up to 4/3
// larger. This bound only keeps entries the client
// API let through from being refused here, while still stopping an
// oversized entry from any other caller before it reaches raft.
func maxEntryBytes(maxRequestBytes int) int {
	return maxRequestBytes/3*4 + 64<<10
}
