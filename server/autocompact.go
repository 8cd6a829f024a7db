package server

import (
	"context"

	"github.com/cairnkv/cairn"
)

// compactTarget is the member as its auto-compaction loop (package
// compactor, started by New) sees it.
type compactTarget struct{ s *Server }

func (t compactTarget) Rev() int64     { return t.s.storeNow().Rev() }
func (t compactTarget) IsLeader() bool { return t.s.lead.Load() == t.s.memberID }

func (t compactTarget) Compact(ctx context.Context, rev int64) error {
	_, err := t.s.Compact(ctx, &cairn.CompactionRequest{Revision: rev})
	return err
}
