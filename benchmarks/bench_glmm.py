"""Speed of the nested GLMM (Laplace) against lme4::glmer and against the linear engine.

Fits the three-level logistic model ``y ~ wave + x + (1 | org/team)`` (rows within teams
within 15 organisations; teams of 20 rows) on generated data and prints, per size, the
wall time of ``fit(..., family="binomial")`` with its ``fixed`` table and of the linear
engine on the same design and rows (``fit`` of ``y_cont ~ wave + x + (1 | org/team)``, a
continuous outcome, REML, with its ``fixed`` table: Satterthwaite df for every fixed
effect), each the minimum over ``--rounds`` rounds (at least 3; ours and the linear fit
alternate within a round, so that both see the same load), the ratio and the target of
issue 13 next to it:

* at about 1,500 rows: glmer plus ``summary`` in the same run (best of as many rounds
  inside R), when Rscript with lme4 is installed; target: ours at least 10x faster;
* at 200,000 rows: ours within 5x of the linear engine's time (glmer too with
  ``--r-large``; slow: glmer takes minutes there).

Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_glmm.py
    .venv/bin/python benchmarks/bench_glmm.py --sizes 1500 200000 --rounds 5 --r-large
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lerendtransformeren.multilevel import fit

FORMULA = "y ~ wave + x + (1 | org/team)"
LINEAR = "y_cont ~ wave + x + (1 | org/team)"
R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
best <- Inf
for (i in seq_len(as.integer(args[2]))) {
  t <- system.time({m <- glmer(y ~ wave + x + (1 | org/team), data = d, family = binomial); s <- summary(m)})
  best <- min(best, t[["elapsed"]])
}
cat(sprintf("%.4f %.12g %.12g\\n", best, s$coefficients["x", "Estimate"], as.numeric(logLik(m))))
"""


def make_data(n_rows: int, seed: int = 2026) -> pd.DataFrame:
    """15 organisations, teams of 20 rows, waves 0-3, a row covariate x; about ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    n_team = max(n_rows // 20, 30)
    team = np.repeat(np.arange(n_team), 20)
    org = team % 15
    wave = np.tile(np.arange(4), 5 * n_team)
    x = rng.normal(size=team.size)
    u_org, u_team = rng.normal(0, 0.5, 15), rng.normal(0, 0.5, n_team)
    eta = -0.3 + 0.2 * wave + 0.4 * x + u_org[org] + u_team[team]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    y_cont = eta + rng.normal(size=team.size)
    return pd.DataFrame({"org": org, "team": team, "wave": wave, "x": x, "y": y, "y_cont": y_cont})


def ours(d: pd.DataFrame):
    m = fit(FORMULA, d, family="binomial")
    m.fixed
    return m


def linear(d: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit(LINEAR, d)
        m.fixed
    return m


def time_r(d: pd.DataFrame, repeats: int) -> tuple[float, float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "b.R"
        d.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(script), str(csv), str(repeats)], capture_output=True, text=True,
                             check=False)
    if out.returncode != 0:
        print("  (Rscript failed:", out.stderr.strip().splitlines()[-1:], ")")
        return None
    elapsed, est, loglik = map(float, out.stdout.split())
    return elapsed, est, loglik


def best_of_pair(fa, fb, rounds: int) -> tuple[float, float]:
    """Minimum wall times of ``fa`` and ``fb`` over ``rounds`` rounds, alternating within each."""
    ta, tb = [], []
    for _ in range(rounds):
        for fn, times in ((fa, ta), (fb, tb)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return min(ta), min(tb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1500, 200_000])
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds per size (default 7 up to 20,000 rows, else 3; at least 3)")
    parser.add_argument("--r-large", action="store_true", help="also time glmer above 10,000 rows")
    args = parser.parse_args()
    if shutil.which("Rscript") is None:
        print("Rscript not found: the glmer comparison is skipped (apt-get install r-cran-lme4).")
    print(f"model: {FORMULA}; times: minimum over the rounds (s)")
    print(f"{'rows':>8} {'rounds':>6} {'ours':>7} {'glmer':>7} {'glmer/ours':>10} {'target':>7} "
          f"{'linear':>7} {'ours/linear':>11} {'target':>7}  check")
    for n in args.sizes:
        d = make_data(n)
        rounds = max(3, args.rounds if args.rounds else (7 if n <= 20_000 else 3))
        ours(d)  # warm up (imports, caches)
        linear(d)
        t_ours, t_lin = best_of_pair(lambda: ours(d), lambda: linear(d), rounds)
        m = ours(d)
        r = time_r(d, rounds) if (n <= 10_000 or args.r_large) else None
        r_cols = f"{r[0]:7.3f} {r[0] / t_ours:9.1f}x {'>= 10x':>7}" if r else f"{'-':>7} {'-':>10} {'':>7}"
        check = f"x {m.fixed.loc['x', 'estimate']:.6f}, logLik {m.loglik:.4f}"
        if r:
            check += f" (glmer {r[1]:.6f}, {r[2]:.4f})"
        print(f"{len(d):8d} {rounds:6d} {t_ours:7.3f} {r_cols} {t_lin:7.3f} {t_ours / t_lin:10.1f}x {'<= 5x':>7}  "
              f"{check}", flush=True)


if __name__ == "__main__":
    main()
