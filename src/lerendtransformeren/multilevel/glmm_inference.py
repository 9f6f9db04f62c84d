"""Small-sample inference for nested GLMMs: between-within df and the parametric bootstrap LRT.

glmer's Wald z-tests treat the fixed effects' standard errors as known; with 15
organisations they reject too often (see :data:`FEW_UNITS` and the advice in
:mod:`~lerendtransformeren.multilevel.glmm_results`). Two remedies:

* :func:`between_within_df`: the between-within ("containment") degrees of freedom of SAS
  PROC GLIMMIX ``ddfm=bw`` for t tests of the fixed effects. R has no direct equivalent:
  ``lme4::glmer`` and ``glmmTMB`` give z tests (``pbkrtest`` and ``lmerTest`` only treat
  linear models); the reference is GLIMMIX.
* :func:`bootstrap_lrt`: a parametric-bootstrap likelihood-ratio test of two nested GLMMs
  (R: ``pbkrtest::PBmodcomp``), in parallel with joblib, one ``SeedSequence`` child per
  bootstrap sample (the same ``seed`` gives the same p whatever ``n_jobs``).
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import ConvergenceError, SpecificationError
from lerendtransformeren.multilevel.frame import Level, RandomBlock
from lerendtransformeren.multilevel.glmm import FAMILIES, GLMMEngine

__all__ = ["between_within_df", "varying_level", "bootstrap_lrt", "FEW_UNITS", "DDF_METHODS"]

#: Below this many units at the top grouping level the Wald z-tests are liberal (see ``GLMMResult.notes``).
FEW_UNITS = 40
#: The df methods of a GLMM's fixed-effect tests.
DDF_METHODS = ("Wald", "between-within")


def varying_level(X: np.ndarray, levels: list[Level]) -> np.ndarray:
    """Per column of ``X``: the level at which it varies.

    ``k`` in ``1..L`` (grouping levels finest first, numbered from 1): the coarsest level
    within whose units the column is constant (the intercept and any column constant within
    the top units: ``L``); 0 when it varies within the units of the finest level (the
    residual level).
    """
    n, p = X.shape
    out = np.zeros(p, int)
    for k, lev in enumerate(levels, start=1):
        order = np.argsort(lev.codes, kind="stable")
        codes = lev.codes[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        Xs = X[order]
        spread = np.maximum.reduceat(Xs, starts, axis=0) - np.minimum.reduceat(Xs, starts, axis=0)
        tol = 1e-10 * np.maximum(1.0, np.max(np.abs(X), axis=0))
        constant = np.all(spread <= tol, axis=0)
        out[constant] = k
    return out


def between_within_df(X: np.ndarray, levels: list[Level]) -> np.ndarray:
    """Between-within degrees of freedom of each fixed effect (SAS GLIMMIX ``ddfm=bw``).

    The rule (the containment rule of nested designs, as nlme's ``lme`` and GLIMMIX's
    between-within method): each column of ``X`` is assigned to the level at which it varies
    (:func:`varying_level`: the coarsest grouping level within whose units it is constant;
    the residual level when it varies within the finest units; the intercept to the top
    level). With ``n_k`` units at grouping level ``k`` (``k = 1`` finest, ``n_0 = N`` rows,
    ``n_{L+1} = 0``) and ``p_k`` columns assigned to level ``k``, a column at level ``k``
    has ``df = n_k - n_{k+1} - p_k``: the units of its level, less the units of the level
    above (their means are the next level's information), less the fixed parameters
    estimated at its level. For the top level that is ``n_L - p_L`` (units less the
    parameters that vary between them, the intercept included); for a column varying
    within the finest units, the residual df ``N - n_1 - p_0`` as GLIMMIX gives.

    R has no direct equivalent (``glmer`` and ``glmmTMB`` give z tests); SAS PROC GLIMMIX
    with ``ddfm=bw`` is the reference.

    Parameters
    ----------
    X : ndarray (n, p)
    levels : list of Level
        Finest first.

    Returns
    -------
    ndarray (p,) of int; values below 1 are raised to 1.

    Examples
    --------
    15 organisations of 4 teams, 4 waves per team; ``x_org`` constant within organisations,
    ``x_team`` within teams, ``wave`` varies within teams. Top level: 15 organisations less
    the intercept and ``x_org``: 13. Teams: 60 - 15 - 1 = 44. Rows: 240 - 60 - 1 = 179.

    >>> import numpy as np
    >>> from lerendtransformeren.multilevel.frame import Level
    >>> team = np.repeat(np.arange(60), 4); org = team // 4
    >>> wave = np.tile(np.arange(4.0), 60)
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.ones(240), rng.normal(size=15)[org], rng.normal(size=60)[team], wave])
    >>> lev = lambda name, c: Level(name, (name,), c, np.arange(c.max() + 1).astype(str), [])
    >>> between_within_df(X, [lev("org:team", team), lev("org", org)])
    array([ 13,  13,  44, 179])
    """
    n = X.shape[0]
    L = len(levels)
    at = varying_level(X, levels)
    units = [n] + [lev.n_units for lev in levels] + [0]
    p_at = np.bincount(at, minlength=L + 1)
    df = np.array([units[k] - units[k + 1] - p_at[k] for k in at], int)
    return np.maximum(df, 1)


def t_table(beta: np.ndarray, se: np.ndarray, df: np.ndarray, conf_level: float, names) -> pd.DataFrame:
    """``fixed`` with t tests: estimate, se, df, t, p, ci_low, ci_high."""
    t = beta / se
    q = stats.t.ppf(0.5 + conf_level / 2, df)
    return pd.DataFrame({"estimate": beta, "se": se, "df": df.astype(float), "t": t,
                         "p": 2 * stats.t.sf(np.abs(t), df), "ci_low": beta - q * se, "ci_high": beta + q * se},
                        index=pd.Index(names, name="term"))


# -- parametric bootstrap ------------------------------------------------------------------
@dataclass
class _BootSetup:
    """What a bootstrap sample needs (picklable arrays only)."""

    family: str
    nagq: int
    X0: np.ndarray
    X1: np.ndarray
    levels0: list[Level]
    levels1: list[Level]
    beta0: np.ndarray
    lams0: list[np.ndarray]


def _light(levels: list[Level]) -> list[Level]:
    return [Level(lev.name, lev.factors, lev.codes, lev.labels,
                  [RandomBlock(b.group, b.expr, b.names, b.Z) for b in lev.blocks]) for lev in levels]


def draw_outcome(family: str, X: np.ndarray, beta: np.ndarray, levels: list[Level], lams: list[np.ndarray],
                 rng: np.random.Generator) -> np.ndarray:
    """An outcome from a fitted GLMM: random effects from their variances (coarsest level first), y from the family."""
    eta = X @ beta
    for lev, Lam in zip(levels[::-1], lams[::-1]):
        b = rng.standard_normal((lev.n_units, Lam.shape[0])) @ Lam.T
        Z = np.hstack([blk.Z for blk in lev.blocks])
        eta = eta + np.einsum("ij,ij->i", Z, b[lev.codes])
    mu = FAMILIES[family].mu(eta)
    return rng.binomial(1, mu).astype(float) if family == "binomial" else rng.poisson(mu).astype(float)


def _one_boot(setup: _BootSetup, seq: np.random.SeedSequence) -> float:
    """LRT statistic of one bootstrap sample; NaN when a refit fails."""
    rng = np.random.default_rng(seq)
    y = draw_outcome(setup.family, setup.X0, setup.beta0, setup.levels0, setup.lams0, rng)
    if y.min() == y.max():
        return np.nan
    fam = FAMILIES[setup.family]
    try:
        d0 = GLMMEngine(y, setup.X0, setup.levels0, fam, setup.nagq).optimize().deviance
        d1 = GLMMEngine(y, setup.X1, setup.levels1, fam, setup.nagq).optimize().deviance
    except (ConvergenceError, np.linalg.LinAlgError, ValueError, ArithmeticError):
        return np.nan
    if not (np.isfinite(d0) and np.isfinite(d1)):
        return np.nan
    return max(d0 - d1, 0.0)


def _single_thread():
    """One BLAS thread (fast small algebra, the same numbers in every process)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1)


def _boot_chunk(setup: _BootSetup, seqs) -> list[float]:
    with _single_thread(), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return [_one_boot(setup, s) for s in seqs]


def bootstrap_lrt(m0, m1, observed: float, n_boot: int = 999, seed=None, n_jobs: int = 1) -> dict:
    """Parametric-bootstrap p of the LRT of ``m0`` (null) against ``m1`` (pbkrtest's ``PBmodcomp``).

    ``n_boot`` outcomes are simulated from the fitted null model ``m0`` (random effects
    drawn from its estimated variances, the outcome from the family), both models refitted
    to each, and ``p = (1 + #{LRT* >= LRT}) / (1 + n_boot*)`` with ``n_boot*`` the samples
    whose refits succeeded (failed refits are counted and left out, as PBmodcomp does).
    Sample ``i`` uses child ``i`` of ``SeedSequence(seed).spawn(n_boot)``, so the p does not
    depend on ``n_jobs``.

    Returns
    -------
    dict: ``p``, ``n_boot`` (samples used), ``n_failed``, ``statistics`` (ndarray, NaN for
    failures), ``seed`` (the SeedSequence's entropy).
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise SpecificationError(f"n_boot must be a whole number >= 1, got {n_boot!r}.")
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    setup = _BootSetup(m0.family, m0.nagq, m0.frame.X, m1.frame.X, _light(m0.frame.levels),
                       _light(m1.frame.levels), m0.beta, m0.engine.lambdas(m0.theta))
    seqs = seq.spawn(int(n_boot))
    if int(n_jobs) == 1:
        stat = _boot_chunk(setup, seqs)
    else:
        from joblib import Parallel, delayed, effective_n_jobs

        k = 4 * effective_n_jobs(int(n_jobs))  # several chunks per worker balance the load
        chunks = [list(range(i, len(seqs), k)) for i in range(min(k, len(seqs)))]
        parts = Parallel(n_jobs=int(n_jobs))(delayed(_boot_chunk)(setup, [seqs[i] for i in c]) for c in chunks)
        stat = [np.nan] * len(seqs)
        for c, part in zip(chunks, parts):
            for i, value in zip(c, part):
                stat[i] = value
    stat = np.asarray(stat, float)
    ok = np.isfinite(stat)
    n_ok = int(ok.sum())
    p = (1 + int(np.sum(stat[ok] >= observed - 1e-8 * max(1.0, abs(observed))))) / (1 + n_ok)
    return {"p": float(p), "n_boot": n_ok, "n_failed": int(len(stat) - n_ok), "statistics": stat,
            "seed": seq.entropy}


# -- one simulated data set (for simulation.power_simulation) --------------------------------
def fixed_vcov(engine: GLMMEngine, opt) -> np.ndarray:
    """Covariance of beta: the beta block of ``2 H^-1`` (lme4's ``vcov``); the penalised
    least-squares fallback when ``H`` is not positive definite (as ``GLMMResult.vcov``)."""
    k = engine.n_theta
    try:
        V = 2.0 * np.linalg.inv(opt.hessian)[k:, k:]
        V = 0.5 * (V + V.T)
        if np.linalg.eigvalsh(V).min() > 0:
            return V
    except np.linalg.LinAlgError:
        pass
    w = engine.family.weights(opt.state.mu)
    fac = engine.solver.factor(engine.lambdas(opt.theta), w, np.zeros(engine.n), True)
    return np.linalg.inv(fac.top[: engine.p, : engine.p])


def glmm_contrast_test(y: np.ndarray, X: np.ndarray, levels: list[Level], family: str, L: np.ndarray,
                       ddf: str, conf_level: float) -> dict:
    """Fit a GLMM (Laplace) and test ``L beta = 0``: Wald z / chi-square, or t / F with between-within df.

    The df of a contrast is the smallest between-within df of the columns it involves.
    Returns the record of :mod:`~lerendtransformeren.multilevel.simulation`'s replicates.
    """
    engine = GLMMEngine(y, X, levels, FAMILIES[family])
    opt = engine.optimize()
    V = fixed_vcov(engine, opt)
    involved = np.any(L != 0, axis=0)
    df = float(between_within_df(X, levels)[involved].min()) if ddf == "between-within" else np.inf
    rec = {"singular": bool(np.any(np.abs(opt.theta[engine._diag]) < 1e-4)), "converged": bool(opt.converged),
           "n_rows": len(y)}
    est = L @ opt.beta
    if len(L) == 1:
        se = float(np.sqrt(L[0] @ V @ L[0]))
        t = float(est[0]) / se
        dist = stats.norm if np.isinf(df) else stats.t(df)
        q = float(dist.ppf(0.5 + conf_level / 2))
        rec.update(estimate=float(est[0]), se=se, df=df, statistic=t, p=float(2 * dist.sf(abs(t))),
                   ci_low=float(est[0]) - q * se, ci_high=float(est[0]) + q * se)
    else:
        chi2 = float(est @ np.linalg.solve(L @ V @ L.T, est))
        q = len(L)
        p = stats.chi2.sf(chi2, q) if np.isinf(df) else stats.f.sf(chi2 / q, q, df)
        rec.update(estimate=np.nan, se=np.nan, df=df, statistic=chi2 if np.isinf(df) else chi2 / q, p=float(p),
                   ci_low=np.nan, ci_high=np.nan)
    return rec
