"""SPSS files (.sav, .zsav): user-missing codes, value labels, ids."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from lerendtransformeren.io._util import EMPTY, SYSTEM_MISSING, Context, code_text, columns, count, quoted

VALUE_LABELS = ("codes", "categorical")


def read_sav(path: Path, encoding: str | None, ctx: Context):
    """Data and metadata of an SPSS file, user-missing codes kept as values."""
    try:
        frame, meta = pyreadstat.read_sav(
            str(path), user_missing=True, dates_as_pandas_datetime=True, encoding=encoding
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as err:
        raise ctx.fail(
            f"cannot be read as an SPSS file ({err}).",
            "open it in SPSS or PSPP and save it again, or export it to .csv.",
        ) from None
    if frame.empty:
        raise ctx.fail(
            "has a header (variable definitions) but no data rows (cases).",
            "save the file again from SPSS with its cases.",
        )
    return frame, meta


def sav_missing(frame: pd.DataFrame, ranges: dict[str, list[dict]], ctx: Context):
    """Set SPSS user-missing codes and empty strings to missing, counting each."""
    frame = frame.copy()
    in_file: dict[str, Counter] = {}
    user: dict[str, Counter] = {}
    codes: dict[str, str] = {}
    for column in frame.columns:
        values = frame[column]
        found = Counter()
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            blank = values.isna() | (values.astype(str).str.strip() == "")
            if blank.any():
                found[EMPTY] = int(blank.sum())
                values = values.where(~blank, np.nan)
        elif values.isna().any():
            found[SYSTEM_MISSING] = int(values.isna().sum())
        in_file[column] = found
        user[column] = Counter()
        spans = ranges.get(column, [])
        if spans:
            mask = pd.Series(False, index=values.index)
            for span in spans:
                lo, hi = span["lo"], span["hi"]
                mask |= (values == lo) if lo == hi else values.between(lo, hi)
            found_codes = values[mask].value_counts().sort_index()
            user[column] = Counter({code_text(v): int(n) for v, n in found_codes.items()})
            values = values.where(~mask, np.nan)
            codes[column] = ";".join(
                code_text(s["lo"]) if s["lo"] == s["hi"] else f"{code_text(s['lo'])}..{code_text(s['hi'])}"
                for s in spans
            )
        # NaN differs from itself, so a column with missing values stays float
        if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
            values = values.astype("int64")
        frame[column] = values
    _note_missing(user, in_file, ctx)
    return frame, in_file, user, codes


def _note_missing(user: dict[str, Counter], in_file: dict[str, Counter], ctx: Context) -> None:
    n_user = sum(sum(c.values()) for c in user.values())
    if n_user:
        n_cols = sum(1 for c in user.values() if c)
        ctx.notes.append(
            f"{count(n_user, 'SPSS user-missing value')} in {count(n_cols, 'column')} set to "
            "missing (codes in codebook column missing_codes, counts in missing)"
        )
    n_blank = sum(c[EMPTY] for c in in_file.values())
    if n_blank:
        ctx.notes.append(f"{count(n_blank, 'empty text value')} set to missing")


def ids_as_text(frame: pd.DataFrame, id_columns, ctx: Context) -> pd.DataFrame:
    """Numeric id columns as text ('7', not 7.0), with a note."""
    changed = []
    for column in id_columns:
        if column in frame.columns and pd.api.types.is_numeric_dtype(frame[column]):
            values = frame[column]
            frame[column] = pd.Series(
                [np.nan if pd.isna(v) else code_text(v) for v in values], index=values.index
            )
            changed.append(column)
    if changed:
        ctx.notes.append(
            f"id {columns(changed)} stored as numbers in the SPSS file, read as text "
            "(7.0 as '7'): ids are compared as text"
        )
    return frame


def labelled(frame: pd.DataFrame, value_labels: dict[str, dict], ctx: Context) -> pd.DataFrame:
    """Columns with value labels as ordered categoricals of their labels (codes in order)."""
    done, unlabelled, doubled = [], {}, []
    for column, labels in value_labels.items():
        if column not in frame.columns or not labels:
            continue
        values = frame[column]
        codes = sorted(set(labels) | set(values.dropna().unique()), key=_order)
        plain = [labels.get(c, code_text(c)) for c in codes]
        names = _unique_names(plain, codes)
        if names != plain:
            doubled.append(column)
        missing = [code_text(c) for c in codes if c not in labels and (values == c).any()]
        if missing:
            unlabelled[column] = missing
        mapping = dict(zip(codes, names))
        frame[column] = pd.Categorical(
            values.map(mapping), categories=names, ordered=True
        )
        done.append(column)
    if done:
        ctx.notes.append(
            f"{columns(done)} with SPSS value labels read as ordered categories of the labels "
            "(in the order of their codes; codes in codebook column values)"
        )
    if doubled:
        ctx.notes.append(
            f"{columns(doubled)}: one label for several codes; categories named 'label (code)' "
            "to keep the codes apart"
        )
    for column, missing in unlabelled.items():
        ctx.notes.append(
            f"column {column}: codes without a value label kept as categories named by the "
            f"code ({quoted(missing)})"
        )
    return frame


def _order(code):
    return (0, float(code)) if isinstance(code, (int, float, np.number)) else (1, str(code))


def _unique_names(names: list[str], codes: list) -> list[str]:
    seen = Counter(names)
    return [f"{n} ({code_text(c)})" if seen[n] > 1 else n for n, c in zip(names, codes)]
