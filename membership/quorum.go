package membership

import "github.com/cairnkv/cairn"

// CheckQuorumAfter refuses a change that would leave the voting members
// without a quorum of started members, or that is made while members are
// unreachable (etcd's strict reconfig check, always on here). adding is the
// number of voters the change adds (an added or promoted member counts as
// started); removing, if not 0, the voter it removes. "Started" means the
// member published its name; reachable reports whether the member checking
// can reach a voter (itself included). Adding a voter needs every voter
// reachable, other changes a quorum of the voters that remain. Errors:
// cairn.ErrNotEnoughStartedMembers, cairn.ErrUnhealthy.
func CheckQuorumAfter(members []*Member, adding int, removing uint64, reachable func(id uint64) bool) error {
	var voters, started, up int
	for _, m := range members {
		if m.IsLearner || m.ID == removing {
			continue
		}
		voters++
		if m.Name != "" {
			started++
		}
		if reachable(m.ID) {
			up++
		}
	}
	if adding > 0 && voters == 1 && started == 1 {
		// A second member for a single one (etcd allows it: the way to
		// grow a cluster restored from a backup).
		return nil
	}
	quorum := (voters+adding)/2 + 1
	if started+adding < quorum {
		return cairn.ErrNotEnoughStartedMembers
	}
	if adding > 0 && removing == 0 && up < voters {
		return cairn.ErrUnhealthy
	}
	if up+adding < quorum {
		return cairn.ErrUnhealthy
	}
	return nil
}
