"""One vectorised scorer for every instrument definition."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, MissingItemRuleWarning, SpecificationError
from lerendtransformeren.scales.change import _kiresuk_sherman, _kiresuk_sherman_t
from lerendtransformeren.scales.instrument import Instrument, Score, get

__all__ = ["score", "row_accounting", "check_test_vectors"]

# attrs of a score() result, each a dict keyed by score column
_ACCOUNTING = ("n_insufficient", "n_scored", "n_not_administered", "n_too_few", "missing_rule")

_MAX_SHOWN = 5
_CHUNK = 1 << 16  # rows per stretch in _coded_block: 512 KB of floats, kept in cache


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


def _item_arrays(
    df: pd.DataFrame, inst: Instrument, prefix: str, value_labels: Mapping | None
) -> tuple[list[str], list[np.ndarray]]:
    """The instrument's item columns, each as a float array (NaN = missing), unchecked.

    A float64 column is used as it is (a read-only view, no copy); other columns go
    through :func:`_numeric_column` (text codes mapped or rejected).
    """
    columns = [prefix + item for item in inst.items]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"instrument {inst.code!r}: item column(s) {missing[:_MAX_SHOWN]}"
            f"{' ...' if len(missing) > _MAX_SHOWN else ''} not in the data ({len(missing)} of "
            f"{len(columns)} missing). Rename the columns to {columns[0]}..{columns[-1]} "
            "or pass prefix= for wide data (e.g. prefix='t0_')."
        )
    if not df.columns.is_unique:
        repeated = set(df.columns[df.columns.duplicated()])
        duplicated = sorted({c for c in columns if c in repeated})
        if duplicated:
            raise DataError(f"item column(s) {duplicated} occur more than once in the data. Keep one of each.")
    arrays = []
    for c in columns:
        col = df[c]
        if isinstance(col.dtype, np.dtype) and col.dtype == np.float64:
            arrays.append(col.to_numpy())
        else:
            arrays.append(_numeric_column(col, c, value_labels))
    return columns, arrays


def _check_range(x: np.ndarray, inst: Instrument, columns: list[str], index: pd.Index) -> None:
    """DataError naming item, values and rows for responses that are not integer codes in range."""
    observed = ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        bad = observed & ((x < inst.response_min) | (x > inst.response_max) | (x != np.round(x)))
    if bad.any():
        parts = []
        for j in np.flatnonzero(bad.any(axis=0))[:_MAX_SHOWN]:
            rows = index[bad[:, j]]
            vals = sorted(set(x[bad[:, j], j].tolist()))[:_MAX_SHOWN]
            parts.append(f"{columns[j]!r}: values {vals} in rows {_rows(rows)}")
        raise DataError(
            f"instrument {inst.code!r}: responses outside the integer codes "
            f"{inst.response_min}..{inst.response_max}: " + "; ".join(parts) + ". "
            "Check the coding (e.g. 1..3 instead of 0..2) and declare user-missing codes such as 9 or 99 as missing."
        )


def _float_block(arrays: list[np.ndarray], columns: list[str], inst: Instrument, index: pd.Index) -> np.ndarray:
    """Item matrix (rows x items) as float, range-checked, reverse keys applied."""
    x = np.column_stack(arrays)
    _check_range(x, inst, columns, index)
    if inst.reverse:
        rev = [inst.items.index(i) for i in inst.reverse]
        x[:, rev] = inst.response_min + inst.response_max - x[:, rev]
    return x


def _item_block(
    df: pd.DataFrame, inst: Instrument, prefix: str, value_labels: Mapping | None
) -> np.ndarray:
    """Raw item matrix (rows x items), range-checked, reverse keys applied."""
    columns, arrays = _item_arrays(df, inst, prefix, value_labels)
    return _float_block(arrays, columns, inst, df.index)


def _int_type(bound: int) -> type | None:
    """The smallest signed integer type holding ``-bound..bound`` (None beyond int32)."""
    for dtype in (np.int8, np.int16, np.int32):
        if bound <= np.iinfo(dtype).max:
            return dtype
    return None


def _code_chunk(v: np.ndarray, code: np.ndarray, answered: np.ndarray, unequal: np.ndarray,
                lo: int, hi: int, flip: bool) -> bool:
    """One stretch of one item into ``code`` and ``answered``; False if a response is not a code.

    The float values are cast to the integer type and clipped to the range; an integer
    code in range is then equal to its float, any other response (a fraction, a code out
    of range, infinity) is not, and NaN never is: so the unequal count is the missing
    count exactly when every answered response is a code.
    """
    np.isnan(v, out=answered)
    with np.errstate(invalid="ignore"):
        np.copyto(code, v, casting="unsafe")  # NaN and values beyond the type: any code
    np.clip(code, lo, hi, out=code)
    if np.count_nonzero(np.not_equal(code, v, out=unequal)) != np.count_nonzero(answered):
        return False
    if flip:
        np.subtract(lo + hi, code, out=code)
    np.logical_not(answered, out=answered)
    np.multiply(code, answered, out=code)  # 0 where missing
    return True


def _coded_block(arrays: list[np.ndarray], inst: Instrument) -> tuple[np.ndarray, np.ndarray] | None:
    """Items as integer codes, one row per item: ``(codes, answered)``, or None.

    ``codes`` holds the reverse-keyed response, 0 where missing; ``answered`` is True
    where an item was answered. None when a response is not an integer code in the
    range (the caller then raises the detailed DataError) or the range is too wide for
    int32. Each item is read in stretches of ``_CHUNK`` rows, so that its three passes
    (NaN test, cast, comparison) read it from memory once.
    """
    lo, hi = inst.response_min, inst.response_max
    dtype = _int_type(max(abs(lo), abs(hi), abs(lo + hi)))
    if dtype is None:
        return None
    n = len(arrays[0])
    codes = np.empty((len(arrays), n), dtype=dtype)
    answered = np.empty((len(arrays), n), dtype=bool)
    unequal = np.empty(min(n, _CHUNK), dtype=bool)
    reverse = {inst.items.index(i) for i in inst.reverse}
    for j, v in enumerate(arrays):
        for start in range(0, n, _CHUNK):
            part = slice(start, start + _CHUNK)
            piece = v[part]
            if not _code_chunk(piece, codes[j, part], answered[j, part], unequal[: len(piece)], lo, hi, j in reverse):
                return None
    return codes, answered


def _round_half_away(v: np.ndarray, digits: int, out: np.ndarray | None = None) -> np.ndarray:
    """Round half away from zero (SPSS ``RND``), robust to binary representation error.

    ``sign(v) * floor(|v| * 10**digits + 0.5 + 1e-9) / 10**digits``, step by step in
    place; ``out`` may be ``v`` itself.
    """
    factor = 10.0**digits
    magnitude = np.abs(v)
    magnitude *= factor
    magnitude += 0.5
    magnitude += 1e-9
    np.floor(magnitude, out=magnitude)
    result = np.sign(v, out=out)
    result *= magnitude
    result /= factor
    return result


def _count(value, name: str, n_items: int) -> int:
    """A ``min_answered`` override (int count or float fraction) as a number of items."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecificationError(
            f"min_answered for {name!r} must be an int (number of items) or a float fraction, got {value!r}."
        )
    if isinstance(value, (float, np.floating)):
        if not 0 < value <= 1:
            raise SpecificationError(
                f"min_answered={value!r} for {name!r}: a fraction must lie in (0, 1] (1.0 = all {n_items} items); "
                f"for a number of items pass an int in 1..{n_items}."
            )
        count = math.ceil(value * n_items - 1e-9)  # at least this fraction, rounded up
    else:
        count = int(value)
    if not 1 <= count <= n_items:
        raise SpecificationError(
            f"min_answered={value!r} for {name!r} is outside 1..{n_items} (it has {n_items} items). "
            f"Pass an int in 1..{n_items} or a fraction in (0, 1]."
        )
    return count


def _overrides(instruments: list[Instrument], min_answered, prefix: str) -> dict[tuple[str, str], int]:
    """Resolve ``min_answered`` to ``{(code, score): items needed}`` for item-based scores."""
    if min_answered is None:
        return {}
    item_scores = [(inst, s) for inst in instruments for s in inst.scores if s.items]
    if not isinstance(min_answered, Mapping):
        return {(inst.code, s.name): _count(min_answered, f"{inst.code}_{s.name}", len(s.items)) for inst, s in item_scores}
    out: dict[tuple[str, str], int] = {}
    for key, value in min_answered.items():
        hits = [(inst, s) for inst, s in item_scores if key in (s.name, f"{inst.code}_{s.name}", f"{prefix}{inst.code}_{s.name}")]
        if not hits:
            composites = [f"{i.code}_{s.name}" for i in instruments for s in i.scores if s.of_scores and key in (s.name, f"{i.code}_{s.name}")]
            if composites:
                raise SpecificationError(
                    f"min_answered: {key!r} is a composite of other scores; it is scored when all its components "
                    "are. Set min_answered for its components instead."
                )
            names = [f"{inst.code}_{s.name}" for inst, s in item_scores]
            raise SpecificationError(
                f"min_answered: unknown subscale {key!r}. Use a score name or column of these instruments: {', '.join(names)}."
            )
        for inst, s in hits:
            if value is not None:
                out[(inst.code, s.name)] = _count(value, f"{inst.code}_{s.name}", len(s.items))
    return out


def _rule(s: Score, needed: int, of: int) -> dict:
    """The missing-item rule a score was computed with (stored in ``result.attrs``)."""
    definition = s.min_answered
    aggregation = s.aggregation
    if s.of_scores:
        aggregation = f"{s.aggregation} of scores"
    elif aggregation == "sum" and needed < of:
        aggregation = "prorated_sum"
    return {
        "min_answered": needed,
        "of": of,
        "aggregation": aggregation,
        "definition_min_answered": definition,
        "departs_from_definition": needed != definition,
    }


def _combine(parts: list[np.ndarray], aggregation: str) -> tuple[np.ndarray, np.ndarray]:
    """A composite of component scores, ``(value, short)``: NaN where any component is.

    The components are added left to right, as numpy's row sum of the stacked components
    adds fewer than eight; the mean divides that sum by their number.
    """
    value = parts[0].copy()
    short = np.isnan(parts[0])
    for part in parts[1:]:
        value += part
        short |= np.isnan(part)
    if aggregation != "sum":
        value /= len(parts)
    return value, short


def _score_instrument(
    x: np.ndarray, inst: Instrument, needed: Mapping[str, int] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Scores of one instrument from its float block and, per score, its rule and row counts.

    ``needed`` overrides the definition's ``min_answered`` per item-based score; a plain
    sum then becomes a prorated sum (mean of answered x number of items). The plain float
    version of :func:`_score_coded`: :func:`score` uses it for response ranges too wide
    for int32 codes, and the tests hold the integer-code scorer to its numbers bit for bit.
    """
    needed = needed or {}
    answered = ~np.isnan(x)
    filled = np.where(answered, x, 0.0)
    position = {item: j for j, item in enumerate(inst.items)}
    values: dict[str, np.ndarray] = {}
    info: dict[str, dict] = {}
    for s in inst.scores:
        none_answered = ~answered[:, [position[i] for i in inst.score_items(s.name)]].any(axis=1)
        if s.items:
            idx = [position[i] for i in s.items]
            need = needed.get(s.name, s.min_answered)
            n = answered[:, idx].sum(axis=1)
            enough = n >= need
            with np.errstate(invalid="ignore", divide="ignore"):
                if s.aggregation == "kiresuk_sherman":
                    v = _kiresuk_sherman(x[:, idx], np.ones(len(idx)), s.rho)
                else:
                    total = filled[:, idx].sum(axis=1)
                    prorated = total / n * len(idx)
                    if s.aggregation == "sum" and need < len(idx):
                        prorated = np.where(n == len(idx), total, prorated)  # complete rows: the exact sum
                    v = {"sum": prorated if need < len(idx) else total, "mean": total / n, "prorated_sum": prorated}[
                        s.aggregation
                    ]
            rule = _rule(s, need, len(idx))
        else:
            v, short = _combine([values[c] for c in s.of_scores], s.aggregation)
            enough = ~short
            rule = _rule(s, len(s.of_scores), len(s.of_scores))
        v = np.where(enough, v * s.multiply + s.add, np.nan)
        if s.rounding is not None:
            v = _round_half_away(v, s.rounding)
        values[s.name] = v
        info[s.name] = {
            "rule": rule,
            "n_scored": int(enough.sum()),
            "n_not_administered": int(none_answered.sum()),
            "n_too_few": int((~enough & ~none_answered).sum()),
        }
    values["n_answered"] = answered.sum(axis=1).astype(float)
    return values, info


def _row_sum(block: np.ndarray, rows: Sequence[int], bound: int) -> np.ndarray:
    """Sum of some rows of an integer or boolean block, in an integer type holding ``bound``."""
    total = block[rows[0]].astype(_int_type(bound) or np.int64)
    for r in rows[1:]:
        np.add(total, block[r], out=total)
    return total


def _apply_rule(row: np.ndarray, short: np.ndarray, s: Score, *, from_items: bool) -> None:
    """In place: ``row`` x multiply + add, NaN where ``short``, then rounded; as _score_instrument.

    For a score from items the identity transformation (x 1 + 0) is skipped: it changes
    nothing there, because the value comes from integer codes and is never -0.0 (the one
    number that ``+ 0`` changes). A composite may combine rounded components that are
    -0.0, so it always takes both steps.
    """
    if not (from_items and s.multiply == 1.0 and s.add == 0.0):
        np.multiply(row, s.multiply, out=row)
        np.add(row, s.add, out=row)
    np.copyto(row, np.nan, where=short)
    if s.rounding is not None:
        _round_half_away(row, s.rounding, out=row)


def _from_items(row: np.ndarray, codes: np.ndarray, answered: np.ndarray, idx: list[int], n: np.ndarray,
                need: int, s: Score, bound: int) -> None:
    """The aggregate of an item-based score into ``row``, before transformation and rule.

    Integer sums divided by integer counts: ``true_divide`` casts both to float first,
    which is what the float scorer's ``total / n`` does with the same (exact) numbers.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        total = _row_sum(codes, idx, bound)
        if s.aggregation == "kiresuk_sherman":  # equal weights: sum w x = total, sum w^2 = sum w = n
            count = n.astype(float)
            np.copyto(row, _kiresuk_sherman_t(total.astype(float), count, count, s.rho))
            return
        if s.aggregation == "sum" and need == len(idx):
            np.copyto(row, total)
            return
        np.true_divide(total, n, out=row)
        if s.aggregation != "mean":  # prorated: mean of answered x number of items
            np.multiply(row, len(idx), out=row)
            if s.aggregation == "sum":
                np.copyto(row, total, where=n == len(idx))  # complete rows: the exact sum


def _score_coded(
    codes: np.ndarray, answered: np.ndarray, inst: Instrument, out: np.ndarray,
    needed: Mapping[str, int] | None = None,
) -> dict[str, dict]:
    """Scores of one instrument from its integer codes, written into the rows of ``out``.

    The same numbers as :func:`_score_instrument` on the float block, bit for bit: sums
    and counts of integer codes are exact in any order, and every floating-point step
    (division by the count, prorating, transformation, rounding) is the same operation on
    the same operands. ``out`` has one row per score and a last row for ``n_answered``;
    the returned dict holds each score's rule and row counts.
    """
    needed = needed or {}
    position = {item: j for j, item in enumerate(inst.items)}
    largest = max(abs(inst.response_min), abs(inst.response_max))
    values: dict[str, np.ndarray] = {}
    info: dict[str, dict] = {}
    for row, s in zip(out, inst.scores):
        if s.items:
            idx = [position[i] for i in s.items]
            need = needed.get(s.name, s.min_answered)
            n = _row_sum(answered, idx, len(idx))
            short, none_answered = n < need, n == 0
            _from_items(row, codes, answered, idx, n, need, s, largest * len(idx))
            rule = _rule(s, need, len(idx))
        else:
            union = [position[i] for i in inst.score_items(s.name)]
            none_answered = _row_sum(answered, union, len(union)) == 0
            value, short = _combine([values[c] for c in s.of_scores], s.aggregation)
            np.copyto(row, value)
            rule = _rule(s, len(s.of_scores), len(s.of_scores))
        _apply_rule(row, short, s, from_items=bool(s.items))
        values[s.name] = row
        n_short = int(np.count_nonzero(short))
        info[s.name] = {
            "rule": rule,
            "n_scored": len(row) - n_short,
            "n_not_administered": int(np.count_nonzero(none_answered)),
            "n_too_few": int(np.count_nonzero(short & ~none_answered)),
        }
    np.copyto(out[len(inst.scores)], _row_sum(answered, range(len(inst.items)), len(inst.items)))
    return info


def _warn_departures(rules: Mapping[str, dict], instruments: list[Instrument], prefix: str) -> None:
    """One MissingItemRuleWarning naming every score computed with another rule."""
    parts = []
    for inst in instruments:
        for s in inst.scores:
            rule = rules[f"{prefix}{inst.code}_{s.name}"]
            if not rule["departs_from_definition"]:
                continue
            if s.min_answered == len(s.items):
                published = f"the definition requires all {len(s.items)} items and has no prorating rule"
            else:
                published = f"the definition requires {s.min_answered} of {len(s.items)}"
            parts.append(
                f"{prefix}{inst.code}_{s.name}: {rule['aggregation']} with at least {rule['min_answered']} of "
                f"{rule['of']} items answered; {published}"
            )
    if parts:
        warnings.warn(
            "min_answered departs from the instruments' own missing-item rule: " + "; ".join(parts) + ". "
            "Scores from fewer items are less reliable and assume unanswered items resemble the answered ones; "
            "they are not comparable with norms computed under the published rule. Report the rule used "
            "(result.attrs['missing_rule']).",
            MissingItemRuleWarning,
            stacklevel=3,
        )


def score(
    df: pd.DataFrame,
    code_or_codes: str | Instrument | Sequence[str | Instrument],
    *,
    prefix: str | None = None,
    value_labels: Mapping[str, float] | None = None,
    min_answered: int | float | Mapping[str, int | float | None] | None = None,
) -> pd.DataFrame:
    """Score one or more instruments; one row per input row, aligned with ``df.index``.

    The scorer applies the reverse keys, the minimum-answered rule, the aggregation
    (sum, mean, prorated sum = mean x number of items, Kiresuk-Sherman T for GAS), the
    transformation and the rounding of each definition. The items are checked, keyed and
    added as small integer codes in numpy (one array row per item); there is no loop
    over rows.

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
    min_answered : int, float or mapping, optional
        Override of the definition's minimum number of answered items, for item-based
        scores (composites such as SDQ total difficulties always need every component).
        ``None`` (default): the definition's rule. An ``int``: that many items for every
        item-based score (each must have at least that many items). A ``float`` in
        (0, 1]: that fraction of each score's items, rounded up (0.5 of 3 items = 2;
        ``1.0`` = all items; note ``1`` (int) means one item). A mapping from score name
        (``"vigour"``) or output column (``"uwes9_vigour"``, ``"t0_uwes9_vigour"`` with a
        ``prefix``) to an int, float or ``None``
        (definition's rule); scores not named keep the definition's rule. With fewer
        items than all, a ``mean`` score is the mean of the answered items, a ``sum``
        score the prorated sum (mean of answered x number of items, on the scale of the
        full sum), a ``prorated_sum`` is unchanged; then the transformation and rounding
        of the definition follow. A rule that differs from the definition's warns with
        :class:`~lerendtransformeren.exceptions.MissingItemRuleWarning`.

    Returns
    -------
    pandas.DataFrame
        Columns ``<code>_<score>`` per score and ``<code>_n_answered`` (items answered
        of the instrument). A score is NaN where fewer items than its ``min_answered``
        were answered (a composite: where a component is NaN).
        Row accounting in ``result.attrs``, each a dict keyed by score column, so that
        ``n_scored + n_not_administered + n_too_few`` is the number of rows:

        - ``"n_scored"``: rows with a score;
        - ``"n_not_administered"``: rows with none of the score's items answered;
        - ``"n_too_few"``: rows with some but too few items answered (a composite: some
          of its items answered but a component missing);
        - ``"n_insufficient"``: rows without a score (the last two together; kept for
          existing code);
        - ``"missing_rule"``: the rule used: ``min_answered``, ``of`` (items, or
          components of a composite), ``aggregation`` (as applied), the definition's
          ``definition_min_answered`` and ``departs_from_definition``.

        :func:`row_accounting` turns these into one table.

    Raises
    ------
    DataError
        Missing item columns; text that is not a code; values outside the response
        range (the message lists item, values and up to five row labels).
    SpecificationError
        Unknown instrument code; a ``min_answered`` below 1 or above the number of
        items of a score (the message names the score and the allowed range), a
        fraction outside (0, 1], or a mapping key that is not an item-based score.

    Warns
    -----
    MissingItemRuleWarning
        When ``min_answered`` gives a score another rule than its definition's.

    Notes
    -----
    R equivalent: ``psych::scoreItems(keys, items, totals = TRUE)`` for plain sums (it
    imputes rather than applies a minimum-answered rule) or the instrument's published
    SPSS/R syntax (e.g. the SDQ syntax at sdqinfo.org). A ``min_answered`` override is
    ``datawizard::row_means(x, min_valid = n)`` (SPSS ``MEAN.n``); a prorated sum is that
    mean times the number of items. For fractions, R's ``sjmisc::row_means(n = 0.75)``
    rounds ``n x items`` to the nearest integer; here it is rounded up.

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
    >>> out.attrs["n_too_few"]["uwes9_vigour"], out.attrs["n_not_administered"]["uwes9_vigour"]
    (1, 0)

    An explicit rule: mean of the answered items when at least 2 of 3 (vigour) and 8 of
    9 (total) are answered; it warns that UWES-9 publishes no such rule.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = scales.score(df, "uwes9", min_answered={"vigour": 2, "total": 8})
    >>> out.loc["b", ["uwes9_vigour", "uwes9_total"]].tolist()
    [3.0, 3.0]
    >>> caught[0].category.__name__
    'MissingItemRuleWarning'
    >>> out.attrs["missing_rule"]["uwes9_vigour"]["min_answered"]
    2
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"score() needs a pandas DataFrame, got {type(df).__name__}.")
    prefix = prefix or ""
    instruments = _resolve(code_or_codes)
    needed = _overrides(instruments, min_answered, prefix)
    names = [f"{prefix}{inst.code}_{name}" for inst in instruments for name in (*inst.score_names(), "n_answered")]
    clash = sorted({name for name in names if names.count(name) > 1})
    if clash:
        raise SpecificationError(
            f"instruments {[inst.code for inst in instruments]} give the output column(s) {clash} more than "
            "once. Score them in separate calls (or with different prefix=) and rename before joining."
        )
    out = np.empty((len(names), len(df)))  # one row per output column: the frame's one block
    accounting: dict[str, dict] = {key: {} for key in _ACCOUNTING}
    first = 0
    for inst in instruments:
        own = {name: k for (code, name), k in needed.items() if code == inst.code}
        rows = out[first : first + len(inst.scores) + 1]
        first += len(rows)
        columns, arrays = _item_arrays(df, inst, prefix, value_labels)
        coded = _coded_block(arrays, inst)
        if coded is not None:
            info = _score_coded(*coded, inst, rows, own)
        else:  # a response out of range (raises here) or a range too wide for integer codes
            values, info = _score_instrument(_float_block(arrays, columns, inst, df.index), inst, own)
            for row, name in zip(rows, (*inst.score_names(), "n_answered")):
                row[:] = values[name]
        for name, counts in info.items():
            column = f"{prefix}{inst.code}_{name}"
            accounting["missing_rule"][column] = counts["rule"]
            for key in ("n_scored", "n_not_administered", "n_too_few"):
                accounting[key][column] = counts[key]
            accounting["n_insufficient"][column] = counts["n_not_administered"] + counts["n_too_few"]
    result = pd.DataFrame(out.T, index=df.index, columns=names, copy=False)
    result.attrs.update(accounting)
    _warn_departures(accounting["missing_rule"], instruments, prefix)
    return result


def row_accounting(scores: pd.DataFrame) -> pd.DataFrame:
    """Row accounting of a :func:`score` result: one row per score column.

    Every input row is counted once per score: scored, not administered (none of the
    score's items answered) or too few items answered; the table also gives the
    missing-item rule the score was computed with.

    Parameters
    ----------
    scores : pandas.DataFrame
        The frame returned by :func:`score` (its ``attrs`` hold the counts; operations
        that drop ``attrs`` lose them).

    Returns
    -------
    pandas.DataFrame
        Index: score columns. Columns ``n_rows``, ``n_scored``, ``n_not_administered``,
        ``n_too_few``, ``min_answered``, ``of``, ``aggregation``,
        ``definition_min_answered`` and ``departs_from_definition``.

    Raises
    ------
    SpecificationError
        ``scores`` carries no accounting (it did not come from :func:`score`).

    Notes
    -----
    R has no single equivalent; ``table(rowSums(!is.na(items)))`` per subscale gives the
    same counts by hand.

    Examples
    --------
    >>> import pandas as pd
    >>> from lerendtransformeren import scales
    >>> df = pd.DataFrame({f"collab_{i:02d}": [4, 4, None] for i in range(1, 6)})
    >>> df.loc[1, ["collab_01", "collab_02"]] = None
    >>> scales.row_accounting(scales.score(df, "collab")).iloc[:, :6]
                 n_rows  n_scored  n_not_administered  n_too_few  min_answered  of
    collab_mean       3         1                   1          1             4   5
    """
    missing = [key for key in _ACCOUNTING if key not in getattr(scores, "attrs", {})]
    if missing:
        raise SpecificationError(
            f"this frame carries no row accounting (attrs {missing} missing). Pass the frame returned by "
            "scales.score(); pandas drops attrs in some operations, so take the accounting before them."
        )
    attrs = scores.attrs
    table = pd.DataFrame(attrs["missing_rule"]).T
    counts = pd.DataFrame({key: attrs[key] for key in ("n_scored", "n_not_administered", "n_too_few")})
    out = pd.concat([counts, table], axis=1)
    out.insert(0, "n_rows", counts.sum(axis=1))
    for key in ("n_rows", "n_scored", "n_not_administered", "n_too_few", "min_answered", "of", "definition_min_answered"):
        out[key] = out[key].astype(int)
    out["departs_from_definition"] = out["departs_from_definition"].astype(bool)
    out["aggregation"] = out["aggregation"].astype(str)
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
