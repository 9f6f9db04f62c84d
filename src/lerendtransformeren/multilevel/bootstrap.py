"""Parametric-bootstrap confidence intervals for the ICC and R2 of a nested linear mixed model.

The ICC per level and Nakagawa's R2 (:mod:`~lerendtransformeren.multilevel.components`)
are functions of the variance components, whose sampling distribution is skewed and
bounded at 0, the more so with few units at the top level (15 organisations). A
parametric bootstrap gives them percentile intervals without a normal approximation:

1. simulate ``n_boot`` outcomes from the fitted model on its own rows: the fixed part
   ``X beta``, random effects of every level drawn from the estimated covariance
   (coarsest level first), and a normal residual with the estimated ``sigma``;
2. refit each with the nested engine (:class:`~lerendtransformeren.multilevel.engine.NestedEngine`,
   REML or ML as the fit), starting from the fitted theta;
3. compute the same statistics as ``result.icc["icc"]`` (the cumulative ICC per level,
   coarsest first) and ``result.r2`` (marginal, conditional) from every refit, with the
   same functions;
4. report the percentiles ``(1 - conf_level) / 2`` and ``(1 + conf_level) / 2`` of the
   bootstrap values (linear interpolation, R's ``quantile`` type 7).

Refits that fail (an error of the optimiser or of the linear algebra, a statistic that is
not finite) are counted, named in :attr:`IccR2Bootstrap.notes` and left out of the
intervals. Singular refits (a variance estimated at 0) and refits that do not pass the
engine's convergence checks are counted and named in the notes too, and kept: an ICC of 0
at a level is one of the values the estimator takes, and leaving those samples out would
push the lower bound up.

Reproducibility and speed come from :mod:`~lerendtransformeren.multilevel.replicates`, the
machinery of the power simulation: sample ``i`` uses child ``i`` of
``numpy.random.SeedSequence(seed)``, one BLAS thread per chunk, so the intervals are
identical for every ``n_jobs`` and on a Dask cluster.

Coverage (``benchmarks/bench_icc_bootstrap.py``: ``y ~ wave + (1 | org/team)``, 4 teams of
6 waves per organisation, ICC .15 at the organisation and .30 cumulated at the team level,
95% intervals from 400 resp. 300 samples, Clopper-Pearson intervals of the coverage):

======================  ====================  ====================
statistic               15 organisations      40 organisations
                        (200 studies)         (150 studies)
======================  ====================  ====================
ICC organisation        .910 [.861, .946]     .907 [.848, .948]
ICC team (cumulative)   .885 [.832, .926]     .953 [.906, .981]
R2 marginal             .975 [.943, .992]     .927 [.873, .963]
R2 conditional          .900 [.850, .938]     .947 [.898, .977]
======================  ====================  ====================

With few top-level units the percentile intervals of the ICC are somewhat too narrow
(the estimator is skewed and biased towards 0 and a percentile interval carries that
over): read a 95% interval at 15 organisations as roughly a 90% one.

R equivalent: ``lme4::bootMer(m, FUN, nsim = n_boot, type = "parametric", use.u = FALSE)``
with ``FUN`` computing the ICC and R2, then ``quantile(t, c(.025, .975))`` per statistic;
``performance::icc(m, ci = 0.95, iterations = n_boot)`` does this for the adjusted ICC
(the finest level's cumulative ICC here). See ``tests/reference/bootstrap/``: the reference
fits every simulated response afresh with ``lmer``, because ``bootMer`` refits with
``lme4::refit()``, which in lme4 1.1.31 changes the REML criterion of a model with more
than one fixed effect (even for the same response) and moves every REML refit a little
(the team-level ICC of the reference case by about +0.0015).

References
----------
Davison, A. C., & Hinkley, D. V. (1997). *Bootstrap methods and their application*.
Cambridge University Press.

Nakagawa, S., Johnson, P. C. D., & Schielzeth, H. (2017). The coefficient of determination
R2 and intra-class correlation coefficient from generalized linear mixed-effects models
revisited and expanded. *Journal of the Royal Society Interface*, 14(134), 20170213.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import ConvergenceError, ConvergenceWarning, SpecificationError
from lerendtransformeren.multilevel import components
from lerendtransformeren.multilevel.engine import SINGULAR_TOL, NestedEngine
from lerendtransformeren.multilevel.frame import Level, RandomBlock
from lerendtransformeren.multilevel.replicates import (
    check_n_jobs,
    children,
    progress_bar,
    run_chunks,
    seed_sequence,
    single_thread,
)

__all__ = ["bootstrap_icc_r2", "IccR2Bootstrap", "icc_r2_statistics"]

#: Columns of ``IccR2Bootstrap.table``.
TABLE_COLUMNS = ["estimate", "boot_mean", "boot_se", "ci_low", "ci_high", "n_used"]


def icc_r2_statistics(result) -> pd.Series:
    """The statistics the bootstrap resamples: cumulative ICC per level and R2.

    Parameters
    ----------
    result : MultilevelResult
        Or any object with the attributes :mod:`.components` reads (``frame.levels``,
        ``frame.X``, ``engine``, ``theta``, ``beta``, ``sigma``).

    Returns
    -------
    Series
        Index (statistic, component): ``("icc", level)`` for every level from the coarsest
        to the finest (``result.icc["icc"]``), then ``("r2", "marginal")`` and
        ``("r2", "conditional")`` (``result.r2``).

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> icc_r2_statistics(fit("y ~ wave + (1 | org/team)", nested_example())).round(3)
    statistic  component
    icc        org            0.153
               org:team       0.335
    r2         marginal       0.078
               conditional    0.387
    dtype: float64
    """
    names = [lev.name for lev in result.frame.levels[::-1]]
    keys = [("icc", str(k)) for k in names] + [("r2", "marginal"), ("r2", "conditional")]
    index = pd.MultiIndex.from_tuples(keys, names=["statistic", "component"])
    return pd.Series(_statistic_values(result), index=index)


def _statistic_values(result) -> np.ndarray:
    """The values of :func:`icc_r2_statistics`, without pandas (one per bootstrap sample).

    The formulas of ``components.icc`` (adjusted: shares of the random and residual
    variance, cumulated from the top level down) and ``components.r2``.
    """
    v_fixed, levels, v_residual = components.variance_values(result)
    random = levels.sum() + v_residual
    total = v_fixed + random
    return np.r_[np.cumsum(levels) / random, v_fixed / total, (v_fixed + levels.sum()) / total]


def column_name(key: tuple[str, str]) -> str:
    """The column of ``IccR2Bootstrap.replicates`` of a statistic: ``"icc org:team"``, ``"r2 marginal"``."""
    return f"{key[0]} {key[1]}"


# -- one bootstrap sample --------------------------------------------------------------------
@dataclass
class _Setup:
    """What a bootstrap sample needs (picklable arrays only, no patsy objects)."""

    X: np.ndarray
    levels: list[Level]  # finest first, as the engine
    Z: list[np.ndarray]  # per level, its random columns (n, q)
    factors: list[np.ndarray]  # per level, sigma * Lambda: a Cholesky factor of the covariance
    beta: np.ndarray
    sigma: float
    theta: np.ndarray  # the fitted theta: the optimiser's start
    reml: bool
    n_statistics: int


def _light(levels: list[Level]) -> list[Level]:
    return [Level(lev.name, lev.factors, lev.codes, lev.labels,
                  [RandomBlock(b.group, b.expr, b.names, b.Z) for b in lev.blocks]) for lev in levels]


def _setup(result) -> _Setup:
    levels = _light(result.frame.levels)
    return _Setup(
        X=result.frame.X, levels=levels, Z=[np.hstack([b.Z for b in lev.blocks]) for lev in levels],
        factors=[result.sigma * lam for lam in result.engine.lambdas(result.theta)],
        beta=np.asarray(result.beta, float), sigma=float(result.sigma), theta=np.asarray(result.theta, float),
        reml=bool(result.reml), n_statistics=len(icc_r2_statistics(result)),
    )


def draw(setup: _Setup, rng: np.random.Generator) -> np.ndarray:
    """One outcome from the fitted model (lme4's ``simulate(m, use.u = FALSE)``).

    Draw order (fixed, so that a seed always gives the same outcome): the random effects
    of each level from the coarsest down, then the residuals.
    """
    y = setup.X @ setup.beta
    for lev, Z, F in zip(setup.levels[::-1], setup.Z[::-1], setup.factors[::-1]):
        b = rng.standard_normal((lev.n_units, F.shape[0])) @ F.T
        y = y + np.einsum("ij,ij->i", Z, b[lev.codes])
    return y + setup.sigma * rng.standard_normal(len(y))


def _refit_statistics(setup: _Setup, y: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """Refit ``y`` and return (statistics, singular, converged)."""
    engine = NestedEngine(y, setup.X, setup.levels, reml=setup.reml)
    opt = engine.optimize(start=setup.theta)
    ev = engine.evaluate(opt.theta)
    refit = SimpleNamespace(frame=SimpleNamespace(levels=setup.levels, X=setup.X), engine=engine,
                            theta=opt.theta, beta=ev.beta, sigma=engine.sigma(ev))
    values = _statistic_values(refit)
    if not np.all(np.isfinite(values)):
        raise ArithmeticError("a statistic of the refit is not finite")
    singular = bool(np.any(opt.theta[np.isfinite(engine.lower)] < SINGULAR_TOL))
    return values, singular, bool(opt.converged)


def _sample(setup: _Setup, index: int, seq: np.random.SeedSequence) -> dict:
    y = draw(setup, np.random.default_rng(seq))
    try:
        values, singular, converged = _refit_statistics(setup, y)
        return {"replicate": index, "values": values, "singular": singular, "converged": converged,
                "failed": False, "error": ""}
    except (np.linalg.LinAlgError, ValueError, ArithmeticError, ConvergenceError) as exc:
        return {"replicate": index, "values": np.full(setup.n_statistics, np.nan), "singular": False,
                "converged": False, "failed": True, "error": f"{type(exc).__name__}: {exc}"}


def _run_samples(setup: _Setup, indices: Sequence[int], seqs: Sequence[np.random.SeedSequence]) -> list[dict]:
    """Samples ``indices`` with their streams; one BLAS thread, warnings counted instead of shown."""
    with single_thread(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return [_sample(setup, i, s) for i, s in zip(indices, seqs)]


# -- the result ------------------------------------------------------------------------------
class IccR2Bootstrap:
    """Parametric-bootstrap percentile intervals of the ICC per level and of R2.

    Made by :func:`bootstrap_icc_r2` (``MultilevelResult.icc_r2_ci``).

    Attributes
    ----------
    table : DataFrame
        Index (statistic, component) as :func:`icc_r2_statistics`; columns ``estimate``
        (of the fitted model), ``boot_mean`` and ``boot_se`` (mean and standard deviation
        of the bootstrap values), ``ci_low``, ``ci_high`` (percentile interval) and
        ``n_used`` (samples behind the interval).
    replicates : DataFrame
        One row per bootstrap sample: the statistics (columns ``"icc <level>"``,
        ``"r2 marginal"``, ``"r2 conditional"``; NaN for a failed refit) and ``singular``,
        ``converged``, ``failed``, ``error``.
    conf_level : float
    n_boot, n_failed, n_singular, n_not_converged : int
    seed : int, SeedSequence or None
        The seed to pass to reproduce the intervals.
    notes : list of str
        What the intervals rest on: failed refits (left out), singular and unconverged
        refits (kept), a singular fitted model.
    """

    def __init__(self, estimates: pd.Series, replicates: pd.DataFrame, *, conf_level: float, seed: Any,
                 formula: str, reml: bool, singular_fit: bool):
        self.replicates = replicates
        self.conf_level = float(conf_level)
        self.seed = seed
        self.formula = formula
        self.reml = reml
        self.n_boot = len(replicates)
        self.n_failed = int(replicates["failed"].sum())
        self.n_singular = int(replicates["singular"].sum())
        self.n_not_converged = int((~replicates["converged"] & ~replicates["failed"]).sum())
        self._singular_fit = singular_fit
        values = replicates[[column_name(k) for k in estimates.index]]
        used = values[~replicates["failed"].to_numpy()]
        tail = (1.0 - self.conf_level) / 2
        if len(used) >= 2:
            q = np.quantile(used.to_numpy(), [tail, 1.0 - tail], axis=0)
            low, high = q[0], q[1]
            mean, sd = used.mean().to_numpy(), used.std(ddof=1).to_numpy()
        else:
            low = high = mean = sd = np.full(len(estimates), np.nan)
        self.table = pd.DataFrame({"estimate": estimates.to_numpy(), "boot_mean": mean, "boot_se": sd,
                                   "ci_low": low, "ci_high": high, "n_used": len(used)},
                                  index=estimates.index)

    @property
    def icc(self) -> pd.DataFrame:
        """Cumulative ICC per level (coarsest first): ``estimate``, ``ci_low``, ``ci_high``."""
        out = self.table.loc["icc", ["estimate", "ci_low", "ci_high"]]
        out.index.name = None
        return out

    @property
    def r2(self) -> pd.DataFrame:
        """Marginal and conditional R2: ``estimate``, ``ci_low``, ``ci_high``."""
        out = self.table.loc["r2", ["estimate", "ci_low", "ci_high"]]
        out.index.name = None
        return out

    @property
    def notes(self) -> list[str]:
        """Failed, singular and unconverged refits, in words (empty when there were none)."""
        notes = []
        n = self.n_boot
        if self.n_failed:
            first = self.replicates.loc[self.replicates["failed"], "error"].iloc[0]
            notes.append(f"{self.n_failed} of {n} refits failed (first: {first}); they are left out, the "
                         f"intervals rest on {n - self.n_failed} samples.")
        if self.n_singular:
            notes.append(f"{self.n_singular} of {n} refits were singular (a variance estimated at 0); they are "
                         "kept, an ICC of 0 at a level being one of the values the estimator takes.")
        if self.n_not_converged:
            notes.append(f"{self.n_not_converged} of {n} refits did not pass the convergence checks; they "
                         "are kept.")
        if self._singular_fit:
            notes.append("The fitted model is singular: no random effects are drawn for a variance estimated "
                         "at 0, so the interval of that level's ICC share sits at or near 0.")
        return notes

    def summary(self) -> str:
        """Plain text: the table, the number of samples, the seed and the notes."""
        lines = [
            f"Parametric bootstrap of ICC and R2: {self.n_boot} samples ({'REML' if self.reml else 'ML'} refits), "
            f"{self.conf_level:.0%} percentile intervals; seed {self.seed}",
            f"Formula: {self.formula}",
            "",
            self.table.to_string(float_format=lambda v: f"{v:.4f}"),
        ]
        lines += [""] + [f"Note: {t}" for t in self.notes] if self.notes else []
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<IccR2Bootstrap {self.formula!r}, {self.n_boot} samples, {self.n_failed} failed, "
                f"{self.n_singular} singular>")

    def _repr_html_(self) -> str:
        notes = "".join(f"<p>{html.escape(t)}</p>" for t in self.notes)
        return (f"<div><p>{html.escape(self.summary().splitlines()[0])}</p>"
                f"{self.table.to_html(float_format=lambda v: f'{v:.4f}')}{notes}</div>")


def bootstrap_icc_r2(
    result,
    n_boot: int = 1000,
    *,
    seed: Any = None,
    n_jobs: int = 1,
    conf_level: float | None = None,
    progress: bool | None = None,
    client: Any = None,
) -> IccR2Bootstrap:
    """Parametric-bootstrap percentile intervals of the cumulative ICC per level and of R2.

    See the module notes for the method. The statistics are those of
    :func:`icc_r2_statistics`: ``result.icc["icc"]`` per level (the adjusted ICC of
    ``performance::icc`` at the finest level) and ``result.r2``.

    Parameters
    ----------
    result : MultilevelResult
        A linear mixed model fitted with :func:`~lerendtransformeren.multilevel.fit`.
    n_boot : int, default 1000
        Bootstrap samples. The Monte Carlo error of a 95% percentile bound is roughly
        ``sqrt(0.025 * 0.975 / n_boot) / f`` with ``f`` the density of the bootstrap
        distribution there: use 1000 or more for a report.
    seed : int, SeedSequence, Generator or None
        Sample ``i`` uses child ``i`` of ``SeedSequence(seed)``; the same seed gives the
        same intervals for every ``n_jobs``. ``None`` draws fresh entropy, kept in ``.seed``.
    n_jobs : int, default 1
        Processes (forked on Linux, joblib's loky elsewhere), ``-1`` for all cores.
    conf_level : float, optional
        Level of the intervals; default the fit's ``conf_level``.
    progress : bool, optional
        A tqdm bar on stderr; ``None``: shown in Jupyter/IPython and at a terminal. Pass
        ``False`` in notebooks checked by nbval.
    client : distributed.Client, optional
        Run on this Dask cluster; ``n_jobs`` is then ignored.

    Returns
    -------
    IccR2Bootstrap

    Raises
    ------
    SpecificationError
        Not a linear mixed model, ``n_boot`` not a whole number >= 1, a ``conf_level``
        outside (0, 1), a bad ``n_jobs`` or ``seed``.

    Notes
    -----
    R equivalent: ``lme4::bootMer(m, FUN, nsim = n_boot, type = "parametric", use.u =
    FALSE)`` and percentiles; ``performance::icc(m, ci = 0.95, iterations = n_boot)`` for
    the finest level's ICC.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> boot = bootstrap_icc_r2(m, n_boot=200, seed=1, progress=False)
    >>> boot.icc.round(2)
              estimate  ci_low  ci_high
    org           0.15    0.00     0.32
    org:team      0.33    0.17     0.50
    >>> boot.n_failed, boot.n_singular
    (0, 9)
    """
    _check_result(result)
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise SpecificationError(f"n_boot must be a whole number >= 1, got {n_boot!r}; use e.g. n_boot=1000.")
    level = result.conf_level if conf_level is None else conf_level
    if not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise SpecificationError(f"conf_level must lie strictly between 0 and 1, got {level!r}.")
    check_n_jobs(n_jobs)
    seq, reported = seed_sequence(seed)
    estimates = icc_r2_statistics(result)
    setup = _setup(result)
    pbar = progress_bar(progress, int(n_boot), "bootstrap ICC/R2", unit="refit")
    try:
        records = run_chunks(_run_samples, setup, children(seq, int(n_boot)), n_jobs, client, pbar)
    finally:
        if pbar is not None:
            pbar.close()
    records.sort(key=lambda r: r["replicate"])
    values = pd.DataFrame(np.vstack([r["values"] for r in records]),
                          columns=[column_name(k) for k in estimates.index])
    flags = pd.DataFrame([{k: r[k] for k in ("singular", "converged", "failed", "error")} for r in records])
    replicates = pd.concat([values, flags], axis=1)
    replicates.index.name = "replicate"
    out = IccR2Bootstrap(estimates, replicates, conf_level=level, seed=reported, formula=result.formula,
                         reml=result.reml, singular_fit=bool(result.singular))
    if out.n_failed:
        warnings.warn(out.notes[0] + " See .replicates.error.", ConvergenceWarning, stacklevel=2)
    return out


def _check_result(result) -> None:
    """A SpecificationError unless ``result`` is a linear mixed model of the nested engine."""
    needed = ("frame", "engine", "theta", "beta", "sigma", "reml", "conf_level")
    if not all(hasattr(result, a) for a in needed) or getattr(result, "family", None) is not None:
        raise SpecificationError(
            f"bootstrap_icc_r2 needs a linear mixed model from lerendtransformeren.multilevel.fit, got "
            f"{type(result).__name__}. For a GLMM (family='binomial' or 'poisson') ICC and R2 on the latent "
            "scale are not implemented."
        )
