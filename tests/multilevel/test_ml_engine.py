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


def slope_data() -> pd.DataFrame:
    """compressible_data with person slopes on the waves (and the squared wave)."""
    d = compressible_data()
    rng = np.random.default_rng(8)
    slope = rng.normal(0, 0.3, d["person"].max() + 1)[d["person"]]
    return d.assign(y=d["y"] + slope * d["wave"], w2=d["wave"] ** 2)


BLOCK = [
    "y ~ x + wave + (1 + wave | person) + (1 | org)",
    "y ~ x + wave + (1 + wave | person)",
    "y ~ x + wave + (1 + wave | org/person)",
    "y ~ x + wave + (1 | person) + (0 + wave | person) + (1 | team)",
    "y ~ x + wave + (1 + wave + w2 | person) + (1 | team)",
]


def _random_theta(eng: NestedEngine, rng) -> np.ndarray:
    theta = rng.uniform(-0.5, 1.5, eng.n_theta)
    theta[eng._diag] = np.abs(theta[eng._diag]) + 0.05
    return theta


@pytest.mark.parametrize("formula", BLOCK)
@pytest.mark.parametrize("reml", [True, False])
def test_compressed_block_level_equals_the_plain_recursion(formula, reml):
    """The precomputed lowest level with a block of random effects (intercept and slopes per
    person, with or without a level above): criterion and analytic gradient as the plain
    recursion, to 1e-10, at random theta with off-diagonal elements of either sign."""
    frame = build_frame(formula, slope_data())
    eng = NestedEngine(frame.y, frame.X, frame.levels, reml=reml)
    assert eng._cb is not None and eng._c0 is None
    rng = np.random.default_rng(2)
    for _ in range(3):
        theta = _random_theta(eng, rng)
        for sigma in (None, 1.3):
            fast, g_fast = eng.gradient(theta, sigma=sigma)
            cb, eng._cb = eng._cb, None
            plain, g_plain = eng.gradient(theta, sigma=sigma)
            eng._cb = cb
            assert fast == pytest.approx(plain, rel=1e-10)
            np.testing.assert_allclose(g_fast, g_plain, rtol=1e-10, atol=1e-10 * np.abs(g_plain).max())


@pytest.mark.parametrize("formula", BLOCK[:2])
def test_compressed_block_level_equals_dense_and_finite_differences(formula):
    """The compressed block level against the dense criterion and its gradient against central
    differences of the criterion (1e-6 relative: the differences carry ~1e-8)."""
    frame = build_frame(formula, slope_data())
    eng = NestedEngine(frame.y, frame.X, frame.levels)
    assert eng._cb is not None
    theta = _random_theta(eng, np.random.default_rng(4))
    value, grad = eng.gradient(theta)
    assert value == pytest.approx(dense_criterion(frame, theta, eng, True), rel=1e-10)
    np.testing.assert_allclose(grad, _central_gradient(eng.criterion, theta), rtol=1e-6, atol=1e-6 * np.abs(grad).max())


def test_block_compression_is_left_out_when_it_gains_little():
    """Measurement times off the waves: every person has its own Z'Z, so the plain recursion."""
    d = slope_data()
    d["wave"] = d["wave"] + np.random.default_rng(5).uniform(-0.2, 0.2, len(d))
    frame = build_frame(BLOCK[0], d)
    assert NestedEngine(frame.y, frame.X, frame.levels)._cb is None


@pytest.mark.parametrize("formula", FORMULAS[1:] + BLOCK[:4])
def test_closed_form_pairs_equal_the_general_step(formula):
    """Levels with two random columns: the element-by-element 2 x 2 Woodbury step and its
    reverse give the criterion, gradient, Satterthwaite pieces and conditional modes of the
    general stacked-matrix step, to 1e-10."""
    d = slope_data() if formula in BLOCK else nested_data(3, n_top=6)
    frame = build_frame(formula, d)
    eng = NestedEngine(frame.y, frame.X, frame.levels)
    eng._cb = None  # the recursion over every unit
    assert 2 in [len(z) for z in eng.zpos]
    rng = np.random.default_rng(3)
    for _ in range(3):
        theta = _random_theta(eng, rng)
        pieces = []
        for closed in (True, False):
            eng.closed_form_pairs = closed
            pieces.append((eng.gradient(theta), eng.gradient(theta, sigma=1.3), eng.varpar_hessian(theta, 1.1),
                           eng.conditional_modes(theta, np.zeros(eng.p), 1.1)))
        (cf, cf_s, (H1, J1, V1), modes1), (gen, gen_s, (H2, J2, V2), modes2) = pieces
        for (v1, g1), (v2, g2) in [(cf, gen), (cf_s, gen_s)]:
            assert v1 == pytest.approx(v2, rel=1e-10)
            np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-10 * np.abs(g2).max())
        np.testing.assert_allclose(H1, H2, rtol=1e-7, atol=1e-7 * np.abs(H2).max())  # differences of gradients
        np.testing.assert_allclose(J1, J2, rtol=1e-7, atol=1e-7 * np.abs(J2).max())
        np.testing.assert_allclose(V1, V2, rtol=1e-10)
        for (b1, c1), (b2, c2) in zip(modes1, modes2):
            np.testing.assert_allclose(b1, b2, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(c1, c2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("formula", [
    "y ~ x + wave + (1 + wave | person) + (1 | org)",  # kept columns: all of the level's
    "y ~ x + (1 + wave | person) + (1 | team)",  # wave not kept above the person level
    "y ~ x + wave + (1 + wave | person)",  # a single level: summed into one parent
])
@pytest.mark.parametrize("chunk", [7, 2048])
def test_lowest_pair_level_summed_into_parents_equals_the_unit_steps(formula, chunk, monkeypatch):
    """The lowest level with two random columns and many Z'Z patterns (times off the waves):
    the closed-form step summed straight into the parents, in chunks of units that cut
    through parents (7) or not, against the per-unit closed-form step and the general step,
    criterion and gradient to 1e-10."""
    import lerendtransformeren.multilevel.engine as engine_module

    monkeypatch.setattr(engine_module, "_CHUNK", chunk)
    d = slope_data()
    d["wave"] = d["wave"] + np.random.default_rng(5).uniform(-0.2, 0.2, len(d))
    frame = build_frame(formula, d)
    eng = NestedEngine(frame.y, frame.X, frame.levels)
    assert eng._cb is None and eng._pair0 is not None
    pair0 = eng._pair0
    rng = np.random.default_rng(6)
    for _ in range(3):
        theta = _random_theta(eng, rng)
        for sigma in (None, 1.3):
            summed = eng.gradient(theta, sigma=sigma)
            eng._pair0 = None
            per_unit = eng.gradient(theta, sigma=sigma)
            eng.closed_form_pairs = False
            general = eng.gradient(theta, sigma=sigma)
            eng._pair0, eng.closed_form_pairs = pair0, True
            for v, g in (per_unit, general):
                assert summed[0] == pytest.approx(v, rel=1e-10)
                np.testing.assert_allclose(summed[1], g, rtol=1e-10, atol=1e-10 * np.abs(g).max())


@pytest.mark.filterwarnings("ignore::lerendtransformeren.exceptions.SingularFitWarning")
@pytest.mark.parametrize("formula", BLOCK[:3])
def test_fit_with_the_fast_paths_equals_the_general_fit(formula, monkeypatch):
    """Whole fits (optimum, fixed-effects table with Satterthwaite df) with the compressed block
    level and closed-form pairs against the general recursion: the same optimum."""
    d = slope_data()
    fast = fit(formula, d)
    assert fast.engine._cb is not None
    monkeypatch.setattr(NestedEngine, "closed_form_pairs", False)
    monkeypatch.setattr(NestedEngine, "_compress_first_block", lambda self: setattr(self, "_cb", None))
    plain = fit(formula, d)
    assert plain.engine._cb is None
    assert fast.reml_criterion == pytest.approx(plain.reml_criterion, rel=1e-12)
    np.testing.assert_allclose(fast.theta, plain.theta, rtol=1e-5, atol=1e-6)
    pd.testing.assert_frame_equal(fast.fixed, plain.fixed, rtol=1e-6)


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
