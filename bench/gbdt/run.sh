#!/usr/bin/env bash
# GBDT benchmark, side by side with its peers in one run (docs/benchmarks.md):
#   reclaim/valuation/gbdt  vs  xgboost (tree_method=hist)  vs  scikit-learn HistGradientBoostingClassifier
# on the same synthetic loan-like binary task (N training rows x 40 features, numeric, categorical
# and missing values), 300 trees of depth 6, learning rate 0.1, 256 bins, lambda 1, no subsampling,
# 2 threads; scoring a held-out set of TEST rows.
# Usage: bench/gbdt/run.sh [N] [TEST]      (defaults 1000000 and 1000000; TREES, DEPTH override 300, 6)
# Needs: Go, Debian's python3-xgboost and python3-sklearn (apt-get install python3-xgboost python3-sklearn).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
test_rows=${2:-1000000}
trees=${TREES:-300}
depth=${DEPTH:-6}
work=${BENCH_DIR:-/tmp/reclaim-gbdt-bench}
py=/usr/bin/python3 # Debian's python, where python3-xgboost and python3-sklearn live
export PATH=$PATH:/usr/local/go/bin
rm -rf "$work" && mkdir -p "$work"

go build -o "$work/gbdt-bench" ./bench/gbdt
echo "== reclaim gbdt (also writes the data set to $work)" >&2
"$work/gbdt-bench" -n "$n" -test "$test_rows" -trees "$trees" -depth "$depth" -threads 2 -dir "$work" | tee "$work/results.jsonl"
echo "== xgboost" >&2
TREES=$trees DEPTH=$depth OMP_NUM_THREADS=2 "$py" bench/gbdt/peer.py "$work" xgboost | tee -a "$work/results.jsonl"
echo "== scikit-learn" >&2
TREES=$trees DEPTH=$depth OMP_NUM_THREADS=2 "$py" bench/gbdt/peer.py "$work" sklearn | tee -a "$work/results.jsonl"

"$py" - "$work/results.jsonl" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours = rows[0]
print()
print(f"{'implementation':<22} {'train s':>9} {'(CPU s)':>9} {'AUC':>8} {'log loss':>9} {'score loans/s':>14} {'(per CPU s)':>12}")
for r in rows:
    print(f"{r['impl']:<22} {r['train_s']:>9.2f} {r['train_cpu_s']:>9.2f} {r['auc']:>8.4f} {r['logloss']:>9.4f} "
          f"{r['score_loans_ps']:>14,.0f} {r['test_rows'] / r['score_cpu_s']:>12,.0f}")
print("(CPU s: user+system time of all threads; on a shared machine wall time / CPU time shows the cores a run got)")
print()
for r in rows[1:]:
    name = r['impl'].split()[0]
    print(f"ours / {name:<8} train time x{ours['train_s'] / r['train_s']:.2f} (CPU x{ours['train_cpu_s'] / r['train_cpu_s']:.2f})   "
          f"AUC {ours['auc'] - r['auc']:+.4f}   scoring rate x{ours['score_loans_ps'] / r['score_loans_ps']:.2f}")
xgb = rows[1]
print()
print("targets: train time <= 1.5x xgboost: %s; |AUC - xgboost| <= 0.005: %s; scoring >= 500,000 loans/s: %s" % (
    "met" if ours['train_s'] <= 1.5 * xgb['train_s'] else "NOT met",
    "met" if abs(ours['auc'] - xgb['auc']) <= 0.005 else "NOT met",
    "met" if ours['score_loans_ps'] >= 500000 else "NOT met"))
EOF
