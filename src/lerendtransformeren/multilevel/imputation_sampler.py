"""The Gibbs sampler of :func:`~lerendtransformeren.multilevel.imputation.impute` (pure numpy).

The joint model for the ``q`` columns of ``Y`` (continuous variables, standardised, and
the latent normals of categorical variables)::

    Y_i = X_i B + sum_l u_{l, c_l(i)} + e_i,   u_{l,c} ~ N_q(0, Sigma_l),   e_i ~ N_q(0, Sigma_e)

One iteration draws, in this order (every draw from its full conditional):

1. ``B`` (flat prior): ``vec(B) ~ N(vec(B_hat), Sigma_e kron (X'X)^-1)`` with ``B_hat`` the
   least-squares fit of ``Y - sum_l u_l`` on ``X``;
2. the random effects level by level, outermost first: per cluster ``c`` of level ``l``
   with ``n_c`` rows, precision ``Sigma_l^-1 + n_c Sigma_e^-1`` and mean
   ``(precision)^-1 Sigma_e^-1 s_c`` (``s_c`` the sum of the partial residuals of the
   cluster). All clusters of a level are drawn at once: with ``W`` that diagonalises both
   precisions (``W' Sigma_l^-1 W = I``, ``W' Sigma_e^-1 W = D``) the posterior covariance
   is ``W (I + n_c D)^-1 W'``. After each level a group move (Liu & Sabatti, 2000) shifts
   the part of the level's effects explained by the cluster-level columns of ``X`` (the
   intercept and predictors constant within the level's clusters, such as goal dummies at
   the organisation level) into ``B``, drawn from its conditional, so that these
   coefficients do not trade off slowly against the random effects; after all levels,
   from the innermost pair outwards, every parent level's effects given the sums of them
   and their children's (the centred parametrisation's Gibbs step, Gelfand, Sahu & Carlin,
   1995), and then every ``Sigma_l`` given the effects (the prior below);
3. the missing values given the row's observed values, its mean ``X_i B + sum_l u`` and
   ``Sigma_e``: rows of frequent missingness patterns jointly per pattern (one Cholesky
   factor per pattern), the other rows one column at a time (a Gibbs step per cell, from
   the precision matrix); the latent normals of categorical variables one dimension at a
   time from their normal truncated to the region of the observed category (category
   ``k >= 1``: latent ``k`` is the largest and positive; reference category 0: all
   latents negative), unrestricted when the category is missing;
4. ``Sigma_e`` given the residuals.

Prior for every covariance matrix: inverse Wishart ``IW(q, s I)`` on the standardised
scale (``prior=s``, default :data:`PRIOR_SCALE` = 0.1). Its posterior mean for a level
with ``J`` units is ``(s I + U'U) / (J - 1)``: the prior adds ``s / (J - 1)`` of a
variable's total variance to the level. jomo's form, ``s = 1`` (jomo applies it on the
data's own scale), adds 0.07 with 15 organisations, more than doubling a level variance of
a few percent; ``s = 0.1`` adds at most 1% from ``J = 11`` units on. A scale near zero (or a
prior with a density that stays positive at zero, such as the half-t priors of Gelman,
2006, and Huang & Wand, 2013) is no better here: with items that share a common factor
the covariance at a level is nearly of rank one, and in the other directions the
variances and effects then shrink towards zero together, a drift the Gibbs sampler
follows in very small steps (R-hat above 2 on the benchmark model). The floor ``s / (J -
1)`` keeps these directions at a small positive variance.

Bookkeeping (what makes an iteration cheap): the state is the data ``y`` and the full
residual ``r = y - X B - sum_l u_l``; rows are sorted so that every cluster of every level
is a contiguous run. The cluster sums of all levels come from one ``reduceat`` of ``r``
over the innermost clusters; after a level is drawn the innermost sums are updated from the
change of its effects (small arrays), and ``r`` itself is updated once per iteration. The
group move leaves ``r`` unchanged. The imputation step works on the rows with missing values
only and needs only their residuals (the conditional mean of a missing residual given the
observed residuals of the row).

Latent scale: the latent normals are not identified in scale. The sampler runs without
constraint and after each iteration rescales every latent dimension to unit residual
variance (the latent columns of ``Y``, ``B``, every ``u_l`` and the rows/columns of the
covariance matrices together), which leaves the category draws unchanged (they depend
only on signs and orderings within a variable); cf. McCulloch & Rossi (1994) and Imai &
van Dyk (2005) on parameter-expanded samplers for multinomial probits. jomo instead
fixes the latent variances by a Metropolis-Hastings step.

References
----------
Gelman A (2006). Prior distributions for variance parameters in hierarchical models.
Bayesian Analysis 1, 515-534.
Huang A, Wand MP (2013). Simple marginally noninformative prior distributions for
covariance matrices. Bayesian Analysis 8, 439-452.
Schafer JL, Yucel RM (2002). Computational strategies for multivariate linear
mixed-effects models with missing values. JCGS 11, 437-457.
Gelfand AE, Sahu SK, Carlin BP (1995). Efficient parametrisations for normal linear mixed
models. Biometrika 82, 479-488.
Liu JS, Sabatti C (2000). Generalised Gibbs sampler and multigrid Monte Carlo for Bayesian
computation. Biometrika 87, 353-369.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from scipy.special import ndtr, ndtri

__all__ = ["SamplerSetup", "run_chain", "start_chains", "advance", "chain_iterations", "parameter_names",
           "PRIOR_SCALE", "BLOCK_PATTERN_ROWS", "MAX_BLOCK_PATTERNS"]

#: Rows of a missingness pattern from which its rows are drawn jointly (else cell by cell).
BLOCK_PATTERN_ROWS = 10
#: At most this many (the most frequent) patterns are drawn jointly.
MAX_BLOCK_PATTERNS = 64
#: Default scale ``s`` of the inverse Wishart prior ``IW(q, s I)`` (standardised scale).
PRIOR_SCALE = 0.1


@dataclass
class SamplerSetup:
    """Everything a chain needs (picklable arrays only).

    ``Y`` (n x q) holds the standardised continuous variables with NaN where missing and
    NaN in the latent columns; ``cats`` lists per categorical variable its first latent
    column, its number of latent columns (K - 1) and its observed category codes
    (0..K-1, -1 missing). ``codes``/``n_units``: integer cluster codes per random level
    (outermost first, nested). ``token`` names the setup in a worker's cache.
    """

    Y: np.ndarray
    X: np.ndarray
    codes: list
    n_units: list
    cats: list = field(default_factory=list)
    burn: int = 500
    between: int = 100
    m: int = 1
    prior: float = PRIOR_SCALE
    keep_trace: bool = True
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def parameter_names(k_names: list, y_names: list, level_names: list) -> list:
    """Names of the traced parameters in trace order: B, then each Sigma_l, then Sigma_e."""
    q = len(y_names)
    names = [f"B[{a}, {b}]" for a in k_names for b in y_names]
    iu = np.triu_indices(q)
    for lev in [*level_names, "residual"]:
        names += [f"Sigma[{lev}][{y_names[i]}, {y_names[j]}]" for i, j in zip(*iu)]
    return names


def _riwishart(rng: np.random.Generator, df: float, scale: np.ndarray) -> np.ndarray:
    """One draw from the inverse Wishart(``df``, ``scale``).

    ``Sigma^-1 ~ Wishart(df, scale^-1)`` by Bartlett's decomposition: with ``scale = C C'``
    and ``A`` lower triangular (chi on the diagonal, normals below),
    ``Sigma^-1 = C^-T A A' C^-1``, so ``Sigma = T T'`` with ``T = C A^-T``.
    """
    q = scale.shape[0]
    c = linalg.cholesky(scale, lower=True, check_finite=False)
    a = np.zeros((q, q))
    a[np.diag_indices(q)] = np.sqrt(rng.chisquare(df - np.arange(q)))
    il = np.tril_indices(q, -1)
    a[il] = rng.standard_normal(len(il[0]))
    t = linalg.solve_triangular(a, c.T, lower=True, check_finite=False).T  # (A^-1 C')' = C A^-T
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


def _runs(codes: np.ndarray) -> np.ndarray:
    """Start positions of the runs of equal values of sorted ``codes``."""
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


class _Static:
    """What does not change during a chain: sorted rows, cluster runs, X'X, missingness patterns.

    Rows are sorted by the levels (outermost first) so that every cluster of every level is
    a contiguous run of rows, and every cluster of a level a contiguous run of innermost
    clusters; codes are renumbered in that order. Rows without any observed value (the
    waves that ``complete=`` adds) carry no information on the parameters: the chain leaves
    them out (they are integrated out, which also speeds up the mixing) and draws them from
    their conditional distribution at the iterations that give an imputation. The arrays
    ``Y``, ``X``, ``cats`` hold the other ("active") rows; a cluster may have none.
    """

    def __init__(self, s: SamplerSetup):
        n_all, q = s.Y.shape
        self.q, self.k, self.n_all = q, s.X.shape[1], n_all
        self.order = np.lexsort(s.codes[::-1]) if s.codes else np.arange(n_all)
        self.latent = np.zeros(q, bool)
        for start, width, _ in s.cats:
            self.latent[start:start + width] = True
        y_all, x_all = s.Y[self.order], np.ascontiguousarray(s.X[self.order])
        seen = (~np.isnan(y_all) & ~self.latent).any(axis=1)
        for _, _, obs in s.cats:
            seen |= np.asarray(obs)[self.order] >= 0
        self.active, self.passive = np.flatnonzero(seen), np.flatnonzero(~seen)
        self.n = len(self.active)
        self.Y, self.X = y_all[self.active], x_all[self.active]
        self.X_passive = x_all[self.passive]
        self.cats = [(start, width, np.asarray(obs)[self.order][self.active]) for start, width, obs in s.cats]
        codes = [np.cumsum(np.r_[0, np.diff(c[self.order]) != 0]) for c in s.codes]
        for c, nu in zip(codes, s.n_units):
            if c[-1] + 1 != nu:  # pragma: no cover - guarded by the nesting check
                raise ValueError("levels are not nested")
        self.n_units = list(s.n_units)
        n_inner = self.n_units[-1]
        inner_all = _runs(codes[-1])  # innermost clusters over all rows
        first = [c[inner_all] for c in codes]  # each innermost cluster's unit per level
        self.up_starts = [_runs(f) for f in first]  # runs of innermost clusters per unit
        self.n_children = [np.diff(np.r_[st, n_inner]) for st in self.up_starts]
        act = [c[self.active] for c in codes]
        self.passive_codes = [c[self.passive] for c in codes]
        self.counts = [np.bincount(c, minlength=nu).astype(float) for c, nu in zip(act, self.n_units)]
        self.inner_size = np.bincount(act[-1], minlength=n_inner)
        self.inner_size_f = self.inner_size.astype(float)[:, None]
        self.filled = np.flatnonzero(self.inner_size > 0)  # innermost clusters with active rows
        self.inner_starts = np.r_[0, np.cumsum(self.inner_size)[:-1]][self.filled]
        self.x_inner = self.inner_sums(self.X)
        self.xtx_c = linalg.cho_factor(self.X.T @ self.X, lower=True)
        self.xtx_chol = np.tril(self.xtx_c[0])
        self.miss = np.isnan(self.Y)
        self.cont_miss = self.miss & ~self.latent
        self.out_rows, self.out_cols = self._output_cells(s)
        self.prior = s.prior
        self.moves = [self._move(x_all, c) for c in codes]
        # per pair of adjacent levels: the runs of child units per parent unit
        self.child_starts = [_runs(parent[_runs(child)]) for parent, child in zip(codes[:-1], codes[1:])]
        self.child_counts = [np.diff(np.r_[st, n_child]) for st, n_child in zip(self.child_starts, s.n_units[1:])]
        self._patterns()

    def inner_sums(self, a: np.ndarray) -> np.ndarray:
        """Column sums of the active rows ``a`` per innermost cluster (zero for an empty one)."""
        out = np.zeros((self.n_units[-1], a.shape[1]))
        if self.n:
            out[self.filled] = np.add.reduceat(a, self.inner_starts, axis=0)
        return out

    def _move(self, x_all: np.ndarray, codes: np.ndarray):
        """The group move of a level: ``C`` spans the ``c`` with ``X c`` constant within its clusters.

        ``C`` is the null space of the within-cluster deviations of ``X`` (all rows); ``W``
        the clusters' values of ``X C``. Returns ``(C, W, chol(W'W))`` or None when no such ``c``.
        """
        counts = np.bincount(codes)
        means = np.add.reduceat(x_all, _runs(codes), axis=0) / counts[:, None]
        within = x_all - np.repeat(means, counts, axis=0)
        _, sv, vt = np.linalg.svd(within, full_matrices=False)
        scale = max(np.abs(x_all).max(), 1.0) * np.sqrt(len(x_all))
        c = vt[sv <= 1e-9 * scale].T
        if c.shape[1] == 0:
            return None
        w = means @ c
        return c, w, np.linalg.cholesky(w.T @ w)

    def _output_cells(self, s: SamplerSetup) -> tuple:
        """Positions (sorted rows) of the missing continuous cells in ``Y[miss]`` (original row) order."""
        rows, cols = np.nonzero(np.isnan(s.Y) & ~self.latent)
        where = np.empty(self.n_all, np.int64)
        where[self.order] = np.arange(self.n_all)
        return where[rows], cols

    def _patterns(self) -> None:
        """Frequent missingness patterns of the continuous columns (drawn jointly), and the rest."""
        cont = self.cont_miss
        rows = np.flatnonzero(cont.any(axis=1))
        self.blocks, rest = [], np.zeros(self.n, bool)
        if len(rows):
            pats, inv, cnt = np.unique(cont[rows], axis=0, return_inverse=True, return_counts=True)
            inv = inv.ravel()
            order = np.argsort(-cnt, kind="stable")
            chosen = set(int(i) for i in order[:MAX_BLOCK_PATTERNS] if cnt[i] >= BLOCK_PATTERN_ROWS)
            for i in sorted(chosen):
                mis, obs = np.flatnonzero(pats[i]), np.flatnonzero(~pats[i])
                self.blocks.append((rows[inv == i], mis, obs, np.ix_(mis, mis), np.ix_(mis, obs)))
            rest[rows[~np.isin(inv, list(chosen))]] = True
        self.cell_rows = [np.flatnonzero(rest & cont[:, j]) for j in range(self.q)]


_STATIC: dict = {}


def _static(setup: SamplerSetup) -> _Static:
    """The static part of a setup, built once per process (a worker keeps the latest)."""
    st = _STATIC.get(setup.token)
    if st is None:
        _STATIC.clear()
        st = _STATIC[setup.token] = _Static(setup)
    return st


class _Chain:
    """The state of one chain (picklable without its static part) and its update."""

    def __init__(self, st: _Static, rng: np.random.Generator, m: int):
        self.st, self.rng, self.m, self.it = st, rng, m, 0
        q, n = st.q, st.n
        y = st.Y.copy()
        y[st.cont_miss] = 0.0  # standardised: the observed mean
        for start, width, obs in st.cats:  # latents consistent with the observed category
            block = np.full((n, width), -0.5)
            rows = obs > 0
            block[np.flatnonzero(rows), obs[rows] - 1] = 0.5
            block[obs < 0] = rng.standard_normal((int((obs < 0).sum()), width)) * 0.1
            y[:, start:start + width] = block
        self.y = y
        self.u = [np.zeros((nu, q)) for nu in st.n_units]
        self.sig_l = [np.eye(q) * 0.1 for _ in st.n_units]
        self.sig_e = np.eye(q)
        self.b = linalg.cho_solve(st.xtx_c, st.X.T @ y)
        self.resid = y - st.X @ self.b
        self.xr = st.X.T @ self.resid

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["st"] = None
        return state

    def own(self) -> None:
        """Writable state arrays (joblib hands large arguments to workers as read-only memory maps)."""
        for name, value in self.__dict__.items():
            if isinstance(value, np.ndarray) and not value.flags.writeable:
                setattr(self, name, value.copy())
            elif isinstance(value, list):
                setattr(self, name, [v.copy() if isinstance(v, np.ndarray) and not v.flags.writeable else v
                                     for v in value])

    # -- one iteration ------------------------------------------------------------------
    def step(self) -> None:
        st, rng, q = self.st, self.rng, self.q
        le = linalg.cholesky(self.sig_e, lower=True, check_finite=False)
        z = rng.standard_normal((st.k, q))
        db = linalg.cho_solve(st.xtx_c, self.xr, check_finite=False) \
            + linalg.solve_triangular(st.xtx_chol, z, lower=True, trans=1, check_finite=False) @ le.T
        self.b += db
        prec_e = linalg.cho_solve((le, True), np.eye(q), check_finite=False)
        resid = self.resid
        # innermost cluster sums of the residual after the new B (r - X dB, not yet formed)
        sums = st.inner_sums(resid) - st.x_inner @ db
        total = np.zeros_like(sums)  # change of every innermost cluster's random effects
        last = len(self.u) - 1
        for lev in range(len(self.u)):
            own = sums if lev == last else np.add.reduceat(sums, st.up_starts[lev], axis=0)
            cnt, u = st.counts[lev], self.u[lev]
            ll = linalg.cholesky(self.sig_l[lev], lower=True, check_finite=False)
            new = self._draw_ranef(ll, own + cnt[:, None] * u, cnt, prec_e)
            down = new - u if lev == last else np.repeat(new - u, st.n_children[lev], axis=0)
            sums -= st.inner_size_f * down
            total += down
            if st.moves[lev] is not None:
                new = self._recentre(new, ll, *st.moves[lev])
            self.u[lev] = new
        resid -= st.X @ db
        resid -= np.repeat(total, st.inner_size, axis=0)
        for lev in reversed(range(len(self.u) - 1)):
            self._centre(lev)
        for lev, u in enumerate(self.u):
            self.sig_l[lev] = self._draw_cov(u.T @ u, len(u))
        self._impute(prec_e)
        self.sig_e = self._draw_cov(resid.T @ resid, st.n)
        self.xr = st.X.T @ resid
        if st.latent.any():
            self._rescale_latents()
        self.it += 1

    @property
    def q(self) -> int:
        return self.st.q

    def _draw_cov(self, ss: np.ndarray, n: int) -> np.ndarray:
        """A covariance matrix given the sum of squares of its ``n`` draws: ``IW(q + n, s I + SS)``."""
        return _riwishart(self.rng, self.q + n, ss + self.st.prior * np.eye(self.q))

    def _recentre(self, u: np.ndarray, ll: np.ndarray, c: np.ndarray, w: np.ndarray, rw: np.ndarray) -> np.ndarray:
        """A group move (Liu & Sabatti, 2000): shift the level's effects into the cluster-level part of B.

        ``X C`` is constant within the level's clusters (the intercept, and predictors such
        as goal dummies that do not vary within a cluster), with value ``W_c`` in cluster
        ``c``. ``u_c -> u_c - W_c G`` and ``B -> B + C G`` leave every row's mean (and the
        residual) unchanged; under the flat prior on ``B`` the conditional of ``G`` is the
        regression of the effects on ``W``: ``G ~ MN((W'W)^-1 W'u, (W'W)^-1, Sigma_l)``.
        Without it the intercept and the cluster-level coefficients trade off slowly against
        the random effects (the one-at-a-time Gibbs steps move them in small steps).
        """
        z = self.rng.standard_normal((w.shape[1], self.q))
        g = linalg.cho_solve((rw, True), w.T @ u, check_finite=False) \
            + linalg.solve_triangular(rw, z, lower=True, trans=1, check_finite=False) @ ll.T
        self.b += c @ g
        return u - w @ g

    def _centre(self, lev: int) -> None:
        """A move between a level and the next: each parent effect given the sums of it and its children's.

        With ``eta_k = u_l[parent(k)] + u_{l+1}[k]`` held fixed (so the rows' means and the
        residual stay as they are), ``u_l`` is drawn from its conditional given ``eta``:
        per parent unit with ``n`` children, precision ``Sigma_l^-1 + n Sigma_{l+1}^-1``
        and mean ``(precision)^-1 Sigma_{l+1}^-1 sum_k eta_k``; the children follow as
        ``eta_k - u_l``. A translation move (Liu & Sabatti, 2000) that is the Gibbs step of
        the centred parametrisation (Gelfand, Sahu & Carlin, 1995): without it a small
        variance component with few children per unit (professionals with 5-6 families)
        trades off against the level below it in very small steps.
        """
        st, parent, child = self.st, self.u[lev], self.u[lev + 1]
        cnt = st.child_counts[lev]
        lc = linalg.cholesky(self.sig_l[lev + 1], lower=True, check_finite=False)
        prec = linalg.cho_solve((lc, True), np.eye(self.q), check_finite=False)
        sums = np.add.reduceat(child, st.child_starts[lev], axis=0) + cnt[:, None] * parent
        ll = linalg.cholesky(self.sig_l[lev], lower=True, check_finite=False)
        new = self._draw_ranef(ll, sums, cnt.astype(float), prec)
        child += np.repeat(parent - new, cnt, axis=0)
        self.u[lev] = new

    def _draw_ranef(self, ll: np.ndarray, sums: np.ndarray, cnt: np.ndarray, prec_e: np.ndarray) -> np.ndarray:
        """All clusters of a level at once by simultaneous diagonalisation of the two precisions."""
        d, v = linalg.eigh(ll.T @ prec_e @ ll, check_finite=False)
        d = np.maximum(d, 0.0)
        w = ll @ v  # W' Sigma_l^-1 W = I, W' Sigma_e^-1 W = diag(d)
        shrink = 1.0 / (1.0 + cnt[:, None] * d[None, :])  # (n_units x q)
        proj = sums @ (prec_e @ w)  # s_c' Sigma_e^-1 W
        z = self.rng.standard_normal((len(cnt), self.q))
        return (proj * shrink + z * np.sqrt(shrink)) @ w.T

    def _impute(self, prec: np.ndarray) -> None:
        """New residuals (and values) of the missing cells given the row's observed residuals."""
        y, resid, rng = self.y, self.resid, self.rng
        for rows, mis, obs, mm, mo in self.st.blocks:
            r = resid[rows]
            cm = np.linalg.cholesky(prec[mm])
            # r_m | r_o ~ N(-Q_mm^-1 Q_mo r_o, Q_mm^-1): new = L^-T (z - L^-1 Q_mo r_o)
            z = rng.standard_normal((len(mis), len(rows)))
            if len(obs):
                z -= linalg.solve_triangular(cm, prec[mo] @ r[:, obs].T, lower=True, check_finite=False)
            new = linalg.solve_triangular(cm, z, lower=True, trans=1, check_finite=False).T
            cells = np.ix_(rows, mis)
            y[cells] += new - r[:, mis]
            resid[cells] = new
        for j, rows in enumerate(self.st.cell_rows):
            if len(rows):
                r = resid[rows]
                new = self._conditional(r, prec, j) + rng.standard_normal(len(rows)) / np.sqrt(prec[j, j])
                y[rows, j] += new - r[:, j]
                resid[rows, j] = new
        for start, width, obs in self.st.cats:
            self._draw_latents(prec, start, width, obs)

    @staticmethod
    def _conditional(r: np.ndarray, prec: np.ndarray, j: int) -> np.ndarray:
        """Mean of residual ``j`` given the row's other residuals ``r``."""
        return -(r @ prec[:, j] - r[:, j] * prec[j, j]) / prec[j, j]

    def _draw_latents(self, prec, start, width, obs) -> None:
        y, resid, rng, n = self.y, self.resid, self.rng, self.st.n
        cols = np.arange(start, start + width)
        for d in range(width):
            j = start + d
            sd = 1.0 / np.sqrt(prec[j, j])
            mean = y[:, j] - resid[:, j] + self._conditional(resid, prec, j)
            others = y[:, np.delete(cols, d)]
            top = others.max(axis=1) if width > 1 else np.full(n, -np.inf)
            new = np.empty(n)
            mine, ref, other, free = obs == d + 1, obs == 0, (obs > 0) & (obs != d + 1), obs < 0
            new[mine] = _trunc_lower(rng, mean[mine], sd, np.maximum(top[mine], 0.0))
            new[ref] = _trunc_upper(rng, mean[ref], sd, np.zeros(int(ref.sum())))
            # another category k: latent k (in ``others``) must stay the largest
            own = y[other, start + obs[other] - 1]
            new[other] = _trunc_upper(rng, mean[other], sd, own)
            new[free] = mean[free] + sd * rng.standard_normal(int(free.sum()))
            resid[:, j] += new - y[:, j]
            y[:, j] = new

    def _rescale_latents(self) -> None:
        scale = np.ones(self.q)
        scale[self.st.latent] = 1.0 / np.sqrt(np.diag(self.sig_e)[self.st.latent])
        outer = np.outer(scale, scale)
        for arr in (self.y, self.resid, self.b, self.xr, *self.u):
            arr *= scale
        for sig in self.sig_l:
            sig *= outer
        self.sig_e *= outer

    # -- output -----------------------------------------------------------------------
    def completed(self) -> np.ndarray:
        """All rows (sorted order) at this iteration: the active rows' values and, for the rows
        without any observed value, a draw from ``N(X B + sum_l u_l, Sigma_e)``."""
        st = self.st
        full = np.empty((st.n_all, self.q))
        full[st.active] = self.y
        if len(st.passive):
            mu = st.X_passive @ self.b
            for u, c in zip(self.u, st.passive_codes):
                mu += u[c]
            le = linalg.cholesky(self.sig_e, lower=True, check_finite=False)
            full[st.passive] = mu + self.rng.standard_normal((len(st.passive), self.q)) @ le.T
        return full

    def output(self) -> tuple:
        """The imputation of this iteration: the completed continuous values at the missing cells
        (``Y[miss]`` order) and per categorical variable the category of every row (original order)."""
        st = self.st
        full = self.completed()
        values = full[st.out_rows, st.out_cols]
        cats = []
        for start, width, _ in st.cats:
            lat = np.empty((st.n_all, width))
            lat[st.order] = full[:, start:start + width]
            cats.append(np.where(lat.max(axis=1) > 0, lat.argmax(axis=1) + 1, 0))
        return values, cats

    def params(self) -> np.ndarray:
        iu = np.triu_indices(self.q)
        return np.concatenate([self.b.ravel(), *[m[iu] for m in self.sig_l], self.sig_e[iu]])


def chain_iterations(burn: int, between: int, m: int) -> int:
    """Iterations of a chain that gives ``m`` imputations (the first at iteration ``burn``)."""
    return burn + between * (m - 1) if m else burn


def start_chains(setup: SamplerSetup, per_chain: list, seqs: list) -> list:
    """One fresh chain per seed sequence (``per_chain[c]`` imputations for chain ``c``)."""
    st = _static(setup)
    return [_Chain(st, np.random.default_rng(seq), m) for m, seq in zip(per_chain, seqs)]


def advance(setup: SamplerSetup, chain: _Chain, stop: int) -> dict:
    """Run ``chain`` up to iteration ``stop`` (at most its last); what it gave on the way.

    Returns
    -------
    dict
        ``chain``: the chain (its state, for the next call); ``values``: the imputations
        reached (arrays of the completed continuous values at the missing cells, ``Y[miss]``
        order, standardised scale); ``categories``: per imputation, per categorical variable
        the category of every row; ``trace``: the parameters (standardised scale) at every
        iteration after burn-in (rows), or None; ``done``: iterations run.
    """
    if chain.st is None:
        chain.st = _static(setup)
        chain.own()
    stop = min(stop, chain_iterations(setup.burn, setup.between, chain.m))
    values, cats, trace, begin = [], [], [], chain.it
    while chain.it < stop:
        chain.step()
        it = chain.it
        if it >= setup.burn and setup.keep_trace:
            trace.append(chain.params())
        if it >= setup.burn and (it - setup.burn) % setup.between == 0 and (it - setup.burn) // setup.between < chain.m:
            v, c = chain.output()
            values.append(v)
            cats.append(c)
    return {"chain": chain, "values": values, "categories": cats, "done": chain.it - begin,
            "trace": (np.array(trace) if trace else np.empty((0, len(chain.params())))) if setup.keep_trace else None}


def run_chain(setup: SamplerSetup, seq: np.random.SeedSequence) -> dict:
    """Run one chain: ``burn`` iterations, then an imputation every ``between`` iterations.

    Returns
    -------
    dict
        ``values``, ``categories`` and ``trace`` as :func:`advance`, for the whole chain
        (``setup.m`` imputations).
    """
    chain = start_chains(setup, [setup.m], [seq])[0]
    out = advance(setup, chain, chain_iterations(setup.burn, setup.between, setup.m))
    return {k: out[k] for k in ("values", "categories", "trace")}
