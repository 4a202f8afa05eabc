#!/usr/bin/env bash
# LendingClub recovery model, side by side with its peers in one run (docs/benchmarks.md):
# the product's default training recipe ('reclaim model train', valuation.TrainRecoveryModel) run
# with each of the 5 folds held out in turn, against XGBoost (hist) and scikit-learn
# HistGradientBoosting trained with the same recipe (bench/lendingclub/peers.py), and the
# static-pool baseline; the same "lendingclub-v1" features and folds; held-out metrics.
# Usage: bench/lendingclub/run.sh [DATA]   (default ../shared/data/lendingclub/chargedoff_dev.csv)
# Needs: Go, Debian's python3-xgboost and python3-sklearn (apt-get install python3-xgboost python3-sklearn).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=$PATH:/usr/local/go/bin
data=${1:-../shared/data/lendingclub/chargedoff_dev.csv}
[ -f "$data" ] || { echo "run.sh: $data not found (the LendingClub file is not part of the repository)" >&2; exit 1; }
py=$("$(dirname "$0")/../../scripts/ensure-peers.sh") # Debian's python3 with python3-xgboost and python3-sklearn
work=$(mktemp -d /tmp/reclaim-lendingclub-XXXXXX)
trap 'rm -rf "$work"' EXIT
go run ./bench/lendingclub/export -data "$data" -out "$work/data" >/dev/null
OMP_NUM_THREADS=2 "$py" bench/lendingclub/peers.py "$work/data" >"$work/peers.json"
go run ./bench/lendingclub/ours -data "$data" -threads 2 >"$work/ours.json"
"$py" - "$work/ours.json" "$work/peers.json" <<'PY'
import json, sys
ours, peers = (json.load(open(p)) for p in sys.argv[1:3])
if ours["data"]["fingerprint"] != peers["data"]["fingerprint"]:
    sys.exit("feature sets differ between ours and the peers")
res = {**ours["results"], **peers["results"]}
cols = ["reclaim_gbdt", "xgboost", "sklearn_hgb", "baseline_static_pool"]
rows = ["auc_rate_ge_10", "auc_material", "mae_rate", "spearman_rate", "portfolio_error_pct", "fold_portfolio_abs_err_pct", "fold_portfolio_max_err_pct"]
d = peers["data"]
print(f"LendingClub charged-off loans: {d['rows']} rows, {d['features']} features ({d['feature_set']}), {d['folds']} folds, "
      f"rate>=10% share {d['rate_ge_10_share']}, EAD-weighted capped rate {d['ead_weighted_rate']}")
print("params:", json.dumps(peers["params"]), "versions:", json.dumps(peers["versions"]))
print("reclaim trees per fold (material, severity):", json.dumps(ours["params"]["trees_per_fold"]))
print(f"| {'metric (out of fold)':<28} | " + " | ".join(f"{c:>20}" for c in cols) + " |")
print("|" + "-" * 30 + "|" + "|".join("-" * 22 for _ in cols) + "|")
for r in rows:
    print(f"| {r:<28} | " + " | ".join(f"{res[c][r]:>20.4f}" for c in cols) + " |")
for f in range(d["folds"]):
    print(f"| {'portfolio error, fold ' + str(f):<28} | " + " | ".join(f"{res[c]['fold_portfolio_err_pct'][f]:>+20.2f}" for c in cols) + " |")
sn = ours["sampling_noise"]
print(f"sampling noise of a fold's sum under a perfect model (ours' predictions, {sn['bins']} bins, tolerance {100*sn['tolerance']:g}%):")
for p in sn["packages"]:
    print(f"  fold {p['package']}: {p['loans']} loans, sd {p['sd_pct']:.2f}% (residual {p['residual_sd_pct']:.2f}%, bootstrap {p['bootstrap_sd_pct']:.2f}%), "
          f"P(|err| <= tol) {p['p_within']:.3f} (simulated {p['p_within_sim']:.3f})")
print(f"  P(every fold within tolerance): {sn['p_all']:.4f} (simulated {sn['p_all_sim']:.4f}, {sn['draws']} draws)")
PY
