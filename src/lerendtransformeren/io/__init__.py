"""Read data files (csv, xlsx, SPSS .sav) into tidy frames, with a record of what was read.

:func:`read_table` reads one file and returns a :class:`TableRead`: the data, a codebook in
the schema of ``docs/architecture.md``, where the data came from (with a SHA-256 checksum of
the bytes), a count of missing values per column and plain-English notes on everything that
was detected or changed. Nothing is dropped, recoded or guessed silently: every such step is
counted and written into the notes, and what cannot be read safely (decimal marks that
contradict each other, dates Excel made of categories, Excel error values, text in two
encodings, merged cells) raises a :class:`~lerendtransformeren.exceptions.DataError` that
names the file, the column, the rows and the fix.

:func:`read_codebook` reads a ``codebook.csv`` in the same schema and checks it;
:func:`write_table` writes .csv, .xlsx and .sav files safely.

Row numbers
-----------
Rows are named as the user sees them: in a workbook the sheet's row numbers, in a text file
the line on which a row starts (the header row has its own number; data row ``i`` is on
``source["first_row"] + i``, unless text values hold line breaks, which a note reports).
:func:`lerendtransformeren.design.validate` takes ``first_row=table.source["first_row"]``.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lerendtransformeren.display import SummaryText, View, frame_grid
from lerendtransformeren.exceptions import PYTHON, DataWarning, OptionNames
from lerendtransformeren.io._codebook import (
    CODEBOOK_COLUMNS,
    CODEBOOK_TYPES,
    check_codebook,
    codebook_frame,
    infer_codebook,
    missing_table,
)
from lerendtransformeren.io._columns import type_table
from lerendtransformeren.io._excel import read_xlsx
from lerendtransformeren.io._spss import VALUE_LABELS, ids_as_text, labelled, read_sav, sav_missing
from lerendtransformeren.io._text import SEPARATORS, read_text
from lerendtransformeren.io._util import EXCEL_ERRORS, ID_COLUMNS, MISSING_MARKERS, Context, count, sep_name
from lerendtransformeren.io.write import WRITE_EXTENSIONS, write_table

__all__ = [
    "TableRead",
    "read_table",
    "read_codebook",
    "write_table",
    "CODEBOOK_COLUMNS",
    "CODEBOOK_TYPES",
    "EXCEL_ERRORS",
    "ID_COLUMNS",
    "MISSING_MARKERS",
    "SEPARATORS",
    "SUPPORTED_EXTENSIONS",
    "WRITE_EXTENSIONS",
]

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
_DECIMALS = (".", ",", "both")
_OPTIONS = {
    "csv": {"sep", "decimal", "encoding", "header_row"},
    "xlsx": {"sheet", "header_row"},
    "sav": {"encoding", "value_labels"},
}


@dataclass(frozen=True, eq=False, repr=False)
class TableRead:
    """A data file as read by :func:`read_table`, with a record of how it was read.

    Attributes
    ----------
    data : pandas.DataFrame
        The table, one row per data row of the file, column names stripped of surrounding
        whitespace. Numeric columns are ``int64`` (whole numbers, none missing) or
        ``float64``; text columns (and id columns) hold strings; missing values are ``NaN``.
        With ``value_labels="categorical"`` (.sav) labelled columns are ordered categoricals.
    codebook : pandas.DataFrame
        One row per column, in the codebook schema (``CODEBOOK_COLUMNS``). From a .sav file
        it holds the variable labels (``label_nl``), value labels (``values``) and
        user-missing codes (``missing_codes``); from csv/xlsx only the inferred ``type``.
    source : dict
        ``path`` (as given), ``format``, ``sha256`` of the file bytes, ``encoding``,
        ``separator``, ``decimal``, ``sheet``, ``header_row`` (file row of the column
        names), ``first_row`` (file row of the first data row: data row ``i`` is on row
        ``first_row + i``; 1 for .sav, whose cases SPSS numbers from 1), ``n_rows``,
        ``n_columns``.
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

    def _how(self) -> str:
        """How the file was read: format, encoding, sheet, separator, decimal mark."""
        s = self.source
        how = [s["format"]]
        for key in ("encoding", "sheet"):
            if s[key] is not None:
                how.append(f"{key} {s[key]}")
        for key in ("separator", "decimal"):
            if s[key] is not None:
                how.append(f"{key} {s[key]!r}")
        return ", ".join(how)

    def _missing_text(self) -> str:
        n_file = int(self.missing["n_missing_in_file"].sum())
        n_user = int(self.missing["n_user_missing"].sum())
        n_cols = int((self.missing["n_total"] > 0).sum())
        return (f"{count(n_file + n_user, 'value')} in {count(n_cols, 'column')} "
                f"({n_file} missing in the file, {n_user} SPSS user-missing)")

    def summary(self) -> SummaryText:
        """A short multi-line text: file, shape, how it was read, missing values, notes.

        A ``str`` that a notebook cell shows as text.
        """
        s = self.source
        lines = [
            f"{s['path']}: {s['n_rows']} rows x {s['n_columns']} columns ({self._how()})",
            f"sha256 {s['sha256']}",
            f"missing: {self._missing_text()}",
        ]
        lines += [f"- {note}" for note in self.notes]
        return SummaryText("\n".join(lines))

    def __repr__(self) -> str:
        return self._view().text()

    def _repr_html_(self) -> str:
        return self._view().html()

    def _view(self) -> View:
        """The file, how it was read, missing values, the notes and the first rows."""
        return View(
            f"TableRead: {self.source['path']}",
            facts=[("Read as", self._how()), ("Missing", self._missing_text()),
                   ("SHA-256", self.source["sha256"])],
            grids=[frame_grid(self.data, "Data")],
            notes=list(self.notes),
            hint="More: .data, .codebook, .missing, .source, .notes, .summary()",
        )


def read_table(
    path: str | Path,
    *,
    sheet: str | int | None = None,
    header_row: int | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    id_columns: tuple[str, ...] | list[str] | None = None,
    value_labels: str = "codes",
    options: OptionNames = PYTHON,
) -> TableRead:
    r"""Read a csv, xlsx or SPSS .sav file into a tidy frame with codebook and notes.

    Parameters
    ----------
    path : str or pathlib.Path
        The file. The extension decides the format (``SUPPORTED_EXTENSIONS``).
    sheet : str or int, optional
        xlsx only: sheet name or 0-based position. By default the first sheet, unless it
        looks like notes or a title page while the workbook has more sheets: then an error
        lists the sheets with their sizes.
    header_row : int, optional
        csv and xlsx: the row (xlsx) or line (csv) of the column names, 1-based as Excel and
        text editors count. By default the first row that looks like a header (mostly
        text, about as wide as the table); rows above it are read as title, with a note.
    sep : str, optional
        csv only: the field separator. Detected among ``, ; tab |`` by default.
    decimal : {'.', ',', 'both'}, optional
        csv only: the decimal mark. ``','`` reads ``.`` as thousands separator
        (``1.234,5``); ``'both'`` reads ``.`` and ``,`` both as decimal marks, without
        thousands separators. By default a comma-separated file uses ``.``; in other files
        each column is read with the mark its values use, and a column whose values contradict
        each other (``3,5`` next to ``3.556``, which is 3.556 or 3556) is an error.
    encoding : str, optional
        csv and sav: the text encoding. csv files are read as UTF-8 (with or without
        byte-order mark) when they are valid UTF-8, else as Windows-1252, with a note. A
        file with UTF-8 lines and Windows-1252 lines is an error, unless ``'mixed'``:
        then each line is decoded by itself, with a note.
    id_columns : sequence of str, optional
        Columns read as text whatever they hold (ids: ``'0007'`` stays ``'0007'``,
        ``'10.10'`` is not ``'10.1'``); ids stored as numbers in a workbook or SPSS file
        become text with a note. Default ``ID_COLUMNS`` (organisation, team, professional,
        family, youth).
    value_labels : {'codes', 'categorical'}
        sav only: ``'codes'`` (default) keeps the codes, as the codebook and the scoring
        functions expect (the labels are in the codebook's ``values``); ``'categorical'``
        gives ordered categoricals of the labels, in the order of their codes.
    options : OptionNames
        How messages name the options (see :class:`~lerendtransformeren.exceptions.OptionNames`);
        Python argument names by default.

    Returns
    -------
    TableRead
        ``data``, ``codebook``, ``source``, ``missing`` and ``notes``.

    Raises
    ------
    DataError
        The file cannot be read safely; the message names the file, the column and the
        rows, and ends with ``Fix:``.
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
    >>> table.source["separator"], table.source["decimal"], table.source["first_row"]
    (';', ',', 2)
    >>> print("\n".join(table.notes))
    separator ';' and decimal ',' detected (Dutch Excel export)
    column score read with a decimal comma
    treated as missing: 1 'NA' (1 cell in 1 column)
    """
    name = str(path)
    ctx = Context(name, options)
    kind = _format_of(Path(path), ctx)
    _check_options(kind, ctx, sheet=sheet, header_row=header_row, sep=sep, decimal=decimal,
                   encoding=encoding, value_labels=value_labels)
    raw = _read_bytes(Path(path), ctx)
    ids = ID_COLUMNS if id_columns is None else tuple(id_columns)
    source = {"path": name, "format": kind, "sha256": hashlib.sha256(raw).hexdigest(),
              "encoding": None, "separator": None, "decimal": None, "sheet": None,
              "header_row": None, "first_row": 1}
    labels, coded, missing_codes, user, whole = {}, {}, {}, {}, {}
    if kind == "sav":
        data, meta = read_sav(Path(path), encoding, ctx)
        source["encoding"] = meta.file_encoding
        labels = {k: v for k, v in meta.column_names_to_labels.items() if v}
        coded = meta.variable_value_labels
        data, in_file, user, missing_codes = sav_missing(data, meta.missing_ranges, ctx)
        data = ids_as_text(data, ids, ctx)
        if value_labels == "categorical":
            data = labelled(data, coded, ctx)
    else:
        if kind == "csv":
            parse = None if decimal is None else ("." if decimal == "." else ",")
            table, info = read_text(raw, sep, encoding, header_row, ctx, typed=(parse, frozenset(ids)))
            allowed = (".",) if info.separator == "," else (".", ",")
            source["encoding"], source["separator"] = info.encoding, info.separator
        else:
            table, source["sheet"] = read_xlsx(Path(path), raw, sheet, header_row, ctx)
            allowed = (".", ",")
        at = len(ctx.notes)
        data, in_file, comma_found, whole = type_table(table, decimal, ids, allowed, ctx)
        source["decimal"] = decimal or ("," if comma_found else ".")
        if kind == "csv":
            _note_separator(info, comma_found, at, ctx)
        else:
            source["decimal"] = None
        source["header_row"], source["first_row"] = table.header_at, int(table.at[0])
    _note_absent_ids(id_columns, data, ctx)
    source["n_rows"], source["n_columns"] = data.shape
    codebook = infer_codebook(Path(name).name, data, labels, coded, missing_codes, ctx, whole)
    return TableRead(data, codebook, source, missing_table(data.columns, in_file, user), tuple(ctx.notes))


def _note_separator(info, comma_found: bool, at: int, ctx: Context) -> None:
    if info.detected and comma_found:
        ctx.notes.insert(at, f"separator {sep_name(info.separator)} and decimal ',' detected (Dutch Excel export)")
    elif info.detected:
        ctx.notes.insert(at, f"separator {sep_name(info.separator)} detected")
    elif comma_found:
        ctx.notes.insert(at, "decimal ',' detected")


def _note_absent_ids(id_columns, data: pd.DataFrame, ctx: Context) -> None:
    if id_columns is None:
        return
    absent = [c for c in id_columns if c not in data.columns]
    if absent:
        ctx.notes.append(
            f"id column{'s' * (len(absent) > 1)} {', '.join(repr(c) for c in absent)} given in "
            f"{ctx.options.of('id_columns')} not in the file"
        )


def read_codebook(path: str | Path, *, options: OptionNames = PYTHON) -> pd.DataFrame:
    r"""Read and check a codebook file (csv) in the schema of docs/architecture.md.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.csv`` file with at least the columns ``variable`` and ``type``; the other
        schema columns (``CODEBOOK_COLUMNS``) are optional and added empty when absent.
        Separator and encoding are detected as in :func:`read_table`.
    options : OptionNames
        How messages name options (Python argument names by default).

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
    ctx = Context(str(path), options)
    if _format_of(Path(path), ctx) != "csv":
        raise ctx.fail("a codebook must be a .csv file.", "save it from Excel as CSV (semicolon or comma separated).")
    raw = _read_bytes(Path(path), ctx)
    table, _ = read_text(raw, None, None, None, ctx)
    for note in ctx.notes:
        if note.startswith("decoded as"):
            warnings.warn(f"{ctx.name}: {note}", DataWarning, stacklevel=2)
    frame, lines = codebook_frame(table, ctx)
    return check_codebook(frame, lines, ctx)


# --------------------------------------------------------------------------------------
# Files and options
# --------------------------------------------------------------------------------------
def _format_of(path: Path, ctx: Context) -> str:
    kind = SUPPORTED_EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(SUPPORTED_EXTENSIONS)
        extra = " Save old .xls workbooks as .xlsx." if path.suffix.lower() == ".xls" else ""
        raise ctx.fail(
            f"files ending in {path.suffix or '(no extension)'!r} are not supported; supported "
            f"are {known}.",
            f"export the data to .csv.{extra}",
        )
    return kind


def _check_options(kind: str, ctx: Context, **options) -> None:
    o = ctx.options
    for option, value in options.items():
        default = "codes" if option == "value_labels" else None
        if value != default and option not in _OPTIONS[kind]:
            raise ValueError(f"{o.of(option)} does not apply to {kind} files; leave it out.")
    sep, decimal, header_row = options["sep"], options["decimal"], options["header_row"]
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1 or sep in "\"\r\n"):
        raise ValueError(f"{o.of('sep', sep)} must be one character (not a quote or line break), e.g. ';'.")
    if decimal is not None and decimal not in _DECIMALS:
        raise ValueError(f"{o.of('decimal', decimal)} must be '.', ',' or 'both'.")
    if sep is not None and sep == decimal:
        raise ValueError(f"{o.of('sep')} and {o.of('decimal')} are both {sep!r}; they must differ.")
    if header_row is not None and (isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1):
        raise ValueError(f"{o.of('header_row', header_row)} must be a row number, 1 for the first row.")
    if options["value_labels"] not in VALUE_LABELS:
        raise ValueError(f"{o.of('value_labels', options['value_labels'])} must be one of {', '.join(map(repr, VALUE_LABELS))}.")


def _read_bytes(path: Path, ctx: Context) -> bytes:
    if not path.exists():
        raise ctx.fail(
            "file not found.",
            "check the name and the folder (a relative path starts in the working folder, "
            "os.getcwd()).",
        )
    if not path.is_file():
        raise ctx.fail("is a folder, not a file.", "give the path of a file in it.")
    raw = path.read_bytes()
    if not raw:
        raise ctx.fail("the file is empty (0 bytes).", "export the data again.")
    return raw
