package entry

import (
	"encoding/binary"
	"errors"
	"fmt"

	json "github.com/goccy/go-json"

	"github.com/cairnkv/cairn"
	"github.com/cairnkv/cairn/v2store"
)

// The payload of a normal raft entry is a request (request.go) in one of
// two encodings, told apart by the first byte:
//
//   - '{': JSON of the whole request, for every kind; readable with
//     ordinary tools, and what logs written before the binary kinds read.
//   - entryPut, entryV2: a compact binary form of the two writes clients
//     send most, v3 puts and v2 writes. JSON spends a quarter of a put's
//     apply CPU on base64 and field names; this form is the bytes
//     themselves with varint lengths.
//
// Binary layout, after the kind byte and the request ID (uvarint); bytes
// are a uvarint length then the bytes, flags one byte:
//
//	put: key, value, lease (varint), flags (1 prev_kv, 2 ignore_value,
//	     4 ignore_lease, 8 dir), action (1 byte)
//	v2:  prefix, method (1 byte), path, value, prev_value,
//	     prev_index (uvarint), flags (1 dir, 2 recursive, 4 refresh,
//	     8 prev_exist given, 16 prev_exist, 32 ttl given), ttl (varint,
//	     only if given)
//
// A decoder refuses unknown kinds, unknown flags, lengths past the end and
// trailing bytes.
const (
	entryPut byte = 1
	entryV2  byte = 2
)

// Flag bits of the binary forms.
const (
	putPrevKV      = 1 << 0
	putIgnoreValue = 1 << 1
	putIgnoreLease = 1 << 2
	putDir         = 1 << 3
	putFlags       = putPrevKV | putIgnoreValue | putIgnoreLease | putDir

	v2Dir          = 1 << 0
	v2Recursive    = 1 << 1
	v2Refresh      = 1 << 2
	v2HasPrevExist = 1 << 3
	v2PrevExist    = 1 << 4
	v2HasTTL       = 1 << 5
	v2Flags        = v2Dir | v2Recursive | v2Refresh | v2HasPrevExist | v2PrevExist | v2HasTTL
)

// Marshal encodes r for a raft entry: binary for a put or a v2 write,
// JSON for the rest.
func (r *Request) Marshal() ([]byte, error) {
	switch {
	case r.Put != nil && r.onlyOp():
		return appendPut(make([]byte, 0, 32+len(r.Put.Key)+len(r.Put.Value)), r.ID, r.Put), nil
	case r.V2 != nil && r.V2.Request != nil && r.onlyOp():
		w := r.V2
		return appendV2(make([]byte, 0, 48+len(w.Prefix)+len(w.Path)+len(w.Value)+len(w.PrevValue)), r.ID, w), nil
	}
	return json.Marshal(r)
}

// onlyOp reports whether r carries exactly one operation (every request
// does; the binary forms carry only theirs).
func (r *Request) onlyOp() bool {
	n := 0
	for _, set := range []bool{r.Put != nil, r.DeleteRange != nil, r.Txn != nil, r.Compaction != nil,
		r.Attrs != nil, r.LeaseGrant != nil, r.LeaseRevoke != nil, r.LeaseExpire != nil, r.V2 != nil, r.Alarm != nil, r.Auth != nil} {
		if set {
			n++
		}
	}
	return n == 1
}

func appendPut(b []byte, id uint64, p *cairn.PutRequest) []byte {
	b = append(b, entryPut)
	b = binary.AppendUvarint(b, id)
	b = appendBytes(b, p.Key)
	b = appendBytes(b, p.Value)
	b = binary.AppendVarint(b, p.Lease)
	var f byte
	if p.PrevKV {
		f |= putPrevKV
	}
	if p.IgnoreValue {
		f |= putIgnoreValue
	}
	if p.IgnoreLease {
		f |= putIgnoreLease
	}
	if p.Dir {
		f |= putDir
	}
	return append(b, f, byte(p.Action))
}

func appendV2(b []byte, id uint64, w *V2Write) []byte {
	q := w.Request
	b = append(b, entryV2)
	b = binary.AppendUvarint(b, id)
	b = appendBytes(b, []byte(w.Prefix))
	b = append(b, byte(q.Method))
	b = appendBytes(b, []byte(q.Path))
	b = appendBytes(b, []byte(q.Value))
	b = appendBytes(b, []byte(q.PrevValue))
	b = binary.AppendUvarint(b, q.PrevIndex)
	var f byte
	if q.Dir {
		f |= v2Dir
	}
	if q.Recursive {
		f |= v2Recursive
	}
	if q.Refresh {
		f |= v2Refresh
	}
	if q.PrevExist != nil {
		f |= v2HasPrevExist
		if *q.PrevExist {
			f |= v2PrevExist
		}
	}
	if q.TTL != nil {
		f |= v2HasTTL
	}
	b = append(b, f)
	if q.TTL != nil {
		b = binary.AppendVarint(b, *q.TTL)
	}
	return b
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// Unmarshal decodes a raft entry's payload (either encoding).
func Unmarshal(data []byte) (*Request, error) {
	if len(data) == 0 {
		return nil, errors.New("empty payload")
	}
	switch data[0] {
	case '{':
		r := new(Request)
		if err := json.Unmarshal(data, r); err != nil {
			return nil, err
		}
		return r, nil
	case entryPut, entryV2:
		d := entryDecoder{b: data[1:]}
		r := &Request{ID: d.uvarint()}
		if data[0] == entryPut {
			r.Put = d.put()
		} else {
			r.V2 = d.v2()
		}
		if d.err == nil && len(d.b) > 0 {
			d.err = fmt.Errorf("%d trailing bytes", len(d.b))
		}
		if d.err != nil {
			return nil, fmt.Errorf("binary entry of kind %d: %w", data[0], d.err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("unknown entry kind %#x", data[0])
}

// entryDecoder reads the binary forms; the first failure sticks in err
// and every later read returns zero values.
type entryDecoder struct {
	b   []byte
	err error
}

var errShortEntry = errors.New("truncated")

func (d *entryDecoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *entryDecoder) varint() int64 { return readVarint(d, binary.Varint) }

// readVarint reads one varint with decode (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](d *entryDecoder, decode func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := decode(d.b)
	if n <= 0 {
		d.err = errShortEntry
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *entryDecoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errShortEntry
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bytes returns the next length-prefixed bytes, aliasing the entry (the
// raft log hands every entry's data to the applier to keep).
func (d *entryDecoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShortEntry
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	if n == 0 {
		return nil
	}
	return p
}

func (d *entryDecoder) flags(known byte) byte {
	f := d.byte()
	if d.err == nil && f&^known != 0 {
		d.err = fmt.Errorf("unknown flags %#x", f&^known)
	}
	return f
}

func (d *entryDecoder) put() *cairn.PutRequest {
	p := &cairn.PutRequest{Key: d.bytes(), Value: d.bytes(), Lease: d.varint()}
	f := d.flags(putFlags)
	p.PrevKV, p.IgnoreValue, p.IgnoreLease, p.Dir = f&putPrevKV != 0, f&putIgnoreValue != 0, f&putIgnoreLease != 0, f&putDir != 0
	p.Action = cairn.Action(d.byte())
	return p
}

func (d *entryDecoder) v2() *V2Write {
	w := &V2Write{Prefix: string(d.bytes()), Request: &v2store.Request{}}
	q := w.Request
	q.Method = v2store.Method(d.byte())
	q.Path = string(d.bytes())
	q.Value = string(d.bytes())
	q.PrevValue = string(d.bytes())
	q.PrevIndex = d.uvarint()
	f := d.flags(v2Flags)
	q.Dir, q.Recursive, q.Refresh = f&v2Dir != 0, f&v2Recursive != 0, f&v2Refresh != 0
	if f&v2HasPrevExist != 0 {
		v := f&v2PrevExist != 0
		q.PrevExist = &v
	} else if f&v2PrevExist != 0 && d.err == nil {
		d.err = errors.New("prev_exist value without prev_exist")
	}
	if f&v2HasTTL != 0 {
		ttl := d.varint()
		q.TTL = &ttl
	}
	return w
}
