"""Formulas on formulaic: column names, R's transformations, nullable columns, pickling, Type III.

R reference values: tests/reference/multilevel/formula_reference.json, written by
make_reference.R (lme4 1.1.31 / lmerTest 3.1.3) from formula.csv (make_data.py), whose
y, x, z and f are missing on different rows. Tolerances as in test_ml_reference.py: fixed
effects 1e-5 relative, standard errors 1e-4 relative, Satterthwaite df 1e-3 relative;
F statistics 1e-4 relative; the orthogonal polynomial basis and R's scale centres 1e-10
(closed-form arithmetic, no optimiser); predictions from the fitted poly model 1e-5.
"""

from __future__ import annotations

import json
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataWarning, SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.frame import build_frame
from lerendtransformeren.multilevel.gee import fit_gee

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"
R = json.loads((REF / "formula_reference.json").read_text())


@pytest.fixture(scope="module")
def fd() -> pd.DataFrame:
    return pd.read_csv(REF / "formula.csv")


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def check_fixed(res, ref: dict, names: dict[str, str]) -> None:
    """Our fixed effects (rows renamed to R's terms by ``names``) against lmerTest's summary."""
    ours = res.fixed.rename(index=names).loc[ref["term"]]
    assert rel(ours["estimate"], ref["estimate"]) < 1e-5
    assert rel(ours["se"], ref["se"]) < 1e-4
    assert rel(ours["df"], ref["df"]) < 1e-3


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 160
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "wave": np.tile([0, 1, 2, 3], n // 4),
        "offer": np.repeat([True, False], n // 2),
        "ses": rng.choice(["laag", "midden", "hoog"], n),
        "x": rng.uniform(1, 5, n),
        "team": np.repeat(np.arange(16), n // 16),
    })


# -- column names ------------------------------------------------------------------------------
def test_column_names_are_those_of_the_patsy_designs(data):
    """Reports, notebooks and reference tests read these names: they must not change."""
    frame = build_frame("y ~ wave * offer + C(ses, Treatment('laag')) + (1 | team)", data)
    assert frame.x_names == ["Intercept", "offer[T.True]", "C(ses, Treatment('laag'))[T.hoog]",
                             "C(ses, Treatment('laag'))[T.midden]", "wave", "wave:offer[T.True]"]
    frame = build_frame("y ~ C(wave) + offer:x + np.log(x) + I(x**2) + (1 + wave | team)", data)
    assert frame.x_names == ["Intercept", "C(wave)[T.1]", "C(wave)[T.2]", "C(wave)[T.3]",
                             "offer[False]:x", "offer[True]:x", "np.log(x)", "I(x ** 2)"]
    assert frame.levels[0].blocks[0].names == ["Intercept", "wave"]
    # no intercept: the factor in full, before the numeric term (patsy's order)
    assert build_frame("y ~ 0 + x + ses + (1 | team)", data).x_names == ["ses[hoog]", "ses[laag]", "ses[midden]", "x"]


def test_fixed_terms_and_references(data):
    frame = build_frame("y ~ C(wave) * offer + C(ses, Treatment('midden')) + (1 | team)", data)
    terms = frame.fixed_terms()
    assert list(terms) == ["Intercept", "C(wave)", "offer", "C(ses, Treatment('midden'))", "C(wave):offer"]
    assert [frame.x_names[i] for i in terms["C(wave):offer"]] == [
        "C(wave)[T.1]:offer[T.True]", "C(wave)[T.2]:offer[T.True]", "C(wave)[T.3]:offer[T.True]"]
    assert frame.factor_references() == {"C(wave)": "0", "offer": "False", "C(ses, Treatment('midden'))": "midden"}


# -- R's transformations: scale/center over all rows where x is observed -----------------------
def test_scale_and_center_over_all_observed_rows_equal_lmertest(fd):
    """R: ``lmer(y ~ scale(x) + scale(z, scale = FALSE) + f + (1 | g))`` on data with 48 rows left out.

    model.frame computes the mean and SD of x (and the mean of z) over every row where x
    (z) is observed, before rows with a missing y, z or f are left out.
    """
    res = fit("y ~ scale(x) + center(z) + f + (1 | g)", fd)
    ref = R["scale_all"]
    assert res.n.loc["rows used", "n"] == ref["nobs"] == 244
    check_fixed(res, ref["fixed"], {"Intercept": "(Intercept)", "center(z)": "scale(z, scale = FALSE)",
                                    "f[T.lo]": "flo", "f[T.mid]": "fmid"})
    state = res.frame.x_design.spec.transform_state
    assert state["scale(x)"]["center"] == pytest.approx(ref["x_center"], rel=1e-10)
    assert state["scale(x)"]["scale"] == pytest.approx(ref["x_scale"], rel=1e-10)
    assert state["center(z)"]["center"] == pytest.approx(ref["z_center"], rel=1e-10)


def test_scale_over_the_rows_used_on_request(fd):
    """``transform_rows="used"``: R's fit on the complete rows only."""
    res = fit("y ~ scale(x) + center(z) + f + (1 | g)", fd, transform_rows="used")
    ref = R["scale_used"]
    check_fixed(res, ref["fixed"], {"Intercept": "(Intercept)", "center(z)": "scale(z, scale = FALSE)",
                                    "f[T.lo]": "flo", "f[T.mid]": "fmid"})
    assert res.frame.x_design.spec.transform_state["scale(x)"]["center"] == pytest.approx(ref["x_center"], rel=1e-10)
    used = res._used_data()
    np.testing.assert_allclose(res.frame.X[:, res.frame.x_names.index("center(z)")].mean(), 0.0, atol=1e-12)
    assert len(used) == ref["nobs"]
    # the two ways differ only in the main effects the centring moves
    default = fit("y ~ scale(x) + center(z) + f + (1 | g)", fd)
    assert default.fixed.loc["Intercept", "estimate"] != pytest.approx(res.fixed.loc["Intercept", "estimate"], rel=1e-6)
    assert default.fixed.loc["center(z)", "estimate"] == pytest.approx(res.fixed.loc["center(z)", "estimate"], rel=1e-8)


def test_center_of_a_variable_with_missing_values_fits():
    """patsy's mean of a column with NaN was NaN, so every row was left out; now the mean skips them."""
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"g": np.repeat(np.arange(12), 8), "x": rng.normal(3, 1, 96)})
    d["y"] = 0.5 * d["x"] + rng.normal(0, 0.5, 12)[d["g"]] + rng.normal(size=96)
    d.loc[[3, 40], "x"] = np.nan
    res = fit("y ~ center(x) + (1 | g)", d)
    plain = fit("y ~ x + (1 | g)", d)
    assert res.n.loc["rows left out: fixed-effect covariate missing", "n"] == 2
    assert res.fixed.loc["center(x)", "estimate"] == pytest.approx(plain.fixed.loc["x", "estimate"], rel=1e-8)
    # the intercept moves by the slope times the mean of the observed x
    shift = plain.fixed.loc["x", "estimate"] * d["x"].mean()
    assert res.fixed.loc["Intercept", "estimate"] == pytest.approx(plain.fixed.loc["Intercept", "estimate"] + shift, rel=1e-7)


def test_scale_is_r_scale_and_standardize_is_patsys(data):
    n = len(data)
    scaled = build_frame("y ~ scale(x) + (1 | team)", data).X[:, 1]
    standardized = build_frame("y ~ standardize(x) + (1 | team)", data).X[:, 1]
    np.testing.assert_allclose(scaled, (data["x"] - data["x"].mean()) / data["x"].std(ddof=1), rtol=1e-12)
    np.testing.assert_allclose(standardized, scaled * np.sqrt(n / (n - 1)), rtol=1e-12)


def test_transform_rows_is_checked(data):
    with pytest.raises(SpecificationError, match=r"transform_rows must be 'all'.*or 'used'.*got 'rows'"):
        fit("y ~ center(x) + (1 | team)", data, transform_rows="rows")


# -- poly(x, 2): R's orthogonal polynomials ---------------------------------------------------
def test_poly_equals_r(fd):
    ref = R["poly"]
    res = fit("y ~ poly(w, 2) + (1 | g)", fd)
    assert res.n.loc["rows used", "n"] == ref["nobs"]
    check_fixed(res, ref["fixed"], {"Intercept": "(Intercept)", "poly(w, 2)[1]": "poly(w, 2)1",
                                    "poly(w, 2)[2]": "poly(w, 2)2"})
    # the basis over all rows (w is never missing; y is, on 14 rows): R's poly(fd$w, 2)
    rows = np.array(ref["basis_rows"]) - 1
    basis = res.frame.fixed_matrix(fd.iloc[rows])[:, 1:]
    np.testing.assert_allclose(basis, ref["basis"], rtol=1e-10)
    new = pd.DataFrame({"w": ref["new_w"]})
    np.testing.assert_allclose(res.predict(new, level="population"), ref["predict_new"], rtol=1e-5)


# -- nullable pandas columns -----------------------------------------------------------------
def test_nullable_columns_work_with_na_as_missing(data):
    plain = data.assign(x=data["x"].where(data.index % 9 != 0), ses=data["ses"].where(data.index % 11 != 0))
    plain.loc[[2, 30], "y"] = np.nan
    plain = plain.assign(offer=plain["offer"].astype(object).where(plain.index % 13 != 0, np.nan))
    nullable = pd.DataFrame({
        "y": plain["y"].astype("Float64"),
        "wave": plain["wave"].astype("Int64"),
        "offer": plain["offer"].astype("boolean"),
        "ses": plain["ses"].astype("string"),
        "x": plain["x"].astype("Float64"),
        "team": plain["team"].astype("Int64"),
    })
    assert nullable["ses"].isna().sum() > 0 and nullable["offer"].isna().sum() > 0
    formula = "y ~ C(wave) + offer + ses + center(x) + (1 | team)"
    a = fit(formula, plain)
    b = fit(formula, nullable)
    assert list(b.fixed.index) == list(a.fixed.index)
    assert "C(wave)[T.1]" in b.fixed.index and "offer[T.True]" in b.fixed.index
    np.testing.assert_allclose(b.fixed.to_numpy(), a.fixed.to_numpy(), rtol=1e-10)
    pd.testing.assert_frame_equal(b.n, a.n)
    expected = (plain["y"].isna() | plain[["x", "ses", "offer"]].isna().any(axis=1)).sum()
    assert b.n.loc["rows in data", "n"] - b.n.loc["rows used", "n"] == expected
    assert b.n.loc["rows left out: outcome missing", "n"] == 2
    np.testing.assert_allclose(b.predict(nullable.head(20)), a.predict(plain.head(20)), rtol=1e-10)


def test_nullable_columns_in_gee_are_left_out_with_their_reason(data):
    plain = data.assign(hit=(data["y"] > 0).astype(float), x=data["x"].where(data.index % 9 != 0))
    plain.loc[[2, 30], "hit"] = np.nan
    nullable = plain.assign(hit=plain["hit"].astype("Int64"), x=plain["x"].astype("Float64"),
                            ses=plain["ses"].astype("string"), team=plain["team"].astype("Int64"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        a = fit_gee("hit ~ wave + ses + center(x)", plain, cluster="team")
        b = fit_gee("hit ~ wave + ses + center(x)", nullable, cluster="team")
    np.testing.assert_allclose(b.fixed.to_numpy(), a.fixed.to_numpy(), rtol=1e-10)
    pd.testing.assert_series_equal(b.left_out, a.left_out)
    assert b.n["missing_outcome"] == 2 and b.n["missing_covariate"] == plain["x"].isna().sum() == 18


def test_a_dot_formula_asks_to_name_the_columns(data):
    with pytest.raises(SpecificationError, match=r"'\.' \(all other columns\).*name the columns"):
        fit("y ~ . + (1 | team)", data)
    with pytest.raises(SpecificationError, match=r"name the columns"):
        fit_gee("y ~ .", data.assign(y=(data["y"] > 0).astype(int)), cluster="team")


# -- pickling ------------------------------------------------------------------------------------
def _square(v):
    return v**2


def test_fitted_results_pickle_and_predict_the_same(data):
    data = data.copy()
    data.loc[[4, 9], "x"] = np.nan
    new = data.sample(12, random_state=1)
    m = fit("y ~ wave + offer + ses + center(x) + _square(x) + np.log(x) + (1 + wave | team)", data)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(new), m.predict(new))
    pd.testing.assert_frame_equal(m2.anova(), m.anova())
    data["hit"] = (data["y"] > 0).astype(int)
    g = fit("hit ~ wave + scale(x) + (1 | team)", data, family="binomial")
    g2 = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(g2.predict(new), g.predict(new))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        e = fit_gee("hit ~ wave + poly(x, 2) + ses", data, cluster="team")
    e2 = pickle.loads(pickle.dumps(e))
    np.testing.assert_array_equal(e2.predict(new), e.predict(new))
    assert np.isnan(e.predict(new)[new["x"].isna()]).all()
    # the GEE's prediction is its linear predictor through the link
    eta = e.predict(new, scale="link")
    np.testing.assert_allclose(e.predict(new), 1 / (1 + np.exp(-eta)), rtol=1e-12)


def test_a_function_that_cannot_be_pickled_is_named_on_prediction(data):
    add_one = lambda v: v + 1  # noqa: E731
    m = fit("y ~ add_one(x) + (1 | team)", data)
    m2 = pickle.loads(pickle.dumps(m))
    with pytest.raises(SpecificationError, match=r"\['add_one'\].*could not be kept"):
        m2.predict(data.head(3))


def test_new_data_with_an_unknown_level_is_refused(data):
    m = fit("y ~ ses + (1 | team)", data)
    with pytest.raises(SpecificationError, match=r"factor level the fit did not have.*'ses': \['hoog', 'laag', 'midden'\]"):
        m.predict(pd.DataFrame({"ses": ["hoog", "onbekend"], "team": [1, 2]}))
    with pytest.raises(SpecificationError, match=r"newdata lacks the column\(s\) \['ses'\]"):
        m.predict(pd.DataFrame({"team": [1, 2]}))


# -- unused categories ------------------------------------------------------------------------
def test_unused_categories_are_dropped_with_a_note(data):
    data = data.assign(ses=pd.Categorical(data["ses"], categories=["laag", "midden", "hoog", "onbekend"]))
    res = fit("y ~ wave + ses + (1 | team)", data)
    assert list(res.fixed.index) == ["Intercept", "ses[T.midden]", "ses[T.hoog]", "wave"]
    assert len(res.notes) == 1 and "'onbekend' of 'ses' does not occur in the rows used" in res.notes[0]
    assert res.notes[0] in res.summary()
    plain = fit("y ~ wave + ses + (1 | team)", data.assign(ses=data["ses"].cat.remove_unused_categories()))
    np.testing.assert_allclose(res.fixed.to_numpy(), plain.fixed.to_numpy(), rtol=1e-12)
    assert plain.notes == []
    data["hit"] = (data["y"] > 0).astype(int)
    g = fit("hit ~ wave + ses + (1 | team)", data, family="binomial")
    assert g.notes[0] == res.notes[0] and res.notes[0] in g.summary()
    with pytest.warns(DataWarning, match="'onbekend' of 'ses'"):
        fit_gee("hit ~ wave + ses", data, cluster="team")


def test_a_category_left_without_rows_by_missing_values_is_noted(data):
    data = data.assign(ses=pd.Categorical(data["ses"]))
    data.loc[data["ses"] == "hoog", "y"] = np.nan
    res = fit("y ~ ses + (1 | team)", data)
    assert list(res.fixed.index) == ["Intercept", "ses[T.midden]"]
    assert "'hoog' of 'ses'" in res.notes[0]


# -- Type III for any full-rank coding -----------------------------------------------------------
ANOVA_CODINGS = {
    "y ~ f * h + x + (1 | g)": ["f * h + x", "C(f, Sum) * C(h, Sum) + x", "C(f, contr.sum) * h + x",
                                "C(f, Helmert) * C(h, Helmert) + x", "C(f, Treatment('mid')) * C(h, Treatment('b')) + x",
                                "C(f, Poly) * h + x"],
    "y ~ f * x + h + (1 | g)": ["f * x + h", "C(f, Sum) * x + C(h, Sum)", "C(f, contr.sum) * x + h",
                                "C(f, Helmert) * x + h", "C(f, Treatment('lo')) * x + h"],
}


@pytest.mark.parametrize(("r_formula", "fixed"), [(r, f) for r, fs in ANOVA_CODINGS.items() for f in fs])
def test_type3_anova_equals_lmertest_for_any_coding(fd, r_formula, fixed):
    """lmerTest's anova(m, type = 3) is the same under treatment and sum contrasts (both stored)."""
    ref = R["anova"][r_formula]
    for coding in ("treatment", "sum"):  # R's own check that the coding does not matter
        assert rel(ref[coding]["F"], ref["treatment"]["F"]) < 1e-8
    res = fit(f"y ~ {fixed} + (1 | g)", fd)
    table = res.anova()
    names = {t: t.replace(", Sum)", ")").replace(", contr.sum)", ")").replace(", Helmert)", ")")
             .replace(", Poly)", ")").replace(", Treatment('mid')", "").replace(", Treatment('b')", "")
             .replace(", Treatment('lo')", "") for t in table.index}
    table = table.rename(index={t: n.replace("C(", "").replace(")", "") for t, n in names.items()})
    table = table.loc[ref["treatment"]["term"]]
    assert rel(table["F"], ref["treatment"]["F"]) < 1e-4
    assert list(table["numdf"]) == ref["treatment"]["numdf"]
    assert rel(table["dendf"], ref["treatment"]["dendf"]) < 1e-3


# -- the statsmodels fallback ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def crossed() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 300
    a, b = rng.integers(0, 12, n), rng.integers(0, 9, n)
    d = pd.DataFrame({"a": [f"A{i:02d}" for i in a], "b": [f"B{i}" for i in b], "x": rng.normal(size=n),
                      "ses": rng.choice(["laag", "hoog"], n)})
    d["y"] = 1 + 0.5 * d["x"] + rng.normal(0, 0.7, 12)[a] + rng.normal(0, 0.5, 9)[b] + rng.normal(size=n)
    d.loc[[3, 50, 51], "y"] = np.nan
    d.loc[7, "x"] = np.nan
    return d


def _sm_fit(formula, data, **kw):
    from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning

    from lerendtransformeren.exceptions import EngineFallbackWarning

    with pytest.warns(EngineFallbackWarning, match="z-tests"), warnings.catch_warnings():
        warnings.simplefilter("ignore", SMConvergenceWarning)
        return fit(formula, data, engine="statsmodels", **kw)


def test_statsmodels_engine_takes_missing_rows_and_gives_the_core_interface(crossed):
    res = _sm_fit("y ~ x + ses + (1 | a) + (1 | b)", crossed)
    assert res.n.loc["rows used", "n"] == 296
    assert res.n.loc["rows left out: outcome missing", "n"] == 3
    assert res.n.loc["rows left out: fixed-effect covariate missing", "n"] == 1
    assert res.n.loc["units: a", "n"] == 12 and res.n.loc["units: b", "n"] == 9
    assert list(res.fixed.columns) == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    assert list(res.fixed.index) == ["Intercept", "ses[T.laag]", "x"]
    sm = res.statsmodels
    np.testing.assert_allclose(res.fixed["estimate"], sm.fe_params, rtol=1e-12)
    np.testing.assert_allclose(res.fixed["se"], sm.bse_fe, rtol=1e-12)
    assert np.isinf(res.fixed["df"]).all()
    assert res.loglik == pytest.approx(sm.llf, rel=1e-12)
    assert res.aic == pytest.approx(-2 * sm.llf + 2 * 6, rel=1e-12)
    assert res.bic == pytest.approx(-2 * sm.llf + np.log(296) * 6, rel=1e-12)
    var = res.variance["variance"]
    np.testing.assert_allclose([var[("a", "Intercept")], var[("b", "Intercept")], var[("residual", "")]],
                               [*sm.vcomp, sm.scale], rtol=1e-10)
    # our conditional modes are statsmodels' BLUPs
    sm_modes = sm.random_effects[1.0]
    np.testing.assert_allclose(res.ranef("a")["Intercept"], sm_modes[[f"a[{u}]" for u in res.ranef("a").index]],
                               rtol=1e-6, atol=1e-10)
    fitted_ = res.predict()
    np.testing.assert_allclose(fitted_, sm.fittedvalues, rtol=1e-6)
    new = crossed.head(10)
    pred = res.predict(new)
    assert pred.index.equals(new.index) and np.isnan(pred.loc[[3, 7]]).tolist() == [False, True]
    text = res.summary()
    assert "statsmodels MixedLM" in text and "296 used, 4 left out" in text


def test_statsmodels_engine_equals_the_nested_engine_on_nested_factors():
    from lerendtransformeren.synthetic import nested_example

    d = nested_example()
    d.loc[[0, 11], "y"] = np.nan
    ours = fit("y ~ wave + (1 | org/team)", d)
    sm = _sm_fit("y ~ wave + (1 | org/team)", d)
    assert sm.loglik == pytest.approx(ours.loglik, rel=1e-7)
    assert rel(sm.fixed["estimate"], ours.fixed["estimate"]) < 1e-4
    assert rel(sm.variance["variance"], ours.variance["variance"].loc[sm.variance.index]) < 1e-3
    pd.testing.assert_frame_equal(sm.n.loc[sm.n.index.str.startswith("rows")], ours.n.loc[ours.n.index.str.startswith("rows")])
