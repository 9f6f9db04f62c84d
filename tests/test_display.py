"""How results show themselves in a terminal and in Jupyter (issue 14, point 1).

For every public result object: ``repr`` is short and never dumps a frame, IPython's own
formatter gives text *and* HTML, and the HTML holds the key numbers formatted as the
report layer formats them (``report.format``, an independent implementation of the APA
formats). ``summary()`` returns a ``str`` that IPython shows as its text.
"""

from __future__ import annotations

import html
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.lib.pretty import pretty

import lerendtransformeren as lt
from lerendtransformeren import display, scales, synthetic
from lerendtransformeren.display import SummaryText, View, ci, dfs, num, pval
from lerendtransformeren.multilevel import fit, fit_gee
from lerendtransformeren.multilevel.gee import _example_data
from lerendtransformeren.report.format import fmt_bounded, fmt_ci, fmt_df, fmt_num, fmt_p

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"
#: At most this many lines of text for any object (a frame of 9,584 rows would be far more).
MAX_LINES = 60


@pytest.fixture(autouse=True)
def session_defaults(monkeypatch):
    """Each test starts from the default display settings and leaves them as they were."""
    monkeypatch.setattr(display, "_OPTIONS", {"lang": "nl", "rows": 5})


def shown(obj) -> tuple[str, str]:
    """What IPython shows: the text/plain and text/html of its display formatter (the HTML
    with its entities read back, so that ``< .001`` can be looked for as a reader sees it)."""
    data, _ = DisplayFormatter().format(obj)
    assert set(data) >= {"text/plain", "text/html"}, f"{type(obj).__name__} has no HTML view"
    assert data["text/plain"] == repr(obj)
    return data["text/plain"], html.unescape(data["text/html"])


def assert_short(text: str, name: str) -> None:
    lines = text.splitlines()
    assert lines[0].startswith(name), lines[0]
    assert len(lines) <= MAX_LINES, f"{name}: {len(lines)} lines"


def assert_no_rows_beyond_the_head(text: str, frame: pd.DataFrame, column: str, head: int = 5) -> None:
    """No id of the frame's later rows appears: the view shows the head only."""
    later = set(frame[column].iloc[head:].astype(str)) - set(frame[column].iloc[:head].astype(str))
    assert later, "the test needs ids that occur after the head"
    assert not [v for v in later if v in text]


# --- the display module -------------------------------------------------------------------


def test_summary_text_is_a_str_that_shows_its_lines():
    text = SummaryText("Formula: y ~ x\n\nFixed effects:\n  x  0.5")
    assert isinstance(text, str) and text == "Formula: y ~ x\n\nFixed effects:\n  x  0.5"
    assert repr(text) == str(text)
    assert pretty(text) == str(text)  # IPython's printer: the lines, not a quoted '\n' string
    assert DisplayFormatter().format(text)[0]["text/plain"] == str(text)
    assert type(text + "!") is str and type(text.upper()) is str


@pytest.mark.parametrize("x", [0.0, -0.004, 0.4512, -1.5, 1234.5, 0.995, -0.0049, 12.3456, float("nan")])
@pytest.mark.parametrize("digits", [0, 2, 3])
def test_numbers_are_formatted_as_the_report_layer_does_in_english(x, digits):
    assert num(x, digits) == fmt_num(x, digits, "en")
    if abs(x) <= 1 or math.isnan(x):
        assert num(x, digits, leading_zero=False) == fmt_bounded(x, digits, "en")
    assert ci(x, x + 1, digits) == fmt_ci(x, x + 1, digits, "en")


@pytest.mark.parametrize("p", [0.0, 0.0004, 0.001, 0.0321, 0.5, 0.9994, 0.99995, 1.0, float("nan")])
def test_p_values_are_formatted_as_the_report_layer_does(p):
    assert pval(p) == fmt_p(p, "en")


@pytest.mark.parametrize("df", [12, 199.0000006, 14.31, 5744.71, float("inf"), float("nan")])
def test_degrees_of_freedom_as_the_report_layer_writes_them(df):
    expected = "\u221e" if df == float("inf") else fmt_df(df, "en")
    assert dfs(df) == expected


def test_set_display_checks_its_arguments_and_is_the_packages():
    assert lt.set_display is display.set_display
    lt.set_display(lang="en", rows=3)
    assert display.display_lang() == "en" and display.display_rows() == 3
    with pytest.raises(lt.SpecificationError, match="'nl' \\(Dutch\\) or 'en'"):
        lt.set_display(lang="de")
    with pytest.raises(lt.SpecificationError, match="rows=0"):
        lt.set_display(rows=0)


def test_view_escapes_html_and_aligns_numbers_right():
    view = View("<b>title</b>", facts=[("a & b", "<x>")],
                grids=[display.Grid(["Term", "b", "Words"], [["x", "-0.50", "long word"], ["yy", "12.00", "w"]])],
                notes=["n < 5"])
    page = view.html()
    assert "<b>title</b>" not in page and "&lt;b&gt;title&lt;/b&gt;" in page and "&lt;x&gt;" in page
    assert view.text().splitlines()[3:6] == ["Term      b  Words", "x     -0.50  long word", "yy    12.00  w"]


def test_progress_bar_shows_nothing_unless_asked(capsys):
    bar = display.progress_bar(10, desc="x", show=False)
    with bar:
        bar.update(3)
    assert capsys.readouterr().err == ""
    with display.progress_bar(4, desc="bootstrap", unit="resample") as bar:
        bar.update(4)
    assert "bootstrap" in capsys.readouterr().err


# --- fits -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nested():
    return synthetic.nested_example()


def test_linear_mixed_model(nested):
    m = fit("y ~ wave + (1 | org/team)", nested)
    text, html = shown(m)
    assert_short(text, "MultilevelResult")
    row = m.fixed.loc["wave"]
    for cell in (fmt_num(row["estimate"], 2, "en"), fmt_ci(row["ci_low"], row["ci_high"], 2, "en"),
                 fmt_p(row["p"], "en"), fmt_df(row["df"], "en"), fmt_num(m.variance["sd"].iloc[0], 2, "en")):
        assert cell in html and cell in text
    assert "Satterthwaite" in html and "org:team" in html
    summary = m.summary()
    assert isinstance(summary, SummaryText) and DisplayFormatter().format(summary)[0]["text/plain"] == summary
    assert "REML criterion" in pretty(summary) and "\\n" not in pretty(summary)


def test_glmm_and_its_odds_ratios(nested):
    data = nested.assign(yb=(nested["y"] > 0).astype(int))
    m = fit("yb ~ wave + (1 | org/team)", data, family="binomial")
    text, html = shown(m)
    assert_short(text, "GLMMResult")
    r = m.ratios().loc["wave"]
    assert fmt_num(r["ratio"], 2, "en") in html and fmt_ci(r["ci_low"], r["ci_high"], 2, "en") in html
    assert fmt_p(m.fixed.loc["wave", "p"], "en") in html and "Wald z-tests" in html
    assert isinstance(m.summary(), SummaryText)


def test_gee():
    g = fit_gee("y ~ x", _example_data(), cluster="org")
    text, html = shown(g)
    assert_short(text, "GEEResult")
    row = g.fixed.loc["x"]
    for cell in (fmt_num(row["exp_estimate"], 2, "en"), fmt_ci(row["exp_ci_low"], row["exp_ci_high"], 2, "en"),
                 fmt_p(row["p"], "en"), "Mancl-DeRouen"):
        assert cell in html and cell in text
    assert isinstance(g.summary(), SummaryText) and repr(g.summary()) == g.summary()
    assert text != g.summary()  # repr is the short view, summary() the full text


def test_power_simulation_curve_and_stepped_wedge():
    from lerendtransformeren.multilevel.power import stepped_wedge_power, stepped_wedge_schedule
    from lerendtransformeren.multilevel.simulation import Design, Model, power_curve, power_simulation

    design = Design({"cluster": 8, "person": 4}, treated_share=0.5)
    model = Model("y ~ offer + (1 | cluster)", fixed={"offer": 0.5}, variances={"cluster": 0.1, "residual": 0.9})
    sim = power_simulation(model, design, n_sim=12, seed=1, progress=False)
    text, html = shown(sim)
    assert_short(text, "PowerSimulation")
    assert fmt_ci(sim.ci_low, sim.ci_high, 3, "en", leading_zero=False) in html
    curve = power_curve(model, design, along="cluster", values=[6, 8], n_sim=6, seed=1, progress=False)
    text, html = shown(curve)
    assert_short(text, "PowerCurve")
    assert [fmt_num(p, 3, "en", leading_zero=False) in html for p in curve.table["power"]] == [True, True]
    sw = stepped_wedge_power(0.3, stepped_wedge_schedule([1, 2, 3] * 5, waves=4), 20, icc=0.10)
    text, html = shown(sw)
    assert_short(text, "SteppedWedgePower")
    assert fmt_num(sw.power_t, 3, "en", leading_zero=False) in html and "Hussey & Hughes" in text


# --- data -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def families_read():
    return lt.read_table(DATA / "families.csv")


def test_table_read_shows_the_head_and_the_shape(families_read):
    text, html = shown(families_read)
    assert_short(text, "TableRead")
    assert "9,584 rows x 89 columns (first 5 rows, first 8 columns)" in text
    assert_no_rows_beyond_the_head(text, families_read.data, "family")
    assert_no_rows_beyond_the_head(html, families_read.data, "family")
    assert isinstance(families_read.summary(), SummaryText)


def test_validation_result_is_short_not_its_9584_rows(families_read):
    checked = lt.validate(families_read.data, source="families.csv")
    text, html = shown(checked)
    assert_short(text, "Validated")
    assert len(html) < 30_000  # the whole frame as HTML would be megabytes
    assert_no_rows_beyond_the_head(text, checked.data, "family")
    assert_no_rows_beyond_the_head(html, checked.data, "family")
    families = checked.report.counts.loc["family", "total"]
    assert f"{families:,}" in html  # units per level, with a thousands separator
    worst = checked.report.missing[("all", "n_missing")].idxmax()
    assert worst in html
    text, html = shown(checked.report)
    assert_short(text, "ValidationReport")
    assert isinstance(checked.summary(), SummaryText)


def test_study_and_study_data():
    made = synthetic.generate()
    text, html = shown(made)
    assert_short(text, "Study")
    assert f"{len(made.families):,}" in html and "9,584" in text
    from lerendtransformeren.study import load_study
    from lerendtransformeren.study.definition import read_definition
    from lerendtransformeren.study.gate import read_study_files

    data = load_study(DATA / "study.yaml")
    text, html = shown(data)
    assert_short(text, "StudyData")
    assert "families" in html and f"{len(data.families):,}" in text
    families = read_study_files(read_definition(DATA / "study.yaml"))["families"]
    text, html = shown(families)
    assert_short(text, "FileRead")
    assert_no_rows_beyond_the_head(text, families.data, "family")


# --- scales ---------------------------------------------------------------------------------


def test_reliability_and_its_progress_bar(families_read, capsys):
    first = families_read.data.loc[families_read.data["wave"] == 0]
    result = scales.reliability(first, "sdq_parent", n_boot=20, seed=1, progress=True)
    assert "resample" in capsys.readouterr().err  # the bar of the bootstrap
    text, html = shown(result)
    assert_short(text, "ReliabilityResult")
    row = result.scales.iloc[0]
    for cell in (fmt_bounded(row["alpha"], 2, "en"), fmt_ci(row["omega_ci_low"], row["omega_ci_high"], 2, "en",
                                                            leading_zero=False)):
        assert cell in html and cell in text
    assert f"{len(result.items)} rows" in text  # the item table is named, not shown


def test_classification_and_instrument(families_read):
    scores = scales.score(families_read.data, "sdq_parent")
    c = scales.classify(scores, "sdq_parent")
    text, html = shown(c)
    assert_short(text, "Classification")
    first = c.proportions.iloc[0]
    assert f"{first['n']:,} ({100 * first['proportion']:.0f}%)" in html
    assert first["band"] in text and "9,584 rows" in text  # the band per row is named, not shown
    inst = scales.get("sdq_parent")
    text, html = shown(inst)
    assert_short(text, "Instrument sdq_parent")
    assert len(text) < 3000 and inst.name_nl in text
    lt.set_display(lang="en")
    assert inst.name_en in repr(inst)


# --- the report layer -----------------------------------------------------------------------


def _fixed_table():
    from lerendtransformeren.report.tables import fixed_effects_table

    return fixed_effects_table(pd.DataFrame(
        {"estimate": [2.5, 0.18], "se": [0.1, 0.03], "df": [14.2, 12.4], "t": [25.0, 5.1],
         "p": [1e-12, 0.00021], "ci_low": [2.29, 0.11], "ci_high": [2.71, 0.25]}, index=["Intercept", "offer"]))


def test_report_table_shows_the_session_language():
    table = _fixed_table()
    text, html = shown(table)
    assert text.startswith(f"Tabel: {table.title('nl')}")
    for row in table.rows("nl"):
        assert all(cell in html for cell in row)  # the cells exactly as the report prints them
    assert "Noot." in text
    lt.set_display(lang="en")
    text, html = shown(table)
    assert text.startswith(f"Table: {table.title('en')}") and "[0.11, 0.25]" in html and "< .001" in html


def test_provenance_suppression_and_document():
    from lerendtransformeren import report

    prov = report.collect_provenance(date="2026-11-23", seed=7)
    text, html = shown(prov)
    assert "Datum" in text and "2026-11-23" in html
    counts = pd.DataFrame({"a": [3, 10, 12], "b": [8, 9, 2]}, index=["x", "y", "z"])
    sup = report.suppress_small_cells(counts.astype(float), counts, k=5, margins="rows")
    text, html = shown(sup)
    assert_short(text, "Suppression")
    assert f"{len(sup.cells)} cells ({len(sup.primary)} primary" in text and sup.footnote("nl") in html
    doc = report.Document("Rapport", "nl", [report.Section("Inleiding", ["tekst", _fixed_table()],
                                                           [report.Section("Deel", ["meer"])])], prov)
    text, html = shown(doc)
    assert_short(text, "Document: Rapport")
    assert "Inleiding" in html and "  Deel" in text


def test_no_view_raises_on_an_empty_or_odd_result():
    """Views of results with nothing in them still render."""
    empty = pd.DataFrame({"goal": pd.Series([], dtype=int), "organisation": pd.Series([], dtype=str)})
    grid = display.frame_grid(empty, "Data")
    assert grid.caption == "Data: 0 rows x 2 columns" and grid.rows == []
    assert View("x", grids=[grid]).html().startswith('<div class="lt-display"')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert display.digits_for([np.nan, 0.0]) == 2
