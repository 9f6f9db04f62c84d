"""``lerendtransformeren init``: a commented starter study definition from the files found.

:func:`starter_definition` reads every csv, xlsx and sav file of a folder (through
:func:`lerendtransformeren.io.read_table`, as the gate will), guesses which contract file
each one is, which of its columns is which contract column (from common Dutch and English
names) and which item sets belong to which shipped instrument, and writes all of it as a
YAML study definition. What it cannot guess is marked ``# TODO`` with what to fill in;
a guess is marked ``# guessed``. Nothing is read as settled until the user has checked it:
``validate --study`` and ``report --study`` then take the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd

from lerendtransformeren import io, scales
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.study.definition import CONTRACT_COLUMNS

__all__ = ["starter_definition", "SYNONYMS"]

#: Column names (lower case, without spaces, '-' and '_') that suggest a contract column.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "goal": ("goal", "doel", "transformatiedoel"),
    "organisation": ("organisation", "organization", "organisatie", "org", "orgid", "organisatieid"),
    "team": ("team", "teamid", "teamnr", "teamnummer"),
    "professional": ("professional", "medewerker", "hulpverlener", "prof", "profid", "medewerkerid"),
    "family": ("family", "gezin", "gezinid", "gezinsnummer", "client", "clientid", "cliënt", "casus"),
    "wave": ("wave", "meting", "meetmoment", "tijdstip", "ronde", "time", "t"),
    "offer": ("offer", "aanbod", "ondersteuning", "conditie", "interventie"),
    "start_wave": ("startwave", "start", "startmeting", "startmoment"),
    "role": ("role", "rol", "functie"),
    "ses": ("ses",),
    "age_band": ("ageband", "leeftijdsgroep", "leeftijdscategorie"),
    "referral": ("referral", "verwijzing", "doorverwijzing"),
    "contacts": ("contacts", "contacten", "aantalcontacten"),
}
_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".sav", ".zsav")


def _key(name: str) -> str:
    """A column name without case, spaces, '_', '-', '.' and leading zeros of numbers."""
    key = re.sub(r"[\s_\-.]", "", str(name).lower())
    return re.sub(r"(?<!\d)0+(?=\d)", "", key)


def _guess_columns(columns: list[str]) -> dict[str, str]:
    keys = {_key(c): c for c in columns}
    return {contract: next(keys[s] for s in names if s in keys)
            for contract, names in SYNONYMS.items() if any(s in keys for s in names)}


def _guess_role(mapped: dict[str, str]) -> str:
    if "family" in mapped:
        return "families"
    if "professional" in mapped and "wave" in mapped:
        return "professionals"
    if "start_wave" in mapped or ("organisation" in mapped and "wave" not in mapped):
        return "organisations"
    return "professionals"


def _codes() -> list[str]:
    return [str(c) for c in scales.available()["code"]]


def _guess_instruments(columns: list[str]) -> dict[str, dict[str, str] | str]:
    """Shipped instruments whose items all appear, by exact name or by name without case/'_'."""
    keys = {_key(c): c for c in columns}
    found: dict[str, dict[str, str] | str] = {}
    for code in _codes():
        items = scales.get(code).items
        if all(i in columns for i in items):
            found[code] = "same"
        elif all(_key(i) in keys for i in items):
            found[code] = {i: keys[_key(i)] for i in items}
    return found


def _largest_sheet(path: Path) -> str | None:
    """The sheet of a workbook with the most cells (a notes sheet first is common)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        sizes = {ws.title: (ws.max_row or 0) * (ws.max_column or 0) for ws in book.worksheets}
    finally:
        book.close()
    return max(sizes, key=sizes.get) if sizes else None


def _wave_recode(data, column: str | None) -> list[str]:
    """A guessed recode of wave labels (in the order of their numbers), or none for numbers."""
    if column is None or pd.api.types.is_numeric_dtype(data[column]):
        return []
    labels = sorted(data[column].dropna().astype(str).unique(),
                    key=lambda s: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", s)])
    pairs = ", ".join(f"{label!r}: {i}" for i, label in enumerate(labels[:12]))
    return ["    recode:  # guessed: the first wave is 0; check the order", f"      wave: {{{pairs}}}"]


def _file_block(path: Path, folder: Path, used_roles: set[str]) -> tuple[str, list[str]]:
    sheet = _largest_sheet(path)
    table = io.read_table(path) if sheet is None else io.read_table(path, sheet=sheet)
    columns = [str(c) for c in table.data.columns]
    mapped = _guess_columns(columns)
    role = _guess_role(mapped)
    if role in used_roles:
        return "", [f"{path.name}: looks like a second '{role}' file; combine the files or list it by hand"]
    used_roles.add(role)
    mapped = {k: v for k, v in mapped.items() if k in CONTRACT_COLUMNS[role]}
    lines = [f"  {role}:  # guessed from the columns of {path.name}", f"    path: {path.relative_to(folder)}"]
    if table.source.get("sheet") is not None:
        lines.append(f"    sheet: {table.source['sheet']!r}  # guessed: the largest sheet")
    if table.source.get("header_row") not in (None, 1):
        lines.append(f"    header_row: {table.source['header_row']}  # guessed: rows above it read as title")
    lines.append("    columns:  # contract name: your column")
    needed = [c for c in ("organisation", "team", "professional", "family", "wave", "offer")
              if c in CONTRACT_COLUMNS[role] and (role != "organisations" or c == "organisation")]
    for contract in dict.fromkeys(needed + list(mapped)):
        if contract in mapped:
            lines.append(f"      {contract}: {mapped[contract]!r}  # guessed")
        else:
            lines.append(f"      # {contract}: ...  # TODO: the column with the {contract}")
    lines += _wave_recode(table.data, mapped.get("wave"))
    lines += ["    # missing_codes:  # TODO if codes such as -9 or 99 mean 'no answer'",
              "    #   '*': [-9, 99]"]
    instruments = _guess_instruments(columns)
    if instruments:
        lines.append("    instruments:  # guessed from the item names")
        for code, items in instruments.items():
            if items == "same":
                lines.append(f"      {code}: same")
            else:
                lines.append(f"      {code}:")
                lines += [f"        {item}: {col!r}" for item, col in items.items()]
    else:
        lines += ["    # instruments:  # TODO: which items belong to which instrument",
                  "    #   psoc: {psoc_01: 'PSOC1', psoc_02: 'PSOC2', ...}"]
    return "\n".join(lines), [f"{path.name}: read as {role}"]


def starter_definition(folder: str | Path) -> tuple[str, list[str]]:
    """A commented study definition for the data files in ``folder``, and what was guessed.

    Returns
    -------
    (str, list of str)
        The YAML text, and one line per file on what it was taken for.

    Raises
    ------
    DataError
        The folder does not exist or holds no csv, xlsx or sav file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: the folder does not exist.\nFix: give the folder with your data files.")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in _EXTENSIONS and p.name != "codebook.csv")
    if not paths:
        raise DataError(f"{folder}: no .csv, .xlsx or .sav files found.\nFix: put the exported data "
                        "files in this folder, then run init again.")
    blocks, said, used = [], [], set()
    for path in paths:
        block, lines = _file_block(path, folder, used)
        said += lines
        if block:
            blocks.append(block)
    head = [
        "# Study definition written by 'lerendtransformeren init'. Check every line marked",
        "# 'guessed', fill in every 'TODO', then run:",
        f"#   lerendtransformeren validate --study {folder.name}/study.yaml",
        "# Keys and examples: docs/own-study.md.",
        f"name: {folder.name}",
        "version: 1",
        "ids: strict  # ids with surrounding spaces are an error; 'strip' removes them and reports it",
        "files:",
    ]
    tail = ["# goals:  # TODO if no file has a goal column: the goal (1-5) of each organisation",
            "#   Org-A: 1"]
    return "\n".join(head + blocks + tail) + "\n", said
