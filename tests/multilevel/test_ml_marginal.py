"""Estimated marginal means and contrasts against emmeans 1.8 (tests/reference/emmeans/).

The reference values were made by make_reference.R (lmerTest::lmer with tight optimiser
tolerances, emmeans with ``lmer.df = "satterthwaite"`` and ``"kenward-roger"``; glmer with
emmeans on the link and the response scale) from the CSVs written by make_data.py; every
query is stored with its arguments, so the tests below replay them.

Two comparisons per query:

* At lme4's estimates (our result object evaluated at lme4's stored theta): the machinery
  itself. Estimates, standard errors, t, interval bounds 1e-6 relative; df 1e-4 relative;
  p values 1e-6 relative or 1e-9 absolute. Measured: estimates and SEs agree to 1e-11, df
  to 1e-7, Tukey bounds to 2e-7 (R's qtukey iterates to about that). R's ptukey is
  accurate to about 3e-10 absolute only: where it gives 1.1716e-9 (quad, wave0 - wave2)
  scipy's studentized range gives 8.705e-10, and a direct numerical integration of the
  studentized-range tail gives 8.705e-10 too; it returns exactly 0 below about 1e-11.
* At our own REML/ML optimum: what a user gets. The optima differ from lme4's in theta by
  the optimisers' last digits (1e-6 relative, up to 1e-5 for the random-slope model), so
  the tolerances are those of the other reference tests: 1e-4 relative for estimates and
  SEs, 1e-3 for df, 1e-4 absolute for bounds, t and p. For the GLMMs lme4's fixed effects
  and ``vcov()`` are put in our result instead of theta (the same 1e-6), and at our own
  optimum the GLMM reference tests' 1e-3.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.marginal import MarginalContrasts, MarginalMeans, marginal_means, reference_grid
from lerendtransformeren.multilevel.results import MultilevelResult

REF = Path(__file__).resolve().parents[1] / "reference" / "emmeans"
REFERENCE = json.loads((REF / "reference.json").read_text())
LMM = [q for q in REFERENCE["queries"] if q["ddf"] != "asymptotic"]
GLMM = [q for q in REFERENCE["queries"] if q["ddf"] == "asymptotic"]
QUERIES = LMM
DDF = {"satterthwaite": "Satterthwaite", "kenward-roger": "Kenward-Roger"}
COLUMNS = {"emmean": "estimate", "estimate": "estimate", "prob": "estimate", "rate": "estimate",
           "odds.ratio": "estimate", "ratio": "estimate", "SE": "se", "df": "df", "lower.CL": "ci_low",
           "upper.CL": "ci_high", "asymp.LCL": "ci_low", "asymp.UCL": "ci_high", "t.ratio": "t",
           "z.ratio": "z", "p.value": "p"}


def _ids(queries=LMM):
    out = []
    for q in queries:
        specs = "*".join(np.atleast_1d(q["specs"]))
        by = f"|{q['by']}" if q["by"] else ""
        what = (f"{q['method']}-{q['adjust']}" if q["method"] else "means") + ("-response" if q["type"] else "")
        at = "-at" if q["at"] else ""
        out.append(f"{q['model']}-{specs}{by}{at}-{what}-{q['ddf'][:2]}")
    return out


@lru_cache(maxsize=None)
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "trial.csv")


@lru_cache(maxsize=None)
def own_fit(model: str) -> MultilevelResult:
    ref = REFERENCE["models"][model]
    return fit(ref["formula"], data(), reml=ref["reml"])


@lru_cache(maxsize=None)
def at_lme4(model: str) -> MultilevelResult:
    """Our result object evaluated at lme4's theta (lme4's order of theta is ours here)."""
    ref = REFERENCE["models"][model]
    res = own_fit(model)
    opt = SimpleNamespace(theta=np.asarray(ref["theta"], float), converged=True, criterion=np.nan, message="")
    out = MultilevelResult(res.frame, res.engine, opt, res.conf_level, res._data)
    assert out.sigma == pytest.approx(ref["sigma"], rel=1e-9)
    return out


def run(res, q):
    kwargs = dict(by=q["by"], at=q["at"], conf_level=q["level"], ddf=DDF[q["ddf"]])
    if q["method"] is None:
        return res.marginal_means(q["specs"], **kwargs)
    return res.marginal_contrasts(q["specs"], method=q["method"], adjust=q["adjust"], **kwargs)


@lru_cache(maxsize=None)
def own_output(i: int):
    return run(own_fit(QUERIES[i]["model"]), QUERIES[i])


def r_term(name: str) -> str:
    """patsy's column name in R's spelling: C(wave)[T.1] -> factor(wave)1, sex[T.m] -> sexm."""
    name = re.sub(r"C\((\w+)\)\[T\.([^\]]+)\]", r"factor(\1)\2", name)
    name = re.sub(r"(\w+)\[T\.([^\]]+)\]", r"\1\2", name)
    name = name.replace(" ** ", "^")
    return "(Intercept)" if name == "Intercept" else name


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _compare(out, q, tol_value, tol_df, tol_abs=None):
    ref = q["table"]
    table = out.table
    assert len(table) == len(next(iter(ref.values())))
    for r_col, col in COLUMNS.items():
        if r_col not in ref:
            continue
        ours, theirs = table[col].to_numpy(float), np.asarray(ref[r_col], float)
        if col == "df":
            assert rel(ours, theirs) < tol_df if np.isfinite(theirs).all() else np.array_equal(ours, theirs), col
        elif col == "p" or tol_abs is not None and col in ("ci_low", "ci_high", "t", "z"):
            np.testing.assert_allclose(ours, theirs, rtol=tol_value if col == "p" else 0,
                                       atol=1e-9 if tol_abs is None else tol_abs, err_msg=col)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=tol_value, atol=0, err_msg=col)
    for key in [c for c in ref if c not in COLUMNS and c != "null"]:
        if key == "contrast":
            assert list(table["contrast"]) == ref["contrast"]
        elif all(isinstance(v, (int, float)) for v in ref[key]):  # the specs and by variables
            np.testing.assert_allclose(table[key].astype(float), ref[key], rtol=1e-15)
        else:
            assert list(table[key]) == ref[key]


def test_reference_covers_the_brief():
    qs = QUERIES
    assert {q["ddf"] for q in qs} == {"satterthwaite", "kenward-roger"}
    assert {"tukey", "holm", "none", "bonferroni", "sidak"} <= {q["adjust"] for q in qs}
    assert {"pairwise", "revpairwise", "trt.vs.ctrl", "consec"} <= {q["method"] for q in qs}
    assert any(q["by"] for q in qs) and any(q["at"] for q in qs)
    assert any("averaged over the levels of: wave, sex" in " ".join(q["mesg"]) for q in qs)
    assert any(q["at"] and "ses" in q["at"] for q in qs)  # a numeric covariate at given values
    assert "org/team/person" in REFERENCE["models"]["nest3"]["formula"]  # three levels
    assert not REFERENCE["models"]["nest3_ml"]["reml"]


@pytest.mark.parametrize("i", range(len(QUERIES)), ids=_ids())
def test_at_lme4s_estimates_tables_equal_emmeans(i):
    q = QUERIES[i]
    _compare(run(at_lme4(q["model"]), q), q, tol_value=1e-6, tol_df=1e-4)


@pytest.mark.parametrize("i", range(len(QUERIES)), ids=_ids())
def test_at_our_estimates_tables_equal_emmeans_to_the_optimum(i):
    _compare(own_output(i), QUERIES[i], tol_value=1e-4, tol_df=1e-3, tol_abs=1e-4)


@pytest.mark.parametrize("i", range(len(QUERIES)), ids=_ids())
def test_linear_functions_and_notes_equal_emmeans(i):
    q = QUERIES[i]
    out = own_output(i)
    ref_terms = REFERENCE["models"][q["model"]]["terms"]
    order = [ref_terms.index(r_term(n)) for n in out.terms]
    np.testing.assert_allclose(out.linfct, np.asarray(q["linfct"], float)[:, order], rtol=1e-12, atol=1e-12)
    notes = [n.lower() for n in out.notes]
    for line in q["mesg"]:
        assert line.lower() in notes, (line, out.notes)
    assert any("misleading due to involvement in interactions" in n for n in notes) == q["interaction_note"]
    for message in q["messages"]:
        assert message in out.notes


def test_ddf_none_is_the_results_own_method_and_with_ddf_is_the_same():
    sat = own_fit("nest3")
    kr = sat.with_ddf("Kenward-Roger")
    a = kr.marginal_means("offer", by="wave")
    b = sat.marginal_means("offer", by="wave", ddf="Kenward-Roger")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.ddf == "Kenward-Roger" and sat.marginal_means("offer").ddf == "Satterthwaite"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ml = own_fit("nest3_ml")
    with pytest.raises(SpecificationError, match="REML fits only"):
        ml.marginal_means("offer", ddf="Kenward-Roger")


def test_means_of_the_data_columns_reuse_the_contrast_machinery():
    res = own_fit("nest3")
    means = res.marginal_means(["offer"], by="wave")
    direct = res.contrast(means.linfct)
    np.testing.assert_allclose(means.table["estimate"], direct["estimate"], rtol=1e-14)
    np.testing.assert_allclose(means.table["se"], direct["se"], rtol=1e-14)
    np.testing.assert_allclose(means.table["df"], direct["df"], rtol=1e-14)
    pd.testing.assert_frame_equal(means.table, res.marginal_means("offer", by=["wave"]).table)
    assert means.frame is means.table


def test_covariate_mean_is_over_the_rows_used_in_the_fit():
    res = own_fit("nest3")
    rg = reference_grid(res)
    used = data().dropna(subset=["y", "ses"])
    assert rg.values["ses"] == (pytest.approx(used["ses"].mean(), rel=1e-14),)
    assert rg.values["ses"][0] != pytest.approx(data()["ses"].mean(), rel=1e-6)
    assert rg.n_used == len(used) == res.engine.n
    assert rg.factors == ("wave", "offer", "sex") and rg.covariates == ("ses",)
    assert len(rg.grid) == 4 * 2 * 2 and list(rg.grid.columns) == ["wave", "offer", "sex", "ses"]
    assert list(rg.grid["wave"][:5]) == [0, 1, 2, 3, 0]  # the first variable varies fastest


def test_data_dependent_codings_are_those_of_the_fit():
    """center(ses) is centred at the fit's mean, so the means do not change."""
    complete = data().dropna(subset=["ses"])  # patsy's center() gives NaN for a column with NaN
    plain = fit("y ~ C(wave) * C(offer) + sex + ses + (1 | org/team/person)", complete)
    centred = fit("y ~ C(wave) * C(offer) + sex + center(ses) + (1 | org/team/person)", complete)
    plain = plain.marginal_means("offer", by="wave")
    np.testing.assert_allclose(centred.marginal_means("offer", by="wave").table["estimate"],
                               plain.table["estimate"], rtol=1e-6)


def test_contrasts_of_the_means_object_equal_marginal_contrasts():
    res = own_fit("nest3")
    a = res.marginal_means("wave", by="offer").contrasts("revpairwise", adjust="holm")
    b = res.marginal_contrasts("wave", by="offer", method="revpairwise", adjust="holm")
    pd.testing.assert_frame_equal(a.table, b.table)
    assert isinstance(a, MarginalContrasts) and a.adjust == "holm" and a.method == "revpairwise"


def test_a_family_of_one_is_not_adjusted():
    res = own_fit("nest3")
    tukey = res.marginal_contrasts("offer", by="wave", adjust="tukey")
    none = res.marginal_contrasts("offer", by="wave", adjust="none")
    pd.testing.assert_frame_equal(tukey.table, none.table)
    assert tukey.adjust == "none" and not any("adjustment" in n for n in tukey.notes)


def test_holm_and_bonferroni_p_values_follow_their_definitions():
    res = own_fit("nest3")
    raw = res.marginal_contrasts("wave", adjust="none").table["p"].to_numpy()
    bonf = res.marginal_contrasts("wave", adjust="bonferroni").table["p"].to_numpy()
    holm = res.marginal_contrasts("wave", adjust="holm").table["p"].to_numpy()
    np.testing.assert_allclose(bonf, np.minimum(1, 6 * raw))
    order = np.argsort(raw)
    expected = np.minimum(1, np.maximum.accumulate((6 - np.arange(6)) * raw[order]))
    np.testing.assert_allclose(holm[order], expected)
    assert np.all(holm <= bonf + 1e-15)


def test_display_shows_table_groups_and_notes():
    means = own_fit("nest3").marginal_means("offer", by="wave")
    text = repr(means)
    assert text.startswith("Estimated marginal means") and "wave = 0:" in text
    assert "Degrees-of-freedom method: Satterthwaite" in text
    assert "Covariates at their mean over the 643 rows used in the fit: ses = 0.05487" in text
    page = means._repr_html_()
    assert "<table" in page and "Confidence level used: 0.95" in page and "wave = 3:" in page
    con = own_fit("nest3").marginal_contrasts("wave", method="consec", adjust="tukey")
    assert 'was changed to "sidak"' in repr(con) and "P value adjustment: sidak method for 3 tests" in repr(con)


def test_unknown_names_and_values_are_explained():
    res = own_fit("nest3")
    with pytest.raises(SpecificationError, match=r"specs=\['C\(wave\)\[T.1\]'\].*name data columns.*'wave'"):
        res.marginal_means("C(wave)[T.1]")
    with pytest.raises(SpecificationError, match=r"by=\['team'\]"):
        res.marginal_means("offer", by="team")
    with pytest.raises(SpecificationError, match="both specs and by"):
        res.marginal_means("offer", by="offer")
    with pytest.raises(SpecificationError, match=r"at= names \['age'\]"):
        res.marginal_means("offer", at={"age": 40})
    with pytest.raises(SpecificationError, match=r"at= gives \[7\] for the factor 'wave'.*\[0, 1, 2, 3\]"):
        res.marginal_means("offer", at={"wave": [0, 7]})
    with pytest.raises(SpecificationError, match="give numbers"):
        res.marginal_means("offer", at={"ses": ["low"]})
    with pytest.raises(SpecificationError, match="method must be one of"):
        res.marginal_contrasts("wave", method="poly")
    with pytest.raises(SpecificationError, match="adjust must be one of"):
        res.marginal_contrasts("wave", adjust="mvt")
    with pytest.raises(SpecificationError, match="conf_level"):
        res.marginal_means("wave", conf_level=95)
    with pytest.raises(SpecificationError, match=r"two or more means.*at=\{'wave'"):
        own_fit("quad").marginal_contrasts("wave")


def test_a_numeric_spec_without_at_is_one_mean_at_the_covariate_mean():
    res = own_fit("quad")
    means = res.marginal_means("wave")
    assert len(means.table) == 1
    assert means.table["wave"].iloc[0] == pytest.approx(data().dropna(subset=["y"])["wave"].mean())
    assert isinstance(means, MarginalMeans)


def test_tukey_quantiles_are_scipys():
    from scipy import stats

    from lerendtransformeren.multilevel.marginal import _tukey_quantiles

    df = np.array([455.9, 3.2, np.inf, 24.4, 1.5])
    for level, k in [(0.95, 4), (0.99, 8)]:
        np.testing.assert_allclose(_tukey_quantiles(level, k, df), stats.studentized_range.ppf(level, k, df),
                                   rtol=1e-10)


# -- GLMMs -------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def glmm_fit(model: str):
    ref = REFERENCE["models"][model]
    return fit(ref["formula"], pd.read_csv(REF / "binary.csv"), family=ref["family"])


@lru_cache(maxsize=None)
def glmm_at_lme4(model: str):
    """Our GLMM result with lme4's fixed effects and vcov() in place of ours."""
    ref = REFERENCE["models"][model]
    res = glmm_fit(model).with_ddf("Wald")
    order = [ref["terms"].index(r_term(n)) for n in res.frame.x_names]
    res.beta = np.asarray(ref["beta"], float)[order]
    res.vcov = np.asarray(ref["vcov"], float)[np.ix_(order, order)]
    return res


def run_glmm(res, q):
    kwargs = dict(by=q["by"], at=q["at"], conf_level=q["level"], type=q["type"] or "link")
    if q["method"] is None:
        return res.marginal_means(q["specs"], **kwargs)
    return res.marginal_contrasts(q["specs"], method=q["method"], adjust=q["adjust"], **kwargs)


def test_glmm_reference_covers_link_and_response_scale_of_both_families():
    assert {q["model"] for q in GLMM} == {"bin", "pois"}
    assert {q["type"] for q in GLMM} == {None, "response"}
    assert any(q["method"] and q["type"] for q in GLMM)  # odds and rate ratios


@pytest.mark.parametrize("i", range(len(GLMM)), ids=_ids(GLMM))
def test_glmm_at_lme4s_estimates_tables_and_notes_equal_emmeans(i):
    q = GLMM[i]
    out = run_glmm(glmm_at_lme4(q["model"]), q)
    _compare(out, q, tol_value=1e-6, tol_df=0)
    notes = [n.lower() for n in out.notes]
    for line in q["mesg"]:
        assert line.lower() in notes, (line, out.notes)
    ref_terms = REFERENCE["models"][q["model"]]["terms"]
    order = [ref_terms.index(r_term(n)) for n in out.terms]
    np.testing.assert_allclose(out.linfct, np.asarray(q["linfct"], float)[:, order], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("i", range(len(GLMM)), ids=_ids(GLMM))
def test_glmm_at_our_estimates_tables_equal_emmeans_to_the_optimum(i):
    """Tolerances of tests/multilevel/test_glmm_reference.py: the binomial likelihood is flat
    (our log-likelihood -276.8381681056 is 1.8e-7 above glmer's with tight settings, the
    fixed effects differ by up to 4e-5), so the contrasts differ by up to 7e-4 relative."""
    q = GLMM[i]
    _compare(run_glmm(glmm_fit(q["model"]), q), q, tol_value=1e-3, tol_df=0, tol_abs=1e-3)


def test_glmm_options_that_do_not_apply_are_refused():
    res = glmm_fit("bin")
    with pytest.raises(SpecificationError, match="ddf='Satterthwaite' does not apply to the means of a GLMM"):
        marginal_means(res, "offer", ddf="Satterthwaite")
    with pytest.raises(SpecificationError, match="type must be 'link' or 'response'"):
        res.marginal_means("offer", type="probability")
    with pytest.raises(SpecificationError, match="applies to GLMMs"):
        marginal_means(own_fit("nest3"), "offer", type="response")


def test_tukey_becomes_sidak_only_for_a_family_of_several():
    res = own_fit("nest3")
    one = res.marginal_contrasts("offer", method="trt.vs.ctrl", adjust="tukey")
    assert one.adjust == "none" and not any("sidak" in n for n in one.notes)
    several = res.marginal_contrasts("wave", method="trt.vs.ctrl", adjust="tukey")
    assert several.adjust == "sidak"
    np.testing.assert_allclose(several.table["p"], 1 - (1 - res.marginal_contrasts(
        "wave", method="trt.vs.ctrl", adjust="none").table["p"]) ** 3)
