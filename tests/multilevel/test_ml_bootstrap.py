"""Parametric-bootstrap intervals of the ICC per level and of R2 (multilevel/bootstrap.py).

Reference: tests/reference/bootstrap/ (make_reference.R): the same bootstrap in R, 4000
responses simulated with lme4's simulate(use.u = FALSE) and fitted afresh by lmer, and
performance::icc(m, ci = 0.95, iterations = 1000). Python and R draw different random
numbers, so the two bootstrap distributions agree only within Monte Carlo error. The
tolerance is stated per comparison, distribution-free where it can be:

* a quantile: R's quantile ``q_R`` at probability ``p`` must lie where the Python samples
  put probability ``F_py(q_R)`` within ``Z`` standard errors of ``p``, the standard error
  being ``sqrt(p (1 - p) (1 / B_py + 1 / B_R))`` (the empirical CDF of B_py samples plus the
  spread of R's quantile of B_R samples on the probability scale);
* the point mass at 0 of the organisation ICC (singular fits): two proportions;
* a mean: ``Z`` standard errors ``sqrt(sd_py^2 / B_py + sd_R^2 / B_R)``.

``Z = 4``: about 36 correlated comparisons at the two-sided 6e-5 level each, so a correct
bootstrap fails this test with a probability well below 1%, while a shift of the
distribution by a tenth of its SD (0.008 for the team ICC) fails it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import ConvergenceWarning, SpecificationError
from lerendtransformeren.multilevel import bootstrap as bs
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.bootstrap import IccR2Bootstrap, bootstrap_icc_r2, icc_r2_statistics
from lerendtransformeren.synthetic import nested_example

REF = Path(__file__).resolve().parents[1] / "reference" / "bootstrap"
REFERENCE = json.loads((REF / "reference.json").read_text())
Z = 4.0
B_PY = 1000
COLUMNS = {"icc_org": "icc org", "icc_team": "icc org:team", "r2_marginal": "r2 marginal",
           "r2_conditional": "r2 conditional"}


@pytest.fixture(scope="module")
def model():
    return fit("y ~ wave + (1 | org/team)", pd.read_csv(REF / "nested.csv"))


@pytest.fixture(scope="module")
def boot(model):
    return bootstrap_icc_r2(model, B_PY, seed=20261204, progress=False)


def test_the_reference_fit_is_the_same_model(model):
    assert np.allclose(model.theta, REFERENCE["theta"], rtol=1e-5)
    assert model.sigma == pytest.approx(REFERENCE["sigma"], rel=1e-6)
    est = icc_r2_statistics(model)
    for name, col in COLUMNS.items():
        assert est[tuple(col.split(" ", 1))] == pytest.approx(REFERENCE["estimate"][name], rel=1e-5)


def test_statistics_are_those_of_the_result(model):
    est = icc_r2_statistics(model)
    assert est.loc["icc"].to_dict() == pytest.approx(model.icc["icc"].dropna().to_dict())
    assert est.loc["r2"].to_dict() == pytest.approx(model.r2.to_dict())


def test_refit_of_the_observed_response_gives_the_estimates(model):
    values, singular, converged = bs._refit_statistics(bs._setup(model), model.frame.y)
    assert values == pytest.approx(icc_r2_statistics(model).to_numpy(), rel=1e-6)
    assert converged and not singular


@pytest.mark.parametrize("name", list(COLUMNS))
def test_bootstrap_distribution_matches_r(boot, name):
    ref = REFERENCE["bootstrap"]
    b_r = ref["n_used"]
    st = ref["statistics"][name]
    x = boot.replicates[COLUMNS[name]].to_numpy()
    assert boot.n_failed == 0 and len(x) == B_PY
    for p, q_r in zip(ref["probs"], st["quantiles"]):
        if q_r < 1e-3:  # inside the point mass at 0 (singular fits): compared below
            continue
        se = np.sqrt(p * (1 - p) * (1 / B_PY + 1 / b_r))
        assert abs(np.mean(x <= q_r) - p) <= Z * se, (name, p, q_r, np.quantile(x, p))
    se_mean = np.sqrt(np.var(x, ddof=1) / B_PY + st["sd"] ** 2 / b_r)
    assert abs(x.mean() - st["mean"]) <= Z * se_mean
    assert np.std(x, ddof=1) == pytest.approx(st["sd"], rel=Z * np.sqrt(1 / (2 * B_PY) + 1 / (2 * b_r)))


def test_point_mass_at_zero_matches_r(boot):
    ref = REFERENCE["bootstrap"]["share_org_below"]
    x = boot.replicates["icc org"].to_numpy()
    for h, share_r in zip(ref["threshold"], ref["share"]):
        share = np.mean(x < h)
        pooled = (share * B_PY + share_r * REFERENCE["bootstrap"]["n_used"]) / (B_PY + REFERENCE["bootstrap"]["n_used"])
        se = np.sqrt(pooled * (1 - pooled) * (1 / B_PY + 1 / REFERENCE["bootstrap"]["n_used"]))
        assert abs(share - share_r) <= Z * se
    # the point mass is the singular refits, counted and kept
    assert boot.n_singular >= int(np.sum(x < 1e-8)) > 0
    assert any("singular" in n and "kept" in n for n in boot.notes)


def test_interval_matches_performance_icc(boot):
    ref = REFERENCE["performance_icc"]
    x = boot.replicates["icc org:team"].to_numpy()
    assert boot.icc.loc["org:team", "estimate"] == pytest.approx(ref["icc_adjusted"], rel=1e-5)
    for p, bound in ((0.025, ref["ci_low"]), (0.975, ref["ci_high"])):
        se = np.sqrt(p * (1 - p) * (1 / B_PY + 1 / ref["iterations"]))
        assert abs(np.mean(x <= bound) - p) <= Z * se


def test_interval_is_the_percentile_interval(boot):
    x = boot.replicates["r2 conditional"].to_numpy()
    row = boot.table.loc[("r2", "conditional")]
    assert [row["ci_low"], row["ci_high"]] == pytest.approx(np.quantile(x, [0.025, 0.975]), rel=1e-12)
    assert row["boot_se"] == pytest.approx(np.std(x, ddof=1))
    assert row["n_used"] == B_PY
    assert list(boot.icc.columns) == ["estimate", "ci_low", "ci_high"]
    assert list(boot.r2.index) == ["marginal", "conditional"]


def test_same_seed_same_numbers_for_any_n_jobs(model):
    one = bootstrap_icc_r2(model, 40, seed=7, n_jobs=1, progress=False)
    two = bootstrap_icc_r2(model, 40, seed=7, n_jobs=2, progress=False)
    pd.testing.assert_frame_equal(one.replicates, two.replicates)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert one.seed == two.seed == 7
    other = bootstrap_icc_r2(model, 40, seed=8, progress=False)
    assert not one.replicates["icc org:team"].equals(other.replicates["icc org:team"])


def test_the_method_on_the_result_is_the_same(model):
    via_method = model.icc_r2_ci(30, seed=3, progress=False, conf_level=0.9)
    direct = bootstrap_icc_r2(model, 30, seed=3, progress=False, conf_level=0.9)
    assert isinstance(via_method, IccR2Bootstrap)
    pd.testing.assert_frame_equal(via_method.table, direct.table)
    assert via_method.conf_level == 0.9
    x = via_method.replicates["icc org"].to_numpy()
    assert via_method.table.loc[("icc", "org"), "ci_high"] == pytest.approx(np.quantile(x, 0.95), rel=1e-12)


def test_failed_refits_are_counted_and_left_out(model, monkeypatch):
    real = bs._refit_statistics

    def flaky(setup, y):
        if y[0] > np.median(model.frame.y):  # about half of the samples, deterministically
            raise np.linalg.LinAlgError("planted failure")
        return real(setup, y)

    monkeypatch.setattr(bs, "_refit_statistics", flaky)
    with pytest.warns(ConvergenceWarning, match="refits failed"):
        res = bootstrap_icc_r2(model, 30, seed=2, progress=False)
    failed = res.replicates["failed"].to_numpy()
    assert 0 < res.n_failed == failed.sum() < 30
    assert res.replicates.loc[failed, "error"].str.contains("planted failure").all()
    assert res.replicates.loc[failed, "icc org"].isna().all()
    assert (res.table["n_used"] == 30 - res.n_failed).all()
    kept = res.replicates.loc[~failed, "icc org:team"].to_numpy()
    assert res.table.loc[("icc", "org:team"), "ci_low"] == pytest.approx(np.quantile(kept, 0.025), rel=1e-12)
    assert res.notes[0].startswith(f"{res.n_failed} of 30 refits failed (first: LinAlgError: planted failure)")


def test_singular_model_is_noted():
    data = pd.read_csv(Path(__file__).resolve().parents[1] / "reference" / "multilevel" / "singular.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = fit("y ~ x + (1 | org/team)", data)
    assert m.singular
    res = bootstrap_icc_r2(m, 20, seed=1, progress=False)
    assert res.n_failed == 0
    assert res.n_singular > 0  # no organisation variance is drawn: most refits land on 0
    assert res.table.loc[("icc", "org"), "ci_low"] == 0.0
    assert any(n.startswith("The fitted model is singular") for n in res.notes)
    assert "singular" in res.summary()


def test_progress_bar_can_be_switched_off(model, capsys):
    bootstrap_icc_r2(model, 5, seed=1, progress=False)
    assert capsys.readouterr().err == ""
    bootstrap_icc_r2(model, 5, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "bootstrap ICC/R2" in err and "5/5" in err


@pytest.mark.parametrize("kwargs, match", [
    ({"n_boot": 0}, "n_boot must be a whole number"),
    ({"n_boot": 2.5}, "n_boot must be a whole number"),
    ({"conf_level": 1.2}, "conf_level must lie strictly between 0 and 1"),
    ({"n_jobs": 0}, "n_jobs must be a non-zero whole number"),
    ({"seed": -1}, "seed must be a non-negative integer"),
])
def test_bad_arguments_are_named(model, kwargs, match):
    args = {"n_boot": 5, "progress": False, **kwargs}
    with pytest.raises(SpecificationError, match=match):
        bootstrap_icc_r2(model, **args)


def test_glmm_is_refused():
    d = nested_example()
    d["b"] = (d["y"] > d["y"].median()).astype(int)
    g = fit("b ~ wave + (1 | org/team)", d, family="binomial")
    with pytest.raises(SpecificationError, match="For a GLMM"):
        bootstrap_icc_r2(g, 5)


def test_small_coverage_check():
    """20 studies from a known model, each with a 50-sample bootstrap: the 95% intervals of
    the team-level ICC and of the conditional R2 cover the truth in at least 14 of 20.

    A sanity check that the intervals are about the right quantity and of about the right
    width (drawing no random effects, or interval bounds of another statistic, fail it),
    not a measure of coverage: that is benchmarks/bench_icc_bootstrap.py (percentile
    intervals cover somewhat less than 95% with 15 organisations). With a true coverage of
    90% (85%), 13 or fewer of 20 happen with probability 0.011 (0.067).
    """
    rng = np.random.default_rng(2026)
    org = np.repeat(np.arange(15), 24)
    team = np.repeat(np.arange(60), 6)
    wave = np.tile(np.arange(6.0), 60)
    v_org, v_team, v_res = 0.15, 0.15, 0.7
    truth_icc = (v_org + v_team) / (v_org + v_team + v_res)
    v_fixed = np.var(0.1 * wave, ddof=1)
    truth_r2 = (v_fixed + v_org + v_team) / (v_fixed + v_org + v_team + v_res)
    covered_icc = covered_r2 = 0
    for k in range(20):
        y = (0.1 * wave + rng.normal(0, np.sqrt(v_org), 15)[org] + rng.normal(0, np.sqrt(v_team), 60)[team]
             + rng.normal(0, np.sqrt(v_res), len(org)))
        d = pd.DataFrame({"org": org, "team": team % 4, "wave": wave, "y": y})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = bootstrap_icc_r2(fit("y ~ wave + (1 | org/team)", d), 50, seed=k, progress=False)
        lo, hi = res.table.loc[("icc", "org:team"), ["ci_low", "ci_high"]]
        covered_icc += lo <= truth_icc <= hi
        lo, hi = res.table.loc[("r2", "conditional"), ["ci_low", "ci_high"]]
        covered_r2 += lo <= truth_r2 <= hi
    assert covered_icc >= 14 and covered_r2 >= 14
