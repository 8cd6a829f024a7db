package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// etcdctl3 runs Debian's etcdctl in v3 mode (gRPC) against endpoints.
type etcdctl3 struct {
	t         *testing.T
	bin       string
	endpoints string
}

func newEtcdctl3(t *testing.T, endpoints ...string) *etcdctl3 {
	t.Helper()
	var eps []string
	for _, e := range endpoints {
		eps = append(eps, strings.TrimPrefix(e, "http://"))
	}
	return &etcdctl3{t: t, bin: testbin.Need(t, "etcdctl"), endpoints: strings.Join(eps, ",")}
}

// run runs etcdctl with stdin and returns its standard output and error,
// trimmed, and its exit code.
func (e *etcdctl3) run(stdin string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"--endpoints", e.endpoints}, args...)...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		e.t.Fatalf("etcdctl %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(out.String()), strings.TrimSpace(errb.String()), cmd.ProcessState.ExitCode()
}

// ok runs etcdctl and fails the test unless it exits 0.
func (e *etcdctl3) ok(args ...string) string {
	e.t.Helper()
	out, errOut, code := e.run("", args...)
	if code != 0 {
		e.t.Fatalf("etcdctl %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// expect runs etcdctl and checks its output (stdout, or the last line of
// stderr on failure) against want, a regular expression matched whole.
func (e *etcdctl3) expect(want string, args ...string) {
	e.t.Helper()
	out, errOut, code := e.run("", args...)
	got := out
	if code != 0 {
		lines := strings.Split(errOut, "\n")
		got = lines[len(lines)-1]
	}
	if !regexp.MustCompile(`^(?s:` + want + `)$`).MatchString(got) {
		e.t.Errorf("etcdctl %s (exit %d):\n%s\nwant (regexp):\n%s", strings.Join(args, " "), code, got, want)
	}
}

// watchProc is an etcdctl watch running in the background.
type watchProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// watch starts etcdctl watch with args; its stdin stays open (for -i).
func (e *etcdctl3) watch(args ...string) *watchProc {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"--endpoints", e.endpoints, "watch"}, args...)...)
	cmd.Env = append(os.Environ(), "ETCDCTL_API=3")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	w := &watchProc{cmd: cmd, stdin: stdin, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
	}()
	e.t.Cleanup(func() { cancel(); cmd.Wait() })
	return w
}

// next returns the next n lines the watch printed.
func (w *watchProc) next(t *testing.T, n int) string {
	t.Helper()
	var got []string
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case l, ok := <-w.lines:
			if !ok {
				t.Fatalf("etcdctl watch ended after %q", got)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("etcdctl watch printed %q, want %d lines", got, n)
		}
	}
	return strings.Join(got, "\n")
}

// TestGRPCEtcdctl drives one member with Debian's etcdctl (ETCDCTL_API=3,
// gRPC), unchanged: the key commands, compaction, watches, leases,
// maintenance, with the answers etcd 3.4 gives.
func TestGRPCEtcdctl(t *testing.T) {
	m := startMember(t, t.TempDir())
	e := newEtcdctl3(t, m.url)

	// Revision 1 is the empty store; each write below adds one.
	e.expect("OK", "put", "/k/a", "1")                               // 2
	e.expect("OK", "put", "/k/b", "2")                               // 3
	e.expect("OK", "put", "/k/c", "3")                               // 4
	e.expect("OK", "put", "/k/a", "10")                              // 5
	e.expect("/k/a\n10", "get", "/k/a")                              //
	e.expect("/k/a\n10\n/k/b\n2\n/k/c\n3", "get", "--prefix", "/k/") //
	e.expect("/k/a\n1", "get", "--rev", "2", "/k/a")                 //
	e.expect("/k/c\n3\n/k/b\n2", "get", "--prefix", "--sort-by", "KEY", "--order", "DESCEND", "--limit", "2", "/k/")
	e.expect("/k/a\n\n/k/b", "get", "--prefix", "--keys-only", "--sort-by", "VALUE", "--limit", "2", "/k/") // "10" < "2"
	e.expect(`\{"header":\{"cluster_id":\d+,"member_id":\d+,"revision":5,"raft_term":\d+\},"kvs":\[\{"key":"L2svYg==","create_revision":3,"mod_revision":3,"version":1,"value":"Mg=="\}\],"count":1\}`, "get", "-w", "json", "/k/b")
	e.expect("1", "del", "/k/c")                                            // 6
	e.expect("2\n/k/a\n10\n/k/b\n2", "del", "--prefix", "--prev-kv", "/k/") // 7
	e.expect("", "get", "--prefix", "/k/")
	if out, _, code := e.run("value(\"/t\") = \"x\"\n\nput /t y\n\nput /t x\n\n", "txn"); code != 0 || out != "FAILURE\n\nOK" { // 8
		t.Errorf("txn (absent key): exit %d %q", code, out)
	}
	if out, _, code := e.run("value(\"/t\") = \"x\"\n\nput /t y\nget /t\n\nput /t x\n\n", "txn"); code != 0 || out != "SUCCESS\n\nOK\n\n/t\ny" { // 9
		t.Errorf("txn: exit %d %q", code, out)
	}
	e.expect("compacted revision 5", "compaction", "5")
	e.expect("Error: etcdserver: mvcc: required revision has been compacted", "get", "--rev", "3", "/k/a")
	e.expect("Error: etcdserver: mvcc: required revision is a future revision", "get", "--rev", "99", "/k/a")
	e.expect("Error: etcdserver: key is not provided", "put", "", "v")

	// Watches: a prefix from a past revision with previous values, and an
	// interactive one; each prints type, key and value per event.
	w := e.watch("--prefix", "--rev", "8", "--prev-kv", "/t")
	if got := w.next(t, 3); got != "PUT\n/t\nx" {
		t.Errorf("watch from revision 8: %q", got)
	}
	if got := w.next(t, 5); got != "PUT\n/t\nx\n/t\ny" {
		t.Errorf("watch (prev-kv) at revision 9: %q", got)
	}
	wi := e.watch("-i")
	fmt.Fprintln(wi.stdin, "watch /i")
	// The watch is created once etcdctl has read the line: write until
	// the event shows.
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for got == "" && time.Now().Before(deadline) {
		e.ok("put", "/i", "v")
		select {
		case l := <-wi.lines:
			got = l
		case <-time.After(200 * time.Millisecond):
		}
	}
	if got != "PUT" || wi.next(t, 2) != "/i\nv" {
		t.Errorf("interactive watch printed %q", got)
	}
	e.ok("put", "/t", "z")
	if got := w.next(t, 5); got != "PUT\n/t\ny\n/t\nz" {
		t.Errorf("watch, live event: %q", got)
	}

	// Leases.
	grant := e.ok("lease", "grant", "60")
	id := regexp.MustCompile(`^lease ([0-9a-f]+) granted with TTL\(60s\)$`).FindStringSubmatch(grant)
	if id == nil {
		t.Fatalf("lease grant: %q", grant)
	}
	e.expect("OK", "put", "--lease", id[1], "/l", "v")
	e.expect("lease "+id[1]+` keepalived with TTL\(60\)`, "lease", "keep-alive", "--once", id[1])
	e.expect("lease "+id[1]+` granted with TTL\(60s\), remaining\((59|60)s\), attached keys\(\[/l\]\)`, "lease", "timetolive", "--keys", id[1])
	e.expect("found 1 leases\n"+id[1], "lease", "list")
	e.expect("lease "+id[1]+" revoked", "lease", "revoke", id[1])
	e.expect("", "get", "/l")
	e.expect(`Error: failed to revoke lease \(etcdserver: requested lease not found\)`, "lease", "revoke", id[1])
	e.expect("lease "+id[1]+" already expired", "lease", "timetolive", id[1])

	// Maintenance.
	ep := strings.TrimPrefix(m.url, "http://")
	if _, errOut, code := e.run("", "endpoint", "health"); code != 0 || !strings.HasPrefix(errOut, ep+" is healthy: successfully committed proposal") {
		t.Errorf("endpoint health: exit %d %q", code, errOut)
	}
	e.expect(regexp.QuoteMeta(ep)+`, [0-9a-f]+, 3\.4\.0, \d+ kB, true, false, \d+, \d+, \d+,`, "endpoint", "status")
	e.expect(regexp.QuoteMeta(ep)+`, \d+`, "endpoint", "hashkv")
	e.expect(`Finished defragmenting etcd member\[`+regexp.QuoteMeta(ep)+`\]`, "defrag")
	e.expect("", "alarm", "list")
	e.expect("", "alarm", "disarm")
	file := filepath.Join(t.TempDir(), "snap.db")
	e.expect("Snapshot saved at "+regexp.QuoteMeta(file), "snapshot", "save", file)
	snap, err := os.ReadFile(file)
	if err != nil || len(snap) < 4096+sha256.Size {
		t.Fatalf("snapshot file: %d bytes, %v", len(snap), err)
	}
	body, sum := snap[:len(snap)-sha256.Size], snap[len(snap)-sha256.Size:]
	if h := sha256.Sum256(body); !bytes.Equal(h[:], sum) {
		t.Errorf("the snapshot does not end with the SHA-256 of the store file")
	}
}

// TestGRPCEtcdctlAlarms: a member over its quota raises NOSPACE, which
// etcdctl lists and disarms; the member then takes writes that fit again.
func TestGRPCEtcdctlAlarms(t *testing.T) {
	m := startMember(t, t.TempDir(), "--quota-backend-bytes", "200000")
	e := newEtcdctl3(t, m.url)
	big := strings.Repeat("a", 60000)
	var last string
	stored := 0 // puts taken before the quota was reached (how many depends on bbolt's growth)
	for i := 0; i < 10 && !strings.Contains(last, "database space exceeded"); i++ {
		out, errOut, _ := e.run("", "put", fmt.Sprintf("big%d", i), big)
		last = out + errOut
		if strings.TrimSpace(out) == "OK" {
			stored++
		}
	}
	if !strings.Contains(last, "Error: etcdserver: mvcc: database space exceeded") {
		t.Fatalf("the quota was never reached: %q", last)
	}
	st := e.ok("endpoint", "status", "-w", "fields")
	id := regexp.MustCompile(`"MemberID" : (\d+)`).FindStringSubmatch(st)
	if id == nil {
		t.Fatalf("endpoint status: %s", st)
	}
	e.expect("memberID:"+id[1]+" alarm:NOSPACE", "alarm", "list")
	e.expect("Error: etcdserver: mvcc: database space exceeded", "put", "small", "v")
	e.expect(fmt.Sprint(stored), "del", "--prefix", "big") // deletes are taken under the alarm, as in etcd
	e.ok("compaction", "--physical", strings.TrimSpace(regexp.MustCompile(`"Revision" : (\d+)`).FindStringSubmatch(st)[1]))
	e.ok("defrag")
	e.expect("memberID:"+id[1]+" alarm:NOSPACE", "alarm", "disarm")
	e.expect("", "alarm", "list")
}
