#!/usr/bin/env bash
# The console and API at scale (issue 17 item 3): p50/p90/p99 of every route of the portfolio page
# with a large portfolio stored, from a signed-in session on 127.0.0.1 (bench/apiload -scale),
# side by side with the same reads made directly on the database.
# Usage: bench/scale_api.sh STORE [REQUESTS] [CONCURRENCY]     (defaults 300 and 4)
#   STORE is a data directory (SQLite) or a postgres:// DSN holding the portfolio; import it first
#   (reclaim synth + reclaim tape import, as bench/scale.sh does).
# VALUE=skip leaves the valuation routes out (no model, nothing computed).
# Env: BIN (default bin/reclaim), DATA_DIR (with PostgreSQL: the data directory the import used,
# for its keys), PORTFOLIO (default: the newest), VALUE=0 to skip the
# `reclaim value` that precomputes (and stores) the valuation before the server starts, DIRECT=0
# to skip the direct reads (needed with a binary older than this tool's sqldb: the "before" run).
# Needs: a recovery model in the store; one is trained (--synthetic 20000) when none is active.
set -euo pipefail
cd "$(dirname "$0")/.."
store=$1
n=${2:-300}
c=${3:-4}
bin=${BIN:-$PWD/bin/reclaim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/apiload" ./bench/apiload
if [[ $store == postgres* ]]; then args=(--data-dir "${DATA_DIR:-$work}" --dsn "$store"); dsn=$store
else args=(--data-dir "$store"); dsn="sqlite:$store/reclaim.db"; fi
pass=Kite-Harbour-Lemon-7319
"$bin" "${args[@]}" migrate >/dev/null
"$bin" "${args[@]}" user add bench --role analyst --must-change=false --password "$pass" >/dev/null 2>&1 || true
noval=(); [ "${VALUE:-1}" != skip ] || noval=(-no-valuation)
if [ "${VALUE:-1}" != skip ] && ! "$bin" "${args[@]}" model list 2>/dev/null | grep -qE '^recovery +[0-9]+ +\*'; then
  "$bin" "${args[@]}" model train --synthetic 20000 --months 24 --name recovery -q >/dev/null
fi
id=${PORTFOLIO:-$("$bin" "${args[@]}" portfolio list --json | python3 -c 'import json,sys; print(max(p["id"] for p in json.load(sys.stdin)))')}
if [ "${VALUE:-1}" = 1 ]; then
  /usr/bin/time -f "reclaim value: %e s wall, %U+%S s CPU, %M KB peak (load $(cut -d' ' -f1 /proc/loadavg))" "$bin" "${args[@]}" value "$id" -q >/dev/null
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" "${args[@]}" serve --addr "127.0.0.1:$port" --log-level error &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
echo "== $dsn (portfolio $id, $n requests per route, $c clients, load $(cut -d' ' -f1 /proc/loadavg))"
direct=(-dsn "$dsn"); [ "${DIRECT:-1}" = 1 ] || direct=()
"$work/apiload" -url "http://127.0.0.1:$port" -user bench -pass "$pass" "${direct[@]}" "${noval[@]}" -portfolio "$id" -n "$n" -c "$c" -scale
echo "load after: $(cut -d' ' -f1 /proc/loadavg)"
kill $server; wait $server 2>/dev/null || true
