#!/usr/bin/env bash
# Two builds of reclaim importing the same tape, alternated, in one run (docs/benchmarks.md):
#   bench/import_ab.sh OLD_BIN NEW_BIN TAPE [ROUNDS] [ENGINES]
# ENGINES is "sqlite postgres" (default), or one of them. Each round imports the tape with OLD then
# NEW into a new SQLite data directory, and into a new PostgreSQL database (BENCH_DB, dropped and
# created each time). Prints wall, CPU (user + system) and peak RSS per import from GNU time, the
# load average before each round, and the ratio NEW/OLD of the mean wall and CPU times.
# Needs PostgreSQL on 127.0.0.1 for the postgres engine (scripts/ensure-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 tape=$3 rounds=${4:-2} engines=${5:-sqlite postgres}
work=${BENCH_DIR:-/tmp/reclaim-bench-ab}
benchdb=${BENCH_DB:-reclaim_bench_ab}
rm -rf "$work" && mkdir -p "$work"
export RECLAIM_PII_KEY=${RECLAIM_PII_KEY:-$(head -c 32 /dev/urandom | base64)}
if [[ $engines == *postgres* ]]; then
  pgdsn=$(./scripts/ensure-postgres.sh)
  pgbase=${pgdsn%%/test*}
fi
run() { # run ENGINE LABEL BIN
  local engine=$1 label=$2 bin=$3 target
  if [ "$engine" = sqlite ]; then
    rm -rf "$work/data"; target=(--data-dir "$work/data")
  else
    psql -q "$pgbase/postgres?sslmode=disable" -c "drop database if exists $benchdb" -c "create database $benchdb"
    target=(--dsn "$pgbase/$benchdb?sslmode=disable")
    "$bin" "${target[@]}" migrate >/dev/null
  fi
  /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$bin" "${target[@]}" tape import "$tape" -q >"$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
  read -r secs usr sys kb <"$work/time.txt"
  cpu=$(python3 -c "print(f'{$usr + $sys:.2f}')")
  printf '%-9s %-4s %8.2f s wall %8.2f s CPU %6d MB\n' "$engine" "$label" "$secs" "$cpu" "$((kb / 1024))"
  echo "$engine $label $secs $cpu $((kb / 1024))" >>"$work/results.txt"
}
for r in $(seq 1 "$rounds"); do
  echo "== round $r (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  for e in $engines; do
    run "$e" old "$old"
    run "$e" new "$new"
  done
done
python3 - "$work/results.txt" <<'PY'
import sys, collections
w = collections.defaultdict(list); c = collections.defaultdict(list); m = collections.defaultdict(int)
for line in open(sys.argv[1]):
    e, label, secs, cpu, mb = line.split()
    w[e, label].append(float(secs)); c[e, label].append(float(cpu)); m[e, label] = max(m[e, label], int(mb))
mean = lambda v: sum(v) / len(v)
for e in sorted({k[0] for k in w}):
    o, n = (e, "old"), (e, "new")
    print(f"{e}: old wall {mean(w[o]):.2f} s CPU {mean(c[o]):.2f} s RSS {m[o]} MB; new wall {mean(w[n]):.2f} s CPU {mean(c[n]):.2f} s RSS {m[n]} MB;"
          f" new/old wall {mean(w[n]) / mean(w[o]):.2f}x CPU {mean(c[n]) / mean(c[o]):.2f}x")
PY
