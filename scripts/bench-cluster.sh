#!/usr/bin/env bash
# bench-cluster.sh: 3-member cairn vs 3-member etcd 3.4 (Debian's etcd-server) on loopback, same
# machine, same run, alternating targets; every cluster starts fresh with empty data dirs.
#
#   scripts/bench-cluster.sh put [rounds] [clients...]   # puts spread over the 3 members
#   scripts/bench-cluster.sh failover [kills]            # kill -9 the leader -> first acknowledged write
#   scripts/bench-cluster.sh inflight [kills]            # kill -9 the leader, then one write through a follower -> its answer
#   scripts/bench-cluster.sh catchup [writes]            # a member stopped for N writes -> caught up
#
# Environment: TOTAL (puts per point, default 20000), VAL_SIZE (256), KEYS (100000).
# Each measurement prints a line "RESULT <target> <what> <value...>"; a summary follows.
set -euo pipefail
mode=${1:-put}; shift || true
TOTAL=${TOTAL:-20000}; VAL_SIZE=${VAL_SIZE:-256}; KEYS=${KEYS:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-cluster.XXXXXX)
declare -A pids
# Every member started is recorded in $work/pids (the measuring loops run in
# subshells), so an interrupted run leaves nothing behind.
cleanup() { [ -f "$work/pids" ] && while read -r p; do kill -9 "$p" 2>/dev/null || true; done <"$work/pids"; rm -rf "$work"; }
trap cleanup EXIT
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn && go build -o "$work/cairn-bench" ./cmd/cairn-bench)
command -v etcd >/dev/null || { echo "etcd not installed: apt-get install etcd-server" >&2; exit 1; }

base=24600
client_url() { echo "http://127.0.0.1:$((base + 10 * $1))"; }
peer_url() { echo "http://127.0.0.1:$((base + 10 * $1 + 1))"; }
initial() { echo "m0=$(peer_url 0),m1=$(peer_url 1),m2=$(peer_url 2)"; }
endpoints() { echo "$(client_url 0),$(client_url 1),$(client_url 2)"; }
now_ms() { date +%s%3N; }

# start_member target i [state]: starts member i of the current cluster (data dir kept in $work).
start_member() {
  local target=$1 i=$2 dir="$work/$1-$base-m$2"
  local args=(--name "m$i" --data-dir "$dir" --listen-client-urls "$(client_url "$i")" --advertise-client-urls "$(client_url "$i")"
    --listen-peer-urls "$(peer_url "$i")" --initial-advertise-peer-urls "$(peer_url "$i")"
    --initial-cluster "$(initial)" --initial-cluster-token "bench-$base" --initial-cluster-state new)
  if [ "$target" = etcd ]; then
    etcd "${args[@]}" >>"$work/$target-m$i.log" 2>&1 &
  else
    "$work/cairn" "${args[@]}" >>"$work/$target-m$i.log" 2>&1 &
  fi
  pids[$i]=$!
  echo "${pids[$i]}" >>"$work/pids"
}

wait_serving() { # i: until a linearizable read through member i succeeds
  for _ in $(seq 300); do
    curl -sf -m 1 -X POST "$(client_url "$1")/v3/kv/range" -d '{"key":"cHJvYmU="}' >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "member $1 did not serve" >&2; tail -20 "$work"/*-m"$1".log >&2; exit 1
}

start_cluster() { # target: a fresh cluster on fresh ports
  base=$((base + 40))
  for i in 0 1 2; do start_member "$1" "$i"; done
  for i in 0 1 2; do wait_serving "$i"; done
}

stop_cluster() {
  for i in 0 1 2; do kill "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
  pids=()
}

status_field() { # i field: a field of member i's status
  curl -s -m 1 -X POST "$(client_url "$1")/v3/maintenance/status" -d '{}' |
    python3 -c "import sys,json; print(json.load(sys.stdin).get('$2','0'))" 2>/dev/null || echo 0
}

leader_index() { # the index (0..2) of the leader, from the members' status
  for _ in $(seq 200); do
    for i in 0 1 2; do
      local id lead
      id=$(curl -s -m 1 -X POST "$(client_url "$i")/v3/maintenance/status" -d '{}' |
        python3 -c "import sys,json; d=json.load(sys.stdin); print(d['header']['member_id'], d.get('leader','0'))" 2>/dev/null) || continue
      read -r id lead <<<"$id"
      [ "$id" = "$lead" ] && { echo "$i"; return 0; }
    done
    sleep 0.05
  done
  echo "no leader" >&2; exit 1
}

# settled_cluster target: a fresh cluster with some writes behind it.
settled_cluster() {
  start_cluster "$1"
  "$work/cairn-bench" put --endpoints "$(endpoints)" --clients 8 --total 2000 --key-space-size 1000 --output json >/dev/null
}

# kill_leader: waits a second (the followers heard the leader recently), then kill -9s the leader;
# sets lead to its index and killed_at to the time of the kill (ms).
kill_leader() {
  lead=$(leader_index)
  sleep 1
  killed_at=$(now_ms)
  kill -9 "${pids[$lead]}"; wait "${pids[$lead]}" 2>/dev/null || true
}

case "$mode" in
put)
  rounds=${1:-3}; shift || true
  clients=("$@"); [ ${#clients[@]} -gt 0 ] || clients=(64 256)
  for r in $(seq "$rounds"); do
    for c in "${clients[@]}"; do
      for target in etcd cairn; do
        start_cluster "$target"
        out=$("$work/cairn-bench" put --endpoints "$(endpoints)" --clients "$c" --total "$TOTAL" \
          --val-size "$VAL_SIZE" --key-space-size "$KEYS" --output json)
        echo "RESULT $target $c $out"
        stop_cluster
      done
    done
  done | tee "$work/results"
  python3 - "$work/results" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "): continue
    _, target, c, js = line.split(" ", 3)
    rows.setdefault((target, int(c)), []).append(json.loads(js))
print("\n| clients | etcd ops/s | cairn ops/s | ratio | etcd p50 ms | cairn p50 ms | etcd p99 ms | cairn p99 ms | failed (etcd/cairn) |")
print("|---|---|---|---|---|---|---|---|---|")
for c in sorted({k[1] for k in rows}):
    e, k = rows.get(("etcd", c), []), rows.get(("cairn", c), [])
    if not e or not k: continue
    med = lambda rs, f: statistics.median(f(r) for r in rs)
    eo, ko = med(e, lambda r: r["ops_per_second"]), med(k, lambda r: r["ops_per_second"])
    rng = lambda rs: f'{min(r["ops_per_second"] for r in rs):.0f}–{max(r["ops_per_second"] for r in rs):.0f}'
    print(f'| {c} | {eo:.0f} ({rng(e)}) | {ko:.0f} ({rng(k)}) | {ko/eo:.2f}x | '
          f'{med(e, lambda r: r["latency_ms"]["p50"]):.2f} | {med(k, lambda r: r["latency_ms"]["p50"]):.2f} | '
          f'{med(e, lambda r: r["latency_ms"]["p99"]):.2f} | {med(k, lambda r: r["latency_ms"]["p99"]):.2f} | '
          f'{sum(r["failed"] for r in e)}/{sum(r["failed"] for r in k)} |')
PY
  ;;
failover)
  kills=${1:-10}
  for target in etcd cairn; do
    settled_cluster "$target"
    for k in $(seq "$kills"); do
      kill_leader
      t0=$killed_at
      # Probes: every 20 ms a new write (timeout 3 s) through a survivor, in
      # the background; the failover ends with the first one acknowledged.
      # (A member answers at once when it knows no leader, or holds the
      # request until one is elected: either way the first success is when
      # writes work again.)
      done_file="$work/failover-$target-$k"; : >"$done_file"; n=0; probes=()
      while [ ! -s "$done_file" ]; do
        i=$(( (lead + 1 + n % 2) % 3 )); n=$((n + 1))
        ( curl -sf -m 3 -X POST "$(client_url "$i")/v3/kv/put" -d '{"key":"ZmFpbG92ZXI=","value":"eA=="}' >/dev/null 2>&1 &&
          now_ms >>"$done_file" ) &
        probes+=($!)
        sleep 0.02
      done
      wait "${probes[@]}" 2>/dev/null || true
      t1=$(sort -n "$done_file" | head -1)
      echo "RESULT $target failover_ms $((t1 - t0))"
      start_member "$target" "$lead"   # same data dir: it rejoins
      wait_serving "$lead"
    done
    stop_cluster
  done | tee "$work/results"
  python3 - "$work/results" <<'PY'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        _, t, _, v = line.split()
        d.setdefault(t, []).append(int(v))
print("\n| target | kills | median ms | max ms | min ms |")
print("|---|---|---|---|---|")
for t, v in d.items():
    print(f"| {t} | {len(v)} | {statistics.median(v):.0f} | {max(v)} | {min(v)} |")
PY
  ;;
inflight)
  # One write sent through a follower right after the leader is killed: how long
  # until it is answered, and whether it succeeded (etcd lets it time out; cairn
  # proposes it again to the new leader).
  kills=${1:-10}
  for target in etcd cairn; do
    settled_cluster "$target"
    for k in $(seq "$kills"); do
      kill_leader
      i=$(( (lead + 1) % 3 ))
      t0=$(now_ms)
      ok=0
      curl -sf -m 15 -X POST "$(client_url "$i")/v3/kv/put" -d '{"key":"aW5mbGlnaHQ=","value":"eA=="}' >/dev/null 2>&1 && ok=1
      echo "RESULT $target inflight_ms $(( $(now_ms) - t0 )) $ok"
      start_member "$target" "$lead"   # same data dir: it rejoins
      wait_serving "$lead"
    done
    stop_cluster
  done | tee "$work/results"
  python3 - "$work/results" <<'PY'
import statistics, sys
d = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        _, t, _, v, ok = line.split()
        d.setdefault(t, []).append((int(v), int(ok)))
print("\n| target | kills | succeeded | median ms | max ms | min ms |")
print("|---|---|---|---|---|---|")
for t, v in d.items():
    ms = [x for x, _ in v]
    print(f"| {t} | {len(v)} | {sum(ok for _, ok in v)} | {statistics.median(ms):.0f} | {max(ms)} | {min(ms)} |")
PY
  ;;
catchup)
  writes=${1:-100000}
  for target in etcd cairn; do
    start_cluster "$target"
    lead=$(leader_index); lag=$(( (lead + 1) % 3 ))
    kill "${pids[$lag]}"; wait "${pids[$lag]}" 2>/dev/null || true
    "$work/cairn-bench" put --endpoints "$(client_url "$lead")" --clients 64 --total "$writes" \
      --val-size "$VAL_SIZE" --key-space-size "$KEYS" --output json >/dev/null
    want=$(status_field "$lead" raftIndex)
    t0=$(now_ms)
    start_member "$target" "$lag"
    while [ "$(status_field "$lag" raftAppliedIndex)" -lt "$want" ]; do sleep 0.02; done
    t1=$(now_ms)
    how=log; grep -qiE "snapshot installed|applied snapshot|restored .*snapshot|recovered .*snapshot" "$work/$target-m$lag.log" && how=snapshot
    echo "RESULT $target catchup_ms $((t1 - t0)) $how $want"
    grep -iE "snapshot (received|installed|sent)|applied snapshot|store opened" "$work/$target-m$lag.log" "$work/$target-m$lead.log" | sed 's/^/LOG /' | tail -6 || true
    stop_cluster
  done | tee "$work/results"
  ;;
*)
  echo "usage: $0 put|failover|inflight|catchup ..." >&2; exit 2 ;;
esac
