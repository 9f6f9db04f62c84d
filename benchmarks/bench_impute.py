"""Speed and convergence of lt.impute on the synthetic families, next to R jomo (run on demand).

    python benchmarks/bench_impute.py [--burn 500] [--between 100] [--rounds 1] [--no-jomo]

20 imputations of the 16 PSOC items (levels organisation/team/professional/family with the
organisations as fixed effects, complete=("family", "wave"): 11,436 rows), 2 chains on 2
processes, then the 20 pooled fits of the PSOC total. Measured in the same run: R jomo
(benchmarks/bench_impute_jomo.R: jomo1rancon, a random intercept per family with
organisation dummies in X, the closest model jomo has, same m, burn-in and between, one
chain) on the same completed rows, and one lt.fit of the analysis model. Printed: the times,
the ratio to jomo, the ratio to the target of the whole job (under 60 s on 2 cores, issue
15), the load average, and R-hat/ESS of B, of the variance components, and of the
variance of the item sum per level (what the analysis of the PSOC total uses).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import lerendtransformeren as lt
from lerendtransformeren import scales
from lerendtransformeren.multilevel.imputation_diagnostics import ess_bulk, rhat

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data" / "synthetic" / "families.csv"
ITEMS = [f"psoc_{i:02d}" for i in range(1, 17)]
LEVELS = ("organisation", "team", "professional", "family")
MODEL = "psoc_total ~ C(wave) + offer + C(goal) + (1 | organisation/team/professional/family)"
TARGET = 60.0


def jomo_seconds(frame: pd.DataFrame, m: int, burn: int, between: int) -> float | None:
    """Seconds of R jomo on the same rows (None without Rscript)."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        frame.to_csv(path, index=False)
        out = subprocess.run(["Rscript", str(HERE / "bench_impute_jomo.R"), str(path), str(m), str(burn),
                              str(between)], capture_output=True, text=True, check=True).stdout
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
    ap.add_argument("--burn", type=int, default=500)
    ap.add_argument("--between", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-jomo", action="store_true")
    args = ap.parse_args()
    d = pd.read_csv(DATA)
    observed = d.assign(psoc_total=scales.score(d, "psoc")["psoc_total"])
    print(f"load before: {os.getloadavg()}")
    for r in range(args.rounds):
        t0 = time.perf_counter()
        lt.fit(MODEL, observed)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        imp = lt.impute(d, ITEMS, LEVELS, "C(wave) + offer + C(goal)", m=20, seed=2026, burn=args.burn,
                        between=args.between, chains=2, n_jobs=2, complete=("family", "wave"),
                        fixed_levels=("organisation",), progress=False)
        t_imp = time.perf_counter() - t0
        t0 = time.perf_counter()
        scored = [x.assign(psoc_total=scales.score(x, "psoc")["psoc_total"]) for x in imp]
        pooled = lt.fit(MODEL, scored)
        t_pool = time.perf_counter() - t0
        total = t_imp + t_pool
        print(f"round {r + 1}: one fit {t_fit:.2f} s; impute {t_imp:.1f} s; 20 pooled fits {t_pool:.1f} s; "
              f"total {total:.1f} s = {total / TARGET:.2f} x the {TARGET:.0f} s target ({total / t_fit:.0f} fits)")
        if not args.no_jomo:
            frame = imp.datasets[0].copy()
            frame.loc[:, ITEMS] = imp.datasets[0][ITEMS].where(~_missing(d, frame), np.nan)
            t_jomo = jomo_seconds(frame, 20, args.burn, args.between)
            if t_jomo is not None:
                print(f"  lt.impute {t_imp:.1f} s vs R jomo (one random level, one chain) {t_jomo:.1f} s: "
                      f"ratio {t_imp / t_jomo:.2f}")
    diag = imp.diagnostics
    group = diag.index.str.extract(r"^(B|Sigma\[[a-z]+\])")[0].to_numpy()
    print(diag.groupby(group).agg(rhat_max=("rhat", "max"), rhat_median=("rhat", "median"),
                                  ess_bulk_min=("ess_bulk", "min")).round(3))
    print("variance of the item sum per level:")
    print(sum_variances(imp).round(3))
    print(pooled.fixed[["estimate", "se", "fmi"]].round(3).head(6))
    print(f"load after: {os.getloadavg()}")


def _missing(d: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The item cells missing before imputation (observed rows as in ``d``, added rows all missing)."""
    miss = pd.DataFrame(True, index=frame.index, columns=ITEMS)
    miss.iloc[:len(d)] = d[ITEMS].isna().to_numpy()
    return miss


if __name__ == "__main__":
    main()
