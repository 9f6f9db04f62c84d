"""Cluster-robust (CR2, Bell-McCaffrey) sensitivity analysis for the fixed effects of an LMM.

The model-based standard errors of a mixed model rest on its random part being right. The
CR2 sandwich estimator (Bell & McCaffrey 2002; Pustejovsky & Tipton 2018) keeps the fitted
model as *working* model but estimates the covariance of the GLS estimator from the
residuals of each cluster (by default the top level, e.g. the organisations), with the
bias-reduction adjustment that makes it exactly unbiased when the working model is right,
and Satterthwaite degrees of freedom for the t-tests, which fall steeply with few clusters.

With ``Phi = V`` (the fitted marginal covariance, up to sigma^2, which cancels), ``W =
V^-1``, ``M = (X'WX)^-1``, marginal residuals ``e = y - X beta``, and per cluster j the upper
Cholesky factor ``D_j`` of ``Phi_j``::

    B_j = D_j (Phi_j - X_j M X_j') D_j',   A_j = D_j' B_j^{-1/2} D_j,
    V_CR2 = M [sum_j X_j' W_j A_j e_j e_j' A_j W_j X_j] M.

For a contrast ``c`` let ``u_j = A_j W_j X_j M c`` and ``a_j = X_j' u_j``; then
``c' V_CR2 c = sum_j (g_j' y)^2`` with ``g_j = (I - H)_j' u_j``, whose covariance under the
working model is ``Omega_ij = [i = j] u_j' Phi_j u_j - a_i' M a_j``; the Satterthwaite df
are ``(sum_j Omega_jj)^2 / sum_ij Omega_ij^2``.

R equivalent: ``clubSandwich::coef_test(lme4_fit, vcov = "CR2", test = "Satterthwaite")``
and ``clubSandwich::vcovCR(lme4_fit, type = "CR2")``.

The marginal covariance of each cluster is formed densely (cluster size squared), so this
is for clusters of up to a few thousand rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["CR2", "cr2"]


@dataclass
class CR2:
    """The result of :func:`cr2`.

    Attributes
    ----------
    table : DataFrame
        Index: fixed-effect terms; columns estimate, se, df, t, p, ci_low, ci_high (CR2
        standard errors, Satterthwaite df) and se_model (the model-based SE, for comparison).
    vcov : DataFrame
        The CR2 covariance matrix of the fixed effects.
    cluster : str
    n_clusters : int
    """

    table: pd.DataFrame
    vcov: pd.DataFrame
    cluster: str
    n_clusters: int

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return self.table._repr_html_()

    def __repr__(self) -> str:
        return f"CR2 ({self.n_clusters} clusters of {self.cluster!r})\n{self.table.round(4)}"


def _cluster_codes(result, cluster: str | None) -> tuple[str, np.ndarray]:
    levels = result.frame.levels
    top = levels[-1]
    if cluster is None:
        return top.name, top.codes
    names = [lev.name for lev in levels]
    if cluster in names:
        lev = levels[names.index(cluster)]
        codes = lev.codes
    else:
        last = [lev for lev in levels if lev.factors[-1] == cluster]
        if len(last) == 1:
            codes = last[0].codes
        elif cluster in result._data.columns:
            col = result._data.reset_index(drop=True).loc[result.frame.keep, cluster]
            if col.isna().any():
                raise SpecificationError(f"The cluster column {cluster!r} is missing on rows the model uses.")
            codes = pd.factorize(col)[0]
        else:
            raise SpecificationError(
                f"Unknown cluster {cluster!r}; use a grouping level ({names}) or a column of the data."
            )
    # every top-level unit must lie inside one cluster, or the clusters are not independent
    pairs = np.unique(np.stack([top.codes, codes]), axis=1)
    if pairs.shape[1] > top.n_units:
        raise SpecificationError(
            f"Cluster {cluster!r} splits units of the top level {top.name!r}; CR2 needs clusters that "
            f"contain whole {top.name!r} units (use {top.name!r} or a coarser grouping)."
        )
    return cluster, codes


def _marginal_cov(result, rows: np.ndarray) -> np.ndarray:
    """V = I + sum_l Z_l (I kron Lambda_l Lambda_l') Z_l' on ``rows`` (relative to sigma^2)."""
    V = np.eye(len(rows))
    for lev, Lam in zip(result.frame.levels, result.engine.lambdas(result.theta)):
        Z = np.column_stack([b.Z[rows] for b in lev.blocks])
        same = lev.codes[rows][:, None] == lev.codes[rows][None, :]
        V += same * (Z @ (Lam @ Lam.T) @ Z.T)
    return V


def _inv_sqrt_psd(B: np.ndarray) -> np.ndarray:
    d, P = np.linalg.eigh((B + B.T) / 2)
    keep = d > 1e-12 * max(d.max(), 1e-300)
    return (P[:, keep] / np.sqrt(d[keep])) @ P[:, keep].T


def cr2(result, cluster: str | None = None, conf_level: float | None = None) -> CR2:
    """CR2 cluster-robust tests of the fixed effects of a fitted nested model.

    Parameters
    ----------
    result : MultilevelResult
    cluster : str, optional
        A grouping level or column whose units contain whole top-level units; default the
        top level.
    conf_level : float, optional
        Default: the result's.

    Returns
    -------
    CR2
    """
    level = result.conf_level if conf_level is None else conf_level
    name, codes = _cluster_codes(result, cluster)
    X, y, beta = result.frame.X, result.frame.y, result.beta
    e = y - X @ beta
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0, True])
    groups = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    if len(groups) < 2:
        raise SpecificationError("CR2 needs at least two clusters.")
    parts = []
    xtwx = np.zeros((X.shape[1], X.shape[1]))
    for rows in groups:
        Phi = _marginal_cov(result, rows)
        L = np.linalg.cholesky(Phi)
        Xj = X[rows]
        WX = np.linalg.solve(Phi, Xj)
        xtwx += Xj.T @ WX
        parts.append((rows, Phi, L, Xj, WX))
    M = np.linalg.inv(xtwx)
    p = X.shape[1]
    # AWX_j = A_j W_j X_j  (n_j x p)
    AWX, meat = [], np.zeros((p, p))
    for rows, Phi, L, Xj, WX in parts:
        D = L.T  # Phi = D' D
        B = D @ (Phi - Xj @ M @ Xj.T) @ D.T
        A = D.T @ _inv_sqrt_psd(B) @ D
        awx = A @ WX
        AWX.append((awx, Phi, Xj))
        s = awx.T @ e[rows]
        meat += np.outer(s, s)
    vcov = M @ meat @ M
    names = list(result.fixed.index)
    se = np.sqrt(np.diag(vcov))
    dfs = np.empty(p)
    for k in range(p):
        c = M[:, k]  # M c with c the k-th unit vector
        u = [awx @ c for awx, _, _ in AWX]
        a = np.array([Xj.T @ uj for (_, _, Xj), uj in zip(AWX, u)])  # (J, p)
        Omega = -(a @ M @ a.T)
        Omega[np.diag_indices_from(Omega)] += [uj @ Phi @ uj for (_, Phi, _), uj in zip(AWX, u)]
        dfs[k] = np.trace(Omega) ** 2 / np.sum(Omega**2)
    t = beta / se
    q = stats.t.ppf(0.5 + level / 2, dfs)
    table = pd.DataFrame(
        {"estimate": beta, "se": se, "df": dfs, "t": t, "p": 2 * stats.t.sf(np.abs(t), dfs),
         "ci_low": beta - q * se, "ci_high": beta + q * se,
         "se_model": result.fixed["se"].to_numpy()},
        index=pd.Index(names, name="term"),
    )
    return CR2(table, pd.DataFrame(vcov, index=names, columns=names), name, len(groups))
