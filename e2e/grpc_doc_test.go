package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// apiDocExample is one "$ command" of docs/api.md with the lines it prints.
type apiDocExample struct {
	cmd  string
	want []string
}

// apiDocExamples returns the commands of a section of docs/api.md: each
// indented "$ " line and the indented lines after it, up to a blank line.
func apiDocExamples(t *testing.T, section string) []apiDocExample {
	t.Helper()
	f, err := os.Open("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []apiDocExample
	in, open := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in, open = line == "## "+section, false
		case !in:
		case strings.HasPrefix(line, "    $ "):
			out = append(out, apiDocExample{cmd: strings.TrimPrefix(line, "    $ ")})
			open = true
		case open && strings.HasPrefix(line, "    ") && strings.TrimSpace(line) != "":
			out[len(out)-1].want = append(out[len(out)-1].want, strings.TrimPrefix(line, "    "))
		default:
			open = false
		}
	}
	return out
}

// TestGRPCDocExamples runs the etcdctl and curl lines of docs/api.md's
// gRPC section as written, against a new member (the default client URL
// replaced by its own), and checks what each prints: "..." stands for
// anything, the default peer URL for the member's.
func TestGRPCDocExamples(t *testing.T) {
	testbin.Need(t, "etcdctl")
	testbin.Need(t, "curl")
	bash := testbin.Need(t, "bash")
	examples := apiDocExamples(t, "gRPC: etcdctl and clientv3")
	if len(examples) < 15 {
		t.Fatalf("found %d examples in the gRPC section, want at least 15", len(examples))
	}
	m := startMember(t, t.TempDir())
	host := strings.TrimPrefix(m.url, "http://")
	dir := t.TempDir()
	for _, e := range examples {
		cmdline := strings.ReplaceAll(e.cmd, "localhost:2379", host)
		cmd := exec.Command(bash, "-c", cmdline)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ETCDCTL_API=3", "ETCDCTL_ENDPOINTS="+host)
		out, _ := cmd.CombinedOutput()
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, `{"level":`) {
				got = append(got, l)
			}
		}
		ok := len(got) == len(e.want)
		for i := 0; ok && i < len(got); i++ {
			ok = apiDocPattern(e.want[i], host).MatchString(got[i])
		}
		if !ok {
			t.Errorf("%s:\n%s\nwant:\n%s", e.cmd, strings.Join(got, "\n"), strings.Join(e.want, "\n"))
		}
	}
}

// apiDocPattern is an expected line as a regular expression: "..." is
// anything, the default client and peer addresses are the member's.
func apiDocPattern(want, host string) *regexp.Regexp {
	var b strings.Builder
	for i, part := range strings.Split(strings.TrimSpace(want), "...") {
		if i > 0 {
			b.WriteString(".*")
		}
		q := regexp.QuoteMeta(part)
		q = strings.ReplaceAll(q, regexp.QuoteMeta("127.0.0.1:2379"), regexp.QuoteMeta(host))
		q = strings.ReplaceAll(q, regexp.QuoteMeta("127.0.0.1:2380"), `127\.0\.0\.1:\d+`)
		b.WriteString(q)
	}
	return regexp.MustCompile("^" + b.String() + "$")
}
