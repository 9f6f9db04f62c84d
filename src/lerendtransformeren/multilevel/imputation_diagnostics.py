"""Convergence diagnostics of MCMC draws: split R-hat and effective sample size (Vehtari et al., 2021).

:func:`rhat` is the rank-normalised split R-hat (the maximum of the bulk and the folded
version), :func:`ess_bulk` / :func:`ess_tail` the effective sample sizes, all as in R's
``posterior`` package (``rhat``, ``ess_bulk``, ``ess_tail``), vectorised over parameters.
Draws are arrays ``(chains, draws, parameters)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

__all__ = ["split_chains", "basic_rhat", "rhat", "ess", "ess_bulk", "ess_tail", "diagnostics_table"]


def split_chains(draws: np.ndarray) -> np.ndarray:
    """Each chain cut in two halves (the middle draw of an odd length dropped)."""
    c, n, p = draws.shape
    half = n // 2
    return np.concatenate([draws[:, :half], draws[:, n - half:]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise over all chains and draws, per parameter (Blom's offset 3/8)."""
    c, n, p = x.shape
    flat = x.reshape(c * n, p)
    r = rankdata(flat, axis=0, method="average")
    return ndtri((r - 3 / 8) / (c * n + 1 / 4)).reshape(c, n, p)


def basic_rhat(draws: np.ndarray) -> np.ndarray:
    """Gelman-Rubin potential scale reduction of the chains as given (no split)."""
    c, n, _ = draws.shape
    means = draws.mean(axis=1)
    w = draws.var(axis=1, ddof=1).mean(axis=0)
    b = n * means.var(axis=0, ddof=1)
    var = (n - 1) / n * w + b / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, np.sqrt(var / w), np.nan)


def rhat(draws: np.ndarray) -> np.ndarray:
    """Rank-normalised split R-hat: the larger of the bulk and the folded (tail) R-hat."""
    if draws.shape[1] < 4:
        return np.full(draws.shape[2], np.nan)
    s = split_chains(draws)
    bulk = basic_rhat(_z_scale(s))
    folded = basic_rhat(_z_scale(np.abs(s - np.median(s.reshape(-1, s.shape[2]), axis=0))))
    return np.fmax(bulk, folded)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariances per chain and parameter by FFT: ``(chains, lags, parameters)``."""
    c, n, p = x.shape
    m = 1 << int(np.ceil(np.log2(2 * n)))
    dev = x - x.mean(axis=1, keepdims=True)
    f = np.fft.rfft(dev, n=m, axis=1)
    return np.fft.irfft(f * np.conj(f), n=m, axis=1)[:, :n] / n


def ess(draws: np.ndarray) -> np.ndarray:
    """Effective sample size of (split) chains with Geyer's initial monotone sequence (as Stan)."""
    c, n, p = draws.shape
    if n < 4:
        return np.full(p, np.nan)
    acov = _autocov(draws)
    chain_var = acov[:, 0] * n / (n - 1)
    w = chain_var.mean(axis=0)
    var_plus = w * (n - 1) / n + (draws.mean(axis=1).var(axis=0, ddof=1) if c > 1 else 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = 1 - (w - acov.mean(axis=0)) / var_plus  # (lags, p)
    rho[0] = 1.0
    out = np.empty(p)
    for j in range(p):
        out[j] = _geyer(rho[:, j], c * n)
    return out


def _geyer(rho: np.ndarray, total: int) -> float:
    """Stan's (and R posterior's) truncated and monotone Geyer estimate of ``total / tau``."""
    if not np.all(np.isfinite(rho[:2])):
        return np.nan
    n = len(rho)
    keep = np.zeros(n)
    keep[:2] = rho[:2]
    t, even, odd = 0, rho[0], rho[1]
    while t < n - 5 and np.isfinite(even + odd) and even + odd > 0:
        t += 2
        even, odd = rho[t], rho[t + 1]
        if even + odd >= 0:
            keep[t], keep[t + 1] = even, odd
    max_t = t
    if even > 0:
        keep[max_t] = even
    t = 0
    while t <= max_t - 4:
        t += 2
        if keep[t] + keep[t + 1] > keep[t - 2] + keep[t - 1]:
            keep[t] = keep[t + 1] = (keep[t - 2] + keep[t - 1]) / 2
    tau = -1 + 2 * keep[:max_t].sum() + keep[max_t]
    return float(total / max(tau, 1 / np.log10(total)))


def ess_bulk(draws: np.ndarray) -> np.ndarray:
    """Bulk effective sample size: ESS of the rank-normalised split chains."""
    return ess(_z_scale(split_chains(draws)))


def ess_tail(draws: np.ndarray) -> np.ndarray:
    """Tail ESS: the smaller ESS of the indicators of the 5% and 95% quantiles."""
    s = split_chains(draws)
    flat = s.reshape(-1, s.shape[2])
    lo, hi = np.quantile(flat, [0.05, 0.95], axis=0)
    return np.fmin(ess((s <= lo).astype(float)), ess((s <= hi).astype(float)))


def diagnostics_table(draws: np.ndarray, names: list) -> pd.DataFrame:
    """Per parameter: mean, sd, R-hat, bulk and tail ESS and the Monte Carlo SE of the mean."""
    flat = draws.reshape(-1, draws.shape[2])
    e_mean = ess(split_chains(draws))
    sd = flat.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({
            "mean": flat.mean(axis=0), "sd": sd, "rhat": rhat(draws), "ess_bulk": ess_bulk(draws),
            "ess_tail": ess_tail(draws), "mcse_mean": sd / np.sqrt(e_mean),
        }, index=pd.Index(names, name="parameter"))
    return table
