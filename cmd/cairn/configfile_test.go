package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// etcdSample is a configuration file in etcd 3.4's layout (its
// etcd.conf.yml.sample, trimmed, with a member's values).
const etcdSample = `# This is the configuration file for the etcd server.
name: 'infra1'
data-dir: /var/lib/etcd-infra1
wal-dir:
snapshot-count: 10000
heartbeat-interval: 100
election-timeout: 1000
quota-backend-bytes: 0
listen-peer-urls: http://10.0.1.11:2380
listen-client-urls: http://10.0.1.11:2379,http://127.0.0.1:2379
max-snapshots: 5
max-wals: 5
cors:
initial-advertise-peer-urls: http://10.0.1.11:2380
advertise-client-urls: http://10.0.1.11:2379
discovery:
discovery-fallback: 'proxy'
discovery-proxy:
discovery-srv:
initial-cluster: infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380
initial-cluster-token: 'etcd-cluster-1'
initial-cluster-state: 'new'
strict-reconfig-check: true
enable-v2: true
enable-pprof: true
proxy: 'off'
proxy-failure-wait: 5000
proxy-refresh-interval: 30000
client-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
peer-transport-security:
  cert-file:
  key-file:
  client-cert-auth: false
  trusted-ca-file:
  auto-tls: false
debug: false
logger: zap
log-outputs: [stderr]
force-new-cluster: false
enable-grpc-gateway: true
experimental-warning-apply-duration: 250000000
experimental-watch-progress-notify-interval: 5s
self-signed-cert-validity: 1
`

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etcd.conf.yml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// etcd's own configuration file configures cairn; keys cairn does not know
// are named in a note; the environment is ignored with a note, as etcd
// ignores it.
func TestConfigFileInEtcdsLayout(t *testing.T) {
	path := writeFile(t, etcdSample)
	m := NewMain()
	if err := m.ParseFlags([]string{"--config-file", path}, env(map[string]string{"ETCD_NAME": "from-env", "CAIRN_SNAPSHOT_COUNT": "7"})); err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Name != "infra1" || c.DataDir != "/var/lib/etcd-infra1" || c.WALDir != "" || c.SnapshotCount != 10000 ||
		c.ListenClientURLs != "http://10.0.1.11:2379,http://127.0.0.1:2379" || c.InitialClusterToken != "etcd-cluster-1" ||
		!c.EnablePprof || c.Logger != "zap" || c.LogOutputs != "stderr" || c.Security.CORS != "*" ||
		c.WarningApplyDuration != 250*time.Millisecond || c.WatchProgressNotifyInterval != 5*time.Second {
		t.Fatalf("config: %+v", c)
	}
	sc, err := c.serverConfig(nil)
	if err != nil || len(sc.InitialCluster) != 3 {
		t.Fatalf("initial cluster: %+v %v", sc.InitialCluster, err)
	}
	if m.sources["name"] != sourceConfigFile || m.sources["wal-dir"] != "" {
		t.Errorf("sources: %v", m.sources)
	}
	notes := m.notesText()
	for _, want := range []string{
		"configuration file keys cairn does not know are ignored [path " + path + " keys [self-signed-cert-validity]]",
		"environment variables ignored: --config-file is given (as in etcd, the file alone configures the member) [variables [CAIRN_SNAPSHOT_COUNT ETCD_NAME]]",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
}

// ETCD_CONFIG_FILE names the file as --config-file does.
func TestConfigFileFromTheEnvironment(t *testing.T) {
	path := writeFile(t, "name: from-file\n")
	m := NewMain()
	if err := m.ParseFlags(nil, env(map[string]string{"ETCD_CONFIG_FILE": path})); err != nil || m.Config.Name != "from-file" {
		t.Fatalf("%v %q", err, m.Config.Name)
	}
	err := NewMain().ParseFlags([]string{"--name", "x"}, env(map[string]string{"ETCD_CONFIG_FILE": path}))
	if err == nil || !strings.Contains(err.Error(), "--name given with --config-file "+path+" (set by ETCD_CONFIG_FILE)") {
		t.Errorf("a flag with ETCD_CONFIG_FILE: %v", err)
	}
}

// What etcd would silently ignore or get wrong in a file is refused, by key
// and line.
func TestConfigFileRefusals(t *testing.T) {
	for _, c := range []struct {
		text string
		args []string
		want string
	}{
		{"name: a\n", []string{"--name", "b", "--data-dir", "x"}, "--data-dir --name given with --config-file"},
		{"client-transport-security:\n  cert-file: /etc/ssl/c.pem\n", nil, "--cert-file and --key-file go together"},
		{"peer-transport-security:\n  crl-file: /etc/ssl/crl.pem\n", nil, "not implemented yet: peer-transport-security.crl-file (TLS)"},
		{"cert-file: /etc/ssl/c.pem\n", nil, "--cert-file and --key-file go together"},
		{"name: a\nname: b\n", nil, "line 2: name is given twice"},
		{"snapshot-count: many\n", nil, "line 1: snapshot-count: "},
		{"initial-cluster:\n  a: b\n", nil, "line 1: initial-cluster: a mapping"},
		{"- name\n", nil, "want a mapping of etcd's keys"},
		{"name: [a\n", nil, "yaml:"},
		{"listen-client-urls: http://127.0.0.1:2379\n", nil, "--advertise-client-urls is required"},
	} {
		args := append([]string{"--config-file", writeFile(t, c.text)}, c.args...)
		if err := NewMain().ParseFlags(args, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q %v: %v, want %q", c.text, c.args, err, c.want)
		}
	}
	if err := NewMain().ParseFlags([]string{"--config-file", "/nonexistent/etcd.yml"}, nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/etcd.yml") {
		t.Errorf("missing file: %v", err)
	}
}
