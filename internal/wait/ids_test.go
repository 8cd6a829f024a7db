package wait

import (
	"testing"
	"time"
)

func TestRequestIDsAreUniqueAndCarryTheMember(t *testing.T) {
	g := NewIDGenerator(0xabcd1234, time.Now())
	seen := map[uint64]bool{}
	for i := 0; i < 100000; i++ {
		id := g.Next()
		if seen[id] {
			t.Fatalf("id %x repeated", id)
		}
		seen[id] = true
		if id>>48 != 0x1234 {
			t.Fatalf("id %x does not carry the member's low 16 bits", id)
		}
	}
}
