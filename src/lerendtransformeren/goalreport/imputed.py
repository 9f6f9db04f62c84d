"""The imputation sensitivity analysis of a goal report (``report --impute M``).

The missing scale scores of a goal's primary outcome are multiply imputed with
:func:`lerendtransformeren.multilevel.impute` (a joint multilevel model with a random
intercept at every level of the respondent's nesting), with a row added for every wave a
respondent missed (``complete=``), and the pooled outcome model is fitted on every
completed data set and pooled by Rubin's rules (Barnard-Rubin df). Only respondents with at
least one observed score of the outcome take part (``where=``): a respondent never measured
on the instrument (one that does not apply at their age, say) is not imputed, and is
counted.

The sampler's settings (burn-in, iterations between imputations, chains, priors) are
:func:`~lerendtransformeren.multilevel.impute`'s defaults unless a spec names them; this
module holds no numbers of its own.

:func:`impute_and_pool` does the work on plain arguments, so that
:mod:`~lerendtransformeren.goalreport.fits` can call it from a worker process without the
two modules importing each other. The result, :class:`ImputedSummary`, holds plain frames
and numbers, small enough to send back from a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["ImputedSummary", "impute_and_pool", "unit_counts"]

_OFFER_PREFIX, _OFFER_SUFFIX = "C(goal)[", "]:offer"


@dataclass
class ImputedSummary:
    """The pooled outcome model over ``m`` imputed data sets, and how the data were imputed.

    Attributes
    ----------
    fixed : pandas.DataFrame
        :attr:`PooledResult.fixed`: per term the pooled estimate, se, Barnard-Rubin df, t,
        p, CI, riv, lambda and fmi (the fraction of missing information).
    m : int
        Imputed data sets.
    rhat : float
        The largest rank-normalised split R-hat over the sampler's parameters; NaN when it
        cannot be computed for every parameter (too few draws per chain after burn-in).
    settings : dict
        :attr:`Imputed.settings` (m, burn, between, chains, variables, levels, predictors).
    units : pandas.DataFrame
        Per goal (index): ``units`` that took part, ``never`` (units without any observed
        score, not imputed), ``rows_added`` (missed waves added), ``imputed`` (values
        imputed per data set) and ``observed`` (observed scores).
    notes : list of str
        The imputation's and the pooling's notes.
    """

    fixed: pd.DataFrame
    m: int
    rhat: float
    settings: dict
    units: pd.DataFrame
    notes: list = field(default_factory=list)

    def row(self, goal: int) -> pd.Series | None:
        """The pooled row of the goal's offer effect (``C(goal)[k]:offer``, or ``offer``
        in a one-goal model), as the observed model's contrast of that one term."""
        for term in (f"{_OFFER_PREFIX}{goal}{_OFFER_SUFFIX}", "offer"):
            if term in self.fixed.index:
                return self.fixed.loc[term]
        return None


def unit_counts(data: pd.DataFrame, outcome: str, unit: str, wave: str = "wave") -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows take part (units with at least one observed score) and the counts per goal.

    Returns the boolean mask over the rows of ``data`` and a frame with, per goal, the units
    that take part, the units never measured, the rows that ``complete=`` will add (missed
    waves of the units that take part), the values to impute and the observed scores.
    """
    observed = data[outcome].notna()
    measured = observed.groupby(data[unit]).transform("any").to_numpy(dtype=bool)
    goal = data["goal"] if "goal" in data.columns else pd.Series(0, index=data.index)
    waves = data[wave].nunique()
    per_unit = pd.DataFrame({"goal": goal, "unit": data[unit], "measured": measured}).drop_duplicates("unit")
    table = pd.DataFrame({
        "units": per_unit.loc[per_unit["measured"]].groupby("goal")["unit"].size(),
        "never": per_unit.loc[~per_unit["measured"]].groupby("goal")["unit"].size(),
        "rows": goal[measured].value_counts(),
        "observed": observed[measured].groupby(goal[measured]).sum(),
    }).fillna(0).astype(int)
    table["rows_added"] = table["units"] * waves - table["rows"]
    table["imputed"] = table["units"] * waves - table["observed"]
    table.index.name = "goal"
    return measured, table[["units", "never", "rows_added", "imputed", "observed"]]


def impute_and_pool(data: pd.DataFrame, *, outcome: str, formula: str, levels: tuple, unit: str,
                    predictors: str, m: int, seed: int, n_jobs: int = 1, sampler: dict | None = None
                    ) -> ImputedSummary:
    """Impute ``outcome`` ``m`` times, fit ``formula`` on every completed set, pool.

    Parameters
    ----------
    data : DataFrame
        The respondent's rows of every goal (the columns ``formula``, ``predictors``,
        ``levels``, ``unit`` and ``wave`` use).
    outcome : str
        The scale score imputed (continuous, not rounded).
    formula : str
        The analysis model (the pooled outcome model).
    levels : tuple of str
        Nesting levels, outermost first; the last is the unit that misses waves.
    unit : str
        The respondent id column (``complete=(unit, "wave")``).
    predictors : str
        Right-hand side of the imputation model (the analysis model's fixed part and the
        auxiliary variables).
    m, seed, n_jobs
        As :func:`~lerendtransformeren.multilevel.impute`.
    sampler : dict, optional
        Other :func:`~lerendtransformeren.multilevel.impute` settings (``burn``,
        ``between``, ``chains``); by default its own.
    """
    from lerendtransformeren.multilevel import fit, impute

    data = data.reset_index(drop=True)
    mask, units = unit_counts(data, outcome, unit)
    imp = impute(data, outcome, list(levels), predictors, m=m, seed=seed, n_jobs=n_jobs, progress=False,
                 complete=(unit, "wave"), where=mask, ranges={outcome: None}, **(sampler or {}))
    pooled = fit(formula, imp)
    return ImputedSummary(pooled.fixed.copy(), len(imp), imp.rhat_max, dict(imp.settings), units,
                          list(imp.notes) + list(pooled.notes))
