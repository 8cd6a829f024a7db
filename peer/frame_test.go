package peer

import (
	"bytes"
	"testing"

	"go.etcd.io/raft/v3/raftpb"
)

// TestChunkExamples checks the chunks the package doc shows: a keepalive,
// and one write of one zero heartbeat (24 bytes: a 4-byte length and 20 bytes
// of message).
func TestChunkExamples(t *testing.T) {
	keepalive := endChunk(append(startChunk(nil), 0, 0, 0, 0))
	if want := []byte("00000004\r\n\x00\x00\x00\x00\r\n"); !bytes.Equal(keepalive, want) {
		t.Errorf("keepalive chunk %q, want %q", keepalive, want)
	}
	hb := raftpb.Message{Type: raftpb.MsgHeartbeat}
	if n := hb.Size(); n != 20 {
		t.Fatalf("the example heartbeat is %d bytes, the doc says 20", n)
	}
	chunk := endChunk(appendFrame(startChunk(nil), &hb))
	if !bytes.HasPrefix(chunk, []byte("00000018\r\n\x00\x00\x00\x14")) || !bytes.HasSuffix(chunk, []byte("\r\n")) || len(chunk) != 10+24+2 {
		t.Errorf("heartbeat chunk %q", chunk)
	}
}
