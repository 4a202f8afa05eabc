#!/usr/bin/env bash
# Side by side (docs/benchmarks.md, "Auction marketplace: server CPU per bid, before and after", and
# "Auction marketplace: the bid route's fast path and batched live events"): build BENCH from the newest
# tree: it migrates the fresh database, and a PostgreSQL server does not start with a migration pending.
#
# two reclaim binaries, BASE and NEW, under the same load generator, alternating, on SQLite then
# PostgreSQL; then NEW under the old generator (-self-outbid). Everything on 127.0.0.1.
# Usage: BASE=/tmp/ab/reclaim-base NEW=/tmp/ab/reclaim-new BENCH=/tmp/ab/bench-new D=30s [CLIENTS="raw nethttp"] bench/auction/sidebyside.sh
#   build BASE from the commit to compare with (git stash / git worktree), NEW and BENCH from this tree:
#   go build -o /tmp/ab/reclaim-new ./cmd/reclaim && go build -o /tmp/ab/bench-new ./bench/auction
set -u
pg=${PG:-'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'}
D=${D:-30s}
bench=${BENCH:?set BENCH to the auction bench binary}
declare -A bin=([base]=${BASE:?set BASE} [new]=${NEW:?set NEW})
# CLIENTS: the generator's HTTP clients to run each pair under (-client; "raw nethttp" for both).
# ENGINES: sqlite and/or postgres. SELF_OUTBID=0 skips the last run.
for eng in ${ENGINES:-sqlite postgres}; do
  dsnarg=""; [ $eng = postgres ] && dsnarg="-dsn $pg"
  for client in ${CLIENTS:-raw}; do
    for which in base new; do
      echo "#### $eng $which client=$client $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
      "$bench" -bin "${bin[$which]}" -duration "$D" -client "$client" $dsnarg 2>&1
      echo "#### end load $(cut -d' ' -f1-3 /proc/loadavg)"
    done
  done
done
[ "${SELF_OUTBID:-1}" = 0 ] && exit 0
echo "#### old generator (-self-outbid), new server, sqlite, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" -bin "${bin[new]}" -duration "$D" -self-outbid 2>&1
