package membership

import (
	"errors"
	"testing"

	"github.com/cairnkv/cairn"
)

func TestCheckQuorumAfter(t *testing.T) {
	voter := func(id uint64, started bool) *Member {
		m := &Member{ID: id}
		if started {
			m.Name = "m"
		}
		return m
	}
	three := []*Member{voter(1, true), voter(2, true), voter(3, true)}
	all := func(uint64) bool { return true }
	not3 := func(id uint64) bool { return id != 3 }
	for _, c := range []struct {
		name      string
		members   []*Member
		adding    int
		removing  uint64
		reachable func(uint64) bool
		want      error
	}{
		{"add to a healthy cluster", three, 1, 0, all, nil},
		{"add while a voter is unreachable", three, 1, 0, not3, cairn.ErrUnhealthy},
		{"remove the unreachable voter", three, 0, 3, not3, nil},
		{"remove a reachable voter while another is down", three, 0, 2, not3, cairn.ErrUnhealthy},
		{"second member for a single one", []*Member{voter(1, true)}, 1, 0, all, nil},
		{"add when too few started", []*Member{voter(1, true), voter(2, false), voter(3, false)}, 1, 0, all, cairn.ErrNotEnoughStartedMembers},
		{"learners do not count", append([]*Member{{ID: 9, IsLearner: true}}, three...), 0, 1, not3, cairn.ErrUnhealthy},
	} {
		if err := CheckQuorumAfter(c.members, c.adding, c.removing, c.reachable); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
