"""Tests of simulation-based power (multilevel/simulation.py).

The reference answers are independent of the simulation code: the noncentral-t power of a
balanced cluster-randomised comparison (closed form, :func:`power.power_cluster_trial`),
the nominal 95% coverage and zero bias of REML estimates, the type I error rate ``alpha``
under a null effect, and direct refits with :func:`lerendtransformeren.multilevel.fit`.
Sizes are small and every run is seeded.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import ConvergenceWarning, SingularFitWarning, SpecificationError
from lerendtransformeren.multilevel import fit, power, simulation
from lerendtransformeren.multilevel.simulation import (
    Design,
    Model,
    PowerCurve,
    PowerSimulation,
    power_curve,
    power_simulation,
    raw_effect,
    simulate,
)
from lerendtransformeren.synthetic import nested_example

SW_FORMULA = "y ~ C(wave) + offer + (1 | organisation/team/professional)"
SW_VARIANCES = {"organisation": 0.3, "team": 0.2, "professional": 0.4, "residual": 0.4}


def small_stepped_wedge(**kw) -> Design:
    """Three levels, 8 x 3 x 4 units in 4 waves: few singular fits, so quick replicates."""
    args = dict(levels={"organisation": 8, "team": 3, "professional": 4}, waves=4, start_wave=(1, 2, 3))
    args.update(kw)
    return Design(**args)


def sw_model(offer: float = 0.4) -> Model:
    return Model(SW_FORMULA, fixed={"offer": offer}, variances=SW_VARIANCES)


def quick():
    """A two-level stepped wedge (6 organisations x 4 professionals x 4 waves): fast replicates."""
    design = Design({"organisation": 6, "professional": 4}, waves=4, start_wave=(1, 2, 3))
    model = Model("y ~ C(wave) + offer + (1 | organisation/professional)", fixed={"offer": 0.4},
                  variances={"organisation": 0.3, "professional": 0.4, "residual": 0.4})
    return model, design


# -- (a, b) a balanced two-level cluster comparison: power, bias, coverage ------------------
CLUSTERS, SIZE, ICC, D = 20, 10, 0.10, 0.5


@pytest.fixture(scope="module")
def cluster_trial() -> PowerSimulation:
    design = Design({"cluster": CLUSTERS, "person": SIZE}, treated_share=0.5)
    variances = {"cluster": ICC, "residual": 1 - ICC}
    model = Model("y ~ offer + (1 | cluster)", fixed={"offer": raw_effect(D, variances)}, variances=variances)
    return power_simulation(model, design, test="offer", n_sim=400, seed=20261123, n_jobs=2, progress=False)


def test_power_agrees_with_the_noncentral_t_closed_form(cluster_trial):
    # balanced, equal sizes, no covariates: the REML test with Satterthwaite df is the t-test
    # on cluster means (df = J - 2) whenever the cluster variance is not estimated at 0
    exact = power.power_cluster_trial(D, CLUSTERS, SIZE, ICC)
    mc_se = math.sqrt(exact * (1 - exact) / cluster_trial.n_sim)
    assert abs(cluster_trial.power - exact) < 3 * mc_se
    assert cluster_trial.ci_low < exact < cluster_trial.ci_high
    assert cluster_trial.n_failed == 0
    # the interval is Clopper-Pearson: check against the beta quantiles directly
    from scipy import stats

    k = int(round(cluster_trial.power * cluster_trial.n_sim))
    n = cluster_trial.n_sim
    assert cluster_trial.ci_method == "Clopper-Pearson"
    assert cluster_trial.ci_low == pytest.approx(stats.beta.ppf(0.025, k, n - k + 1))
    assert cluster_trial.ci_high == pytest.approx(stats.beta.ppf(0.975, k + 1, n - k))


def test_estimate_unbiased_and_interval_covers(cluster_trial):
    res = cluster_trial
    assert res.effect == pytest.approx(D)
    assert abs(res.bias) < 3 * res.bias_se
    assert abs(res.coverage - 0.95) < 3 * math.sqrt(0.95 * 0.05 / res.n_sim)
    reps = res.replicates
    assert res.rmse == pytest.approx(float(np.sqrt(((reps["estimate"] - D) ** 2).mean())))
    assert res.mean_df == pytest.approx(reps["df"].mean())
    # interior fits of this balanced design have exactly the cluster-means df
    interior = reps.loc[~reps["singular"], "df"]
    assert np.allclose(interior, CLUSTERS - 2, atol=1e-3)
    assert res.n_singular == int(reps["singular"].sum())


def test_result_tables_and_text(cluster_trial):
    res = cluster_trial
    assert list(res.replicates.columns) == ["replicate", "estimate", "se", "df", "statistic", "p", "ci_low",
                                            "ci_high", "singular", "converged", "failed", "error", "n_rows"]
    assert res.replicates["replicate"].tolist() == list(range(res.n_sim))
    table = res.table
    assert len(table) == 1 and table.loc[0, "power"] == res.power
    pd.testing.assert_frame_equal(res.to_frame(), table)
    text = str(res)
    assert "Clopper-Pearson" in text and "offer" in text and f"{res.power:.3f}" in text
    assert "failed 0" in text


# -- (c) clear errors for bad specifications -----------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(levels={"organisation": 1, "team": 4}), r"fewer than 2 units at level 'organisation'"),
        (dict(levels={"organisation": 6, "team": 0}), r"fewer than 1 units at level 'team'"),
        (dict(levels={"organisation": (1, 4)}), r"fewer than 2 units"),
        (dict(levels={"organisation": 6, "team": (4, 2)}), r"min > max"),
        (dict(levels={"organisation": 6}, waves=4, start_wave=(1, 2, 4)), r"start_wave \[4\] outside 1..3.*longer than the waves"),
        (dict(levels={"organisation": 6}, waves=4, start_wave=(0, 1)), r"start_wave \[0\] outside 1..3.*no period under control"),
        (dict(levels={"organisation": 6}, waves=3, schedule=[[0, 1, 1, 1]]), r"schedule has 4 columns but waves=3: the schedule is longer"),
        (dict(levels={"organisation": 6}, waves=3, schedule=[[0, 2, 1]]), r"only 0 \(control\) and 1"),
        (dict(levels={"organisation": 6}, waves=3, start_wave=1, treated_share=0.5), r"Give one treatment schedule"),
        (dict(levels={"organisation": 6}, treated_share=1.0), r"treated_share must lie strictly between 0 and 1"),
        (dict(levels={"organisation": 6}, waves=3, dropout=1.0), r"dropout must be a probability in \[0, 1\)"),
        (dict(levels={"organisation": 6}, waves=3, dropout=-0.1), r"dropout must be a probability"),
        (dict(levels={"organisation": 6}, dropout=0.1), r"dropout applies between waves"),
        (dict(levels={}), r"levels must be a mapping"),
        (dict(levels={"organisation": 6, "wave": 2}), r"different from the level names"),
    ],
)
def test_bad_designs_raise_clear_errors(kwargs, message):
    with pytest.raises(SpecificationError, match=message):
        Design(**kwargs)


def test_bad_models_raise_clear_errors():
    with pytest.raises(SpecificationError, match=r"variances\['team'\] = -0.1 is negative"):
        Model(SW_FORMULA, variances={**SW_VARIANCES, "team": -0.1})
    with pytest.raises(SpecificationError, match=r"residual.*positive"):
        Model(SW_FORMULA, variances={**SW_VARIANCES, "residual": 0.0})
    with pytest.raises(SpecificationError, match=r"one variance per random level and 'residual'"):
        Model(SW_FORMULA, variances={"team": 0.1})
    with pytest.raises(SpecificationError, match=r"not a symmetric positive semi-definite"):
        Model("y ~ wave + (1 + wave | professional)", variances={"professional": [[1, 2], [2, 1]], "residual": 1})
    with pytest.raises(SpecificationError, match=r"no random term"):
        Model("y ~ offer", variances={"residual": 1})
    design = small_stepped_wedge()
    with pytest.raises(SpecificationError, match=r"fixed names unknown fixed effects \['ofer'\].*'offer'"):
        simulate(Model(SW_FORMULA, fixed={"ofer": 0.3}, variances=SW_VARIANCES), design, seed=1)
    with pytest.raises(SpecificationError, match=r"variances for \['region'\], which are not random levels"):
        simulate(Model(SW_FORMULA, variances={**SW_VARIANCES, "region": 0.1}), design, seed=1)
    with pytest.raises(SpecificationError, match=r"exactly one entry for the random level 'organisation:team'"):
        simulate(Model(SW_FORMULA, variances={k: v for k, v in SW_VARIANCES.items() if k != "team"}), design, seed=1)
    with pytest.raises(SpecificationError, match=r"test='wave' is not a fixed effect"):
        power_simulation(sw_model(), design, test="wave", n_sim=2, progress=False)
    with pytest.raises(SpecificationError, match=r"Give a Design"):
        simulate(sw_model())
    with pytest.raises(SpecificationError, match=r"n_sim must be a whole number >= 1"):
        power_simulation(sw_model(), design, n_sim=0)
    with pytest.raises(SpecificationError, match=r"alpha must lie strictly between 0 and 1"):
        power_simulation(sw_model(), design, alpha=1.5)
    with pytest.raises(SpecificationError, match=r"client must be a dask distributed.Client"):
        power_simulation(sw_model(), design, n_sim=2, progress=False, client="localhost:8786")
    with pytest.raises(SpecificationError, match=r"along='region' is neither a level"):
        power_curve(sw_model(), design, along="region", values=[4, 6])
    with pytest.raises(SpecificationError, match=r"start_wave \[3\] outside 1..2"):
        power_curve(sw_model(), design, along="waves", values=[3, 4], n_sim=2, progress=False)
    assert issubclass(SpecificationError, ValueError)


# -- the design and the data ----------------------------------------------------------------
def test_design_rows_schedule_and_ranges():
    d = Design({"organisation": 15, "team": 4, "professional": 6}, waves=4, start_wave=(1, 2, 3))
    data = d.data()
    assert data.shape == (15 * 4 * 6 * 4, 5)
    assert data.groupby("organisation")["team"].nunique().eq(4).all()
    assert data.groupby("team")["professional"].nunique().eq(6).all()
    starts = data.loc[data["offer"] == 1].groupby("organisation")["wave"].min()
    assert starts.tolist() == [1, 2, 3] * 5
    ranged = Design({"organisation": 8, "team": (2, 5)}, seed=3)
    teams = ranged.data().groupby("organisation")["team"].nunique()
    assert teams.between(2, 5).all() and teams.nunique() > 1
    assert ranged.data().equals(Design({"organisation": 8, "team": (2, 5)}, seed=3).data())
    parallel = Design({"organisation": 6}, waves=2, treated_share=0.5).schedule_matrix()
    assert parallel[:, 0].tolist() == [0, 1, 0, 1, 0, 1] and (parallel[:, 0] == parallel[:, 1]).all()
    cycled = Design({"organisation": 5}, waves=2, schedule=[[0, 1], [0, 0]]).schedule_matrix()
    assert cycled.tolist() == [[0, 1], [0, 0], [0, 1], [0, 0], [0, 1]]


def test_dropout_is_monotone_and_about_the_stated_rate():
    design = small_stepped_wedge(levels={"organisation": 12, "team": 3, "professional": 10}, dropout=0.2)
    d = simulate(sw_model(), design, seed=5)
    waves = d.groupby("professional")["wave"].agg(["min", "max", "count"])
    assert (waves["min"] == 0).all()
    assert (waves["count"] == waves["max"] + 1).all()  # present up to a wave, then gone for good
    share = d.groupby("wave").size() / 360
    expected = 0.8 ** np.arange(4)
    assert np.all(np.abs(share.to_numpy() - expected) < 3 * np.sqrt(expected * (1 - expected) / 360) + 1e-12)


def test_random_slope_covariance_maps_to_the_engine_theta():
    cov = np.array([[0.5, 0.1], [0.1, 0.2]])
    model = Model("y ~ wave + (1 + wave | professional) + (1 | team)",
                  variances={"professional": cov, "team": 0.3, "residual": 0.8})
    tmpl, _, _ = simulation._template(model, Design({"team": 5, "professional": 4}, waves=3))
    from lerendtransformeren.multilevel.engine import NestedEngine

    eng = NestedEngine(np.zeros(len(tmpl.X)), tmpl.X, tmpl.levels)
    lams = eng.lambdas(tmpl.theta)
    assert np.allclose(0.8 * lams[0] @ lams[0].T, cov)
    assert np.allclose(0.8 * lams[1] @ lams[1].T, 0.3)


def test_raw_effect_multiplies_by_the_total_sd():
    assert raw_effect(0.3, SW_VARIANCES) == pytest.approx(0.3 * math.sqrt(0.3 + 0.2 + 0.4 + 0.4))
    assert raw_effect(0.5, {"cluster": 0.25, "residual": 2.25}) == pytest.approx(0.5 * math.sqrt(2.5))
    assert raw_effect(0.2, sw_model()) == pytest.approx(0.2 * math.sqrt(1.3))
    with pytest.raises(SpecificationError, match="covariance matrix"):
        raw_effect(0.2, {"p": np.eye(2), "residual": 1.0})


# -- (d) reproducibility -------------------------------------------------------------------
def test_same_seed_same_results_whatever_n_jobs():
    model, design = quick()
    serial = power_simulation(model, design, n_sim=24, seed=11, n_jobs=1, progress=False)
    again = power_simulation(model, design, n_sim=24, seed=11, n_jobs=1, progress=False)
    parallel = power_simulation(model, design, n_sim=24, seed=11, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(serial.replicates, again.replicates)
    pd.testing.assert_frame_equal(serial.replicates, parallel.replicates)
    other = power_simulation(model, design, n_sim=5, seed=12, progress=False)
    assert not np.allclose(other.replicates["estimate"], serial.replicates["estimate"].iloc[:5])
    # the first replicates do not depend on how many follow
    short = power_simulation(model, design, n_sim=5, seed=11, progress=False)
    pd.testing.assert_frame_equal(short.replicates, serial.replicates.iloc[:5])


def test_replicate_i_is_simulate_with_child_i_and_fit_agrees():
    design, model = small_stepped_wedge(), sw_model()
    res = power_simulation(model, design, n_sim=6, seed=2026, progress=False)
    child = np.random.SeedSequence(2026).spawn(6)[4]
    data = simulate(model, design, seed=child)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fit(SW_FORMULA, data)
    row = res.replicates.iloc[4]
    assert row["estimate"] == pytest.approx(ref.fixed.loc["offer", "estimate"], rel=1e-6, abs=1e-8)
    assert row["se"] == pytest.approx(ref.fixed.loc["offer", "se"], rel=1e-4)
    assert row["df"] == pytest.approx(ref.fixed.loc["offer", "df"], rel=1e-3)
    assert row["p"] == pytest.approx(ref.fixed.loc["offer", "p"], rel=1e-3, abs=1e-8)
    assert bool(row["singular"]) == ref.singular
    # a SeedSequence passed in is not consumed
    seq = np.random.SeedSequence(7)
    a = power_simulation(model, design, n_sim=3, seed=seq, progress=False)
    b = power_simulation(model, design, n_sim=3, seed=seq, progress=False)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)


def test_seed_none_reports_reusable_entropy():
    model, design = quick()
    first = power_simulation(model, design, n_sim=3, seed=None, progress=False)
    again = power_simulation(model, design, n_sim=3, seed=first.seed, progress=False)
    pd.testing.assert_frame_equal(first.replicates, again.replicates)


def test_no_progress_output_unless_asked(capfd):
    model, design = quick()
    power_simulation(model, design, n_sim=2, seed=1)  # progress=None: pytest is not interactive
    power_simulation(model, design, n_sim=2, seed=1, progress=False)
    assert capfd.readouterr().err == ""
    power_simulation(model, design, n_sim=2, seed=1, progress=True)
    assert "2/2" in capfd.readouterr().err


# -- (e) from a fitted model ----------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    return fit("y ~ wave + (1 | org/team)", nested_example())


def test_from_fit_simulates_on_the_fits_rows(fitted):
    d = simulate(fitted, seed=3)
    assert d.shape == nested_example().shape
    assert d[["org", "team", "wave"]].equals(nested_example()[["org", "team", "wave"]])
    assert not np.allclose(d["y"], nested_example()["y"])
    model = Model.from_fit(fitted, fixed={"wave": 0.0})
    assert model.fixed["wave"] == 0.0
    assert model.fixed["Intercept"] == pytest.approx(fitted.fixed.loc["Intercept", "estimate"])
    assert model.variances["residual"] == pytest.approx(fitted.sigma**2)
    assert model.variances["org:team"] == pytest.approx(fitted.variance.loc[("org:team", "Intercept"), "variance"])
    with pytest.raises(SpecificationError, match=r"Unknown fixed effects \['offer'\]"):
        Model.from_fit(fitted, fixed={"offer": 0.2})


def test_from_fit_type_one_error_and_power(fitted):
    null = power_simulation(Model.from_fit(fitted, fixed={"wave": 0.0}), test="wave", n_sim=200, seed=4,
                            n_jobs=2, progress=False)
    assert null.effect == 0.0
    assert abs(null.power - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 200)
    small = power_simulation(Model.from_fit(fitted, fixed={"wave": 0.05}), test="wave", n_sim=60, seed=4,
                             progress=False)
    big = power_simulation(fitted, test="wave", n_sim=20, seed=4, progress=False)  # effect as fitted, 0.19
    assert big.effect == pytest.approx(fitted.fixed.loc["wave", "estimate"])
    assert big.power == 1.0 and small.power < 0.9


def test_from_fit_on_a_new_design(fitted):
    model = Model.from_fit(fitted)
    design = Design({"org": 4, "team": 3}, waves=5)
    d = simulate(model, design, seed=1)
    assert d.shape == (4 * 3 * 5, 5)
    res = power_simulation(model, design, test="wave", n_sim=5, seed=1, progress=False)
    assert res.n_failed == 0


def test_multi_df_f_test():
    design, model = small_stepped_wedge(), Model(SW_FORMULA, fixed={"C(wave)[T.3]": 0.8}, variances=SW_VARIANCES)
    res = power_simulation(model, design, test="C(wave)", n_sim=10, seed=1, progress=False)
    assert res.effect == (0.0, 0.0, 0.8)
    assert res.replicates["estimate"].isna().all() and math.isnan(res.bias)
    assert (res.replicates["statistic"] > 0).all() and res.power > 0.5
    contrast = power_simulation(model, design, test={"C(wave)[T.3]": 1, "C(wave)[T.1]": -1}, n_sim=4,
                                seed=1, progress=False)
    assert contrast.effect == pytest.approx(0.8)


# -- (f) power curves -----------------------------------------------------------------------
def test_power_curve_table_and_trend():
    design = Design({"cluster": 4, "person": 8}, treated_share=0.5)
    model = Model("y ~ offer + (1 | cluster)", fixed={"offer": 0.8}, variances={"cluster": 0.1, "residual": 0.9})
    curve = power_curve(model, design, along="cluster", values=[4, 8, 16], n_sim=40, seed=9, progress=False)
    assert isinstance(curve, PowerCurve)
    assert list(curve.table.columns) == ["along", "value", "n_sim", "power", "ci_low", "ci_high", "bias",
                                         "coverage", "mean_df", "n_singular", "n_failed"]
    assert curve.table["along"].eq("cluster").all() and curve.table["value"].tolist() == [4, 8, 16]
    assert curve.table["n_sim"].eq(40).all() and curve.table["value"].dtype.kind == "i"
    assert (curve.alpha, curve.test, curve.effect, curve.seed) == (0.05, "offer", 0.8, 9)
    p = curve.table["power"].to_numpy()
    assert p[2] > p[0] and p[2] >= p[1] - 0.1
    assert (curve.table["ci_low"] <= curve.table["power"]).all()
    # point k is power_simulation seeded with child k
    point = power_simulation(model, Design({"cluster": 8, "person": 8}, treated_share=0.5), n_sim=40,
                             seed=np.random.SeedSequence(9).spawn(3)[1], progress=False)
    pd.testing.assert_frame_equal(point.replicates, curve.results[1].replicates)
    assert "cluster" in str(curve)
    # the report layer reads the table as it is
    sentence = curve.report(8, effect=0.8, standardized=False, lang="en")
    assert sentence.startswith("With 8 ") and "simulated power" in sentence and "α = .05" in sentence
    import matplotlib.pyplot as plt

    fig = curve.plot(lang="en")
    assert fig.alt_en.startswith("Power curve: simulated power (40 simulated studies per point)")
    plt.close(fig.figure)


def test_power_curve_along_lower_levels_and_waves():
    design, model = small_stepped_wedge(), sw_model(0.3)
    by_team = power_curve(model, design, along="professional", values=[2, 4], n_sim=3, seed=1, progress=False)
    assert by_team.table["n_failed"].eq(0).all()
    assert [r.replicates["n_rows"].iloc[0] for r in by_team.results] == [8 * 3 * 2 * 4, 8 * 3 * 4 * 4]
    by_wave = power_curve(model, design, along="waves", values=[4, 6], n_sim=3, seed=1, progress=False)
    assert [r.replicates["n_rows"].iloc[0] for r in by_wave.results] == [96 * 4, 96 * 6]


# -- (g) Dask ------------------------------------------------------------------------------
def test_dask_client_gives_the_serial_replicates():
    distributed = pytest.importorskip("distributed")
    model, design = quick()
    serial = power_simulation(model, design, n_sim=12, seed=5, progress=False)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        on_dask = power_simulation(model, design, n_sim=12, seed=5, progress=False, client=client)
    pd.testing.assert_frame_equal(serial.replicates, on_dask.replicates)


# -- (h) failures are counted, never dropped silently ------------------------------------------
def test_failed_replicates_are_counted_and_reported():
    # heavy dropout: in some replicates nobody reaches the last wave, so its effect has no data
    design = Design({"cluster": 4, "person": 3}, waves=3, treated_share=0.5, dropout=0.8)
    model = Model("y ~ C(wave) + offer + (1 | cluster/person)", fixed={"offer": 1.0},
                  variances={"cluster": 0.2, "person": 0.3, "residual": 0.5})
    with pytest.warns(ConvergenceWarning, match=r"replicate fits failed.*completed fits"):
        res = power_simulation(model, design, n_sim=30, seed=3, progress=False)
    reps = res.replicates
    assert len(reps) == res.n_sim == 30
    assert 0 < res.n_failed < 30 and res.n_failed == int(reps["failed"].sum())
    assert reps.loc[reps["failed"], "error"].str.contains("not estimable").all()
    assert reps.loc[reps["failed"], "p"].isna().all()
    ok = reps.loc[~reps["failed"]]
    assert res.power == pytest.approx((ok["p"] < 0.05).mean())
    assert f"failed {res.n_failed}" in str(res)


def test_engine_errors_are_counted(monkeypatch):
    model, design = quick()
    original = simulation.NestedEngine.with_response  # each replicate's engine: the design's, its y swapped in
    calls = {"n": 0}

    def flaky(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise np.linalg.LinAlgError("Matrix is not positive definite")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(simulation.NestedEngine, "with_response", flaky)
    with pytest.warns(ConvergenceWarning, match="2 of 6 replicate fits failed"):
        res = power_simulation(model, design, n_sim=6, seed=1, progress=False)
    assert res.n_failed == 2
    assert res.replicates.loc[res.replicates["failed"], "error"].str.startswith("LinAlgError").all()


def test_a_replicate_whose_line_search_hits_a_numerically_singular_xtvx_still_fits():
    # Replicate 130 of this random-slope design once failed with "Matrix is not positive
    # definite": a trial point of the line search made X'V^-1X lose definiteness in
    # floating point. The engine now treats such a point as infeasible and steps back;
    # the replicate gives the same answer as lt.fit on the same simulated data.
    effect = 0.3 * np.sqrt(0.053676252039115045 + 0.0044349867250661965 + 0.24948080496580027 + 0.30189335870910106)
    model = Model(
        "y ~ C(wave) + offer + (1 + offer | organisation) + (1 | organisation:team)"
        " + (1 | organisation:team:professional)",
        fixed={"offer": effect},
        variances={"organisation": np.diag([0.053676252039115045, (effect / 2) ** 2]),
                   "team": 0.0044349867250661965, "professional": 0.24948080496580027,
                   "residual": 0.30189335870910106},
    )
    design = Design({"organisation": 3, "team": (3, 5), "professional": (12, 24)}, waves=4,
                    start_wave=(1, 2, 3), dropout=0.08, seed=20261123)
    child = np.random.SeedSequence(20261123 + 20).spawn(150)[130]
    rec = simulation._replicate(simulation._template(model, design, "offer")[0], 130, child)
    assert not rec["failed"], rec["error"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        ref = fit(model.formula, simulate(model, design, seed=child)).fixed.loc["offer"]
    assert rec["estimate"] == pytest.approx(ref["estimate"], rel=1e-6)
    assert rec["se"] == pytest.approx(ref["se"], rel=1e-5)
    assert rec["df"] == pytest.approx(ref["df"], rel=1e-4)
