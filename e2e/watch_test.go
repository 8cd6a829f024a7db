package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// TestCurlWatchPrintsEvents is issue 4's "done when": curl -N on /v3/watch
// prints the created line, then an event when another client writes foo.
func TestCurlWatchPrintsEvents(t *testing.T) {
	curl := testbin.Need(t, "curl")
	m := startMember(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, curl, "-sN", m.url+"/v3/watch", "-d", `{"create_request": {"key": "Zm9v"}}`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	lines := bufio.NewScanner(out)
	type result struct {
		Result struct {
			Created bool `json:"created"`
			Events  []struct {
				Kv kv `json:"kv"`
			} `json:"events"`
		} `json:"result"`
	}
	next := func() result {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("curl stopped: %v", lines.Err())
		}
		var r result
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", lines.Text(), err)
		}
		return r
	}
	if r := next(); !r.Result.Created {
		t.Fatalf("first line is not the created response: %+v", r)
	}
	rev, err := m.put(ctx, "foo", "bar")
	if err != nil {
		t.Fatal(err)
	}
	r := next()
	if len(r.Result.Events) != 1 || unb64(t, r.Result.Events[0].Kv.Key) != "foo" ||
		unb64(t, r.Result.Events[0].Kv.Value) != "bar" || atoi(t, r.Result.Events[0].Kv.ModRevision) != rev {
		t.Fatalf("event line: %+v, want foo=bar at revision %d", r, rev)
	}
	if strings.TrimSpace(lines.Text()) == "" {
		t.Fatal("empty line")
	}
}
