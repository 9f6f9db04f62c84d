"""Speed of lt.impute on the synthetic families (run on demand: python benchmarks/bench_impute.py).

20 imputations of the 16 PSOC items (organisation/team/professional/family, complete=
("family", "wave"): 11,436 rows), 2 chains on 2 processes, then the 20 pooled fits of the
PSOC total. The yardstick measured in the same run is one lt.fit of the analysis model on
the observed data; the script prints the times and their ratio to it (the target of the
whole job: under 60 s on 2 cores). Options: --burn, --between, --rounds.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

import lerendtransformeren as lt
from lerendtransformeren import scales

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "families.csv"
ITEMS = [f"psoc_{i:02d}" for i in range(1, 17)]
LEVELS = ("organisation", "team", "professional", "family")
MODEL = "psoc_total ~ C(wave) + offer + C(goal) + (1 | organisation/team/professional/family)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--burn", type=int, default=500)
    ap.add_argument("--between", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    d = pd.read_csv(DATA)
    observed = d.assign(psoc_total=scales.score(d, "psoc")["psoc_total"])
    print(f"load: {os.getloadavg()}")
    for r in range(args.rounds):
        t0 = time.perf_counter()
        lt.fit(MODEL, observed)
        t_fit = time.perf_counter() - t0
        t0 = time.perf_counter()
        imp = lt.impute(d, ITEMS, LEVELS, "C(wave) + offer + C(goal)", m=20, seed=2026, burn=args.burn,
                        between=args.between, chains=2, n_jobs=2, complete=("family", "wave"), progress=False)
        t_imp = time.perf_counter() - t0
        t0 = time.perf_counter()
        scored = [x.assign(psoc_total=scales.score(x, "psoc")["psoc_total"]) for x in imp]
        pooled = lt.fit(MODEL, scored)
        t_pool = time.perf_counter() - t0
        total = t_imp + t_pool
        print(f"round {r + 1}: one fit {t_fit:.2f} s; impute {t_imp:.1f} s ({t_imp / t_fit:.0f} fits); "
              f"20 pooled fits {t_pool:.1f} s; total {total:.1f} s ({total / t_fit:.0f} fits); "
              f"max R-hat {imp.diagnostics['rhat'].max():.3f}, min bulk ESS {imp.diagnostics['ess_bulk'].min():.0f}")
    print(pooled.fixed[["estimate", "se", "fmi"]].round(3).head(6))
    print(f"load: {os.getloadavg()}")


if __name__ == "__main__":
    main()
