#!/usr/bin/env python3
"""Peer learners on the LendingClub recovery data, with the same features and folds as Reclaim.

Usage: python3 bench/lendingclub/peers.py DIR
where DIR is what `go run ./bench/lendingclub/export` wrote (features.csv, labels.csv, meta.json).

For XGBoost (hist) and scikit-learn's HistGradientBoosting it trains, per fold, on the other four
folds and predicts the held-out one, then scores the out-of-fold predictions:
  auc_rate_ge_10  AUC of a classifier for recovery rate >= 10% (the issue's metric)
  auc_material    AUC of a classifier for a material recovery (rate >= 1%)
  mae_rate        mean absolute error of a squared-error regressor of the capped rate, clipped to [0,1]
  spearman_rate   Spearman correlation of the regressor's predictions with the actual rate
  portfolio_error_pct        (sum of pred_rate x EAD - sum of rate x EAD) / sum of rate x EAD, in %
  fold_portfolio_abs_err_pct mean over the folds of |that error| (each fold taken as a package)
The static-pool baseline (segment means fitted by Go on the other folds, exported with the data)
is scored the same way. Prints one JSON document. Needs Debian's python3-xgboost, python3-sklearn.
"""
import csv
import json
import math
import sys

import numpy as np
import sklearn
import xgboost as xgb
from scipy.stats import spearmanr
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import roc_auc_score

# One set of hyper-parameters for every learner (sensible for ~3,600 training rows).
PARAMS = {
    "trees": 300,
    "learning_rate": 0.04,
    "max_depth": 3,
    "min_samples_leaf": 20,  # XGBoost: min_child_weight = 20 x the hessian of one row (see below)
    "l2": 1.0,
    "max_bins": 255,
    "subsample": 1.0,  # HistGradientBoosting has no row subsampling; none anywhere
    "seed": 0,
}


def read(dirname):
    with open(f"{dirname}/meta.json") as f:
        meta = json.load(f)
    with open(f"{dirname}/features.csv", newline="") as f:
        r = csv.reader(f)
        header = next(r)
        X = np.array([[float(v) if v != "" else np.nan for v in row] for row in r], dtype=np.float64)
    names = [m["name"] for m in meta["features"]]
    if header != names:
        raise SystemExit("features.csv header does not match meta.json")
    with open(f"{dirname}/labels.csv", newline="") as f:
        lab = list(csv.DictReader(f))
    col = lambda k: np.array([float(r[k]) for r in lab])
    y = {k: col(k) for k in ("ead", "rate", "rate_ge_10", "material", "baseline_rate", "baseline_material", "baseline_high")}
    folds = np.array([int(r["fold"]) for r in lab])
    cat = np.array([m["kind"] == "categorical" for m in meta["features"]])
    return meta, X, y, folds, cat


def xgb_model(kind, Xtr, ytr, cat):
    p = PARAMS
    if kind == "clf":
        pbar = float(np.clip(ytr.mean(), 1e-6, 1 - 1e-6))
        hess, obj = pbar * (1 - pbar), "binary:logistic"
    else:
        hess, obj = 1.0, "reg:squarederror"
    params = {
        "tree_method": "hist", "objective": obj, "eta": p["learning_rate"], "max_depth": p["max_depth"],
        "min_child_weight": p["min_samples_leaf"] * hess, "lambda": p["l2"], "max_bin": p["max_bins"],
        "subsample": p["subsample"], "seed": p["seed"], "nthread": 2, "max_cat_to_onehot": 1,
    }
    ft = ["c" if c else "q" for c in cat]
    d = xgb.DMatrix(Xtr, label=ytr, feature_types=ft, enable_categorical=True)
    booster = xgb.train(params, d, num_boost_round=p["trees"])
    return lambda X: booster.predict(xgb.DMatrix(X, feature_types=ft, enable_categorical=True))


def sk_model(kind, Xtr, ytr, cat):
    p = PARAMS
    common = dict(learning_rate=p["learning_rate"], max_iter=p["trees"], max_depth=p["max_depth"], max_leaf_nodes=None,
                  min_samples_leaf=p["min_samples_leaf"], l2_regularization=p["l2"], max_bins=p["max_bins"],
                  categorical_features=cat, early_stopping=False, random_state=p["seed"])
    if kind == "clf":
        m = HistGradientBoostingClassifier(**common).fit(Xtr, ytr)
        return lambda X: m.predict_proba(X)[:, 1]
    m = HistGradientBoostingRegressor(loss="squared_error", **common).fit(Xtr, ytr)
    return m.predict


def oof(fit, X, y, folds, cat):
    out = {k: np.zeros(len(folds)) for k in ("high", "material", "rate")}
    for f in sorted(set(folds)):
        tr, te = folds != f, folds == f
        out["high"][te] = fit("clf", X[tr], y["rate_ge_10"][tr], cat)(X[te])
        out["material"][te] = fit("clf", X[tr], y["material"][tr], cat)(X[te])
        out["rate"][te] = fit("reg", X[tr], y["rate"][tr], cat)(X[te])
    return out


def score(pred, y, folds):
    rate = np.clip(pred["rate"], 0, 1)
    actual = y["rate"] * y["ead"]
    predicted = rate * y["ead"]
    fold_err = [abs(predicted[folds == f].sum() - actual[folds == f].sum()) / actual[folds == f].sum() * 100
                for f in sorted(set(folds))]
    r = {
        "auc_rate_ge_10": roc_auc_score(y["rate_ge_10"], pred["high"]),
        "auc_material": roc_auc_score(y["material"], pred["material"]),
        "mae_rate": float(np.mean(np.abs(rate - y["rate"]))),
        "spearman_rate": float(spearmanr(rate, y["rate"]).correlation),
        "portfolio_error_pct": float((predicted.sum() - actual.sum()) / actual.sum() * 100),
        "fold_portfolio_abs_err_pct": float(np.mean(fold_err)),
    }
    return {k: round(v, 4) for k, v in r.items()}


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    meta, X, y, folds, cat = read(sys.argv[1])
    results = {
        "xgboost": score(oof(xgb_model, X, y, folds, cat), y, folds),
        "sklearn_hgb": score(oof(sk_model, X, y, folds, cat), y, folds),
        "baseline_static_pool": score({"high": y["baseline_high"], "material": y["baseline_material"], "rate": y["baseline_rate"]}, y, folds),
    }
    doc = {
        "data": {"feature_set": meta["feature_set"], "fingerprint": meta["fingerprint"], "rows": len(folds),
                 "features": X.shape[1], "categorical": int(cat.sum()), "folds": int(len(set(folds))),
                 "rate_ge_10_share": round(float(y["rate_ge_10"].mean()), 4),
                 "ead_weighted_rate": round(float((y["rate"] * y["ead"]).sum() / y["ead"].sum()), 4)},
        "params": PARAMS,
        "versions": {"xgboost": xgb.__version__, "sklearn": sklearn.__version__, "numpy": np.__version__},
        "results": results,
    }
    json.dump(doc, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
