package httpapi

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// checkAgainstStdlib asserts that firstValue judges body as encoding/json's
// Decoder does (the reader etcd's gateway uses): same validity, same end of
// the first value, same message on error, and that every string in a valid
// body unescapes as encoding/json unescapes it.
func checkAgainstStdlib(t *testing.T, body []byte) {
	t.Helper()
	dec := stdjson.NewDecoder(bytes.NewReader(body))
	var raw stdjson.RawMessage
	stdErr := dec.Decode(&raw)

	start, end, empty, err := firstValue(body)
	switch {
	case errors.Is(stdErr, io.EOF):
		if !empty || err != nil {
			t.Fatalf("%q: stdlib sees an empty body; firstValue: empty=%v err=%v", body, empty, err)
		}
	case stdErr != nil:
		if err == nil || err.Error() != stdErr.Error() {
			t.Fatalf("%q: stdlib says %q; firstValue err=%v", body, stdErr, err)
		}
	default:
		if err != nil || empty {
			t.Fatalf("%q: stdlib accepts; firstValue: empty=%v err=%v", body, empty, err)
		}
		if int64(end) != dec.InputOffset() || !bytes.Equal(body[start:end], raw) {
			t.Fatalf("%q: value %q ends at %d; stdlib: %q ends at %d", body, body[start:end], end, raw, dec.InputOffset())
		}
		if skipValue(body, start) != end {
			t.Fatalf("%q: skipValue = %d, want %d", body, skipValue(body, start), end)
		}
		checkStrings(t, body[start:end])
	}
}

// checkStrings compares appendUnescaped with encoding/json on every string of
// the valid value v.
func checkStrings(t *testing.T, v []byte) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		if v[i] != '"' {
			continue
		}
		e := skipString(v, i)
		var want string
		if err := stdjson.Unmarshal(v[i:e], &want); err != nil {
			t.Fatalf("%q: stdlib cannot read string %q: %v", v, v[i:e], err)
		}
		if got := appendUnescaped(nil, v[i+1:e-1]); string(got) != want {
			t.Fatalf("string %q: unescaped %q, want %q", v[i:e], got, want)
		}
		i = e - 1
	}
}

var scanSeeds = []string{
	``, ` `, `null`, `nul`, `nullx`, `true`, `false`, `tru`, `1`, `-`, `-0`, `01`, `1.`, `1.5e`, `1.5e+3`, `1E-2x`,
	`"`, `""`, `"\"`, `"\u12"`, `"\u123g"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\udead\ud83d\ude00"`, "\"\xff\xfe\"", "\"a\x01\"", `"\q"`, `"\/\b\f\n\r\t"`,
	`{}`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":[1,2,{"b":null}]}`, `{"a":1}}`, `{"a":1} x`, `{"a" : 1 , "b" : [ ] }`,
	`[]`, `[`, `[1,]`, `[,1]`, `[1 2]`, `[[[[]]]]`, `[{}]`, `]`, `}`, `:`, `,`,
	`{"key":"Zm9v","range_end":"AA==","limit":"10","sort_order":"DESCEND"}`,
	strings.Repeat("[", maxNestingDepth) + strings.Repeat("]", maxNestingDepth),
	strings.Repeat("[", maxNestingDepth+1) + strings.Repeat("]", maxNestingDepth+1),
}

func TestScanMatchesStdlib(t *testing.T) {
	for _, s := range scanSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
	// Random bodies built from JSON fragments, valid and not.
	frags := []string{`{`, `}`, `[`, `]`, `,`, `:`, `"a"`, `"k\u0065y"`, `"\ud800"`, "\"\xc3\x28\"", `"`, `\`,
		`1`, `-2.5e3`, `0`, `-`, `.`, `e`, `true`, `null`, `fals`, ` `, "\n", `"x":`, `{"a":`, `"\"`}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var b []byte
		for n := rng.Intn(12); n >= 0; n-- {
			b = append(b, frags[rng.Intn(len(frags))]...)
		}
		checkAgainstStdlib(t, b)
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkAgainstStdlib(t, body)
		// Decoding never panics, whatever the body.
		for _, ep := range []string{"range", "put", "deleterange", "txn", "compaction", "status"} {
			_, _ = parseAny(ep, string(body))
		}
	})
}
