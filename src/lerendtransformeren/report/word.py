"""Word (.docx) output of a :class:`~lerendtransformeren.report.document.Document`.

Real Word tables (header rows that repeat on a new page, APA rules, merged spanner cells,
columns as wide as their numbers and words need, measured with the font's metrics so that
no number breaks), headings, figures as pictures with alt text, and the language declared
(nl-NL, en-GB) in the styles and core properties. :func:`deterministic_docx` makes the
file byte-reproducible.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import docx
import matplotlib
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, Twips

from lerendtransformeren.report.document import Document, check_identifiers, document_items, table_item
from lerendtransformeren.report.document import words as document_words
from lerendtransformeren.report.figures import Figure

__all__ = ["render_docx", "deterministic_docx"]

#: Language tag of a document (Word's proofing language and the core properties).
_LANGUAGE_TAGS = {"nl": "nl-NL", "en": "en-GB"}


#: Width of the text on an A4 page with 2.5 cm margins, in points.
_TEXT_WIDTH_PT = Cm(21.0 - 2 * 2.5).pt
#: Font sizes (pt) tried for a table, largest first: a table whose words and numbers do
#: not fit the text width at 9 pt is set smaller rather than breaking a number.
_TABLE_SIZES = (9.0, 8.5, 8.0, 7.5, 7.0)
_TABLE_PT = _TABLE_SIZES[0]
#: Left + right cell margin (108 twips each in the default table style) plus 1.5 pt slack
#: for rounding to twips and for renderers that measure a little differently.
_PAD_PT = 2 * 5.4 + 1.5

#: DejaVu Serif, bundled with matplotlib: the metrics the table widths are measured with.
#: LibreOffice shows the body font (Cambria) as DejaVu Serif when Cambria is absent; Word's
#: Cambria and its metric twin Caladea are narrower, so widths measured this way suffice.
_FONT_FILES = {
    (False, False): "DejaVuSerif.ttf",
    (True, False): "DejaVuSerif-Bold.ttf",
    (False, True): "DejaVuSerif-Italic.ttf",
    (True, True): "DejaVuSerif-BoldItalic.ttf",
}


@functools.lru_cache(maxsize=None)
def _advances(bold: bool, italic: bool) -> tuple[dict[int, float], float]:
    """Advance width per code point in em, and the width used for characters not in the font."""
    from fontTools.ttLib import TTFont  # a dependency of matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / _FONT_FILES[bold, italic]
    font = TTFont(path)
    em = font["head"].unitsPerEm
    metrics = font["hmtx"].metrics
    widths = {code: metrics[name][0] / em for code, name in font.getBestCmap().items()}
    return widths, widths[ord("M")]


def _text_width(text: str, size_pt: float, *, bold: bool = False, italic: bool = False) -> float:
    """Width of ``text`` in points, set in DejaVu Serif at ``size_pt`` (no kerning).

    The same on every machine: the metrics are those of the DejaVu fonts bundled with
    matplotlib, not of whatever fonts are installed.
    """
    widths, other = _advances(bool(bold), bool(italic))
    return size_pt * sum(widths.get(ord(c), other) for c in text)


@dataclass(frozen=True)
class _Cell:
    """Text of one table cell and how it is set (for measuring)."""

    text: str
    bold: bool = False
    italic: bool = False
    indent: float = 0.0  # left indent of the paragraph, points

    def longest_token(self, size: float) -> float:
        """Width of the widest piece between spaces: the narrowest the cell can be."""
        widest = max((_text_width(t, size, bold=self.bold, italic=self.italic) for t in self.text.split()), default=0.0)
        return widest + self.indent

    def full(self, size: float) -> float:
        """Width of the whole text on one line."""
        return _text_width(" ".join(self.text.split()), size, bold=self.bold, italic=self.italic) + self.indent


def _fill(widths: list[float], target: Sequence[float], spare: float) -> list[float]:
    """Widen columns towards ``target`` with at most ``spare`` points, evenly.

    Every column short of its target gets the same extra width (capped at what it
    needs), so one long label cannot take all the room.
    """
    need = [max(0.0, t - w) for w, t in zip(widths, target)]
    if spare <= 0 or not any(need):
        return list(widths)
    if sum(need) <= spare:
        return [w + n for w, n in zip(widths, need)]
    low, high = 0.0, max(need)
    for _ in range(60):
        level = (low + high) / 2
        if sum(min(n, level) for n in need) > spare:
            high = level
        else:
            low = level
    return [w + min(n, low) for w, n in zip(widths, need)]


def _column_widths(
    columns: Sequence[Sequence[_Cell]],
    numeric: Sequence[bool],
    spanners: Sequence[tuple[_Cell, int, int]] = (),
    width: float = _TEXT_WIDTH_PT,
    sizes: Sequence[float] = _TABLE_SIZES,
) -> tuple[list[float], float]:
    """Column widths (points) and font size of a Word table, from what its cells hold.

    1. Every column is at least as wide as its widest unbreakable token (text between
       spaces: a number, an interval bound, a header word) plus the cell margins, so no
       number and no word breaks. If these minima do not fit ``width`` at the first font
       size, the next smaller size is tried; at the smallest the table may stick out.
    2. Number columns then get the width of their longest entry on one line, so an
       interval ``[-1,56; -0,02]`` stays on one line when there is room.
    3. Then every column, text columns and headers included, grows towards its text on
       one line, the room shared evenly; long labels wrap at spaces.
    4. Room left over is shared in proportion to the widths, so the table spans the text.

    Parameters
    ----------
    columns : sequence of sequence of _Cell
        The cells of each column (headers included) that span only that column.
    numeric : sequence of bool
        Which columns hold numbers.
    spanners : sequence of (_Cell, first column, number of columns)
        Cells spanning several columns.
    width : float
        Text width in points.
    sizes : sequence of float
        Font sizes to try, largest first.

    Returns
    -------
    (list of float, float)
        Widths in points and the font size.
    """

    def spanned(values: list[float], measure) -> list[float]:
        values = list(values)
        for cell, start, span in spanners:
            short = measure(cell) + _PAD_PT - sum(values[start : start + span])
            for j in range(start, start + span):
                values[j] += max(0.0, short) / span
        return values

    for size in sizes:
        lows = [max((c.longest_token(size) for c in col), default=0.0) + _PAD_PT for col in columns]
        lows = spanned(lows, lambda c: c.longest_token(size))
        if sum(lows) <= width:
            break
    numbers = [
        max(low, max((c.full(size) for c in col if not c.bold and c.text.strip()), default=0.0) + _PAD_PT) if num else low
        for low, col, num in zip(lows, columns, numeric)
    ]
    lines = [
        max(first, max((c.full(size) for c in col), default=0.0) + _PAD_PT) for first, col in zip(numbers, columns)
    ]
    lines = spanned(lines, lambda c: c.full(size))
    widths = lows
    for target in (numbers, lines):
        widths = _fill(widths, target, width - sum(widths))
    spare = width - sum(widths)
    if spare > 0 and sum(widths) > 0:
        widths = [w + spare * w / sum(widths) for w in widths]
    return widths, size


def _twips(width_pt: float) -> int:
    """A column width in whole twips, rounded down (the columns never exceed the text width)."""
    return math.floor(width_pt * 20)


def _new_table(d, widths: Sequence[int], *, centred: bool = False, borders: dict[str, int] | None = None):
    """An empty table (no rows yet) with fixed column widths in twips.

    The grid and the layout are set through python-docx; the rows are added as XML by
    :func:`_add_rows`, so no cell is looked up through the table's grid.
    """
    table = d.add_table(rows=0, cols=len(widths))
    if centred:
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
    if borders:
        _border(table._tbl.tblPr, borders)
    table.autofit = False  # fixed layout: Word and LibreOffice follow the widths
    for j, width in enumerate(widths):
        table.columns[j].width = Twips(width)
    return table


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


#: A hyphen-minus before a digit: a minus sign or a range ("-0,79", "0-40"). Word and
#: LibreOffice may break a line after a hyphen; these get w:noBreakHyphen instead.
_MINUS = re.compile(r"-(?=\d)")


def _add_run(paragraph, text: str):
    """Add ``text`` as one run whose minus signs and range dashes do not break a line.

    python-docx reads a ``w:noBreakHyphen`` back as "-", so the text is unchanged.
    """
    run = paragraph.add_run()
    for k, piece in enumerate(_MINUS.split(text)):
        if k:
            run._r.append(OxmlElement("w:noBreakHyphen"))
        if piece:
            node = OxmlElement("w:t")
            node.text = piece
            if piece != piece.strip():
                node.set(qn("xml:space"), "preserve")
            run._r.append(node)
    return run


def _paragraph(d, text: str = "", style: str | None = None):
    paragraph = d.add_paragraph(style=style)
    if text:
        _add_run(paragraph, text)
    return paragraph


def _xml_text(text: str) -> str:
    """Text as XML character data (a carriage return kept as a character reference)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _run_xml(text: str, *, bold: bool, italic: bool, size: float) -> str:
    """One run holding ``text``, its minus signs and range dashes as w:noBreakHyphen (as :func:`_add_run`)."""
    props = ("<w:b/>" if bold else "") + ("<w:i/>" if italic else "") + f'<w:sz w:val="{int(Pt(size).pt * 2)}"/>'
    parts = []
    for k, piece in enumerate(_MINUS.split(text)):
        if k:
            parts.append("<w:noBreakHyphen/>")
        if piece:
            space = ' xml:space="preserve"' if piece != piece.strip() else ""
            parts.append(f"<w:t{space}>{_xml_text(piece)}</w:t>")
    return f"<w:r><w:rPr>{props}</w:rPr>{''.join(parts)}</w:r>"


def _cell_xml(
    text: str,
    width: int,
    *,
    bold: bool = False,
    italic: bool = False,
    align: str = "left",
    size: float = _TABLE_PT,
    indent: float = 0.0,
    span: int = 1,
    bottom: int = 0,
    no_wrap: bool = False,
) -> str:
    """A table cell (``w:tc``) as XML: one paragraph with no space before or after, one run.

    ``width`` in twips; ``bottom`` a bottom border in eighths of a point (0: none);
    ``no_wrap`` keeps the text on one line. The paragraph mark is set at the table's size
    too: an empty cell would otherwise take the height of the body font and make its row
    taller than the rows around it.
    """
    props = f'<w:tcW w:type="dxa" w:w="{width}"/>'
    if span > 1:
        props += f'<w:gridSpan w:val="{span}"/>'
    if bottom:
        props += (f'<w:tcBorders><w:bottom w:val="single" w:sz="{bottom}" w:space="0" w:color="000000"/>'
                  "</w:tcBorders>")
    if no_wrap:
        props += "<w:noWrap/>"
    ind = f'<w:ind w:left="{Pt(indent).twips}"/>' if indent else ""
    mark = f'<w:rPr><w:sz w:val="{round(2 * size)}"/></w:rPr>'
    paragraph = (f'<w:p><w:pPr><w:spacing w:before="0" w:after="0"/>{ind}<w:jc w:val="{align}"/>{mark}</w:pPr>'
                 f"{_run_xml(text, bold=bold, italic=italic, size=size)}</w:p>")
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{paragraph}</w:tc>"


def _row_xml(cells: Iterable[str], *, header: bool) -> str:
    """A table row kept on one page; header rows repeat on every page the table runs onto."""
    flags = '<w:cantSplit w:val="true"/>' + ('<w:tblHeader w:val="true"/>' if header else "")
    return f"<w:tr><w:trPr>{flags}</w:trPr>{''.join(cells)}</w:tr>"


def _add_rows(table, rows: Sequence[str]) -> None:
    """Append rows (``w:tr`` XML from :func:`_row_xml`) to a table, parsed in one go."""
    parsed = parse_xml(f"<w:tbl {nsdecls('w')}>{''.join(rows)}</w:tbl>")
    table._tbl.extend(list(parsed))


#: Left indent (points) of the rows under a heading row of a grouped table (APA).
_GROUP_INDENT_PT = 9.0


def _body_cell(text: str, column: int, heading: bool, grouped: bool) -> _Cell:
    """A body cell: a heading row's label in italics, the other rows' labels indented."""
    if column > 0 or not grouped:
        return _Cell(text)
    return _Cell(text, italic=heading, indent=0.0 if heading else _GROUP_INDENT_PT)


def _docx_table(d, item: dict, words: dict) -> None:
    label = d.add_paragraph()
    label.add_run(f"{words['table']} {item['number']}").bold = True
    label.paragraph_format.keep_with_next = True
    title = d.add_paragraph()
    _add_run(title, item["title"]).italic = True
    title.paragraph_format.keep_with_next = True
    headers, rows, numeric, stub = item["headers"], item["rows"], item["numeric"], item["n_stub"]
    n_cols = len(headers)
    body = [[_body_cell(text, j, heading, item["grouped"]) for j, text in enumerate(row)]
            for row, heading in zip(rows, item["headings"])]
    columns = [[_Cell(h, bold=True, italic=item["italic"][j])] + [cells[j] for cells in body] for j, h in enumerate(headers)]
    spanners, start = [], 0
    for text, span in item["spanners"] or []:
        if span == 1:
            columns[start].append(_Cell(text, bold=True))
        else:
            spanners.append((_Cell(text, bold=True), start, span))
        start += span
    widths, size = _column_widths(columns, numeric, spanners)
    twips = [_twips(w) for w in widths]
    table = _new_table(d, twips, centred=True,
                       borders={"top": 12, "bottom": 12, "left": 0, "right": 0, "insideH": 0, "insideV": 0})
    align = ["right" if numeric[j] and j >= stub else "left" for j in range(n_cols)]
    head = []
    if item["spanners"]:
        cells, start = [], 0
        for text, span in item["spanners"]:
            # a merged cell keeps the width of the last column it spans (as the files always had)
            cells.append(_cell_xml(text, twips[start + span - 1], bold=True, align="center", size=size,
                                   span=span, bottom=4 if text else 0))
            start += span
        head.append(_row_xml(cells, header=True))
    head.append(_row_xml([_cell_xml(h, twips[j], bold=True, italic=item["italic"][j], align=align[j], size=size,
                                    bottom=8) for j, h in enumerate(headers)], header=True))
    # numbers that fit on one line are kept on one line
    body_rows = [_row_xml([_cell_xml(c.text, twips[j], italic=c.italic, align=align[j], size=size, indent=c.indent,
                                     no_wrap=numeric[j] and _Cell(c.text).full(size) + _PAD_PT <= widths[j])
                           for j, c in enumerate(cells)], header=False) for cells in body]
    _add_rows(table, head + body_rows)
    if item["note"]:
        note = d.add_paragraph()
        note.add_run(words["note"]).italic = True
        _add_run(note, " " + item["note"])
        for run in note.runs:
            run.font.size = Pt(9)


def _a4(d) -> None:
    """A4 pages with 2.5 cm margins (python-docx's default template is US Letter)."""
    for section in d.sections:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin = section.bottom_margin = Cm(2.5)


def _set_language(d, lang: str) -> None:
    """Declare the document's language: Word checks spelling in it (not in en-US).

    Sets the default run language in the styles (and in stylesWithEffects, which Word
    2010 reads), the theme font language in the settings, and ``dc:language``.
    """
    tag = _LANGUAGE_TAGS[lang]
    styles = d.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    r_pr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    if r_pr is None:
        r_default = defaults.find(qn("w:rPrDefault"))
        if r_default is None:
            r_default = OxmlElement("w:rPrDefault")
            defaults.insert(0, r_default)
        r_pr = OxmlElement("w:rPr")
        r_default.append(r_pr)
    for node in styles.iter(qn("w:lang")):
        for attr in ("w:val", "w:eastAsia"):
            node.set(qn(attr), tag)
    if r_pr.find(qn("w:lang")) is None:
        node = OxmlElement("w:lang")
        node.set(qn("w:val"), tag)
        node.set(qn("w:eastAsia"), tag)
        node.set(qn("w:bidi"), "ar-SA")
        r_pr.append(node)
    theme_lang = d.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:val"), tag)

    def retag(match: re.Match) -> bytes:
        return re.sub(rb'(w:(?:val|eastAsia)=")[^"]*"', rb"\g<1>" + tag.encode() + b'"', match.group(0))

    for part in d.part.package.iter_parts():
        if str(part.partname) == "/word/stylesWithEffects.xml":
            part._blob = re.sub(rb"<w:lang\b[^>]*>", retag, part.blob)
    d.core_properties.language = tag


def _docx_figure(d, item: dict, words: dict) -> None:
    figure: Figure = item["figure"]
    label = d.add_paragraph()
    label.add_run(f"{words['figure']} {item['number']}").bold = True
    label.paragraph_format.keep_with_next = True
    caption = d.add_paragraph()
    _add_run(caption, figure.caption(item["lang"])).italic = True
    caption.paragraph_format.keep_with_next = True
    picture = d.add_paragraph().add_run().add_picture(io.BytesIO(figure.to_png()), width=Cm(16))
    doc_pr = picture._inline.docPr
    doc_pr.set("descr", figure.alt(item["lang"]))
    doc_pr.set("title", f"{words['figure']} {item['number']}")


def _docx_conclusions(d, text: str) -> None:
    paragraph = d.add_paragraph()
    _add_run(paragraph, text).bold = True
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


def _docx_provenance(d, pairs: list[tuple[str, str]]) -> None:
    """The provenance block: labels at 9 pt, values (hashes, versions) at 8 pt."""
    columns = [[_Cell(label) for label, _ in pairs], [_Cell(value) for _, value in pairs]]
    # values get what they need on one line (up to what the labels' words leave), labels the rest
    label_min = max((c.longest_token(_TABLE_PT) for c in columns[0]), default=0.0) + _PAD_PT
    value_width = min(max((c.full(8.0) for c in columns[1]), default=0.0) + _PAD_PT, _TEXT_WIDTH_PT - label_min)
    widths = [_twips(_TEXT_WIDTH_PT - value_width), _twips(value_width)]
    table = _new_table(d, widths)
    _add_rows(table, [_row_xml([_cell_xml(label, widths[0]), _cell_xml(value, widths[1], size=8.0)], header=False)
                      for label, value in pairs])


def render_docx(doc: Document, *, identifiers: Iterable[str] = ()) -> bytes:
    """The document as a Word file (.docx bytes): real tables, headings, pictures with alt text.

    Table columns are as wide as their content needs (numbers and header words never
    break; a table too wide for the page is set in a smaller font); the document declares
    its language (``nl-NL`` or ``en-GB``) so Word checks the spelling in it.

    Parameters
    ----------
    doc : Document
    identifiers : iterable of str, optional
        As in :func:`render_html`.

    Returns
    -------
    bytes
        The .docx file; the same document gives the same bytes (the zip container is
        written by :func:`deterministic_docx`, the document dates are the report date).
    """
    check_identifiers(doc, identifiers)
    words = document_words(doc.lang)
    d = docx.Document()
    _a4(d)
    stamp = _dt.datetime.combine(doc.provenance.date, _dt.time())
    props = d.core_properties
    props.title = doc.title
    props.author = "lerendtransformeren"
    props.last_modified_by = "lerendtransformeren"
    props.created = stamp
    props.modified = stamp
    props.revision = 1
    _set_language(d, doc.lang)
    _add_run(d.add_heading(level=0), doc.title)
    if doc.subtitle:
        _paragraph(d, doc.subtitle)
    for item in document_items(doc):
        kind = item["kind"]
        if kind == "heading":
            _add_run(d.add_heading(level=item["level"] - 1), item["text"])
        elif kind == "paragraph":
            _paragraph(d, item["text"])
        elif kind == "table":
            _docx_table(d, table_item(item, doc.lang), words)
        elif kind == "figure":
            _docx_figure(d, {**item, "lang": doc.lang}, words)
        else:
            _docx_conclusions(d, item["text"])
    d.add_heading(words["provenance"], level=1)
    _docx_provenance(d, doc.provenance.items(doc.lang))
    buf = io.BytesIO()
    d.save(buf)
    return deterministic_docx(buf.getvalue())


#: Fixed time of every zip entry in a .docx (the earliest time a zip file can hold).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def deterministic_docx(data: bytes) -> bytes:
    """Rewrite a .docx (zip) so that the same content gives the same bytes.

    Entries keep their order (``[Content_Types].xml`` first, as Word writes it); every
    entry gets the time 1980-01-01 00:00, the same permissions and deflate compression.
    The document's own dates (core properties) are set by the renderer to the report date.
    Rewriting a rewritten file gives the same bytes.

    Parameters
    ----------
    data : bytes
        A .docx file.

    Returns
    -------
    bytes
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    order = sorted(names, key=lambda n: (n != "[Content_Types].xml", names.index(n)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            target.writestr(info, source.read(name), compresslevel=6)
    return out.getvalue()
