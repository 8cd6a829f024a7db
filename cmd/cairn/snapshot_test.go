package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnkv/cairn/snapshot"
)

// startCairn runs a one-member cairn as the binary does (Main.Run) on
// 127.0.0.1 ports the kernel picks, with its data dir in t.TempDir(), until
// the test ends, and returns its client URL once it serves clients.
func startCairn(t *testing.T) string { return startCairnWith(t, nil) }

// startCairnWith is startCairn with the parsed configuration changed by
// edit (when not nil).
func startCairnWith(t *testing.T, edit func(*Config)) string {
	t.Helper()
	m := NewMain()
	err := m.ParseFlags([]string{
		"--data-dir", filepath.Join(t.TempDir(), "member"),
		"--listen-client-urls", "http://127.0.0.1:0", "--advertise-client-urls", "http://127.0.0.1:0",
		"--listen-peer-urls", "http://127.0.0.1:0", "--initial-advertise-peer-urls", "http://127.0.0.1:0",
		"--heartbeat-interval", "10", "--election-timeout", "100", "--log-format", "json",
	}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&m.Config)
	}
	logs, logw := io.Pipe()
	m.Stderr = logw
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx)
		logw.Close()
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cairn stopped with %v", err)
		}
	})
	// The member logs "serving client requests" with its URL once it serves.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			var line struct{ Msg, URL string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving client requests" {
				found <- line.URL
				break
			}
		}
		io.Copy(io.Discard, logs)
	}()
	select {
	case url := <-found:
		return url
	case err := <-done:
		done <- err
		t.Fatalf("cairn stopped before serving clients: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("cairn did not serve clients within 30s")
	}
	return ""
}

// "cairn snapshot save" against a live member writes a backup file that
// Verify accepts, with its SHA-256, and leaves no temporary file; against an
// endpoint that answers an error it fails with the member's status and
// writes nothing.
func TestSnapshotSaveFromMember(t *testing.T) {
	url := startCairn(t)
	resp, err := http.Post(url+"/v3/kv/put", "application/json", strings.NewReader(`{"key":"Zm9v","value":"YmFy"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put: %s", resp.Status)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "backup.db")
	var stdout, stderr bytes.Buffer
	if code := snapshotCommand([]string{"save", file, "--endpoints", url}, &stdout, &stderr); code != 0 {
		t.Fatalf("save exited %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "Snapshot saved at "+file+" (") {
		t.Errorf("save printed %q", stdout.String())
	}
	dbSize, hashed, err := snapshot.Verify(file)
	if err != nil || !hashed || dbSize == 0 {
		t.Fatalf("the backup: size %d, hashed %v, %v", dbSize, hashed, err)
	}
	if !strings.Contains(stdout.String(), "("+strconv.FormatInt(dbSize, 10)+" bytes of store") {
		t.Errorf("save printed %q, the store file is %d bytes", stdout.String(), dbSize)
	}

	stdout.Reset()
	stderr.Reset()
	bad := filepath.Join(dir, "bad.db")
	if code := snapshotCommand([]string{"save", bad, "--endpoints", url + "/nope"}, &stdout, &stderr); code != 1 {
		t.Fatalf("save from a wrong URL exited %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "answered 404") {
		t.Errorf("save from a wrong URL said %q", stderr.String())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != "backup.db" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the backup dir holds %v, want only backup.db", names)
	}
}
