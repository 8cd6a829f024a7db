package wait

import "testing"

func TestInflightLostOnlyAfterALaterTermApplies(t *testing.T) {
	f := NewInflight()
	lost := func(p *Proposal) bool {
		select {
		case <-p.Retry():
			return true
		default:
			return false
		}
	}
	a, b, c, d := f.Add(1), f.Add(2), f.Add(3), f.Add(4)
	f.Proposed(a, 5)
	f.Proposed(b, 6)
	f.Applied(5) // entries of a's own term: nothing is lost yet
	if lost(a) || lost(b) {
		t.Fatal("a proposal was taken for lost while entries of its term applied")
	}
	f.Remove(2) // applied: never lost
	f.Applied(7)
	if !lost(a) {
		t.Fatal("a proposal of term 5 still waiting after term 7 applied is not lost")
	}
	if lost(b) {
		t.Fatal("an applied proposal was taken for lost")
	}
	// Proposed for a term that is already behind: lost at once.
	f.Proposed(c, 6)
	if !lost(c) {
		t.Fatal("a proposal for term 6 proposed after term 7 applied is not lost")
	}
	// Signalled once, until it is proposed again.
	f.Proposed(a, 8)
	f.Applied(9)
	f.Applied(10)
	if !lost(a) || lost(a) {
		t.Fatal("a lost proposal is signalled exactly once per proposal")
	}
	// A snapshot installed while d waited may hold it: never proposed again.
	f.SnapshotInstalled()
	f.Proposed(d, 6)
	f.Applied(11)
	if lost(d) {
		t.Fatal("a proposal of unknown fate (a snapshot was installed) was taken for lost")
	}
}
