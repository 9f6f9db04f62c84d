"""Tests of the closed-form design and power planning (multilevel/power.py).

Every reference value is computed independently here: by hand (arithmetic written out),
from the published formula with scipy quantiles, by a direct GLS computation with the full
covariance matrix, or by Monte Carlo.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError


def _load_power_module():
    """The module under test; by file path only if the multilevel package cannot import."""
    try:
        return importlib.import_module("lerendtransformeren.multilevel.power")
    except ImportError:  # pragma: no cover - multilevel/__init__.py missing or broken
        path = (
            Path(__file__).resolve().parents[2]
            / "src"
            / "lerendtransformeren"
            / "multilevel"
            / "power.py"
        )
        spec = importlib.util.spec_from_file_location("_lt_ml_power", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["_lt_ml_power"] = module
        spec.loader.exec_module(module)
        return module


mlp = _load_power_module()
design_effect = mlp.design_effect
effective_sample_size = mlp.effective_sample_size
minimum_detectable_effect = mlp.minimum_detectable_effect
power_cluster_trial = mlp.power_cluster_trial
clusters_needed = mlp.clusters_needed
planning_table = mlp.planning_table
stepped_wedge_schedule = mlp.stepped_wedge_schedule
stepped_wedge_variance = mlp.stepped_wedge_variance
stepped_wedge_power = mlp.stepped_wedge_power


# ---------------------------------------------------------------------------------------
# design effect
# ---------------------------------------------------------------------------------------


def test_design_effect_two_levels_textbook():
    # Donner & Klar (2000): 1 + (m - 1) * ICC = 1 + 19 * 0.05 = 1.95
    assert design_effect(0.05, 20) == pytest.approx(1.95)
    assert design_effect(0.0, 20) == pytest.approx(1.0)
    assert design_effect(0.3, 1) == pytest.approx(1.0)  # clusters of one: no clustering


def test_design_effect_unequal_cluster_sizes_eldridge():
    # Eldridge et al. (2006) eq. 6: 1 + ((cv^2 + 1) * m - 1) * ICC
    # m = 20, cv = 0.5, ICC = 0.05: 1 + (1.25 * 20 - 1) * 0.05 = 1 + 24 * 0.05 = 2.2
    assert design_effect(0.05, 20, cv=0.5) == pytest.approx(2.2)
    assert design_effect(0.05, 20, cv=0.0) == pytest.approx(design_effect(0.05, 20))


def test_design_effect_three_levels_by_hand():
    # respondents in teams in organisations:
    # ICC_team = 0.05, ICC_org = 0.10, 10 respondents per team, 4 teams per organisation
    # DEFF = 1 + ICC_team * (10 - 1) + ICC_org * (4 * 10 - 1)
    #      = 1 + 0.05 * 9 + 0.10 * 39 = 1 + 0.45 + 3.90 = 5.35
    assert design_effect((0.05, 0.10), (10, 4)) == pytest.approx(5.35)
    # the same from the variance of one organisation's mean (total variance 1):
    # Var = 0.10 + 0.05 / 4 + 0.85 / 40 = 0.13375; times 40 observations = 5.35
    assert (0.10 + 0.05 / 4 + 0.85 / 40) * 40 == pytest.approx(5.35)


def test_design_effect_four_levels_by_hand():
    # add goals: ICC_goal = 0.02, 3 organisations per goal (120 observations per goal)
    # DEFF = 5.35 + 0.02 * (3 * 4 * 10 - 1) = 5.35 + 0.02 * 119 = 5.35 + 2.38 = 7.73
    assert design_effect((0.05, 0.10, 0.02), (10, 4, 3)) == pytest.approx(7.73)


def test_design_effect_waves_as_lowest_level_by_hand():
    # 4 waves per respondent, correlation between two waves of a respondent r = 0.5,
    # 20 respondents per organisation, ICC_org = 0.05:
    # respondent share = 0.5 - 0.05 = 0.45; observations per organisation = 4 * 20 = 80
    # DEFF = 1 + 0.45 * (4 - 1) + 0.05 * (80 - 1) = 1 + 1.35 + 3.95 = 6.30
    assert design_effect(0.05, 20, waves=4, wave_correlation=0.5) == pytest.approx(6.30)
    # waves with r equal to the cluster ICC: no respondent-specific stability
    assert design_effect(0.05, 20, waves=4, wave_correlation=0.05) == pytest.approx(
        design_effect(0.05, 80)
    )


def test_numpy_inputs():
    assert design_effect(np.float64(0.05), np.array(20)) == pytest.approx(1.95)
    assert design_effect(np.array([0.05, 0.10]), pd.Series([10, 4])) == pytest.approx(5.35)


def test_effective_sample_size():
    # 10 clusters of 20 = 200 observations, DEFF 1.95
    assert effective_sample_size(10, 0.05, 20) == pytest.approx(200 / 1.95)
    # 15 organisations x 4 teams x 10 respondents = 600, DEFF 5.35
    assert effective_sample_size(15, (0.05, 0.10), (10, 4)) == pytest.approx(600 / 5.35)
    # waves multiply n: 10 * 20 * 4 = 800 observations, DEFF 6.30
    assert effective_sample_size(10, 0.05, 20, waves=4, wave_correlation=0.5) == pytest.approx(
        800 / 6.30
    )


@settings(max_examples=150, deadline=None)
@given(
    icc=st.floats(0.0, 0.98),
    icc2=st.floats(0.0, 0.98),
    m=st.floats(1.0, 500.0),
    dm=st.floats(0.0, 100.0),
    shares=st.floats(0.0, 1.0),
)
def test_design_effect_properties(icc, icc2, m, dm, shares):
    lo, hi = sorted((icc, icc2))
    d = design_effect(lo, m)
    assert d >= 1.0
    # monotone in the ICC and in the cluster size
    assert design_effect(hi, m) >= d - 1e-12
    assert design_effect(lo, m + dm) >= d - 1e-12
    # three levels: split the ICC between team and organisation
    team, org = lo * shares, lo * (1 - shares)
    d3 = design_effect((team, org), (m, 3.0))
    assert d3 >= 1.0
    assert design_effect((team, org + (hi - lo) * (1 - shares)), (m, 3.0)) >= d3 - 1e-9
    assert design_effect((team, org), (m + dm, 3.0)) >= d3 - 1e-9


# ---------------------------------------------------------------------------------------
# MDES / power / clusters for a cluster-randomised comparison
# ---------------------------------------------------------------------------------------


def _mdes_by_formula(df, var, alpha=0.05, power=0.8, two_sided=True):
    q = 1 - alpha / 2 if two_sided else 1 - alpha
    return (stats.t.ppf(q, df) + stats.t.ppf(power, df)) * math.sqrt(var)


def test_mdes_two_level_powerup_example():
    # PowerUp! CRA2_2r-style example: rho2 = .20, P = .5, R2_1 = .5, R2_2 = .5,
    # g = 1 cluster-level covariate, n = 60 per cluster, J = 20 clusters, two-tailed
    # alpha = .05, power = .80.  df = J - g - 2 = 17.
    rho, p, r21, r22, g, n, j = 0.20, 0.5, 0.5, 0.5, 1, 60, 20
    var = rho * (1 - r22) / (p * (1 - p) * j) + (1 - rho) * (1 - r21) / (p * (1 - p) * j * n)
    # var = 0.1 / 5 + 0.4 / 300 = 0.02 + 0.0013333 = 0.0213333
    assert var == pytest.approx(0.02 + 0.4 / 300)
    expected = _mdes_by_formula(17, var)
    got = minimum_detectable_effect(20, 60, 0.20, r2=(0.5, 0.5), covariates=1)
    assert got == pytest.approx(expected, rel=1e-12)
    # the multiplier M_17 = t_.975,17 + t_.80,17 = 2.1098 + 0.8633 = 2.9731
    assert stats.t.ppf(0.975, 17) + stats.t.ppf(0.8, 17) == pytest.approx(2.9731, abs=1e-4)
    assert got == pytest.approx(2.9731 * math.sqrt(var), abs=1e-4)  # about 0.434


def test_mdes_one_sided_and_unbalanced():
    var = 0.1 / (0.3 * 0.7 * 30) + 0.9 / (0.3 * 0.7 * 30 * 25)
    expected = _mdes_by_formula(28, var, alpha=0.05, power=0.9, two_sided=False)
    got = minimum_detectable_effect(
        30, 25, 0.10, power=0.9, two_sided=False, treated_share=0.3
    )
    assert got == pytest.approx(expected, rel=1e-12)


def test_mdes_three_level_by_formula():
    # CRA3_3r (Dong & Maynard 2013; Konstantopoulos 2008): K = 15 organisations,
    # J = 4 teams, n = 10 respondents, rho3 = .10, rho2 = .05, R2 = (.3, 0, .5), g = 1
    k, j, n, rho3, rho2 = 15, 4, 10, 0.10, 0.05
    r1, r2_, r3 = 0.3, 0.0, 0.5
    pq = 0.25
    var = (
        rho3 * (1 - r3) / (pq * k)
        + rho2 * (1 - r2_) / (pq * k * j)
        + (1 - rho2 - rho3) * (1 - r1) / (pq * k * j * n)
    )
    expected = _mdes_by_formula(k - 1 - 2, var)
    got = minimum_detectable_effect(15, (10, 4), (0.05, 0.10), r2=(0.3, 0.0, 0.5), covariates=1)
    assert got == pytest.approx(expected, rel=1e-12)


def test_power_at_mdes_is_close_to_target():
    # the MDES uses a central-t approximation of the noncentral t: close, not equal
    for k in (12, 20, 40):
        mdes = minimum_detectable_effect(k, (10, 4), (0.05, 0.10))
        assert power_cluster_trial(mdes, k, (10, 4), (0.05, 0.10)) == pytest.approx(
            0.8, abs=0.01
        )


def test_power_noncentral_t_by_formula_and_null():
    # two levels, J = 10, n = 20, ICC 0.1, effect 0.5: lambda = 0.5 / sqrt(var)
    var = 0.1 / (0.25 * 10) + 0.9 / (0.25 * 200)
    lam = 0.5 / math.sqrt(var)
    crit = stats.t.ppf(0.975, 8)
    expected = stats.nct.sf(crit, 8, lam) + stats.nct.cdf(-crit, 8, lam)
    assert power_cluster_trial(0.5, 10, 20, 0.1) == pytest.approx(expected, rel=1e-10)
    # under H0 power equals alpha; the sign of the effect does not matter two-sided
    assert power_cluster_trial(0.0, 10, 20, 0.1) == pytest.approx(0.05, abs=1e-10)
    assert power_cluster_trial(-0.5, 10, 20, 0.1) == pytest.approx(expected, rel=1e-10)


def test_power_agrees_with_monte_carlo_of_t_tests():
    # simulate individuals in clusters, t-test on the cluster means (df = J - 2)
    rng = np.random.default_rng(20261123)
    reps, j, n, icc, effect = 20_000, 10, 20, 0.10, 0.5
    treat = np.repeat([0.0, 1.0], j // 2)
    u = rng.normal(0.0, math.sqrt(icc), size=(reps, j))
    e = rng.normal(0.0, math.sqrt(1 - icc), size=(reps, j, n)).mean(axis=2)
    means = u + e + effect * treat
    a, b = means[:, treat == 1], means[:, treat == 0]
    diff = a.mean(axis=1) - b.mean(axis=1)
    sp2 = (a.var(axis=1, ddof=1) * (a.shape[1] - 1) + b.var(axis=1, ddof=1) * (b.shape[1] - 1)) / (
        j - 2
    )
    tstat = diff / np.sqrt(sp2 * (1 / a.shape[1] + 1 / b.shape[1]))
    mc = np.mean(np.abs(tstat) > stats.t.ppf(0.975, j - 2))
    closed = power_cluster_trial(effect, j, n, icc)
    mc_se = math.sqrt(closed * (1 - closed) / reps)
    assert abs(mc - closed) < 4 * mc_se, (mc, closed, mc_se)


def test_clusters_needed_is_smallest():
    k = clusters_needed(0.3, 0.8, cluster_size=(10, 4), icc=(0.05, 0.10))
    assert power_cluster_trial(0.3, k, (10, 4), (0.05, 0.10)) >= 0.8
    assert power_cluster_trial(0.3, k - 1, (10, 4), (0.05, 0.10)) < 0.8
    # a huge effect needs only the minimum of covariates + 3 clusters
    assert clusters_needed(5.0, cluster_size=20, icc=0.01, covariates=1) == 4
    # more power needs more clusters; a larger effect fewer
    assert clusters_needed(0.3, 0.9, cluster_size=20, icc=0.1) > clusters_needed(
        0.3, 0.8, cluster_size=20, icc=0.1
    )
    assert clusters_needed(0.5, cluster_size=20, icc=0.1) < clusters_needed(
        0.3, cluster_size=20, icc=0.1
    )


# ---------------------------------------------------------------------------------------
# planning table
# ---------------------------------------------------------------------------------------


def test_planning_table_grid_and_values():
    tab = planning_table(
        organisations=[3, 5, 8, 15, 24],
        teams=[2, 4],
        respondents=[10, 20],
        icc={"team": 0.05, "organisation": 0.10},
        effect=[0.2, 0.5],
    )
    assert isinstance(tab, pd.DataFrame)
    assert len(tab) == 5 * 2 * 2 * 2
    assert list(tab.columns) == [
        "organisations",
        "teams",
        "respondents",
        "n",
        "deff",
        "n_effective",
        "df",
        "mdes",
        "effect",
        "power",
    ]
    row = tab.query("organisations == 15 and teams == 4 and respondents == 10 and effect == 0.5")
    assert row["n"].item() == 600
    assert row["deff"].item() == pytest.approx(5.35)
    assert row["n_effective"].item() == pytest.approx(600 / 5.35)
    assert row["df"].item() == 13
    assert row["mdes"].item() == pytest.approx(
        minimum_detectable_effect(15, (10, 4), (0.05, 0.10))
    )
    assert row["power"].item() == pytest.approx(
        power_cluster_trial(0.5, 15, (10, 4), (0.05, 0.10))
    )
    # more organisations: smaller MDES, more power
    sub = tab.query("teams == 4 and respondents == 10 and effect == 0.5")
    assert sub["mdes"].is_monotonic_decreasing
    assert sub["power"].is_monotonic_increasing


def test_planning_table_icc_forms_and_missing_df():
    a = planning_table([5], [3], [10], icc=(0.0, 0.1), effect=0.3)
    b = planning_table([5], [3], [10], icc=0.1, effect=0.3)
    c = planning_table([5], [3], [10], icc={"organisation": 0.1}, effect=0.3)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    # with one covariate, 3 organisations leave df = 0: NaN, not an error
    t = planning_table([3, 5], [2], [10], icc=(0.05, 0.1), covariates=1)
    assert math.isnan(t.loc[0, "mdes"]) and math.isnan(t.loc[0, "power"])
    assert t.loc[0, "df"] == 0
    assert t.loc[1, "df"] == 2 and np.isfinite(t.loc[1, "mdes"])


# ---------------------------------------------------------------------------------------
# stepped wedge
# ---------------------------------------------------------------------------------------


def _gls_variance(x, m, tau2, gamma2, sigma2):
    """(Z' V^-1 Z)^-1 for the treatment effect, built from the full covariance matrix V
    of all cluster-period means (block diagonal over clusters), with period fixed effects."""
    n_clusters, periods = x.shape
    block = tau2 * np.ones((periods, periods)) + (gamma2 + sigma2 / m) * np.eye(periods)
    v = np.kron(np.eye(n_clusters), block)  # (I*T) x (I*T)
    period_dummies = np.tile(np.eye(periods), (n_clusters, 1))
    z = np.column_stack([period_dummies, x.reshape(-1)])
    info = z.T @ np.linalg.solve(v, z)
    return np.linalg.inv(info)[-1, -1]


def test_our_schedule():
    x = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    assert x.shape == (15, 4)
    assert x[:3].tolist() == [[0, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]
    assert (x[:, 0] == 0).all() and (x[:, -1] == 1).all()
    assert x.sum() == 5 * (3 + 2 + 1)
    # a never-treated control (start = waves) and an always-treated cluster
    y = stepped_wedge_schedule([0, 4], waves=4)
    assert y.tolist() == [[1, 1, 1, 1], [0, 0, 0, 0]]


@pytest.mark.parametrize(
    ("x", "m", "tau2", "gamma2", "sigma2"),
    [
        (stepped_wedge_schedule([1, 2, 3] * 5, waves=4), 10, 0.10, 0.0, 0.90),
        (stepped_wedge_schedule([1, 2, 3] * 5, waves=4), 25, 0.06, 0.04, 0.90),
        (stepped_wedge_schedule([1, 1, 2, 2, 3, 3, 4, 4], waves=5), 7, 0.5, 0.0, 3.0),
        (stepped_wedge_schedule([0, 1, 2, 3], waves=3), 4, 0.3, 0.2, 2.0),  # 0 and never
        (stepped_wedge_schedule([1, 2, 3, 1, 2], waves=4), 1, 0.0, 0.0, 1.0),  # tau2 = 0
    ],
)
def test_hussey_hughes_matches_direct_gls(x, m, tau2, gamma2, sigma2):
    expected = _gls_variance(x.astype(float), m, tau2, gamma2, sigma2)
    got = stepped_wedge_variance(x, m, tau2=tau2, sigma2=sigma2, gamma2=gamma2)
    assert got == pytest.approx(expected, rel=1e-9)


def test_standardised_parametrisation_matches_components():
    x = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    # icc = .10, cac = .6: tau2 = .06, gamma2 = .04, sigma2 = .90
    a = stepped_wedge_variance(x, 20, icc=0.10, cac=0.6)
    b = stepped_wedge_variance(x, 20, tau2=0.06, gamma2=0.04, sigma2=0.90)
    assert a == pytest.approx(b, rel=1e-12)
    assert a == pytest.approx(_gls_variance(x.astype(float), 20, 0.06, 0.04, 0.90), rel=1e-9)
    # 1-D start waves with waves= give the same as the matrix
    assert stepped_wedge_variance([1, 2, 3] * 5, 20, icc=0.1, cac=0.6, waves=4) == a


def test_stepped_wedge_power_normal_and_t():
    x = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    res = stepped_wedge_power(0.3, x, 20, icc=0.10)
    var = _gls_variance(x.astype(float), 20, 0.10, 0.0, 0.90)
    se = math.sqrt(var)
    assert res.variance == pytest.approx(var, rel=1e-9)
    z = stats.norm.ppf(0.975)
    # Hussey & Hughes (2007): Phi(theta / se - z_{1-alpha/2}); we add the (tiny) lower tail
    hh = stats.norm.cdf(0.3 / se - z)
    assert res.power_normal == pytest.approx(hh + stats.norm.cdf(-0.3 / se - z), rel=1e-12)
    assert res.power_normal == pytest.approx(hh, abs=1e-4)
    crit = stats.t.ppf(0.975, 13)
    t_power = stats.nct.sf(crit, 13, 0.3 / se) + stats.nct.cdf(-crit, 13, 0.3 / se)
    assert res.df == 13
    assert res.power_t == pytest.approx(t_power, rel=1e-10)
    assert res.power_t < res.power_normal
    assert res.mdes_normal == pytest.approx((z + stats.norm.ppf(0.8)) * se)
    assert res.mdes_t == pytest.approx((crit + stats.t.ppf(0.8, 13)) * se)
    frame = res.to_frame()
    assert frame["distribution"].str.contains("normal").iloc[0]
    assert frame["distribution"].str.contains("df = clusters - 2 = 13").iloc[1]
    assert "normal, Hussey & Hughes 2007" in str(res) and "t, df = 13" in str(res)
    # under H0 both give alpha
    null = stepped_wedge_power(0.0, x, 20, icc=0.10)
    assert null.power_normal == pytest.approx(0.05)
    assert null.power_t == pytest.approx(0.05)


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: design_effect(1.0, 20), r"icc = 1.0 is outside \[0, 1\)"),
        (lambda: design_effect(-0.1, 20), r"icc = -0.1 is outside \[0, 1\)"),
        (lambda: design_effect((0.5, 0.6), (10, 4)), r"sum to 1.1 >= 1"),
        (lambda: design_effect(0.1, 0.5), r"cluster_size = 0.5 is smaller than 1"),
        (lambda: design_effect((0.1, 0.1), (10, 0)), r"cluster_size\[1\] = 0.0"),
        (lambda: design_effect((0.1, 0.1), 10), r"one ICC and one cluster size per"),
        (lambda: design_effect((0.1, 0.1), (10, 4), cv=0.3), r"cv .* only defined for two"),
        (lambda: design_effect(0.1, 10, cv=-1), r"cv must be .* >= 0"),
        (lambda: design_effect(0.1, 10, waves=3), r"needs wave_correlation"),
        (lambda: design_effect(0.2, 10, waves=3, wave_correlation=0.1), r"at least 0.2"),
        (lambda: design_effect(0.1, 10, wave_correlation=0.5), r"waves=1"),
        (lambda: design_effect("0.1", 10), r"icc must be a number"),
        (lambda: effective_sample_size(1, 0.1, 10), r"fewer than 2 units at the top level"),
        (lambda: minimum_detectable_effect(1, 10, 0.1), r"n_clusters = 1: fewer than 2"),
        (lambda: minimum_detectable_effect(3, 10, 0.1, covariates=1), r"df = .* = 0"),
        (lambda: minimum_detectable_effect(10, 10, 0.1, power=1.0), r"power must be a prob"),
        (lambda: minimum_detectable_effect(10, 10, 0.1, alpha=0), r"alpha must be a prob"),
        (lambda: minimum_detectable_effect(10, 10, 0.1, r2=(0.5,)), r"r2 has 1 value"),
        (lambda: minimum_detectable_effect(10, 10, 0.1, r2=(0.5, 1.0)), r"r2\[1\] = 1.0"),
        (lambda: minimum_detectable_effect(10, 10, 0.1, treated_share=1), r"treated_share"),
        (lambda: power_cluster_trial(0.3, 10, 10, 0.1, alpha=1.5), r"alpha must be a prob"),
        (lambda: power_cluster_trial(float("nan"), 10, 10, 0.1), r"effect must be a finite"),
        (lambda: clusters_needed(0.0, cluster_size=10, icc=0.1), r"non-zero"),
        (lambda: clusters_needed(0.3, 0.0, cluster_size=10, icc=0.1), r"power must be"),
        (lambda: clusters_needed(1e-4, cluster_size=10, icc=0.5), r"More than 1,000,000"),
        (lambda: planning_table([1, 5], [2], [10]), r"organisations = 1: fewer than 2"),
        (lambda: planning_table([5], [0], [10]), r"teams = 0 is smaller than 1"),
        (lambda: planning_table([5], [2], [10], icc={"goal": 0.1}), r"unknown key"),
        (lambda: planning_table([5], [2], [10], icc=(0.1, 0.1, 0.1)), r"icc must be"),
        (lambda: planning_table([3], [2], [10], covariates=1, treated_share=0), r"treated_sh"),
        (lambda: planning_table([5], [2], [10], r2=(0.1, 0.2)), r"r2 has 2 value"),
        (lambda: planning_table([5], [2], [10], alpha=1), r"alpha must be a prob"),
        (lambda: design_effect(["a"], [3]), r"numbers only"),
    ],
)
def test_specification_errors_closed_form(call, match):
    with pytest.raises(SpecificationError, match=match):
        call()


_X = [[0, 1, 1], [0, 0, 1], [0, 0, 1]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: stepped_wedge_schedule([1, 2, 5], waves=4), r"start_wave\[2\] = 5 .* longer"),
        (lambda: stepped_wedge_schedule([1, -1], waves=4), r"start_wave\[1\] = -1"),
        (lambda: stepped_wedge_schedule([1, 2], waves=1), r"waves must be .* >= 2"),
        (lambda: stepped_wedge_schedule([1], waves=3), r"at least 2 clusters"),
        (lambda: stepped_wedge_variance(_X, 10, icc=0.1, waves=2), r"3 periods .* waves=2"),
        (lambda: stepped_wedge_variance([1, 2, 3], 10, icc=0.1), r"give waves="),
        (lambda: stepped_wedge_variance([[0, 1, 0], [0, 0, 1]], 10, icc=0.1), r"cannot switch"),
        (lambda: stepped_wedge_variance([[0, 2], [0, 1]], 10, icc=0.1), r"only 0 \(control"),
        (lambda: stepped_wedge_variance([[0, 1, 1]], 10, icc=0.1), r"fewer than 2 units"),
        (lambda: stepped_wedge_variance([[0], [1]], 10, icc=0.1), r"at least 2 periods"),
        (lambda: stepped_wedge_variance([[0, 0], [0, 0]], 10, icc=0.1), r"no cluster is ever"),
        (lambda: stepped_wedge_variance([[1, 1], [1, 1]], 10, icc=0.1), r"every period"),
        (lambda: stepped_wedge_variance([[0, 1], [0, 1]], 10, icc=0.1), r"same schedule"),
        (lambda: stepped_wedge_variance(_X, 0.5, icc=0.1), r"m = 0.5"),
        (lambda: stepped_wedge_variance(_X, 10, tau2=-0.1, sigma2=1), r"tau2 = -0.1 is neg"),
        (lambda: stepped_wedge_variance(_X, 10, tau2=0.1, sigma2=-1), r"sigma2 = -1 is neg"),
        (lambda: stepped_wedge_variance(_X, 10, tau2=0.1, sigma2=1, gamma2=-1), r"gamma2"),
        (lambda: stepped_wedge_variance(_X, 10, tau2=0.1, sigma2=0), r"both 0"),
        (lambda: stepped_wedge_variance(_X, 10), r"Give the variance parameters"),
        (lambda: stepped_wedge_variance(_X, 10, icc=0.1, tau2=0.1), r"not both"),
        (lambda: stepped_wedge_variance(_X, 10, icc=1.2), r"icc = 1.2 is outside"),
        (lambda: stepped_wedge_variance(_X, 10, icc=0.1, cac=1.5), r"cac .* \[0, 1\]"),
        (lambda: stepped_wedge_power(0.3, _X, 10, icc=0.1, alpha=2), r"alpha must be"),
        (lambda: stepped_wedge_power(0.3, _X, 10, icc=0.1, target_power=0), r"target_power"),
    ],
)
def test_specification_errors_stepped_wedge(call, match):
    with pytest.raises(SpecificationError, match=match):
        call()


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        design_effect(2, 10)


def test_t_power_stays_finite_far_in_the_tail():
    """A large noncentrality once gave NaN (scipy's nct.cdf far in the lower tail)."""
    schedule = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    result = stepped_wedge_power(0.35, schedule, 190, icc=0.05)
    assert np.isfinite(result.power_t) and result.power_t > 0.999
