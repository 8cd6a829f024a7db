package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cairnkv/cairn/membership"
)

// peerNet is the proxies in front of a cluster's peer listeners, one per
// member, and the member ids that name the links.
type peerNet struct {
	proxies []*peerProxy // by member index
	ids     []uint64
}

// startClusterOnNet starts an n-member cluster whose members reach each
// other only through a peerNet; setup, if not nil, is called on the
// cluster before it starts.
func startClusterOnNet(t testing.TB, n int, setup func(c *cluster), extra ...string) (*cluster, *peerNet) {
	t.Helper()
	pn := &peerNet{}
	for i := 0; i < n; i++ {
		pn.proxies = append(pn.proxies, mustPeerProxy(t, ""))
	}
	c := startClusterWith(t, n, func(i int, listen string) string {
		pn.proxies[i].setTarget(strings.TrimPrefix(listen, "http://"))
		return pn.proxies[i].url()
	}, setup, extra...)
	for _, m := range c.members {
		pn.ids = append(pn.ids, membership.MemberID([]string{m.peerURL}, c.token))
	}
	return c, pn
}

// setLink sets the directed link from member from to member to.
func (pn *peerNet) setLink(from, to int, l link) {
	pn.proxies[to].set(strconv.FormatUint(pn.ids[from], 16), l)
}

// cut sets every link into and out of member i to l, and l for the
// requests to i that name no sender.
func (pn *peerNet) cut(i int, l link) {
	for j := range pn.proxies {
		if j != i {
			pn.setLink(i, j, l)
			pn.setLink(j, i, l)
		}
	}
	pn.proxies[i].set("", l)
}

// heal sets every link to pass.
func (pn *peerNet) heal() {
	for i := range pn.proxies {
		pn.cut(i, link{})
	}
}

// fault is one kind of fault. inject applies it to the scenario's cluster
// and returns what it did and how to undo it.
type fault struct {
	name   string
	inject func(s *scenario, rng *rand.Rand) (what string, heal func())
}

// faults are the faults a scenario draws from.
var faults = []fault{
	{"kill", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.kill(rng.IntN(len(s.c.members)))
	}},
	{"kill-leader", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.kill(s.leaderOr(rng))
	}},
	{"sigstop", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.pause(rng.IntN(len(s.c.members)))
	}},
	{"sigstop-leader", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.pause(s.leaderOr(rng))
	}},
	{"partition", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.isolate(rng.IntN(len(s.c.members)), rng)
	}},
	{"isolate-leader", func(s *scenario, rng *rand.Rand) (string, func()) {
		return s.isolate(s.leaderOr(rng), rng)
	}},
	{"delay", func(s *scenario, rng *rand.Rand) (string, func()) {
		i := rng.IntN(len(s.c.members))
		d := time.Duration(20+rng.IntN(380)) * time.Millisecond
		s.net.cut(i, link{mode: linkDelay, delay: d})
		return fmt.Sprintf("delay every link of %s by %v", s.c.members[i].name, d), s.net.heal
	}},
	{"quorum-stop", func(s *scenario, rng *rand.Rand) (string, func()) {
		// Two of three stopped: no quorum until they come back.
		i := rng.IntN(len(s.c.members))
		j := (i + 1 + rng.IntN(len(s.c.members)-1)) % len(s.c.members)
		what1, heal1 := s.pause(i)
		what2, heal2 := s.pause(j)
		return what1 + " and " + strings.TrimPrefix(what2, "SIGSTOP "), func() { heal1(); heal2() }
	}},
	{"cut-all", func(s *scenario, rng *rand.Rand) (string, func()) {
		// Every member alone: no quorum anywhere.
		l := link{mode: []linkMode{linkDrop, linkBlackhole}[rng.IntN(2)]}
		for i := range s.c.members {
			s.net.cut(i, l)
		}
		return fmt.Sprintf("cut every link (%v)", l.mode), s.net.heal
	}},
	{"crash", (*scenario).crashAtPoint},
	{"slow-fsync", (*scenario).slowFsync},
	{"disk-full", (*scenario).diskFull},
	{"one-way", func(s *scenario, rng *rand.Rand) (string, func()) {
		n := len(s.c.members)
		from := rng.IntN(n)
		to := (from + 1 + rng.IntN(n-1)) % n
		l := link{mode: []linkMode{linkDrop, linkBlackhole}[rng.IntN(2)]}
		s.net.setLink(from, to, l)
		return fmt.Sprintf("%v the link %s->%s", l.mode, s.c.members[from].name, s.c.members[to].name), s.net.heal
	}},
}

// kill kill -9s member i; the heal restarts it on its data dir.
func (s *scenario) kill(i int) (string, func()) {
	m := s.c.members[i]
	m.kill9()
	return "kill -9 " + s.describe(i), func() {
		m.restart()
		s.setURL(i)
	}
}

// pause stops member i with SIGSTOP; the heal sends SIGCONT.
func (s *scenario) pause(i int) (string, func()) {
	m := s.c.members[i]
	m.cmd.Process.Signal(syscall.SIGSTOP)
	return "SIGSTOP " + s.describe(i), func() { m.cmd.Process.Signal(syscall.SIGCONT) }
}

// isolate cuts member i off from the others, dropping or black-holing.
func (s *scenario) isolate(i int, rng *rand.Rand) (string, func()) {
	l := link{mode: []linkMode{linkDrop, linkBlackhole}[rng.IntN(2)]}
	s.net.cut(i, l)
	return fmt.Sprintf("partition %s (%v)", s.describe(i), l.mode), s.net.heal
}

// describe names member i, and says if it led when the fault began.
func (s *scenario) describe(i int) string {
	if i == s.lastLeader {
		return s.c.members[i].name + " (leader)"
	}
	return s.c.members[i].name
}

// leaderOr returns the leader's index when the fault began, or a random
// member's if no member named one.
func (s *scenario) leaderOr(rng *rand.Rand) int {
	if s.lastLeader >= 0 {
		return s.lastLeader
	}
	return rng.IntN(len(s.c.members))
}

// leaderIndex asks the members for the leader and returns its index, -1
// if none answered with one.
func (s *scenario) leaderIndex() int {
	for i := range s.c.members {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		st, err := (&member{url: s.clientURL(i)}).status(ctx)
		cancel()
		if err != nil {
			continue
		}
		for j, id := range s.net.ids {
			if strconv.FormatUint(id, 10) == st.Leader {
				return j
			}
		}
	}
	return -1
}
