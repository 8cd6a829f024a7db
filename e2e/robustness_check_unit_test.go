package e2e

import (
	"strings"
	"testing"
	"time"
)

// The watch and history checks catch what they must, on made-up logs.
func TestRobustnessChecks(t *testing.T) {
	put := func(rev int64, key, value string) wevent { return wevent{rev: rev, key: key, value: value} }
	del := func(rev int64, key string) wevent { return wevent{rev: rev, key: key, del: true} }
	// Revisions 2..6: a put, a two-key transaction, a delete, a put, a
	// put outside the v2 waiter's directory /d.
	good := []wevent{put(2, "/d/a", "1"), put(3, "/d/m0", "x"), put(3, "/d/m1", "x"), del(4, "/d/a"), put(5, "/d/b", "2"), put(6, "/x", "3")}
	acks := []ackedWrite{{2, []string{"/d/a"}, "1"}, {3, []string{"/d/m0", "/d/m1"}, "x"}, {4, []string{"/d/a"}, ""}}
	ref, _ := byRevision(good)
	logOf := func(resps ...[]wevent) *watchLog { return &watchLog{name: "w", resps: resps} }

	if bad := checkHistory("m", good, 2, 6, acks); len(bad) > 0 {
		t.Fatalf("a good history: %v", bad)
	}
	if bad := checkV3Log(logOf(good[:1], good[1:3], good[3:]), ref, 2, 6); len(bad) > 0 {
		t.Fatalf("a good watch log: %v", bad)
	}
	if bad := checkV2Log(logOf(good[:1], good[2:3], good[3:4], good[4:5]), ref, "/d", 2, 6); len(bad) > 0 {
		t.Fatalf("a good v2 log: %v", bad)
	}
	cases := []struct {
		name, want string
		bad        []string
	}{
		{"history gap", "missing (gap): [3]", checkHistory("m", append(good[:1:1], good[3:]...), 2, 6, nil)},
		{"history short", "stopped at revision 4, 2 revisions short of 6", checkHistory("m", good[:4], 2, 6, nil)},
		{"history lost an ack", "acknowledged put /d/a=1", checkHistory("m", good[1:], 2, 6, acks)},
		{"history with another value", "acknowledged put /d/a=1",
			checkHistory("m", append([]wevent{put(2, "/d/a", "9")}, good[1:]...), 2, 6, acks)},
		{"history out of order", "revision 3 after 4", checkHistory("m", []wevent{good[0], good[3], good[1], good[2], good[4], good[5]}, 2, 6, nil)},
		{"history twice one key", "two events on /d/a", checkHistory("m", append([]wevent{good[0], good[0]}, good[1:]...), 2, 6, nil)},
		{"watch gap", "missing (gap): [3]", checkV3Log(logOf(good[:1], good[3:]), ref, 2, 6)},
		{"watch split revision", "split", checkV3Log(logOf(good[:2], good[2:]), ref, 2, 6)},
		{"watch duplicate", "duplicate", checkV3Log(logOf(good[:3], good[2:]), ref, 2, 6)},
		{"watch reordered", "duplicate, reordered", checkV3Log(logOf(good[3:], good[:3]), ref, 2, 6)},
		{"watch other event", "the member history", checkV3Log(logOf([]wevent{put(2, "/d/a", "7")}, good[1:]), ref, 2, 6)},
		{"v2 gap", "missing (gap): [3]", checkV2Log(logOf(good[:1], good[3:4], good[4:5]), ref, "/d", 2, 6)},
		{"v2 short", "stopped at revision 4", checkV2Log(logOf(good[:1], good[1:2], good[3:4]), ref, "/d", 2, 6)},
		{"v2 repeat", "revision 2 after 2", checkV2Log(logOf(good[:1], good[:1], good[1:2], good[3:4], good[4:5]), ref, "/d", 2, 6)},
		{"v2 other event", "the member history", checkV2Log(logOf([]wevent{put(2, "/d/b", "1")}, good[1:2], good[3:4], good[4:5]), ref, "/d", 2, 6)},
		{"v2 event outside its directory", "the member history", checkV2Log(logOf(good[:1], good[1:2], good[3:4], good[4:5], good[5:]), ref, "/d", 2, 6)},
	}
	for _, c := range cases {
		if !strings.Contains(strings.Join(c.bad, "\n"), c.want) {
			t.Errorf("%s: got %q, want a violation with %q", c.name, c.bad, c.want)
		}
	}
}

// A reconnection reason with a newline or a '|' (an error body) stays in
// its cell: each scenario is one row of the summary's table.
func TestSummaryRowsAreOneLine(t *testing.T) {
	r := &scenarioResult{Seed: 7, Reconnects: []string{"v2-wait 2, 1x HTTP 500 {\"cause\":\"a\nb|c\"}"}, Faults: []string{"1.0s crash: x"}}
	var rows int
	for _, line := range strings.Split(summarize([]*scenarioResult{r}, time.Second), "\n") {
		if strings.HasPrefix(line, "| 7 |") {
			rows++
			if n := strings.Count(line, " | "); n != 9 {
				t.Errorf("row with %d cell separators, want 9: %s", n, line)
			}
		}
	}
	if rows != 1 {
		t.Errorf("%d rows for the scenario, want 1", rows)
	}
}
