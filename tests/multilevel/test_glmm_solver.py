"""The pieces of the nested GLMM's solver and PIRLS that its speed rests on, each against the
plain computation it replaces (the fits themselves are checked against lme4 in
test_glmm_reference.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.frame import Level, RandomBlock, build_frame
from lerendtransformeren.multilevel.glmm import FAMILIES, GLMMEngine

REF = Path(__file__).resolve().parents[1] / "reference" / "glmm"
FORMULAS = [
    ("y_bin ~ wave + offer + x + (1 | organisation/team)", "binomial"),
    ("y_bin ~ wave + (1 + wave | organisation) + (1 | organisation:team)", "binomial"),
    ("y_cnt ~ offer + (1 | organisation/team/professional)", "poisson"),
]


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    return pd.read_csv(REF / "nested.csv")


def engine(nested, formula, family) -> GLMMEngine:
    fr = build_frame(formula, nested)
    return GLMMEngine(fr.y, fr.X, fr.levels, FAMILIES[family])


def point(eng: GLMMEngine) -> np.ndarray:
    rng = np.random.default_rng(4)
    x = np.r_[0.4 + 0.5 * rng.random(eng.n_theta), 0.2 * rng.normal(size=eng.p)]
    x[: eng.n_theta][~eng._diag] = -0.1
    return x


def test_inverse_link_and_aic_equal_the_plain_formulas():
    rng = np.random.default_rng(0)
    eta = np.r_[rng.normal(0, 3, 1000), -40.0, 40.0, 30.0, -30.0]
    mu = FAMILIES["binomial"].mu(eta.copy())
    np.testing.assert_allclose(mu, expit(np.clip(eta, -30, 30)), rtol=1e-15)
    y = (rng.random(len(eta)) < 0.4).astype(float)
    fam = FAMILIES["binomial"]
    total = fam.aic_total(y, mu, np.flatnonzero(y > 0.5))
    assert total == pytest.approx(float(fam.aic_terms(y, mu).sum()), rel=1e-14)
    assert fam.aic_total(y, mu) == total


@pytest.mark.parametrize("formula,family", FORMULAS)
def test_solver_shortcuts_equal_the_full_passes(nested, formula, family):
    eng = engine(nested, formula, family)
    sv, x = eng.solver, point(eng)
    lams = eng.lambdas(x[: eng.n_theta])
    rng = np.random.default_rng(1)
    w, r, r2 = 0.1 + rng.random(eng.n), rng.normal(size=eng.n), rng.normal(size=eng.n)
    for joint in (False, True):
        full = sv.cross_products(w, r, joint)
        rp = sv.layouts[joint].cols[0].index(sv.r_idx)
        no_rr = sv.cross_products(w, r, joint, rr=False)
        assert no_rr[:, rp, rp].max() == 0.0
        no_rr[:, rp, rp] = full[:, rp, rp]
        np.testing.assert_array_equal(no_rr, full)
        zero = sv.cross_products(w, None, joint)
        np.testing.assert_allclose(zero, sv.cross_products(w, np.zeros(eng.n), joint), rtol=0, atol=0)
        # the compressed finest level gives the same top and log-determinant
        first = sv.compress_first(full, joint)
        fac = sv.absorb(full, lams, joint)
        if first is not None:
            top, ld = sv.top(full, lams, joint, first)
            np.testing.assert_allclose(top, fac.top, rtol=1e-10, atol=1e-10 * np.abs(fac.top).max())
            assert ld == pytest.approx(fac.ldL2, rel=1e-12)
    # a new residual on an existing factor: the modes of a full pass
    fac = sv.factor(lams, w, r, False)
    u1, b1, _ = sv.modes(sv.with_residual(fac, lams, w * r2), lams, False, x[eng.n_theta:])
    u2, b2, _ = sv.modes(sv.factor(lams, w, r2, False), lams, False, x[eng.n_theta:])
    for a, b in zip(u1 + b1, u2 + b2):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # random part and unit sums against the plain sums over the levels' columns
    bs = [rng.normal(size=(len(st), q)) for st, q in zip(sv.starts, sv.q)]
    # a PIRLS step's cross-products from e = y - mu and the modes: those of r = e / w + eta (- X beta)
    beta = x[eng.n_theta:]
    for joint in (False, True):
        eta_r = sv.random_part(bs) + (sv.X @ beta if joint else 0.0)
        full = sv.cross_products(w, r / w + eta_r, joint, rr=False)
        np.testing.assert_allclose(sv.newton_products(w, r, bs, beta, joint), full, rtol=1e-10,
                                   atol=1e-10 * np.abs(full).max())
    plain = sum(np.einsum("ij,ij->i", Z, b[ru]) for Z, b, ru in zip(sv.Z, bs, sv.row_unit))
    np.testing.assert_allclose(sv.random_part(bs), plain, rtol=1e-12, atol=1e-12)
    for l, sums in enumerate(sv.all_level_sums(r)):
        np.testing.assert_allclose(sums, sv.level_sums(r, l), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("formula,family", FORMULAS)
def test_pirls_stops_within_its_tolerance_and_factors_at_the_final_weights(nested, formula, family):
    eng, tight, old = (engine(nested, formula, family) for _ in range(3))
    tight._pirls_tol, tight._quadratic_stop = 1e-15, False  # the modes to rounding
    old._quadratic_stop = False  # the rule before: one more step after a change of 1e-8
    x = point(eng)
    start = eng.pirls(x[: eng.n_theta], x[eng.n_theta:])
    x2 = x + 1e-4  # a warm start nearby, as in the optimiser's steps
    th, beta = x2[: eng.n_theta], x2[eng.n_theta:]
    quick, exact, before = eng.pirls(th, beta, start), tight.pirls(th, beta, None), old.pirls(th, beta, start)
    scale = 1.0 + np.abs(exact.eta).max()
    assert np.abs(quick.eta - exact.eta).max() / scale < 1e-10
    assert eng.laplace(quick) == pytest.approx(tight.laplace(exact), abs=1e-8)
    assert quick.iterations <= before.iterations
    # the factor of the returned state is at the weights of its own modes
    w = eng.family.weights(quick.mu)
    np.testing.assert_array_equal(quick.w, w)
    fresh = eng.solver.factor(eng.lambdas(th), w, None, False)
    assert quick.ldL2 == fresh.ldL2 == quick.factor.ldL2


@pytest.mark.parametrize("formula,family", FORMULAS)
def test_pql_start_equals_the_linear_engine_on_the_working_response(nested, formula, family):
    """The start's working linear model, fitted on the units' cross-products, against the
    linear engine fitted (ML) to the rows scaled by sqrt(w)."""
    eng = engine(nested, formula, family)
    th0 = eng.theta_start()
    state = eng.pirls(th0, None, None, tol=1e-3)
    x = eng._pql_start(dataclasses.replace(state), th0)
    sv = eng.solver
    back = np.argsort(sv.order)
    w = eng.family.weights(state.mu)
    sw = np.sqrt(w)[back]
    z = (state.eta + (eng.y - state.mu) / w)[back]
    levels = [Level(lev.name, lev.factors, lev.codes, lev.labels,
                    [RandomBlock(b.group, b.expr, b.names, b.Z * sw[:, None]) for b in lev.blocks])
              for lev in build_frame(formula, nested).levels]
    lin = NestedEngine(sw * z, sv.X[back] * sw[:, None], levels, reml=False)
    opt = lin.optimize()
    ev = lin.evaluate(opt.theta)
    theta = opt.theta * lin.sigma(ev)
    theta = np.where(eng._diag, np.maximum(np.abs(theta), 0.05), theta)  # the start's floor
    np.testing.assert_allclose(x[: eng.n_theta], theta, rtol=1e-4)
    np.testing.assert_allclose(x[eng.n_theta:], ev.beta, rtol=1e-4, atol=1e-6)
    # PIRLS starts from the working model's modes
    modes = lin.conditional_modes(opt.theta, ev.beta, lin.sigma(ev))
    for (b, _), u, Lam in zip(modes, eng._warm.u, eng.lambdas(x[: eng.n_theta])):
        np.testing.assert_allclose(u @ Lam.T, b, rtol=1e-3, atol=1e-5)


def test_fixed_part_and_cross_product_with_x_equal_blas(nested):
    eng = engine(nested, *FORMULAS[0])
    sv = eng.solver
    beta = np.array([0.3, -1.2, 0.0, 2.5])[: eng.p]
    np.testing.assert_allclose(sv.fixed_part(beta), sv.X @ beta, rtol=1e-13, atol=1e-13)
    e = np.random.default_rng(2).normal(size=eng.n)
    np.testing.assert_allclose(sv.xt(e), sv.X.T @ e, rtol=1e-12, atol=1e-12)


def test_newton_minimise_finds_the_minimum_and_steps_back_from_undefined_values():
    from lerendtransformeren.multilevel.glmm import _newton_minimise

    A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 200.0]])
    target = np.array([0.3, -1.0, 0.02])

    def f(x):  # a quadratic, undefined (inf) beyond x0 = 2 and not quadratic far out
        if x[0] > 2.0:
            return np.inf
        d = x - target
        return float(d @ A @ d) + 0.1 * float(np.sum(d**4))

    x, fx = _newton_minimise(f, np.array([1.9, 1.0, 1.0]))
    np.testing.assert_allclose(x, target, atol=1e-5)
    assert fx == pytest.approx(0.0, abs=1e-10)
    x, fx = _newton_minimise(lambda x: np.inf, np.zeros(2))
    assert not np.isfinite(fx)


@pytest.mark.parametrize("formula,family", [
    ("y_bin ~ wave + offer + x + (1 | organisation/team)", "binomial"),
    ("y_bin ~ wave + offer + x + (1 | organisation/team/professional)", "binomial"),
    ("y_cnt ~ wave + offer + (1 | organisation/team)", "poisson"),
])
def test_hessian_of_the_fit_equals_central_differences_of_converged_gradients(nested, formula, family):
    """The one-step PIRLS of the Hessian's forward differences costs the standard errors less
    than 1e-5 against central differences with the modes converged to rounding."""
    from lerendtransformeren.multilevel import fit

    m = fit(formula, nested, family=family)
    eng, opt = m.engine, m.optimization
    x = np.r_[opt.theta, opt.beta]
    eng._pirls_tol, eng._quadratic_stop = 1e-14, False
    eng._warm = opt.state
    eng.value_gradient(x)
    here = eng._warm
    H = np.empty((len(x), len(x)))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = 1e-4 * max(1.0, abs(x[i]))
        eng._warm = here
        gp = eng.value_gradient(x + e)[1]
        eng._warm = here
        H[:, i] = (gp - eng.value_gradient(x - e)[1]) / (2 * e[i])
    se = np.sqrt(np.diag(2.0 * np.linalg.inv(0.5 * (H + H.T))[eng.n_theta:, eng.n_theta:]))
    np.testing.assert_allclose(m.fixed["se"].to_numpy(), se, rtol=1e-5)
