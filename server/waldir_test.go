package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With --wal-dir the raft log lives there and the member comes back from
// it; started without it (or with the log left in the data dir), the member
// refuses to start rather than start a new member beside its store.
func TestWALDir(t *testing.T) {
	data, wal := t.TempDir(), filepath.Join(t.TempDir(), "log")
	cfg := testConfig(data)
	cfg.WALDir = wal
	s := mustStart(t, cfg)
	mustPut(t, s, "foo", "bar")
	id := s.MemberID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "wal")); !os.IsNotExist(err) {
		t.Fatalf("%s/wal exists (%v): the raft log must be only in --wal-dir", data, err)
	}
	segs, _ := filepath.Glob(filepath.Join(wal, "*"))
	if len(segs) == 0 {
		t.Fatalf("no raft log files in --wal-dir %s", wal)
	}

	_, err := New(testConfig(data))
	if err == nil || !strings.Contains(err.Error(), "give it with --wal-dir") {
		t.Fatalf("restart without --wal-dir: %v", err)
	}
	if _, serr := os.Stat(filepath.Join(data, "wal")); !os.IsNotExist(serr) {
		t.Fatalf("the refused start left %s/wal behind (%v)", data, serr)
	}

	s = mustStart(t, cfg)
	if s.MemberID() != id || string(mustGet(t, s, "foo").Value) != "bar" {
		t.Fatalf("restart with --wal-dir: member %x (was %x)", s.MemberID(), id)
	}
	s.Close()

	// The log moved back into the data dir while --wal-dir still names a
	// directory: refused, naming both.
	if err := os.Rename(wal, filepath.Join(data, "wal")); err != nil {
		t.Fatal(err)
	}
	other := testConfig(data)
	other.WALDir = filepath.Join(t.TempDir(), "elsewhere")
	_, err = New(other)
	if err == nil || !strings.Contains(err.Error(), "the raft log of this member is in "+filepath.Join(data, "wal")) {
		t.Fatalf("--wal-dir with the log in the data dir: %v", err)
	}
}

// A data dir in etcd's layout is refused before anything is written in it.
func TestEtcdDataDirRefused(t *testing.T) {
	for _, p := range []string{filepath.Join("member", "wal"), filepath.Join("member", "snap", "db")} {
		data := t.TempDir()
		if err := os.MkdirAll(filepath.Join(data, filepath.Dir(p)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, p), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := New(testConfig(data))
		if err == nil || !strings.Contains(err.Error(), "holds an etcd data dir ("+p+")") {
			t.Fatalf("%s: %v", p, err)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 1 {
			t.Errorf("%s: the refused start wrote beside etcd's files: %v", p, entries)
		}
	}
}
