package testbin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Etcd is a real one-member etcd 3.4 that a test started on loopback.
type Etcd struct {
	URL     string // client URL, http://127.0.0.1:port
	DataDir string
	Log     string // path of its log file
}

// StartEtcd starts etcd 3.4 with flags added to its own (name "etcd", a
// data dir in tb.TempDir(), client and peer URLs on free loopback ports),
// waits until /health says true, and kills it at cleanup. It skips the
// test (or fails it, under RequireEnv) when etcd 3.4 is not installed. A
// port taken between picking and binding makes etcd exit; it then tries
// again with new ports, three times in all.
func StartEtcd(tb testing.TB, flags ...string) *Etcd {
	tb.Helper()
	bin := Need(tb, "etcd")
	if v, err := exec.Command(bin, "--version").Output(); err != nil || !strings.Contains(string(v), "etcd Version: 3.4.") {
		Missing(tb, fmt.Sprintf("want etcd 3.4 (Debian package etcd-server), have %q (%v)", v, err))
	}
	var errs []error
	for range 3 {
		dir := tb.TempDir()
		e := &Etcd{URL: "http://" + loopbackAddr(tb), DataDir: filepath.Join(dir, "data"), Log: filepath.Join(dir, "etcd.log")}
		peer := "http://" + loopbackAddr(tb)
		log, err := os.Create(e.Log)
		if err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, append([]string{"--name", "etcd", "--data-dir", e.DataDir,
			"--listen-client-urls", e.URL, "--advertise-client-urls", e.URL,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "etcd=" + peer}, flags...)...)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			tb.Fatalf("starting etcd: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); log.Close(); close(exited) }()
		if err := healthy(e.URL, exited); err != nil {
			_ = cmd.Process.Kill()
			<-exited
			out, _ := os.ReadFile(e.Log)
			errs = append(errs, fmt.Errorf("%w; its log:\n%s", err, out))
			continue
		}
		tb.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
		return e
	}
	tb.Fatalf("etcd did not start: %v", errors.Join(errs...))
	return nil
}

// healthy polls url's /health until it answers 200, etcd exits, or a
// minute passes (a bound for a broken start, not a speed expectation).
func healthy(url string, exited <-chan struct{}) error {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		select {
		case <-exited:
			return errors.New("etcd exited")
		default:
		}
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("etcd not healthy within a minute")
}

// loopbackAddr returns a 127.0.0.1 address with a port free a moment ago.
func loopbackAddr(tb testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
