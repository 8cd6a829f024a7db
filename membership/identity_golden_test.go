package membership

import (
	"testing"

	"github.com/cairnkv/cairn/internal/golden"
	json "github.com/goccy/go-json"
)

// The member's other files, pinned as the raft entries are
// (entry/golden_test.go): the WAL metadata record (cluster.json: package
// membership).

func TestWALMetadataGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		md   Identity
		want string
	}{
		{"set", Identity{MemberID: 0x1234, ClusterID: 0xfedcba9876543210, Name: "m1"},
			`{"member_id": 4660, "cluster_id": 18364758544493064720, "name": "m1"}`},
		{"zero", Identity{}, `{"member_id": 0, "cluster_id": 0, "name": ""}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.md)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "WAL metadata", got, c.want)
			var dec Identity
			if err := json.Unmarshal(golden.Bytes(t, c.want), &dec); err != nil {
				t.Fatal(err)
			}
			if dec != c.md {
				t.Errorf("the golden metadata decodes to %+v, want %+v", dec, c.md)
			}
		})
	}
}
