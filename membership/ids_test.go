package membership

import (
	"testing"
)

func TestParseInitialCluster(t *testing.T) {
	peers, err := ParseInitialCluster("a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,a=http://10.0.1.1:2380")
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 2 || peers[0].Name != "a" || len(peers[0].URLs) != 2 || peers[1].URLs[0] != "http://10.0.0.2:2380" {
		t.Fatalf("got %+v", peers)
	}
	for _, bad := range []string{"", "a", "=http://x:1", "a="} {
		if _, err := ParseInitialCluster(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMemberIDsDependOnURLsAndToken(t *testing.T) {
	a := MemberID([]string{"http://h:2380"}, "t1")
	if a != MemberID([]string{"http://h:2380"}, "t1") {
		t.Fatal("not deterministic")
	}
	if a == MemberID([]string{"http://h:2380"}, "t2") {
		t.Fatal("token does not change the id")
	}
	if MemberID([]string{"http://a:1", "http://b:1"}, "t") != MemberID([]string{"http://b:1", "http://a:1"}, "t") {
		t.Fatal("URL order changes the id")
	}
}
