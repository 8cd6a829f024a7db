package server

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	json "github.com/goccy/go-json"
)

// The member's other files, pinned as the raft entries are
// (entry_golden_test.go): the WAL metadata record and cluster.json (also
// the <index>.cluster.json of a received snapshot).

func TestWALMetadataGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		md   walMetadata
		want string
	}{
		{"set", walMetadata{MemberID: 0x1234, ClusterID: 0xfedcba9876543210, Name: "m1"},
			`{"member_id": 4660, "cluster_id": 18364758544493064720, "name": "m1"}`},
		{"zero", walMetadata{}, `{"member_id": 0, "cluster_id": 0, "name": ""}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.Marshal(c.md)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "WAL metadata", got, c.want)
			var dec walMetadata
			if err := json.Unmarshal(goldenBytes(t, c.want), &dec); err != nil {
				t.Fatal(err)
			}
			if dec != c.md {
				t.Errorf("the golden metadata decodes to %+v, want %+v", dec, c.md)
			}
		})
	}
}

func TestClusterFileGolden(t *testing.T) {
	full := func(dir string) *cluster {
		c := newCluster(dir)
		c.index = 77
		c.members[0x1234] = &member{ID: 0x1234, Name: "m1", PeerURLs: []string{"http://10.0.0.1:2380"},
			ClientURLs: []string{"http://10.0.0.1:2379", "http://10.0.0.1:4001"}}
		c.members[0x99] = &member{ID: 0x99, PeerURLs: []string{"http://10.0.0.9:2380"}, IsLearner: true}
		c.removed[0x5] = true
		c.removed[0x3] = true
		c.alarms = []alarm{{MemberID: 0x1234, Type: "NOSPACE"}, {MemberID: 0x99, Type: "CORRUPT"}}
		return c
	}
	for _, c := range []struct {
		name string
		c    func(dir string) *cluster
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
		{"empty", newCluster, `{"index": 0, "members": null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			want := c.c(dir)
			if err := want.save(); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, "cluster.json"))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "cluster.json", got, c.want)

			dir2 := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir2, "cluster.json"), goldenBytes(t, c.want), 0o600); err != nil {
				t.Fatal(err)
			}
			dec := newCluster(dir2)
			if err := dec.load(); err != nil {
				t.Fatal(err)
			}
			if dec.index != want.index || !reflect.DeepEqual(dec.members, want.members) ||
				!reflect.DeepEqual(dec.removed, want.removed) || !reflect.DeepEqual(dec.alarms, want.alarms) {
				t.Errorf("the golden cluster.json loads as index %d members %v removed %v alarms %v, want %d %v %v %v",
					dec.index, dec.list(), dec.removed, dec.alarms, want.index, want.list(), want.removed, want.alarms)
			}
		})
	}
}
