"""Goal reports and the cross-goal overview: the full run over five goals, built once."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile

import docx
import pandas as pd
import pytest

from lerendtransformeren.multilevel import fit
from lerendtransformeren.goalreport import build_goal_report, build_overview, goal_stem, load_study, run_reports
from lerendtransformeren.report.render import (
    Conclusions,
    deterministic_docx,
    render_html,
    render_markdown,
    write_document,
)
from lerendtransformeren.study import LERENDTRANSFORMEREN

GOAL_PLANS = LERENDTRANSFORMEREN.plans

DATE = "2026-11-23"


@pytest.fixture(scope="session")
def study():
    return load_study()


@pytest.fixture(scope="session")
def run(study, tmp_path_factory):
    """`make report`, once per session: all goals, html and docx."""
    out = tmp_path_factory.mktemp("reports")
    stream = io.StringIO()
    paths = run_reports("all", study=study, out=out, date=DATE, stream=stream, jobs=2)
    return out, paths, stream.getvalue()


def _ids(study) -> set[str]:
    return set(study.identifiers)


def _html_text(path) -> str:
    return re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", path.read_text(encoding="utf-8"))


def _docx_text(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels")))


def test_run_writes_ten_goal_files_and_the_overview(run):
    out, paths, progress = run
    names = sorted(p.name for p in paths)
    expected = sorted(f"{goal_stem(g)}.{ext}" for g in GOAL_PLANS for ext in ("html", "docx"))
    assert names == sorted(expected + ["overview.html", "overview.docx"])
    assert all(p.exists() and p.stat().st_size > 0 for p in paths)
    assert "[2/5] doel 2: Demedicaliseren en normaliseren ... klaar (html, docx" in progress
    assert "12 bestanden geschreven" in progress


def test_html_has_figures_headings_and_conclusion_space(run):
    out, _, _ = run
    html = (out / "goal1_preventie.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') >= 4
    for heading in ("Opzet", "Steekproef", "Meetinstrumenten en betrouwbaarheid",
                    "Verandering over de tijd", "Effect van het ondersteuningsaanbod",
                    "Verschillen naar SES, migratieachtergrond en leeftijd",
                    "Individuele verandering: wanneer is goed goed genoeg?", "Conclusies",
                    "Verantwoording van de methode"):
        assert f">{heading}</h2>" in html, heading
    assert 'class="conclusions"' in html and "Nog in te vullen" in html
    assert "organisatie A" in html and "Satterthwaite" in html
    # goals 3 and 4 have the GEE section with Mancl-DeRouen
    for stem in ("goal3_hulp_op_maat", "goal4_integrale_hulp"):
        text = (out / f"{stem}.html").read_text(encoding="utf-8")
        assert "Zorguitkomsten" in text and "Mancl" in text


def test_docx_has_real_tables_and_headings(run):
    out, _, _ = run
    d = docx.Document(str(out / "goal1_preventie.docx"))
    headers = [[c.text for c in t.rows[0].cells] for t in d.tables]
    fixed = [h for h in headers if {"b", "SE", "df", "t", "p"} <= set(h)]
    assert fixed, headers
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert "Effect van het ondersteuningsaanbod" in headings and "Conclusies" in headings
    assert len(d.tables) >= 8
    overview = docx.Document(str(out / "overview.docx"))
    assert any("Primaire uitkomst" in [c.text for c in t.rows[0].cells] for t in overview.tables)


def test_no_identifier_of_the_data_in_any_output(run, study):
    out, paths, _ = run
    ids = _ids(study)
    long_ids = {i for i in ids if "-" in i}  # teams, professionals, families
    for path in paths:
        text = _html_text(path) if path.suffix == ".html" else _docx_text(path)
        tokens = set(re.findall(r"[\w-]+", text))
        assert not ids & tokens, (path.name, sorted(ids & tokens)[:3])
        assert not [i for i in long_ids if i in text], path.name


def test_effects_table_equals_the_model_it_came_from(study):
    doc = build_goal_report(study, 5, date=DATE)
    data = study.professionals.loc[study.professionals["uwes9_total"].notna()]
    res = fit("uwes9_total ~ C(wave) + C(goal) + C(goal):offer + (1 | organisation/team/professional)", data)
    contrast = res.contrast({"C(goal)[5]:offer": 1.0})
    effect = next(b for s in doc.sections for b in s.blocks
                  if getattr(b, "title_en", "").startswith("Effect of the support offer in goal 5"))
    row = effect.frame.loc["uwes9_total"]
    for col in ("estimate", "se", "df", "t", "p", "ci_low", "ci_high"):
        assert row[col] == pytest.approx(contrast[col].iloc[0], rel=1e-9, abs=1e-12)
    fixed = next(b for s in doc.sections for sub in s.subsections for b in sub.blocks
                 if getattr(b, "title_en", "") == "Fixed effects of the multilevel model")
    pd.testing.assert_frame_equal(fixed.frame, res.fixed.astype(float), check_names=False)


def test_english_report_and_overview(study):
    doc = build_goal_report(study, 2, lang="en", date=DATE)
    html = render_html(doc, identifiers=study.identifiers)
    for heading in ("Design", "Sample", "Effect of the support offer", "Conclusions",
                    "Individual change: when is good good enough?"):
        assert f">{heading}</h2>" in html
    assert "p < .001" in html or "p = ." in html
    assert any(isinstance(b, Conclusions) for s in doc.sections for b in s.blocks)
    ov = build_overview(study, lang="en", date=DATE)
    frame = ov.sections[0].blocks[2].frame
    assert list(frame.index) == [1, 2, 3, 4, 5] and frame["df"].notna().all()


def test_same_input_same_bytes(run, study, tmp_path):
    out, _, _ = run
    doc = build_goal_report(study, 5, date=DATE)
    again = list(write_document(doc, tmp_path, goal_stem(5), ("html", "docx", "md"),
                                identifiers=study.identifiers).values())
    assert again[0].read_bytes() == (out / "goal5_ruimte_professionals.html").read_bytes()
    assert again[1].read_bytes() == (out / "goal5_ruimte_professionals.docx").read_bytes()
    assert render_markdown(doc) == render_markdown(build_goal_report(study, 5, date=DATE))
    with zipfile.ZipFile(again[1]) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
    props = docx.Document(str(again[1])).core_properties
    assert props.created.date().isoformat() == DATE and props.modified.date().isoformat() == DATE
    assert deterministic_docx(again[1].read_bytes()) == again[1].read_bytes()


def test_missing_scale_and_goal_without_data_say_so(study, tmp_path):
    fam = study.families.loc[study.families["goal"] == 1]
    fam = fam[[c for c in fam.columns if not c.startswith(("support_", "mastery_total"))
               and not c.endswith(("_total", "_mean", "_tscore", "_raw")) and not re.match(r"(psoc|sdq_parent|sdmq9|gas)_", c)]]
    fam.to_csv(tmp_path / "families.csv", index=False)
    user = load_study(tmp_path)
    assert "support" in user.missing_scales
    doc = build_goal_report(user, 1, date=DATE)
    html = render_html(doc, identifiers=user.identifiers)
    assert "Niet in de gegevens" in html and "sociale steun" in html
    assert "regie over eigen leven" in html
    empty = render_html(build_goal_report(user, 5, date=DATE))
    assert "Er zijn geen gegevens voor doel 5" in empty


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
def test_docx_converts_to_pdf_with_libreoffice(run, tmp_path):
    out, _, _ = run
    done = subprocess.run(
        ["libreoffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
         str(out / "goal1_preventie.docx")],
        capture_output=True, timeout=180, check=False,
    )
    assert done.returncode == 0 and (tmp_path / "goal1_preventie.pdf").stat().st_size > 10_000
