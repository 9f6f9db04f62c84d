"""The nested engine against dense linear algebra and against statsmodels MixedLM."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from lerendtransformeren.exceptions import SingularFitWarning
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.frame import build_frame


def nested_data(seed: int, n_top: int = 5, slopes: bool = True) -> pd.DataFrame:
    """Unbalanced three-level data with a wave slope; team codes reused across orgs."""
    rng = np.random.default_rng(seed)
    rows = []
    for o in range(n_top):
        for t in range(rng.integers(1, 4)):
            for p in range(rng.integers(1, 4)):
                for w in range(rng.integers(1, 5)):
                    rows.append((f"O{o}", f"T{t}", f"P{p}", w, rng.normal()))
    d = pd.DataFrame(rows, columns=["org", "team", "person", "wave", "x"])
    codes = d.groupby(["org", "team", "person"]).ngroup().to_numpy()
    d["y"] = (rng.normal(size=codes.max() + 1)[codes] * (1 + 0.3 * d["wave"] * slopes)
              + 0.5 * d["x"] + rng.normal(size=len(d)))
    return d


def dense_pieces(frame, theta: np.ndarray, engine: NestedEngine):
    """V = I + sum Z_l Psi_l Z_l' built explicitly (n x n)."""
    n = len(frame.y)
    V = np.eye(n)
    for lev, Lam in zip(frame.levels, engine.lambdas(theta)):
        Psi = Lam @ Lam.T
        Zl = np.hstack([b.Z for b in lev.blocks])
        # unit-wise block: Z_u Psi Z_u' for rows of the same unit
        same = lev.codes[:, None] == lev.codes[None, :]
        V += (Zl @ Psi @ Zl.T) * same
    return V


def dense_criterion(frame, theta, engine, reml):
    X, y = frame.X, frame.y
    n, p = X.shape
    V = dense_pieces(frame, theta, engine)
    c = scipy.linalg.cho_factor(V, lower=True)
    ldV = 2 * np.log(np.diag(c[0])).sum()
    XtVX = X.T @ scipy.linalg.cho_solve(c, X)
    beta = np.linalg.solve(XtVX, X.T @ scipy.linalg.cho_solve(c, y))
    r = y - X @ beta
    pwrss = r @ scipy.linalg.cho_solve(c, r)
    if reml:
        return ldV + np.linalg.slogdet(XtVX)[1] + (n - p) * (1 + np.log(2 * np.pi * pwrss / (n - p)))
    return ldV + n * (1 + np.log(2 * np.pi * pwrss / n))


FORMULAS = [
    "y ~ x + (1 | org/team/person)",
    "y ~ x + wave + (1 + wave | org:team:person) + (1 | org)",
    "y ~ x + wave + (1 + wave | org) + (1 + wave | org:team) + (1 | org:team:person)",
    "y ~ x + (1 | org) + (0 + wave | org) + (1 | org:team)",
]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("reml", [True, False])
def test_criterion_equals_dense_computation(formula, reml):
    frame = build_frame(formula, nested_data(3, n_top=6))
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=reml)
    rng = np.random.default_rng(0)
    for _ in range(3):
        theta = rng.uniform(-0.5, 1.5, eng.n_theta)
        theta[np.isfinite(eng.lower)] = np.abs(theta[np.isfinite(eng.lower)])
        assert eng.criterion(theta) == pytest.approx(dense_criterion(frame, theta, eng, reml), rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), theta=st.lists(st.floats(0.0, 3.0), min_size=3, max_size=3))
def test_criterion_equals_dense_on_random_designs(seed, theta):
    """Any unbalanced nesting (units with one row, teams with one person) and any theta."""
    d = nested_data(seed, n_top=3)
    if d["org"].nunique() < 2 or d.groupby(["org", "team"]).ngroups >= len(d):
        return
    try:
        frame = build_frame("y ~ x + (1 | org/team/person)", d)
    except ValueError:  # e.g. as many persons as rows: a legitimate refusal
        return
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=True)
    theta = np.array(theta)
    assert eng.criterion(theta) == pytest.approx(dense_criterion(frame, theta, eng, True), rel=1e-9)


@pytest.mark.filterwarnings("ignore::lerendtransformeren.exceptions.SingularFitWarning")
@pytest.mark.parametrize("formula", FORMULAS[1:3])
def test_conditional_modes_equal_dense_formulas(formula):
    """b = Psi Z' V^-1 (y - X beta); Var(b | y) = sigma^2 (Psi - Psi Z' V^-1 Z Psi)."""
    d = nested_data(11, n_top=6)
    res = fit(formula, d)
    frame, eng = res.frame, res.engine
    V = dense_pieces(frame, res.theta, eng)
    Vinv_r = np.linalg.solve(V, frame.y - frame.X @ res.beta)
    Vinv = np.linalg.inv(V)
    for lev, Lam, (b, cov) in zip(frame.levels, eng.lambdas(res.theta), eng.conditional_modes(res.theta, res.beta, res.sigma)):
        Psi = Lam @ Lam.T
        Zl = np.hstack([blk.Z for blk in lev.blocks])
        codes = lev.codes
        for k, unit in enumerate(eng.unit_codes[frames_index(frame, lev)]):
            rows = codes == unit
            Zu = np.zeros_like(Zl)
            Zu[rows] = Zl[rows]
            np.testing.assert_allclose(b[k], Psi @ Zu.T @ Vinv_r, atol=1e-9)
            expected = res.sigma**2 * (Psi - Psi @ Zu.T @ Vinv @ Zu @ Psi)
            np.testing.assert_allclose(cov[k], expected, atol=1e-9)


def frames_index(frame, lev) -> int:
    return [x.name for x in frame.levels].index(lev.name)


@pytest.mark.filterwarnings("ignore::lerendtransformeren.exceptions.SingularFitWarning")
def test_row_order_does_not_matter():
    d = nested_data(5, n_top=8)
    a = fit("y ~ x + wave + (1 + wave | org) + (1 | org:team)", d)
    b = fit("y ~ x + wave + (1 + wave | org) + (1 | org:team)", d.sample(frac=1.0, random_state=1))
    assert a.reml_criterion == pytest.approx(b.reml_criterion, abs=1e-9)
    pd.testing.assert_frame_equal(a.fixed, b.fixed, rtol=1e-6)
    pd.testing.assert_frame_equal(a.ranef("org:team"), b.ranef("org:team"), rtol=1e-5)


REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"


def test_against_statsmodels_mixedlm():
    """Two-level correlated random intercept and slope: the same REML optimum as MixedLM.

    MixedLM's standard errors come from the observed information of all parameters
    (lme4's and ours from sigma^2 (X'V^-1X)^-1), so they differ in the third digit.
    """
    import statsmodels.formula.api as smf

    d = pd.read_csv(REF / "slope.csv")
    ours = fit("y ~ wave + x + (1 + wave | resp)", d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sm = smf.mixedlm("y ~ wave + x", d, groups="resp", re_formula="~wave").fit(reml=True)
    assert ours.loglik == pytest.approx(sm.llf, abs=1e-6)
    np.testing.assert_allclose(ours.fixed["estimate"], sm.fe_params, rtol=1e-5)
    np.testing.assert_allclose(ours.fixed["se"], sm.bse_fe, rtol=5e-3)
    cov = ours.variance.loc["resp"]
    np.testing.assert_allclose(cov["variance"], np.diag(sm.cov_re), rtol=1e-4)
    assert cov.loc["wave", "corr Intercept"] * cov["sd"].prod() == pytest.approx(sm.cov_re.iloc[0, 1], rel=1e-4)
    assert ours.variance.loc[("residual", ""), "variance"] == pytest.approx(sm.scale, rel=1e-4)


def test_boundary_optimum_is_not_a_mirror_image_trap():
    """With a zero diagonal in a correlated block the optimiser can stop in the mirror
    image of the optimum (Lambda's column sign); the mirrored restart finds the optimum.
    Reference: the best of many starts of the same criterion."""
    d = nested_data(10, n_top=25)
    with pytest.warns(SingularFitWarning, match=r"covariance matrix of \(Intercept, wave\) at level 'org'"):
        res = fit("y ~ x + wave + (1 + wave | org)", d)
    eng = res.engine
    rng = np.random.default_rng(1)
    best = min(eng._local(rng.uniform([0, -1, 0], [2, 1, 2]))[1] for _ in range(8))
    assert res.reml_criterion <= best + 1e-8


def test_singular_fit_keeps_fixed_effects_of_the_top_level():
    """statsmodels issue 10239: at org variance 0 the org-level effect must not vanish.

    With no org variance the REML estimate of an org-level covariate's effect equals the
    one of the model without the org term (lme4 gives the same, see the reference case
    singular_reml)."""
    rng = np.random.default_rng(4)
    org = np.repeat(np.arange(10), 30)
    team = np.repeat(np.arange(50), 6)
    z = rng.normal(size=10)
    d = pd.DataFrame({"org": org, "team": team, "z": z[org]})
    d["y"] = 0.8 * d["z"] + rng.normal(0, 0.8, 50)[team] + rng.normal(size=300)
    with pytest.warns(SingularFitWarning, match="'org'"):
        full = fit("y ~ z + (1 | org/team)", d)
    assert full.singular
    without = fit("y ~ z + (1 | org:team)", d)
    assert full.theta[-1] < 1e-4
    np.testing.assert_allclose(full.fixed["estimate"], without.fixed["estimate"], rtol=1e-5)
    assert full.fixed.loc["z", "estimate"] > 0.5


def test_forty_thousand_rows_is_fast():
    rng = np.random.default_rng(0)
    n_person = 10_000
    person = np.repeat(np.arange(n_person), 4)
    team = person // 25
    org = team // 27
    wave = np.tile(np.arange(4), n_person)
    y = (rng.normal(size=org.max() + 1)[org] + rng.normal(size=team.max() + 1)[team]
         + rng.normal(size=n_person)[person] + 0.2 * wave + rng.normal(size=person.size))
    d = pd.DataFrame({"org": org, "team": team, "person": person, "wave": wave, "y": y})
    t0 = time.perf_counter()
    res = fit("y ~ wave + (1 | org/team/person)", d)
    assert time.perf_counter() - t0 < 10
    assert res.converged
    assert res.fixed.loc["wave", "estimate"] == pytest.approx(0.2, abs=0.02)


def compressible_data() -> pd.DataFrame:
    """300 persons with 1-4 waves in 10 teams of 3 organisations: the engine precomputes
    the person level (few distinct z'z per team)."""
    rng = np.random.default_rng(7)
    n_person = 300
    person = np.repeat(np.arange(n_person), 4)
    d = pd.DataFrame({
        "person": person, "team": person // 30, "org": person // 100,
        "wave": np.tile(np.arange(4.0), n_person), "x": rng.normal(size=person.size),
    })
    d["y"] = rng.normal(size=n_person)[person] + rng.normal(size=len(d))
    return d.sample(frac=0.8, random_state=3)  # unbalanced: 1-4 rows per person


COMPRESSED = ["y ~ x + wave + (1 | org/team/person)", "y ~ x + wave + (1 | org) + (0 + wave | person)"]


@pytest.mark.parametrize("formula", COMPRESSED)
def test_compressed_first_level_equals_the_plain_recursion(formula):
    """The precomputed lowest level (one scalar random effect) gives the same criterion."""
    frame = build_frame(formula, compressible_data())
    eng = NestedEngine(frame.y, frame.X, frame.levels)
    assert eng._c0 is not None
    for theta in [eng.theta_start(), 0.3 * eng.theta_start() + 0.05, np.full(eng.n_theta, 2.0)]:
        fast = eng.criterion(theta)
        c0, eng._c0 = eng._c0, None
        plain = eng.criterion(theta)
        eng._c0 = c0
        assert fast == pytest.approx(plain, rel=1e-12)


def _central_gradient(f, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return np.array([(f(theta + e) - f(theta - e)) / (2 * h) for e in np.eye(len(theta)) * h])


@pytest.mark.parametrize("formula", FORMULAS + COMPRESSED)
@pytest.mark.parametrize("reml", [True, False])
def test_analytic_gradient_equals_finite_differences(formula, reml):
    """The reverse pass through the recursion against central differences of the criterion,
    for the profiled criterion and for the deviance at a given sigma (lmerTest's devfun_vp),
    at random theta (off-diagonal elements of either sign), with and without the
    precomputed first level. Tolerance 1e-6 relative: the differences carry ~1e-8."""
    frame = build_frame(formula, compressible_data() if formula in COMPRESSED else nested_data(3, n_top=6))
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=reml)
    assert (eng._c0 is not None) == (formula in COMPRESSED)
    rng = np.random.default_rng(1)
    for compressed in ([True, False] if eng._c0 is not None else [False]):
        c0 = eng._c0
        if not compressed:
            eng._c0 = None
        for _ in range(3):
            theta = rng.uniform(-0.5, 1.5, eng.n_theta)
            theta[eng._diag] = np.abs(theta[eng._diag]) + 0.05
            for sigma in (None, 1.3):
                value, grad = eng.gradient(theta, sigma=sigma)
                f = eng.criterion if sigma is None else (lambda t: eng.varpar_deviance(np.r_[t, sigma]))
                assert value == pytest.approx(f(theta), rel=1e-12)
                np.testing.assert_allclose(grad, _central_gradient(f, theta), rtol=1e-6,
                                           atol=1e-6 * np.abs(grad).max())
        eng._c0 = c0


def test_varpar_hessian_equals_finite_differences_of_the_deviance():
    """Satterthwaite's Hessian in (theta, sigma): analytic-gradient differences and exact sigma
    terms against second differences of the deviance itself."""
    from lerendtransformeren.multilevel.engine import central_hessian

    frame = build_frame(FORMULAS[1], nested_data(3, n_top=6))
    eng = NestedEngine(frame.y, frame.X, frame.levels)
    theta, sigma = np.array([0.8, 0.2, 0.5, 0.6]), 1.1
    H, jac, vcov = eng.varpar_hessian(theta, sigma)
    varpar = np.r_[theta, sigma]
    expected = central_hessian(eng.varpar_deviance, varpar, eng.varpar_deviance(varpar), np.full(5, 1e-4))
    np.testing.assert_allclose(H, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_allclose(vcov, eng.vcov_beta(varpar), rtol=1e-12)
    for i in range(5):
        e = np.zeros(5)
        e[i] = 1e-5
        fd = (eng.vcov_beta(varpar + e) - eng.vcov_beta(varpar - e)) / 2e-5
        np.testing.assert_allclose(jac[i], fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max())
