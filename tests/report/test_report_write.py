"""Word output as a reader sees it, and the one byte-reproducible writer (issue 11).

- Word table columns are as wide as their widest unbreakable token, so numbers and
  header words never break inside (measured with the DejaVu Serif metrics matplotlib
  bundles, the font LibreOffice shows for the body font; Word's Cambria is narrower);
- the document declares its language (nl-NL / en-GB), not en-US;
- :func:`write_document` gives byte-identical files for the same document.
"""

from __future__ import annotations

import functools
import io
import re
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import docx
import matplotlib
import pandas as pd
import pytest
from docx.shared import Emu, Twips
from docx.table import _Cell
from fontTools.ttLib import TTFont

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.report.figures import plot_trajectories
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.render import Document, Section, render_docx, write_document
from lerendtransformeren.report.tables import Column, Table, descriptives_table, sample_table

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: left + right cell margin of the tables (108 twips each, python-docx's "Normal Table")
PADDING_PT = 2 * 5.4
FONTS = {
    (False, False): "DejaVuSerif.ttf",
    (True, False): "DejaVuSerif-Bold.ttf",
    (False, True): "DejaVuSerif-Italic.ttf",
    (True, True): "DejaVuSerif-BoldItalic.ttf",
}


@functools.lru_cache(maxsize=None)
def _advances(bold: bool, italic: bool) -> dict[int, float]:
    font = TTFont(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / FONTS[bold, italic])
    em = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    return {code: metrics[name][0] / em for code, name in font.getBestCmap().items()}


def width_pt(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """Advance width of ``text`` in points (no kerning, so never too narrow)."""
    advances = _advances(bool(bold), bool(italic))
    return size * sum(advances.get(ord(c), advances[ord("M")]) for c in text)


def _numbers_table(n_ci: int = 1) -> Table:
    frame = pd.DataFrame(
        {"b": [-0.79, 0.63], "df": [5744.7, 11.1], "p": [0.0004, 0.587],
         "low": [-1.56, -1.85], "high": [-0.02, 3.10]},
        index=pd.Index(["T1", "T2"], name="wave"),
    )
    columns = [Column("b", "b", "b"), Column("df", "df", "df", digits=1), Column("p", "p", "p", kind="p")]
    columns += [Column("low", f"95%-BI {i}", f"95% CI {i}", kind="ci", source_high="high") for i in range(n_ci)]
    return Table(frame, tuple(columns), "Getallen", "Numbers", stub_nl=("Meetmoment",), stub_en=("Wave",))


@pytest.fixture(scope="module")
def provenance(families_path):
    return collect_provenance(date="2026-11-23", inputs=[families_path], seed=20261123)


def _doc(provenance, blocks, lang="nl") -> Document:
    return Document("Titel", lang, [Section("Tabellen", list(blocks))], provenance)


def _text_width_pt(d) -> float:
    section = d.sections[0]
    return Emu(section.page_width - section.left_margin - section.right_margin).pt


def _check_widths(table, text_width: float) -> list[str]:
    """Every cell's tokens fit its column(s); the grid fits the text width."""
    grid = [Twips(int(col.get(f"{W}w"))).pt for col in table._tbl.tblGrid.gridCol_lst]
    problems = []
    if sum(grid) > text_width + 0.01:
        problems.append(f"table {sum(grid):.1f} pt wider than the text {text_width:.1f} pt")
    for tr in table._tbl.tr_lst:
        start = 0
        for tc in tr.tc_lst:
            have = sum(grid[start : start + tc.grid_span])
            for paragraph in _Cell(tc, table).paragraphs:
                for run in paragraph.runs:
                    size = run.font.size.pt if run.font.size else 11.0
                    for token in run.text.split():
                        need = width_pt(token, size, run.bold, run.italic) + PADDING_PT
                        if need > have:
                            problems.append(f"{token!r} needs {need:.1f} pt, column has {have:.1f} pt")
            start += tc.grid_span
    return problems


def test_word_columns_hold_their_widest_token(provenance, families):
    tables = [_numbers_table(), descriptives_table(families, {"mastery": ("beheersing", "mastery")}),
              sample_table(families)]
    d = docx.Document(io.BytesIO(render_docx(_doc(provenance, tables))))
    text_width = _text_width_pt(d)
    table = d.tables[0]
    assert [c.text for c in table.rows[1].cells] == ["T1", "-0,79", "5.744,7", "< ,001", "[-1,56; -0,02]"]
    assert [c.text for c in table.rows[0].cells][0] == "Meetmoment"
    for t in d.tables[:3]:
        assert _check_widths(t, text_width) == []
    # number cells that fit on one line are marked not to wrap
    assert table.rows[1].cells[2]._tc.tcPr.find(f"{W}noWrap") is not None


def test_wide_table_shrinks_its_font_instead_of_breaking_numbers(provenance):
    d = docx.Document(io.BytesIO(render_docx(_doc(provenance, [_numbers_table(n_ci=7)]))))
    table = d.tables[0]
    assert _check_widths(table, _text_width_pt(d)) == []
    sizes = {r.font.size.pt for row in table.rows for c in row.cells for p in c.paragraphs for r in p.runs}
    assert max(sizes) < 9


def test_render_measure_is_the_test_measure():
    from lerendtransformeren.report.word import _text_width

    for text in ("Meetmoment", "[-1,56;", "5.744,7", "< ,001"):
        assert _text_width(text, 9) == pytest.approx(width_pt(text, 9))
        assert _text_width(text, 9, bold=True, italic=True) == pytest.approx(width_pt(text, 9, True, True))


@pytest.mark.parametrize(("lang", "code"), [("nl", "nl-NL"), ("en", "en-GB")])
def test_docx_declares_its_language(provenance, lang, code):
    data = render_docx(_doc(provenance, ["Een alinea."], lang=lang))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles = ElementTree.fromstring(z.read("word/styles.xml"))
        core = ElementTree.fromstring(z.read("docProps/core.xml"))
        texts = {name: z.read(name).decode("utf-8") for name in z.namelist() if name.endswith(".xml")}
    lang_el = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}lang")
    assert lang_el.get(f"{W}val") == code and lang_el.get(f"{W}eastAsia") == code
    assert core.find("{http://purl.org/dc/elements/1.1/}language").text == code
    assert [name for name, text in texts.items() if "en-US" in text] == []


def test_write_document_is_byte_reproducible(provenance, families, tmp_path, monkeypatch):
    figure = plot_trajectories(families, "mastery", label=("beheersing", "mastery"))
    doc = _doc(provenance, [_numbers_table(), figure, "Tekst."])
    first = write_document(doc, tmp_path / "a", "goal1", ("html", "docx", "md"))
    # the second write happens "later": zip entries would carry another time
    later = time.struct_time((2031, 6, 7, 8, 9, 10, 5, 158, 0))
    monkeypatch.setattr(zipfile.time, "localtime", lambda *args: later)
    second = write_document(doc, tmp_path / "b", "goal1", ("html", "docx", "md"))
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and Path("goal1_figures/figure-1.png") in files_a
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert [p.name for p in first.values()] == ["goal1.html", "goal1.docx", "goal1.md"]
    with zipfile.ZipFile(second["docx"]) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert z.namelist()[0] == "[Content_Types].xml"
    assert "](goal1_figures/figure-1.png)" in second["md"].read_text(encoding="utf-8")


def test_write_document_refuses_unknown_formats(provenance, tmp_path):
    with pytest.raises(SpecificationError, match="pdf"):
        write_document(_doc(provenance, ["Tekst."]), tmp_path, "x", ["html", "pdf"])


def test_deterministic_docx_is_idempotent_and_keeps_content(provenance):
    from lerendtransformeren.report.word import deterministic_docx

    data = render_docx(_doc(provenance, ["Tekst."]))
    again = deterministic_docx(data)
    assert again == deterministic_docx(again)
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(io.BytesIO(again)) as b:
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist())
        assert all(i.external_attr == 0o644 << 16 for i in b.infolist())


def test_minus_before_a_digit_does_not_break_in_word(provenance):
    """Paragraphs and cells keep "-0,84" and "0-40" together (w:noBreakHyphen)."""
    data = render_docx(_doc(provenance, ["Het effect was b = -0,84 op een schaal van 0-40; T-score."]))
    d = docx.Document(io.BytesIO(data))
    paragraph = next(p for p in d.paragraphs if "b =" in p.text)
    assert paragraph.text == "Het effect was b = -0,84 op een schaal van 0-40; T-score."
    xml = paragraph._p.xml
    assert xml.count("<w:noBreakHyphen/>") == 2 and re.search(r"<w:t[^>]*>[^<]*T-score", xml)


def test_html_number_cells_never_wrap(provenance):
    import re

    from lerendtransformeren.report.render import render_html

    page = render_html(_doc(provenance, [_numbers_table()]))
    assert re.search(r"td\.num \{ white-space: nowrap; \}", page)
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    assert "[-1,56; -0,02]" in cells and "&lt; ,001" in cells
    assert '<td class="stub">T1</td>' in page
