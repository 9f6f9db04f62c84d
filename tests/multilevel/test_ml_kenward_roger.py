"""Kenward-Roger inference against pbkrtest 0.5 / lmerTest 3.1 (tests/reference/multilevel/).

The reference values were made by make_kr_reference.R (lme4 with xtol_abs = 1e-10,
ftol_abs = 1e-12; ``summary(m, ddf = "Kenward-Roger")``, ``anova(m, type = 3, ddf =
"Kenward-Roger")``, ``pbkrtest::vcovAdj``) from the CSVs written by make_data.py.

Tolerances: standard errors and the adjusted covariance 1e-4 relative, df and F 1e-4
relative, p-values 1e-5 absolute. The largest differences (about 2e-5 relative in the SEs
of nest3, slope_org and unbal3) come from the estimates, not the method: our REML optimum
and lme4's differ in theta by the optimisers' last digits (see test_ml_reference.py), and
the KR adjustment is evaluated at each side's own estimates. Evaluated at lme4's
stored theta and sigma, SEs and df agree with pbkrtest to 1e-12 in every case
(test_at_lme4s_estimates_the_method_agrees_to_rounding; asserted at 1e-9).
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

from lerendtransformeren.exceptions import SingularFitWarning, SpecificationError
from lerendtransformeren.multilevel import fit

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"


def _reference_helpers():
    """The name mapping and comparison helpers of test_ml_reference.py (importlib mode)."""
    spec = importlib.util.spec_from_file_location("_ml_reference", Path(__file__).with_name("test_ml_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _reference_helpers()
SATT_REFERENCE, _norm_r, _to_ours, r_name, rel = (
    _helpers.REFERENCE, _helpers._norm_r, _helpers._to_ours, _helpers.r_name, _helpers.rel)
KR_REFERENCE = {k: _norm_r(v) for k, v in json.loads((REF / "kr_reference.json").read_text()).items()}
CASES = sorted(k for k in KR_REFERENCE if not k.startswith("_"))


@lru_cache(maxsize=None)
def fitted(case: str):
    ref = KR_REFERENCE[case]
    data = pd.read_csv(REF / f"{ref['data']}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        return fit(ref["formula"], data, ddf="Kenward-Roger")


def test_cases_cover_the_brief():
    assert {"ri2", "nest3", "slope_resp", "slope_org", "unbal3", "singular", "factor"} <= set(CASES)
    assert KR_REFERENCE["singular"]["singular"]  # organisation variance 0
    assert max(KR_REFERENCE["factor"]["anova"]["numdf"]) > 1  # a multi-df F test


@pytest.mark.parametrize("case", CASES)
def test_fixed_effects_match_summary_with_kenward_roger(case):
    ref = KR_REFERENCE[case]["fixed"]
    fixed = fitted(case).fixed.rename(index=r_name).loc[ref["term"]]
    assert rel(fixed["estimate"], ref["estimate"]) < 1e-5
    assert rel(fixed["se"], ref["se"]) < 1e-4
    assert rel(fixed["df"], ref["df"]) < 1e-4
    assert rel(fixed["t"], ref["t"]) < 1e-4
    np.testing.assert_allclose(fixed["p"], ref["p"], rtol=0, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_adjusted_covariance_matches_vcovadj(case):
    res = fitted(case)
    ref = np.asarray(KR_REFERENCE[case]["vcov_adj"])
    order = [list(res.fixed.rename(index=r_name).index).index(t) for t in KR_REFERENCE[case]["fixed"]["term"]]
    ours = res.kenward_roger.vcov_adj[np.ix_(order, order)]
    scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert np.max(np.abs(ours - ref) / scale) < 1e-4


@pytest.mark.parametrize("case", CASES)
def test_type3_anova_matches_lmertest_kenward_roger(case):
    # a one-term table is stored as scalars (jsonlite's auto_unbox)
    ref = pd.DataFrame({k: np.atleast_1d(v) for k, v in KR_REFERENCE[case]["anova"].items()}).set_index("term")
    ours = fitted(case).anova().rename(index=r_name).loc[ref.index]
    assert list(ours["numdf"]) == list(ref["numdf"])
    assert rel(ours["F"], ref["F"]) < 1e-4
    assert rel(ours["dendf"], ref["dendf"]) < 1e-4
    np.testing.assert_allclose(ours["p"], ref["p"], rtol=0, atol=1e-5)


def test_joint_contrast_matches_contest():
    ref = KR_REFERENCE["nest3"]["contrast"]
    res = fitted("nest3")
    L = _to_ours(res, np.asarray(ref["L"], float), KR_REFERENCE["nest3"]["fixed"]["term"])
    ours = res.ftest(L)
    assert ours["numdf"] == ref["numdf"]
    assert ours["F"] == pytest.approx(ref["F"], rel=1e-4)
    assert ours["dendf"] == pytest.approx(ref["dendf"], rel=1e-4)
    assert ours["p"] == pytest.approx(ref["p"], abs=1e-5)


def test_one_df_contrast_equals_the_fixed_effect_row():
    res = fitted("unbal3")
    row = res.contrast({"orgx": 1.0}, names=["orgx"]).loc["orgx"]
    pd.testing.assert_series_equal(row, res.fixed.loc["orgx"], check_names=False)


def test_kr_standard_errors_at_least_model_based_in_balanced_design():
    ref = KR_REFERENCE["balanced"]["fixed"]
    res = fitted("balanced")
    model_se = np.sqrt(np.diag(res.kenward_roger.vcov))
    assert np.all(res.fixed["se"].to_numpy() >= model_se - 1e-12)
    assert rel(model_se, ref["se_model"]) < 1e-4
    assert np.any(res.fixed["se"].to_numpy() > model_se * (1 + 1e-6))


@pytest.mark.parametrize("case", ["nest3_reml", "slope_org", "factor_reml"])
def test_default_satterthwaite_is_unchanged(case):
    ref = SATT_REFERENCE[case]
    data = pd.read_csv(REF / f"{ref['data']}.csv")
    default = fit(ref["formula"], data)
    assert default.ddf == "Satterthwaite"
    switched = fit(ref["formula"], data, ddf="Kenward-Roger").with_ddf("Satterthwaite")
    pd.testing.assert_frame_equal(default.fixed, switched.fixed)
    pd.testing.assert_frame_equal(default.anova(), switched.anova())
    fixed = default.fixed.rename(index=r_name).loc[ref["fixed"]["term"]]
    assert rel(fixed["df"], ref["fixed"]["df"]) < 1e-3
    assert rel(fixed["se"], ref["fixed"]["se"]) < 1e-4
    assert "t-tests use Satterthwaite's df" in default.summary()


def test_with_ddf_switches_without_refitting():
    sat = fit(KR_REFERENCE["unbal3"]["formula"], pd.read_csv(REF / "unbal3.csv"))
    sat.fixed  # cached before the switch
    kr = sat.with_ddf("Kenward-Roger")
    assert kr.ddf == "Kenward-Roger" and sat.ddf == "Satterthwaite"
    assert kr.engine is sat.engine and np.array_equal(kr.theta, sat.theta)
    pd.testing.assert_frame_equal(kr.fixed, fitted("unbal3").fixed)
    assert not np.allclose(kr.fixed["df"], sat.fixed["df"])
    assert "Kenward-Roger" in kr.summary() and "Satterthwaite" not in kr.summary()
    assert kr.refit(reml=True).ddf == "Kenward-Roger"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert kr.refit(reml=False).ddf == "Satterthwaite"  # KR needs REML


def test_ml_fit_with_kenward_roger_says_to_refit_with_reml():
    data = pd.read_csv(REF / "ri2.csv")
    with pytest.raises(SpecificationError, match="REML fits only.*Refit it with REML"):
        fit("y ~ x + z + (1 | g)", data, reml=False, ddf="Kenward-Roger")
    ml = fit("y ~ x + z + (1 | g)", data, reml=False)
    with pytest.raises(SpecificationError, match="REML fits only"):
        ml.with_ddf("Kenward-Roger")
    with pytest.raises(SpecificationError, match="REML fits only"):
        ml.kenward_roger
    with pytest.raises(SpecificationError, match="ddf must be one of"):
        fit("y ~ x + z + (1 | g)", data, ddf="kenward-roger")


def test_rank_deficient_f_test_uses_the_row_space():
    res = fitted("factor")
    L = np.zeros((3, 6))
    L[0, 1] = L[1, 2] = L[2, 1] = L[2, 2] = 1.0  # third row = first + second
    full, reduced = res.ftest(L), res.ftest(L[:2])
    assert full["numdf"] == 2
    assert full["F"] == pytest.approx(reduced["F"], rel=1e-10)
    assert full["dendf"] == pytest.approx(reduced["dendf"], rel=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_at_lme4s_estimates_the_method_agrees_to_rounding(case):
    """The remaining differences above come from the optimum, not from the method."""
    from lerendtransformeren.multilevel.kenward_roger import contrast_1d, kenward_roger

    ref = KR_REFERENCE[case]
    res = fitted(case)
    theta = np.atleast_1d(np.asarray(ref["theta"], float))  # lme4's order is ours here
    beta = res.engine.evaluate(theta).beta
    kr = kenward_roger(res.engine, res.frame.X, theta, ref["sigma"], beta)
    rows = pd.DataFrame([contrast_1d(kr, l) for l in np.eye(len(beta))],
                        index=[r_name(t) for t in res.frame.x_names]).loc[ref["fixed"]["term"]]
    assert rel(rows["se"], ref["fixed"]["se"]) < 1e-9
    assert rel(rows["df"], ref["fixed"]["df"]) < 1e-9
