package snapshot

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A receive with the right checksum leaves both files; a wrong one leaves
// nothing; Install moves the store file; Prune removes what is old.
func TestDirReceiveInstallPrune(t *testing.T) {
	d, err := OpenDir(filepath.Join(t.TempDir(), "snap"))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("store"), 1000)
	sum := sha256.Sum256(data)
	n, err := d.Receive(7, []byte(`{"members":[]}`), bytes.NewReader(data), func() []byte { return sum[:] })
	if err != nil || n != int64(len(data)) || !d.Has(7) {
		t.Fatalf("receive: %d %v has=%v", n, err, d.Has(7))
	}
	_, err = d.Receive(9, []byte(`{}`), bytes.NewReader(data), func() []byte { return []byte("wrong") })
	if !errors.Is(err, ErrChecksum) || d.Has(9) {
		t.Fatalf("bad checksum: %v has=%v", err, d.Has(9))
	}
	if idx, _ := d.Indexes(); len(idx) != 1 || idx[0] != 7 {
		t.Fatalf("indexes: %v", idx)
	}
	dst := filepath.Join(t.TempDir(), "store.db")
	if err := d.Install(7, dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("installed file differs")
	}
	if c, err := d.Cluster(7); err != nil || string(c) != `{"members":[]}` {
		t.Fatalf("cluster state: %q %v", c, err)
	}
	if err := d.Prune(7); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(d.Path()); len(ents) != 0 {
		t.Fatalf("left after prune: %v", ents)
	}
	// A leftover temporary file is removed on open.
	os.WriteFile(filepath.Join(d.Path(), "0000000000000003.db.tmp"), []byte("x"), 0o600)
	if _, err := OpenDir(d.Path()); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(d.Path()); len(ents) != 0 {
		t.Fatalf("temporary file kept: %v", ents)
	}
}

func stream(blobs ...[]byte) string {
	var b strings.Builder
	for i, blob := range blobs {
		if i == 0 {
			fmt.Fprintf(&b, `{"result":{"remaining_bytes":"5","blob":%q}}`+"\n", base64.StdEncoding.EncodeToString(blob))
			continue
		}
		fmt.Fprintf(&b, `{"result":{"blob":%q}}`+"\n", base64.StdEncoding.EncodeToString(blob))
	}
	return b.String()
}

// readStream keeps the data and the hash, and refuses a stream whose hash
// does not match, one cut short, and an error line.
func TestReadStream(t *testing.T) {
	data := bytes.Repeat([]byte{1}, 512)
	sum := sha256.Sum256(data)
	var out bytes.Buffer
	n, err := readStream(strings.NewReader(stream(data[:100], data[100:], sum[:])), &out)
	if err != nil || n != 512 || !bytes.Equal(out.Bytes(), append(append([]byte{}, data...), sum[:]...)) {
		t.Fatalf("good stream: %d %v", n, err)
	}
	bad := sha256.Sum256([]byte("other"))
	if _, err := readStream(strings.NewReader(stream(data, bad[:])), &bytes.Buffer{}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("bad hash: %v", err)
	}
	if _, err := readStream(strings.NewReader(stream(data)), &bytes.Buffer{}); err == nil {
		t.Fatal("a stream cut before its hash was accepted")
	}
	if _, err := readStream(strings.NewReader(`{"error":{"message":"boom"}}`+"\n"), &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error line: %v", err)
	}
}

// Verify accepts a backup with its hash and a bare store file, and refuses
// a damaged backup.
func TestVerify(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte{7}, 4096)
	sum := sha256.Sum256(data)
	good := filepath.Join(dir, "good")
	os.WriteFile(good, append(append([]byte{}, data...), sum[:]...), 0o600)
	if n, hashed, err := Verify(good); err != nil || !hashed || n != 4096 {
		t.Fatalf("good backup: %d %v %v", n, hashed, err)
	}
	bare := filepath.Join(dir, "bare")
	os.WriteFile(bare, data, 0o600)
	if n, hashed, err := Verify(bare); err != nil || hashed || n != 4096 {
		t.Fatalf("bare store file: %d %v %v", n, hashed, err)
	}
	damaged := append(append([]byte{}, data...), sum[:]...)
	damaged[100] ^= 1
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, damaged, 0o600)
	if _, _, err := Verify(bad); !errors.Is(err, ErrChecksum) {
		t.Fatalf("damaged backup: %v", err)
	}
}

// Save writes the store file and its hash from a good stream, and from a
// bad one (wrong hash, cut short) writes nothing, leaving an older backup at
// the same path as it was.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	data := bytes.Repeat([]byte{3}, 1024)
	sum := sha256.Sum256(data)
	n, err := Save(path, strings.NewReader(stream(data[:200], data[200:], sum[:])))
	if err != nil || n != 1024 {
		t.Fatalf("good stream: %d %v", n, err)
	}
	if dbSize, hashed, err := Verify(path); err != nil || !hashed || dbSize != 1024 {
		t.Fatalf("the saved file: %d %v %v", dbSize, hashed, err)
	}
	saved, _ := os.ReadFile(path)
	bad := sha256.Sum256([]byte("other"))
	for name, s := range map[string]string{
		"wrong hash": stream(data, bad[:]),
		"cut short":  stream(data),
	} {
		if _, err := Save(path, strings.NewReader(s)); err == nil {
			t.Errorf("%s: saved", name)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, saved) {
			t.Errorf("%s: the earlier backup changed", name)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("%s: left %v", name, ents)
		}
	}
}
