"""``report --impute M``: the imputation sensitivity analysis of a goal's primary outcome.

The sampler runs here with a short burn-in (``SHORT``) to keep the tests fast; the reports
use :func:`multilevel.impute`'s defaults. The short chains have not converged, which the
tests use to check the warning; the converged wording is checked on the same results with
another R-hat.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.goalreport import analyse_goal, goal_specs, load_study, run_reports
from lerendtransformeren.goalreport import blocks as B
from lerendtransformeren.goalreport.analyse import RHAT_LIMIT, impute_auxiliaries, impute_spec, outcome_spec
from lerendtransformeren.goalreport.build import document_texts, write_goal_sections
from lerendtransformeren.goalreport.fits import FitCache, ImputeSpec, LmmSpec, fit_spec, rows_for
from lerendtransformeren.goalreport.imputed import unit_counts
from lerendtransformeren.goalreport.sections import Context
from lerendtransformeren.multilevel import fit, impute
from lerendtransformeren.multilevel.pooling import rubin
from lerendtransformeren.report.format import fmt_num
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.references import uncited, unlisted

DATE = "2026-11-23"
SEED, M, GOAL = 20261204, 4, 3
SHORT = {"burn": 40, "between": 10}
SDQ = "sdq_parent_total_difficulties"
TERM = f"C(goal)[{GOAL}]:offer"
NEW_REFERENCES = ("Barnard, J.", "Quartagno, M.", "Rubin, D. B.", "Vehtari, A.")


@pytest.fixture(scope="module")
def study():
    return load_study()


@pytest.fixture(scope="module")
def short_spec(study) -> ImputeSpec:
    return dataclasses.replace(impute_spec(study, study.programme.measures[SDQ], M, SEED), **SHORT)


@pytest.fixture(scope="module")
def fitted(study, short_spec):
    """The short imputation, chains in two processes."""
    out = fit_spec(dataclasses.replace(short_spec, n_jobs=2), rows_for(study, short_spec))
    assert out.error == "" and out.result is not None
    return out


@pytest.fixture(scope="module")
def results(study, fitted):
    """Goal 3 with and without the imputation analysis; the short run stands in the
    study's cache for the spec of the reports (impute's own sampler settings)."""
    spec = impute_spec(study, study.programme.measures[SDQ], M, SEED)
    FitCache.of(study).results[spec] = fitted
    return analyse_goal(study, GOAL, impute=M, seed=SEED), analyse_goal(study, GOAL, seed=SEED)


def _ctx(study, lang: str) -> Context:
    return Context(lang, study.programme, study.programme.goal(GOAL),
                   collect_provenance(date=DATE, inputs=[], seed=SEED), True, 0)


def _texts(study, res, lang: str) -> list[str]:
    return document_texts(write_goal_sections(res, _ctx(study, lang)))


def _paragraph(texts: list[str], start: str) -> str:
    return next(t for t in texts if t.startswith(start))


# --- the spec -----------------------------------------------------------------------------------


def test_the_spec_imputes_the_primary_outcome_as_intended(study):
    specs = goal_specs(study, GOAL, seed=SEED, impute=M, jobs=2)
    spec = specs[0]  # first: the longest job starts first in the workers
    assert isinstance(spec, ImputeSpec)
    assert (spec.respondent, spec.outcome, spec.m, spec.seed, spec.n_jobs) == ("family", SDQ, M, SEED, 2)
    assert spec.formula == outcome_spec(study, study.programme.measures[SDQ]).formula
    assert spec.levels == ("organisation", "team", "professional", "family")
    # the pooled model's fixed part and the programme's groupings present in the family file
    assert spec.predictors == ("C(wave) + C(goal) + C(goal):offer + C(ses) + C(migration_background) "
                               "+ C(age_band)")
    # the sampler's settings are impute's own defaults
    assert (spec.burn, spec.between, spec.chains) == (None, None, None) and spec.sampler() == {}
    # the number of worker processes is not part of what is fitted
    one = dataclasses.replace(spec, n_jobs=1)
    assert one == spec and hash(one) == hash(spec) and {spec: 1}[one] == 1
    assert dataclasses.replace(spec, m=M + 1) != spec
    # without the option the list of specs is what it was
    assert goal_specs(study, GOAL, seed=SEED) == specs[1:]
    assert not any(isinstance(s, ImputeSpec) for s in goal_specs(study, GOAL, seed=SEED))


def test_professionals_are_imputed_with_their_own_levels_and_groupings(study):
    spec = impute_spec(study, study.programme.measures["uwes9_total"], M, SEED)
    assert spec.levels == ("organisation", "team", "professional")
    assert spec.predictors == "C(wave) + C(goal) + C(goal):offer + C(role)"


def test_the_spec_is_sent_every_row_and_only_the_columns_it_uses(study, short_spec):
    rows = rows_for(study, short_spec)
    families = study.frame("family")
    assert len(rows) == len(families) and rows[SDQ].isna().sum() == families[SDQ].isna().sum() > 0
    assert set(rows.columns) == {"goal", "organisation", "team", "professional", "family", "wave", "offer",
                                 "ses", "migration_background", "age_band", SDQ}


def test_auxiliaries_must_be_complete_and_constant_per_respondent(study):
    fam = study.frame("family").copy()
    fam.loc[fam.index[0], "ses"] = None  # one missing value
    sizes = fam.groupby("family").size()
    rows = fam.index[fam["family"] == sizes.index[sizes > 1][0]]
    fam.loc[rows[1], "age_band"] = "18-23" if fam.loc[rows[0], "age_band"] != "18-23" else "0-3"  # changes
    stub = SimpleNamespace(programme=study.programme, frame=lambda respondent: fam)
    assert impute_auxiliaries(stub, "family") == (("migration_background",), ("ses", "age_band"))


def test_left_out_auxiliaries_are_named_in_the_methods(study, results):
    res, _ = results
    fewer = dataclasses.replace(res, imputation=dataclasses.replace(
        res.imputation, auxiliary=("migration_background",), left_out=("ses", "age_band")))
    methods = _paragraph(_texts(study, fewer, "en"), "Missing measurements")
    assert "the auxiliary variables migration background." in methods
    assert ("Left out of the imputation model: socio-economic status and age of the child, because these "
            "data are sometimes missing or change within a family.") in methods


def test_unit_counts_leave_out_units_never_measured():
    data = pd.DataFrame({
        "goal": [1, 1, 1, 1, 1, 2, 2, 2],
        "family": ["a", "a", "a", "b", "b", "c", "d", "d"],
        "wave": [0, 1, 2, 0, 2, 0, 0, 1],
        "y": [1.0, np.nan, 2.0, np.nan, np.nan, 3.0, np.nan, 4.0],
    })
    mask, table = unit_counts(data, "y", "family")
    assert mask.tolist() == [True, True, True, False, False, True, True, True]
    # goal 1: a takes part (3 rows of 3 waves, 2 observed), b never measured;
    # goal 2: c (1 row) and d (2 rows) take part: 3 rows added, 2 observed of 6
    assert table.loc[1].tolist() == [1, 1, 0, 1, 2]
    assert table.loc[2].tolist() == [2, 0, 3, 4, 2]
    assert list(table.columns) == ["units", "never", "rows_added", "imputed", "observed"]


# --- the numbers --------------------------------------------------------------------------------


def test_the_pooled_estimate_is_rubins_rules_over_the_same_imputations(study, short_spec, fitted):
    """Impute again with the same seed (chains in one process), fit each completed set,
    and pool the goal's offer term with Rubin's rules (Barnard-Rubin df)."""
    data = rows_for(study, short_spec).reset_index(drop=True)
    measured = data.groupby("family")[SDQ].transform(lambda s: s.notna().any()).to_numpy(dtype=bool)
    imp = impute(data, SDQ, list(short_spec.levels), short_spec.predictors, m=M, seed=SEED, progress=False,
                 complete=("family", "wave"), where=measured, ranges={SDQ: None}, **SHORT)
    never = ~measured
    for d in imp:
        assert d.loc[: len(data) - 1][SDQ][never].isna().all()  # never measured: not imputed
        assert d.loc[d["family"].isin(data.loc[measured, "family"]), SDQ].notna().all()
    fits = [fit(short_spec.formula, d) for d in imp]
    rows = [f.fixed.loc[TERM] for f in fits]
    expected = rubin(np.array([[r["estimate"]] for r in rows]), np.array([[[r["se"] ** 2]] for r in rows]),
                     np.array([np.mean([r["df"] for r in rows])]), names=[TERM]).table.loc[TERM]
    got = fitted.result.row(GOAL)
    for col in ("estimate", "se", "df", "ci_low", "ci_high", "fmi"):
        assert got[col] == pytest.approx(expected[col], rel=1e-8), col
    assert fitted.result.m == M
    units = fitted.result.units
    assert int(units["rows_added"].sum()) == int(imp.added.sum())
    assert int(units["never"].sum()) == int(data.loc[never, "family"].nunique())
    assert fitted.result.rhat == pytest.approx(float(imp.diagnostics["rhat"].max()), rel=1e-12)


def test_same_numbers_in_a_worker_process(study, short_spec, fitted):
    cache = FitCache(study)
    own = LmmSpec("family", SDQ, f"{SDQ} ~ C(wave) + offer + (1 | organisation/team/professional/family)", GOAL)
    assert cache.prefit([short_spec, own], jobs=2) == 2
    pd.testing.assert_frame_equal(cache.results[short_spec].result.fixed, fitted.result.fixed)
    assert cache.results[short_spec].result.rhat == fitted.result.rhat


def test_goal_results_hold_the_goals_offer_term_and_counts(study, results, fitted):
    res, plain = results
    s = res.imputation
    assert plain.imputation is None
    pd.testing.assert_series_equal(s.row, fitted.result.fixed.loc[TERM])
    assert s.m == M and s.rhat == fitted.result.rhat and s.settings["burn"] == SHORT["burn"]
    goal3 = study.frame("family").query("goal == @GOAL")
    never = int((~goal3.groupby("family")[SDQ].apply(lambda v: v.notna().any())).sum())
    assert never > 0 and int(s.units["never"]) == never  # SDQ does not apply to every age
    assert s.auxiliary == ("ses", "migration_background", "age_band") and s.left_out == ()
    assert s.converged == (s.rhat <= RHAT_LIMIT)
    shown = repr(res)
    assert "After imputation" in shown and f"m = {M}: b = {s.row['estimate']:.2f}" in shown
    assert ("not converged" in shown) == (not s.converged) and "After imputation" not in repr(plain)


# --- the words ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang, start, converged, unconverged", [
    ("nl", "Gevoeligheidsanalyse 3", "De grootste R-hat van de imputatieketens is 1,03.",
     "niet geconvergeerd, dus deze schatting mag niet worden gebruikt"),
    ("en", "Sensitivity analysis 3", "The largest R-hat of the imputation chains is 1.03.",
     "had not converged, so this estimate should not be used"),
])
def test_the_effect_section_states_the_pooled_numbers(study, results, lang, start, converged, unconverged):
    res, _ = results
    s = res.imputation
    base = next(e.row for e in res.effects if e.measure == res.primary)
    text = _paragraph(_texts(study, res, lang), start)
    assert B.stat(s.row, lang) in text and B.stat(base, lang) in text
    assert f"m = {M}" in text and fmt_num(s.row["fmi"], 2, lang) in text
    assert f" {int(s.units['never'])} " in text
    short = dataclasses.replace(res, imputation=dataclasses.replace(s, rhat=2.5))
    assert unconverged in _paragraph(_texts(study, short, lang), start)
    good = dataclasses.replace(res, imputation=dataclasses.replace(s, rhat=1.03))
    good_text = _paragraph(_texts(study, good, lang), start)
    assert converged in good_text and unconverged not in good_text


def test_unknown_rhat_and_failed_imputation_say_so(study, results):
    res, _ = results
    unknown = dataclasses.replace(res, imputation=dataclasses.replace(res.imputation, rhat=float("nan")))
    text = _paragraph(_texts(study, unknown, "en"), "Sensitivity analysis 3")
    assert "could not be computed" in text and "Convergence was therefore not checked" in text
    failed = dataclasses.replace(res, imputation=dataclasses.replace(res.imputation, row=None))
    text = _paragraph(_texts(study, failed, "nl"), "Gevoeligheidsanalyse 3")
    assert text.endswith("Deze analyse kon niet worden uitgevoerd.")


def test_an_interval_that_now_includes_zero_is_not_robust(study, results):
    res, _ = results
    row = res.imputation.row.copy()
    row[["estimate", "ci_low", "ci_high"]] = [-0.4, -1.2, 0.4]
    base = next(e.row for e in res.effects if e.measure == res.primary)
    assert not (base["ci_low"] <= 0 <= base["ci_high"])  # the main interval excludes zero
    changed = dataclasses.replace(res, imputation=dataclasses.replace(res.imputation, row=row, rhat=1.01))
    assert "not robust to the missing measurements" in _paragraph(_texts(study, changed, "en"),
                                                                   "Sensitivity analysis 3")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_methods_cite_the_imputation_works(study, results, lang):
    res, _ = results
    doc_texts = _texts(study, res, lang)
    methods = _paragraph(doc_texts, "Ontbrekende metingen" if lang == "nl" else "Missing measurements")
    for cite in ("Rubin, 1987", "Quartagno et al., 2019", "Vehtari et al., 2021", "Rubin (1999)"):
        assert cite in methods
    assert ("schaalscore zelf" if lang == "nl" else "scale score itself") in methods
    sections = write_goal_sections(res, _ctx(study, lang))
    refs = sections[-1].subsections[0].blocks
    assert all(any(r.startswith(a) for r in refs) for a in NEW_REFERENCES)
    assert not uncited(doc_texts, refs) and not unlisted(doc_texts, refs)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_without_the_option_the_report_is_unchanged(study, results, lang):
    """The option adds its two paragraphs and four references, and the caveat before the
    sensitivity analyses then speaks of the first two of three; nothing else changes."""
    res, plain = results
    with_it, without = _texts(study, res, lang), _texts(study, plain, lang)
    two, first_two = ("De twee gevoeligheidsanalyses", "De eerste twee gevoeligheidsanalyses") if lang == "nl" \
        else ("The two sensitivity analyses", "The first two sensitivity analyses")
    caveat = [t for t in without if two in t]
    assert len(caveat) == 1
    renamed = [t.replace(first_two, two) for t in with_it]
    added = [t for t in renamed if t not in without]
    assert len(added) == 2 + len(NEW_REFERENCES), added
    assert [t for t in renamed if t in without] == without
    assert caveat[0].replace(two, first_two) in with_it
    assert not any("imput" in t.lower() for t in without)


# --- the option ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [1, 0, -3, 2.5, True])
def test_fewer_than_two_imputations_is_a_clear_error(study, bad):
    with pytest.raises(SpecificationError, match="at least 2"):
        goal_specs(study, GOAL, impute=bad)
    with pytest.raises(SpecificationError, match="at least 2"):
        analyse_goal(study, GOAL, impute=bad)
    with pytest.raises(SpecificationError, match="at least 2"):
        run_reports(GOAL, study=study, impute=bad)
