"""Write tables as .csv (Dutch or international), .xlsx or SPSS .sav, safely.

Text that a spreadsheet would run as a formula (cells starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) is never written as a formula: in csv it gets an
apostrophe in front (the OWASP advice against CSV injection), in xlsx it is written as a
text cell with Excel's quote prefix (the apostrophe Excel itself shows), so the value stays
exactly as it was. Text that is a plain number (``-0.5``) and numeric columns are left
alone. :func:`~lerendtransformeren.io.read_table` removes the csv apostrophe again, with a
note, so a written table reads back as it was.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
from openpyxl.cell import WriteOnlyCell

from lerendtransformeren.exceptions import PYTHON, DataError, OptionNames
from lerendtransformeren.io._util import (
    EXCEL_CELL_LIMIT,
    MISSING_MARKERS,
    NUMBER_TEXT,
    columns,
    count,
    quoted,
)

#: File extensions ``write_table`` writes.
WRITE_EXTENSIONS: tuple[str, ...] = (".csv", ".xlsx", ".sav")
_RISKY = re.compile(r"[=+\-@\t\r]")
_EXCEL_ROWS, _EXCEL_COLUMNS = 1_048_576, 16_384


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    *,
    dutch: bool = True,
    value_labels: dict[str, dict] | None = None,
    codebook: pd.DataFrame | None = None,
    options: OptionNames = PYTHON,
) -> tuple[str, ...]:
    r"""Write a table to .csv, .xlsx or .sav (by the extension of ``path``).

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its index is not written.
    path : str or pathlib.Path
        ``.csv``, ``.xlsx`` or ``.sav``.
    dutch : bool
        csv only: ``True`` writes ``;`` between fields and decimal commas (Dutch Excel),
        ``False`` writes ``,`` and decimal points. Both in UTF-8 with a byte-order mark,
        so that Excel reads accented letters correctly.
    value_labels : dict, optional
        .sav only: ``{column: {code: label}}``, added to (and overriding) the labels from
        ``codebook``.
    codebook : pandas.DataFrame, optional
        .sav only: a codebook in the schema of ``docs/architecture.md``; ``label_nl``
        becomes the variable label, ``values`` the value labels and ``missing_codes`` the
        user-missing codes.
    options : OptionNames
        How messages name options (see :class:`~lerendtransformeren.exceptions.OptionNames`).

    Returns
    -------
    tuple of str
        Notes on what was escaped or converted, in plain English.

    Raises
    ------
    DataError
        The table does not fit the format (too many rows or columns for Excel, a text
        longer than an Excel cell, column names SPSS does not accept).
    ValueError
        An unsupported extension, or an option that does not fit the format.

    Notes
    -----
    Categorical columns are written as their labels (csv, xlsx) or as codes with value
    labels (.sav: the codes of ``codebook``/``value_labels`` where they name the labels,
    else 1, 2, ... in category order). Reading a csv back gives the same table, except that
    text columns that hold only numbers are read as numbers (unless they are id columns)
    and text equal to a missing marker (``NA``) is read as missing; the notes warn.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from lerendtransformeren.io import read_table
    >>> df = pd.DataFrame({"family": ["F1", "F2"], "score": [-0.5, 2.25], "note": ["=1+1", "ok"]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "out.csv"
    ...     notes = write_table(df, path)
    ...     text = path.read_text(encoding="utf-8-sig")
    ...     back = read_table(path).data
    >>> print(text)
    family;score;note
    F1;-0,5;'=1+1
    F2;2,25;ok
    <BLANKLINE>
    >>> notes
    ("column note: 1 text value that a spreadsheet would run as a formula written with an apostrophe in front (e.g. '=1+1')",)
    >>> back.equals(df)
    True
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in WRITE_EXTENSIONS:
        raise ValueError(
            f"{target}: write_table writes {', '.join(WRITE_EXTENSIONS)}; not {suffix or 'a file without extension'!r}."
        )
    if suffix != ".sav" and (value_labels is not None or codebook is not None):
        raise ValueError(
            f"{options.of('value_labels')} and {options.of('codebook')} apply to .sav files only."
        )
    if df.columns.has_duplicates or not all(isinstance(c, str) and c for c in df.columns):
        raise DataError(
            f"{target}: column names must be distinct, non-empty text; they are {list(df.columns)!r}.\n"
            "Fix: rename the columns before writing."
        )
    if suffix == ".csv":
        return _write_csv(df, target, dutch)
    if suffix == ".xlsx":
        return _write_xlsx(df, target)
    return _write_sav(df, target, value_labels or {}, codebook)


def _risky(value) -> bool:
    return isinstance(value, str) and bool(_RISKY.match(value)) and not NUMBER_TEXT.fullmatch(value)


def _text_columns(df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if not pd.api.types.is_numeric_dtype(df[c])
        and not pd.api.types.is_datetime64_any_dtype(df[c])
        and not pd.api.types.is_bool_dtype(df[c])
    ]


def _marker_notes(df: pd.DataFrame, text_cols: list[str]) -> list[str]:
    notes = []
    markers = set(MISSING_MARKERS) - {""}
    for c in text_cols:
        values = df[c].astype(object)
        hit = values.map(lambda v: isinstance(v, str) and v.strip() in markers)
        if hit.any():
            notes.append(
                f"column {c}: {count(int(hit.sum()), 'text value')} such as "
                f"{values[hit].iloc[0]!r} will read back as missing (a missing marker)"
            )
    return notes


def _write_csv(df: pd.DataFrame, path: Path, dutch: bool) -> tuple[str, ...]:
    out = df.copy()
    notes = []
    text_cols = _text_columns(df)
    for c in text_cols:
        values = out[c].astype(object)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        risky = [i for i, u in enumerate(uniques) if _risky(u)]
        if risky:
            safe = np.array([("'" + u) if i in set(risky) else u for i, u in enumerate(uniques)] + [np.nan], dtype=object)
            out[c] = safe[codes]
            n = int(np.isin(codes, risky).sum())
            notes.append(
                f"column {c}: {count(n, 'text value')} that a spreadsheet would run as a formula "
                f"written with an apostrophe in front (e.g. {uniques[risky[0]]!r})"
            )
    notes += _marker_notes(df, text_cols)
    out.to_csv(
        path,
        sep=";" if dutch else ",",
        decimal="," if dutch else ".",
        index=False,
        encoding="utf-8-sig",
        lineterminator="\n",
        date_format="%Y-%m-%d %H:%M:%S",
    )
    return tuple(notes)


def _cell_value(value):
    """A value as openpyxl writes it: Python scalars, None for missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _write_xlsx(df: pd.DataFrame, path: Path) -> tuple[str, ...]:
    n_rows, n_cols = df.shape
    if n_rows + 1 > _EXCEL_ROWS or n_cols > _EXCEL_COLUMNS:
        raise DataError(
            f"{path}: {n_rows} rows x {n_cols} columns do not fit on an Excel sheet "
            f"({_EXCEL_ROWS - 1} data rows x {_EXCEL_COLUMNS} columns).\n"
            "Fix: write a .csv or .sav file instead, or split the table."
        )
    text_cols = set(_text_columns(df))
    for c in df.columns:
        if c in text_cols:
            lengths = df[c].map(lambda v: len(v) if isinstance(v, str) else 0).to_numpy()
            if len(lengths) and lengths.max() > EXCEL_CELL_LIMIT:
                raise DataError(
                    f"{path}: column {c} holds text longer than an Excel cell holds "
                    f"({EXCEL_CELL_LIMIT} characters), first in data row "
                    f"{int(np.argmax(lengths > EXCEL_CELL_LIMIT)) + 1}.\n"
                    "Fix: write a .csv or .sav file instead."
                )
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    sheet.append(list(df.columns))
    frame = df.astype({c: object for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)})
    guarded = {}
    for row in frame.itertuples(index=False, name=None):
        cells = []
        for c, value in zip(df.columns, row):
            value = _cell_value(value)
            if c in text_cols and isinstance(value, str) and _risky(value):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"
                cell.quotePrefix = True
                guarded[c] = guarded.get(c, 0) + 1
                value = cell
            cells.append(value)
        sheet.append(cells)
    book.save(path)
    notes = [
        f"column {c}: {count(n, 'text value')} that a spreadsheet would run as a formula "
        "written as text cells with Excel's quote prefix (never as formulas)"
        for c, n in guarded.items()
    ]
    return tuple(notes + _marker_notes(df, sorted(text_cols, key=list(df.columns).index)))


def _codebook_labels(codebook: pd.DataFrame | None, df: pd.DataFrame):
    """Variable labels, value labels and user-missing codes from a codebook."""
    labels, values, missing = {}, {}, {}
    if codebook is None:
        return labels, values, missing
    for row in codebook.astype(object).where(codebook.notna(), "").to_dict("records"):
        name = str(row.get("variable", "")).strip()
        if name not in df.columns:
            continue
        if str(row.get("label_nl", "")).strip():
            labels[name] = str(row["label_nl"]).strip()
        pairs = [p.split("=", 1) for p in str(row.get("values", "")).split(";") if "=" in p]
        if pairs:
            values[name] = {_code(k): v.strip() for k, v in pairs}
        spans = []
        for part in str(row.get("missing_codes", "")).split(";"):
            part = part.strip()
            if ".." in part:
                lo, hi = part.split("..", 1)
                spans.append({"lo": _code(lo), "hi": _code(hi)})
            elif part:
                spans.append(_code(part))
        if spans:
            missing[name] = spans
    return labels, values, missing


def _code(text: str):
    text = text.strip()
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _write_sav(df: pd.DataFrame, path: Path, value_labels: dict, codebook) -> tuple[str, ...]:
    labels, values, missing = _codebook_labels(codebook, df)
    values.update(value_labels)
    out = df.copy()
    notes = []
    coded = []
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            categories = list(df[c].cat.categories)
            known = {str(label): code for code, label in values.get(c, {}).items()}
            if not all(str(cat) in known for cat in categories):
                known = {str(cat): k + 1 for k, cat in enumerate(categories)}
                values[c] = {k + 1: str(cat) for k, cat in enumerate(categories)}
                coded.append(c)
            out[c] = df[c].astype(object).map(lambda v, m=known: np.nan if pd.isna(v) else m[str(v)]).astype("float64")
        elif not pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_datetime64_any_dtype(df[c]):
            out[c] = df[c].astype(object).where(df[c].notna(), "")
    if coded:
        notes.append(f"categorical {columns(coded)} written as codes 1, 2, ... with value labels")
    try:
        pyreadstat.write_sav(
            out,
            str(path),
            column_labels={c: labels.get(c, "") for c in out.columns} if labels else None,
            variable_value_labels=values or None,
            missing_ranges=missing or None,
        )
    except Exception as err:  # pyreadstat raises plain exceptions for names SPSS refuses
        raise DataError(
            f"{path}: cannot be written as an SPSS file ({type(err).__name__}: {err}).\n"
            "Fix: SPSS names start with a letter and hold letters, digits and '_' only "
            f"(at most 64); rename such columns ({quoted([c for c in df.columns if not re.fullmatch(r'[A-Za-z@#$][A-Za-z0-9_.@#$]{0,63}', c)])})."
        ) from None
    return tuple(notes)
