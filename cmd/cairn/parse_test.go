package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

// notesText renders what ParseFlags noted for the log, one line each.
func (m *Main) notesText() string {
	var b strings.Builder
	for _, n := range m.notes {
		fmt.Fprintf(&b, "%s %s %v\n", n.level, n.msg, n.args)
	}
	return b.String()
}

// etcd's variables work as etcd's; CAIRN_ beats ETCD_ and the command line
// beats both, and what lost is noted for the log.
func TestEnvironmentETCDAndCAIRN(t *testing.T) {
	m := NewMain()
	err := m.ParseFlags([]string{"--name", "from-flag"}, env(map[string]string{
		"ETCD_NAME":           "etcd-name",
		"ETCD_DATA_DIR":       "/var/lib/etcd-dir",
		"CAIRN_DATA_DIR":      "/var/lib/cairn-dir",
		"ETCD_SNAPSHOT_COUNT": "42",
		"ETCD_ENABLE_V2":      "false",
		"ETCD_WAL_DIR":        "",
		"ETCD_TYPO_FLAG":      "1",
		"ETCDCTL_API":         "3",
		"CAIRN_REQUIRE_TOOLS": "1",
	}))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Config
	if c.Name != "from-flag" || c.DataDir != "/var/lib/cairn-dir" || c.SnapshotCount != 42 || c.EnableV2 || c.WALDir != "" {
		t.Fatalf("config: %+v", c)
	}
	want := map[string]string{"name": sourceCommandLine, "data-dir": "CAIRN_DATA_DIR", "snapshot-count": "ETCD_SNAPSHOT_COUNT", "enable-v2": "ETCD_ENABLE_V2"}
	for flag, src := range want {
		if m.sources[flag] != src {
			t.Errorf("source of --%s: %q, want %q", flag, m.sources[flag], src)
		}
	}
	notes := m.notesText()
	for _, w := range []string{
		"environment variable overridden by the command line (etcd 3.4 refuses to start on this) [variable ETCD_NAME flag --name]",
		"environment variable overridden by its CAIRN_ twin [variable ETCD_DATA_DIR by CAIRN_DATA_DIR]",
		"unrecognized environment variables: they name no flag [variables [ETCD_TYPO_FLAG]]",
	} {
		if !strings.Contains(notes, w) {
			t.Errorf("notes lack %q:\n%s", w, notes)
		}
	}
	if strings.Contains(notes, "ETCDCTL_API") || strings.Contains(notes, "CAIRN_REQUIRE_TOOLS") {
		t.Errorf("notes name a variable that is not cairn's:\n%s", notes)
	}
}

// etcd's rule: listening on chosen client URLs needs the advertised ones,
// whether the flag or the variable sets them; no flags at all is fine.
func TestListenClientURLsNeedAdvertise(t *testing.T) {
	const want = "--advertise-client-urls is required when --listen-client-urls is set explicitly"
	for _, c := range []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--listen-client-urls", "http://127.0.0.1:2379"}, nil},
		{nil, map[string]string{"ETCD_LISTEN_CLIENT_URLS": "http://127.0.0.1:2379"}},
	} {
		if err := NewMain().ParseFlags(c.args, env(c.env)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v %v: %v", c.args, c.env, err)
		}
	}
	ok := [][]string{nil, {"--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0"}}
	for _, args := range ok {
		if err := NewMain().ParseFlags(args, nil); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// etcd's flags that ask for what cairn lacks are refused by name, with the
// reason and where the value came from, all at once; asking for nothing
// (etcd's default) is fine; tuning without effect is noted.
func TestEtcdFlagsCairnDoesNotHonour(t *testing.T) {
	m := NewMain()
	err := m.ParseFlags([]string{"--client-crl-file", "/etc/ssl/crl.pem", "--peer-cert-allowed-cn", "m1", "--proxy", "on", "--auth-token", "simple",
		"--strict-reconfig-check", "--max-wals", "9", "--max-snapshots", "5"},
		env(map[string]string{"ETCD_PEER_CRL_FILE": "/etc/ssl/crl.pem"}))
	for _, want := range []string{
		"not implemented yet: --client-crl-file (TLS: CRLs and certificate name checks)",
		"not implemented yet: --peer-cert-allowed-cn (TLS: CRLs and certificate name checks)",
		"not implemented yet: --peer-crl-file (TLS: CRLs and certificate name checks) (set by ETCD_PEER_CRL_FILE)",
		"--proxy=on is not supported: cairn has no v2 proxy mode",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if s := fmt.Sprint(err); strings.Contains(s, "auth-token") || strings.Contains(s, "strict-reconfig") {
		t.Errorf("a value that asks for nothing is refused: %v", err)
	}

	m = NewMain()
	if err := m.ParseFlags([]string{"--client-cert-auth=false", "--max-wals", "9", "--max-snapshots", "5", "--enable-grpc-gateway"}, nil); err != nil {
		t.Fatal(err)
	}
	notes := m.notesText()
	if !strings.Contains(notes, "--max-wals has no effect in cairn") || strings.Contains(notes, "max-snapshots") {
		t.Errorf("notes: want max-wals (not etcd's default), not max-snapshots (etcd's default):\n%s", notes)
	}
	for _, bad := range [][]string{{"--enable-grpc-gateway=false"}, {"--strict-reconfig-check=false"}, {"--debug"}} {
		if err := NewMain().ParseFlags(bad, nil); err == nil || !strings.Contains(err.Error(), "is not supported") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// --logger takes etcd's two names and says cairn logs with slog; a bad one,
// or a bad --log-outputs, is refused.
func TestLoggerAndLogOutputs(t *testing.T) {
	for _, l := range []string{"zap", "capnslog"} {
		m := NewMain()
		if err := m.ParseFlags([]string{"--logger", l}, nil); err != nil || !strings.Contains(m.notesText(), "cairn logs with log/slog") {
			t.Errorf("--logger %s: %v %s", l, err, m.notesText())
		}
	}
	for _, c := range []struct{ args []string }{
		{[]string{"--logger", "logrus"}},
		{[]string{"--log-outputs", "default,/tmp/x.log"}},
		{[]string{"--log-outputs", ""}},
	} {
		if err := NewMain().ParseFlags(c.args, nil); err == nil || !strings.Contains(err.Error(), c.args[0]) {
			t.Errorf("%v: %v", c.args, err)
		}
	}
	if err := NewMain().ParseFlags([]string{"--log-outputs", "stdout,/tmp/cairn.log"}, nil); err != nil {
		t.Error(err)
	}
}

// --help and --version print to stdout and ask for no run (the command
// exits 0). --help lists every flag with two dashes, in a section.
func TestHelpAndVersion(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Config: DefaultConfig(), Stdout: &out}
	if err := m.ParseFlags([]string{"--help"}, nil); !errors.Is(err, errShown) {
		t.Fatalf("--help: %v", err)
	}
	help := out.String()
	m.flags().VisitAll(func(f *flag.Flag) {
		if !strings.Contains(help, "\n  --"+f.Name+" '") {
			t.Errorf("--help does not list --%s", f.Name)
		}
	})
	if strings.Contains(help, "\n  -n") || !strings.Contains(help, "not implemented yet (TLS: CRLs and certificate name checks)") {
		t.Errorf("--help:\n%s", help)
	}
	inSection := map[string]int{}
	for _, s := range flagSections {
		for _, n := range s.names {
			inSection[n]++
		}
	}
	for _, f := range etcdFlags {
		inSection[f.name]++
	}
	m.flags().VisitAll(func(f *flag.Flag) {
		if inSection[f.Name] != 1 {
			t.Errorf("--%s is in %d sections of --help, want 1", f.Name, inSection[f.Name])
		}
	})

	out.Reset()
	m = &Main{Config: DefaultConfig(), Stdout: &out}
	if err := m.ParseFlags([]string{"--version"}, env(map[string]string{"ETCD_VERSION": "3.4.23"})); !errors.Is(err, errShown) {
		t.Fatalf("--version: %v", err)
	}
	if !strings.HasPrefix(out.String(), "cairn Version: 0.") || !strings.Contains(out.String(), "\netcd API Version: 3.4.0\nGo Version: go") {
		t.Errorf("--version:\n%s", out.String())
	}
	// ETCD_VERSION (an image's version string) does not ask for --version.
	if err := NewMain().ParseFlags(nil, env(map[string]string{"ETCD_VERSION": "3.4.23"})); err != nil {
		t.Errorf("ETCD_VERSION: %v", err)
	}
}
