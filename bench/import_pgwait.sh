#!/usr/bin/env bash
# Where a PostgreSQL import's wall time goes, for builds side by side (docs/benchmarks.md, issue 11):
#   bench/import_pgwait.sh TAPE ROUNDS BIN...
# Each round imports TAPE with every BIN in turn, each into a new database (BENCH_DB, dropped and
# created, then migrated). For each import it prints the wall time and the client's CPU (GNU
# time), and for the server's backends of that database (polled every 0.05 s from /proc): their
# CPU, their run-queue wait (runnable, waiting for a core: /proc/PID/schedstat) and the rest of
# the wall time, "idle": the backend had nothing to do, i.e. waited for the client. Needs
# PostgreSQL on 127.0.0.1 (scripts/ensure-postgres.sh) on this machine, and read access to its
# processes' /proc entries (root, or the postgres user).
set -euo pipefail
cd "$(dirname "$0")/.."
tape=$1 rounds=$2
shift 2
db=${BENCH_DB:-reclaim_bench_pgwait}
work=${BENCH_DIR:-/tmp/reclaim-bench-pgwait}
pgdsn=$(./scripts/ensure-postgres.sh)
base=${pgdsn%%/test*}
rm -rf "$work" && mkdir -p "$work"
export RECLAIM_PII_KEY=${RECLAIM_PII_KEY:-$(head -c 32 /dev/urandom | base64)}
tck=$(getconf CLK_TCK)

poll() { # poll OUT: the backends' summed CPU ticks and run-queue wait (ms), rewritten until killed
  local -A cpu wait
  while true; do
    for p in $(pgrep -f "postgres: .*postgres $db " || true); do
      c=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
      w=$(awk '{print int($2 / 1e6)}' "/proc/$p/schedstat" 2>/dev/null || echo 0)
      [ "${cpu[$p]:-0}" -lt "$c" ] && cpu[$p]=$c
      [ "${wait[$p]:-0}" -lt "$w" ] && wait[$p]=$w
    done
    tc=0; tw=0
    for p in "${!cpu[@]}"; do tc=$((tc + cpu[$p])); tw=$((tw + wait[$p])); done
    echo "$tc $tw" >"$1"
    sleep 0.05
  done
}

for r in $(seq 1 "$rounds"); do
  for bin in "$@"; do
    psql -q "$base/postgres?sslmode=disable" -c "drop database if exists $db" -c "create database $db" 2>/dev/null
    dsn="$base/$db?sslmode=disable"
    (cd "$work" && "$bin" --dsn "$dsn" migrate >/dev/null)
    echo "0 0" >"$work/backend.txt"
    poll "$work/backend.txt" &
    poller=$!
    load=$(cut -d' ' -f1 /proc/loadavg)
    (cd "$work" && /usr/bin/time -f "%e %U %S" -o "$work/time.txt" "$bin" --dsn "$dsn" tape import "$tape" -q >"$work/out.txt" 2>&1) ||
      { cat "$work/out.txt"; kill "$poller"; exit 1; }
    sleep 0.2
    kill "$poller"; wait "$poller" 2>/dev/null || true
    read -r secs usr sys <"$work/time.txt"
    read -r ticks waitms <"$work/backend.txt"
    python3 -c "
w, c, b, q = $secs, $usr + $sys, $ticks / $tck, $waitms / 1000
print(f'round $r {\"$(basename "$bin")\":12s} wall {w:6.2f} s  client CPU {c:5.2f} s  backend CPU {b:5.2f} s  run-queue {q:5.2f} s  idle {w - b - q:5.2f} s  load $load')"
  done
done
