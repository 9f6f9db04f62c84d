"""Type-I error of the GLMM tests of the offer in the study's stepped-wedge design.

The design of the study: 15 organisations (5 goals x 3; within a goal one organisation
starts the offer at wave 1, one at wave 2, one at wave 3), teams within organisations,
professionals within teams, families within professionals, each family measured in 4
waves. A binary outcome is simulated with offer effect 0 on the log-odds scale,
intercept -0.5, wave effects 0 and random intercepts with variances organisation
``--org-var`` (default 0.2), team 0.1, professional 0.2, family 1.0. Each replicate fits
``y ~ C(wave) + offer + x_org + (1 | organisation/team/professional/family)`` (and the
model without ``offer``; ``x_org`` is an organisation-level covariate, 1 for every second
organisation, effect 0) and tests the offer at alpha = 0.05 by

* Wald z (glmer's ``summary``),
* t with between-within df (``ddf="between-within"``, SAS GLIMMIX ``ddfm=bw``),
* the likelihood-ratio test with its chi-square(1) p (``anova``),
* the parametric-bootstrap LRT (``method="bootstrap"``, ``--n-boot`` samples; on the first
  ``--boot-reps`` replicates only, it is 2 x n_boot fits each) of the offer, or with
  ``--boot-term x_org`` of ``x_org``.

and ``x_org`` (a term varying only between the 15 organisations) by Wald z and
between-within t. Prints the rejection rate of each test with its exact (Clopper-Pearson) 95% Monte Carlo
interval. Seeded (``--seed``): replicate ``i`` uses child ``i`` of ``SeedSequence(seed)``.
Defaults (500 replicates, the bootstrap on 100 of them) take about 12-15 minutes on 2
idle cores (about 0.06 s per fit). Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/sim_glmm_type1.py --reps 500 --boot-reps 100 --n-jobs 2
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.glmm_results import lrt
from lerendtransformeren.multilevel.simulation import Design

F1 = "y ~ C(wave) + offer + x_org + (1 | organisation/team/professional/family)"
F0 = {"offer": "y ~ C(wave) + x_org + (1 | organisation/team/professional/family)",
      "x_org": "y ~ C(wave) + offer + (1 | organisation/team/professional/family)"}
LEVELS = ("organisation", "team", "professional", "family")


def design_data(teams: int, professionals: int, families: int) -> pd.DataFrame:
    sizes = {"organisation": 15, "team": teams, "professional": professionals, "family": families}
    d = Design(sizes, waves=4, start_wave=(1, 2, 3)).data()
    d["x_org"] = (d["organisation"] % 2 == 0).astype(float)  # an organisation-level covariate, effect 0
    return d


def one_replicate(data: pd.DataFrame, variances: dict, seq: np.random.SeedSequence, boot: bool,
                  n_boot: int, boot_term: str = "offer") -> dict:
    """Simulate one outcome under the null and return the p of each test."""
    rng = np.random.default_rng(seq)
    eta = np.full(len(data), -0.5)
    for name in LEVELS:
        codes = data[name].to_numpy()
        eta += rng.normal(0.0, np.sqrt(variances[name]), codes.max() + 1)[codes]
    d = data.copy()
    d["y"] = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta)))
    out = {"wald": np.nan, "bw": np.nan, "lrt": np.nan, "boot": np.nan, "wald_org": np.nan, "bw_org": np.nan,
           "failed": False, "singular": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m1 = fit(F1, d, family="binomial")
            m0 = fit(F0["offer"], d, family="binomial")
        except Exception:  # noqa: BLE001 - a failed fit is counted
            out["failed"] = True
            return out
        out["singular"] = m1.singular
        out["wald"] = float(m1.fixed.loc["offer", "p"])
        out["bw"] = float(m1.with_ddf("between-within").fixed.loc["offer", "p"])
        out["df_bw"] = float(m1.df[m1.frame.x_names.index("offer")])
        out["wald_org"] = float(m1.fixed.loc["x_org", "p"])
        out["bw_org"] = float(m1.with_ddf("between-within").fixed.loc["x_org", "p"])
        out["lrt"] = float(lrt(m0, m1).iloc[1]["p"])
        if boot:
            if boot_term != "offer":
                m0 = fit(F0[boot_term], d, family="binomial")
            tab = lrt(m0, m1, method="bootstrap", n_boot=n_boot, seed=seq.spawn(1)[0], n_jobs=1)
            out["boot"] = float(tab.iloc[1]["p"])
            out["boot_failed"] = int(tab.iloc[1]["n_failed"])
    return out


def _chunk(data, variances, items, n_boot, boot_term):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return [(i, one_replicate(data, variances, s, b, n_boot, boot_term)) for i, s, b in items]


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    a = 1 - level
    lo = stats.beta.ppf(a / 2, k, n - k + 1) if k > 0 else 0.0
    hi = stats.beta.ppf(1 - a / 2, k + 1, n - k) if k < n else 1.0
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500, help="replicates for Wald, between-within and chi-square LRT")
    ap.add_argument("--boot-reps", type=int, default=100, help="replicates (the first ones) with the bootstrap LRT")
    ap.add_argument("--n-boot", type=int, default=99)
    ap.add_argument("--boot-term", choices=["offer", "x_org"], default="offer",
                    help="the term the bootstrap LRT tests")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--org-var", type=float, default=0.2)
    ap.add_argument("--teams", type=int, default=3)
    ap.add_argument("--professionals", type=int, default=4)
    ap.add_argument("--families", type=int, default=3)
    ap.add_argument("--alpha", type=float, default=0.05)
    args = ap.parse_args()
    data = design_data(args.teams, args.professionals, args.families)
    variances = {"organisation": args.org_var, "team": 0.1, "professional": 0.2, "family": 1.0}
    seqs = np.random.SeedSequence(args.seed).spawn(args.reps)
    items = [(i, s, i < args.boot_reps) for i, s in enumerate(seqs)]
    # boot replicates first, spread over the chunks
    chunks = [items[j::args.n_jobs * 8] for j in range(args.n_jobs * 8)]
    t0 = time.perf_counter()
    tasks = (delayed(_chunk)(data, variances, c, args.n_boot, args.boot_term) for c in chunks if c)
    parts = Parallel(n_jobs=args.n_jobs)(tasks)
    res = pd.DataFrame([r for _, r in sorted((x for p in parts for x in p), key=lambda x: x[0])])
    elapsed = time.perf_counter() - t0
    print(f"design: 15 organisations x {args.teams} teams x {args.professionals} professionals x "
          f"{args.families} families x 4 waves = {len(data)} rows; stepped wedge (start waves 1, 2, 3)")
    print(f"truth: offer 0 (log-odds), intercept -0.5, variances {variances}")
    print(f"model: {F1}")
    print(f"alpha {args.alpha}; seed {args.seed}; {elapsed / 60:.1f} min on {args.n_jobs} jobs; "
          f"failed fits {int(res['failed'].sum())}, singular fits {int(res['singular'].sum())}; "
          f"between-within df of offer: {res['df_bw'].dropna().unique()}")
    print(f"{'test':<32} {'reps':>5} {'rejections':>10} {'type-I':>7} {'95% MC interval':>18}")
    names = {"wald": "Wald z (glmer)", "bw": "t, between-within df", "lrt": "LRT, chi-square(1)",
             "boot": f"{args.boot_term}: bootstrap LRT (B={args.n_boot})",
             "wald_org": "x_org: Wald z", "bw_org": "x_org: t, between-within df (13)"}
    for key, label in names.items():
        p = res[key].dropna()
        k, n = int((p < args.alpha).sum()), len(p)
        if n == 0:
            continue
        lo, hi = clopper_pearson(k, n)
        print(f"{label:<32} {n:5d} {k:10d} {k / n:7.3f} {f'[{lo:.3f}, {hi:.3f}]':>18}")
    if "boot" in res and res["boot"].notna().any():
        sub = res[res["boot"].notna()]
        w = "wald" if args.boot_term == "offer" else "wald_org"
        bw = w.replace("wald", "bw")
        print(f"(on the {len(sub)} bootstrap replicates: Wald {np.mean(sub[w] < args.alpha):.3f}, "
              f"between-within {np.mean(sub[bw] < args.alpha):.3f}; failed bootstrap refits "
              f"{int(sub['boot_failed'].sum())} of {len(sub) * args.n_boot})")


if __name__ == "__main__":
    main()
