package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cairnkv/cairn/internal/testbin"
)

// readmeExamples returns the README's example commands against the default
// client URL: the lines of its shell blocks that start with curl or http.
func readmeExamples(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if (strings.HasPrefix(line, "curl ") || strings.HasPrefix(line, "http ")) && strings.Contains(line, "localhost:2379") {
			out = append(out, line)
		}
	}
	if len(out) < 3 {
		t.Fatalf("found %d examples in README.md, want at least 3", len(out))
	}
	return out
}

// TestREADMEExamplesWorkAsWritten runs the README's curl and httpie lines,
// unchanged but for the member's port, and checks each answer.
func TestREADMEExamplesWorkAsWritten(t *testing.T) {
	bash := testbin.Need(t, "bash")
	m := startMember(t, t.TempDir())
	host := strings.TrimPrefix(m.url, "http://")
	for _, example := range readmeExamples(t) {
		tool := strings.Fields(example)[0]
		testbin.Need(t, tool)
		cmdline := strings.ReplaceAll(example, "localhost:2379", host)
		cmd := exec.Command(bash, "-c", cmdline)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // httpie writes its config under $HOME
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", example, err, out)
		}
		var resp struct {
			Header struct {
				Revision string `json:"revision"`
			} `json:"header"`
			Kvs []kv `json:"kvs"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("%s: answer is not JSON: %v\n%s", example, err, out)
		}
		if resp.Header.Revision == "" {
			t.Fatalf("%s: no header revision in %s", example, out)
		}
		if strings.Contains(example, "/v3/kv/range") {
			if len(resp.Kvs) != 1 || unb64(t, resp.Kvs[0].Key) != "foo" || unb64(t, resp.Kvs[0].Value) != "bar" {
				t.Fatalf("%s: want foo=bar, got %s", example, out)
			}
		}
		t.Logf("%s -> %s", example, strings.TrimSpace(string(out)))
	}
}
