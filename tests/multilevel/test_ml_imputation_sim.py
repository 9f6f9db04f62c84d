"""Evidence that multilevel multiple imputation works: the simulation study and R jomo + mitml.

1. The simulation study (``benchmarks/sim_imputation.py``, stored in
   ``tests/reference/imputation/simulation.json``): under MAR dropout that depends on the
   previous wave and on SES, the offer effect is estimated from complete cases, from all
   observed rows and from imputed data. The stored summary must show what the issue asks:
   complete-case analysis biased (bias more than 4 Monte Carlo SE from 0), the imputation
   route unbiased (within 3 MC SE of the true 2.7) with 95% intervals covering at 93-97%.
   The stored replicates are tied to today's code: two of them are re-computed here and
   must be equal (the study is seeded per replicate).
2. One case against R: the same data, the same imputation model (a random intercept per
   family, as ``jomo1rancon``), the same analysis model and pooling; the pooled offer
   estimate must lie within 3 Monte Carlo SE of jomo + mitml's, and the pooled SE and the
   between-imputation variance must agree within their Monte Carlo error
   (``tests/reference/imputation/sim_case_jomo.R`` made the reference).
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lerendtransformeren.multilevel import fit, pool
from lerendtransformeren.multilevel.imputation import impute

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference" / "imputation"


@lru_cache(maxsize=1)
def sim_module():
    spec = importlib.util.spec_from_file_location("sim_imputation", ROOT / "benchmarks" / "sim_imputation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def stored() -> dict:
    return json.loads((REF / "simulation.json").read_text())


def test_stored_study_is_of_this_script():
    s, sim = stored(), sim_module()
    assert s["formula"] == sim.FORMULA and s["predictors"] == sim.PREDICTORS
    assert s["settings"] == sim.SETTINGS and tuple(s["levels"]) == sim.LEVELS
    assert s["reps"] == len(s["replicates"]) >= 300


def test_summary_is_recomputed_from_the_replicates():
    s, sim = stored(), sim_module()
    table = sim.summarise(s["replicates"], s["truth"])
    for route, row in s["summary"].items():
        for key, value in row.items():
            assert table.loc[route, key] == pytest.approx(value, abs=2e-6), (route, key)


@pytest.mark.parametrize("i", [0, 1])
def test_stored_replicates_are_reproduced(i):
    s, sim = stored(), sim_module()
    again = sim.replicate(i, s["seed"])
    # to the optimiser's precision: other numpy/scipy versions (make test-floors) move the
    # REML optimum in the 8th digit; a change of method or random stream moves the 2nd
    for route in sim.ROUTES:
        np.testing.assert_allclose(again[route], s["replicates"][i][route], rtol=1e-6, err_msg=route)


def test_complete_cases_are_biased_and_imputation_is_not():
    summary = stored()["summary"]
    cc, imp = summary["complete_cases"], summary["imputed"]
    assert abs(cc["bias"]) > 4 * cc["bias_mcse"]
    assert abs(imp["bias"]) < 3 * imp["bias_mcse"]
    assert abs(imp["bias"]) < abs(cc["bias"]) / 2


def test_imputation_intervals_cover_at_93_to_97_percent():
    summary = stored()["summary"]
    assert 0.93 <= summary["imputed"]["coverage"] <= 0.97
    # the benchmark route (before dropout) covers as a valid method should
    assert 0.93 <= summary["full"]["coverage"] <= 0.97


def test_the_chains_had_converged_in_nearly_every_replicate():
    """The largest R-hat over the 13 parameters of each replicate's imputation model (401
    draws per chain after burn-in, so single values near 1.1 occur by chance):
    below 1.1 in at least 99% of the replicates and below 1.15 in all."""
    rhat = np.array([r["rhat_max"] for r in stored()["replicates"]])
    assert np.mean(rhat < 1.1) >= 0.99
    assert rhat.max() < 1.15


# --- one case against R jomo + mitml ----------------------------------------------------------


def _case_data() -> pd.DataFrame:
    """sim_case.csv with the missed family x wave rows added, as the R script does."""
    obs = pd.read_csv(REF / "sim_case.csv")
    families = obs[["organisation", "team", "family", "goal", "ses"]].drop_duplicates()
    grid = families.merge(pd.DataFrame({"wave": range(4)}), how="cross")
    grid = grid.merge(obs[["organisation", "wave", "offer"]].drop_duplicates(), on=["organisation", "wave"])
    d = grid.merge(obs[["family", "wave", "y"]], on=["family", "wave"], how="left")
    d = d.sort_values(["family", "wave"]).reset_index(drop=True)
    d["ses"] = pd.Categorical(d["ses"], categories=["laag", "midden", "hoog"])
    return d


def test_one_case_agrees_with_jomo_and_mitml_within_monte_carlo_error():
    ref = json.loads((REF / "sim_case_jomo.json").read_text())
    data = _case_data()
    assert len(data) == ref["n_rows"] and data["y"].isna().sum() == ref["n_missing"]
    m = 40
    imp = impute(data, "y", ("family",), "C(wave) + offer + C(ses) + C(ses):offer", m=m, seed=11, burn=500,
                 between=50, chains=2, n_jobs=1, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # singular team variance in some data sets, as in lme4
        fits = [fit("y ~ C(wave) + offer + (1 | organisation/team/family)", d) for d in imp]
    pooled = pool(fits).fixed.loc["offer"]
    q = np.array([f.fixed.loc["offer", "estimate"] for f in fits])
    b_ours, b_r = q.var(ddof=1), ref["between"]
    mcse = np.sqrt(b_ours / m + b_r / ref["m"])
    assert abs(pooled["estimate"] - ref["estimate"]) < 3 * mcse
    # the between-imputation variances: an F test at the 0.1% level (two-sided)
    f_ratio = b_ours / b_r
    lo, hi = stats.f.ppf([0.0005, 0.9995], m - 1, ref["m"] - 1)
    assert lo < f_ratio < hi
    within = np.mean([f.fixed.loc["offer", "se"] ** 2 for f in fits])
    assert within == pytest.approx(ref["within"], rel=0.02)
    # the pooled SE: its Monte Carlo SD comes from the between variance (a variance from
    # m - 1 df: SD B sqrt(2 / (m - 1)), through SE = sqrt(W + (1 + 1/m) B))
    def se_sd(b, k, se):
        return (1 + 1 / k) * b * np.sqrt(2 / (k - 1)) / (2 * se)

    sd = np.hypot(se_sd(b_ours, m, pooled["se"]), se_sd(b_r, ref["m"], ref["se"]))
    assert abs(pooled["se"] - ref["se"]) < 3 * sd
