package peer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"go.etcd.io/raft/v3/raftpb"
)

// appendFrame appends m as one frame.
func appendFrame(buf []byte, m *raftpb.Message) []byte {
	n := m.Size()
	start := len(buf)
	buf = append(buf, make([]byte, 4+n)...)
	binary.BigEndian.PutUint32(buf[start:], uint32(n))
	if _, err := m.MarshalTo(buf[start+4:]); err != nil {
		panic(fmt.Sprintf("marshal raft message: %v", err)) // sizes come from Size
	}
	return buf
}

// readFrame reads one frame into *buf and returns its payload (empty for a
// keepalive).
func readFrame(r *bufio.Reader, buf *[]byte) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxFrameBytes {
		return nil, fmt.Errorf("frame of %d bytes exceeds the limit of %d", n, maxFrameBytes)
	}
	if cap(*buf) < int(n) {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// writeBytesFrame writes b as one frame (used for the cluster state of a
// snapshot).
func writeBytesFrame(w io.Writer, b []byte) error {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(len(b)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// chunkHead is the room left before a write's frames for its chunk size:
// eight hex digits (leading zeros are allowed) and CRLF.
const chunkHead = 10

// startChunk empties buf and leaves room for the chunk size.
func startChunk(buf []byte) []byte {
	return append(buf[:0], make([]byte, chunkHead)...)
}

// endChunk fills in the size of the chunk begun by startChunk and ends it.
func endChunk(buf []byte) []byte {
	n := len(buf) - chunkHead
	const hex = "0123456789abcdef"
	for i := 7; i >= 0; i-- {
		buf[i] = hex[n&0xf]
		n >>= 4
	}
	buf[8], buf[9] = '\r', '\n'
	return append(buf, '\r', '\n')
}
