"""The exact REML/ML engine for nested linear mixed models.

Model: ``y = X beta + sum_l Z_l b_l + e`` with ``e ~ N(0, sigma^2 I)`` and, per unit of
level ``l``, ``b ~ N(0, sigma^2 Lambda_l Lambda_l')``. ``Lambda_l`` is the relative
Cholesky factor of lme4: block diagonal over the random terms of the level, each block lower
triangular, its elements (column-wise lower triangle, terms from the finest level up) form
``theta``; diagonal elements are bounded below by 0.

The marginal covariance ``sigma^2 V`` is never formed. Walk the levels bottom-up: per
unit keep the cross-product matrix ``S = W' V_below^-1 W`` of the columns ``W = [X, y,
Z_l, Z_l+1, ...]`` still needed, and the log-determinant of ``V_below``. Adding the level's
effect (Woodbury)::

    M = I + Lambda' S_zz Lambda,  S <- S - S_:z Lambda M^-1 Lambda' S_z:,
    logdet <- logdet + log det M,

then sum the units into their parents. The cross-products of the lowest units are
computed once; when the lowest level has a single random column (a random intercept per
respondent, say) its absorption and summation are precomputed per (parent, z'z) group, so
that level costs O(parents x distinct z'z) per evaluation (``_compress_first_level``); the
same holds for a block of random columns (an intercept and slopes per respondent) with
``Z'Z`` in the place of ``z'z`` (``_compress_first_block``). Otherwise one evaluation of the
criterion costs O(units x width^2), all with ``np.add.reduceat`` and batched ``np.linalg`` on
stacks of small matrices; a level with two random columns takes the 2 x 2 step written out
element by element (``_absorb_pair``, ``_backward_pair``), at the lowest level summed
straight into the parents in chunks of units (``_first_pair_summed``). At the top,
``X'V^-1X``, ``X'V^-1y`` and ``y'V^-1y`` give the profiled deviance exactly as lme4
(``ldL2 + ldRX2 + (n - p) (1 + log(2 pi pwrss / (n - p)))`` for REML).

R equivalent: ``lme4::lmer(..., REML = TRUE)`` and ``lme4::mkLmerDevfun``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from lerendtransformeren.multilevel.frame import Level

__all__ = ["NestedEngine", "Evaluation", "OptimResult", "central_hessian"]

#: Groups per chunk when the compressed first level is summed (bounds its temporaries).
_GROUP_CHUNK = 8192
#: Units per chunk of the lowest level's closed-form 2 x 2 step (its temporaries stay in cache).
_CHUNK = 2048
#: Diagonal elements of theta below this are a singular fit (lme4's isSingular tol).
SINGULAR_TOL = 1e-4
_LOG2PI = np.log(2 * np.pi)


@dataclass
class Evaluation:
    """Pieces of the criterion at one theta (all relative to sigma^2)."""

    ldL2: float
    ldRX2: float
    pwrss: float
    beta: np.ndarray
    xtvx: np.ndarray  # X' V^-1 X


@dataclass
class OptimResult:
    theta: np.ndarray
    criterion: float
    gradient: np.ndarray
    hessian: np.ndarray
    n_evaluations: int
    n_starts: int
    converged: bool
    message: str


def _tril_indices(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of lme4's column-wise lower triangle."""
    rows, cols = [], []
    for j in range(q):
        for i in range(j, q):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


class NestedEngine:
    """Deviance, fit and conditional modes of a nested linear mixed model.

    Parameters
    ----------
    y : ndarray, shape (n,)
    X : ndarray, shape (n, p)
    levels : list of Level
        Finest first; codes per row, each unit of a level inside one unit of the next.
    reml : bool

    Examples
    --------
    >>> import numpy as np
    >>> from lerendtransformeren.multilevel.frame import Level, RandomBlock
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(20), 5)
    >>> y = rng.normal(size=20)[g] + rng.normal(size=100)
    >>> X = np.ones((100, 1))
    >>> lev = Level("g", ("g",), g, np.arange(20).astype(str),
    ...             [RandomBlock("g", "1", ["Intercept"], np.ones((100, 1)))])
    >>> eng = NestedEngine(y, X, [lev], reml=True)
    >>> opt = eng.optimize()
    >>> bool(opt.converged), opt.theta.round(3)
    (True, array([0.447]))
    """

    #: Levels with two random columns use the closed-form 2 x 2 steps (False: the general ones).
    closed_form_pairs = True

    def __init__(self, y: np.ndarray, X: np.ndarray, levels: list[Level], reml: bool = True):
        self.reml = bool(reml)
        self.n, self.p = X.shape
        self.levels = levels
        order = _unit_order([lev.codes for lev in levels])
        # the start row of each unit in sorted order
        self.unit_starts, self.parents = [], []
        prev_starts = None
        for lev in levels:
            c = lev.codes[order]
            starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            self.unit_starts.append(starts)
            # position of this level's units among the units of the level below
            self.parents.append(None if prev_starts is None else np.searchsorted(prev_starts, starts))
            prev_starts = starts
        # units in sorted order -> original level code (for labels)
        self.unit_codes = [lev.codes[order[s]] for lev, s in zip(levels, self.unit_starts)]
        # distinct columns of [X, y, Z_1, ..., Z_L]
        distinct = DistinctColumns()
        index_of, cols = distinct.index, distinct.cols
        self.x_idx = [index_of(X[:, j]) for j in range(self.p)]
        self.y_idx = index_of(y)
        self.z_idx = [[index_of(b.Z[:, j]) for b in lev.blocks for j in range(b.q)] for lev in levels]
        self._X, self._n_distinct = X, len(cols)  # for with_response
        # which W columns are present when each level is absorbed
        need_after = [self.x_idx + [self.y_idx]]
        for zl in reversed(self.z_idx[1:]):
            need_after.insert(0, sorted(set(need_after[0]) | set(zl)))
        self.cols = []  # columns of S at level l (before absorbing it)
        for l, zl in enumerate(self.z_idx):
            self.cols.append(sorted(set(need_after[l]) | set(zl)))
        self.zpos = [np.array([cl.index(k) for k in zl]) for cl, zl in zip(self.cols, self.z_idx)]
        keep = need_after[:-1] + [self.x_idx + [self.y_idx]]
        self.keep_pos = [np.array([cl.index(k) for k in kp]) for cl, kp in zip(self.cols, keep)]
        # levels whose absorption keeps every column in place (no fancy indexing needed)
        self._keep_all = [len(kp) == len(cl) and bool(np.all(kp == np.arange(len(cl))))
                          for cl, kp in zip(self.cols, self.keep_pos)]
        # cross-products of the lowest units, computed once (each product put in sorted row
        # order as it is summed: no sorted copy of the columns is kept)
        c0 = self.cols[0]
        k0 = len(c0)
        starts0 = self.unit_starts[0]
        A = np.empty((len(starts0), k0, k0))
        for a in range(k0):
            for b in range(a, k0):
                A[:, a, b] = A[:, b, a] = np.add.reduceat((cols[c0[a]] * cols[c0[b]])[order], starts0)
        del order
        self.A0 = A
        # theta layout
        self.theta_slices, self.lower, self.block_q = [], [], []
        pos = 0
        for lev in levels:
            sl = []
            for b in lev.blocks:
                rows, colsq = _tril_indices(b.q)
                sl.append((slice(pos, pos + len(rows)), rows, colsq))
                self.lower.extend(0.0 if r == c else -np.inf for r, c in zip(rows, colsq))
                pos += len(rows)
            self.theta_slices.append(sl)
            self.block_q.append([b.q for b in lev.blocks])
        self.n_theta = pos
        self.lower = np.array(self.lower)
        self._diag = np.isfinite(self.lower)
        self._scalar = self._scalar_diag()
        self._bounded = self._diag & ~self._scalar  # bounded in the optimiser
        # where each theta element sits in its level's Lambda: Lam[rows, cols] = theta[idx]
        self._lam_pos = []
        for sl, qs in zip(self.theta_slices, self.block_q):
            idx, r, c, off = [], [], [], 0
            for (sli, rows, colsq), q in zip(sl, qs):
                idx.extend(range(sli.start, sli.stop))
                r.extend(off + rows)
                c.extend(off + colsq)
                off += q
            self._lam_pos.append((np.array(idx, int), np.array(r, int), np.array(c, int), off))
        # parent unit (at level l) of every unit of level l - 1
        self._parent_of = [None] + [
            np.repeat(np.arange(len(st)), np.diff(np.r_[st, len(self.unit_starts[l - 1])]))
            for l, st in enumerate(self.parents) if l > 0
        ]
        self.n_eval = 0
        self._compress_first_level()
        self._compress_first_block()
        self._prepare_first_pair()

    def _compress_first_level(self) -> None:
        """Precompute the lowest level when it has one scalar random effect.

        Absorbing a scalar effect ``z`` with ``lam = Lambda_0`` changes each unit's
        cross-products by ``-w(s) a a'`` with ``s = z'z``, ``a = S_z:`` and ``w(s) = lam^2 /
        (1 + lam^2 s)``; everything but ``w`` is fixed. Summed into the parent units, the
        units of a parent with the same ``s`` (for a random intercept: the same number of
        rows, so a handful of values) share one weight, so the sums of ``a a'`` per
        (parent, s) are formed once and an evaluation costs O(parents x distinct s)
        instead of O(units). Exact; used only when the level has one random column and a
        level above it.
        """
        self._c0 = None
        if len(self.levels) < 2 or len(self.z_idx[0]) != 1:
            return
        A, z, keep = self.A0, int(self.zpos[0][0]), self.keep_pos[0]
        n0 = A.shape[0]
        parent = np.repeat(np.arange(len(self.parents[1])), np.diff(np.r_[self.parents[1], n0]))
        s_val, s_idx = np.unique(A[:, z, z], return_inverse=True)
        if len(s_val) * len(self.parents[1]) > n0 // 2:
            return  # little to gain
        key = parent * len(s_val) + s_idx.ravel()
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        a = A[:, z, keep][order]
        P = np.empty((len(starts),) + (a.shape[1],) * 2)
        for g0 in range(0, len(starts), _GROUP_CHUNK):  # groups in chunks: no (units, k, k) temporary
            g1 = min(g0 + _GROUP_CHUNK, len(starts))
            r0, r1 = starts[g0], (starts[g1] if g1 < len(starts) else len(a))
            P[g0:g1] = np.add.reduceat(a[r0:r1, :, None] * a[r0:r1, None, :], starts[g0:g1] - r0, axis=0)
        g_key = ks[starts]
        g_parent, g_s = g_key // len(s_val), s_val[g_key % len(s_val)]
        base = np.add.reduceat(A if self._keep_all[0] else A[:, keep[:, None], keep[None, :]], self.parents[1], axis=0)
        counts = np.bincount(s_idx.ravel(), minlength=len(s_val))
        pstarts = np.flatnonzero(np.r_[True, g_parent[1:] != g_parent[:-1]])
        self._c0 = (base, P, g_s, pstarts, s_val, counts)
        self._c0_parent = g_parent  # parent unit of every (parent, s) group

    def with_response(self, y: np.ndarray) -> NestedEngine:
        """The same model for another outcome ``y``: equal to ``NestedEngine(y, X, levels, reml)``.

        The row order, the unit structure and the cross-products of the lowest units that do
        not involve ``y`` are kept; only those with ``y`` (and the compressed first level)
        are computed again. For refitting one design many times (simulation-based power).
        When ``y`` equals a column of the design, or the engine's own outcome did, the
        engine is built afresh.
        """
        y = np.asarray(y, dtype=float)
        cols: list = [None] * self._n_distinct  # the distinct columns as __init__ found them
        for j, k in enumerate(self.x_idx):
            cols[k] = self._X[:, j]
        for zl, lev in zip(self.z_idx, self.levels):
            for k, zcol in zip(zl, (b.Z[:, j] for b in lev.blocks for j in range(b.q))):
                cols[k] = zcol
        shared = cols[self.y_idx] is not None or any(np.array_equal(c, y) for c in cols if c is not None)
        if shared or y.shape != (self.n,):
            return NestedEngine(y, self._X, self.levels, self.reml)
        cols[self.y_idx] = y
        new = copy.copy(self)
        order = _unit_order([lev.codes for lev in self.levels])
        c0, starts0 = self.cols[0], self.unit_starts[0]
        jy = c0.index(self.y_idx)
        A = self.A0.copy()
        for a, k in enumerate(c0):  # the products in the order __init__ forms them (a <= b)
            prod = cols[k] * y if a <= jy else y * cols[k]
            A[:, a, jy] = A[:, jy, a] = np.add.reduceat(prod[order], starts0)
        new.A0 = A
        new.n_eval, new._last_gradient = 0, None
        new._compress_first_level()
        return new

    def _first_level_compressed(self, lam2: float):
        base, P, g_s, pstarts, s_val, counts = self._c0
        w = lam2 / (1.0 + lam2 * g_s)
        S = base - np.add.reduceat(P * w[:, None, None], pstarts, axis=0)
        return S, float(np.dot(counts, np.log1p(lam2 * s_val)))

    def _compress_first_block(self) -> None:
        """Precompute the lowest level when it has a block of random effects (``q >= 2``).

        The same idea as :meth:`_compress_first_level` for a random intercept and slopes
        per respondent. Absorbing the block changes each unit's cross-products by ``-a' K
        a`` with ``a = S_z:`` (q x k) and ``K = Lambda (I + Lambda' S_zz Lambda)^-1
        Lambda'``, which depends on the unit only through ``S_zz``. Units with the same
        ``S_zz`` (for slopes on the waves: the same waves answered, so a handful of
        patterns) share ``K``, so the sums over each (parent, S_zz) group of the products
        ``a[i, :] a[j, :]'`` are formed once (``P``, shape (groups, q k, q k)) and an
        evaluation costs O(groups x (q k)^2) instead of O(units), with
        ``sum_ij K_ij P_ij`` for the change of the parent's cross-products and ``sum over
        patterns of count x log det M`` for the log-determinant. Exact up to the order of
        summation. Used when the groups are at most half the units (otherwise the plain
        recursion is as fast); without a level above, all units have one parent.
        """
        self._cb = None
        z, keep = self.zpos[0], self.keep_pos[0]
        q = len(z)
        if q < 2 or self._c0 is not None:
            return
        A = self.A0
        n0 = A.shape[0]
        iu, ju = np.triu_indices(q)
        s_val, s_idx = _unique_rows(A[:, z[iu], z[ju]])
        par_starts = self.parents[1] if len(self.levels) > 1 else np.zeros(1, int)
        if len(s_val) * len(par_starts) > n0 // 2:
            return  # little to gain
        parent = np.repeat(np.arange(len(par_starts)), np.diff(np.r_[par_starts, n0]))
        key = parent * len(s_val) + s_idx
        order = np.argsort(key, kind="stable")
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        a = A[order[:, None, None], z[None, :, None], keep[None, None, :]].reshape(n0, -1)
        m = a.shape[1]
        P = np.empty((len(starts), m, m))
        for r in range(m):  # column pairs one at a time: memory O(units), not O(units m^2)
            for c in range(r, m):
                P[:, r, c] = P[:, c, r] = np.add.reduceat(a[:, r] * a[:, c], starts)
        g_key = ks[starts]
        g_parent, g_s = g_key // len(s_val), g_key % len(s_val)
        Szz = np.empty((len(s_val), q, q))
        Szz[:, iu, ju] = s_val
        Szz[:, ju, iu] = s_val
        self._cb = _BlockLevel(
            base=np.add.reduceat(A[:, keep[:, None], keep[None, :]], par_starts, axis=0),
            P=P.reshape(len(starts), q, len(keep), q, len(keep)),
            Szz=Szz, counts=np.bincount(s_idx, minlength=len(s_val)),
            g_parent=g_parent, g_s=g_s, pstarts=np.flatnonzero(np.r_[True, g_parent[1:] != g_parent[:-1]]),
        )

    def _first_block_compressed(self, Lam: np.ndarray):
        """Summed cross-products of the parents and log-determinant of the compressed block level."""
        cb = self._cb
        M = Lam.T @ cb.Szz @ Lam + np.eye(len(Lam))
        log_diag = np.log(np.diagonal(np.linalg.cholesky(M), axis1=1, axis2=2))
        logdet = 2.0 * float(np.dot(cb.counts, log_diag.sum(axis=1)))
        K = Lam @ np.linalg.inv(M) @ Lam.T
        corr = np.einsum("gij,giajb->gab", K[cb.g_s], cb.P)
        return cb.base - np.add.reduceat(corr, cb.pstarts, axis=0), logdet

    def _first_block_gradient(self, G: np.ndarray, Lam: np.ndarray) -> np.ndarray:
        """Gradient in Lambda of the compressed block level, ``G`` the adjoint of its parents' S.

        Per pattern the formula of :meth:`_backward` summed over its units: the adjoint of
        ``D = Lambda Lambda'`` is ``count S_zz P - P' H P`` with ``P = I - K S_zz`` and
        ``H = sum_units S_zk G S_kz``, from the groups' ``P`` as ``sum_ab G_ab P_iajb``.
        """
        cb = self._cb
        Gg = G[cb.g_parent] if G.ndim == 3 else np.broadcast_to(G, (len(cb.g_s),) + G.shape)
        Hg = np.einsum("gab,giajb->gij", Gg, cb.P)
        H = np.zeros_like(cb.Szz)
        np.add.at(H, cb.g_s, Hg)
        q = len(Lam)
        K = Lam @ np.linalg.inv(Lam.T @ cb.Szz @ Lam + np.eye(q)) @ Lam.T
        Pm = np.eye(q) - K @ cb.Szz
        gD = (np.einsum("s,sij->ij", cb.counts.astype(float), cb.Szz @ Pm)
              - np.sum(np.swapaxes(Pm, 1, 2) @ H @ Pm, axis=0))
        return 2.0 * (0.5 * (gD + gD.T)) @ Lam

    # -- parameters -----------------------------------------------------------------------
    def theta_start(self) -> np.ndarray:
        """lme4's start: 1 on the diagonal, 0 elsewhere."""
        return theta_start(self.lower)

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        """The relative Cholesky factor Lambda_l of every level."""
        return relative_factors(theta, self._lam_pos)

    # -- the criterion --------------------------------------------------------------------
    def _absorb(self, S: np.ndarray, z: np.ndarray, Lam: np.ndarray, keep: np.ndarray, tape: list | None = None,
                whole: bool | None = None):
        """Add one level's random effect to every unit (Woodbury); keep columns ``keep``.

        With ``tape``, append what the reverse pass (:meth:`_backward`) needs; ``whole``:
        whether ``keep`` is every column in place (worked out when not given).
        """
        if whole is None:
            whole = len(keep) == S.shape[1] and bool(np.all(keep == np.arange(len(keep))))
        Sk = S.copy() if whole else S[:, keep[:, None], keep[None, :]]
        if len(z) == 1:
            lam2 = Lam[0, 0] ** 2
            a = S[:, z[0], :] if whole else S[:, z[0], keep]
            s = S[:, z[0], z[0]]
            m = 1.0 + lam2 * s
            w = lam2 / m
            Sk -= (a * w[:, None])[:, :, None] * a[:, None, :]
            if tape is not None:
                tape.append((a, s, m, w))
            return Sk, float(np.log(m).sum())
        if len(z) == 2 and self.closed_form_pairs:
            return self._absorb_pair(S, Sk, z, Lam, keep, whole, tape)
        Szz = S[:, z[:, None], z[None, :]]
        Szk = S[:, z[:, None], keep[None, :]]
        M = Lam.T @ Szz @ Lam + np.eye(len(z))
        Lc = np.linalg.cholesky(M)
        logdet = 2.0 * float(np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum())
        K = Lam @ np.linalg.inv(M) @ Lam.T
        B = K @ Szk
        Sk -= np.swapaxes(Szk, 1, 2) @ B
        if tape is not None:
            tape.append((Szz, Szk, K, B))
        return Sk, logdet

    @staticmethod
    def _absorb_pair(S, Sk, z, Lam, keep, whole, tape):
        """:meth:`_absorb` for two random columns (a random intercept and slope) in closed form.

        The same Woodbury step with the 2 x 2 matrices written out element by element: each
        element is a vector over the units, which is several times faster than stacked
        ``np.linalg`` calls on 2 x 2 matrices.
        """
        s00, s01, s11 = S[:, z[0], z[0]], S[:, z[0], z[1]], S[:, z[1], z[1]]
        det, (k00, k01, k11) = _pair_woodbury(s00, s01, s11, Lam)
        a0 = S[:, z[0], :] if whole else S[:, z[0], keep]
        a1 = S[:, z[1], :] if whole else S[:, z[1], keep]
        b0 = k00[:, None] * a0 + k01[:, None] * a1
        b1 = k01[:, None] * a0 + k11[:, None] * a1
        Sk -= a0[:, :, None] * b0[:, None, :]
        Sk -= a1[:, :, None] * b1[:, None, :]
        if tape is not None:
            tape.append(((s00, s01, s11), (a0, a1), (k00, k01, k11), (b0, b1)))
        return Sk, float(np.log(det).sum())

    def _prepare_first_pair(self) -> None:
        """Sums of the lowest level's kept cross-products per parent, when that level has two
        random columns and is not precomputed otherwise (:meth:`_first_pair_summed`)."""
        self._pair0 = None
        if len(self.zpos[0]) != 2 or self._c0 is not None or self._cb is not None:
            return
        n0, keep = self.A0.shape[0], self.keep_pos[0]
        par_starts = self.parents[1] if len(self.levels) > 1 else np.zeros(1, int)
        base = np.add.reduceat(self.A0[:, keep[:, None], keep[None, :]], par_starts, axis=0)
        parent = np.repeat(np.arange(len(par_starts)), np.diff(np.r_[par_starts, n0]))
        self._pair0 = (par_starts, parent, base, np.triu_indices(len(keep)))

    def _first_pair_summed(self, Lam: np.ndarray):
        """The lowest level's closed-form 2 x 2 step summed straight into its parents.

        As :meth:`_absorb_pair` on the fixed cross-products of the lowest units, but the
        per-unit correction ``a0 b0' + a1 b1'`` is formed only for the upper triangle of
        the kept columns and summed per parent, and the kept cross-products themselves
        were summed once (:meth:`_prepare_first_pair`); the units are taken in chunks of
        ``_CHUNK`` so that the temporaries stay in cache on large fits. Returns the
        parents' S, the log-determinant and the K of every unit for
        :meth:`_first_pair_gradient`.
        """
        par_starts, _, base, (iu, ju) = self._pair0
        z, keep, A = self.zpos[0], self.keep_pos[0], self.A0
        n0 = A.shape[0]
        corr = np.empty((n0, len(iu)))
        ks = np.empty((3, n0))
        logdet = 0.0
        for lo in range(0, n0, _CHUNK):
            Ac = A[lo:lo + _CHUNK]
            det, k = _pair_woodbury(Ac[:, z[0], z[0]], Ac[:, z[0], z[1]], Ac[:, z[1], z[1]], Lam)
            ks[:, lo:lo + _CHUNK] = k
            logdet += float(np.log(det).sum())
            a0, a1 = Ac[:, z[0], keep], Ac[:, z[1], keep]
            b0 = k[0][:, None] * a0 + k[1][:, None] * a1
            b1 = k[1][:, None] * a0 + k[2][:, None] * a1
            corr[lo:lo + _CHUNK] = a0[:, iu] * b0[:, ju] + a1[:, iu] * b1[:, ju]
        S = base.copy()
        S[:, iu, ju] -= np.add.reduceat(corr, par_starts, axis=0)
        S[:, ju, iu] = S[:, iu, ju]
        return S, logdet, ks

    def _first_pair_gradient(self, G: np.ndarray, Lam: np.ndarray, ks: np.ndarray) -> np.ndarray:
        """Gradient in Lambda of :meth:`_first_pair_summed`, ``G`` the adjoint of the parents' S
        (or of the top cross-products for a single level): :meth:`_backward_pair` with
        ``H_ij = a_i' G a_j`` from the upper triangle of each unit's parent's ``G``."""
        _, parent, _, (iu, ju) = self._pair0
        z, keep, A = self.zpos[0], self.keep_pos[0], self.A0
        Gp = (G[None] if G.ndim == 2 else G)[:, iu, ju] * np.where(iu == ju, 1.0, 2.0)
        gL = np.zeros((2, 2))
        for lo in range(0, A.shape[0], _CHUNK):
            Ac, sl = A[lo:lo + _CHUNK], slice(lo, lo + _CHUNK)
            g = Gp[parent[sl]] if len(Gp) > 1 else Gp[0]
            a0, a1 = Ac[:, z[0], keep], Ac[:, z[1], keep]
            c00, c11 = a0[:, iu] * a0[:, ju], a1[:, iu] * a1[:, ju]
            c01 = 0.5 * (a0[:, iu] * a1[:, ju] + a0[:, ju] * a1[:, iu])
            if g.ndim == 1:  # one parent
                h00, h01, h11 = c00 @ g, c01 @ g, c11 @ g
            else:
                h00, h01, h11 = (np.einsum("up,up->u", g, c) for c in (c00, c01, c11))
            s = (Ac[:, z[0], z[0]], Ac[:, z[0], z[1]], Ac[:, z[1], z[1]])
            gL += _pair_lambda_gradient(s, tuple(ks[:, sl]), (h00, h01, h11), Lam)
        return gL

    def _backward_pair(self, Gu, piece, Lam, need_S, l):
        """The reverse step of :meth:`_absorb_pair`: the formulas of :meth:`_backward` for
        q = 2 element by element. Returns the gradient in Lambda and the adjoint of S."""
        (s00, s01, s11), (a0, a1), (k00, k01, k11), _ = piece
        if Gu.shape[0] > 1:
            g0, g1 = np.einsum("uij,uj->ui", Gu, a0), np.einsum("uij,uj->ui", Gu, a1)
        else:
            g0, g1 = a0 @ Gu[0], a1 @ Gu[0]  # G symmetric
        h00, h01, h11 = np.einsum("ui,ui->u", a0, g0), np.einsum("ui,ui->u", a0, g1), np.einsum("ui,ui->u", a1, g1)
        gL = _pair_lambda_gradient((s00, s01, s11), (k00, k01, k11), (h00, h01, h11), Lam)
        if not need_S:
            return gL, None
        z, keep = self.zpos[l], self.keep_pos[l]
        Gs = self._spread(Gu, len(s00), l)
        cols = slice(None) if self._keep_all[l] else keep
        for i, gb in ((0, k00[:, None] * g0 + k01[:, None] * g1), (1, k01[:, None] * g0 + k11[:, None] * g1)):
            Gs[:, cols, z[i]] -= gb
            Gs[:, z[i], cols] -= gb
        kh00, kh01 = k00 * h00 + k01 * h01, k00 * h01 + k01 * h11
        kh10, kh11 = k01 * h00 + k11 * h01, k01 * h01 + k11 * h11
        Gs[:, z[0], z[0]] += kh00 * k00 + kh01 * k01 + k00
        off = kh00 * k01 + kh01 * k11 + k01
        Gs[:, z[0], z[1]] += off
        Gs[:, z[1], z[0]] += off
        Gs[:, z[1], z[1]] += kh10 * k01 + kh11 * k11 + k11
        return gL, Gs

    def _bottom_up(self, theta: np.ndarray, store: bool = False, tape: list | None = None):
        """Top cross-products, ldL2, the levels' summed S (``store``) and the first level used.

        ``store`` keeps each level's S before absorbing it (all levels, no compression);
        ``tape`` collects the pieces of the reverse pass.
        """
        lams = self.lambdas(theta)
        S, logdet, stored = self.A0, 0.0, []
        first = 0
        if self._c0 is not None and not store:
            S, logdet = self._first_level_compressed(float(lams[0][0, 0]) ** 2)
            first = 1
        elif self._cb is not None and not store:
            S, logdet = self._first_block_compressed(lams[0])
            first = 1
        piece0 = None
        if first == 0 and self._pair0 is not None and self.closed_form_pairs and not store:
            S, logdet, piece0 = self._first_pair_summed(lams[0])
            first = 1
        for l in range(first, len(self.levels)):
            if l > first:
                S = np.add.reduceat(S, self.parents[l], axis=0)
            if store:
                stored.append(S)
            S, ld = self._absorb(S, self.zpos[l], lams[l], self.keep_pos[l], tape, self._keep_all[l])
            logdet += ld
        if piece0 is not None and tape is not None:
            tape.append(piece0)  # last: the levels above keep their places tape[l - first]
        return S.sum(axis=0), logdet, stored, lams, first

    def _backward(self, G: np.ndarray, lams, tape, first: int) -> np.ndarray:
        """Gradient in theta of ``logdet + <G, T>`` (``T`` the top cross-products).

        Reverse mode through the recursion. For one unit with ``D = Lambda Lambda'``,
        ``K = Lambda M^-1 Lambda'`` and ``P = I - K S_zz``: ``S_out = S_kk - S_kz K S_zk``
        and ``logdet = log det(I + D S_zz)`` give, for the adjoint ``G`` of ``S_out`` and
        ``H = S_zk G S_kz``, the adjoint of D ``S_zz P - P' H P`` and that of S
        ``E_k G E_k' - (A + A') + E_z (K H K + K) E_z'`` with ``A = E_k G B' E_z'``,
        ``B = K S_zk``. The adjoint of a sum of children is passed to every child; the
        gradient in Lambda is ``2 Gbar_D Lambda``.
        """
        grad = np.zeros(self.n_theta)
        Gu = G[None]
        if first == len(self.levels):  # one level, precomputed (a block or summed pairs)
            idx, r, c, _ = self._lam_pos[0]
            gL = (self._first_block_gradient(G, lams[0]) if self._cb is not None
                  else self._first_pair_gradient(G, lams[0], tape[-1]))
            grad[idx] = gL[r, c]
            return grad
        for l in range(len(self.levels) - 1, first - 1, -1):
            z, keep, Lam = self.zpos[l], self.keep_pos[l], lams[l]
            idx, r, c, _ = self._lam_pos[l]
            need_S = l > 0
            if len(z) == 1:
                a, s_, m, w = tape[l - first]
                Ga = np.einsum("uij,uj->ui", Gu, a) if Gu.shape[0] > 1 else a @ Gu[0]
                H = np.einsum("ui,ui->u", a, Ga)
                gD = float(np.sum(s_ / m - H / m**2))
                grad[idx] = 2.0 * gD * Lam[r, c]
                if need_S:
                    Gs = self._spread(Gu, len(a), l)
                    A = Ga * w[:, None]
                    cols = slice(None) if self._keep_all[l] else keep
                    Gs[:, cols, z[0]] -= A
                    Gs[:, z[0], cols] -= A
                    Gs[:, z[0], z[0]] += w**2 * H + w
            elif len(z) == 2 and self.closed_form_pairs:
                gL, Gs = self._backward_pair(Gu, tape[l - first], Lam, need_S, l)
                grad[idx] = gL[r, c]
            else:
                Szz, Szk, K, B = tape[l - first]
                GSzk = np.swapaxes(Szk, 1, 2)
                GB = Gu @ np.swapaxes(B, 1, 2)  # (u, kk, q)
                H = Szk @ Gu @ GSzk
                P = np.eye(len(z)) - K @ Szz
                gD = np.sum(Szz @ P - np.swapaxes(P, 1, 2) @ H @ P, axis=0)
                gL = 2.0 * (0.5 * (gD + gD.T)) @ Lam
                grad[idx] = gL[r, c]
                if need_S:
                    Gs = self._spread(Gu, len(Szz), l)
                    Gs[:, keep[:, None], z[None, :]] -= GB
                    Gs[:, z[:, None], keep[None, :]] -= np.swapaxes(GB, 1, 2)
                    Gs[:, z[:, None], z[None, :]] += K @ H @ K + K
            if not need_S:
                break
            if l == first and first == 1:  # below: the compressed first level
                if self._c0 is not None:
                    grad[self._lam_pos[0][0]] = self._first_level_gradient(Gs, float(lams[0][0, 0]))
                else:
                    idx0, r0, c0, _ = self._lam_pos[0]
                    gL0 = (self._first_block_gradient(Gs, lams[0]) if self._cb is not None
                           else self._first_pair_gradient(Gs, lams[0], tape[-1]))
                    grad[idx0] = gL0[r0, c0]
                break
            Gu = Gs[self._parent_of[l]]
        return grad

    def _spread(self, Gu: np.ndarray, n_units: int, l: int) -> np.ndarray:
        """The adjoint of the kept columns placed in the columns of level ``l`` (per unit)."""
        if self._keep_all[l]:
            return Gu.copy() if Gu.shape[0] == n_units else np.repeat(Gu, n_units, axis=0)
        k, keep = len(self.cols[l]), self.keep_pos[l]
        Gs = np.zeros((n_units, k, k))
        Gs[:, keep[:, None], keep[None, :]] = Gu
        return Gs

    def _first_level_gradient(self, G: np.ndarray, lam: float) -> float:
        """d/d lambda of the compressed first level, ``G`` the adjoint of its parents' S."""
        _, P, g_s, _, s_val, counts = self._c0
        lam2 = lam * lam
        inner = np.einsum("gij,gij->g", P, G[self._c0_parent])
        d_lam2 = float(np.dot(counts, s_val / (1.0 + lam2 * s_val))) - float(np.sum(inner / (1.0 + lam2 * g_s) ** 2))
        return 2.0 * lam * d_lam2

    def _top_adjoint(self, T: np.ndarray, reml: bool, sigma2: float | None):
        """Value pieces at the top and the adjoint ``G`` of ``T`` for the criterion."""
        p = self.p
        xtvx = T[:p, :p]
        R = np.linalg.cholesky(xtvx)
        inv = np.linalg.inv(xtvx)
        beta = inv @ T[:p, p]
        pwrss = float(T[p, p] - T[:p, p] @ beta)
        u = np.empty(p + 1)
        u[:p], u[p] = beta, -1.0
        G = u[:, None] * (u * ((self.n - p if reml else self.n) / pwrss if sigma2 is None else 1.0 / sigma2))
        if reml:
            G[:p, :p] += inv
        return G, beta, pwrss, 2.0 * float(np.log(R.diagonal()).sum()), xtvx

    def gradient(self, theta: np.ndarray, reml: bool | None = None, sigma: float | None = None):
        """The criterion and its analytic gradient in theta.

        With ``sigma`` None: the profiled criterion of :meth:`criterion`; with ``sigma``:
        :meth:`varpar_deviance` at ``(theta, sigma)`` (its gradient in theta only).

        Returns
        -------
        (value, gradient)
        """
        value, grad, _ = self._value_gradient(theta, reml, sigma)
        return value, grad

    def _value_gradient(self, theta, reml=None, sigma=None):
        """:meth:`gradient` plus the Evaluation at ``theta``."""
        reml = self.reml if reml is None else reml
        theta = np.asarray(theta, float)
        self.n_eval += 1
        tape: list = []
        T, ldL2, _, lams, first = self._bottom_up(theta, tape=tape)
        s2 = None if sigma is None else float(sigma) ** 2
        try:
            G, beta, pwrss, ldRX2, xtvx = self._top_adjoint(T, reml, s2)
        except np.linalg.LinAlgError:
            # X'V^-1X lost positive definiteness to rounding at an extreme trial point of
            # the line search (a huge relative SD): no valid criterion there, so the
            # search steps back, as for a non-positive residual sum of squares.
            nan = np.full(self.p, np.nan)
            return np.inf, np.full(self.n_theta, np.nan), Evaluation(ldL2, np.nan, np.nan, nan, T[: self.p, : self.p])
        ev = Evaluation(ldL2, ldRX2, pwrss, beta, xtvx)
        if pwrss <= 0:
            return np.inf, np.full(self.n_theta, np.nan), ev
        grad = self._backward(G, lams, tape, first)
        if s2 is None:
            nmp = self.n - self.p if reml else self.n
            value = ldL2 + nmp * (1.0 + _LOG2PI + np.log(pwrss / nmp)) + (ldRX2 if reml else 0.0)
        else:
            value = ldL2 + pwrss / s2 + self.n * np.log(2 * np.pi * s2)
            if reml:
                value += ldRX2 - self.p * np.log(2 * np.pi * s2)
        return float(value), grad, ev

    def _gradients_two_sigmas(self, theta: np.ndarray, sigma: float):
        """The gradients of :meth:`varpar_deviance` in theta at ``sigma`` and ``2 sigma`` and the
        Evaluation: one bottom-up pass, two reverse passes (as two :meth:`_value_gradient`)."""
        s2 = float(sigma) ** 2
        tape: list = []
        T, ldL2, _, lams, first = self._bottom_up(theta, tape=tape)
        try:
            G1, beta, pwrss, ldRX2, xtvx = self._top_adjoint(T, self.reml, s2)
            G2 = self._top_adjoint(T, self.reml, float(2.0 * sigma) ** 2)[0]
        except np.linalg.LinAlgError:
            G1 = None
        if G1 is None or pwrss <= 0:  # no valid criterion here: as _value_gradient says it
            _, g1, ev = self._value_gradient(theta, sigma=sigma)
            return g1, self._value_gradient(theta, sigma=2.0 * sigma)[1], ev
        self.n_eval += 2
        g1, g2 = self._backward(G1, lams, tape, first), self._backward(G2, lams, tape, first)
        return g1, g2, Evaluation(ldL2, ldRX2, pwrss, beta, xtvx)

    def varpar_hessian(self, theta: np.ndarray, sigma: float):
        """Hessian of :meth:`varpar_deviance` in ``(theta, sigma)`` and the Jacobian of
        :meth:`vcov_beta`, as lmerTest's Satterthwaite method needs them.

        The theta block by central differences of the analytic gradient (steps ``1e-4
        max(1, |theta_i|)``), which also give ``X'V^-1X`` at the shifted points for the
        Jacobian; the sigma row and column exactly: the deviance is ``a(theta) +
        pwrss(theta) / sigma^2 + (n - p_REML) log sigma^2``, so ``d2/dsigma2 = 6 pwrss /
        sigma^4 - 2 (n - p_REML) / sigma^2``, ``d2/dtheta dsigma = -2 grad pwrss /
        sigma^3``, and ``d vcov / d sigma = 2 sigma (X'V^-1X)^-1``.

        Returns
        -------
        (H, jacobian, vcov) with shapes (m, m), (m, p, p), (p, p), m = len(theta) + 1.
        """
        theta = np.asarray(theta, float)
        k, p, s2 = self.n_theta, self.p, float(sigma) ** 2
        H = np.empty((k + 1, k + 1))
        jac = np.empty((k + 1, p, p))
        h = 1e-4 * np.maximum(np.abs(theta), 1.0)
        for i in range(k):
            e = np.zeros(k)
            e[i] = h[i]
            _, gp, evp = self._value_gradient(theta + e, sigma=sigma)
            _, gm, evm = self._value_gradient(theta - e, sigma=sigma)
            H[:k, i] = (gp - gm) / (2 * h[i])
            jac[i] = s2 * (np.linalg.inv(evp.xtvx) - np.linalg.inv(evm.xtvx)) / (2 * h[i])
        H[:k, :k] = 0.5 * (H[:k, :k] + H[:k, :k].T)
        g1, g2, ev = self._gradients_two_sigmas(theta, sigma)
        grad_pwrss = (g1 - g2) / (1.0 / s2 - 0.25 / s2)  # the gradient is linear in 1/sigma^2
        H[:k, k] = H[k, :k] = -2.0 * grad_pwrss / float(sigma) ** 3
        H[k, k] = 6.0 * ev.pwrss / s2**2 - 2.0 * (self.n - (p if self.reml else 0)) / s2
        xtvx_inv = np.linalg.inv(ev.xtvx)
        jac[k] = 2.0 * float(sigma) * xtvx_inv
        return H, jac, s2 * xtvx_inv

    def evaluate(self, theta: np.ndarray) -> Evaluation:
        """ldL2, ldRX2, pwrss and beta-hat at ``theta``."""
        self.n_eval += 1
        T, ldL2, *_ = self._bottom_up(np.asarray(theta, float))
        p = self.p
        xtvx = T[:p, :p]
        R = np.linalg.cholesky(xtvx)
        beta = scipy.linalg.cho_solve((R, True), T[:p, p])
        pwrss = float(T[p, p] - T[:p, p] @ beta)
        return Evaluation(ldL2, 2.0 * float(np.log(R.diagonal()).sum()), pwrss, beta, xtvx)

    def criterion(self, theta: np.ndarray, reml: bool | None = None) -> float:
        """Profiled deviance: lme4's REMLcrit (REML) or deviance (ML)."""
        reml = self.reml if reml is None else reml
        try:
            ev = self.evaluate(theta)
        except np.linalg.LinAlgError:  # X'V^-1X not positive definite in floating point
            return np.inf
        if not ev.pwrss > 0:
            return np.inf
        if reml:
            nmp = self.n - self.p
            return ev.ldL2 + ev.ldRX2 + nmp * (1.0 + _LOG2PI + np.log(ev.pwrss / nmp))
        return ev.ldL2 + self.n * (1.0 + _LOG2PI + np.log(ev.pwrss / self.n))

    def sigma(self, ev: Evaluation, reml: bool | None = None) -> float:
        reml = self.reml if reml is None else reml
        return float(np.sqrt(ev.pwrss / (self.n - self.p if reml else self.n)))

    def varpar_deviance(self, varpar: np.ndarray) -> float:
        """Deviance at (theta, sigma), beta profiled: lmerTest's ``devfun_vp``."""
        theta, sigma2 = varpar[:-1], varpar[-1] ** 2
        ev = self.evaluate(theta)
        dev = ev.ldL2 + ev.pwrss / sigma2 + self.n * np.log(2 * np.pi * sigma2)
        if self.reml:
            dev += ev.ldRX2 - self.p * np.log(2 * np.pi * sigma2)
        return float(dev)

    def vcov_beta(self, varpar: np.ndarray) -> np.ndarray:
        """sigma^2 (X'V^-1X)^-1 at (theta, sigma): lmerTest's ``vcovbeta_vp``."""
        ev = self.evaluate(varpar[:-1])
        return varpar[-1] ** 2 * np.linalg.inv(ev.xtvx)

    # -- optimisation ---------------------------------------------------------------------
    def _scalar_diag(self) -> np.ndarray:
        """Diagonal elements of theta that are whole (1 x 1) blocks: the criterion is even in them."""
        out = np.zeros(self.n_theta, bool)
        for sl in self.theta_slices:
            for s, rows, _ in sl:
                if len(rows) == 1:
                    out[s.start] = True
        return out

    def _fd_hessian(self, x: np.ndarray, g: np.ndarray | None = None, central: bool = False) -> np.ndarray:
        """Hessian by differences of the analytic gradient (forward, or central)."""
        m = len(x)
        H = np.empty((m, m))
        h = 1e-4 * np.maximum(1.0, np.abs(x))
        bounded = self._bounded & (x - h < 0)
        for i in range(m):
            e = np.zeros(m)
            e[i] = h[i]
            gp = self.gradient(x + e)[1]
            if central and not bounded[i]:
                H[:, i] = (gp - self.gradient(x - e)[1]) / (2 * h[i])
            else:
                H[:, i] = (gp - (self.gradient(x)[1] if g is None else g)) / h[i]
        return 0.5 * (H + H.T)

    def _local(self, start: np.ndarray):
        """Projected quasi-Newton (BFGS) from ``start`` with the analytic gradient.

        The Hessian starts from differences of the gradient, so the BFGS updates converge
        in a few steps. Diagonal elements of scalar blocks are left unbounded: the
        criterion is even in them, so a variance of 0 is an ordinary interior minimum at
        theta = 0 and Newton-type steps converge to it quickly; their sign is dropped at
        the end. Diagonal elements of correlated blocks keep their bound 0 (projection, a
        coordinate at the bound with a positive gradient is held there). Stops when the
        Newton decrement ``g' H^-1 g`` (about twice the distance to the optimum in the
        criterion) is below 1e-12.
        """
        lo = np.where(self._bounded, 0.0, -np.inf)
        x = np.maximum(np.asarray(start, float), lo)
        f, g = self.gradient(x)
        self._last_gradient = (x, g)
        if not np.isfinite(f):
            return x, f
        H = _make_pd(self._fd_hessian(x, g))
        for _ in range(200):
            active = self._bounded & (x <= 0) & (g > 0)
            free = ~active
            step = np.zeros_like(x)
            step[free] = -np.linalg.solve(H[np.ix_(free, free)], g[free])
            decrement = -float(g[free] @ step[free])
            if decrement < 1e-12:
                break
            t, accepted = 1.0, False
            while t > 1e-12:
                xn = np.maximum(x + t * step, lo)
                fn, gn = self.gradient(xn)
                if fn <= f + 1e-4 * float(g @ (xn - x)):
                    accepted = True
                    break
                t *= 0.25
            if not accepted:
                H = _make_pd(self._fd_hessian(x, g))  # start again from a fresh Hessian
                fn2 = f
                step2 = np.zeros_like(x)
                step2[free] = -np.linalg.solve(H[np.ix_(free, free)], g[free])
                xn = np.maximum(x + 1e-3 * step2, lo)
                fn, gn = self.gradient(xn)
                if not fn < fn2:
                    break
            sv, yv = xn - x, gn - g
            sy = float(sv @ yv)
            x, f, g = xn, fn, gn
            self._last_gradient = (x, g)  # check() at this point reuses it
            if sy > 1e-12 * float(sv @ sv) and np.isfinite(sy):
                Hs = H @ sv
                H = H + np.outer(yv, yv) / sy - np.outer(Hs, Hs) / float(sv @ Hs)
            if np.max(np.abs(sv)) < 1e-12:
                break
        x = np.where(self._scalar, np.abs(x), x)
        tiny = self._scalar & (x < 1e-6) & (x > 0)
        if tiny.any():  # converging to a variance of 0 from inside: put it at 0 exactly
            x0 = np.where(tiny, 0.0, x)
            f0 = self.criterion(x0)
            if f0 <= f + 1e-10:
                x, f = x0, f0
        return x, f

    def check(self, x: np.ndarray, fx: float):
        """Gradient and Hessian of the criterion at ``x`` and whether they show an optimum.

        Free coordinates need a small gradient (scaled by the Hessian, as lme4's
        ``check.conv.grad``) and a positive definite Hessian; a diagonal element at its
        bound 0 needs a non-negative gradient (a correlated block) or a non-negative
        curvature (a scalar block, where the criterion is even and the gradient 0).
        The Hessian is by forward differences of the analytic gradient (relative error
        about 1e-4, ample for these checks).
        """
        last = getattr(self, "_last_gradient", None)
        g = last[1] if last is not None and np.array_equal(last[0], x) else self.gradient(x)[1]
        H = self._fd_hessian(x, g)
        at_bound = self._diag & (x <= SINGULAR_TOL * 1e-2)
        free = ~at_bound
        ok, msg = True, "converged"
        if np.any(g[at_bound & self._bounded] < -1e-4):
            ok, msg = False, "gradient pushes a variance below zero"
        curv = np.diag(H)[at_bound & self._scalar]
        if np.any(curv < -1e-6 * max(1.0, np.abs(H).max())):
            ok, msg = False, "the criterion falls when a variance at zero grows"
        if free.any():
            Hf = H[np.ix_(free, free)]
            ev = np.linalg.eigvalsh(Hf)
            if ev.min() <= 0:
                ok, msg = False, f"Hessian not positive definite (eigenvalues {ev.round(6)})"
            else:
                scaled = np.linalg.solve(Hf, g[free])
                if np.max(np.abs(scaled)) > 1e-4:
                    ok, msg = False, f"scaled gradient {np.max(np.abs(scaled)):.2g} too large"
        return g, H, ok, msg

    def _mirrored(self, x: np.ndarray) -> np.ndarray | None:
        """Restart point for a boundary optimum of a correlated block.

        Negating a column of Lambda leaves Lambda Lambda' unchanged, so with a diagonal
        element at 0 the elements below it can sit in the mirror image of the region that
        holds the optimum; the bound keeps the optimiser from crossing over. The restart
        negates them and moves the diagonal off the bound. Scalar blocks have no elements
        below the diagonal (and no bound in the optimiser), so they need no restart.
        """
        y, changed = x.copy(), False
        for sl in self.theta_slices:
            for s, rows, cols in sl:
                t = y[s]
                for j in np.unique(cols):
                    d = np.flatnonzero((rows == j) & (cols == j))[0]
                    below = np.flatnonzero((cols == j) & (rows > j))
                    if t[d] <= SINGULAR_TOL and len(below):
                        t[d] = 0.5
                        t[below] = -t[below]
                        changed = True
                y[s] = t
        return y if changed else None

    def optimize(self, start: np.ndarray | None = None) -> OptimResult:
        """Minimise the criterion over theta from lme4's start, with extra starts if needed.

        An optimum that passes its checks (:meth:`check`: small scaled gradient, positive
        definite Hessian on the free coordinates, no variance at 0 that the criterion wants
        to grow) is kept; for a correlated block with a diagonal element at 0 the mirrored
        boundary point is tried too. When the checks fail, the mirrored point and 0.3 and
        3 times the start are tried; the best is kept.
        """
        self.n_eval = 0
        base = self.theta_start() if start is None else np.asarray(start, float)
        x, fx = self._local(base)
        g, H, ok, msg = self.check(x, fx)
        n_starts = 1
        extra = [self._mirrored(x)]
        if not ok:
            extra += [0.3 * base + 0.1, 3.0 * base + 0.1]
        better = False
        for s in (e for e in extra if e is not None):
            n_starts += 1
            xs, fs = self._local(s)
            if fs < fx - 1e-10:
                x, fx, better = xs, fs, True
        if better:
            g, H, ok, msg = self.check(x, fx)
        return OptimResult(x, fx, g, H, self.n_eval, n_starts, ok, msg)

    # -- conditional modes ----------------------------------------------------------------
    def conditional_modes(self, theta: np.ndarray, beta: np.ndarray, sigma: float):
        """Conditional modes b and conditional covariances per unit at every level.

        Top-down: the top units' modes follow from their cross-products with the lower
        levels integrated out; a lower unit's mode given its ancestors is linear in them,
        so the ancestors' modes are plugged in and its conditional covariance adds the
        propagated covariance of the ancestor chain (lme4's ``ranef(condVar = TRUE)``).

        Returns
        -------
        list of (modes (units, q), covariances (units, q, q)), finest level first; units in
        the engine's sorted order (see ``unit_codes``).
        """
        stored = self._bottom_up(theta, store=True)[2]
        lams = self.lambdas(theta)
        L = len(self.levels)
        out: list = [None] * L
        chain_vals = chain_cov = None
        for l in range(L - 1, -1, -1):
            S, cols = stored[l], self.cols[l]
            z = self.zpos[l]
            xp = np.array([cols.index(k) for k in self.x_idx])
            yp = cols.index(self.y_idx)
            Lam = lams[l]
            r = S[:, z, yp] - S[:, z[:, None], xp[None, :]] @ beta
            Mi = np.linalg.inv(np.einsum("ji,ujk,kl->uil", Lam, S[:, z[:, None], z[None, :]], Lam) + np.eye(len(z)))
            K = Lam @ Mi @ Lam.T
            if chain_vals is None:
                b = np.einsum("uij,uj->ui", K, r)
                cov = sigma**2 * K
                chain_vals, chain_cov = b, cov
            else:
                anc = np.array([cols.index(k) for m in range(l + 1, L) for k in self.z_idx[m]])
                par = np.repeat(np.arange(len(self.parents[l + 1])), np.diff(np.r_[self.parents[l + 1], len(S)]))
                pv, pc = chain_vals[par], chain_cov[par]
                Sza = S[:, z[:, None], anc[None, :]]
                b = np.einsum("uij,uj->ui", K, r - np.einsum("uij,uj->ui", Sza, pv))
                G = -K @ Sza
                cross = G @ pc
                cov = sigma**2 * K + cross @ np.swapaxes(G, 1, 2)
                top = np.concatenate([cov, cross], axis=2)
                bottom = np.concatenate([np.swapaxes(cross, 1, 2), pc], axis=2)
                chain_cov = np.concatenate([top, bottom], axis=1)
                chain_vals = np.concatenate([b, pv], axis=1)
            out[l] = (b, cov)
        return out


def _pair_woodbury(s00, s01, s11, Lam):
    """Per unit ``det M`` and ``K = Lambda M^-1 Lambda'`` (upper triangle) for ``M = I +
    Lambda' S_zz Lambda`` with 2 x 2 ``S_zz`` given by its elements (vectors over units)."""
    (la, lb), (lc, ld) = Lam
    t00, t01, t10, t11 = s00 * la + s01 * lc, s00 * lb + s01 * ld, s01 * la + s11 * lc, s01 * lb + s11 * ld
    m00, m01, m11 = la * t00 + lc * t10 + 1.0, la * t01 + lc * t11, lb * t01 + ld * t11 + 1.0
    det = m00 * m11 - m01 * m01
    if not np.all(det > 0):
        raise np.linalg.LinAlgError("I + Lambda' Z'Z Lambda not positive definite")
    inv_det = 1.0 / det
    k00 = (la * la * m11 - 2.0 * la * lb * m01 + lb * lb * m00) * inv_det
    k01 = (la * lc * m11 - (la * ld + lb * lc) * m01 + lb * ld * m00) * inv_det
    k11 = (lc * lc * m11 - 2.0 * lc * ld * m01 + ld * ld * m00) * inv_det
    return det, (k00, k01, k11)


def _pair_lambda_gradient(s, k, h, Lam):
    """Gradient in Lambda of a 2 x 2 level: ``2 sym(gD) Lambda`` with ``gD = sum over units of
    S_zz P - P' H P``, ``P = I - K S_zz`` (see :meth:`NestedEngine._backward`), from the
    upper triangles ``s``, ``k``, ``h`` of S_zz, K and H (vectors over units)."""
    (s00, s01, s11), (k00, k01, k11), (h00, h01, h11) = s, k, h
    p00, p01 = 1.0 - (k00 * s00 + k01 * s01), -(k00 * s01 + k01 * s11)
    p10, p11 = -(k01 * s00 + k11 * s01), 1.0 - (k01 * s01 + k11 * s11)
    hp00, hp01 = h00 * p00 + h01 * p10, h00 * p01 + h01 * p11
    hp10, hp11 = h01 * p00 + h11 * p10, h01 * p01 + h11 * p11
    gD = np.array([
        [np.sum(s00 * p00 + s01 * p10 - (p00 * hp00 + p10 * hp10)),
         np.sum(s00 * p01 + s01 * p11 - (p00 * hp01 + p10 * hp11))],
        [np.sum(s01 * p00 + s11 * p10 - (p01 * hp00 + p11 * hp10)),
         np.sum(s01 * p01 + s11 * p11 - (p01 * hp01 + p11 * hp11))],
    ])
    return 2.0 * (0.5 * (gD + gD.T)) @ Lam


@dataclass
class _BlockLevel:
    """The lowest level with a block of random effects, precomputed per (parent, S_zz) group."""

    base: np.ndarray  # (parents, k, k): summed cross-products of the kept columns
    P: np.ndarray  # (groups, q, k, q, k): sums of S_zk[i, a] S_zk[j, b] over a group's units
    Szz: np.ndarray  # (patterns, q, q): the distinct S_zz
    counts: np.ndarray  # (patterns,): units per pattern
    g_parent: np.ndarray  # (groups,): parent unit of each group
    g_s: np.ndarray  # (groups,): pattern of each group
    pstarts: np.ndarray  # first group of each parent


class DistinctColumns:
    """Columns kept once: :meth:`index` gives the position of an equal column, adding it
    when it is new (an intercept or covariate shared by X and several Z is stored once)."""

    def __init__(self) -> None:
        self.cols: list[np.ndarray] = []

    def index(self, col: np.ndarray) -> int:
        for k, c in enumerate(self.cols):
            if np.array_equal(c, col):
                return k
        self.cols.append(col)
        return len(self.cols) - 1


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``a`` (sorted) and, for every row, the index of its distinct row: as
    ``np.unique(a, axis=0, return_inverse=True)`` but by one-column sorts (much faster than
    sorting the rows as records)."""
    _, key = np.unique(a[:, 0], return_inverse=True)
    for j in range(1, a.shape[1]):
        _, col = np.unique(a[:, j], return_inverse=True)
        _, key = np.unique(key.ravel() * (int(col.max()) + 1) + col.ravel(), return_inverse=True)
    key = key.ravel()
    first = np.zeros(int(key.max()) + 1, int)
    first[key[::-1]] = np.arange(len(key))[::-1]
    return a[first], key


def theta_start(lower: np.ndarray) -> np.ndarray:
    """lme4's start for theta: 1 for diagonal elements (bounded below), 0 elsewhere."""
    return np.where(np.isfinite(lower), 1.0, 0.0)


def relative_factors(theta: np.ndarray, lam_pos) -> list[np.ndarray]:
    """Lambda_l of every level from theta and the (index, row, column, size) positions."""
    out = []
    for idx, r, c, q in lam_pos:
        Lam = np.zeros((q, q))
        Lam[r, c] = theta[idx]
        out.append(Lam)
    return out


def _unit_order(codes: list[np.ndarray]) -> np.ndarray:
    """Row order sorted by the units of the coarsest level, then finer ones (a lexsort).

    Nested codes are often already in that order (then no sort), or the finest codes alone
    give it (one stable sort); otherwise a full lexsort.
    """
    def monotone(c):
        return bool(np.all(c[1:] >= c[:-1]))

    if all(monotone(c) for c in codes):
        return np.arange(len(codes[0]))
    order = np.argsort(codes[0], kind="stable")
    if all(monotone(c[order]) for c in codes[1:]):
        return order
    return np.lexsort(codes)  # last key (coarsest) primary


def _make_pd(H: np.ndarray) -> np.ndarray:
    """``H`` with its eigenvalues replaced by their absolute values, at least 1e-8 of the largest."""
    ev, V = np.linalg.eigh(H)
    floor = 1e-8 * max(float(np.abs(ev).max()), 1e-12)
    return (V * np.maximum(np.abs(ev), floor)) @ V.T


def central_hessian(f, x: np.ndarray, f0: float, h: np.ndarray) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by central differences with steps ``h`` (``f0 = f(x)``)."""
    m = len(x)
    H = np.empty((m, m))
    for i in range(m):
        ei = np.zeros(m)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(m)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h[i] * h[j]
            )
    return H
