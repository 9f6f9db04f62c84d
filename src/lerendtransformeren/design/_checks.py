"""Nesting, one row per respondent per wave, and the values the codebook allows."""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from lerendtransformeren.exceptions import DataError
from lerendtransformeren.design._messages import _CODED_TYPES, _Messages, _NUMERIC_TYPES, _N_ROWS_SHOWN, _N_UNITS_SHOWN, _WHOLE_TYPES, _count, _is_code, _names, _plural, _show, _values



def _keys(data: pd.DataFrame, ids: list[str], wave_col: str | None) -> pd.DataFrame:
    """The id columns as integer codes in the sort order of their values, and the wave.

    Grouping, nesting and duplicate checks run on these codes: one factorisation per id
    column instead of one per operation. Positions match the rows of ``data``.
    """
    keys = pd.DataFrame({col: pd.factorize(data[col], sort=True)[0] for col in ids})
    if wave_col is not None:
        keys[wave_col] = data[wave_col].to_numpy()
    return keys


def _check_nesting(
    data: pd.DataFrame, keys: pd.DataFrame, ids: list[str], added: frozenset[str], msg: _Messages
) -> None:
    """Each unit sits under exactly one unit of the level above it."""
    for depth, (parent, child) in enumerate(zip(ids, ids[1:])):
        n_parents = keys.groupby(child, sort=False)[parent].nunique()
        bad = n_parents.index[n_parents.to_numpy() > 1].to_numpy()
        if len(bad):
            below = ids[depth + 2] if depth + 2 < len(ids) else None
            raise _nesting_error(data, keys, parent, child, below, bad, parent in added, msg)


def _nesting_error(
    data: pd.DataFrame,
    keys: pd.DataFrame,
    parent: str,
    child: str,
    below: str | None,
    bad: np.ndarray,
    parent_added: bool,
    msg: _Messages,
) -> DataError:
    child_codes, parent_codes = keys[child].to_numpy(), keys[parent].to_numpy()
    lines = []
    for code in bad[:_N_UNITS_SHOWN]:
        in_unit = child_codes == code
        unit = data[child].iloc[np.argmax(in_unit)]
        under = np.unique(parent_codes[in_unit])  # codes sort like the values
        limit = _N_ROWS_SHOWN if len(under) == 2 else 1  # keep a line per unit readable
        names, where = [], []
        for parent_code in under:
            rows = np.flatnonzero(in_unit & (parent_codes == parent_code))
            names.append(_show(data[parent].iloc[rows[0]]))
            where.append(f"{names[-1]} in {msg.rows(rows, limit)}")
        lines.append(
            f"{child} {_show(unit)} appears under {len(under)} {_plural(parent)} "
            f"({', '.join(names)}): {'; '.join(where)}"
        )
    if len(bad) > _N_UNITS_SHOWN:
        lines.append(f"and {len(bad) - _N_UNITS_SHOWN} more {_plural(child)}")
    head = "" if len(bad) == 1 else f"{len(bad)} {_plural(child)} appear under more than one {parent}:\n"
    problem = head + "\n".join(lines) + f"\nEach {child} must be nested in exactly one {parent}."
    if msg.python:
        combine = f"df[{child!r}] = df[{parent!r}].astype(str) + '-' + df[{child!r}].astype(str)"
    else:
        combine = f"write the {parent} id, a '-' and the {child} id into the {child} column"
    if _ids_look_local(data, keys, parent, child, below, bad):
        fix = (
            f"the {child} ids look unique only within their {parent} (the same id under several "
            f"{_plural(parent)}"
            + (f", each with its own {_plural(below)}" if below else "")
            + f"). Make them unique, e.g. combine them with the {parent} id: {combine}"
        )
    else:
        fix = (
            f"correct the {parent!r} of the wrong rows; if these are different {_plural(child)} "
            f"that share an id, give them different ids, e.g. {combine}"
        )
    if parent_added:
        fix += (
            f". If a {child} can be with more than one {parent}, '{parent}' is no level of this "
            "design: drop that column before validating"
        )
    return msg.error(problem, fix + ".")


def _ids_look_local(
    data: pd.DataFrame, keys: pd.DataFrame, parent: str, child: str, below: str | None, bad: np.ndarray
) -> bool:
    """Whether every offending child id looks like an id that is unique only within its parent.

    Such ids do not contain the parent's id (a text 'O01-T1' under 'O02' is a wrong row,
    not a reused 'T1'), and the units below them never cross parents (the families of
    team 'T1' in 'O01' are not those of 'T1' in 'O02').
    """
    rows = keys[child].isin(bad).to_numpy()
    if not is_numeric_dtype(data[child]):
        pairs = data.loc[rows, [child, parent]].drop_duplicates()
        if any(str(p) in str(c) for c, p in zip(pairs[child], pairs[parent])):
            return False
    if below is None:
        return True
    return bool(keys.loc[rows].groupby(below, sort=False)[parent].nunique().max() <= 1)


def _check_unique(
    data: pd.DataFrame, keys: pd.DataFrame, unit: str, wave_col: str | None, msg: _Messages
) -> None:
    key = [unit] if wave_col is None else [unit, wave_col]
    dup = keys.duplicated(key, keep=False).to_numpy()
    if not dup.any():
        return
    repeated = keys.loc[dup, key].drop_duplicates()
    lines = []
    for first, *at in repeated.head(_N_UNITS_SHOWN).itertuples():
        rows = np.flatnonzero(dup & (keys[key] == at).all(axis=1).to_numpy())
        label = f"{unit} {_show(data[unit].iloc[first])}"
        if wave_col is not None:
            label += f" at T{at[1]}"
        lines.append(f"{label} in {msg.rows(rows)}")
    if len(repeated) > _N_UNITS_SHOWN:
        lines.append(f"and {len(repeated) - _N_UNITS_SHOWN} more")
    if wave_col is None:
        head = (
            f"{_count(len(repeated), unit, _plural(unit))} more than one row; data without a wave "
            f"column need one row per {unit}:"
        )
        fix = f"keep one row per {unit}; if the data are longitudinal, name the wave column with {msg.of('wave')}; "
    else:
        head = (
            f"{_count(len(repeated), f'{unit}-wave combination', f'{unit}-wave combinations')} "
            "more than one row; the data need "
            f"one row per {unit} per wave:"
        )
        fix = f"keep one row per {unit} per wave; "
    if data.loc[dup].duplicated(keep=False).all():
        lines.append("The repeated rows are exact copies.")
        fix += "remove the copies" + (" with df.drop_duplicates()." if msg.python else " (in Excel: Data > Remove Duplicates).")
    else:
        fix += (
            f"if the rows are different {_plural(unit)} with the same id, give them different "
            f"ids; if the data hold several respondents per {unit}, give their id column as "
            f"{msg.of('respondent')}."
        )
    raise msg.error(head + "\n" + "\n".join(lines), fix)


def _codebook_rows(
    codebook: pd.DataFrame, source: str | None, notes: list[str], msg: _Messages
) -> pd.DataFrame:
    """The codebook rows that apply to these data, with text columns cleaned and min/max as numbers."""
    lacking = [col for col in ("variable", "type") if col not in codebook.columns]
    if lacking:
        raise msg.error(
            f"the codebook has no column(s) {_names(lacking)}; it has {_names(codebook.columns)}.",
            "give the codebook the columns of the codebook schema (docs/architecture.md): file, "
            "variable, label_nl, label_en, type, min, max, values, missing_codes, instrument, level.",
            rows=False,
        )

    def text(col: str) -> pd.Series:
        if col not in codebook.columns:
            return pd.Series("", index=codebook.index, dtype="string")
        return codebook[col].astype("string").str.strip().fillna("")

    used = ("file", "variable", "type", "min", "max", "values", "missing_codes")
    cb = pd.DataFrame({col: text(col) for col in used})
    cb["type"] = cb["type"].str.lower()
    named = cb["file"].ne("")
    files = sorted(set(cb.loc[named, "file"]))
    if source is not None and files:
        name = PurePath(source).name
        if not cb["file"].eq(name).any():
            notes.append(
                f"the codebook has no rows for '{name}' (it describes {_names(files)}): only its "
                "rows without a file apply"
            )
    elif files and named.all():
        if len(files) > 1:
            raise msg.error(
                f"the codebook describes several files ({_names(files)}) and it is not known "
                "which of them these data are.",
                f"give the data file's name, e.g. {msg.of('source', files[0])}.",
                rows=False,
            )
        name = files[0]
        notes.append(f"codebook rows of '{name}' used (no {msg.of('source')} given)")
    else:
        name = ""  # no source: the rows without a file apply
    cb = cb.loc[~named | cb["file"].eq(name)]
    specific = cb["file"].ne("")  # a row for this file overrides a row without a file
    cb = cb.loc[specific | ~cb["variable"].isin(cb.loc[specific, "variable"])]
    twice = cb["variable"][cb["variable"].duplicated()]
    if len(twice):
        raise msg.error(
            f"the codebook describes {_names(sorted(set(twice)))} more than once for these data.",
            "keep one codebook row per variable (per file).",
            rows=False,
        )
    for col in ("min", "max"):
        numbers = pd.to_numeric(cb[col].replace("", None), errors="coerce")
        unreadable = cb[col].ne("") & numbers.isna()
        if unreadable.any():
            raise msg.error(
                f"the codebook's {col!r} is not a number for "
                f"{_names(cb.loc[unreadable, 'variable'].tolist())}: "
                f"{_names(cb.loc[unreadable, col].tolist())}.",
                f"write {col!r} as a number, or leave it empty for an open range.",
                rows=False,
            )
        cb[col] = numbers.astype(float)
    return cb


def _split(codes: str) -> list[str]:
    return [part.strip() for part in codes.split(";") if part.strip()]


def _check_values(
    data: pd.DataFrame,
    cb: pd.DataFrame,
    require: bool,
    notes: list[str],
    msg: _Messages,
) -> dict[str, list[str]]:
    """Check values against the codebook; return the user-missing codes per variable."""
    described = cb["variable"].tolist()
    absent = [v for v in described if v not in data.columns]
    if absent and require:
        raise msg.error(
            f"codebook variables are not in the data: {_names(absent)}.",
            "rename the data columns to the codebook's names, or set "
            f"{msg.of('require_codebook_columns', False)}.",
            rows=False,
        )
    if absent:
        notes.append(f"codebook variables not in the data: {_names(absent)}")
    undescribed = [c for c in data.columns if c not in set(described)]
    if undescribed:
        notes.append(f"columns not in the codebook (not checked): {_names(undescribed)}")

    missing_codes: dict[str, list[str]] = {}
    problems = []
    for row in cb.itertuples(index=False):  # one iteration per variable, vectorised inside
        if row.variable not in data.columns or row.type == "id":
            continue
        series = data[row.variable]
        codes = _split(row.missing_codes)
        if codes:
            missing_codes[row.variable] = codes
            present = series.notna() & ~_is_code(series, codes)
        else:
            present = series.notna()
        present = present.to_numpy()
        if row.type in _NUMERIC_TYPES:
            found = _numeric_problems(series, present, row)
        elif row.type in _CODED_TYPES:
            allowed = [pair.split("=", 1)[0].strip() for pair in _split(row.values)]
            if not allowed and row.type == "binary":
                allowed = ["0", "1"]
            bad = present & ~_is_code(series, allowed).to_numpy()
            found = [(f"codes not among {', '.join(allowed)}", bad)] if allowed and bad.any() else []
        else:
            notes.append(f"codebook type {row.type!r} of '{row.variable}' is not checked")
            continue
        if found:
            rows = np.flatnonzero(np.logical_or.reduce([mask for _, mask in found]))
            what = "; ".join(f"{text}: {_values(series, mask)}" for text, mask in found)
            problems.append(f"'{row.variable}' ({row.type}): {what}; in {msg.rows(rows)}")
    if problems:
        shown = problems[:_N_UNITS_SHOWN]
        if len(problems) > _N_UNITS_SHOWN:
            shown.append(f"and {len(problems) - _N_UNITS_SHOWN} more variables")
        raise msg.error(
            f"{_count(len(problems), 'variable', 'variables')} values the codebook does not allow:\n"
            + "\n".join(shown),
            "check the codebook (type, min, max, values) or recode these values. Text such as "
            "'n.v.t.' or '-' in a numeric variable usually means missing: make it empty (NA) or "
            "list it in the codebook's missing_codes.",
        )
    return missing_codes


def _numeric_problems(series: pd.Series, present: np.ndarray, row: object) -> list[tuple[str, np.ndarray]]:
    """Text, non-whole numbers and values out of [min, max] in a numeric variable."""
    if is_numeric_dtype(series):
        numbers = series.astype(float).to_numpy()
    else:
        numbers = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    found = []
    text = present & np.isnan(numbers)
    if text.any():
        found.append(("not a number", text))
    number = present & ~text
    if row.type in _WHOLE_TYPES:
        broken = number & (np.round(numbers) != numbers)
        if broken.any():
            found.append(("not whole numbers", broken))
    with np.errstate(invalid="ignore"):
        out = number & ((numbers < row.min) | (numbers > row.max))
    if out.any():
        lo = "" if np.isnan(row.min) else f"{row.min:g}"
        hi = "" if np.isnan(row.max) else f"{row.max:g}"
        found.append((f"outside {lo}..{hi}", out))
    return found
