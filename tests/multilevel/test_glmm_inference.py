"""Small-sample inference of the nested GLMM: between-within df (checked by hand), the
parametric-bootstrap LRT (determinism, agreement with the chi-square with many clusters),
the advice note, and simulation-based power for binary outcomes."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import expit

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit, lrt
from lerendtransformeren.multilevel.frame import Level, build_frame
from lerendtransformeren.multilevel.glmm_inference import between_within_df, varying_level
from lerendtransformeren.multilevel.simulation import Design, Model, power_simulation, simulate

REF = Path(__file__).resolve().parents[1] / "reference" / "glmm"
F3 = "y_bin ~ wave + offer + x + (1 | organisation/team)"


@pytest.fixture(scope="module")
def nested() -> pd.DataFrame:
    return pd.read_csv(REF / "nested.csv")


def _level(name: str, codes: np.ndarray) -> Level:
    return Level(name, (name,), codes, np.arange(codes.max() + 1).astype(str), [])


# -- between-within df -----------------------------------------------------------------------
def test_bw_df_two_levels_by_hand():
    # 12 clusters of 5: intercept and a cluster covariate vary between clusters (12 - 2 = 10);
    # a row covariate within them (60 - 12 - 1 = 47)
    g = np.repeat(np.arange(12), 5)
    rng = np.random.default_rng(1)
    X = np.column_stack([np.ones(60), rng.normal(size=12)[g], rng.normal(size=60)])
    assert varying_level(X, [_level("g", g)]).tolist() == [1, 1, 0]
    assert between_within_df(X, [_level("g", g)]).tolist() == [10, 10, 47]


def test_bw_df_three_levels_by_hand():
    # 15 organisations x 4 teams x 5 rows = 300 rows; org covariate, two team covariates,
    # two row covariates: top 15 - 2 = 13, teams 60 - 15 - 2 = 43, rows 300 - 60 - 2 = 238
    team = np.repeat(np.arange(60), 5)
    org = team // 4
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(300), rng.normal(size=15)[org], rng.normal(size=60)[team],
                         rng.normal(size=60)[team], rng.normal(size=300), np.tile(np.arange(5.0), 60)])
    levels = [_level("org:team", team), _level("org", org)]
    assert varying_level(X, levels).tolist() == [2, 2, 1, 1, 0, 0]
    assert between_within_df(X, levels).tolist() == [13, 13, 43, 43, 238, 238]


def test_bw_df_of_the_stepped_wedge(nested):
    frame = build_frame(F3, nested, one_row_units=True)
    levels = frame.levels
    n, n_team, n_org = len(frame.y), levels[0].n_units, levels[1].n_units
    df = dict(zip(frame.x_names, between_within_df(frame.X, levels)))
    at = dict(zip(frame.x_names, varying_level(frame.X, levels)))
    # wave, offer and x vary within teams: the residual df; the intercept: organisations - 1
    assert at == {"Intercept": 2, "wave": 0, "offer": 0, "x": 0}
    assert df["Intercept"] == n_org - 1
    assert df["wave"] == df["offer"] == df["x"] == n - n_team - 3


def test_fixed_with_between_within(nested):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wald = fit(F3, nested, family="binomial")
        bw = fit(F3, nested, family="binomial", ddf="between-within")
    assert list(wald.fixed.columns) == ["estimate", "se", "z", "p", "ci_low", "ci_high"]
    assert list(bw.fixed.columns) == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    tab = bw.fixed
    np.testing.assert_allclose(tab["estimate"], wald.fixed["estimate"])
    np.testing.assert_allclose(tab["se"], wald.fixed["se"])
    np.testing.assert_allclose(tab["p"], 2 * stats.t.sf(np.abs(tab["t"]), tab["df"]))
    q = stats.t.ppf(0.975, tab["df"])
    np.testing.assert_allclose(tab["ci_high"] - tab["estimate"], q * tab["se"])
    assert (tab["p"] >= wald.fixed["p"] - 1e-12).all()
    switched = wald.with_ddf("between-within")
    pd.testing.assert_frame_equal(switched.fixed, tab)
    assert wald.ddf == "Wald" and "z" in wald.fixed  # the original is unchanged
    assert "between-within" in bw.summary()


def test_bad_ddf_for_glmm(nested):
    with pytest.raises(SpecificationError, match="between-within"):
        fit(F3, nested, family="binomial", ddf="Satterthwaite")


def test_notes_with_few_top_units(nested):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit(F3, nested, family="binomial")
    n_org = m.frame.levels[-1].n_units
    assert n_org < 40
    assert len(m.notes) == 1 and f"has {n_org} units" in m.notes[0] and "between-within" in m.notes[0]
    assert m.notes[0] in m.summary()
    assert "none in this model besides the intercept" in m.notes[0]
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"g": np.repeat(np.arange(12), 10), "x": rng.normal(size=120)})
    d["x_g"] = rng.normal(size=12)[d["g"]]
    d["y"] = rng.binomial(1, expit(0.3 * d["x"] + rng.normal(0, 0.5, 12)[d["g"]]))
    note = fit("y ~ x + x_g + (1 | g)", d, family="binomial").notes[0]
    assert "vary only between these units (x_g)" in note
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"g": np.repeat(np.arange(50), 4), "x": rng.normal(size=200)})
    d["y"] = rng.binomial(1, expit(0.3 * d["x"] + rng.normal(0, 0.5, 50)[d["g"]]))
    assert fit("y ~ x + (1 | g)", d, family="binomial").notes == []


# -- parametric bootstrap LRT ----------------------------------------------------------------
def _many_clusters(seed: int = 8, clusters: int = 60, size: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), size)
    x = rng.normal(size=g.size)
    y = rng.binomial(1, expit(-0.2 + 0.12 * x + rng.normal(0, 0.7, clusters)[g]))
    return pd.DataFrame({"g": g, "x": x, "y": y})


@pytest.fixture(scope="module")
def pair():
    d = _many_clusters()
    return fit("y ~ 1 + (1 | g)", d, family="binomial"), fit("y ~ x + (1 | g)", d, family="binomial")


def test_bootstrap_lrt_deterministic_across_n_jobs(pair):
    m0, m1 = pair
    a = lrt(m0, m1, method="bootstrap", n_boot=12, seed=11)
    b = lrt(m0, m1, method="bootstrap", n_boot=12, seed=11, n_jobs=2)
    c = m1.lrt(m0, method="bootstrap", n_boot=12, seed=11)
    np.testing.assert_array_equal(a.attrs["statistics"], b.attrs["statistics"])
    assert a.iloc[1]["p"] == b.iloc[1]["p"] == c.iloc[1]["p"]
    assert 0 < a.iloc[1]["p"] <= 1
    assert a.iloc[1]["n_boot"] + a.iloc[1]["n_failed"] == 12
    assert a.iloc[1]["p_chisq"] == pytest.approx(lrt(m0, m1).iloc[1]["p"])
    k = int(np.sum(a.attrs["statistics"] >= a.iloc[1]["chisq"] - 1e-8))
    assert a.iloc[1]["p"] == pytest.approx((1 + k) / (1 + a.iloc[1]["n_boot"]))


def test_bootstrap_lrt_agrees_with_chisq_when_clusters_are_many(pair):
    m0, m1 = pair
    tab = lrt(m0, m1, method="bootstrap", n_boot=199, seed=3, n_jobs=2)
    p_boot, p_chi = tab.iloc[1]["p"], tab.iloc[1]["p_chisq"]
    assert 0.05 < p_chi < 0.95  # a p in the middle, where the comparison is informative
    mc = np.sqrt(p_chi * (1 - p_chi) / 199)
    assert abs(p_boot - p_chi) < 3.5 * mc + 0.01
    assert tab.iloc[1]["n_failed"] == 0


def test_bootstrap_lrt_bad_arguments(pair):
    m0, m1 = pair
    with pytest.raises(SpecificationError, match="method"):
        lrt(m0, m1, method="parametric")
    with pytest.raises(SpecificationError, match="n_boot"):
        lrt(m0, m1, method="bootstrap", n_boot=0)


# -- power for a binary outcome ----------------------------------------------------------------
SW = Design({"cluster": 24, "person": 4}, waves=3, start_wave=(1, 2))
BIN = "y ~ C(wave) + offer + (1 | cluster/person)"


def _model(effect: float) -> Model:
    return Model(BIN, fixed={"Intercept": -0.3, "offer": effect}, variances={"cluster": 0.2, "person": 0.5},
                 family="binomial")


def test_binary_model_simulates_zeros_and_ones():
    d = simulate(_model(0.5), SW, seed=1)
    assert set(np.unique(d["y"])) == {0.0, 1.0}
    assert "family='binomial'" in repr(_model(0.5))


def test_binary_model_checks_variances():
    with pytest.raises(SpecificationError, match="residual"):
        Model(BIN, variances={"cluster": 0.2, "person": 0.5, "residual": 1.0}, family="binomial")
    with pytest.raises(SpecificationError, match="family"):
        Model(BIN, variances={"cluster": 0.2, "person": 0.5}, family="gamma")
    with pytest.raises(SpecificationError, match="ddf"):
        power_simulation(_model(0.0), SW, n_sim=2, seed=1, progress=False, ddf="Satterthwaite")


def test_binary_power_deterministic_across_n_jobs():
    a = power_simulation(_model(0.4), SW, n_sim=12, seed=5, progress=False)
    b = power_simulation(_model(0.4), SW, n_sim=12, seed=5, progress=False, n_jobs=2)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert a.method == "Wald" and np.isinf(a.mean_df)


def test_binary_power_near_alpha_at_zero_and_rising():
    null = power_simulation(_model(0.0), SW, n_sim=300, seed=8, progress=False, n_jobs=2)
    assert null.n_failed == 0
    assert null.ci_low <= 0.05 <= null.ci_high
    bw = power_simulation(_model(0.0), SW, n_sim=40, seed=8, progress=False, ddf="between-within")
    assert bw.method == "between-within"
    assert bw.mean_df == len(SW.data()) - 24 * 4 - 3  # within persons: the residual df
    np.testing.assert_allclose(bw.replicates["estimate"], null.replicates["estimate"][:40])
    small = power_simulation(_model(0.3), SW, n_sim=60, seed=9, progress=False, n_jobs=2)
    large = power_simulation(_model(1.5), SW, n_sim=60, seed=9, progress=False, n_jobs=2)
    assert null.power < small.power < large.power
    assert large.power > 0.8


def test_power_from_a_glmm_fit(nested):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit(F3, nested, family="binomial")
    model = Model.from_fit(m, fixed={"offer": 0.0})
    assert model.family == "binomial" and "residual" not in model.variances
    res = power_simulation(model, test="offer", n_sim=4, seed=1, progress=False)
    assert res.n_sim == 4 and res.effect == 0.0
