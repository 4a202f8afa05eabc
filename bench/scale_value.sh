#!/usr/bin/env bash
# Tape to priced bid at scale (issue 17 items 1 and 2): time, CPU and peak memory of each step
#   synth --loans N (no history) -> tape import -> value 1 -> price 1 --paths 200
# on SQLite, and on PostgreSQL at the sizes in PG_SIZES. A recovery model is trained into each new
# store before valuing (`model train --synthetic 20000 --months 24`, timed as its own step: it does
# not depend on N). Per-loan cost against the smallest size at the end, and per size and engine the
# "tape to priced bid" total: import + price wall time (price values the portfolio itself, so no
# separate value step is needed; the model training, which does not depend on N, is shown apart).
# Usage: bench/scale_value.sh [N ...]      (default: 1000000 3000000)
# Env: BIN (default bin/reclaim), BENCH_DIR (default /tmp/stream-bench; removed at the end),
#      PG_SIZES (default: empty, no PostgreSQL run; e.g. "1000000"), BENCH_DB (PostgreSQL
#      database, default reclaim_stream; dropped and created), PATHS (default 200), OLD_BIN and
#      OLD_SIZES (another build, e.g. the one before streaming, whose value and price are timed on
#      the same store at those sizes, on SQLite and on PostgreSQL), TAPE_DIR (a directory holding
#      tape-N.csv made by the same synth command: used instead of generating, and kept),
#      KEEP_DATA (a path prefix: the SQLite store of size N is kept as KEEP_DATA-N, e.g. for
#      bench/scale_api.sh), SQLITE=0 (PostgreSQL only: skip the SQLite steps), KEEP_PG=1 (keep
#      the PostgreSQL database BENCH_DB of the last size, e.g. for bench/scale_api.sh).
# Needs: GNU time (apt: time); PostgreSQL on 127.0.0.1 when PG_SIZES is set
# (scripts/ensure-postgres.sh). Each tape is deleted after its imports.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 3000000)
bin=${BIN:-$PWD/bin/reclaim}
work=${BENCH_DIR:-/tmp/stream-bench}
paths=${PATHS:-200}
pgsizes=" ${PG_SIZES:-} "
benchdb=${BENCH_DB:-reclaim_stream}
rm -rf "$work" && mkdir -p "$work"
export RECLAIM_PII_KEY=${RECLAIM_PII_KEY:-$(head -c 32 /dev/urandom | base64)} # set it to reuse a kept store

timed() { # timed LABEL LOANS CMD...
  local label=$1 n=$2; shift 2
  /usr/bin/time -v -o "$work/time.txt" "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt" "$work/time.txt"; exit 1; }
  local secs usr sys kb load
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time.txt")
  usr=$(awk -F': ' '/User time/ {print $2}' "$work/time.txt")
  sys=$(awk -F': ' '/System time/ {print $2}' "$work/time.txt")
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  load=$(cut -d' ' -f1 /proc/loadavg)
  local cpu; cpu=$(python3 -c "print(round($usr+$sys, 2))")
  printf '%-18s %9d loans %8.2f s %8.2f s CPU %6d MB  (load %s)\n' "$label" "$n" "$secs" "$cpu" "$((kb / 1024))" "$load"
  echo "$label $n $secs $cpu $((kb / 1024)) $load" >>"$work/results.txt"
}

for n in "${sizes[@]}"; do
  echo "== $n loans"
  if [ -n "${TAPE_DIR:-}" ] && [ -f "$TAPE_DIR/tape-$n.csv" ]; then
    ln -sf "$TAPE_DIR/tape-$n.csv" "$work/tape.csv" # generated before (same command), not timed again
  else
    timed synth "$n" "$bin" synth --loans "$n" --seed 7 --profile bank_mixed --out "$work/tape.csv" -q
  fi
  rm -rf "$work/data"
  if [ "${SQLITE:-1}" != 0 ]; then
  timed import-sqlite "$n" "$bin" --data-dir "$work/data" tape import "$work/tape.csv" -q
  timed train-sqlite "$n" "$bin" --data-dir "$work/data" model train --synthetic 20000 --months 24 --name recovery -q
  timed value-sqlite "$n" "$bin" --data-dir "$work/data" value 1 -q
  cp "$work/out.txt" "$work/value-$n.txt"
  timed price-sqlite "$n" "$bin" --data-dir "$work/data" price 1 --paths "$paths" -q
  cp "$work/out.txt" "$work/price-$n.txt"
  if [ -n "${OLD_BIN:-}" ] && [[ " ${OLD_SIZES:-} " == *" $n "* ]]; then
    timed value-sqlite-old "$n" "$OLD_BIN" --data-dir "$work/data" value 1 -q
    timed price-sqlite-old "$n" "$OLD_BIN" --data-dir "$work/data" price 1 --paths "$paths" -q
    cp "$work/out.txt" "$work/price-old-$n.txt"
  fi
  if [ -n "${KEEP_DATA:-}" ]; then rm -rf "$KEEP_DATA-$n"; mv "$work/data" "$KEEP_DATA-$n"; fi
  rm -rf "$work/data"
  fi
  if [[ "$pgsizes" == *" $n "* ]]; then
    pgdsn=$(./scripts/ensure-postgres.sh)
    pgbase=${pgdsn%%/test*}
    benchdsn="$pgbase/$benchdb?sslmode=disable"
    psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb" -c "create database $benchdb"
    "$bin" --dsn "$benchdsn" migrate >/dev/null
    timed import-postgres "$n" "$bin" --dsn "$benchdsn" tape import "$work/tape.csv" -q
    pid=$(psql -tA "$benchdsn" -c "select max(id) from portfolios")
    timed train-postgres "$n" "$bin" --dsn "$benchdsn" model train --synthetic 20000 --months 24 --name recovery -q
    timed value-postgres "$n" "$bin" --dsn "$benchdsn" value "$pid" -q
    timed price-postgres "$n" "$bin" --dsn "$benchdsn" price "$pid" --paths "$paths" -q
    if [ -n "${OLD_BIN:-}" ] && [[ " ${OLD_SIZES:-} " == *" $n "* ]]; then
      timed value-postgres-old "$n" "$OLD_BIN" --dsn "$benchdsn" value "$pid" -q
      timed price-postgres-old "$n" "$OLD_BIN" --dsn "$benchdsn" price "$pid" --paths "$paths" -q
    fi
    [ "${KEEP_PG:-0}" = 1 ] || psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb"
  fi
  rm -f "$work/tape.csv"
done

for f in "$work"/value-*.txt "$work"/price-*.txt; do [ -f "$f" ] && { echo "== $f"; head -30 "$f"; }; done
echo "== per-loan cost (µs of wall time per loan; ratio to the smallest size)"
python3 - "$work/results.txt" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
first = {}
for label, n, secs, cpu, mb, load in rows:
    n = int(n); per = float(secs) / n * 1e6; cper = float(cpu) / n * 1e6
    f = first.setdefault(label, (per, cper))
    print(f"{label:18s} {n:>10,d}  {float(secs):8.2f} s  {per:6.2f} µs/loan (x{per/f[0]:.2f})  CPU {cper:6.2f} µs/loan (x{cper/f[1]:.2f})  peak {mb} MB  load {load}")
PY
echo "== tape to priced bid (wall: import + price; training apart)"
python3 - "$work/results.txt" <<'PY'
import sys
t = {}
for label, n, secs, cpu, mb, load in (l.split() for l in open(sys.argv[1])):
    t[(label, int(n))] = (float(secs), float(cpu))
for engine in ("sqlite", "postgres"):
    for n in sorted({n for (_, n) in t}):
        imp, price, train = (t.get((f"{s}-{engine}", n)) for s in ("import", "price", "train"))
        if imp and price:
            tr = f"  (+ training {train[0]:.1f} s)" if train else ""
            print(f"tape to priced bid, {engine:8s} {n:>10,d} loans: {imp[0] + price[0]:8.1f} s wall"
                  f" = import {imp[0]:.1f} + price {price[0]:.1f}  (CPU {imp[1] + price[1]:.1f} s){tr}")
PY
rm -rf "$work"
