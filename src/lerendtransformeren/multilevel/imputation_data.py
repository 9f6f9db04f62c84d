"""Data handling of :func:`~lerendtransformeren.multilevel.imputation.impute`.

Checks the input, adds the rows of missed waves (``complete=``), builds the arrays the
sampler needs (standardised variables, the design of the predictors, integer cluster codes
per level, the categorical variables' codes) and puts the imputed values back into copies
of the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from lerendtransformeren.design._checks import _check_nesting, _keys
from lerendtransformeren.design._messages import _Messages
from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel.frame import _check_rank, _formula_columns, build_design

__all__ = ["Prepared", "prepare", "assemble", "check_settings", "ADDED"]

#: The boolean column that marks rows added by ``complete=``.
ADDED = "_added"
#: A whole-number variable with at most this many distinct values is read as an item.
MAX_ITEM_VALUES = 11
_ONE = "_lt_impute_one_"


def check_settings(**values) -> dict:
    """``m``, ``burn``, ``between``, ``chains``: whole numbers in range."""
    lowest = {"m": 2, "burn": 1, "between": 1, "chains": 1}
    for name, low in lowest.items():
        v = values[name]
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
            raise SpecificationError(f"{name} must be a whole number of at least {low}, got {v!r}.")
    if values["chains"] > values["m"]:
        raise SpecificationError(
            f"chains={values['chains']} is more than m={values['m']}: every chain gives at least one "
            "imputation; use fewer chains or more imputations."
        )
    return dict(values)


@dataclass
class _Variable:
    name: str
    kind: str  # "continuous", "item" or "categorical"
    column: int  # first column in Y
    width: int = 1
    mean: float = 0.0
    sd: float = 1.0
    bounds: tuple | None = None
    categories: list = field(default_factory=list)


@dataclass
class Prepared:
    """The data and arrays of an imputation (see :func:`prepare`)."""

    frame: pd.DataFrame  # the output frame (data + added rows), before imputation
    rows: np.ndarray  # positions in ``frame`` of the rows in the model
    Y: np.ndarray
    X: np.ndarray
    x_names: list
    codes: list  # per random level
    n_units: list
    level_names: tuple  # the random levels
    variables: list
    specs: list
    cats: list
    added: np.ndarray
    notes: list
    missing: pd.DataFrame
    intercept: np.ndarray  # c with X c = 1 (zeros when X does not span the constant)
    fixed_levels: tuple = ()

    @property
    def y_names(self) -> list:
        names = []
        for v in self.specs:
            names += [v.name] if v.kind != "categorical" else [f"{v.name}[{c}]" for c in v.categories[1:]]
        return names

    def raw_trace(self, trace: np.ndarray) -> np.ndarray:
        """Draws of the standardised B and covariances on the data's scale."""
        q, k = self.Y.shape[1], self.X.shape[1]
        sd, mean = np.ones(q), np.zeros(q)
        for v in self.specs:
            if v.kind != "categorical":
                sd[v.column], mean[v.column] = v.sd, v.mean
        out = trace.copy()
        b = out[:, :k * q].reshape(len(out), k, q)
        out[:, :k * q] = (b * sd + np.outer(self.intercept, mean)).reshape(len(out), -1)
        iu = np.triu_indices(q)
        scale = (sd[:, None] * sd[None, :])[iu]
        n_cov = (out.shape[1] - k * q) // len(scale)
        out[:, k * q:] *= np.tile(scale, n_cov)
        return out


def _as_list(value, what: str) -> list:
    if isinstance(value, str):
        return [value]
    if value is None:
        return []
    try:
        return list(value)
    except TypeError:
        raise SpecificationError(f"{what} must be a column name or a list of column names, got {value!r}.") from None


def _check_columns(data: pd.DataFrame, names: list, what: str) -> None:
    unknown = [c for c in names if c not in data.columns]
    if unknown:
        raise SpecificationError(
            f"{what} {unknown} not in the data; columns are {list(map(str, data.columns))[:30]}"
            + (" ..." if data.shape[1] > 30 else "") + ". Check the spelling."
        )


def _where_mask(data: pd.DataFrame, where) -> np.ndarray:
    if where is None:
        return np.ones(len(data), bool)
    if isinstance(where, str):
        try:
            mask = data.eval(where)
        except Exception as exc:  # pandas raises many kinds
            raise SpecificationError(f"where={where!r} could not be evaluated on the data: {exc}") from None
    else:
        mask = where
    mask = np.asarray(mask)
    if mask.shape != (len(data),) or mask.dtype != bool:
        raise SpecificationError(
            f"where must be a boolean mask with one value per row of data ({len(data)}) or an expression "
            "such as \"age_band != '4-7'\"."
        )
    if not mask.any():
        raise DataError("where= leaves no rows to impute.")
    return mask


def _check_levels(data: pd.DataFrame, levels: list) -> None:
    msg = _Messages(data, None)
    for col in levels:
        bad = np.flatnonzero(data[col].isna().to_numpy())
        if len(bad):
            raise msg.error(
                f"The level column {col!r} has {len(bad)} missing value(s): {msg.rows(bad)}.",
                f"fill in the {col} of these rows, or leave the rows out before imputing.",
            )
    if len(levels) > 1:
        _check_nesting(data, _keys(data, levels, None), levels, frozenset(), msg)


def prepare(data: pd.DataFrame, variables, levels, predictors: str, *, complete=None, categorical=None,
            ranges=None, where=None, fixed_levels=None) -> Prepared:
    """Check the input and build the sampler's arrays (see :func:`~.imputation.impute`)."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    variables, levels = _as_list(variables, "variables"), _as_list(levels, "levels")
    categorical, ranges = _as_list(categorical, "categorical"), dict(ranges or {})
    if not variables or not levels:
        raise SpecificationError("Give at least one variable to impute and one level (a grouping column).")
    if not isinstance(predictors, str) or "~" in predictors or "|" in predictors:
        raise SpecificationError(
            f"predictors must be the right-hand side of a formula of complete columns, e.g. "
            f"\"C(wave) + offer\", without '~' or random terms; got {predictors!r}."
        )
    _check_columns(data, variables, "variables")
    _check_columns(data, levels, "levels")
    _check_columns(data, categorical, "categorical")
    _check_columns(data, list(ranges), "ranges")
    fixed = _fixed_levels(fixed_levels, levels)
    pred_cols = _formula_columns(predictors, data.columns)
    both = sorted(set(variables) & (set(pred_cols) | set(levels)))
    if both:
        raise SpecificationError(f"{both} are both imputed and used as predictor or level; name each once.")
    if len(set(variables)) < len(variables):
        raise SpecificationError(f"variables names a column twice: {variables}.")
    mask = _where_mask(data, where)
    notes = [] if where is None else [f"where=: {int(mask.sum())} of {len(data)} rows take part; the others "
                                      "are returned unchanged."]
    frame, added, wave = data, np.zeros(len(data), bool), None
    if complete is not None:
        unit, wave = _complete_spec(complete, data, levels)
        frame, n_added = _complete(data, mask, unit, wave, levels, pred_cols, notes)
        added = np.r_[np.zeros(len(data), bool), np.ones(n_added, bool)]
        mask = np.r_[mask, np.ones(n_added, bool)]
    rows = np.flatnonzero(mask)
    sub = frame.iloc[rows]
    _check_levels(sub, levels)
    X, x_names = _design(sub, predictors, pred_cols)
    codes, n_units = _level_codes(sub, levels)
    if fixed:
        X, x_names = _fixed_design(X, x_names, sub[fixed[-1]], codes[len(fixed) - 1], fixed, notes)
        codes, n_units = codes[len(fixed):], n_units[len(fixed):]
    specs, Y, cats = _variables(sub, variables, categorical, ranges, notes)
    _few_units(levels[len(fixed):], n_units, Y.shape[1], notes)
    missing = _missing_table(sub, variables, wave)
    c, *_ = np.linalg.lstsq(X, np.ones(len(X)), rcond=None)
    if not np.allclose(X @ c, 1.0, atol=1e-8):
        c = np.zeros(X.shape[1])
        for v in specs:  # without a constant in X the variables are scaled but not centred
            if v.kind != "categorical":
                Y[:, v.column] += v.mean / v.sd
                v.mean = 0.0
    return Prepared(frame, rows, Y, X, x_names, codes, n_units, tuple(levels[len(fixed):]), variables, specs, cats,
                    added, notes, missing, c, tuple(fixed))


def _fixed_levels(fixed_levels, levels: list) -> list:
    """``fixed_levels=`` as a list: the outermost levels, leaving at least one random level."""
    fixed = _as_list(fixed_levels, "fixed_levels")
    if fixed and (fixed != levels[:len(fixed)] or len(fixed) >= len(levels)):
        raise SpecificationError(
            f"fixed_levels must be the outermost level(s) of levels {levels} (e.g. fixed_levels={levels[:1]}), "
            f"leaving at least one level with a random intercept; got {fixed}."
        )
    return fixed


def _fixed_design(X: np.ndarray, x_names: list, units: pd.Series, codes: np.ndarray, fixed: list,
                  notes: list) -> tuple:
    """X with a dummy per unit of the innermost fixed level; predictors the dummies imply left out."""
    n_units = int(codes.max()) + 1
    dummies = np.zeros((len(codes), n_units))
    dummies[np.arange(len(codes)), codes] = 1.0
    basis = dummies / np.sqrt(dummies.sum(axis=0))  # orthonormal columns
    keep = []
    for j in range(X.shape[1]):
        r = X[:, j] - basis @ (basis.T @ X[:, j])
        if np.linalg.norm(r) > 1e-8 * max(np.linalg.norm(X[:, j]), 1.0):
            keep.append(j)
            basis = np.column_stack([basis, r / np.linalg.norm(r)])
    dropped = [x_names[j] for j in range(X.shape[1]) if j not in keep]
    labels = units.to_numpy()[np.unique(codes, return_index=True)[1]]
    names = [x_names[j] for j in keep] + [f"{fixed[-1]}[{v}]" for v in labels]
    notes.append(f"fixed_levels={fixed}: a fixed effect per {fixed[-1]} ({n_units} dummies) instead of a random "
                 "intercept" + (f"; {dropped} are implied by the dummies and left out." if dropped else "."))
    return np.column_stack([X[:, keep], dummies]), names


def _few_units(levels: list, n_units: list, q: int, notes: list) -> None:
    """A note for a random level with no more units than modelled columns."""
    for name, n in zip(levels, n_units):
        if n <= q:
            notes.append(f"The level {name!r} has {n} units for {q} modelled columns: the data barely determine its "
                         f"covariance matrix and the prior weighs in; with few units consider fixed_levels=[{name!r}] "
                         "(the outermost levels only).")


def _complete_spec(complete, data: pd.DataFrame, levels: list) -> tuple:
    if not isinstance(complete, (tuple, list)) or len(complete) != 2 or not all(isinstance(c, str) for c in complete):
        raise SpecificationError(
            f"complete must be (unit column, wave column), e.g. ('family', 'wave'); got {complete!r}."
        )
    _check_columns(data, list(complete), "complete")
    unit, wave = complete
    if wave in levels:
        raise SpecificationError(f"The wave column {wave!r} cannot be a level of the imputation model.")
    return unit, wave


def _complete(data: pd.DataFrame, mask: np.ndarray, unit: str, wave: str, levels: list, pred_cols: list,
              notes: list) -> tuple:
    """``data`` with a row for every missed wave of the units in ``mask``; the number added."""
    msg = _Messages(data, None)
    for col in (unit, wave):
        bad = np.flatnonzero(data[col].isna().to_numpy() & mask)
        if len(bad):
            raise msg.error(f"The column {col!r} of complete= has missing values: {msg.rows(bad)}.",
                            f"fill in {col} or leave these rows out (where=).")
    part = data[mask]
    dup = part.duplicated([unit, wave], keep=False).to_numpy()
    if dup.any():
        raise msg.error(f"{unit} x {wave} is not unique: {msg.rows(np.flatnonzero(mask)[dup])}.",
                        f"complete= needs one row per {unit} per {wave}; remove the duplicates.")
    waves = np.sort(data[wave].dropna().unique())
    units = part[unit].unique()
    grid = pd.MultiIndex.from_product([units, waves], names=[unit, wave])
    have = pd.MultiIndex.from_frame(part[[unit, wave]])
    absent = grid.difference(have, sort=False)
    if len(absent) == 0:
        notes.append(f"complete=: every {unit} has every {wave}; no rows added.")
        return data, 0
    absent = absent.to_frame(index=False)
    constant = part.groupby(unit, sort=False).nunique(dropna=False).max() <= 1
    firsts = part.drop_duplicates(unit).set_index(unit)
    new = firsts.loc[absent[unit]].reset_index()
    new[wave] = absent[wave].to_numpy()
    top = levels[0]
    for col in data.columns:
        if col in (unit, wave) or constant.get(col, True):
            continue
        if col in levels:
            raise DataError(f"complete=: the level column {col!r} is not constant within {unit}; the levels "
                            f"must be nested and {unit} the unit that misses waves.")
        if col in pred_cols:
            new[col] = _from_cells(part, new, col, top, wave, unit)
        else:
            new[col] = np.nan
    new = new[list(data.columns)]
    start = data.index.max() + 1 if len(data) and pd.api.types.is_integer_dtype(data.index) else 0
    if not pd.api.types.is_integer_dtype(data.index):
        raise SpecificationError("complete= needs data with an integer index (e.g. after data.reset_index(drop=True)).")
    new.index = pd.RangeIndex(start, start + len(new))
    notes.append(f"complete=: {len(new)} rows added for missed {unit} x {wave} combinations "
                 f"({len(units)} {unit} units x {len(waves)} waves); marked in {ADDED!r} and imp.added.")
    full = pd.concat([data, new])
    for col in data.columns:  # keep dtypes that the added values fit
        if full[col].dtype != data[col].dtype and not new[col].isna().any():
            try:
                full[col] = full[col].astype(data[col].dtype)
            except (TypeError, ValueError):
                pass
    full[ADDED] = np.r_[np.zeros(len(data), bool), np.ones(len(new), bool)]
    return full, len(new)


def _from_cells(part: pd.DataFrame, new: pd.DataFrame, col: str, top: str, wave: str, unit: str) -> np.ndarray:
    """A predictor of the added rows from its value in their top-level cluster x wave cell."""
    cells = part.groupby([top, wave], sort=False)[col]
    if (cells.nunique(dropna=False) > 1).any():
        raise DataError(
            f"complete=: the predictor {col!r} varies within {unit} and within {top} x {wave}, so its value "
            f"in the added rows is unknown. Fix: fill {col} yourself (add the rows before imputing) or "
            f"leave {col} out of predictors."
        )
    value = cells.first()
    keys = pd.MultiIndex.from_frame(new[[top, wave]])
    out = value.reindex(keys)
    if out.isna().any():
        bad = new.loc[out.isna().to_numpy(), [unit, wave]].head(3).to_dict("records")
        raise DataError(
            f"complete=: no observed {top} x {wave} cell to take {col!r} from for the added rows, e.g. {bad}. "
            f"Fix: add these rows with {col} yourself before imputing."
        )
    return out.to_numpy()


def _design(sub: pd.DataFrame, predictors: str, pred_cols: list) -> tuple:
    """The design of the predictors (rows of ``sub``) through the project's formula frame."""
    if _ONE in sub.columns:
        raise SpecificationError(f"data has a column named {_ONE!r}, which impute uses internally; rename it.")
    tmp = sub[pred_cols].reset_index(drop=True).assign(**{_ONE: 1.0})
    _, x, _design_obj, reason, _ = build_design(f"{_ONE} ~ {predictors}", tmp, context={})
    bad = np.flatnonzero(reason != "")
    if len(bad):
        cols = [c for c in pred_cols if sub[c].iloc[bad].isna().any()]
        msg = _Messages(sub, None)
        raise msg.error(
            f"The predictor(s) {cols} have missing values in {msg.rows(bad)}.",
            "predictors must be complete: impute such a column as one of the variables (and leave it out of "
            "predictors), or leave the rows out (where=).",
        )
    X = np.asarray(x, float)
    _check_rank(X, list(x.columns))
    return X, list(x.columns)


def _level_codes(sub: pd.DataFrame, levels: list) -> tuple:
    """Integer codes of the units of each level (a unit: its value and those of the levels above)."""
    codes, n_units, combined = [], [], np.zeros(len(sub), np.int64)
    for col in levels:
        c = pd.factorize(sub[col], sort=True)[0].astype(np.int64)
        combined = pd.factorize(combined * (c.max() + 1) + c, sort=True)[0].astype(np.int64)
        codes.append(combined)
        n_units.append(int(combined.max()) + 1)
    for col, n in zip(levels, n_units):
        if n < 2:
            raise DataError(f"The level {col!r} has {n} unit in the rows imputed; a level needs at least 2 units.")
    return codes, n_units


def _item_ranges() -> dict:
    """``{item: (min, max)}`` of every shipped instrument."""
    from lerendtransformeren.scales.instrument import _registry

    out = {}
    for inst in _registry().values():
        for item in inst.items:
            out[item] = (inst.response_min, inst.response_max)
    return out


def _variables(sub: pd.DataFrame, variables: list, categorical: list, ranges: dict, notes: list) -> tuple:
    """Specs, the standardised matrix Y (NaN where missing, NaN latent columns) and the categorical codes."""
    specs, columns, cats, col = [], [], [], 0
    items = None
    msg = _Messages(sub, None)
    for name in variables:
        s = sub[name]
        miss = s.isna().to_numpy()
        if miss.all():
            raise msg.error(f"The variable {name!r} has no observed value in the rows imputed.",
                            f"leave {name} out of variables (nothing to impute it from).", rows=False)
        if not miss.any():
            notes.append(f"{name} has no missing values in the rows imputed; it is modelled, nothing imputed.")
        if name in categorical or not is_numeric_dtype(s) or is_bool_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            cat = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
            codes = pd.Categorical(s, categories=cat).codes.astype(np.int64)
            if len(cat) < 2:
                raise msg.error(f"The categorical variable {name!r} has one observed category ({cat}).",
                                f"leave {name} out of variables.", rows=False)
            specs.append(_Variable(name, "categorical", col, len(cat) - 1, categories=cat))
            cats.append((col, len(cat) - 1, codes))
            columns.append(np.full((len(s), len(cat) - 1), np.nan))
            col += len(cat) - 1
            continue
        x = s.to_numpy(dtype=float, na_value=np.nan)
        obs = x[~miss]
        mean, sd = float(obs.mean()), float(obs.std(ddof=1)) if len(obs) > 1 else 0.0
        if not sd > 0:
            raise msg.error(f"The variable {name!r} has one observed value ({obs[0]!r}).",
                            f"leave {name} out of variables.", rows=False)
        bounds, kind = None, "continuous"
        if name in ranges:
            bounds = ranges[name]
            if bounds is not None and (len(bounds) != 2 or not bounds[0] < bounds[1]):
                raise SpecificationError(f"ranges[{name!r}] must be (lowest, highest) or None, got {bounds!r}.")
        else:
            items = _item_ranges() if items is None else items
            if name in items:
                bounds = items[name]
            elif np.all(obs == np.round(obs)) and len(np.unique(obs)) <= MAX_ITEM_VALUES:
                bounds = (float(obs.min()), float(obs.max()))
                notes.append(f"{name}: whole numbers, imputed values rounded to the observed range "
                             f"{bounds[0]:g}..{bounds[1]:g} (give ranges= to set it).")
        if bounds is not None:
            kind = "item"
        specs.append(_Variable(name, kind, col, 1, mean, sd, None if bounds is None else tuple(map(float, bounds))))
        columns.append(((x - mean) / sd)[:, None])
        col += 1
    return specs, np.hstack(columns), cats


def _missing_table(sub: pd.DataFrame, variables: list, wave: str | None) -> pd.DataFrame:
    miss = sub[variables].isna()
    table = pd.DataFrame({"rows": len(sub), "missing": miss.sum(), "pct_missing": 100 * miss.mean()})
    if wave is not None:
        per = miss.groupby(sub[wave].to_numpy()).sum().T
        per.columns = [f"missing {wave} {w}" for w in per.columns]
        table = table.join(per)
    table.index.name = "variable"
    return table


def assemble(prep: Prepared, draws: list) -> list:
    """The completed data sets from the chains' draws (``(values, categories)`` per imputation)."""
    miss_all = np.isnan(prep.Y)
    latent = np.zeros(prep.Y.shape[1], bool)
    for start, width, _ in prep.cats:
        latent[start:start + width] = True
    cont_miss = miss_all & ~latent
    out = []
    for values, categories in draws:
        y = prep.Y.copy()
        y[cont_miss] = values
        d = prep.frame.copy()
        k = 0
        for v in prep.specs:
            if v.kind == "categorical":
                codes = categories[k]
                k += 1
                col = d[v.name]
                rows = col.iloc[prep.rows].isna().to_numpy()
                if rows.any():
                    vals = np.asarray(v.categories, dtype=object)[codes[rows]]
                    d.iloc[prep.rows[rows], d.columns.get_loc(v.name)] = pd.array(vals, dtype=col.dtype) \
                        if not isinstance(col.dtype, pd.CategoricalDtype) else vals
                continue
            rows = np.isnan(prep.Y[:, v.column])
            if not rows.any():
                continue
            vals = y[rows, v.column] * v.sd + v.mean
            if v.bounds is not None:
                vals = np.clip(np.round(vals), *v.bounds)
            _put(d, v.name, prep.rows[rows], vals)
        out.append(d)
    return out


def _put(d: pd.DataFrame, name: str, positions: np.ndarray, vals: np.ndarray) -> None:
    col = d[name]
    if pd.api.types.is_integer_dtype(col.dtype) and np.all(vals == np.round(vals)):
        new = col.to_numpy().copy()
        new[positions] = vals.astype(new.dtype)
        d[name] = pd.Series(new, index=d.index, dtype=col.dtype)
        return
    if not pd.api.types.is_float_dtype(col.dtype):
        d[name] = col.astype(float)
    new = d[name].to_numpy(dtype=float, na_value=np.nan).copy()
    new[positions] = vals
    d[name] = pd.Series(new, index=d.index, dtype=d[name].dtype)
