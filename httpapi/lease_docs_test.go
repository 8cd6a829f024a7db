package httpapi_test

import (
	"bufio"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/httpapi"
	"github.com/cairnkv/cairn/internal/testbin"
	"github.com/cairnkv/cairn/server"
)

// docExample is one `$ curl -s ...` line of docs/api.md and the answer the
// document shows for it ("..." stands for anything).
type docExample struct {
	cmd  string
	want []string
}

// docExamples returns the examples of one "## " section of docs/api.md.
func docExamples(t *testing.T, section string) []docExample {
	t.Helper()
	f, err := os.Open("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docExample
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+section
			continue
		}
		if !in {
			continue
		}
		switch {
		case strings.HasPrefix(line, "    $ curl -s "):
			out = append(out, docExample{cmd: strings.TrimPrefix(line, "    $ ")})
		case strings.HasPrefix(line, "    ") && len(out) > 0 && strings.TrimSpace(line) != "":
			out[len(out)-1].want = append(out[len(out)-1].want, strings.TrimPrefix(line, "    "))
		case strings.TrimSpace(line) == "" || !strings.HasPrefix(line, "    "):
			if len(out) > 0 && len(out[len(out)-1].want) > 0 {
				// The example's answer ended; later indented lines belong
				// to another block (a non-curl example).
				out = append(out, docExample{})
			}
		}
	}
	var examples []docExample
	for _, e := range out {
		if e.cmd != "" {
			examples = append(examples, e)
		}
	}
	return examples
}

var remainingTTLDoc = regexp.MustCompile(`"TTL":"[0-9]+","grantedTTL"`)

// docPattern turns a shown answer into a regexp: "..." matches anything,
// and a lease's remaining TTL any number (it runs down).
func docPattern(line string) *regexp.Regexp {
	line = remainingTTLDoc.ReplaceAllString(line, `"TTL":"@","grantedTTL"`)
	q := regexp.QuoteMeta(line)
	q = strings.ReplaceAll(q, `\.\.\.`, `.*?`)
	q = strings.ReplaceAll(q, `@`, `[0-9]+`)
	return regexp.MustCompile("^" + q + "$")
}

// TestLeaseDocExamples runs the curl examples of docs/api.md's Leases
// section, as written but for the port, against a new member with etcd's
// default election timeout, and checks each answer against the document.
func TestLeaseDocExamples(t *testing.T) {
	testbin.Need(t, "curl") // the examples' program
	bash := testbin.Need(t, "bash")
	examples := docExamples(t, "Leases")
	if len(examples) < 15 {
		t.Fatalf("found %d examples in the Leases section, want at least 15", len(examples))
	}
	cfg := server.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ts := httpapi.ServeBackend(t, s, httpapi.Config{})
	host := strings.TrimPrefix(ts.URL, "http://")
	for _, e := range examples {
		cmdline := strings.ReplaceAll(e.cmd, "localhost:2379", host)
		out, err := exec.Command(bash, "-c", cmdline).Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", e.cmd, err, out)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		ok := len(got) == len(e.want)
		for i := 0; ok && i < len(got); i++ {
			ok = docPattern(e.want[i]).MatchString(got[i])
		}
		if !ok {
			t.Fatalf("%s\n got %q\nwant %q (docs/api.md)", e.cmd, got, e.want)
		}
	}
}
