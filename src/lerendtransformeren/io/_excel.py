"""Excel workbooks (.xlsx): sheet, header row, and what Excel shows but the cells hide.

Cells are read with openpyxl (cached formula results). The sheet's XML is read once more
for what openpyxl's fast reader leaves out: merged cells, hidden rows and columns, and
formulas without a calculated value.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from lerendtransformeren.io._layout import find_header, header_note
from lerendtransformeren.io._util import Context, Raw, count, is_blank, is_empty, listing

_BROKEN = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ParseError, EOFError)
_ADVICE = (
    "open it in Excel and save it again as .xlsx (without password), or export the sheet to "
    ".csv."
)
_NOTES_SHEET = re.compile(
    r"(?i)\s*(read ?me|lees ?mij|leesmij|toelichting|uitleg|info(rmatie)?|notes?|notities|"
    r"instructies?|handleiding|about|over( deze)?( data| gegevens)?|intro(ductie)?|codebook|"
    r"legenda|variabelen|metadata|inhoud|contents)\s*"
)
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_ROW = re.compile(rb"<row\b[^>]*>")
_COL = re.compile(rb"<col\b[^>]*>")
_ATTR = re.compile(rb'(\w+)="([^"]*)"')
_FORMULA = re.compile(
    rb'<c r="([A-Z]+\d+)"([^>]*)>\s*<f(?:\s[^>]*)?(?:/>|>([^<]*)</f>)\s*(<v>[^<]*</v>|<v/>)?'
)


@dataclass(frozen=True)
class _Facts:
    """What the sheet's XML says beyond the cell values."""

    merged: tuple[tuple[int, int, int, int], ...] = ()  # min_row, min_col, max_row, max_col
    hidden_rows: tuple[int, ...] = ()
    hidden_columns: tuple[int, ...] = ()  # 1-based
    uncalculated: tuple[tuple[str, str], ...] = ()  # cell, formula


def read_xlsx(path: Path, raw: bytes, sheet, header_row, ctx: Context) -> tuple[Raw, str]:
    """The cells of one sheet, from its header row on, and the sheet's name."""
    _refuse_other_kinds(raw, ctx)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _BROKEN as err:
        raise ctx.fail(
            f"cannot be read as an Excel workbook ({type(err).__name__}: {err}).", _ADVICE
        ) from None
    try:
        chosen, cells = _choose_sheet(book, sheet, ctx)
        facts = _facts(path, book[chosen])
    finally:
        book.close()
    return _table(cells, chosen, facts, header_row, ctx), chosen


def _refuse_other_kinds(raw: bytes, ctx: Context) -> None:
    if raw.startswith(b"PK"):
        return
    if raw.startswith((b"$FL2", b"$FL3")):
        raise ctx.fail("is an SPSS file, not an Excel workbook.", "rename it to end in .sav.")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ctx.fail(
            "is an old Excel workbook (.xls) or another Office file, not an .xlsx workbook.",
            "open it in Excel and save it as .xlsx (Excel Workbook).",
        )
    head = raw[:4096]
    if b"\x00" not in head and any(sep in head for sep in (b";", b",", b"\t", b"\n")):
        raise ctx.fail(
            "is a text file (csv or txt), not an Excel workbook.", "rename it to end in .csv."
        )


def _choose_sheet(book, sheet, ctx: Context) -> tuple[str, list[list]]:
    names = book.sheetnames
    if sheet is None:
        chosen = names[0]
    elif isinstance(sheet, int) and not isinstance(sheet, bool) and -len(names) <= sheet < len(names):
        chosen = names[sheet]
    elif isinstance(sheet, str) and sheet in names:
        chosen = sheet
    else:
        near = [n for n in names if isinstance(sheet, str) and n.strip().lower() == sheet.strip().lower()]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise ctx.fail(
            f"there is no sheet {sheet!r}{hint}; the workbook has {_sizes(book, ctx)}.",
            f"set {ctx.options.of('sheet')} to one of these names or a 0-based position.",
        )
    cells = _cells(book, chosen, ctx)
    if sheet is None and len(names) > 1:
        if not _is_table(cells) or _NOTES_SHEET.fullmatch(chosen):
            raise ctx.fail(
                f"the first sheet, {chosen!r}, does not look like the data (it looks like notes, "
                f"a title page or is empty); the workbook has {_sizes(book, ctx)}.",
                f"choose the sheet with the data, e.g. {ctx.options.of('sheet', names[1])}.",
            )
        ctx.notes.append(
            f"read sheet {chosen!r}, the first of {len(names)} sheets "
            f"({', '.join(repr(n) for n in names)}); set {ctx.options.of('sheet')} for another"
        )
    return chosen, cells


def _cells(book, chosen: str, ctx: Context) -> list[list]:
    try:
        rows = book[chosen].iter_rows(values_only=True)
        return [[str(c) if isinstance(c, bool) else c for c in row] for row in rows]
    except _BROKEN as err:
        raise ctx.fail(
            f"sheet {chosen!r} cannot be read ({type(err).__name__}: {err}).", _ADVICE
        ) from None


def _is_table(cells: list[list]) -> bool:
    index = find_header(cells)
    if index is None:
        return False
    named = sum(not is_blank(c) for c in cells[index])
    data = any(not is_empty(row) for row in cells[index + 1 :])
    return named >= 2 and data


def _sizes(book, ctx: Context) -> str:
    """Sheet names with the rows and columns that hold data, for a message."""
    parts = []
    for name in book.sheetnames:
        n_rows, n_cols = 0, 0
        for row in _cells(book, name, ctx):
            filled = [j for j, c in enumerate(row) if not is_blank(c)]
            if filled:
                n_rows += 1
                n_cols = max(n_cols, filled[-1] + 1)
        parts.append(f"{name!r} ({count(n_rows, 'row')} x {count(n_cols, 'column')} with data)")
    return ", ".join(parts)


def _facts(path: Path, worksheet) -> _Facts:
    member = getattr(worksheet, "_worksheet_path", None)
    if member is None:
        return _Facts()
    try:
        with zipfile.ZipFile(path) as archive:
            xml = archive.read(member)
    except (*_BROKEN, ValueError):
        return _Facts()
    merged = tuple(
        (int(r1), column_index_from_string(c1.decode()), int(r2), column_index_from_string(c2.decode()))
        for c1, r1, c2, r2 in _MERGE.findall(xml)
    )
    hidden_rows, hidden_cols = [], []
    if b"hidden" in xml:
        for tag in _ROW.findall(xml):
            attrs = dict(_ATTR.findall(tag))
            if attrs.get(b"hidden") in (b"1", b"true") and b"r" in attrs:
                hidden_rows.append(int(attrs[b"r"]))
        for tag in _COL.findall(xml):
            attrs = dict(_ATTR.findall(tag))
            if attrs.get(b"hidden") in (b"1", b"true"):
                hidden_cols += range(int(attrs[b"min"]), int(attrs[b"max"]) + 1)
    uncalculated = []
    if b"<f" in xml:
        for cell, attrs, formula, value in _FORMULA.findall(xml):
            text_result = b't="str"' in attrs or b't="s"' in attrs
            if not value or (value in (b"<v/>", b"<v></v>") and not text_result):
                uncalculated.append((cell.decode(), (formula or b"").decode()))
    return _Facts(merged, tuple(hidden_rows), tuple(hidden_cols), tuple(uncalculated))


def _table(cells: list[list], chosen: str, facts: _Facts, header_row, ctx: Context) -> Raw:
    if all(is_empty(row) for row in cells):
        raise ctx.fail(
            f"sheet {chosen!r} is empty: no cell holds data.",
            f"choose the sheet with the data with {ctx.options.of('sheet')}.",
        )
    if header_row is None:
        index = find_header(cells) or 0
        header_note(cells, index, "row", 1, ctx)
    elif 1 <= header_row <= len(cells):
        index = header_row - 1
    else:
        raise ctx.fail(
            f"{ctx.options.of('header_row', header_row)} is outside sheet {chosen!r}, whose "
            f"cells run from row 1 to row {len(cells)}.",
            f"set {ctx.options.of('header_row')} to the row of the column names (1 is the first).",
        )
    if is_empty(cells[index]):
        raise ctx.fail(
            f"row {index + 1} of sheet {chosen!r} is empty; it must hold the column names.",
            f"set {ctx.options.of('header_row')} to the row of the column names.",
        )
    _check_uncalculated(facts, ctx)
    header_at = index + 1
    merged_header = _check_merged(facts, header_at, len(cells), ctx)
    width = max(len(row) for row in cells[index:])
    body = [list(row) + [None] * (width - len(row)) for row in cells[index + 1 :]]
    array = np.empty((len(body), width), dtype=object)
    if body:
        array[:] = body
    header = list(cells[index]) + [None] * (width - len(cells[index]))
    _note_hidden(facts, header, array, header_at, ctx)
    at = np.arange(header_at + 1, header_at + 1 + len(body), dtype=np.int64)
    return Raw(header, [array[:, j] for j in range(width)], at, "row", header_at, merged_header)


def _check_uncalculated(facts: _Facts, ctx: Context) -> None:
    if facts.uncalculated:
        shown = listing([f"{cell} (={formula})" for cell, formula in facts.uncalculated])
        raise ctx.fail(
            f"{count(len(facts.uncalculated), 'formula cell')} {'has' if len(facts.uncalculated) == 1 else 'have'} "
            f"no calculated value: {shown}. The workbook was saved by a program that does not "
            "calculate formulas, so these cells would read as empty.",
            "open the workbook in Excel (or LibreOffice) and save it again, which calculates "
            "the formulas; or replace the formulas by their values (Paste Special > Values).",
        )


def _check_merged(facts: _Facts, header_at: int, n_rows: int, ctx: Context) -> tuple[str, ...]:
    """Merged ranges in the header row (returned); merged ranges in the data are an error."""
    def name(m):
        return f"{get_column_letter(m[1])}{m[0]}:{get_column_letter(m[3])}{m[2]}"

    in_header = [m for m in facts.merged if m[0] <= header_at <= m[2] and m[2] == header_at]
    in_data = [m for m in facts.merged if m[2] > header_at and m[0] <= n_rows]
    if in_data:
        first = in_data[0]
        raise ctx.fail(
            f"{count(len(in_data), 'range')} of merged cells in the data "
            f"({listing([name(m) for m in in_data])}): Excel shows one value across a merged "
            f"range, but the file holds it only in its first cell, so the other cells "
            f"(e.g. rows {first[0] + 1}-{first[2]} of {name(first)}) would read as empty.",
            "in Excel, select the merged cells, unmerge them (Home > Merge & Center) and fill "
            "the value into every cell; then save again.",
        )
    return tuple(name(m) for m in in_header)


def _note_hidden(facts: _Facts, header: list, array: np.ndarray, header_at: int, ctx: Context) -> None:
    width = len(header)
    cols = [c for c in facts.hidden_columns if c <= width and not is_blank(header[c - 1])]
    if cols:
        shown = listing([f"{get_column_letter(c)} ({str(header[c - 1]).strip()!r})" for c in cols])
        ctx.notes.append(
            f"{count(len(cols), 'column')} hidden in Excel and read all the same: {shown}"
        )
    if not facts.hidden_rows:
        return
    filled = [header_at + 1 + i for i in range(len(array)) if not is_empty(array[i])]
    last = filled[-1] if filled else header_at
    rows = [r for r in facts.hidden_rows if header_at < r <= last]
    if rows:
        ctx.notes.append(
            f"{count(len(rows), 'row')} hidden in Excel (filtered out?) and read all the same: "
            f"row{'s' * (len(rows) != 1)} {listing(rows)}"
        )
