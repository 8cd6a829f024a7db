// Package golden compares bytes that cairn keeps on disk with golden
// copies written in tests, so that a change of the on-disk format fails a
// test. A golden text is either JSON (compacted before comparing, so it may
// be laid out for reading) or hex digits, with spaces, line breaks and //
// comments ignored, so that each field can be annotated.
package golden

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// Bytes turns a golden text into the bytes it stands for: JSON is
// compacted, hex is read line by line up to each // comment.
func Bytes(tb testing.TB, text string) []byte {
	tb.Helper()
	if s := strings.TrimSpace(text); strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
		var b bytes.Buffer
		if err := json.Compact(&b, []byte(s)); err != nil {
			tb.Fatalf("golden JSON: %v\n%s", err, s)
		}
		return b.Bytes()
	}
	var digits strings.Builder
	for line := range strings.Lines(text) {
		line, _, _ = strings.Cut(line, "//")
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		tb.Fatalf("golden hex: %v\n%s", err, text)
	}
	return b
}

// Check fails unless got is the golden text's bytes.
func Check(tb testing.TB, what string, got []byte, text string) {
	tb.Helper()
	want := Bytes(tb, text)
	if bytes.Equal(got, want) {
		return
	}
	at := 0
	for at < min(len(got), len(want)) && got[at] == want[at] {
		at++
	}
	tb.Errorf("%s: the bytes on disk changed, from byte %d on\ngot  %s\nwant %s", what, at, printable(got), printable(want))
}

func printable(b []byte) string {
	if len(b) > 0 && b[0] == '{' {
		return string(b)
	}
	return hex.EncodeToString(b)
}
