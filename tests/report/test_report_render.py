"""Documents rendered to HTML, Word and Markdown from the synthetic study."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import subprocess

import docx
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.figures import plot_organisation_trajectories, plot_trajectories
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.render import (
    Conclusions,
    Document,
    Section,
    render_docx,
    render_html,
    render_markdown,
    write_document,
)
from lerendtransformeren.report.tables import descriptives_table, fixed_effects_table, sample_table
from lerendtransformeren.report.text import fixed_effects_text

FIXED = pd.DataFrame(
    {"estimate": [2.41, 0.18], "se": [0.1, 0.035], "df": [14.1, 12.4], "t": [24.1, 5.1],
     "p": [1e-12, 0.00021], "ci_low": [2.19, 0.11], "ci_high": [2.62, 0.25]},
    index=["Intercept", "offer"],
)


@pytest.fixture(scope="module")
def parts(families):
    return {
        "sample": sample_table(families),
        "descriptives": descriptives_table(families, {"mastery": ("beheersing", "mastery")}),
        "fixed": fixed_effects_table(FIXED),
        "trajectories": plot_trajectories(families, "mastery", label=("beheersing", "mastery")),
        "organisations": plot_organisation_trajectories(families, "mastery"),
    }


def _document(parts, families_path, lang="nl") -> Document:
    return Document(
        title="Doel 1: preventie en eigen kracht",
        subtitle="Synthetische studie <fictief>",
        lang=lang,
        sections=[
            Section("Steekproef", [parts["sample"]]),
            Section(
                "Verandering over de tijd",
                ["Gemiddelden per meetmoment.", parts["descriptives"], parts["trajectories"]],
                [Section("Per organisatie", [parts["organisations"]])],
            ),
            Section("Effect van het aanbod", [fixed_effects_text(FIXED, lang=lang), parts["fixed"]]),
            Section("Conclusies", [Conclusions()]),
        ],
        provenance=collect_provenance(date="2026-11-23", inputs=[families_path], seed=20261123),
    )


@pytest.fixture(scope="module")
def document(parts, families_path) -> Document:
    return _document(parts, families_path)


@pytest.fixture(scope="module")
def html(document, identifiers) -> str:
    return render_html(document, identifiers=identifiers)


def test_html_is_self_contained_with_embedded_figures(html, document):
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">', html)
    assert len(images) == 2
    assert base64.b64decode(images[0][0]) == document.sections[1].blocks[2].to_png()
    assert images[0][1].startswith("Lijnfiguur van het gemiddelde van beheersing")
    assert "<style>" in html and "@media print" in html
    assert not re.search(r'<(link|script)\b|src="(?!data:)', html)


def test_html_has_apa_tables_numbering_and_escapes_text(html):
    assert html.count('<table class="apa" aria-label="Tabel ') == 3
    assert [int(n) for n in re.findall(r'class="label">Tabel (\d+)<', html)] == [1, 2, 3]
    assert [int(n) for n in re.findall(r'class="label">Figuur (\d+)<', html)] == [1, 2]
    assert '<th colspan="3" class="spanner">Zonder aanbod</th>' in html
    assert '<th scope="col"><em>SD</em></th>' in html  # statistical symbols in italics
    assert "<td class=\"num\">0,18</td>" in html and "<td class=\"num\">&lt; ,001</td>" in html
    assert "&lt;fictief&gt;" in html and "<fictief>" not in html
    assert "<h3>Per organisatie</h3>" in html
    assert 'class="conclusions"' in html and "Nog in te vullen" in html


def test_html_shows_no_identifier_and_has_provenance(html, families, families_path):
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    for column in ("professional", "family"):  # ids with hyphens cannot occur in base64
        assert not any(v in html for v in families[column].unique()[:200])
    assert "O01-T1-P01" not in html
    assert not set(families["organisation"]).intersection(re.findall(r"[\w-]+", text))
    assert hashlib.sha256(families_path.read_bytes()).hexdigest() in html
    assert "2026-11-23" in html and "20261123" in html


def test_same_document_same_html(document, parts, families_path):
    assert render_html(_document(parts, families_path)) == render_html(document)


def test_identifier_check_stops_rendering(parts, families_path):
    doc = _document(parts, families_path)
    doc.sections[0].blocks.append("Gezin O01-T1-P01-F1 viel uit.")
    for render in (render_html, render_markdown, render_docx):
        with pytest.raises(DataError, match="O01-T1-P01-F1"):
            render(doc, identifiers={"O01-T1-P01-F1", "O01"})
    render_html(doc, identifiers={"O01-T1"})  # a prefix of a word is not that word


def test_docx_has_real_tables_headings_and_pictures(document):
    d = docx.Document(io.BytesIO(render_docx(document)))
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading") or p.style.name == "Title"]
    assert headings[:3] == ["Doel 1: preventie en eigen kracht", "Steekproef", "Verandering over de tijd"]
    assert "Per organisatie" in headings
    assert len(d.tables) == 4  # three APA tables and the provenance block
    sample, descriptives, fixed, prov = d.tables
    assert [c.text for c in sample.rows[0].cells] == ["Meetmoment", "Organisaties", "Teams", "Professionals", "Gezinnen", "% van T0", "Uitval"]
    assert [c.text for c in sample.rows[1].cells] == document.sections[0].blocks[0].rows("nl")[0]
    assert [c.text for c in fixed.rows[0].cells] == ["Predictor", "b", "SE", "df", "t", "p", "95%-BI"]
    assert [c.text for c in fixed.rows[2].cells] == ["Ondersteuningsaanbod", "0,18", "0,04", "12,4", "5,10", "< ,001", "[0,11; 0,25]"]
    spanner_row = descriptives.rows[0]
    assert spanner_row.cells[2].text == "Zonder aanbod" and spanner_row.cells[2]._tc is spanner_row.cells[4]._tc
    assert [c.text for c in descriptives.rows[1].cells][2:5] == ["n", "M", "SD"]
    assert descriptives.rows[1].cells[3].paragraphs[0].runs[0].italic
    assert "w:tblHeader" in descriptives.rows[1]._tr.xml
    assert any(c.text.startswith("SHA-256 families.csv") for c in prov.columns[0].cells)
    alts = [shape._inline.docPr.get("descr") for shape in d.inline_shapes]
    assert len(alts) == 2 and alts[0].startswith("Lijnfiguur")
    body = "\n".join(p.text for p in d.paragraphs)
    assert "Tabel 3" in body and "Figuur 2" in body and "Nog in te vullen" in body
    assert d.core_properties.created.date().isoformat() == "2026-11-23"


def test_markdown_has_pipe_tables_and_figures(document, tmp_path):
    md = render_markdown(document)
    assert "| Predictor | *b* | *SE* | *df* | *t* | *p* | 95%-BI |" in md
    assert "| Ondersteuningsaanbod | 0,18 | 0,04 | 12,4 | 5,10 | < ,001 | [0,11; 0,25] |" in md
    assert "| Maat | Meetmoment | Zonder aanbod: *n* | Zonder aanbod: *M* |" in md
    assert md.count("](data:image/png;base64,") == 2
    assert "> **[Conclusies" in md and "\n\n\n" not in md
    linked = render_markdown(document, figure_dir=tmp_path / "fig")
    assert "](fig/figure-1.png)" in linked and (tmp_path / "fig" / "figure-2.png").exists()


def test_english_document(parts, families_path):
    md = render_markdown(_document(parts, families_path, lang="en"))
    assert "**Table 1**" in md and "| Support offer | 0.18 | 0.04 | 12.4 | 5.10 | < .001 | [0.11, 0.25] |" in md
    assert "## Provenance: how this report was made" in md


def test_write_document(document, tmp_path):
    written = write_document(document, tmp_path, "goal1", ("html", "docx", "md"))
    assert list(written) == ["html", "docx", "md"]
    assert [p.name for p in written.values()] == ["goal1.html", "goal1.docx", "goal1.md"]
    assert all(p.parent == tmp_path and p.exists() for p in written.values())
    assert (tmp_path / "goal1_figures" / "figure-1.png").exists()
    with pytest.raises(SpecificationError, match="pdf"):
        write_document(document, tmp_path, "goal1", ["pdf"])


def test_bad_blocks_and_languages_are_refused(document):
    with pytest.raises(SpecificationError, match="dict"):
        render_html(Document("t", "nl", [Section("s", [{"not": "a block"}])], document.provenance))
    with pytest.raises(SpecificationError):
        Document("t", "de", [], document.provenance)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_docx(document, tmp_path):
    path = tmp_path / "report.docx"
    path.write_bytes(render_docx(document))
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=120,
    )
    assert (tmp_path / "report.pdf").stat().st_size > 10_000


INJECTIONS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[klik](javascript:alert(1))")


def test_user_strings_are_escaped_for_every_format(families):
    """Category labels come from the user's files; none may run as HTML, a link or a formula."""
    frame = families.assign(role=[INJECTIONS[i % 3] for i in range(len(families))])
    table = descriptives_table(frame, {"mastery": ("beheersing", "mastery")}, by="role")
    doc = Document(title=INJECTIONS[0], lang="nl", provenance=collect_provenance(date="2026-12-04", inputs=[]),
                   sections=[Section(INJECTIONS[1], [INJECTIONS[2], table])])
    html = render_html(doc)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_markdown(doc)
    assert "<script>" not in md and "<img" not in md and "](javascript" not in md
    assert "&lt;script>alert(1)&lt;/script>" in md
    body = docx.Document(io.BytesIO(render_docx(doc)))
    texts = [p.text for p in body.paragraphs] + [c.text for t in body.tables for r in t.rows for c in r.cells]
    assert INJECTIONS[1] in texts  # Word shows text as text: it is kept verbatim, never interpreted
