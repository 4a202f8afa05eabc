#!/usr/bin/env bash
# Import benchmark, side by side with its peers in one run (docs/benchmarks.md):
#   - reclaim tape import of an N-loan CSV into SQLite  vs  sqlite3 .import of the same file into a bare table
#   - reclaim tape import into PostgreSQL               vs  psql \copy of the same file into a bare table
#   - peak memory (max RSS) of each, and of generating the tape with reclaim synth
# Usage: bench/import.sh [LOANS] [ROUNDS]     (defaults 1000000 and 2)
# Needs: bin/reclaim (make build), sqlite3 (apt: sqlite3), PostgreSQL on 127.0.0.1 (scripts/ensure-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
loans=${1:-1000000}
rounds=${2:-2}
work=${BENCH_DIR:-/tmp/reclaim-bench}
benchdb=${BENCH_DB:-reclaim_bench}
bin=$PWD/bin/reclaim
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
pgdsn=$(./scripts/ensure-postgres.sh)
pgbase=${pgdsn%%/test*}
rm -rf "$work" && mkdir -p "$work"
export RECLAIM_PII_KEY=$(head -c 32 /dev/urandom | base64)

timed() { # timed LABEL CMD... -> prints "LABEL seconds cpu_seconds maxrss_mb"
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
  read -r secs usr sys kb <"$work/time.txt"
  cpu=$(python3 -c "print(f'{$usr + $sys:.2f}')")
  printf '%-28s %8.2f s %8.2f s CPU %8.0f MB\n' "$label" "$secs" "$cpu" "$((kb / 1024))"
  echo "$label $secs $cpu $((kb / 1024))" >>"$work/results.txt"
}

echo "== generating $loans loans"
timed "synth $loans" "$bin" synth --loans "$loans" --seed 7 --profile bank_mixed --out "$work/tape.csv" -q
ls -l "$work/tape.csv" | awk '{printf "tape: %.0f MB\n", $5/1048576}'
header=$(head -1 "$work/tape.csv")
cols=$(echo "$header" | tr ',' '\n' | sed 's/.*/"&" text/' | paste -sd, -)

psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb" -c "create database $benchdb"
benchdsn="$pgbase/$benchdb?sslmode=disable"
"$bin" --dsn "$benchdsn" migrate >/dev/null

for r in $(seq 1 "$rounds"); do
  echo "== round $r (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  rm -f "$work/raw.db"*
  timed "sqlite3 .import" sqlite3 "$work/raw.db" -cmd "PRAGMA journal_mode=WAL" -cmd "create table raw($cols)" -cmd ".mode csv" -cmd ".import --skip 1 $work/tape.csv raw" ".exit"
  rm -rf "$work/data"
  timed "reclaim import sqlite" "$bin" --data-dir "$work/data" tape import "$work/tape.csv" -q
  psql -q "$benchdsn" -c "drop table if exists raw" -c "create table raw($cols)"
  timed "psql \\copy" psql -q "$benchdsn" -c "\\copy raw from '$work/tape.csv' with (format csv, header true)"
  psql -q "$benchdsn" -c "truncate repayments, loans, borrower_pii, borrowers, events, portfolios cascade" >/dev/null
  timed "reclaim import postgres" "$bin" --dsn "$benchdsn" tape import "$work/tape.csv" -q
done

echo "== summary (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
python3 - "$work/results.txt" <<'PY'
import sys, collections
t = collections.defaultdict(list); c = collections.defaultdict(list); m = collections.defaultdict(int)
for line in open(sys.argv[1]):
    *label, secs, cpu, mb = line.split(); label = " ".join(label)
    t[label].append(float(secs)); c[label].append(float(cpu)); m[label] = max(m[label], int(mb))
mean = {k: sum(v)/len(v) for k, v in t.items()}
cmean = {k: sum(v)/len(v) for k, v in c.items()}
for k in t: print(f"{k:28s} mean {mean[k]:7.2f} s  runs {' '.join(f'{x:.2f}' for x in t[k])}  CPU mean {cmean[k]:7.2f} s  peak {m[k]} MB")
print(f"SQLite:     reclaim / sqlite3 .import = {mean['reclaim import sqlite']/mean['sqlite3 .import']:.2f}x wall, {cmean['reclaim import sqlite']/cmean['sqlite3 .import']:.2f}x CPU")
k = 'psql \\copy'
print(f"PostgreSQL: reclaim / psql copy      = {mean['reclaim import postgres']/mean[k]:.2f}x wall (psql's CPU is the client's only)")
PY
