"""The id columns: which they are, present, of one kind; waves and goal codes."""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_numeric_dtype

from lerendtransformeren.exceptions import DataError
from lerendtransformeren.design._messages import (
    _KINDS,
    _N_UNITS_SHOWN,
    _N_VALUES_SHOWN,
    _WAVE_LABEL,
    _Messages,
    _blank,
    _names,
    _plural,
    _show,
    _values,
)

from lerendtransformeren.design._goals import GOALS


def _design(
    df: pd.DataFrame,
    respondent: str | None,
    levels: Sequence[str],
    wave: str | None,
    notes: list[str],
    msg: _Messages,
) -> tuple[str, list[str], frozenset[str], str | None]:
    """Resolve the id columns: (unit, levels above it, added kinds, wave column)."""
    present = [lv for lv in dict.fromkeys(levels) if lv in df.columns]
    absent = [lv for lv in levels if lv not in df.columns]
    if absent:
        notes.append(f"level(s) {_names(absent)} not in the data: skipped")
    columns = f"The columns are: {_names(df.columns)}."
    if respondent is None:
        found = [kind for kind in reversed(_KINDS) if kind in df.columns]
        if found:
            respondent = found[0]
            notes.append(
                f"respondent id column '{respondent}' inferred (the most specific of 'youth', "
                f"'family', 'professional' present); set {msg.of('respondent')} to choose another"
            )
        elif present:
            respondent = present[-1]
            notes.append(
                "no respondent id column ('youth', 'family' or 'professional'): the unit of "
                f"observation is '{respondent}', the lowest level present"
            )
        else:
            raise msg.error(
                "no id column found: none of the respondent ids 'youth', 'family', "
                f"'professional' and none of the levels {_names(levels)}. {columns}",
                f"name the id columns with {msg.of('respondent')} (the respondent id column) and "
                f"{msg.of('levels')} (the levels above it, top to bottom), e.g. "
                f"{msg.of('respondent', 'client')} and {msg.of('levels', ('organisation', 'team'))}.",
                rows=False,
            )
    elif respondent not in df.columns:
        raise msg.error(
            f"the respondent id column {respondent!r} is not in the data. {columns}",
            f"set {msg.of('respondent')} to the name of the respondent id column, or leave it out "
            "to infer it from the columns 'youth', 'family', 'professional'.",
            rows=False,
        )
    above = [lv for lv in present if lv != respondent]
    added: list[str] = []
    if respondent in _KINDS:
        general = _KINDS[: _KINDS.index(respondent)]
        added = [kind for kind in general if kind in df.columns and kind not in above]
        for kind in added:
            notes.append(
                f"'{kind}' is used as a level above '{respondent}' (each {respondent} with one "
                f"{kind})"
            )
        above += added
    if wave is None:
        wave_col = None
    elif wave in df.columns:
        wave_col = wave
    elif wave == "wave":
        wave_col = None
        notes.append(
            f"no column 'wave': checked as cross-sectional data (one row per {respondent}); "
            f"set {msg.of('wave')} to name the wave column"
        )
    else:
        raise msg.error(
            f"the wave column {wave!r} is not in the data. {columns}",
            f"set {msg.of('wave')} to the name of the wave column, or {msg.of('wave', None)} for "
            "data with one row per respondent.",
            rows=False,
        )
    if wave_col is not None and wave_col in [*above, respondent]:
        raise msg.error(
            f"column {wave_col!r} is given both as an id column and as the wave column.",
            f"give the wave column as {msg.of('wave')} only, and leave it out of "
            f"{msg.of('respondent')} and {msg.of('levels')}.",
            rows=False,
        )
    return respondent, above, frozenset(added), wave_col


def _check_missing_ids(df: pd.DataFrame, columns: list[str], msg: _Messages) -> None:
    parts = []
    for col in columns:
        positions = np.flatnonzero(_blank(df[col]).to_numpy())
        if len(positions):
            parts.append(f"'{col}' in {msg.rows(positions)}")
    if parts:
        raise msg.error(
            "ids are missing: " + "; ".join(parts) + ".",
            "every row needs all its ids: fill them in, or remove rows that are no "
            "observations (such as empty lines at the end of a spreadsheet).",
        )


def _check_id_types(df: pd.DataFrame, columns: list[str], msg: _Messages) -> None:
    """Ids of one column must be all text or all numbers: 1 and '1' would be two units."""
    for col in columns:
        series = df[col]
        if is_numeric_dtype(series) or infer_dtype(series, skipna=True) not in ("mixed", "mixed-integer"):
            continue
        types = series.map(lambda value: type(value).__name__)
        counts = types.value_counts(sort=False).sort_values(ascending=False, kind="stable")
        odd = types.ne(counts.index[0]).to_numpy()  # values not of the most common type
        kinds = ", ".join(f"{n} {t}" for t, n in counts.items())
        raise msg.error(
            f"id column '{col}' mixes kinds of values ({kinds}), e.g. {_values(series, odd)} in "
            f"{msg.rows(np.flatnonzero(odd))}; the same id stored as a number and as text "
            "(1 and '1') would count as two units.",
            f"store all ids of '{col}' as text (or all as numbers), e.g. by formatting the "
            "column as text in the spreadsheet before saving it.",
        )


def _waves(series: pd.Series, col: str, notes: list[str], msg: _Messages) -> pd.Series:
    """Waves as int64: whole numbers, or labels 'T0', 'T1', ... converted to 0, 1, ..."""
    labelled: dict[object, int] = {}
    if is_bool_dtype(series):
        numbers = pd.Series(np.nan, index=series.index)
    elif is_numeric_dtype(series):
        numbers = series.astype(float)
    else:
        label = re.compile(_WAVE_LABEL)
        distinct = series.unique()
        for value in distinct:  # one iteration per distinct value
            match = label.fullmatch(value.strip()) if isinstance(value, str) else None
            if match is not None:
                labelled[value] = int(match.group(1))
        if len(labelled) == len(distinct):
            by_wave = sorted(labelled.items(), key=lambda item: item[1])
            conversions = ", ".join(f"{value!r} -> {number}" for value, number in by_wave)
            notes.append(f"wave labels in '{col}' converted to numbers ({conversions})")
            return series.map(labelled).astype("int64")
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
    values = numbers.to_numpy()
    whole = np.isfinite(values) & (np.round(values) == values) & (np.abs(values) < 2.0**53)
    if not whole.all():
        bad = ~whole
        mixed = " Labels and numbers are mixed." if labelled else ""
        counted = series[bad].map(lambda v: isinstance(v, str) and bool(_COUNTED.fullmatch(v.strip())))
        if counted.any():
            mixed += (
                f" Labels such as {_show(series[bad][counted.to_numpy()].iloc[0])} count "
                "measurements from 1 and do not say whether the first is T0 or T1."
            )
        raise msg.error(
            f"wave column '{col}' has values that are neither whole numbers nor labels T0, "
            f"T1, ...: {_values(series, bad)} in {msg.rows(np.flatnonzero(bad))}.{mixed}",
            "code the waves as whole numbers 0, 1, 2, ... (T0 = 0) or as labels 'T0', 'T1', "
            "... throughout, one wave per measurement round.",
        )
    return pd.Series(values.astype("int64"), index=series.index, name=series.name)


def _check_goals(series: pd.Series, msg: _Messages) -> None:
    codes = series if is_numeric_dtype(series) else pd.to_numeric(series, errors="coerce")
    bad = (~codes.isin([g.code for g in GOALS])).to_numpy()
    if bad.any():
        raise msg.error(
            f"column 'goal' has codes that are not transformation goals 1..5: "
            f"{_values(series, bad)} in {msg.rows(np.flatnonzero(bad))}.",
            "code the goals 1 to 5 (design.goals_table() lists them); if 'goal' means "
            f"something else in these data, rename the column or leave it out of {msg.of('levels')}.",
        )


# ------------------------------------------------------------------ ids as text
_COUNTED = re.compile(r"(?i)(meting|wave|ronde|round|m|w)\s*\d+")
_ID_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")
ID_MODES = ("strict", "strip")


def _check_id_text(
    df: pd.DataFrame, columns: list[str], mode: str, notes: list[str], msg: _Messages
) -> dict[str, pd.Series]:
    """Ids stored as text: no surrounding spaces, no two spellings of one number.

    ``'F12 '`` next to ``'F12'`` would split a unit in two (and fake dropout); ``'0007'``
    next to ``'7'``, or ``'10.1'`` next to ``'10.10'``, are two units as text but one unit
    in every program that reads them as numbers. Returns the columns to replace (ids with
    their spaces stripped, ``mode="strip"``).
    """
    replaced, stripped_counts = {}, {}
    for col in columns:
        series = df[col]
        if is_numeric_dtype(series):
            continue
        codes, uniques = pd.factorize(series)
        texts = np.array([u if isinstance(u, str) else str(u) for u in uniques], dtype=object)
        spaced = np.flatnonzero([t != t.strip() for t in texts])
        if len(spaced) and mode == "strict":
            raise _spaces_error(series, col, codes, texts, spaced, msg)
        if len(spaced):
            stripped_counts[col] = int(np.isin(codes, spaced).sum())
            texts = np.array([t.strip() for t in texts], dtype=object)
            replaced[col] = pd.Series(texts[codes], index=series.index, name=col)
        _check_number_spellings(col, codes, texts, msg)
    if stripped_counts:
        parts = ", ".join(f"{n} cell{'s' * (n != 1)} in '{c}'" for c, n in stripped_counts.items())
        notes.append(f"spaces around ids removed ({msg.of('ids', 'strip')}): {parts}")
    return replaced


def _spaces_error(series, col, codes, texts, spaced, msg: _Messages) -> DataError:
    lines = []
    for i in spaced[:_N_VALUES_SHOWN // 2]:
        rows = np.flatnonzero(codes == i)
        lines.append(f"{texts[i]!r} in {msg.rows(rows)}")
    example = texts[spaced[0]]
    return msg.error(
        f"id column '{col}' has ids with spaces before or after them: {'; '.join(lines)}"
        + (f" and {len(spaced) - len(lines)} more" if len(spaced) > len(lines) else "")
        + f". {example!r} and {example.strip()!r} count as two {_plural(col)}: one would seem "
        "to drop out and the other to appear.",
        "remove the spaces in the file (in Excel: =TRIM(A2) in a new column, pasted back as "
        f"values), or set {msg.of('ids', 'strip')} to strip them (the number of changed cells is "
        "noted).",
    )


def _check_number_spellings(col: str, codes: np.ndarray, texts: np.ndarray, msg: _Messages) -> None:
    """Two ids that differ as text but are the same number ('0007' and '7', '10.1' and '10.10')."""
    groups: dict[Decimal, list[int]] = {}
    for i, text in enumerate(texts):
        text = text.strip()
        if _ID_NUMBER.fullmatch(text):
            groups.setdefault(Decimal(text.replace(",", ".")).normalize(), []).append(i)
    clashes = [members for members in groups.values() if len({texts[i].strip() for i in members}) > 1]
    if not clashes:
        return
    lines = []
    for members in clashes[:_N_UNITS_SHOWN]:
        parts = [f"{texts[i].strip()!r} in {msg.rows(np.flatnonzero(codes == i), 3)}" for i in members]
        lines.append(" and ".join(parts))
    if len(clashes) > _N_UNITS_SHOWN:
        lines.append(f"and {len(clashes) - _N_UNITS_SHOWN} more")
    zeros = all(texts[i].strip().isdigit() for i in clashes[0])
    what = "differ only in leading zeros" if zeros else "are different text but the same number"
    raise msg.error(
        f"id column '{col}' has ids that {what}:\n" + "\n".join(lines) + "\n"
        f"As text they are different {_plural(col)}; Excel, SPSS and programs that read the "
        "column as numbers make them one.",
        f"decide whether they are one {col}. If they are, write the id the same way in every "
        f"row; if not, give ids that are not the same number (e.g. with a letter: "
        f"'{col[:1].upper()}{texts[clashes[0][0]].strip()}'). If Excel dropped leading zeros, "
        "format the column as Text and type the ids again.",
    )
