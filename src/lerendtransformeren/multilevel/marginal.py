"""Estimated marginal means and their contrasts, as R's emmeans computes them.

The *reference grid* holds every combination of the levels of the factors of the fixed
part and of the numeric covariates, each covariate at its mean over the rows used in the
fit (``at={"wave": [0, 1, 2]}`` gives other values, or a subset of a factor's levels).
The model's fixed design of the grid (:meth:`ModelFrame.fixed_matrix`, with the codings of
the fit) gives one linear function of the fixed effects per grid row; the marginal mean of
a combination of the ``specs`` variables is the equally weighted average of those rows over
the variables not named (emmeans' default ``weights = "equal"``). ``by`` splits the means
into groups; contrasts and their multiplicity adjustments are taken within each group.

Standard errors and df are those of the result's own tests of a linear function
(:meth:`MultilevelResult.contrast`): Satterthwaite's df with the model-based covariance
(emmeans' ``lmer.df = "satterthwaite"``, which calls lmerTest) or Kenward-Roger's adjusted
covariance and df (``lmer.df = "kenward-roger"``, pbkrtest's ``vcovAdj`` and ``Lb_ddf``).
For a GLMM (:class:`~.glmm_results.GLMMResult`) the means are on the link scale with Wald z
intervals (df infinite, as emmeans for ``glmer``); ``type="response"`` back-transforms them.

Contrast methods (emmeans' ``*.emmc`` functions, within each ``by`` group, means in the
order of the table): ``"pairwise"`` (``a - b`` for every earlier ``a``), ``"revpairwise"``
(``b - a``), ``"trt.vs.ctrl"`` (every level minus the first) and ``"consec"`` (every level
minus the one before). Adjustments as emmeans' ``summary(..., adjust = )``:

* ``"tukey"``: p from the studentized range, ``P(Q > sqrt(2) |t|)`` with ``k`` = number of
  means in the family and the contrast's own df, interval half-width ``q(level; k, df) /
  sqrt(2) * se``. Only for a set of pairwise comparisons: for ``"trt.vs.ctrl"`` and
  ``"consec"`` it becomes ``"sidak"``, with a note, as emmeans does.
* ``"sidak"``: ``1 - (1 - p)^m``; intervals at level ``level^(1/m)`` (``m`` contrasts).
* ``"bonferroni"``: ``min(1, m p)``; intervals at level ``1 - (1 - level)/m``.
* ``"holm"``: Holm's step-down p values; the intervals are Bonferroni's (Holm's method
  gives no intervals; emmeans prints "Conf-level adjustment: bonferroni method").
* ``"none"``.

A family of one contrast is never adjusted. emmeans' ``"dunnettx"``, ``"mvt"`` and
``"scheffe"`` are not offered.

R equivalent::

    emm <- emmeans(m, "offer", by = "wave", lmer.df = "satterthwaite")
    summary(contrast(emm, "pairwise", adjust = "tukey"), infer = c(TRUE, TRUE))
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.presenters import present

__all__ = ["ReferenceGrid", "reference_grid", "MarginalMeans", "MarginalContrasts", "marginal_means",
           "marginal_contrasts", "METHODS", "ADJUSTMENTS"]

#: Contrast methods (emmeans' spelling).
METHODS = ("pairwise", "revpairwise", "trt.vs.ctrl", "consec")
#: Multiplicity adjustments (emmeans' spelling).
ADJUSTMENTS = ("tukey", "sidak", "bonferroni", "holm", "none")
_PAIRS = ("pairwise", "revpairwise")
_OPERATORS = ("-", "+", "/", "*")  # a label with one of these is put in parentheses (emmeans' "parens")


# -- the reference grid ------------------------------------------------------------------
@dataclass(frozen=True)
class ReferenceGrid:
    """The reference grid of a fitted model (emmeans' ``ref_grid``).

    Attributes
    ----------
    grid : DataFrame
        One row per combination of the variables' values, the first variable varying
        fastest (R's ``expand.grid``).
    X : ndarray
        The fixed design of ``grid`` with the codings of the fit (one linear function of
        the fixed effects per row).
    values : dict
        Each variable's values in the grid, in the order of the fixed part.
    factors : tuple of str
        The variables that enter as factors.
    at : tuple of str
        The variables whose values were given in ``at``.
    n_used : int
        Rows used in the fit (the covariate means are over these).
    """

    grid: pd.DataFrame
    X: np.ndarray
    values: dict
    factors: tuple
    at: tuple
    n_used: int

    @property
    def covariates(self) -> tuple:
        """The numeric variables of the grid."""
        return tuple(v for v in self.values if v not in self.factors)


def _grid_values(variables: Mapping, used: pd.DataFrame, at: Mapping | None) -> dict:
    at = dict(at or {})
    unknown = [k for k in at if k not in variables]
    if unknown:
        raise SpecificationError(
            f"at= names {unknown}, which the fixed part of the model does not use; its variables "
            f"are {list(variables)} (data columns, not model column names such as 'C(wave)[T.1]')."
        )
    values = {}
    for name, levels in variables.items():
        given = at.get(name)
        if given is not None:
            given = [given] if isinstance(given, str) or np.ndim(given) == 0 else list(given)
            if not given:
                raise SpecificationError(f"at={{{name!r}: []}} gives no values; give one or more.")
        if levels is not None:
            if given is None:
                values[name] = tuple(levels)
                continue
            bad = [g for g in given if g not in levels]
            if bad:
                raise SpecificationError(
                    f"at= gives {bad} for the factor {name!r}, whose levels are {list(levels)}."
                )
            values[name] = tuple(lev for lev in levels if lev in given)  # in the fit's order
        elif given is not None:
            try:
                values[name] = tuple(float(g) for g in given)
            except (TypeError, ValueError):
                raise SpecificationError(
                    f"at= gives {given} for the numeric covariate {name!r}; give numbers."
                ) from None
        else:
            values[name] = (float(pd.to_numeric(used[name]).mean()),)
    return values


def _expand(values: Mapping) -> pd.DataFrame:
    """All combinations, the first variable varying fastest (R's ``expand.grid``)."""
    names = list(values)
    combos = list(itertools.product(*(values[n] for n in reversed(names))))
    cols = {n: [c[len(names) - 1 - i] for c in combos] for i, n in enumerate(names)}
    return pd.DataFrame(cols, columns=names)


def reference_grid(result, at: Mapping | None = None) -> ReferenceGrid:
    """The reference grid of a fitted model (emmeans' ``ref_grid(m, at = )``).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    at : mapping, optional
        Values per variable: a subset of a factor's levels, or the values of a numeric
        covariate (default its mean over the rows used in the fit).

    Returns
    -------
    ReferenceGrid
    """
    variables = result.frame.fixed_variables()
    if not variables:
        raise SpecificationError(
            f"The fixed part of {result.formula!r} uses no variable, so there are no marginal means to "
            "estimate; the intercept is in result.fixed."
        )
    used = result._used_data()
    values = _grid_values(variables, used, at)
    grid = _expand(values)
    X = np.asarray(result.frame.fixed_matrix(grid), float)
    factors = tuple(n for n, lev in variables.items() if lev is not None)
    return ReferenceGrid(grid, X, values, factors, tuple(at or {}), len(used))


# -- the linear functions of the means ---------------------------------------------------
def _names(value, what: str, variables: Sequence[str]) -> list[str]:
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    if what == "specs" and not names:
        raise SpecificationError("specs names no variable; give a column name such as 'offer'.")
    bad = [n for n in names if n not in variables]
    if bad:
        raise SpecificationError(
            f"{what}={bad} is not a variable of the fixed part of the model; name data columns "
            f"from {list(variables)} (not model column names such as 'C(wave)[T.1]')."
        )
    if len(set(names)) != len(names):
        raise SpecificationError(f"{what} names a variable twice: {names}.")
    return names


def _cell_codes(rg: ReferenceGrid, names: Sequence[str]) -> np.ndarray:
    """Cell of every grid row for the combinations of ``names`` (first name fastest)."""
    code = np.zeros(len(rg.grid), np.int64)
    radix = 1
    for n in names:
        levels = list(rg.values[n])
        pos = np.array([levels.index(v) for v in rg.grid[n]], np.int64)
        code += radix * pos
        radix *= len(levels)
    return code


def _average(rg: ReferenceGrid, names: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """The cells of ``names`` and the equally weighted average of their grid rows' design."""
    keys = _expand({n: rg.values[n] for n in names}) if names else pd.DataFrame(index=[0])
    code = _cell_codes(rg, names)
    L = np.zeros((len(keys), rg.X.shape[1]))
    np.add.at(L, code, rg.X)
    L /= np.bincount(code, minlength=len(keys))[:, None]
    return keys.reset_index(drop=True), L


def _interaction_involved(result, rg: ReferenceGrid, facs: Sequence[str]) -> bool:
    """Whether comparisons among the cells of ``facs`` change with another variable.

    emmeans notes "Results may be misleading due to involvement in interactions" when a
    model term holds all of ``facs`` and more. This checks the design instead: on a grid
    with every other factor at each of its levels and every other covariate at its value
    and one above, are the differences between the cells the same everywhere?
    """
    others = [n for n in rg.values if n not in facs]
    if not others:
        return False
    probe = {}
    for n, vals in rg.values.items():
        if n in facs or n in rg.factors:
            probe[n] = vals
        else:
            probe[n] = tuple(vals) + (vals[-1] + 1.0,) if len(vals) == 1 else vals
    grid = _expand(probe)
    X = np.asarray(result.frame.fixed_matrix(grid), float)
    pg = ReferenceGrid(grid, X, probe, rg.factors, (), rg.n_used)
    cell = _cell_codes(pg, facs)
    rest = _cell_codes(pg, others)
    n_cell, n_rest = cell.max() + 1, rest.max() + 1
    D = np.full((n_rest, n_cell, X.shape[1]), np.nan)
    D[rest, cell] = X
    D = D - D[:, :1, :]  # each cell against the first, per combination of the others
    change = np.abs(D - D[:1])
    change = change[np.isfinite(change)]  # a transformation undefined one above the mean: no verdict
    scale = max(float(np.abs(X[np.isfinite(X)]).max(initial=0.0)), 1.0)
    return bool(change.size and change.max() > 1e-10 * scale)


# -- estimates, standard errors and df of linear functions -------------------------------
def _with_ddf(result, ddf):
    if ddf is not None and _is_glmm(result):
        raise SpecificationError(
            f"ddf={ddf!r} does not apply to the means of a GLMM: they are Wald z intervals and tests "
            "(df infinite), as emmeans gives for glmer. Leave ddf out."
        )
    if ddf is None or ddf == result.ddf:
        return result
    if ddf == "Kenward-Roger" and getattr(result, "reml", False):
        result.kenward_roger  # cached on the result itself, so that its copies share it
    return result.with_ddf(ddf)


def _is_glmm(result) -> bool:
    return hasattr(result, "nagq")


def _estimate(result, L: np.ndarray) -> pd.DataFrame:
    """Estimate, se and df of every row of ``L`` by the result's own method."""
    if not _is_glmm(result):  # a linear mixed model: Satterthwaite or Kenward-Roger
        out = result.contrast(L)
        return out[["estimate", "se", "df"]].reset_index(drop=True)
    est = L @ result.beta  # a GLMM: Wald, df infinite (emmeans for glmer)
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, result.vcov, L))
    return pd.DataFrame({"estimate": est, "se": se, "df": np.inf})


def _link(result) -> str | None:
    """The link of a GLMM (``"logit"``, ``"log"``); None for a linear model."""
    return result.engine.family.link if _is_glmm(result) else None


def _ratio_scale(link: str) -> str:
    """The scale of a difference of two means on the link scale, as emmeans names it."""
    return "log odds ratio" if link == "logit" else link


def _df_label(result) -> str:
    return "asymptotic (Wald z)" if _is_glmm(result) else result.ddf


def _fmt_level(level: float) -> str:
    return f"{level:g}"


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise SpecificationError(f"conf_level must lie in (0, 1), got {level!r}.")
    return float(level)


def _grid_notes(rg: ReferenceGrid, facs: Sequence[str], interaction: bool) -> list[str]:
    notes = []
    averaged = [n for n, v in rg.values.items() if n not in facs and len(v) > 1]
    if averaged:
        notes.append("Results are averaged over the levels of: " + ", ".join(averaged))
    held = [n for n in rg.covariates if n not in facs and len(rg.values[n]) == 1]
    at_mean = [f"{n} = {rg.values[n][0]:.4g}" for n in held if n not in rg.at]
    given = [f"{n} = {rg.values[n][0]:.4g}" for n in held if n in rg.at]
    if at_mean:
        notes.append(f"Covariates at their mean over the {rg.n_used} rows used in the fit: " + ", ".join(at_mean))
    if given:
        notes.append("Covariates at the value given in at=: " + ", ".join(given))
    if interaction:
        notes.append("NOTE: Results may be misleading due to involvement in interactions")
    return notes


# -- the result objects ------------------------------------------------------------------
class _Marginal:
    """Shared display of :class:`MarginalMeans` and :class:`MarginalContrasts`."""

    _title = ""

    def __init__(self, table: pd.DataFrame, notes: Sequence[str], *, specs, by, linfct: np.ndarray,
                 terms: Sequence[str], conf_level: float, ddf: str, outcome: str):
        self.table = table
        self.notes = tuple(notes)
        self.specs, self.by = tuple(specs), tuple(by)
        self.linfct = linfct
        self.terms = list(terms)
        self.conf_level = conf_level
        self.ddf = ddf
        self.outcome = outcome

    @property
    def frame(self) -> pd.DataFrame:
        """The table (same as :attr:`table`)."""
        return self.table

    def _groups(self):
        if not self.by:
            yield None, self.table
            return
        for key, part in self.table.groupby(list(self.by), sort=False):
            key = key if isinstance(key, tuple) else (key,)
            yield ", ".join(f"{b} = {k}" for b, k in zip(self.by, key)), part.drop(columns=list(self.by))

    def __repr__(self) -> str:
        lines = [self._title]
        for head, part in self._groups():
            if head:
                lines += ["", head + ":"]
            lines.append(part.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines + [""] + list(self.notes))

    def _repr_html_(self) -> str:
        parts = [f"<div><p><b>{html.escape(self._title)}</b></p>"]
        for head, part in self._groups():
            if head:
                parts.append(f"<p>{html.escape(head)}:</p>")
            parts.append(part.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        parts.append("<p>" + "<br>".join(html.escape(n) for n in self.notes) + "</p></div>")
        return "".join(parts)


class MarginalMeans(_Marginal):
    """Estimated marginal means (emmeans' ``summary(emmeans(...))``).

    Attributes
    ----------
    table : DataFrame
        The ``specs`` and ``by`` variables, ``estimate``, ``se``, ``df``, ``ci_low``,
        ``ci_high`` (one row per combination; ``by`` varies slowest). Also ``.frame``.
    notes : tuple of str
        What emmeans prints below its table: the factors averaged over, the covariates'
        values, the df method, the confidence level.
    linfct : ndarray
        One row of weights of the fixed effects per mean (emmeans' ``@linfct``); columns
        :attr:`terms`.
    """

    _title = "Estimated marginal means"

    def __init__(self, table, notes, *, result, grid: ReferenceGrid, type: str = "link", **kwargs):
        super().__init__(table, notes, **kwargs)
        self._result, self.grid, self.type = result, grid, type

    @property
    def averaged_over(self) -> tuple:
        """The variables the means are averaged over (with more than one value in the grid)."""
        named = set(self.specs) | set(self.by)
        return tuple(n for n, v in self.grid.values.items() if n not in named and len(v) > 1)

    def contrasts(self, method: str = "pairwise", adjust: str = "tukey",
                  conf_level: float | None = None) -> MarginalContrasts:
        """Contrasts of these means within each ``by`` group (see :func:`marginal_contrasts`)."""
        return _contrasts(self, method, adjust, self.conf_level if conf_level is None else conf_level)

    def plot(self, **kwargs):
        """A figure of these means (``present("marginal_means.plot", ...)``).

        :func:`lerendtransformeren.report.figures.plot_marginal_means` draws it, e.g.
        ``means.plot(x="wave", group="offer", lang="nl")``; the report layer loads on first use.
        """
        return present("marginal_means.plot", self, **kwargs)


class MarginalContrasts(_Marginal):
    """Contrasts of estimated marginal means (emmeans' ``summary(contrast(...), infer = c(TRUE, TRUE))``).

    Attributes
    ----------
    table : DataFrame
        ``contrast`` (labels as emmeans writes them), the ``by`` variables, ``estimate``,
        ``se``, ``df``, ``ci_low``, ``ci_high``, ``t``, ``p``; intervals and p values
        adjusted within each ``by`` group. Also ``.frame``.
    method, adjust : str
        The contrasts, and the adjustment of the p values as applied (``"tukey"`` becomes
        ``"sidak"`` for contrasts that are not pairwise; a family of one is not adjusted).
    notes : tuple of str
        As emmeans: the df method, the confidence level, the interval and p-value
        adjustments with the family size.
    """

    _title = "Contrasts of estimated marginal means"

    def __init__(self, table, notes, *, method: str, adjust: str, **kwargs):
        super().__init__(table, notes, **kwargs)
        self.method, self.adjust = method, adjust


# -- means -------------------------------------------------------------------------------
def marginal_means(result, specs, by=None, ddf: str | None = None, at: Mapping | None = None,
                   conf_level: float | None = None, type: str = "link") -> MarginalMeans:
    """Estimated marginal means of a fitted model (R: ``emmeans(m, specs, by = , at = )``).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    specs : str or list of str
        Data column(s) of the fixed part whose combinations get a mean.
    by : str or list of str, optional
        Column(s) whose combinations split the means into groups.
    ddf : {"Satterthwaite", "Kenward-Roger"}, optional
        df method (emmeans' ``lmer.df``); default the result's own.
    at : mapping, optional
        Values of numeric covariates (default: their mean over the rows used in the fit) or
        a subset of a factor's levels, ``{"wave": [0, 1, 2]}``.
    conf_level : float, optional
        Default the result's.
    type : {"link", "response"}
        GLMMs only: ``"response"`` back-transforms the means and intervals (probabilities
        or rates) and gives the delta-method SE (emmeans' ``type = "response"``).

    Returns
    -------
    MarginalMeans
    """
    result = _with_ddf(result, ddf)
    level = _check_level(result.conf_level if conf_level is None else conf_level)
    if type not in ("link", "response"):
        raise SpecificationError(f"type must be 'link' or 'response', got {type!r}.")
    if type == "response" and not _is_glmm(result):
        raise SpecificationError("type='response' applies to GLMMs (fit(..., family=...)); the means of a "
                                 "linear model are on the outcome's scale already.")
    rg = reference_grid(result, at)
    variables = list(rg.values)
    specs_, by_ = _names(specs, "specs", variables), _names(by, "by", variables)
    both = [n for n in by_ if n in specs_]
    if both:
        raise SpecificationError(f"{both} is named in both specs and by; name it in one of them.")
    keys, L = _average(rg, specs_ + by_)
    est = _estimate(result, L)
    table = pd.concat([keys, est], axis=1)
    q = stats.t.ppf(0.5 + level / 2, table["df"])
    table["ci_low"], table["ci_high"] = table["estimate"] - q * table["se"], table["estimate"] + q * table["se"]
    notes = _grid_notes(rg, specs_ + by_, _interaction_involved(result, rg, specs_ + by_))
    notes += [f"Degrees-of-freedom method: {_df_label(result)}", f"Confidence level used: {_fmt_level(level)}"]
    if type == "response":
        table = _back_transformed(result, table)
        notes.append(f"Intervals are back-transformed from the {_link(result)} scale")
    elif _is_glmm(result):
        notes.append(f"Results are given on the {_link(result)} (not the response) scale.")
    return MarginalMeans(table, notes, result=result, grid=rg, type=type, specs=specs_, by=by_, linfct=L,
                         terms=result.frame.x_names, conf_level=level, ddf=_df_label(result),
                         outcome=result.frame.y_name)


def _back_transformed(result, table: pd.DataFrame) -> pd.DataFrame:
    """Means and bounds through the inverse link; SE by the delta method (emmeans' ``type = "response"``)."""
    family = result.engine.family
    mu = family.mu(table["estimate"].to_numpy(float))
    out = table.copy()
    # d mu / d eta of the canonical links: mu (1 - mu) for the logit, mu for the log
    out["se"] = table["se"].to_numpy() * (mu * (1 - mu) if family.link == "logit" else mu)
    out["estimate"] = mu
    out["ci_low"] = family.mu(table["ci_low"].to_numpy(float))
    out["ci_high"] = family.mu(table["ci_high"].to_numpy(float))
    return out


# -- contrasts ---------------------------------------------------------------------------
def _coefficients(method: str, k: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Rows of contrast weights over ``k`` means and the (plus, minus) mean of each row."""
    if method == "pairwise":
        pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    elif method == "revpairwise":
        pairs = [(j, i) for j in range(1, k) for i in range(j)]
    elif method == "trt.vs.ctrl":
        pairs = [(j, 0) for j in range(1, k)]
    elif method == "consec":
        pairs = [(j, j - 1) for j in range(1, k)]
    else:
        raise SpecificationError(f"method must be one of {list(METHODS)}, got {method!r}.")
    C = np.zeros((len(pairs), k))
    for r, (a, b) in enumerate(pairs):
        C[r, a], C[r, b] = 1.0, -1.0
    return C, pairs


def _r_text(value) -> str:
    """A level as R's ``as.character`` writes it (``3`` not ``3.0``, 15 significant digits)."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.15g}"
    return str(value)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _labels(keys: pd.DataFrame, specs: Sequence[str]) -> list[str]:
    """emmeans' labels of the means: numeric levels get the variable's name (``wave0``)."""
    parts = []
    for n in specs:
        texts = [_r_text(v) for v in keys[n]]
        parts.append([n + t for t in texts] if all(_is_number(t) for t in texts) else texts)
    labels = [" ".join(p) for p in zip(*parts)]
    return [f"({lab})" if any(o in lab for o in _OPERATORS) else lab for lab in labels]


def _zapsmall(df: np.ndarray) -> np.ndarray:
    """R's ``zapsmall(df)`` (7 digits), which emmeans applies to the df of Tukey's p values."""
    finite = df[np.isfinite(df)]
    mx = float(np.abs(finite).max()) if finite.size else 0.0
    digits = max(0, 7 - int(np.ceil(np.log10(mx)))) if mx > 0 else 7
    return np.where(np.isfinite(df), np.round(df, digits), df)


def _tukey_quantiles(level: float, k: int, df: np.ndarray) -> np.ndarray:
    """Quantiles of the studentized range at each df (R's ``qtukey(level, k, df)``).

    ``scipy.stats.studentized_range.ppf`` solves each one from scratch (about 15
    evaluations of its cdf, a double integral); here the df are taken from the largest
    down, each root starting where the previous two, extrapolated in ``1/df``, point, and
    the secant method needs three or four cdf evaluations. Same roots (to 1e-11 relative);
    falls back to scipy's ``ppf`` if the secant steps do not settle.
    """
    dist = stats.studentized_range
    df = np.asarray(df, float)
    out = np.empty(len(df))
    known = [(0.0, float(dist.ppf(level, k, np.inf)))]  # (1/df, root)
    for i in np.argsort(-df):
        x = 1.0 / df[i]
        (x0, r0), (x1, r1) = known[-2] if len(known) > 1 else known[-1], known[-1]
        q = r1 + (r1 - r0) / (x1 - x0) * (x - x1) if x1 != x0 else r1
        a, fa = q, dist.cdf(q, k, df[i]) - level
        b = q * (1 + 1e-7) if fa < 0 else q * (1 - 1e-7)
        fb = dist.cdf(b, k, df[i]) - level
        for _ in range(30):
            c = b - fb * (b - a) / (fb - fa) if fb != fa else np.nan
            if not np.isfinite(c) or c <= 0:
                b = np.nan
                break
            if abs(c - b) <= 1e-11 * c:
                b = c
                break
            a, fa, b = b, fb, c
            fb = dist.cdf(b, k, df[i]) - level
        else:
            b = np.nan
        out[i] = b if np.isfinite(b) else dist.ppf(level, k, df[i])
        known.append((x, float(out[i])))
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def _adjusted(t: np.ndarray, df: np.ndarray, adjust: str, k: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p values and interval critical values of one family (emmeans' rules)."""
    m = len(t)
    p = 2 * stats.t.sf(np.abs(t), df)
    if adjust == "none":
        return p, stats.t.ppf(0.5 + level / 2, df)
    if adjust == "tukey":
        p_adj = stats.studentized_range.sf(np.sqrt(2) * np.abs(t), k, _zapsmall(df))
        return p_adj, _tukey_quantiles(level, k, df) / np.sqrt(2)
    if adjust == "sidak":
        return 1 - (1 - p) ** m, -stats.t.ppf((1 - level ** (1 / m)) / 2, df)
    crit = -stats.t.ppf((1 - level) / m / 2, df)  # Bonferroni's intervals, also for Holm
    return (np.minimum(1.0, m * p) if adjust == "bonferroni" else _holm(p)), crit


def _adjust_notes(adjust: str, k: int, m: int) -> list[str]:
    """emmeans' footnotes on the adjustment of the intervals and the p values."""
    if adjust == "none":
        return []
    ci_method = "bonferroni" if adjust == "holm" else adjust
    if adjust == "tukey":
        family = f"for comparing a family of {k} estimates"
        return [f"Conf-level adjustment: tukey method {family}", f"P value adjustment: tukey method {family}"]
    return [f"Conf-level adjustment: {ci_method} method for {m} estimates",
            f"P value adjustment: {adjust} method for {m} tests"]


def _contrasts(means: MarginalMeans, method: str, adjust: str, level: float) -> MarginalContrasts:
    if method not in METHODS:
        raise SpecificationError(f"method must be one of {list(METHODS)}, got {method!r}.")
    if adjust not in ADJUSTMENTS:
        raise SpecificationError(f"adjust must be one of {list(ADJUSTMENTS)}, got {adjust!r}.")
    level = _check_level(level)
    specs, by = list(means.specs), list(means.by)
    k = int(np.prod([len(means.grid.values[n]) for n in specs]))
    if k < 2:
        raise SpecificationError(
            f"Contrasts need two or more means per group; specs={specs} gives {k}. For a numeric "
            "covariate give its values in at=, e.g. at={'wave': [0, 1, 2]}."
        )
    C, pairs = _coefficients(method, k)
    labels = _labels(means.table.iloc[:k], specs)
    link = _link(means._result)
    ratio = means.type == "response"
    scale_notes = ("Confidence level used", "Results are given on the", "Intervals are back-transformed")
    notes = [n for n in means.notes if not n.startswith(scale_notes)]
    applied = adjust
    if len(pairs) == 1:
        applied = "none"  # a family of one
    elif adjust == "tukey" and method not in _PAIRS:
        applied = "sidak"
        notes.insert(0, 'Note: adjust = "tukey" was changed to "sidak" because "tukey" is only '
                        "appropriate for one set of pairwise comparisons")
    L_all, frames = [], []
    for g in range(len(means.table) // k):
        rows = slice(g * k, (g + 1) * k)
        L = C @ means.linfct[rows]
        est = _estimate(means._result, L)
        t = (est["estimate"] / est["se"]).to_numpy()
        p, crit = _adjusted(t, est["df"].to_numpy(), applied, k, level)
        part = pd.DataFrame({"contrast": [f"{labels[a]} {'/' if ratio else '-'} {labels[b]}" for a, b in pairs]})
        for n in by:
            part[n] = means.table[n].iloc[g * k]
        part = pd.concat([part, est], axis=1)
        part["ci_low"], part["ci_high"] = part["estimate"] - crit * part["se"], part["estimate"] + crit * part["se"]
        if ratio:  # odds or rate ratios: exp of the difference, its bounds; delta-method SE
            for col in ("estimate", "ci_low", "ci_high"):
                part[col] = np.exp(part[col])
            part["se"] = part["se"] * part["estimate"]
        part["z" if link else "t"], part["p"] = t, p
        frames.append(part)
        L_all.append(L)
    notes += [f"Confidence level used: {_fmt_level(level)}"] + _adjust_notes(applied, k, len(pairs))
    if ratio:
        notes += [f"Intervals are back-transformed from the {_ratio_scale(link)} scale",
                  f"Tests are performed on the {_ratio_scale(link)} scale"]
    elif link:
        notes.append(f"Results are given on the {_ratio_scale(link)} (not the response) scale.")
    table = pd.concat(frames, ignore_index=True)
    return MarginalContrasts(table, notes, method=method, adjust=applied, specs=specs, by=by,
                             linfct=np.vstack(L_all), terms=means.terms, conf_level=level, ddf=means.ddf,
                             outcome=means.outcome)


def marginal_contrasts(result, specs, by=None, method: str = "pairwise", adjust: str = "tukey",
                       ddf: str | None = None, at: Mapping | None = None,
                       conf_level: float | None = None, type: str = "link") -> MarginalContrasts:
    """Contrasts of estimated marginal means (R: ``contrast(emmeans(m, specs, by = ), method, adjust = )``).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    specs, by, ddf, at, conf_level
        As :func:`marginal_means`.
    method : {"pairwise", "revpairwise", "trt.vs.ctrl", "consec"}
        ``"trt.vs.ctrl"`` compares every level with the first.
    adjust : {"tukey", "sidak", "bonferroni", "holm", "none"}
        Within each ``by`` group; see the module notes (Holm's p values come with
        Bonferroni intervals; Tukey applies to pairwise comparisons only and becomes Sidak
        otherwise, as in emmeans).
    type : {"link", "response"}
        GLMMs only: ``"response"`` gives odds ratios (binomial) or rate ratios (Poisson),
        ``a / b``, with back-transformed intervals; the tests stay on the log scale (emmeans'
        ``type = "response"``). The statistic of a GLMM is ``z`` (df infinite).

    Returns
    -------
    MarginalContrasts
    """
    means = marginal_means(result, specs, by=by, ddf=ddf, at=at, conf_level=conf_level, type=type)
    return _contrasts(means, method, adjust, means.conf_level)
