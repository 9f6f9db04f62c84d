"""Word tables written as XML equal what python-docx's cell API writes, byte for byte.

``report.word`` writes table rows as XML in one go (a python-docx cell lookup walks the
whole grid, which made large reports slow). The reference below is the former writer,
cell by cell through python-docx (``table.cell``, ``cell.merge``, ``paragraph_format``,
``run.font``); both must give the same bytes for every kind of cell: spanners merged over
columns, bold and italic headers, right-aligned numbers kept on one line, indented and
italic group rows, minus signs, empty cells, spaces at the ends and characters XML escapes.
"""

from __future__ import annotations

import math

import docx
import pytest
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, Twips
from lxml import etree

from lerendtransformeren.report import word
from lerendtransformeren.report.document import words as document_words


# --- the reference: python-docx's cell API ------------------------------------------------


def _ref_text(cell, text, *, bold=False, italic=False, right=False, size=9.0, indent=0.0):
    paragraph = cell.paragraphs[0]
    run = word._add_run(paragraph, text)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.space_before = Pt(0)
    paragraph.paragraph_format.space_after = Pt(0)
    if indent:
        paragraph.paragraph_format.left_indent = Pt(indent)
    run.bold = bold or None
    run.italic = italic or None
    run.font.size = Pt(size)
    mark = OxmlElement("w:rPr")
    half_points = OxmlElement("w:sz")
    half_points.set(qn("w:val"), str(round(2 * size)))
    mark.append(half_points)
    paragraph._p.get_or_add_pPr().append(mark)


def _ref_flags(row, header):
    tr_pr = row._tr.get_or_add_trPr()
    for tag in ["w:cantSplit"] + (["w:tblHeader"] if header else []):
        flag = OxmlElement(tag)
        flag.set(qn("w:val"), "true")
        tr_pr.append(flag)


def _ref_widths(table, widths_pt):
    table.autofit = False
    for j, width_pt in enumerate(widths_pt):
        width = Twips(math.floor(width_pt * 20))
        table.columns[j].width = width
        for cell in table.columns[j].cells:
            cell.width = width


def _ref_table(d, item, widths, size):
    """The former table writer (after the widths were measured), cell by cell."""
    headers, rows, numeric, stub = item["headers"], item["rows"], item["numeric"], item["n_stub"]
    header_rows = 2 if item["spanners"] else 1
    table = d.add_table(rows=header_rows + len(rows), cols=len(headers))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    word._border(table._tbl.tblPr, {"top": 12, "bottom": 12, "left": 0, "right": 0, "insideH": 0, "insideV": 0})
    start = 0
    for text, span in item["spanners"] or []:
        cell = table.cell(0, start)
        if span > 1:
            cell = cell.merge(table.cell(0, start + span - 1))
        _ref_text(cell, text, bold=True, size=size)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        if text:
            word._border(cell._tc.get_or_add_tcPr(), {"bottom": 4})
        start += span
    for j, header in enumerate(headers):
        cell = table.cell(header_rows - 1, j)
        _ref_text(cell, header, bold=True, italic=item["italic"][j], right=numeric[j] and j >= stub, size=size)
        word._border(cell._tc.get_or_add_tcPr(), {"bottom": 8})
    for r, row in enumerate(table.rows):
        _ref_flags(row, r < header_rows)
    for i, (row, heading) in enumerate(zip(rows, item["headings"])):
        for j, text in enumerate(row):
            c = word._body_cell(text, j, heading, item["grouped"])
            _ref_text(table.cell(header_rows + i, j), c.text, italic=c.italic, right=numeric[j] and j >= stub,
                      size=size, indent=c.indent)
    _ref_widths(table, widths)
    for j in range(len(headers)):
        for i, row in enumerate(rows):
            if numeric[j] and word._Cell(row[j]).full(size) + word._PAD_PT <= widths[j]:
                tc_pr = table.cell(header_rows + i, j)._tc.get_or_add_tcPr()
                tc_pr.append(OxmlElement("w:noWrap"))  # tcMar and later elements are never set here


# --- the cases -------------------------------------------------------------------------------


def _item(headers, rows, *, numeric, spanners=None, headings=None, italic=None, n_stub=1):
    headings = headings or [False] * len(rows)
    return {"number": 1, "title": "Titel", "note": "", "headers": headers, "rows": rows, "numeric": numeric,
            "n_stub": n_stub, "italic": italic or [False] * len(headers), "spanners": spanners,
            "headings": headings, "grouped": any(headings)}


CASES = {
    "plain": _item(["Schaal", "n", "b", "p"], [["SDQ", "1.234", "-0,79", "< ,001"], ["PSOC", "12", "0,10", ",452"]],
                   numeric=[False, True, True, True], italic=[False, True, True, True]),
    "spanners": _item(
        ["Groep", "n", "M", "SD", "n", "M", "SD"],
        [["laag", "20", "1,50", "0,40", "22", "1,70", "0,50"], ["hoog", "", "\u2013", "", "5", "2,00", "-1,00"]],
        numeric=[False] + [True] * 6, italic=[False] + [True] * 6,
        spanners=[("", 1), ("Zonder aanbod", 3), ("Met aanbod", 3)]),
    "grouped": _item(
        ["Term", "Model 1", "Model 2"],
        [["Vaste effecten", "", ""], ["Intercept", "10,00 [9,50; 10,50]", "10,10 [9,60; 10,60]"],
         ["Variantie", "", ""], ["organisatie", "0,40", "0,38"]],
        numeric=[False, True, True], headings=[True, False, True, False]),
    "text": _item(["Wat", "Waarde"],
                  [[" met spatie ", "a & b < c > d"], ["regel\rterug", "0-40 en 3-4"], ["", "\t"]],
                  numeric=[False, False]),
    "wide": _item([f"Kolom nummer {j}" for j in range(12)],
                  [[f"{j}.000.000,00" for j in range(12)], ["-1,23"] * 12],
                  numeric=[False] + [True] * 11),
}


def _bytes(element) -> bytes:
    return etree.tostring(element, encoding="UTF-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_xml_equals_python_docx_cell_api(name):
    item = CASES[name]
    fast = docx.Document()
    word._docx_table(fast, item, document_words("nl"))
    [fast_tbl] = fast.element.body.findall(qn("w:tbl"))
    # the same widths and size as the writer measured
    body = [[word._body_cell(t, j, h, item["grouped"]) for j, t in enumerate(row)]
            for row, h in zip(item["rows"], item["headings"])]
    columns = [[word._Cell(h, bold=True, italic=item["italic"][j])] + [cells[j] for cells in body]
               for j, h in enumerate(item["headers"])]
    spanners, start = [], 0
    for text, span in item["spanners"] or []:
        if span == 1:
            columns[start].append(word._Cell(text, bold=True))
        else:
            spanners.append((word._Cell(text, bold=True), start, span))
        start += span
    widths, size = word._column_widths(columns, item["numeric"], spanners)
    reference = docx.Document()
    _ref_table(reference, item, widths, size)
    [ref_tbl] = reference.element.body.findall(qn("w:tbl"))
    assert _bytes(fast_tbl) == _bytes(ref_tbl)
    if name == "wide":
        assert size < word._TABLE_PT  # the case exercises a smaller font
    if name == "grouped":
        assert b"<w:ind " in _bytes(fast_tbl) and b"<w:i/>" in _bytes(fast_tbl)
    if name == "spanners":
        assert b'<w:gridSpan w:val="3"/>' in _bytes(fast_tbl)
    if name == "plain":
        assert b"<w:noWrap/>" in _bytes(fast_tbl) and b"<w:noBreakHyphen/>" in _bytes(fast_tbl)


def test_provenance_xml_equals_python_docx_cell_api():
    pairs = [("Datum", "2026-11-23"), ("Invoer", "families.csv sha256 0123456789abcdef"), ("Zaad", "20261123")]
    fast = docx.Document()
    word._docx_provenance(fast, pairs)
    [fast_tbl] = fast.element.body.findall(qn("w:tbl"))
    reference = docx.Document()
    table = reference.add_table(rows=len(pairs), cols=2)
    label_min = max(word._Cell(label).longest_token(word._TABLE_PT) for label, _ in pairs) + word._PAD_PT
    value_width = min(max(word._Cell(v).full(8.0) for _, v in pairs) + word._PAD_PT, word._TEXT_WIDTH_PT - label_min)
    for row, (label, value) in zip(table.rows, pairs):
        _ref_flags(row, False)
        _ref_text(row.cells[0], label)
        _ref_text(row.cells[1], value, size=8.0)
    _ref_widths(table, [word._TEXT_WIDTH_PT - value_width, value_width])
    [ref_tbl] = reference.element.body.findall(qn("w:tbl"))
    assert _bytes(fast_tbl) == _bytes(ref_tbl)
