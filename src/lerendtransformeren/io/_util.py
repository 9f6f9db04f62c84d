"""Shared constants and small text helpers of the io package."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from openpyxl.utils import get_column_letter

from lerendtransformeren.exceptions import DataError, OptionNames

#: Cell contents (after stripping surrounding whitespace) read as missing in csv and xlsx.
#: Text answers such as ``n.v.t.`` or ``weet niet`` are never among them.
MISSING_MARKERS: tuple[str, ...] = ("", "NA", "NaN", "#NULL!", ".")
#: Error values Excel shows (and writes to csv) when a formula fails, in English and Dutch.
EXCEL_ERRORS: tuple[str, ...] = (
    "#DIV/0!",
    "#N/A",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#SPILL!",
    "#CALC!",
    "#FIELD!",
    "#GETTING_DATA",
    "#DEEL/0!",
    "#N/B",
    "#WAARDE!",
    "#VERW!",
    "#NAAM?",
    "#GETAL!",
    "#LEEG!",
)
#: Id columns read as text by default (``read_table(id_columns=None)``): the design's
#: levels below ``goal`` and the respondent kinds.
ID_COLUMNS: tuple[str, ...] = ("organisation", "team", "professional", "family", "youth")
#: The most characters an Excel cell holds.
EXCEL_CELL_LIMIT = 32_767

EMPTY = "(empty)"  # key of empty cells in the per-marker counts
SYSTEM_MISSING = "(system-missing)"
MARKER_ORDER = {(m or EMPTY): i for i, m in enumerate(MISSING_MARKERS)}
SHOW = 5  # how many examples (lines, columns, values) a message names


@dataclass
class Context:
    """What every step of one ``read_table`` call needs: file name, options, notes."""

    name: str
    options: OptionNames
    notes: list[str] = field(default_factory=list)

    def fail(self, problem: str, fix: str) -> DataError:
        """A DataError naming the file, the problem and the fix."""
        return DataError(f"{self.name}: {problem}\nFix: {fix}")


@dataclass
class Raw:
    """A table as cells, before typing: header, one object array per column, locations.

    ``at`` holds the file line (text files) or sheet row (workbooks) of each data row.
    """

    header: list
    columns: list[np.ndarray]
    at: np.ndarray
    unit: str  # "line" or "row"
    header_at: int
    merged: tuple[str, ...] = ()  # merged ranges of the header row, as 'B1:D1'
    decimal: str | None = None  # mark with which numeric columns were parsed (text files)
    comma_columns: Callable[[], set[int]] | None = None  # columns with '3,0'-like numbers
    trailing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # lines
    # of empty rows at the end that were not read (text files), for the note

    def column(self, j: int) -> str:
        return f"column {j + 1}" if self.unit == "line" else f"column {get_column_letter(j + 1)}"

    def where(self, positions: Sequence[int] | np.ndarray) -> str:
        """'line 5' or 'rows 5, 9 and 3 more' for data positions."""
        places = [int(self.at[p]) for p in positions]
        word = self.unit if len(places) == 1 else self.unit + "s"
        return f"{word} {listing(places)}"


def count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def columns(names: Sequence) -> str:
    word = "column" if len(names) == 1 else "columns"
    return f"{word} {listing(names)}"


def listing(items: Sequence, limit: int = SHOW) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def quoted(items: Sequence, limit: int = SHOW) -> str:
    return listing([repr(i) for i in items], limit)


def sep_name(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


def is_blank(cell) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return cell != cell
    return isinstance(cell, str) and not cell.strip()


def is_empty(cells) -> bool:
    return all(is_blank(c) for c in cells)


def code_text(value) -> str:
    """A number as it is written in a file: 7.0 as '7', 10.1 as '10.1'."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


NUMBER_TEXT = re.compile(r"[+-]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)
