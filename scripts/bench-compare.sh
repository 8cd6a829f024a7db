#!/usr/bin/env bash
# bench-compare.sh: cairn vs etcd 3.4 (Debian's etcd-server) on this machine, same disk, same run,
# alternating targets. Each point starts a fresh member with an empty data dir.
#
#   scripts/bench-compare.sh [workload] [rounds] [clients...]
#   scripts/bench-compare.sh put 3 1 16 64 256
#   scripts/bench-compare.sh v2-set 2 1 16 64 256
#   EXTRA="--conns 16" scripts/bench-compare.sh grpc-put 3 64 256
#
# The v2 workloads (v2-*) run etcd with --enable-v2 and a 10k key space by default; v2-get and
# v2-cas points first fill the key space with v2-set (not measured). The gRPC workloads (grpc-*)
# reach both servers' gRPC API through clientv3; grpc-range points first fill the key space with
# put (not measured).
#
# Environment: TOTAL (requests per point, default 20000; a quarter of it at 1 client),
# VAL_SIZE (default 256), KEYS (key space, default 100000, 10000 for v2), EXTRA (more
# cairn-bench flags), BASE (a git revision: compare cairn at BASE with the working tree's
# cairn instead of etcd; the "etcd" columns are then BASE's), TLS (1: both targets serve https
# with a certificate made here by openssl, and cairn-bench checks it against the CA; cairn: the
# "etcd" columns are cairn over plain HTTP and the "cairn" columns the same binary over https,
# which measures what TLS costs), AUTH (1: auth on in etcd and cairn, a root user, every request
# with root's simple token (cairn-bench --user); a third target, cairn with auth off, runs in the
# same rounds and a second table shows what auth costs cairn).
# Each point also reports the server's CPU (user + system, from /proc) per request, in µs.
# Prints one JSON report per run on stderr-free stdout lines prefixed "RESULT", then a markdown
# table of medians.
set -euo pipefail
workload=${1:-put}; rounds=${2:-3}; shift $(( $# >= 2 ? 2 : $# ))
clients=("$@"); [ ${#clients[@]} -gt 0 ] || clients=(1 16 64 256)
v2=false; case $workload in v2-*) v2=true ;; esac
default_keys=100000; etcd_v2=(); $v2 && { default_keys=10000; etcd_v2=(--enable-v2); }
TOTAL=${TOTAL:-20000}; VAL_SIZE=${VAL_SIZE:-256}; KEYS=${KEYS:-$default_keys}; EXTRA=${EXTRA:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-compare.XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/cairn" ./cmd/cairn && go build -o "$work/cairn-bench" ./cmd/cairn-bench)
BASE=${BASE:-}; TLS=${TLS:-}; AUTH=${AUTH:-}
case $AUTH in ""|1) ;; *) echo "AUTH=$AUTH: want 1" >&2; exit 1 ;; esac
targets=(etcd cairn); [ -n "$AUTH" ] && targets=(etcd cairn cairn-noauth)
case $TLS in ""|1|cairn) ;; *) echo "TLS=$TLS: want 1 or cairn" >&2; exit 1 ;; esac
if [ -n "$TLS" ]; then # a CA and a certificate for 127.0.0.1 signed by it
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
    -keyout "$work/ca-key.pem" -out "$work/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/server.csr" 2>/dev/null
  openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca-key.pem" -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$work/cert.pem" 2>/dev/null
fi
if [ "$TLS" = cairn ]; then
  :
elif [ -n "$BASE" ]; then
  git -C "$root" worktree add -q --detach "$work/base-src" "$BASE"
  (cd "$work/base-src" && go build -o "$work/cairn-base" ./cmd/cairn)
  git -C "$root" worktree remove --force "$work/base-src"
else
  command -v etcd >/dev/null || { echo "etcd not installed: apt-get install etcd-server" >&2; exit 1; }
fi

# cpu_ticks PID: the process's user + system CPU in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

port=24700
start_target() { # $1 = etcd|cairn; sets url, pid and bench_tls
  port=$((port + 2)); local dir="$work/data-$1-$port"
  local scheme=http tls=() probe_tls=(); bench_tls=()
  if [ "$TLS" = 1 ] || { [ "$TLS" = cairn ] && [ "$1" = cairn ]; }; then
    scheme=https; tls=(--cert-file "$work/cert.pem" --key-file "$work/key.pem")
    probe_tls=(--cacert "$work/ca.pem"); bench_tls=(--cacert "$work/ca.pem")
  fi
  url="$scheme://127.0.0.1:$port"
  if [ "$1" = etcd ] && [ "$TLS" = cairn ]; then
    "$work/cairn" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      >"$work/$1.log" 2>&1 &
  elif [ "$1" = etcd ] && [ -n "$BASE" ]; then
    "$work/cairn-base" "${tls[@]}" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      >"$work/$1.log" 2>&1 &
  elif [ "$1" = etcd ]; then
    etcd "${etcd_v2[@]}" "${tls[@]}" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      --initial-cluster "default=http://127.0.0.1:$((port + 1))" >"$work/$1.log" 2>&1 &
  else
    "$work/cairn" "${tls[@]}" --data-dir "$dir" --listen-client-urls "$url" --advertise-client-urls "$url" \
      --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
      >"$work/$1.log" 2>&1 &
  fi
  pid=$!
  bench_auth=()
  for _ in $(seq 100); do
    if curl -sf "${probe_tls[@]}" -X POST "$url/v3/kv/range" -d '{"key":"cHJvYmU="}' >/dev/null 2>&1; then
      if [ -n "$AUTH" ] && [ "$1" != cairn-noauth ]; then enable_auth "${probe_tls[@]}"; bench_auth=(--user root:rootpw); fi
      return 0
    fi
    sleep 0.1
  done
  echo "$1 did not start" >&2; cat "$work/$1.log" >&2; exit 1
}

# enable_auth [curl TLS flags]: the user root with the root role, then auth on (etcd's steps).
enable_auth() {
  local p
  for p in 'user/add {"name":"root","password":"rootpw"}' 'user/grant {"user":"root","role":"root"}' 'enable {}'; do
    curl -sf "$@" -X POST "$url/v3/auth/${p%% *}" -d "${p#* }" >/dev/null || { echo "auth setup ${p%% *} failed" >&2; exit 1; }
  done
}

for r in $(seq "$rounds"); do
  for c in "${clients[@]}"; do
    total=$TOTAL; [ "$c" = 1 ] && total=$((TOTAL / 4))
    for target in "${targets[@]}"; do
      start_target "$target"
      if [ "$workload" = v2-get ] || [ "$workload" = v2-cas ]; then
        "$work/cairn-bench" v2-set --endpoints "$url" "${bench_tls[@]}" --clients 64 --total "$KEYS" --sequential-keys \
          --val-size "$VAL_SIZE" --key-space-size "$KEYS" >/dev/null
      fi
      if [ "$workload" = grpc-range ]; then
        "$work/cairn-bench" put --endpoints "$url" "${bench_tls[@]}" --clients 64 --total "$KEYS" --sequential-keys \
          --val-size "$VAL_SIZE" --key-space-size "$KEYS" >/dev/null
      fi
      t0=$(cpu_ticks "$pid")
      out=$("$work/cairn-bench" "$workload" --endpoints "$url" "${bench_tls[@]}" "${bench_auth[@]}" --clients "$c" --total "$total" \
        --val-size "$VAL_SIZE" --key-space-size "$KEYS" --output json $EXTRA)
      cpu_us=$(( ($(cpu_ticks "$pid") - t0) * 1000000 / $(getconf CLK_TCK) ))
      echo "RESULT $target $c $cpu_us $out"
      kill "$pid"; wait "$pid" 2>/dev/null || true
    done
  done
done | tee "$work/results"

python3 - "$work/results" "$workload" "$BASE" "$TLS" "$AUTH" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    if not line.startswith("RESULT "): continue
    _, target, c, cpu_us, js = line.split(" ", 4)
    r = json.loads(js)
    r["cpu_us_per_op"] = int(cpu_us) / max(r["succeeded"], 1)
    rows.setdefault((target, int(c)), []).append(r)
print(f"\n{sys.argv[2]}: medians over runs (ops/s range in brackets)\n")
if sys.argv[4] == "cairn":
    print("(the etcd columns are cairn over plain HTTP; the cairn columns the same cairn over https)\n")
elif sys.argv[3]:
    print(f"(the etcd columns are cairn at {sys.argv[3]}; the cairn columns the working tree)\n")
if sys.argv[4] == "1":
    print("(both over https)\n")
if sys.argv[5] == "1":
    print("(auth on in both: root's simple token on every request)\n")
print("| clients | etcd ops/s | cairn ops/s | ratio | etcd p50 ms | cairn p50 ms | etcd p99 ms | cairn p99 ms | etcd CPU µs/op | cairn CPU µs/op | failed (etcd/cairn) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for c in sorted({k[1] for k in rows}):
    e, k = rows.get(("etcd", c), []), rows.get(("cairn", c), [])
    if not e or not k: continue
    med = lambda rs, f: statistics.median(f(r) for r in rs)
    eo, ko = med(e, lambda r: r["ops_per_second"]), med(k, lambda r: r["ops_per_second"])
    rng = lambda rs: f'{min(r["ops_per_second"] for r in rs):.0f}–{max(r["ops_per_second"] for r in rs):.0f}'
    print(f'| {c} | {eo:.0f} ({rng(e)}) | {ko:.0f} ({rng(k)}) | {ko/eo:.2f}x | '
          f'{med(e, lambda r: r["latency_ms"]["p50"]):.2f} | {med(k, lambda r: r["latency_ms"]["p50"]):.2f} | '
          f'{med(e, lambda r: r["latency_ms"]["p99"]):.2f} | {med(k, lambda r: r["latency_ms"]["p99"]):.2f} | '
          f'{med(e, lambda r: r["cpu_us_per_op"]):.0f} | {med(k, lambda r: r["cpu_us_per_op"]):.0f} | '
          f'{sum(r["failed"] for r in e)}/{sum(r["failed"] for r in k)} |')
if sys.argv[5] == "1":
    print("\nwhat auth costs cairn (same rounds): auth off vs on\n")
    print("| clients | cairn auth off ops/s | cairn auth on ops/s | cost | off CPU µs/op | on CPU µs/op |")
    print("|---|---|---|---|---|---|")
    for c in sorted({k[1] for k in rows}):
        off, on = rows.get(("cairn-noauth", c), []), rows.get(("cairn", c), [])
        if not off or not on: continue
        med = lambda rs, f: statistics.median(f(r) for r in rs)
        fo, no = med(off, lambda r: r["ops_per_second"]), med(on, lambda r: r["ops_per_second"])
        print(f'| {c} | {fo:.0f} | {no:.0f} | {(1 - no/fo)*100:.1f}% | '
              f'{med(off, lambda r: r["cpu_us_per_op"]):.0f} | {med(on, lambda r: r["cpu_us_per_op"]):.0f} |')
PY
