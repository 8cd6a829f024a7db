package fsutil

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// mustRead returns the content of path, failing the test if it cannot be
// read.
func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// mustNames returns the names in dir, sorted.
func mustNames(tb testing.TB, dir string) []string {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// WriteFileAtomic creates a file, then replaces it, with the mode given for
// a new file and no temporary file left.
func TestWriteFileAtomicCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster.json")
	if err := WriteFileAtomic(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("after create: %q", got)
	}
	if err := WriteFileAtomic(path, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "new content" {
		t.Fatalf("after replace: %q", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if names := mustNames(t, dir); len(names) != 1 || names[0] != "cluster.json" {
		t.Fatalf("directory holds %v, want only cluster.json", names)
	}
}

// A fill that fails after writing part of the content leaves the old file
// as it was and removes the temporary file; WriteAtomic returns fill's
// error.
func TestWriteAtomicFailedFillKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0000000000000007.db")
	if err := WriteFileAtomic(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteAtomic(path, 0o600, func(w io.Writer) error {
		if _, err := w.Write([]byte("half of the new")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want fill's error", err)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("old file changed to %q", got)
	}
	if names := mustNames(t, dir); len(names) != 1 || names[0] != "0000000000000007.db" {
		t.Fatalf("directory holds %v, want only the old file", names)
	}
}

// A rename that fails (path is a non-empty directory) leaves path as it was
// and no temporary file.
func TestWriteFileAtomicFailedRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("x"), 0o600); err == nil {
		t.Fatal("replacing a non-empty directory succeeded")
	}
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		t.Fatalf("the directory at path is gone: %v", err)
	}
	if names := mustNames(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Fatalf("directory holds %v, want only taken", names)
	}
}

// A path whose directory does not exist fails before anything is written.
func TestWriteFileAtomicMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "f")
	if err := WriteFileAtomic(path, []byte("x"), 0o600); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}

// A temporary file left by a crash is overwritten, not appended to.
func TestWriteFileAtomicOverwritesLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path+TempSuffix, []byte("a longer leftover of a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "new" {
		t.Fatalf("content %q, want new", got)
	}
	if names := mustNames(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v, want only f", names)
	}
}

// Rename moves an already written file over path; a missing source is an
// error that leaves path alone.
func TestRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "store.db")
	tmp := filepath.Join(dir, "store.db.defrag")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "new" {
		t.Fatalf("content %q, want new", got)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old name still there: %v", err)
	}
	if err := Rename(tmp, path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rename of a missing file: %v", err)
	}
	if got := mustRead(t, path); got != "new" {
		t.Fatalf("content %q after a failed rename", got)
	}
}

// SyncDir syncs an existing directory and reports a missing one.
func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "absent")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing directory: %v", err)
	}
}
