package wait

import "sync"

// Proposals lost with their leader are proposed again.
//
// A proposal is appended to the raft log in the term raftnode.Node.Propose
// returned, or never: the leader appends it only in that term (a forwarded
// proposal names it, StepProposal checks it). The terms of a log's entries
// never decrease, so once this member has applied an entry of a later term,
// every entry of the proposal's term that will ever commit is applied. A
// proposal whose waiter was not woken by then was not committed and never
// will be: its proposer proposes it again, with the same request id, to
// the leader of the new term. That makes a write sent while its leader dies
// or stalls succeed soon after the election, where etcd lets it time out;
// and it cannot apply twice, since the lost copy can no longer commit.

// Inflight tracks this member's proposals that wait for their apply.
type Inflight struct {
	mu sync.Mutex
	// appliedTerm is the term of the last entry the applier applied.
	appliedTerm uint64
	props       map[uint64]*Proposal
}

// Proposal is one waiting proposal: the term it may be appended
// in (0 while it is being proposed), and retry, signalled once it is lost.
// unknown is set when a raft snapshot was installed while it waited: the
// snapshot may hold it, applied without waking its waiter, so it is never
// Proposed again (it times out, as before).
type Proposal struct {
	term    uint64
	unknown bool
	retry   chan struct{}
}

// Retry is signalled once the proposal is lost: its proposer proposes it
// again, with the same request id.
func (p *Proposal) Retry() <-chan struct{} { return p.retry }

// NewInflight returns an empty Inflight.
func NewInflight() *Inflight {
	return &Inflight{props: map[uint64]*Proposal{}}
}

// Add starts tracking request id; the caller removes it when it is done.
func (f *Inflight) Add(id uint64) *Proposal {
	p := &Proposal{retry: make(chan struct{}, 1)}
	f.mu.Lock()
	f.props[id] = p
	f.mu.Unlock()
	return p
}

// Remove stops tracking request id: its proposer is done, or the applier
// Applied it (so it is never taken for lost).
func (f *Inflight) Remove(id uint64) {
	f.mu.Lock()
	delete(f.props, id)
	f.mu.Unlock()
}

// Proposed records that p was proposed for term; if an entry of a later
// term is applied already, p is lost at once.
func (f *Inflight) Proposed(p *Proposal, term uint64) {
	f.mu.Lock()
	if !p.unknown {
		p.term = term
		f.lostLocked(p)
	}
	f.mu.Unlock()
}

// SnapshotInstalled marks every waiting proposal unknown: the installed
// snapshot may have applied it.
func (f *Inflight) SnapshotInstalled() {
	f.mu.Lock()
	for _, p := range f.props {
		p.unknown, p.term = true, 0
	}
	f.mu.Unlock()
}

// Applied records that the applier applied entries up to one of term; the
// proposals of earlier terms still waiting are lost.
func (f *Inflight) Applied(term uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if term <= f.appliedTerm {
		return
	}
	f.appliedTerm = term
	for _, p := range f.props {
		f.lostLocked(p)
	}
}

func (f *Inflight) lostLocked(p *Proposal) {
	if p.term != 0 && p.term < f.appliedTerm {
		p.term = 0 // until it is proposed again
		select {
		case p.retry <- struct{}{}:
		default:
		}
	}
}
