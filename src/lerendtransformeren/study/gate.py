"""The one gate every route to a number goes through: read -> map -> validate.

:func:`read_study_files` takes a :class:`~lerendtransformeren.study.definition.StudyDefinition`
and, per file, reads it with :func:`lerendtransformeren.io.read_table` (identifiers as
text), maps it onto the data contract (column names, item names, missing codes, recodes,
goals of organisations), and checks it with :func:`lerendtransformeren.design.validate`
(nesting, one row per respondent per wave, waves, goals, identifier hygiene). Every change
it makes is counted in a note; every problem is a
:class:`~lerendtransformeren.exceptions.DataError` naming the file, the column, the rows
(as the user sees them in Excel) and the fix, and stops the run before anything is fitted.
Scoring follows in :func:`lerendtransformeren.study.data.load_study`.

The command line, the notebooks' loader and the Python API all call this function, so the
same data give the same messages everywhere; only the names of the options differ
(``options``: Python arguments, command-line options or study-file keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lerendtransformeren import design, io, scales
from lerendtransformeren.display import View, frame_grid
from lerendtransformeren.exceptions import PYTHON, DataError, OptionNames
from lerendtransformeren.study.definition import CONTRACT_FILES, FileSpec, StudyDefinition

__all__ = ["FileRead", "read_study_files", "study_file_options", "ID_COLUMNS"]

#: Columns of the contract that hold identifiers: always read as text, never as numbers.
ID_COLUMNS = ("organisation", "team", "professional", "family", "youth")
_READ_KEYS = ("sheet", "header_row", "sep", "decimal", "encoding")


@dataclass(frozen=True)
class FileRead:
    """One file of a study after the gate: the mapped, checked data and what was done."""

    role: str
    path: Path
    data: pd.DataFrame
    notes: tuple[str, ...]
    report: design.ValidationReport
    read: io.TableRead

    def __repr__(self) -> str:
        return self._view().text()

    def _repr_html_(self) -> str:
        return self._view().html()

    def _view(self) -> View:
        """The file, its first rows and the gate's notes."""
        return View(f"FileRead: {self.role} from {self.path.name}", grids=[frame_grid(self.data, "Data")],
                    notes=list(self.notes),
                    hint="More: .data, .report (the validation), .read (the file as read), .notes")


def study_file_options(definition: StudyDefinition, role: str) -> OptionNames:
    """How messages name the read options of one file: as keys of the study definition."""
    if definition.path is None:
        return PYTHON
    where = f"in {definition.path.name}"
    names = {key: f"'{key}:' under files.{role} {where}" for key in _READ_KEYS}
    names["ids"] = f"'ids:' {where}"
    return PYTHON.renamed(names, assign="{name} ({value!r})", language="cli")


def _fail(path: Path, problem: str, fix: str) -> DataError:
    return DataError(f"{path}: {problem}\nFix: {fix}")


def _rows(mask: np.ndarray, first_row: int, limit: int = 5) -> str:
    rows = np.flatnonzero(mask) + first_row
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _map_columns(frame: pd.DataFrame, spec: FileSpec, where: str) -> pd.DataFrame:
    renames = dict(spec.columns.items())
    for code, items in spec.instruments.items():
        try:
            inst = scales.get(code)
        except (KeyError, ValueError) as exc:
            raise _fail(spec.path, f"instrument {code!r} named in {where} is unknown ({exc}).",
                        "use the code of a shipped instrument (lerendtransformeren.scales.available()).") from exc
        if items == "same":
            absent = [i for i in inst.items if i not in frame.columns]
            if absent:
                raise _fail(spec.path, f"instrument {code!r} is marked 'same' in {where}, but its item "
                            f"column(s) {', '.join(absent[:5])} are not in the file.",
                            f"map the items under instruments.{code} (item: your column).")
            continue
        unknown = [i for i in items if i not in inst.items]
        if unknown:
            raise _fail(spec.path, f"instruments.{code} in {where} names {', '.join(unknown[:5])}, which "
                        f"are not items of {code}.", f"use the item names {', '.join(inst.items[:3])}, ...")
        renames.update({item: col for item, col in items.items()})
    absent = sorted({col for col in renames.values() if col not in frame.columns})
    if absent:
        raise _fail(spec.path, f"column(s) {', '.join(repr(c) for c in absent)} named in {where} are not "
                    f"in the file; its columns are {', '.join(map(repr, list(frame.columns)[:12]))}"
                    f"{' ...' if frame.shape[1] > 12 else ''}.",
                    "correct the column names in the study definition (they must match the header exactly).")
    mapped_from = set(renames.values())
    clash = [new for new, old in renames.items() if new != old and new in frame.columns and new not in mapped_from]
    if clash:
        raise _fail(spec.path, f"the file already has column(s) {', '.join(map(repr, clash))}, and the "
                    f"study definition maps other columns onto those names.",
                    "rename the existing column in the file, or map that column instead.")
    return frame.rename(columns={old: new for new, old in renames.items()})


def _missing_codes(frame: pd.DataFrame, spec: FileSpec, notes: list[str]) -> pd.DataFrame:
    for column, codes in spec.missing_codes.items():
        targets = [c for c in frame.columns if c not in ID_COLUMNS] if column == "*" else [column]
        for col in targets:
            if col not in frame.columns:
                raise _fail(spec.path, f"missing_codes names column {col!r}, which is not in the file "
                            "(after mapping).", "use a contract name or a column of the file.")
            as_text = frame[col].astype("string")
            hit = as_text.isin([str(c) for c in codes]).fillna(False).to_numpy(dtype=bool, copy=True)
            if pd.api.types.is_numeric_dtype(frame[col]):
                hit = hit | frame[col].isin([c for c in codes if isinstance(c, (int, float))]).to_numpy()
            if hit.any():
                frame = frame.copy()
                frame[col] = frame[col].mask(hit)
                notes.append(f"{col}: {int(hit.sum())} value(s) equal to a missing code "
                             f"({', '.join(map(str, codes))}) set to missing")
    return frame


def _recode(frame: pd.DataFrame, spec: FileSpec, first_row: int, notes: list[str]) -> pd.DataFrame:
    for column, mapping in spec.recode.items():
        if column not in frame.columns:
            raise _fail(spec.path, f"recode names column {column!r}, which is not in the file (after "
                        "mapping).", "use a contract name (e.g. wave) or a column of the file.")
        keys = {str(k): v for k, v in mapping.items()}
        text = frame[column].astype("string")
        known = text.isin(list(keys)).fillna(False).to_numpy()
        present = frame[column].notna().to_numpy()
        # values already in the contract's coding are left alone (a recode of some labels only)
        targets = {str(v) for v in keys.values()}
        already = text.isin(list(targets)).fillna(False).to_numpy()
        stray = present & ~known & ~already
        if stray.any():
            values = sorted(set(text[stray].astype(str)))[:5]
            raise _fail(spec.path, f"column {column!r} has value(s) {', '.join(map(repr, values))} that "
                        f"recode.{column} does not list ({_rows(stray, first_row)}).",
                        f"add them under recode.{column}, or correct them in the file.")
        frame = frame.copy()
        frame[column] = [keys[str(v)] if k else v for v, k in zip(frame[column], known)]
        notes.append(f"{column}: {int(known.sum())} value(s) recoded as the study definition says")
    return frame


def _goals(frame: pd.DataFrame, definition: StudyDefinition, spec: FileSpec, first_row: int,
           notes: list[str]) -> pd.DataFrame:
    if "goal" in frame.columns or not definition.goals or "organisation" not in frame.columns:
        return frame
    goal = frame["organisation"].astype("string").map(dict(definition.goals))
    unknown = goal.isna().to_numpy() & frame["organisation"].notna().to_numpy()
    if unknown.any():
        orgs = sorted(set(frame["organisation"][unknown].astype(str)))
        raise _fail(spec.path, f"{len(orgs)} organisation(s) have no goal under 'goals' in "
                    f"{definition.where} ({_rows(unknown, first_row)}).",
                    "give every organisation its goal under 'goals' (organisation: goal number).")
    notes.append(f"goal: taken from 'goals' in the study definition for {len(frame)} rows")
    return frame.assign(goal=goal.astype("int64").to_numpy())


def _validate(frame: pd.DataFrame, spec: FileSpec, definition: StudyDefinition, table: io.TableRead,
              codebook, options: OptionNames) -> design.Validated:
    common = dict(source=str(spec.path), codebook=codebook, ids=definition.ids,
                  first_row=table.source.get("first_row"), options=options)
    if spec.role == "organisations":
        return design.validate(frame, respondent="organisation", levels=("goal",), wave=None, **common)
    return design.validate(frame, respondent=CONTRACT_FILES[spec.role], **common)


def read_study_files(definition: StudyDefinition, *, options: Mapping[str, OptionNames] | None = None
                     ) -> dict[str, FileRead]:
    """Read, map and check every file of a study definition.

    Parameters
    ----------
    definition : StudyDefinition
    options : mapping of role to OptionNames, optional
        How messages name the read options per file; by default the keys of the study
        definition (or Python arguments for a study in the contract layout).

    Returns
    -------
    dict
        Role (``families``, ...) -> :class:`FileRead`, in the order of the definition.

    Raises
    ------
    DataError
        The first problem found, naming file, column, rows and fix.
    """
    codebook = io.read_codebook(definition.codebook) if definition.codebook is not None else None
    out = {}
    for role, spec in definition.files.items():
        opts = (options or {}).get(role) or study_file_options(definition, role)
        mapped = [spec.columns.get(c, c) for c in ID_COLUMNS]
        id_columns = None if mapped == list(ID_COLUMNS) else mapped
        table = io.read_table(spec.path, id_columns=id_columns, options=opts, **spec.read_options())
        first_row = table.source.get("first_row") or 2
        # a file of the study need not hold every kind of id (organisations.csv has no family)
        notes = [n for n in table.notes if opts.of("id_columns") not in n]
        where = f"files.{role} of {definition.where}"
        frame = _map_columns(table.data, spec, where)
        frame = _missing_codes(frame, spec, notes)
        frame = _recode(frame, spec, first_row, notes)
        frame = _goals(frame, definition, spec, first_row, notes)
        checked = _validate(frame, spec, definition, table, codebook, opts)
        notes += checked.report.notes
        out[role] = FileRead(role, spec.path, checked.data, tuple(notes), checked.report, table)
    return out
