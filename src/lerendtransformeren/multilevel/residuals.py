"""Fitted values and residuals of a fitted mixed model, as lme4's ``fitted`` and ``residuals``,
and intervals for the conditional modes of a GLMM (:func:`ranef_intervals`).

Both are conditional: the fitted value of a row is the fixed part plus the conditional
modes of all its units (lme4's ``fitted(m)``, ``predict(m)``), and the residual is the
outcome minus that. They are Series indexed like ``result.predict()``: the data rows used
in the fit (rows left out for a missing value are absent).

Linear mixed models (:class:`~.results.MultilevelResult`):

* ``"response"``: ``y - fitted`` (R: ``residuals(m)``);
* ``"pearson"``: the same divided by the residual SD sigma (R: ``residuals(m, type =
  "pearson", scaled = TRUE)``; lme4's ``type = "pearson"`` without ``scaled`` equals the
  response residual for a model without weights).

GLMMs (:class:`~.glmm_results.GLMMResult`), with ``mu`` the fitted probability or expected
count and ``V(mu)`` the family's variance (``mu (1 - mu)``, ``mu``), as
``residuals.glmerMod`` (lme4's ``residuals.glmResp``):

* ``"deviance"`` (default): ``sign(y - mu) sqrt(d)`` with ``d`` the row's contribution to
  the deviance;
* ``"pearson"``: ``(y - mu) / sqrt(V(mu))``;
* ``"response"``: ``y - mu``;
* ``"working"``: ``(y - mu) / (dmu/deta)``, the residual on the link scale (for these
  canonical links ``dmu/deta = V(mu)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["LMM_TYPES", "GLMM_TYPES", "model_fitted", "model_residuals", "ranef_intervals"]

#: Residual types of a linear mixed model; the first is the default.
LMM_TYPES = ("response", "pearson")
#: Residual types of a GLMM; the first is the default (lme4's ``residuals.glmerMod``).
GLMM_TYPES = ("deviance", "pearson", "response", "working")


def _is_glmm(result) -> bool:
    return hasattr(result, "family")


def model_fitted(result) -> pd.Series:
    """Conditional fitted values of the rows used (response scale): lme4's ``fitted(m)``."""
    pred = result.predict(type="response") if _is_glmm(result) else result.predict()
    return pred.rename("fitted")


def model_residuals(result, type: str | None = None) -> pd.Series:
    """Conditional residuals of the rows used, of the given ``type`` (see the module notes).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    type : str, optional
        Linear models: ``"response"`` (default) or ``"pearson"``; GLMMs: ``"deviance"``
        (default), ``"pearson"``, ``"response"`` or ``"working"``.

    Raises
    ------
    SpecificationError
        A type that does not apply to the model, naming those that do.
    """
    glmm = _is_glmm(result)
    types = GLMM_TYPES if glmm else LMM_TYPES
    type = types[0] if type is None else type
    if type not in types:
        kind = "a GLMM" if glmm else "a linear mixed model"
        other = " ('deviance' and 'working' apply to GLMMs)" if not glmm and type in GLMM_TYPES else ""
        raise SpecificationError(f"type={type!r} is not a residual of {kind}; use one of {list(types)}{other}.")
    fitted = model_fitted(result)
    y = result.frame.y
    raw = y - fitted.to_numpy()
    if not glmm:
        values = raw if type == "response" else raw / result.sigma
    else:
        family = result.engine.family
        mu = fitted.to_numpy()
        if type == "response":
            values = raw
        elif type == "pearson":
            values = raw / np.sqrt(family.weights(mu))  # weights = V(mu) for a canonical link
        elif type == "working":
            values = raw / family.weights(mu)  # dmu/deta = V(mu) for a canonical link
        else:
            values = np.where(raw > 0, 1.0, -1.0) * np.sqrt(np.maximum(family.dev_resid(y, mu), 0.0))
    return pd.Series(values, index=fitted.index, name=f"{type} residual")


def ranef_intervals(result, level: str, term: str = "Intercept", conf_level: float = 0.95) -> pd.DataFrame:
    """Conditional modes of one random-effect term with normal intervals per unit.

    ``mode +/- z * conditional SD`` (the intervals of ``lattice::dotplot(ranef(m, condVar =
    TRUE))``), from ``result.ranef(level, condsd=True)``; for a GLMM on the link scale.
    They describe the units of these data; they are not tests of a difference between units.

    Returns
    -------
    DataFrame indexed by unit label: ``estimate``, ``ci_low``, ``ci_high``.

    Raises
    ------
    SpecificationError
        ``conf_level`` outside (0, 1), or a term the level does not have.
    """
    if not 0 < conf_level < 1:
        raise SpecificationError(f"conf_level must lie in (0, 1), got {conf_level}.")
    modes = result.ranef(level, condsd=True)
    if term not in modes.columns:
        terms = [c for c in modes.columns if not c.startswith("sd ")]
        raise SpecificationError(f"Unknown term {term!r} at level {level!r}; the terms are {terms}.")
    z = stats.norm.ppf(0.5 + conf_level / 2)
    est, sd = modes[term], modes[f"sd {term}"]
    return pd.DataFrame({"estimate": est, "ci_low": est - z * sd, "ci_high": est + z * sd})
