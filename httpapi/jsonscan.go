package httpapi

import (
	"bytes"
	stdjson "encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// This file is the lexical half of the v3 request decoder: it finds and
// validates the first JSON value of a body, walks objects and arrays of an
// already validated value, and unescapes strings. The rules are encoding/json's
// (which etcd's gateway uses through jsonpb): a body is read as a stream and
// only its first value counts, strings may hold invalid UTF-8 (replaced by
// U+FFFD), nesting is limited to maxNestingDepth. When a body is not valid
// JSON the error message is produced by encoding/json itself (syntaxError) so
// that it is etcd's, byte for byte; the hand-written scanner only decides
// whether the body is valid and where each value lies.

// maxNestingDepth is encoding/json's limit on nested objects and arrays.
const maxNestingDepth = 10000

// firstValue returns the bounds of the first JSON value in body, as
// encoding/json's Decoder reads it: leading white space is skipped and
// whatever follows the value is ignored. empty reports a body of white space
// only, which etcd's gateway treats as an empty request. A syntax error is a
// *parseError with encoding/json's message.
func firstValue(body []byte) (start, end int, empty bool, err error) {
	start = skipSpace(body, 0)
	if start == len(body) {
		return start, start, true, nil
	}
	end, ok := validValue(body, start, 0)
	if !ok {
		return 0, 0, false, syntaxError(body)
	}
	return start, end, false, nil
}

// syntaxError asks encoding/json why body is not valid JSON. It runs only on
// the error path.
func syntaxError(body []byte) error {
	var raw stdjson.RawMessage
	err := stdjson.NewDecoder(bytes.NewReader(body)).Decode(&raw)
	if err == nil {
		// The scanner and encoding/json disagree; the scanner's tests make
		// this unreachable, but never answer a bad body with success.
		return &parseError{msg: "invalid JSON"}
	}
	return &parseError{msg: err.Error()}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// validValue checks the JSON value starting at b[i] (not white space) and
// returns the index just past it.
func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '{':
		if depth++; depth > maxNestingDepth {
			return i, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			var ok bool
			if i, ok = validString(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			if i, ok = validValue(b, skipSpace(b, i+1), depth); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		if depth++; depth > maxNestingDepth {
			return i, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = validValue(b, i, depth); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
			case ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '"':
		return validString(b, i)
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return validNumber(b, i)
	}
	return i, false
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// validNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, false
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = skipDigits(b, i+1)
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		j := skipDigits(b, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := skipDigits(b, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// validString checks the string starting at the quote b[i] and returns the
// index just past its closing quote.
func validString(b []byte, i int) (int, bool) {
	i++
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		default:
			i++
		}
	}
	return i, false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// skipValue returns the index just past the value at b[i] of a body that
// firstValue has validated.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	default: // number
		end, _ := validNumber(b, i)
		return end
	}
}

// skipString returns the index just past the validated string at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// members walks the members of a validated object.
type members struct {
	b []byte
	i int
}

// membersOf starts a walk of the object at b[i] ('{').
func membersOf(b []byte, i int) members { return members{b: b, i: i + 1} }

// next returns the next member's raw key (the bytes between the quotes, still
// escaped) and the start and end of its value; ok is false after the last.
func (m *members) next() (key []byte, vs, ve int, ok bool) {
	b := m.b
	i := skipSpace(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, 0, 0, false
	}
	ke := skipString(b, i)
	key = b[i+1 : ke-1]
	vs = skipSpace(b, skipSpace(b, ke)+1) // past ':'
	ve = skipValue(b, vs)
	m.i = ve
	return key, vs, ve, true
}

// elements walks the elements of a validated array.
type elements struct {
	b []byte
	i int
}

func elementsOf(b []byte, i int) elements { return elements{b: b, i: i + 1} }

// next returns the bounds of the next element; ok is false after the last.
func (e *elements) next() (vs, ve int, ok bool) {
	b := e.b
	i := skipSpace(b, e.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		return 0, 0, false
	}
	ve = skipValue(b, i)
	e.i = ve
	return i, ve, true
}

// needsUnescape reports whether the raw string contents s differ from their
// decoded form: escapes, or bytes that may be invalid UTF-8.
func needsUnescape(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// appendUnescaped appends the decoded contents of a validated JSON string (raw,
// without quotes) to dst, as encoding/json decodes strings: escapes resolved,
// surrogate pairs joined, lone surrogates and invalid UTF-8 replaced by U+FFFD.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch e := s[i+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if r2 := utf16.DecodeRune(r, hex4(s[i+2:])); r2 != utf8.RuneError {
							dst = utf8.AppendRune(dst, r2)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, e)
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, r)
			i += size
		}
	}
	return dst
}

func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
