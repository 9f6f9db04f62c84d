"""How results show themselves: a few lines of text in a terminal, HTML in Jupyter.

Every public result object of the package has

* ``__repr__``: what it is, how many rows and units it rests on and its key numbers, in a
  few lines; a table of dozens of rows shows its first rows and says how many follow, and
  a result that holds a data frame shows its first rows and its shape, never the frame;
* ``_repr_html_``: the same as HTML, which Jupyter shows in place of the text;
* ``summary()`` (where it has one): the long text, as a :class:`SummaryText`, a ``str``
  that a notebook cell and the interactive prompt show as text, without ``print``.

Both views of an object are made from one :class:`View`: a title line, facts (label and
value), tables (:class:`Grid`) and notes. Numbers in a view are formatted as in APA
tables (:func:`num`, :func:`pval`, :func:`ci`, :func:`dfs`): two decimals, ``p`` without
a leading zero and ``< .001`` below that, intervals in brackets.

Language
--------
The statistics and data objects (fits, validation, reliability, files read) speak English
only, as their column names, ``summary()`` and notes do; their views are English with a
decimal point. Text that an object holds in Dutch and English (report tables, the
provenance block, suppression footnotes, an instrument's name, the measures of a goal's
results) is shown in the language of the session, set once with :func:`set_display`, by
default Dutch, the default of the reports it ends up in. A
:class:`~lerendtransformeren.report.Document` and a classification are made in one
language and show that one.

This module sits at the bottom of the package (layer 0): it imports only
:mod:`~lerendtransformeren.lang`, :mod:`~lerendtransformeren.exceptions` and the standard
library, so every layer can use it. A progress bar (:func:`progress_bar`) is here too.

Examples
--------
>>> from lerendtransformeren.display import SummaryText, View, Grid
>>> text = SummaryText("line one\\nline two")
>>> text
line one
line two
>>> isinstance(text, str)
True
>>> print(View("Example", facts=[("n", "12")], grids=[Grid(["term", "b"], [["x", "0.50"]])]).text())
Example
n: 12
term     b
x     0.50
"""

from __future__ import annotations

import html
import importlib.util
import math
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import check_lang

__all__ = [
    "set_display",
    "display_lang",
    "display_rows",
    "table_rows",
    "SummaryText",
    "progress_bar",
    "View",
    "Grid",
    "num",
    "pval",
    "ci",
    "dfs",
    "count",
    "digits_for",
    "frame_grid",
    "MISSING",
]

#: A missing number (APA: an em dash in an empty table cell), as in the reports.
MISSING = "\u2014"

_OPTIONS: dict[str, Any] = {"lang": "nl", "rows": 5}

#: A cell that reads as a number, a count with a share, an interval or a p value.
_NUMERIC = re.compile(r"^[-+<>\[(]{0,2}\s?[.,\d\u2014\u221e\u00d7]")


def set_display(*, lang: str | None = None, rows: int | None = None) -> None:
    """Set how results show themselves for the rest of the session.

    Parameters
    ----------
    lang : {"nl", "en"}, optional
        Language of objects that hold Dutch and English text (report tables, provenance,
        suppression); default ``"nl"``, as the reports. Fits and data objects show English.
    rows : int, optional
        Rows shown of a data frame (default 5); tables of results show at least 12.

    Examples
    --------
    >>> import lerendtransformeren as lt
    >>> lt.set_display(lang="en"); lt.display.display_lang()
    'en'
    >>> lt.set_display(lang="nl")
    """
    if lang is not None:
        _OPTIONS["lang"] = check_lang(lang)
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise SpecificationError(f"rows={rows!r}: give a whole number of rows to show, 1 or more.")
        _OPTIONS["rows"] = rows


def display_lang() -> str:
    """The session's display language of bilingual objects (see :func:`set_display`)."""
    return _OPTIONS["lang"]


def display_rows() -> int:
    """Rows of a data frame shown in a view (see :func:`set_display`)."""
    return _OPTIONS["rows"]


def table_rows() -> int:
    """Rows of a table of results shown in a view: at least 12, or :func:`display_rows`."""
    return max(12, _OPTIONS["rows"])


class _NoBar:
    """A progress bar that shows nothing (``progress=False``)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def progress_bar(total: int, *, desc: str = "", unit: str = "it", show: bool = True) -> Any:
    """A tqdm progress bar: a widget in Jupyter, text in a terminal; one that shows nothing if not ``show``.

    ``tqdm.auto`` draws the widget, which needs ipywidgets (the ``notebooks`` extra); without
    it, ``tqdm.auto`` would write a warning into every notebook cell that imports it, so the
    console bar is used instead (it works in a notebook too, as text). Nothing is imported
    when the bar is not shown.

    Returns
    -------
    tqdm.tqdm or a bar without output
        Both have ``update(n)`` and ``close()`` and are context managers.
    """
    if not show:
        return _NoBar()
    if importlib.util.find_spec("ipywidgets") is None:
        from tqdm import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit)


class SummaryText(str):
    """The text of a ``summary()``: a ``str`` that shows itself as text.

    A bare ``m.summary()`` in a notebook cell or at the interactive prompt shows the lines
    (not the quoted string with ``\\n``); ``print(m.summary())`` and every ``str`` method and
    comparison work as before. Operations on it (``+``, slicing) give a plain ``str``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, p, cycle: bool) -> None:  # IPython
        for i, line in enumerate(str(self).split("\n")):
            if i:
                p.break_()
            p.text(line)


# --- numbers (English, APA) -----------------------------------------------------------------


def is_missing(x: object) -> bool:
    """None or NaN: a value that formats as :data:`MISSING`."""
    return x is None or (isinstance(x, Real) and math.isnan(float(x)))


def num(x: float | None, digits: int = 2, *, leading_zero: bool = True, thousands: bool = True) -> str:
    """A number with ``digits`` decimals and thousands separators (``1,234.50``).

    No sign on a value that rounds to zero; ``leading_zero=False`` for statistics bounded
    by 1 (``.85``); ``thousands=False`` without grouping. The English core of
    :func:`lerendtransformeren.report.format.fmt_num`, which localises it.

    >>> num(1234.5), num(-0.004), num(0.847, leading_zero=False), num(float("nan"))
    ('1,234.50', '0.00', '.85', '—')
    """
    if is_missing(x):
        return MISSING
    x = float(x)
    if math.isinf(x):
        return "\u221e" if x > 0 else "-\u221e"
    text = f"{abs(x):{',' if thousands else ''}.{digits}f}"
    if not leading_zero and text.startswith("0."):
        text = text[1:]
    return ("-" if x < 0 and any(ch not in "0.," for ch in text) else "") + text


def pval(p: float | None) -> str:
    """A p value in APA style: three decimals without leading zero, ``< .001`` below that.

    >>> pval(0.0321), pval(0.0004), pval(0.99995)
    ('.032', '< .001', '> .999')
    """
    if is_missing(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "< .001"
    if round(p, 3) >= 1.0:
        return "> .999"
    return num(p, 3, leading_zero=False)


def ci(low: float | None, high: float | None, digits: int = 2, *, leading_zero: bool = True) -> str:
    """An interval ``[low, high]``.

    >>> ci(0.114, 0.253), ci(0.78, 0.84, leading_zero=False)
    ('[0.11, 0.25]', '[.78, .84]')
    """
    if is_missing(low) or is_missing(high):
        return MISSING
    return f"[{num(low, digits, leading_zero=leading_zero)}, {num(high, digits, leading_zero=leading_zero)}]"


def dfs(df: float | None) -> str:
    """Degrees of freedom: one decimal when fractional, none when whole, no thousands separator.

    >>> dfs(5744.71), dfs(12.0), dfs(float("inf"))
    ('5744.7', '12', '∞')
    """
    if is_missing(df):
        return MISSING
    df = float(df)
    if math.isinf(df):
        return "\u221e"
    whole = abs(df - round(df)) <= 1e-6 * max(1.0, abs(df))
    return f"{df:.0f}" if whole else f"{df:.1f}"


def count(n: float | None) -> str:
    """A count with thousands separators (``9,584``)."""
    return num(n, 0)


def digits_for(values: Sequence[float] | Any, *, least: int = 2, most: int = 4) -> int:
    """Decimals that show a column of small numbers: 2, or more when all are below 0.1.

    The largest absolute value gets two significant digits (``0.012`` needs 3 decimals),
    between ``least`` and ``most`` decimals.

    >>> digits_for([1.5, 0.2]), digits_for([0.012, -0.004]), digits_for([0.0001])
    (2, 3, 4)
    """
    finite = [abs(float(v)) for v in values if not is_missing(v) and math.isfinite(float(v)) and float(v) != 0]
    if not finite:
        return least
    top = max(finite)
    return least if top >= 0.1 else min(most, max(least, 1 - math.floor(math.log10(top))))


# --- views ----------------------------------------------------------------------------------


@dataclass
class Grid:
    """A table of text cells for a :class:`View`.

    Parameters
    ----------
    headers : list of str
        One per column; the first ``n_stub`` columns are row labels (left-aligned).
    rows : list of list of str
    caption : str, default ""
    n_stub : int, default 1
    more : str, default ""
        Said under the table when rows were left out ("and 84 more rows: result.items").
    spanners : list of (str, int), optional
        A header row above ``headers``: (text, number of columns) runs.
    """

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    n_stub: int = 1
    more: str = ""
    spanners: list[tuple[str, int]] | None = None

    def right(self) -> list[bool]:
        """Per column: right-aligned (numbers, intervals, p values) or left-aligned (the stub, words)."""
        return [j >= self.n_stub and all(_NUMERIC.match(r[j]) for r in self.rows if r[j])
                for j in range(len(self.headers))]

    def text(self) -> list[str]:
        """The table as aligned lines (stub and words left, numbers right)."""
        table = [self.headers, *self.rows] if any(self.headers) else self.rows
        widths = [max(len(r[j]) for r in table) for j in range(len(self.headers))]
        right = self.right()

        def line(cells: list[str]) -> str:
            parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)]
            return "  ".join(parts).rstrip()

        out = [self.caption] if self.caption else []
        if self.spanners:
            tops, j = [], 0
            for text, span in self.spanners:
                width = sum(widths[j:j + span]) + 2 * (span - 1)
                tops.append(text.center(width))
                j += span
            out.append("  ".join(tops).rstrip())
        out += [line(r) for r in table]
        return out + ([self.more] if self.more else [])

    def html(self) -> str:
        """The table as HTML with APA rules (a line above and below the header, one at the end)."""
        esc = html.escape
        align = ["right" if r else "left" for r in self.right()]
        rule = "border-top:1.5px solid currentColor"
        head = ""
        if self.spanners:
            cells = "".join(
                f'<th colspan="{span}" style="text-align:center;padding:.15em .6em;{rule if text else ""}">'
                f"{esc(text)}</th>"
                for text, span in self.spanners
            )
            head += f"<tr>{cells}</tr>"
        if any(self.headers):
            head += "<tr>" + "".join(
                f'<th style="text-align:{a};padding:.15em .6em;border-bottom:1px solid currentColor">{esc(h)}</th>'
                for a, h in zip(align, self.headers)
            ) + "</tr>"
        body = "".join(
            "<tr>" + "".join(
                f'<td style="text-align:{a};padding:.15em .6em;white-space:nowrap">{esc(c)}</td>'
                for a, c in zip(align, row)
            ) + "</tr>"
            for row in self.rows
        )
        # the caption above the table, not a <caption>: that would wrap at the table's width
        caption = f'<div style="font-style:italic;margin-top:.6em">{esc(self.caption)}</div>' if self.caption else ""
        more = f'<div style="font-size:85%;opacity:.75">{esc(self.more)}</div>' if self.more else ""
        return (f'{caption}<table style="border-collapse:collapse;border-top:2px solid currentColor;'
                f'border-bottom:2px solid currentColor;font-variant-numeric:tabular-nums;margin:.2em 0 .4em">'
                f"{f'<thead>{head}</thead>' if head else ''}<tbody>{body}</tbody></table>{more}")


@dataclass
class View:
    """What an object shows: a title, facts, tables and notes, as text or HTML.

    Parameters
    ----------
    title : str
        First line: the object's class and what it is.
    facts : list of (str, str)
        Label and value, one line each ("Formula: y ~ wave").
    grids : list of Grid
    notes : list of str
        Warnings and advice, after the tables.
    hint : str
        Where to find the rest ("summary() for lme4's layout; .fixed, .variance").
    note_word : str
        What starts a note (APA: "Note." or, in a Dutch table, "Noot.").
    """

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    hint: str = ""
    note_word: str = "Note."
    #: Notes shown; more are counted in a line after them, which says where they are.
    max_notes: int = 5
    notes_where: str = ".notes"

    def text(self) -> str:
        """The view as lines of text (``__repr__``)."""
        lines = [self.title, *(f"{k}: {v}" for k, v in self.facts)]
        for grid in self.grids:
            lines += ["", *grid.text()] if lines else grid.text()
        if self.notes:
            lines.append("")
            lines += [textwrap.fill(f"{self.note_word} {n}", 100, subsequent_indent="  ", break_on_hyphens=False)
                      for n in self.notes[:self.max_notes]]
            if self._more_notes():
                lines.append(self._more_notes())
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)

    def _more_notes(self) -> str:
        extra = len(self.notes) - self.max_notes
        return f"... and {extra} more note{'s' * (extra != 1)}: {self.notes_where}" if extra > 0 else ""

    def html(self) -> str:
        """The view as an HTML fragment (``_repr_html_``)."""
        esc = html.escape
        parts = ['<div class="lt-display" style="line-height:1.4">',
                 f'<div style="font-weight:bold;margin-bottom:.2em">{esc(self.title)}</div>']
        parts += [f'<div><span style="opacity:.7">{esc(k)}:</span> {esc(v)}</div>' for k, v in self.facts]
        parts += [g.html() for g in self.grids]
        parts += [f'<div style="margin-top:.3em"><em>{esc(self.note_word)}</em> {esc(n)}</div>'
                  for n in self.notes[:self.max_notes]]
        if self._more_notes():
            parts.append(f'<div style="font-size:85%;opacity:.75">{esc(self._more_notes())}</div>')
        if self.hint:
            parts.append(f'<div style="font-size:85%;opacity:.75;margin-top:.3em">{esc(self.hint)}</div>')
        return "".join(parts) + "</div>"


def frame_grid(frame: Any, caption: str = "", *, rows: int | None = None, columns: int = 8) -> Grid:
    """The first rows and columns of a data frame as a :class:`Grid`, its shape in the caption.

    Values are shown as pandas shows them in a cell (``str``; missing as ``NaN``); the
    index is the stub.

    Parameters
    ----------
    frame : pandas.DataFrame
    caption : str
        Put before the shape ("Data: 9,584 rows x 89 columns").
    rows : int, optional
        Rows shown; default :func:`display_rows`.
    columns : int
        Columns shown; the others are named as a count.
    """
    n_rows, n_cols = frame.shape
    rows = display_rows() if rows is None else rows
    head = frame.iloc[:rows, :columns]
    shape = f"{count(n_rows)} rows x {count(n_cols)} columns"
    shown = []
    if n_rows > rows:
        shown.append(f"first {rows} rows")
    if n_cols > columns:
        shown.append(f"first {columns} columns")
    cells = [[str(i)] + [_cell(v) for v in row] for i, row in zip(head.index, head.itertuples(index=False))]
    return Grid(
        [str(frame.index.name or "")] + [str(c) for c in head.columns], cells,
        caption=(f"{caption}: " if caption else "") + shape + (f" ({', '.join(shown)})" if shown else ""),
        more=f"... and {count(n_cols - columns)} more columns: {_names(frame.columns[columns:])}"
        if n_cols > columns else "",
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:g}"
    if value is None:
        return "None"
    text = str(value)
    return text if len(text) <= 24 else text[:23] + "\u2026"


def _names(names: Any, k: int = 6) -> str:
    names = [str(n) for n in names]
    return ", ".join(names[:k]) + (", ..." if len(names) > k else "")
