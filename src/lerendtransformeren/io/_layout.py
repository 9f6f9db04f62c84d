"""Where the table is: the header row, title rows above it, empty rows and columns."""

from __future__ import annotations

import math
from collections import Counter
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from lerendtransformeren.io._util import (
    NUMBER_TEXT,
    Context,
    Raw,
    count,
    is_blank,
    listing,
)

HEADER_SCAN = 30  # rows searched for the header


def find_header(rows: list[list]) -> int | None:
    """Index of the first row that looks like a header, or ``None``.

    The header is the first row that fills at least half as many cells as the fullest of
    the first ``HEADER_SCAN`` rows (and at least two, unless the table has one column),
    provided most of its filled cells are text that is not a
    number or a date (else the table has no recognisable header and ``None`` is returned).
    Title rows above a table fill one or a few cells (a merged title cell keeps its text in
    the first cell only), so they are passed over.

    >>> find_header([["Rapportage 2023", None, None], [None] * 3, ["id", "score", "groep"], [1, 2.5, "a"]])
    2
    >>> find_header([["id", "x"], ["1", "2"]])
    0
    >>> find_header([["1", "2"], ["3", "4"]]) is None
    True
    """
    sample = rows[:HEADER_SCAN]
    filled = [[c for c in row if not is_blank(c)] for row in sample]
    widest = max((len(cells) for cells in filled), default=0)
    if widest == 0:
        return None
    need = 1 if widest == 1 else max(2, math.ceil(widest / 2))
    for i, cells in enumerate(filled):
        if len(cells) >= need:  # the first wide row: the header, unless it holds data
            texts = sum(1 for c in cells if _is_name(c))
            return i if 2 * texts > len(cells) else None
    return None


def _is_name(cell) -> bool:
    if isinstance(cell, (int, float, datetime, date, time, bool)):
        return False
    return not NUMBER_TEXT.fullmatch(str(cell).strip())


def header_note(rows: list[list], index: int, unit: str, first: int, ctx: Context) -> None:
    """Note the rows above a header found below the first row."""
    if index == 0:
        return
    titles = [next(str(c).strip() for c in row if not is_blank(c)) for row in rows[:index] if not all(is_blank(c) for c in row)]
    span = f"{unit} {first}" if index == 1 else f"{unit}s {first}-{first + index - 1}"
    what = f"read as title: {listing([repr(t[:40]) for t in titles], 3)}" if titles else "empty"
    ctx.notes.append(
        f"header on {unit} {first + index} ({span} {what}); set {ctx.options.of('header_row')} "
        "to choose another row"
    )


def blank_rows(raw: Raw, blanks: list[np.ndarray]) -> np.ndarray:
    """Rows whose every cell is blank."""
    if not blanks:
        return np.zeros(len(raw.at), dtype=bool)
    return np.logical_and.reduce(blanks)


def drop_empty_rows(raw: Raw, empty: np.ndarray, ctx: Context) -> int:
    """Number of data rows to keep: fully empty rows at the end go, with a note."""
    n = len(empty)
    keep = n
    while keep and empty[keep - 1]:
        keep -= 1
    unit = raw.unit
    places = np.concatenate([raw.at[keep:], raw.trailing])
    if len(places):
        last = int(places[-1])
        span = f"{unit} {last}" if len(places) == 1 else f"{unit}s {int(places[0])}-{last}"
        ctx.notes.append(f"{count(len(places), 'fully empty ' + unit)} at the end dropped ({span})")
    if not keep:
        raise ctx.fail(
            "has a header but no data rows.",
            "export the data again, with the rows"
            + (f", or set {ctx.options.of('header_row')} if the header is not on "
               f"{unit} {raw.header_at}." if raw.header_at > 1 else "."),
        )
    middle = np.flatnonzero(empty[:keep])
    if len(middle):
        ctx.notes.append(
            f"{count(len(middle), 'fully empty ' + unit)} between the data kept as rows with "
            f"all values missing ({raw.where(middle)})"
        )
    return keep


def named_columns(raw: Raw, blanks: list[np.ndarray], ctx: Context) -> list[tuple[int, str]]:
    """(position, name) of the columns to keep; unnamed empty columns go with a note."""
    header = ["" if is_blank(h) else str(h) for h in raw.header]
    names = [h.strip() for h in header]
    unnamed = [j for j, h in enumerate(names) if not h]
    holding = [j for j in unnamed if not blanks[j].all()]
    if holding:
        one = len(holding) == 1
        merged = f" (merged header cells {listing(raw.merged)})" if raw.merged else ""
        raise ctx.fail(
            f"{listing([raw.column(j) for j in holding])} {'has' if one else 'have'} no name in "
            f"the header ({raw.unit} {raw.header_at}){merged} but {'holds' if one else 'hold'} data.",
            "type a column name in the header cell of "
            f"{'that column' if one else 'each of these columns'}"
            + (" (unmerge the header cells first)." if merged else "."),
        )
    if unnamed:
        ctx.notes.append(
            f"{count(len(unnamed), 'column')} without name and without data dropped "
            f"({listing([raw.column(j) for j in unnamed])}; empty columns left by Excel)"
        )
    keep = [j for j, h in enumerate(names) if h]
    counts = Counter(names[j] for j in keep)
    doubles = [h for h in counts if counts[h] > 1]
    if doubles:
        shown = "; ".join(
            f"{h!r} ({' and '.join(raw.column(j) for j in keep if names[j] == h)})"
            for h in doubles[:5]
        )
        raise ctx.fail(f"duplicate column names: {shown}.", "give every column its own name.")
    spaced = [(header[j], names[j]) for j in keep if header[j] != names[j]]
    if spaced:
        ctx.notes.append(
            f"{count(len(spaced), 'column name')} stripped of surrounding spaces "
            f"({listing([f'{a!r} -> {b!r}' for a, b in spaced])})"
        )
    return [(j, names[j]) for j in keep]


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 for None/NaN) and distinct values of one column, in order of appearance."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes, np.asarray(uniques, dtype=object)
