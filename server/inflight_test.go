package server

import "testing"

func TestInflightLostOnlyAfterALaterTermApplies(t *testing.T) {
	f := newInflight()
	lost := func(p *inflightProposal) bool {
		select {
		case <-p.retry:
			return true
		default:
			return false
		}
	}
	a, b, c, d := f.add(1), f.add(2), f.add(3), f.add(4)
	f.proposed(a, 5)
	f.proposed(b, 6)
	f.applied(5) // entries of a's own term: nothing is lost yet
	if lost(a) || lost(b) {
		t.Fatal("a proposal was taken for lost while entries of its term applied")
	}
	f.remove(2) // applied: never lost
	f.applied(7)
	if !lost(a) {
		t.Fatal("a proposal of term 5 still waiting after term 7 applied is not lost")
	}
	if lost(b) {
		t.Fatal("an applied proposal was taken for lost")
	}
	// Proposed for a term that is already behind: lost at once.
	f.proposed(c, 6)
	if !lost(c) {
		t.Fatal("a proposal for term 6 proposed after term 7 applied is not lost")
	}
	// Signalled once, until it is proposed again.
	f.proposed(a, 8)
	f.applied(9)
	f.applied(10)
	if !lost(a) || lost(a) {
		t.Fatal("a lost proposal is signalled exactly once per proposal")
	}
	// A snapshot installed while d waited may hold it: never proposed again.
	f.snapshotInstalled()
	f.proposed(d, 6)
	f.applied(11)
	if lost(d) {
		t.Fatal("a proposal of unknown fate (a snapshot was installed) was taken for lost")
	}
}
