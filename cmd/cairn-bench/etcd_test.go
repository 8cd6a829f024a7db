package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// TestWorkloadsAgainstEtcd runs every workload against a real etcd 3.4
// member on loopback.
func TestWorkloadsAgainstEtcd(t *testing.T) {
	testWorkloads(t, startEtcd(t))
}

// TestWorkloadsAgainstEndpoint runs the same checks against a server that is
// already running, e.g. cairn:
//
//	CAIRN_BENCH_TEST_ENDPOINT=http://127.0.0.1:2379 go test -run AgainstEndpoint ./cmd/cairn-bench
func TestWorkloadsAgainstEndpoint(t *testing.T) {
	endpoint := os.Getenv("CAIRN_BENCH_TEST_ENDPOINT")
	if endpoint == "" {
		t.Skip("set CAIRN_BENCH_TEST_ENDPOINT to the v3 JSON gateway URL of a running server")
	}
	testWorkloads(t, endpoint)
}

// freePort returns a loopback port the OS just handed out and released.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startEtcd starts a one-member etcd (v2 API on) on free loopback ports with a data dir
// in t.TempDir(), waits until it is healthy, stops it at cleanup and
// returns its client URL. It skips the test when etcd is not installed. A
// port taken between picking and binding makes etcd exit; then it retries
// with new ports.
func startEtcd(t *testing.T) string {
	t.Helper()
	etcdBinary := testbin.Need(t, "etcd")
	var lastErr error
	for attempt := range 3 {
		dir := t.TempDir()
		client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
		logPath := filepath.Join(dir, "etcd.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(etcdBinary,
			"--name", "bench",
			"--data-dir", filepath.Join(dir, "data"),
			"--listen-client-urls", client, "--advertise-client-urls", client,
			"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
			"--initial-cluster", "bench="+peer, "--enable-v2")
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			logFile.Close()
			t.Fatalf("start etcd: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); logFile.Close() }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := waitHealthy(client, exited); err != nil {
			stop()
			log, _ := os.ReadFile(logPath)
			lastErr = fmt.Errorf("attempt %d: %v\netcd log tail:\n%s", attempt+1, err, tail(string(log), 2000))
			continue
		}
		t.Cleanup(stop)
		return client
	}
	t.Fatal(lastErr)
	return ""
}

// waitHealthy polls client's /health until it reports true, etcd exits, or
// a minute passes (a bound for a broken start, not a speed expectation).
func waitHealthy(client string, exited <-chan error) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("etcd exited: %v", err)
		default:
		}
		resp, err := testHTTP.Get(client + "/health")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && strings.Contains(string(body), `"health":"true"`) {
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

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
