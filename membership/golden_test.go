package membership

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cairnkv/cairn/internal/golden"
)

// cluster.json (also the <index>.cluster.json of a received snapshot),
// pinned as the raft entries are (server/entry_golden_test.go).

func TestClusterFileGolden(t *testing.T) {
	full := func(dir string) *Cluster {
		c := New(dir)
		c.index = 77
		c.members[0x1234] = &Member{ID: 0x1234, Name: "m1", PeerURLs: []string{"http://10.0.0.1:2380"},
			ClientURLs: []string{"http://10.0.0.1:2379", "http://10.0.0.1:4001"}}
		c.members[0x99] = &Member{ID: 0x99, PeerURLs: []string{"http://10.0.0.9:2380"}, IsLearner: true}
		c.removed[0x5] = true
		c.removed[0x3] = true
		c.alarms = []Alarm{{MemberID: 0x1234, Type: "NOSPACE"}, {MemberID: 0x99, Type: "CORRUPT"}}
		return c
	}
	for _, c := range []struct {
		name string
		c    func(dir string) *Cluster
		want string
	}{
		{"full", full, `{
			"index": 77,
			"members": [
				{"id": 153, "peer_urls": ["http://10.0.0.9:2380"], "is_learner": true},
				{"id": 4660, "name": "m1", "peer_urls": ["http://10.0.0.1:2380"],
				 "client_urls": ["http://10.0.0.1:2379", "http://10.0.0.1:4001"]}],
			"removed": [3, 5],
			"alarms": [{"member_id": 4660, "alarm": "NOSPACE"}, {"member_id": 153, "alarm": "CORRUPT"}]}`},
		{"empty", New, `{"index": 0, "members": null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			want := c.c(dir)
			if err := want.Save(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "cluster.json"))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, "cluster.json", got, c.want)

			dir2 := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir2, "cluster.json"), golden.Bytes(t, c.want), 0o600); err != nil {
				t.Fatal(err)
			}
			dec := New(dir2)
			if err := dec.Load(); err != nil {
				t.Fatal(err)
			}
			if dec.index != want.index || !reflect.DeepEqual(dec.members, want.members) ||
				!reflect.DeepEqual(dec.removed, want.removed) || !reflect.DeepEqual(dec.alarms, want.alarms) {
				t.Errorf("the golden cluster.json loads as index %d members %v removed %v alarms %v, want %d %v %v %v",
					dec.index, dec.List(), dec.removed, dec.alarms, want.index, want.List(), want.removed, want.alarms)
			}
		})
	}
}
