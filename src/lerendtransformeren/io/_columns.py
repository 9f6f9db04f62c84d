"""From cells to typed columns: missing markers, numbers and decimal marks, dates, ids.

Every column is factorised once; each distinct value is classified once (so a column of
200,000 answers 0..4 costs five classifications), and the rows are recovered from the
codes. Everything that is changed or left as it was for a reason is written into the notes;
what cannot be read safely raises a DataError naming the column, the rows and the fix.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd
from numpy.dtypes import StringDType

from lerendtransformeren.io._layout import blank_rows, drop_empty_rows, factorize, named_columns
from lerendtransformeren.io._util import (
    EMPTY,
    EXCEL_ERRORS,
    MARKER_ORDER,
    MISSING_MARKERS,
    Context,
    Raw,
    code_text,
    columns,
    count,
    quoted,
)

_INT64 = 2**63
_EXACT_DIGITS = 15  # digits a float64 holds exactly
_NUMBER = re.compile(
    r"(?P<int>[+-]?\d+)"
    r"|(?P<sci>[+-]?\d+[eE][+-]?\d+)"
    r"|(?P<dot3>[+-]?[1-9]\d{0,2}\.\d{3})"
    r"|(?P<comma3>[+-]?[1-9]\d{0,2},\d{3})"
    r"|(?P<dotK>[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?(?:[eE][+-]?\d+)?)"
    r"|(?P<commaK>[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?)"
    r"|(?P<point>[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<comma>[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?)",
    re.ASCII,
)
_DATE_TEXT = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}-(?:jan|feb|mrt|mar|apr|mei|may|jun|jul|aug|sep|okt|oct|nov|dec)\w*\.?(?:-\d{2,4})?",
    re.IGNORECASE,
)
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_FORMULA_LIKE = re.compile(r"[=@\t\r]|[+-][^\d\s.,]")
_ESCAPED = re.compile(r"'[=+\-@\t\r]")
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!][^>]*>?")
_NUMERIC = frozenset({"int", "sci", "dot3", "comma3", "dotK", "commaK", "point", "comma", "number"})
_MARKERS = frozenset(MISSING_MARKERS)
_ERRORS = frozenset(EXCEL_ERRORS)
_ERROR_ARRAY = np.array(EXCEL_ERRORS, dtype=StringDType())


@dataclass
class _Column:
    """One column: its codes, distinct values and their classification."""

    name: str
    codes: np.ndarray  # -1: None/NaN
    uniques: np.ndarray  # object
    kinds: np.ndarray  # per distinct value, e.g. 'int', 'comma', 'text' (see _kind)
    texts: np.ndarray  # object, per distinct value: stripped text, or the value itself
    counts: np.ndarray | None = None  # rows per distinct value (set by ``restrict``)
    kinds_present: frozenset = frozenset()
    reading: str | None = None  # how the numbers are read, None for text
    explained: bool = False  # a note already says why it stays text
    parsed: np.ndarray | None = None  # numbers parsed by pandas (text files), else None
    index: int = -1  # position in the file
    all_str: bool = False  # every distinct value is a str
    whole: bool | None = None  # parsed numbers: all whole (known once restricted)
    numbers: np.ndarray | None = None  # cache of _floats
    _blank: np.ndarray | None = None

    def restrict(self, keep: int, decimal: str | None = None) -> None:
        """Keep the first ``keep`` rows; count the rows per distinct value."""
        if self.parsed is not None:
            self.parsed = self.parsed[:keep]
            blank = self.blank()
            n_blank = int(blank.sum()) if self.parsed.dtype.kind == "f" else 0
            found = {"marker"} if n_blank else set()
            self.whole = None if n_blank == keep else self.parsed.dtype.kind == "i" or bool(
                ((np.round(self.parsed) == self.parsed) | blank).all()
            )
            if n_blank < keep:
                found.add("int" if self.whole else ("comma" if decimal == "," else "point"))
            self.kinds_present = frozenset(found)
            self.counts = np.zeros(0, dtype=np.int64)
            return
        self.codes = self.codes[:keep]
        self.counts = np.bincount(self.codes[self.codes >= 0], minlength=len(self.uniques))
        self.kinds_present = frozenset(pd.unique(self.kinds[self.counts > 0]).tolist())

    def blank(self) -> np.ndarray:
        """Rows that are empty (or only spaces)."""
        if self.parsed is not None:
            if self._blank is None or len(self._blank) != len(self.parsed):
                kind = self.parsed.dtype.kind
                self._blank = np.isnan(self.parsed) if kind == "f" else np.zeros(len(self.parsed), bool)
            return self._blank
        empty = np.flatnonzero((self.kinds == "marker") & (self.texts == ""))
        mask = self.codes < 0
        return mask | np.isin(self.codes, empty) if len(empty) else mask

    def rows(self, kinds) -> np.ndarray:
        """Positions of the rows whose value is of one of ``kinds``."""
        if self.parsed is not None:
            return np.flatnonzero(self.blank()) if "marker" in kinds else np.zeros(0, dtype=int)
        wanted = np.flatnonzero(np.isin(self.kinds, list(kinds)))
        return np.flatnonzero(np.isin(self.codes, wanted))

    def present(self) -> set[str]:
        return set(self.kinds_present)

    def examples(self, kinds, limit: int | None = 3) -> list:
        if self.parsed is not None:
            return []
        hit = np.flatnonzero(np.isin(self.kinds, list(kinds)) & (self.counts > 0))
        return [self.texts[i] for i in hit[:limit]]


def type_table(raw: Raw, decimal, id_columns, allowed: tuple[str, ...], ctx: Context):
    """The typed frame, marker counts per column, whether decimal commas were found, and
    for columns parsed as numbers whether all are whole (for the codebook)."""
    text = raw.unit == "line"  # cells of text files are text (or missing)
    ids = set(id_columns)
    cols = [
        _column(str(h), values, j, text, str(h).strip() in ids)
        for j, (h, values) in enumerate(zip(raw.header, raw.columns))
    ]
    blanks = [c.blank() for c in cols]
    keep = drop_empty_rows(raw, blank_rows(raw, blanks), ctx)
    raw.at = raw.at[:keep]
    kept = named_columns(raw, [b[:keep] for b in blanks], ctx)
    cols = [cols[j] for j, _ in kept]
    for col, (_, name) in zip(cols, kept):
        col.name = name
        col.restrict(keep, raw.decimal)
        _check_errors(col, raw, ctx)
        _check_dates(col, raw, ctx)
    for col in cols:
        if col.name not in ids:
            col.reading = _reading(col, decimal, allowed, raw, ctx)
    comma_file = _comma_file(cols, raw)
    for col in cols:
        if col.reading == "dot3":
            col.reading = "comma" if comma_file else "point"
    data, markers = {}, {}
    for col in cols:
        data[col.name], markers[col.name] = _build(col, col.name in ids, raw, ctx)
    _note_numbers(cols, decimal, allowed, comma_file, raw, ctx)
    for col in cols:
        if col.name not in ids:
            _note_text(col, decimal, raw, ctx)
    _note_markers(markers, ctx)
    frame = pd.DataFrame(data, index=pd.RangeIndex(keep))
    whole = {c.name: c.whole for c in cols if c.whole is not None}
    return frame, markers, comma_file and decimal is None and "," in allowed, whole


def _column(name: str, values: np.ndarray, j: int, text: bool, is_id: bool) -> _Column:
    if values.dtype.kind in "if":
        empty = np.zeros(0, dtype=object)
        column = _Column(name, np.zeros(0, dtype=np.int64), empty, empty.astype("U8"), empty, parsed=values)
    else:
        column = _classify(name, *factorize(values), text, is_id)
    column.index = j
    return column


def _shows(col: _Column, mark: str) -> bool:
    """Whether the column's values show decimal mark ``mark`` (',' or '.') at work.

    A decimal comma shows in a number with decimals ('3,5'), a comma-grouped '1,234' or a
    thousands-grouped '1.234,5'; whole numbers written '3,0' do not count (their mark
    changes nothing). Likewise for the decimal point.
    """
    if col.reading != ("comma" if mark == "," else "point"):
        return False
    present = col.present()
    if mark == "," and present & {"dotK", "comma3"}:
        return True
    kind = "comma" if mark == "," else "point"
    if kind not in present:
        return False
    if col.parsed is not None:
        return True  # parsed columns show the mark only when they have decimals
    values = _floats(col)[:-1][(col.kinds == kind) & (col.counts > 0)]
    return bool((values != np.round(values)).any())


def _comma_file(cols: list[_Column], raw: Raw) -> bool:
    """Whether the file uses decimal commas; it decides what '1.234' means."""
    if any(_shows(c, ",") for c in cols):
        return True
    if not any(c.reading == "dot3" for c in cols):
        return False
    if any(c.reading == "comma" and "comma" in c.present() for c in cols):
        return True  # whole numbers written with a decimal comma ('3,0')
    whole = {
        c.index for c in cols
        if c.parsed is not None and c.parsed.dtype.kind == "f" and "int" in c.present()
    }
    found = raw.comma_columns() if whole and raw.decimal == "," and raw.comma_columns else set()
    return bool(whole & found)


def _classify(
    name: str, codes: np.ndarray, uniques: np.ndarray, text: bool = False, is_id: bool = False
) -> _Column:
    """Classify the distinct values, vectorised for text (the common case).

    Ids are text whatever they look like: only missing markers, Excel errors and dates are
    told apart (numbers are not).
    """
    n = len(uniques)
    kinds = np.full(n, "text", dtype="U8")
    texts = np.empty(n, dtype=object)
    if text:
        is_str = np.ones(n, dtype=bool)
    else:
        is_str = np.fromiter((type(u) is str for u in uniques), dtype=bool, count=n)
    where = np.flatnonzero(is_str)
    if len(where):
        stripped = np.strings.strip(np.array(uniques[where], dtype=StringDType()))
        texts[where] = stripped.astype(object)
        kinds[where] = _kinds_of_text(stripped, numbers=not is_id)
        plain = where[kinds[where] == "text"]
        texts[plain] = uniques[plain]  # text is kept as it is, spaces and all
    for i in np.flatnonzero(~is_str | (kinds == "?")):
        kinds[i], texts[i] = _kind(uniques[i])
        if is_id and kinds[i] in _NUMERIC and kinds[i] != "number":
            kinds[i], texts[i] = "text", uniques[i]
    return _Column(name, codes, uniques, kinds, texts, all_str=bool(is_str.all()))


def _kinds_of_text(t: np.ndarray, numbers: bool = True) -> np.ndarray:
    """Kinds of stripped texts; '?' where the exact (regular expression) test must decide.

    Without ``numbers`` only texts that could be dates ('2023-05-01') are left to it.
    """
    kinds = np.full(len(t), "text", dtype="U8")
    kinds[_equals_any(t, MISSING_MARKERS)] = "marker"
    first = np.strings.slice(t, 0, 1)
    hashes = np.flatnonzero(first == "#")
    if len(hashes):
        kinds[hashes[np.isin(t[hashes], _ERROR_ARRAY)]] = "error"
    candidate = (np.strings.isdecimal(first) | _equals_any(first, "+-.,")) & (kinds == "text")
    if not numbers:
        dated = candidate & np.strings.isdecimal(first)
        for mark in ("-", "/"):
            kinds[dated & (np.strings.find(t, mark) > 0)] = "?"
        return kinds
    if not candidate.any():
        return kinds
    n_comma, n_dot = np.strings.count(t, ","), np.strings.count(t, ".")
    body = np.strings.replace(np.strings.replace(t, ",", ""), ".", "")
    simple = (
        candidate
        & np.strings.isdecimal(body)
        & (n_comma + n_dot <= 1)
        & (first != "+")
        & (first != "-")
    )
    length = np.strings.str_len(t)
    mark = np.where(n_comma == 1, np.strings.find(t, ","), np.strings.find(t, "."))
    grouped = (length - mark - 1 == 3) & (mark >= 1) & (mark <= 3) & (first != "0")
    kinds[simple & (n_comma + n_dot == 0)] = "int"
    kinds[simple & (n_comma == 1)] = np.where(grouped, "comma3", "comma")[simple & (n_comma == 1)]
    kinds[simple & (n_dot == 1)] = np.where(grouped, "dot3", "point")[simple & (n_dot == 1)]
    kinds[candidate & ~simple] = "?"
    return kinds


def _equals_any(t: np.ndarray, values) -> np.ndarray:
    """Elementwise ``t in values`` (faster than np.isin for text arrays)."""
    hit = np.zeros(len(t), dtype=bool)
    for value in values:
        hit |= t == value
    return hit


def _kind(value) -> tuple[str, object]:
    """The kind of one distinct cell value, and its stripped text."""
    if isinstance(value, str):
        text = value.strip()
        if text in _MARKERS:
            return "marker", text
        if text in _ERRORS:
            return "error", text
        match = _NUMBER.fullmatch(text)
        if match is not None:
            return match.lastgroup, text
        if _DATE_TEXT.fullmatch(text):
            return "datetext", text
        return "text", value
    if isinstance(value, (datetime, date, time, pd.Timestamp)):
        return "date", value
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if isinstance(value, (float, np.floating)) and value != value:
            return "marker", ""
        return "number", value
    return "text", str(value)


# --------------------------------------------------------------------------------------
# Values that cannot be read safely
# --------------------------------------------------------------------------------------
def _check_errors(col: _Column, raw: Raw, ctx: Context) -> None:
    if "error" not in col.present():
        return
    parts = [
        f"{text!r} in {raw.where(np.flatnonzero(col.codes == i))}"
        for i, (kind, text) in enumerate(zip(col.kinds, col.texts))
        if kind == "error" and col.counts[i]
    ]
    raise ctx.fail(
        f"column {col.name} holds Excel error values, left where a formula failed: "
        f"{'; '.join(parts[:5])}.",
        "correct the formulas in Excel, or empty these cells if the values are missing; then "
        "save or export the file again.",
    )


def _check_dates(col: _Column, raw: Raw, ctx: Context) -> None:
    present = col.present() - {"marker"}
    dates = present & {"date", "datetext"}
    if not dates or present <= {"date", "datetext"}:
        return
    rows = col.rows(dates)
    shown = ", ".join(_date_text(d) for d in col.examples(dates))
    others = quoted([code_text(t) for t in col.examples(present - dates)], 3)
    raise ctx.fail(
        f"column {col.name} holds dates among other values: {shown} in {raw.where(rows)}, while "
        f"other values are such as {others}. Excel turns values such as '1-5' or '3-4' into "
        "dates (1 May, 3 April) when they are typed or a csv is opened.",
        "in Excel, format the column as Text (Format Cells > Text) and retype the changed "
        "values, or import the csv with this column set to Text; if the column holds dates, "
        "make every value a date or empty.",
    )


def _date_text(value) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return f"{value.date().isoformat()} (typed as '{value.day}-{value.month}'?)"
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value.isoformat()} (typed as '{value.day}-{value.month}'?)"
    return str(value)


# --------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------
def _reading(col: _Column, decimal, allowed, raw: Raw, ctx: Context) -> str | None:
    """How the column's numbers are read ('int', 'point', 'comma', 'both', 'dot3'), or None."""
    present = col.present() - {"marker"}
    if not present or not present <= _NUMERIC:
        return None
    zeros = [t for t in col.examples(present - {"number"}, None) if _LEADING_ZERO.match(t)]
    if zeros:
        ctx.notes.append(
            f"column {col.name} kept as text: values such as {min(zeros)!r} have leading zeros "
            "(identifiers?)"
        )
        col.explained = True
        return None
    reading = _mark(present, decimal, allowed)
    if reading == "ambiguous":
        raise _ambiguous(col, raw, ctx)
    if reading is None:
        return None
    long = [t for t in col.examples({"int"}, None) if len(t.lstrip("+-")) > _EXACT_DIGITS]
    exact = present <= {"int", "number"} and not (col.codes < 0).any() and "marker" not in col.present()
    if long and not (exact and all(-_INT64 <= int(t) < _INT64 for t in long)):
        ctx.notes.append(
            f"column {col.name} kept as text: values such as {long[0]!r} have more digits than "
            f"a number keeps exactly ({_EXACT_DIGITS}) (identifiers?)"
        )
        col.explained = True
        return None
    return reading


def _mark(present: set[str], decimal, allowed) -> str | None:
    """The reading of a column of number-like values; 'ambiguous' when it cannot be told."""
    s = present - {"int", "sci", "number"}
    if decimal == ".":
        return "point" if s <= {"point", "dot3"} else None
    if decimal == ",":
        return "comma" if s <= {"comma", "dot3", "comma3", "dotK"} else None
    if decimal == "both":
        return "both" if s <= {"point", "comma", "dot3", "comma3"} else None
    if "," not in allowed:
        return "point" if s <= {"point", "dot3"} else None
    if "commaK" in s:
        return None
    commas, points = s & {"comma", "dotK"}, s & {"point"}
    if commas and points:
        return "ambiguous" if s & {"dotK", "dot3", "comma3"} else "both"
    if commas:
        return "ambiguous" if "dot3" in s and "dotK" not in s else "comma"
    if points:
        return "ambiguous" if "comma3" in s else "point"
    if "dot3" in s and "comma3" in s:
        return "ambiguous"
    if s & {"dotK", "comma3"}:
        return "comma"
    return "dot3" if "dot3" in s else "int"


def _ambiguous(col: _Column, raw: Raw, ctx: Context):
    groups = (
        ({"comma", "dotK"}, "with a decimal comma"),
        ({"point"}, "with a decimal point"),
        ({"dot3"}, "where '.' is a decimal point or a thousands separator (3.556 or 3556)"),
        ({"comma3"}, "where ',' is a decimal comma or a thousands separator (1,234 or 1234)"),
    )
    parts = [
        f"{quoted(col.examples(kinds, 2))} ({raw.where(col.rows(kinds))}) {what}"
        for kinds, what in groups
        if col.present() & kinds
    ]
    o = ctx.options
    return ctx.fail(
        f"column {col.name} mixes decimal marks so that some values cannot be read safely: "
        + "; ".join(parts)
        + ".",
        "write every value of the column with the same decimal mark (in Excel: give the column "
        f"one number format and export again); or set {o.of('decimal', ',')} if '.' separates "
        f"thousands in this file, or {o.of('decimal', 'both')} if '.' and ',' are both "
        "decimal marks.",
    )


def _floats(col: _Column) -> np.ndarray:
    """The number of each distinct value under the column's reading (NaN for markers)."""
    if col.numbers is not None:
        return col.numbers
    out = col.numbers = np.full(len(col.kinds) + 1, np.nan)  # the last entry serves code -1
    thousands = "." if col.reading == "comma" else None
    for kinds, plain in ((("int", "sci", "point"), True), (("comma", "comma3"), False)):
        idx = np.flatnonzero(np.isin(col.kinds, kinds))
        if len(idx):
            text = np.array(col.texts[idx], dtype=StringDType())
            out[idx] = (text if plain else np.strings.replace(text, ",", ".")).astype(np.float64)
    for kind in ("dot3", "dotK"):
        idx = np.flatnonzero(col.kinds == kind)
        if len(idx):
            text = np.array(col.texts[idx], dtype=StringDType())
            if kind == "dotK" or thousands:
                text = np.strings.replace(np.strings.replace(text, ".", ""), ",", ".")
            out[idx] = text.astype(np.float64)
    idx = np.flatnonzero(col.kinds == "number")
    out[idx] = [float(v) for v in col.texts[idx]]
    return out


def _whole(col: _Column) -> np.ndarray | None:
    """Exact int64 values of each distinct value, if every value is a whole number."""
    if (col.codes < 0).any() or "marker" in col.kinds_present:
        return None
    allowed = {"int", "number"} | ({"dot3", "dotK"} if col.reading == "comma" else set())
    if not col.kinds_present <= allowed:
        return None
    out = np.zeros(len(col.kinds) + 1, dtype=np.int64)
    for i in np.flatnonzero(col.counts > 0):
        value = col.texts[i]
        if col.kinds[i] == "number":
            if not isinstance(value, (int, np.integer)):
                return None
        else:
            text = value.replace(".", "")
            if "," in text or "e" in text.lower():
                return None
            value = int(text)
        if not -_INT64 <= value < _INT64:
            return None
        out[i] = value
    return out


def _build(col: _Column, is_id: bool, raw: Raw, ctx: Context) -> tuple[pd.Series, Counter]:
    markers = Counter()
    n_none = int((col.codes < 0).sum())
    if n_none:
        markers[EMPTY] = n_none
    for i in np.flatnonzero((col.kinds == "marker") & (col.counts > 0)):
        markers[col.texts[i] or EMPTY] += int(col.counts[i])
    markers = Counter(dict(sorted(markers.items(), key=lambda item: MARKER_ORDER[item[0]])))
    present = col.present() - {"marker"}
    if col.parsed is not None:
        n_blank = int(col.blank().sum())
        return pd.Series(col.parsed), Counter({EMPTY: n_blank} if n_blank else {})
    if col.reading is not None:
        whole = _whole(col)
        if whole is not None:
            return pd.Series(whole[col.codes], dtype="int64"), markers
        return pd.Series(_floats(col)[col.codes], dtype="float64"), markers
    if not present:
        return pd.Series(np.nan, index=range(len(col.codes)), dtype="float64"), markers
    if present == {"date"}:
        return pd.to_datetime(pd.Series(_take(col, col.uniques), dtype=object)), markers
    if is_id:
        _note_numeric_ids(col, raw, ctx)
    values = _texts(col, raw, ctx)
    codes = col.codes
    marker = np.flatnonzero(col.kinds == "marker")
    if len(marker):
        codes = np.where(np.isin(codes, marker), -1, codes)
    return pd.Series(pd.array(values, dtype="str").take(codes, allow_fill=True)), markers


def _take(col: _Column, values) -> np.ndarray:
    """Row values from per-distinct values; markers and empty cells become NaN."""
    lookup = np.empty(len(col.kinds) + 1, dtype=object)
    lookup[:-1] = values
    lookup[:-1][col.kinds == "marker"] = np.nan
    lookup[-1] = np.nan
    return lookup[col.codes]


def _texts(col: _Column, raw: Raw, ctx: Context) -> np.ndarray:
    """Text of each distinct value (numbers as written), escaped formulas unescaped."""
    values = col.uniques.copy()
    if not col.all_str:
        other = np.flatnonzero(np.fromiter((type(u) is not str for u in values), dtype=bool, count=len(values)))
        values[other] = [code_text(v) for v in values[other]]
    text = np.array(values, dtype=StringDType())
    first = np.strings.slice(text, 0, 1)
    used = col.counts > 0
    escaped = [i for i in np.flatnonzero((first == "'") & used) if _ESCAPED.match(values[i])]
    if escaped:
        n = int(col.counts[escaped].sum())
        ctx.notes.append(
            f"column {col.name}: {count(n, 'value')} began with an apostrophe before '=', '+', "
            f"'-', '@' or a tab (a writer's guard against formulas, e.g. {values[escaped[0]]!r}); "
            "the apostrophe was removed"
        )
        values[escaped] = [values[i][1:] for i in escaped]
    live = used & (col.kinds == "text")
    risky = np.flatnonzero(_equals_any(first, "=@+-\t\r") & live)
    formulas = [values[i] for i in risky if _FORMULA_LIKE.match(values[i])]
    if formulas:
        ctx.notes.append(
            f"column {col.name} holds {count(len(formulas), 'distinct text')} that a spreadsheet "
            f"would run as a formula ({quoted(formulas, 3)}); read verbatim as text"
        )
    tags = np.flatnonzero((np.strings.find(text, "<") >= 0) & live)
    markup = [values[i] for i in tags if _MARKUP.search(values[i])]
    if markup:
        ctx.notes.append(
            f"column {col.name} holds text that looks like HTML markup ({quoted(markup, 3)}); "
            "read verbatim as text: escape it wherever it is shown as HTML"
        )
    return values


def _note_numeric_ids(col: _Column, raw: Raw, ctx: Context) -> None:
    rows = col.rows({"number"})
    if len(rows):
        examples = quoted([code_text(v) for v in col.examples({"number"})], 3)
        ctx.notes.append(
            f"id column {col.name}: {count(len(rows), 'id')} stored as numbers in the file "
            f"read as text ({examples}; {raw.where(rows)}); a number such as 10.10 is stored "
            "as 10.1, so store ids as text in the file"
        )


# --------------------------------------------------------------------------------------
# Notes
# --------------------------------------------------------------------------------------
def _note_numbers(cols: list[_Column], decimal, allowed, comma_file: bool, raw: Raw, ctx: Context) -> None:
    auto = decimal is None and "," in allowed
    comma = [c.name for c in cols if _shows(c, ",")]
    point = [c.name for c in cols if _shows(c, ".")]
    if auto and comma:
        ctx.notes.append(f"{columns(comma)} read with a decimal comma")
        if point:
            verb = "uses" if len(point) == 1 else "use"
            ctx.notes.append(
                f"{columns(point)} {verb} a decimal point while others use a decimal comma; read "
                "with a decimal point"
            )
    for col in cols:
        present = col.present()
        if col.reading == "comma" and "dot3" in present and auto:
            rows = col.rows({"dot3"})
            example = col.examples({"dot3"}, 1)[0]
            ctx.notes.append(
                f"in column {col.name} {count(len(rows), 'value')} such as {example!r} read as "
                f"{int(example.replace('.', ''))} ({raw.where(rows)}): '.' taken as thousands "
                f"separator because the file uses decimal commas; set {ctx.options.of('decimal', '.')} "
                "if it is a decimal point"
            )
        elif col.reading == "comma" and "dotK" in present and decimal is None:
            ctx.notes.append(
                f"in column {col.name} '.' read as thousands separator (values such as "
                f"{col.examples({'dotK'}, 1)[0]!r})"
            )
        elif col.reading == "point" and "dot3" in present and auto:
            example = col.examples({"dot3"}, 1)[0]
            ctx.notes.append(
                f"in column {col.name} values such as {example!r} read with a decimal point "
                f"({float(example)}); set {ctx.options.of('decimal', ',')} if '.' separates thousands"
            )
        elif col.reading == "both" and decimal is None:
            n_comma, n_point = len(col.rows({"comma"})), len(col.rows({"point"}))
            ctx.notes.append(
                f"column {col.name} uses both decimal marks: {count(n_comma, 'value')} with a "
                f"decimal comma (e.g. {col.examples({'comma'}, 1)[0]!r}), {n_point} with a decimal "
                f"point (e.g. {col.examples({'point'}, 1)[0]!r}); all read as decimals"
            )
        if raw.unit == "row" and col.reading is not None:
            stored = col.rows(_NUMERIC - {"number"})
            if len(stored):
                ctx.notes.append(
                    f"column {col.name}: {count(len(stored), 'number')} stored as text in Excel "
                    f"read as {'a number' if len(stored) == 1 else 'numbers'} ({raw.where(stored)})"
                )


def _note_text(col: _Column, decimal, raw: Raw, ctx: Context) -> None:
    """Why a column of (mostly) numbers stays text."""
    present = col.present() - {"marker"}
    if col.reading is not None or col.explained or not present or present <= {"date", "datetext"}:
        return
    numeric = col.rows(_NUMERIC)
    n = int(sum(n for k, n in zip(col.kinds, col.counts) if k != "marker"))
    if len(numeric) == n:
        marks = {None: "'.' or ','", ".": "'.'", ",": "','", "both": "'.' and ','"}[decimal]
        ctx.notes.append(
            f"column {col.name} kept as text: values such as "
            f"{quoted(col.examples(present - {'int', 'number'}, 2) or col.examples(present, 2))} "
            f"cannot be read as numbers with the decimal mark {marks}"
        )
    elif n < 2 * len(numeric):
        others = sorted({str(t) for k, t in zip(col.kinds, col.texts) if k not in _NUMERIC and k != "marker"})
        ctx.notes.append(
            f"column {col.name} kept as text: {n - len(numeric)} of {n} values are not numbers "
            f"(e.g. {', '.join(repr(e) for e in others[:3])}); recode them to numbers or missing "
            "if needed"
        )


def _note_markers(markers: dict[str, Counter], ctx: Context) -> None:
    total = Counter()
    for found in markers.values():
        total.update(found)
    if total:
        parts = ", ".join(
            count(n, "empty cell") if k == EMPTY else f"{n} {k!r}"
            for k, n in sorted(total.items(), key=lambda item: MARKER_ORDER[item[0]])
        )
        n_cols = sum(1 for found in markers.values() if found)
        ctx.notes.append(
            f"treated as missing: {parts} "
            f"({count(sum(total.values()), 'cell')} in {count(n_cols, 'column')})"
        )
