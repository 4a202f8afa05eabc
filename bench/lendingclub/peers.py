#!/usr/bin/env python3
"""Peer learners on the LendingClub recovery data, with the same features, folds and training
recipe as Reclaim's default ('reclaim model train', valuation.TrainRecoveryModel; amount.go).

Usage: python3 bench/lendingclub/peers.py DIR
where DIR is what `go run ./bench/lendingclub/export` wrote (features.csv, labels.csv, meta.json).

For XGBoost (hist) and scikit-learn's HistGradientBoosting it runs, for every fold v held out:
  - the four other folds cross-fitted: for each of them w, a P(material) classifier (rate >= 1%)
    and an exposure-weighted squared-error severity regressor (the rate of the material loans
    only) trained on the three others with early stopping on w (30 rounds, at most 300 trees);
    their predictions of w (severity clamped to [0.01, 1]) are the out-of-fold predictions;
  - the final models trained on the four folds with the mean early-stopping iteration;
  - the amount calibration fitted on the out-of-fold predictions: a factor per cell of exposure
    decile x score quintile, credibility-shrunk (100 loans) towards the exposure decile's and the
    global factor, rescaled so that calibrated amounts add up to the actual ones;
  - expected rate of a held-out loan = P(material) x min(1, max(0.01, severity x factor)).
Metrics (all held out):
  auc_rate_ge_10  AUC of the expected rate for rate >= 10%
  auc_material    AUC of P(material) for a material recovery
  mae_rate        mean absolute error of the expected rate
  spearman_rate   Spearman correlation of the expected rate with the actual rate
  portfolio_error_pct        (sum of expected rate x EAD - sum of rate x EAD) / sum of rate x EAD, in %
  fold_portfolio_err_pct     that error per fold (each fold taken as a package)
  fold_portfolio_abs_err_pct mean over the folds of |that error|; fold_portfolio_max_err_pct the largest
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

# The recipe's parameters (valuation.TrainOptions defaults and defaultRecipe).
PARAMS = {
    "trees": 300,
    "early_stopping": 30,
    "learning_rate": 0.05,
    "max_depth": 4,
    "min_child_weight": 10,  # hessian; scikit-learn: min_samples_leaf = 10 / the hessian of one row
    "l2": 1.0,
    "max_bins": 255,
    "seed": 0,
    "material_threshold": 0.01,
    "exposure_bins": 10,
    "score_bins": 5,
    "prior": 100,
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


def logloss(y, p):
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def wrmse(y, p, w):
    return float(math.sqrt(np.sum(w * (y - p) ** 2) / np.sum(w)))


class XGB:
    name = "xgboost"

    def fit(self, kind, Xtr, ytr, wtr, Xes, yes, wes, cat, trees):
        p = PARAMS
        obj = "binary:logistic" if kind == "clf" else "reg:squarederror"
        params = {
            "tree_method": "hist", "objective": obj, "eta": p["learning_rate"], "max_depth": p["max_depth"],
            "min_child_weight": p["min_child_weight"], "lambda": p["l2"], "max_bin": p["max_bins"],
            "seed": p["seed"], "nthread": 2, "max_cat_to_onehot": 1,
            "eval_metric": "logloss" if kind == "clf" else "rmse",
        }
        ft = ["c" if c else "q" for c in cat]
        d = xgb.DMatrix(Xtr, label=ytr, weight=wtr, feature_types=ft, enable_categorical=True)
        if Xes is not None:
            de = xgb.DMatrix(Xes, label=yes, weight=wes, feature_types=ft, enable_categorical=True)
            b = xgb.train(params, d, num_boost_round=trees, evals=[(de, "es")], early_stopping_rounds=p["early_stopping"],
                          verbose_eval=False)
            n = b.best_iteration + 1
        else:
            b = xgb.train(params, d, num_boost_round=trees)
            n = trees
        return (lambda X: b.predict(xgb.DMatrix(X, feature_types=ft, enable_categorical=True), iteration_range=(0, n))), n


class SK:
    name = "sklearn_hgb"

    def fit(self, kind, Xtr, ytr, wtr, Xes, yes, wes, cat, trees):
        p = PARAMS
        if kind == "clf":
            pbar = float(np.clip(ytr.mean(), 1e-6, 1 - 1e-6))
            leaf = max(1, round(p["min_child_weight"] / (pbar * (1 - pbar))))
        else:
            leaf = p["min_child_weight"]
        common = dict(learning_rate=p["learning_rate"], max_iter=trees, max_depth=p["max_depth"], max_leaf_nodes=None,
                      min_samples_leaf=leaf, l2_regularization=p["l2"], max_bins=p["max_bins"],
                      categorical_features=cat, early_stopping=False, random_state=p["seed"])
        if kind == "clf":
            m = HistGradientBoostingClassifier(**common).fit(Xtr, ytr, sample_weight=wtr)
            stages = lambda X: (s[:, 1] for s in m.staged_predict_proba(X))
            loss = lambda pr: logloss(yes, pr)
        else:
            m = HistGradientBoostingRegressor(loss="squared_error", **common).fit(Xtr, ytr, sample_weight=wtr)
            stages = m.staged_predict
            loss = lambda pr: wrmse(yes, pr, wes)
        if Xes is None:
            pred = m.predict_proba if kind == "clf" else m.predict
            return (lambda X: pred(X)[:, 1]) if kind == "clf" else pred, trees
        # Early stopping as Reclaim's learner: stop after 30 rounds without a better loss, keep the best.
        best, best_i = math.inf, 0
        for i, pr in enumerate(stages(Xes)):
            l = loss(pr)
            if l < best:
                best, best_i = l, i + 1
            elif i + 1 - best_i >= p["early_stopping"]:
                break
        n = best_i

        def predict(X):
            for i, pr in enumerate(stages(X)):
                if i + 1 == n:
                    return pr
        return predict, n


def quantile_cuts(x, n):
    if n <= 1 or len(x) == 0:
        return []
    s = np.sort(x)
    cuts = []
    for k in range(1, n):
        v = s[min(len(s) - 1, k * len(s) // n)]
        if not cuts or v > cuts[-1]:
            cuts.append(v)
    return cuts


def clamp_sev(s):
    return np.clip(np.nan_to_num(s, nan=PARAMS["material_threshold"]), PARAMS["material_threshold"], 1.0)


class Calibration:
    """valuation.AmountCalibration: fitAmountCalibration and Severity."""

    def __init__(self, ead, p, sev, rate):
        P = PARAMS
        score = p * sev
        self.ec, self.sc = quantile_cuts(ead, P["exposure_bins"]), quantile_cuts(score, P["score_bins"])
        ne, ns = len(self.ec) + 1, len(self.sc) + 1
        act, pred, cnt = np.zeros((ne, ns)), np.zeros((ne, ns)), np.zeros((ne, ns))
        eb, sb = self.bins(ead, score)
        np.add.at(act, (eb, sb), ead * rate)
        np.add.at(pred, (eb, sb), ead * score)
        np.add.at(cnt, (eb, sb), 1)
        ga, gp = act.sum(), pred.sum()
        ratio = lambda a, b, d: a / b if b > 0 and a >= 0 else d
        g = ratio(ga, gp, 1.0)
        shrink = lambda a, b, n, parent: (n * ratio(a, b, parent) + P["prior"] * parent) / (n + P["prior"])
        self.f = np.zeros((ne, ns))
        for e in range(ne):
            fe = shrink(act[e].sum(), pred[e].sum(), cnt[e].sum(), g)
            for s in range(ns):
                self.f[e, s] = shrink(act[e, s], pred[e, s], cnt[e, s], fe)
        for _ in range(4):
            pa = np.sum(ead * p * self.severity(ead, p, sev))
            k = ratio(ga, pa, 1.0)
            if abs(k - 1) < 1e-12:
                break
            self.f *= k

    def bins(self, ead, score):
        # Go's slices.BinarySearch: the first cut >= x
        return np.searchsorted(self.ec, ead, side="left"), np.searchsorted(self.sc, score, side="left")

    def severity(self, ead, p, sev):
        eb, sb = self.bins(ead, p * sev)
        return clamp_sev(sev * self.f[eb, sb])


def recipe(learner, X, y, folds, cat, v):
    """Reclaim's default recipe with fold v held out: held-out P(material) and expected rates."""
    P = PARAMS
    ead, rate, mat = y["ead"], y["rate"], y["material"]
    w = ead / ead.mean()
    ismat = rate >= P["material_threshold"]
    train = folds != v
    oof_p, oof_s = np.zeros(len(folds)), np.zeros(len(folds))
    mt, st = [], []
    for f in sorted(set(folds[train])):
        tr, es = train & (folds != f), folds == f
        m, n1 = learner.fit("clf", X[tr], mat[tr], None, X[es], mat[es], None, cat, P["trees"])
        s, n2 = learner.fit("reg", X[tr & ismat], rate[tr & ismat], w[tr & ismat], X[es & ismat], rate[es & ismat],
                            w[es & ismat], cat, P["trees"])
        oof_p[es] = np.clip(m(X[es]), 0, 1)
        oof_s[es] = clamp_sev(s(X[es]))
        mt.append(n1)
        st.append(n2)
    nm, ns = max(1, math.floor(np.mean(mt) + 0.5)), max(1, math.floor(np.mean(st) + 0.5))
    m, _ = learner.fit("clf", X[train], mat[train], None, None, None, None, cat, nm)
    s, _ = learner.fit("reg", X[train & ismat], rate[train & ismat], w[train & ismat], None, None, None, cat, ns)
    cal = Calibration(ead[train], oof_p[train], oof_s[train], rate[train])
    te = folds == v
    p = np.clip(m(X[te]), 0, 1)
    sev = cal.severity(ead[te], p, clamp_sev(s(X[te])))
    return te, p, p * sev


def oof(learner, X, y, folds, cat):
    out = {"material": np.zeros(len(folds)), "rate": np.zeros(len(folds))}
    for v in sorted(set(folds)):
        te, p, r = recipe(learner, X, y, folds, cat, v)
        out["material"][te], out["rate"][te] = p, r
    return out


def score(pred, y, folds):
    rate = pred["rate"]
    actual = y["rate"] * y["ead"]
    predicted = rate * y["ead"]
    fold_err = [(predicted[folds == f].sum() - actual[folds == f].sum()) / actual[folds == f].sum() * 100
                for f in sorted(set(folds))]
    r = {
        "auc_rate_ge_10": roc_auc_score(y["rate_ge_10"], rate),
        "auc_material": roc_auc_score(y["material"], pred["material"]),
        "mae_rate": float(np.mean(np.abs(rate - y["rate"]))),
        "spearman_rate": float(spearmanr(rate, y["rate"]).correlation),
        "portfolio_error_pct": float((predicted.sum() - actual.sum()) / actual.sum() * 100),
        "fold_portfolio_abs_err_pct": float(np.mean(np.abs(fold_err))),
        "fold_portfolio_max_err_pct": float(np.max(np.abs(fold_err))),
    }
    r = {k: round(v, 4) for k, v in r.items()}
    r["fold_portfolio_err_pct"] = [round(float(e), 4) for e in fold_err]
    return r


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    meta, X, y, folds, cat = read(sys.argv[1])
    results = {
        "xgboost": score(oof(XGB(), X, y, folds, cat), y, folds),
        "sklearn_hgb": score(oof(SK(), X, y, folds, cat), y, folds),
        "baseline_static_pool": score({"material": y["baseline_material"], "rate": y["baseline_rate"]}, y, folds),
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
