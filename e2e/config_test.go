package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// runCairn runs the binary to its end and returns its stdout, stderr and
// exit code.
func runCairn(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cairn"), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
}

// logRecords returns the JSON log lines of a member, decoded.
func logRecords(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// findRecord returns the first log record with message msg.
func findRecord(t *testing.T, logs, msg string) map[string]any {
	t.Helper()
	for _, rec := range logRecords(t, logs) {
		if rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return nil
}

// What an operator types first: --help and --version exit 0 and print to
// stdout; a flag cairn cannot honour, or etcd's listen-without-advertise
// mistake, exits 2 naming it.
func TestCommandHelpVersionAndRefusals(t *testing.T) {
	out, _, code := runCairn(t, nil, "--help")
	if code != 0 || !strings.Contains(out, "\n  --data-dir 'default.cairn'\n") || !strings.Contains(out, "ETCD_<FLAG>") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	out, _, code = runCairn(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "cairn Version: ") || !strings.Contains(out, "etcd API Version: 3.4.0") {
		t.Errorf("--version: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--cert-file", "/etc/ssl/server.pem"}, "cairn: --cert-file and --key-file go together\n"},
		{nil, []string{"--client-crl-file", "/etc/ssl/crl.pem"}, "cairn: not implemented yet: --client-crl-file (TLS: CRLs and certificate name checks)\n"},
		{[]string{"ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:0"}, nil, "cairn: --advertise-client-urls is required when --listen-client-urls is set explicitly"},
		{nil, []string{"--bogus"}, "cairn: flag provided but not defined: -bogus (cairn --help lists the flags)"},
	} {
		_, stderr, code := runCairn(t, c.env, c.args...)
		if code != 2 || !strings.HasPrefix(stderr, c.want) {
			t.Errorf("%v %v: exit %d, stderr %q, want it to start with %q", c.env, c.args, code, stderr, c.want)
		}
	}
}

// A member configured by etcd's environment variables alone: ETCD_ and
// CAIRN_ settings apply, --enable-v2=false hides the v2 API as etcd does,
// --cors names the origins, --wal-dir takes the raft log, and the first
// log lines say what runs,
// with which configuration, set from where.
func TestCommandEnvironment(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "raft-log")
	m := &member{t: t, dataDir: filepath.Join(dir, "data"), raw: true, env: []string{
		"ETCD_NAME=from-env",
		"ETCD_DATA_DIR=" + filepath.Join(dir, "data"),
		"ETCD_WAL_DIR=" + walDir,
		"ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:0",
		"ETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:0",
		"ETCD_LISTEN_PEER_URLS=http://127.0.0.1:0",
		"ETCD_ENABLE_V2=false",
		"ETCD_CORS=https://app.example",
		"ETCD_LOG_FORMAT=text", // loses to its CAIRN_ twin
		"CAIRN_LOG_FORMAT=json",
	}}
	m.start()
	t.Cleanup(func() { m.kill9() })
	if status, _, body := do(t, "GET", m.url+"/v2/keys/foo", "", ""); status != http.StatusNotFound || body != "404 page not found\n" {
		t.Errorf("GET /v2/keys/foo with ETCD_ENABLE_V2=false: %d %q", status, body)
	}
	for origin, want := range map[string]string{"https://app.example": "https://app.example", "https://other.example": ""} {
		req, _ := http.NewRequest("POST", m.url+"/v3/kv/range", strings.NewReader(`{"key":"Zm9v"}`))
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("ETCD_CORS: Origin %s gets Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	if segs, _ := filepath.Glob(filepath.Join(walDir, "*.wal")); len(segs) == 0 {
		t.Errorf("no raft log segment in ETCD_WAL_DIR %s", walDir)
	}
	logs := m.logs.String()
	recs := logRecords(t, logs)
	if len(recs) < 2 || recs[0]["msg"] != "starting cairn" || recs[1]["msg"] != "configuration" {
		t.Fatalf("the log does not start with the version and the configuration:\n%s", logs)
	}
	if v, _ := recs[0]["go_version"].(string); !strings.HasPrefix(v, "go") || recs[0]["version"] == "" {
		t.Errorf("first line: %v", recs[0])
	}
	if recs[1]["name"] != "from-env" || recs[1]["enable-v2"] != "false" || recs[1]["wal-dir"] != walDir {
		t.Errorf("configuration line: %v", recs[1])
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if r["msg"] == "flag set from the environment" {
			seen[fmt.Sprint(r["variable"], " ", r["flag"])] = true
		}
	}
	for _, want := range []string{"ETCD_NAME --name", "ETCD_WAL_DIR --wal-dir", "CAIRN_LOG_FORMAT --log-format"} {
		if !seen[want] {
			t.Errorf("the log does not say %s set %s:\n%s", strings.Fields(want)[0], strings.Fields(want)[1], logs)
		}
	}
	if r := findRecord(t, logs, "environment variable overridden by its CAIRN_ twin"); r["variable"] != "ETCD_LOG_FORMAT" {
		t.Errorf("override line: %v", r)
	}
}

// A member configured by an etcd YAML file: etcd's keys, a list for
// log-outputs (a file and stderr get the same lines), unknown keys named.
func TestCommandConfigFile(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "cairn.log")
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	conf := fmt.Sprintf(`# etcd 3.4's layout
name: 'filed'
data-dir: %s
listen-client-urls: %s
advertise-client-urls: %s
listen-peer-urls: %s
initial-advertise-peer-urls: %s
initial-cluster-state: 'new'
enable-grpc-gateway: true
max-wals: 5
logger: zap
log-outputs: [%s, stderr]
log-format: json
client-transport-security:
  cert-file:
  client-cert-auth: false
unknown-to-cairn: 1
`, filepath.Join(dir, "data"), client, client, peer, peer, logFile)
	path := filepath.Join(dir, "etcd.conf.yml")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &member{t: t, dataDir: filepath.Join(dir, "data"), raw: true, args: []string{"--config-file", path},
		env: []string{"ETCD_NAME=ignored"}}
	m.start()
	t.Cleanup(func() { m.kill9() })
	if m.url != client {
		t.Errorf("serving on %s, the file says %s", m.url, client)
	}
	logs := m.logs.String()
	if r := findRecord(t, logs, "configuration"); r["name"] != "filed" || r["config-file"] != path {
		t.Errorf("configuration line: %v", r)
	}
	findRecord(t, logs, "configuration file read; command-line flags and environment variables do not apply (as in etcd)")
	if r := findRecord(t, logs, "configuration file keys cairn does not know are ignored"); fmt.Sprint(r["keys"]) != "[unknown-to-cairn]" {
		t.Errorf("unknown keys line: %v", r)
	}
	if r := findRecord(t, logs, "environment variables ignored: --config-file is given (as in etcd, the file alone configures the member)"); fmt.Sprint(r["variables"]) != "[ETCD_NAME]" {
		t.Errorf("ignored variables line: %v", r)
	}
	findRecord(t, logs, "--logger=zap accepted: cairn logs with log/slog whatever the logger (--log-format text or json)")
	if err := m.stop(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(file), `"msg":"starting cairn"`) || !strings.Contains(string(file), `"msg":"member stopped"`) {
		t.Errorf("the log file %s lacks the member's lines:\n%s", logFile, file)
	}
}

// A data dir that holds etcd's files (made by a real etcd) is refused with
// what to do, and nothing is written beside them.
func TestCommandRefusesEtcdDataDir(t *testing.T) {
	bin := testbin.Need(t, "etcd")
	dir := t.TempDir()
	client := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	etcd := exec.Command(bin, "--data-dir", dir, "--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "default="+peer)
	if err := etcd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, errWAL := os.Stat(filepath.Join(dir, "member", "wal"))
		_, errDB := os.Stat(filepath.Join(dir, "member", "snap", "db"))
		if errWAL == nil && errDB == nil {
			break
		}
		if time.Now().After(deadline) {
			etcd.Process.Kill()
			etcd.Wait()
			t.Fatal("etcd made no data dir")
		}
	}
	etcd.Process.Kill()
	etcd.Wait()

	_, stderr, code := runCairn(t, nil, "--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:0",
		"--advertise-client-urls", "http://127.0.0.1:0", "--listen-peer-urls", "http://127.0.0.1:0")
	if code != 1 || !strings.Contains(stderr, dir+" holds an etcd data dir (member/wal)") || !strings.Contains(stderr, "cairn snapshot restore") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, p := range []string{"wal", "store.db", "cluster.json", "snap"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("cairn wrote %s beside etcd's files", p)
		}
	}
}
