"""Reliability against stored R psych references (tests/reference/scales/make_reference.R)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError

HERE = Path(__file__).resolve().parents[1] / "reference" / "scales"
REFERENCE = json.loads((HERE / "reliability_reference.json").read_text())["reference"]
FILES = {"mastery": "mastery.csv", "uwes9": "uwes.csv", "sdq_parent": "sdq.csv"}


def _data(instrument: str) -> pd.DataFrame:
    return pd.read_csv(HERE / FILES[instrument])


@pytest.fixture(scope="module")
def results():
    out = {}
    for key in {(r["instrument"], r["missing"]) for r in REFERENCE}:
        out[key] = scales.reliability(_data(key[0]), key[0], missing=key[1], n_boot=0)
    return out


def test_reference_covers_three_data_sets_and_both_policies():
    assert {r["instrument"] for r in REFERENCE} == set(FILES)
    assert {r["missing"] for r in REFERENCE} == {"listwise", "pairwise"}


@pytest.mark.parametrize("ref", REFERENCE, ids=lambda r: f"{r['instrument']}-{r['score']}-{r['missing']}")
def test_matches_psych(results, ref):
    res = results[(ref["instrument"], ref["missing"])]
    row = res.scales.set_index("score").loc[ref["score"]]
    items = res.items[res.items["score"] == ref["score"]]
    assert list(items["item"]) == ref["items"]
    # psych::alpha: raw_alpha, r.drop, alpha.drop$raw_alpha
    assert row["alpha"] == pytest.approx(ref["raw_alpha"], abs=1e-6)
    np.testing.assert_allclose(items["r_drop"], ref["r_drop"], atol=1e-6)
    np.testing.assert_allclose(items["alpha_if_deleted"], ref["alpha_drop"], atol=1e-6)
    # one-factor minres: omega from psych::fa loadings, and psych::omega(nfactors = 1)
    assert row["omega_total"] == pytest.approx(ref["omega_loadings"], abs=1e-5)
    assert row["omega_total"] == pytest.approx(ref["omega_psych"], abs=1e-3)
    if ref["missing"] == "listwise":
        assert row["n_complete"] == ref["n"]


def test_loadings_match_psych_fa():
    from lerendtransformeren.scales.reliability import _one_factor, _pairwise_moments

    ref = next(r for r in REFERENCE if r["instrument"] == "mastery")
    x = _data("mastery").to_numpy(dtype=float)
    x[:, [0, 1, 2, 4, 6]] = 5 - x[:, [0, 1, 2, 4, 6]]
    _, corr = _pairwise_moments(x, np.ones((1, len(x))))
    lam, ok = _one_factor(corr)
    assert ok[0]
    np.testing.assert_allclose(lam[0], ref["loadings"], atol=1e-5)


def test_omega_total_function_matches_reliability():
    df = _data("uwes9")
    res = scales.reliability(df, "uwes9", missing="pairwise", n_boot=0)
    omega = scales.omega_total(df[["uwes_01", "uwes_04", "uwes_08"]], missing="pairwise")
    assert omega == pytest.approx(res.scales.set_index("score").loc["vigour", "omega_total"], abs=1e-12)


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    df = _data("mastery")
    a = scales.reliability(df, "mastery", n_boot=300, seed=11).scales.iloc[0]
    b = scales.reliability(df, "mastery", n_boot=300, seed=11).scales.iloc[0]
    c = scales.reliability(df, "mastery", n_boot=300, seed=12).scales.iloc[0]
    assert a.equals(b)
    assert a["omega_ci_low"] != c["omega_ci_low"]
    assert a["omega_ci_low"] < a["omega_total"] < a["omega_ci_high"]
    assert a["alpha_ci_low"] < a["alpha"] < a["alpha_ci_high"]
    assert a["n_boot_ok"] == 300
    assert 0.02 < a["omega_ci_high"] - a["omega_ci_low"] < 0.2


def test_listwise_and_pairwise_counts():
    res = scales.reliability(_data("sdq_parent"), "sdq_parent", missing="pairwise", n_boot=0)
    row = res.scales.set_index("score").loc["total_difficulties"]
    x = _data("sdq_parent")[list(scales.get("sdq_parent").score_items("total_difficulties"))]
    assert row["n_complete"] == x.notna().all(axis=1).sum()
    observed = x.notna().astype(int).to_numpy()
    assert row["n_pairwise"] == (observed.T @ observed).min() > row["n_complete"]
    assert set(res.scales["score"]) == {
        "emotional", "conduct", "hyperactivity", "peer", "prosocial",
        "total_difficulties", "externalising", "internalising",
    }


def test_bad_arguments():
    df = _data("mastery")
    with pytest.raises(SpecificationError, match="missing must be one of"):
        scales.reliability(df, "mastery", missing="available")
    with pytest.raises(SpecificationError, match="no multi-item score"):
        scales.reliability(pd.DataFrame({"gas_01": [1], "gas_02": [0], "gas_03": [2]}), "gas")
    with pytest.raises(DataError, match="fewer than 3 respondents"):
        scales.reliability(df.head(2), "mastery")


# Issue 17: the bootstrap in bounded memory, same numbers as before.


def test_bootstrap_numbers_unchanged_from_the_one_matrix_implementation():
    # Values of the implementation that drew one (n_boot x n) matrix (before issue 17).
    a = scales.reliability(_data("mastery"), "mastery", n_boot=300, seed=11).scales.iloc[0]
    assert a["omega_ci_low"] == pytest.approx(0.775383056137496, abs=1e-12)
    assert a["omega_ci_high"] == pytest.approx(0.8427830743554393, abs=1e-12)
    b = scales.reliability(_data("sdq_parent"), "sdq_parent", missing="pairwise", n_boot=300, seed=1).scales
    row = b.set_index("score").loc["total_difficulties"]
    assert row["omega_ci_low"] == pytest.approx(0.8138416509059705, abs=1e-12)
    assert row["omega_ci_high"] == pytest.approx(0.8666786593817306, abs=1e-12)


@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_bootstrap_identical_for_any_batch_and_block_size(monkeypatch, missing):
    rel = importlib.import_module("lerendtransformeren.scales.reliability")

    x = _data("sdq_parent")[list(scales.get("sdq_parent").score_items("emotional"))].to_numpy(dtype=float)
    if missing == "listwise":
        x = x[~np.isnan(x).any(axis=1)]
    ref = rel._boot_omegas(x, 57, np.random.default_rng(3), batch=100)
    for batch in (1, 7, 57):
        np.testing.assert_array_equal(rel._boot_omegas(x, 57, np.random.default_rng(3), batch=batch), ref)
    monkeypatch.setattr(rel, "_ROWS", 16)  # many respondent blocks: integer item codes sum exactly
    np.testing.assert_array_equal(rel._boot_omegas(x, 57, np.random.default_rng(3), batch=5), ref)


def test_bootstrap_never_holds_resamples_times_respondents():
    import tracemalloc

    rel = importlib.import_module("lerendtransformeren.scales.reliability")

    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 1)) + rng.normal(size=(4000, 5))
    tracemalloc.start()
    rel._boot_omegas(x, 400, np.random.default_rng(1))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 400 * 4000 * 8 / 10  # an (n_boot x n) array would be 12.8 MB; this is about 1 MB


def test_seed_is_recorded_and_repeats_the_run():
    df = _data("mastery")
    a = scales.reliability(df, "mastery", n_boot=50)
    assert isinstance(a.seed, int)
    b = scales.reliability(df, "mastery", n_boot=50, seed=a.seed)
    assert a.scales.equals(b.scales) and b.seed == a.seed
    assert scales.reliability(df, "mastery", n_boot=50, seed=np.int64(4)).seed == 4
    assert scales.reliability(df, "mastery", n_boot=50, seed=np.random.default_rng(4)).seed is None


def test_progress_bar_only_when_asked(capsys):
    df = _data("mastery")
    scales.reliability(df, "mastery", n_boot=20, seed=1)
    assert capsys.readouterr().err == ""
    scales.reliability(df, "mastery", n_boot=20, seed=1, progress=True)
    assert "20/20" in capsys.readouterr().err
