package lessor

import (
	"context"
	"errors"
	"time"

	"github.com/cairnkv/cairn"
)

// Lease requests that only the leader's lessor answers (keepalive, time to
// live) run at the leader: on this member while its lessor is primary, else
// forwarded to the member that leads (over the peer transport, which the
// member provides as the remote function).

// ErrNotLeader: a member asked to answer a lease request as the leader is
// not the leader's primary lessor (any more, or yet); the asker looks again
// at who leads.
var ErrNotLeader = errors.New("lessor: not the leader")

// leaderPoll is how often a lease request waiting for a leader looks again
// at who leads.
const leaderPoll = 50 * time.Millisecond

// AtLeader runs local while this lessor is primary, or remote with the
// leader's id when another member leads (leader returns the member id of
// the leader this member knows, 0 for none; self is this member's id). It
// waits, until ctx is done, while there is no leader, this member leads but
// its lessor is not primary yet, or the leader asked answered ErrNotLeader.
// A local that fails with ErrNotPrimary (demoted meanwhile) is not final
// either. With remote nil it does not forward: ErrNotLeader when another
// member leads.
//
// It returns what local or remote returned, ctx.Err() when ctx is done
// first, or cairn.ErrStopped once stop is closed.
func (le *Lessor) AtLeader(ctx context.Context, self uint64, leader func() uint64, stop <-chan struct{},
	local func(context.Context) error, remote func(context.Context, uint64) error) error {
	var poll *time.Timer
	for {
		primary, promoted := le.IsPrimary()
		if primary {
			err := local(ctx)
			if !errors.Is(err, ErrNotPrimary) {
				return err
			}
			continue // demoted meanwhile: look again
		}
		if lead := leader(); lead != 0 && lead != self {
			if remote == nil {
				return ErrNotLeader
			}
			err := remote(ctx, lead)
			if !errors.Is(err, ErrNotLeader) {
				return err
			}
			// The leader moved on, or has not promoted its lessor yet:
			// wait a little and look again.
		}
		if poll == nil {
			poll = time.NewTimer(leaderPoll)
			defer poll.Stop()
		} else {
			poll.Reset(leaderPoll)
		}
		select {
		case <-promoted:
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-stop:
			return cairn.ErrStopped
		}
	}
}
