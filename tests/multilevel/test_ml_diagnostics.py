"""Model checks against lme4 1.1-31 / lmerTest 3.1 (tests/reference/diagnostics/, no R needed).

make_reference.R fits each case with bobyqa at rhoend = 1e-12 (lme4's criterion then matches
the nested engine's to 1e-9) and stores ``fitted(m)``, ``residuals(m, type = ...)``, and for
the influence cases lme4 refits without each top-level unit with influence.ME's DFBETAS and
Cook's distance computed by hand from them. Tolerances:

* fitted values and residuals: 1e-6 (absolute, and relative for the GLMM's working
  residuals, which divide by ``p (1 - p)``); measured: at most 1.7e-7 (linear), 1.7e-6
  absolute on working residuals up to 9 (GLMM);
* influence of a linear model (refitted estimates, their standard errors, DFBETAS, Cook's
  distance, p-values): 1e-6; measured at most 4e-7;
* influence of a GLMM: 1e-5; measured at most 2.8e-6 (DFBETAS) before the faster PIRLS stopping
  rule and 5.04e-6 after it (still 3e-5 relative, far inside the 1e-3 of the glmer reference
  tests). The GLMM engine stops at a scaled gradient of about 1e-5, so its refits agree with
  glmer's to about 1e-6 in the estimates and a few 1e-6 in the standard errors.
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.influence import Influence, influence
from lerendtransformeren.synthetic import nested_example

REF = Path(__file__).resolve().parents[1] / "reference"
CASES = ["nest3", "slope_org", "bin3", "pois"]
INFLUENCE = ["nest3", "slope_org", "bin3"]


@lru_cache(maxsize=None)
def reference() -> dict:
    return json.loads((REF / "diagnostics" / "diagnostics_reference.json").read_text())


@lru_cache(maxsize=None)
def fitted_model(case: str):
    c = reference()[case]
    family = None if c["family"] == "gaussian" else c["family"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(c["formula"], pd.read_csv(REF / c["data"]), family=family)


@lru_cache(maxsize=None)
def influence_of(case: str) -> Influence:
    return fitted_model(case).influence(reference()[case]["influence"]["level"])


def r_term(name: str) -> str:
    return "Intercept" if name == "(Intercept)" else name


def test_reference_covers_linear_and_both_families():
    ref = reference()
    assert {ref[c]["family"] for c in CASES} == {"gaussian", "binomial", "poisson"}
    assert all("influence" in ref[c] for c in INFLUENCE)
    assert ref["_meta"]["lme4"].startswith("1.1")


@pytest.mark.parametrize("case", CASES)
def test_the_fit_is_lme4s(case):
    c, m = reference()[case], fitted_model(case)
    assert m.loglik == pytest.approx(c["loglik"], abs=1e-6)
    ours = m.fixed["estimate"].loc[[r_term(t) for t in c["term"]]]
    np.testing.assert_allclose(ours, c["estimate"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_fitted_values_are_lme4s_on_the_rows_used(case):
    c, m = reference()[case], fitted_model(case)
    fitted = m.fitted()
    assert fitted.index.tolist() == c["rows"]  # rows with a missing value are left out
    assert fitted.index.equals(m.predict().index)
    np.testing.assert_allclose(fitted.to_numpy(), c["fitted"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_residuals_are_lme4s(case):
    c, m = reference()[case], fitted_model(case)
    for kind, theirs in c["residuals"].items():
        if c["family"] == "gaussian" and kind == "pearson":
            ours = m.residuals("response")  # lme4's unscaled Pearson residual of an lmerMod
        elif kind == "pearson_scaled":
            ours = m.residuals("pearson")
        else:
            ours = m.residuals(kind)
        assert ours.index.tolist() == c["rows"]
        np.testing.assert_allclose(ours.to_numpy(), theirs, rtol=1e-6, atol=1e-6, err_msg=kind)


def test_default_residual_types_are_lme4s():
    lmm, glmm = fitted_model("nest3"), fitted_model("bin3")
    pd.testing.assert_series_equal(lmm.residuals(), lmm.residuals("response"))
    pd.testing.assert_series_equal(glmm.residuals(), glmm.residuals("deviance"))
    # the Pearson residual of a linear model is the raw one over sigma
    np.testing.assert_allclose(lmm.residuals("pearson") * lmm.sigma, lmm.residuals(), rtol=1e-12)
    # fitted + response residual = outcome
    np.testing.assert_allclose(glmm.fitted() + glmm.residuals("response"), glmm.frame.y, rtol=1e-12)


@pytest.mark.parametrize("case, kind", [("nest3", "deviance"), ("nest3", "working"), ("bin3", "raw")])
def test_a_residual_type_that_does_not_apply_is_named(case, kind):
    with pytest.raises(SpecificationError, match="type="):
        fitted_model(case).residuals(kind)


@pytest.mark.parametrize("case", INFLUENCE)
def test_influence_is_influence_me_on_lme4_refits(case):
    c, m, inf = reference()[case], fitted_model(case), influence_of(case)
    ref = c["influence"]
    tol = 1e-6 if c["family"] == "gaussian" else 1e-5
    terms = [r_term(t) for t in ref["term"]]
    units = [u["unit"] for u in ref["units"]]
    assert inf.units.index.tolist() == units
    assert inf.level == ref["level"]

    def ours(col: str) -> np.ndarray:
        return inf.terms[col].unstack("term").loc[units, terms].to_numpy()

    def theirs(key: str) -> np.ndarray:
        return np.array([u[key] for u in ref["units"]], float)

    np.testing.assert_allclose(ours("estimate_without"), theirs("estimate"), rtol=0, atol=tol)
    np.testing.assert_allclose(ours("se_without"), theirs("se"), rtol=0, atol=tol)
    np.testing.assert_allclose(ours("dfbetas"), theirs("dfbetas"), rtol=0, atol=tol)
    np.testing.assert_allclose(ours("p_without"), theirs("p"), rtol=0, atol=tol)
    np.testing.assert_allclose(inf.units["cooks_distance"], theirs("cooks"), rtol=0, atol=tol)
    assert inf.units["singular"].tolist() == [u["singular"] for u in ref["units"]]
    assert inf.units["n_rows"].tolist() == [len(c["rows"]) - u["nobs"] for u in ref["units"]]
    # dfbeta is the full estimate minus the estimate without the unit
    np.testing.assert_allclose(ours("dfbeta"), np.array(c["estimate"]) - theirs("estimate"), rtol=0, atol=tol)
    assert sorted(m.frame.x_names) == sorted(terms)


@pytest.mark.parametrize("case", INFLUENCE)
def test_changes_of_sign_and_significance_follow_the_p_values(case):
    m, inf = fitted_model(case), influence_of(case)
    alpha = 1 - m.conf_level
    t = inf.terms
    expected = (t["p"] < alpha) != (t["p_without"] < alpha)
    assert (t["significance_change"] == expected).all()
    assert (t["sign_change"] == (np.sign(t["estimate"]) != np.sign(t["estimate_without"]))).all()
    for unit, row in inf.units.iterrows():
        changed = t.loc[unit]
        named = changed.index[changed["sign_change"] | changed["significance_change"]].tolist()
        assert [part.split(" (")[0] for part in row["changes"].split(", ") if part] == named


def test_flagged_units_and_cutoffs():
    inf = influence_of("nest3")
    assert inf.cooks_cutoff == pytest.approx(4 / 15)
    assert inf.dfbetas_cutoff == pytest.approx(2 / np.sqrt(15))
    flagged = inf.flagged()
    u = inf.units
    expected = u[(u["cooks_distance"] > 4 / 15) | (u["max_abs_dfbetas"] > 2 / np.sqrt(15)) | (u["changes"] != "")]
    assert flagged.index.tolist() == expected.index.tolist() and len(flagged) > 0
    wide = inf.dfbetas()
    assert wide.shape == (15, 6) and list(wide.columns) == fitted_model("nest3").frame.x_names
    assert "15 units of 'org'" in repr(inf)


def test_influence_of_a_lower_level_and_by_the_function():
    m = fit("y ~ wave + (1 | org/team)", nested_example())
    inf = influence(m, "team")
    assert inf.level == "org:team" and len(inf.units) == 40
    assert (inf.units["n_rows"] == 6).all()
    assert inf.units["note"].eq("").all() and inf.units["converged"].all()


def test_influence_does_not_depend_on_the_df_method():
    """DFBETAS and Cook's distance use lme4's model-based covariance, whatever ddf says."""
    m = fit("y ~ wave + (1 | org/team)", nested_example())
    kr = m.with_ddf("Kenward-Roger")
    a, b = m.influence(), kr.influence()
    np.testing.assert_allclose(a.units["cooks_distance"], b.units["cooks_distance"], rtol=1e-10)
    np.testing.assert_allclose(a.terms["dfbetas"], b.terms["dfbetas"], rtol=1e-10)


def test_a_refit_that_cannot_be_made_gets_a_note_not_an_error():
    d = nested_example()
    d["pilot"] = (d["org"] == d["org"].min()).astype(float)  # informed by one organisation only
    m = fit("y ~ wave + pilot + (1 | org/team)", d)
    inf = m.influence()
    first = str(d["org"].min())  # unit labels are text
    assert "cannot be refitted" in inf.units.loc[first, "note"] and "pilot" in inf.units.loc[first, "note"]
    assert np.isnan(inf.units.loc[first, "cooks_distance"])
    assert inf.terms.loc[first, "estimate_without"].isna().all()
    assert not inf.terms.loc[first, ["sign_change", "significance_change"]].to_numpy().any()
    assert inf.units.drop(index=first)["cooks_distance"].notna().all()
    assert inf.notes == [f"{first}: {inf.units.loc[first, 'note']}"]


def test_a_level_left_with_one_unit_gets_a_note():
    d = nested_example()
    two = d[d["org"].isin(sorted(d["org"].unique())[:2])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit("y ~ wave + (1 | org/team)", two)
    inf = m.influence()
    assert len(inf.units) == 2
    assert inf.units["note"].str.contains("only 1 unit").all()
    assert inf.units["cooks_distance"].isna().all()


def test_a_glmm_refit_with_a_constant_outcome_gets_a_note():
    d = nested_example()
    first = d["org"] == sorted(d["org"].unique())[0]
    d["event"] = 0
    d.loc[first, "event"] = np.arange(first.sum()) % 2  # events in one organisation only
    m = fit("event ~ wave + (1 | org)", d, family="binomial")
    inf = m.influence()
    unit = inf.units.index[0]
    assert inf.units.loc[unit, "note"] == "the outcome is 0 in every remaining row; the model cannot be refitted."
    assert np.isnan(inf.units.loc[unit, "cooks_distance"])
    assert inf.units.iloc[1:]["cooks_distance"].notna().all()


def test_unknown_level_is_named():
    with pytest.raises(SpecificationError, match="Unknown level"):
        fitted_model("nest3").influence("school")


def test_glmm_intervals_of_the_conditional_modes():
    m = fitted_model("bin3")
    iv = m.ranef_intervals("organisation", conf_level=0.9)
    modes = m.ranef("organisation", condsd=True)
    z = 1.6448536269514722
    np.testing.assert_allclose(iv["estimate"], modes["Intercept"])
    np.testing.assert_allclose(iv["ci_high"] - iv["estimate"], z * modes["sd Intercept"], rtol=1e-12)
    np.testing.assert_allclose(iv["estimate"] - iv["ci_low"], z * modes["sd Intercept"], rtol=1e-12)
    with pytest.raises(SpecificationError, match="Unknown term"):
        m.ranef_intervals("organisation", term="wave")
