"""Models side by side (report/modeltable.py): the numbers, the layout, the note, and the
table rendered to HTML, Word and Markdown in Dutch and English."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings

import docx
import numpy as np
import pandas as pd
import pytest
from docx.oxml.ns import qn

import lerendtransformeren as lt
from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel import fit, fit_gee
from lerendtransformeren.report import Table, model_table
from lerendtransformeren.report.modeltable import ModelTable
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.render import Document, Section, render_docx, render_html, write_document
from lerendtransformeren.synthetic import nested_example

LEVELS = {"org": ("Organisatie", "Organisation"), "org:team": ("Team", "Team")}


@pytest.fixture(scope="module")
def data():
    d = nested_example()
    d["b"] = (d["y"] > d["y"].median()).astype(int)
    return d


@pytest.fixture(scope="module")
def models(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "null": fit("y ~ 1 + (1 | org/team)", data),
            "wave": fit("y ~ wave + (1 | org/team)", data),
            "kr": fit("y ~ wave + (1 | org/team)", data, ddf="Kenward-Roger"),
            "ml": fit("y ~ wave + (1 | org/team)", data, reml=False),
            "slope": fit("y ~ wave + (1 + wave | org) + (1 | org:team)", data),
            "glmm": fit("b ~ wave + (1 | org/team)", data, family="binomial"),
            "gee": fit_gee("b ~ wave", data, cluster="org", family="binomial"),
        }


def _row(table: Table, lang: str, label: str, occurrence: int = 0) -> list[str]:
    rows = [r for r in table.rows(lang) if r[0] == label]
    return rows[occurrence]


def _below(table: Table, lang: str, label: str) -> list[str]:
    rows = table.rows(lang)
    i = [r[0] for r in rows].index(label)
    return rows[i + 1]


def test_reachable_from_the_package():
    assert lt.report.model_table is model_table


def test_the_frame_holds_the_numbers_of_the_models(models):
    m0, m1 = models["null"], models["wave"]
    t = model_table([m0, m1])
    assert isinstance(t, Table) and isinstance(t, ModelTable)
    f = t.frame
    assert f.loc["fixed Intercept", "m1"] == m0.fixed.loc["Intercept", "estimate"]
    assert f.loc["fixed wave", ["m2", "m2 low", "m2 high", "m2 se"]].tolist() == (
        m1.fixed.loc["wave", ["estimate", "ci_low", "ci_high", "se"]].tolist())
    assert np.isnan(f.loc["fixed wave", "m1"])  # the null model has no wave
    assert f.loc["re org Intercept", "m2"] == m1.variance.loc[("org", "Intercept"), "sd"]
    assert f.loc["re residual", "m2"] == m1.sigma
    assert f.loc["icc org:team", "m2"] == m1.icc.loc["org:team", "icc"]
    assert f.loc[["r2 marginal", "r2 conditional"], "m2"].tolist() == m1.r2.tolist()
    assert f.loc[["aic", "bic", "loglik"], "m1"].tolist() == [m0.aic, m0.bic, m0.loglik]
    assert f.loc["n", "m2"] == 240 and f.loc["units org:team", "m2"] == 40 and f.loc["units org", "m1"] == 10


def test_below_layout_in_both_languages(models):
    t = model_table([models["null"], models["wave"]], labels=LEVELS)
    e = models["wave"].fixed.loc["wave"]
    assert _row(t, "en", "Wave") == ["Wave", "", f"{e['estimate']:.2f}"]
    assert _below(t, "en", "Wave") == ["", "", f"[{e['ci_low']:.2f}, {e['ci_high']:.2f}]"]
    nl = _below(t, "nl", "Meetmoment")
    assert nl[2] == f"[{e['ci_low']:.2f}; {e['ci_high']:.2f}]".replace(".", ",")
    assert _row(t, "nl", "ICC organisatie")[1].startswith(",")  # bounded by 1: no leading zero
    assert _row(t, "en", "ICC team")[2] == f"{models['wave'].icc.loc['org:team', 'icc']:.2f}".lstrip("0")
    assert _row(t, "nl", "Aantal teams") == ["Aantal teams", "40", "40"]
    assert _row(t, "en", "Number of observations") == ["Number of observations", "240", "240"]
    aic = models["null"].aic
    assert _row(t, "nl", "AIC")[1] == f"{aic:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")
    headings = [r[0] for r, h in zip(t.rows("en"), t.headings()) if h]
    assert headings == ["Fixed effects", "Random effects (SD)", "Variance partition", "Model fit", "Sample"]
    assert t.headers("nl") == ["", "Model 1", "Model 2"]


def test_beside_and_standard_errors(models):
    m = models["wave"]
    e = m.fixed.loc["wave"]
    beside = model_table(m, layout="beside")
    assert _row(beside, "en", "Wave")[1] == f"{e['estimate']:.2f} [{e['ci_low']:.2f}, {e['ci_high']:.2f}]"
    assert "" not in [r[0] for r in beside.rows("en")]  # no lines below
    se = model_table(m, show="se", digits=3)
    assert _below(se, "en", "Wave")[1] == f"({e['se']:.3f})"
    assert "standard error in parentheses below it" in se.note("en")
    assert "standaardfout tussen haakjes eronder" in se.note("nl")


def test_variances_correlations_and_names(models):
    t = model_table(models["slope"], names=["Hellingen"], random="variance", labels=LEVELS)
    v = models["slope"].variance
    assert t.headers("en")[1] == "Hellingen"
    assert _row(t, "en", "Random effects (variance)")[0] == "Random effects (variance)"
    assert _row(t, "en", "Organisation: Wave")[1] == f"{v.loc[('org', 'wave'), 'variance']:.3f}"
    corr = v.loc[("org", "wave"), "corr Intercept"]
    row = _row(t, "en", "Organisation: correlation Intercept, Wave")
    assert row[1] == f"{corr:.2f}".replace("0.", ".")
    assert _row(t, "nl", "Organisatie: correlatie Intercept, Meetmoment")[1].startswith(("-,", ","))


def test_glmm_and_gee_on_the_link_scale_or_as_ratios(models):
    g, ge = models["glmm"], models["gee"]
    link = model_table([models["wave"], g, ge])
    assert link.frame.loc["fixed wave", "m2"] == g.fixed.loc["wave", "estimate"]
    assert link.frame.loc["fixed wave", "m3"] == ge.fixed.loc["wave", "estimate"]
    assert "Model 2 and Model 3: fixed effects on the logit scale (log odds)." in link.note("en")
    assert "Random effects of GLMMs on the link scale." in link.note("en")
    assert "ICC and R² for linear multilevel models only." in link.note("en")
    assert "Laplace approximation, Wald z (Model 2)" in link.note("en")
    assert "Mancl-DeRouen correction, t with df = clusters − parameters (Model 3)" in link.note("en")
    assert _row(link, "en", "Residual")[2:] == ["", ""]  # no residual in a GLMM or a GEE
    assert _row(link, "en", "Number of teams")[3] == ""  # GEE: clusters only
    assert _row(link, "en", "Number of units: org")[3] == "10"
    ratios = model_table([g, ge], ratios=True, show="se")
    r = g.ratios().loc["wave"]
    assert ratios.frame.loc["fixed wave", ["m1", "m1 low", "m1 high"]].tolist() == pytest.approx(
        [r["ratio"], r["ci_low"], r["ci_high"]])
    assert ratios.frame.loc["fixed wave", "m1 se"] == pytest.approx(r["ratio"] * g.fixed.loc["wave", "se"])
    assert ratios.frame.loc["fixed wave", "m2"] == pytest.approx(ge.fixed.loc["wave", "exp_estimate"])
    assert "fixed effects as odds ratios" in ratios.note("en")
    assert "odds ratio's" in ratios.note("nl") and "deltamethode" in ratios.note("nl")


def test_the_note_names_methods_and_empty_cells(models):
    t = model_table([models["null"], models["wave"], models["kr"], models["ml"]])
    en, nl = t.note("en"), t.note("nl")
    assert "estimate with its 95% confidence interval in brackets below it" in en
    assert ("REML, Satterthwaite df (Model 1 and Model 2); REML, Kenward-Roger df (Model 3); "
            "maximum likelihood (ML), Satterthwaite df (Model 4).") in en
    assert "REML, df volgens Kenward-Roger (Model 3)" in nl
    assert "AIC and BIC of REML fits compare only models with the same fixed effects." in en
    assert "An empty cell: the term or statistic is not part of that model." in en
    assert "Een lege cel" not in model_table(models["wave"]).note("nl")
    assert "Schattingen van het model" == model_table(models["wave"]).title("nl")
    assert "side by side" in t.title("en")


def test_bootstrap_intervals_of_icc_and_r2(models):
    m = models["wave"]
    boot = m.icc_r2_ci(40, seed=5, progress=False)
    t = model_table([models["null"], m], icc_ci=[None, boot], labels=LEVELS)
    lo, hi = boot.table.loc[("icc", "org:team"), ["ci_low", "ci_high"]]
    assert t.frame.loc["icc org:team", ["m2 low", "m2 high"]].tolist() == [lo, hi]
    assert _below(t, "en", "ICC team")[2] == f"[{lo:.2f}, {hi:.2f}]".replace("0.", ".")
    assert _below(t, "en", "ICC team")[1] == ""  # model 1 without a bootstrap
    assert "parametric bootstrap (40 samples, percentile method, seed 5)" in t.note("en")
    again = model_table([models["null"], m], icc_ci=40, seed=5, progress=False, labels=LEVELS)
    pd.testing.assert_frame_equal(again.frame[["m2", "m2 low", "m2 high"]], t.frame[["m2", "m2 low", "m2 high"]])
    assert not np.isnan(again.frame.loc["icc org", "m1 low"])
    se = model_table(m, icc_ci=[boot], show="se")
    assert _below(se, "en", "R² conditional")[1] == f"({boot.table.loc[('r2', 'conditional'), 'boot_se']:.2f})"
    assert "standard errors of ICC and R² come from a parametric bootstrap" in se.note("en")


def test_bootstrap_counts_reach_the_note(models):
    boot = models["wave"].icc_r2_ci(30, seed=1, progress=False)
    boot.replicates.loc[[0, 1], "singular"] = True  # as if two refits had been singular
    boot.n_singular = 2
    t = model_table(models["wave"], icc_ci=[boot])
    assert "Model 1, bootstrap of 30: 2 singular refits kept." in t.note("en")
    assert "2 singuliere refits meegeteld" in t.note("nl")


@pytest.mark.parametrize("kwargs, match", [
    ({"show": "p"}, "show='p' must be one of"),
    ({"layout": "left"}, "layout='left' must be one of"),
    ({"random": "var"}, "random='var' must be one of"),
    ({"digits": -1}, "digits must be a whole number"),
    ({"names": ["a", "b"]}, "names has 2 entries for 1 models"),
    ({"icc_ci": "many"}, "icc_ci must be a number of bootstrap samples"),
])
def test_bad_options_are_named(models, kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        model_table(models["wave"], **kwargs)


def test_other_objects_and_foreign_bootstraps_are_refused(models):
    with pytest.raises(SpecificationError, match="Model 2 is a DataFrame"):
        model_table([models["wave"], pd.DataFrame()])
    with pytest.raises(SpecificationError, match="at least one"):
        model_table([])
    boot = models["wave"].icc_r2_ci(5, seed=1, progress=False)
    with pytest.raises(SpecificationError, match="not of model 1"):
        model_table(models["null"], icc_ci=[boot])


def test_a_dummy_per_organisation_is_refused_with_identifiers(data):
    d = data.assign(organisation=[f"O{k:02d}" for k in data["org"]])
    m = fit("y ~ wave + C(organisation) + (1 | team)", d)
    doc = Document("t", "nl", [Section("s", [model_table(m)])], collect_provenance(date="2026-12-04"))
    with pytest.raises(DataError, match="identifier 'O0"):
        render_html(doc, identifiers=d["organisation"].unique())


def _doc(table: Table, lang: str) -> Document:
    return Document(title="Modellen", lang=lang, sections=[Section("Tabel", [table])],
                    provenance=collect_provenance(date="2026-12-04"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_renders_to_html_docx_and_markdown(models, tmp_path, lang):
    table = model_table([models["null"], models["wave"]], labels=LEVELS)
    files = write_document(_doc(table, lang), tmp_path, f"models_{lang}", ("html", "docx", "md"))
    html = files["html"].read_text(encoding="utf-8")
    heading = "Vaste effecten" if lang == "nl" else "Fixed effects"
    assert '<table class="apa grouped"' in html
    assert f'<tr class="heading"><td class="stub">{heading}</td>' in html
    assert html.count('class="heading"') == 5
    md = files["md"].read_text(encoding="utf-8")
    assert f"| *{heading}* |  |  |" in md
    wave = "Meetmoment" if lang == "nl" else "Wave"
    assert re.search(rf"\| {wave} \|  \| 0[.,]19 \|", md)
    d = docx.Document(str(files["docx"]))
    cells = d.tables[0]
    texts = [[c.text for c in row.cells] for row in cells.rows]
    assert texts[0] == ["", "Model 1", "Model 2"]
    assert texts[1][0] == heading and texts[1][1:] == ["", ""]
    assert texts[1:] == table.rows(lang)
    first = cells.cell(1, 0).paragraphs[0]
    assert first.runs[0].italic is True  # a heading row in italics
    assert cells.cell(2, 0).paragraphs[0].paragraph_format.left_indent is not None  # rows under it indented
    empty = cells.cell(1, 1).paragraphs[0]._p  # an empty cell: its paragraph mark at the table's size
    assert empty.find(qn("w:pPr")).find(qn("w:rPr")).find(qn("w:sz")) is not None


def test_the_docx_is_byte_reproducible(models):
    table = model_table([models["null"], models["wave"]])
    assert render_docx(_doc(table, "en")) == render_docx(_doc(table, "en"))


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_model_table(models, tmp_path):
    path = tmp_path / "models.docx"
    path.write_bytes(render_docx(_doc(model_table([models["wave"], models["glmm"], models["gee"]]), "nl")))
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=120)
    assert (tmp_path / "models.pdf").stat().st_size > 10_000


def test_plain_tables_have_no_heading_rows():
    t = lt.report.fixed_effects_table(pd.DataFrame(
        {"estimate": [1.0], "se": [0.1], "df": [10.0], "t": [10.0], "p": [0.001], "ci_low": [0.8], "ci_high": [1.2]},
        index=["Intercept"]))
    assert t.headings() == [False]
    html = render_html(_doc(t, "en"))
    assert '<table class="apa" aria-label' in html and '<tr class="heading">' not in html
    cell = docx.Document(io.BytesIO(render_docx(_doc(t, "en")))).tables[0].cell(1, 0).paragraphs[0]
    assert cell.paragraph_format.left_indent is None and not cell.runs[0].italic
