"""The codebook (schema of docs/architecture.md): inferred from a table, read from csv."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

from lerendtransformeren.design import LEVELS
from lerendtransformeren.io._layout import blank_rows, drop_empty_rows, named_columns
from lerendtransformeren.io._util import SHOW, Context, Raw, code_text, columns, is_blank, quoted

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
_REQUIRED = ("variable", "type")
_NUMBER = re.compile(r"[+-]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?")


def infer_codebook(file, data, labels, value_labels, missing_codes, ctx: Context, whole=None) -> pd.DataFrame:
    """One codebook row per column: inferred type, SPSS labels and user-missing codes.

    ``whole``: for some numeric columns, whether all values are whole numbers (known).
    """
    whole = whole or {}
    rows, dates = [], []
    for column in data.columns:
        series = data[column]
        coded = value_labels.get(column, {})
        if coded:
            observed = set(series.dropna().unique()) if not isinstance(series.dtype, pd.CategoricalDtype) else set()
            kind = "binary" if set(coded) | observed <= {0, 1} else "categorical"
        elif pd.api.types.is_datetime64_any_dtype(series):
            kind = ""
            dates.append(column)
        elif column in whole:
            kind = "integer" if whole[column] else "float"
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.to_numpy(dtype=np.float64)
            values = values[~np.isnan(values)]
            kind = "integer" if len(values) and bool((values == np.round(values)).all()) else "float"
        else:
            kind = "categorical"
        pairs = []
        for code, label in coded.items():
            if ";" in str(label):
                ctx.notes.append(
                    f"value label {label!r} of {column} written with ',' for ';' "
                    "(';' separates codebook values)"
                )
            pairs.append(f"{code_text(code)}={str(label).replace(';', ',')}")
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
        ctx.notes.append(
            f"{columns(dates)} {'holds' if one else 'hold'} dates; the codebook has no date "
            f"type, so {'its' if one else 'their'} type is left empty"
        )
    frame = pd.DataFrame(rows, columns=list(CODEBOOK_COLUMNS))
    return frame.astype({"min": "float64", "max": "float64"})


def missing_table(columns_, in_file: dict[str, Counter], user: dict[str, Counter]) -> pd.DataFrame:
    """Missing values per column: in the file, SPSS user-missing, total, by marker/code."""
    def pairs(counter: Counter) -> str:
        return ";".join(f"{k}={n}" for k, n in counter.items())

    rows = []
    for column in columns_:
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
    table = pd.DataFrame(rows, columns=["variable", *counts, "markers_in_file", "user_missing_by_code"])
    return table.set_index("variable").astype(dict.fromkeys(counts, "int64"))


def codebook_frame(raw: Raw, ctx: Context) -> tuple[pd.DataFrame, pd.Series]:
    """A codebook file's cells as stripped text ('' when empty), and the line of each row."""
    blanks = [np.array([is_blank(v) for v in values], dtype=bool) for values in raw.columns]
    keep = drop_empty_rows(raw, blank_rows(raw, blanks), ctx)
    kept = named_columns(raw, [b[:keep] for b in blanks], ctx)
    markers = {"", "NA", "NaN", "#NULL!", "."}
    frame = pd.DataFrame(
        {
            name: [
                "" if is_blank(v) or str(v).strip() in markers else str(v).strip()
                for v in raw.columns[j][:keep]
            ]
            for name, j in ((n, j) for j, n in kept)
        },
        index=pd.RangeIndex(keep),
    )
    absent = [c for c in _REQUIRED if c not in frame.columns]
    if absent:
        raise ctx.fail(
            f"the codebook lacks the required {'column' if len(absent) == 1 else 'columns'} "
            f"{quoted(absent)}. A codebook needs at least 'variable' and 'type'; its full schema "
            f"is {', '.join(CODEBOOK_COLUMNS)} (see docs/architecture.md).",
            "add the missing columns to the codebook (or rename the columns that hold them).",
        )
    for column in CODEBOOK_COLUMNS:
        if column not in frame.columns:
            frame[column] = ""
    order = list(CODEBOOK_COLUMNS) + [c for c in frame.columns if c not in CODEBOOK_COLUMNS]
    return frame[order], pd.Series(raw.at[:keep], index=frame.index)


def check_codebook(frame: pd.DataFrame, lines: pd.Series, ctx: Context) -> pd.DataFrame:
    """Check a codebook's content; ``min`` and ``max`` become numbers."""
    def fail_if(mask: pd.Series, problem: str, fix: str) -> None:
        if mask.any():
            bad = frame.index[mask]
            shown = ", ".join(
                f"line {lines[i]} ({frame.at[i, 'variable'] or 'no name'})" for i in bad[:SHOW]
            )
            more = f" and {len(bad) - SHOW} more" if len(bad) > SHOW else ""
            raise ctx.fail(f"{problem} on {shown}{more}.", fix)

    fail_if(frame["variable"] == "", "no variable name", "fill in the variable name or delete the row.")
    fail_if(
        ~frame["type"].isin(CODEBOOK_TYPES + ("",)),
        "an unknown type",
        f"use one of {', '.join(CODEBOOK_TYPES)} (or leave it empty).",
    )
    fail_if(
        ~frame["level"].isin(LEVELS + ("",)),
        "an unknown level",
        f"use one of {', '.join(LEVELS)} (or leave it empty).",
    )
    for bound in ("min", "max"):
        text = frame[bound]
        ok = text.map(lambda v: bool(_NUMBER.fullmatch(v)))
        fail_if((text != "") & ~ok, f"a {bound} that is not a number", "write a number or leave it empty.")
        frame[bound] = [float(v.replace(",", ".")) if v else np.nan for v in text]
        frame[bound] = frame[bound].astype("float64")
    fail_if(frame["min"] > frame["max"], "min above max", "swap or correct the bounds.")
    fail_if(
        frame.duplicated(["file", "variable"], keep="first"),
        "a variable listed twice for the same file",
        "keep one row per variable per file.",
    )
    return frame
