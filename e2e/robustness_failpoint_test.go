package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/cairnkv/cairn/internal/failpoint"
)

// The robustness faults that use failpoints (internal/failpoint): a crash
// at a chosen point, and a slow disk.

// crashPoints are the points a crash fault arms, each with the number of
// hits it lets pass at most before the crash (more for the points a busy
// member hits often). The snapshot points (snap) are drawn only in the
// scenarios that run with --snapshot-count 100 (half the seeds): with
// etcd's default of 10,000 no member reaches them in a scenario.
var crashPoints = []crashPoint{
	{"raftlog/beforeWrite", 100, false}, {"raftlog/afterWrite", 100, false},
	{"raftlog/beforeSync", 100, false}, {"raftlog/afterSync", 100, false},
	{"server/beforeApplyEntry", 200, false}, {"server/afterApplyEntry", 200, false},
	{"store/beforeCommit", 10, false}, {"store/afterCommit", 10, false},
	{"server/beforeRaftSnapshot", 2, true}, {"server/afterRaftSnapshot", 2, true},
	{"snapshot/afterReceive", 1, true}, {"server/beforeSnapshotInstall", 1, true}, {"server/afterSnapshotInstall", 1, true},
}

// crashPoint is a point a crash fault may arm.
type crashPoint struct {
	name    string
	maxHits int
	snap    bool // reached only with frequent snapshots
}

// crashAtPoint kill -9s a random member and, after 0.3-1.5 s down (so
// that it has some catching up to do, through a snapshot if the leader
// compacted past it), starts it again with a random point armed to crash
// after a random number of hits, so that it dies there (while it starts,
// catches up or serves). The heal kill -9s it if it did not get there, and
// starts it clean. A member that exits any other way is a violation.
func (s *scenario) crashAtPoint(rng *rand.Rand) (string, func()) {
	i := rng.IntN(len(s.c.members))
	points := crashPoints
	if !s.snapshots {
		points = slices.DeleteFunc(slices.Clone(points), func(p crashPoint) bool { return p.snap })
	}
	p := points[rng.IntN(len(points))]
	spec := fmt.Sprintf("%s=%d*off->panic", p.name, rng.IntN(p.maxHits))
	m := s.c.members[i]
	down := time.Duration(300+rng.IntN(1200)) * time.Millisecond
	what := fmt.Sprintf("kill -9 %s, %v later restart it with %s", s.describe(i), down, spec)
	m.kill9()
	time.Sleep(down)
	m.env = append(slices.Clone(s.c.env), "CAIRN_FAILPOINTS="+spec)
	if err := m.launch(); err == nil { // else it died before serving
		s.setURL(i)
	}
	return what, func() {
		m.env = s.c.env
		select {
		case <-m.exited:
			var ee *exec.ExitError
			if errors.As(m.waitErr, &ee) && ee.ExitCode() == failpoint.ExitCode && strings.Contains(m.logs.String(), "failpoint "+p.name+": crash") {
				s.healNote = "crashed there"
			} else {
				s.healNote = "exited otherwise"
				s.faultBad = append(s.faultBad, fmt.Sprintf("%s, armed with %s, exited otherwise (%v); its log ends:\n%s", m.name, spec, m.waitErr, logTail(m.logs.String(), 30)))
			}
		default:
			s.healNote = "not reached"
			m.kill9()
		}
		if err := m.launch(); err != nil {
			s.faultBad = append(s.faultBad, fmt.Sprintf("%s does not start after a crash at %s: %v", m.name, p.name, err))
			return
		}
		m.waitReady()
		s.setURL(i)
	}
}

// slowFsync makes every WAL fsync and bbolt commit of one member (the
// leader or a random one) sleep 20-300 ms first, through the failpoint
// endpoint, until the heal.
func (s *scenario) slowFsync(rng *rand.Rand) (string, func()) {
	i := rng.IntN(len(s.c.members))
	if rng.IntN(2) == 0 {
		i = s.leaderOr(rng)
	}
	d := time.Duration(20+rng.IntN(280)) * time.Millisecond
	m := s.c.members[i]
	what := fmt.Sprintf("every fsync and bbolt commit of %s %v slower", s.describe(i), d)
	points := []string{"raftlog/beforeSync", "store/beforeCommit"}
	for _, p := range points {
		if err := fpCall(m.member, http.MethodPut, p, fmt.Sprintf("sleep(%v)", d)); err != nil {
			s.t.Fatalf("arming %s on %s: %v", p, m.name, err)
		}
	}
	return what, func() {
		for _, p := range points {
			if err := fpCall(m.member, http.MethodDelete, p, ""); err != nil {
				s.t.Fatalf("disarming %s on %s: %v", p, m.name, err)
			}
		}
	}
}

// fpCall sends one request to m's failpoint endpoint.
func fpCall(m *member, method, point, body string) error {
	if m.fpURL == "" {
		return errors.New("the member serves no failpoint endpoint (CAIRN_FAILPOINTS_HTTP)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, m.fpURL+"/"+point, strings.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return nil
}
