"""Effect sizes of a nested model: variance partition, ICC per level, R2, standardised effects.

* :func:`variance_components`: the variance of the fixed part, of each level's random
  effects and of the residual (R: ``insight::get_variance``).
* :func:`icc`: the variance partition per level with the ICC and the design effect
  (R: ``performance::icc``, also ``by_group = TRUE``); :func:`null_icc` fits the empty model.
* :func:`r2`: marginal and conditional R2 of Nakagawa & Schielzeth (2013) with Johnson's
  (2014) extension to random slopes (R: ``performance::r2_nakagawa``).
* :func:`standardized_effect`: a fixed effect divided by a standard deviation of the
  outcome, with the interval of ``result.fixed`` scaled alike (a multilevel Cohen's d).

The functions that take a fitted model live in
:mod:`~lerendtransformeren.multilevel.components` (see there for the methods and
references) and are re-exported here; :func:`null_icc` fits the empty model first, so it
sits above the fitting (:mod:`~lerendtransformeren.multilevel.fitting`), which in turn uses
the components: no module imports another that imports it back.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.components import icc, r2, standardized_effect, variance_components
from lerendtransformeren.multilevel.fitting import fit
from lerendtransformeren.multilevel.formula import parse_formula

__all__ = ["variance_components", "icc", "null_icc", "r2", "standardized_effect"]


def null_icc(formula_or_outcome: str, data: pd.DataFrame, levels: str | Sequence[str] | None = None) -> pd.DataFrame:
    """ICC per level from the empty model ``y ~ 1 + (1 | a/b/c)``.

    Parameters
    ----------
    formula_or_outcome : str
        The outcome column (then give ``levels``) or the whole empty-model formula,
        e.g. ``"y ~ 1 + (1 | org/team/person)"``.
    data : DataFrame
    levels : str or list of str, optional
        The grouping columns from the coarsest to the finest (``["org", "team"]`` or
        ``"org/team"``); with an outcome column only.

    Returns
    -------
    DataFrame
        :func:`icc` of the empty model fitted by REML with
        :func:`~lerendtransformeren.multilevel.fit`.

    Raises
    ------
    SpecificationError
        No levels with an outcome, levels with a formula, or a formula that is not an
        empty random-intercept model.

    Notes
    -----
    R equivalent: ``performance::icc(lme4::lmer(y ~ 1 + (1 | org/team), data = d),
    by_group = TRUE)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> org = np.repeat(np.arange(10), 24); team = np.repeat(np.arange(40), 6)
    >>> y = rng.normal(0, .5, 10)[org] + rng.normal(0, .5, 40)[team] + rng.normal(size=240)
    >>> d = pd.DataFrame({"org": org, "team": team % 4, "y": y})
    >>> null_icc("y", d, ["org", "team"])[["share", "icc"]].round(3)
              share    icc
    org       0.153  0.153
    org:team  0.183  0.336
    residual  0.664    NaN
    """
    if "~" in formula_or_outcome:
        if levels is not None:
            raise SpecificationError(
                "Give either a formula or an outcome with levels, not both: the formula "
                f"{formula_or_outcome!r} already names the levels."
            )
        formula = formula_or_outcome
        spec = parse_formula(formula)
        rhs = spec.fixed.split("~", 1)[1].strip()
        slopes = [f"({t.expr} | {t.name})" for t in spec.random if t.expr != "1"]
        if rhs != "1" or slopes:
            raise SpecificationError(
                f"null_icc needs the empty model 'y ~ 1 + (1 | a/b)', got {formula!r}; "
                "for a model with covariates or slopes use icc(fit(formula, data))."
            )
    else:
        if levels is None:
            raise SpecificationError(
                f"Name the grouping levels of {formula_or_outcome!r} from the coarsest to the "
                "finest, e.g. levels=['organisation', 'team', 'respondent']."
            )
        nesting = levels if isinstance(levels, str) else "/".join(levels)
        formula = f"{formula_or_outcome} ~ 1 + (1 | {nesting})"
    return icc(fit(formula, data))
