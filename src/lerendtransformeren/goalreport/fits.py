"""The models a goal report fits: specs as values, fitted once, optionally in parallel.

A spec is a frozen, hashable dataclass: :class:`LmmSpec` (a linear multilevel model),
:class:`GeeSpec` (a GEE for a yes/no or count outcome), :class:`ReliabilitySpec`
(alpha and omega of an instrument at the first wave) and :class:`ImputeSpec` (multiple
imputation of a scale score, the pooled outcome model fitted on every imputed data set and
pooled). :func:`fit_spec` computes one spec from the rows it needs; :class:`FitCache`
keeps the results per loaded study, so a run over five goals fits every distinct model
once; :meth:`FitCache.fitting` fits the missing ones in worker processes while the caller
goes on (:meth:`FitCache.get` waits for the one it asks for), :meth:`FitCache.prefit` fits
them all up front. Every fit runs on one BLAS thread, so it gives the same numbers in this
process and in a worker. Nothing here is a module global.

Fits made in a worker come back as plain summaries (:class:`ModelSummary`), which hold
everything the reports show of a model, computed by the statistics layer.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lerendtransformeren import scales
from lerendtransformeren.exceptions import LerendTransformerenError, SingularFitWarning
from lerendtransformeren.goalreport.imputed import impute_and_pool
from lerendtransformeren.study.data import StudyData

__all__ = [
    "N_BOOT",
    "LmmSpec",
    "GeeSpec",
    "GlmmSpec",
    "ReliabilitySpec",
    "ImputeSpec",
    "Spec",
    "ModelSummary",
    "Fitted",
    "fit_spec",
    "FitCache",
]

#: Bootstrap resamples of the omega intervals (500 keeps a run over five goals fast; the
#: percentile interval moves by about .005 between seeds).
N_BOOT = 500


@dataclass(frozen=True)
class LmmSpec:
    """A linear multilevel model of one outcome.

    Attributes
    ----------
    respondent : str
        Whose file the rows come from (``"family"`` or ``"professional"``).
    outcome : str
    formula : str
    goal : int or None
        Only this goal's rows (None: every goal).
    anova : bool
        Also compute type III F tests (moderation models).
    """

    respondent: str
    outcome: str
    formula: str
    goal: int | None = None
    anova: bool = False


@dataclass(frozen=True)
class GeeSpec:
    """A GEE of a yes/no or count outcome with organisations as clusters (Mancl-DeRouen)."""

    respondent: str
    outcome: str
    formula: str
    family: str


@dataclass(frozen=True)
class GlmmSpec:
    """A cluster-specific GLMM of a yes/no or count outcome (beside the GEE)."""

    respondent: str
    outcome: str
    formula: str
    family: str


@dataclass(frozen=True)
class ReliabilitySpec:
    """Alpha and omega (bootstrap CI) of an instrument at one goal's first wave."""

    respondent: str
    instrument: str
    goal: int
    seed: int


@dataclass(frozen=True)
class ImputeSpec:
    """Multiple imputation of a scale score, then the pooled outcome model on every
    completed data set, pooled by Rubin's rules (``report --impute M``).

    Attributes
    ----------
    respondent : str
        Whose file the rows come from; its id column is the unit whose missed waves are added.
    outcome : str
        The scale score imputed.
    formula : str
        The analysis model (the pooled outcome model of the outcome).
    levels : tuple of str
        The respondent's levels of nesting, outermost first.
    predictors : str
        Right-hand side of the imputation model: the analysis model's fixed part and the
        auxiliary variables.
    m : int
        Imputed data sets.
    seed : int
    burn, between, chains : int or None
        Sampler settings; None: :func:`~lerendtransformeren.multilevel.impute`'s defaults.
    n_jobs : int
        Worker processes for the chains; not part of the spec's identity (the numbers are
        the same for any value). In a worker of :meth:`FitCache.prefit` the chains run serially.
    """

    respondent: str
    outcome: str
    formula: str
    levels: tuple[str, ...]
    predictors: str
    m: int
    seed: int
    burn: int | None = None
    between: int | None = None
    chains: int | None = None
    n_jobs: int = field(default=1, compare=False)

    def sampler(self) -> dict:
        """The sampler settings the spec names (the others are ``impute``'s defaults)."""
        named = {"burn": self.burn, "between": self.between, "chains": self.chains}
        return {k: v for k, v in named.items() if v is not None}


Spec = LmmSpec | GeeSpec | GlmmSpec | ReliabilitySpec | ImputeSpec


@dataclass
class ModelSummary:
    """What the reports use of a fitted multilevel model; plain frames, so that fits made
    in a worker process can be sent back.

    Attributes
    ----------
    formula : str
    fixed, variance : pandas.DataFrame
        ``result.fixed`` and ``result.variance``, unchanged.
    contrasts : dict
        Goal -> ``result.contrast(...)`` of the goal's offer term (key None: the plain
        ``offer`` term of a one-goal model); the offer effect with Satterthwaite df.
    standardised : dict
        Goal -> one row of :func:`multilevel.standardized_effect` (total SD) of that term.
    organisations : pandas.DataFrame or None
        Conditional modes of the organisations with 95% intervals
        (:meth:`MultilevelResult.ranef_intervals`).
    levels : list of (name, units)
        Grouping levels, top down.
    n_obs : int
        Rows used.
    ddf : str
        The df method of the t tests.
    anova : pandas.DataFrame or None
        ``result.anova()`` (type III F tests), for moderation models.
    """

    formula: str
    fixed: pd.DataFrame
    variance: pd.DataFrame
    contrasts: dict
    standardised: dict
    organisations: pd.DataFrame | None
    levels: list
    n_obs: int
    ddf: str = "Satterthwaite"
    anova: pd.DataFrame | None = None

    def offer_term(self, goal: int) -> str | None:
        """The fixed-effect name of the goal's offer effect."""
        c = self.contrast(goal)
        return None if c is None else str(c.index[0])

    def contrast(self, goal: int) -> pd.DataFrame | None:
        """The goal's offer effect (estimate, se, df, t, p, ci_low, ci_high)."""
        return self.contrasts.get(goal, self.contrasts.get(None))

    def slope_variance(self, level: str = "organisation", term: str = "offer") -> float | None:
        """The variance of a random slope, or None when the model has none."""
        key = (level, term)
        return float(self.variance.loc[key, "variance"]) if key in self.variance.index else None


@dataclass
class Fitted:
    """A spec's result (None when it could not be computed), and what happened on the way."""

    result: object | None
    singular: bool = False
    error: str = ""


_OFFER_PREFIX, _OFFER_SUFFIX = "C(goal)[", "]:offer"


def _offer_terms(names: Iterable[str]) -> dict:
    terms = {}
    for name in names:
        if name.startswith(_OFFER_PREFIX) and name.endswith(_OFFER_SUFFIX):
            terms[int(name[len(_OFFER_PREFIX):-len(_OFFER_SUFFIX)])] = name
    if "offer" in names:
        terms[None] = "offer"
    return terms


def _organisation_intervals(res) -> pd.DataFrame | None:
    try:
        return res.ranef_intervals("organisation")
    except (LerendTransformerenError, KeyError):
        return None


def summarise(res, want_anova: bool = False) -> ModelSummary:
    """A :class:`ModelSummary` of a fitted :class:`~lerendtransformeren.multilevel.MultilevelResult`."""
    from lerendtransformeren.multilevel import standardized_effect

    terms = _offer_terms(list(res.frame.x_names))
    contrasts = {g: res.contrast({t: 1.0}, names=[t]) for g, t in terms.items()}
    effects = standardized_effect(res, list(terms.values())) if terms else None  # one total SD for all
    standardised = {g: effects.loc[t] for g, t in terms.items()}
    return ModelSummary(
        formula=res.formula,
        fixed=res.fixed.copy(),
        variance=res.variance.copy(),
        contrasts=contrasts,
        standardised=standardised,
        organisations=_organisation_intervals(res),
        levels=[(lev.name, int(lev.n_units)) for lev in reversed(res.frame.levels)],
        n_obs=int(res.engine.n),
        ddf=getattr(res, "ddf", "Satterthwaite"),
        anova=res.anova() if want_anova else None,
    )


def rows_for(study: StudyData, spec: Spec) -> pd.DataFrame:
    """The rows (and only the columns) a spec needs: what a worker process is sent."""
    data = study.frame(spec.respondent)
    if isinstance(spec, ReliabilitySpec):
        items = list(scales.get(spec.instrument).items)
        base = data.loc[(data["goal"] == spec.goal) & (data["wave"] == data["wave"].min())]
        return base[[c for c in items if c in base.columns]]
    if isinstance(spec, LmmSpec) and spec.goal is not None:
        data = data.loc[data["goal"] == spec.goal]
    used = set(re.findall(r"[A-Za-z_]\w*", spec.formula)) | {"organisation"}
    if isinstance(spec, ImputeSpec):  # every row: the missing scores are what it imputes
        used |= set(re.findall(r"[A-Za-z_]\w*", spec.predictors)) | {*spec.levels, spec.respondent, "wave"}
        return data[[c for c in data.columns if c in used]]
    return data.loc[data[spec.outcome].notna(), [c for c in data.columns if c in used]]


def fit_spec(spec: Spec, data: pd.DataFrame) -> Fitted:
    """Fit one spec on its rows (see :func:`rows_for`); errors become ``Fitted.error``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = _compute(spec, data)
            error = ""
        except (LerendTransformerenError, np.linalg.LinAlgError, ValueError, KeyError) as exc:
            result, error = None, type(exc).__name__
    singular = any(issubclass(w.category, SingularFitWarning) for w in caught)
    return Fitted(result, singular, error)


def _one_blas_thread():
    """One BLAS thread (a context manager; also in force from the moment it is made).

    The fits are small: one thread is faster than two that wait on each other, two worker
    processes then use two cores without oversubscribing them, and a fit gives the same
    numbers in this process and in a worker.
    """
    from lerendtransformeren.multilevel.replicates import single_thread

    return single_thread()


def _start_worker() -> None:
    """Start of a worker process: one BLAS thread for the rest of its life."""
    _one_blas_thread()


def _compute(spec: Spec, data: pd.DataFrame):
    if isinstance(spec, LmmSpec):
        from lerendtransformeren.multilevel import fit

        return summarise(fit(spec.formula, data), spec.anova)
    if isinstance(spec, GlmmSpec):
        from lerendtransformeren.multilevel import fit

        return glmm_table(fit(spec.formula, data, family=spec.family))
    if isinstance(spec, ImputeSpec):
        return impute_and_pool(
            data, outcome=spec.outcome, formula=spec.formula, levels=spec.levels, unit=spec.respondent,
            predictors=spec.predictors, m=spec.m, seed=spec.seed, n_jobs=spec.n_jobs, sampler=spec.sampler())
    if isinstance(spec, GeeSpec):
        from lerendtransformeren.multilevel.gee import fit_gee

        return fit_gee(spec.formula, data, cluster="organisation", family=spec.family,
                       small_sample="md", df="between")
    return scales.reliability(data, spec.instrument, seed=spec.seed, n_boot=N_BOOT)


def glmm_table(result) -> pd.DataFrame:
    """A GLMM's fixed effects with their ratios (exp of estimate and Wald CI): small to
    send between processes, all a report needs."""
    table = result.fixed.copy()
    ratios = result.ratios()
    table["exp_estimate"] = ratios["ratio"]
    table["exp_ci_low"], table["exp_ci_high"] = ratios["ci_low"], ratios["ci_high"]
    return table


def _worker_fit(spec: Spec, data: pd.DataFrame) -> Fitted:
    """:func:`fit_spec` in a worker process, which runs an imputation's chains serially
    (the numbers do not change)."""
    return fit_spec(replace(spec, n_jobs=1) if isinstance(spec, ImputeSpec) else spec, data)


@dataclass
class FitCache:
    """Fitted specs of one loaded study (kept in ``study.cache`` so reports share them).

    A spec that worker processes are fitting (:meth:`fitting`) is in ``pending`` until
    :meth:`get` collects it.
    """

    study: StudyData
    results: dict = field(default_factory=dict)
    pending: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, study: StudyData) -> FitCache:
        """The study's cache (made on first use)."""
        if "fits" not in study.cache:
            study.cache["fits"] = cls(study)
        return study.cache["fits"]

    def get(self, spec: Spec) -> Fitted:
        """The fitted spec: cached, waited for from a worker, or fitted now."""
        if spec not in self.results:
            if spec in self.pending:
                self.results[spec] = self.pending.pop(spec).get()
            else:
                with _one_blas_thread():
                    self.results[spec] = fit_spec(spec, rows_for(self.study, spec))
        return self.results[spec]

    def prefit(self, specs: Iterable[Spec], jobs: int = 2) -> int:
        """Fit every spec not yet cached, in ``jobs`` worker processes; return how many.

        Results are the same as fitting one by one (each fit is deterministic). Each
        worker is sent only the rows and columns its spec needs. With ``jobs=1`` (or
        where fork is not available) the fits run in this process.
        """
        with self.fitting(specs, jobs) as todo:
            for spec in todo:
                self.get(spec)
        return len(todo)

    @contextmanager
    def fitting(self, specs: Iterable[Spec], jobs: int = 2) -> Iterator[list]:
        """Fit the specs not yet cached in ``jobs`` worker processes while the caller goes on.

        The specs are handed out in the order given (put the ones needed first first);
        inside the block :meth:`get` waits for the spec it asks for only. Yields the specs
        that were not cached. On leaving the block the workers are stopped; a spec not
        collected by then is fitted again if it is asked for later. With ``jobs=1``, one
        spec, or where forking is not safe (``replicates.fork_available``: Linux, Python
        below 3.12), nothing starts: :meth:`get` fits in this process.
        """
        todo = [s for s in dict.fromkeys(specs) if s not in self.results]
        import multiprocessing as mp

        from lerendtransformeren.multilevel.replicates import fork_available

        if jobs <= 1 or len(todo) <= 1 or not fork_available():  # the package's one fork policy
            yield todo
            return
        pool = mp.get_context("fork").Pool(min(jobs, len(todo)), initializer=_start_worker)
        try:
            for spec in todo:
                self.pending[spec] = pool.apply_async(_worker_fit, (spec, rows_for(self.study, spec)))
            yield todo
        finally:
            for spec in todo:
                self.pending.pop(spec, None)
            pool.terminate()
            pool.join()
