"""Large fits and many refits: unit codes, lazy labels, the blockwise rank check, the passes
over the rows a fit makes, the engine with another outcome, and forked replicate workers.

The speed and memory figures themselves are in ``benchmarks/bench_engine.py`` (the
1,000,000-row fit: passes and peak memory against the frame's size) and
``benchmarks/bench_power.py`` (refits per second); these tests hold the pieces to their
results, which must equal those of the plain ways they replace.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit, replicates
from lerendtransformeren.multilevel import frame as frame_module
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.frame import UnitLabels, _unit_codes, build_frame
from lerendtransformeren.multilevel.simulation import Design, Model, power_simulation

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from passes import count_passes  # noqa: E402 (the benchmarks' pass counter)


def nested_data(n_person: int = 400, seed: int = 3, reuse_codes: bool = False) -> pd.DataFrame:
    """Organisations > teams > persons x 4 waves; team and person codes unique, or reused."""
    rng = np.random.default_rng(seed)
    person = np.arange(n_person)
    team = person // 5
    org = team % 7
    rows = np.repeat(person, 4)
    wave = np.tile(np.arange(4), n_person)
    y = (rng.normal(0, 0.5, 7)[org[rows]] + rng.normal(0, 0.5, team.max() + 1)[team[rows]]
         + rng.normal(size=n_person)[rows] + 0.2 * wave + rng.normal(size=rows.size))
    d = pd.DataFrame({"org": org[rows], "team": team[rows], "person": rows, "wave": wave, "y": y})
    if reuse_codes:  # codes that repeat across the units above them: only the nesting tells them apart
        d["team"] = d["team"] % 3
        d["person"] = d["person"] % 5
    return d.sample(frac=1.0, random_state=1).reset_index(drop=True)  # rows in no particular order


def groupby_codes(d: pd.DataFrame, factors) -> tuple[np.ndarray, np.ndarray]:
    """The plain way: pandas groupby codes and 'a:b' labels of the sorted groups."""
    codes = d.groupby(list(factors), sort=True).ngroup().to_numpy()
    keys = d[list(factors)].drop_duplicates().sort_values(list(factors))
    labels = keys.astype(str).agg(":".join, axis=1).to_numpy()
    return codes, labels


@pytest.mark.parametrize("reuse", [False, True])
def test_unit_codes_and_labels_equal_groupby(reuse):
    d = nested_data(reuse_codes=reuse)
    d["org"] = d["org"].map(lambda o: f"O{o:02d}")  # strings for one factor
    cache: dict = {}
    for factors in [("org",), ("org", "team"), ("org", "team", "person")]:
        codes, labels = _unit_codes(d, factors, cache)
        want_codes, want_labels = groupby_codes(d, factors)
        np.testing.assert_array_equal(codes, want_codes)
        assert isinstance(labels, UnitLabels) and len(labels) == len(want_labels)
        np.testing.assert_array_equal(labels.build(), want_labels)


def test_crossed_codes_equal_groupby():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"a": rng.integers(0, 4, 300), "b": rng.integers(0, 6, 300)})  # b crosses a
    codes, labels = _unit_codes(d, ("a", "b"))
    want_codes, want_labels = groupby_codes(d, ("a", "b"))
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(labels.build(), want_labels)


def test_labels_are_made_on_first_use_and_survive_pickling():
    d = nested_data()
    frame = build_frame("y ~ wave + (1 | org/team/person)", d)
    person = frame.levels[0]
    assert isinstance(person.__dict__["_labels"], UnitLabels)  # not made by the fit
    assert person.n_units == 400
    again = pickle.loads(pickle.dumps(frame)).levels[0]
    labels = person.labels
    assert labels.dtype == object and isinstance(person.__dict__["_labels"], np.ndarray)
    np.testing.assert_array_equal(again.labels, labels)
    res = fit("y ~ wave + (1 | org/team/person)", d)
    assert list(res.ranef("person").index[:2]) == sorted(labels)[:2]


def test_intercept_design_is_a_read_only_view():
    frame = build_frame("y ~ wave + (1 | org/team)", nested_data())
    Z = frame.levels[0].blocks[0].Z
    assert Z.shape == (1600, 1) and not Z.flags.writeable and np.all(Z == 1.0)
    assert Z.base is not None and Z.base.size == 1  # one value, not a column of ones


def test_blockwise_rank_check_finds_the_collinear_column(monkeypatch):
    rng = np.random.default_rng(2)
    d = nested_data()
    d["x"] = rng.normal(size=len(d))
    d["x2"] = 2.0 * d["x"] - d["wave"]
    monkeypatch.setattr(frame_module, "_RANK_BLOCK", 97)  # several blocks for these 1,600 rows
    with pytest.raises(SpecificationError, match=r"\['x2'\] can be written"):
        build_frame("y ~ wave + x + x2 + (1 | org/team)", d)
    full = build_frame("y ~ wave + x + (1 | org/team)", d)  # full rank passes
    assert full.X.shape == (1600, 3)
    X = full.X
    monkeypatch.setattr(frame_module, "_RANK_BLOCK", 10**9)
    frame_module._check_rank(X, ["a", "b", "c"])  # and the one-block path agrees


def test_a_three_level_fit_makes_few_passes_over_the_rows():
    d = nested_data(1000)
    with count_passes(len(d)) as passes:
        res = fit("y ~ wave + (1 | org/team/person)", d)
        res.fixed
    ops = {(step, op): k for (step, op), k in passes.by_step.items()}
    # one factorisation per grouping column, one sort of the rows, the cross-products of the lowest units
    assert ops.get(("frame._unit_codes", "pd.factorize")) == 3
    assert ops.get(("engine._unit_order", "np.argsort"), 0) <= 1
    assert passes.total <= 12, passes.table()


def test_the_pass_counter_counts_and_restores():
    n = 500
    d = pd.DataFrame({"g": np.arange(n) % 7, "y": np.ones(n)})
    before = (pd.factorize, pd.DataFrame.groupby, np.unique)
    with count_passes(n) as passes:
        d.groupby("g")["y"].mean()  # the call, and its factorisation when the mean runs
        pd.factorize(d["g"])
        np.unique(d["g"].to_numpy())  # numpy outside the package's modules: not seen
        pd.factorize(d["g"].iloc[:10])  # fewer rows: not a pass
    assert passes.by_step[("(outside the package)", "DataFrame.groupby")] == 1
    assert passes.by_step[("(outside the package)", "pd.factorize")] == 2 and passes.total == 3
    assert (pd.factorize, pd.DataFrame.groupby, np.unique) == before
    assert "factorize" not in pd.Series.__dict__  # the inherited method is restored as inherited


def test_engine_with_another_outcome_equals_a_new_engine():
    frame = build_frame("y ~ wave + (1 | org/team/person)", nested_data())
    base = NestedEngine(frame.y, frame.X, frame.levels)
    rng = np.random.default_rng(9)
    y = rng.normal(size=len(frame.y))
    new, fresh = base.with_response(y), NestedEngine(y, frame.X, frame.levels)
    np.testing.assert_array_equal(new.A0, fresh.A0)
    theta = np.array([0.7, 0.4, 0.2])
    assert new.gradient(theta)[0] == fresh.gradient(theta)[0]
    np.testing.assert_array_equal(new.gradient(theta)[1], fresh.gradient(theta)[1])
    opt_new, opt_fresh = new.optimize(), fresh.optimize()
    np.testing.assert_array_equal(opt_new.theta, opt_fresh.theta)
    assert opt_new.n_evaluations == opt_fresh.n_evaluations
    wave = frame.X[:, 1].copy()  # an outcome equal to a column of X shares its column: built afresh
    same = base.with_response(wave)
    assert same.y_idx == same.x_idx[1]
    np.testing.assert_array_equal(same.A0, NestedEngine(wave, frame.X, frame.levels).A0)
    assert base.criterion(np.array([0.7, 0.4, 0.2])) == NestedEngine(frame.y, frame.X, frame.levels).criterion(
        np.array([0.7, 0.4, 0.2]))  # the engine it came from is unchanged


@pytest.mark.parametrize(("n_jobs", "fork"), [(2, True), (3, True), (2, False)])
def test_replicates_identical_whatever_workers(n_jobs, fork, monkeypatch):
    design = Design({"organisation": 6, "team": 2, "professional": 3}, waves=4, start_wave=(1, 2, 3))
    model = Model("y ~ C(wave) + offer + (1 | organisation/team/professional)", fixed={"offer": 0.4},
                  variances={"organisation": 0.1, "team": 0.05, "professional": 0.3, "residual": 1.0})
    serial = power_simulation(model, design, test="offer", n_sim=30, seed=4, n_jobs=1, progress=False)
    monkeypatch.setattr(replicates, "USE_FORK", fork)
    assert replicates.fork_available() == (fork and sys.platform.startswith("linux") and sys.version_info < (3, 12))
    parallel = power_simulation(model, design, test="offer", n_sim=30, seed=4, n_jobs=n_jobs, progress=False)
    pd.testing.assert_frame_equal(serial.replicates, parallel.replicates)
