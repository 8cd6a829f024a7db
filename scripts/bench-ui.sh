#!/usr/bin/env bash
# The dashboard's figures for docs/performance.md: the bundle's size, raw and
# gzipped (the README's budget), then BenchmarkDashboard100k (e2e/): time to
# first paint, to the tree open on a prefix of 100,000 keys, and to its next
# page, in chromium against a real member. Needs chromium (Debian package
# chromium). Usage: scripts/bench-ui.sh [COUNT] (runs of the benchmark, 3; each loads the page 5 times).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-3}"

echo "bundle (web/dist; the first load is app.js, app.css and the chunk app.js imports statically):"
for f in web/dist/*; do
  printf '  %-22s %8d bytes  %8d gzipped (-9)\n' "$(basename "$f")" "$(wc -c <"$f")" "$(gzip -9c "$f" | wc -c)"
done
go test ./web/ -run TestBundleBudget -count 1 -v | grep 'gzipped:'

echo
CAIRN_REQUIRE_TOOLS=1 go test ./e2e/ -run '^$' -bench BenchmarkDashboard100k -benchtime 5x -count "$count" -timeout 30m
