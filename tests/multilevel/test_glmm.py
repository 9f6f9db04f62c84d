"""Unit tests of the nested GLMM: errors, the family warning, predictions, ratios, LRT,
the exact gradient and determinism. Agreement with lme4 is in test_glmm_reference.py."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import lerendtransformeren as lt
from lerendtransformeren.exceptions import (
    DataError,
    FamilyWarning,
    SingularFitWarning,
    SpecificationError,
)
from lerendtransformeren.multilevel import GLMMResult, fit, lrt
from lerendtransformeren.multilevel.frame import build_frame
from lerendtransformeren.multilevel.glmm import FAMILIES, GLMMEngine, gauss_hermite
from lerendtransformeren.multilevel.glmm_results import family_hint

REF = Path(__file__).resolve().parents[1] / "reference" / "glmm"
F3 = "y_bin ~ wave + offer + x + (1 | organisation/team)"


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    return pd.read_csv(REF / "nested.csv")


@pytest.fixture(scope="module")
def m3(nested) -> GLMMResult:
    return fit(F3, nested, family="binomial")


# -- the family warning ----------------------------------------------------------------------
def test_linear_fit_on_binary_outcome_warns(nested):
    with pytest.warns(FamilyWarning) as rec:
        fit("y_bin ~ wave + (1 | organisation/team)", nested)
    text = str(rec[0].message)
    assert 'family="binomial"' in text and "lerendtransformeren.multilevel.gee" in text and "'y_bin'" in text


def test_linear_fit_on_counts_with_many_zeros_warns():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"g": np.repeat(np.arange(30), 8), "x": rng.normal(size=240)})
    d["y"] = rng.poisson(np.exp(-0.5 + rng.normal(0, 0.5, 30)[d["g"]]))
    assert (d["y"] == 0).mean() >= 0.3
    with pytest.warns(FamilyWarning, match='family="poisson"'):
        fit("y ~ x + (1 | g)", d)


def test_no_family_warning_for_scores_or_counts_without_zeros(nested):
    d = nested.assign(score=nested["x"] * 2 + 10, visits=nested["y_cnt"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FamilyWarning)
        warnings.simplefilter("ignore", SingularFitWarning)
        fit("score ~ wave + (1 | organisation/team)", d)
        fit("visits ~ wave + (1 | organisation/team)", d)


def test_family_hint():
    assert family_hint(np.array([0, 1, 1, np.nan])) == "binomial"
    assert family_hint(np.array([0, 0, 0, 1, 2, 5])) == "poisson"
    assert family_hint(np.array([1, 2, 3, 4, 0])) is None  # 20% zeros
    assert family_hint(np.array([0.5, 1.0, 0.0])) is None
    assert family_hint(np.array([1.0, 1.0])) is None


# -- bad input -------------------------------------------------------------------------------
def test_binomial_needs_0_1_and_names_column_and_rows(nested):
    d = nested.copy()
    d.loc[[3, 17], "y_bin"] = 2.0
    with pytest.raises(DataError, match=r"'y_bin'.*rows \[3, 17\]"):
        fit(F3, d, family="binomial")


def test_poisson_rejects_negative_and_fractional_counts(nested):
    d = nested.copy()
    d.loc[5, "y_cnt"] = -1.0
    with pytest.raises(DataError, match=r"'y_cnt'.*rows \[5\]"):
        fit("y_cnt ~ wave + (1 | organisation)", d, family="poisson")
    d.loc[5, "y_cnt"] = 1.5
    with pytest.raises(DataError, match="whole numbers"):
        fit("y_cnt ~ wave + (1 | organisation)", d, family="poisson")


def test_adaptive_quadrature_needs_one_scalar_term(nested):
    with pytest.raises(SpecificationError, match="single scalar random intercept"):
        fit(F3, nested, family="binomial", nagq=5)
    with pytest.raises(SpecificationError, match="single scalar random intercept"):
        fit("y_bin ~ wave + (1 + wave | organisation)", nested, family="binomial", nagq=5)


@pytest.mark.parametrize("nagq", [0, 26, 2.5, True])
def test_nagq_must_be_a_whole_number_from_1_to_25(nested, nagq):
    with pytest.raises(SpecificationError, match="nagq"):
        fit("y_bin ~ wave + (1 | organisation)", nested, family="binomial", nagq=nagq)


def test_bad_family_and_nagq_without_family(nested):
    with pytest.raises(SpecificationError, match="family must be one of"):
        fit(F3, nested, family="gaussian")
    with pytest.raises(SpecificationError, match="GLMMs only"):
        fit("x ~ wave + (1 | organisation)", nested, nagq=5)
    with pytest.raises(SpecificationError, match="engine='nested'"):
        fit(F3, nested, family="binomial", engine="statsmodels")
    with pytest.raises(SpecificationError, match="Wald"):
        fit(F3, nested, family="binomial", ddf="Kenward-Roger")


def test_constant_outcome(nested):
    with pytest.raises(DataError, match="every row"):
        fit("one ~ wave + (1 | organisation)", nested.assign(one=1.0), family="binomial")


# -- outcome coding --------------------------------------------------------------------------
def test_bool_and_two_level_outcomes_equal_0_1(nested, m3):
    d = nested.dropna(subset=["y_bin"])
    as_bool = fit(F3, d.assign(y_bin=d["y_bin"] == 1), family="binomial")
    as_text = fit(F3, d.assign(y_bin=np.where(d["y_bin"] == 1, "ja", "nee")), family="binomial")
    np.testing.assert_allclose(as_bool.beta, m3.beta, rtol=1e-10)
    # "ja" < "nee": "nee" is the second level, coded 1, so the signs flip (another path of
    # the optimiser, the same optimum to far below the standard errors of about 0.1-0.3)
    np.testing.assert_allclose(as_text.beta, -m3.beta, rtol=1e-5, atol=1e-6)
    assert as_text.outcome_levels == ("ja", "nee")
    with pytest.raises(DataError, match="3 distinct values"):
        fit(F3, d.assign(y_bin=np.array(["a", "b", "c"])[np.arange(len(d)) % 3]), family="binomial")


# -- the result ------------------------------------------------------------------------------
def test_row_accounting(nested, m3):
    n = m3.n["n"]
    assert n["rows in data"] == len(nested)
    assert n["rows left out: outcome missing"] == int(nested["y_bin"].isna().sum()) == 29
    assert n["rows used"] == len(nested) - 29
    assert n["units: organisation"] == 12 and n["units: organisation:team"] == 36


def test_predict_types(nested, m3):
    link, resp = m3.predict(type="link"), m3.predict(type="response")
    np.testing.assert_allclose(resp, expit(link), rtol=1e-12)
    pop = m3.predict(type="link", re=False)
    np.testing.assert_allclose(pop, m3.frame.X @ m3.beta, rtol=1e-12)
    # new data: a known team gets its modes, an unknown organisation the fixed part only
    new = nested.iloc[[0, 1]].copy()
    new.loc[new.index[1], "organisation"] = "O99"
    p = m3.predict(new, type="link")
    assert p.iloc[0] == pytest.approx(link.loc[0])
    assert p.iloc[1] == pytest.approx(float(m3.beta @ [1.0, new["wave"].iloc[1], new["offer"].iloc[1], new["x"].iloc[1]]))
    with pytest.raises(SpecificationError, match="type"):
        m3.predict(type="probability")


def test_ratios_are_exp_of_wald(m3):
    r = m3.ratios()
    assert r.attrs["name"] == "odds ratio"
    np.testing.assert_allclose(r["ratio"], np.exp(m3.fixed["estimate"]))
    np.testing.assert_allclose(r["ci_low"], np.exp(m3.fixed["ci_low"]))
    np.testing.assert_allclose(r["ci_high"], np.exp(m3.fixed["ci_high"]))
    r90 = m3.ratios(conf_level=0.90)
    assert (r90["ci_low"] > r["ci_low"]).all() and (r90["ci_high"] < r["ci_high"]).all()


def test_poisson_rate_ratios_and_summary(nested):
    m = fit("y_cnt ~ wave + offer + (1 | organisation/team)", nested, family="poisson")
    assert m.ratios().attrs["name"] == "rate ratio"
    np.testing.assert_allclose(m.predict(type="response"), np.exp(m.predict()), rtol=1e-12)
    text = m.summary()
    assert "Family: poisson (log)" in text and "Laplace" in text
    assert "GLMMResult" in repr(m)


def test_variance_and_ranef_tables(m3):
    v = m3.variance
    assert list(v.index) == [("organisation:team", "Intercept"), ("organisation", "Intercept")]
    np.testing.assert_allclose(v["sd"], m3.theta)
    r = m3.ranef("team", condsd=True)
    assert list(r.columns) == ["Intercept", "sd Intercept"] and len(r) == 36 and r.index.is_monotonic_increasing
    assert (r["sd Intercept"] < m3.theta[0]).all()  # the data shrink the prior SD
    with pytest.raises(SpecificationError, match="Unknown level"):
        m3.ranef("region")


def test_singular_fit_warns(nested):
    with pytest.warns(SingularFitWarning):
        m = fit("y_rare ~ wave + (1 | organisation/team/professional)", nested, family="binomial")
    assert m.singular and m.converged


def test_lrt_between_glmms(nested, m3):
    m0 = fit("y_bin ~ wave + x + (1 | organisation/team)", nested, family="binomial")
    a, b = lrt(m0, m3), lt.multilevel.lrt(m3, m0)
    pd.testing.assert_frame_equal(a, b)
    assert a["df"].iloc[1] == 1 and a["chisq"].iloc[1] == pytest.approx(2 * (m3.loglik - m0.loglik))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        lin = fit("x ~ wave + (1 | organisation/team)", nested)
    with pytest.raises(SpecificationError, match="two GLMM fits"):
        lrt(lin, m3)
    pois = fit("y_cnt ~ wave + (1 | organisation/team)", nested, family="poisson")
    with pytest.raises(SpecificationError, match="family"):
        lrt(pois, m3)
    other_rows = fit("y_rare ~ wave + (1 | organisation/team)", nested, family="binomial")
    with pytest.raises(SpecificationError, match="different rows"):
        lrt(other_rows, m3)


def test_observation_level_random_effect_is_allowed(nested):
    d = nested.dropna(subset=["y_cnt"]).reset_index(drop=True)
    d["obs"] = np.arange(len(d))
    m = fit("y_cnt ~ wave + (1 | organisation) + (1 | obs)", d, family="poisson")
    assert m.n.loc["units: obs", "n"] == len(d) and m.converged


def test_deterministic(nested, m3):
    again = fit(F3, nested, family="binomial")
    assert np.array_equal(again.beta, m3.beta) and np.array_equal(again.theta, m3.theta)
    assert np.array_equal(again.vcov, m3.vcov) and again.loglik == m3.loglik


# -- the engine ------------------------------------------------------------------------------
@pytest.mark.parametrize("formula,family", [
    (F3, "binomial"),
    ("y_bin ~ wave + (1 + wave | organisation) + (1 | organisation:team)", "binomial"),
    ("y_cnt ~ offer + (1 | organisation/team/professional)", "poisson"),
])
def test_exact_gradient_equals_differences(nested, formula, family):
    fr = build_frame(formula, nested)
    eng = GLMMEngine(fr.y, fr.X, fr.levels, FAMILIES[family])
    eng._pirls_tol = 1e-14  # modes to rounding, so that the differences are exact to 1e-7
    rng = np.random.default_rng(1)
    x = np.r_[0.4 + 0.5 * rng.random(eng.n_theta), 0.2 * rng.normal(size=eng.p)]
    x[: eng.n_theta][~eng._diag] = -0.1  # a correlation in the slope model
    f, g = eng.value_gradient(x)
    num = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = 1e-5
        num[i] = (eng._stage2(x + e) - eng._stage2(x - e)) / 2e-5
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-5)


def test_laplace_equals_agq_with_one_node_and_agq_converges(nested):
    f = "y_bin ~ wave + (1 | organisation:team:professional)"
    fr = build_frame(f, nested)
    lap = GLMMEngine(fr.y, fr.X, fr.levels, FAMILIES["binomial"], 1)
    x = np.array([1.0, -0.3, 0.2])
    one = GLMMEngine(fr.y, fr.X, fr.levels, FAMILIES["binomial"], 1)
    one.nagq, one._gh = 2, gauss_hermite(1)  # one node at 0 with weight 1: Laplace
    assert one._stage2(x) == pytest.approx(lap._stage2(x), abs=1e-9)
    values = []
    for n in (9, 15, 25):
        eng = GLMMEngine(fr.y, fr.X, fr.levels, FAMILIES["binomial"], n)
        values.append(eng._stage2(x))
    assert abs(values[2] - values[1]) < 1e-6 < abs(values[0] - lap._stage2(x))


def test_gauss_hermite_rule_integrates_normal_moments():
    z, w = gauss_hermite(9)
    assert w.sum() == pytest.approx(1.0)
    assert (w * z**2).sum() == pytest.approx(1.0) and (w * z**4).sum() == pytest.approx(3.0)


def test_vcov_falls_back_to_the_penalised_fit_when_the_hessian_is_not_positive_definite(nested, m3):
    import dataclasses

    from lerendtransformeren.exceptions import ConvergenceWarning

    bad = dataclasses.replace(m3.optimization, hessian=-m3.optimization.hessian)
    with pytest.warns(ConvergenceWarning, match="not positive definite"):
        res = GLMMResult(m3.frame, m3.engine, bad, 0.95, nested)
    assert np.all(np.linalg.eigvalsh(res.vcov) > 0)
    # (R_X' R_X)^-1 ignores the uncertainty of theta: smaller than the Hessian-based SEs here
    ratio = np.sqrt(np.diag(res.vcov)) / m3.fixed["se"].to_numpy()
    assert np.all((ratio > 0.8) & (ratio < 1.0 + 1e-6))
