package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"go.etcd.io/raft/v3/raftpb"
)

// MaxRecordBytes is the largest payload one record may carry: 128 MiB. Save
// refuses a larger entry with ErrTooLarge, and the decoder treats a longer
// body (payload and synced offset) as damage, so garbage never makes replay
// allocate more.
const MaxRecordBytes = 128 << 20

const (
	headerSize = 16 // length, CRC, type, 3 reserved bytes, back distance
	frameAlign = 8  // every frame starts at a multiple of 8 in its file
	// syncedSize is the synced offset that opens the body of every record
	// but the segment record in a format 2 segment.
	syncedSize   = 8
	maxBodyBytes = MaxRecordBytes + syncedSize
)

// recordType is byte 8 of a frame header.
type recordType uint8

const (
	typeSegment   recordType = 1 // first record of every segment file
	typeMetadata  recordType = 2 // the caller's opaque bytes, second in every segment
	typeHardState recordType = 3 // a raftpb.HardState
	typeEntry     recordType = 4 // a raftpb.Entry
	typeSnapshot  recordType = 5 // snapshot mode byte + raftpb.SnapshotMetadata
)

func (t recordType) String() string {
	switch t {
	case typeSegment:
		return "segment"
	case typeMetadata:
		return "metadata"
	case typeHardState:
		return "hardstate"
	case typeEntry:
		return "entry"
	case typeSnapshot:
		return "snapshot"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Snapshot record modes: how the snapshot changed the log when it was saved.
const (
	// snapKeep: the snapshot was taken from this member's own log; entries
	// after its index stay.
	snapKeep byte = 1
	// snapReplace: the snapshot came from elsewhere (a leader) and replaced
	// the whole log; the log restarts right after its index.
	snapReplace byte = 2
)

// segmentMagic opens the payload of every segment record.
var segmentMagic = [8]byte{'c', 'a', 'i', 'r', 'n', 'w', 'a', 'l'}

// Format versions, named in every segment record. Format 1 records have no
// synced offset; this build reads both and writes format 2.
const (
	formatV1      = 1
	formatVersion = 2
)

const segmentPayloadSize = 24

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors of decodeFrame. They never leave the package: replay turns them
// into torn-tail decisions or CorruptErrors.
var (
	errZeroHeader = errors.New("zeroed space (no record)")
	errShort      = errors.New("record cut short by the end of the file")
	errLength     = errors.New("record length beyond the limit")
	errCRC        = errors.New("CRC mismatch")
	errReserved   = errors.New("non-zero reserved header bytes")
	errType       = errors.New("unknown record type")
	errPadding    = errors.New("non-zero padding")
)

// frame is one decoded record frame.
type frame struct {
	typ  recordType
	back uint32 // bytes from the start of this frame's batch to the frame
	// synced is the offset in the file up to which every byte was durable
	// when this frame's batch was written; set by splitSynced (format 2).
	synced  int64
	payload []byte // aliases the decode buffer; the whole body until splitSynced
	size    int64  // header + body + padding
}

// splitSynced takes the synced offset off the front of a format 2 record's
// body.
func splitSynced(f *frame) error {
	if len(f.payload) < syncedSize {
		return fmt.Errorf("%s record of %d bytes, too short for its synced offset", f.typ, len(f.payload))
	}
	s := binary.LittleEndian.Uint64(f.payload)
	if s > math.MaxInt64 {
		return fmt.Errorf("%s record with synced offset %d, beyond any file", f.typ, s)
	}
	f.synced, f.payload = int64(s), f.payload[syncedSize:]
	return nil
}

// segmentFormat is the format version named by a segment record, or 0 when
// f is not one (replay reports that).
func segmentFormat(f frame) uint32 {
	if f.typ != typeSegment || len(f.payload) != segmentPayloadSize {
		return 0
	}
	return binary.LittleEndian.Uint32(f.payload[8:12])
}

func padding(n int) int { return (frameAlign - n%frameAlign) % frameAlign }

// frameSize is the number of bytes a frame with an n-byte payload takes.
func frameSize(n int) int { return headerSize + n + padding(n) }

// frameCRC computes the CRC-32C of a framed record: the length field followed
// by everything from the type byte to the end of the payload.
func frameCRC(b []byte, n int) uint32 {
	c := crc32.Update(0, castagnoli, b[0:4])
	return crc32.Update(c, castagnoli, b[8:headerSize+n])
}

// appendFrame appends one frame holding an n-byte body to buf. fill must
// write exactly the n body bytes into the slice it is given.
func appendFrame(buf []byte, typ recordType, back uint32, n int, fill func([]byte) error) ([]byte, error) {
	if n > maxBodyBytes {
		return buf, fmt.Errorf("%w: %s body of %d bytes, the limit is %d", ErrTooLarge, typ, n, maxBodyBytes)
	}
	start := len(buf)
	total := frameSize(n)
	buf = grow(buf, total)
	b := buf[start : start+total]
	clear(b)
	binary.LittleEndian.PutUint32(b[0:4], uint32(n))
	b[8] = byte(typ)
	binary.LittleEndian.PutUint32(b[12:16], back)
	if err := fill(b[headerSize : headerSize+n]); err != nil {
		return buf[:start], err
	}
	binary.LittleEndian.PutUint32(b[4:8], frameCRC(b, n))
	return buf, nil
}

// grow extends buf by n bytes, reusing its capacity when it can.
func grow(buf []byte, n int) []byte {
	if cap(buf)-len(buf) < n {
		nb := make([]byte, len(buf), 2*cap(buf)+n)
		copy(nb, buf)
		buf = nb
	}
	return buf[:len(buf)+n]
}

// decodeFrame decodes the frame at the start of b, which holds the bytes
// from the frame's offset to (at most) the end of its file. It never reads
// past b and never allocates.
func decodeFrame(b []byte) (frame, error) {
	if len(b) < headerSize {
		if isZero(b) {
			return frame{}, errZeroHeader
		}
		return frame{}, errShort
	}
	if isZero(b[:headerSize]) {
		return frame{}, errZeroHeader
	}
	n64 := uint64(binary.LittleEndian.Uint32(b[0:4]))
	if n64 > maxBodyBytes {
		return frame{}, errLength
	}
	n := int(n64)
	total := frameSize(n)
	if total > len(b) {
		return frame{}, errShort
	}
	if binary.LittleEndian.Uint32(b[4:8]) != frameCRC(b, n) {
		return frame{}, errCRC
	}
	if b[9] != 0 || b[10] != 0 || b[11] != 0 {
		return frame{}, errReserved
	}
	typ := recordType(b[8])
	if typ < typeSegment || typ > typeSnapshot {
		return frame{}, errType
	}
	if !isZero(b[headerSize+n : total]) {
		return frame{}, errPadding
	}
	return frame{
		typ:     typ,
		back:    binary.LittleEndian.Uint32(b[12:16]),
		payload: b[headerSize : headerSize+n],
		size:    int64(total),
	}, nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// record is a decoded payload. Only the field that matches typ is set. It
// owns its memory (nothing aliases the decode buffer).
type record struct {
	typ      recordType
	seq      uint64 // typeSegment
	format   uint32 // typeSegment
	metadata []byte // typeMetadata
	hs       raftpb.HardState
	ent      raftpb.Entry
	snapMode byte // typeSnapshot
	snap     raftpb.SnapshotMetadata
}

// decodePayload decodes the payload of a frame whose CRC matched.
func decodePayload(f frame) (record, error) {
	r := record{typ: f.typ}
	p := f.payload
	switch f.typ {
	case typeSegment:
		if len(p) != segmentPayloadSize {
			return r, fmt.Errorf("segment record of %d bytes, want %d", len(p), segmentPayloadSize)
		}
		if !bytes.Equal(p[0:8], segmentMagic[:]) {
			return r, fmt.Errorf("segment record without the %q magic", segmentMagic[:])
		}
		r.format = binary.LittleEndian.Uint32(p[8:12])
		if r.format != formatV1 && r.format != formatVersion {
			return r, fmt.Errorf("format version %d, this build reads versions %d and %d", r.format, formatV1, formatVersion)
		}
		if !isZero(p[12:16]) {
			return r, errors.New("segment record with non-zero reserved bytes")
		}
		r.seq = binary.LittleEndian.Uint64(p[16:24])
	case typeMetadata:
		r.metadata = bytes.Clone(p)
		if r.metadata == nil {
			r.metadata = []byte{}
		}
	case typeHardState:
		if err := r.hs.Unmarshal(p); err != nil {
			return r, fmt.Errorf("hardstate record: %v", err)
		}
	case typeEntry:
		if err := r.ent.Unmarshal(p); err != nil {
			return r, fmt.Errorf("entry record: %v", err)
		}
	case typeSnapshot:
		if len(p) < 1 || (p[0] != snapKeep && p[0] != snapReplace) {
			return r, errors.New("snapshot record with an unknown mode")
		}
		r.snapMode = p[0]
		if err := r.snap.Unmarshal(p[1:]); err != nil {
			return r, fmt.Errorf("snapshot record: %v", err)
		}
	default:
		return r, errType
	}
	return r, nil
}

// The append* functions add one framed record to a batch being built in buf.
// back is the offset of the new frame within its batch, which is len(buf)
// when buf holds exactly one batch. synced is the offset in the segment up
// to which every byte is durable as the batch is written (0 in a segment
// head, written before anything in its file is durable).

// appendSegment writes the segment record, which has no synced offset in
// any format, so that every version can read which format a segment is in.
func appendSegment(buf []byte, seq uint64) ([]byte, error) {
	return appendFrame(buf, typeSegment, uint32(len(buf)), segmentPayloadSize, func(p []byte) error {
		copy(p[0:8], segmentMagic[:])
		binary.LittleEndian.PutUint32(p[8:12], formatVersion)
		binary.LittleEndian.PutUint64(p[16:24], seq)
		return nil
	})
}

// appendRecord appends a format 2 record: the synced offset, then the n
// payload bytes that fill writes.
func appendRecord(buf []byte, typ recordType, synced int64, n int, fill func([]byte) error) ([]byte, error) {
	if n > MaxRecordBytes {
		return buf, fmt.Errorf("%w: %s payload of %d bytes, the limit is %d", ErrTooLarge, typ, n, MaxRecordBytes)
	}
	return appendFrame(buf, typ, uint32(len(buf)), syncedSize+n, func(b []byte) error {
		binary.LittleEndian.PutUint64(b, uint64(synced))
		return fill(b[syncedSize:])
	})
}

func appendMetadata(buf []byte, synced int64, md []byte) ([]byte, error) {
	return appendRecord(buf, typeMetadata, synced, len(md), func(p []byte) error {
		copy(p, md)
		return nil
	})
}

func appendHardState(buf []byte, synced int64, hs *raftpb.HardState) ([]byte, error) {
	return appendRecord(buf, typeHardState, synced, hs.Size(), func(p []byte) error {
		_, err := hs.MarshalTo(p)
		return err
	})
}

func appendEntry(buf []byte, synced int64, e *raftpb.Entry) ([]byte, error) {
	return appendRecord(buf, typeEntry, synced, e.Size(), func(p []byte) error {
		_, err := e.MarshalTo(p)
		return err
	})
}

func appendSnapshot(buf []byte, synced int64, mode byte, md *raftpb.SnapshotMetadata) ([]byte, error) {
	return appendRecord(buf, typeSnapshot, synced, 1+md.Size(), func(p []byte) error {
		p[0] = mode
		_, err := md.MarshalTo(p[1:])
		return err
	})
}
