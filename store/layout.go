package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cairnkv/cairn"
)

// The bbolt layout. doc.go describes it for humans; this file is the only
// place that knows the bytes.

var (
	// bucketRevisions holds one record per (main, sub) revision.
	bucketRevisions = []byte("revisions")
	// bucketMeta holds the store's bookkeeping, one named field per key.
	bucketMeta = []byte("meta")
	// bucketLeases holds one record per granted lease.
	bucketLeases = []byte("leases")

	metaFormat              = []byte("format")
	metaConsistentIndex     = []byte("consistent_index")
	metaScheduledCompactRev = []byte("scheduled_compact_rev")
	metaFinishedCompactRev  = []byte("finished_compact_rev")
)

// layoutFormat is the value of meta/format this code writes and reads.
const layoutFormat = 1

// recordFormat is the first byte of every record this code writes.
const recordFormat = 1

// Record flags: bit 0 tombstone, bit 1 v2 directory, bits 4-7 the v2
// action (Action); bits 2-3 are 0.
const (
	flagTombstone = 1 << 0
	flagDir       = 1 << 1
	actionShift   = 4
	flagsKnown    = flagTombstone | flagDir | 0xf0
)

// recordHeaderLen is the fixed part of a record before the key.
const recordHeaderLen = 1 + 1 + 8*4 + 4

// revKeyLen is the length of a key of the revisions bucket.
const revKeyLen = 16

// revision is an MVCC revision: main is the store revision of the write
// request, sub the index of the change inside it (0, 1, 2...).
type revision struct {
	main int64
	sub  int64
}

func (a revision) less(b revision) bool {
	return a.main < b.main || (a.main == b.main && a.sub < b.sub)
}

func (a revision) String() string { return fmt.Sprintf("%d.%d", a.main, a.sub) }

// putRevKey writes the 16-byte bucket key of r into dst.
func putRevKey(dst []byte, r revision) {
	binary.BigEndian.PutUint64(dst[0:8], uint64(r.main))
	binary.BigEndian.PutUint64(dst[8:16], uint64(r.sub))
}

// parseRevKey decodes a bucket key of the revisions bucket.
func parseRevKey(k []byte) (revision, error) {
	if len(k) != revKeyLen {
		return revision{}, fmt.Errorf("store: revision key of %d bytes, want %d", len(k), revKeyLen)
	}
	return revision{
		main: int64(binary.BigEndian.Uint64(k[0:8])),
		sub:  int64(binary.BigEndian.Uint64(k[8:16])),
	}, nil
}

// record is one decoded value of the revisions bucket. Key and Value alias
// the bytes it was decoded from.
type record struct {
	tombstone      bool
	createRevision int64
	modRevision    int64
	version        int64
	lease          int64
	dir            bool
	action         cairn.Action
	key            []byte
	value          []byte
}

var errBadRecord = errors.New("store: malformed revision record")

// encodeRecord returns the bytes of r in a fresh slice.
func encodeRecord(r *record) []byte {
	b := make([]byte, recordHeaderLen+len(r.key)+len(r.value))
	b[0] = recordFormat
	if r.tombstone {
		b[1] = flagTombstone
	}
	if r.dir {
		b[1] |= flagDir
	}
	b[1] |= byte(r.action) << actionShift
	binary.BigEndian.PutUint64(b[2:], uint64(r.createRevision))
	binary.BigEndian.PutUint64(b[10:], uint64(r.modRevision))
	binary.BigEndian.PutUint64(b[18:], uint64(r.version))
	binary.BigEndian.PutUint64(b[26:], uint64(r.lease))
	binary.BigEndian.PutUint32(b[34:], uint32(len(r.key)))
	n := copy(b[recordHeaderLen:], r.key)
	copy(b[recordHeaderLen+n:], r.value)
	return b
}

// decodeRecord parses b into r; r's slices alias b.
func decodeRecord(b []byte, r *record) error {
	if len(b) < recordHeaderLen {
		return fmt.Errorf("%w: %d bytes", errBadRecord, len(b))
	}
	if b[0] != recordFormat {
		return fmt.Errorf("%w: format %d", errBadRecord, b[0])
	}
	if b[1]&^flagsKnown != 0 || !cairn.Action(b[1]>>actionShift).Valid() {
		return fmt.Errorf("%w: flags %#x", errBadRecord, b[1])
	}
	kl := binary.BigEndian.Uint32(b[34:])
	if uint64(kl) > uint64(len(b)-recordHeaderLen) {
		return fmt.Errorf("%w: key length %d in %d bytes", errBadRecord, kl, len(b))
	}
	r.tombstone = b[1]&flagTombstone != 0
	r.dir = b[1]&flagDir != 0
	r.action = cairn.Action(b[1] >> actionShift)
	r.createRevision = int64(binary.BigEndian.Uint64(b[2:]))
	r.modRevision = int64(binary.BigEndian.Uint64(b[10:]))
	r.version = int64(binary.BigEndian.Uint64(b[18:]))
	r.lease = int64(binary.BigEndian.Uint64(b[26:]))
	end := recordHeaderLen + int(kl)
	r.key = b[recordHeaderLen:end:end]
	r.value = b[end:]
	return nil
}

// recordKey returns the key of an encoded record without decoding the rest.
func recordKey(b []byte) ([]byte, error) {
	var r record
	if err := decodeRecord(b, &r); err != nil {
		return nil, err
	}
	return r.key, nil
}

// putU64 and getU64 encode meta fields.
func putU64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func getU64(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("store: meta field of %d bytes, want 8", len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// Lease record formats, the record's first byte. Format 1 (9 bytes: the
// format, the granted TTL) is what files written before format 2 hold; its
// V2TTL is the rule of that time, bit 62 of the lease ID (the IDs v2store
// picks for TTLs). Format 2 (10 bytes) adds a flags byte. New grants write
// format 2; format 1 records are read, never written.
const (
	leaseRecordV1    = 1
	leaseRecordV1Len = 1 + 8
	leaseRecordV2    = 2
	leaseRecordV2Len = 1 + 8 + 1

	// leaseFlagV2TTL marks a lease granted for a v2 TTL.
	leaseFlagV2TTL = 1 << 0
	// v1V2TTLBit is bit 62 of a lease ID, the v2 TTL mark of format 1.
	v1V2TTLBit = int64(1) << 62
)

// leaseKey returns the 8-byte key of lease id in the leases bucket (the ID
// as a big-endian uint64: negative IDs sort after the positive ones).
func leaseKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

// parseLeaseKey decodes a key of the leases bucket.
func parseLeaseKey(k []byte) (int64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("store: lease key of %d bytes, want 8", len(k))
	}
	return int64(binary.BigEndian.Uint64(k)), nil
}

// encodeLease returns the record of a lease granted with ttl seconds, in
// format 2.
func encodeLease(ttl int64, v2TTL bool) []byte {
	b := make([]byte, leaseRecordV2Len)
	b[0] = leaseRecordV2
	binary.BigEndian.PutUint64(b[1:], uint64(ttl))
	if v2TTL {
		b[9] = leaseFlagV2TTL
	}
	return b
}

// decodeLease parses the record of lease id, in either format, and returns
// its granted TTL and whether it is a v2 TTL's lease.
func decodeLease(id int64, b []byte) (ttl int64, v2TTL bool, err error) {
	switch {
	case len(b) == leaseRecordV1Len && b[0] == leaseRecordV1:
		return int64(binary.BigEndian.Uint64(b[1:])), id > 0 && id&v1V2TTLBit != 0, nil
	case len(b) == leaseRecordV2Len && b[0] == leaseRecordV2 && b[9]&^leaseFlagV2TTL == 0:
		return int64(binary.BigEndian.Uint64(b[1:])), b[9]&leaseFlagV2TTL != 0, nil
	}
	return 0, false, fmt.Errorf("store: malformed lease record %x", b)
}
