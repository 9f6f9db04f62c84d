"""The building blocks of the nested GLMM: families and the weighted penalised least-squares solver.

:class:`Family` holds what PIRLS needs of a canonical-link family (binomial with the logit
link, Poisson with the log link): the inverse link as lme4 bounds it, the working weights,
minus twice the conditional log-likelihood (R's ``family$aic``) and the deviance
residuals. :class:`NestedSolver` solves one PIRLS step, a weighted penalised least-squares
problem, with the bottom-up recursion of the linear engine
(:mod:`~lerendtransformeren.multilevel.engine`), and gives the conditional covariances;
:func:`gauss_hermite` is lme4's ``GHrule``. Used by :mod:`~lerendtransformeren.multilevel.glmm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, logit

from lerendtransformeren.multilevel.engine import DistinctColumns, _unit_order
from lerendtransformeren.multilevel.frame import Level

__all__ = ["Family", "FAMILIES", "gauss_hermite", "NestedSolver", "Factor"]

_EPS = np.finfo(float).eps


# -- families ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Family:
    """A canonical-link exponential family: binomial (logit) or Poisson (log)."""

    name: str
    link: str

    def mu(self, eta: np.ndarray) -> np.ndarray:
        """Inverse link, bounded away from 0 and 1 as lme4's links are."""
        if self.name == "binomial":
            # 1 / (1 + exp(-eta)) on eta bounded to [-30, 30], in place (no temporaries on
            # large data; within an ulp of scipy's expit and several times faster)
            out = np.clip(eta, -30.0, 30.0)
            np.negative(out, out=out)
            np.exp(out, out=out)
            out += 1.0
            return np.reciprocal(out, out=out)
        out = np.minimum(eta, 700.0)
        np.exp(out, out=out)
        return np.maximum(out, _EPS, out=out)

    def weights(self, mu: np.ndarray) -> np.ndarray:
        """Working weights ``mu.eta^2 / variance`` (= the variance for a canonical link)."""
        if self.name != "binomial":
            return mu
        w = np.subtract(1.0, mu)
        w *= mu
        return w

    def dlog_weights(self, mu: np.ndarray) -> np.ndarray:
        """``d log w / d eta``: ``1 - 2 mu`` (binomial), 1 (Poisson)."""
        return 1.0 - 2.0 * mu if self.name == "binomial" else np.ones_like(mu)

    def aic_terms(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Minus twice the log-likelihood of each row (R's ``family$aic`` summands)."""
        if self.name == "binomial":
            return -2.0 * np.log(np.where(y > 0.5, mu, 1.0 - mu))
        return -2.0 * (y * np.log(mu) - mu - gammaln(y + 1.0))

    def aic_total(self, y: np.ndarray, mu: np.ndarray, success: np.ndarray | None = None) -> float:
        """The sum of :meth:`aic_terms` (fewer temporaries; ``success``: the indices of ``y > 0.5``,
        precomputed)."""
        if self.name != "binomial":
            return float(self.aic_terms(y, mu).sum())
        # -2 (sum over successes of log mu + over failures of log(1 - mu)); selecting rows by
        # a mask mispredicts branches on unordered 0/1 data, summing a gathered copy does not
        idx = np.flatnonzero(y > 0.5) if success is None else success
        t = np.subtract(1.0, mu)
        t[idx] = mu[idx]
        np.log(t, out=t)
        return -2.0 * float(t.sum())

    def dev_resid(self, y: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """Squared deviance residuals (R's ``family$dev.resids``)."""
        if self.name == "binomial":
            return self.aic_terms(y, mu)
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(y > 0, y * np.log(y / mu), 0.0)
        return 2.0 * (ylogy - (y - mu))

    def eta_start(self, y: np.ndarray) -> np.ndarray:
        """Linear predictor of R's ``mustart`` (``(y + 0.5) / 2``; ``y + 0.1``)."""
        if self.name == "binomial":  # 0/1 outcomes: two values
            return np.where(y > 0.5, logit(0.75), logit(0.25))
        return np.log(y + 0.1)

    @property
    def ratio_name(self) -> str:
        return "odds ratio" if self.name == "binomial" else "rate ratio"


FAMILIES = {"binomial": Family("binomial", "logit"), "poisson": Family("poisson", "log")}


def gauss_hermite(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for the standard normal density (lme4's ``GHrule``)."""
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / np.sqrt(2.0 * np.pi)


# -- the weighted penalised least-squares solver -----------------------------------------
@dataclass
class _Layout:
    """Columns of the per-unit cross-products at each level (indices into the distinct columns)."""

    cols: list[list[int]]
    zpos: list[np.ndarray]
    keep_pos: list[np.ndarray]
    pairs: list[tuple[int, int]]  # (a, b) positions in cols[0], a <= b
    top: list[int]  # the columns left at the top
    coef_pos: list  # per level: (positions of X, position of r, [(level m, column j, position)])
    whole: list  # per level: all columns kept in place


@dataclass
class Factor:
    """A bottom-up pass: each level's summed S (before absorbing it), its M^-1, log|L|^2."""

    stored: list[np.ndarray]
    Minv: list[np.ndarray]
    ldL2: float
    top: np.ndarray


class NestedSolver:
    """Weighted penalised least squares with nested random effects.

    Minimises ``sum_i w_i (r_i - x_i' beta - sum_l z_il' Lambda_l u_l)^2 + ||u||^2`` over
    ``u`` (and ``beta`` when ``joint``), for the levels and designs of a model frame.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    levels : list of Level
        Finest first, each unit of a level inside one unit of the next.
    """

    def __init__(self, X: np.ndarray, levels: list[Level]):
        self.n, self.p = X.shape
        self.L = len(levels)
        order = _unit_order([lev.codes for lev in levels])
        self.order = order
        # rows already in unit order (the usual case): no copies of the columns
        sort = (lambda a: a) if np.array_equal(order, np.arange(self.n)) else (lambda a: np.take(a, order, axis=0))
        self.starts, self.row_unit, self.unit_codes = [], [], []
        for lev in levels:
            c = sort(lev.codes)
            st = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            self.starts.append(st)
            self.row_unit.append(np.repeat(np.arange(len(st)), np.diff(np.r_[st, self.n])))
            self.unit_codes.append(c[st])
        # the first unit of level l - 1 in each unit of level l
        self.parents = [None] + [np.searchsorted(self.starts[l - 1], self.starts[l]) for l in range(1, self.L)]
        Zs = [np.hstack([b.Z for b in lev.blocks]) for lev in levels]
        self.Z = [Z if bool(np.all(Z == 1.0)) else sort(Z) for Z in Zs]  # intercepts need no sorting
        self.q = [Z.shape[1] for Z in self.Z]
        self.sizes = [np.diff(np.r_[st, self.n]) for st in self.starts]
        self.zmax = [np.max(np.abs(Z), axis=0) for Z in self.Z]
        self._intercept_only = [Z.shape[1] == 1 and bool(np.all(Z == 1.0)) for Z in self.Z]
        self.X = sort(X)
        self.xmax = np.max(np.abs(self.X), axis=0)
        distinct = DistinctColumns()
        index_of, cols = distinct.index, distinct.cols
        self.x_idx = [index_of(self.X[:, j]) for j in range(self.p)]
        self.z_idx = [[index_of(Z[:, j]) for j in range(Z.shape[1])] for Z in self.Z]
        self.base = np.empty((self.n, len(cols)), order="F")  # contiguous columns: fast products
        for k, c in enumerate(cols):
            self.base[:, k] = c
        self._ones = [bool(np.all(c == 1.0)) for c in cols]
        self.r_idx = len(cols)  # the working residual: the last column
        self.layouts = {joint: self._layout(joint) for joint in (True, False)}
        # ancestor unit (at level m) of every unit of level l
        self.anc = [[self.row_unit[m][self.starts[l]] for m in range(self.L)] for l in range(self.L)]

    def _layout(self, joint: bool) -> _Layout:
        extra = (self.x_idx if joint else []) + [self.r_idx]
        need = [sorted(set().union(*self.z_idx[l:], extra)) for l in range(self.L)]
        top = sorted(set(extra))
        after = need[1:] + [top]
        zpos = [np.array([need[l].index(k) for k in self.z_idx[l]]) for l in range(self.L)]
        keep_pos = [np.array([need[l].index(k) for k in after[l]]) for l in range(self.L)]
        k0 = len(need[0])
        pairs = [(a, b) for a in range(k0) for b in range(a, k0)]
        # per level: where the coefficients of beta, r and each ancestor's z sit in its columns
        coef_pos = []
        for l in range(self.L):
            anc = [(m, j, need[l].index(k)) for m in range(l + 1, self.L) for j, k in enumerate(self.z_idx[m])]
            xpos = np.array([need[l].index(k) for k in self.x_idx], int) if joint else np.zeros(0, int)
            coef_pos.append((xpos, need[l].index(self.r_idx), anc))
        whole = [len(kp) == len(c) and bool(np.all(kp == np.arange(len(c)))) for kp, c in zip(keep_pos, need)]
        return _Layout(need, zpos, keep_pos, pairs, top, coef_pos, whole)

    def cross_products(self, w: np.ndarray, r: np.ndarray | None, joint: bool, rr: bool = True) -> np.ndarray:
        """Weighted cross-products of the layout's columns per unit of the finest level.

        ``w`` and ``r`` per sorted row; ``r=None``: a zero working residual (its row and column
        of S are 0, as :meth:`with_residual` fills them). ``rr=False`` leaves the residual's
        own element (its weighted sum of squares, which the modes do not use) at 0. The one
        pass over the rows of a :meth:`factor`; the rest of it works on units only.
        """
        lay = self.layouts[joint]
        st = self.starts[0]
        cols = lay.cols[0]
        rp = cols.index(self.r_idx)
        # per column: None for a column of ones (its weighted column is w itself)
        c0 = [r if a == rp else (None if self._ones[k] else self.base[:, k]) for a, k in enumerate(cols)]
        wc = [w if c is None and a != rp else (None if c is None else w * c) for a, c in enumerate(c0)]
        S = np.zeros((len(st), len(cols), len(cols)))
        for a, b in lay.pairs:
            if (r is None and rp in (a, b)) or (a == b == rp and not rr):
                continue
            if a != rp and c0[a] is None:
                prod = wc[b]
            elif b != rp and c0[b] is None:
                prod = wc[a]
            else:
                prod = wc[a] * c0[b]
            S[:, a, b] = S[:, b, a] = np.add.reduceat(prod, st)
        return S

    def absorb(self, S0: np.ndarray, lams: list[np.ndarray], joint: bool) -> Factor:
        """Bottom-up pass from the finest units' cross-products ``S0`` (:meth:`cross_products`)."""
        lay = self.layouts[joint]
        S, stored, minv, ldL2 = S0, [], [], 0.0
        for l in range(self.L):
            if l > 0:
                S = np.add.reduceat(S, self.parents[l], axis=0)
            stored.append(S)
            with np.errstate(invalid="ignore", divide="ignore"):
                S, Mi, ld = _absorb(S, lay.zpos[l], lams[l], lay.keep_pos[l], lay.whole[l])
            minv.append(Mi)
            ldL2 += ld
        return Factor(stored, minv, ldL2, S.sum(axis=0))

    def compress_first(self, S0: np.ndarray, joint: bool):
        """What :meth:`top` needs of a finest level with one random column, formed once.

        Absorbing a scalar effect changes a unit's cross-products by ``-c a a'`` with ``a =
        S_z:``, ``c = lam^2 / (1 + lam^2 s)``, ``s = S_zz``: the outer products ``a a'`` and
        the parents' sums of ``S`` do not depend on ``lam`` (the linear engine's
        ``_compress_first_level`` without the grouping by ``s``). None when the finest level
        has several random columns or no level above it.
        """
        lay = self.layouts[joint]
        z, keep = lay.zpos[0], lay.keep_pos[0]
        if len(z) != 1 or self.L < 2:
            return None
        a = S0[:, z[0], keep]
        P = (a[:, :, None] * a[:, None, :]).reshape(len(a), -1)
        base = np.add.reduceat(S0[:, keep[:, None], keep[None, :]], self.parents[1], axis=0)
        return base, P, S0[:, z[0], z[0]].copy()

    def top(self, S0: np.ndarray, lams: list[np.ndarray], joint: bool, first=None) -> tuple[np.ndarray, float]:
        """The top cross-products and ``log|L|^2`` of :meth:`absorb` (nothing stored);
        ``first``: :meth:`compress_first` of ``S0``, which makes the finest level O(units x width^2)
        multiply-adds with no per-unit matrices."""
        if first is None:
            fac = self.absorb(S0, lams, joint)
            return fac.top, fac.ldL2
        lay = self.layouts[joint]
        base, P, s = first
        lam2 = float(lams[0][0, 0]) ** 2
        m = 1.0 + lam2 * s
        ldL2 = float(np.log(m).sum())
        S = base - np.add.reduceat(P * (lam2 / m)[:, None], self.parents[1], axis=0).reshape(base.shape)
        for l in range(1, self.L):
            if l > 1:
                S = np.add.reduceat(S, self.parents[l], axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                S, _, ld = _absorb(S, lay.zpos[l], lams[l], lay.keep_pos[l], lay.whole[l])
            ldL2 += ld
        return S.sum(axis=0), ldL2

    def factor(self, lams: list[np.ndarray], w: np.ndarray, r: np.ndarray | None, joint: bool,
               rr: bool = True) -> Factor:
        """Bottom-up pass at weights ``w`` (sorted rows) and working residual ``r`` (None: 0);
        ``rr``: as :meth:`cross_products`."""
        return self.absorb(self.cross_products(w, r, joint, rr), lams, joint)

    def with_residual(self, fac: Factor, lams: list[np.ndarray], wr: np.ndarray) -> Factor:
        """``fac`` (``joint=False``) with a working residual ``r`` given as ``wr = w r`` (``w`` the
        weights of ``fac``) instead of its own.

        Only the residual's row and column of the finest units' cross-products are summed over
        the rows (its own element, which the modes do not use, is 0); the weights' blocks are
        reused.
        """
        cols = self.layouts[False].cols[0]
        rp = cols.index(self.r_idx)
        S = fac.stored[0].copy()
        st = self.starts[0]
        S[:, rp, rp] = 0.0
        for a, k in enumerate(cols):
            if a != rp:
                S[:, a, rp] = S[:, rp, a] = np.add.reduceat(wr if self._ones[k] else wr * self.base[:, k], st)
        return self.absorb(S, lams, False)

    def newton_products(self, w: np.ndarray, e: np.ndarray, bs: list[np.ndarray], beta: np.ndarray | None,
                        joint: bool) -> np.ndarray:
        """:meth:`cross_products` for a PIRLS step, without forming its working residual.

        The working residual is ``r = e / w + Z b`` (``joint=False``) or ``e / w + X beta + Z b``
        (``joint``), ``e = y - mu`` at the current modes ``bs`` (and ``beta``). Its cross-products
        with a column ``c`` are ``sum e c + sum_k S_ck B_k``, ``B_k`` the coefficient of column
        ``k`` in the unit (its effects, those of its ancestors, beta): one pass over the rows
        for ``e``'s sums instead of forming ``r`` and ``w r``. The residual's own element is 0
        (the modes do not use it).
        """
        S = self.cross_products(w, None, joint)
        cols = self.layouts[joint].cols[0]
        rp = cols.index(self.r_idx)
        st = self.starts[0]
        B = np.zeros((len(st), len(cols)))
        for l in range(self.L):
            for j, k in enumerate(self.z_idx[l]):
                B[:, cols.index(k)] += bs[l][:, j] if l == 0 else bs[l][self.anc[0][l], j]
        if joint:
            for j, k in enumerate(self.x_idx):
                B[:, cols.index(k)] += beta[j]
        SB = np.einsum("uab,ub->ua", S, B)
        for a, k in enumerate(cols):
            if a != rp:
                sums = np.add.reduceat(e if self._ones[k] else e * self.base[:, k], st)
                S[:, a, rp] = S[:, rp, a] = sums + SB[:, a]
        return S

    def modes(self, fac: Factor, lams, joint: bool, beta=None):
        """Conditional modes ``u`` per level (units x q), top-down; and beta when ``joint``.

        Returns
        -------
        (u list, b list, beta)
        """
        lay = self.layouts[joint]
        if joint:
            T, p = fac.top, self.p
            beta = np.linalg.solve(T[:p, :p], T[:p, p])
        us, bs = [None] * self.L, [None] * self.L
        for l in range(self.L - 1, -1, -1):
            S, z, Lam = fac.stored[l], lay.zpos[l], lams[l]
            xpos, rpos, anc = lay.coef_pos[l]
            # rhs = S_z,r - S_z,X beta - sum over ancestors S_z,anc b_anc
            Sz = S[:, z, :]
            rhs = Sz[:, :, rpos].copy()
            if joint:
                rhs -= Sz[:, :, xpos] @ beta
            for m, j, pos in anc:
                rhs -= Sz[:, :, pos] * bs[m][self.anc[l][m], j][:, None]
            if len(z) == 1:
                u = fac.Minv[l][:, 0, :] * (rhs * Lam[0, 0])
            else:
                u = np.einsum("uij,uj->ui", fac.Minv[l], rhs @ Lam)
            us[l], bs[l] = u, u @ Lam.T
        return us, bs, beta

    def random_part(self, bs: list[np.ndarray]) -> np.ndarray:
        """``sum_l Z_l b_l`` per sorted row (the random intercepts summed per finest unit first)."""
        out, unit = None, None
        for l, (Z, b) in enumerate(zip(self.Z, bs)):
            if self._intercept_only[l]:
                val = b[:, 0] if l == 0 else b[self.anc[0][l], 0]
                unit = val.copy() if unit is None else unit + val
                continue
            if Z.shape[1] == 1:
                part = Z[:, 0] * np.repeat(b[:, 0], self.sizes[l])
            else:
                part = np.einsum("ij,ij->i", Z, np.repeat(b, self.sizes[l], axis=0))
            if out is None:
                out = part  # a new array: summed into in place
            else:
                out += part
        if unit is not None:
            part = np.repeat(unit, self.sizes[0])
            if out is None:
                return part
            out += part
        return out

    def posterior(self, fac: Factor, lams):
        """Conditional covariances of the random effects and the blocks ``Z_j' V^-1 Z_j``.

        ``fac`` must be a pass with ``joint=False`` (beta fixed, as lme4's ``condVar``).
        Top-down as :meth:`NestedEngine.conditional_modes`: a unit's mode given its
        ancestors is linear in them, so its covariance adds the propagated covariance of
        the ancestor chain. With ``V = W^-1 + Z D Z'`` (``D = Lambda Lambda'``) the block of
        unit ``j`` is ``G_j = S'_zz - S'_za C_a S'_az``: ``S'`` the unit's cross-products
        with its own level absorbed, ``C_a`` the conditional covariance of its ancestors.

        Returns
        -------
        (covariances, chains, G): per level (finest first) arrays (units, q, q), the joint
        covariance of each unit's effects and its ancestors' (units, Q_l, Q_l; own first,
        then the levels above) and the G blocks (units, q, q).
        """
        lay = self.layouts[False]
        covs: list = [None] * self.L
        chains: list = [None] * self.L
        Gs: list = [None] * self.L
        chain = None
        for l in range(self.L - 1, -1, -1):
            S, cols, z, Lam = fac.stored[l], lay.cols[l], lay.zpos[l], lams[l]
            K = Lam @ fac.Minv[l] @ Lam.T
            Szz = S[:, z[:, None], z[None, :]]
            Pzz = Szz - Szz @ K @ Szz  # own level absorbed
            if chain is None:
                cov, G = K, Pzz
                chain = cov
            else:
                anc = np.array([cols.index(k) for m in range(l + 1, self.L) for k in self.z_idx[m]])
                pc = chain[self.anc[l][l + 1]]
                Sza = S[:, z[:, None], anc[None, :]]
                Pza = Sza - Szz @ K @ Sza
                G = Pzz - Pza @ pc @ np.swapaxes(Pza, 1, 2)
                Gm = -K @ Sza
                cross = Gm @ pc
                cov = K + cross @ np.swapaxes(Gm, 1, 2)
                top = np.concatenate([cov, cross], axis=2)
                bottom = np.concatenate([np.swapaxes(cross, 1, 2), pc], axis=2)
                chain = np.concatenate([top, bottom], axis=1)
            covs[l], chains[l], Gs[l] = cov, chain, G
        return covs, chains, Gs

    def fixed_part(self, beta: np.ndarray) -> np.ndarray:
        """``X beta`` per sorted row, column by column.

        Not a BLAS matrix-vector product: on a busy machine OpenBLAS's threads turn each of
        these into milliseconds of waiting, and the sums do not depend on the number of
        threads.
        """
        out = np.full(self.n, float(sum(bj for bj, k in zip(beta, self.x_idx) if self._ones[k])))
        for bj, k in zip(beta, self.x_idx):
            if not self._ones[k] and bj != 0.0:
                out += bj * self.base[:, k]
        return out

    def xt(self, e: np.ndarray) -> np.ndarray:
        """``X' e``, column by column (no BLAS threads, as :meth:`fixed_part`)."""
        return np.array([float(e.sum()) if self._ones[k] else float(np.einsum("i,i->", self.base[:, k], e))
                         for k in self.x_idx])

    def level_sums(self, e: np.ndarray, l: int) -> np.ndarray:
        """``sum_{i in unit} e_i z_il`` per unit of level ``l`` (units, q_l)."""
        return np.add.reduceat(e[:, None] * self.Z[l], self.starts[l], axis=0)

    def all_level_sums(self, e: np.ndarray) -> list[np.ndarray]:
        """:meth:`level_sums` of every level; a random intercept's from the sums of the level
        below (one pass over the rows for all intercepts)."""
        out, totals = [], None
        for l in range(self.L):
            if not self._intercept_only[l]:
                out.append(self.level_sums(e, l))
                continue
            if totals is None:
                totals = [np.add.reduceat(e, self.starts[0])]
            while len(totals) <= l:
                totals.append(np.add.reduceat(totals[-1], self.parents[len(totals)]))
            out.append(totals[l][:, None])
        return out


def _absorb(S: np.ndarray, z: np.ndarray, Lam: np.ndarray, keep: np.ndarray, whole: bool):
    """Absorb one level's effects into every unit; return kept S, M^-1 per unit, log det M.

    ``whole``: every column is kept, in place (no fancy indexing needed).
    """
    Sk = S.copy() if whole else S[:, keep[:, None], keep[None, :]]
    if len(z) == 1:
        lam = Lam[0, 0]
        a = S[:, z[0], :] if whole else S[:, z[0], keep]
        m = 1.0 + lam * lam * S[:, z[0], z[0]]
        logdet = float(np.log(m).sum())
        if not logdet > -np.inf or np.isnan(logdet):  # rounding at an extreme trial point
            raise np.linalg.LinAlgError("non-positive pivot")
        ca = a * (lam * lam / m)[:, None]
        k = a.shape[1]
        if k <= 3:  # element by element: numpy's broadcasting is slow on tiny trailing axes
            for i in range(k):
                for j in range(i, k):
                    d = ca[:, i] * a[:, j]
                    Sk[:, i, j] -= d
                    if j != i:
                        Sk[:, j, i] -= d
        else:
            Sk -= ca[:, :, None] * a[:, None, :]
        return Sk, (1.0 / m)[:, None, None], logdet
    Szz = S[:, z[:, None], z[None, :]]
    M = Lam.T @ Szz @ Lam + np.eye(len(z))
    Lc = np.linalg.cholesky(M)
    Mi = np.linalg.inv(M)
    B = Lam @ Mi @ Lam.T @ S[:, z[:, None], keep[None, :]]
    Sk -= np.swapaxes(S[:, z[:, None], keep[None, :]], 1, 2) @ B
    return Sk, Mi, 2.0 * float(np.log(np.diagonal(Lc, axis1=1, axis2=2)).sum())
