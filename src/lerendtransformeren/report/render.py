"""A report as a :class:`Document`, rendered to HTML, Word (.docx) and Markdown.

A document has a title, sections with paragraphs, :class:`~lerendtransformeren.report.tables.Table`\\ s,
:class:`~lerendtransformeren.report.figures.Figure`\\ s and a marked space for the
researchers' conclusions (:class:`Conclusions`), and a provenance block. One document
renders to:

- **HTML** (:func:`render_html`): one self-contained file, CSS inline, figures embedded as
  base64 PNG with alt text, APA table rules, a print style;
- **Word** (:func:`render_docx`): real Word tables (header rows that repeat on a new page,
  APA rules, merged spanner cells) and headings, figures as pictures with alt text;
- **Markdown** (:func:`render_markdown`): pipe tables, figures as files or data URIs.

Tables and figures are numbered in order of appearance (APA: "Tabel 1", "Figuur 1"
above the title). Every renderer can check that none of the study's identifiers appears
in the text (``identifiers=``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import docx
import jinja2
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.figures import Figure
from lerendtransformeren.report.format import check_lang
from lerendtransformeren.report.provenance import Provenance
from lerendtransformeren.report.tables import Table

__all__ = [
    "Conclusions",
    "Section",
    "Document",
    "render_html",
    "render_markdown",
    "render_docx",
    "write_document",
    "check_identifiers",
]

#: Column headers that are statistical symbols, set in italics (APA 7, 6.45).
_SYMBOLS = frozenset({"n", "N", "M", "SD", "SE", "t", "p", "b", "df", "F", "r", "z"})

_WORDS = {
    "nl": {
        "table": "Tabel",
        "figure": "Figuur",
        "note": "Noot.",
        "provenance": "Verantwoording: hoe dit rapport is gemaakt",
        "conclusions": "Conclusies",
        "prompt": "[Conclusies: deze ruimte is voor de onderzoekers. Nog in te vullen.]",
    },
    "en": {
        "table": "Table",
        "figure": "Figure",
        "note": "Note.",
        "provenance": "Provenance: how this report was made",
        "conclusions": "Conclusions",
        "prompt": "[Conclusions: this space is for the researchers. To be written.]",
    },
}


@dataclass(frozen=True)
class Conclusions:
    """A clearly marked, empty space where the researchers write their conclusions.

    Parameters
    ----------
    prompt : str, optional
        Text shown in the space; default: "[Conclusies: deze ruimte is voor de
        onderzoekers. Nog in te vullen.]" (or the English equivalent).
    """

    prompt: str | None = None

    def text(self, lang: str) -> str:
        """The prompt in ``lang``."""
        return self.prompt or _WORDS[check_lang(lang)]["prompt"]


Block = str | Table | Figure | Conclusions


@dataclass
class Section:
    """A section: a heading, blocks (paragraphs, tables, figures, conclusions), subsections."""

    heading: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    """A report in one language.

    Parameters
    ----------
    title : str
    lang : {"nl", "en"}
        Language of the headings and paragraphs; tables and figures render in it.
    sections : list of Section
    provenance : Provenance
        Shown at the end of every output.
    subtitle : str, default ""
    """

    title: str
    lang: str
    sections: list[Section]
    provenance: Provenance
    subtitle: str = ""

    def __post_init__(self) -> None:
        check_lang(self.lang)


def _items(doc: Document) -> list[dict]:
    """Flatten the document into numbered items, in reading order."""
    items: list[dict] = []
    counters = {"table": 0, "figure": 0}

    def walk(section: Section, level: int) -> None:
        items.append({"kind": "heading", "level": level, "text": section.heading})
        for block in section.blocks:
            if isinstance(block, str):
                items.append({"kind": "paragraph", "text": block})
            elif isinstance(block, Table):
                counters["table"] += 1
                items.append({"kind": "table", "number": counters["table"], "table": block})
            elif isinstance(block, Figure):
                counters["figure"] += 1
                items.append({"kind": "figure", "number": counters["figure"], "figure": block})
            elif isinstance(block, Conclusions):
                items.append({"kind": "conclusions", "text": block.text(doc.lang)})
            else:
                raise SpecificationError(
                    f"A section block must be str, Table, Figure or Conclusions, not {type(block).__name__}."
                )
        for sub in section.subsections:
            walk(sub, min(level + 1, 6))

    for section in doc.sections:
        walk(section, 2)
    return items


def _table_item(item: dict, lang: str) -> dict:
    table: Table = item["table"]
    headers = table.headers(lang)
    spanners = table.spanners(lang)
    tops = [text for text, span in spanners for _ in range(span)] if spanners else [""] * len(headers)
    rows = table.rows(lang)
    return {
        **item,
        "title": table.title(lang),
        "note": table.note(lang),
        "headers": headers,
        "spanners": spanners,
        "rows": rows,
        "n_stub": table.frame.index.nlevels,
        "italic": [h in _SYMBOLS for h in headers],
        "md_headers": [_md_header(top, h) for top, h in zip(tops, headers)],
        "md_rows": [[_md_cell(c) for c in row] for row in rows],
    }


def _md_header(spanner: str, header: str) -> str:
    shown = f"*{header}*" if header in _SYMBOLS else header
    return _md_cell(f"{spanner}: {shown}" if spanner else shown)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _texts(doc: Document) -> Iterable[str]:
    yield doc.title
    yield doc.subtitle
    for item in _items(doc):
        if item["kind"] == "table":
            table: Table = item["table"]
            yield table.title(doc.lang)
            yield table.note(doc.lang)
            yield from table.headers(doc.lang)
            for row in table.rows(doc.lang):
                yield from row
        elif item["kind"] == "figure":
            figure: Figure = item["figure"]
            yield figure.caption(doc.lang)
            yield figure.alt(doc.lang)
        else:
            yield item["text"]


def check_identifiers(doc: Document, identifiers: Iterable[str]) -> None:
    """Raise if any of ``identifiers`` appears as a word in the document's text.

    Text is split into tokens of letters, digits, ``-`` and ``_``, so ``"O01-T1-P01"``
    matches itself but not ``"O01-T1"``. Tick labels inside figure images are not text;
    figure functions pseudonymise units themselves.

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str
        Identifier values of the study (all values of its id columns). Ids that are
        plain numbers cannot be told apart from the numbers of the report; pseudonymise
        such ids before analysis instead.

    Raises
    ------
    DataError
        Naming the identifier found.
    """
    forbidden = {str(v) for v in identifiers}
    if not forbidden:
        return
    for text in _texts(doc):
        found = forbidden.intersection(re.findall(r"[\w-]+", text))
        if found:
            raise DataError(
                f"The report would show the identifier {sorted(found)[0]!r} in: {text[:80]!r}. "
                "Reports never show ids; use report.pseudonymise() for organisations and teams."
            )


def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lerendtransformeren.report", "templates"),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _context(doc: Document, figure_src) -> dict:
    items = []
    for item in _items(doc):
        if item["kind"] == "table":
            item = _table_item(item, doc.lang)
        elif item["kind"] == "figure":
            figure: Figure = item["figure"]
            png = figure.to_png()
            item = {
                **item,
                "alt": figure.alt(doc.lang),
                "caption": figure.caption(doc.lang),
                "md_alt": figure.alt(doc.lang).replace("[", "\\[").replace("]", "\\]"),
                "src": figure_src(item["number"], png),
            }
        items.append(item)
    return {
        "lang": doc.lang,
        "title": doc.title,
        "subtitle": doc.subtitle,
        "items": items,
        "words": _WORDS[doc.lang],
        "provenance": doc.provenance,
        "provenance_items": doc.provenance.items(doc.lang),
    }


def _data_uri(number: int, png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(doc: Document, *, identifiers: Iterable[str] = ()) -> str:
    """The document as one self-contained HTML page (CSS inline, figures embedded).

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str, optional
        Identifier values of the study; rendering fails if one appears in the text.

    Returns
    -------
    str
        The same document gives the same page.
    """
    check_identifiers(doc, identifiers)
    return _environment(True).get_template("report.html.j2").render(_context(doc, _data_uri))


def render_markdown(
    doc: Document,
    *,
    figure_dir: str | Path | None = None,
    identifiers: Iterable[str] = (),
) -> str:
    """The document as Markdown with pipe tables.

    Parameters
    ----------
    doc : Document
    figure_dir : path, optional
        Write figures as ``figure-1.png``, ... into this folder and link them by a path
        relative to its parent (put the Markdown file in that parent). Without it,
        figures are embedded as data URIs.
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    str
    """
    check_identifiers(doc, identifiers)
    if figure_dir is None:
        source = _data_uri
    else:
        folder = Path(figure_dir)
        folder.mkdir(parents=True, exist_ok=True)

        def source(number: int, png: bytes) -> str:
            path = folder / f"figure-{number}.png"
            path.write_bytes(png)
            return f"{folder.name}/{path.name}"

    text = _environment(False).get_template("report.md.j2").render(_context(doc, source))
    return re.sub(r"\n{3,}", "\n\n", text)


# --- Word ----------------------------------------------------------------------------------


def _border(element, edges: dict[str, int]) -> None:
    """Set single borders (size in eighths of a point; 0 = none) on a tblPr or tcPr."""
    tag = "w:tblBorders" if element.tag == qn("w:tblPr") else "w:tcBorders"
    borders = element.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        element.append(borders)
    for edge, size in edges.items():
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), "single" if size else "nil")
        if size:
            node.set(qn("w:sz"), str(size))
            node.set(qn("w:space"), "0")
            node.set(qn("w:color"), "000000")
        borders.append(node)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def _cell_text(
    cell, text: str, *, bold: bool = False, italic: bool = False, right: bool = False
) -> None:
    cell.text = text  # one run holding the text
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
    for run in paragraph.runs:
        run.bold = bold or None
        run.italic = italic or None
        run.font.size = Pt(_TABLE_PT)


def _docx_table(d, item: dict, words: dict) -> None:
    label = d.add_paragraph()
    label.add_run(f"{words['table']} {item['number']}").bold = True
    label.paragraph_format.keep_with_next = True
    title = d.add_paragraph()
    title.add_run(item["title"]).italic = True
    title.paragraph_format.keep_with_next = True
    header_rows = 2 if item["spanners"] else 1
    n_cols = len(item["headers"])
    table = d.add_table(rows=header_rows + len(item["rows"]), cols=n_cols)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _border(table._tbl.tblPr, {"top": 12, "bottom": 12, "left": 0, "right": 0, "insideH": 0, "insideV": 0})
    if item["spanners"]:
        start = 0
        for text, span in item["spanners"]:
            cell = table.cell(0, start)
            if span > 1:
                cell = cell.merge(table.cell(0, start + span - 1))
            _cell_text(cell, text, bold=True)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if text:
                _border(cell._tc.get_or_add_tcPr(), {"bottom": 4})
            start += span
    for j, header in enumerate(item["headers"]):
        cell = table.cell(header_rows - 1, j)
        _cell_text(cell, header, bold=True, italic=item["italic"][j], right=j >= item["n_stub"])
        _border(cell._tc.get_or_add_tcPr(), {"bottom": 8})
    for r in range(header_rows):
        _repeat_header(table.rows[r])
    for i, row in enumerate(item["rows"]):
        for j, text in enumerate(row):
            _cell_text(table.cell(header_rows + i, j), text, right=j >= item["n_stub"])
    _set_widths(table, _column_widths(item))
    if item["note"]:
        note = d.add_paragraph()
        note.add_run(words["note"]).italic = True
        note.add_run(" " + item["note"])
        for run in note.runs:
            run.font.size = Pt(9)


_TEXT_WIDTH_CM = 16.0


_TABLE_PT = 9
# width of one 9-pt character in a wide font (LibreOffice substitutes DejaVu for Calibri)
# and a cell's left + right padding
_CHAR_CM, _PAD_CM = 0.22, 0.45


def _column_widths(item: dict) -> list[float]:
    """Column widths in cm from the texts in each column.

    Without them Word and LibreOffice give every column the same width, which squeezes
    label columns ("Meetmoment", scale names) into one letter per line. Number columns
    get what their longest entry needs; label columns share the rest of the text width,
    in proportion to their (capped) longest text and never narrower than their longest
    word, so long labels wrap over a few lines.
    """
    stub = item["n_stub"]

    def chars(text: str, header: bool) -> float:  # bold header glyphs are about 20% wider
        return len(text) * (1.2 if header else 1.0)

    columns = [[(str(h), True)] + [(str(row[j]), False) for row in item["rows"]] for j, h in enumerate(item["headers"])]
    need = [max(chars(t, b) for t, b in col) * _CHAR_CM + _PAD_CM for col in columns[stub:]]
    floor = [
        max(chars(w, b) for t, b in col for w in (t.split() or [""])) * _CHAR_CM + _PAD_CM for col in columns[:stub]
    ]
    share = [min(max(chars(t, b) for t, b in col), 30) for col in columns[:stub]]
    rest = _TEXT_WIDTH_CM - sum(need)
    labels = [max(f, rest * w / sum(share)) if share and sum(share) else f for f, w in zip(floor, share)]
    widths = labels + need
    scale = min(1.0, _TEXT_WIDTH_CM / sum(widths))
    return [w * scale for w in widths]


def _set_widths(table, widths_cm: list[float]) -> None:
    """Fix the column widths (grid and cells, so both Word and LibreOffice follow them)."""
    table.autofit = False
    for j, width_cm in enumerate(widths_cm):
        width = Cm(width_cm)
        table.columns[j].width = width
        for cell in table.columns[j].cells:
            cell.width = width


def _a4(d) -> None:
    """A4 pages with 2.5 cm margins (python-docx's default template is US Letter)."""
    for section in d.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)


def _docx_figure(d, item: dict, words: dict) -> None:
    figure: Figure = item["figure"]
    label = d.add_paragraph()
    label.add_run(f"{words['figure']} {item['number']}").bold = True
    label.paragraph_format.keep_with_next = True
    caption = d.add_paragraph()
    caption.add_run(figure.caption(item["lang"])).italic = True
    caption.paragraph_format.keep_with_next = True
    picture = d.add_paragraph().add_run().add_picture(io.BytesIO(figure.to_png()), width=Cm(16))
    doc_pr = picture._inline.docPr
    doc_pr.set("descr", figure.alt(item["lang"]))
    doc_pr.set("title", f"{words['figure']} {item['number']}")


def _docx_conclusions(d, text: str) -> None:
    paragraph = d.add_paragraph()
    paragraph.add_run(text).bold = True
    p_pr = paragraph._p.get_or_add_pPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), "EDEDED")
    borders = OxmlElement("w:pBdr")
    for edge in ("top", "left", "bottom", "right"):
        node = OxmlElement(f"w:{edge}")
        node.set(qn("w:val"), "dashed")
        node.set(qn("w:sz"), "8")
        node.set(qn("w:space"), "4")
        node.set(qn("w:color"), "777777")
        borders.append(node)
    p_pr.append(borders)
    p_pr.append(shading)


def render_docx(doc: Document, *, identifiers: Iterable[str] = ()) -> bytes:
    """The document as a Word file (.docx bytes): real tables, headings, pictures with alt text.

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    bytes
        The .docx file. Its text is the same for the same document; the zip container
        carries write times, so the bytes are not.
    """
    check_identifiers(doc, identifiers)
    words = _WORDS[doc.lang]
    d = docx.Document()
    _a4(d)
    stamp = _dt.datetime.combine(doc.provenance.date, _dt.time())
    props = d.core_properties
    props.title = doc.title
    props.author = "lerendtransformeren"
    props.last_modified_by = "lerendtransformeren"
    props.language = doc.lang
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    d.add_heading(doc.title, level=0)
    if doc.subtitle:
        d.add_paragraph(doc.subtitle)
    for item in _items(doc):
        kind = item["kind"]
        if kind == "heading":
            d.add_heading(item["text"], level=item["level"] - 1)
        elif kind == "paragraph":
            d.add_paragraph(item["text"])
        elif kind == "table":
            _docx_table(d, _table_item(item, doc.lang), words)
        elif kind == "figure":
            _docx_figure(d, {**item, "lang": doc.lang}, words)
        else:
            _docx_conclusions(d, item["text"])
    d.add_heading(words["provenance"], level=1)
    pairs = doc.provenance.items(doc.lang)
    table = d.add_table(rows=len(pairs), cols=2)
    for row, (label, value) in zip(table.rows, pairs):
        _cell_text(row.cells[0], label)
        _cell_text(row.cells[1], value)
        row.cells[1].paragraphs[0].runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def write_document(
    doc: Document,
    out_dir: str | Path,
    stem: str,
    formats: Iterable[str] = ("html", "docx"),
    *,
    identifiers: Iterable[str] = (),
) -> dict[str, Path]:
    """Write the document as ``<stem>.html``, ``<stem>.docx`` and/or ``<stem>.md``.

    Markdown figures go into ``<stem>_figures/`` beside the Markdown file.

    Parameters
    ----------
    doc : Document
    out_dir : path
        Folder to write into (made if absent).
    stem : str
        File name without suffix.
    formats : iterable of {"html", "docx", "md"}, default ("html", "docx")
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    dict
        Format -> path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    identifiers = list(identifiers)
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out / f"{stem}.{fmt}"
        if fmt == "html":
            path.write_text(render_html(doc, identifiers=identifiers), encoding="utf-8")
        elif fmt == "docx":
            path.write_bytes(render_docx(doc, identifiers=identifiers))
        elif fmt == "md":
            text = render_markdown(doc, figure_dir=out / f"{stem}_figures", identifiers=identifiers)
            path.write_text(text, encoding="utf-8")
        else:
            raise SpecificationError(f"Unknown report format {fmt!r}; use html, docx or md.")
        written[fmt] = path
    return written
