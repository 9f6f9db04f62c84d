"""Kenward-Roger small-sample inference for the fixed effects of a REML fit.

Kenward & Roger (1997) as pbkrtest (``vcovAdj``, ``Lb_ddf``, ``KRmodcomp``) computes it and
lmerTest reports it (``summary(m, ddf = "Kenward-Roger")``, ``anova(m, type = 3, ddf =
"Kenward-Roger")``):

* The variance parameters are pbkrtest's *covariance* parameters ``gamma``: the variances
  and covariances of every random term (column-wise lower triangle, as ``VarCorr``) and
  the residual variance. The marginal covariance ``Sigma = sum_r gamma_r G_r`` is linear in
  them, so the second-derivative term ``R_rs`` of Kenward & Roger is 0; the adjustment is
  parametrisation dependent, and this is the parametrisation that matches pbkrtest (not
  lme4's theta, whose ``R_rs`` would not vanish).
* With ``Phi = (X' Sigma^-1 X)^-1`` (the model-based covariance of beta),
  ``P_r = -X' Sigma^-1 G_r Sigma^-1 X``, ``Q_rs = X' Sigma^-1 G_r Sigma^-1 G_s Sigma^-1 X``
  and ``K_rs = tr(Sigma^-1 G_r Sigma^-1 G_s)``, the expected REML information (times 2) is
  ``IE2_rs = K_rs - 2 tr(Phi Q_rs) + tr(Phi P_r Phi P_s)``, ``W = 2 IE2^-1`` (a generalised
  inverse when an eigenvalue of ``IE2`` is below 1e-10, as pbkrtest), and the adjusted
  covariance is ``Phi_A = Phi + 2 Phi (sum_rs W_rs (Q_rs - P_r Phi P_s)) Phi``.
* For ``L beta = 0`` with ``q = rank(L)``: ``Theta = L' (L Phi L')^-1 L``,
  ``A1 = sum_rs W_rs tr(Theta Phi P_r Phi) tr(Theta Phi P_s Phi)``,
  ``A2 = sum_rs W_rs tr(Theta Phi P_r Phi Theta Phi P_s Phi)``, and the denominator df
  ``m = 4 + (q + 2) / (q rho - 1)`` and scaling ``lambda = m (1 - A2 / q) / (m - 2)`` of
  Kenward & Roger's approximation (``rho`` from ``A1``, ``A2`` and ``q`` as in
  pbkrtest's ``.KR_adjust``, see :func:`kr_df`); ``F = lambda (L beta)' (L Phi_A L')^-1 (L beta) / q``.
  A one-df t-test uses ``se = sqrt(l' Phi_A l)`` with the same df and no scaling
  (``pbkrtest::Lb_ddf``; lmerTest's ``contest1D``), an F-test always the scaled statistic
  (lmerTest's ``contestMD``, also for one row).

``Sigma`` is block diagonal over the units of the top level; every sum above is a sum over
those blocks. Within a block, ``G_r`` is ``sum Z_a Z_b'`` over the (pairs of) random-effect
columns ``Z_a`` (one column per unit of the level) that the parameter multiplies, and
``Sigma^-1`` is applied by Woodbury in the block's random-effect space (see
:func:`kenward_roger`): no matrix of the size of the rows, not even per block.

R equivalents: ``pbkrtest::vcovAdj``, ``pbkrtest::Lb_ddf``, ``pbkrtest::KRmodcomp``,
``lmerTest::contest(m, L, ddf = "Kenward-Roger")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.engine import NestedEngine

__all__ = ["KenwardRoger", "kenward_roger", "kr_df", "contrast_1d", "contrast_md"]

#: pbkrtest uses a generalised inverse of the information when an eigenvalue is below this.
INFO_TOL = 1e-10


@dataclass
class KenwardRoger:
    """What Kenward-Roger tests need, at the REML estimates.

    Attributes
    ----------
    beta : ndarray (p,)
    vcov : ndarray (p, p)
        Model-based ``Phi = (X' Sigma^-1 X)^-1``.
    vcov_adj : ndarray (p, p)
        Kenward-Roger adjusted ``Phi_A`` (``pbkrtest::vcovAdj``).
    P : ndarray (m, p, p)
        ``-X' Sigma^-1 G_r Sigma^-1 X`` per covariance parameter.
    W : ndarray (m, m)
        Asymptotic covariance of the covariance parameters, ``2 IE2^-1``.
    """

    beta: np.ndarray
    vcov: np.ndarray
    vcov_adj: np.ndarray
    P: np.ndarray
    W: np.ndarray


def _parameters(engine: NestedEngine) -> list[list[tuple[int, int]]]:
    """The random-effect covariance parameters as pairs of random columns.

    Column ``a`` is the ``a``-th random column over all levels (finest first, blocks and
    their columns in order, the layout of :meth:`NestedEngine.lambdas`). A variance is
    ``[(a, a)]`` (``G = Z_a Z_a'``), a covariance ``[(a, b), (b, a)]`` (``G = Z_a Z_b' +
    Z_b Z_a'``). The residual variance (``G = I``) comes after these.
    """
    params, off = [], 0
    for qs in engine.block_q:
        for q in qs:
            for j in range(q):  # column-wise lower triangle, as VarCorr / pbkrtest
                for i in range(j, q):
                    a, b = off + i, off + j
                    params.append([(a, a)] if i == j else [(a, b), (b, a)])
            off += q
    return params


def _block(engine: NestedEngine, rows: np.ndarray, X: np.ndarray, rel_cov: list[np.ndarray]):
    """Cross-products of ``W = [Z, X]`` for the rows of one top unit.

    ``Z`` has one column per random column ``a`` and unit of its level (units of the
    block only); its cross-products are sums over rows by unit (``bincount``), so neither
    ``Z`` nor anything of the size of the rows is formed. Returns ``W'W``, the relative
    covariance ``D`` of the random effects (``Lambda Lambda'`` per unit), and the slice
    of ``Z`` for every random column ``a``.
    """
    Xk = X[rows]
    cols, by_level, off = [], [], 0  # cols: (unit per row, z per row, number of units)
    for lev, cov in zip(engine.levels, rel_cov):
        _, unit = np.unique(lev.codes[rows], return_inverse=True)
        k = int(unit.max()) + 1
        by_level.append((range(len(cols), len(cols) + lev.q), cov))
        cols += [(unit, blk.Z[rows, j], k) for blk in lev.blocks for j in range(blk.q)]
    sizes = np.array([k for *_, k in cols])
    starts = np.r_[0, np.cumsum(sizes)]
    sl = [slice(starts[a], starts[a + 1]) for a in range(len(cols))]
    u, p = int(starts[-1]), Xk.shape[1]
    S0 = np.empty((u + p, u + p))
    for a, (ua, za, ka) in enumerate(cols):
        zx = np.stack([np.bincount(ua, za * x, ka) for x in Xk.T], axis=1)  # Z_a'X
        S0[sl[a], u:], S0[u:, sl[a]] = zx, zx.T
        for b, (ub, zb, kb) in enumerate(cols[a:], start=a):
            zz = np.bincount(ua * kb + ub, za * zb, ka * kb).reshape(ka, kb)  # Z_a'Z_b
            S0[sl[a], sl[b]], S0[sl[b], sl[a]] = zz, zz.T
    S0[u:, u:] = Xk.T @ Xk
    D = np.zeros((u, u))
    for level_cols, cov in by_level:
        for i, a in enumerate(level_cols):
            for j, b in enumerate(level_cols):
                np.fill_diagonal(D[sl[a], sl[b]], cov[i, j])  # the same unit only
    return S0, D, sl


def kenward_roger(engine: NestedEngine, X: np.ndarray, theta: np.ndarray, sigma: float,
                  beta: np.ndarray) -> KenwardRoger:
    """Kenward-Roger adjusted covariance of beta at ``(theta, sigma)`` (``pbkrtest::vcovAdj``).

    Within a top unit, ``Sigma^-1 = (I - Z B Z') / sigma^2`` with ``B = (I + D Z'Z)^-1 D``
    (Woodbury; ``D`` the relative covariance of the unit's random effects, singular at a
    boundary fit), so every product ``W' Sigma^-k W`` of ``W = [Z, X]`` follows from
    ``W'W`` by ``S_k+1 = (S_k - W'Z B Z'S_k) / sigma^2``: the work is in the random-effect
    space of the block, never ``rows x rows``. With ``S_k`` the traces and products are

    * ``P_r = -sum S1[x,a] S1[b,x]``, residual ``-S2[x,x]``;
    * ``Q_rs = sum S1[x,a] S1[b,c] S1[d,x]``, with the residual ``sum S1[x,a] S2[b,x]``
      and ``S3[x,x]``;
    * ``K_rs = sum <S1[b,c], S1[a,d]>``, with the residual ``sum tr S2[b,a]`` and
      ``tr Sigma^-2 = (n - 2 tr(BR) + tr(BRBR)) / sigma^4`` (``R = Z'Z``),

    summed over ``(a, b)`` of parameter ``r`` and ``(c, d)`` of ``s``.

    Parameters
    ----------
    engine : NestedEngine
        A REML engine (its levels give the random designs).
    X : ndarray (n, p)
        Fixed-effects design in the row order of the levels' codes.
    theta, sigma, beta
        The REML estimates.

    Examples
    --------
    R: ``sqrt(diag(pbkrtest::vcovAdj(lmer(y ~ wave + (1 | org/team), data = d))))`` gives
    0.1916016 and 0.0349743.

    >>> import numpy as np
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> res = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> kr = kenward_roger(res.engine, res.frame.X, res.theta, res.sigma, res.beta)
    >>> np.sqrt(np.diag(kr.vcov_adj)).round(4)
    array([0.1916, 0.035 ])
    """
    if not engine.reml:
        raise SpecificationError(
            "Kenward-Roger's method is defined for REML fits only; refit the model with reml=True "
            "(or use ddf='Satterthwaite')."
        )
    s2 = float(sigma) ** 2
    params = _parameters(engine)
    m, p = len(params) + 1, X.shape[1]  # + the residual variance, last
    rel_cov = [Lam @ Lam.T for Lam in engine.lambdas(np.asarray(theta, float))]
    top = engine.levels[-1].codes
    order = np.argsort(top, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(top[order]) != 0, True])
    xtax = np.zeros((p, p))
    P = np.zeros((m, p, p))
    Q = np.zeros((m, m, p, p))
    K = np.zeros((m, m))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        S0, D, sl = _block(engine, order[lo:hi], X, rel_cov)
        u = D.shape[0]
        x = slice(u, u + p)
        R = S0[:u, :u]
        B = np.linalg.solve(np.eye(u) + D @ R, D)
        B = (B + B.T) / 2
        T = S0[:, :u]

        def times_inverse(S):  # W' Sigma^-1 (...) from W' (...)
            return (S - T @ (B @ S[:u])) / s2

        S1 = times_inverse(S0)
        S2 = times_inverse(S1)
        S3 = times_inverse(S2)
        xtax += S1[x, x]
        BR = B @ R
        for r, pr in enumerate(params):
            for a, b in pr:
                P[r] -= S1[x, sl[a]] @ S1[sl[b], x]
                Q[r, -1] += S1[x, sl[a]] @ S2[sl[b], x]
                K[r, -1] += np.trace(S2[sl[b], sl[a]])
            for s, ps in enumerate(params[r:], start=r):
                for a, b in pr:
                    for c, d in ps:
                        Q[r, s] += S1[x, sl[a]] @ S1[sl[b], sl[c]] @ S1[sl[d], x]
                        K[r, s] += np.sum(S1[sl[b], sl[c]] * S1[sl[a], sl[d]])
        P[-1] -= S2[x, x]
        Q[-1, -1] += S3[x, x]
        K[-1, -1] += (hi - lo - 2 * np.trace(BR) + np.sum(BR * BR.T)) / s2**2
    for r in range(m):
        for s in range(r):
            Q[r, s] = Q[s, r].T
            K[r, s] = K[s, r]
    Phi = np.linalg.inv(xtax)
    PhiP = Phi @ P  # (m, p, p)
    IE2 = K - 2 * np.einsum("ij,rsij->rs", Phi, Q) + np.einsum("rij,sji->rs", PhiP, PhiP)
    if np.min(np.abs(np.linalg.eigvalsh(IE2))) > INFO_TOL:
        W = 2 * np.linalg.inv(IE2)
    else:  # MASS::ginv
        W = 2 * np.linalg.pinv(IE2, rcond=np.sqrt(np.finfo(float).eps))
    W = (W + W.T) / 2
    # P_r Phi P_s = (Phi P_r)' P_s since P_r and Phi are symmetric
    U = np.einsum("rs,rsij->ij", W, Q) - np.einsum("rs,rki,skj->ij", W, PhiP, Pm := P)
    vcov_adj = Phi + 2 * Phi @ U @ Phi
    return KenwardRoger(np.asarray(beta, float), Phi, (vcov_adj + vcov_adj.T) / 2, P, W)


def _full_rank(L: np.ndarray) -> np.ndarray:
    """Rows spanning the row space of ``L`` (pbkrtest's ``force_full_rank``; tests are invariant)."""
    q = np.linalg.matrix_rank(L)
    if q == L.shape[0]:
        return L
    return np.linalg.svd(L)[2][:q]  # an orthonormal basis of the row space


def kr_df(kr: KenwardRoger, L: np.ndarray) -> tuple[float, float]:
    """Denominator df and F scaling of ``L beta = 0`` (pbkrtest's ``.KR_adjust`` / ``Lb_ddf``).

    ``L`` (q, p) of full row rank. With ``B = (A1 + 6 A2) / (2q)``, ``g = ((q + 1) A1 -
    (q + 4) A2) / ((q + 2) A2)`` and ``c1, c2, c3 = g, q - g, q + 2 - g`` over ``3q + 2(1 -
    g)``: ``rho = ((1 - A2/q) / (1 - c2 B))^2 (1 + c1 B) / ((1 - c3 B) q)``, ``df = 4 + (q +
    2) / (q rho - 1)``, scaling ``df (1 - A2/q) / (df - 2)`` (1 when ``df`` is within 0.01
    of 2).
    """
    q = L.shape[0]
    Theta = L.T @ np.linalg.solve(L @ kr.vcov @ L.T, L)
    u = Theta @ kr.vcov @ kr.P @ kr.vcov  # (m, p, p)
    tr = np.trace(u, axis1=1, axis2=2)
    A1 = float(tr @ kr.W @ tr)
    A2 = float(np.einsum("rs,rij,sji->", kr.W, u, u))
    B = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    den = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
    V0, V1, V2 = 1 + c1 * B, 1 - c2 * B, 1 - c3 * B
    if abs(V0) < 1e-10:
        V0 = 0.0
    x = 1 - A2 / q
    ratio = 1.0 if abs(x) < 1e-14 and abs(V1) < 1e-14 else x / V1  # pbkrtest's .divZero
    rho = ratio**2 * V0 / V2 / q
    df2 = 4 + (q + 2) / (q * rho - 1)
    scaling = 1.0 if abs(df2 - 2) < 1e-2 else df2 * (1 - A2 / q) / (df2 - 2)
    return float(df2), float(scaling)


def contrast_1d(kr: KenwardRoger, l, conf_level: float = 0.95) -> dict:
    """Estimate, KR se and df, t, p and CI of ``l' beta``; lmerTest's ``contest1D`` with KR.

    The keys are those of :func:`.inference.contrast_1d`.
    """
    l = np.asarray(l, float).ravel()
    est = float(l @ kr.beta)
    se = float(np.sqrt(l @ kr.vcov_adj @ l))
    df, _ = kr_df(kr, l[None, :])
    t = est / se
    qt = stats.t.ppf(0.5 + conf_level / 2, df)
    return {"estimate": est, "se": se, "df": df, "t": t, "p": 2 * stats.t.sf(abs(t), df),
            "ci_low": est - qt * se, "ci_high": est + qt * se}


def contrast_md(kr: KenwardRoger, L) -> dict:
    """KR F-test of ``L beta = 0`` (``pbkrtest::KRmodcomp``; lmerTest's ``contestMD`` with KR).

    ``F`` is the scaled statistic, ``numdf`` the rank of ``L``; keys as
    :func:`.inference.contrast_md`.
    """
    L = _full_rank(np.atleast_2d(np.asarray(L, float)))
    q = L.shape[0]
    Lb = L @ kr.beta
    F_unscaled = float(Lb @ np.linalg.solve(L @ kr.vcov_adj @ L.T, Lb)) / q
    ddf, scaling = kr_df(kr, L)
    F = scaling * F_unscaled
    return {"F": F, "numdf": q, "dendf": ddf, "p": float(stats.f.sf(F, q, ddf))}
