"""Speed and convergence of lt.impute on the synthetic families, next to R jomo (run on demand).

    python benchmarks/bench_impute.py [--case scales|items] [--burn 500] [--between 50] [--rounds 1] [--no-jomo]

``--case scales`` (the default; issue 15's benchmark: the families data, about 9,600 rows,
three levels): 20 imputations of four scale scores with missing values (PSOC total,
mastery, social support, SDM-Q-9; from skipped items and from dropout) with random
intercepts for organisation, team and family, ``complete=("family", "wave")`` (11,436
rows), predictors the goal reports' pooled model plus SES and migration background, 2
chains on 2 processes; then the 20 pooled fits of the goal reports' model of the PSOC total.
``--case items``: the 16 PSOC items with levels organisation (fixed) / team / professional /
family, then the PSOC total scored from every completed set (a larger model: 16 variables,
four levels).
Measured in the same run: R jomo (benchmarks/bench_impute_jomo.R: ``jomo1rancon`` with a
random intercept per family and the same predictors in X, the closest model jomo has;
same m, burn-in and between, one chain) on the same rows, and one lt.fit of the analysis
model. Printed: the times, the ratio to jomo, the ratio of the whole job to its target
(under 60 s on 2 cores, issue 15), the load average, and R-hat/ESS per parameter block
(with ``--case items`` also of the variance of the item sum per level).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import lerendtransformeren as lt
from lerendtransformeren import scales
from lerendtransformeren.exceptions import SingularFitWarning
from lerendtransformeren.multilevel.imputation_diagnostics import ess_bulk, rhat

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "synthetic" / "families.csv"
ITEMS = [f"psoc_{i:02d}" for i in range(1, 17)]
SCALES = {"psoc": "psoc_total", "mastery": "mastery_total", "support": "support_mean", "sdmq9": "sdmq9_total"}
TARGET = 60.0
CASES = {
    "scales": {
        "variables": list(SCALES.values()), "levels": ("organisation", "team", "family"), "fixed_levels": (),
        "predictors": "C(wave) + C(goal) + C(goal):offer + C(ses) + C(migration_background)",
        "model": "psoc_total ~ C(wave) + C(goal) + C(goal):offer + (1 | organisation/team/family)",
        "jomo_x": "~ factor(wave) + factor(goal) + factor(goal):offer + factor(ses) + factor(migration_background)",
    },
    "items": {
        "variables": ITEMS, "levels": ("organisation", "team", "professional", "family"),
        "fixed_levels": ("organisation",), "predictors": "C(wave) + offer + C(goal)",
        "model": "psoc_total ~ C(wave) + offer + C(goal) + (1 | organisation/team/professional/family)",
        "jomo_x": "~ factor(wave) + offer + factor(organisation)",
    },
}


def jomo_seconds(frame: pd.DataFrame, case: dict, m: int, burn: int, between: int) -> float | None:
    """Seconds of R jomo on the same rows (None without Rscript)."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False)
        out = subprocess.run(["Rscript", str(HERE / "bench_impute_jomo.R"), str(path), str(m), str(burn),
                              str(between), ",".join(case["variables"]), case["jomo_x"]],
                             capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("jomo_seconds"))
    print("  " + line)
    return float(line.split()[1])


def sum_variances(imp) -> pd.DataFrame:
    """R-hat and bulk ESS of the variance of the item sum (1' Sigma_l 1) per level."""
    names, draws = imp.traces["names"], imp.traces["draws"]
    rows = {}
    for lev in [*imp.settings["levels"], "residual"]:
        idx = [i for i, n in enumerate(names) if n.startswith(f"Sigma[{lev}]")]
        pairs = [names[i].split("][")[1].rstrip("]").split(", ") for i in idx]
        w = np.array([1.0 if a == b else 2.0 for a, b in pairs])
        total = (draws[:, :, idx] * w).sum(axis=2, keepdims=True)
        rows[lev] = {"mean": total.mean(), "rhat": rhat(total)[0], "ess_bulk": ess_bulk(total)[0]}
    return pd.DataFrame(rows).T


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=sorted(CASES), default="scales")
    ap.add_argument("--burn", type=int, default=500)
    ap.add_argument("--between", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-jomo", action="store_true")
    args = ap.parse_args()
    case = CASES[args.case]
    d = pd.read_csv(DATA)
    scores = scales.score(d, list(SCALES))
    if args.case == "scales":  # the scale scores instead of their items
        items = [c for c in d.columns if c.split("_")[0] in ("sdq", "psoc", "mastery", "support", "sdmq",
                                                              "kidscreen", "gas") and c[-2:].isdigit()]
        d = d.drop(columns=items).assign(**{v: scores[v] for v in SCALES.values()})
    observed = d.assign(psoc_total=scores["psoc_total"])
    variables = case["variables"]
    print(f"case {args.case}: {len(variables)} variables, levels {case['levels']} "
          f"(fixed: {case['fixed_levels'] or 'none'}); load before: {os.getloadavg()}")
    for r in range(args.rounds):
        t0 = time.perf_counter()
        lt.fit(case["model"], observed)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        imp = lt.impute(d, variables, case["levels"], case["predictors"], m=20, seed=2026, burn=args.burn,
                        between=args.between, chains=2, n_jobs=2, complete=("family", "wave"),
                        fixed_levels=case["fixed_levels"], progress=False)
        t_imp = time.perf_counter() - t0
        t0 = time.perf_counter()
        sets = imp.datasets if args.case == "scales" else [
            x.assign(psoc_total=scales.score(x, "psoc")["psoc_total"]) for x in imp]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SingularFitWarning)
            pooled = lt.fit(case["model"], sets)
        t_pool = time.perf_counter() - t0
        total = t_imp + t_pool
        print(f"round {r + 1}: one fit {t_fit:.2f} s; impute {t_imp:.1f} s; 20 pooled fits {t_pool:.1f} s; "
              f"total {total:.1f} s = {total / TARGET:.2f} x the {TARGET:.0f} s target ({total / t_fit:.0f} fits)")
        if not args.no_jomo:
            frame = imp.datasets[0].copy()
            frame.loc[:, variables] = frame[variables].where(~_missing(d, frame, variables), np.nan)
            t_jomo = jomo_seconds(frame, case, 20, args.burn, args.between)
            if t_jomo is not None:
                print(f"  lt.impute {t_imp:.1f} s vs R jomo (one random level, one chain) {t_jomo:.1f} s: "
                      f"jomo / ours {t_jomo / t_imp:.2f}")
    diag = imp.diagnostics
    group = diag.index.str.extract(r"^(B|Sigma\[[a-z]+\])")[0].to_numpy()
    print(diag.groupby(group).agg(rhat_max=("rhat", "max"), rhat_median=("rhat", "median"),
                                  ess_bulk_min=("ess_bulk", "min")).round(3))
    if args.case == "items":
        print("variance of the item sum per level:")
        print(sum_variances(imp).round(3))
    print(pooled.fixed[["estimate", "se", "fmi"]].round(3).head(10))
    print(f"load after: {os.getloadavg()}")


def _missing(d: pd.DataFrame, frame: pd.DataFrame, variables) -> pd.DataFrame:
    """The cells missing before imputation (observed rows as in ``d``, added rows all missing)."""
    miss = pd.DataFrame(True, index=frame.index, columns=variables)
    miss.iloc[:len(d)] = d[variables].isna().to_numpy()
    return miss


if __name__ == "__main__":
    main()
