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
that level costs O(parents x distinct z'z) per evaluation (``_compress_first_level``); one evaluation of the criterion costs O(units x width^2), all with
``np.add.reduceat`` and batched ``np.linalg`` on stacks of small matrices. At the top,
``X'V^-1X``, ``X'V^-1y`` and ``y'V^-1y`` give the profiled deviance exactly as lme4
(``ldL2 + ldRX2 + (n - p) (1 + log(2 pi pwrss / (n - p)))`` for REML).

R equivalent: ``lme4::lmer(..., REML = TRUE)`` and ``lme4::mkLmerDevfun``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize

from lerendtransformeren.multilevel.frame import Level

__all__ = ["NestedEngine", "Evaluation", "OptimResult", "central_hessian"]

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

    def __init__(self, y: np.ndarray, X: np.ndarray, levels: list[Level], reml: bool = True):
        self.reml = bool(reml)
        self.n, self.p = X.shape
        self.levels = levels
        order = np.lexsort([lev.codes for lev in levels])  # last key (coarsest) primary
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
        self.unit_codes = [lev.codes[order][s] for lev, s in zip(levels, self.unit_starts)]
        # distinct columns of [X, y, Z_1, ..., Z_L]
        cols: list[np.ndarray] = []

        def index_of(col: np.ndarray) -> int:
            for k, c in enumerate(cols):
                if np.array_equal(c, col):
                    return k
            cols.append(col)
            return len(cols) - 1

        Xs, ys = X[order], y[order]
        self.x_idx = [index_of(Xs[:, j]) for j in range(self.p)]
        self.y_idx = index_of(ys)
        self.z_idx = [[index_of(b.Z[order, j]) for b in lev.blocks for j in range(b.q)] for lev in levels]
        W = np.column_stack(cols)
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
        # cross-products of the lowest units, computed once
        c0 = self.cols[0]
        k0 = len(c0)
        starts0 = self.unit_starts[0]
        A = np.empty((len(starts0), k0, k0))
        for a in range(k0):
            for b in range(a, k0):
                A[:, a, b] = A[:, b, a] = np.add.reduceat(W[:, c0[a]] * W[:, c0[b]], starts0)
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
        self.n_eval = 0
        self._compress_first_level()

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
        a = A[order][:, z, keep]
        P = np.add.reduceat(a[:, :, None] * a[:, None, :], starts, axis=0)
        g_key = ks[starts]
        g_parent, g_s = g_key // len(s_val), s_val[g_key % len(s_val)]
        base = np.add.reduceat(A[:, keep[:, None], keep[None, :]], self.parents[1], axis=0)
        counts = np.bincount(s_idx.ravel(), minlength=len(s_val))
        pstarts = np.flatnonzero(np.r_[True, g_parent[1:] != g_parent[:-1]])
        self._c0 = (base, P, g_s, pstarts, s_val, counts)

    def _first_level_compressed(self, lam2: float):
        base, P, g_s, pstarts, s_val, counts = self._c0
        w = lam2 / (1.0 + lam2 * g_s)
        S = base - np.add.reduceat(P * w[:, None, None], pstarts, axis=0)
        return S, float(np.dot(counts, np.log1p(lam2 * s_val)))

    # -- parameters -----------------------------------------------------------------------
    def theta_start(self) -> np.ndarray:
        """lme4's start: 1 on the diagonal, 0 elsewhere."""
        return np.where(np.isfinite(self.lower), 1.0, 0.0)

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        """The relative Cholesky factor Lambda_l of every level."""
        out = []
        for sl, qs in zip(self.theta_slices, self.block_q):
            Lam = np.zeros((sum(qs), sum(qs)))
            off = 0
            for (s, rows, cols), q in zip(sl, qs):
                Lam[off + rows, off + cols] = theta[s]
                off += q
            out.append(Lam)
        return out

    # -- the criterion --------------------------------------------------------------------
    def _absorb(self, S: np.ndarray, z: np.ndarray, Lam: np.ndarray, keep: np.ndarray):
        """Add one level's random effect to every unit (Woodbury); keep columns ``keep``."""
        whole = len(keep) == S.shape[1] and bool(np.all(keep == np.arange(len(keep))))
        Sk = S.copy() if whole else S[:, keep[:, None], keep[None, :]]
        if len(z) == 1:
            lam2 = Lam[0, 0] ** 2
            a = S[:, z[0], keep]
            m = 1.0 + lam2 * S[:, z[0], z[0]]
            Sk -= np.einsum("ui,uj->uij", a * (lam2 / m)[:, None], a)
            return Sk, float(np.log(m).sum())
        B = np.einsum("ji,ujk->uik", Lam, S[:, z, :])  # Lambda' S_z:
        M = B[:, :, z] @ Lam + np.eye(len(z))
        Lc = np.linalg.cholesky(M)
        C = np.linalg.solve(Lc, B[:, :, keep])
        logdet = 2.0 * float(np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum())
        Sk -= np.swapaxes(C, 1, 2) @ C
        return Sk, logdet

    def _bottom_up(self, theta: np.ndarray, store: bool = False):
        lams = self.lambdas(theta)
        S, logdet, stored = self.A0, 0.0, []
        first = 0
        if self._c0 is not None and not store:
            S, logdet = self._first_level_compressed(float(lams[0][0, 0]) ** 2)
            first = 1
        for l in range(first, len(self.levels)):
            if l > first or (l > 0 and first == 0):
                S = np.add.reduceat(S, self.parents[l], axis=0)
            if store:
                stored.append(S)
            S, ld = self._absorb(S, self.zpos[l], lams[l], self.keep_pos[l])
            logdet += ld
        return S.sum(axis=0), logdet, stored

    def evaluate(self, theta: np.ndarray) -> Evaluation:
        """ldL2, ldRX2, pwrss and beta-hat at ``theta``."""
        self.n_eval += 1
        T, ldL2, _ = self._bottom_up(np.asarray(theta, float))
        p = self.p
        xtvx = T[:p, :p]
        R = np.linalg.cholesky(xtvx)
        beta = scipy.linalg.cho_solve((R, True), T[:p, p])
        pwrss = float(T[p, p] - T[:p, p] @ beta)
        return Evaluation(ldL2, 2.0 * float(np.log(np.diag(R)).sum()), pwrss, beta, xtvx)

    def criterion(self, theta: np.ndarray, reml: bool | None = None) -> float:
        """Profiled deviance: lme4's REMLcrit (REML) or deviance (ML)."""
        reml = self.reml if reml is None else reml
        ev = self.evaluate(theta)
        if ev.pwrss <= 0:
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
    def _grad(self, f, x: np.ndarray, f0: float) -> np.ndarray:
        """Central differences; one-sided (forward) for a diagonal element at its bound 0.

        The criterion is even in each diagonal element of theta, so its central
        derivative at 0 is always 0; the forward difference shows whether moving off the
        bound lowers the criterion.
        """
        g = np.empty_like(x)
        at_bound = np.isfinite(self.lower) & (x <= 0.0)
        for i in range(len(x)):
            h = 1e-6 * max(1.0, abs(x[i]))
            e = np.zeros_like(x)
            e[i] = h
            if at_bound[i]:
                g[i] = (f(x + e) - f0) / h
            else:
                g[i] = (f(x + e) - f(x - e)) / (2 * h)
        return g

    def _local(self, start: np.ndarray):
        f = self.criterion
        bounds = [(lo if np.isfinite(lo) else None, None) for lo in self.lower]

        def fg(x):
            f0 = f(x)
            return f0, self._grad(f, x, f0)

        res = scipy.optimize.minimize(
            fg, start, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-9, "maxiter": 1000},
        )
        x = np.maximum(res.x, np.where(np.isfinite(self.lower), 0.0, -np.inf))
        fx = f(x)
        # Newton polish on the free coordinates: L-BFGS-B stops where the criterion is flat
        # to its tolerance; a few Newton steps (one Hessian) reach the optimum to ~1e-9.
        free = ~(np.isfinite(self.lower) & (x <= SINGULAR_TOL * 1e-2))
        if not free.any():
            return x, fx
        H = central_hessian(lambda z: f(_put(x, free, z)), x[free], fx, 1e-4 * np.maximum(1.0, np.abs(x[free])))
        if np.linalg.eigvalsh(H).min() <= 0:
            return x, fx
        floor = np.where(np.isfinite(self.lower), 0.0, -np.inf)
        for _ in range(5):
            step = -np.linalg.solve(H, self._grad(f, x, fx)[free])
            cand = np.maximum(_put(x, free, x[free] + step), floor)
            fc = f(cand)
            if not fc < fx:
                break
            x, fx = cand, fc
            if np.max(np.abs(step)) < 1e-9:
                break
        return x, fx

    def check(self, x: np.ndarray, fx: float):
        """Gradient and Hessian of the criterion at ``x`` and whether they show an optimum.

        Free coordinates need a small gradient (scaled by the Hessian, as lme4's
        ``check.conv.grad``) and a positive definite Hessian; a coordinate at its bound
        needs a non-negative gradient.
        """
        f = self.criterion
        g = self._grad(f, x, fx)
        H = central_hessian(f, x, fx, 1e-4 * np.maximum(1.0, np.abs(x)))
        at_bound = np.isfinite(self.lower) & (x <= SINGULAR_TOL * 1e-2)
        free = ~at_bound
        ok, msg = True, "converged"
        if at_bound.any() and np.any(g[at_bound] < -1e-4):
            ok, msg = False, "gradient pushes a variance below zero"
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
        negates them and moves the diagonal off the bound.
        """
        y, changed = x.copy(), False
        for sl in self.theta_slices:
            for s, rows, cols in sl:
                t = y[s]
                for j in np.unique(cols):
                    d = np.flatnonzero((rows == j) & (cols == j))[0]
                    below = np.flatnonzero((cols == j) & (rows > j))
                    if t[d] <= SINGULAR_TOL:
                        t[d] = 0.5
                        t[below] = -t[below]
                        changed = True
                y[s] = t
        return y if changed else None

    def optimize(self, start: np.ndarray | None = None) -> OptimResult:
        """Minimise the criterion over theta from lme4's start, with extra starts if needed.

        Extra starts (the mirrored boundary point, 0.3 and 3 times the start) are tried
        when the first optimum fails its checks or is on the boundary; the best is kept.
        """
        self.n_eval = 0
        base = self.theta_start() if start is None else np.asarray(start, float)
        x, fx = self._local(base)
        g, H, ok, msg = self.check(x, fx)
        n_starts = 1
        singular = np.any(np.isfinite(self.lower) & (x < SINGULAR_TOL))
        if singular or not ok:
            extra = [self._mirrored(x), 0.3 * base + 0.1, 3.0 * base + 0.1]
            for s in (e for e in extra if e is not None):
                n_starts += 1
                xs, fs = self._local(s)
                if fs < fx - 1e-10:
                    x, fx = xs, fs
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
        _, _, stored = self._bottom_up(theta, store=True)
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


def _put(x: np.ndarray, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    y = x.copy()
    y[mask] = values
    return y


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
