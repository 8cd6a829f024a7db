package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// mountSmallFS mounts a tmpfs of mb MiB in a temp dir and returns it; the
// test is skipped where mounting is not permitted (not root, no
// CAP_SYS_ADMIN). It is unmounted when the test ends, after the members
// on it are gone (cleanups run last-registered first).
func mountSmallFS(t testing.TB, mb int) string {
	t.Helper()
	dir, err := tryMountSmallFS(t, mb)
	if err != nil {
		t.Skipf("package e2e: a full disk needs a small filesystem: %v", err)
	}
	return dir
}

// tryMountSmallFS is mountSmallFS, returning an error where mounting is
// not permitted.
func tryMountSmallFS(t testing.TB, mb int) (string, error) {
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", mb), "tmpfs", dir).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mount -t tmpfs is not permitted here (it needs root with CAP_SYS_ADMIN): %v %s", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir, nil
}

// fillFS fills the filesystem of dir with one file until at most leave
// bytes are free, and returns the file (remove it to free the space). A
// member writing there meanwhile may take the space first: it retries.
func fillFS(t testing.TB, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var size int64
	for try := 0; ; try++ {
		var st syscall.Statfs_t
		if err := syscall.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * st.Bsize
		if free <= leave {
			return path
		}
		err := syscall.Fallocate(int(f.Fd()), 0, size, free-leave)
		if err == nil {
			size += free - leave
		} else if !errors.Is(err, syscall.ENOSPC) || try == 100 {
			t.Fatalf("filling %s: %v", dir, err)
		}
	}
}

// A member whose disk fills up stops (as etcd's does: a write it cannot
// make durable is fatal), the other two go on taking writes; once space
// is freed it starts on its data dir (its raft log is not corrupt), catches
// up, and every member has every acknowledged write, hashkv equal.
func TestDiskFullMemberStopsAndCatchesUp(t *testing.T) {
	small := mountSmallFS(t, 100) // the raft log preallocates 64 MiB
	c := &cluster{t: t, token: fmt.Sprintf("e2e-%d", time.Now().UnixNano()), scheme: "http",
		dataDir: func(i int) string {
			if i > 0 {
				return t.TempDir()
			}
			dir, err := os.MkdirTemp(small, "m0-")
			if err != nil {
				t.Fatal(err)
			}
			return dir
		}}
	c.start(3)
	full, other := c.members[0], c.members[1]

	var (
		mu     sync.Mutex
		acks   []ack
		fullOK atomic.Int64 // writes acknowledged by the full member
		errs   = map[string]int{}
		wg     sync.WaitGroup
	)
	ctx, stop := context.WithCancel(context.Background())
	value := strings.Repeat("v", 10<<10)
	for g := 0; g < 8; g++ {
		m := []*cmember{full, other}[g%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("full/%d/%06d", g, i)
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				rev, err := m.put(rctx, key, value)
				cancel()
				mu.Lock()
				if err == nil {
					acks = append(acks, ack{key, value, rev})
					if m == full {
						fullOK.Add(1)
					}
				} else if ctx.Err() == nil && m == full {
					errs[firstLine(err.Error())]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()
	if !waitFor(60*time.Second, func() bool { return fullOK.Load() >= 20 }) {
		t.Fatal("the member on the small filesystem acknowledged fewer than 20 writes in 60s")
	}
	filler := fillFS(t, small, 256<<10)
	select {
	case <-full.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("the member with a full disk still runs after 60s of writes")
	}
	var ee *exec.ExitError
	if !errors.As(full.waitErr, &ee) || ee.ExitCode() != 1 || !strings.Contains(full.logs.String(), "no space left on device") {
		t.Fatalf("the member with a full disk exited with %v; want status 1 and \"no space left on device\" in its log, which ends:\n%s", full.waitErr, logTail(full.logs.String(), 15))
	}
	// The other two go on.
	mu.Lock()
	before := len(acks)
	mu.Unlock()
	if !waitFor(60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acks) >= before+50 }) {
		t.Fatal("the two members left took fewer than 50 writes in 60s")
	}
	stop()
	wg.Wait()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	full.restart() // fails the test if its raft log does not open
	rev := other.revision(t)
	checkAcks(t, full.member, acks)
	checkAcks(t, other.member, acks)
	h0, _ := other.hashKV(t, rev)
	for _, m := range []*cmember{full, c.members[2]} {
		if h, _ := m.hashKV(t, rev); h != h0 {
			t.Errorf("hashkv at %d: %s %d, %s %d", rev, other.name, h0, m.name, h)
		}
	}
	t.Logf("%d writes acknowledged (%d by the member whose disk filled); its clients' errors: %v", len(acks), fullOK.Load(), errs)
}

// A write to the raft log or a bbolt commit that fails (here ENOSPC from a
// failpoint, as from a full disk) stops the member with that error; it
// starts again on its data dir with every write it acknowledged.
func TestWriteFailureStopsTheMember(t *testing.T) {
	for _, point := range []string{"raftlog/beforeWrite", "store/beforeCommit"} {
		t.Run(strings.ReplaceAll(point, "/", "-"), func(t *testing.T) {
			m := &member{t: t, dataDir: t.TempDir(), env: []string{"CAIRN_FAILPOINTS=" + point + "=20*off->return(ENOSPC)"}}
			m.start()
			t.Cleanup(m.kill9)
			acks := writeUntilGone(t, m, 0, 0, func() {
				select {
				case <-m.exited:
				case <-time.After(60 * time.Second):
					t.Fatalf("the member did not stop within 60s of writes")
				}
			})
			var ee *exec.ExitError
			want := "failpoint " + point + ": no space left on device"
			if !errors.As(m.waitErr, &ee) || ee.ExitCode() != 1 || !strings.Contains(m.logs.String(), want) {
				t.Fatalf("exit %v; want status 1 and %q in the log, which ends:\n%s", m.waitErr, want, logTail(m.logs.String(), 15))
			}
			m.env = nil
			m.restart()
			checkAcks(t, m, acks)
			t.Logf("%d writes acknowledged before the failure", len(acks))
		})
	}
}
