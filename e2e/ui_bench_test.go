package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// BenchmarkDashboard100k measures the dashboard over 100,000 keys under one
// prefix (/big/), in chromium: each iteration loads the page anew (after
// about:blank; the browser has shown the page once before the clock starts,
// so its own start is not counted, and it revalidates the files), deep-linked
// to a key under /big/, so that the tree opens that prefix. Reported, in
// milliseconds from the start of the navigation: first-paint (the page's
// first contentful paint) and tree-open (the first 100 children of /big/
// on screen); next-page is the time from a click on "more…" to 200
// children. scripts/bench-ui.sh runs it; figures in docs/performance.md.
func BenchmarkDashboard100k(b *testing.B) {
	m := startMember(b, b.TempDir())
	load := exec.Command(filepath.Join(binDir, "cairn-bench"), "put", "--endpoints", m.url, "--clients", "32",
		"--total", "100000", "--key-space-size", "100000", "--sequential-keys", "--prefix", "/big/", "--val-size", "64")
	if out, err := load.CombinedOutput(); err != nil {
		b.Fatalf("loading 100k keys: %v\n%s", err, out)
	}
	br := newBrowser(b, m.url)
	children := `document.querySelectorAll('[data-key^="/big/"]').length`
	var paint, open, next float64
	br.open("#/keys") // a browser's first page pays for its start: not measured
	br.when("the tree", `document.querySelector('.tree [role=treeitem]') !== null`)
	n := 0.0
	for b.Loop() { // b.Loop: the 100k keys are loaded once, not once per b.N
		n++
		br.run("a blank page", chromedp.Navigate("about:blank"))
		br.open("#/key//big/00000000")
		open += br.when("the tree opens /big/", children+` >= 100`)
		paint += eval[float64](br, `performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1`)
		start := eval[float64](br, `performance.now()`)
		br.run("more", clickCSS(`.more`))
		next += br.when("the next page", children+` >= 200`) - start
	}
	b.ReportMetric(paint/n, "ms-first-paint")
	b.ReportMetric(open/n, "ms-tree-open")
	b.ReportMetric(next/n, "ms-next-page")
	br.checkClean()
}
