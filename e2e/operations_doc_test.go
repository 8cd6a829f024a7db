package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/internal/testbin"
)

// docBlocks returns the shell blocks of the section of docs/operations.md
// that starts with heading, as lists of lines.
func docBlocks(t *testing.T, heading string) [][]string {
	t.Helper()
	return docFileBlocks(t, "operations.md", heading)
}

// docFileBlocks is docBlocks for another file of docs/.
func docFileBlocks(t *testing.T, file, heading string) [][]string {
	t.Helper()
	f, err := os.Open("../docs/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks [][]string
	in, inBlock := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## "+heading
		case in && line == "```sh":
			inBlock = true
			blocks = append(blocks, nil)
		case in && line == "```":
			inBlock = false
		case in && inBlock:
			blocks[len(blocks)-1] = append(blocks[len(blocks)-1], line)
		}
	}
	return blocks
}

// startDocMember runs a documented "cairn ... &" line in dir with the
// binary under test, until the test ends; the logs the line writes to are
// shown if the test fails.
func startDocMember(t *testing.T, dir, line string, logs ...string) {
	t.Helper()
	line = strings.TrimSuffix(line, " &")
	cmd := exec.Command(testbin.Need(t, "bash"), "-c", "exec "+filepath.Join(binDir, "cairn")+strings.TrimPrefix(line, "cairn"))
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			for _, n := range logs {
				b, _ := os.ReadFile(filepath.Join(dir, n))
				t.Logf("%s:\n%s", n, b)
			}
		}
	})
}

// The "Try it on one machine" commands of docs/operations.md work as
// written, but for the ports (free ones instead of 2379...) and the cairn
// binary: three members start, a write through one is read through
// another, and the member list shows all three.
func TestOperationsDocLocalCluster(t *testing.T) {
	bash := testbin.Need(t, "bash")
	testbin.Need(t, "curl") // the doc's commands
	blocks := docBlocks(t, "Try it on one machine")
	if len(blocks) != 2 || len(blocks[0]) != 3 || len(blocks[1]) < 3 {
		t.Fatalf("docs/operations.md: want a block of 3 cairn commands and a block of curl commands, got %q", blocks)
	}
	ports := map[string]string{}
	portRE := regexp.MustCompile(`127\.0\.0\.1:(\d+)`)
	fix := func(line string) string {
		return portRE.ReplaceAllStringFunc(line, func(m string) string {
			p := strings.TrimPrefix(m, "127.0.0.1:")
			if ports[p] == "" {
				ports[p] = fmt.Sprint(freePort(t))
			}
			return "127.0.0.1:" + ports[p]
		})
	}
	dir := t.TempDir()
	for _, line := range blocks[0] {
		if !strings.HasPrefix(line, "cairn ") || !strings.HasSuffix(line, " &") {
			t.Fatalf("not a background cairn command: %s", line)
		}
		startDocMember(t, dir, fix(line), "a.log", "b.log", "c.log")
	}
	run := func(line string) (string, error) {
		out, err := exec.Command(bash, "-c", fix(line)).Output()
		return string(out), err
	}
	// The first command (a put) once the cluster has a leader.
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		out, err = run(blocks[1][0])
		if err == nil && strings.Contains(out, `"revision"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v %s", blocks[1][0], err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, _ = run(blocks[1][1]); !strings.Contains(out, `"value":"YmFy"`) {
		t.Fatalf("%s: %s", blocks[1][1], out)
	}
	out, _ = run(blocks[1][2])
	var list v3MemberResponse
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.Members) != 3 {
		t.Fatalf("%s: %s", blocks[1][2], out)
	}
	for _, m := range list.Members {
		if m.Name == "" || len(m.ClientURLs) != 1 {
			// names and client URLs are published right after the start
			time.Sleep(500 * time.Millisecond)
			out, _ = run(blocks[1][2])
			json.Unmarshal([]byte(out), &list)
			break
		}
	}
	for _, line := range blocks[1][3:] {
		if out, err := run(line); err != nil || !strings.Contains(out, `"header"`) {
			t.Fatalf("%s: %v %s", line, err, out)
		}
	}
}
