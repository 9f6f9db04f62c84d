"""From a formula and a DataFrame to the arrays of a nested model, with row accounting.

The model frame holds the outcome ``y``, the fixed-effects design ``X`` and the grouping
levels ordered from the finest to the coarsest, each with its unit codes and random-effect
designs ``Z``. Rows with a missing value in any variable the model uses are left out and
counted by reason (first reason that applies, in the order outcome, fixed-effect
covariates, random-effect covariates, grouping factors). R equivalent: ``lme4::lFormula``
with ``na.action = na.omit``.

The fixed part and the left side of every random term ``(expr | g)`` are built by
formulaic (:mod:`formulaic`); the random terms themselves are parsed by
:mod:`~lerendtransformeren.multilevel.formula`. This module is the only one that knows the
formula backend: everything else asks the model frame (:meth:`ModelFrame.fixed_matrix`,
:meth:`RandomBlock.matrix`, :meth:`ModelFrame.fixed_variables`,
:meth:`ModelFrame.fixed_terms`, :meth:`ModelFrame.factor_references`,
:meth:`ModelFrame.type3_design`). What it keeps the same as the patsy designs before it:

* column names: ``Intercept``, ``wave``, ``offer[T.True]`` (a bool column is a factor),
  ``C(wave)[T.2]``, ``wave:offer[T.True]``, ``C(ses, Treatment('laag'))[T.hoog]``;
* the order of the columns: terms grouped by the numeric variables they contain (the group
  without numeric variables first, then in order of appearance), by degree within a group;
* ``center(x)``, ``scale(x)`` (R's: the standard deviation with n - 1) and
  ``standardize(x)`` (patsy's: with n) skip missing values, and with
  ``transform_rows="all"`` (the default) use every row of the data where ``x`` is observed,
  as R's ``model.frame`` does before rows with other missing variables are left out;
  ``transform_rows="used"`` uses the rows of the fit only. The same holds for every
  data-dependent transformation (``poly(x, 2)``, R's orthogonal polynomials). Factor levels
  are always those of the rows used (R's ``drop.unused.levels``);
* nullable pandas columns (``Int64``, ``Float64``, ``boolean``, ``string``) work, ``pd.NA``
  counting as missing; a category of a pandas Categorical that does not occur in the rows
  used is left out, with a note (``ModelFrame.notes``).
"""

from __future__ import annotations

import copy
import importlib
import pickle
import re
import types
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula, ModelSpec
from formulaic.errors import DataMismatchWarning, FormulaicError
from formulaic.materializers import PandasMaterializer
from formulaic.materializers.types.enums import ClusterBy
from formulaic.parser.types import Factor, Term
from formulaic.transforms import C as _formulaic_C
from formulaic.transforms.contrasts import TreatmentContrasts
from formulaic.utils.context import capture_context
from formulaic.utils.sentinels import UNSET
from formulaic.utils.stateful_transforms import stateful_transform
from interface_meta import override

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel.formula import FormulaSpec, parse_formula

__all__ = [
    "RandomBlock", "Level", "ModelFrame", "Design", "Type3Design", "build_frame", "build_design",
    "capture_context", "nest_levels", "level_index", "TRANSFORM_ROWS", "UnitLabels",
]

#: Rows that data-dependent transformations (``center``, ``scale``, ``poly``) are computed on.
TRANSFORM_ROWS = ("all", "used")


# -- transformations that skip missing values -----------------------------------------------
@stateful_transform
def _scale(data, center=True, scale=True, ddof=1, _state={}):  # noqa: B006 (formulaic's state)
    """R's ``scale(x, center, scale)`` over the observed values: mean, then SD with ``ddof``."""
    values = np.asarray(data, dtype=float)
    if "center" not in _state:
        if isinstance(center, bool):
            _state["center"] = np.nanmean(values, axis=0) if center else None
        else:
            _state["center"] = np.asarray(center, dtype=float)
    if _state["center"] is not None:
        values = values - _state["center"]
    if "scale" not in _state:
        if isinstance(scale, bool):
            observed = np.sum(~np.isnan(values), axis=0)
            _state["scale"] = np.sqrt(np.nansum(values**2, axis=0) / (observed - ddof)) if scale else None
        else:
            _state["scale"] = np.asarray(scale, dtype=float)
    if _state["scale"] is not None:
        values = values / _state["scale"]
    return values


@stateful_transform
def _center(data, _state={}):  # noqa: B006
    """``x - mean(x)`` over the observed values (R: ``scale(x, scale = FALSE)``)."""
    return _scale(data, scale=False, _state=_state)


@stateful_transform
def _standardize(data, center=True, rescale=True, ddof=0, _state={}):  # noqa: B006
    """patsy's ``standardize``: centred and divided by the SD with ``ddof`` (default 0)."""
    return _scale(data, center=center, scale=rescale, ddof=ddof, _state=_state)


def _treatment_C(data, contrasts=None, *, levels=None, spans_intercept=True):  # noqa: N802
    """``C()`` with treatment coding whatever contrast is asked (for Type III tests)."""
    return _formulaic_C(data, None, levels=levels, spans_intercept=spans_intercept)


_TRANSFORMS = {"center": _center, "scale": _scale, "standardize": _standardize}


class _Materializer(PandasMaterializer):
    """formulaic's pandas materializer with patsy's term order and bool columns as factors."""

    REGISTER_NAME = "lerendtransformeren"
    REGISTER_INPUTS = ()
    REGISTER_OUTPUTS = ("pandas", "numpy")

    @override
    def _is_categorical(self, values: Any) -> bool:
        if isinstance(values, pd.Series) and values.dtype == bool:
            return True
        return super()._is_categorical(values)

    @override
    def _cluster_terms(self, terms: Sequence[Term], cluster_by: ClusterBy = ClusterBy.NONE) -> Sequence[Term]:
        """patsy's order: grouped by numeric factors (none first), by degree within a group."""
        def kind(factor):
            return self.factor_cache[factor.expr].metadata.kind

        groups: dict[frozenset, list] = {}
        for term in terms:
            numeric = frozenset(f.expr for f in term.factors if kind(f) is Factor.Kind.NUMERICAL)
            groups.setdefault(numeric, []).append(term)
        order = sorted(groups, key=lambda key: len(key) > 0)  # stable: the group without numerics first
        degree = lambda term: sum(kind(f) is not Factor.Kind.CONSTANT for f in term.factors)  # noqa: E731
        return [term for key in order for term in sorted(groups[key], key=degree)]


# -- the data the backend reads ------------------------------------------------------------
def _formula_columns(text: str, columns) -> list:
    """The data columns named in a formula: words, ``Q('x')`` and backticked names."""
    named = set(re.findall(r"[A-Za-z_][A-Za-z_0-9.]*", text)) | set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text))
    named |= set(re.findall(r"Q\(\s*['\"]([^'\"]+)['\"]\s*\)", text)) | set(re.findall(r"`([^`]+)`", text))
    return [c for c in columns if str(c) in named]


def _plain(series: pd.Series) -> pd.Series:
    """A nullable pandas column as a numpy one that formulaic reads, ``pd.NA`` as NaN.

    ``Int64``/``Float64`` without missing values keep their numpy type (so ``C(wave)`` has
    the levels 0, 1, 2), with missing values they become float; ``boolean`` becomes bool
    (or object with NaN) and ``string`` object; a Categorical is left as it is.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return series
    missing = series.isna()
    if isinstance(dtype, pd.StringDtype) or (dtype == object and missing.any()):
        return series.astype(object).where(~missing, np.nan)
    if isinstance(dtype, pd.BooleanDtype):
        if missing.any():
            return series.astype(object).where(~missing, np.nan)
        return series.astype(bool)
    if pd.api.types.is_extension_array_dtype(dtype) and getattr(dtype, "kind", "") in "iuf":
        if missing.any():
            return pd.Series(series.to_numpy(float, na_value=np.nan), index=series.index, name=series.name)
        return series.astype(dtype.numpy_dtype)
    return series


def _prepare(data: pd.DataFrame, columns) -> pd.DataFrame:
    """``data`` with the named columns made plain (see :func:`_plain`); a copy when changed."""
    out = None
    for col in columns:
        series = data[col]
        plain = _plain(series)
        if plain is not series:
            out = data.copy() if out is None else out
            out[col] = plain
    return data if out is None else out


def _check_no_dot(formula: str) -> None:
    if re.search(r"(^|[~+*:(\s-])\.($|[\s+*:)-])", formula.split("~", 1)[-1]):
        raise SpecificationError(
            f"'.' (all other columns) in {formula!r} is not supported: name the columns of the "
            "model, e.g. 'y ~ wave + offer + (1 | team)'."
        )


# -- one formula side, built and kept for new data ------------------------------------------
class _ModuleRef:
    """A module of the calling namespace, pickled by name."""

    def __init__(self, name: str):
        self.name = name


class _Lost:
    """A name of the calling namespace that could not be pickled with the result."""


@dataclass
class Design:
    """One side of a formula as formulaic built it: the fixed part or the left side of a random term.

    ``spec`` is formulaic's model specification of the fit (its factor levels, contrasts and
    the state of data-dependent transformations); ``context`` holds the names of the
    calling namespace that the formula uses (user functions); ``columns`` the data columns.
    """

    spec: ModelSpec
    context: dict = field(default_factory=dict)
    columns: tuple = ()

    @property
    def names(self) -> list[str]:
        return list(self.spec.column_names)

    def _namespace(self) -> dict:
        lost = [k for k, v in self.context.items() if isinstance(v, _Lost)]
        if lost:
            raise SpecificationError(
                f"The formula uses {lost} from the namespace of the fit, which could not be kept "
                "when the result was pickled; refit the model in this session."
            )
        return {**_TRANSFORMS, **self.context}

    def matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The design of ``newdata`` with the fit's codings; a row with a missing value is NaN."""
        if not isinstance(newdata, pd.DataFrame):
            raise SpecificationError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}.")
        absent = [c for c in self.columns if c not in newdata.columns]
        if absent:
            raise SpecificationError(
                f"newdata lacks the column(s) {absent} that the model uses; it has "
                + ", ".join(map(str, newdata.columns[:30])) + "."
            )
        data = _prepare(newdata.reset_index(drop=True), self.columns)
        namespace = self._namespace()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DataMismatchWarning)
                mm = self.spec.get_model_matrix(data, context=namespace, na_action="drop")
        except DataMismatchWarning as exc:
            levels = {str(f): list(s[1].get("categories", [])) for f, s in self.spec.encoder_state.items()
                      if s[0] is Factor.Kind.CATEGORICAL}
            raise SpecificationError(
                f"newdata has a factor level the fit did not have ({exc}). The levels of the fit "
                f"are {levels}."
            ) from None
        except (FormulaicError, ValueError, TypeError, KeyError, NameError) as exc:
            raise SpecificationError(f"Cannot code newdata as the fit: {exc}") from None
        out = np.full((len(data), len(self.names)), np.nan)
        if len(mm):
            out[np.asarray(mm.index, dtype=np.int64)] = mm.to_numpy(dtype=float)
        return out

    def variables(self) -> dict[str, tuple | None]:
        """Data columns -> factor levels in the fit's order, or None for a number (see ModelFrame)."""
        out: dict[str, tuple | None] = {}
        order = {c: i for i, c in enumerate(self.columns)}
        for term in self.spec.terms:
            for factor in term.factors:
                kind, state = self.spec.encoder_state.get(factor.expr, (Factor.Kind.CONSTANT, {}))
                if kind is Factor.Kind.CONSTANT:
                    continue
                names = sorted({_root(v) for v in self.spec.factor_variables.get(factor, ())
                                if v.source == "data"}, key=lambda n: order.get(n, len(order)))
                for name in names:
                    if kind is Factor.Kind.CATEGORICAL and len(names) == 1:
                        out[name] = tuple(state.get("categories", ()))
                    else:
                        out.setdefault(name, None)
        return out

    def terms(self) -> dict[str, np.ndarray]:
        """Term name (``"Intercept"``, ``"C(wave)"``, ``"wave:offer"``) -> its column positions."""
        return {("Intercept" if str(t) == "1" else str(t)): np.asarray(idx, dtype=np.int64)
                for t, idx in self.spec.term_indices.items() if idx}

    def references(self) -> dict[str, str]:
        """Factor -> the level that treatment coding leaves out (only factors coded so)."""
        refs: dict[str, str] = {}
        for row in self.spec.structure:
            for scoped in row.scoped_terms:
                for sf in scoped.factors:
                    expr = sf.factor.expr
                    state = self.spec.encoder_state.get(expr, (None, {}))[1]
                    contrasts = getattr(state.get("contrasts"), "contrasts", None)
                    levels = state.get("categories") or []
                    if sf.reduced and isinstance(contrasts, TreatmentContrasts) and levels:
                        refs[expr] = str(levels[0] if contrasts.base is UNSET else contrasts.base)
        return refs

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        kept = {}
        for name, value in self.context.items():
            if isinstance(value, types.ModuleType):
                kept[name] = _ModuleRef(value.__name__)
                continue
            try:
                pickle.dumps(value)
                kept[name] = value
            except Exception:  # noqa: BLE001 - whatever cannot be pickled is named on use
                kept[name] = _Lost()
        state["context"] = kept
        return state

    def __setstate__(self, state: dict) -> None:
        context = {}
        for name, value in state["context"].items():
            if isinstance(value, _ModuleRef):
                value = importlib.import_module(value.name)
            context[name] = value
        state["context"] = context
        self.__dict__.update(state)


def _materialize(formula, data: pd.DataFrame, namespace: Mapping, *, na_action: str, what: str,
                 transform_state: dict | None = None, encoder_state: dict | None = None,
                 full_rank: bool = True):
    """formulaic's model matrix of one formula side, errors as SpecificationError."""
    spec = ModelSpec(formula, materializer=_Materializer, na_action=na_action, ensure_full_rank=full_rank,
                     transform_state=copy.deepcopy(transform_state or {}),
                     encoder_state=copy.deepcopy(encoder_state or {}))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataMismatchWarning)
            return spec.get_model_matrix(data, context=namespace)
    except (FormulaicError, ValueError, TypeError, KeyError, NameError) as exc:
        cols = ", ".join(map(str, data.columns[:30]))
        raise SpecificationError(
            f"Cannot build the {what} of the model: the formula cannot be evaluated on the data: "
            f"{exc}. Check the spelling against the data columns: {cols}."
        ) from None


def _parse(text: str, what: str):
    try:
        return Formula(text, _ordering="none")
    except (FormulaicError, ValueError, SyntaxError) as exc:
        raise SpecificationError(f"Cannot read the {what} {text!r}: {exc}") from None


def _root(variable) -> str:
    """The name a formula variable starts from (``a.fillna`` -> ``a``; formulaic >= 1.2 knows it)."""
    return str(getattr(variable, "root", variable))


def _kept_context(spec: ModelSpec, namespace: Mapping) -> dict:
    """The names of the calling namespace that the formula used (user functions, constants)."""
    used = {_root(v) for v in spec.variables_by_source.get("context", ())}
    return {name: namespace[name] for name in sorted(used) if name in namespace}


def _data_columns(spec: ModelSpec) -> set[str]:
    return {_root(v) for v in spec.variables_by_source.get("data", ())}


def _drop_unused_categories(data: pd.DataFrame, columns) -> tuple[pd.DataFrame, list[str]]:
    """Categories of pandas Categorical columns that do not occur in ``data``, dropped, with notes."""
    notes = []
    for col in columns:
        values = data[col]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            continue
        present = set(values.dropna().unique())
        unused = [c for c in values.cat.categories if c not in present]
        if unused:
            data = data.copy() if not notes else data
            data[col] = values.cat.remove_unused_categories()
            shown = ", ".join(repr(c) for c in unused)
            notes.append(
                f"Category {shown} of {col!r} does not occur in the rows used and was left out of the "
                "model (a pandas Categorical keeps categories that have no rows; coded, they would "
                "be a column of zeros)."
            )
    return data, notes


@dataclass(frozen=True)
class Type3Design:
    """What lmerTest's Type III contrasts are computed from (:func:`.inference.type3_contrasts`).

    Attributes
    ----------
    X : ndarray (n, p)
        The fixed design of the rows used with treatment coding of every factor (the first
        level the reference), whatever coding the model uses; the same terms and columns
        per term as the model.
    names : list of str
        Column names of ``X`` (``"C(x, Sum)[T.b]"``).
    full : ndarray (n, k)
        The intercept (if the model has one) and the indicator coding of every term
        (R: ``model.matrix(~ 0 + term)``), lmerTest's ``get_rdX``.
    full_names : list of str
        Column names of ``full`` (``"C(x, Sum)[b]"``).
    terms : list of (name, factors, numeric factors, columns)
        Every term but the intercept: its factors, those that are numbers, and its columns
        in ``X`` (the same in the model's design).
    """

    X: np.ndarray
    names: list
    full: np.ndarray
    full_names: list
    terms: list


def build_design(formula: str, data: pd.DataFrame, context: Mapping | None = None, transform_rows: str = "all",
                 required: Mapping[str, np.ndarray] | None = None):
    """Outcome and design of a formula without random terms (the GEE's), with row reasons.

    Parameters
    ----------
    formula, data
        ``"outcome ~ predictors"`` and the data.
    context : mapping, optional
        Names the formula may use besides the data (the caller's namespace).
    transform_rows : {"all", "used"}
        Rows that ``center``/``scale``/``poly`` are computed on (see the module notes).
    required : mapping, optional
        Further reasons to leave rows out: ``{"missing cluster": mask of rows that have one}``.

    Returns
    -------
    y : DataFrame
        The outcome of the rows used (one column; index: positions in ``data``).
    x : DataFrame
        The design of the rows used.
    design : Design
        To code new data as the fit.
    reason : ndarray of str
        For every row of ``data`` why it was left out (``""`` for rows used; ``"missing
        outcome"``, ``"missing covariate"`` or a key of ``required``), the first that applies.
    notes : list of str
        Categories of pandas Categorical columns left out (no rows).

    Raises
    ------
    SpecificationError
        A formula that cannot be read or evaluated on the data, or no outcome.
    """
    _check_transform_rows(transform_rows)
    if not isinstance(formula, str) or "~" not in formula or not formula.split("~", 1)[0].strip():
        raise SpecificationError(f"The formula {formula!r} has no outcome; write 'outcome ~ predictors'.")
    _check_no_dot(formula)
    namespace = {**_TRANSFORMS, **(context or {})}
    parsed = _parse(formula, "formula")
    raw = data.reset_index(drop=True)
    cols = _formula_columns(formula, raw.columns)
    frame = _prepare(raw, cols)
    y_all = _materialize(parsed.lhs, frame, namespace, na_action="drop", what="outcome")
    x_all = _materialize(parsed.rhs, frame, namespace, na_action="drop", what="design")
    masks = {"missing outcome": _present(y_all, len(frame)), "missing covariate": _present(x_all, len(frame))}
    masks.update(required or {})
    reason = np.select([~m for m in masks.values()], list(masks), default="")
    used = np.flatnonzero(reason == "")
    sub, notes = _drop_unused_categories(_prepare(raw.iloc[used].reset_index(drop=True), cols),
                                         _data_columns(x_all.model_spec) | _data_columns(y_all.model_spec))
    if len(used) and (len(used) < len(frame) or notes):
        states = (y_all.model_spec.transform_state, x_all.model_spec.transform_state) \
            if transform_rows == "all" else ({}, {})
        y_all = _materialize(parsed.lhs, sub, namespace, na_action="raise", what="outcome", transform_state=states[0])
        x_all = _materialize(parsed.rhs, sub, namespace, na_action="raise", what="design", transform_state=states[1])
        y_all.index = x_all.index = used
    x_spec = x_all.model_spec
    design = Design(x_spec, _kept_context(x_spec, namespace), _ordered(_data_columns(x_spec), raw.columns))
    return y_all, x_all, design, reason, notes


def _ones_view(Z: np.ndarray) -> np.ndarray:
    """A random-intercept design (one column of ones) as a read-only view of one value."""
    if Z.shape[1] == 1 and len(Z) and bool(np.all(Z == 1.0)):
        return np.broadcast_to(np.ones((1, 1)), Z.shape)
    return Z


def _present(mm, n: int) -> np.ndarray:
    """Rows (by position) that a model matrix built with na_action='drop' kept."""
    mask = np.zeros(n, bool)
    index = mm.index
    if isinstance(index, pd.RangeIndex):  # no array of positions (pandas would cache it on the index)
        mask[index.start:index.stop:index.step] = True
    else:
        mask[np.asarray(index, dtype=np.int64)] = True
    return mask


def _ordered(names, columns) -> tuple:
    """``names`` in the order of the data's columns."""
    names = set(names)
    return tuple(str(c) for c in columns if str(c) in names)


def _check_transform_rows(transform_rows: str) -> None:
    if transform_rows not in TRANSFORM_ROWS:
        raise SpecificationError(
            f"transform_rows must be 'all' (R's model.frame: centring and scaling over every row "
            f"where the variable is observed) or 'used' (over the rows of the fit), got {transform_rows!r}."
        )


@dataclass
class RandomBlock:
    """The random effects of one term at one level: ``names`` are the design's column names."""

    group: str
    expr: str
    names: list[str]
    Z: np.ndarray  # (n, q)
    design: Design | None = None

    def matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The design of this block for ``newdata`` with the fit's codings (NaN rows kept)."""
        if self.design is None:
            raise SpecificationError(f"The random term ({self.expr} | {self.group}) keeps no design for new data.")
        return self.design.matrix(newdata)

    @property
    def q(self) -> int:
        return len(self.names)


@dataclass
class Level:
    """One grouping level: unit code per row, unit labels, and its random blocks."""

    name: str
    factors: tuple[str, ...]
    codes: np.ndarray
    labels: np.ndarray  # or UnitLabels: made into the array on first use
    blocks: list[RandomBlock] = field(default_factory=list)

    @property
    def n_units(self) -> int:
        return len(self.__dict__["_labels"])

    @property
    def q(self) -> int:
        return sum(b.q for b in self.blocks)


def _get_labels(self: Level) -> np.ndarray:
    labels = self.__dict__["_labels"]
    if isinstance(labels, UnitLabels):  # made on first use
        labels = self.__dict__["_labels"] = labels.build()
    return labels


def _set_labels(self: Level, labels) -> None:
    self.__dict__["_labels"] = labels


#: ``Level.labels``: an array of str; the frame gives a :class:`UnitLabels` made on first use.
Level.labels = property(_get_labels, _set_labels, doc="Unit labels (object array of str), in code order.")


@dataclass
class ModelFrame:
    """Arrays of a model plus the bookkeeping needed for output and prediction."""

    spec: FormulaSpec
    y: np.ndarray
    y_name: str
    X: np.ndarray
    x_names: list[str]
    x_design: Design
    levels: list[Level]  # finest first
    row_index: pd.Index
    n_total: int
    left_out: dict[str, int]
    keep: np.ndarray  # rows of the data used (boolean, by position)
    data_columns: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    transform_rows: str = "all"
    used: pd.DataFrame | None = None  # the model's columns of the rows used, as the design read them

    def fixed_matrix(self, newdata: pd.DataFrame) -> np.ndarray:
        """The fixed-effects design of ``newdata`` with the codings of the fit.

        Factor levels and reference categories are those of the rows used in the fit, and
        data-dependent transformations (``center(x)``, ``poly(x, 2)``) keep the values the fit
        computed (over every row where ``x`` is observed, or over the rows used with
        ``transform_rows="used"``); a missing value gives a row of NaN rather than being
        dropped, so the result has one row per row of ``newdata``.
        """
        return self.x_design.matrix(newdata)

    def fixed_variables(self) -> dict[str, tuple | None]:
        """The data columns the fixed part uses and how they enter it.

        A column that enters as a factor (a string, boolean or categorical column, or a
        number inside ``C()``) maps to its levels in the fit's order (sorted, or the order of
        a Categorical's categories; with the default coding the reference level first); a column that enters as a number (also inside a transformation such as
        ``np.log(x)``) maps to None. A column that enters both ways counts as a factor.
        The outcome is not included. This is what a reference grid for estimated marginal
        means is built from.
        """
        return self.x_design.variables()

    def fixed_terms(self) -> dict[str, np.ndarray]:
        """Every term of the fixed part (``"Intercept"``, ``"C(wave)"``, ``"wave:offer"``) -> its columns."""
        return self.x_design.terms()

    def factor_references(self) -> dict[str, str]:
        """Factor (``"C(wave)"``, ``"ses"``, ``"C(ses, Treatment('hoog'))"``) -> its reference level.

        The level that the fixed part's treatment coding leaves out (the first level unless
        ``Treatment(...)`` names another); factors with another coding, or coded in full, are
        left out.
        """
        return self.x_design.references()

    def type3_design(self) -> Type3Design:
        """The treatment-coded and the indicator designs that Type III contrasts are built from.

        Both are built on the rows used, with the fit's factor levels and transformation
        state; see :class:`Type3Design` (R: lmerTest's ``get_model_matrix(type = "remake",
        contrasts = "contr.treatment")`` and ``get_rdX``).
        """
        spec = self.x_design.spec
        namespace = {**self.x_design._namespace(), "C": _treatment_C}
        levels = {k: (v[0], {"categories": v[1]["categories"]}) for k, v in spec.encoder_state.items()
                  if "categories" in v[1]}
        kw = dict(na_action="raise", what="Type III design", transform_state=spec.transform_state,
                  encoder_state=levels)
        treat = _materialize(spec.formula, self.used, namespace, **kw)
        full = _materialize(spec.formula, self.used, namespace, full_rank=False, **kw)
        tspec = treat.model_spec
        kinds = {k: v[0] for k, v in tspec.encoder_state.items()}
        terms = []
        for term, idx in tspec.term_indices.items():
            factors = frozenset(f.expr for f in term.factors if kinds.get(f.expr, Factor.Kind.CONSTANT)
                                is not Factor.Kind.CONSTANT)
            if factors:
                numeric = frozenset(f for f in factors if kinds[f] is Factor.Kind.NUMERICAL)
                terms.append((str(term), factors, numeric, np.asarray(idx, dtype=np.int64)))
        return Type3Design(treat.to_numpy(float), list(treat.columns), full.to_numpy(float),
                           list(full.columns), terms)


def build_frame(formula: str, data: pd.DataFrame, context: Mapping | None = None, one_row_units: bool = False,
                transform_rows: str = "all", nested: bool = True) -> ModelFrame:
    """Parse ``formula`` and build the model arrays from ``data``.

    Parameters
    ----------
    formula, data
        An lme4-style formula (:func:`.formula.parse_formula`) and the data.
    context : mapping, optional
        Names the formula may use besides the data and formulaic's transformations (user
        functions); default the caller's namespace.
    one_row_units : bool
        Allow a grouping level with one row per unit (an observation-level random effect,
        which a GLMM can estimate; lme4's glmer allows it too).
    transform_rows : {"all", "used"}
        ``"all"`` (R's way): data-dependent transformations (``center``, ``scale``,
        ``poly``) over every row of the data where their variable is observed, before rows
        with another missing variable are left out. ``"used"``: over the rows used only.
    nested : bool
        Check that the grouping factors are nested and order the levels finest first
        (False for the statsmodels engine, which takes crossed factors).

    Raises
    ------
    SpecificationError
        Unknown columns, a level with one unit, as many units as rows, a random slope on
        a variable that does not vary within any unit, collinear fixed effects, ``y ~ .``.
    DataError
        No usable rows (e.g. an all-missing outcome).
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    _check_transform_rows(transform_rows)
    spec = parse_formula(formula)
    _check_no_dot(spec.fixed)
    for term in spec.random:
        _check_no_dot(f"~ {term.expr}")
    namespace = {**_TRANSFORMS, **(capture_context(1) if context is None else context)}
    missing_cols = [c for c in spec.grouping_columns if c not in data.columns]
    if missing_cols:
        raise SpecificationError(
            f"Grouping column(s) {missing_cols} not in the data; columns are: "
            + ", ".join(map(str, data.columns[:30]))
        )
    raw = data.reset_index(drop=True)
    cols = _formula_columns(formula, raw.columns)
    frame = _prepare(raw, cols)
    n_total = len(frame)
    fixed = _parse(spec.fixed, "fixed part")
    parts = {"outcome": fixed.lhs, "fixed-effects design": fixed.rhs}
    parts.update({f"random-effects design {e!r}": _parse(e, f"random term ({e} | ...)")
                  for e in dict.fromkeys(t.expr for t in spec.random)})
    first = {what: _materialize(f, frame, namespace, na_action="drop", what=what) for what, f in parts.items()}
    mask_y = _present(first["outcome"], n_total)
    if not mask_y.any():
        raise DataError(f"The outcome of {formula!r} is missing on all {n_total} rows; nothing to fit.")
    mask_z = np.ones(n_total, bool)
    for what, mm in first.items():
        if what.startswith("random"):
            mask_z &= _present(mm, n_total)
    mask_g = frame[spec.grouping_columns].notna().all(axis=1).to_numpy()
    left_out, keep = {}, np.ones(n_total, bool)
    for reason, mask in [
        ("outcome missing", mask_y),
        ("fixed-effect covariate missing", _present(first["fixed-effects design"], n_total)),
        ("random-effect covariate missing", mask_z),
        ("grouping factor missing", mask_g),
    ]:
        left_out[reason] = int((keep & ~mask).sum())
        keep &= mask
    if not keep.any():
        raise DataError(f"No row of the data has all variables of {formula!r}: {left_out}.")
    variables = set().union(*(_data_columns(mm.model_spec) for mm in first.values()))
    used_cols = list(_ordered(variables | set(map(str, spec.grouping_columns)), raw.columns))
    sub = frame if keep.all() else _prepare(raw.loc[keep].reset_index(drop=True), cols)
    sub, notes = _drop_unused_categories(sub, _ordered(variables, raw.columns))
    if keep.all() and not notes:  # the designs of the first pass are those of the rows used
        built = first
    else:  # again on the rows used, so that factor levels are those of the rows used
        built = {what: _materialize(parts[what], sub, namespace, na_action="raise", what=what,
                                    transform_state=mm.model_spec.transform_state if transform_rows == "all" else None)
                 for what, mm in first.items()}
    y_df, x_df = built["outcome"], built["fixed-effects design"]
    if y_df.shape[1] != 1:
        raise SpecificationError(f"The outcome of {formula!r} must be one numeric column; got {list(y_df.columns)}.")
    X = x_df.to_numpy(dtype=float)
    x_names = list(x_df.columns)
    y = y_df.to_numpy(float)[:, 0]
    y_name, x_spec = str(y_df.columns[0]), x_df.model_spec
    z_built = {what: (_ones_view(mm.to_numpy(float)), list(mm.columns), mm.model_spec) for what, mm in built.items()
               if what.startswith("random")}
    del first, built, y_df, x_df  # the designs as arrays: formulaic's frames go before the codes are made
    n = len(sub)
    _check_rank(X, x_names)
    levels: dict[str, Level] = {}
    code_cache: dict = {}
    for term in spec.random:
        if term.name not in levels:
            codes, labels = _unit_codes(sub, term.factors, code_cache)
            levels[term.name] = Level(term.name, term.factors, codes, labels)
        Z, z_names, z_spec = z_built[f"random-effects design {term.expr!r}"]
        if Z.shape[1] == 0:
            raise SpecificationError(f"Random term ({term.expr} | {term.name}) has no columns.")
        z_design = Design(z_spec, _kept_context(z_spec, namespace), _ordered(_data_columns(z_spec), raw.columns))
        levels[term.name].blocks.append(RandomBlock(term.name, term.expr, z_names, Z, z_design))
    for lev in levels.values():
        _check_level(lev, n, one_row_units)
    return ModelFrame(
        spec=spec,
        y=y,
        y_name=y_name,
        X=X,
        x_names=x_names,
        x_design=Design(x_spec, _kept_context(x_spec, namespace), _ordered(_data_columns(x_spec), raw.columns)),
        levels=nest_levels(list(levels.values())) if nested else sorted(levels.values(), key=lambda v: -v.n_units),
        row_index=data.index if keep.all() else data.index[keep],
        n_total=n_total,
        left_out=left_out,
        keep=keep,
        data_columns=tuple(str(c) for c in data.columns),
        notes=notes,
        transform_rows=transform_rows,
        used=sub[[c for c in used_cols if c in sub.columns]],
    )


def _unit_codes(data: pd.DataFrame, factors: tuple[str, ...], cache: dict | None = None) -> tuple[np.ndarray, UnitLabels]:
    """Unit code per row and unit labels ("a:b"), units sorted by their factor values.

    As ``groupby(list(factors), sort=True).ngroup()``, but each column is factorised once
    (hash tables, O(rows)) and the codes of ``a/b`` are combined from those of ``a`` and
    ``b``: when every value of ``b`` lies in one unit of ``a`` (codes of ``b`` not reused
    across ``a``) by ranking the values of ``b`` (no pass over the rows beyond a scatter and
    a gather), otherwise by factorising the combined codes. ``cache`` keeps the factorised
    columns and the codes of leading factors for the next call (the levels of ``a/b/c``
    share them). The labels are made when first asked for (:class:`UnitLabels`).
    """
    cache = {} if cache is None else cache
    codes = None
    for k, f in enumerate(factors):
        if ("column", f) not in cache:
            c, uniq = pd.factorize(data[f], sort=True)
            cache[("column", f)] = (c.astype(np.int64, copy=False), uniq)  # values as text when labels are made
        c, values = cache[("column", f)]
        if factors[: k + 1] not in cache:
            cache[factors[: k + 1]] = c if k == 0 else _combine_codes(codes, c, len(values))
        codes = cache[factors[: k + 1]]
    n_units = int(codes.max()) + 1 if len(codes) else 0
    first = np.empty(n_units, np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the first row of every unit
    parts = [(cache[("column", f)][1], cache[("column", f)][0][first]) for f in factors]
    return codes, UnitLabels(parts)


def _combine_codes(outer: np.ndarray, inner: np.ndarray, n_inner: int) -> np.ndarray:
    """Dense codes of the (outer, inner) pairs of every row, pairs in sorted order.

    ``inner`` holds every value ``0 .. n_inner - 1``. When each inner value occurs in one
    outer unit only, the pairs are the inner values ranked by (outer, inner): a scatter
    and a gather. Otherwise the combined codes are factorised (a hash pass).
    """
    owner = np.empty(n_inner, np.int64)
    owner[inner] = outer
    if np.array_equal(owner[inner], outer):
        rank = np.empty(n_inner, np.int64)
        rank[np.lexsort((np.arange(n_inner), owner))] = np.arange(n_inner)
        return rank[inner]
    return pd.factorize(outer * np.int64(n_inner) + inner, sort=True)[0].astype(np.int64, copy=False)


def _as_text(values) -> np.ndarray:
    """Factor values as str: numbers, bools and strings as ``str()`` gives them, others as pandas."""
    raw = np.asarray(values)
    if raw.dtype.kind in "iufbUO":  # numpy formats these as str() does
        return raw.astype(str)
    return np.asarray(pd.Index(values).astype(str), dtype=str)


class UnitLabels:
    """The labels of a level's units ("a:b:c"), made when first needed.

    Holds, per factor, its distinct values and which of them each unit has; formatting
    and joining them for a few hundred thousand units takes longer than the fit of a
    random-intercept model, and only ``ranef``, ``predict`` on new data and messages need
    them. ``len()`` is the number of units; :meth:`build` gives the labels (object array).

    Parameters
    ----------
    parts : list of (values, index)
        Per factor, outermost first: its distinct values and, per unit, the position of its
        value among them.
    """

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray]]):
        self.parts = parts

    def __len__(self) -> int:
        return len(self.parts[0][1])

    def build(self) -> np.ndarray:
        """The labels, ``"a:b:c"`` per unit, as an object array of str."""
        columns = [_as_text(values[idx]).tolist() for values, idx in self.parts]
        if len(columns) == 1:
            labels = columns[0]
        else:
            labels = [":".join(t) for t in zip(*columns)]
        out = np.empty(len(labels), dtype=object)
        out[:] = labels
        return out


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


#: Rows per block of the blockwise QR that :func:`_check_rank` uses on large designs.
_RANK_BLOCK = 65536


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    """Name the columns that are linear combinations of the columns before them.

    From the singular values of the column-scaled design; above ``_RANK_BLOCK`` rows from
    those of its R factor (``X = QR``: the same singular values, also of every subset of
    columns), built a block of rows at a time, so no scaled copy of a large design is made.
    """
    if X.shape[1] == 0:
        return
    norms = np.linalg.norm(X, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    tol = max(X.shape) * np.finfo(float).eps * 100
    if len(X) <= _RANK_BLOCK:
        Xs = X / scale
    else:  # the R factor of a blockwise QR: the same singular values, a block of rows at a time
        Xs = np.zeros((0, X.shape[1]))
        for start in range(0, len(X), _RANK_BLOCK):
            Xs = np.linalg.qr(np.vstack([Xs, X[start:start + _RANK_BLOCK] / scale]), mode="r")
    sv = np.linalg.svd(Xs, compute_uv=False)
    if np.all(norms > 0) and sv[-1] > tol * sv[0]:
        return  # full rank: nothing to name
    kept, dropped = [], []
    for j in range(X.shape[1]):
        cand = kept + [j]
        sv = np.linalg.svd(Xs[:, cand], compute_uv=False)
        (kept if norms[j] > 0 and sv[-1] > tol * sv[0] else dropped).append(j)
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
