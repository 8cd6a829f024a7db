package e2e

import (
	"strings"
	"testing"
)

// The watch and history checks catch what they must, on made-up logs.
func TestRobustnessChecks(t *testing.T) {
	put := func(rev int64, key, value string) wevent { return wevent{rev: rev, key: key, value: value} }
	del := func(rev int64, key string) wevent { return wevent{rev: rev, key: key, del: true} }
	// Revisions 2..5: a put, a two-key transaction, a delete, a put.
	good := []wevent{put(2, "a", "1"), put(3, "m0", "x"), put(3, "m1", "x"), del(4, "a"), put(5, "b", "2")}
	acks := []ackedWrite{{2, []string{"a"}, "1"}, {3, []string{"m0", "m1"}, "x"}, {4, []string{"a"}, ""}}
	ref, _ := byRevision(good)
	logOf := func(resps ...[]wevent) *watchLog { return &watchLog{name: "w", resps: resps} }

	if bad := checkHistory("m", good, 2, 5, acks); len(bad) > 0 {
		t.Fatalf("a good history: %v", bad)
	}
	if bad := checkV3Log(logOf(good[:1], good[1:3], good[3:]), ref, 2, 5); len(bad) > 0 {
		t.Fatalf("a good watch log: %v", bad)
	}
	if bad := checkV2Log(logOf(good[:1], good[2:3], good[3:4], good[4:]), ref, 2, 5); len(bad) > 0 {
		t.Fatalf("a good v2 log: %v", bad)
	}
	cases := []struct {
		name, want string
		bad        []string
	}{
		{"history gap", "missing", checkHistory("m", append(good[:1:1], good[3:]...), 2, 5, nil)},
		{"history lost an ack", "acknowledged put a=1", checkHistory("m", good[1:], 2, 5, acks)},
		{"history with another value", "acknowledged put a=1",
			checkHistory("m", append([]wevent{put(2, "a", "9")}, good[1:]...), 2, 5, acks)},
		{"history out of order", "revision 3 after 4", checkHistory("m", []wevent{good[0], good[3], good[1], good[2], good[4]}, 2, 5, nil)},
		{"history twice one key", "two events on a", checkHistory("m", append([]wevent{good[0], good[0]}, good[1:]...), 2, 5, nil)},
		{"watch gap", "missing", checkV3Log(logOf(good[:1], good[3:]), ref, 2, 5)},
		{"watch split revision", "split", checkV3Log(logOf(good[:2], good[2:]), ref, 2, 5)},
		{"watch duplicate", "duplicate", checkV3Log(logOf(good[:3], good[2:]), ref, 2, 5)},
		{"watch reordered", "duplicate, reordered", checkV3Log(logOf(good[3:], good[:3]), ref, 2, 5)},
		{"watch other event", "the member history", checkV3Log(logOf([]wevent{put(2, "a", "7")}, good[1:]), ref, 2, 5)},
		{"v2 gap", "missing", checkV2Log(logOf(good[:1], good[3:4], good[4:]), ref, 2, 5)},
		{"v2 repeat", "revision 2 after 2", checkV2Log(logOf(good[:1], good[:1], good[1:2], good[3:4], good[4:]), ref, 2, 5)},
		{"v2 other event", "the member history", checkV2Log(logOf([]wevent{put(2, "b", "1")}, good[1:2], good[3:4], good[4:]), ref, 2, 5)},
	}
	for _, c := range cases {
		if !strings.Contains(strings.Join(c.bad, "\n"), c.want) {
			t.Errorf("%s: got %q, want a violation with %q", c.name, c.bad, c.want)
		}
	}
}
