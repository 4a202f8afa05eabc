#!/usr/bin/env bash
# API latency with a 1,000,000-loan portfolio stored, on SQLite and PostgreSQL: bench/apiload
# against the server on 127.0.0.1, side by side with the same reads made directly on the database.
# Run bench/import.sh first (it leaves the imported databases in $BENCH_DIR).
# Usage: bench/api.sh [REQUESTS] [CONCURRENCY]    (defaults 3000 and 8)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
c=${2:-8}
work=${BENCH_DIR:-/tmp/reclaim-bench}
bin=$PWD/bin/reclaim
go build -o "$work/apiload" ./bench/apiload
pgbase=$(./scripts/ensure-postgres.sh)
pgdsn="${pgbase%%/test*}/reclaim_bench?sslmode=disable"
export RECLAIM_PII_KEY=${RECLAIM_PII_KEY:-$(head -c 32 /dev/urandom | base64)}
pass=Kite-Harbour-Lemon-7319
for engine in sqlite postgres; do
  if [ $engine = sqlite ]; then dsn="sqlite:$work/data/reclaim.db"; else dsn=$pgdsn; fi
  "$bin" --data-dir "$work/data" --dsn "$dsn" user add bench --role analyst --must-change=false --password "$pass" >/dev/null 2>&1 || true
  id=$("$bin" --data-dir "$work/data" --dsn "$dsn" portfolio list --json | python3 -c 'import json,sys; print(max(p["id"] for p in json.load(sys.stdin)))')
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" --data-dir "$work/data" --dsn "$dsn" serve --addr "127.0.0.1:$port" --log-level error &
  server=$!
  for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $engine (portfolio $id, $n requests per endpoint, $c clients)"
  "$work/apiload" -url "http://127.0.0.1:$port" -user bench -pass "$pass" -dsn "$dsn" -portfolio "$id" -n "$n" -c "$c"
  kill $server; wait $server 2>/dev/null || true
done
