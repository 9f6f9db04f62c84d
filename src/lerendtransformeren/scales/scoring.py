"""One vectorised scorer for every instrument definition."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.scales.change import _kiresuk_sherman
from lerendtransformeren.scales.instrument import Instrument, get

__all__ = ["score", "check_test_vectors"]

_MAX_SHOWN = 5


def _resolve(code_or_codes: str | Instrument | Sequence[str | Instrument]) -> list[Instrument]:
    if isinstance(code_or_codes, (str, Instrument)):
        code_or_codes = [code_or_codes]
    out = [c if isinstance(c, Instrument) else get(c) for c in code_or_codes]
    if not out:
        raise SpecificationError("no instrument given. Pass a code such as 'sdq_parent' or a list of codes.")
    codes = [inst.code for inst in out]
    if len(set(codes)) != len(codes):
        raise SpecificationError(f"instrument codes {codes} repeat; each output column must be unique. List each once.")
    return out


def _rows(labels: Iterable) -> str:
    labels = list(labels)
    shown = ", ".join(repr(x) for x in labels[:_MAX_SHOWN])
    return shown + (f" (and {len(labels) - _MAX_SHOWN} more)" if len(labels) > _MAX_SHOWN else "")


def _numeric_column(col: pd.Series, name: str, value_labels: Mapping | None) -> np.ndarray:
    """One item column as float (NaN = missing); text codes mapped or rejected."""
    if pd.api.types.is_bool_dtype(col):
        raise DataError(f"column {name!r} is boolean; item responses must be numeric codes. Recode it (e.g. to 0/1).")
    if pd.api.types.is_numeric_dtype(col):
        return col.to_numpy(dtype=float, na_value=np.nan)
    values = col.astype(object)
    if value_labels is not None:
        values = values.map(lambda v: value_labels.get(v, v) if isinstance(v, str) else v)
    converted = pd.to_numeric(values, errors="coerce")
    bad = converted.isna() & values.notna()
    if bad.any():
        shown = list(dict.fromkeys(values[bad].tolist()))[:_MAX_SHOWN]
        raise DataError(
            f"column {name!r} holds text that is not a response code: {shown} in rows "
            f"{_rows(col.index[bad])}. Map labels to codes via the codebook, e.g. "
            "score(df, code, value_labels={'nooit': 0, 'soms': 1, 'vaak': 2}), or clean the column."
        )
    return converted.to_numpy(dtype=float)


def _item_block(
    df: pd.DataFrame, inst: Instrument, prefix: str, value_labels: Mapping | None
) -> np.ndarray:
    """Raw item matrix (rows x items), range-checked, reverse keys applied."""
    columns = [prefix + item for item in inst.items]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"instrument {inst.code!r}: item column(s) {missing[:_MAX_SHOWN]}"
            f"{' ...' if len(missing) > _MAX_SHOWN else ''} not in the data ({len(missing)} of "
            f"{len(columns)} missing). Rename the columns to {columns[0]}..{columns[-1]} "
            "or pass prefix= for wide data (e.g. prefix='t0_')."
        )
    duplicated = sorted({c for c in columns if list(df.columns).count(c) > 1})
    if duplicated:
        raise DataError(f"item column(s) {duplicated} occur more than once in the data. Keep one of each.")
    x = np.column_stack([_numeric_column(df[c], c, value_labels) for c in columns])
    observed = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        bad = observed & ((x < inst.response_min) | (x > inst.response_max) | (x != np.round(x)))
    if bad.any():
        parts = []
        for j in np.flatnonzero(bad.any(axis=0))[:_MAX_SHOWN]:
            rows = df.index[bad[:, j]]
            vals = sorted(set(x[bad[:, j], j].tolist()))[:_MAX_SHOWN]
            parts.append(f"{columns[j]!r}: values {vals} in rows {_rows(rows)}")
        raise DataError(
            f"instrument {inst.code!r}: responses outside the integer codes "
            f"{inst.response_min}..{inst.response_max}: " + "; ".join(parts) + ". "
            "Check the coding (e.g. 1..3 instead of 0..2) and declare user-missing codes such as 9 or 99 as missing."
        )
    if inst.reverse:
        rev = [inst.items.index(i) for i in inst.reverse]
        x[:, rev] = inst.response_min + inst.response_max - x[:, rev]
    return x


def _round_half_away(v: np.ndarray, digits: int) -> np.ndarray:
    """Round half away from zero (SPSS ``RND``), robust to binary representation error."""
    factor = 10.0**digits
    return np.sign(v) * np.floor(np.abs(v) * factor + 0.5 + 1e-9) / factor


def _score_instrument(x: np.ndarray, inst: Instrument) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    answered = ~np.isnan(x)
    filled = np.where(answered, x, 0.0)
    position = {item: j for j, item in enumerate(inst.items)}
    values: dict[str, np.ndarray] = {}
    insufficient: dict[str, int] = {}
    for s in inst.scores:
        if s.items:
            idx = [position[i] for i in s.items]
            n = answered[:, idx].sum(axis=1)
            enough = n >= s.min_answered
            with np.errstate(invalid="ignore", divide="ignore"):
                if s.aggregation == "kiresuk_sherman":
                    v = _kiresuk_sherman(x[:, idx], np.ones(len(idx)), s.rho)
                else:
                    total = filled[:, idx].sum(axis=1)
                    v = {"sum": total, "mean": total / n, "prorated_sum": total / n * len(idx)}[s.aggregation]
        else:
            comps = np.column_stack([values[c] for c in s.of_scores])
            enough = ~np.isnan(comps).any(axis=1)
            v = comps.sum(axis=1) if s.aggregation == "sum" else comps.mean(axis=1)
        v = np.where(enough, v * s.multiply + s.add, np.nan)
        if s.rounding is not None:
            v = _round_half_away(v, s.rounding)
        values[s.name] = v
        insufficient[s.name] = int((~enough).sum())
    values["n_answered"] = answered.sum(axis=1).astype(float)
    return values, insufficient


def score(
    df: pd.DataFrame,
    code_or_codes: str | Instrument | Sequence[str | Instrument],
    *,
    prefix: str | None = None,
    value_labels: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score one or more instruments; one row per input row, aligned with ``df.index``.

    The scorer applies the reverse keys, the minimum-answered rule, the aggregation
    (sum, mean, prorated sum = mean x number of items, Kiresuk-Sherman T for GAS), the
    transformation and the rounding of each definition. Work is done on the item block
    as a numpy array; there is no loop over rows.

    Parameters
    ----------
    df : pandas.DataFrame
        Item columns named as in the definition (``sdq_01`` ...), raw as ticked.
    code_or_codes : str, Instrument or list of these
        Shipped codes (see :func:`available`) and/or instruments from :func:`load`.
    prefix : str, optional
        Prepended to every item column name and every output column name, for wide
        data such as ``t0_sdq_01``.
    value_labels : mapping, optional
        Text label -> response code for columns that hold labels (e.g. exported from
        SPSS): ``{"nooit": 0, "soms": 1, "vaak": 2}``. Without it, text raises DataError.

    Returns
    -------
    pandas.DataFrame
        Columns ``<code>_<score>`` per score and ``<code>_n_answered`` (items answered
        of the instrument). A score is NaN where fewer items than its ``min_answered``
        were answered (a composite: where a component is NaN).
        ``result.attrs["n_insufficient"]`` maps every score column to the number of
        rows set to NaN by that rule.

    Raises
    ------
    DataError
        Missing item columns; text that is not a code; values outside the response
        range (the message lists item, values and up to five row labels).
    SpecificationError
        Unknown instrument code.

    Notes
    -----
    R equivalent: ``psych::scoreItems(keys, items, totals = TRUE)`` for plain sums (it
    imputes rather than applies a minimum-answered rule) or the instrument's published
    SPSS/R syntax (e.g. the SDQ syntax at sdqinfo.org).

    Examples
    --------
    >>> import pandas as pd
    >>> from lerendtransformeren import scales
    >>> df = pd.DataFrame({f"uwes_{i:02d}": [6, 3] for i in range(1, 10)}, index=["a", "b"])
    >>> df.loc["b", "uwes_01"] = None
    >>> out = scales.score(df, "uwes9")
    >>> out[["uwes9_vigour", "uwes9_total", "uwes9_n_answered"]]
       uwes9_vigour  uwes9_total  uwes9_n_answered
    a           6.0          6.0               9.0
    b           NaN          NaN               8.0
    >>> out.attrs["n_insufficient"]["uwes9_vigour"]
    1
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"score() needs a pandas DataFrame, got {type(df).__name__}.")
    prefix = prefix or ""
    columns: dict[str, np.ndarray] = {}
    insufficient: dict[str, int] = {}
    for inst in _resolve(code_or_codes):
        values, short = _score_instrument(_item_block(df, inst, prefix, value_labels), inst)
        for name, v in values.items():
            columns[f"{prefix}{inst.code}_{name}"] = v
        for name, k in short.items():
            insufficient[f"{prefix}{inst.code}_{name}"] = k
    out = pd.DataFrame(columns, index=df.index)
    out.attrs["n_insufficient"] = insufficient
    return out


def check_test_vectors(inst: Instrument, *, tol: float = 1e-6) -> list[str]:
    """Score an instrument's own test vectors; return a description of each mismatch.

    Parameters
    ----------
    inst : Instrument
    tol : float
        Absolute tolerance for expected scores.

    Returns
    -------
    list of str
        Empty when every vector reproduces.

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> scales.check_test_vectors(scales.get("sdq_parent"))
    []
    """
    frame = pd.DataFrame(
        [[np.nan if v is None else v for v in tv.items] for tv in inst.test_vectors],
        columns=list(inst.items),
        dtype=float,
    )
    try:
        result = score(frame, inst)
    except DataError as exc:
        return [f"test vectors are not valid responses: {exc}"]
    failures = []
    for k, tv in enumerate(inst.test_vectors):
        for name, expected in tv.expected:
            got = result.iloc[k][f"{inst.code}_{name}"]
            ok = np.isnan(got) if expected is None else (not np.isnan(got) and abs(got - expected) <= tol)
            if not ok:
                failures.append(f"vector {tv.label!r}: {name} expected {expected}, got {got}")
    return failures
