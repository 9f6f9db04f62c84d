"""Pooled inference over multiply imputed data against mitml 0.4.4 and mice 3.15 (tests/reference/pooling/).

make_reference.R imputes data.csv with mice (m = 5, seed fixed), writes imp1..imp5.csv, fits
lmerTest::lmer(y ~ x + z + (1 | g)) on each and stores every fit's estimates, covariance
matrix and Satterthwaite df, mitml::testEstimates (df.com NULL, 100, per-term), mice's rules
(pool.scalar) and mitml::testModels D1. Tolerances:

* pooling R's own per-fit estimates and covariances (the pooling arithmetic alone): 1e-6
  relative; p-values 1e-9 absolute (mitml computes 2 * (1 - pt), which loses digits);
* our own fits of the imputed CSVs, then pooled: as tests/multilevel/test_ml_reference.py
  allows for lme4 fits (estimates 1e-5, standard errors 1e-4, df and variance components
  1e-3 relative).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import PooledResult, fit, fit_gee, pool, pool_wald, rubin, wald_d1

REF = Path(__file__).resolve().parents[1] / "reference" / "pooling"
FORMULA = "y ~ x + z + (1 | g)"
TERMS = ["Intercept", "x", "z"]


@lru_cache(maxsize=1)
def ref() -> dict:
    return json.loads((REF / "reference.json").read_text())


@lru_cache(maxsize=1)
def imputed() -> tuple[pd.DataFrame, ...]:
    return tuple(pd.read_csv(REF / f"imp{i}.csv") for i in range(1, ref()["m"] + 1))


@lru_cache(maxsize=1)
def fits() -> tuple:
    return tuple(fit(FORMULA, d) for d in imputed())


def r_arrays() -> tuple[np.ndarray, np.ndarray]:
    Q = np.array([f["estimate"] for f in ref()["fits"]])
    U = np.array([f["vcov"] for f in ref()["fits"]])
    return Q, U


def test_reference_is_for_this_model():
    assert ref()["formula"] == FORMULA
    assert [f["term"] for f in ref()["fits"]][0] == ["(Intercept)", "x", "z"]
    assert imputed()[0]["x"].notna().all()
    assert pd.read_csv(REF / "data.csv")["x"].isna().sum() > 0


@pytest.mark.parametrize(("key", "df_complete"), [("mitml_null", None), ("mitml_number", "number"),
                                                   ("mitml_vector", "vector")])
def test_rubin_on_r_inputs_matches_mitml(key, df_complete):
    Q, U = r_arrays()
    dfc = {None: None, "number": ref()["df_com"], "vector": ref()["df_com_vector"]}[df_complete]
    table = rubin(Q, U, dfc, names=TERMS).table
    want = ref()[key]
    for col in ("estimate", "se", "t", "df", "riv", "fmi"):
        np.testing.assert_allclose(table[col], want[col], rtol=1e-6, err_msg=col)
    np.testing.assert_allclose(table["p"], want["p"], rtol=0, atol=1e-9)


@pytest.mark.parametrize(("key", "dfc"), [("mice_number", 100.0), ("mice_inf", np.inf)])
def test_rubin_on_r_inputs_matches_mice(key, dfc):
    Q, U = r_arrays()
    table = rubin(Q, U, dfc, names=TERMS).table
    want = ref()[key]
    pairs = {"estimate": "estimate", "within": "ubar", "between": "b", "total": "t", "df": "df", "riv": "riv",
             "lambda": "lambda", "fmi": "fmi"}
    for ours, theirs in pairs.items():
        np.testing.assert_allclose(table[ours], want[theirs], rtol=1e-6, err_msg=ours)


def test_rubin_with_variances_only_equals_diagonal_of_covariances():
    Q, U = r_arrays()
    full = rubin(Q, U, 100).table
    diag = rubin(Q, np.array([np.diag(u) for u in U]), 100).table
    pd.testing.assert_frame_equal(full, diag)


@pytest.mark.parametrize(("key", "dfc"), [("d1_null", None), ("d1_number", 100.0)])
def test_d1_on_r_inputs_matches_mitml_testmodels(key, dfc):
    Q, U = r_arrays()
    out = wald_d1(Q[:, 1:], U[:, 1:, 1:], dfc)
    want = ref()[key]
    for col in ("F", "df1", "df2", "riv"):
        np.testing.assert_allclose(out[col], want[col], rtol=1e-6, err_msg=col)
    np.testing.assert_allclose(out["p"], want["p"], rtol=1e-6)


def test_own_fits_match_lme4_per_imputation():
    for ours, theirs in zip(fits(), ref()["fits"]):
        np.testing.assert_allclose(ours.fixed["estimate"], theirs["estimate"], rtol=1e-5)
        np.testing.assert_allclose(ours.fixed["se"], theirs["se"], rtol=1e-4)
        np.testing.assert_allclose(ours.fixed["df"], theirs["df"], rtol=1e-3)


@pytest.mark.parametrize(("key", "df_complete"), [("mitml_null", None), ("mitml_number", 100),
                                                   ("mitml_vector", "satterthwaite"), ("mitml_vector", "fits")])
def test_pool_of_own_fits_matches_mitml(key, df_complete):
    pooled = pool(list(fits()), df_complete=df_complete)
    want = ref()[key]
    assert isinstance(pooled, PooledResult) and pooled.m == 5
    assert list(pooled.fixed.columns) == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high", "riv", "lambda",
                                          "fmi"]
    np.testing.assert_allclose(pooled.fixed["estimate"], want["estimate"], rtol=1e-5)
    np.testing.assert_allclose(pooled.fixed["se"], want["se"], rtol=1e-4)
    for col in ("df", "riv", "fmi"):
        np.testing.assert_allclose(pooled.fixed[col], want[col], rtol=1e-3, err_msg=col)


def test_pool_interval_and_notes():
    pooled = pool(list(fits()), df_complete=100, conf_level=0.9)
    f = pooled.fixed
    from scipy import stats

    half = stats.t.ppf(0.95, f["df"]) * f["se"]
    np.testing.assert_allclose(f["ci_high"] - f["estimate"], half, rtol=1e-12)
    np.testing.assert_allclose(f["estimate"] - f["ci_low"], half, rtol=1e-12)
    assert pooled.notes[0].startswith("Pooled over m = 5 imputations")
    assert "Complete-data df: 100." in pooled.notes
    assert "Rubin (1987) df" in pool(list(fits())).notes[0]


def test_pooled_variance_is_mitml_mean():
    var = pool(list(fits())).variance
    extra = dict(zip(ref()["mitml_extra"]["name"], ref()["mitml_extra"]["estimate"]))
    np.testing.assert_allclose(var.loc[("g", "Intercept"), "variance"], extra["Intercept~~Intercept|g"], rtol=1e-3)
    np.testing.assert_allclose(var.loc[("residual", ""), "variance"], extra["Residual~~Residual"], rtol=1e-3)
    np.testing.assert_allclose(var["sd"], np.sqrt(var["variance"]), rtol=1e-12)


def test_pool_wald_matches_testmodels_d1():
    for key, dfc in (("d1_null", None), ("d1_number", 100)):
        out = pool_wald(list(fits()), ["x", "z"], df_complete=dfc)
        want = ref()[key]
        np.testing.assert_allclose([out["F"], out["df2"], out["riv"]], [want["F"], want["df2"], want["riv"]],
                                   rtol=1e-3)
        assert out["df1"] == 2
    with pytest.raises(SpecificationError, match="'w'"):
        pool(list(fits())).wald(["x", "w"])


def test_per_term_series_is_matched_on_names():
    Q, U = r_arrays()
    dfc = pd.Series({"z": 30.0, "Intercept": 10.0, "x": 20.0})
    pooled = pool(list(fits()), df_complete=dfc)
    direct = rubin(np.array([f.fixed["estimate"] for f in fits()]),
                   np.array([f.satterthwaite.vcov for f in fits()]), [10.0, 20.0, 30.0], names=TERMS).table
    np.testing.assert_allclose(pooled.fixed["df"], direct["df"], rtol=1e-12)
    with pytest.raises(SpecificationError, match="'x'"):
        pool(list(fits()), df_complete=pd.Series({"Intercept": 10.0, "z": 3.0}))


def test_kenward_roger_pools_adjusted_covariances():
    m = len(fits())
    pooled = pool(list(fits()), df_complete="kenward-roger")
    kr = [f.with_ddf("Kenward-Roger").fixed for f in fits()]
    est = np.array([k["estimate"] for k in kr])
    total = np.mean([k["se"] ** 2 for k in kr], axis=0) + (1 + 1 / m) * est.var(axis=0, ddof=1)
    np.testing.assert_allclose(pooled.fixed["se"], np.sqrt(total), rtol=1e-10)
    np.testing.assert_allclose(pooled.pooled.df_complete, np.mean([k["df"] for k in kr], axis=0), rtol=1e-12)


def test_gee_fits_pool_with_their_sandwich():
    data = [d.assign(hi=(d["y"] > d["y"].median()).astype(int)) for d in imputed()]
    gees = [fit_gee("hi ~ x + z", d, cluster="g") for d in data]
    pooled = pool(gees)
    assert pooled.variance is None
    direct = rubin(np.array([g.fixed["estimate"] for g in gees]), np.array([g.cov.to_numpy() for g in gees]),
                   names=list(gees[0].fixed.index)).table
    pd.testing.assert_series_equal(pooled.fixed["se"], direct["se"])
    assert "GEEResult" in repr(pooled)


def test_different_terms_are_named():
    other = fit("y ~ x + (1 | g)", imputed()[1])
    with pytest.raises(SpecificationError, match=r"fit 2 lacks \['z'\]"):
        pool([fits()[0], other])


@pytest.mark.parametrize(("args", "match"), [
    (dict(results="one"), "at least 2"),
    (dict(df_complete="residual"), "not known"),
    (dict(df_complete=-3), "positive"),
    (dict(df_complete=[10, 20]), "one per term"),
])
def test_clear_errors(args, match):
    results = [fits()[0]] if args.pop("results", None) else list(fits())
    with pytest.raises(SpecificationError, match=match):
        pool(results, **args)


def test_repr_and_html():
    pooled = pool(list(fits()), df_complete=100)
    text = repr(pooled)
    assert text.startswith("PooledResult: MultilevelResult pooled over m = 5 imputations")
    assert "Missing information" in text and "Random effects (mean over the imputations)" in text
    html = pooled._repr_html_()
    assert html.startswith('<div class="lt-display"') and "FMI" in html


def test_reiter_df_tends_to_li_df_and_rubin_df_to_old_rule():
    Q, U = r_arrays()
    li = wald_d1(Q[:, 1:], U[:, 1:, 1:])
    np.testing.assert_allclose(wald_d1(Q[:, 1:], U[:, 1:, 1:], 1e12)["df2"], li["df2"], rtol=1e-6)
    assert wald_d1(Q[:, 1:], U[:, 1:, 1:], np.inf)["df2"] == li["df2"]
    np.testing.assert_allclose(rubin(Q, U, 1e12).table["df"], rubin(Q, U).table["df"], rtol=1e-6)


def test_one_term_with_few_imputations_is_the_pooled_t_test():
    Q, U = r_arrays()
    Q3, U3 = Q[:3, 1:2], U[:3, 1:2, 1:2]
    row = rubin(Q3, U3, 50.0).table.iloc[0]
    out = wald_d1(Q3, U3, 50.0)
    np.testing.assert_allclose([out["F"], out["df2"], out["p"]], [row["t"] ** 2, row["df"], row["p"]], rtol=1e-10)
    with pytest.raises(SpecificationError, match="k \\(m - 1\\) > 4"):
        wald_d1(Q[:2, 1:], U[:2, 1:, 1:], 50.0)


def test_fit_on_a_list_of_imputed_sets_pools_with_the_fits_df_as_mitml():
    """One call for the common case: ``fit(formula, [imp1, ..., imp5])`` equals fitting each set
    and pooling with each fit's own df, and both equal mitml's testEstimates with that df.com."""
    pooled = fit(FORMULA, list(imputed()))
    by_hand = pool(list(fits()), df_complete="fits")
    assert isinstance(pooled, PooledResult) and pooled.m == 5
    pd.testing.assert_frame_equal(pooled.fixed, by_hand.fixed)
    want = ref()["mitml_vector"]
    np.testing.assert_allclose(pooled.fixed["estimate"], want["estimate"], rtol=1e-5)
    np.testing.assert_allclose(pooled.fixed["df"], want["df"], rtol=1e-3)
    assert any("5 imputations" in note for note in pooled.notes)


def test_fit_on_a_list_refuses_what_is_not_multiply_imputed_data():
    one = imputed()[0]
    with pytest.raises(SpecificationError, match="at least 2 data sets"):
        fit(FORMULA, [one])
    with pytest.raises(SpecificationError, match=r"number\(s\) \[2\]"):
        fit(FORMULA, [one, one.to_dict()])
    with pytest.raises(SpecificationError, match="engine='nested'"):
        fit(FORMULA, [one, one], engine="statsmodels")


def test_report_writes_the_pooled_numbers_in_both_languages():
    pooled = pool(fits(), df_complete="fits")
    row = pooled.fixed.loc["x"]
    nl, en = pooled.report("nl"), pooled.report("en", labels={"x": ("x-waarde", "the x value")})
    # the pooled estimate, its Barnard-Rubin df and the number of imputations, as written
    assert f"b = {row['estimate']:.2f}".replace(".", ",") in nl
    assert f"t({row['df']:.1f})".replace(".", ",") in nl
    assert f"b = {row['estimate']:.2f}" in en and f"t({row['df']:.1f})" in en
    assert f"m = {pooled.m} geïmputeerde datasets" in nl and "Barnard en Rubin" in nl
    assert f"m = {pooled.m} imputed data sets" in en and "Barnard-Rubin" in en
    # the term with the largest fmi is named by its label
    top = pooled.fixed["fmi"].drop("Intercept").idxmax()
    assert f"{pooled.fixed.loc[top, 'fmi']:.0%}" in en
    assert ("the x value" in en.split("fraction of missing information")[1]) == (top == "x")
    assert "variance" in en  # the variance partition of the mean components


def test_report_without_complete_data_df_names_rubins_rule_and_the_method():
    gees = [fit_gee("hi ~ x + z", d.assign(hi=(d["y"] > d["y"].median()).astype(int)), cluster="g")
            for d in imputed()]
    pooled = pool(gees)
    pooled.imputation = {"variables": ["y", "x"], "levels": ["g"], "predictors": "z", "m": 5, "chains": 2,
                         "burn": 500, "between": 100, "rhat": 1.0123}
    en, nl = pooled.report("en"), pooled.report("nl")
    assert "Rubin's 1987 degrees of freedom" in en
    assert ("Missing values of y and x were imputed m = 5 times by a multilevel imputation model (a joint normal "
            "model with random intercepts for g and predictors z; 2 chains, a burn-in of 500 iterations and 100 "
            "between imputations; largest R-hat 1.01).") in en
    assert "De ontbrekende waarden van y en x zijn m = 5 keer geïmputeerd" in nl and "R-hat 1,01" in nl
    assert "Of the total variance" not in en
