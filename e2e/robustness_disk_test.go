package e2e

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// The robustness fault of a full disk: one member (diskMember) keeps its
// data dir on a small filesystem of its own, which disk-full fills.

// diskMember is the member whose data dir is on the small filesystem.
const diskMember = 2

// smallDiskMiB is the small filesystem's size: the raft log preallocates
// 64 MiB, the store and received snapshots need a few more.
const smallDiskMiB = 160

// smallDisk mounts the small filesystem when kinds has disk-full; where
// mounting is not permitted it logs why and returns kinds without
// disk-full.
func smallDisk(t testing.TB, kinds []fault) ([]fault, string) {
	i := slices.IndexFunc(kinds, func(f fault) bool { return f.name == "disk-full" })
	if i < 0 {
		return kinds, ""
	}
	dir, err := tryMountSmallFS(t, smallDiskMiB)
	if err != nil {
		t.Logf("no disk-full faults: %v", err)
		return slices.Delete(slices.Clone(kinds), i, i+1), ""
	}
	return kinds, dir
}

// smallDiskDir is member i's data dir: on the small filesystem for
// diskMember, a new temp dir for the others.
func smallDiskDir(t testing.TB, small string, i int) string {
	if i != diskMember {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp(small, fmt.Sprintf("m%d-", i))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// diskFull fills diskMember's filesystem until 0-32 KiB are left (a busy store grows by about that much a second). The
// member should stop at its next write that needs space (status 1, "no
// space left on device"), as etcd's does; the heal frees the space and
// starts it again on its data dir. Any other exit, or a member that does
// not start again, is a violation.
func (s *scenario) diskFull(rng *rand.Rand) (string, func()) {
	if s.small == "" {
		return "no small filesystem", func() {}
	}
	m := s.c.members[diskMember]
	leave := int64(rng.IntN(32)) << 10
	filler := fillFS(s.t, s.small, leave)
	what := fmt.Sprintf("fill the disk of %s (%d KiB left)", s.describe(diskMember), leave>>10)
	return what, func() {
		if err := os.Remove(filler); err != nil {
			s.t.Fatal(err)
		}
		// A write that failed just before the space came back stops the
		// member a moment later: its log says so at once.
		if strings.Contains(m.logs.String(), "no space left on device") {
			select {
			case <-m.exited:
			case <-time.After(30 * time.Second):
				s.faultBad = append(s.faultBad, fmt.Sprintf("%s ran out of space and did not stop within 30s", m.name))
				m.kill9()
			}
		}
		select {
		case <-m.exited:
		default:
			s.healNote = "kept running"
			return
		}
		var ee *exec.ExitError
		if !errors.As(m.waitErr, &ee) || ee.ExitCode() != 1 || !strings.Contains(m.logs.String(), "no space left on device") {
			s.healNote = "exited otherwise"
			s.faultBad = append(s.faultBad, fmt.Sprintf("%s, its disk full, exited with %v, not for the lack of space; its log ends:\n%s", m.name, m.waitErr, logTail(m.logs.String(), 30)))
		} else {
			s.healNote = "stopped: no space left"
		}
		if err := m.launch(); err != nil {
			s.faultBad = append(s.faultBad, fmt.Sprintf("%s does not start after its disk was full and freed: %v", m.name, err))
			return
		}
		m.waitReady()
		s.setURL(diskMember)
	}
}
