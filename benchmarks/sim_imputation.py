"""Bias and coverage of the offer effect under MAR dropout: complete cases, observed data, imputation.

Each replicate simulates one stepped-wedge study with :func:`lerendtransformeren.multilevel.
dropout.dropout_study` (15 organisations, 3 teams each, 12 families per team, 4 waves;
monotone dropout whose chance rises with a low score at the previous wave and with low
SES, while low-SES families gain less from the offer) and estimates the offer effect of
the analysis model ``y ~ C(wave) + offer + (1 | organisation/team/family)`` four ways:

* ``full``: on the data before dropout (the benchmark: what the study would have found);
* ``complete_cases``: on the families observed at all four waves only (listwise deletion);
* ``observed``: on every observed row (the mixed model's own handling of missing outcomes,
  valid when dropout depends only on what the model includes);
* ``imputed``: on ``m`` data sets completed by :func:`lerendtransformeren.impute` (joint
  multilevel model with random intercepts for organisation, team and family; predictors
  ``C(wave) + offer + C(ses) + C(ses):offer``, so SES, which drives both the dropout and
  the size of the effect, informs the imputations), pooled by Rubin's rules with
  Barnard-Rubin df.

Per route it prints the mean estimate, the bias against the population-average effect
(2.7) with its Monte Carlo SE, the empirical SE, the mean standard error, and the coverage
of the 95% interval with its Monte Carlo SE (``sqrt(p (1 - p) / R)``: 0.7 points at
R = 1,000). With ``--out`` the per-replicate estimates and the summary are written as JSON
(``tests/reference/imputation/simulation.json``, which
``tests/multilevel/test_ml_imputation_sim.py`` checks and re-computes replicates of).
Replicate ``i`` uses child ``i`` of ``SeedSequence(seed)`` (data from its first child,
imputation from its second), so any ``--n-jobs`` gives the same numbers. Run on demand::

    .venv/bin/python benchmarks/sim_imputation.py --reps 1000 --n-jobs 2 \\
        --out tests/reference/imputation/simulation.json
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import lerendtransformeren as lt
from lerendtransformeren.multilevel.dropout import dropout_study

FORMULA = "y ~ C(wave) + offer + (1 | organisation/team/family)"
PREDICTORS = "C(wave) + offer + C(ses) + C(ses):offer"
LEVELS = ("organisation", "team", "family")
ROUTES = ("full", "complete_cases", "observed", "imputed")
SETTINGS = {"m": 10, "burn": 300, "between": 100, "chains": 2}
SEED = 20261204


def _row(table: pd.DataFrame) -> list[float]:
    r = table.loc["offer"]
    return [float(r["estimate"]), float(r["se"]), float(r["df"]), float(r["ci_low"]), float(r["ci_high"])]


def replicate(i: int, seed: int = SEED, settings: dict | None = None) -> dict:
    """The four routes' (estimate, se, df, ci_low, ci_high) of the offer in replicate ``i``."""
    settings = {**SETTINGS, **(settings or {})}
    data_seq, imp_seq = np.random.SeedSequence(seed).spawn(i + 1)[i].spawn(2)
    study = dropout_study(data_seq)
    obs = study.observed
    completers = obs[obs.groupby("family")["wave"].transform("size") == 4]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # singular team variances in some replicates; estimates are valid
        out = {name: _row(lt.fit(FORMULA, d).fixed)
               for name, d in (("full", study.complete), ("complete_cases", completers), ("observed", obs))}
        imp = lt.impute(obs, "y", LEVELS, PREDICTORS, seed=imp_seq, complete=("family", "wave"),
                        n_jobs=1, progress=False, **settings)
        out["imputed"] = _row(lt.fit(FORMULA, imp).fixed)
    out["rhat_max"] = float(imp.diagnostics["rhat"].max())
    return out


def summarise(reps: list[dict], truth: float) -> pd.DataFrame:
    """Per route: mean estimate, bias and its MC SE, empirical SE, mean SE, coverage and its MC SE."""
    rows = {}
    for route in ROUTES:
        a = np.array([r[route] for r in reps])
        est, se, low, high = a[:, 0], a[:, 1], a[:, 3], a[:, 4]
        cover = float(np.mean((low <= truth) & (truth <= high)))
        rows[route] = {
            "mean": est.mean(), "bias": est.mean() - truth, "bias_mcse": est.std(ddof=1) / np.sqrt(len(est)),
            "emp_se": est.std(ddof=1), "mean_se": se.mean(), "rmse": float(np.sqrt(np.mean((est - truth) ** 2))),
            "coverage": cover, "coverage_mcse": float(np.sqrt(cover * (1 - cover) / len(est))),
            "ci_width": float(np.mean(high - low)),
        }
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=None, help="write the replicates and summary as JSON")
    args = parser.parse_args()
    truth = dropout_study(0).truth["offer_effect"]
    t0 = time.perf_counter()
    reps = Parallel(n_jobs=args.n_jobs)(delayed(replicate)(i, args.seed) for i in range(args.reps))
    seconds = time.perf_counter() - t0
    table = summarise(reps, truth)
    with pd.option_context("display.width", 160, "display.precision", 4):
        print(f"{args.reps} replicates in {seconds:.0f} s ({args.n_jobs} jobs); true offer effect {truth}")
        print(table)
        print(f"largest R-hat over replicates: {max(r['rhat_max'] for r in reps):.3f}")
    if args.out:
        payload = {"seed": args.seed, "reps": args.reps, "truth": truth, "formula": FORMULA,
                   "predictors": PREDICTORS, "levels": list(LEVELS), "settings": SETTINGS,
                   "columns": ["estimate", "se", "df", "ci_low", "ci_high"], "replicates": reps,
                   "summary": table.round(6).to_dict(orient="index"), "seconds": round(seconds)}
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(payload, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
