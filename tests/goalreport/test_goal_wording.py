"""The defects of issue 11 in the goal reports and the overview, each with its guard.

Every test here failed on the report code before the redesign (report/goal.py).
"""

from __future__ import annotations

import dataclasses
import re
import zipfile

import numpy as np
import pytest

from lerendtransformeren.goalreport import analyse_goal, build_goal_report, build_overview, load_study
from lerendtransformeren.goalreport import blocks as B
from lerendtransformeren.goalreport import fits
from lerendtransformeren.goalreport.build import document_texts, write_goal_sections
from lerendtransformeren.report.references import BIBLIOGRAPHY, reference_list, uncited, unlisted
from lerendtransformeren.goalreport.sections import Context
from lerendtransformeren.report.figures import Figure
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.render import render_docx, render_html, render_markdown

DATE = "2026-11-23"


@pytest.fixture(scope="module")
def study():
    return load_study()


@pytest.fixture(scope="module")
def docs(study):
    """Every goal report and the overview, in both languages."""
    out = {}
    for lang in ("nl", "en"):
        for goal in (1, 2, 3, 4, 5):
            out[(goal, lang)] = build_goal_report(study, goal, lang=lang, date=DATE)
        out[("overview", lang)] = build_overview(study, lang=lang, date=DATE)
    return out


def _text(doc) -> str:
    return render_markdown(doc)


# --- interpretation ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang, one", [("nl", "kant van 1"), ("en", "side of 1")])
def test_ratios_are_read_against_one(docs, lang, one):
    text = _text(docs[(3, lang)])
    ratio = "oddsratio" if lang == "nl" else "odds ratio"
    line = next(t for t in text.splitlines() if ratio in t and "95%" in t)
    assert one in line and "nul" not in line and "zero" not in line
    # an OR above 1 whose interval includes 1 reads as "includes 1", not as a side of zero
    assert B.reading(1.3, 0.8, 2.1, True, lang, 0.3, null=1.0).startswith(
        "het interval omvat 1" if lang == "nl" else "the interval includes 1")


def test_the_bound_near_zero_is_named_correctly():
    below = B.reading(-0.79, -1.56, -0.02, False, "nl", p=0.045)
    above = B.reading(0.12, 0.001, 0.23, True, "nl", p=0.049)
    assert "de bovengrens ligt dicht bij nul" in below and "ondergrens" not in below
    assert "de ondergrens ligt dicht bij nul" in above
    assert "upper bound" in B.reading(-0.79, -1.56, -0.02, False, "en", p=0.045)


# --- figures -------------------------------------------------------------------------------------


def _figures(doc):
    def walk(sections):
        for s in sections:
            yield from (b for b in s.blocks if isinstance(b, Figure))
            yield from walk(s.subsections)
    return list(walk(doc.sections))


def test_no_recovered_category_without_a_cutoff(docs):
    # goal 5's primary outcome (UWES-9) has no clinical cut-off; goal 3's (SDQ) has one
    rc5 = [f for f in _figures(docs[(5, "nl")]) if "betrouwbare verandering" in f.alt_nl.lower()]
    assert rc5 and "hersteld" not in rc5[0].alt_nl
    rc3 = [f for f in _figures(docs[(3, "nl")]) if "betrouwbare verandering" in f.alt_nl.lower()]
    assert rc3 and "hersteld" in rc3[0].alt_nl


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_overview_has_a_forest_plot_in_html_and_word(docs, lang):
    doc = docs[("overview", lang)]
    forest = [f for f in _figures(doc) if "forest" in f.alt_nl.lower()]
    assert len(forest) == 1
    assert render_html(doc).count('src="data:image/png;base64,') == 1
    import io

    with zipfile.ZipFile(io.BytesIO(render_docx(doc))) as z:
        assert [n for n in z.namelist() if n.startswith("word/media/")]


# --- language and citation -------------------------------------------------------------------------


def test_dutch_wording(docs):
    text = "\n".join(_text(docs[(g, "nl")]) for g in (1, 2, 3, 4, 5))
    for wrong in ("de contrast", "vooruit gaan", "rate ratio", "Mancl en DeRouen (",
                  "Doelrealisatie (GAS T-score): Doelrealisatie", "Ervaren regeldruk (1-5): Ervaren"):
        if wrong == "Mancl en DeRouen (":
            assert "Mancl en DeRouen (2001)" in text
            assert not re.search(r"Mancl en DeRouen(?! \(2001\))", text)
        else:
            assert wrong not in text, wrong
    assert "Daarnaast zijn zorguitkomsten vastgelegd: verwijzing naar specialistische zorg en aantal contacten." in text
    # no capital after the colon that introduces the goal's description
    assert "\u2019: sneller passende hulp" in text


def test_goal_five_compares_roles_not_family_characteristics(docs):
    text = _text(docs[(5, "nl")])
    assert "## Verschillen naar functie" in text
    assert not re.search(r"\bSES\b", text) and "migratieachtergrond" not in text


def test_no_thousands_separator_in_degrees_of_freedom(docs):
    for lang in ("nl", "en"):
        for goal in (1, 2, 3, 4, 5):
            text = _text(docs[(goal, lang)])
            assert not re.search(r"\b[tF]\((?:\d+[;,] )?\d{1,3}[.,]\d{3}[.,]\d", text), (goal, lang)
            assert re.search(r"t\(\d{4}[.,]\d\)", text), (goal, lang)


@pytest.mark.parametrize("key", [(g, lang) for g in (1, 2, 3, 4, 5, "overview") for lang in ("nl", "en")])
def test_every_reference_is_cited_and_every_citation_listed(docs, key):
    doc = docs[key]
    methods = doc.sections[-1]
    refs = methods.subsections[0].blocks if methods.subsections else []
    texts = document_texts(doc.sections)
    assert refs and not uncited(texts, refs), uncited(texts, refs)
    assert not unlisted(texts, refs), unlisted(texts, refs)


def test_the_citation_check_catches_both_directions():
    refs = reference_list(["as Satterthwaite (1946) showed"])
    assert len(refs) == 1
    planted = [e for e in BIBLIOGRAPHY if e.startswith("Kenward")]
    assert uncited(["as Satterthwaite (1946) showed"], refs + planted) == planted
    assert unlisted(["as Satterthwaite (1946) and Nobody (2020) showed"], refs) == [("Nobody", "2020")]


@pytest.mark.parametrize("goals, nl, en", [
    ([5], "overzicht van doel 5", "overview of goal 5"),
    ([1, 3], "overzicht van twee transformatiedoelen", "overview of two transformation goals"),
    (None, "overzicht van de vijf transformatiedoelen", "overview of the five transformation goals"),
])
def test_overview_wording_fits_the_goals_shown(study, goals, nl, en):
    doc_nl = build_overview(study, goals, lang="nl", date=DATE)
    doc_en = build_overview(study, goals, lang="en", date=DATE)
    assert nl in doc_nl.title and en in doc_en.title
    para = doc_nl.sections[0].blocks[0]
    if goals == [1, 3]:
        assert "transformatiedoelen 1 en 3 naast elkaar" in para
    assert "1, 2, 3, 4" not in para or "1, 2, 3, 4 en 5" in para


# --- the sensitivity model with a random offer slope ---------------------------------------------


def test_heterogeneity_sensitivity_is_reported(study, docs):
    res3, res5 = analyse_goal(study, 3), analyse_goal(study, 5)
    assert res3.slope.slope_variance == pytest.approx(0.0, abs=1e-8)
    assert "op nul geschat" in _text(docs[(3, "nl")])
    assert res5.slope.slope_variance > 0
    base5 = next(e.row for e in res5.effects if e.measure == res5.primary)
    assert res5.slope.row["df"] < base5["df"] / 10  # the offer effect now varies between organisations
    assert res5.slope.row["se"] > base5["se"] * 0.9
    text = _text(docs[(5, "en")])
    assert "Sensitivity analysis 2" in text and "degrees of freedom fall from" in text


# --- analyse, then write ---------------------------------------------------------------------------


def test_writing_neither_fits_nor_computes(study, monkeypatch):
    res = analyse_goal(study, 3)

    def refuse(*args, **kwargs):
        raise AssertionError("the writing step tried to fit a model")

    monkeypatch.setattr(fits, "fit_spec", refuse)
    monkeypatch.setattr(fits.FitCache, "get", refuse)
    ctx = Context("nl", study.programme, study.programme.goal(3),
                  collect_provenance(date=DATE, inputs=[], seed=1), True, 0)
    sections = write_goal_sections(res, ctx)
    assert [s.heading for s in sections][:3] == ["Opzet", "Steekproef", "Meetinstrumenten en betrouwbaarheid"]


# --- editorial guards ------------------------------------------------------------------------------


def _nested_parentheses(text: str) -> list[str]:
    """Spans of running text with a parenthetical inside a parenthetical, e.g.
    '(b = 1 (95%-BI ...))'. Notation is not a parenthetical: t(12), F(2; 40), C(wave)."""
    found, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth == 1:
                start = i
            elif depth == 2 and (i == 0 or not text[i - 1].isalnum()) and "~" not in text[start:i]:
                found.append(text[start:i + 20])
        elif ch == ")":
            depth = max(0, depth - 1)
    return found


@pytest.mark.parametrize("key", [(g, lang) for g in (1, 2, 3, 4, 5, "overview") for lang in ("nl", "en")])
def test_no_parenthesis_inside_a_parenthesis_in_running_text(docs, key):
    paragraphs = [b for b in document_texts(docs[key].sections) if not b.startswith(("|", "!"))]
    nested = [span for p in paragraphs for span in _nested_parentheses(p)
              if not re.search(r"\(\d{4}\)", span)]  # a year inside a citation is APA, not nesting
    assert nested == [], nested


def test_counts_of_organisations_come_from_the_data(study):
    res = analyse_goal(study, 3)  # zero slope variance and GEE outcomes: every count is used
    assert (res.n_organisations, res.n_goals, res.n_goal_organisations) == (15, 5, 3)
    fewer = dataclasses.replace(res, organisations=res.organisations.iloc[:2], n_organisations=11, n_goals=4)
    ctx = Context("nl", study.programme, study.programme.goal(3),
                  collect_provenance(date=DATE, inputs=[], seed=1), True, 0)
    text = "\n".join(document_texts(write_goal_sections(fewer, ctx)))
    assert "twee organisaties per doel" in text and "de vier doelen" in text
    assert "Met 11 organisaties" in text and "maar 11 zijn" in text
    assert "drie organisaties per doel" not in text and "vijftien" not in text and "vijf doelen" not in text


def test_group_tables_hide_a_second_cell_where_a_published_total_would_reveal_one(study):
    # goal 5: 'teamleider' has fewer than five measurements with the offer; the n per
    # condition over all roles stands in the descriptives table, so a second role must go too
    res = analyse_goal(study, 5)
    tables = [B.group_table(g.stats, res.primary, study.programme.groupings[g.column], res.k) for g in res.groups]
    checked = 0
    for table in tables:
        hidden = table.suppressed
        n_cols = [c for c in hidden.columns if c[1] == "n"]
        for col in n_cols:
            if hidden[col].any():
                checked += 1
                assert hidden[col].sum() >= 2, (table.title_nl, col)
        rows = hidden[n_cols]
        assert not (rows.sum(axis=1) == 1).any(), table.title_nl
    assert checked


@pytest.mark.parametrize("lang, marginal, conditional", [("nl", "(marginaal)", "(conditioneel)"),
                                                          ("en", "(marginal)", "(conditional)")])
def test_care_outcomes_show_the_glmm_beside_the_gee(study, docs, lang, marginal, conditional):
    res = analyse_goal(study, 3)
    assert [r.measure.column for r in res.glmm_ratios] == ["referral", "contacts"]
    for r in res.glmm_ratios:
        assert r.row["exp_estimate"] == pytest.approx(np.exp(r.row["estimate"]))
        assert r.row["exp_ci_low"] < r.row["exp_estimate"] < r.row["exp_ci_high"]
    text = _text(docs[(3, lang)])
    assert "(GLMM)" in text and marginal in text and conditional in text and "z = " in text
    assert "GLMM" not in _text(docs[(1, lang)])  # goal 1 has no yes/no or count outcomes


def test_goal_and_overview_results_show_their_effects_not_their_frames(study):
    """repr and Jupyter show the offer effects formatted as the report does; no data frame."""
    import html

    from IPython.core.formatters import DisplayFormatter

    from lerendtransformeren.goalreport import analyse_overview
    from lerendtransformeren.report.format import fmt_ci, fmt_num, fmt_p

    res = analyse_goal(study, 3)
    data, _ = DisplayFormatter().format(res)
    text, page = data["text/plain"], html.unescape(data["text/html"])
    assert text.startswith("GoalResults: goal 3") and len(text.splitlines()) <= 40
    effect = res.effects[0].row
    for cell in (fmt_num(effect["estimate"], 2, "en"), fmt_ci(effect["ci_low"], effect["ci_high"], 2, "en"),
                 fmt_p(effect["p"], "en"), res.effects[0].measure.name.nl):
        assert cell in text and cell in page
    ratio = res.ratios[0].row
    assert fmt_ci(ratio["exp_ci_low"], ratio["exp_ci_high"], 2, "en") in page
    assert not [f for f in res.samples[0].data["family"].unique() if f in text]  # no identifier, no frame
    overview = analyse_overview(study, [3])
    data, _ = DisplayFormatter().format(overview)
    assert data["text/plain"].startswith("OverviewResults: 1 goal")
    assert fmt_num(overview.effects.loc[3, "estimate"], 2, "en") in data["text/html"]
