#!/usr/bin/env bash
# Scale benchmark (issue 17): time, CPU and peak memory of each step from tape to store at several
# sizes, on SQLite and PostgreSQL, and the per-loan cost against the smallest size.
#   synth --loans N (no history)  ->  tape import into SQLite  ->  tape import into PostgreSQL
# Usage: bench/scale.sh [N ...]      (default: 1000000 3000000)
# Env: BIN (default bin/reclaim), BENCH_DIR (default /tmp/reclaim-scale), BENCH_DB (PostgreSQL
# database, default reclaim_scale; dropped and created).
# Needs: GNU time (apt: time), PostgreSQL on 127.0.0.1 (scripts/ensure-postgres.sh). Each tape is
# deleted after its imports (10M loans take 4.7 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000000 3000000)
bin=${BIN:-$PWD/bin/reclaim}
work=${BENCH_DIR:-/tmp/reclaim-scale}
benchdb=${BENCH_DB:-reclaim_scale}
pgdsn=$(./scripts/ensure-postgres.sh)
pgbase=${pgdsn%%/test*}
benchdsn="$pgbase/$benchdb?sslmode=disable"
rm -rf "$work" && mkdir -p "$work"
export RECLAIM_PII_KEY=$(head -c 32 /dev/urandom | base64)

timed() { # timed LABEL LOANS CMD...
  local label=$1 n=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
  read -r secs usr sys kb <"$work/time.txt"
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  printf '%-16s %9d loans %8.2f s %8.2f s CPU %6d MB  (load %s)\n' "$label" "$n" "$secs" "$(python3 -c "print($usr+$sys)")" "$((kb / 1024))" "$load"
  echo "$label $n $secs $(python3 -c "print($usr+$sys)") $((kb / 1024)) $load" >>"$work/results.txt"
}

for n in "${sizes[@]}"; do
  echo "== $n loans"
  timed synth "$n" "$bin" synth --loans "$n" --seed 7 --profile bank_mixed --out "$work/tape.csv" -q
  rm -rf "$work/data"
  timed import-sqlite "$n" "$bin" --data-dir "$work/data" tape import "$work/tape.csv" -q
  rm -rf "$work/data"
  psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb" -c "create database $benchdb"
  "$bin" --dsn "$benchdsn" migrate >/dev/null
  timed import-postgres "$n" "$bin" --dsn "$benchdsn" tape import "$work/tape.csv" -q
  psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb"
  rm -f "$work/tape.csv"
done

echo "== per-loan cost (µs of wall time per loan; ratio to the smallest size)"
python3 - "$work/results.txt" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
first = {}
for label, n, secs, cpu, mb, load in rows:
    n = int(n); per = float(secs) / n * 1e6; cper = float(cpu) / n * 1e6
    f = first.setdefault(label, (per, cper))
    print(f"{label:16s} {n:>10,d}  {float(secs):8.2f} s  {per:6.2f} µs/loan (x{per/f[0]:.2f})  CPU {cper:6.2f} µs/loan (x{cper/f[1]:.2f})  peak {mb} MB  load {load}")
PY
