"""The Gibbs sampler of :func:`~lerendtransformeren.multilevel.imputation.impute` (pure numpy).

The joint model for the ``q`` columns of ``Y`` (continuous variables, standardised, and
the latent normals of categorical variables)::

    Y_i = X_i B + sum_l u_{l, c_l(i)} + e_i,   u_{l,c} ~ N_q(0, Sigma_l),   e_i ~ N_q(0, Sigma_e)

One iteration draws, in this order (every draw from its full conditional):

1. ``B`` (flat prior): ``vec(B) ~ N(vec(B_hat), Sigma_e kron (X'X)^-1)`` with ``B_hat`` the
   least-squares fit of ``Y - sum_l u_l`` on ``X``;
2. the random effects level by level: per cluster ``c`` of level ``l`` with ``n_c`` rows,
   precision ``Sigma_l^-1 + n_c Sigma_e^-1`` and mean ``(precision)^-1 Sigma_e^-1 s_c``
   (``s_c`` the sum of the partial residuals of the cluster). All clusters of a level are
   drawn at once: with ``W`` that diagonalises both precisions (``W' Sigma_l^-1 W = I``,
   ``W' Sigma_e^-1 W = D``) the posterior covariance is ``W (I + n_c D)^-1 W'``;
   cluster sums are one sparse product with the cluster indicator matrix; after each
   level a group move shifts the level's effects by a common vector into the intercept
   (Liu & Sabatti, 2000), drawn from its conditional, so that the intercept does not mix
   slowly when it and the effects are drawn in turn;
3. ``Sigma_l | u_l ~ IW(nu_0 + n_l, S_0 + sum_c u_c u_c')``;
4. ``Sigma_e | residuals ~ IW(nu_0 + n, S_0 + E'E)``; prior ``nu_0 = q``, ``S_0 = I``
   (jomo's default) on the standardised scale;
5. the missing values given the row's observed values, mean ``X_i B + sum_l u`` and
   ``Sigma_e``: rows of frequent missingness patterns jointly per pattern (one Cholesky
   factor per pattern), the other rows one column at a time (a Gibbs step per cell,
   from the precision matrix); the latent normals of categorical variables one
   dimension at a time from their normal truncated to the region of the observed
   category (category ``k >= 1``: latent ``k`` is the largest and positive; reference
   category 0: all latents negative), unrestricted when the category is missing.

Latent scale: the latent normals are not identified in scale. The sampler runs without
constraint and after each iteration rescales every latent dimension to unit residual
variance (the latent columns of ``Y``, ``B``, every ``u_l`` and the rows/columns of the
covariance matrices together), which leaves the category draws unchanged (they depend
only on signs and orderings within a variable); cf. McCulloch & Rossi (1994) and Imai &
van Dyk (2005) on parameter-expanded samplers for multinomial probits. jomo instead
fixes the latent variances by a Metropolis-Hastings step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, sparse
from scipy.special import ndtr, ndtri

__all__ = ["SamplerSetup", "run_chain", "parameter_names", "BLOCK_PATTERN_ROWS", "MAX_BLOCK_PATTERNS"]

#: Rows of a missingness pattern from which its rows are drawn jointly (else cell by cell).
BLOCK_PATTERN_ROWS = 10
#: At most this many (the most frequent) patterns are drawn jointly.
MAX_BLOCK_PATTERNS = 64


@dataclass
class SamplerSetup:
    """Everything a chain needs (picklable arrays only).

    ``Y`` (n x q) holds the standardised continuous variables with NaN where missing and
    NaN in the latent columns; ``cats`` lists per categorical variable its first latent
    column, its number of latent columns (K - 1) and its observed category codes
    (0..K-1, -1 missing). ``codes``/``n_units``: integer cluster codes per level
    (outermost first).
    """

    Y: np.ndarray
    X: np.ndarray
    codes: list
    n_units: list
    cats: list = field(default_factory=list)
    burn: int = 500
    between: int = 100
    m: int = 1
    prior_df: float | None = None
    keep_trace: bool = True
    intercept: np.ndarray | None = None


def parameter_names(k_names: list, y_names: list, level_names: list) -> list:
    """Names of the traced parameters in trace order: B, then each Sigma_l, then Sigma_e."""
    q = len(y_names)
    names = [f"B[{a}, {b}]" for a in k_names for b in y_names]
    iu = np.triu_indices(q)
    for lev in [*level_names, "residual"]:
        names += [f"Sigma[{lev}][{y_names[i]}, {y_names[j]}]" for i, j in zip(*iu)]
    return names


def _riwishart(rng: np.random.Generator, df: float, scale: np.ndarray) -> np.ndarray:
    """One draw from the inverse Wishart with ``df`` degrees of freedom and scale matrix ``scale``.

    ``Sigma^-1 ~ Wishart(df, scale^-1)`` by Bartlett's decomposition.
    """
    q = scale.shape[0]
    c = linalg.cholesky(scale, lower=True)  # scale = C C'; scale^-1 = C^-T C^-1
    a = np.zeros((q, q))
    a[np.diag_indices(q)] = np.sqrt(rng.chisquare(df - np.arange(q)))
    il = np.tril_indices(q, -1)
    a[il] = rng.standard_normal(len(il[0]))
    # Sigma^-1 = C^-T A A' C^-1, so Sigma = C A^-T A^-1 C' = T T' with T = C A^-T
    t = linalg.solve_triangular(a, c.T, lower=True, trans=0).T  # (A^-1 C')' = C A^-T
    return t @ t.T


def _trunc_lower(rng: np.random.Generator, mean: np.ndarray, sd: float, low: np.ndarray) -> np.ndarray:
    """Normal(mean, sd) draws truncated to ``> low`` (inverse cdf, stable in the upper tail)."""
    a = (low - mean) / sd
    u = rng.random(len(a))
    out = np.empty_like(a)
    left = a < 0
    pa = ndtr(a[left])
    out[left] = ndtri(pa + u[left] * (1 - pa))
    sa = ndtr(-a[~left])  # upper-tail mass, accurate for large a
    out[~left] = -ndtri(np.maximum(sa * (1 - u[~left]), 1e-300))
    out = np.maximum(out, a)  # guard rounding at the bound
    return mean + sd * out


def _trunc_upper(rng: np.random.Generator, mean: np.ndarray, sd: float, high: np.ndarray) -> np.ndarray:
    return -_trunc_lower(rng, -mean, sd, -high)


class _Chain:
    """State and one-iteration update of one chain."""

    def __init__(self, s: SamplerSetup, rng: np.random.Generator):
        self.s, self.rng = s, rng
        n, q = s.Y.shape
        self.n, self.q = n, q
        self.miss = np.isnan(s.Y)
        self.nu0 = float(q if s.prior_df is None else s.prior_df)
        x = s.X
        self.xtx_c = linalg.cho_factor(x.T @ x, lower=True)
        self.xtx_chol = np.tril(self.xtx_c[0])
        self.ind = [sparse.csr_matrix((np.ones(n), (c, np.arange(n))), shape=(nu, n))
                    for c, nu in zip(s.codes, s.n_units)]
        self.counts = [np.bincount(c, minlength=nu).astype(float) for c, nu in zip(s.codes, s.n_units)]
        self.latent = np.zeros(q, bool)
        for start, width, _ in s.cats:
            self.latent[start:start + width] = True
        self._patterns()
        self._start()

    def _patterns(self) -> None:
        """Frequent missingness patterns of the continuous columns (drawn jointly), and the rest."""
        cont = self.miss & ~self.latent
        rows = np.flatnonzero(cont.any(axis=1))
        self.blocks, rest = [], np.zeros(self.n, bool)
        if len(rows):
            pats, inv, cnt = np.unique(cont[rows], axis=0, return_inverse=True, return_counts=True)
            inv = inv.ravel()
            order = np.argsort(-cnt, kind="stable")
            chosen = set(int(i) for i in order[:MAX_BLOCK_PATTERNS] if cnt[i] >= BLOCK_PATTERN_ROWS)
            for i in sorted(chosen):
                r, mis = rows[inv == i], np.flatnonzero(pats[i])
                obs = np.flatnonzero(~pats[i])
                self.blocks.append((r, mis, obs, np.ix_(r, mis), np.ix_(r, obs), np.ix_(mis, mis), np.ix_(mis, obs)))
            rest[rows[~np.isin(inv, list(chosen))]] = True
        self.cell_rows = [np.flatnonzero(rest & cont[:, j]) for j in range(self.q)]

    def _start(self) -> None:
        s, q = self.s, self.q
        y = s.Y.copy()
        y[self.miss & ~self.latent] = 0.0  # standardised: the observed mean
        for start, width, obs in s.cats:  # latents consistent with the observed category
            block = np.full((self.n, width), -0.5)
            rows = obs > 0
            block[np.flatnonzero(rows), obs[rows] - 1] = 0.5
            block[obs < 0] = self.rng.standard_normal((int((obs < 0).sum()), width)) * 0.1
            y[:, start:start + width] = block
        self.y = y
        self.u = [np.zeros((nu, q)) for nu in s.n_units]
        self.sig_l = [np.eye(q) * 0.1 for _ in s.n_units]
        self.sig_e = np.eye(q)
        self.b = linalg.cho_solve(self.xtx_c, s.X.T @ y)
        self.re = np.zeros_like(y)  # sum over levels of each row's random effects

    # -- the five steps ---------------------------------------------------------------
    def step(self) -> None:
        s, rng, q = self.s, self.rng, self.q
        le = linalg.cholesky(self.sig_e, lower=True)
        bhat = linalg.cho_solve(self.xtx_c, s.X.T @ (self.y - self.re))
        z = rng.standard_normal(bhat.shape)
        self.b = bhat + linalg.solve_triangular(self.xtx_chol, z, lower=True, trans=1) @ le.T
        xb = s.X @ self.b
        prec_e = linalg.cho_solve((le, True), np.eye(q))
        resid = self.y - xb
        resid -= self.re  # the full residual; each level adds its own effects back
        for lev, (c, ind, cnt) in enumerate(zip(s.codes, self.ind, self.counts)):
            resid += self.u[lev][c]
            self.u[lev] = self._draw_ranef(lev, ind @ resid, cnt, prec_e)
            resid -= self.u[lev][c]
            if s.intercept is not None:
                xb = self._recentre(lev, xb)
            sl = self.u[lev].T @ self.u[lev] + np.eye(q)
            self.sig_l[lev] = _riwishart(rng, self.nu0 + s.n_units[lev], sl)
        self.re = self.y - xb - resid
        self.sig_e = _riwishart(rng, self.nu0 + self.n, resid.T @ resid + np.eye(q))
        self._impute(xb + self.re)
        if self.latent.any():
            self._rescale_latents()

    def _recentre(self, lev: int, xb: np.ndarray) -> np.ndarray:
        """A group move (Liu & Sabatti, 2000): shift the level's effects by g into the intercept.

        With ``X c = 1``, ``u_c -> u_c - g`` and ``B -> B + c g'`` leave every row's mean
        unchanged; under the flat prior on ``B`` the conditional of the shift is
        ``g ~ N(mean_c u_c, Sigma_l / n_l)``. It removes the slow drift between the intercept
        and the random effects that the one-at-a-time Gibbs steps show.
        """
        u = self.u[lev]
        ll = linalg.cholesky(self.sig_l[lev], lower=True)
        g = u.mean(axis=0) + ll @ self.rng.standard_normal(self.q) / np.sqrt(len(u))
        self.u[lev] = u - g
        self.b = self.b + np.outer(self.s.intercept, g)
        return xb + g

    def _draw_ranef(self, lev: int, sums: np.ndarray, cnt: np.ndarray, prec_e: np.ndarray) -> np.ndarray:
        """All clusters of a level at once by simultaneous diagonalisation of the two precisions."""
        q = self.q
        ll = linalg.cholesky(self.sig_l[lev], lower=True)  # Sigma_l = L L'; Sigma_l^-1 = L^-T L^-1
        w0 = ll  # W0' Sigma_l^-1 W0 = I with W0 = L
        d, v = linalg.eigh(w0.T @ prec_e @ w0)
        d = np.maximum(d, 0.0)
        w = w0 @ v  # W' Sigma_l^-1 W = I, W' Sigma_e^-1 W = diag(d)
        shrink = 1.0 / (1.0 + cnt[:, None] * d[None, :])  # (n_units x q)
        proj = sums @ (prec_e @ w)  # s_c' Sigma_e^-1 W
        z = self.rng.standard_normal((len(cnt), q))
        return (proj * shrink + z * np.sqrt(shrink)) @ w.T

    def _impute(self, mu: np.ndarray) -> None:
        y, sig, rng = self.y, self.sig_e, self.rng
        q_all = linalg.cho_solve(linalg.cho_factor(sig, lower=True), np.eye(self.q))
        for rows, mis, obs, rm, ro, mm, mo in self.blocks:
            cm = np.linalg.cholesky(q_all[mm])
            # mean: mu_m - Q_mm^-1 Q_mo (y_o - mu_o); draw: + L^-T z
            shift = q_all[mo] @ (y[ro] - mu[ro]).T if len(obs) else np.zeros((len(mis), len(rows)))
            z = rng.standard_normal((len(mis), len(rows)))
            w = linalg.solve_triangular(cm, shift, lower=True, check_finite=False)
            y[rm] = mu[rm] + linalg.solve_triangular(cm, z - w, lower=True, trans=1, check_finite=False).T
        for j, rows in enumerate(self.cell_rows):
            if len(rows):
                mean, sd = self._conditional(mu, q_all, j, rows)
                y[rows, j] = mean + sd * rng.standard_normal(len(rows))
        for start, width, obs in self.s.cats:
            self._draw_latents(mu, q_all, start, width, obs)

    def _conditional(self, mu, q_all, j, rows):
        dev = self.y[rows] - mu[rows]
        qjj = q_all[j, j]
        mean = mu[rows, j] - (dev @ q_all[:, j] - dev[:, j] * qjj) / qjj
        return mean, 1.0 / np.sqrt(qjj)

    def _draw_latents(self, mu, q_all, start, width, obs) -> None:
        y, rng = self.y, self.rng
        every = np.arange(self.n)
        cols = np.arange(start, start + width)
        for d in range(width):
            j = start + d
            mean, sd = self._conditional(mu, q_all, j, every)
            others = y[:, np.delete(cols, d)]
            top = others.max(axis=1) if width > 1 else np.full(self.n, -np.inf)
            new = np.empty(self.n)
            mine, ref, other, free = obs == d + 1, obs == 0, (obs > 0) & (obs != d + 1), obs < 0
            new[mine] = _trunc_lower(rng, mean[mine], sd, np.maximum(top[mine], 0.0))
            new[ref] = _trunc_upper(rng, mean[ref], sd, np.zeros(int(ref.sum())))
            # another category k: latent k (in ``others``) must stay the largest
            own = y[other, start + obs[other] - 1]
            new[other] = _trunc_upper(rng, mean[other], sd, own)
            new[free] = mean[free] + sd * rng.standard_normal(int(free.sum()))
            y[:, j] = new

    def _rescale_latents(self) -> None:
        scale = np.ones(self.q)
        scale[self.latent] = 1.0 / np.sqrt(np.diag(self.sig_e)[self.latent])
        self.y *= scale
        self.b *= scale
        for lev in range(len(self.u)):
            self.u[lev] *= scale
            self.sig_l[lev] *= np.outer(scale, scale)
        self.sig_e *= np.outer(scale, scale)
        self.re *= scale

    # -- output -----------------------------------------------------------------------
    def categories(self) -> list:
        """The category of every row per categorical variable from the current latents."""
        out = []
        for start, width, _ in self.s.cats:
            lat = self.y[:, start:start + width]
            out.append(np.where(lat.max(axis=1) > 0, lat.argmax(axis=1) + 1, 0))
        return out

    def params(self) -> np.ndarray:
        iu = np.triu_indices(self.q)
        return np.concatenate([self.b.ravel(), *[m[iu] for m in self.sig_l], self.sig_e[iu]])


def run_chain(setup: SamplerSetup, seq: np.random.SeedSequence) -> dict:
    """Run one chain: ``burn`` iterations, then an imputation every ``between`` iterations.

    Returns
    -------
    dict
        ``values``: list of ``m`` arrays with the completed continuous values at the
        missing cells (``Y[miss]`` order, standardised scale); ``categories``: list of
        ``m`` lists, per categorical variable the category of every row; ``trace``: the
        parameters (standardised scale) at every iteration after burn-in (rows), or None.
    """
    rng = np.random.default_rng(seq)
    chain = _Chain(setup, rng)
    cont_miss = chain.miss & ~chain.latent
    values, cats, trace = [], [], []
    total = setup.burn + setup.between * (setup.m - 1) + 1 if setup.m else setup.burn
    for it in range(1, total + 1):
        chain.step()
        if it >= setup.burn and setup.keep_trace:
            trace.append(chain.params())
        if it >= setup.burn and (it - setup.burn) % setup.between == 0 and len(values) < setup.m:
            values.append(chain.y[cont_miss].copy())
            cats.append(chain.categories())
    return {"values": values, "categories": cats, "trace": np.array(trace) if setup.keep_trace else None}
