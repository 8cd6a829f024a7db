package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"go.etcd.io/raft/v3/raftpb"
)

// MaxRecordBytes is the largest payload one record may carry: 128 MiB. Save
// refuses a larger entry with ErrTooLarge, and the decoder treats a larger
// length field as damage, so garbage never makes replay allocate more.
const MaxRecordBytes = 128 << 20

const (
	headerSize = 16 // length, CRC, type, 3 reserved bytes, back distance
	frameAlign = 8  // every frame starts at a multiple of 8 in its file
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

// formatVersion is the on-disk format version in every segment record.
const formatVersion = 1

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
	typ     recordType
	back    uint32 // bytes from the start of this frame's batch to the frame
	payload []byte // aliases the decode buffer
	size    int64  // header + payload + padding
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

// appendFrame appends one frame holding an n-byte payload to buf. fill must
// write exactly the n payload bytes into the slice it is given.
func appendFrame(buf []byte, typ recordType, back uint32, n int, fill func([]byte) error) ([]byte, error) {
	if n > MaxRecordBytes {
		return buf, fmt.Errorf("%w: %s payload of %d bytes, the limit is %d", ErrTooLarge, typ, n, MaxRecordBytes)
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
	if n64 > MaxRecordBytes {
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
		if v := binary.LittleEndian.Uint32(p[8:12]); v != formatVersion {
			return r, fmt.Errorf("format version %d, this build reads version %d", v, formatVersion)
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
// when buf holds exactly one batch.

func appendSegment(buf []byte, seq uint64) ([]byte, error) {
	return appendFrame(buf, typeSegment, uint32(len(buf)), segmentPayloadSize, func(p []byte) error {
		copy(p[0:8], segmentMagic[:])
		binary.LittleEndian.PutUint32(p[8:12], formatVersion)
		binary.LittleEndian.PutUint64(p[16:24], seq)
		return nil
	})
}

func appendMetadata(buf, md []byte) ([]byte, error) {
	return appendFrame(buf, typeMetadata, uint32(len(buf)), len(md), func(p []byte) error {
		copy(p, md)
		return nil
	})
}

func appendHardState(buf []byte, hs *raftpb.HardState) ([]byte, error) {
	return appendFrame(buf, typeHardState, uint32(len(buf)), hs.Size(), func(p []byte) error {
		_, err := hs.MarshalTo(p)
		return err
	})
}

func appendEntry(buf []byte, e *raftpb.Entry) ([]byte, error) {
	return appendFrame(buf, typeEntry, uint32(len(buf)), e.Size(), func(p []byte) error {
		_, err := e.MarshalTo(p)
		return err
	})
}

func appendSnapshot(buf []byte, mode byte, md *raftpb.SnapshotMetadata) ([]byte, error) {
	return appendFrame(buf, typeSnapshot, uint32(len(buf)), 1+md.Size(), func(p []byte) error {
		p[0] = mode
		_, err := md.MarshalTo(p[1:])
		return err
	})
}
