"""From a formula and a DataFrame to the arrays of a nested model, with row accounting.

The model frame holds the outcome ``y``, the fixed-effects design ``X`` (patsy, with its
``design_info`` so that new data can be coded the same way), and the grouping levels
ordered from the finest to the coarsest, each with its unit codes and random-effect
designs ``Z``. Rows with a missing value in any variable the model uses are left out and
counted by reason (first reason that applies, in the order outcome, fixed-effect
covariates, random-effect covariates, grouping factors). R equivalent: ``lme4::lFormula``
with ``na.action = na.omit``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import patsy

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel.formula import FormulaSpec, parse_formula

__all__ = ["RandomBlock", "Level", "ModelFrame", "build_frame", "nest_levels", "level_index"]


@dataclass
class RandomBlock:
    """The random effects of one term at one level: ``names`` are patsy column names."""

    group: str
    expr: str
    names: list[str]
    Z: np.ndarray  # (n, q)
    design_info: patsy.DesignInfo | None = None

    def matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The design of this block for ``newdata`` with the fit's codings (NaN rows kept)."""
        return design_of(newdata, self.design_info)

    @property
    def q(self) -> int:
        return len(self.names)


@dataclass
class Level:
    """One grouping level: unit code per row, unit labels, and its random blocks."""

    name: str
    factors: tuple[str, ...]
    codes: np.ndarray
    labels: np.ndarray
    blocks: list[RandomBlock] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return len(self.labels)

    @property
    def q(self) -> int:
        return sum(b.q for b in self.blocks)


@dataclass
class ModelFrame:
    """Arrays of a model plus the bookkeeping needed for output and prediction."""

    spec: FormulaSpec
    y: np.ndarray
    y_name: str
    X: np.ndarray
    x_names: list[str]
    x_design_info: patsy.DesignInfo
    levels: list[Level]  # finest first
    row_index: pd.Index
    n_total: int
    left_out: dict[str, int]
    keep: np.ndarray  # rows of the data used (boolean, by position)
    data_columns: tuple[str, ...] = ()

    def fixed_matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The fixed-effects design of ``newdata`` with the codings of the fit.

        Factor levels, reference categories and data-dependent transformations
        (``center(x)``) are those of the rows used in the fit; a missing value gives a row
        of NaN rather than being dropped, so the result has one row per row of
        ``newdata``.
        """
        return design_of(newdata, self.x_design_info)

    def fixed_variables(self) -> dict[str, tuple | None]:
        """The data columns the fixed part uses and how they enter it.

        A column that enters as a factor (a string, boolean or categorical column, or a
        number inside ``C()``) maps to its levels in the fit's order, the reference level
        first; a column that enters as a number (also inside a transformation such as
        ``np.log(x)``) maps to None. A column that enters both ways counts as a factor.
        The outcome is not included. This is what a reference grid for estimated marginal
        means is built from.
        """
        out: dict[str, tuple | None] = {}
        for factor, info in self.x_design_info.factor_infos.items():
            names = _column_names(factor.code, self.data_columns)
            for name in names:
                if info.type == "categorical" and len(names) == 1:
                    out[name] = tuple(info.categories)
                else:
                    out.setdefault(name, None)
        return out


def design_of(newdata: pd.DataFrame, design_info: patsy.DesignInfo) -> np.ndarray:
    """The design of ``newdata`` under a fitted ``design_info``; missing values stay NaN rows."""
    na_kept = patsy.NAAction(NA_types=[])
    return np.asarray(patsy.build_design_matrices([design_info], newdata, NA_action=na_kept)[0])


def _column_names(code: str, columns: tuple[str, ...]) -> list[str]:
    """The data columns named in a formula factor's code (``"np.log(x)"`` -> ``["x"]``)."""
    quoted = re.findall(r"Q\(['\"]([^'\"]+)['\"]\)", code)
    if quoted:
        return [q for q in quoted if q in columns]
    words = re.findall(r"[A-Za-z_][A-Za-z_0-9]*", code)
    return [w for w in dict.fromkeys(words) if w in columns]


def _patsy(formula_or_desc, data, env, what: str, na_action="drop"):
    try:
        return patsy.dmatrix(formula_or_desc, data, NA_action=na_action, eval_env=env, return_type="dataframe")
    except patsy.PatsyError as exc:
        cols = ", ".join(map(str, data.columns[:30]))
        raise SpecificationError(
            f"Cannot build the {what} of the model: {exc.message}. "
            f"Check the spelling against the data columns: {cols}."
        ) from None


def _unit_codes(data: pd.DataFrame, factors: tuple[str, ...], cache: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit code per row and unit labels ("a:b"), units sorted by their factor values.

    As ``groupby(list(factors), sort=True).ngroup()``, but by factorising each column
    (hash tables, O(rows)) and combining the codes; only the distinct values of each
    column are formatted, and the labels of the units joined from them. ``cache`` keeps
    the factorised columns and the codes of leading factors for the next call (the
    levels of ``a/b/c`` share them).
    """
    cache = {} if cache is None else cache
    codes = np.zeros(len(data), np.int64)
    for k, f in enumerate(factors):
        if ("column", f) not in cache:
            c, uniq = pd.factorize(data[f], sort=True)
            raw = np.asarray(uniq)
            plain = raw.dtype.kind in "iufbUO"  # numpy formats these as str() does
            cache[("column", f)] = (c, raw.astype(str) if plain else np.asarray(pd.Index(uniq).astype(str), dtype=str))
        c, values = cache[("column", f)]
        if factors[: k + 1] not in cache:
            cache[factors[: k + 1]] = c if k == 0 else pd.factorize(codes * np.int64(len(values)) + c, sort=True)[0]
        codes = cache[factors[: k + 1]]
    n_units = int(codes.max()) + 1 if len(codes) else 0
    first = np.empty(n_units, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of every unit
    labels = None
    for f in factors:
        c, values = cache[("column", f)]
        part = values[c[first]]
        labels = part if labels is None else np.char.add(np.char.add(labels, ":"), part)
    return codes.astype(np.int64), labels.astype(object)


def nest_levels(levels: list[Level]) -> list[Level]:
    """Order levels from finest to coarsest, merge equal partitions, check the nesting.

    Raises
    ------
    SpecificationError
        When two grouping factors are crossed (not nested), naming an example unit.
    """
    levels = sorted(levels, key=lambda lev: -lev.n_units)
    merged: list[Level] = []
    for lev in levels:
        if merged and merged[-1].n_units == lev.n_units:
            prev = merged[-1]
            if _nested_in(prev, lev):  # the same partition of the rows: one level
                shared = {n for b in prev.blocks for n in b.names} & {n for b in lev.blocks for n in b.names}
                if shared:
                    raise SpecificationError(
                        f"Grouping factors {prev.name!r} and {lev.name!r} define the same units (each "
                        f"{prev.name} unit is exactly one {lev.name} unit), so their "
                        f"random effects of {sorted(shared)} cannot be told apart. Remove one of the terms."
                    )
                prev.blocks.extend(lev.blocks)
                continue
        merged.append(lev)
    for fine, coarse in zip(merged[:-1], merged[1:]):
        if not _nested_in(fine, coarse):
            pairs = np.unique(np.stack([fine.codes, coarse.codes]), axis=1)
            raise SpecificationError(_crossed_message(fine, coarse, pairs))
    return merged


def _nested_in(fine: Level, coarse: Level) -> bool:
    """Whether every unit of ``fine`` lies in one unit of ``coarse`` (O(rows), no sort)."""
    owner = np.empty(fine.n_units, np.int64)
    owner[fine.codes] = coarse.codes  # the coarse unit of some row of each fine unit
    return bool(np.array_equal(owner[fine.codes], coarse.codes))


def _crossed_message(fine: Level, coarse: Level, pairs: np.ndarray) -> str:
    def example(a: Level, b: Level, ia: int, ib: int) -> str | None:
        counts = np.bincount(pairs[ia], minlength=a.n_units)
        if not (counts > 1).any():
            return None
        unit = int(np.flatnonzero(counts > 1)[0])
        others = b.labels[pairs[ib][pairs[ia] == unit]]
        shown = " and ".join(repr(o) for o in others[:3]) + (" ..." if len(others) > 3 else "")
        return f"{a.name} {a.labels[unit]!r} occurs in {b.name} {shown}"

    examples = [e for e in (example(coarse, fine, 1, 0), example(fine, coarse, 0, 1)) if e]
    return (
        f"Grouping factors {fine.name!r} and {coarse.name!r} are crossed, not nested: "
        + "; ".join(examples)
        + ". The nested engine needs every unit of a finer level inside one unit of the "
        f"coarser level. If the codes of {coarse.name!r} are reused within each {fine.name!r} "
        f"unit, write the nesting as (1 | {fine.name}/{coarse.name}); for truly crossed "
        "factors use engine='statsmodels'."
    )


def build_frame(formula: str, data: pd.DataFrame, eval_env=None, one_row_units: bool = False) -> ModelFrame:
    """Parse ``formula`` and build the model arrays from ``data``.

    ``one_row_units`` allows a grouping level with one row per unit (an observation-level
    random effect, which a GLMM can estimate; lme4's glmer allows it too).

    Raises
    ------
    SpecificationError
        Unknown columns, a level with one unit, as many units as rows, a random slope on
        a variable that does not vary within any unit, collinear fixed effects.
    DataError
        No usable rows (e.g. an all-missing outcome).
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    spec = parse_formula(formula)
    env = eval_env if eval_env is not None else patsy.EvalEnvironment.capture(1)
    missing_cols = [c for c in spec.grouping_columns if c not in data.columns]
    if missing_cols:
        raise SpecificationError(
            f"Grouping column(s) {missing_cols} not in the data; columns are: "
            + ", ".join(map(str, data.columns[:30]))
        )
    frame = data.reset_index(drop=True)
    n_total = len(frame)
    desc = patsy.ModelDesc.from_formula(spec.fixed)
    y_all = _patsy(patsy.ModelDesc([], desc.lhs_termlist), frame, env, "outcome")
    ok_y = y_all.index
    mask_y = np.zeros(n_total, bool)
    mask_y[ok_y] = True
    if not mask_y.any():
        raise DataError(f"The outcome of {formula!r} is missing on all {n_total} rows; nothing to fit.")
    x_all = _patsy(patsy.ModelDesc([], desc.rhs_termlist), frame, env, "fixed-effects design")
    mask_x = np.zeros(n_total, bool)
    mask_x[x_all.index] = True
    mask_z = np.ones(n_total, bool)
    z_all = {}
    for expr in dict.fromkeys(t.expr for t in spec.random):
        z_all[expr] = _patsy(expr, frame, env, f"random-effects design {expr!r}")
        m = np.zeros(n_total, bool)
        m[z_all[expr].index] = True
        mask_z &= m
    mask_g = frame[spec.grouping_columns].notna().all(axis=1).to_numpy()
    left_out, keep = {}, np.ones(n_total, bool)
    for reason, mask in [
        ("outcome missing", mask_y),
        ("fixed-effect covariate missing", mask_x),
        ("random-effect covariate missing", mask_z),
        ("grouping factor missing", mask_g),
    ]:
        left_out[reason] = int((keep & ~mask).sum())
        keep &= mask
    if not keep.any():
        raise DataError(f"No row of the data has all variables of {formula!r}: {left_out}.")
    complete = bool(keep.all())
    sub = frame if complete else frame.loc[keep]
    if complete:  # the designs of the first pass are those of the rows used
        y_df, x_df = y_all, x_all
    else:  # again on the rows used, so that data-dependent codings see only those
        y_df, x_df = patsy.dmatrices(spec.fixed, sub, NA_action="raise", eval_env=env, return_type="dataframe")
    if y_df.shape[1] != 1:
        raise SpecificationError(f"The outcome of {formula!r} must be one numeric column; got {list(y_df.columns)}.")
    X = x_df.to_numpy(dtype=float)
    x_names = list(x_df.columns)
    n = len(sub)
    _check_rank(X, x_names)
    levels: dict[str, Level] = {}
    code_cache: dict = {}
    for term in spec.random:
        if term.name not in levels:
            codes, labels = _unit_codes(sub, term.factors, code_cache)
            levels[term.name] = Level(term.name, term.factors, codes, labels)
        z_df = z_all[term.expr] if complete else patsy.dmatrix(
            term.expr, sub, NA_action="raise", eval_env=env, return_type="dataframe")
        if z_df.shape[1] == 0:
            raise SpecificationError(f"Random term ({term.expr} | {term.name}) has no columns.")
        levels[term.name].blocks.append(
            RandomBlock(term.name, term.expr, list(z_df.columns), z_df.to_numpy(float), z_df.design_info)
        )
    for lev in levels.values():
        _check_level(lev, n, one_row_units)
    return ModelFrame(
        spec=spec,
        y=y_df.to_numpy(float)[:, 0],
        y_name=str(y_df.columns[0]),
        X=X,
        x_names=x_names,
        x_design_info=x_df.design_info,
        levels=nest_levels(list(levels.values())),
        row_index=data.index[keep],
        n_total=n_total,
        left_out=left_out,
        keep=keep,
        data_columns=tuple(str(c) for c in data.columns),
    )


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    """Name the columns that are linear combinations of the columns before them."""
    if X.shape[1] == 0:
        return
    scale = np.linalg.norm(X, axis=0)
    Xs = X / np.where(scale > 0, scale, 1.0)
    tol = max(X.shape) * np.finfo(float).eps * 100
    sv = np.linalg.svd(Xs, compute_uv=False)
    if np.all(scale > 0) and sv[-1] > tol * sv[0]:
        return  # full rank: nothing to name
    kept, dropped = [], []
    for j in range(X.shape[1]):
        cand = kept + [j]
        sv = np.linalg.svd(Xs[:, cand], compute_uv=False)
        (kept if scale[j] > 0 and sv[-1] > tol * sv[0] else dropped).append(j)
    if dropped:
        raise SpecificationError(
            f"The fixed effects are perfectly collinear: {[names[i] for i in dropped]} can be "
            f"written as a combination of the columns before them ({[names[i] for i in kept]}). "
            "Remove them from the formula (lme4 would drop them silently)."
        )


def _check_level(lev: Level, n: int, one_row_units: bool = False) -> None:
    if lev.n_units < 2:
        raise SpecificationError(
            f"Grouping factor {lev.name!r} has only {lev.n_units} unit in the rows used; "
            "a variance between units needs at least two. Remove the term."
        )
    if lev.n_units >= n and not one_row_units:
        raise SpecificationError(
            f"Grouping factor {lev.name!r} has {lev.n_units} units for {n} rows: every unit has "
            "one row, so its variance cannot be told apart from the residual variance. "
            "Remove the term (lme4 stops here too)."
        )
    order = starts = None
    for block in lev.blocks:
        for j, name in enumerate(block.names):
            if np.ptp(block.Z[:, j]) == 0:
                continue  # an intercept
            if order is None:
                order = np.argsort(lev.codes, kind="stable")
                starts = np.flatnonzero(np.r_[True, np.diff(lev.codes[order]) != 0])
            col = block.Z[order, j]
            spread = np.maximum.reduceat(col, starts) - np.minimum.reduceat(col, starts)
            if not (spread > 0).any():
                raise SpecificationError(
                    f"The random slope of {name!r} in ({block.expr} | {lev.name}) is not identified: "
                    f"{name!r} does not vary within any unit of {lev.name!r}. Remove it from the "
                    "random term (keep it as a fixed effect)."
                )


def level_index(levels, level: str) -> int:
    """Position of a grouping level, named in full (``"org:team"``) or by its last factor."""
    names = [lev.name for lev in levels]
    if level in names:
        return names.index(level)
    last = [i for i, lev in enumerate(levels) if lev.factors[-1] == level]
    if len(last) == 1:
        return last[0]
    raise SpecificationError(f"Unknown level {level!r}; the levels are {names}.")
