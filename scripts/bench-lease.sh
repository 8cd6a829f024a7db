#!/usr/bin/env bash
# bench-lease.sh: the lease workloads of cairn-bench against cairn and etcd 3.4 on this machine,
# same disk, same run, alternating targets; every point on a fresh member with an empty data dir.
#
#   scripts/bench-lease.sh [rounds]
#
# Points: lease-grant at 1 and 64 clients; lease-keepalive of 10000 leases at 64 clients; and
# lease-expiry: 100000 leases with a key each expire (TTL 120s, time enough to grant them all and
# attach their keys) while 16 writers put at 500/s.
# Environment: GRANTS (requests per grant point at 64 clients, default 20000; a quarter at 1),
# KEEPALIVES (default 50000), LEASES (default 100000), POINTS (the points to run, default all:
# "grant-1 grant-64 keepalive-64 expiry"). Prints one JSON report per run on lines
# prefixed "RESULT", then markdown tables of medians.
set -euo pipefail
rounds=${1:-2}
GRANTS=${GRANTS:-20000}; KEEPALIVES=${KEEPALIVES:-50000}; LEASES=${LEASES:-100000}
POINTS=${POINTS:-"grant-1 grant-64 keepalive-64 expiry"}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-lease.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn && go build -o "$work/cairn-bench" ./cmd/cairn-bench)
command -v etcd >/dev/null || { echo "etcd not installed: apt-get install etcd-server" >&2; exit 1; }

port=25500
start_target() { # $1 = etcd|cairn; sets url and pid
  port=$((port + 2)); local dir="$work/data-$1-$port"
  url="http://127.0.0.1:$port"
  if [ "$1" = etcd ]; then
    etcd --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      --initial-cluster "default=http://127.0.0.1:$((port + 1))" >"$work/$1.log" 2>&1 &
  else
    "$work/cairn" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      >"$work/$1.log" 2>&1 &
  fi
  pid=$!; pids+=("$pid")
  for _ in $(seq 100); do
    curl -sf -X POST "$url/v3/lease/keepalive" -d '{"ID":1}' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not start" >&2; cat "$work/$1.log" >&2; exit 1
}

point() { # $1 = name of the point, rest = cairn-bench arguments; one fresh member per target
  local name=$1; shift
  case " $POINTS " in *" $name "*) ;; *) return 0 ;; esac
  for target in etcd cairn; do
    start_target "$target"
    out=$("$work/cairn-bench" "$@" --endpoints "$url" --output json)
    echo "RESULT $target $name $out"
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
}

for r in $(seq "$rounds"); do
  point grant-1 lease-grant --clients 1 --total $((GRANTS / 4)) --lease-ttl 600
  point grant-64 lease-grant --clients 64 --total "$GRANTS" --lease-ttl 600
  point keepalive-64 lease-keepalive --clients 64 --total "$KEEPALIVES" --key-space-size 10000 \
    --key-size 5 --sequential-keys --lease-ttl 600
  point expiry lease-expiry --clients 16 --rate 500 --total 0 --duration 10m --leases "$LEASES" \
    --lease-ttl 120 --key-space-size 10000 --val-size 256
done | tee "$work/results"

python3 - "$work/results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "): continue
    _, target, name, js = line.split(" ", 3)
    rows.setdefault((target, name), []).append(json.loads(js))
med = lambda rs, f: statistics.median(f(r) for r in rs)
print("\n| point | etcd ops/s | cairn ops/s | etcd p50 / p99 ms | cairn p50 / p99 ms | failed (etcd/cairn) |")
print("|---|---|---|---|---|---|")
for name in ("grant-1", "grant-64", "keepalive-64"):
    e, k = rows.get(("etcd", name), []), rows.get(("cairn", name), [])
    if not e or not k: continue
    print(f'| {name} | {med(e, lambda r: r["ops_per_second"]):.0f} | {med(k, lambda r: r["ops_per_second"]):.0f} | '
          f'{med(e, lambda r: r["latency_ms"]["p50"]):.2f} / {med(e, lambda r: r["latency_ms"]["p99"]):.2f} | '
          f'{med(k, lambda r: r["latency_ms"]["p50"]):.2f} / {med(k, lambda r: r["latency_ms"]["p99"]):.2f} | '
          f'{sum(r["failed"] for r in e)}/{sum(r["failed"] for r in k)} |')
print("\n| lease-expiry | expiry s | keys/s | put p99 before ms | put p99 during ms | put p99 after ms | put max during ms | failed |")
print("|---|---|---|---|---|---|---|---|")
for target in ("etcd", "cairn"):
    rs = rows.get((target, "expiry"), [])
    if not rs: continue
    le = lambda f: med(rs, lambda r: f(r["lease_expiry"]))
    print(f'| {target} | {le(lambda x: x["expiry_seconds"]):.1f} | {le(lambda x: x["keys_per_second"]):.0f} | '
          f'{le(lambda x: x["before"]["latency_ms"]["p99"]):.2f} | {le(lambda x: x["during"]["latency_ms"]["p99"]):.2f} | '
          f'{le(lambda x: x["after"]["latency_ms"]["p99"]):.2f} | {le(lambda x: x["during"]["latency_ms"]["max"]):.2f} | '
          f'{sum(r["failed"] for r in rs)} |')
PY
