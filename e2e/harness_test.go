package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds the binaries TestMain builds.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, pkg := range []string{"cairn", "cairn-bench"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "../cmd/"+pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg, ":", err)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// member is one running cairn process.
type member struct {
	t       testing.TB
	dataDir string
	args    []string
	// raw: args are the whole command line (a --config-file run refuses
	// other flags); else launch adds the data dir, loopback URLs on free
	// ports and JSON logs.
	raw bool
	// env is added to the test's environment (ETCD_*, CAIRN_* settings).
	env     []string
	cmd     *exec.Cmd
	url     string       // client URL, http(s)://127.0.0.1:port
	fpURL   string       // the failpoint endpoint's URL, with CAIRN_FAILPOINTS_HTTP
	client  *http.Client // for url; nil means httpClient
	logs    *syncBuffer
	exited  chan struct{}
	waitErr error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startMember starts cairn on dataDir with a client URL on a free loopback
// port and waits until it answers a linearizable read. The process is killed
// when the test ends.
func startMember(t testing.TB, dataDir string, args ...string) *member {
	t.Helper()
	m := &member{t: t, dataDir: dataDir, args: args}
	m.start()
	t.Cleanup(func() { m.kill9() })
	return m
}

func (m *member) start() {
	m.t.Helper()
	if err := m.launch(); err != nil {
		m.t.Fatal(err)
	}
	m.waitReady()
}

// launch starts the process and waits until it serves clients (a cluster
// member answers reads only once its cluster has a leader).
func (m *member) launch() error {
	m.t.Helper()
	args := m.args
	if !m.raw {
		args = append([]string{
			"--data-dir", m.dataDir,
			"--listen-client-urls", "http://127.0.0.1:0",
			"--advertise-client-urls", "http://127.0.0.1:0",
			"--listen-peer-urls", "http://127.0.0.1:0",
			"--log-format", "json",
		}, m.args...)
	}
	m.cmd = exec.Command(filepath.Join(binDir, "cairn"), args...)
	m.cmd.Env = append(os.Environ(), m.env...)
	// The reader below writes to this run's buffer, not to m.logs, which a
	// restart replaces while the old run's reader may still be draining.
	logs := &syncBuffer{}
	m.logs = logs
	pr, pw := io.Pipe()
	m.cmd.Stderr = pw
	m.cmd.Stdout = logs
	if err := m.cmd.Start(); err != nil {
		return fmt.Errorf("starting cairn: %v", err)
	}
	m.exited = make(chan struct{})
	go func() {
		m.waitErr = m.cmd.Wait()
		pw.Close()
		close(m.exited)
	}()
	addr := make(chan [2]string, 1) // client URL, failpoint URL
	go func() {
		var fp string // logged before the client URL
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logs.Write([]byte(line + "\n"))
			var rec struct {
				Msg string `json:"msg"`
				URL string `json:"url"`
			}
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			if strings.HasPrefix(rec.Msg, "serving failpoints") {
				fp = rec.URL
			}
			if rec.Msg == "listening for client requests" {
				select {
				case addr <- [2]string{rec.URL, fp}:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-addr:
		m.url, m.fpURL = u[0], u[1]
		return nil
	case <-m.exited:
		return fmt.Errorf("cairn exited before serving (%v); logs:\n%s", m.waitErr, m.logs)
	case <-time.After(60 * time.Second):
		return fmt.Errorf("cairn did not start serving; logs:\n%s", m.logs)
	}
}

// waitReady polls until a linearizable range succeeds (the member has a
// leader and has applied its log).
func (m *member) waitReady() {
	m.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := m.rangeKey(ctx, "health-probe")
		if err != nil && strings.Contains(err.Error(), "user name is empty") {
			// Auth is on: /health makes the same linearizable read.
			err = m.healthy(ctx)
		}
		cancel()
		if err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	m.t.Fatalf("member at %s never became ready; logs:\n%s", m.url, m.logs)
}

// healthy is nil when GET /health answers 200.
func (m *member) healthy(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url+"/health", nil)
	if err != nil {
		return err
	}
	resp, err := m.httpClient().Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /health: %d", resp.StatusCode)
	}
	return nil
}

// kill9 sends SIGKILL and waits for the process to be gone.
func (m *member) kill9() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	select {
	case <-m.exited:
		return
	default:
	}
	m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.exited
}

// stop sends SIGTERM and waits for a clean exit.
func (m *member) stop() error {
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
		return m.waitErr
	case <-time.After(30 * time.Second):
		m.kill9()
		return fmt.Errorf("cairn did not exit within 30s of SIGTERM")
	}
}

// restart starts the same member again on the same data dir.
func (m *member) restart() {
	m.t.Helper()
	m.start()
}

var httpClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// httpClient is the client that reaches m (its TLS one, if it has one).
func (m *member) httpClient() *http.Client {
	if m.client != nil {
		return m.client
	}
	return httpClient
}

// call POSTs a JSON body to a v3 endpoint and decodes the answer into out.
// A non-200 answer is returned as an error holding etcd's error body.
func (m *member) call(ctx context.Context, path string, body any, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.url+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := m.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %s", path, resp.StatusCode, data)
	}
	return json.Unmarshal(data, out)
}

// send makes one request with httpClient; the caller closes the body.
func send(ctx context.Context, method, url string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	return httpClient.Do(req)
}

// kv is a key-value as the JSON API shows it (int64s as strings).
type kv struct {
	Key            string `json:"key"`
	Value          string `json:"value"`
	CreateRevision string `json:"create_revision"`
	ModRevision    string `json:"mod_revision"`
	Version        string `json:"version"`
	Lease          string `json:"lease"`
}

type header struct {
	Revision string `json:"revision"`
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t testing.TB, s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 %q: %v", s, err)
	}
	return string(b)
}

func atoi(t testing.TB, s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an int64 string: %q", s)
	}
	return n
}

// put writes key=value and returns the revision the write created.
func (m *member) put(ctx context.Context, key, value string) (int64, error) {
	var out struct {
		Header header `json:"header"`
	}
	if err := m.call(ctx, "/v3/kv/put", map[string]string{"key": b64(key), "value": b64(value)}, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.Header.Revision, 10, 64)
}

type rangeResult struct {
	Header header `json:"header"`
	Kvs    []kv   `json:"kvs"`
	Count  string `json:"count"`
}

// rangeKey reads one key (linearizable).
func (m *member) rangeKey(ctx context.Context, key string) (*rangeResult, error) {
	var out rangeResult
	err := m.call(ctx, "/v3/kv/range", map[string]string{"key": b64(key)}, &out)
	return &out, err
}

// rangePrefix reads every key with the prefix.
func (m *member) rangePrefix(ctx context.Context, prefix string) (*rangeResult, error) {
	end := []byte(prefix)
	end[len(end)-1]++
	var out rangeResult
	err := m.call(ctx, "/v3/kv/range", map[string]string{"key": b64(prefix), "range_end": base64.StdEncoding.EncodeToString(end)}, &out)
	return &out, err
}

func (m *member) revision(t testing.TB) int64 {
	t.Helper()
	r, err := m.rangeKey(context.Background(), "revision-probe")
	if err != nil {
		t.Fatalf("range: %v", err)
	}
	return atoi(t, r.Header.Revision)
}

// walFiles lists the WAL segment files of a data dir in name order.
func walFiles(t testing.TB, dataDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".wal") {
			out = append(out, filepath.Join(dataDir, "wal", e.Name()))
		}
	}
	return out
}
