#!/usr/bin/env bash
# robustness.sh: N randomized fault scenarios against a 3-member cairn cluster (the e2e
# robustness suite, e2e/robustness_test.go), each from its own seed.
#
#   scripts/robustness.sh N [seed]     # scenarios seed, seed+1, ..., seed+N-1 (default seed: the clock)
#
# Environment: TRAFFIC (faults under traffic per scenario, default 20s), KINDS (comma-separated fault
# kinds to draw from, e.g. crash,slow-fsync,disk-full; default all), OUT (the summary file, default
# robustness-<seed>.md in the current directory), LOG (the go test log, default OUT with .log).
# Reproduce one scenario: scripts/robustness.sh 1 <its seed>. The fault schedule, the members'
# flags and each client's operations come from the seed; timing does not, so a rare interleaving
# may need a few runs.
set -euo pipefail
n=${1:?usage: scripts/robustness.sh N [seed]}
seed=${2:-$(( $(date +%s) % 1000000000 ))}
TRAFFIC=${TRAFFIC:-20s}
KINDS=${KINDS:-}
OUT=${OUT:-$PWD/robustness-$seed.md}
LOG=${LOG:-${OUT%.md}.log}
root=$(cd "$(dirname "$0")/.." && pwd)
# About a minute per scenario at most, plus room.
timeout=$(( n * 3 + 10 ))m
echo "robustness: $n scenarios from seed $seed, $TRAFFIC each; summary $OUT, log $LOG" >&2
rc=0
(cd "$root" && go test ./e2e/ -run '^TestRobustness$' -count=1 -v -timeout "$timeout" \
  -robustness.scenarios="$n" -robustness.seed="$seed" -robustness.traffic="$TRAFFIC" \
  -robustness.kinds="$KINDS" -robustness.summary="$OUT") >"$LOG" 2>&1 || rc=$?
if [ -f "$OUT" ]; then
  sed -n '1,10p' "$OUT"
else
  echo "no summary written; the end of $LOG:" >&2
  tail -20 "$LOG" >&2
fi
exit $rc
