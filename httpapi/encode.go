package httpapi

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/cairnkv/cairn"
)

// This file writes v3 responses as etcd's gateway prints them (jsonpb with
// proto field names): fields in .proto order, zero values left out, 64-bit
// integers as decimal strings, bytes as padded standard base64. Responses are
// appended to a pooled buffer by hand, without reflection: they are the hot
// path of every benchmark.

// appendInt64 appends `"name":"v"` preceded by a comma when needed, unless v is 0.
func appendInt64(b []byte, first *bool, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendName(b, first, name)
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

func appendUint64(b []byte, first *bool, name string, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = appendName(b, first, name)
	b = append(b, '"')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '"')
}

// appendBytes appends `"name":"<base64>"` unless v is empty.
func appendBytes(b []byte, first *bool, name string, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = appendName(b, first, name)
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

func appendBool(b []byte, first *bool, name string, v bool) []byte {
	if !v {
		return b
	}
	b = appendName(b, first, name)
	return append(b, "true"...)
}

// appendName appends `,"name":` (without the comma for the first field).
// name must need no escaping.
func appendName(b []byte, first *bool, name string) []byte {
	if *first {
		*first = false
	} else {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"', ':')
}

// appendHeader appends `"header":{...}` with the header's non-zero fields.
// etcd prints the header of every response, even an empty one ({}).
func appendHeader(b []byte, first *bool, h *cairn.ResponseHeader) []byte {
	b = appendName(b, first, "header")
	b = append(b, '{')
	f := true
	b = appendUint64(b, &f, "cluster_id", h.ClusterID)
	b = appendUint64(b, &f, "member_id", h.MemberID)
	b = appendInt64(b, &f, "revision", h.Revision)
	b = appendUint64(b, &f, "raft_term", h.RaftTerm)
	return append(b, '}')
}

// appendKeyValue appends one mvccpb.KeyValue object.
func appendKeyValue(b []byte, kv *cairn.KeyValue) []byte {
	b = append(b, '{')
	f := true
	b = appendBytes(b, &f, "key", kv.Key)
	b = appendInt64(b, &f, "create_revision", kv.CreateRevision)
	b = appendInt64(b, &f, "mod_revision", kv.ModRevision)
	b = appendInt64(b, &f, "version", kv.Version)
	b = appendBytes(b, &f, "value", kv.Value)
	b = appendInt64(b, &f, "lease", kv.Lease)
	return append(b, '}')
}

// appendKeyValues appends `"name":[...]` unless kvs is empty.
func appendKeyValues(b []byte, first *bool, name string, kvs []*cairn.KeyValue) []byte {
	if len(kvs) == 0 {
		return b
	}
	b = appendName(b, first, name)
	b = append(b, '[')
	for i, kv := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKeyValue(b, kv)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string the way encoding/json (and so
// jsonpb) writes it: <, > and & escaped for HTML, U+2028 and U+2029 escaped,
// invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
