"""Simulation-based power for nested linear and generalised linear mixed models (R: ``simr``).

Closed forms (:mod:`~lerendtransformeren.multilevel.power`) answer the planning questions
for balanced textbook designs. For anything else (a stepped wedge with three levels and
period effects, unequal team sizes, dropout, or the model you actually fitted) the honest
answer is a simulation: generate many data sets from the model, refit every one with the
nested engine, test the term with Satterthwaite's df and count how often the test rejects.

* :class:`Design`: levels and sizes, waves, the treatment schedule (stepped wedge, explicit
  0/1 matrix or parallel arms) and monotone dropout;
* :class:`Model`: the model stated directly (formula, fixed effects by name, variances per
  level) or taken from a fitted :class:`~lerendtransformeren.multilevel.results.MultilevelResult`
  (:meth:`Model.from_fit`, simr's ``fixef(m)["offer"] <- 0.2``); :func:`raw_effect` turns a
  standardised effect d into raw units;
* :func:`simulate`: one simulated data set (R: ``simulate(m)`` / ``simr::doSim``);
* :func:`power_simulation`: power with its Monte Carlo interval, bias, RMSE, coverage and
  the mean df of the test (R: ``simr::powerSim``), in a :class:`PowerSimulation`;
* :func:`power_curve`: power along the number of organisations, teams, respondents or waves
  (R: ``simr::powerCurve`` after ``simr::extend``), in a :class:`PowerCurve`.

How a replicate is analysed
---------------------------
The model frame (fixed design ``X``, the levels with their unit codes and ``Z``) is built
once. A replicate draws the random effects level by level (coarsest first), the residuals
and the dropout from its own random stream, drops the rows of respondents who left, fits
the model by REML with :class:`~lerendtransformeren.multilevel.engine.NestedEngine`
(started at the true variance parameters) and tests the term with
:func:`~lerendtransformeren.multilevel.inference.satterthwaite` and
:func:`~lerendtransformeren.multilevel.inference.contrast_1d` (one df) or
:func:`~lerendtransformeren.multilevel.inference.contrast_md` (a factor with several
columns, an F-test), exactly as :func:`~lerendtransformeren.multilevel.fit` and
``result.fixed`` / ``result.anova()`` do. A singular fit is a legal result and is counted;
a replicate whose fit fails (an error, or a fixed effect that dropout left without data)
is counted as failed, reported in ``n_failed`` and in ``replicates.error``, and left out
of power, bias and coverage, with a warning.

A :class:`Model` with ``family="binomial"`` or ``"poisson"`` states its fixed effects and
random-effect variances on the link scale (no residual variance); a replicate draws the
random effects as above, then the outcome from the family (0/1 or counts), refits the
GLMM with :class:`~lerendtransformeren.multilevel.glmm.GLMMEngine` (Laplace, as
``glmer``) and tests the term by Wald z (``ddf="Wald"``, glmer's test; a chi-square for
several columns) or by t with between-within df (``ddf="between-within"``; an F for
several columns), see :func:`~lerendtransformeren.multilevel.glmm_inference.glmm_contrast_test`.

Reproducibility
---------------
Every replicate has its own independent stream: replicate ``i`` of
``power_simulation(..., seed=s, n_sim=n)`` uses child ``i`` of
``numpy.random.SeedSequence(s).spawn(n)``, whatever ``n_jobs`` or the Dask cluster, so
the results are identical serially and in parallel, and
``simulate(model, design, seed=numpy.random.SeedSequence(s).spawn(n)[i])`` gives the data
set of replicate ``i``. Point ``k`` of a power curve uses child ``k`` of
``SeedSequence(seed).spawn(len(values))`` as its seed. Unit sizes drawn from a range
(``(min, max)``) come from ``Design.seed``: a design is one fixed set of units, the
simulation varies the outcomes and the dropout.

Monte Carlo error
-----------------
Power is a proportion of ``n_sim`` replicates; its interval is the exact
Clopper-Pearson interval (simr's ``binom.test`` interval). With 1,000 replicates the
half-width is at most about 3 percentage points; bias and coverage come with their Monte
Carlo standard errors.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import ConvergenceError, ConvergenceWarning, SpecificationError
from lerendtransformeren.multilevel import inference
from lerendtransformeren.multilevel.display import power_curve_view, power_simulation_view
from lerendtransformeren.multilevel.engine import SINGULAR_TOL, NestedEngine
from lerendtransformeren.multilevel.formula import parse_formula
from lerendtransformeren.multilevel.frame import Level, RandomBlock, build_frame
from lerendtransformeren.multilevel.glmm_inference import glmm_contrast_test
from lerendtransformeren.multilevel.glmm_solver import FAMILIES
from lerendtransformeren.multilevel.replicates import check_n_jobs, run_chunks
from lerendtransformeren.multilevel.replicates import children as _children
from lerendtransformeren.multilevel.replicates import progress_bar as _progress_bar
from lerendtransformeren.multilevel.replicates import seed_sequence as _seed_sequence
from lerendtransformeren.multilevel.replicates import single_thread as _single_thread
from lerendtransformeren.presenters import present

__all__ = [
    "Design",
    "Model",
    "raw_effect",
    "simulate",
    "power_simulation",
    "power_curve",
    "PowerSimulation",
    "PowerCurve",
]

#: Level of the Monte Carlo interval of the power.
MC_LEVEL = 0.95
#: Columns of ``PowerCurve.table``, in this order.
CURVE_COLUMNS = ["along", "value", "n_sim", "power", "ci_low", "ci_high", "bias", "coverage",
                 "mean_df", "n_singular", "n_failed"]
_REPLICATE_COLUMNS = ["replicate", "estimate", "se", "df", "statistic", "p", "ci_low", "ci_high",
                      "singular", "converged", "failed", "error", "n_rows"]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, (float, np.floating))) and math.isfinite(float(value))


# ---------------------------------------------------------------------------------------
# the design
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """A nested design measured in waves, with a treatment schedule and dropout.

    Parameters
    ----------
    levels : mapping of str to int or (int, int)
        Levels from the top down, e.g. ``{"organisation": 15, "team": 4, "professional":
        6}``: 15 organisations, 4 teams per organisation, 6 professionals per team. A size
        is units per parent unit (for the top level: the number of units); ``(min, max)``
        draws each parent's number uniformly from ``min..max`` (from ``seed``). The names
        become the id columns of the simulated data (globally unique integer codes). The
        lowest level is the unit measured in every wave (the respondent).
    waves : int, default 1
        Measurement waves ``0..waves-1`` (column ``time``); every lowest-level unit is
        measured in every wave unless it drops out.
    start_wave : int or sequence of int, optional
        Stepped wedge: top-level unit ``i`` receives the treatment from wave
        ``start_wave[i % len(start_wave)]`` on; each start wave in ``1..waves-1``.
    schedule : array-like of 0/1, optional
        An explicit schedule, top-level units x waves (0 control, 1 treated); row ``i %
        n_rows`` applies to top-level unit ``i``, so a two-row schedule alternates the
        arms. ``[[0, 1], [0, 0]]`` with ``waves=2`` is a parallel design with a baseline.
    treated_share : float, optional
        Parallel design: this share of the top-level units is treated in every wave,
        spread evenly over the units (``0.5``: every second unit).
    dropout : float, default 0
        Monotone dropout: in each wave after the first, a lowest-level unit still present
        leaves with this probability (present in wave ``w`` with probability ``(1 -
        dropout) ** w``); in ``[0, 1)``; drawn per replicate.
    treatment, time : str
        Names of the treatment column (0/1, ``"offer"``) and the wave column (``"wave"``).
    seed : int, default 0
        Seed of the unit sizes drawn from ``(min, max)`` ranges.

    Raises
    ------
    SpecificationError
        Fewer than 2 units at the top level, a size below 1, a start wave outside
        ``1..waves-1``, a schedule longer or shorter than the waves or not 0/1, more than
        one schedule, a share or dropout outside its range.

    Examples
    --------
    The design of the study: 15 organisations, 4 teams of 6 professionals, four waves,
    within each goal one organisation starting at T1, one at T2 and one at T3.

    >>> d = Design({"organisation": 15, "team": 4, "professional": 6}, waves=4, start_wave=(1, 2, 3))
    >>> d.data().shape
    (1440, 5)
    >>> d.schedule_matrix()[:3]
    array([[0, 1, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 0, 1]])
    """

    levels: Mapping[str, int | tuple[int, int]]
    waves: int = 1
    start_wave: int | Sequence[int] | None = None
    schedule: Any = None
    treated_share: float | None = None
    dropout: float = 0.0
    treatment: str = "offer"
    time: str = "wave"
    seed: int = 0
    _schedule: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.levels, Mapping) or not self.levels:
            raise SpecificationError(
                "levels must be a mapping from level name to size, top level first, e.g. "
                "levels={'organisation': 15, 'team': 4, 'professional': 6}."
            )
        object.__setattr__(self, "levels", dict(self.levels))
        for i, (name, size) in enumerate(self.levels.items()):
            self._check_size(name, size, top=i == 0)
        for col in (self.treatment, self.time):
            if not isinstance(col, str) or not col or col in self.levels:
                raise SpecificationError(
                    f"The column names treatment={self.treatment!r} and time={self.time!r} must "
                    f"be non-empty strings different from the level names {list(self.levels)}."
                )
        if not _is_int(self.waves) or self.waves < 1:
            raise SpecificationError(f"waves must be a whole number >= 1, got {self.waves!r}.")
        given = [n for n, v in (("start_wave", self.start_wave), ("schedule", self.schedule),
                                ("treated_share", self.treated_share)) if v is not None]
        if len(given) > 1:
            raise SpecificationError(
                f"Give one treatment schedule, not {' and '.join(given)}: start_wave for a stepped "
                "wedge, schedule for an explicit 0/1 matrix, or treated_share for parallel arms."
            )
        object.__setattr__(self, "_schedule", self._make_schedule())
        if not _is_number(self.dropout) or not 0.0 <= float(self.dropout) < 1.0:
            raise SpecificationError(
                f"dropout must be a probability in [0, 1) (the chance per wave that a respondent "
                f"still present leaves), got {self.dropout!r}; use e.g. dropout=0.1."
            )
        if self.dropout > 0 and self.waves < 2:
            raise SpecificationError(
                "dropout applies between waves, but the design has waves=1; set dropout=0 or "
                "add waves."
            )
        if not _is_int(self.seed):
            raise SpecificationError(f"seed must be an integer, got {self.seed!r}.")

    @staticmethod
    def _check_size(name: str, size: Any, top: bool) -> None:
        what = "units" if top else f"units per parent unit of {name!r}"
        low = 2 if top else 1
        if isinstance(size, tuple) and len(size) == 2 and all(_is_int(s) for s in size):
            lo, hi = size
            if lo > hi:
                raise SpecificationError(f"levels[{name!r}] = {size!r}: the range (min, max) has min > max.")
        elif _is_int(size):
            lo = size
        else:
            raise SpecificationError(
                f"levels[{name!r}] must be a whole number of {what} or a range (min, max) of "
                f"whole numbers, got {size!r}."
            )
        if lo < low:
            fix = ("a comparison between units needs at least 2; increase it" if top
                   else "every parent unit needs at least 1; increase it or leave the level out")
            raise SpecificationError(
                f"levels[{name!r}] = {size!r}: fewer than {low} units at level {name!r}; {fix}."
            )

    def _make_schedule(self) -> np.ndarray | None:
        """The schedule rows (cycled over the top-level units), or None without treatment."""
        w = self.waves
        if self.start_wave is not None:
            starts = np.atleast_1d(np.asarray(self.start_wave))
            if starts.ndim != 1 or starts.size == 0 or not all(_is_int(s) for s in starts.tolist()):
                raise SpecificationError(
                    f"start_wave must be a whole wave number or a sequence of them, got {self.start_wave!r}."
                )
            bad = [int(s) for s in starts if not 1 <= s <= w - 1]
            if bad:
                why = ("the schedule is longer than the waves. Increase waves or correct start_wave "
                       "(use schedule= for units that never start)" if max(bad) > w - 1 else
                       "a unit treated from wave 0 has no period under control. Correct start_wave "
                       "(or use treated_share= for parallel arms)")
                raise SpecificationError(
                    f"start_wave {bad} outside 1..{w - 1}: with waves={w} (numbered 0..{w - 1}) a "
                    f"stepped wedge starts the treatment after the first wave; {why}."
                )
            return (np.arange(w)[None, :] >= starts[:, None]).astype(int)
        if self.schedule is not None:
            x = np.asarray(self.schedule)
            if x.ndim == 1:
                x = x[None, :]
            if x.ndim != 2 or x.shape[0] == 0:
                raise SpecificationError(
                    "schedule must be a 0/1 matrix with one row per top-level unit (cycled) and one "
                    f"column per wave; got an array of shape {x.shape}."
                )
            if not np.issubdtype(x.dtype, np.number) or not np.all(np.isin(x, (0, 1))):
                raise SpecificationError("schedule must contain only 0 (control) and 1 (treated).")
            if x.shape[1] != w:
                word = "longer" if x.shape[1] > w else "shorter"
                raise SpecificationError(
                    f"schedule has {x.shape[1]} columns but waves={w}: the schedule is {word} than "
                    f"the waves. Give one column per wave (or set waves={x.shape[1]})."
                )
            return x.astype(int)
        if self.treated_share is not None:
            p = self.treated_share
            if not _is_number(p) or not 0.0 < float(p) < 1.0:
                raise SpecificationError(
                    f"treated_share must lie strictly between 0 and 1, got {p!r}; use 0.5 for two "
                    "equal arms."
                )
            return None
        return None

    @property
    def top(self) -> str:
        """Name of the top level (where the schedule assigns the treatment)."""
        return next(iter(self.levels))

    def schedule_matrix(self, n_top: int | None = None) -> np.ndarray:
        """Treatment per top-level unit and wave (0/1), ``n_top`` units (default: the design's)."""
        if n_top is None:
            n_top = len(self._units()[0])
        i = np.arange(n_top)
        if self._schedule is not None:
            return self._schedule[i % len(self._schedule)]
        if self.treated_share is not None:
            p = float(self.treated_share)
            arm = (np.floor((i + 1) * p) - np.floor(i * p)).astype(int)
            return np.repeat(arm[:, None], self.waves, axis=1)
        return np.zeros((n_top, self.waves), int)

    def _units(self) -> list[np.ndarray]:
        """Parent code of every unit per level (top first; the top's parents are 0)."""
        rng = np.random.default_rng(self.seed)

        def draw(size, n):
            if isinstance(size, tuple):
                return rng.integers(size[0], size[1] + 1, size=n)
            return np.full(n, size)

        sizes = list(self.levels.values())
        parents = [np.zeros(int(draw(sizes[0], 1)[0]), int)]
        for size in sizes[1:]:
            n_parent = len(parents[-1])
            parents.append(np.repeat(np.arange(n_parent), draw(size, n_parent)))
        return parents

    def data(self) -> pd.DataFrame:
        """The design's rows, one per lowest-level unit per wave, without an outcome.

        Columns: one integer id per level (unique over the whole level), ``time`` and
        ``treatment``.
        """
        parents = self._units()
        names = list(self.levels)
        lowest = len(parents[-1])
        ids = {names[-1]: np.arange(lowest)}
        code = np.arange(lowest)
        for name, par in zip(names[-2::-1], parents[:0:-1]):
            code = par[code]
            ids[name] = code
        rows = np.repeat(np.arange(lowest), self.waves)
        wave = np.tile(np.arange(self.waves), lowest)
        out = pd.DataFrame({n: ids[n][rows] for n in names})
        out[self.time] = wave
        out[self.treatment] = self.schedule_matrix(len(parents[0]))[out[names[0]].to_numpy(), wave]
        return out


# ---------------------------------------------------------------------------------------
# the model
# ---------------------------------------------------------------------------------------


class Model:
    """The data-generating model: formula, fixed effects and variance components.

    Parameters
    ----------
    formula : str
        lme4-style formula as for :func:`~lerendtransformeren.multilevel.fit`, e.g.
        ``"y ~ C(wave) + offer + (1 | organisation/team/professional)"``; the outcome is a
        plain column name (it is created by the simulation).
    fixed : mapping of str to float, optional
        Fixed effects by design column name (``"Intercept"``, ``"C(wave)[T.1]"``,
        ``"offer"``); names not given are 0. A name that is not a column of the model is
        an error (the message lists the columns).
    variances : mapping of str to float or array
        One variance per random level and ``"residual"`` (no ``"residual"`` with a
        ``family``: a GLMM's variances are on the link scale). A level is named by its grouping
        (``"organisation:team"``) or its last factor (``"team"``). A level with random
        slopes takes its covariance matrix over its random columns (as in
        ``result.variance``).
    family : {None, "binomial", "poisson"}
        None: a linear model (normal residuals). ``"binomial"`` (0/1 outcome, logit link)
        or ``"poisson"`` (counts, log link): fixed effects and random-effect variances on
        the link scale; the outcome is drawn from the family and each replicate is refitted
        with the GLMM engine (Laplace, as ``glmer``).

    Raises
    ------
    SpecificationError
        A negative variance, a residual variance of 0, a covariance matrix that is not
        symmetric positive semi-definite, a non-finite value.

    Examples
    --------
    >>> m = Model("y ~ C(wave) + offer + (1 | organisation/team/professional)",
    ...           fixed={"offer": 0.3},
    ...           variances={"organisation": 0.07, "team": 0.06, "professional": 0.45,
    ...                      "residual": 0.42})
    >>> m
    Model('y ~ C(wave) + offer + (1 | organisation/team/professional)', fixed={'offer': 0.3}, variances={'organisation': 0.07, 'team': 0.06, 'professional': 0.45, 'residual': 0.42})
    """

    def __init__(self, formula: str, fixed: Mapping[str, float] | None = None,
                 variances: Mapping[str, Any] | None = None, family: str | None = None):
        if not isinstance(formula, str):
            raise SpecificationError(f"formula must be a string, got {type(formula).__name__}.")
        spec = parse_formula(formula)
        if not spec.random:
            raise SpecificationError(
                f"The formula {formula!r} has no random term such as (1 | organisation); the "
                "simulation is for multilevel models."
            )
        self.formula = formula
        self.y_name = spec.fixed.split("~")[0].strip()
        self.fixed = {}
        for name, value in dict(fixed or {}).items():
            if not _is_number(value):
                raise SpecificationError(f"fixed[{name!r}] must be a finite number, got {value!r}.")
            self.fixed[str(name)] = float(value)
        if family is not None and family not in ("binomial", "poisson"):
            raise SpecificationError(f"family must be None, 'binomial' or 'poisson', got {family!r}.")
        self.family = family
        if family is not None:
            self._init_glmm_variances(variances)
            self._fit = None
            return
        if not isinstance(variances, Mapping) or "residual" not in variances:
            raise SpecificationError(
                "variances must be a mapping with one variance per random level and 'residual', "
                "e.g. variances={'organisation': 0.07, 'team': 0.06, 'residual': 0.42}."
            )
        self.variances = {}
        for name, value in variances.items():
            self.variances[str(name)] = _check_variance(str(name), value)
        if float(np.ravel(self.variances["residual"])[0]) <= 0 or np.ndim(self.variances["residual"]):
            raise SpecificationError(
                f"variances['residual'] must be a positive number, got {variances['residual']!r}: "
                "a model without residual variance cannot be fitted."
            )
        self._fit = None

    def _init_glmm_variances(self, variances) -> None:
        if not isinstance(variances, Mapping) or "residual" in variances:
            raise SpecificationError(
                f"family={self.family!r}: variances must be a mapping with one link-scale variance per "
                "random level and no 'residual' (the family gives the outcome's variance), e.g. "
                "variances={'organisation': 0.2, 'team': 0.1}."
            )
        self.variances = {str(k): _check_variance(str(k), v) for k, v in variances.items()}

    @classmethod
    def from_fit(cls, result, fixed: Mapping[str, float] | None = None) -> Model:
        """The fitted model as a data-generating model, optionally with other fixed effects.

        Parameters
        ----------
        result : MultilevelResult
            A fit of :func:`~lerendtransformeren.multilevel.fit`; its fixed effects and
            variance components become the truth.
        fixed : mapping of str to float, optional
            Fixed effects to replace (by name, as in ``result.fixed``), e.g.
            ``{"offer": 0.2}``: simr's ``fixef(m)["offer"] <- 0.2``.

        Without a :class:`Design`, :func:`simulate` and :func:`power_simulation` use the
        fit's own rows and covariates; with one, the parameters are carried to the new
        design (simr's ``extend``).
        """
        from lerendtransformeren.multilevel.glmm_results import GLMMResult
        from lerendtransformeren.multilevel.results import MultilevelResult

        if not isinstance(result, (MultilevelResult, GLMMResult)):
            raise SpecificationError(
                f"Model.from_fit needs a MultilevelResult or GLMMResult from lerendtransformeren.multilevel.fit, "
                f"got {type(result).__name__}."
            )
        names = list(result.frame.x_names)
        betas = dict(zip(names, map(float, result.beta)))
        unknown = sorted(set(fixed or {}) - set(names))
        if unknown:
            raise SpecificationError(
                f"Unknown fixed effects {unknown}; the model's fixed effects are {names}."
            )
        betas.update({k: float(v) for k, v in (fixed or {}).items()})
        glmm = isinstance(result, GLMMResult)
        sigma2 = 1.0 if glmm else result.sigma**2
        variances = {}
        for lev, lam in zip(result.frame.levels, result.engine.lambdas(result.theta)):
            cov = sigma2 * lam @ lam.T
            variances[lev.name] = float(cov[0, 0]) if cov.shape == (1, 1) else cov
        if not glmm:
            variances["residual"] = sigma2
        model = cls(result.formula, betas, variances, family=result.family if glmm else None)
        model._fit = result
        return model

    def __repr__(self) -> str:
        def show(v):
            return round(v, 10) if np.ndim(v) == 0 else np.round(v, 10).tolist()

        var = {k: show(v) for k, v in self.variances.items()}
        fam = f", family={self.family!r}" if self.family else ""
        return f"Model({self.formula!r}, fixed={self.fixed!r}, variances={var!r}{fam})"


def _check_variance(name: str, value: Any) -> float | np.ndarray:
    if _is_number(value):
        if value < 0:
            raise SpecificationError(
                f"variances[{name!r}] = {value!r} is negative; a variance is >= 0 (use 0 for a "
                "level without variation)."
            )
        return float(value)
    try:
        cov = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        cov = np.array(np.nan)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1] or not np.all(np.isfinite(cov)):
        raise SpecificationError(
            f"variances[{name!r}] must be a number (a random intercept) or a square covariance "
            f"matrix (random slopes), got {value!r}."
        )
    if not np.allclose(cov, cov.T) or np.linalg.eigvalsh(cov).min() < -1e-10 * max(1.0, np.abs(cov).max()):
        raise SpecificationError(
            f"variances[{name!r}] is not a symmetric positive semi-definite covariance matrix "
            "(a negative variance or a correlation beyond +-1)."
        )
    return cov


def raw_effect(d: float, variances: Mapping[str, Any] | Model) -> float:
    """A standardised effect d in the raw units of the outcome: ``d * total SD``.

    The total SD is the square root of the sum of the variances of all random intercepts
    and the residual variance, the SD of one observation (the convention of
    :mod:`~lerendtransformeren.multilevel.power` and of
    :func:`~lerendtransformeren.multilevel.standardized_effect` with ``sd="total"``).

    Parameters
    ----------
    d : float
        Standardised effect (Cohen's d on the total SD).
    variances : mapping or Model
        Variances per level and ``"residual"`` (scalars, random intercepts only).

    Examples
    --------
    >>> v = {"organisation": 0.07, "team": 0.06, "professional": 0.45, "residual": 0.42}
    >>> raw_effect(0.3, v)
    0.3
    >>> round(raw_effect(0.5, {"cluster": 0.25, "residual": 2.25}), 4)
    0.7906
    """
    if isinstance(variances, Model):
        variances = variances.variances
    if not _is_number(d):
        raise SpecificationError(f"d must be a finite number, got {d!r}.")
    total = 0.0
    for name, value in variances.items():
        value = _check_variance(str(name), value)
        if np.ndim(value):
            raise SpecificationError(
                f"variances[{name!r}] is a covariance matrix: with random slopes the total SD "
                "depends on the covariates; compute it for your reference point and multiply d "
                "by it yourself."
            )
        total += value
    return float(d) * math.sqrt(total)


# ---------------------------------------------------------------------------------------
# the template: what does not change between replicates
# ---------------------------------------------------------------------------------------


@dataclass
class _Template:
    """Arrays of one simulation set-up (small to pickle: no formula designs)."""

    X: np.ndarray
    levels: list[Level]  # finest first
    Z: list[np.ndarray]  # per level, all random columns (n, q)
    factors: list[np.ndarray]  # per level, Cholesky factor of the covariance (q, q)
    beta: np.ndarray
    sigma: float
    theta: np.ndarray  # the true theta: the optimiser's start
    L: np.ndarray  # contrast rows of the test
    conf_level: float
    dropout: float
    subject: np.ndarray | None  # dropout unit per row
    wave: np.ndarray | None  # wave index per row
    n_waves: int
    family: str | None = None  # None: linear (REML, Satterthwaite); else the GLMM engine
    ddf: str = "Satterthwaite"
    engine: NestedEngine | None = None  # the design's engine: each replicate swaps in its outcome


def _psd_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower-triangular F with F F' = cov, non-negative diagonal; cov may be singular."""
    q = cov.shape[0]
    F = np.zeros_like(cov)
    for j in range(q):
        d = cov[j, j] - F[j, :j] @ F[j, :j]
        if d <= 1e-12 * max(1.0, cov[j, j]):
            continue  # a zero variance (given the columns before it): column stays 0
        F[j, j] = math.sqrt(d)
        F[j + 1:, j] = (cov[j + 1:, j] - F[j + 1:, :j] @ F[j, :j]) / F[j, j]
    return F


def _variance_of_level(model: Model, lev: Level) -> np.ndarray:
    keys = [k for k in model.variances if k in (lev.name, lev.factors[-1])]
    if len(keys) != 1:
        raise SpecificationError(
            f"variances needs exactly one entry for the random level {lev.name!r} (key "
            f"{lev.name!r} or {lev.factors[-1]!r}); got {keys or 'none'}."
        )
    value = model.variances[keys[0]]
    names = [n for b in lev.blocks for n in b.names]
    cov = np.atleast_2d(value)
    if cov.shape != (len(names), len(names)):
        raise SpecificationError(
            f"variances[{keys[0]!r}]: level {lev.name!r} has {len(names)} random column(s) "
            f"{names}; give a {len(names)} x {len(names)} covariance matrix in that order."
        )
    off = 0
    for b in lev.blocks:  # separate random terms of a level are independent
        outside = np.delete(cov[off:off + b.q], np.s_[off:off + b.q], axis=1)
        if np.any(outside != 0):
            raise SpecificationError(
                f"variances[{keys[0]!r}] correlates the random term ({b.expr} | {lev.name}) with "
                "another term of the level; separate terms are independent. Write them as one term "
                "to correlate them."
            )
        off += b.q
    return cov


def _light_levels(levels: list[Level]) -> list[Level]:
    """The levels without their formula designs (light to pickle for parallel workers)."""
    return [Level(lev.name, lev.factors, lev.codes, lev.labels,
                  [RandomBlock(b.group, b.expr, b.names, b.Z) for b in lev.blocks]) for lev in levels]


def _resolve_test(test: Any, x_names: list[str], terms: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Contrast rows of ``test``: a column name, a formula term, or a {name: weight} dict.

    ``terms`` maps each term of the fixed part to its columns (``ModelFrame.fixed_terms()``).
    """
    p = len(x_names)
    terms = {} if terms is None else terms
    if isinstance(test, Mapping):
        unknown = sorted(set(test) - set(x_names))
        if unknown:
            raise SpecificationError(f"test names unknown fixed effects {unknown}; they are {x_names}.")
        return np.array([[float(test.get(n, 0.0)) for n in x_names]])
    if isinstance(test, str):
        if test in x_names:
            return np.eye(p)[[x_names.index(test)]]
        if test in terms:
            return np.eye(p)[terms[test]]
    terms = list(terms)
    raise SpecificationError(
        f"test={test!r} is not a fixed effect of the model; give a column ({x_names}), a term "
        f"({terms}) or a contrast {{name: weight}}."
    )


def _as_model(model: Any) -> Model:
    from lerendtransformeren.multilevel.glmm_results import GLMMResult
    from lerendtransformeren.multilevel.results import MultilevelResult

    if isinstance(model, (MultilevelResult, GLMMResult)):
        return Model.from_fit(model)
    if not isinstance(model, Model):
        raise SpecificationError(
            f"model must be a Model or a fitted MultilevelResult, got {type(model).__name__}."
        )
    return model


def _check_sim_ddf(model: Model, ddf: str | None) -> str:
    """The test of a replicate: Satterthwaite (linear), Wald or between-within (GLMM)."""
    allowed = ("Wald", "between-within") if model.family else ("Satterthwaite",)
    ddf = allowed[0] if ddf is None else ddf
    if ddf not in allowed:
        raise SpecificationError(f"ddf={ddf!r}: for this model use one of {list(allowed)}.")
    return ddf


def _template(model: Model, design: Design | None, test: Any = None,
              conf_level: float = 0.95, ddf: str | None = None) -> tuple[_Template, pd.DataFrame, str]:
    """The fixed arrays of a simulation, the template rows and the outcome column name."""
    if design is None:
        if model._fit is None:
            raise SpecificationError(
                "Give a Design (levels, waves, schedule) for a Model with stated parameters; only a "
                "model from a fit (Model.from_fit) can be simulated on its own rows."
            )
        frame = model._fit.frame
        data = model._fit._used_data()
    else:
        if not isinstance(design, Design):
            raise SpecificationError(f"design must be a Design, got {type(design).__name__}.")
        if not model.y_name.isidentifier():
            raise SpecificationError(
                f"The outcome of the formula must be a plain column name, got {model.y_name!r}."
            )
        data = design.data()
        if model.y_name in data.columns:
            raise SpecificationError(
                f"The outcome {model.y_name!r} has the name of a design column; rename it."
            )
        data[model.y_name] = 0.0
        frame = build_frame(model.formula, data, context={}, one_row_units=model.family is not None)
    x_names = list(frame.x_names)
    unknown = sorted(set(model.fixed) - set(x_names))
    if unknown:
        raise SpecificationError(
            f"fixed names unknown fixed effects {unknown}; the columns of the model are {x_names} "
            "(missing ones are 0)."
        )
    beta = np.array([model.fixed.get(n, 0.0) for n in x_names])
    sigma = 1.0 if model.family else math.sqrt(model.variances["residual"])
    levels = _light_levels(frame.levels)
    known = {"residual"} | {lev.name for lev in levels} | {lev.factors[-1] for lev in levels}
    extra = sorted(set(model.variances) - known)
    if extra:
        raise SpecificationError(
            f"variances for {extra}, which are not random levels of {model.formula!r}; the levels "
            f"are {[lev.name for lev in levels]} and 'residual'."
        )
    covs = [_variance_of_level(model, lev) for lev in levels]
    factors = [_psd_cholesky(c) for c in covs]
    engine = NestedEngine(np.arange(len(frame.y), dtype=float), frame.X, levels)
    theta = np.zeros(engine.n_theta)
    for F, slices in zip(factors, engine.theta_slices):
        off = 0
        for s, rows, cols in slices:
            q = int(rows.max()) + 1
            theta[s] = F[off:off + q, off:off + q][rows, cols] / sigma
            off += q
    L = np.zeros((1, len(x_names))) if test is None else _resolve_test(test, x_names, frame.fixed_terms())
    subject = wave = None
    n_waves = 1
    if design is not None and design.dropout > 0:
        subject = data[list(design.levels)[-1]].to_numpy()
        wave = data[design.time].to_numpy()
        n_waves = design.waves
    tmpl = _Template(
        X=frame.X, levels=levels, Z=[np.hstack([b.Z for b in lev.blocks]) for lev in levels],
        factors=factors, beta=beta, sigma=sigma, theta=theta, L=L, conf_level=conf_level,
        dropout=float(design.dropout) if design is not None else 0.0, subject=subject, wave=wave,
        n_waves=n_waves, family=model.family, ddf=_check_sim_ddf(model, ddf), engine=engine,
    )
    return tmpl, data, model.y_name


# ---------------------------------------------------------------------------------------
# one replicate
# ---------------------------------------------------------------------------------------


def _draw(tmpl: _Template, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """Outcome of every template row and the rows kept after dropout (None: all).

    Draw order (fixed, so a seed always gives the same data): the random effects of each
    level from the coarsest down, the residuals, then the dropout.
    """
    y = tmpl.X @ tmpl.beta
    for lev, Z, F in zip(tmpl.levels[::-1], tmpl.Z[::-1], tmpl.factors[::-1]):
        b = rng.standard_normal((lev.n_units, F.shape[0])) @ F.T
        y += np.einsum("ij,ij->i", Z, b[lev.codes])
    if tmpl.family == "binomial":
        y = rng.binomial(1, FAMILIES["binomial"].mu(y)).astype(float)
    elif tmpl.family == "poisson":
        y = rng.poisson(FAMILIES["poisson"].mu(y)).astype(float)
    else:
        y += tmpl.sigma * rng.standard_normal(len(y))
    keep = None
    if tmpl.dropout > 0:
        n_subject = int(tmpl.subject.max()) + 1
        stay = rng.random((n_subject, tmpl.n_waves - 1)) >= tmpl.dropout
        present = np.hstack([np.ones((n_subject, 1), bool), np.cumprod(stay, axis=1, dtype=bool)])
        keep = present[tmpl.subject, tmpl.wave]
    return y, keep


def _subset_levels(levels: list[Level], keep: np.ndarray) -> list[Level]:
    """The levels restricted to the rows ``keep``, unit codes renumbered 0..units-1."""
    out = []
    for lev in levels:
        used, codes = np.unique(lev.codes[keep], return_inverse=True)
        blocks = [RandomBlock(b.group, b.expr, b.names, b.Z[keep]) for b in lev.blocks]
        out.append(Level(lev.name, lev.factors, codes.ravel(), lev.labels[used], blocks))
    return out


class _NotEstimable(Exception):
    """A replicate whose data cannot identify the model (e.g. after dropout)."""


def _analyse(tmpl: _Template, y: np.ndarray, keep: np.ndarray | None) -> dict:
    """Fit one replicate by REML and test the contrast with Satterthwaite's df."""
    X, levels = tmpl.X, tmpl.levels
    if keep is not None and not keep.all():
        X, y, levels = X[keep], y[keep], _subset_levels(levels, keep)
        if np.linalg.matrix_rank(X) < X.shape[1]:
            raise _NotEstimable("the fixed effects are not estimable from the rows left after dropout")
        for lev in levels:
            if not 2 <= lev.n_units < len(y):
                raise _NotEstimable(f"level {lev.name!r} has {lev.n_units} units for {len(y)} rows after dropout")
    if tmpl.family is not None:
        if np.ptp(y) == 0:
            raise _NotEstimable(f"the simulated outcome is {y[0]:g} in every row")
        return glmm_contrast_test(y, X, levels, tmpl.family, tmpl.L, tmpl.ddf, tmpl.conf_level)
    if tmpl.engine is not None and X is tmpl.X:  # the design's rows: only y's cross-products change
        engine = tmpl.engine.with_response(y)
    else:
        engine = NestedEngine(y, X, levels, reml=True)
    opt = engine.optimize(start=tmpl.theta)
    ev = engine.evaluate(opt.theta)
    sigma = engine.sigma(ev)
    sat = inference.satterthwaite(engine, opt.theta, sigma, ev.beta)
    rec = {"singular": bool(np.any(opt.theta[np.isfinite(engine.lower)] < SINGULAR_TOL)),
           "converged": bool(opt.converged), "n_rows": len(y)}
    if len(tmpl.L) == 1:
        c = inference.contrast_1d(sat, tmpl.L[0], tmpl.conf_level)
        rec.update(estimate=c["estimate"], se=c["se"], df=c["df"], statistic=c["t"], p=c["p"],
                   ci_low=c["ci_low"], ci_high=c["ci_high"])
    else:
        c = inference.contrast_md(sat, tmpl.L)
        rec.update(estimate=np.nan, se=np.nan, df=c["dendf"], statistic=c["F"], p=c["p"],
                   ci_low=np.nan, ci_high=np.nan)
    if not np.isfinite(rec["p"]):
        raise _NotEstimable(f"the test gave no p-value (statistic {rec['statistic']!r}, df {rec['df']!r})")
    return rec


def _replicate(tmpl: _Template, index: int, seq: np.random.SeedSequence) -> dict:
    y, keep = _draw(tmpl, np.random.default_rng(seq))
    try:
        rec = _analyse(tmpl, y, keep)
        rec.update(failed=False, error="")
    except (_NotEstimable, np.linalg.LinAlgError, ValueError, ArithmeticError, ConvergenceError) as exc:
        rec = {"estimate": np.nan, "se": np.nan, "df": np.nan, "statistic": np.nan, "p": np.nan,
               "ci_low": np.nan, "ci_high": np.nan, "singular": False, "converged": False,
               "failed": True, "error": f"{type(exc).__name__}: {exc}",
               "n_rows": int(len(y) if keep is None else keep.sum())}
    rec["replicate"] = index
    return rec


def _run_chunk(tmpl: _Template, indices: Sequence[int], seqs: Sequence[np.random.SeedSequence]) -> list[dict]:
    """Replicates ``indices`` with their streams, single-threaded BLAS, warnings silenced.

    One BLAS thread makes the small dense algebra of the engine fast and keeps the
    numbers identical whatever the parallel set-up.
    """
    with _single_thread(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # SingularFitWarning, RuntimeWarning: counted instead
        return [_replicate(tmpl, i, s) for i, s in zip(indices, seqs)]


# ---------------------------------------------------------------------------------------
# seeds, progress, parallel execution
# ---------------------------------------------------------------------------------------


def _check_run_args(n_sim: Any, alpha: Any, n_jobs: Any) -> None:
    if not _is_int(n_sim) or n_sim < 1:
        raise SpecificationError(f"n_sim must be a whole number >= 1, got {n_sim!r}; use e.g. n_sim=1000.")
    if not _is_number(alpha) or not 0.0 < alpha < 1.0:
        raise SpecificationError(f"alpha must lie strictly between 0 and 1, got {alpha!r}.")
    check_n_jobs(n_jobs)


def _execute(tmpl: _Template, seqs: list[np.random.SeedSequence], n_jobs: int, client, pbar) -> list[dict]:
    """All replicates, serially, in local processes or on a Dask cluster, in chunks (:func:`.replicates.run_chunks`)."""
    return run_chunks(_run_chunk, tmpl, seqs, n_jobs, client, pbar)


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------


def _clopper_pearson(k: int, n: int, level: float = MC_LEVEL) -> tuple[float, float]:
    a = 1.0 - level
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


class PowerSimulation:
    """Result of :func:`power_simulation` (R: the ``powerSim`` object of simr).

    Attributes
    ----------
    power : float
        Share of the completed replicates in which the test rejected at ``alpha``.
    ci_low, ci_high : float
        95% Monte Carlo interval of the power (exact Clopper-Pearson; ``ci_method``).
    power_se : float
        Monte Carlo standard error of the power, ``sqrt(p (1 - p) / n)``.
    bias, bias_se, rmse : float
        Mean and Monte Carlo SE of ``estimate - effect``, and the root mean squared error
        (one-df tests only; NaN for an F-test).
    coverage, coverage_se : float
        Share of the replicates whose ``conf_level`` interval (Satterthwaite) contains the
        true effect, with its Monte Carlo SE.
    mean_df : float
        Mean (denominator) df of the test: Satterthwaite's, between-within, or inf (Wald z).
    method : str
        The test: ``"Satterthwaite"``, ``"Wald"`` or ``"between-within"``.
    n_sim, n_failed, n_singular, n_nonconverged : int
        Replicates simulated; failed fits (left out of every summary, see
        ``replicates.error``); singular fits and fits that did not pass the optimiser's
        checks (both included).
    alpha, test, effect, seed, conf_level
        The settings: ``effect`` is the true value of the tested contrast in raw units
        (a tuple for a multi-df F-test); ``seed`` reproduces the run.
    replicates : DataFrame
        One row per replicate: ``replicate, estimate, se, df, statistic, p, ci_low,
        ci_high, singular, converged, failed, error, n_rows``.
    """

    ci_method = "Clopper-Pearson"

    def __init__(self, replicates: pd.DataFrame, *, alpha: float, test: Any, effect: Any, seed: Any,
                 conf_level: float, method: str = "Satterthwaite"):
        self.method = method
        self.replicates = replicates
        self.alpha, self.test, self.effect, self.seed, self.conf_level = alpha, test, effect, seed, conf_level
        ok = replicates.loc[~replicates["failed"]]
        n = len(ok)
        self.n_sim = len(replicates)
        self.n_failed = self.n_sim - n
        self.n_singular = int(ok["singular"].sum())
        self.n_nonconverged = int((~ok["converged"]).sum())
        k = int((ok["p"] < alpha).sum())
        self.power = k / n if n else math.nan
        self.ci_low, self.ci_high = _clopper_pearson(k, n) if n else (math.nan, math.nan)
        self.power_se = math.sqrt(self.power * (1 - self.power) / n) if n else math.nan
        one_df = np.ndim(effect) == 0
        err = ok["estimate"] - (effect if one_df else np.nan)
        self.bias = float(err.mean()) if n and one_df else math.nan
        self.bias_se = float(err.std(ddof=1) / math.sqrt(n)) if n > 1 and one_df else math.nan
        self.rmse = float(np.sqrt((err**2).mean())) if n and one_df else math.nan
        if n and one_df:
            covered = (ok["ci_low"] <= effect) & (effect <= ok["ci_high"])
            self.coverage = float(covered.mean())
            self.coverage_se = math.sqrt(self.coverage * (1 - self.coverage) / n)
        else:
            self.coverage = self.coverage_se = math.nan
        self.mean_df = float(ok["df"].mean()) if n else math.nan

    @property
    def table(self) -> pd.DataFrame:
        """One row: the settings and every summary."""
        return pd.DataFrame([{
            "test": self.test if isinstance(self.test, str) else str(self.test),
            "effect": self.effect, "alpha": self.alpha, "n_sim": self.n_sim, "power": self.power,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "power_se": self.power_se,
            "bias": self.bias, "bias_se": self.bias_se, "rmse": self.rmse, "coverage": self.coverage,
            "coverage_se": self.coverage_se, "mean_df": self.mean_df, "n_singular": self.n_singular,
            "n_nonconverged": self.n_nonconverged, "n_failed": self.n_failed,
        }])

    def to_frame(self) -> pd.DataFrame:
        """The same as :attr:`table`."""
        return self.table

    def __str__(self) -> str:
        n_ok = self.n_sim - self.n_failed
        effect = f"{self.effect:.4g}" if np.ndim(self.effect) == 0 else str(tuple(round(e, 4) for e in self.effect))
        lines = [
            f"Simulated power for {self.test!r} (true effect {effect}, alpha = {self.alpha:g}): "
            f"{self.power:.3f}, 95% CI [{self.ci_low:.3f}, {self.ci_high:.3f}] ({self.ci_method}), "
            f"from {n_ok} of {self.n_sim} simulated data sets.",
        ]
        if np.ndim(self.effect) == 0:
            lines.append(
                f"Estimate: bias {self.bias:.4f} (MC SE {self.bias_se:.4f}), RMSE {self.rmse:.4f}; "
                f"coverage of the {self.conf_level:.0%} CI {self.coverage:.3f} (MC SE {self.coverage_se:.3f})."
            )
        lines.append(
            f"Mean {self.method} df {self.mean_df:.1f}; singular fits {self.n_singular}, not converged "
            f"{self.n_nonconverged}, failed {self.n_failed}."
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return power_simulation_view(self).text()

    def _repr_html_(self) -> str:
        return power_simulation_view(self).html()


class PowerCurve:
    """Result of :func:`power_curve` (R: simr's ``powerCurve``).

    Attributes
    ----------
    table : DataFrame
        One row per design point with exactly the columns ``along, value, n_sim, power,
        ci_low, ci_high, bias, coverage, mean_df, n_singular, n_failed`` (``along`` the
        varied quantity, ``value`` its value; the interval is Clopper-Pearson, as in
        :class:`PowerSimulation`).
    results : list of PowerSimulation
        The full result per point (replicates included).
    along, alpha, test, effect, seed
        The settings; ``effect`` is the true raw value of the tested contrast.
    """

    def __init__(self, along: str, values: list[int], results: list[PowerSimulation], *, alpha, test,
                 effect, seed):
        self.along, self.results = along, results
        self.alpha, self.test, self.effect, self.seed = alpha, test, effect, seed
        rows = [{"along": along, "value": int(v), "n_sim": r.n_sim, "power": r.power, "ci_low": r.ci_low,
                 "ci_high": r.ci_high, "bias": r.bias, "coverage": r.coverage, "mean_df": r.mean_df,
                 "n_singular": r.n_singular, "n_failed": r.n_failed} for v, r in zip(values, results)]
        self.table = pd.DataFrame(rows, columns=CURVE_COLUMNS)

    def to_frame(self) -> pd.DataFrame:
        """The same as :attr:`table`."""
        return self.table

    def plot(self, **kwargs):
        """The curve with its Monte Carlo intervals; see :func:`lerendtransformeren.report.figures.plot_power_curve`.

        Drawn by the presentation layer (``present("power_curve.plot", ...)``), which loads on
        first use.
        """
        return present("power_curve.plot", self, **kwargs)

    def report(self, at: int, **kwargs) -> str:
        """Sentences on the power at design point ``at``; see :func:`lerendtransformeren.report.text.power_sentence`.

        ``alpha`` is the curve's; pass ``effect`` (d, or raw with ``standardized=False``),
        ``target`` and ``lang`` as there. Written by the presentation layer
        (``present("power_curve.report", ...)``).
        """
        return present("power_curve.report", self, at, **kwargs)

    def __str__(self) -> str:
        head = (f"Power curve for {self.test!r} along {self.along!r} (true effect {self.effect}, "
                f"alpha = {self.alpha:g}; 95% Clopper-Pearson intervals):")
        return head + "\n" + self.table.to_string(index=False, float_format=lambda v: f"{v:.3f}")

    def __repr__(self) -> str:
        return power_curve_view(self).text()

    def _repr_html_(self) -> str:
        return power_curve_view(self).html()


# ---------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------


def simulate(model: Model | Any, design: Design | None = None, *, seed: Any = None) -> pd.DataFrame:
    """One data set simulated from the model on the design (or on the fit's own rows).

    Parameters
    ----------
    model : Model or MultilevelResult
        Stated parameters, or a fit (its estimates are the truth).
    design : Design, optional
        Required for a stated model; without it a fitted model is simulated on its own rows
        (R: ``simulate(m)``).
    seed : int, SeedSequence, Generator or None
        Seeds the random effects, residuals and dropout.

    Returns
    -------
    DataFrame
        The design's rows (the fit's used rows) with the simulated outcome in the formula's
        outcome column; rows of respondents who dropped out are left out (the index keeps
        the template's row numbers).

    Examples
    --------
    R: ``simr::doSim`` on a model made with ``simr::makeLmer``.

    >>> design = Design({"cluster": 10, "person": 5}, treated_share=0.5)
    >>> model = Model("y ~ offer + (1 | cluster)", fixed={"offer": 0.5},
    ...               variances={"cluster": 0.1, "residual": 0.9})
    >>> d = simulate(model, design, seed=1)
    >>> d.shape, list(d.columns)
    ((50, 5), ['cluster', 'person', 'wave', 'offer', 'y'])
    """
    model = _as_model(model)
    tmpl, data, y_name = _template(model, design)
    seq, _ = _seed_sequence(seed)
    with _single_thread():  # as in the replicates, so the numbers are the same to the last bit
        y, keep = _draw(tmpl, np.random.default_rng(seq))
    out = data.copy()
    out[y_name] = y
    return out if keep is None else out.loc[keep]


def power_simulation(
    model: Model | Any,
    design: Design | None = None,
    *,
    test: Any = "offer",
    n_sim: int = 1000,
    alpha: float = 0.05,
    seed: Any = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    client: Any = None,
    conf_level: float = 0.95,
    ddf: str | None = None,
) -> PowerSimulation:
    """Power of the Satterthwaite test of a fixed effect, by simulation (simr's powerSim).

    Each of ``n_sim`` replicates simulates the outcome from the model on the design, refits
    the model by REML with the nested engine and tests ``test`` with Satterthwaite's df, as
    ``lmerTest`` does; see the module notes for the details.

    Parameters
    ----------
    model : Model or MultilevelResult
        The truth: stated parameters, or a fit (``Model.from_fit(result, fixed={...})`` to
        change an effect).
    design : Design, optional
        Required for a stated model; without it a fitted model is simulated on its rows.
    test : str or mapping
        A fixed-effect column (``"offer"``), a formula term with several columns
        (``"C(wave)"``: a joint F-test) or a contrast ``{name: weight}``.
    n_sim : int, default 1000
        Number of replicates.
    alpha : float, default 0.05
        Level of the (two-sided) test.
    seed : int, SeedSequence, Generator or None
        Replicate ``i`` uses child ``i`` of ``SeedSequence(seed).spawn(n_sim)``; the result
        is the same for every ``n_jobs`` and on Dask. ``None`` draws fresh entropy and
        reports it as ``.seed``.
    n_jobs : int, default 1
        Processes (forked on Linux, joblib's loky elsewhere), ``-1`` for all cores; replicates go in chunks.
    progress : bool, optional
        A tqdm progress bar; ``None``: shown in Jupyter/IPython and at a terminal, not
        otherwise. Pass ``False`` in notebooks checked by nbval.
    client : distributed.Client, optional
        Run on this Dask cluster (joblib's ``dask`` backend, all its workers); ``n_jobs`` is
        then ignored. Needs the ``dask`` extra.
    conf_level : float, default 0.95
        Level of the per-replicate intervals whose coverage is reported.
    ddf : str, optional
        The test. Linear models: ``"Satterthwaite"`` (the only one, the default). A
        :class:`Model` with a ``family``: ``"Wald"`` (z, as glmer; default) or
        ``"between-within"`` (t with SAS GLIMMIX's between-within df, see
        :func:`~lerendtransformeren.multilevel.glmm_inference.between_within_df`; for a term
        varying only between few top-level units the Wald z test is liberal).

    Returns
    -------
    PowerSimulation

    Raises
    ------
    SpecificationError
        An invalid design or model, an unknown test or fixed effect, bad ``n_sim``,
        ``alpha`` or ``n_jobs``.

    Warns
    -----
    ConvergenceWarning
        When replicates failed: they are counted in ``n_failed`` and left out of the power.

    Examples
    --------
    R: ``simr::powerSim(makeLmer(y ~ offer + (1 | cluster), fixef = c(0, 0.5), VarCorr =
    0.1, sigma = sqrt(0.9), data = d), test = fixed("offer", "t"), nsim = 20)``; simr's
    ``"t"`` test uses lmerTest's Satterthwaite df too.

    >>> design = Design({"cluster": 20, "person": 10}, treated_share=0.5)
    >>> model = Model("y ~ offer + (1 | cluster)", fixed={"offer": 0.8},
    ...               variances={"cluster": 0.1, "residual": 0.9})
    >>> res = power_simulation(model, design, test="offer", n_sim=20, seed=1, progress=False)
    >>> res.n_sim, res.n_failed, res.ci_method
    (20, 0, 'Clopper-Pearson')
    >>> res.power >= 0.8
    True

    A binary outcome: effects and variances on the log-odds scale, each replicate refitted
    as ``glmer`` would; between-within t tests of a term that varies between clusters (here
    20 clusters less 2 parameters: 18 df):

    >>> binary = Model("y ~ offer + (1 | cluster)", fixed={"Intercept": -0.5, "offer": 1.0},
    ...                variances={"cluster": 0.2}, family="binomial")
    >>> res = power_simulation(binary, design, n_sim=10, seed=1, progress=False, ddf="between-within")
    >>> res.method, res.mean_df, res.n_failed
    ('between-within', 18.0, 0)
    """
    _check_run_args(n_sim, alpha, n_jobs)
    model = _as_model(model)
    tmpl, _, _ = _template(model, design, test, conf_level, ddf)
    seq, reported = _seed_sequence(seed)
    pbar = _progress_bar(progress, n_sim, f"power {test}")
    try:
        result = _simulate_power(tmpl, seq, n_sim, alpha, test, n_jobs, client, pbar, conf_level)
    finally:
        if pbar is not None:
            pbar.close()
    result.seed = reported
    return result


def _simulate_power(tmpl, seq, n_sim, alpha, test, n_jobs, client, pbar, conf_level) -> PowerSimulation:
    records = _execute(tmpl, _children(seq, n_sim), n_jobs, client, pbar)
    reps = pd.DataFrame(records, columns=_REPLICATE_COLUMNS).sort_values("replicate", ignore_index=True)
    effect_vec = tmpl.L @ tmpl.beta
    effect = float(effect_vec[0]) if len(effect_vec) == 1 else tuple(map(float, effect_vec))
    result = PowerSimulation(reps, alpha=float(alpha), test=test, effect=effect, seed=seq,
                             conf_level=conf_level, method=tmpl.ddf)
    if result.n_failed:
        first = reps.loc[reps["failed"], "error"].iloc[0]
        warnings.warn(
            f"{result.n_failed} of {n_sim} replicate fits failed (first: {first}); power, bias and "
            f"coverage are over the {n_sim - result.n_failed} completed fits, see .replicates.error. "
            "Many failures mean the design cannot support the model (too few units or rows left).",
            ConvergenceWarning,
            stacklevel=3,
        )
    return result


def power_curve(
    model: Model | Any,
    design: Design,
    *,
    along: str = "organisation",
    values: Sequence[int] = (6, 9, 15, 24),
    test: Any = "offer",
    n_sim: int = 1000,
    alpha: float = 0.05,
    seed: Any = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    client: Any = None,
    conf_level: float = 0.95,
    ddf: str | None = None,
) -> PowerCurve:
    """Power along the number of units at one level, or of waves (simr's powerCurve).

    Parameters
    ----------
    model : Model or MultilevelResult
        The truth (a fit's parameters are carried to each design, as simr's ``extend``).
    design : Design
        The design to vary.
    along : str
        A level of the design (``"organisation"``: the number of top-level units;
        ``"team"``, ``"professional"``: units per parent unit) or ``"waves"``.
    values : sequence of int
        The values of ``along``, each a valid design (all are checked before simulating).
    test, n_sim, alpha, n_jobs, progress, client, conf_level, ddf
        As :func:`power_simulation`, per point.
    seed : int, SeedSequence, Generator or None
        Point ``k`` uses child ``k`` of ``SeedSequence(seed).spawn(len(values))`` as its
        seed, so the points are independent and each reproducible on its own.

    Returns
    -------
    PowerCurve
        ``.table`` with the columns ``along, value, n_sim, power, ci_low, ci_high, bias,
        coverage, mean_df, n_singular, n_failed``.

    Examples
    --------
    R: ``simr::powerCurve(extend(m, along = "cluster", n = 24), along = "cluster",
    breaks = c(6, 24), nsim = 10)``.

    >>> design = Design({"cluster": 6, "person": 10}, treated_share=0.5)
    >>> model = Model("y ~ offer + (1 | cluster)", fixed={"offer": 1.0},
    ...               variances={"cluster": 0.1, "residual": 0.9})
    >>> curve = power_curve(model, design, along="cluster", values=[6, 24], n_sim=10,
    ...                     seed=1, progress=False)
    >>> list(curve.table.columns)
    ['along', 'value', 'n_sim', 'power', 'ci_low', 'ci_high', 'bias', 'coverage', 'mean_df', 'n_singular', 'n_failed']
    >>> curve.table[["along", "value", "n_sim", "n_failed"]]
         along  value  n_sim  n_failed
    0  cluster      6     10         0
    1  cluster     24     10         0
    """
    _check_run_args(n_sim, alpha, n_jobs)
    model = _as_model(model)
    if not isinstance(design, Design):
        raise SpecificationError(f"power_curve needs a Design to vary, got {type(design).__name__}.")
    if along != "waves" and along not in design.levels:
        raise SpecificationError(
            f"along={along!r} is neither a level of the design ({list(design.levels)}) nor 'waves'."
        )
    values = list(values)
    if not values or not all(_is_int(v) for v in values):
        raise SpecificationError(f"values must be a non-empty sequence of whole numbers, got {values!r}.")
    templates = []
    for v in values:
        point = (replace(design, waves=int(v)) if along == "waves"
                 else replace(design, levels={**design.levels, along: int(v)}))
        templates.append(_template(model, point, test, conf_level, ddf)[0])
    seq, reported = _seed_sequence(seed)
    pbar = _progress_bar(progress, n_sim * len(values), f"power curve {along}")
    results = []
    try:
        for tmpl, child in zip(templates, _children(seq, len(values))):
            results.append(_simulate_power(tmpl, child, n_sim, alpha, test, n_jobs, client, pbar, conf_level))
    finally:
        if pbar is not None:
            pbar.close()
    return PowerCurve(along, values, results, alpha=float(alpha), test=test, effect=results[0].effect,
                      seed=reported)
