#!/usr/bin/env bash
# The marketplace's load and fault tests (docs/benchmarks.md, "Auction marketplace"): 500
# simulated bidders on 20 auctions, each with an SSE subscription, on SQLite and PostgreSQL,
# then the same with the server SIGKILLed during the load. Everything on 127.0.0.1.
# Usage: bench/auction/run.sh [SECONDS] [FAULT_SECONDS]    (defaults 60 and 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
fault=${2:-30}
work=${BENCH_DIR:-/tmp/reclaim-bench}
mkdir -p "$work"
go build -o "$work/reclaim" ./cmd/reclaim
go build -o "$work/auctionbench" ./bench/auction
pg=$(./scripts/ensure-postgres.sh)
uptime
"$work/auctionbench" -bin "$work/reclaim" -duration "${secs}s"
"$work/auctionbench" -bin "$work/reclaim" -duration "${secs}s" -dsn "$pg"
"$work/auctionbench" -bin "$work/reclaim" -duration "${fault}s" -kill-after "$((fault * 2 / 5))s"
"$work/auctionbench" -bin "$work/reclaim" -duration "${fault}s" -kill-after "$((fault * 2 / 5))s" -dsn "$pg"
uptime
