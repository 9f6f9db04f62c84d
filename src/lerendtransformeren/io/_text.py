"""Text files (csv, tsv, txt): encoding, separator, header row and fields.

The fields are split by pandas' C parser, read as text (``dtype=object``); before that a
vectorised pass over the bytes counts the fields of every record (quotes respected), so
that rows with another number of fields than the header are named by their lines. Files
the fast pass cannot vouch for (stray quotes, old Mac line ends) are split again with the
standard ``csv`` module, which is the reference.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

import numpy as np
import pandas as pd

from lerendtransformeren.io._layout import HEADER_SCAN, find_header, header_note
from lerendtransformeren.io._util import (
    EXCEL_CELL_LIMIT,
    SHOW,
    Context,
    Raw,
    count,
    is_empty,
    listing,
    sep_name,
)

#: Separators that ``read_table`` detects in text files.
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")  # ties go to ";", the Dutch Excel export
_SNIFF_RECORDS = 50
_SEP_LINE = re.compile(r"sep=(.)\s*")
_QUOTE, _NEWLINE, _CR = ord('"'), ord("\n"), ord("\r")


@dataclass(frozen=True)
class TextInfo:
    """How a text file was read."""

    encoding: str
    separator: str
    detected: bool  # separator detected (not given, not from a 'sep=' line)


def read_text(raw: bytes, sep, encoding, header_row, ctx: Context, typed=None) -> tuple[Raw, TextInfo]:
    """The cells of a text file, from its header row on.

    ``typed``: ``(decimal mark, id column names)`` to let pandas parse the numbers (see
    :func:`_fast`), or None to read every cell as text.
    """
    refuse_binary(raw, ctx)
    text, used = decode(raw, encoding, ctx)
    if "\x00" in text:
        raise ctx.fail(
            "contains NUL characters, which text files do not have.",
            f"if it is a UTF-16 file, set {ctx.options.of('encoding', 'utf-16')}; otherwise "
            "export the data again as CSV.",
        )
    if not text.strip():
        raise ctx.fail("the file holds only blank lines or spaces, no table.", "export the data again.")
    first_line, how = 1, "given"
    declared = _SEP_LINE.fullmatch(text.split("\n", 1)[0])
    if declared:
        text = text.split("\n", 1)[1] if "\n" in text else ""
        first_line = 2
        if sep is None:
            sep, how = declared.group(1), "from the 'sep=' line"
            ctx.notes.append(
                f"separator {sep_name(sep)} taken from the 'sep=' line Excel put on line 1 "
                "(line skipped)"
            )
        else:
            ctx.notes.append(
                f"line 1 ({declared.group(0).strip()!r}, a hint for Excel) skipped; "
                f"separator {sep_name(sep)} as given"
            )
        if not text.strip():
            raise ctx.fail("no table after the 'sep=' line.", "export the data again.")
    if sep is None:
        sep, _, _ = choose_separator(text, ctx)
        how = "detected"
    if typed is not None and typed[0] is None:
        typed = ("." if sep == "," else ",", typed[1])
    if typed is not None and typed[0] == sep:
        typed = None
    table = _split(text, sep, first_line, header_row, how, typed, ctx)
    if how == "detected" and len(table.header) == 1:
        ctx.notes.append("one column only: no ',', ';', tab or '|' separates the column names")
    return table, TextInfo(used, sep, how == "detected" and len(table.header) > 1)


def refuse_binary(raw: bytes, ctx: Context) -> None:
    kinds = {
        b"PK\x03\x04": ("an Excel workbook (.xlsx)", ".xlsx"),
        b"$FL2": ("an SPSS file", ".sav"),
        b"$FL3": ("an SPSS file", ".zsav"),
        b"\xd0\xcf\x11\xe0": ("an old Excel workbook (.xls) or another Office file", ".xls"),
    }
    for magic, (what, suffix) in kinds.items():
        if raw.startswith(magic):
            fix = (
                "open it in Excel and save it as .xlsx or CSV."
                if suffix == ".xls"
                else f"rename it to end in {suffix}."
            )
            raise ctx.fail(f"is {what}, not a text file.", fix)


# --------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------
def decode(raw: bytes, encoding: str | None, ctx: Context) -> tuple[str, str]:
    """Text of the file and the encoding used (UTF-8, UTF-16 with BOM, or Windows-1252)."""
    if encoding is not None and encoding.lower() != "mixed":
        return _decode_as(raw, encoding, ctx)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ctx.fail(
                "starts like UTF-16 text but is not valid UTF-16.", "export it again as CSV UTF-8."
            ) from None
        ctx.notes.append("decoded as UTF-16 (Excel 'Unicode text' export)")
        return text, "utf-16"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        position = err.start
    else:
        if raw.startswith(b"\xef\xbb\xbf"):
            ctx.notes.append("UTF-8 byte-order mark (BOM) at the start of the file removed")
            return text, "utf-8-sig"
        return text, "utf-8"
    utf8, other = _lines_by_encoding(raw)
    if utf8:
        if encoding is None:
            raise _mixed_error(raw, utf8, other, ctx)
        return _decode_mixed(raw, utf8, other, ctx)
    return _decode_single_byte(raw, position, ctx)


def _decode_as(raw: bytes, encoding: str, ctx: Context) -> tuple[str, str]:
    try:
        return raw.decode(encoding), encoding
    except LookupError:
        raise ValueError(
            f"{ctx.options.of('encoding', encoding)} is not a known encoding; try 'utf-8', "
            "'cp1252' or 'mixed'."
        ) from None
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ctx.fail(
            f"cannot be decoded as {encoding!r} (byte {raw[err.start]:#04x} on line {line}, "
            f"position {err.start}).",
            f"leave {ctx.options.of('encoding')} out to let the encoding be detected.",
        ) from None


def _decode_single_byte(raw: bytes, position: int, ctx: Context) -> tuple[str, str]:
    try:
        text, used, label = raw.decode("cp1252"), "cp1252", "Windows-1252 (cp1252)"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined; Latin-1 defines every byte
        text, used, label = raw.decode("latin-1"), "latin-1", "Latin-1"
    line = raw.count(b"\n", 0, position) + 1
    ctx.notes.append(
        f"decoded as {label} because the file is not valid UTF-8 (first non-UTF-8 byte on "
        f"line {line}, read as {_word_at(text, position)!r}); check that accented letters "
        "read correctly"
    )
    return text, used


def _word_at(text: str, position: int) -> str:
    start, end = position, position + 1
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _lines_by_encoding(raw: bytes) -> tuple[list[int], list[int]]:
    """Lines (1-based) that are non-ASCII UTF-8, and lines that are not valid UTF-8."""
    utf8, other = [], []
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    for number, line in enumerate(body.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(number)
        else:
            utf8.append(number)
    return utf8, other


def _mixed_error(raw: bytes, utf8: list[int], other: list[int], ctx: Context):
    lines = (raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw).split(b"\n")
    a = _non_ascii_word(lines[utf8[0] - 1].decode("utf-8"))
    b = _non_ascii_word(lines[other[0] - 1].decode("cp1252", "replace"))
    return ctx.fail(
        f"mixes two text encodings: {count(len(utf8), 'line')} {'is' if len(utf8) == 1 else 'are'} "
        f"UTF-8 ({_lines(utf8)}, e.g. {a!r}) and {count(len(other), 'line')} "
        f"Windows-1252 ({_lines(other)}, e.g. {b!r}); the file was probably put together from "
        "two exports.",
        f"set {ctx.options.of('encoding', 'mixed')} to decode each line by itself (noted), or "
        "open the file in a text editor, save it as UTF-8 and check the accented letters on "
        "those lines.",
    )


def _decode_mixed(raw: bytes, utf8: list[int], other: list[int], ctx: Context) -> tuple[str, str]:
    parts = []
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    for line in body.split(b"\n"):
        try:
            parts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            parts.append(line.decode("cp1252", "replace"))
    ctx.notes.append(
        f"decoded line by line (encoding 'mixed'): {count(len(utf8), 'line')} with accented "
        f"letters as UTF-8 ({_lines(utf8)}), {count(len(other), 'line')} as Windows-1252 "
        f"({_lines(other)}); check that accented letters read correctly"
    )
    return "\n".join(parts), "mixed"


def _lines(numbers: list[int]) -> str:
    return f"line{'s' * (len(numbers) != 1)} {listing(numbers)}"


def _non_ascii_word(line: str) -> str:
    for word in re.split(r"[\s;,\t|\"]+", line):
        if not word.isascii():
            return word[:30]
    return line[:30]


# --------------------------------------------------------------------------------------
# Separator
# --------------------------------------------------------------------------------------
def choose_separator(text: str, ctx: Context) -> tuple[str, float, int]:
    """The separator that splits the header into most fields consistently with the rows.

    Each candidate is scored on the first records (quotes respected): does it split the
    header at all, which share of the rows has as many fields as the header, and how many
    fields. Returns the separator, that share and the header's number of fields. Title
    rows above the header are passed over: the widest of the first records counts.
    """
    head = text[: 1 << 16]
    scored = []
    for rank, candidate in enumerate(SEPARATORS):
        sample = parse(head, candidate, ctx, limit=_SNIFF_RECORDS)
        records = [rec for _, rec in sample if not is_empty(rec)]
        if len(head) < len(text) and len(records) > 1:
            records = records[:-1]  # the last record may be cut off
        start = find_header(records) or 0
        width = len(records[start]) if records else 0
        rows = records[start + 1 :]
        consistency = sum(len(r) == width for r in rows) / len(rows) if rows else 1.0
        scored.append(((width > 1, consistency, width, -rank), candidate))
    (_, consistency, width, _), best = max(scored)
    return best, consistency, width


def parse(
    text: str, sep: str, ctx: Context, first_line: int = 1, limit: int | None = None
) -> list[tuple[int, list[str]]]:
    """Records of a text file with the file line on which each starts (``csv`` module)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out = []
    start = first_line
    old = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        for record in islice(reader, limit):
            out.append((start, record))
            start = first_line + reader.line_num
    except csv.Error as err:
        line = first_line + reader.line_num - 1
        raise ctx.fail(f"line {line} cannot be read ({err}).", "export the data again as CSV.") from None
    finally:
        csv.field_size_limit(old)
    return out


# --------------------------------------------------------------------------------------
# Records and fields
# --------------------------------------------------------------------------------------
class _Records:
    """Records of a text file found on its bytes: offsets, lines, field counts.

    A record ends at a line break outside double quotes. Without any quote in the file
    every line is a record, and field counts are only worked out when needed.
    """

    def __init__(self, data: bytes, sep: str, first_line: int) -> None:
        self.data, self.sep = data, sep
        b = self.bytes = np.frombuffer(data, dtype=np.uint8)
        newline = b == _NEWLINE
        all_breaks = np.flatnonzero(newline)
        self.quoted = data.find(b'"') >= 0
        self.balanced = True
        self._inside = None
        breaks = all_breaks
        if self.quoted:
            inside = (np.cumsum(b == _QUOTE, dtype=np.uint8) & 1).view(bool)
            self.balanced = not inside[-1]
            breaks = np.flatnonzero(newline & ~inside)
            self._inside = inside
        starts = np.concatenate([[0], breaks + 1])
        ends = np.concatenate([breaks, [len(b)]])
        if starts[-1] == len(b):
            starts, ends = starts[:-1], ends[:-1]
        cr = (ends > starts) & (b[np.maximum(ends - 1, 0)] == _CR)
        self.starts, self.ends = starts, ends - cr
        if self.quoted:
            self.lines = np.searchsorted(all_breaks, starts) + first_line
        else:
            self.lines = np.arange(first_line, first_line + len(starts))

    @cached_property
    def is_sep(self) -> np.ndarray:
        """Bytes that are separators outside quotes."""
        is_sep = self.bytes == ord(self.sep)
        return is_sep & ~self._inside if self._inside is not None else is_sep

    @cached_property
    def zeros(self) -> np.ndarray:
        return self.bytes == 48

    @cached_property
    def seps(self) -> np.ndarray:
        return np.flatnonzero(self.is_sep)

    @cached_property
    def fields(self) -> np.ndarray:
        return np.searchsorted(self.seps, self.ends) - np.searchsorted(self.seps, self.starts) + 1

    def fits(self, h: int, width: int) -> bool:
        """Whether every record after record ``h`` has ``width`` fields or is blank."""
        lengths = self.ends - self.starts
        if (lengths > EXCEL_CELL_LIMIT).any():
            return False
        if not self.quoted:  # no quotes: count the separators of the whole body at once
            body = self.bytes[self.starts[h + 1] :] if h + 1 < len(self.starts) else self.bytes[:0]
            filled = int((lengths[h + 1 :] > 0).sum())
            if np.count_nonzero(body == ord(self.sep)) == filled * (width - 1):
                return True
        fields = self.fields[h + 1 :]
        blank = lengths[h + 1 :] == 0
        for i in np.flatnonzero((fields == 1) & (fields != width) & ~blank):
            blank[i] = not self.data[self.starts[h + 1 + i] : self.ends[h + 1 + i]].strip()
        return not ((fields != width) & ~blank).any()


def _records(data: bytes, sep: str, first_line: int) -> _Records:
    return _Records(data, sep, first_line)


def _split(text: str, sep: str, first_line: int, header_row, how: str, typed, ctx: Context) -> Raw:
    head = text if len(text) < 1 << 20 else text[: 1 << 20]
    sample = parse(head, sep, ctx, first_line, limit=HEADER_SCAN)
    if len(head) < len(text) and len(sample) < HEADER_SCAN:
        sample = parse(text, sep, ctx, first_line, limit=HEADER_SCAN)
    lines = [line for line, _ in sample]
    rows = [rec for _, rec in sample]
    if header_row is None:
        index = find_header(rows) or 0
        header_line = lines[index] if lines else first_line
    else:
        header_line = header_row
        if header_row < first_line:
            raise ctx.fail(
                f"{ctx.options.of('header_row', header_row)} is above the table (line "
                f"{first_line} is the first line after the 'sep=' line).",
                f"set {ctx.options.of('header_row')} to the line of the column names.",
            )
    table = None
    if sep.isascii() and len(sep) == 1:
        records = _records(text.encode("utf-8"), sep, first_line)
        table = _fast(records, sep, header_line, typed, ctx)
    if table is None:
        table = _slow(text, sep, first_line, header_line, how, ctx)
    if is_empty(table.header):
        raise ctx.fail(
            f"line {table.header_at} is empty; it must hold the column names.",
            f"remove the empty lines above the column names, or set {ctx.options.of('header_row')}.",
        )
    if header_row is None and table.header_at in lines:
        header_note(rows, lines.index(table.header_at), "line", first_line, ctx)
    return table


def _fast(rec: _Records, sep: str, header_line: int, typed, ctx: Context) -> Raw | None:
    """The table split by pandas' C parser, or None when the slow path must decide.

    With ``typed`` (the decimal mark to parse with, and the id columns), pandas parses the
    numbers; a column it reads as numbers held nothing but whole numbers, numbers with
    that decimal mark and empty cells (any other text makes it a text column). Columns
    where that is not the whole story (leading zeros, infinities, more digits than a
    float keeps, booleans) are read again as text and classified like every text column.
    """
    h = int(np.searchsorted(rec.lines, header_line))
    if not rec.balanced or h >= len(rec.lines) or rec.lines[h] != header_line:
        return None
    line = rec.data[rec.starts[h] : rec.ends[h]].decode("utf-8")
    if "\r" in line:  # old Mac line ends: the csv module decides
        return None
    header = next(csv.reader([line], delimiter=sep), [])
    width = len(header)
    if not width or not rec.fits(h, width):
        return None
    last = _last_filled(rec, h, sep)
    columns = _parse_body(rec, h, last, sep, header, typed)
    if columns is None:
        return None
    at = rec.lines[h + 1 : last + 1]
    if rec.quoted:
        multi = np.zeros(len(rec.lines), dtype=bool)
        multi[:-1] = np.diff(rec.lines) > 1
        multi[-1] = b"\n" in rec.data[rec.starts[-1] : rec.ends[-1]]
        _note_multiline(at, np.flatnonzero(multi[h + 1 : last + 1]), ctx)
    raw = Raw(header, columns, at, "line", header_line, trailing=rec.lines[last + 1 :])
    if typed is not None:
        raw.decimal = typed[0]
        raw.comma_columns = lambda: _comma_columns(rec, h)
    return raw


def _last_filled(rec: _Records, h: int, sep: str) -> int:
    """Index of the last record after ``h`` that holds anything but separators and spaces."""
    last = len(rec.starts) - 1
    while last > h and not rec.data[rec.starts[last] : rec.ends[last]].replace(sep.encode(), b"").strip():
        last -= 1
    return last


def _parse_body(rec: _Records, h: int, last: int, sep: str, header: list[str], typed) -> list | None:
    """Columns of records ``h + 1 .. last``: numpy arrays of numbers (typed) or text (object).

    Empty records at the end are left to the caller, so that pandas does not see them
    (they would make a column of whole numbers a float column).
    """
    width = len(header)
    n = last - h
    if n == 0:
        return [np.empty(0, dtype=object) for _ in range(width)]
    end = rec.starts[last + 1] if last + 1 < len(rec.starts) else len(rec.data)
    body = rec.data[rec.starts[h + 1] : end]
    if typed is None:
        frame = _read(body, sep, width, dtype=object, na_filter=False)
        return None if frame is None or len(frame) != n else [frame[j].to_numpy() for j in range(width)]
    decimal, ids = typed
    text = {j: object for j, name in enumerate(header) if name.strip() in ids}
    frame = _read(body, sep, width, dtype=text, keep_default_na=False, na_values=[""], decimal=decimal)
    if frame is None or len(frame) != n:
        return None
    zeros = _leading_zero_columns(rec, h, sep)
    columns, redo = [], []
    for j in range(width):
        values = frame[j]
        kind = values.dtype.kind
        if kind in "if" and j not in zeros and _plain_numbers(values.to_numpy()):
            columns.append(values.to_numpy())
        elif j in text or isinstance(values.dtype, pd.StringDtype):
            columns.append(values.to_numpy(dtype=object))
        else:  # booleans, numbers beyond int64, numbers with leading zeros: read as text
            columns.append(None)
            redo.append(j)
    if redo:
        again = _read(body, sep, width, dtype=object, na_filter=False, usecols=redo)
        if again is None or len(again) != n:
            return None
        for j in redo:
            columns[j] = again[j].to_numpy()
    return columns


#: pandas before 3.0 parses numbers with its "high" precision parser, which can be one unit
#: in the last place off (seen on subnormal numbers by `make test-floors`); 3.0 parses
#: exactly by default and deprecates the option.
_EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}


def _read(body: bytes, sep: str, width: int, **options) -> pd.DataFrame | None:
    """pandas' C parser on the data records; None if it cannot split them."""
    try:
        with warnings.catch_warnings():
            # a column with numbers in one chunk and text in another comes back as object
            # (mixed types), and is then read again as text: no need for the warning
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(
                io.BytesIO(body),
                sep=sep,
                header=None,
                names=range(width),
                skip_blank_lines=False,
                encoding="utf-8",
                engine="c",
                quotechar='"',
                doublequote=True,
                on_bad_lines="error",
                **_EXACT_FLOATS,
                **options,
            )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return None


def _plain_numbers(values: np.ndarray) -> bool:
    """Numbers pandas read as the classification would: finite, exact (at most 15 digits)."""
    if values.dtype.kind == "i" or not len(values):
        return True
    with np.errstate(invalid="ignore"):
        largest = np.fmax.reduce(np.abs(values))  # NaN only if every value is NaN
    return bool(np.isnan(largest) or largest < 1e15)


def _leading_zero_columns(rec: _Records, h: int, sep: str) -> set[int]:
    """Columns with a field that starts with 0 and another digit ('007', '"007"', ' 007')."""
    offset = int(rec.starts[h + 1])
    b = rec.bytes[offset - 1 :] if offset else np.concatenate([[_NEWLINE], rec.bytes]).astype(np.uint8)
    if len(b) < 3:
        return set()
    found = b[:-2] == ord(sep)  # in-place masks: a few fast passes over the bytes
    for start in (_NEWLINE, _QUOTE, 32):
        found |= b[:-2] == start
    found &= b[1:-1] == 48
    found &= (b[2:] - np.uint8(48)) < 10  # a digit ('0'..'9'; smaller bytes wrap around)
    hits = np.flatnonzero(found) + offset  # positions of the zeros
    return set(np.unique(_field_of(rec, hits)).tolist()) if len(hits) else set()


def _comma_columns(rec: _Records, h: int) -> set[int]:
    """Columns with a whole number written with a decimal comma ('3,0', '12,00')."""
    offset = int(rec.starts[h + 1]) if h + 1 < len(rec.starts) else len(rec.data)
    b = rec.bytes
    candidates = np.flatnonzero((b[offset:-1] == ord(",")) & rec.zeros[offset + 1 :]) + offset
    hits, k = [], 2
    while len(candidates):
        after = b[np.minimum(candidates + k, len(b) - 1)]
        end = (candidates + k >= len(b)) | (after == ord(rec.sep)) | (after == _NEWLINE) | (after == _CR)
        hits.append(candidates[end | (after == _QUOTE)])
        candidates, k = candidates[(after == 48) & ~end], k + 1
    hits = np.concatenate(hits) if hits else candidates
    return set(np.unique(_field_of(rec, hits)).tolist()) if len(hits) else set()


def _field_of(rec: _Records, positions: np.ndarray) -> np.ndarray:
    """The 0-based field (column) of each byte position."""
    record = np.searchsorted(rec.starts, positions, side="right") - 1
    starts = rec.starts[record]
    if not rec.quoted and len(positions) <= 1000:  # few: count the separators before each
        sep = rec.sep.encode()
        return np.array([rec.data.count(sep, a, p) for a, p in zip(starts, positions)], dtype=np.int64)
    return np.searchsorted(rec.seps, positions) - np.searchsorted(rec.seps, starts)


def _note_multiline(at: np.ndarray, long: np.ndarray, ctx: Context) -> None:
    """Note rows whose text values hold line breaks (then lines and rows differ)."""
    if len(long):
        places = _lines([int(at[i]) for i in long])
        ctx.notes.append(
            f"{count(len(long), 'row')} hold{'s' * (len(long) == 1)} text with line breaks "
            f"(starting on {places}): messages of read_table name the line where a row "
            "starts; row numbers elsewhere count rows as Excel shows them, so after such a "
            "row they are lower than line numbers in a text editor"
        )


def _slow(text: str, sep: str, first_line: int, header_line: int, how: str, ctx: Context) -> Raw:
    """The table split by the ``csv`` module, with exact messages for rows that do not fit."""
    records = parse(text, sep, ctx, first_line)
    found = [i for i, (line, _) in enumerate(records) if line == header_line]
    if not found:
        raise ctx.fail(
            f"there is no line {header_line} where a row starts (the file has "
            f"{count(len(records), 'row')}, ending on line {records[-1][0] if records else first_line}).",
            f"set {ctx.options.of('header_row')} to the line of the column names.",
        )
    h = found[0]
    header_at, header = records[h]
    data = records[h + 1 :]
    _check_quotes(text, data, ctx)
    ragged = [(line, len(r)) for line, r in data if len(r) != len(header) and not is_empty(r)]
    if ragged:
        raise _ragged_error(text, sep, how, header_at, len(header), ragged, ctx)
    _check_field_lengths(data, ctx)
    width = len(header)
    rows = [r if len(r) == width else [""] * width for _, r in data]
    cells = np.empty((len(rows), width), dtype=object)
    if rows:
        cells[:] = rows
    at = np.array([line for line, _ in data], dtype=np.int64)
    spans = [r for r in range(len(data)) if any("\n" in f or "\r" in f for f in data[r][1])]
    _note_multiline(at, np.array(spans, dtype=int), ctx)
    return Raw(list(header), [cells[:, j] for j in range(width)], at, "line", header_at)


def _check_quotes(text: str, data: list, ctx: Context) -> None:
    """A double quote that opens a text and is never closed swallows the rest of the file."""
    if not data or text.count('"') % 2 == 0:
        return
    line, record = data[-1]
    if any("\n" in field for field in record):
        raise ctx.fail(
            f"a double quote (\") on line {line} opens a text that is never closed, so the rest "
            "of the file would be read as one value.",
            "remove the stray quote or close the text with a second quote (a quote inside a "
            'quoted text is written twice: "").',
        )


def _check_field_lengths(data: list, ctx: Context) -> None:
    for line, record in data:
        for j, field in enumerate(record):
            if len(field) > EXCEL_CELL_LIMIT:
                raise ctx.fail(
                    f"line {line}, column {j + 1} holds a text of {len(field)} characters, more "
                    f"than an Excel cell holds ({EXCEL_CELL_LIMIT}); usually a double quote (\") "
                    "that opens a text is not closed where it should be.",
                    "check the quotes on that line and the lines after it, or export the data "
                    "again.",
                )


def _ragged_error(text, sep, how, header_at, width, ragged, ctx: Context):
    shown = ", ".join(f"line {line} has {n}" for line, n in ragged[:SHOW])
    more = f" and {len(ragged) - SHOW} more lines" if len(ragged) > SHOW else ""
    alternative, consistency, best = choose_separator(text, ctx)
    if alternative != sep and consistency == 1.0 and best > 1:
        fix = f"the file reads cleanly with {ctx.options.of('sep', alternative)}."
    else:
        fix = (
            f"if the separator is not {sep_name(sep)}, set {ctx.options.of('sep')}; a text "
            f"value that contains {sep_name(sep)} or a line break must be in double quotes."
        )
    n = len(ragged)
    return ctx.fail(
        f"{count(n, 'row')} {'has' if n == 1 else 'have'} another number of fields than the "
        f"header (line {header_at}: {width} fields, separator {sep_name(sep)} {how}): "
        f"{shown}{more}.",
        fix,
    )
