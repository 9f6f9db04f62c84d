"""The APA table type of the report layer: a :class:`Table` of numbers and its :class:`Column` formats.

A table keeps the numbers (``frame``) apart from how they are shown (``columns``: kind,
digits, labels in both languages); the renderers in :mod:`.render` write it to HTML,
Word and Markdown. The table builders live in :mod:`.tables`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import Label
from lerendtransformeren.report.display import table_view
from lerendtransformeren.report.format import (
    MISSING,
    check_lang,
    fmt_bounded,
    fmt_ci,
    fmt_df,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
    is_whole_df,
)
from lerendtransformeren.report.suppress import SUPPRESSED, assert_no_identifiers

__all__ = ["Column", "Table"]

_KINDS = ("text", "int", "num", "df", "bounded", "pct", "p", "ci", "bounded_ci", "pct_ci")


@dataclass(frozen=True)
class Column:
    """How one column of a :class:`Table` is shown.

    Parameters
    ----------
    source : hashable
        Column of ``Table.frame`` holding the value (for intervals: the lower bound).
    header_nl, header_en : str
        Column header per language.
    kind : {"text", "int", "num", "df", "bounded", "pct", "p", "ci", "bounded_ci", "pct_ci"}, default "num"
        Format: counts with thousands separators, numbers with ``digits`` decimals,
        degrees of freedom (:func:`~.format.fmt_df`: no thousands separator; ``digits``
        decimals for every cell of the column when one of them is fractional, none when
        all are whole), statistics bounded by 1 without leading zero, percentages of a proportion, APA
        p values, or a confidence interval ``[low, high]`` from ``source`` and
        ``source_high`` (``bounded_ci``: without leading zeros; ``pct_ci``: of proportions,
        as percentages).
    digits : int, optional
        Decimals; default 2, and 1 for kind ``"df"`` (the decimals of fractional df).
    source_high : hashable, optional
        Column with the upper bound; required for the interval kinds.
    spanner_nl, spanner_en : str, default ""
        Header spanning adjacent columns with the same spanner (APA column spanner).
    """

    source: Hashable
    header_nl: str
    header_en: str
    kind: str = "num"
    digits: int = None  # type: ignore[assignment]  # set in __post_init__: 1 for df, else 2
    source_high: Hashable | None = None
    spanner_nl: str = ""
    spanner_en: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise SpecificationError(f"Column kind {self.kind!r} is not one of {_KINDS}.")
        if self.digits is None:
            object.__setattr__(self, "digits", 1 if self.kind == "df" else 2)
        if self.kind.endswith("ci") and self.source_high is None:
            raise SpecificationError(
                f"Column {self.source!r} of kind {self.kind!r} needs source_high."
            )

    def header(self, lang: str) -> str:
        """The header in ``lang``."""
        return self.header_nl if check_lang(lang) == "nl" else self.header_en

    def spanner(self, lang: str) -> str:
        """The spanner header in ``lang`` (empty if none)."""
        return self.spanner_nl if check_lang(lang) == "nl" else self.spanner_en

    def format(self, value: object, high: object, lang: str, *, fractional: bool | None = None) -> str:
        """Format one cell (``high`` is used by the interval kinds only).

        ``fractional`` is for kind ``"df"``: show decimals (True), not (False), or as the
        value needs (None, see :func:`~.format.fmt_df`).
        """
        if self.kind == "text":
            return MISSING if pd.isna(value) else str(value)
        if self.kind == "int":
            return fmt_int(value, lang)
        if self.kind == "num":
            return fmt_num(value, self.digits, lang)
        if self.kind == "df":
            return fmt_df(value, lang, self.digits, fractional=fractional)
        if self.kind == "bounded":
            return fmt_bounded(value, self.digits, lang)
        if self.kind == "pct":
            return fmt_pct(value, self.digits, lang)
        if self.kind == "p":
            return fmt_p(value, lang)
        return fmt_ci(
            value, high, self.digits, lang, leading_zero=self.kind == "ci", percent=self.kind == "pct_ci"
        )


def _pick(pair: Label | tuple[str, str], lang: str) -> str:
    return Label.of(pair).pick(lang)


@dataclass(frozen=True)
class Table:
    """An APA table: numbers, how to show them, title and note in Dutch and English.

    Parameters
    ----------
    frame : pandas.DataFrame
        The numbers; the index holds the row labels (the stub), one or more levels.
    columns : tuple of Column
        The shown columns, in order.
    title_nl, title_en : str
        Title (APA: above the table, in italics, after "Tabel n"/"Table n").
    note_nl, note_en : str, default ""
        General note under the table (abbreviations, methods).
    stub_nl, stub_en : tuple of str, default ()
        Headers of the index levels (empty strings if omitted).
    labels : mapping, default {}
        Shown labels (:class:`~lerendtransformeren.lang.Label` or ``(nl, en)``) of index
        values and text cells; others are shown as ``str(value)``.
    suppressed : pandas.DataFrame, optional
        Boolean mask aligned with ``frame``: cells that show ``marker``. Their values in
        ``frame`` must be NaN.
    footnote_nl, footnote_en : str, default ""
        Suppression footnote (see :func:`~.suppress.suppress_small_cells`).
    marker : str, default "×"

    Raises
    ------
    SpecificationError
        If a column source is not in ``frame``.
    DataError
        If ``frame`` holds identifiers (see :func:`~.suppress.assert_no_identifiers`) or a
        suppressed cell still holds a number.
    """

    frame: pd.DataFrame
    columns: tuple[Column, ...]
    title_nl: str
    title_en: str
    note_nl: str = ""
    note_en: str = ""
    stub_nl: tuple[str, ...] = ()
    stub_en: tuple[str, ...] = ()
    labels: Mapping[Hashable, Label | tuple[str, str]] = field(default_factory=dict)
    suppressed: pd.DataFrame | None = None
    footnote_nl: str = ""
    footnote_en: str = ""
    marker: str = SUPPRESSED

    def __post_init__(self) -> None:
        for col in self.columns:
            for src in (col.source, col.source_high):
                if src is not None and src not in self.frame.columns:
                    raise SpecificationError(
                        f"Table column {src!r} is not in the frame; "
                        f"frame has {list(self.frame.columns)}."
                    )
        assert_no_identifiers(self.frame)
        if self.suppressed is not None:
            leaked = self.suppressed.to_numpy() & self.frame.notna().to_numpy()
            if leaked.any():
                raise DataError("A suppressed table cell still holds a number; set it to NaN.")

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.title_nl if check_lang(lang) == "nl" else self.title_en

    def __repr__(self) -> str:
        return table_view(self).text()

    def _repr_html_(self) -> str:
        return table_view(self).html()

    def note(self, lang: str) -> str:
        """The note in ``lang``, followed by the suppression footnote if any."""
        if check_lang(lang) == "nl":
            parts = (self.note_nl, self.footnote_nl)
        else:
            parts = (self.note_en, self.footnote_en)
        return " ".join(p for p in parts if p)

    def _label(self, value: Hashable, lang: str) -> str:
        if value in self.labels:
            return _pick(self.labels[value], lang)
        return MISSING if pd.isna(value) else str(value)

    def stub_headers(self, lang: str) -> list[str]:
        """Headers of the stub (index) columns."""
        stub = self.stub_nl if check_lang(lang) == "nl" else self.stub_en
        n = self.frame.index.nlevels
        return [stub[i] if i < len(stub) else "" for i in range(n)]

    def headers(self, lang: str) -> list[str]:
        """All column headers: the stub columns, then the shown columns."""
        return self.stub_headers(lang) + [c.header(lang) for c in self.columns]

    def spanners(self, lang: str) -> list[tuple[str, int]] | None:
        """The spanner row as (text, number of columns) runs, or None without spanners."""
        texts = [""] * self.frame.index.nlevels + [c.spanner(lang) for c in self.columns]
        if not any(texts):
            return None
        runs: list[tuple[str, int]] = []
        for i, text in enumerate(texts):
            if runs and text and text == runs[-1][0] and i >= self.frame.index.nlevels:
                runs[-1] = (text, runs[-1][1] + 1)
            else:
                runs.append((text, 1))
        return runs

    def headings(self) -> list[bool]:
        """Per row: whether it heads the rows below it (a group label with empty cells).

        The renderers set heading rows in italics and indent the stub of the other rows
        (APA); a plain table has none. :class:`~.modeltable.ModelTable` has one per section.
        """
        return [False] * len(self.frame)

    def rows(self, lang: str) -> list[list[str]]:
        """The body as text, row by row (stub first; repeated outer labels left blank)."""
        check_lang(lang)
        out: list[list[str]] = []
        previous: tuple = ()
        # degrees of freedom: one number of decimals per column (APA), as its values need
        fractional = {
            j: not all(is_whole_df(v) for v in self.frame[col.source])
            for j, col in enumerate(self.columns)
            if col.kind == "df"
        }
        for i, key in enumerate(self.frame.index):
            key = key if isinstance(key, tuple) else (key,)
            stub = []
            for level, value in enumerate(key):
                inner = level == len(key) - 1
                same = not inner and previous[: level + 1] == key[: level + 1]
                stub.append("" if same else self._label(value, lang))
            previous = key
            cells = []
            for j, col in enumerate(self.columns):
                sources = [col.source] + ([col.source_high] if col.source_high is not None else [])
                hidden = self.suppressed is not None and any(
                    bool(self.suppressed[src].iloc[i]) for src in sources
                )
                if hidden:
                    cells.append(self.marker)
                    continue
                value = self.frame[col.source].iloc[i]
                high = self.frame[col.source_high].iloc[i] if col.source_high is not None else None
                if col.kind == "text":
                    cells.append(self._label(value, lang))
                else:
                    cells.append(col.format(value, high, lang, fractional=fractional.get(j)))
            out.append(stub + cells)
        return out

    def formatted(self, lang: str) -> pd.DataFrame:
        """The whole table as text, with spanners as the first level of a column MultiIndex.

        Examples
        --------
        >>> from lerendtransformeren.report.tables import fixed_effects_table
        >>> t = fixed_effects_table(pd.DataFrame(
        ...     {"estimate": [2.5, 0.18], "se": [0.1, 0.03], "df": [14.2, 12.4],
        ...      "t": [25.0, 5.1], "p": [1e-12, 0.00021], "ci_low": [2.29, 0.11],
        ...      "ci_high": [2.71, 0.25]}, index=["Intercept", "offer"]))
        >>> t.formatted("nl").iloc[1].tolist()
        ['Ondersteuningsaanbod', '0,18', '0,03', '12,4', '5,10', '< ,001', '[0,11; 0,25]']
        """
        headers = self.headers(lang)
        spanners = self.spanners(lang)
        if spanners is None:
            columns = pd.Index(headers)
        else:
            tops = [text for text, span in spanners for _ in range(span)]
            columns = pd.MultiIndex.from_arrays([tops, headers])
        return pd.DataFrame(self.rows(lang), columns=columns)


# --- builders ----------------------------------------------------------------------------
