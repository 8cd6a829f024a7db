package raftlog

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// The worked example in doc.go is the real output of the code.
func TestDocWorkedExample(t *testing.T) {
	dir := t.TempDir()
	opts, _ := testOptions(4096)
	l := mustCreate(t, dir, []byte("m1"), opts)
	mustSave(t, l, raftpb.HardState{Term: 2, Vote: 1}, []raftpb.Entry{{Index: 1, Term: 2, Data: []byte("put a=1")}})
	mustSave(t, l, raftpb.HardState{Term: 2, Vote: 1, Commit: 1}, nil)
	mustClose(t, l)
	name := segmentNames(t, dir)[0]
	if name != "0000000000000000-0000000000000001.wal" {
		t.Fatalf("first segment is %s", name)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(hex.Dump(b[:0xb0])) {
		if !strings.Contains(string(doc), "//\t"+line) {
			t.Errorf("doc.go lacks the dump line\n%s", line)
		}
	}
	if !isZero(b[0xb0:]) {
		t.Error("bytes after the example's last record are not zero")
	}
}
