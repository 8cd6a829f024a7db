package e2e

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// summarize writes the results of a run as markdown: totals, the faults
// injected by kind, one line per scenario, then every violation and
// harness failure with its seed.
func summarize(results []*scenarioResult, traffic time.Duration) string {
	var b strings.Builder
	var took time.Duration
	var ops, unknown, acks, bad, failed int
	kinds := map[string]int{}
	crashes := map[string][2]int{} // by point: armed, crashed there
	for _, r := range results {
		took += r.Took
		ops, unknown, acks = ops+r.Ops, unknown+r.Unknown, acks+r.Acks
		if len(r.Violations) > 0 {
			bad++
		}
		if r.Error != "" {
			failed++
		}
		for _, f := range r.Faults {
			if _, rest, ok := strings.Cut(f, " "); ok {
				kind, _, _ := strings.Cut(rest, ":")
				kinds[kind]++
				if _, armed, ok := strings.Cut(f, " restart it with "); ok && kind == "crash" {
					point, _, _ := strings.Cut(armed, "=")
					c := crashes[point]
					c[0]++
					if strings.Contains(armed, ": crashed there") {
						c[1]++
					}
					crashes[point] = c
				}
			}
		}
	}
	fmt.Fprintf(&b, "# cairn robustness run\n\n")
	if len(results) > 0 {
		fmt.Fprintf(&b, "Seeds %d..%d, %v of faults under traffic per scenario, %v in all.\n\n",
			results[0].Seed, results[len(results)-1].Seed, traffic, took.Round(time.Second))
	}
	fmt.Fprintf(&b, "- scenarios: %d; with violations: %d; harness failures: %d\n", len(results), bad, failed)
	fmt.Fprintf(&b, "- client operations: %d succeeded, %d with unknown outcome; %d acknowledged writes\n", ops, unknown, acks)
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	fmt.Fprintf(&b, "- faults injected:")
	for _, k := range names {
		fmt.Fprintf(&b, " %s %d,", k, kinds[k])
	}
	if len(crashes) > 0 {
		fmt.Fprintf(&b, "\n- crash points (armed, crashed there):")
		for _, p := range slices.Sorted(maps.Keys(crashes)) {
			fmt.Fprintf(&b, " %s %d/%d,", p, crashes[p][0], crashes[p][1])
		}
	}
	fmt.Fprintf(&b, "\n\n| seed | took | flags | ops | unknown | acks | revisions | watch connects | faults | result |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		result := "ok"
		switch {
		case len(r.Violations) > 0:
			result = fmt.Sprintf("%d violations", len(r.Violations))
		case r.Error != "":
			result = "harness failure"
		}
		fmt.Fprintf(&b, "| %d | %v | %s | %d | %d | %d | %d | %s | %s | %s |\n", r.Seed, r.Took, strings.Join(r.Flags, " "),
			r.Ops, r.Unknown, r.Acks, r.Revisions, cell(strings.Join(r.Reconnects, ", ")), cell(strings.Join(r.Faults, "; ")), result)
	}
	for _, r := range results {
		for _, v := range r.Violations {
			fmt.Fprintf(&b, "\nviolation, seed %d: %s\n", r.Seed, v)
		}
		if r.Error != "" {
			fmt.Fprintf(&b, "\nharness failure, seed %d: %s\n", r.Seed, firstLine(r.Error))
		}
	}
	return b.String()
}

// cell makes s one markdown table cell: a reconnection's reason may hold
// a newline (an error body) or a '|', which would break the row.
func cell(s string) string {
	return strings.NewReplacer("\n", " ", "|", "\\|").Replace(s)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
