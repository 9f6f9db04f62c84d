"""Messages of validate: rows as the user sees them, values as typed, the fix."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from lerendtransformeren.exceptions import PYTHON, DataError, OptionNames


_KINDS: tuple[str, ...] = ("professional", "family", "youth")
_PLURAL = {
    "goal": "goals",
    "organisation": "organisations",
    "team": "teams",
    "professional": "professionals",
    "family": "families",
    "youth": "young people",
}
_N_ROWS_SHOWN = 5  # example rows per unit or variable in an error message
_N_UNITS_SHOWN = 5  # offending units (or variables) per error message
_N_VALUES_SHOWN = 10  # distinct bad values per variable
_N_NAMES_SHOWN = 30  # column names listed in a message or note
_WAVE_LABEL = r"[Tt](\d{1,6})"
_NUMERIC_TYPES = ("integer", "float", "item")
_WHOLE_TYPES = ("integer", "item")
_CODED_TYPES = ("binary", "categorical")
_DROPOUT_COLUMNS = ["n_absent", "pct_absent", "n_dropped_out", "pct_dropped_out"]


class _Messages:
    """Builds DataError messages that name the file, example rows and the fix.

    Rows are shown as the file's row numbers when the data still have their default index
    and the rows' place in the file is known: ``first_row`` is the file row of the first
    data row (``TableRead.source["first_row"]``), 2 by default when the data came from a
    file (``source``: a spreadsheet with the header on row 1). Otherwise rows are named by
    their index labels. ``options`` names the options a fix refers to.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        source: str | None,
        first_row: int | None = None,
        options: OptionNames = PYTHON,
    ) -> None:
        self._prefix = f"{source}: " if source else ""
        if first_row is None and source is not None:
            first_row = 2
        self._spreadsheet = first_row is not None and frame.index.equals(pd.RangeIndex(len(frame)))
        self.first_row = first_row
        self._labels = (
            pd.RangeIndex(first_row, first_row + len(frame)) if self._spreadsheet else frame.index
        )
        self.options = options

    def of(self, key: str, *value: object) -> str:
        """The name of an option in the caller's world (see OptionNames)."""
        return self.options.of(key, *value)

    @property
    def python(self) -> bool:
        """Whether fixes may show Python code."""
        return self.options.language == "python"

    def rows(self, positions: np.ndarray, limit: int = _N_ROWS_SHOWN) -> str:
        shown = ", ".join(str(self._labels[p]) for p in positions[:limit])
        more = len(positions) - limit
        word = "row" if len(positions) == 1 else "rows"
        return f"{word} {shown}" + (f" and {more} more" if more > 0 else "")

    def error(self, problem: str, fix: str, *, rows: bool = True) -> DataError:
        text = f"{self._prefix}{problem}\nFix: {fix}"
        if rows:
            if not self._spreadsheet:
                note = "Rows are named by their index label."
            elif self.first_row == 2:
                note = "Row numbers count the header as row 1, as in a spreadsheet."
            else:
                note = f"Row numbers are rows of the file; the first data row is row {self.first_row}."
            text += "\n" + note
        return DataError(text)


def _show(value: object) -> str:
    """repr of a value as the user typed it (numpy scalars as Python scalars)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _names(names: Sequence[object], limit: int = _N_NAMES_SHOWN) -> str:
    shown = ", ".join(_show(n) for n in list(names)[:limit])
    more = len(names) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _plural(name: str) -> str:
    return _PLURAL.get(name, f"'{name}' values")


def _count(n: int, singular: str, plural: str) -> str:
    """'1 team has' or '3 teams have'."""
    return f"1 {singular} has" if n == 1 else f"{n} {plural} have"


def _values(series: pd.Series, mask: np.ndarray) -> str:
    """The first distinct values of ``series`` where ``mask`` holds, for a message."""
    distinct = pd.unique(series.to_numpy()[mask])
    return _names(distinct, _N_VALUES_SHOWN)


def _matching(series: pd.Series, keep: Callable[[object], bool]) -> pd.Series:
    """Rows whose value satisfies ``keep``, evaluated once per distinct value."""
    return series.isin([value for value in series.dropna().unique() if keep(value)])


def _blank(series: pd.Series) -> pd.Series:
    """Missing values, and empty or blank text."""
    if is_numeric_dtype(series):
        return series.isna()
    return series.isna() | _matching(series, lambda value: isinstance(value, str) and not value.strip())


def _is_code(series: pd.Series, codes: Sequence[str]) -> pd.Series:
    """Whether each value equals one of ``codes`` (codebook text, compared as numbers too)."""
    numbers = pd.to_numeric(pd.Series(list(codes), dtype=object), errors="coerce").dropna()
    hit = series.isin(numbers.tolist())
    if not is_numeric_dtype(series):
        texts = set(codes)
        hit = hit | _matching(series, lambda value: str(value).strip() in texts)
    return series.notna() & hit
