package e2e

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// The robustness suite (issue 11): randomized scenarios against a 3-member
// cluster of the real binary whose peer links go through peerProxy. Each
// scenario, from its seed: picks the members' flags, runs clients
// (robustness_traffic_test.go) and watchers (robustness_watch_test.go)
// while it injects faults one after another (robustness_faults_test.go),
// heals, writes a last key (so every write still in flight is decided),
// and checks: the client history is linearizable; every member's own
// history holds every acknowledged write at its revision, with no gap, and
// the members' histories are the same; hashkv agrees at the last revision;
// each member's keys at that revision are its history replayed; the v3
// watchers (HTTP stream and websocket) saw every revision, in order, once,
// each revision's events in one response, across their reconnections; the
// v2 waiter saw every revision once, in order. docs/robustness.md tells
// how to run many (scripts/robustness.sh).

var (
	robScenarios = flag.Int("robustness.scenarios", 3, "robustness scenarios to run")
	robSeed      = flag.Uint64("robustness.seed", 0, "seed of the first scenario, the next ones +1 each (0: from the clock)")
	robTraffic   = flag.Duration("robustness.traffic", 8*time.Second, "how long each scenario injects faults under traffic")
	robSummary   = flag.String("robustness.summary", "", "file to write the summary of the scenarios to")
	robKinds     = flag.String("robustness.kinds", "", "comma-separated fault kinds to draw from (empty: all)")
)

func TestRobustness(t *testing.T) {
	if _, err := os.Stat(filepath.Join(binDir, "cairn")); err != nil {
		t.Skipf("package e2e: TestRobustness needs the cairn binary (%v)", err)
	}
	seed := *robSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano() % 1e9)
	}
	kinds, err := faultKinds(*robKinds)
	if err != nil {
		t.Fatal(err)
	}
	var results []*scenarioResult
	for k := 0; k < *robScenarios; k++ {
		s := seed + uint64(k)
		res := &scenarioResult{Seed: s}
		ok := t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			rec := &recorder{TB: t}
			defer func() { res.Error = rec.first() }() // also after a Fatal
			runScenario(rec, s, *robTraffic, kinds, res)
		})
		if !ok && res.Error == "" && len(res.Violations) == 0 {
			res.Error = "failed (see the test log)"
		}
		results = append(results, res)
		// After each scenario, so that a run cut short still tells.
		if *robSummary != "" {
			if err := os.WriteFile(*robSummary, []byte(summarize(results, *robTraffic)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// scenarioResult is what one scenario did and found.
type scenarioResult struct {
	Seed       uint64
	Flags      []string
	Faults     []string
	Took       time.Duration
	Ops        int // succeeded
	Unknown    int // outcome unknown
	Failed     int // surely not applied, or failed reads
	Acks       int // acknowledged writes
	Revisions  int64
	Reconnects []string // per watcher
	Violations []string
	Error      string // the harness's first failure, if it failed
}

// scenario is one scenario's cluster, network, clients and findings.
type scenario struct {
	t          testing.TB
	c          *cluster
	net        *peerNet
	urls       []atomic.Pointer[string] // client URLs, as the clients see them
	hist       history
	lastLeader int // the leader when the current fault began, -1 unknown
	// faultBad are violations a fault's heal saw (a member that died
	// other than at its armed failpoint).
	faultBad []string
	// snapshots: the members run with --snapshot-count 100.
	snapshots bool
	// small is the small filesystem member diskMember's data dir is on
	// ("" without disk-full faults).
	small string
	// healNote is what the last heal found (a crash fault: whether the
	// member crashed at its point); injectFaults adds it to the fault.
	healNote string
}

func (s *scenario) clientURL(i int) string {
	return *s.urls[i%len(s.urls)].Load()
}

// setURL publishes member i's client URL (new after a restart).
func (s *scenario) setURL(i int) {
	u := s.c.members[i].url
	s.urls[i].Store(&u)
}

// runScenario runs the scenario of seed, injecting faults for traffic,
// and fills res.
func runScenario(t testing.TB, seed uint64, traffic time.Duration, kinds []fault, res *scenarioResult) {
	began := time.Now()
	defer func() { res.Took = time.Since(began).Round(100 * time.Millisecond) }()
	rng := rand.New(rand.NewPCG(seed, 0xfa17))
	if rng.IntN(2) == 0 {
		// Snapshots often, so that a member that was down or cut off
		// catches up through one.
		res.Flags = []string{"--snapshot-count", "100", "--experimental-snapshot-catchup-entries", "50"}
	}
	kinds, small := smallDisk(t, kinds)
	c, pn := startClusterOnNet(t, 3, func(c *cluster) {
		// The failpoint endpoint lets slow-fsync arm and disarm points.
		c.env = []string{"CAIRN_FAILPOINTS_HTTP=127.0.0.1:0"}
		if small != "" { // disk-full fills it
			c.dataDir = func(i int) string { return smallDiskDir(t, small, i) }
		}
	}, res.Flags...)
	s := &scenario{t: t, c: c, net: pn, urls: make([]atomic.Pointer[string], 3), hist: history{start: time.Now()}, small: small, snapshots: len(res.Flags) > 0}
	for i := range c.members {
		s.setURL(i)
	}
	from := c.members[0].revision(t) + 1

	// Watchers and clients.
	wctx, wcancel := context.WithCancel(context.Background())
	logs := []*watchLog{{name: "v3-http"}, {name: "v3-websocket"}, {name: "v2-wait"}}
	var wwg sync.WaitGroup
	for i, l := range logs {
		l.next.Store(from)
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			if i < 2 {
				s.followV3(wctx, l, i, i == 1)
			} else {
				s.followV2(wctx, l, i)
			}
		}()
	}
	stop := make(chan struct{})
	var cwg sync.WaitGroup
	for id := 0; id < 6; id++ {
		cl := &rbClient{id: id, rng: rand.New(rand.NewPCG(seed, uint64(id)+1)), seen: map[string]string{}, ep: id}
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			s.runClient(cl, stop)
		}()
	}
	stopClients := sync.OnceFunc(func() { close(stop); cwg.Wait() })
	stopWatchers := sync.OnceFunc(func() { wcancel(); wwg.Wait() })
	t.Cleanup(func() { stopClients(); stopWatchers() }) // after a harness failure

	res.Faults = s.injectFaults(rng, traffic, kinds)
	stopClients()

	// A member gone by itself (not killed by a fault) is a violation.
	var gone []string
	for _, m := range c.members {
		if !m.alive() {
			gone = append(gone, fmt.Sprintf("%s exited by itself (%v); its log ends:\n%s", m.name, m.waitErr, logTail(m.logs.String(), 30)))
		}
	}
	if len(gone) > 0 {
		res.Violations = gone
		t.Fatalf("violation: %s", strings.Join(gone, "\n"))
	}

	// A last write: once it is applied, every write still in flight was
	// applied before it or never will be.
	end := c.members[0].putRetry(t, rbPrefix+"end", "end")
	s.hist.acks = append(s.hist.acks, ackedWrite{end, []string{rbPrefix + "end"}, "end"})
	for _, l := range logs {
		l.catchUp(end)
	}
	stopWatchers()

	res.Ops, res.Unknown, res.Failed, res.Acks = s.hist.done, s.hist.unknown, s.hist.failed, len(s.hist.acks)
	res.Revisions = end - from + 1
	for _, l := range logs {
		why := ""
		for k, n := range l.failures {
			why += fmt.Sprintf(", %dx %s", n, k)
		}
		res.Reconnects = append(res.Reconnects, fmt.Sprintf("%s %d%s", l.name, l.connects, why))
	}
	res.Violations = s.check(from, end, logs)
	for _, v := range res.Violations {
		t.Errorf("violation: %s", v)
	}
	t.Logf("seed %d: %d ops (%d unknown, %d failed), %d acknowledged writes, revisions %d..%d, faults: %s",
		seed, res.Ops, res.Unknown, res.Failed, res.Acks, from, end, strings.Join(res.Faults, "; "))
}

// injectFaults injects random faults of kinds one at a time, each held
// for a random while and then healed, for about traffic; it returns what
// it did.
func (s *scenario) injectFaults(rng *rand.Rand, traffic time.Duration, kinds []fault) []string {
	var done []string
	deadline := time.Now().Add(traffic)
	for k := 0; k < 100 && time.Now().Before(deadline); k++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		f := kinds[rng.IntN(len(kinds))]
		hold := time.Duration(300+rng.IntN(2200)) * time.Millisecond
		at := time.Since(s.hist.start).Seconds()
		s.lastLeader = s.leaderIndex()
		what, heal := f.inject(s, rng)
		time.Sleep(hold)
		heal()
		if s.healNote != "" {
			what += ": " + s.healNote
			s.healNote = ""
		}
		done = append(done, fmt.Sprintf("%.1fs %s: %s for %v", at, f.name, what, hold))
	}
	return done
}

// faultKinds returns the faults named in list (comma-separated), or all
// of them for an empty list.
func faultKinds(list string) ([]fault, error) {
	if list == "" {
		return faults, nil
	}
	var out []fault
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(faults, func(f fault) bool { return f.name == strings.TrimSpace(name) })
		if i < 0 {
			return nil, fmt.Errorf("-robustness.kinds: no fault kind %q", name)
		}
		out = append(out, faults[i])
	}
	return out, nil
}

// check runs every check of a scenario whose writes are the revisions
// from..end.
func (s *scenario) check(from, end int64, logs []*watchLog) []string {
	var bad []string
	ctx := context.Background()
	var ref []wevent
	for _, m := range s.c.members {
		evs, err := memberHistory(ctx, m.url, from, end)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", m.name, err))
			continue
		}
		bad = append(bad, checkHistory(m.name, evs, from, end, s.hist.acks)...)
		if ref == nil {
			ref = evs
		} else if !slices.Equal(evs, ref) {
			bad = append(bad, fmt.Sprintf("%s's history (%d events) differs from the first one read (%d events)", m.name, len(evs), len(ref)))
		}
		state := replay(evs)
		r, err := m.rangePrefixAt(ctx, rbPrefix, end)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: range at %d: %v", m.name, end, err))
			continue
		}
		if got, err := r.values(); err != nil || !maps.Equal(got, state) {
			bad = append(bad, fmt.Sprintf("%s: the keys at revision %d are %v, its history replayed %v", m.name, end, got, state))
		}
	}
	h0, _ := s.c.members[0].hashKV(s.t, end)
	for _, m := range s.c.members[1:] {
		if h, _ := m.hashKV(s.t, end); h != h0 {
			bad = append(bad, fmt.Sprintf("hashkv at %d: %s %d, %s %d", end, s.c.members[0].name, h0, m.name, h))
		}
	}
	refRevs, _ := byRevision(ref)
	for _, l := range logs {
		for _, n := range l.notes {
			bad = append(bad, l.name+": "+n)
		}
		if l.name == "v2-wait" {
			bad = append(bad, checkV2Log(l, refRevs, v2Dir, from, end)...)
		} else {
			bad = append(bad, checkV3Log(l, refRevs, from, end)...)
		}
	}
	bad = append(bad, s.hist.lost...)
	bad = append(bad, s.faultBad...)
	return append(bad, s.checkLinearizable()...)
}

// checkLinearizable runs porcupine over the client history.
func (s *scenario) checkLinearizable() []string {
	res, info := porcupine.CheckOperationsVerbose(linModel, s.hist.ops, 2*time.Minute)
	switch res {
	case porcupine.Ok:
		return nil
	case porcupine.Illegal:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-robustness-%d.html", time.Now().UnixNano()))
		if err := porcupine.VisualizePath(linModel, info, path); err != nil {
			path = err.Error()
		}
		return []string{"the client history is not linearizable (porcupine: " + path + ")"}
	default:
		return []string{"porcupine gave up within 2m (not counted as linearizable)"}
	}
}

// logTail returns the last n lines of a log.
func logTail(log string, n int) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitFor polls cond every 20ms until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// recorder is the testing.TB of a scenario's harness: it keeps the first
// failure, for the summary.
type recorder struct {
	testing.TB
	mu    sync.Mutex
	fails []string
}

func (r *recorder) keep(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fails = append(r.fails, msg)
}

func (r *recorder) first() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fails) == 0 {
		return ""
	}
	return r.fails[0]
}

func (r *recorder) Fatal(args ...any) { r.keep(fmt.Sprint(args...)); r.TB.Fatal(args...) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.keep(fmt.Sprintf(format, args...))
	r.TB.Fatalf(format, args...)
}
