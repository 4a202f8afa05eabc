#!/usr/bin/env bash
# One app node against two on one PostgreSQL database, loopback only, one run each:
#   bench/multinode/run.sh [SECONDS]        (default 10)
# For 1 and 2 nodes: 32 HTTP clients post collections paced at 1,000/s, then as fast as they can
# (saturation). Prints one JSON line per case and a Markdown table for docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
secs=${1:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/multinodebench" ./bench/multinode
dsn=${RECLAIM_TEST_POSTGRES_DSN:-$(./scripts/ensure-postgres.sh)}
echo "multi-node benchmark: ${secs}s per case, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for nodes in 1 2; do
  for rate in 1000 0; do
    "$out/multinodebench" -dsn "$dsn" -nodes "$nodes" -rate "$rate" -for "${secs}s" | tee -a "$out/all.json"
  done
done
python3 - "$out/all.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| nodes | load | collections/s | commit-to-sequenced p50 | p99 | POST p99 | serialization retries | checkpoints |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    load = "paced 1,000/s" if r["target_rate"] else "saturation"
    print(f'| {r["nodes"]} | {load} | {r["collections_per_s"]:,.0f} | {r["commit_to_sequenced_p50_ms"]:,.0f} ms | {r["commit_to_sequenced_p99_ms"]:,.0f} ms | {r["post_p99_ms"]:,.0f} ms | {r["serialization_retries"]} | {r["checkpoints"]} |')
PY
