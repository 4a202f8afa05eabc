#!/usr/bin/python3
"""Peers for bench/gbdt: xgboost (hist) and scikit-learn's HistGradientBoostingClassifier on the
float32 files bench/gbdt/main.go writes, with the same settings as Reclaim's run: 300 trees of
depth 6, learning rate 0.1, 256 bins, lambda 1, no subsampling, 2 threads. Prints one JSON object
per peer (the same keys as main.go's output).

Usage: OMP_NUM_THREADS=2 /usr/bin/python3 bench/gbdt/peer.py DIR [xgboost|sklearn|all]
Needs Debian's python3-xgboost and python3-sklearn (never a runtime dependency of Reclaim).
"""
import json
import os
import sys
import time

import numpy as np


def load(d, name, n, f):
    x = np.fromfile(os.path.join(d, name + "_x.f32"), dtype="<f4").reshape(n, f)
    y = np.fromfile(os.path.join(d, name + "_y.f32"), dtype="<f4")
    return x, y


def auc(y, s):
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(y, s))


def logloss(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def best_of(k, f):
    """Runs f k times; returns its result, the best wall time, that run's CPU time and all wall times."""
    best, best_cpu, runs, out = float("inf"), 0.0, [], None
    for _ in range(k):
        t0, c0 = time.perf_counter(), time.process_time()
        out = f()
        s, c = time.perf_counter() - t0, time.process_time() - c0
        runs.append(round(s, 3))
        if s < best:
            best, best_cpu = s, c
    return out, best, best_cpu, runs


def run_xgboost(meta, xtr, ytr, xte, yte, trees, depth, threads):
    import xgboost as xgb
    types = ["c" if j in meta["categorical"] else "q" for j in range(meta["features"])]
    t0, c0 = time.perf_counter(), time.process_time()
    dtrain = xgb.DMatrix(xtr, label=ytr, feature_types=types, enable_categorical=True, nthread=threads)
    t1 = time.perf_counter()
    params = {
        "objective": "binary:logistic", "tree_method": "hist", "nthread": threads, "max_depth": depth,
        "eta": 0.1, "max_bin": 256, "lambda": 1, "min_child_weight": 1, "subsample": 1,
        "colsample_bytree": 1, "max_cat_to_onehot": 1,
    }
    booster = xgb.train(params, dtrain, num_boost_round=trees)
    t2, c2 = time.perf_counter(), time.process_time()
    p, score_s, score_cpu, runs = best_of(3, lambda: booster.inplace_predict(xte))  # nthread from params
    return {
        "impl": "xgboost " + xgb.__version__, "train_rows": len(ytr), "test_rows": len(yte), "trees": trees,
        "threads": threads, "dmatrix_s": round(t1 - t0, 3), "train_s": round(t2 - t0, 3),
        "train_cpu_s": round(c2 - c0, 3), "boost_s": round(t2 - t1, 3), "auc": round(auc(yte, p), 5),
        "logloss": round(logloss(yte, p), 5), "score_s": round(score_s, 3), "score_cpu_s": round(score_cpu, 3),
        "score_runs_s": runs, "score_loans_ps": round(len(yte) / score_s),
    }


def run_sklearn(meta, xtr, ytr, xte, yte, trees, depth, threads):
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier
    cats = np.zeros(meta["features"], dtype=bool)
    cats[meta["categorical"]] = True
    # max_depth counts edges from the root as in xgboost; max_leaf_nodes=None lets depth bound the
    # tree; l2_regularization plays lambda; min_samples_leaf=1 and min_hessian_to_split are the
    # nearest to min_child_weight 1.
    clf = HistGradientBoostingClassifier(
        max_iter=trees, max_depth=depth, learning_rate=0.1, max_bins=255, l2_regularization=1.0,
        max_leaf_nodes=None, min_samples_leaf=1, early_stopping=False, categorical_features=cats,
        random_state=0)
    t0, c0 = time.perf_counter(), time.process_time()
    clf.fit(xtr, ytr)
    t1, c1 = time.perf_counter(), time.process_time()
    p, score_s, score_cpu, runs = best_of(3, lambda: clf.predict_proba(xte)[:, 1])
    return {
        "impl": "sklearn " + sklearn.__version__, "train_rows": len(ytr), "test_rows": len(yte),
        "trees": trees, "threads": int(os.environ.get("OMP_NUM_THREADS", "0")), "train_s": round(t1 - t0, 3),
        "train_cpu_s": round(c1 - c0, 3), "auc": round(auc(yte, p), 5), "logloss": round(logloss(yte, p), 5),
        "score_s": round(score_s, 3), "score_cpu_s": round(score_cpu, 3), "score_runs_s": runs,
        "score_loans_ps": round(len(yte) / score_s),
    }


def main():
    d = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else "all"
    trees = int(os.environ.get("TREES", "300"))
    depth = int(os.environ.get("DEPTH", "6"))
    threads = int(os.environ.get("OMP_NUM_THREADS", "2"))
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    xtr, ytr = load(d, "train", meta["train_rows"], meta["features"])
    xte, yte = load(d, "test", meta["test_rows"], meta["features"])
    if which in ("xgboost", "all"):
        print(json.dumps(run_xgboost(meta, xtr, ytr, xte, yte, trees, depth, threads)), flush=True)
    if which in ("sklearn", "all"):
        print(json.dumps(run_sklearn(meta, xtr, ytr, xte, yte, trees, depth, threads)), flush=True)


if __name__ == "__main__":
    main()
