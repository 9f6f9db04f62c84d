"""Influence of the units of one level: the model refitted without each unit in turn.

With 15 organisations one organisation can carry an effect. :func:`influence` deletes
each unit of a level (default the top level) from the rows used, refits the same model
on the remaining rows, and reports per unit and fixed effect how much the estimate
moves, and per unit a Cook's distance, as ``influence.ME`` (Nieuwenhuis, te Grotenhuis &
Pelzer, 2012) does with deleted groups:

* ``dfbeta = beta - beta(-j)``: the estimate with all units minus the estimate without
  unit ``j`` (positive: the unit pulls the estimate up);
* ``dfbetas = dfbeta / se(-j)``, with ``se(-j)`` the model-based standard error of the
  refit without ``j`` (``influence.ME::dfbetas.estex``);
* Cook's distance ``D_j = (beta - beta(-j))' V^-1 (beta - beta(-j)) / p`` with ``V`` the
  model-based covariance of the fixed effects of the full fit (lme4's ``vcov(m)``) and
  ``p`` the number of fixed effects (``influence.ME::cooks.distance.estex``; HLMdiag's
  case-deletion Cook's distance for a deleted group is the same quadratic form);
* whether a term's sign, or its significance at ``alpha = 1 - conf_level`` by the
  result's own test (Satterthwaite / Kenward-Roger t, Wald z or between-within t), differs
  without the unit.

Common cut-offs: ``D_j > 4 / (number of units)`` and ``|dfbetas| > 2 / sqrt(number of
units)`` (Belsley, Kuh & Welsch's size-adjusted cut-off, as influence.ME suggests). They
flag units to look at, not units to drop.

The refits use the model frame of the full fit (the same codings of factors and
transformations, as deleting rows from the fitted design) and, for linear models, start
from the full fit's theta. A refit that cannot be made (a fixed effect that only the
deleted unit informs, a level left with one unit, a binary outcome that becomes constant)
gets a note and NaN, not an error. R equivalent: ``influence.ME::influence(m, group =
"organisation")`` with ``dfbetas()`` and ``cooks.distance()``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import ConvergenceWarning, SingularFitWarning
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.frame import Level, ModelFrame, RandomBlock, _check_level, _check_rank
from lerendtransformeren.multilevel.glmm import GLMMEngine

__all__ = ["Influence", "influence"]


@dataclass
class Influence:
    """The influence of each unit of one level on the fixed effects (see :func:`influence`).

    Attributes
    ----------
    level : str
        The level whose units were deleted one at a time.
    units : DataFrame
        One row per unit, indexed by unit label: ``n_rows`` (rows of the unit),
        ``cooks_distance``, ``max_abs_dfbetas``, ``changes`` (the terms whose sign or
        significance differs without the unit, e.g. ``"offer (significance)"``; empty if
        none), ``converged``,
        ``singular`` and ``note`` (why a refit failed or is doubtful; empty if fine).
    terms : DataFrame
        One row per (unit, term): ``estimate`` (full fit), ``estimate_without``,
        ``dfbeta``, ``se_without``, ``dfbetas``, ``p``, ``p_without``, ``sign_change``,
        ``significance_change``.
    alpha : float
        Significance level of ``significance_change`` (``1 - conf_level`` of the fit).
    cooks_cutoff, dfbetas_cutoff : float
        ``4 / units`` and ``2 / sqrt(units)``.
    """

    level: str
    units: pd.DataFrame
    terms: pd.DataFrame
    alpha: float
    cooks_cutoff: float
    dfbetas_cutoff: float

    @property
    def notes(self) -> list[str]:
        """The notes of the units whose refit failed or is doubtful."""
        return [f"{unit}: {note}" for unit, note in self.units["note"].items() if note]

    def flagged(self) -> pd.DataFrame:
        """The units above a cut-off or whose deletion changes a term's sign or significance."""
        u = self.units
        keep = (u["cooks_distance"] > self.cooks_cutoff) | (u["max_abs_dfbetas"] > self.dfbetas_cutoff) | (u["changes"] != "")
        return u[keep]

    def dfbetas(self) -> pd.DataFrame:
        """DFBETAS as a wide table, units by terms (``influence.ME::dfbetas``)."""
        return self.terms["dfbetas"].unstack("term")[list(dict.fromkeys(self.terms.index.get_level_values("term")))]

    def __repr__(self) -> str:
        return (f"<Influence of {len(self.units)} units of {self.level!r}: {len(self.flagged())} flagged "
                f"(Cook's D > {self.cooks_cutoff:.3g}, |DFBETAS| > {self.dfbetas_cutoff:.3g} or a changed "
                f"sign/significance); {len(self.notes)} note(s)>")

    def _repr_html_(self) -> str:
        return (f"<p>Influence of each unit of <code>{self.level}</code>; alpha = {self.alpha:g}, "
                f"Cook's D cut-off {self.cooks_cutoff:.3g}, |DFBETAS| cut-off {self.dfbetas_cutoff:.3g}</p>"
                + self.units.to_html(float_format=lambda v: f"{v:.4g}"))


def influence(result, level: str | None = None) -> Influence:
    """Refit a mixed model without each unit of ``level`` in turn; see the module notes.

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    level : str, optional
        Grouping name or its last factor (``"organisation"``); default the top level.

    Returns
    -------
    Influence

    Raises
    ------
    SpecificationError
        An unknown level.

    Examples
    --------
    R (influence.ME's formulas on lme4 refits, tests/reference/diagnostics/make_reference.R):
    ``for (u in units) fixef(update(m, data = droplevels(subset(d, org != u))))``.

    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> inf = influence(m)
    >>> inf.level, len(inf.units), round(inf.cooks_cutoff, 2)
    ('org', 10, 0.4)
    >>> list(inf.terms.columns)[:4]
    ['estimate', 'estimate_without', 'dfbeta', 'se_without']
    """
    levels = result.frame.levels
    i = len(levels) - 1 if level is None else result._level_index(level)
    lev = levels[i]
    alpha = 1.0 - result.conf_level
    full = result.fixed
    V = _model_vcov(result)
    p = len(result.beta)
    terms = list(result.frame.x_names)
    unit_rows, term_rows = [], []
    for code, label in enumerate(lev.labels):
        mask = lev.codes != code
        refit, note = _refit_without(result, mask)
        est = se = pv = np.full(p, np.nan)
        converged = singular = False
        if refit is not None:
            est, se = refit.beta, np.sqrt(np.diag(_model_vcov(refit)))
            pv = refit.fixed["p"].to_numpy()
            converged, singular = refit.converged, refit.singular
        delta = result.beta - est
        cooks = float(delta @ np.linalg.solve(V, delta)) / p
        dfbetas = delta / se
        sign = np.sign(est) != np.sign(result.beta)
        signif = (pv < alpha) != (full["p"].to_numpy() < alpha)
        changed = [f"{t} ({', '.join(w for w, hit in (('sign', a), ('significance', b)) if hit)})"
                   for t, a, b, ok in zip(terms, sign, signif, np.isfinite(est)) if ok and (a or b)]
        unit_rows.append({"unit": label, "n_rows": int((~mask).sum()), "cooks_distance": cooks,
                          "max_abs_dfbetas": float(np.max(np.abs(dfbetas))) if refit is not None else np.nan,
                          "changes": ", ".join(changed), "converged": converged, "singular": singular,
                          "note": note})
        for k, t in enumerate(terms):
            term_rows.append({"unit": label, "term": t, "estimate": result.beta[k], "estimate_without": est[k],
                              "dfbeta": delta[k], "se_without": se[k], "dfbetas": dfbetas[k], "p": full["p"].iloc[k],
                              "p_without": pv[k], "sign_change": bool(sign[k] and np.isfinite(est[k])),
                              "significance_change": bool(signif[k] and np.isfinite(pv[k]))})
    n_units = lev.n_units
    return Influence(
        level=lev.name,
        units=pd.DataFrame(unit_rows).set_index("unit"),
        terms=pd.DataFrame(term_rows).set_index(["unit", "term"]),
        alpha=alpha,
        cooks_cutoff=4.0 / n_units,
        dfbetas_cutoff=2.0 / np.sqrt(n_units),
    )


def _model_vcov(result) -> np.ndarray:
    """The model-based covariance of the fixed effects (lme4's ``vcov``), whatever the df method."""
    return result.vcov if hasattr(result, "family") else result.satterthwaite.vcov


def _subset_frame(frame: ModelFrame, mask: np.ndarray, one_row_units: bool) -> ModelFrame:
    """The model frame of the rows in ``mask`` (by position among the rows used), units renumbered.

    Raises what :func:`~.frame.build_frame` raises for such rows: collinear fixed effects,
    a level with one unit, a slope that no longer varies within units.
    """
    X = frame.X[mask]
    _check_rank(X, frame.x_names)
    levels = []
    for lev in frame.levels:
        used, codes = np.unique(lev.codes[mask], return_inverse=True)
        blocks = [RandomBlock(b.group, b.expr, b.names, b.Z[mask], b.design) for b in lev.blocks]
        new = Level(lev.name, lev.factors, codes.astype(np.int64), lev.labels[used], blocks)
        _check_level(new, int(mask.sum()), one_row_units)
        levels.append(new)
    keep = np.zeros_like(frame.keep)
    keep[np.flatnonzero(frame.keep)[mask]] = True
    used = None if frame.used is None else frame.used.iloc[np.flatnonzero(mask)]
    return dataclasses.replace(frame, y=frame.y[mask], X=X, levels=levels, row_index=frame.row_index[mask], keep=keep,
                               used=used)


def _refit_without(result, mask: np.ndarray):
    """The result refitted on the rows in ``mask``, and a note (empty when all went well)."""
    glmm = hasattr(result, "family")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame = _subset_frame(result.frame, mask, one_row_units=glmm)
            if glmm:
                y = frame.y
                if result.family == "binomial" and y.min() == y.max():
                    return None, f"the outcome is {y[0]:g} in every remaining row; the model cannot be refitted."
                engine = GLMMEngine(y, frame.X, frame.levels, result.engine.family, result.nagq)
                refit = type(result)(frame, engine, engine.optimize(), result.conf_level, result._data,
                                     outcome_levels=result.outcome_levels, ddf=result.ddf)
            else:
                engine = NestedEngine(frame.y, frame.X, frame.levels, reml=result.reml)
                refit = type(result)(frame, engine, engine.optimize(start=result.theta), result.conf_level,
                                     result._data, ddf=result.ddf)
            refit.fixed  # the tests of the refit, inside the guard
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        return None, f"the model cannot be refitted without this unit: {exc}"
    notes = []
    if not refit.converged:
        notes.append("the refit did not pass its convergence checks")
    if any(issubclass(w.category, SingularFitWarning) for w in caught):
        notes.append("the refit is singular (a variance estimated at 0)")
    others = [str(w.message) for w in caught if not issubclass(w.category, (SingularFitWarning, ConvergenceWarning))]
    notes += others[:1]
    return refit, "; ".join(notes)
