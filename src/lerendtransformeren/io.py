"""Read data files (csv, xlsx, SPSS .sav) into tidy frames, with a record of what was read.

:func:`read_table` reads one file and returns a :class:`TableRead`: the data, a codebook in
the schema of ``docs/architecture.md``, where the data came from (with a SHA-256 checksum of
the bytes), a count of missing values per column and plain-English notes on everything that
was detected or changed. Nothing is dropped, recoded or guessed silently: every such step is
counted and written into the notes.

:func:`read_codebook` reads a ``codebook.csv`` in the same schema and checks it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from xml.etree.ElementTree import ParseError

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from lerendtransformeren.design import LEVELS
from lerendtransformeren.exceptions import DataError, DataWarning

__all__ = [
    "TableRead",
    "read_table",
    "read_codebook",
    "CODEBOOK_COLUMNS",
    "CODEBOOK_TYPES",
    "MISSING_MARKERS",
    "SEPARATORS",
    "SUPPORTED_EXTENSIONS",
]

#: Columns of a codebook, in order (schema in docs/architecture.md).
CODEBOOK_COLUMNS: tuple[str, ...] = (
    "file",
    "variable",
    "label_nl",
    "label_en",
    "type",
    "min",
    "max",
    "values",
    "missing_codes",
    "instrument",
    "level",
)
#: Allowed values of the codebook's ``type`` column.
CODEBOOK_TYPES: tuple[str, ...] = ("id", "integer", "float", "binary", "categorical", "item")
#: Cell contents (after stripping surrounding whitespace) read as missing in csv and xlsx.
#: Text answers such as ``n.v.t.`` or ``weet niet`` are never among them.
MISSING_MARKERS: tuple[str, ...] = ("", "NA", "NaN", "#NULL!", ".")
#: Separators that ``read_table`` detects in text files.
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")  # ties go to ";", the Dutch Excel export
#: File extensions ``read_table`` reads, and the format each one is read as.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
}

_CODEBOOK_REQUIRED = ("variable", "type")
_EMPTY = "(empty)"  # key of empty cells in the per-marker counts
_SYSTEM_MISSING = "(system-missing)"
_MARKER_ORDER = {(m or _EMPTY): i for i, m in enumerate(MISSING_MARKERS)}
_SHOW = 5  # how many examples (lines, columns, values) a message names
_SNIFF_RECORDS = 50
_INT64 = 2**63

_POINT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_COMMA = re.compile(
    r"[+-]?(?:(?:\d+|[1-9]\d{0,2}(?:\.\d{3})+)(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?", re.ASCII
)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_LEADING_ZERO = re.compile(r"[+-]?0\d", re.ASCII)
_SEP_LINE = re.compile(r"sep=(.)\s*")


@dataclass(frozen=True, eq=False, repr=False)
class TableRead:
    """A data file as read by :func:`read_table`, with a record of how it was read.

    Attributes
    ----------
    data : pandas.DataFrame
        The table, one row per data row of the file, column names stripped of surrounding
        whitespace. Numeric columns are ``int64`` (whole numbers, none missing) or
        ``float64``; text columns hold strings; missing values are ``NaN``.
    codebook : pandas.DataFrame
        One row per column, in the codebook schema (``CODEBOOK_COLUMNS``). From a .sav file
        it holds the variable labels (``label_nl``), value labels (``values``) and
        user-missing codes (``missing_codes``); from csv/xlsx only the inferred ``type``.
    source : dict
        ``path`` (as given), ``format``, ``sha256`` of the file bytes, ``encoding``,
        ``separator``, ``decimal``, ``sheet``, ``n_rows``, ``n_columns``.
    missing : pandas.DataFrame
        Indexed by variable: ``n_missing_in_file`` (empty cells and missing markers, or
        SPSS system-missing), ``n_user_missing`` (SPSS user-missing codes set to missing),
        ``n_total``, ``markers_in_file`` and ``user_missing_by_code`` (``marker=count``
        pairs separated by ``;``).
    notes : tuple of str
        What was detected or changed, in plain English.
    """

    data: pd.DataFrame
    codebook: pd.DataFrame
    source: dict
    missing: pd.DataFrame
    notes: tuple[str, ...]

    def __repr__(self) -> str:
        s = self.source
        shape = f"{s['n_rows']} rows x {s['n_columns']} columns"
        return f"<TableRead {s['path']!r}: {shape}, {_count(len(self.notes), 'note')}>"

    def summary(self) -> str:
        """A short multi-line text: file, shape, how it was read, missing values, notes."""
        s = self.source
        how = [s["format"]]
        for key in ("encoding", "sheet"):
            if s[key] is not None:
                how.append(f"{key} {s[key]}")
        for key in ("separator", "decimal"):
            if s[key] is not None:
                how.append(f"{key} {s[key]!r}")
        n_file = int(self.missing["n_missing_in_file"].sum())
        n_user = int(self.missing["n_user_missing"].sum())
        n_cols = int((self.missing["n_total"] > 0).sum())
        lines = [
            f"{s['path']}: {s['n_rows']} rows x {s['n_columns']} columns ({', '.join(how)})",
            f"sha256 {s['sha256']}",
            f"missing: {_count(n_file + n_user, 'value')} in {_count(n_cols, 'column')} "
            f"({n_file} missing in the file, {n_user} SPSS user-missing)",
        ]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------
def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
) -> TableRead:
    r"""Read a csv, xlsx or SPSS .sav file into a tidy frame with codebook and notes.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. The extension decides the format (``SUPPORTED_EXTENSIONS``).
    sheet : str or int, optional
        xlsx only: sheet name or 0-based position; the first sheet by default.
    sep : str, optional
        csv only: the field separator. Detected among ``, ; tab |`` by default.
    decimal : {'.', ','}, optional
        csv only: the decimal mark. By default a comma-separated file uses ``.``; in other
        files each column is read with whichever mark its values use (Dutch exports:
        ``3,5`` and ``1.234,5``).
    encoding : str, optional
        csv and sav: the text encoding. csv files are read as UTF-8 (with or without
        byte-order mark) when they are valid UTF-8, else as Windows-1252, with a note.

    Returns
    -------
    TableRead
        ``data``, ``codebook``, ``source``, ``missing`` and ``notes``.

    Raises
    ------
    DataError
        The file is missing, empty, of an unsupported kind, corrupt, has rows with another
        number of fields than the header, duplicate or empty column names, or no data rows.
    ValueError
        An option does not fit the file's format (e.g. ``sheet=`` for a csv file).

    Notes
    -----
    Read as missing: empty cells and the markers ``NA``, ``NaN``, ``#NULL!`` and ``.``
    (csv, xlsx), system-missing values and user-missing codes (.sav; the codes stay in the
    codebook). Each is counted in ``missing``. Text answers such as ``n.v.t.`` stay text.
    A column with values such as ``007`` stays text (identifiers keep their leading zeros).
    Fully empty rows at the end of the file (left by Excel) are dropped and counted.
    In R the same files are read with ``read.csv`` / ``read.csv2``, ``readxl::read_excel``
    and ``haven::read_sav(user_na = TRUE)``.

    Examples
    --------
    A semicolon-separated file with decimal commas, as Dutch Excel writes it
    (in R: ``read.csv2("scores.csv")``):

    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "scores.csv"
    ...     _ = path.write_bytes("naam;score\nZoë;3,5\nDaan;NA\n".encode("utf-8"))
    ...     table = read_table(path)
    >>> table.data
       naam  score
    0   Zoë    3.5
    1  Daan    NaN
    >>> table.source["separator"], table.source["decimal"]
    (';', ',')
    >>> print("\n".join(table.notes))
    separator ';' and decimal ',' detected (Dutch Excel export)
    column score read with a decimal comma
    treated as missing: 1 'NA' (1 cell in 1 column)
    """
    name = str(path)
    kind = _format_of(Path(path), name)
    _check_options(kind, sheet=sheet, sep=sep, decimal=decimal, encoding=encoding)
    raw = _read_bytes(Path(path), name)
    notes: list[str] = []
    source = {
        "path": name,
        "format": kind,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "encoding": None,
        "separator": None,
        "decimal": None,
        "sheet": None,
    }
    labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    missing_codes: dict[str, str] = {}
    user_missing: dict[str, Counter] = {}
    if kind == "csv":
        grid, source["encoding"], sep, sep_detected = _csv_grid(raw, name, sep, encoding, notes)
        decimals = (decimal,) if decimal else ((".",) if sep == "," else (".", ","))
        at = len(notes)
        data, in_file, _, comma_found = _tidy(grid, name, decimals, notes)
        source["separator"], source["decimal"] = sep, decimal or ("," if comma_found else ".")
        if sep_detected and comma_found:
            notes.insert(
                at, f"separator {_sep_name(sep)} and decimal ',' detected (Dutch Excel export)"
            )
        elif sep_detected:
            notes.insert(at, f"separator {_sep_name(sep)} detected")
        elif comma_found:
            notes.insert(at, "decimal ',' detected")
    elif kind == "xlsx":
        grid, source["sheet"] = _xlsx_grid(Path(path), name, sheet, notes)
        data, in_file, _, _ = _tidy(grid, name, (".", ","), notes)
    else:
        data, meta = _read_sav(Path(path), name, encoding)
        source["encoding"] = meta.file_encoding
        labels = {k: v for k, v in meta.column_names_to_labels.items() if v}
        value_labels = meta.variable_value_labels
        data, in_file, user_missing, missing_codes = _sav_missing(data, meta.missing_ranges, notes)
    source["n_rows"], source["n_columns"] = data.shape
    codebook = _infer_codebook(Path(name).name, data, labels, value_labels, missing_codes, notes)
    return TableRead(
        data=data,
        codebook=codebook,
        source=source,
        missing=_missing_table(data.columns, in_file, user_missing),
        notes=tuple(notes),
    )


def read_codebook(path: str | Path) -> pd.DataFrame:
    r"""Read and check a codebook file (csv) in the schema of docs/architecture.md.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` file with at least the columns ``variable`` and ``type``; the other
        schema columns (``CODEBOOK_COLUMNS``) are optional and added empty when absent.
        Separator and encoding are detected as in :func:`read_table`.

    Returns
    -------
    pandas.DataFrame
        The schema columns in schema order, then any further columns of the file. Text
        columns hold strings (``""`` when empty); ``min`` and ``max`` are ``float64``.

    Raises
    ------
    DataError
        Required columns missing (named), rows without a variable name, unknown ``type``
        or ``level`` values, non-numeric ``min``/``max``, ``min`` above ``max``, or a
        variable listed twice for the same file.

    Warns
    -----
    DataWarning
        The file was not valid UTF-8 and was decoded as Windows-1252.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> text = "variable,label_nl,type,min,max,values\noffer,aanbod gestart,binary,0,1,0=nee;1=ja\n"
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "codebook.csv"
    ...     _ = path.write_text(text, encoding="utf-8")
    ...     codebook = read_codebook(path)
    >>> codebook[["variable", "type", "min", "max", "values"]]
      variable    type  min  max      values
    0    offer  binary  0.0  1.0  0=nee;1=ja
    """
    name = str(path)
    kind = _format_of(Path(path), name)
    if kind != "csv":
        raise DataError(f"{name}: a codebook must be a .csv file; save it from Excel as CSV.")
    raw = _read_bytes(Path(path), name)
    decoding_notes: list[str] = []
    grid, *_ = _csv_grid(raw, name, None, None, decoding_notes)
    for note in decoding_notes:
        if note.startswith("decoded as"):
            warnings.warn(f"{name}: {note}", DataWarning, stacklevel=2)
    frame, _, where, _ = _tidy(grid, name, (), [])
    absent = [c for c in _CODEBOOK_REQUIRED if c not in frame.columns]
    if absent:
        raise DataError(
            f"{name}: the codebook lacks the required {'column' if len(absent) == 1 else 'columns'} "
            f"{_quoted(absent)}. A codebook needs at least 'variable' and 'type'; its full schema "
            f"is {', '.join(CODEBOOK_COLUMNS)} (see docs/architecture.md)."
        )
    for column in frame.columns:
        frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else str(v).strip())
    for column in CODEBOOK_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    order = list(CODEBOOK_COLUMNS) + [c for c in frame.columns if c not in CODEBOOK_COLUMNS]
    frame = frame[order]
    lines = pd.Series(where, index=frame.index)

    def fail_if(mask: pd.Series, problem: str, fix: str) -> None:
        if mask.any():
            bad = frame.index[mask]
            shown = ", ".join(
                f"line {lines[i]} ({frame.at[i, 'variable'] or 'no name'})" for i in bad[:_SHOW]
            )
            more = f" and {len(bad) - _SHOW} more" if len(bad) > _SHOW else ""
            raise DataError(f"{name}: {problem} on {shown}{more}. {fix}")

    fail_if(
        frame["variable"] == "", "no variable name", "Fill in the variable name or delete the row."
    )
    fail_if(
        ~frame["type"].isin(CODEBOOK_TYPES + ("",)),
        "an unknown type",
        f"Use one of {', '.join(CODEBOOK_TYPES)} (or leave it empty).",
    )
    fail_if(
        ~frame["level"].isin(LEVELS + ("",)),
        "an unknown level",
        f"Use one of {', '.join(LEVELS)} (or leave it empty).",
    )
    for bound in ("min", "max"):
        text = frame[bound]
        number = text.map(lambda v: _number(v, ".") if v else None)
        number = number.where(number.notna(), text.map(lambda v: _number(v, ",") if v else None))
        fail_if(
            (text != "") & number.isna(),
            f"a {bound} that is not a number",
            "Write a number or leave it empty.",
        )
        frame[bound] = number.astype("float64")
    fail_if(frame["min"] > frame["max"], "min above max", "Swap or correct the bounds.")
    fail_if(
        frame.duplicated(["file", "variable"], keep="first"),
        "a variable listed twice for the same file",
        "Keep one row per variable per file.",
    )
    return frame


# --------------------------------------------------------------------------------------
# Files and options
# --------------------------------------------------------------------------------------
def _format_of(path: Path, name: str) -> str:
    kind = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(SUPPORTED_EXTENSIONS)
        extra = " Save old .xls workbooks as .xlsx." if path.suffix.lower() == ".xls" else ""
        raise DataError(
            f"{name}: files ending in {path.suffix or '(no extension)'!r} are not supported; "
            f"supported are {known}.{extra} Export the data to .csv if in doubt."
        )
    return kind


def _check_options(kind: str, **options) -> None:
    allowed = {"csv": {"sep", "decimal", "encoding"}, "xlsx": {"sheet"}, "sav": {"encoding"}}[kind]
    for option, value in options.items():
        if value is not None and option not in allowed:
            raise ValueError(f"{option}= does not apply to {kind} files; leave it out.")
    sep, decimal = options["sep"], options["decimal"]
    if sep is not None and (len(sep) != 1 or sep in "\"\r\n"):
        raise ValueError(
            f"sep={sep!r} must be one character (not a quote or line break), e.g. ';'."
        )
    if decimal is not None and decimal not in (".", ","):
        raise ValueError(f"decimal={decimal!r} must be '.' or ','.")
    if sep is not None and sep == decimal:
        raise ValueError(f"sep and decimal are both {sep!r}; they must differ.")


def _read_bytes(path: Path, name: str) -> bytes:
    if not path.exists():
        raise DataError(
            f"{name}: file not found. Check the name and the folder (a relative path starts in "
            "the working folder, os.getcwd())."
        )
    if not path.is_file():
        raise DataError(f"{name}: is a folder, not a file. Pass the path of a file in it.")
    raw = path.read_bytes()
    if not raw:
        raise DataError(f"{name}: the file is empty (0 bytes). Export the data again.")
    return raw


# --------------------------------------------------------------------------------------
# Text files
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Grid:
    """Header and data rows of a table before typing; ``where`` locates each data row."""

    header: list
    rows: list[list]
    where: list[int]
    unit: str  # "line" (text file) or "row" (worksheet)
    header_at: int

    def column(self, j: int) -> str:
        return f"column {j + 1}" if self.unit == "line" else f"column {get_column_letter(j + 1)}"


def _csv_grid(raw: bytes, name: str, sep: str | None, encoding: str | None, notes: list[str]):
    _refuse_binary(raw, name)
    text, used = _decode(raw, name, encoding, notes)
    if "\x00" in text:
        raise DataError(
            f"{name}: contains NUL characters, which text files do not have. If it is a UTF-16 "
            "file, pass encoding='utf-16'; otherwise export the data again as CSV."
        )
    if not text.strip():
        raise DataError(f"{name}: the file holds only blank lines or spaces, no table.")
    first_line, how = 1, "given"
    declared = _SEP_LINE.fullmatch(text.split("\n", 1)[0])
    if declared:
        text = text.split("\n", 1)[1] if "\n" in text else ""
        first_line = 2
        if sep is None:
            sep, how = declared.group(1), "from the 'sep=' line"
            notes.append(
                f"separator {_sep_name(sep)} taken from the 'sep=' line Excel put on line 1 "
                "(line skipped)"
            )
        else:
            notes.append(
                f"line 1 ({declared.group(0).strip()!r}, a hint for Excel) skipped; "
                f"separator {_sep_name(sep)} as given"
            )
    if sep is None:
        sep, _, _ = _choose_separator(text, name)
        how = "detected"
    records = _parse(text, sep, name, first_line)
    if not records:
        raise DataError(f"{name}: no table after the 'sep=' line.")
    header_at, header = records[0]
    if not any(cell.strip() for cell in header):
        raise DataError(
            f"{name}: line {header_at} is empty; the first line must hold the column names."
        )
    data = records[1:]
    ragged = [
        (line, len(rec)) for line, rec in data if len(rec) != len(header) and not _is_empty(rec)
    ]
    if ragged:
        shown = ", ".join(f"line {line} has {n}" for line, n in ragged[:_SHOW])
        more = f" and {len(ragged) - _SHOW} more lines" if len(ragged) > _SHOW else ""
        alternative, consistency, width = _choose_separator(text, name)
        hint = (
            f" The file reads cleanly with sep={alternative!r}."
            if alternative != sep and consistency == 1.0 and width > 1
            else f" If the separator is not {_sep_name(sep)}, pass sep=; a text value that "
            f"contains {_sep_name(sep)} or a line break must be in double quotes."
        )
        raise DataError(
            f"{name}: {_count(len(ragged), 'row')} {'has' if len(ragged) == 1 else 'have'} "
            "another number of fields than the header "
            f"(line {header_at}: {len(header)} fields, separator {_sep_name(sep)} {how}): "
            f"{shown}{more}.{hint}"
        )
    if how == "detected" and len(header) == 1:
        notes.append("one column only: no ',', ';', tab or '|' separates the column names")
    width = len(header)
    rows = [rec if len(rec) == width else [""] * width for _, rec in data]
    grid = _Grid(header, rows, [line for line, _ in data], "line", header_at)
    return grid, used, sep, how == "detected" and width > 1


def _refuse_binary(raw: bytes, name: str) -> None:
    kinds = {
        b"PK\x03\x04": ("an Excel workbook (.xlsx)", ".xlsx"),
        b"$FL2": ("an SPSS file", ".sav"),
        b"$FL3": ("an SPSS file", ".zsav"),
    }
    for magic, (what, suffix) in kinds.items():
        if raw.startswith(magic):
            raise DataError(f"{name}: is {what}, not a text file; rename it to end in {suffix}.")


def _decode(raw: bytes, name: str, encoding: str | None, notes: list[str]) -> tuple[str, str]:
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise ValueError(
                f"encoding={encoding!r} is not a known encoding; try 'utf-8' or 'cp1252'."
            ) from None
        except UnicodeDecodeError as err:
            raise DataError(
                f"{name}: cannot be decoded as {encoding!r} (byte {raw[err.start]:#04x} at position "
                f"{err.start}); leave encoding= out to let read_table detect the encoding."
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(
                f"{name}: starts like UTF-16 text but is not valid UTF-16; export it again as "
                "CSV UTF-8."
            ) from None
        notes.append("decoded as UTF-16 (Excel 'Unicode text' export)")
        return text, "utf-16"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        position = err.start
    else:
        if raw.startswith(b"\xef\xbb\xbf"):
            notes.append("UTF-8 byte-order mark (BOM) at the start of the file removed")
            return text, "utf-8-sig"
        return text, "utf-8"
    try:
        text, used, label = raw.decode("cp1252"), "cp1252", "Windows-1252 (cp1252)"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined; Latin-1 defines every byte
        text, used, label = raw.decode("latin-1"), "latin-1", "Latin-1"
    start, end = position, position + 1
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    line = raw.count(b"\n", 0, position) + 1
    notes.append(
        f"decoded as {label} because the file is not valid UTF-8 (first non-UTF-8 byte on "
        f"line {line}, read as {text[start:end]!r}); check that accented letters read correctly"
    )
    return text, used


def _parse(
    text: str, sep: str, name: str, first_line: int = 1, limit: int | None = None
) -> list[tuple[int, list[str]]]:
    """Records of a text file with the file line on which each starts."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out = []
    start = first_line
    try:
        for record in islice(reader, limit):
            out.append((start, record))
            start = first_line + reader.line_num
    except csv.Error as err:
        line = first_line + reader.line_num - 1
        raise DataError(f"{name}: line {line} cannot be read ({err}).") from None
    return out


def _choose_separator(text: str, name: str) -> tuple[str, float, int]:
    """The separator that splits the header into most fields consistently with the rows.

    Each candidate is scored on the first records (quotes respected): does it split the
    header at all, which share of the rows has as many fields as the header, and how many
    fields. Returns the separator, that share and the header's number of fields.
    """
    scored = []
    for rank, candidate in enumerate(SEPARATORS):
        sample = _parse(text, candidate, name, limit=_SNIFF_RECORDS)
        records = [rec for _, rec in sample if not _is_empty(rec)]
        width = len(records[0]) if records else 0
        rows = records[1:]
        consistency = sum(len(r) == width for r in rows) / len(rows) if rows else 1.0
        scored.append(((width > 1, consistency, width, -rank), candidate))
    (_, consistency, width, _), best = max(scored)
    return best, consistency, width


def _sep_name(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


def _is_empty(cells) -> bool:
    return all(_is_blank(c) for c in cells)


def _is_blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


# --------------------------------------------------------------------------------------
# Workbooks
# --------------------------------------------------------------------------------------
def _xlsx_grid(
    path: Path, name: str, sheet: str | int | None, notes: list[str]
) -> tuple[_Grid, str]:
    broken = (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ParseError, EOFError)
    advice = (
        "Open it in Excel and save it again as .xlsx (without password), or export the sheet "
        "to .csv."
    )
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except broken as err:
        raise DataError(
            f"{name}: cannot be read as an Excel workbook ({type(err).__name__}: {err}). {advice}"
        ) from None
    try:
        names = book.sheetnames
        position = isinstance(sheet, int) and not isinstance(sheet, bool)
        listing = ", ".join(repr(n) for n in names)
        if sheet is None:
            chosen = names[0]
            if len(names) > 1:
                notes.append(
                    f"read sheet {chosen!r}, the first of {len(names)} sheets ({listing}); "
                    "pass sheet= for another"
                )
        elif position and -len(names) <= sheet < len(names):
            chosen = names[sheet]
        elif isinstance(sheet, str) and sheet in names:
            chosen = sheet
        else:
            raise DataError(
                f"{name}: there is no sheet {sheet!r}; the workbook has {listing}. Pass sheet= "
                "one of these names or a 0-based position."
            )
        try:
            cells = [list(row) for row in book[chosen].iter_rows(values_only=True)]
        except broken as err:
            raise DataError(
                f"{name}: sheet {chosen!r} cannot be read ({type(err).__name__}: {err}). {advice}"
            ) from None
    finally:
        book.close()
    if not cells or _is_empty(cells[0]):
        raise DataError(
            f"{name}: row 1 of sheet {chosen!r} is empty; the first row must hold the column names."
        )
    width = max(len(row) for row in cells)
    cells = [row + [None] * (width - len(row)) for row in cells]
    header = ["" if c is None else str(c) for c in cells[0]]
    return _Grid(header, cells[1:], list(range(2, len(cells) + 1)), "row", 1), chosen


# --------------------------------------------------------------------------------------
# From grid to typed frame
# --------------------------------------------------------------------------------------
def _tidy(grid: _Grid, name: str, decimals: tuple[str, ...], notes: list[str]):
    """Header checks, empty rows, missing markers and number parsing, shared by csv and xlsx.

    Returns the frame, the per-column marker counts, the file location of each row and
    whether columns were read with a decimal comma that the file's values showed.
    """
    header = [h.strip() for h in grid.header]
    rows, where = list(grid.rows), list(grid.where)
    trailing = 0
    while rows and _is_empty(rows[-1]):
        rows.pop()
        trailing += 1
    if trailing:
        span = (
            f"{grid.unit} {where[-1]}"
            if trailing == 1
            else f"{grid.unit}s {where[len(rows)]}-{where[-1]}"
        )
        notes.append(f"{_count(trailing, 'fully empty ' + grid.unit)} at the end dropped ({span})")
        where = where[: len(rows)]
    if not rows:
        raise DataError(
            f"{name}: has a header but no data rows. Export the data again, with the rows."
        )
    middle = [w for row, w in zip(rows, where) if _is_empty(row)]
    if middle:
        notes.append(
            f"{_count(len(middle), 'fully empty ' + grid.unit)} between the data kept as rows with all "
            f"values missing ({grid.unit}{'s' * (len(middle) > 1)} {_listing(middle)})"
        )
    unnamed = [j for j, h in enumerate(header) if not h]
    holding = [j for j in unnamed if not all(_is_blank(row[j]) for row in rows)]
    if holding:
        one = len(holding) == 1
        raise DataError(
            f"{name}: {_listing([grid.column(j) for j in holding])} {'has' if one else 'have'} no "
            f"name in the header ({grid.unit} {grid.header_at}) but {'holds' if one else 'hold'} "
            "data. Type a column name in the header."
        )
    if unnamed:
        notes.append(
            f"{_count(len(unnamed), 'column')} without name and without data dropped "
            f"({_listing([grid.column(j) for j in unnamed])}; empty columns left by Excel)"
        )
    keep = [j for j, h in enumerate(header) if h]
    counts = Counter(header[j] for j in keep)
    doubles = [h for h in counts if counts[h] > 1]
    if doubles:
        shown = "; ".join(
            f"{h!r} ({' and '.join(grid.column(j) for j in keep if header[j] == h)})"
            for h in doubles[:_SHOW]
        )
        raise DataError(f"{name}: duplicate column names: {shown}. Give every column its own name.")

    markers: dict[str, Counter] = {}
    cells: dict[str, list] = {}
    for j in keep:
        column, found = [], Counter()
        for row in rows:
            value = row[j]
            key = _marker(value)
            if key is None:
                column.append(value)
            else:
                found[key] += 1
                column.append(None)
        markers[header[j]] = Counter(dict(sorted(found.items(), key=_marker_order)))
        cells[header[j]] = column
    data, comma_found = _type_columns(cells, decimals, notes)
    total = Counter()
    for found in markers.values():
        total.update(found)
    if total:
        parts = ", ".join(
            _count(n, "empty cell") if k == _EMPTY else f"{n} {k!r}"
            for k, n in sorted(total.items(), key=_marker_order)
        )
        n_cols = sum(1 for found in markers.values() if found)
        notes.append(
            f"treated as missing: {parts} "
            f"({_count(sum(total.values()), 'cell')} in {_count(n_cols, 'column')})"
        )
    return data, markers, where, comma_found


def _marker_order(item: tuple[str, int]) -> int:
    return _MARKER_ORDER[item[0]]


def _marker(value) -> str | None:
    if value is None:
        return _EMPTY
    if isinstance(value, str):
        text = value.strip()
        if text in MISSING_MARKERS:
            return text or _EMPTY
    return None


def _type_columns(cells: dict[str, list], decimals: tuple[str, ...], notes: list[str]):
    """Type each column: numbers (with the decimal mark its values use), dates, or text."""
    readings: dict[str, dict[str, dict]] = {}
    leading = []
    for column, values in cells.items():
        uniques = {v for v in values if v is not None}
        readings[column] = {}
        for mark in decimals:
            parsed = {u: _number(u, mark) for u in uniques}
            if uniques and all(p is not None for p in parsed.values()):
                readings[column][mark] = parsed
        zeros = sorted(u for u in uniques if isinstance(u, str) and _LEADING_ZERO.match(u.strip()))
        if readings[column] and zeros:
            leading.append((column, zeros[0]))
            readings[column] = {}
    only_comma = [c for c, r in readings.items() if list(r) == [","]]
    only_point = [c for c, r in readings.items() if list(r) == ["."]]
    file_mark = "," if only_comma else "."
    thousands = [c for c, r in readings.items() if len(r) == 2 and r["."] != r[","]]

    data, mostly = {}, []
    for column, values in cells.items():
        options = readings[column]
        mark = file_mark if file_mark in options else next(iter(options), None)
        if mark is not None:
            data[column] = _numeric_column(values, options[mark])
        elif all(v is None for v in values):
            data[column] = pd.Series(np.nan, index=range(len(values)), dtype="float64")
        elif all(isinstance(v, (datetime, date)) for v in values if v is not None):
            data[column] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            present = [v for v in values if v is not None]
            numeric = [v for v in present if any(_number(v, m) is not None for m in decimals)]
            if len(present) < 2 * len(numeric) and column not in dict(leading):
                others = sorted({str(v) for v in present} - {str(v) for v in numeric})
                mostly.append((column, len(present) - len(numeric), len(present), others[:3]))
            data[column] = pd.Series([np.nan if v is None else str(v) for v in values])
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(next(iter(cells.values())))))

    if only_comma and len(decimals) == 2:
        notes.append(f"{_columns(only_comma)} read with a decimal comma")
        if only_point:
            verb = "uses" if len(only_point) == 1 else "use"
            notes.append(
                f"{_columns(only_point)} {verb} a decimal point while others use a decimal "
                "comma; read with a decimal point"
            )
        if thousands:
            notes.append(
                f"in {_columns(thousands)} values such as '1.234' read as 1234: '.' taken as "
                "thousands separator because the file uses decimal commas"
            )
    elif thousands:
        notes.append(
            f"in {_columns(thousands)} values such as '1.234' read with a decimal point (1.234); "
            "pass decimal=',' if '.' separates thousands"
        )
    for column, example in leading:
        notes.append(
            f"column {column} kept as text: values such as {example!r} have leading zeros "
            "(identifiers?)"
        )
    for column, n_text, n, examples in mostly:
        notes.append(
            f"column {column} kept as text: {n_text} of {n} values are not numbers "
            f"(e.g. {', '.join(repr(e) for e in examples)}); recode them to numbers or missing "
            "if needed"
        )
    return frame, bool(only_comma) and len(decimals) == 2


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _columns(names: list[str]) -> str:
    word = "column" if len(names) == 1 else "columns"
    return f"{word} {_listing(names)}"


def _listing(items: list) -> str:
    shown = ", ".join(str(i) for i in items[:_SHOW])
    return shown + (f" and {len(items) - _SHOW} more" if len(items) > _SHOW else "")


def _quoted(items: list[str]) -> str:
    return ", ".join(repr(i) for i in items)


def _number(value, mark: str):
    """The number a cell holds under decimal mark ``mark`` (int or float), or ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if mark == ".":
        if not _POINT.fullmatch(text):
            return None
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    if not _COMMA.fullmatch(text):
        return None
    text = text.replace(".", "")
    return int(text) if _INTEGER.fullmatch(text) else float(text.replace(",", "."))


def _numeric_column(values: list, parsed: dict) -> pd.Series:
    numbers = [None if v is None else parsed[v] for v in values]
    whole = all(isinstance(n, int) for n in numbers)
    if whole and all(-_INT64 <= n < _INT64 for n in numbers):
        return pd.Series(numbers, dtype="int64")
    return pd.Series([np.nan if n is None else float(n) for n in numbers], dtype="float64")


# --------------------------------------------------------------------------------------
# SPSS
# --------------------------------------------------------------------------------------
def _read_sav(path: Path, name: str, encoding: str | None):
    try:
        frame, meta = pyreadstat.read_sav(
            str(path), user_missing=True, dates_as_pandas_datetime=True, encoding=encoding
        )
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError) as err:
        raise DataError(
            f"{name}: cannot be read as an SPSS file ({err}). Open it in SPSS or PSPP and save "
            "it again, or export it to .csv."
        ) from None
    if frame.empty:
        raise DataError(f"{name}: has a header (variable definitions) but no data rows (cases).")
    return frame, meta


def _sav_missing(frame: pd.DataFrame, ranges: dict[str, list[dict]], notes: list[str]):
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
                found[_EMPTY] = int(blank.sum())
                values = values.where(~blank, np.nan)
        else:
            if values.isna().any():
                found[_SYSTEM_MISSING] = int(values.isna().sum())
        in_file[column] = found
        user[column] = Counter()
        spans = ranges.get(column, [])
        if spans:
            mask = pd.Series(False, index=values.index)
            for span in spans:
                lo, hi = span["lo"], span["hi"]
                mask |= (values == lo) if lo == hi else values.between(lo, hi)
            found_codes = values[mask].value_counts().sort_index()
            user[column] = Counter({_code(v): int(n) for v, n in found_codes.items()})
            values = values.where(~mask, np.nan)
            codes[column] = ";".join(
                _code(s["lo"]) if s["lo"] == s["hi"] else f"{_code(s['lo'])}..{_code(s['hi'])}"
                for s in spans
            )
        # NaN differs from itself, so a column with missing values stays float
        if pd.api.types.is_float_dtype(values) and (values == values.round()).all():
            values = values.astype("int64")
        frame[column] = values
    n_user = sum(sum(c.values()) for c in user.values())
    if n_user:
        n_cols = sum(1 for c in user.values() if c)
        notes.append(
            f"{_count(n_user, 'SPSS user-missing value')} in {_count(n_cols, 'column')} set to missing "
            "(codes in codebook column missing_codes, counts in missing)"
        )
    n_blank = sum(c[_EMPTY] for c in in_file.values())
    if n_blank:
        notes.append(f"{_count(n_blank, 'empty text value')} set to missing")
    return frame, in_file, user, codes


def _code(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --------------------------------------------------------------------------------------
# Codebook and missing table
# --------------------------------------------------------------------------------------
def _infer_codebook(file, data, labels, value_labels, missing_codes, notes) -> pd.DataFrame:
    rows = []
    dates = []
    for column in data.columns:
        series = data[column]
        coded = value_labels.get(column, {})
        if coded:
            observed = set(series.dropna().unique())
            kind = "binary" if set(coded) | observed <= {0, 1} else "categorical"
        elif pd.api.types.is_datetime64_any_dtype(series):
            kind = ""
            dates.append(column)
        elif pd.api.types.is_numeric_dtype(series):
            present = series.dropna()
            kind = "integer" if len(present) and (present == present.round()).all() else "float"
        else:
            kind = "categorical"
        pairs = []
        for code, label in coded.items():
            if ";" in str(label):
                notes.append(
                    f"value label {label!r} of {column} written with ',' for ';' "
                    "(';' separates codebook values)"
                )
            pairs.append(f"{_code(code)}={str(label).replace(';', ',')}")
        rows.append(
            {
                "file": file,
                "variable": column,
                "label_nl": labels.get(column, ""),
                "label_en": "",
                "type": kind,
                "min": np.nan,
                "max": np.nan,
                "values": ";".join(pairs),
                "missing_codes": missing_codes.get(column, ""),
                "instrument": "",
                "level": "",
            }
        )
    if dates:
        one = len(dates) == 1
        notes.append(
            f"{_columns(dates)} {'holds' if one else 'hold'} dates; the codebook has no date "
            f"type, so {'its' if one else 'their'} type is left empty"
        )
    frame = pd.DataFrame(rows, columns=list(CODEBOOK_COLUMNS))
    return frame.astype({"min": "float64", "max": "float64"})


def _missing_table(columns, in_file: dict[str, Counter], user: dict[str, Counter]) -> pd.DataFrame:
    def pairs(counter: Counter) -> str:
        return ";".join(f"{k}={n}" for k, n in counter.items())

    rows = []
    for column in columns:
        a, b = in_file.get(column, Counter()), user.get(column, Counter())
        n_file, n_user = sum(a.values()), sum(b.values())
        rows.append(
            {
                "variable": column,
                "n_missing_in_file": n_file,
                "n_user_missing": n_user,
                "n_total": n_file + n_user,
                "markers_in_file": pairs(a),
                "user_missing_by_code": pairs(b),
            }
        )
    counts = ["n_missing_in_file", "n_user_missing", "n_total"]
    table = pd.DataFrame(
        rows, columns=["variable", *counts, "markers_in_file", "user_missing_by_code"]
    )
    return table.set_index("variable").astype(dict.fromkeys(counts, "int64"))
