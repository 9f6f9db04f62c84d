"""A catalog of the bad and awkward files users bring, with the outcome each must have.

Every case writes its file (deterministically, into a folder it is given), reads it with
``io.read_table`` and, where the hazard lives in the design, checks it with
``design.validate``. Each case expects one of two outcomes:

``error``
    a DataError whose message names the file, the column and the rows (where the
    hazard has them) and says ``Fix:``;
``handled``
    no error, a note that says what was detected or done, and the resulting data.

A case that reads without an error and without its note passed *silently*: that is what
the catalog exists to rule out. ``summarise`` counts the outcomes; ``python
tests/catalog/make_catalog.py FOLDER`` writes every file for a look by hand.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat

from lerendtransformeren.design import validate
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.io import read_table

OUTCOMES = ("error", "handled")


@dataclass(frozen=True)
class Case:
    """One awkward file and the outcome it must have."""

    name: str
    build: Callable[[Path], Path]
    outcome: str
    expect: str  # regular expression the error message, or one of the notes, must match
    column: str | None = None  # error: a column the message must name
    rows: tuple[int, ...] = ()  # error: row (or line) numbers the message must name
    read: dict = field(default_factory=dict)  # read_table options
    check: dict | None = None  # validate options; None: read only
    data: Callable[[pd.DataFrame], bool] | None = None  # handled: a test of the data


@dataclass
class Result:
    """What reading (and validating) a case gave."""

    outcome: str  # "error", "handled" or "silent"
    message: str
    notes: tuple[str, ...]
    data: pd.DataFrame | None


def run(case: Case, folder: Path) -> Result:
    """Build the case's file in ``folder``, read (and validate) it, classify the outcome."""
    path = case.build(Path(folder))
    notes: tuple[str, ...] = ()
    try:
        table = read_table(path, **case.read)
        notes = table.notes
        data = table.data
        if case.check is not None:
            checked = validate(
                table.data, source=str(path), first_row=table.source["first_row"], **case.check
            )
            notes = notes + checked.report.notes
            data = checked.data
    except DataError as err:
        return Result("error", str(err), notes, None)
    found = any(re.search(case.expect, note) for note in notes)
    return Result("handled" if found else "silent", "", notes, data)


def summarise(folder: Path, cases: list[Case] | None = None) -> Counter:
    """Outcomes of all cases: how many give a clear error, documented handling, or pass silently."""
    return Counter(run(case, Path(folder)).outcome for case in (cases or CASES))


# --------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------
def text(name: str, content: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content.encode(encoding))
        return path

    return build


def raw(name: str, content: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return build


def workbook(name: str, sheets: dict[str, list[list]], edit=None) -> Callable[[Path], Path]:
    """An .xlsx with the given sheets (rows of values); ``edit(book)`` adds the rest."""

    def build(folder: Path) -> Path:
        book = openpyxl.Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        if edit is not None:
            edit(book)
        path = folder / name
        book.save(path)
        return path

    return build


def spss(name: str, frame: pd.DataFrame, **meta) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        pyreadstat.write_sav(frame, str(path), **meta)
        return path

    return build


def truncated_workbook(folder: Path) -> Path:
    good = workbook("good.xlsx", {"Data": [["family", "score"], ["F1", 1]]})(folder)
    path = folder / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[:300])
    return path


def uncalculated_formula(folder: Path) -> Path:
    """A workbook written by a program that stores formulas without their results."""
    return workbook("formula.xlsx", {"Data": [["family", "a", "b"], ["F1", 1, "=B2*2"], ["F2", 2, 4]]})(folder)


def _families(rows: list[tuple]) -> str:
    lines = ["organisation;team;family;wave;score"]
    lines += [";".join(str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


_NESTED = [
    ("O1", "O1-T1", "F1", 0, 1),
    ("O1", "O1-T1", "F1", 1, 2),
    ("O1", "O1-T2", "F2", 0, 3),
    ("O2", "O2-T1", "F3", 0, 1),
]
_CHECK = {"respondent": "family", "levels": ("organisation", "team")}


def _merge(range_: str):
    def edit(book):
        book.active.merge_cells(range_)

    return edit


def _hide_column(letter: str):
    def edit(book):
        book.active.column_dimensions[letter].hidden = True

    return edit


def _hide_rows(*rows: int):
    def edit(book):
        for r in rows:
            book.active.row_dimensions[r].hidden = True

    return edit


def _error_cells(book):
    sheet = book.active
    for ref, value in (("B3", "#DIV/0!"), ("B4", "#N/A"), ("C5", "#VALUE!")):
        sheet[ref].value = value
        sheet[ref].data_type = "e"


def _is(column: str, values: list) -> Callable[[pd.DataFrame], bool]:
    def test(data: pd.DataFrame) -> bool:
        got = data[column].tolist()
        return len(got) == len(values) and all(
            (pd.isna(g) and pd.isna(v)) if not isinstance(v, str) and pd.isna(v) else g == v
            for g, v in zip(got, values)
        )

    return test


def _sav_labels() -> pd.DataFrame:
    return pd.DataFrame({"family": [1.0, 2.0, 3.0], "q1": [1.0, 3.0, 99.0], "ses": [1.0, 2.0, 1.0]})


# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------
CASES: list[Case] = [
    # ---------------------------------------------------------------- design
    Case("nesting: a team under two organisations",
         text("team_two_orgs.csv", _families(_NESTED + [("O2", "O1-T1", "F4", 0, 2)])),
         "error", r"team 'O1-T1' appears under 2 organisations", "organisation", (2, 6), check=_CHECK),
    Case("nesting: a family under two teams",
         text("family_two_teams.csv", _families(_NESTED + [("O1", "O1-T2", "F1", 2, 2)])),
         "error", r"family 'F1' appears under 2 teams", "team", (2, 3, 6), check=_CHECK),
    Case("duplicated rows (exact copies)",
         text("copies.csv", _families(_NESTED + [_NESTED[0]])),
         "error", r"exact copies", "family", (2, 6), check=_CHECK),
    Case("two rows for one family at one wave",
         text("double_wave.csv", _families(_NESTED + [("O1", "O1-T1", "F1", 0, 4)])),
         "error", r"F1' at T0 in rows 2, 6", "family", (2, 6), check=_CHECK),
    Case("waves as T0 / t1",
         text("waves_t.csv", _families([(o, t, f, ("T", "t")[w] + str(w), s) for o, t, f, w, s in _NESTED])),
         "handled", r"wave labels in 'wave' converted to numbers \('T0' -> 0, 't1' -> 1\)", check=_CHECK),
    Case("waves as 'Meting 1', 'Meting 2'",
         text("waves_meting.csv", _families([(o, t, f, f"Meting {w + 1}", s) for o, t, f, w, s in _NESTED])),
         "error", r"'Meting 1'.*T0 or T1", "wave", (2,), check=_CHECK),
    # ---------------------------------------------------------------- ids
    Case("ids: a space after an id at one wave",
         text("id_space.csv", _families([("O1", "O1-T1", "F12", 0, 1), ("O1", "O1-T1", "F12 ", 1, 2)])),
         "error", r"spaces before or after", "family", (3,), check=_CHECK),
    Case("ids: spaces stripped on request (ids='strip')",
         text("id_space_strip.csv", _families([("O1", "O1-T1", "F12", 0, 1), ("O1", "O1-T1", "F12 ", 1, 2)])),
         "handled", r"spaces around ids removed \(ids='strip'\): 1 cell in 'family'",
         check={**_CHECK, "ids": "strip"}, data=_is("family", ["F12", "F12"])),
    Case("ids: leading-zero variants ('0007' and '7')",
         text("id_zeros.csv", _families([("O1", "O1-T1", "0007", 0, 1), ("O1", "O1-T1", "7", 1, 2)])),
         "error", r"differ only in leading zeros:\n'0007' in row 2 and '7' in row 3", "family", (2, 3),
         check=_CHECK),
    Case("ids: '10.1' and '10.10'",
         text("id_decimal.csv", _families([("O1", "10.1", "F1", 0, 1), ("O1", "10.10", "F2", 0, 2)])),
         "error", r"different text but the same number:\n'10.1' in row 2 and '10.10' in row 3", "team",
         (2, 3), check=_CHECK),
    Case("ids: '7' and '7.0'",
         text("id_float.csv", _families([("O1", "O1-T1", "7", 0, 1), ("O1", "O1-T1", "7.0", 1, 2)])),
         "error", r"same number", "family", (2, 3), check=_CHECK),
    Case("ids stored as numbers in Excel",
         workbook("id_numbers.xlsx", {"Data": [["team", "family", "score"], ["T1", 7, 1], ["T1", 10.1, 2]]}),
         "handled", r"id column family: 2 ids stored as numbers in the file read as text",
         data=_is("family", ["7", "10.1"])),
    Case("very long digit strings in a column that is not an id",
         text("long_digits.csv", "client;score\n123456789012345678901;1\n123456789012345678902;\n"),
         "handled", r"column client kept as text: values such as '123456789012345678901' have more digits",
         data=_is("client", ["123456789012345678901", "123456789012345678902"])),
    Case("codes with leading zeros in a column that is not an id",
         text("zeros_codes.csv", "client;score\n007;1\n010;2\n"),
         "handled", r"column client kept as text: values such as '007' have leading zeros",
         data=_is("client", ["007", "010"])),
    # ---------------------------------------------------------------- numbers
    Case("decimal marks: '3,5' and '3.5' in one column",
         text("both_marks.csv", "family;score\nF1;3,5\nF2;3.5\nF3;4,25\n"),
         "handled", r"column score uses both decimal marks: 2 values with a decimal comma \(e.g. '3,5'\), 1 with",
         data=_is("score", [3.5, 3.5, 4.25])),
    Case("decimal marks: '3.556' among decimal commas (thousands or decimal?)",
         text("thousands_hazard.csv", "family;score\nF1;3,5\nF2;4,25\nF3;3.556\n"),
         "error", r"mixes decimal marks.*'3\.556' \(line 4\)", "score", (4,)),
    Case("thousands separators with decimal commas ('1.234,5')",
         text("thousands.csv", "family;amount\nF1;1.234,5\nF2;12,0\n"),
         "handled", r"in column amount '\.' read as thousands separator", data=_is("amount", [1234.5, 12.0])),
    Case("'1.234' among whole numbers in a decimal-comma file",
         text("thousands_ints.csv", "family;n;score\nF1;1.234;3,5\nF2;12;4,5\n"),
         "handled", r"in column n 1 value such as '1\.234' read as 1234 \(line 2\)", data=_is("n", [1234, 12])),
    Case("numbers stored as text in Excel",
         workbook("numbers_as_text.xlsx", {"Data": [["family", "score"], ["F1", 1.5], ["F2", "2,5"], ["F3", "3"]]}),
         "handled", r"column score: 2 numbers stored as text in Excel read as numbers \(rows 3, 4\)",
         data=_is("score", [1.5, 2.5, 3.0])),
    Case("text answers in a numeric column",
         text("text_answers.csv", "family;q1\nF1;1\nF2;2\nF3;weet niet\n"),
         "handled", r"column q1 kept as text: 1 of 3 values are not numbers"),
    Case("missing markers (NA, #NULL!, .)",
         text("markers.csv", "family;q1\nF1;NA\nF2;#NULL!\nF3;.\nF4;2\n"),
         "handled", r"treated as missing: 1 'NA', 1 '#NULL!', 1 '\.'", data=_is("q1", [np.nan] * 3 + [2.0])),
    # ---------------------------------------------------------------- Excel artefacts
    Case("Excel made a date of an age band ('1-5')",
         workbook("age_date.xlsx", {"Data": [["family", "age_band"], ["F1", "0-4"], ["F2", datetime(2024, 5, 1)],
                                             ["F3", "12-18"]]}),
         "error", r"column age_band holds dates among other values: 2024-05-01 \(typed as '1-5'\?\) in row 3",
         "age_band", (3,)),
    Case("date-like text in a category column of a csv",
         text("age_date.csv", "family;age_band\nF1;0-4\nF2;2023-05-01 00:00:00\nF3;12-18\n"),
         "error", r"holds dates among other values", "age_band", (3,)),
    Case("title rows above the header (xlsx)",
         workbook("title_rows.xlsx", {"Data": [["Rapportage jeugdhulp 2023"], ["Gemeente X"], [],
                                               ["family", "wave", "score"], ["F1", 0, 1], ["F2", 0, 2]]}),
         "handled", r"header on row 4 \(rows 1-3 read as title: 'Rapportage jeugdhulp 2023', 'Gemeente X'\)",
         data=_is("score", [1, 2])),
    Case("title rows above the header (csv)",
         text("title_rows.csv", "Export wachtlijst;;\n;;\nfamily;wave;score\nF1;0;1\n"),
         "handled", r"header on line 3 \(lines 1-2 read as title: 'Export wachtlijst'\)", data=_is("score", [1])),
    Case("merged title cells",
         workbook("merged_title.xlsx", {"Data": [["Titel over de hele breedte", None, None], ["family", "wave", "score"],
                                                 ["F1", 0, 1]]}, _merge("A1:C1")),
         "handled", r"header on row 2 \(row 1 read as title", data=_is("family", ["F1"])),
    Case("merged cells in the data",
         workbook("merged_data.xlsx", {"Data": [["team", "family", "score"], ["T1", "F1", 1], [None, "F2", 2],
                                                ["T2", "F3", 3]]}, _merge("A2:A3")),
         "error", r"merged cells in the data \(A2:A3\)", "A2:A3", (3,)),
    Case("a header cell merged over several columns",
         workbook("merged_header.xlsx", {"Data": [["family", "SDQ", None, None], ["F1", 1, 2, 0], ["F2", 0, 1, 2]]},
                  _merge("B1:D1")),
         "error", r"column C, column D have no name in the header \(row 1\) \(merged header cells B1:D1\)",
         "column C", ()),
    Case("notes sheet first, data in the second",
         workbook("notes_first.xlsx", {"Toelichting": [["Deze map bevat de metingen van 2023."], ["Zie tabblad Data."]],
                                       "Data": [["family", "score"], ["F1", 1], ["F2", 2]]}),
         "error", r"'Toelichting' \(2 rows x 1 column with data\), 'Data' \(3 rows x 2 columns with data\)",
         "sheet=", ()),
    Case("sheet asked by a name that does not exist",
         workbook("sheets.xlsx", {"Data": [["family", "score"], ["F1", 1]], "Codes": [["code", "label"], [1, "a"]]}),
         "error", r"there is no sheet 'data' \(did you mean 'Data'\?\)", "sheet=", (), read={"sheet": "data"}),
    Case("hidden column",
         workbook("hidden_column.xlsx", {"Data": [["family", "secret", "score"], ["F1", "x", 1]]}, _hide_column("B")),
         "handled", r"1 column hidden in Excel and read all the same: B \('secret'\)"),
    Case("hidden (filtered) rows",
         workbook("hidden_rows.xlsx", {"Data": [["family", "score"], ["F1", 1], ["F2", 2], ["F3", 3]]}, _hide_rows(3)),
         "handled", r"1 row hidden in Excel \(filtered out\?\) and read all the same: row 3"),
    Case("empty columns and rows left by Excel",
         text("trailing.csv", "family;score;;\nF1;1;;\nF2;2;;\n;;;\n;;;\n"),
         "handled", r"2 fully empty lines at the end dropped \(lines 4-5\)", data=_is("score", [1, 2])),
    Case("trailing formatted rows in a workbook",
         workbook("trailing.xlsx", {"Data": [["family", "score"], ["F1", 1], [None, None], [" ", None]]}),
         "handled", r"2 fully empty rows at the end dropped \(rows 3-4\)"),
    Case("Excel error values in cells",
         workbook("errors.xlsx", {"Data": [["family", "ratio", "score"], ["F1", 1, 1], ["F2", 2, 2], ["F3", 3, 3],
                                           ["F4", 4, 4]]}, _error_cells),
         "error", r"column ratio holds Excel error values.*'#DIV/0!' in row 3; '#N/A' in row 4", "ratio", (3, 4)),
    Case("Excel error values exported to csv",
         text("errors.csv", "family;ratio\nF1;0,5\nF2;#DIV/0!\nF3;#N/B\n"),
         "error", r"'#DIV/0!' in line 3; '#N/B' in line 4", "ratio", (3, 4)),
    Case("formula stored without a calculated value",
         uncalculated_formula, "error", r"1 formula cell has no calculated value: C2 \(=B2\*2\)", "C2", ()),
    Case("formula-like text in a csv",
         text("formula_text.csv", "family;remark\nF1;=SUM(A1)\nF2;@cmd\nF3;-geen\nF4;ok\n"),
         "handled", r"column remark holds 3 distinct texts that a spreadsheet would run as a formula",
         data=_is("remark", ["=SUM(A1)", "@cmd", "-geen", "ok"])),
    Case("formula-like text escaped by a writer ('=...)",
         text("escaped.csv", "family;remark\nF1;'=SUM(A1)\nF2;ok\n"),
         "handled", r"began with an apostrophe.*the apostrophe was removed", data=_is("remark", ["=SUM(A1)", "ok"])),
    Case("markup and script in category labels",
         text("markup.csv", 'family;label\nF1;<script>alert(1)</script>\nF2;"<img src=x onerror=alert(1)>"\nF3;gewoon\n'),
         "handled", r"column label holds text that looks like HTML markup",
         data=_is("label", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "gewoon"])),
    Case("column names with spaces around them",
         text("spaced_names.csv", " family ;score \nF1;1\n"),
         "handled", r"2 column names stripped of surrounding spaces"),
    Case("duplicate column names",
         text("duplicate_names.csv", "family;score;score\nF1;1;2\n"),
         "error", r"duplicate column names: 'score' \(column 2 and column 3\)", "score", ()),
    Case("a column with data but no name",
         text("unnamed.csv", "family;;score\nF1;x;1\n"),
         "error", r"column 2 has no name in the header \(line 1\) but holds data", "column 2", ()),
    # ---------------------------------------------------------------- text files
    Case("Windows-1252 (cp1252) text",
         text("cp1252.csv", "family;name\nF1;Zoë\nF2;José\n", encoding="cp1252"),
         "handled", r"decoded as Windows-1252", data=_is("name", ["Zoë", "José"])),
    Case("UTF-8 and Windows-1252 lines mixed",
         raw("mixed.csv", "family;name\nF1;Zoë\n".encode() + "F2;José\n".encode("cp1252")),
         "error", r"mixes two text encodings: 1 line is UTF-8 \(line 2, e.g. 'Zoë'\) and 1 line "
                  r"Windows-1252 \(line 3, e.g. 'José'\)", "encoding=", (2, 3)),
    Case("UTF-8 and Windows-1252 lines, decoded line by line on request",
         raw("mixed_ok.csv", "family;name\nF1;Zoë\n".encode() + "F2;José\n".encode("cp1252")),
         "handled", r"decoded line by line", read={"encoding": "mixed"}, data=_is("name", ["Zoë", "José"])),
    Case("UTF-16 with byte-order mark (Excel 'Unicode text')",
         text("unicode.txt", "family\tscore\nF1\t1\n", encoding="utf-16"),
         "handled", r"decoded as UTF-16", data=_is("score", [1])),
    Case("UTF-16 without byte-order mark",
         text("utf16le.csv", "family;score\nF1;1\n", encoding="utf-16-le"),
         "error", r"contains NUL characters", "encoding=", ()),
    Case("UTF-8 byte-order mark",
         raw("bom.csv", b"\xef\xbb\xbf" + "family;score\nF1;1\n".encode()),
         "handled", r"byte-order mark \(BOM\) at the start of the file removed", data=_is("family", ["F1"])),
    Case("'sep=;' on the first line",
         text("sep_line.csv", "sep=;\nfamily;score\nF1;1,5\n"),
         "handled", r"taken from the 'sep=' line", data=_is("score", [1.5])),
    Case("quoted text with line breaks",
         text("newlines.csv", 'family;remark;score\nF1;"regel 1\nregel 2";1\nF2;kort;2\n'),
         "handled", r"1 row holds text with line breaks \(starting on line 2\)",
         data=_is("remark", ["regel 1\nregel 2", "kort"])),
    Case("a quote that is never closed",
         text("open_quote.csv", 'family;remark\nF1;"begin\nF2;x\nF3;y\n'),
         "error", r"a double quote \(\"\) on line 2 opens a text that is never closed", "line 2", (2,)),
    Case("rows with another number of fields",
         text("ragged.csv", "family;score\nF1;1\nF2;2;3\n"),
         "error", r"line 3 has 3", "line 3", (3,)),
    Case("a text longer than an Excel cell",
         text("long_text.csv", "family;remark\nF1;" + "x" * 40_000 + "\n"),
         "error", r"line 2, column 2 holds a text of 40000 characters", "column 2", (2,)),
    Case("tab-separated text file",
         text("tabs.txt", "family\tscore\nF1\t1,5\n"),
         "handled", r"separator tab and decimal ',' detected", data=_is("score", [1.5])),
    # ---------------------------------------------------------------- files
    Case("empty file", raw("empty.csv", b""), "error", r"the file is empty \(0 bytes\)"),
    Case("header only", text("header_only.csv", "family;score\n"), "error", r"has a header but no data rows"),
    Case("a workbook named .csv", lambda f: _renamed(f, "workbook.csv"), "error",
         r"is an Excel workbook \(\.xlsx\), not a text file"),
    Case("a csv named .xlsx", text("text.xlsx", "family;score\nF1;1\n"), "error",
         r"is a text file \(csv or txt\), not an Excel workbook"),
    Case("an old .xls workbook named .xlsx", raw("old.xlsx", b"\xd0\xcf\x11\xe0" + b"\x00" * 100), "error",
         r"old Excel workbook \(\.xls\)"),
    Case("truncated workbook", truncated_workbook, "error", r"cannot be read as an Excel workbook"),
    # ---------------------------------------------------------------- SPSS
    Case("SPSS user-missing codes",
         spss("user_missing.sav", _sav_labels(), missing_ranges={"q1": [99]}),
         "handled", r"1 SPSS user-missing value in 1 column set to missing", data=_is("q1", [1, 3, np.nan])),
    Case("SPSS value labels as ordered categories",
         spss("labels.sav", _sav_labels(), variable_value_labels={"ses": {1: "laag", 2: "hoog"}}),
         "handled", r"column ses with SPSS value labels read as ordered categories", read={"value_labels": "categorical"},
         data=lambda d: d["ses"].cat.ordered and d["ses"].tolist() == ["laag", "hoog", "laag"]),
    Case("SPSS numeric ids",
         spss("numeric_ids.sav", _sav_labels()),
         "handled", r"id column family stored as numbers in the SPSS file, read as text",
         data=_is("family", ["1", "2", "3"])),
]


def _renamed(folder: Path, name: str) -> Path:
    book = workbook("real.xlsx", {"Data": [["family", "score"], ["F1", 1]]})(folder)
    path = folder / name
    path.write_bytes(book.read_bytes())
    return path
