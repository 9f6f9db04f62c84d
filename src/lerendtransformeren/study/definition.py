"""A study definition: where a study's files are and how they map onto the data contract.

A workplace's own data rarely have the column names, codes and file layout of the data
contract (``docs/architecture.md``). A small YAML file next to the data says, per file of
the contract (``families``, ``professionals``, ``organisations``, ``activities``):

- where the file is (``path``: csv, xlsx or sav) and how to read it (``sheet``,
  ``header_row``, ``sep``, ``decimal``, ``encoding``);
- which of its columns is which contract column (``columns``: contract name -> yours);
- which values to recode (``recode``: e.g. wave labels ``"Meting 1"`` -> ``0``);
- which codes mean missing (``missing_codes``: per column, or ``"*"`` for all);
- which instrument each item set is (``instruments``: code -> {item: your column}, or
  ``same`` when the columns already carry the item names);

and for the whole study: which goal each organisation belongs to (``goals``, when no file
has a goal column) and how to treat identifiers with surrounding spaces (``ids``:
``strict``, the default, refuses them; ``strip`` removes the spaces and reports it).

:func:`read_definition` reads and checks such a file; every mistake is a
:class:`~lerendtransformeren.exceptions.DataError` that names the file, the key and the
fix. :func:`definition_for_folder` gives the definition a folder in the contract's own
layout implies, so that the bundled study and a user's study take the same path.
``docs/own-study.md`` walks through a full example.

Examples
--------
>>> import tempfile, textwrap
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder) / "study.yaml"
...     _ = path.write_text(textwrap.dedent('''
...         name: Pilot Oost
...         files:
...           families:
...             path: gezinnen.xlsx
...             sheet: Data
...             columns: {organisation: org, team: team_nr, professional: medewerker,
...                       family: gezin_id, wave: meting, offer: aanbod}
...             recode: {wave: {"Meting 1": 0, "Meting 2": 1}}
...             instruments: {psoc: same}
...         goals: {Oost-1: 2, Oost-2: 2}
...         '''), encoding="utf-8")
...     study = read_definition(path)
>>> study.files["families"].columns["family"], study.files["families"].sheet
('gezin_id', 'Data')
>>> dict(study.goals)
{'Oost-1': 2, 'Oost-2': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from lerendtransformeren.exceptions import DataError

__all__ = [
    "CONTRACT_FILES",
    "CONTRACT_COLUMNS",
    "FileSpec",
    "StudyDefinition",
    "read_definition",
    "definition_for_folder",
    "DEFINITION_NAME",
]

#: The name a study definition has in its folder.
DEFINITION_NAME = "study.yaml"
#: The files of the data contract, and the respondent (unit of one row per wave) of each.
CONTRACT_FILES: dict[str, str | None] = {
    "families": "family",
    "professionals": "professional",
    "organisations": None,
    "activities": "professional",
}
#: Contract columns a file may map (the id columns, wave, offer, goal and the moderators).
CONTRACT_COLUMNS: dict[str, tuple[str, ...]] = {
    "families": ("goal", "organisation", "team", "professional", "family", "wave", "offer",
                 "age_band", "migration_background", "ses", "referral", "contacts", "one_plan",
                 "one_coordinator"),
    "professionals": ("goal", "organisation", "team", "professional", "wave", "offer", "role",
                      "experience_years"),
    "organisations": ("goal", "organisation", "start_wave"),
    "activities": ("goal", "organisation", "team", "professional", "wave", "sessions",
                   "masterclasses", "workshops"),
}
_FILE_KEYS = ("path", "sheet", "header_row", "sep", "decimal", "encoding", "columns", "recode",
              "missing_codes", "instruments")
_TOP_KEYS = ("name", "version", "synthetic", "ids", "files", "goals", "codebook")
_IDS = ("strict", "strip")


@dataclass(frozen=True)
class FileSpec:
    """How one file of the contract is read and mapped (see the module text)."""

    role: str
    path: Path
    sheet: str | int | None = None
    header_row: int | None = None
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    recode: Mapping[str, Mapping] = field(default_factory=dict)
    missing_codes: Mapping[str, tuple] = field(default_factory=dict)
    instruments: Mapping[str, Mapping[str, str] | str] = field(default_factory=dict)

    @property
    def respondent(self) -> str | None:
        return CONTRACT_FILES[self.role]

    def read_options(self) -> dict:
        """The keyword arguments of :func:`lerendtransformeren.io.read_table` this file sets."""
        options = {"sheet": self.sheet, "header_row": self.header_row, "sep": self.sep,
                   "decimal": self.decimal, "encoding": self.encoding}
        return {k: v for k, v in options.items() if v is not None}


@dataclass(frozen=True)
class StudyDefinition:
    """A study's files and their mapping onto the data contract."""

    path: Path | None
    name: str
    files: Mapping[str, FileSpec]
    goals: Mapping[str, int] = field(default_factory=dict)
    ids: str = "strict"
    synthetic: bool = False
    codebook: Path | None = None
    folder: Path | None = None

    @property
    def where(self) -> str:
        """How messages name the definition: its file, or the folder it was implied by."""
        return str(self.path) if self.path is not None else str(self.folder)


def _fail(where: str, problem: str, fix: str) -> DataError:
    return DataError(f"{where}: {problem}\nFix: {fix}")


def _mapping(value, where: str, key: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(where, f"'{key}' must be a mapping (key: value lines), not {type(value).__name__}.",
                    f"write '{key}:' followed by indented 'name: value' lines (see docs/own-study.md).")
    return dict(value)


def _unknown(keys, allowed, where: str, at: str) -> None:
    unknown = [str(k) for k in keys if k not in allowed]
    if unknown:
        raise _fail(where, f"unknown key(s) {', '.join(repr(k) for k in unknown)} {at}.",
                    f"use only {', '.join(allowed)} (check the spelling and the indentation).")


def _file_spec(role: str, raw, folder: Path, where: str) -> FileSpec:
    at = f"under files.{role}"
    raw = _mapping(raw, where, f"files.{role}")
    _unknown(raw, _FILE_KEYS, where, at)
    if "path" not in raw:
        raise _fail(where, f"files.{role} has no 'path'.", f"add 'path: <file>' {at} (relative to the study file).")
    columns = {str(k): str(v) for k, v in _mapping(raw.get("columns"), where, f"files.{role}.columns").items()}
    _unknown(columns, CONTRACT_COLUMNS[role], where, f"in files.{role}.columns (contract names go on the left)")
    recode = {str(k): dict(_mapping(v, where, f"files.{role}.recode.{k}"))
              for k, v in _mapping(raw.get("recode"), where, f"files.{role}.recode").items()}
    missing = {}
    for column, codes in _mapping(raw.get("missing_codes"), where, f"files.{role}.missing_codes").items():
        missing[str(column)] = tuple(codes) if isinstance(codes, (list, tuple)) else (codes,)
    instruments = {}
    for code, items in _mapping(raw.get("instruments"), where, f"files.{role}.instruments").items():
        if items == "same":
            instruments[str(code)] = "same"
        else:
            instruments[str(code)] = {str(k): str(v) for k, v in
                                      _mapping(items, where, f"files.{role}.instruments.{code}").items()}
    header_row = raw.get("header_row")
    if header_row is not None and (not isinstance(header_row, int) or header_row < 1):
        raise _fail(where, f"files.{role}.header_row is {header_row!r}.",
                    "give the row number of the header as Excel shows it (1, 2, ...).")
    return FileSpec(
        role=role, path=folder / str(raw["path"]), sheet=raw.get("sheet"), header_row=header_row,
        sep=raw.get("sep"), decimal=raw.get("decimal"), encoding=raw.get("encoding"),
        columns=MappingProxyType(columns), recode=MappingProxyType(recode),
        missing_codes=MappingProxyType(missing), instruments=MappingProxyType(instruments),
    )


def read_definition(path: str | Path) -> StudyDefinition:
    """Read and check a study definition (YAML).

    Parameters
    ----------
    path : str or Path
        The ``study.yaml`` file; file paths in it are relative to its folder.

    Returns
    -------
    StudyDefinition

    Raises
    ------
    DataError
        The file is missing or not YAML, has unknown keys, no files, a file without a
        path, contract names that do not exist, or goals that are not whole numbers.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise _fail(where, "the study definition does not exist.",
                    "give the path of a study.yaml, or write one with 'lerendtransformeren init FOLDER'.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise _fail(where, f"not a readable YAML file ({exc}).",
                    "check the indentation (spaces, no tabs) and save the file as UTF-8.") from exc
    raw = _mapping(raw, where, "the study definition")
    _unknown(raw, _TOP_KEYS, where, "at the top level")
    files_raw = _mapping(raw.get("files"), where, "files")
    if not files_raw:
        raise _fail(where, "no files are listed under 'files'.",
                    f"list at least families or professionals ({', '.join(CONTRACT_FILES)}).")
    _unknown(files_raw, tuple(CONTRACT_FILES), where, "under files")
    files = {role: _file_spec(role, spec, path.parent, where) for role, spec in files_raw.items()}
    goals = {}
    for org, goal in _mapping(raw.get("goals"), where, "goals").items():
        if not isinstance(goal, int) or isinstance(goal, bool):
            raise _fail(where, f"goals: organisation {org!r} has goal {goal!r}.",
                        "give each organisation the number of its transformation goal (1 to 5).")
        goals[str(org)] = goal
    ids = raw.get("ids", "strict")
    if ids not in _IDS:
        raise _fail(where, f"ids is {ids!r}.", "write 'ids: strict' (refuse ids with surrounding spaces) "
                    "or 'ids: strip' (remove the spaces and report how many).")
    codebook = raw.get("codebook")
    return StudyDefinition(
        path=path, name=str(raw.get("name") or path.parent.name), files=MappingProxyType(files),
        goals=MappingProxyType(goals), ids=ids, synthetic=bool(raw.get("synthetic", False)),
        codebook=None if codebook is None else path.parent / str(codebook),
    )


def definition_for_folder(folder: str | Path) -> StudyDefinition:
    """The definition a folder implies: its ``study.yaml``, or else the contract's own layout.

    A folder without ``study.yaml`` is read as the data contract lays it out
    (``families.csv``, ``professionals.csv``, ``organisations.csv``, ``activities.csv``
    with the contract's column names, items named as the instruments' items).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: the study folder does not exist.\nFix: give the folder that holds "
                        "the data files and study.yaml.")
    if (folder / DEFINITION_NAME).is_file():
        return read_definition(folder / DEFINITION_NAME)
    files = {role: FileSpec(role, folder / f"{role}.csv") for role in CONTRACT_FILES
             if (folder / f"{role}.csv").is_file()}
    codebook = folder / "codebook.csv"
    return StudyDefinition(path=None, name=folder.name, files=MappingProxyType(files),
                           codebook=codebook if codebook.is_file() else None, folder=folder)
