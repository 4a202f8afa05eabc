#!/usr/bin/env bash
# The pool ledger side by side with Tessera's POSIX driver, in one run:
#   bench/ledger/run.sh [N]          (default 200000 entries of ~330 bytes)
# For each engine (SQLite, PostgreSQL) bench/ledger appends N entries durably with 4 writers
# committing batches of 200 while the sequencer runs, measures commit-to-sequenced latency (at
# saturation and paced at 1,000 entries/s), proof generation from the database, and a full
# independent audit (reclaim-verify sync of the whole log over HTTP on 127.0.0.1, in its own
# process). The peer, interop/tessera's posixbench, appends the same number of 300-byte entries
# through Tessera v1.0.4's POSIX driver. Loopback only; results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
n=${1:-200000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/ledgerbench" ./bench/ledger
go build -o "$out/reclaim-verify" ./cmd/reclaim-verify
(cd interop/tessera && GOWORK=off go build -o "$out/posixbench" ./cmd/posixbench)
dsn=$(./scripts/ensure-postgres.sh)
echo "ledger benchmark: $n entries, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$out/ledgerbench" -n "$n" -verifier "$out/reclaim-verify" | tee "$out/sqlite.json"
"$out/ledgerbench" -n "$n" -verifier "$out/reclaim-verify" -dsn "$dsn" | tee "$out/postgres.json"
"$out/posixbench" -n "$n" 2>/dev/null | tee "$out/tessera.json"
python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
s, p, t = (json.load(open(os.path.join(d, f + ".json"))) for f in ("sqlite", "postgres", "tessera"))
print()
print("| | Reclaim SQLite | Reclaim PostgreSQL | Tessera POSIX (peer) |")
print("|---|---|---|---|")
print(f"| appends/s (durable, batched) | {s['appends_per_s']:,.0f} | {p['appends_per_s']:,.0f} | {t['appends_per_s']:,.0f} |")
print(f"| ratio to the peer | {s['appends_per_s']/t['appends_per_s']:.2f} | {p['appends_per_s']/t['appends_per_s']:.2f} | 1 |")
print(f"| commit to sequenced p99 at saturation, ms | {s['commit_to_sequenced_p99_ms']:.0f} | {p['commit_to_sequenced_p99_ms']:.0f} | {t['p99_ms']:.0f} (Add to index) |")
print(f"| commit to sequenced p50 / p99 at 1,000/s, ms | {s['paced_commit_to_sequenced_p50_ms']:.1f} / {s['paced_commit_to_sequenced_p99_ms']:.1f} | {p['paced_commit_to_sequenced_p50_ms']:.1f} / {p['paced_commit_to_sequenced_p99_ms']:.1f} | |")
print(f"| inclusion proof p50 / p99, µs | {s['inclusion_proof_p50_us']:.0f} / {s['inclusion_proof_p99_us']:.0f} | {p['inclusion_proof_p50_us']:.0f} / {p['inclusion_proof_p99_us']:.0f} | |")
print(f"| full audit (reclaim-verify sync), CPU s | {s['audit_cpu_s']:.2f} | {p['audit_cpu_s']:.2f} | {t.get('audit_seconds', 0):.2f} (re-hash only, wall) |")
print(f"| full audit, wall s / peak RSS MB | {s['audit_wall_s']:.2f} / {s['audit_max_rss_mb']:.0f} | {p['audit_wall_s']:.2f} / {p['audit_max_rss_mb']:.0f} | |")
PY
