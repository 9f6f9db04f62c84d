"""Disclosure control: small-cell suppression, the identifier guard and neutral labels.

Reports go to organisations, municipalities and funders. Two rules hold for everything
a report shows:

1. **No statistic resting on fewer than k respondents** (default 5). Such cells are
   replaced by a marker and a footnote says why (primary suppression). Where the cells of
   a row or column add up to a total that is shown or known elsewhere (for example the
   number of respondents per wave in the sample table), one suppressed cell could be
   recovered by subtraction; then the next-smallest cell of that row or column is
   suppressed too (secondary suppression), repeated until no row or column has exactly
   one suppressed cell.
2. **No identifier of a person, family, professional, team or organisation.** Tables are
   checked by :func:`assert_no_identifiers`; organisations and teams may be shown under a
   neutral label made by :func:`pseudonymise` ("organisatie A", "organisatie B", ...).

Cells with a count of zero are empty rather than small: there is no respondent whose
data they could reveal (a structural zero, such as the offer condition at baseline in a
stepped-wedge design), so they are neither suppressed nor used for secondary suppression.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.display import suppression_view
from lerendtransformeren.report.format import check_lang
from lerendtransformeren.vocabulary import UNIT_NOUNS

__all__ = [
    "SUPPRESSED",
    "Suppression",
    "suppress_small_cells",
    "assert_no_identifiers",
    "pseudonymise",
    "suppression_footnote",
]

#: Marker of a suppressed cell (the sign Statistics Netherlands uses for "confidential").
SUPPRESSED = "\u00d7"

_NOUNS = ("organisation", "team")  # units whose cells a footnote can name


def suppression_footnote(k: int, lang: str, marker: str = SUPPRESSED) -> str:
    """The footnote that explains suppressed cells.

    Examples
    --------
    >>> suppression_footnote(5, "en")
    '× = not shown: based on fewer than 5 respondents, or hidden so that a total cannot reveal such a cell.'
    """
    check_lang(lang)
    if lang == "nl":
        return (
            f"{marker} = niet getoond: gebaseerd op minder dan {k} respondenten, of verborgen "
            "zodat een totaal zo'n cel niet kan onthullen."
        )
    return (
        f"{marker} = not shown: based on fewer than {k} respondents, or hidden so that a "
        "total cannot reveal such a cell."
    )


@dataclass(frozen=True)
class Suppression:
    """Result of :func:`suppress_small_cells`.

    Attributes
    ----------
    table : pandas.DataFrame
        The table with every suppressed cell replaced by the marker (object dtype).
    mask : pandas.DataFrame
        Boolean, same shape and labels as ``table``: True where a cell is suppressed.
    cells : list of (row, column)
        Suppressed cells of the *counts* frame, primary ones first, then secondary ones
        in the order they were added.
    primary : list of (row, column)
        The cells suppressed because they rest on fewer than ``k`` respondents.
    k : int
        The threshold used.
    footnote_nl, footnote_en : str
        The footnote to print under the table; empty when nothing was suppressed.
    """

    table: pd.DataFrame
    mask: pd.DataFrame
    cells: list[tuple[Hashable, Hashable]]
    primary: list[tuple[Hashable, Hashable]]
    k: int
    footnote_nl: str
    footnote_en: str

    def footnote(self, lang: str) -> str:
        """The footnote in ``lang`` (``"nl"`` or ``"en"``)."""
        return self.footnote_nl if check_lang(lang) == "nl" else self.footnote_en

    def __repr__(self) -> str:
        return suppression_view(self).text()

    def _repr_html_(self) -> str:
        return suppression_view(self).html()


def _groups(mask_shape: tuple[int, int], margins: str | None) -> list[list[tuple[int, int]]]:
    n_rows, n_cols = mask_shape
    groups: list[list[tuple[int, int]]] = []
    if margins in ("rows", "both"):
        groups += [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    if margins in ("columns", "both"):
        groups += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    return groups


def _outer(label: Hashable) -> Hashable:
    return label[0] if isinstance(label, tuple) else label


def suppress_small_cells(
    table: pd.DataFrame,
    counts: pd.DataFrame,
    k: int = 5,
    *,
    margins: str | None = None,
    marker: str = SUPPRESSED,
) -> Suppression:
    """Suppress cells resting on fewer than ``k`` respondents, with secondary suppression.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to show (numbers or text).
    counts : pandas.DataFrame
        Number of respondents behind each cell. Either the same labels as ``table``, or
        coarser: a row (column) of ``counts`` then covers every row (column) of ``table``
        whose label, or whose first level of a MultiIndex, equals it. So one count per
        condition can cover the n, mean and SD columns of that condition.
    k : int, default 5
        Minimum number of respondents a shown cell must rest on.
    margins : {None, "rows", "columns", "both"}, default None
        Which sums of ``counts`` are shown or known elsewhere: ``"rows"`` means the cells
        of each row add up to a published row total (a total column, or the n per wave
        of the sample table); ``"columns"`` the same for columns. A total inside the
        table is simply one more cell of its row or column. With margins, secondary
        suppression makes sure no row or column has exactly one suppressed cell.
    marker : str, default "×"
        What a suppressed cell shows.

    Returns
    -------
    Suppression
        The suppressed table, its mask, the suppressed cells and the footnote nl/en.

    Raises
    ------
    SpecificationError
        If ``k < 1``, ``margins`` is unknown, or ``counts`` does not cover ``table``.

    Notes
    -----
    Secondary suppression picks, in a row or column with exactly one suppressed cell, the
    unsuppressed non-zero cell with the smallest count (ties: first in table order), and
    repeats over all rows and columns until nothing changes. This is the usual
    hypercube-free heuristic; it guarantees that no single suppressed cell can be
    recovered by subtracting shown cells from a shown total, not that intervals for
    suppressed cells are wide.

    Examples
    --------
    A cross table of families by SES (rows) and wave (columns) whose row totals are
    shown: the 3 must go, and so must the 6 beside it, or 12 - 6 - 3 would give it away.

    >>> counts = pd.DataFrame({"T0": [40, 3], "T1": [35, 6], "total": [75, 9]},
    ...                       index=["middle", "low"])
    >>> s = suppress_small_cells(counts, counts, k=5, margins="rows")
    >>> s.table
             T0  T1 total
    middle   40  35    75
    low       ×   ×     9
    >>> s.cells
    [('low', 'T0'), ('low', 'T1')]
    """
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise SpecificationError(f"k={k!r} must be a positive integer (default 5).")
    if margins not in (None, "rows", "columns", "both"):
        raise SpecificationError(
            f"margins={margins!r} is not one of None, 'rows', 'columns', 'both'."
        )
    values = counts.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any():
        raise SpecificationError("counts must be non-negative numbers without missing values.")

    small = (values > 0) & (values < k)
    mask = small.copy()
    primary = [tuple(ix) for ix in np.argwhere(small)]
    added: list[tuple[int, int]] = []
    groups = _groups(values.shape, margins)
    changed = True
    while changed:
        changed = False
        for group in groups:
            hidden = [cell for cell in group if mask[cell]]
            if len(hidden) != 1:
                continue
            candidates = [cell for cell in group if not mask[cell] and values[cell] > 0]
            if not candidates:
                continue
            pick = min(candidates, key=lambda cell: values[cell])
            mask[pick] = True
            added.append(pick)
            changed = True

    row_pos = {label: i for i, label in enumerate(counts.index)}
    col_pos = {label: j for j, label in enumerate(counts.columns)}

    def locate(label: Hashable, positions: dict, axis: str) -> int:
        for key in (label, _outer(label)):
            if key in positions:
                return positions[key]
        raise SpecificationError(
            f"counts has no {axis} for the table {axis} {label!r}; give counts with the "
            f"same {axis} labels as the table (or its first index level)."
        )

    rows = [locate(label, row_pos, "row") for label in table.index]
    cols = [locate(label, col_pos, "column") for label in table.columns]
    table_mask = pd.DataFrame(mask[np.ix_(rows, cols)], index=table.index, columns=table.columns)
    shown = table.astype(object).mask(table_mask, marker)

    def label_of(cell: tuple[int, int]) -> tuple[Hashable, Hashable]:
        return (counts.index[cell[0]], counts.columns[cell[1]])

    cells = [label_of(c) for c in primary] + [label_of(c) for c in added]
    any_hidden = bool(mask.any())
    return Suppression(
        table=shown,
        mask=table_mask,
        cells=cells,
        primary=[label_of(c) for c in primary],
        k=int(k),
        footnote_nl=suppression_footnote(k, "nl", marker) if any_hidden else "",
        footnote_en=suppression_footnote(k, "en", marker) if any_hidden else "",
    )


# --- identifiers -------------------------------------------------------------------------

_ID_NAMES = {
    "organisation", "organization", "organisatie", "org",
    "team", "professional", "prof", "family", "gezin", "youth", "jongere",
    "respondent", "client", "cliënt", "person", "persoon", "child", "kind",
    "parent", "ouder", "bsn", "email", "e-mail",
}  # fmt: skip
_ID_PATTERN = re.compile(r"(^|[_\s.-])(id|ids|nr|nummer|number)($|[_\s.-])", re.IGNORECASE)
_PSEUDONYM = re.compile(r"^(organisatie|organisation|team) [A-Z]+$")


def _looks_like_id(name: Hashable) -> bool:
    if name is None:
        return False
    text = str(name).strip().lower()
    return text in _ID_NAMES or bool(_ID_PATTERN.search(text))


def _is_pseudonymised(values: Iterable[object]) -> bool:
    values = [v for v in values if not (isinstance(v, float) and np.isnan(v))]
    return bool(values) and all(isinstance(v, str) and _PSEUDONYM.match(v) for v in values)


def assert_no_identifiers(frame: pd.DataFrame, identifiers: Iterable[str] = ()) -> None:
    """Raise if a table would show identifiers of people, families, teams or organisations.

    A column or index level is taken for an identifier when its name is an id column of
    the data contract (``organisation``, ``team``, ``professional``, ``family``, ...) or
    looks like one (``client_id``, ``id``, ``bsn``, ``respondent_nr``). Organisation and
    team columns pass when every value is a neutral label from :func:`pseudonymise`.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table about to be shown.
    identifiers : iterable of str, optional
        Identifier values of the study (for example every value of the id columns of the
        data). The check fails if any cell, column label or index label equals one.

    Raises
    ------
    DataError
        Naming the offending column or value and how to fix it.

    Examples
    --------
    >>> ok = pd.DataFrame({"n_families": [12], "mean": [3.1]})
    >>> assert_no_identifiers(ok)
    >>> assert_no_identifiers(pd.DataFrame({"family": ["O01-T1-P01-F1"], "mean": [3.1]}))
    Traceback (most recent call last):
    ...
    lerendtransformeren.exceptions.DataError: The table would show identifiers in column 'family'...
    >>> assert_no_identifiers(pd.DataFrame({"organisation": ["organisatie A"], "mean": [3.1]}))
    """
    named: list[tuple[Hashable, pd.Index]] = [
        (col, pd.Index(frame[col])) for col in frame.columns if _looks_like_id(col)
    ]
    for level, name in enumerate(frame.index.names):
        if _looks_like_id(name):
            named.append((name, frame.index.get_level_values(level)))
    for name, values in named:
        if not _is_pseudonymised(values):
            raise DataError(
                f"The table would show identifiers in column {name!r} "
                f"(for example {values[0]!r}). Reports never show ids of persons, families "
                "or professionals; aggregate them away, and show organisations or teams by "
                "a neutral label from report.pseudonymise()."
            )
    forbidden = {str(v) for v in identifiers}
    if not forbidden:
        return
    labels = [*frame.columns, *frame.index]
    flat = [
        part
        for label in labels
        for part in (label if isinstance(label, tuple) else (label,))
    ]
    found = [v for v in flat if str(v) in forbidden]
    found += [v for v in frame.astype(str).to_numpy().ravel() if v in forbidden]
    if found:
        raise DataError(
            f"The table would show the identifier {str(found[0])!r}. Remove it, or show the "
            "unit by a neutral label from report.pseudonymise()."
        )


def _letters(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet column names)."""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def pseudonymise(
    values: pd.Series | Sequence[Hashable],
    lang: str = "nl",
    *,
    unit: str = "organisation",
) -> pd.Series:
    """Replace unit ids by neutral labels ("organisatie A", "organisatie B", ...).

    The mapping is deterministic: distinct values are sorted and lettered in that order
    (A..Z, AA, AB, ...), so the same set of ids gives the same labels in every table and
    figure of a report. Missing values stay missing.

    Parameters
    ----------
    values : pandas.Series or sequence
        The ids (for example the ``organisation`` column).
    lang : {"nl", "en"}, default "nl"
    unit : {"organisation", "team"}, default "organisation"
        The noun of the label.

    Returns
    -------
    pandas.Series
        Labels, aligned with ``values``.

    Examples
    --------
    >>> pseudonymise(pd.Series(["O07", "O02", "O07", "O11"])).tolist()
    ['organisatie B', 'organisatie A', 'organisatie B', 'organisatie C']
    >>> pseudonymise(["O02-T1", "O02-T2"], "en", unit="team").tolist()
    ['team A', 'team B']
    """
    check_lang(lang)
    if unit not in _NOUNS:
        raise SpecificationError(f"unit={unit!r} must be one of {sorted(_NOUNS)}.")
    noun = UNIT_NOUNS[unit].pick(lang)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    distinct = sorted(series.dropna().unique(), key=str)
    mapping = {value: f"{noun} {_letters(i)}" for i, value in enumerate(distinct)}
    return series.map(mapping)
