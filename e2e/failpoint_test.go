package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/failpoint"
)

// A member started with a failpoint armed to crash (internal/failpoint)
// dies there, exit status failpoint.ExitCode, under 16 writers; started
// again without it, it has every write it acknowledged, at its revision,
// and takes writes. One case per point a single member reaches under
// writes (the snapshot points with --snapshot-count 50); the points of a
// received snapshot are TestCrashWhileInstallingASnapshot's.
func TestCrashAtFailpoints(t *testing.T) {
	for _, c := range []struct {
		point string
		hits  int // hits before the crash
		args  []string
	}{
		{"raftlog/beforeWrite", 150, nil},
		{"raftlog/afterWrite", 150, nil},
		{"raftlog/beforeSync", 150, nil},
		{"raftlog/afterSync", 150, nil},
		{"server/beforeApplyEntry", 300, nil},
		{"server/afterApplyEntry", 300, nil},
		{"store/beforeCommit", 4, nil},
		{"store/afterCommit", 4, nil},
		{"server/beforeRaftSnapshot", 2, []string{"--snapshot-count", "50"}},
		{"server/afterRaftSnapshot", 2, []string{"--snapshot-count", "50"}},
	} {
		t.Run(strings.ReplaceAll(c.point, "/", "-"), func(t *testing.T) {
			m := &member{t: t, dataDir: t.TempDir(), args: c.args,
				env: []string{fmt.Sprintf("CAIRN_FAILPOINTS=%s=%d*off->panic", c.point, c.hits)}}
			m.start()
			t.Cleanup(m.kill9)
			acks := writeUntilGone(t, m, 0, 0, func() { waitCrash(t, m, c.point) })
			var maxAck int64
			for _, a := range acks {
				maxAck = max(maxAck, a.rev)
			}
			m.env = nil
			m.restart()
			if rev := m.revision(t); rev < maxAck {
				t.Fatalf("revision %d after the restart is below the acknowledged revision %d", rev, maxAck)
			}
			checkAcks(t, m, acks)
			if rev := m.putRetry(t, "after-crash", "x"); rev <= maxAck {
				t.Errorf("a write after the restart got revision %d, not above %d", rev, maxAck)
			}
			t.Logf("%d writes acknowledged before the crash at %s, revision %d", len(acks), c.point, maxAck)
		})
	}
}

// waitCrash waits for m to exit and checks that it crashed at point.
func waitCrash(t testing.TB, m *member, point string) {
	t.Helper()
	select {
	case <-m.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("the member did not reach %s within 60s", point)
	}
	var ee *exec.ExitError
	if !errors.As(m.waitErr, &ee) || ee.ExitCode() != failpoint.ExitCode {
		t.Fatalf("the member exited with %v, want status %d (a crash at %s); its log ends:\n%s", m.waitErr, failpoint.ExitCode, point, logTail(m.logs.String(), 20))
	}
	// The log reader drains the pipe after the exit: give it a moment.
	want := "failpoint " + point + ": crash"
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(m.logs.String(), want); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the member's log does not say %q; it ends:\n%s", want, logTail(m.logs.String(), 20))
		}
	}
}

// A follower that catches up through a snapshot crashes at each point of
// the snapshot's way in (received, about to install, installed); started
// again clean, it catches up and has every acknowledged write, hashkv
// equal to the leader's.
func TestCrashWhileInstallingASnapshot(t *testing.T) {
	c := startCluster(t, 3, "--snapshot-count", "20", "--experimental-snapshot-catchup-entries", "10")
	lead := c.leader()
	f := c.follower(lead)
	var acks []ack
	for k, point := range []string{"snapshot/afterReceive", "server/beforeSnapshotInstall", "server/afterSnapshotInstall"} {
		f.kill9()
		for i := range 100 { // far more than the leader keeps: f needs a snapshot
			key, value := fmt.Sprintf("snap/%d/%03d", k, i), fmt.Sprintf("v%d", i)
			acks = append(acks, ack{key, value, lead.putRetry(t, key, value)})
		}
		f.env = []string{"CAIRN_FAILPOINTS=" + point + "=panic"}
		f.launch() // it may die before it listens for clients: waitCrash tells
		waitCrash(t, f.member, point)
		f.env = nil
		f.restart()
		rev := lead.revision(t)
		checkAcks(t, f.member, acks)
		want, _ := lead.hashKV(t, rev)
		if got, _ := f.hashKV(t, rev); got != want {
			t.Fatalf("after a crash at %s: hashkv at %d is %d, the leader's %d", point, rev, got, want)
		}
	}
}
