"""Small-sample inference for fixed effects: Satterthwaite df, contrasts, Type III, LRT.

Satterthwaite's method as lmerTest computes it (Kuznetsova, Brockhoff & Christensen 2017):
the variance parameters are ``phi = (theta, sigma)``; ``A = 2 H^-1`` with ``H`` the Hessian
of the deviance in ``phi`` (beta profiled, lmerTest's ``devfun_vp``); ``H^-1`` from the
eigenvalues above 1e-8 only, as lmerTest does. For a contrast ``l``:
``df = 2 (l' C l)^2 / (g' A g)`` with ``g_i = l' (dC/dphi_i) l`` and ``C = sigma^2
(X'V^-1X)^-1``. A multi-row contrast gives an F-test with the df of lmerTest's
``contestMD``. Second derivatives are central differences of the analytic gradient of the
exact criterion (lmerTest uses numDeriv's Richardson extrapolation on the criterion; the
difference is far below the reported digits).

R equivalents: ``lmerTest::contest``, ``lmerTest::contest1D``, ``lmerTest::contestMD``,
``anova(model, type = 3)`` (any full-rank coding), ``anova(m0, m1)`` (likelihood-ratio test, refit with ML).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.engine import NestedEngine

__all__ = ["Satterthwaite", "satterthwaite", "contrast_1d", "contrast_md", "type3_contrasts", "lrt", "profile_sd"]

#: Eigenvalues of the deviance Hessian at or below this are left out of its inverse (lmerTest).
EIGEN_TOL = 1e-8


@dataclass
class Satterthwaite:
    """What Satterthwaite's df need, at the optimum.

    Attributes
    ----------
    beta : ndarray (p,)
    vcov : ndarray (p, p)
        ``sigma^2 (X'V^-1X)^-1``.
    vcov_varpar : ndarray (m, m)
        ``2 H^-1``, the asymptotic covariance of ``(theta, sigma)``.
    jacobian : ndarray (m, p, p)
        Derivative of ``vcov`` with respect to each variance parameter.
    hessian_eigenvalues : ndarray (m,)
    """

    beta: np.ndarray
    vcov: np.ndarray
    vcov_varpar: np.ndarray
    jacobian: np.ndarray
    hessian_eigenvalues: np.ndarray


def satterthwaite(engine: NestedEngine, theta: np.ndarray, sigma: float, beta: np.ndarray) -> Satterthwaite:
    """Hessian of the deviance in ``(theta, sigma)`` and Jacobian of ``vcov(beta)``.

    Both from :meth:`NestedEngine.varpar_hessian` (central differences of the analytic
    gradient in theta, also across 0 at a singular fit; exact in sigma).
    """
    H, jac, vcov = engine.varpar_hessian(np.asarray(theta, float), sigma)
    evals, evecs = np.linalg.eigh(H)
    pos = evals > EIGEN_TOL
    h_inv = (evecs[:, pos] / evals[pos]) @ evecs[:, pos].T
    return Satterthwaite(beta, vcov, 2.0 * h_inv, jac, evals)


def _df_1d(sat: Satterthwaite, l: np.ndarray) -> tuple[float, float]:
    var = float(l @ sat.vcov @ l)
    g = np.einsum("i,mij,j->m", l, sat.jacobian, l)
    denom = float(g @ sat.vcov_varpar @ g)
    return var, (2.0 * var**2 / denom if denom > 0 else np.inf)


def contrast_1d(sat: Satterthwaite, l, conf_level: float = 0.95) -> dict:
    """Estimate, se, Satterthwaite df, t, p and CI of ``l' beta``; lmerTest's ``contest1D``."""
    l = np.asarray(l, float).ravel()
    est = float(l @ sat.beta)
    var, df = _df_1d(sat, l)
    se = np.sqrt(var)
    t = est / se
    q = float(special.stdtrit(df, 0.5 + conf_level / 2))  # stats.t.ppf and .sf without their
    p = 2 * float(special.stdtr(df, -abs(t)))  # argument checks: the same functions, same numbers
    return {"estimate": est, "se": se, "df": df, "t": t, "p": p, "ci_low": est - q * se, "ci_high": est + q * se}


def _fstat_ddf(nu: np.ndarray) -> float:
    """Denominator df of the F statistic from the t-statistics' df (lmerTest)."""
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    e = float(np.sum(nu / (nu - 2)))
    return 2 * e / (e - len(nu))


def contrast_md(sat: Satterthwaite, L) -> dict:
    """Multi-df F-test of ``L beta = 0`` with Satterthwaite df; lmerTest's ``contestMD``.

    The contrast covariance ``L C L'`` is diagonalised; each of its ``q`` (numerical rank)
    independent directions gives a t-statistic with its own df, combined into the
    denominator df of ``F = sum t_m^2 / q``.
    """
    L = np.atleast_2d(np.asarray(L, float))
    vl = L @ sat.vcov @ L.T
    d, P = np.linalg.eigh(vl)
    d, P = d[::-1], P[:, ::-1]
    pos = d > max(np.finfo(float).eps ** 0.5 * d[0], 0)
    q = int(pos.sum())
    PtL = (P.T @ L)[:q]
    t2 = (PtL @ sat.beta) ** 2 / d[:q]
    F = float(t2.sum() / q)
    nu = np.array([2 * d[m] ** 2 / _gAg(sat, PtL[m]) for m in range(q)])
    ddf = _fstat_ddf(nu)
    return {"F": F, "numdf": q, "dendf": ddf, "p": float(stats.f.sf(F, q, ddf))}


def _gAg(sat: Satterthwaite, l: np.ndarray) -> float:
    g = np.einsum("i,mij,j->m", l, sat.jacobian, l)
    return float(g @ sat.vcov_varpar @ g)


# -- Type III contrasts (SAS-type hypotheses, as lmerTest's anova(type = 3)) ---------------
def _zap(a: np.ndarray) -> np.ndarray:
    """Entries below 1e-7 of the largest set to 0 (R's ``zapsmall``)."""
    a = np.array(a, dtype=float)
    top = np.abs(a).max() if a.size else 0.0
    a[np.abs(a) < 1e-7 * max(top, 1e-300)] = 0.0
    return a


def type3_contrasts(design, X: np.ndarray) -> dict[str, np.ndarray]:
    """Contrast matrix of every fixed term for a Type III test (lmerTest's algorithm).

    ``design`` is the model frame's :meth:`~.frame.ModelFrame.type3_design`: the fixed
    design with treatment coding (``X_T``) and the indicator coding of every term (``~ 0 +
    term`` in R). The indicator columns are projected on the columns of ``X_T``; the
    contrasts of a term contained in a higher-order term (same numeric variables, more
    factors) are made orthogonal to those of the containing terms, highest order first;
    each term keeps the rows of its own columns. The contrasts are then carried over to the
    model's own coding ``X`` by ``pinv(X_T) X``, so that the tests are the same for any
    full-rank coding (treatment, sum, Helmert, polynomial), as lmerTest's
    ``get_contrasts_type3``.

    Returns
    -------
    dict
        Term name -> contrast rows (one column per column of ``X``).
    """
    terms = design.terms
    p = X.shape[1]
    if len(terms) <= 1:  # lmerTest: Type I contrasts (each term's own columns)
        return {name: np.eye(p)[cols] for name, _, _, cols in terms}
    XT = design.X
    Lfull = _zap((np.linalg.pinv(XT) @ design.full).T)  # rows: indicator columns, columns: X_T's
    cols = {name: c for name, _, _, c in terms}
    vars_ = {name: f for name, f, _, _ in terms}
    nums = {name: n for name, _, n, _ in terms}
    for name, factors, _, _ in sorted(terms, key=lambda t: -len(t[1])):
        containing = [u for u in cols if vars_[name] < vars_[u] and nums[name] == nums[u]]
        if containing:
            basis = Lfull[:, np.concatenate([cols[c] for c in containing])]
            coef, *_ = np.linalg.lstsq(basis, Lfull[:, cols[name]], rcond=None)
            Lfull[:, cols[name]] = _zap(Lfull[:, cols[name]] - basis @ coef)
    lookup = {n.replace("[T.", "["): i for i, n in enumerate(design.full_names)}
    missing = [n for n in design.names if n.replace("[T.", "[") not in lookup]
    if missing:
        raise SpecificationError(f"Type III tests cannot place the columns {missing} of the design.")
    Lk = Lfull[[lookup[n.replace("[T.", "[")] for n in design.names]]
    to_model = _zap(np.linalg.pinv(XT) @ X)  # treatment coding -> the model's coding
    out = {}
    for name, _, _, c in terms:
        Lt = Lk[:, c].T
        out[name] = Lt[np.abs(Lt).sum(axis=1) > 1e-8] @ to_model
    return out


def lrt(m0, m1, **glmm_options) -> pd.DataFrame:
    """Likelihood-ratio test of nested models, refitting with ML when both are REML fits.

    R equivalent: ``anova(m0, m1)`` (lme4 refits REML fits with ML unless
    ``refit = FALSE``; for two REML fits with the same fixed effects, e.g. a test of a
    random term, the REML criteria are compared, as ``lmerTest::ranova``). Two GLMM fits
    (``fit(..., family=...)``) are compared by :func:`.glmm_results.lrt`, which takes
    ``method="bootstrap"``, ``n_boot``, ``seed`` and ``n_jobs`` (``glmm_options``) for a
    parametric-bootstrap test.
    """
    if hasattr(m0, "nagq") or hasattr(m1, "nagq"):
        from lerendtransformeren.multilevel.glmm_results import lrt as glmm_lrt

        return glmm_lrt(m0, m1, **glmm_options)
    if glmm_options:
        raise SpecificationError(
            f"{sorted(glmm_options)} apply to GLMM fits only (the parametric bootstrap LRT)."
        )
    same_fixed = list(m0.fixed.index) == list(m1.fixed.index) and np.allclose(m0._X, m1._X)
    if m0.reml and m1.reml and not same_fixed:
        m0, m1 = m0.refit(reml=False), m1.refit(reml=False)
    elif m0.reml != m1.reml:
        raise SpecificationError("Both models must be fitted with the same method (REML or ML).")
    if m0._n_used != m1._n_used:
        raise SpecificationError(
            f"The models use different rows ({m0._n_used} and {m1._n_used}); fit both on the same data."
        )
    k0, k1 = m0.n_parameters, m1.n_parameters
    if k0 > k1:
        m0, m1, k0, k1 = m1, m0, k1, k0
    crit0 = m0.reml_criterion if m0.reml else m0.deviance
    crit1 = m1.reml_criterion if m1.reml else m1.deviance
    chisq = max(crit0 - crit1, 0.0)
    df = k1 - k0
    return pd.DataFrame(
        {"n_par": [k0, k1], "aic": [m0.aic, m1.aic], "bic": [m0.bic, m1.bic],
         "loglik": [m0.loglik, m1.loglik], "criterion": [crit0, crit1],
         "chisq": [np.nan, chisq], "df": [np.nan, df],
         "p": [np.nan, float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan]},
        index=pd.Index([m0.formula, m1.formula], name="model"),
    )


# -- profile intervals for the standard deviations ----------------------------------------
def profile_sd(result, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood intervals for the SDs of scalar random terms and sigma.

    As ``lme4::confint(m, method = "profile")``: the parameters are ``s = (sd_1, ...,
    sd_L, sigma)`` with ``theta_k = sd_k / sigma``; the criterion is the deviance of the fit
    (REML for REML fits, lmerTest's ``devfun_vp``) with beta profiled. For each parameter the
    others are re-optimised on a grid of fixed values, and the bounds are where the signed
    root ``zeta = sign(s - s_hat) sqrt(dev_prof(s) - dev_min)`` crosses the normal quantile
    (brentq). A lower bound below which the deviance does not rise enough is 0.

    As in lme4 (whose ``profile`` works on ``devfun2``, the ML deviance), the profile is
    always of the ML deviance: for a REML fit the intervals are those of its ML refit
    (checked against lme4: the same intervals for the REML and ML fit, to 1e-9).

    Only for models whose random terms are all scalar (random intercepts); raises
    ``SpecificationError`` otherwise.
    """
    import scipy.optimize

    if result.reml:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = result.refit(reml=False)
    eng = result.engine
    if np.any(~np.isfinite(eng.lower)) or any(q != 1 for qs in eng.block_q for q in qs):
        raise SpecificationError("Profile intervals are implemented for random intercepts only; use method='wald'.")
    s_hat = np.r_[result.theta * result.sigma, result.sigma]
    m = len(s_hat)

    def dev(s):
        if s[-1] <= 0:
            return np.inf
        try:
            return eng.varpar_deviance(np.r_[np.abs(s[:-1]) / s[-1], s[-1]])
        except (np.linalg.LinAlgError, ValueError):
            return np.inf

    d_min = dev(s_hat)
    crit = float(stats.norm.ppf(0.5 + conf_level / 2))
    warm = {}

    def profiled(k, value):
        free = np.arange(m) != k
        start = warm.get(k, s_hat)[free]

        def f(z):
            s = np.empty(m)
            s[free], s[k] = z, value
            return dev(s)

        cap = 100.0 * float(s_hat.max())
        bounds = [(1e-3 * s_hat[-1] if j == m - 1 else 0.0, cap) for j in np.flatnonzero(free)]
        with np.errstate(invalid="ignore"):
            res = scipy.optimize.minimize(f, np.maximum(start, 1e-8), method="L-BFGS-B", bounds=bounds,
                                          options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 500})
        s = np.empty(m)
        s[free], s[k] = res.x, value
        warm[k] = s
        return float(res.fun)

    def zeta(k, value):
        return np.sign(value - s_hat[k]) * np.sqrt(max(profiled(k, value) - d_min, 0.0))

    lo, hi = np.empty(m), np.empty(m)
    se_guess = np.maximum(0.3 * s_hat, 1e-2)
    for k in range(m):
        warm.pop(k, None)
        # lower bound
        if s_hat[k] <= 1e-8 or zeta(k, 1e-10 if k < m - 1 else 1e-3 * s_hat[k]) > -crit:
            lo[k] = 0.0
        else:
            warm.pop(k, None)
            lo[k] = scipy.optimize.brentq(lambda v: zeta(k, v) + crit, 1e-10, s_hat[k], xtol=1e-10, rtol=1e-10)
        warm.pop(k, None)
        upper = s_hat[k] + se_guess[k]
        while zeta(k, upper) < crit:
            upper = s_hat[k] + 2 * (upper - s_hat[k])
        warm.pop(k, None)
        hi[k] = scipy.optimize.brentq(lambda v: zeta(k, v) - crit, s_hat[k] + 1e-12, upper, xtol=1e-10, rtol=1e-10)
    return lo, hi
