"""Generalised linear mixed models with nested random effects: binomial and Poisson.

The model: ``g(E[y | b]) = X beta + sum_l Z_l b_l`` with ``y | b`` Bernoulli (logit link) or
Poisson (log link) and, per unit of level ``l``, ``b = Lambda_l u``, ``u ~ N(0, I)``;
``Lambda_l`` is lme4's relative Cholesky factor (``theta``, column-wise lower triangles of
the levels' blocks, finest level first, as in
:class:`~lerendtransformeren.multilevel.engine.NestedEngine`).

The marginal likelihood is approximated as lme4's ``glmer`` does (Bates et al. 2015):

* Laplace (``nagq=1``): ``-2 loglik = aic(y, mu(u_hat)) + ||u_hat||^2 + log|L|^2`` with
  ``u_hat`` the conditional modes (penalised iteratively reweighted least squares, PIRLS),
  ``L L' = Lambda' Z' W Z Lambda + I`` and ``W`` the working weights at ``u_hat``;
  ``aic`` is minus twice the conditional log-likelihood (the family's ``aic``, as lme4's
  ``glmResp::Laplace``; for 0/1 outcomes the sum of the deviance residuals).
* adaptive Gauss-Hermite quadrature (``nagq > 1``, one scalar random intercept only): per
  unit the integral over its ``u`` by ``nagq`` nodes centred at the mode and scaled by the
  conditional SD (lme4's ``glmerAGQ``).

Each PIRLS step is a weighted penalised least-squares problem with the nested structure
of the linear engine, solved by :class:`~.glmm_solver.NestedSolver`: per unit, the cross-products of
the columns still needed (own and ancestors' random-effect columns, optionally ``X``, the
working residual), weighted by ``W``, are absorbed level by level bottom-up (Woodbury:
``M = I + Lambda' S_zz Lambda``, ``S <- S - S_:z Lambda M^-1 Lambda' S_z:``, ``log|L|^2`` is
the sum of ``log det M``) and summed into the parent units; the modes follow top-down. No
n x n matrix is formed; a step costs O(rows x columns^2) for the cross-products and
O(units x width^3) for the recursion. The working residual's cross-products come from the
units' sums of ``y - mu`` and the weights' cross-products (it is never formed), and the
gradient reuses the weights' cross-products of the final modes with a new residual.

Fitting: glmer's final estimates are those of its second stage, the minimum of the
deviance over ``(theta, beta)`` jointly with ``u`` from PIRLS at fixed ``beta``; that is
what is minimised here (glmer's first stage, ``nAGQ = 0``, only finds a start). Projected
BFGS (diagonal elements of correlated blocks >= 0; scalar thetas free, the deviance being
even in them) on the exact gradient of the Laplace deviance (:meth:`GLMMEngine.value_gradient`:
implicit differentiation of the modes, two extra passes of the solver), started from one
penalised-quasi-likelihood step: the linear mixed model of the working response after one
joint PIRLS step from R's ``mustart`` at lme4's start ``theta = 1``, fitted by ML on the
finest units' cross-products (:meth:`GLMMEngine._pql_start`), which halves the number of
steps; PIRLS at that start begins from the linear fit's conditional modes (one or two
Newton steps fewer on large data). Each evaluation starts PIRLS from the modes of the last
one (as lme4). With ``nagq > 1`` the Laplace optimum is the start for quasi-Newton steps
on central-difference gradients of the quadrature deviance. The covariance of beta is the
beta block of ``2 H^-1`` with ``H`` the Hessian of the deviance in (theta, beta), as lme4's
``vcov`` (``use.hessian = TRUE``): forward differences of the exact gradient (step 1e-6),
or for ``nagq > 1`` lme4's ``deriv12`` (central differences of values, step 1e-4).
Convergence checks as lme4's: the gradient scaled by the Hessian, a positive definite
Hessian on the free parameters; a variance at 0 (theta < 1e-4) is a singular fit.

PIRLS is converged to 1e-10 in eta (relative), far tighter than glmer's default
(``tolPwrss = 1e-7``): glmer's finite-difference Hessian turns the noise of its loosely
converged modes into standard errors that are off by up to about 1% (and its second stage
may stop short by up to 0.002 in logLik); glmer with ``tolPwrss = 1e-12`` agrees with this
module, and with glmmTMB, to about 1e-5. The Newton step that would only confirm the
convergence is not taken: a step that changed eta by ``c`` leaves the modes within about
``c^2`` (quadratic convergence), so ``c^2`` below 1e-10 stops PIRLS (mostly one step from
the last evaluation's modes in the Hessian's differences), and ``M`` and ``log|L|^2`` are
then formed at the weights of the final modes. On large data glmer's ``deriv12`` differences
deviance values whose rounding then dominates: at 200,000 rows (the benchmark's design) its
standard error of the intercept differs from this module's and glmmTMB's by 0.1%, which
agree to 5e-5.

R equivalent: ``lme4::glmer(formula, data, family = binomial | poisson, nAGQ = ...)``.

References
----------
Breslow, N. E., & Clayton, D. G. (1993). Approximate inference in generalized linear mixed
models. *Journal of the American Statistical Association*, 88(421), 9-25.

Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

Bates, D. Computational methods for mixed models (lme4 vignette ``Theory``: the PIRLS
algorithm and the Laplace approximation).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from lerendtransformeren.exceptions import ConvergenceError
from lerendtransformeren.multilevel.engine import (
    SINGULAR_TOL,
    _tril_indices,
    relative_factors,
    theta_start,
)
from lerendtransformeren.multilevel.frame import Level
from lerendtransformeren.multilevel.glmm_solver import FAMILIES, Factor, Family, NestedSolver, gauss_hermite

__all__ = ["Family", "FAMILIES", "NestedSolver", "GLMMEngine", "GLMMOptim", "gauss_hermite"]

_PIRLS_TOL = 1e-8  # relative change of eta after which PIRLS takes one more (Newton) step
_PIRLS_MAXIT = 100
_HESS_STEP = 1e-4  # lme4's deriv12 delta
_KAPPA = 1.0  # bound on the quadratic convergence of PIRLS: next change of eta <= _KAPPA change^2


# -- the GLMM criterion and its optimisation -----------------------------------------------
@dataclass
class PirlsState:
    """Converged PIRLS at one (theta, beta): modes, linear predictor and the pieces of the deviance."""

    u: list[np.ndarray]
    b: list[np.ndarray]
    beta: np.ndarray
    eta: np.ndarray  # sorted rows
    mu: np.ndarray
    aic: float
    sqr_u: float
    ldL2: float
    factor: Factor
    iterations: int
    w: np.ndarray | None = None  # the working weights at mu, when the factor is at them


@dataclass
class GLMMOptim:
    """The optimum of stage 2: parameters, deviance, derivatives and the checks."""

    theta: np.ndarray
    beta: np.ndarray
    deviance: float
    gradient: np.ndarray
    hessian: np.ndarray
    converged: bool
    message: str
    n_evaluations: int
    laplace_deviance: float  # the Laplace optimum that adaptive quadrature starts from (else NaN)
    state: PirlsState  # the modes at the optimum


class GLMMEngine:
    """Laplace / adaptive-quadrature deviance of a nested GLMM and its optimisation.

    Parameters
    ----------
    y : ndarray (n,)
        0/1 (binomial) or non-negative counts (Poisson).
    X : ndarray (n, p)
    levels : list of Level
    family : Family
    nagq : int
        1: Laplace; > 1: adaptive Gauss-Hermite quadrature with that many nodes (one
        scalar random intercept only).

    Examples
    --------
    A two-level random-intercept logistic model (R: ``glmer(y ~ 1 + (1 | g), family =
    binomial, control = glmerControl(tolPwrss = 1e-12))`` gives theta 0.9681553,
    intercept -0.2750916, logLik -129.8339994):

    >>> import numpy as np
    >>> from lerendtransformeren.multilevel.frame import Level, RandomBlock
    >>> rng = np.random.default_rng(3)
    >>> g = np.repeat(np.arange(20), 10)
    >>> y = rng.binomial(1, 1 / (1 + np.exp(-rng.normal(0, 1, 20)[g]))).astype(float)
    >>> lev = Level("g", ("g",), g, np.arange(20).astype(str),
    ...             [RandomBlock("g", "1", ["Intercept"], np.ones((200, 1)))])
    >>> eng = GLMMEngine(y, np.ones((200, 1)), [lev], FAMILIES["binomial"])
    >>> opt = eng.optimize()
    >>> opt.theta.round(5), opt.beta.round(5), round(-0.5 * opt.deviance, 5)
    (array([0.96816]), array([-0.27510]), -129.834)
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, levels: list[Level], family: Family, nagq: int = 1):
        self.family = family
        self.nagq = int(nagq)
        self.solver = NestedSolver(X, levels)
        self.levels = levels
        self.n, self.p = X.shape
        self.y = np.take(np.asarray(y, float), self.solver.order)
        self._success = np.flatnonzero(self.y > 0.5)
        self._lgamma = 0.0
        # theta layout (as the linear engine)
        self.theta_slices, lower, self._lam_pos = [], [], []
        pos = 0
        for lev in levels:
            sl, idx, rr, cc, off = [], [], [], [], 0
            for b in lev.blocks:
                rows, cols = _tril_indices(b.q)
                sl.append((slice(pos, pos + len(rows)), rows, cols))
                lower.extend(0.0 if r == c else -np.inf for r, c in zip(rows, cols))
                idx.extend(range(pos, pos + len(rows)))
                rr.extend(off + rows)
                cc.extend(off + cols)
                pos += len(rows)
                off += b.q
            self.theta_slices.append(sl)
            self._lam_pos.append((np.array(idx, int), np.array(rr, int), np.array(cc, int), off))
        self.n_theta = pos
        self.lower = np.array(lower)
        self._diag = np.isfinite(self.lower)
        scalar = np.zeros(pos, bool)
        for sl in self.theta_slices:
            for sli, rows, _ in sl:
                scalar[sli.start] = len(rows) == 1
        self._scalar = scalar
        self._bounded = np.r_[self._diag & ~scalar, np.zeros(self.p, bool)]
        self._scalar = np.r_[scalar, np.zeros(self.p, bool)]
        self._all_intercepts = all(self.solver._intercept_only)
        self._zfull = None if self._all_intercepts else np.hstack(self.solver.Z)
        if self.nagq > 1:
            self._gh = gauss_hermite(self.nagq)
        self.n_eval = 0
        self._warm: PirlsState | None = None
        # PIRLS stops at this relative change of eta (1e-10: the exact gradient's error is
        # far below what its differences need; quadrature differences values twice, so
        # there PIRLS also takes the extra Newton step after a change of 1e-8)
        self._pirls_tol = 1e-10 if self.nagq == 1 else _PIRLS_TOL**1.3
        self._quadratic_stop = self.nagq == 1

    # -- parameters -------------------------------------------------------------------------
    def theta_start(self) -> np.ndarray:
        return theta_start(self.lower)

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        return relative_factors(theta, self._lam_pos)

    # -- PIRLS ------------------------------------------------------------------------------
    def _state(self, u, b, beta, eta, fac, it, with_aic: bool = True) -> PirlsState:
        mu = self.family.mu(eta)
        aic = self.family.aic_total(self.y, mu, self._success) if with_aic else np.nan
        sqr = float(sum(float(np.sum(x * x)) for x in u))
        return PirlsState(u, b, beta, eta, mu, aic, sqr, fac.ldL2 if fac is not None else np.nan, fac, it)

    def pirls(self, theta: np.ndarray, beta: np.ndarray | None, start: PirlsState | None = None,
              tol: float | None = None) -> PirlsState:
        """Conditional modes at ``theta`` and ``beta`` (``beta=None``: beta jointly, stage 1).

        Newton steps (for a canonical link, PIRLS is Newton's method on the penalised
        deviance, which is convex) with step halving, from ``start`` (the last converged
        state) or from u = 0 and R's ``mustart``. Stops when the linear predictor is within
        ``tol`` (1e-10, relative to its largest value) of the modes: when a full step
        changes no element by more than ``tol``, or, with the Laplace approximation, when
        the change ``c`` of a full step is so small that the quadratic convergence of
        Newton's method leaves an error below ``_KAPPA c^2`` (:meth:`_converged`). For
        adaptive quadrature, whose Hessian differences deviance values, one more Newton step
        follows a change of 1e-8, which brings the change to about 1e-16. With ``beta``
        given, the factor (``M`` and ``log|L|^2``) of the returned state is at the weights of
        the final modes (lme4 keeps that of the last step's start, the same at convergence);
        ``tol`` overrides the 1e-10 (for a rough start).
        """
        joint = beta is None
        tol = self._pirls_tol if tol is None else tol
        quadratic = self._quadratic_stop and not joint
        lams = self.lambdas(theta)
        state, fixed = self._pirls_start(lams, beta, start)
        # R's mustart is not a point of the model: accept the first step as it is; from a
        # point of the model the penalised deviance is computed when a step needs the check
        pdev = None if start is not None or not joint else np.inf
        scale = 1.0 + float(np.max(np.abs(state.eta)))
        last = np.inf
        for it in range(1, _PIRLS_MAXIT + 1):
            # from R's mustart eta is not X beta + Z b: the first working residual is formed row by row
            rows = it == 1 and start is None and joint
            state, fixed, pdev, change, t = self._pirls_step(state, lams, fixed, joint, pdev, scale, last, it, tol,
                                                             quadratic, rows)
            if t == 1.0 and self._converged(change, last, scale, tol, quadratic):
                return state if joint else self._at_final_weights(state, lams)
            last = change
        raise ConvergenceError(
            f"PIRLS (the conditional modes) did not converge in {_PIRLS_MAXIT} iterations at "
            f"theta = {np.round(theta, 4)}; the fixed effects may be separated (an outcome "
            "that is constant within a combination of covariates)."
        )

    @staticmethod
    def _converged(change: float, last: float, scale: float, tol: float, quadratic: bool) -> bool:
        """Whether the modes after a full Newton step that changed eta by ``change`` are within ``tol``.

        ``change``, ``last`` (the step before) and ``tol`` are relative to ``scale`` (1 plus the
        largest absolute linear predictor). Newton's method on the penalised deviance converges
        quadratically: the next change of eta is at most about ``kappa c^2`` for a change
        ``c`` (in eta's units; ``kappa = max |d log w / d eta| / 2 = 1/2`` for the binomial and
        Poisson links in one dimension, observed about 0.35 on nested data), so with
        ``quadratic`` a change with ``_KAPPA c^2`` (``_KAPPA = 1``) below ``tol`` stops: the
        step that would confirm it is not taken.
        """
        if change < tol or (last < _PIRLS_TOL and change < 1e-3):
            return True
        return quadratic and change < 1e-3 and _KAPPA * scale * change * change < tol

    def _at_final_weights(self, state: PirlsState, lams) -> PirlsState:
        """``state`` with its factor (``M``, ``log|L|^2``) at the weights of its own modes (zero residual)."""
        w = self.family.weights(state.mu)
        fac = self.solver.factor(lams, w, None, False)
        return dataclasses.replace(state, factor=fac, ldL2=fac.ldL2, w=w)

    def _pirls_start(self, lams, beta, start: PirlsState | None):
        """The state PIRLS starts from and the fixed part ``X beta`` (sorted rows); its ``aic`` is
        NaN (computed when a step needs it)."""
        sv, joint = self.solver, beta is None
        if start is not None:
            u = start.u
            beta0 = start.beta.copy() if joint else np.asarray(beta, float)
            b = [ul @ Lam.T for ul, Lam in zip(u, lams)]  # b from u at the new theta
            fixed = sv.fixed_part(beta0)
            eta = sv.random_part(b)
            eta += fixed
        else:
            u = [np.zeros((len(st), q)) for st, q in zip(sv.starts, sv.q)]
            b = [x.copy() for x in u]
            beta0 = np.zeros(self.p) if joint else np.asarray(beta, float)
            fixed = sv.fixed_part(beta0)
            eta = self.family.eta_start(self.y) if joint else fixed.copy()
        return self._state(u, b, beta0, eta, None, 0, with_aic=False), fixed

    def _pirls_step(self, state: PirlsState, lams, fixed, joint: bool, pdev: float | None, scale: float,
                    last: float, it: int, tol: float, quadratic: bool, rows: bool = False):
        """One Newton step of PIRLS with step halving.

        Near the modes (a change of eta below 1e-3) the Newton step of this convex problem
        decreases the penalised deviance: it is taken without the check, and the family's
        ``aic`` is computed only for the last step. ``pdev`` None: the penalised deviance of
        ``state``, not computed yet. The working residual ``z = eta + (y - mu) / w`` (less the
        fixed part when beta is fixed) enters through the units' sums of ``y - mu``
        (:meth:`NestedSolver.newton_products`); with ``rows`` (``eta`` not of the model's form)
        it is formed row by row.
        """
        sv = self.solver
        mu, eta, u, b, beta = state.mu, state.eta, state.u, state.b, state.beta
        w = self.family.weights(mu)
        if rows:
            r = np.subtract(self.y, mu)
            r /= w
            r += eta
            fac = sv.factor(lams, w, r, joint, rr=False)
        else:
            fac = sv.absorb(sv.newton_products(w, np.subtract(self.y, mu), b, beta, joint), lams, joint)
        u_new, b_new, beta_new = sv.modes(fac, lams, joint, None if joint else beta)
        if not joint:
            beta_new = beta
        change = self._eta_change(b, b_new, beta, beta_new) / scale
        fixed_new = sv.fixed_part(beta_new) if joint else fixed
        eta_new = sv.random_part(b_new)
        eta_new += fixed_new
        local = change < 1e-3 and (pdev is None or np.isfinite(pdev))
        done = self._converged(change, last, scale, tol, quadratic)
        if not local and pdev is None:
            pdev = self.family.aic_total(self.y, mu, self._success) + state.sqr_u
        t = 1.0
        for _ in range(40):
            if t == 1.0:
                cand = self._state(u_new, b_new, beta_new, eta_new, fac, it, with_aic=done or not local)
            else:
                cand = self._state([uo + t * (un - uo) for uo, un in zip(u, u_new)],
                                   [bo + t * (bn - bo) for bo, bn in zip(b, b_new)],
                                   beta + t * (beta_new - beta), eta + t * (eta_new - eta), fac, it)
            if local or cand.aic + cand.sqr_u <= pdev + 1e-10 * abs(pdev):
                break
            t *= 0.5
        else:
            raise ConvergenceError("PIRLS could not decrease the penalised deviance (step halving failed).")
        pdev = pdev if local else cand.aic + cand.sqr_u
        return cand, (fixed if not joint else fixed_new if t == 1.0 else sv.fixed_part(cand.beta)), pdev, change, t

    def _eta_change(self, b_old, b_new, beta_old, beta_new) -> float:
        """A bound on the largest change of the linear predictor, from the units' changes."""
        sv = self.solver
        out = float(np.abs(beta_new - beta_old) @ sv.xmax) if beta_new is not beta_old else 0.0
        for l in range(sv.L):
            out += float(np.max(np.abs(b_new[l] - b_old[l]), axis=0) @ sv.zmax[l])
        return out

    # -- the deviance -----------------------------------------------------------------------
    def laplace(self, state: PirlsState) -> float:
        """``aic + ||u||^2 + log|L|^2`` (lme4's ``glmResp::Laplace``)."""
        return state.aic + state.sqr_u + state.ldL2

    def agq(self, state: PirlsState, theta: np.ndarray) -> float:
        """Adaptive Gauss-Hermite deviance for one scalar random intercept (lme4's ``glmerAGQ``).

        Per unit ``i`` with mode ``u0`` and ``sd = 1 / L_ii``: ``-2 log`` of ``sd sum_k w_k
        exp(-(g(u0 + sd z_k) - g(u0)) / 2 + z_k^2 / 2) exp(-g(u0) / 2)``, with ``g`` the
        unit's deviance residuals plus ``u^2`` and ``(z_k, w_k)`` the rule for the standard
        normal. As in lme4, the deviance residuals (not the family's ``aic``) enter, so for
        Poisson counts the AGQ deviance lacks the saturated log-likelihood that the Laplace
        deviance has (``-2 sum log dpois(y, y)``): AGQ and Laplace log-likelihoods of a
        Poisson model are not comparable (for 0/1 outcomes they are).
        """
        sv = self.solver
        lam = float(theta[0])
        ru, st = sv.row_unit[0], sv.starts[0]
        z_col = sv.Z[0][:, 0]
        u0 = state.u[0][:, 0]
        Lii2 = 1.0 / state.factor.Minv[0][:, 0, 0]  # M per unit at the last weights
        sd = 1.0 / np.sqrt(Lii2)
        fixed = state.eta - z_col * (lam * u0[ru])
        g0 = np.add.reduceat(self.family.dev_resid(self.y, state.mu), st) + u0**2
        mult = np.zeros(len(u0))
        for zk, wk in zip(*self._gh):
            if zk == 0.0:
                mult += wk
                continue
            uk = u0 + zk * sd
            mu = self.family.mu(fixed + z_col * (lam * uk[ru]))
            gk = np.add.reduceat(self.family.dev_resid(self.y, mu), st) + uk**2
            mult += wk * np.exp(-0.5 * (gk - g0) + 0.5 * zk * zk)
        return float(g0.sum() + state.ldL2 - 2.0 * np.log(mult).sum())

    def deviance(self, theta: np.ndarray, beta: np.ndarray | None = None) -> float:
        """-2 log-likelihood (Laplace or AGQ) at ``(theta, beta)``; ``beta=None``: stage 1.

        PIRLS starts from the last converged state.
        """
        self.n_eval += 1
        theta = np.asarray(theta, float)
        try:
            state = self.pirls(theta, beta, self._warm)
        except (ConvergenceError, np.linalg.LinAlgError, FloatingPointError):
            try:
                state = self.pirls(theta, beta, None)
            except (ConvergenceError, np.linalg.LinAlgError):
                return np.inf
        self._warm = state
        if self.nagq > 1 and beta is not None:
            return self.agq(state, theta)
        return self.laplace(state)

    def _stage2(self, x: np.ndarray) -> float:
        return self.deviance(x[: self.n_theta], x[self.n_theta:])

    def value_gradient(self, x: np.ndarray):
        """The Laplace deviance at ``x = (theta, beta)`` and its exact gradient.

        With ``f = aic(eta) + ||u||^2 + log det M`` at the modes ``u`` (stationary in u),
        ``M = I + Lambda' Z' W Z Lambda``: the terms at fixed ``u`` and ``W``, plus the
        change of ``W`` with ``eta = X beta + Z Lambda u(theta, beta)`` (implicit
        differentiation of the modes, ``du = -M^-1 (...)``). With ``e = y - mu``, ``h_i =
        z_i' Cov(b | y) z_i``, ``v = h w'`` and ``a = M^-1 Lambda' Z' v``, ``c = Z Lambda a``:
        ``df/dbeta = X' (-2 e + v - w c)``; ``df/dLambda_l = sum_j [(E_j u_j' + F_j a_j')
        + 2 G_j Lambda_l]`` with ``E_j, F_j`` the unit sums of ``(-2 e + v - w c) z`` and
        ``e z`` and ``G_j = Z_j' V^-1 Z_j`` (:meth:`NestedSolver.posterior`).
        """
        k = self.n_theta
        theta, beta = x[:k], x[k:]
        f = self._stage2(x)
        if not np.isfinite(f):
            return f, np.full(len(x), np.nan)
        st, sv, fam = self._warm, self.solver, self.family
        lams = self.lambdas(theta)
        _, chains, Gs = sv.posterior(st.factor, lams)
        w = st.w if st.w is not None else fam.weights(st.mu)
        e = self.y - st.mu
        h = self._leverage(chains[0])
        dlw = fam.dlog_weights(st.mu)
        v = h * w
        v *= dlw
        fac_a = sv.with_residual(st.factor, lams, v)  # r = h dlw: w r = v (st.factor: at the weights w)
        ua, ba, _ = sv.modes(fac_a, lams, False, beta)
        e1 = -2.0 * e  # -2 e + v - w c, in place (large data)
        e1 += v
        c = sv.random_part(ba)
        c *= w
        e1 -= c
        g = np.empty(len(x))
        g[k:] = sv.xt(e1)
        E, F = sv.all_level_sums(e1), sv.all_level_sums(e)
        for l, Lam in enumerate(lams):
            dLam = E[l].T @ st.u[l] + F[l].T @ ua[l] + 2.0 * Gs[l].sum(axis=0) @ Lam
            idx, r, c, _ = self._lam_pos[l]
            g[idx] = dLam[r, c]
        return f, g

    def _leverage(self, chain0: np.ndarray) -> np.ndarray:
        """``h_i = z_i' Cov(b_chain | y) z_i`` per sorted row (all levels' effects of the row)."""
        sv = self.solver
        if self._all_intercepts:
            return np.repeat(chain0.sum(axis=(1, 2)), sv.sizes[0])
        Zf = self._zfull
        C = chain0[sv.row_unit[0]]
        return np.einsum("ij,ijk,ik->i", Zf, C, Zf)

    # -- optimisation -----------------------------------------------------------------------
    def _fd_gradient(self, x: np.ndarray):
        """Value and central-difference gradient (adaptive quadrature has no exact one)."""
        f = self._stage2(x)
        here = self._warm
        g = np.empty(len(x))
        for i in range(len(x)):
            e = np.zeros(len(x))
            e[i] = 1e-5 * max(1.0, abs(x[i]))
            g[i] = (self._stage2(x + e) - self._stage2(x - e)) / (2 * e[i])
            self._warm = here
        return f, g

    def hessian(self, x: np.ndarray, fg, g: np.ndarray) -> np.ndarray:
        """The Hessian at ``x`` by forward differences of the exact gradient ``g`` (steps 1e-6
        ``max(1, |x_i|)``).

        PIRLS follows such a step in one Newton step from the modes at ``x``, which leaves the
        modes within about ``c^2`` of the exact ones for a change ``c`` of about the step (see
        :meth:`pirls`): their error enters the differences as O(step), as the truncation
        error does. The standard errors agree with those from central differences (step 1e-4,
        as lme4's ``deriv12``) of gradients with PIRLS converged to rounding to 2e-6 on the
        reference cases and on 200,000 rows (with step 1e-5, to 2e-5). At a scalar theta of 0
        the gradient is odd in theta, so the forward difference is exact to O(step^2) there.
        """
        return self._forward_diff(fg, x, g, 1e-6)

    def deriv12(self, x: np.ndarray, fx: float) -> tuple[np.ndarray, np.ndarray]:
        """Gradient and Hessian of the deviance by central differences of values (lme4's deriv12)."""
        m, d = len(x), _HESS_STEP
        H, g = np.empty((m, m)), np.empty(m)
        f = self._stage2
        here = self._warm
        for j in range(m):
            e = np.zeros(m)
            e[j] = d
            fp, fm = f(x + e), f(x - e)
            H[j, j] = (fp - 2 * fx + fm) / d**2
            g[j] = (fp - fm) / (2 * d)
            for i in range(j):
                ei = np.zeros(m)
                ei[i] = d
                H[i, j] = H[j, i] = (f(x + ei + e) - f(x + ei - e) - f(x - ei + e) + f(x - ei - e)) / (4 * d * d)
        self._warm = here
        return g, H

    def _quasi_newton(self, fg, x0: np.ndarray):
        """Projected BFGS from a difference Hessian (as the linear engine's ``_local``).

        Diagonal elements of scalar blocks are unbounded (the deviance is even in them; their
        sign is dropped at the end); those of correlated blocks are held at 0 when the
        gradient pushes below. Stops when the Newton decrement ``g' H^-1 g`` (about twice
        the distance to the optimum in deviance) is below ``max(1e-10, 1e-13 |deviance|)``
        (on large data the rounding of the deviance and its gradient keeps the decrement
        from falling further) or the Newton step is below 1e-7 in every parameter.
        """
        lo = np.where(self._bounded, 0.0, -np.inf)
        x = np.maximum(np.asarray(x0, float), lo)
        f, g = fg(x)
        if not np.isfinite(f):
            raise ConvergenceError("The deviance is not finite at the starting values.")
        here = self._warm  # the modes at x
        H = _make_pd(self._start_hessian(fg, x, g) if fg == self.value_gradient else self._forward_diff(fg, x, g))
        for _ in range(200):
            active = self._bounded & (x <= 0) & (g > 0)
            free = ~active
            step = np.zeros_like(x)
            step[free] = -np.linalg.solve(H[np.ix_(free, free)], g[free])
            if -float(g[free] @ step[free]) < max(1e-10, 1e-13 * abs(f)) or np.max(np.abs(step)) < 1e-7:
                break
            found = self._line_search(fg, x, f, g, step, lo)
            if found is None:
                break
            xn, fn, gn = found
            here = self._warm
            sv_, yv = xn - x, gn - g
            sy = float(sv_ @ yv)
            x, f, g = xn, fn, gn
            if sy > 1e-12 * float(sv_ @ sv_):
                Hs = H @ sv_
                H = H + np.outer(yv, yv) / sy - np.outer(Hs, Hs) / float(sv_ @ Hs)
            if np.max(np.abs(sv_)) < 1e-12:
                break
        self._warm = here
        flip = self._scalar & (x < 0)
        if flip.any():  # the deviance is even in these: same value, modes with the other sign
            x = np.where(flip, -x, x)
            self._warm = self._flipped(here, flip)
            f, g = fg(x)
        return x, f, g

    def _line_search(self, fg, x, f, g, step, lo):
        """Backtracking (Armijo) along ``step``, theta moving at most 1; None if it fails."""
        big = float(np.max(np.abs(step[: self.n_theta]), initial=0.0))
        t = min(1.0, 1.0 / big) if big > 0 else 1.0
        while t > 1e-10:
            xn = np.maximum(x + t * step, lo)
            fn, gn = fg(xn)
            if np.isfinite(fn) and fn <= f + 1e-4 * float(g @ (xn - x)):
                return xn, fn, gn
            t *= 0.25
        return None

    def _flipped(self, state: PirlsState, flip: np.ndarray) -> PirlsState:
        """``state`` with the modes of the scalar thetas in ``flip`` negated (b unchanged)."""
        u = [a.copy() for a in state.u]
        for l, (idx, _, c, _) in enumerate(self._lam_pos):
            for i, col in zip(idx, c):
                if flip[i]:
                    u[l][:, col] *= -1.0
        return dataclasses.replace(state, u=u)

    def _start_hessian(self, fg, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """A Hessian to start the quasi-Newton steps from.

        Forward differences of the gradient in the theta directions (step 1e-5, which PIRLS
        follows in one Newton step from the modes at ``x``; their columns give the
        theta-beta block too); the beta block is ``2 X' V^-1 X`` at the current weights (the
        curvature of the penalised deviance with the modes profiled out; that of ``log|L|^2``
        in beta is small), one pass of the solver instead of ``p`` gradients.
        """
        m, k = len(x), self.n_theta
        H = np.zeros((m, m))
        here = self._warm
        for i in range(k):
            e = np.zeros(m)
            e[i] = 1e-5 * max(1.0, abs(x[i]))
            H[:, i] = (fg(x + e)[1] - g) / e[i]
            self._warm = here
        H[:k, :k] = 0.5 * (H[:k, :k] + H[:k, :k].T)
        H[:k, k:] = H[k:, :k].T
        w = self.family.weights(here.mu)
        T = self.solver.factor(self.lambdas(x[:k]), w, None, True).top
        H[k:, k:] = 2.0 * T[: self.p, : self.p]
        return H

    def _forward_diff(self, fg, x: np.ndarray, g: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """Hessian by forward differences of ``fg``'s gradient (steps ``step max(1, |x_i|)``)."""
        m = len(x)
        H = np.empty((m, m))
        here = self._warm
        for i in range(m):
            e = np.zeros(m)
            e[i] = step * max(1.0, abs(x[i]))
            H[:, i] = (fg(x + e)[1] - g) / e[i]
            self._warm = here
        return 0.5 * (H + H.T)

    def optimize(self) -> GLMMOptim:
        """Fit: start at lme4's theta and the joint PIRLS beta; quasi-Newton on the Laplace
        deviance with its exact gradient; for ``nagq > 1`` on from there with difference
        gradients of the quadrature deviance. Then the Hessian and the checks.
        """
        self.n_eval = 0
        k = self.n_theta
        th0 = self.theta_start()
        # weights for the PQL start: one joint Newton step from R's mustart at lme4's theta (more
        # steps there do not give a better start)
        state = self.pirls(th0, None, None, tol=np.inf)
        self._warm = state
        x0 = self._pql_start(state, th0)
        f1 = np.nan
        laplace_fg = self.value_gradient
        if self.nagq > 1:
            self.nagq, nagq = 1, self.nagq
            x0, f1, _ = self._quasi_newton(laplace_fg, x0)
            self.nagq = nagq
            fg = self._fd_gradient
        else:
            fg = laplace_fg
        x, fx, g = self._quasi_newton(fg, x0)
        g, H = self._derivatives(x, fx, g, fg)
        ok, msg = self._check(x, g, H)
        restarts = [x, np.r_[0.5 * th0, x0[k:]]] if not ok else []
        for start in restarts:  # afresh from the point reached, then from smaller variances
            x2, f2, g2 = self._quasi_newton(fg, start)
            if f2 < fx - 1e-10:
                x, fx = x2, f2
                g, H = self._derivatives(x, fx, g2, fg)
                ok, msg = self._check(x, g, H)
            if ok:
                break
        return GLMMOptim(x[:k], x[k:], fx, g, H, ok, msg, self.n_eval, f1, self._warm)

    def _pql_start(self, state: PirlsState, theta0: np.ndarray) -> np.ndarray:
        """Starting values from one penalised-quasi-likelihood step (Breslow & Clayton 1993).

        The linear mixed model of the working response ``z = eta + (y - mu) / w`` with
        weights ``w`` at lme4's start, fitted by ML (``theta`` relative to the residual SD,
        beta profiled out): its ``theta sigma`` and ``beta`` are a start close to the optimum
        (a few quasi-Newton steps fewer than from ``theta = 1``). The weighted cross-products
        of the finest units are formed once (one pass over the rows); each value of the
        profiled deviance ``log|L|^2 + n log(pwrss)`` is a bottom-up pass over the units (the
        finest level precomputed, :meth:`NestedSolver.compress_first`), minimised by Newton
        steps on difference derivatives (:func:`_newton_minimise`) with the diagonal elements
        on the log scale (positive; no saddle point at 0). Diagonal elements are kept at least
        0.05 (a scalar theta of exactly 0 is a stationary point the steps could not leave);
        lme4's start if the fit fails. PIRLS at the start begins from the working model's
        conditional modes (two or three Newton steps fewer than from those at lme4's start).
        """
        sv = self.solver
        w = self.family.weights(state.mu)
        z = np.subtract(self.y, state.mu)
        z /= w
        z += state.eta
        S0 = sv.cross_products(w, z, True)
        first = sv.compress_first(S0, True)
        p, n = self.p, self.n

        def profiled(T: np.ndarray):
            beta = np.linalg.solve(T[:p, :p], T[:p, p])
            return beta, float(T[p, p] - T[:p, p] @ beta)

        def deviance(th: np.ndarray) -> float:
            try:
                T, ldL2 = sv.top(S0, self.lambdas(th), True, first)
                _, pwrss = profiled(T)
            except np.linalg.LinAlgError:
                return np.inf
            value = ldL2 + n * np.log(pwrss) if pwrss > 0 else np.inf
            return value if np.isfinite(value) else np.inf

        diag = self._diag

        def on_log_scale(s_: np.ndarray) -> float:  # diagonal elements as logs: no bound, no saddle at 0
            return deviance(np.where(diag, np.exp(np.maximum(s_, -10.0)), s_))

        with np.errstate(all="ignore"):
            s0 = np.where(diag, np.log(np.maximum(np.abs(theta0), 1e-4)), theta0)
            s1, fx = _newton_minimise(on_log_scale, s0)
            if not np.isfinite(fx):
                return np.r_[theta0, state.beta]
            x = np.where(diag, np.exp(np.maximum(s1, -10.0)), s1)
            try:
                fac = sv.absorb(S0, self.lambdas(x), True)
                beta, pwrss = profiled(fac.top)
            except np.linalg.LinAlgError:
                return np.r_[theta0, state.beta]
            sigma = np.sqrt(pwrss / n)
        theta = np.where(self._diag, np.maximum(np.abs(x * sigma), 0.05), x * sigma)
        if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(beta))):
            return np.r_[theta0, state.beta]
        # start PIRLS from the working model's modes (u = Lambda^-1 b; its units are the solver's)
        _, bs, _ = sv.modes(fac, self.lambdas(x), True)
        try:
            u = [np.linalg.solve(Lam, bl.T).T for bl, Lam in zip(bs, self.lambdas(theta))]
        except np.linalg.LinAlgError:
            u = None
        if u is not None and all(np.all(np.isfinite(a)) for a in u):
            self._warm = dataclasses.replace(state, u=u, beta=beta)
        return np.r_[theta, beta]

    def _derivatives(self, x, fx, g, fg):
        """Gradient and Hessian at the optimum (leaves the modes at ``x`` as the warm start)."""
        here = self._warm
        if self.nagq > 1:
            g, H = self.deriv12(x, fx)
        else:
            H = self.hessian(x, fg, g)
        self._warm = here
        return g, H

    def _check(self, x: np.ndarray, g: np.ndarray, H: np.ndarray) -> tuple[bool, str]:
        """lme4-like checks: scaled gradient of the free parameters and a positive definite Hessian."""
        at_bound = np.r_[self._diag & (np.abs(x[: self.n_theta]) <= SINGULAR_TOL * 1e-2), np.zeros(self.p, bool)]
        free = ~at_bound
        Hf = H[np.ix_(free, free)]
        ev = np.linalg.eigvalsh(Hf)
        if ev.min() <= 0:
            return False, f"Hessian of the deviance not positive definite (eigenvalues {ev.round(6)})"
        scaled = np.abs(np.linalg.solve(Hf, g[free]))
        if scaled.max() > 1e-3:
            return False, f"scaled gradient {scaled.max():.2g} too large"
        if np.any(g[at_bound & self._bounded] < -1e-3):
            return False, "the deviance falls when a variance at zero grows"
        return True, "converged"


def _newton_minimise(f, x: np.ndarray, step: float = 1e-4, maxit: int = 50) -> tuple[np.ndarray, float]:
    """Minimum of a smooth function of a few parameters: Newton steps with central differences.

    The gradient and the Hessian's diagonal by central differences (steps ``step max(1, |x|)``),
    its off-diagonal elements from one more value each; the Hessian's eigenvalues made
    positive; backtracking (Armijo) with no parameter moving more than 1. Stops when the
    Newton decrement falls below ``1e-11 max(1, |f|)`` or a step below 1e-9. Plain numpy
    throughout: scipy's L-BFGS-B calls scipy's BLAS, whose threads then spin after each call
    and take a core from the fit on a machine with two; scipy's BFGS needs three times the
    values here. Returns ``(x, f(x))``; ``f`` may be infinite where it is undefined.
    """
    m = len(x)
    fx = f(x)
    if not np.isfinite(fx):
        return x, fx
    for _ in range(maxit):
        h = step * np.maximum(1.0, np.abs(x))
        E = np.diag(h)
        fp = np.array([f(x + E[i]) for i in range(m)])
        fm = np.array([f(x - E[i]) for i in range(m)])
        if not (np.all(np.isfinite(fp)) and np.all(np.isfinite(fm))):
            break
        g = (fp - fm) / (2.0 * h)
        H = np.diag((fp - 2.0 * fx + fm) / h**2)
        for i in range(m):
            for j in range(i):
                H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - fp[i] - fp[j] + fx) / (h[i] * h[j])
        if not np.all(np.isfinite(H)):
            break
        d = -np.linalg.solve(_make_pd(H), g)
        if -float(g @ d) < 1e-11 * max(1.0, abs(fx)) or np.max(np.abs(d)) < 1e-9:
            break
        t = min(1.0, 1.0 / float(np.max(np.abs(d))))
        while t > 1e-10:
            fn = f(x + t * d)
            if np.isfinite(fn) and fn <= fx + 1e-4 * t * float(g @ d):
                break
            t *= 0.25
        else:
            break
        x, fx = x + t * d, fn
    return x, fx


def _make_pd(H: np.ndarray) -> np.ndarray:
    """``H`` with its eigenvalues replaced by their absolute values, at least 1e-8 of the largest."""
    ev, V = np.linalg.eigh(H)
    floor = 1e-8 * max(float(np.abs(ev).max()), 1e-12)
    return (V * np.maximum(np.abs(ev), floor)) @ V.T
