package httpapi

import (
	"encoding/base64"
	stdjson "encoding/json"
	"fmt"
	"strconv"
)

// This file is the typed half of the v3 request decoder. It reproduces what
// etcd 3.4's gateway (grpc-gateway v1 + golang/protobuf jsonpb) accepts and
// answers, without reflection:
//
//   - An object's members are first collected by name, the last of duplicate
//     names winning; each field is found under its proto name (range_end) or
//     its lowerCamelCase JSON name (rangeEnd), the camelCase one winning when
//     both are present; unknown names are ignored. Fields are then decoded in
//     the order the .proto declares them, and the first error is returned, so
//     {"limit":true,"key":1} reports the key.
//   - null leaves any field unset.
//   - int64 fields take a number or a string holding one ("5"); the string's
//     quotes are stripped without unescaping, as jsonpb does.
//   - enums take their name exactly ("DESCEND") or a number (any int32).
//   - bytes take standard base64 (padded; '\r' and '\n' ignored) or, as
//     encoding/json allows, an array of numbers 0..255.
//   - bool takes true or false only.
//
// Error messages are the ones etcd answers (recorded from etcd 3.4.23 in the
// tests). Where etcd passes a value to encoding/json on a path that only an
// odd client takes (quoted numbers that are not plain decimals, byte arrays),
// this decoder does the same, so the messages agree there too.

// parseError is a request the gateway could not decode: gRPC InvalidArgument
// with msg as the message.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

// The Go type names etcd's messages mention.
const (
	typeBytes    = "[]uint8"
	typeInt64    = "int64"
	typeBool     = "bool"
	typeMessage  = "map[string]json.RawMessage"
	typeRepeated = "[]json.RawMessage"
)

// kindOf names the JSON kind starting with c as encoding/json's
// UnmarshalTypeError does.
func kindOf(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

func typeError(kind, goType string) error {
	return &parseError{msg: "json: cannot unmarshal " + kind + " into Go value of type " + goType}
}

// span locates one member value in the body; s == 0 means absent (no value of
// a field can start at offset 0, which belongs to the enclosing object).
type span struct{ s, e int }

// slot holds the values found for one field under its two accepted names.
type slot struct{ orig, camel span }

// value returns the span jsonpb would use: camelCase over proto name.
func (s *slot) value() span {
	if s.camel.s != 0 {
		return s.camel
	}
	return s.orig
}

// decoder decodes one request body. Decoded byte fields are carved out of one
// arena allocation per request; they never alias the body, which is a pooled
// buffer.
type decoder struct {
	b     []byte
	arena []byte
}

// parseTopObject decodes a body that holds one request object with fill,
// which reads the object starting at offset start into req. An empty or null
// body is the zero request, as etcd treats it.
func parseTopObject[T any](d *decoder, fill func(d *decoder, start int, req *T) error) (*T, error) {
	req := new(T)
	start, ok, err := d.topObject()
	if err == nil && ok {
		err = fill(d, start, req)
	}
	if err != nil {
		return nil, err
	}
	return req, nil
}

// topObject finds the request object of the body. ok is false when the body
// is empty or null (an empty request, as etcd treats it).
func (d *decoder) topObject() (start int, ok bool, err error) {
	start, _, empty, err := firstValue(d.b)
	if err != nil || empty {
		return 0, false, err
	}
	switch d.b[start] {
	case '{':
		return start, true, nil
	case 'n':
		return 0, false, nil
	}
	return 0, false, typeError(kindOf(d.b[start]), typeMessage)
}

// collect walks the object at b[start] and records in slots each member
// whose name lookup knows (lookup returns the field's index in declaration
// order, or -1, and whether the name is the camelCase one).
func (d *decoder) collect(start int, slots []slot, lookup func(name []byte) (field int, camel bool)) {
	m := membersOf(d.b, start)
	for {
		key, vs, ve, ok := m.next()
		if !ok {
			return
		}
		var field int
		var camel bool
		if needsUnescape(key) {
			field, camel = lookup(appendUnescaped(nil, key))
		} else {
			field, camel = lookup(key)
		}
		if field < 0 {
			continue
		}
		if camel {
			slots[field].camel = span{vs, ve}
		} else {
			slots[field].orig = span{vs, ve}
		}
	}
}

// message checks that the value at sp is an object (or null) for a nested
// message field; ok is false for null.
func (d *decoder) message(sp span) (ok bool, err error) {
	switch c := d.b[sp.s]; c {
	case '{':
		return true, nil
	case 'n':
		return false, nil
	default:
		return false, typeError(kindOf(c), typeMessage)
	}
}

// repeated checks that the value at sp is an array (or null) for a repeated
// message field and returns a walk over its elements.
func (d *decoder) repeated(sp span) (elements, bool, error) {
	switch c := d.b[sp.s]; c {
	case '[':
		return elementsOf(d.b, sp.s), true, nil
	case 'n':
		return elements{}, false, nil
	default:
		return elements{}, false, typeError(kindOf(c), typeRepeated)
	}
}

// alloc returns n bytes from the request's arena.
func (d *decoder) alloc(n int) []byte {
	if cap(d.arena)-len(d.arena) < n {
		size := len(d.b)
		if size < n {
			size = n
		}
		d.arena = make([]byte, 0, size)
	}
	start := len(d.arena)
	d.arena = d.arena[:start+n]
	return d.arena[start : start+n : start+n]
}

// bytesField decodes a bytes field.
func (d *decoder) bytesField(sp span) ([]byte, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; c {
	case '"':
		s := raw[1 : len(raw)-1]
		if needsUnescape(s) {
			s = appendUnescaped(nil, s)
		}
		if len(s) == 0 {
			return []byte{}, nil
		}
		dst := d.alloc(base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(dst, s)
		if err != nil {
			return nil, &parseError{msg: err.Error()}
		}
		return dst[:n:n], nil
	case 'n':
		return nil, nil
	case '[':
		// encoding/json fills a []byte from an array of numbers; let it.
		var out []byte
		if err := stdjson.Unmarshal(raw, &out); err != nil {
			return nil, &parseError{msg: err.Error()}
		}
		return out, nil
	default:
		return nil, typeError(kindOf(c), typeBytes)
	}
}

// int64Field decodes an int64 field (a number, or a string holding one).
func (d *decoder) int64Field(sp span) (int64, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; {
	case c == '"':
		inner := raw[1 : len(raw)-1]
		if v, ok := plainInt(inner); ok {
			return v, nil
		}
		// jsonpb hands the unquoted text to encoding/json; do the same
		// for anything but a plain decimal, for its exact answer.
		var v int64
		if err := stdjson.Unmarshal(inner, &v); err != nil {
			return 0, &parseError{msg: err.Error()}
		}
		return v, nil
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return 0, typeError("number "+string(raw), typeInt64)
		}
		return v, nil
	case c == 'n':
		return 0, nil
	default:
		return 0, typeError(kindOf(c), typeInt64)
	}
}

// plainInt parses s if it is a JSON integer without sign oddities that fits
// int64: -?(0|[1-9][0-9]*).
func plainInt(s []byte) (int64, bool) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 19 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}

// boolField decodes a bool field.
func (d *decoder) boolField(sp span) (bool, error) {
	switch c := d.b[sp.s]; c {
	case 't':
		return true, nil
	case 'f', 'n':
		return false, nil
	default:
		return false, typeError(kindOf(c), typeBool)
	}
}

// enumType describes one protobuf enum: its name in etcd's messages, the Go
// type name encoding/json reports, and its value names by number.
type enumType struct {
	protoName string   // e.g. etcdserverpb.RangeRequest_SortOrder
	names     []string // names[n] is the name of value n
	// closed refuses numbers without a name too, as it refuses unknown
	// names (etcd's gateway takes any number: see maintenance.go).
	closed bool
}

// name is the name of value n, its number for a value without a name (as
// protobuf's String).
func (t *enumType) name(n int32) string {
	if n >= 0 && int(n) < len(t.names) {
		return t.names[n]
	}
	return strconv.Itoa(int(n))
}

// enumField decodes an enum field: a value name, or any int32 number (etcd
// keeps numbers it has no name for; the store's validation judges them).
func (d *decoder) enumField(sp span, t *enumType) (int32, error) {
	raw := d.b[sp.s:sp.e]
	switch c := raw[0]; {
	case c == '"':
		inner := raw[1 : len(raw)-1] // not unescaped: jsonpb compares raw bytes
		for n, name := range t.names {
			if string(inner) == name {
				return int32(n), nil
			}
		}
		return 0, &parseError{msg: fmt.Sprintf("unknown value %q for enum %s", inner, t.protoName)}
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := strconv.ParseInt(string(raw), 10, 32)
		if err != nil {
			return 0, typeError("number "+string(raw), t.protoName)
		}
		if t.closed && (v < 0 || v >= int64(len(t.names))) {
			return 0, &parseError{msg: fmt.Sprintf("unknown value %d for enum %s", v, t.protoName)}
		}
		return int32(v), nil
	case c == 'n':
		return 0, nil
	default:
		return 0, typeError(kindOf(c), t.protoName)
	}
}
