package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The checks of a scenario's watch logs and member histories. Each
// returns violations as sentences (nil: none). Every revision of a
// scenario writes under rbPrefix (nothing else writes), so a complete
// history has events at every revision from..end.

// byRevision groups events by revision, checking that a revision's events
// name each key once.
func byRevision(evs []wevent) (map[int64][]wevent, []string) {
	out := map[int64][]wevent{}
	var bad []string
	for _, ev := range evs {
		for _, o := range out[ev.rev] {
			if o.key == ev.key {
				bad = append(bad, fmt.Sprintf("revision %d has two events on %s", ev.rev, ev.key))
			}
		}
		out[ev.rev] = append(out[ev.rev], ev)
	}
	return out, bad
}

// checkHistory checks a member's history: every revision from..end has
// events (no gap), in order, and every acknowledged write is there, at its
// revision, alone (with the keys of its own transaction only).
func checkHistory(name string, evs []wevent, from, end int64, acks []ackedWrite) []string {
	var bad []string
	for i := 1; i < len(evs); i++ {
		if evs[i].rev < evs[i-1].rev {
			bad = append(bad, fmt.Sprintf("%s: revision %d after %d", name, evs[i].rev, evs[i-1].rev))
			break
		}
	}
	revs, dup := byRevision(evs)
	bad = append(bad, prefixAll(name, dup)...)
	bad = append(bad, gaps(name, revs, span(from, end))...)
	for _, a := range acks {
		want := a.events()
		if got := revs[a.rev]; !sameEvents(got, want) {
			bad = append(bad, fmt.Sprintf("%s: acknowledged %s at revision %d; the history has %v there", name, a, a.rev, got))
		}
	}
	return bad
}

// gaps lists the revisions of want (ascending) that have no event in
// got: a gap below the last revision seen, or the tail never reached (at
// most 5 of each named).
func gaps(name string, got map[int64][]wevent, want []int64) []string {
	var last int64
	for r := range got {
		last = max(last, r)
	}
	var holes, tail []int64
	for _, r := range want {
		switch {
		case len(got[r]) > 0:
		case r < last:
			holes = append(holes, r)
		default:
			tail = append(tail, r)
		}
	}
	var bad []string
	if len(holes) > 0 {
		bad = append(bad, fmt.Sprintf("%s: %d revisions missing (gap): %v", name, len(holes), holes[:min(5, len(holes))]))
	}
	if len(tail) > 0 {
		bad = append(bad, fmt.Sprintf("%s: stopped at revision %d, %d revisions short of %d (it made no progress for 10s, or a minute passed)",
			name, last, len(tail), want[len(want)-1]))
	}
	return bad
}

// span is the revisions from..end.
func span(from, end int64) []int64 {
	var out []int64
	for r := from; r <= end; r++ {
		out = append(out, r)
	}
	return out
}

// checkV3Log checks a v3 watcher against etcd's guarantees, with ref (a
// member's history) as the truth: ordered and unique (each response's
// revisions after the previous response's), atomic (a revision's events in
// one response), reliable and resumable (every revision from..end, each
// with exactly ref's events, across the reconnections).
func checkV3Log(l *watchLog, ref map[int64][]wevent, from, end int64) []string {
	var bad []string
	last := from - 1
	var all []wevent
	for _, resp := range l.resps {
		for i, ev := range resp {
			if i == 0 && ev.rev <= last {
				bad = append(bad, fmt.Sprintf("%s: a response starts at revision %d after one that reached %d (duplicate, reordered or split revision)", l.name, ev.rev, last))
			}
			if i > 0 && ev.rev < resp[i-1].rev {
				bad = append(bad, fmt.Sprintf("%s: revision %d after %d in one response", l.name, ev.rev, resp[i-1].rev))
			}
		}
		last = max(last, resp[len(resp)-1].rev)
		all = append(all, resp...)
	}
	revs, dup := byRevision(all)
	bad = append(bad, prefixAll(l.name, dup)...)
	bad = append(bad, gaps(l.name, revs, span(from, end))...)
	bad = append(bad, differ(l.name, revs, ref, from, end, sameEvents)...)
	return bad
}

// checkV2Log checks a v2 waiter on dir: one event per answer, revisions
// strictly increasing, none of ref's revisions with events under dir
// missed (each wait starts after the last event), each one of ref's
// events under dir at its revision.
func checkV2Log(l *watchLog, ref map[int64][]wevent, dir string, from, end int64) []string {
	under := map[int64][]wevent{}
	var want []int64
	for r := from; r <= end; r++ {
		for _, ev := range ref[r] {
			if strings.HasPrefix(ev.key, dir+"/") {
				under[r] = append(under[r], ev)
			}
		}
		if len(under[r]) > 0 {
			want = append(want, r)
		}
	}
	var bad []string
	revs := map[int64][]wevent{}
	last := from - 1
	for _, resp := range l.resps {
		ev := resp[0]
		if ev.rev <= last {
			bad = append(bad, fmt.Sprintf("%s: revision %d after %d", l.name, ev.rev, last))
		}
		last = max(last, ev.rev)
		revs[ev.rev] = append(revs[ev.rev], ev)
	}
	bad = append(bad, gaps(l.name, revs, want)...)
	oneOf := func(got, want []wevent) bool { return len(got) == 1 && slices.Contains(want, got[0]) }
	return append(bad, differ(l.name, revs, under, from, end, oneOf)...)
}

// differ lists the revisions from..end where got and ref disagree (at most
// 5), by the comparison same.
func differ(name string, got, ref map[int64][]wevent, from, end int64, same func(got, ref []wevent) bool) []string {
	var bad []string
	for r := from; r <= end && len(bad) < 5; r++ {
		if len(got[r]) > 0 && !same(got[r], ref[r]) {
			bad = append(bad, fmt.Sprintf("%s: revision %d has %v, the member history %v", name, r, got[r], ref[r]))
		}
	}
	return bad
}

// sameEvents compares the events of one revision, in any order.
func sameEvents(a, b []wevent) bool {
	if len(a) != len(b) {
		return false
	}
	sorted := func(evs []wevent) []wevent {
		s := slices.Clone(evs)
		sort.Slice(s, func(i, j int) bool { return s[i].key < s[j].key })
		return s
	}
	return slices.Equal(sorted(a), sorted(b))
}

// replay applies a history to an empty key space.
func replay(evs []wevent) map[string]string {
	state := map[string]string{}
	for _, ev := range evs {
		if ev.del {
			delete(state, ev.key)
		} else {
			state[ev.key] = ev.value
		}
	}
	return state
}

func prefixAll(name string, lines []string) []string {
	for i := range lines {
		lines[i] = name + ": " + lines[i]
	}
	return lines
}

// ackedWrite is a write a client saw succeed, and the revision it got.
type ackedWrite struct {
	rev   int64
	keys  []string
	value string // "" for a delete
}

// events is what the write must show as in a history.
func (a ackedWrite) events() []wevent {
	var out []wevent
	for _, k := range a.keys {
		out = append(out, wevent{rev: a.rev, key: k, value: a.value, del: a.value == ""})
	}
	return out
}

func (a ackedWrite) String() string {
	if a.value == "" {
		return "delete " + strings.Join(a.keys, ",")
	}
	return fmt.Sprintf("put %s=%s", strings.Join(a.keys, ","), a.value)
}
