"""Speed of the nested REML engine against statsmodels MixedLM and R lme4/lmerTest.

Fits the three-level random-intercept model ``y ~ wave + (1 | org/team/person)`` on
generated data (15 organisations, teams of 10 persons, 4 waves) and prints, per size, the
wall time of our engine (fit plus Satterthwaite df for every fixed effect), of statsmodels
MixedLM (organisation groups, team and person as variance components; small sizes only)
and, when Rscript with lmerTest is installed, of ``lmerTest::lmer`` plus ``summary`` in the
same run, with the ratios. Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_engine.py                 # 1,500 and 40,000 rows
    .venv/bin/python benchmarks/bench_engine.py --sizes 1500 40000 1000000
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

FORMULA = "y ~ wave + (1 | org/team/person)"
R_SCRIPT = """
suppressPackageStartupMessages(library(lmerTest))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
t <- system.time({m <- lmer(y ~ wave + (1 | org/team/person), data = d); s <- summary(m)})
cat(sprintf("%.4f %.12g %.12g\\n", t[["elapsed"]], s$coefficients["wave", "Estimate"], REMLcrit(m)))
"""


def make_data(n_rows: int, seed: int = 2026) -> pd.DataFrame:
    """15 organisations, teams of 10 persons, 4 waves; about ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    n_person = max(n_rows // 4, 15 * 10 * 2)
    person = np.arange(n_person)
    team = person // 10
    org = team % 15
    rows = np.repeat(person, 4)
    wave = np.tile(np.arange(4), n_person)
    y = (rng.normal(0, 0.5, 15)[org[rows]] + rng.normal(0, 0.5, team.max() + 1)[team[rows]]
         + rng.normal(0, 1.0, n_person)[rows] + 0.2 * wave + rng.normal(size=rows.size))
    return pd.DataFrame({"org": org[rows], "team": team[rows], "person": rows, "wave": wave, "y": y})


def time_ours(d: pd.DataFrame) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    res = fit(FORMULA, d)
    res.fixed  # Satterthwaite df for every fixed effect
    return time.perf_counter() - t0, res.fixed.loc["wave", "estimate"], res.reml_criterion


def time_statsmodels(d: pd.DataFrame) -> tuple[float, float]:
    from statsmodels.regression.mixed_linear_model import MixedLM

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MixedLM.from_formula("y ~ wave", d, groups="org", re_formula="1",
                                     vc_formula={"team": "0 + C(team)", "person": "0 + C(person)"})
        res = model.fit(reml=True)
    return time.perf_counter() - t0, res.fe_params["wave"]


def time_r(d: pd.DataFrame) -> tuple[float, float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "b.R"
        d.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    elapsed, est, crit = map(float, out.stdout.split())
    return elapsed, est, crit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1500, 40000])
    parser.add_argument("--statsmodels-max", type=int, default=40000, help="largest size for MixedLM")
    parser.add_argument("--no-r", action="store_true", help="skip R lme4/lmerTest")
    args = parser.parse_args()
    print(f"model: {FORMULA}", flush=True)
    print(f"{'rows':>9} {'ours s':>8} {'sm s':>8} {'sm/ours':>8} {'R s':>7} {'R/ours':>7}  check")
    for size in args.sizes:
        d = make_data(size)
        ours, est, crit = time_ours(d)
        line = f"{len(d):>9} {ours:8.3f}"
        notes = [f"wave {est:.5f}"]
        if len(d) <= args.statsmodels_max:
            sm, sm_est = time_statsmodels(d)
            line += f" {sm:8.2f} {sm / ours:8.1f}"
            notes.append(f"sm wave {sm_est:.5f}")
        else:
            line += f" {'-':>8} {'-':>8}"
        r = None if args.no_r else time_r(d)
        if r is not None:
            line += f" {r[0]:7.2f} {r[0] / ours:7.1f}"
            notes.append(f"R wave {r[1]:.5f}, REMLcrit diff {crit - r[2]:.1e}")
        else:
            line += f" {'-':>7} {'-':>7}"
        print(line + "  " + "; ".join(notes), flush=True)


if __name__ == "__main__":
    main()
