package testbin

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// StartEtcd starts a one-member etcd 3.4 (Debian bookworm's etcd-server) on
// free loopback ports with its data dir in tb.TempDir(), adding flags
// (e.g. "--enable-v2") to its command line, waits until GET /health says
// true, kills it when the test ends, and returns its client URL. It skips
// the test (fails it under RequireEnv) when etcd 3.4 is not installed. A
// port taken between picking and binding makes etcd exit; then it retries
// with new ports.
func StartEtcd(tb testing.TB, flags ...string) string {
	tb.Helper()
	bin := Need(tb, "etcd")
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "etcd Version: 3.4.") {
		Missing(tb, fmt.Sprintf("want etcd 3.4 (Debian bookworm's etcd-server), have %q (%v)", out, err))
	}
	var lastErr error
	for attempt := range 3 {
		dir := tb.TempDir()
		client := "http://" + freeAddr(tb)
		peer := "http://" + freeAddr(tb)
		logPath := filepath.Join(dir, "etcd.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			tb.Fatal(err)
		}
		cmd := exec.Command(bin, append(flags,
			"--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "default="+peer)...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			logFile.Close()
			tb.Fatalf("start etcd: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); logFile.Close() }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := waitEtcdHealthy(client, exited); err != nil {
			stop()
			log, _ := os.ReadFile(logPath)
			if len(log) > 2000 {
				log = log[len(log)-2000:]
			}
			lastErr = fmt.Errorf("attempt %d: %v\netcd log tail:\n%s", attempt+1, err, log)
			continue
		}
		tb.Cleanup(stop)
		return client
	}
	tb.Fatal(lastErr)
	return ""
}

// freeAddr returns a loopback host:port the OS just handed out and
// released.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitEtcdHealthy polls client's /health until it reports true, etcd exits,
// or a minute passes (a bound for a broken start, not a speed expectation).
func waitEtcdHealthy(client string, exited <-chan error) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		resp, err := hc.Get(client + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"health":"true"`) {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("etcd exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return errors.New("etcd not healthy after a minute")
}
