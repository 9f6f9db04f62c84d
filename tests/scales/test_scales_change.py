"""Reliable change, clinical cut-offs and GAS T-scores on hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError


def test_gas_examples_from_the_issue():
    # 50 + 10 * 3 / sqrt(0.7 * 3 + 0.3 * 9) = 50 + 30 / sqrt(4.8)
    assert scales.gas_tscore([1, 1, 1]) == pytest.approx(63.69, abs=0.005)
    # sum wx = 7; 0.7 * 91 + 0.3 * 21^2 = 196; 50 + 70 / 14
    assert scales.gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6]) == pytest.approx(55.0, abs=1e-12)


def test_gas_rows_missing_goals_and_rho_zero():
    df = pd.DataFrame({"g1": [0, 2, np.nan], "g2": [0, np.nan, np.nan]}, index=["a", "b", "c"])
    t = scales.gas_tscore(df)
    assert t.index.equals(df.index)
    assert t["a"] == 50 and t["b"] == pytest.approx(70) and math.isnan(t["c"])
    # rho = 0: T = 50 + 10 * sum(x) / sqrt(k)
    assert scales.gas_tscore([2, 2, 2, 2], rho=0) == pytest.approx(50 + 10 * 8 / 2)


def test_gas_bad_input():
    with pytest.raises(DataError, match=r"-2\.\.2"):
        scales.gas_tscore([3, 0])
    with pytest.raises(SpecificationError, match="weights must be 2 positive numbers"):
        scales.gas_tscore([1, 0], weights=[1, 0])
    with pytest.raises(SpecificationError, match="rho"):
        scales.gas_tscore([1, 0], rho=1)


def test_reliable_change_hand_worked():
    # S_diff = sqrt(2) * 10 * sqrt(1 - 0.84) = 10 * sqrt(0.32) = 5.65685
    pre = pd.Series([30, 30, 30, 30, 22, np.nan], index=list("abcdef"))
    post = pd.Series([18, 25, 42, 27, 10, 20], index=list("abcdef"))
    out = scales.reliable_change(pre, post, sd_pre=10, reliability=0.84, cutoff=24)
    s_diff = 10 * math.sqrt(0.32)
    np.testing.assert_allclose(out["rci"].iloc[:5], np.array([-12, -5, 12, -3, -12]) / s_diff)
    # e: improved, but already on the functional side of the cut-off before
    assert out["classification"].tolist()[:5] == ["recovered", "unchanged", "deteriorated", "unchanged", "improved"]
    assert pd.isna(out["classification"].iloc[5]) and math.isnan(out["rci"].iloc[5])  # f: no pre score
    assert out.index.equals(pre.index)


def test_reliable_change_higher_is_better():
    out = scales.reliable_change([40, 40], [55, 45], sd_pre=8, reliability=0.9, cutoff=50, direction="higher_is_better")
    # S_diff = sqrt(2) * 8 * sqrt(0.1) = 3.5777; 15 / 3.58 = 4.19 recovered; 5 / 3.58 = 1.40 unchanged
    assert out["classification"].tolist() == ["recovered", "unchanged"]


def test_reliable_change_bad_arguments():
    with pytest.raises(SpecificationError, match="reliability must lie in"):
        scales.reliable_change([1], [2], sd_pre=1, reliability=1.2)
    with pytest.raises(SpecificationError, match="direction"):
        scales.reliable_change([1], [2], sd_pre=1, reliability=0.8, direction="down")
    with pytest.raises(DataError, match="paired"):
        scales.reliable_change([1, 2], [2], sd_pre=1, reliability=0.8)


def test_clinical_cutoffs_both_directions():
    c = scales.clinical_cutoffs(mean_clin=20, sd_clin=5, mean_norm=10, sd_norm=4)
    assert (c.a, c.b) == (10, 18)
    assert c.c == pytest.approx((5 * 10 + 4 * 20) / 9)
    up = scales.clinical_cutoffs(mean_clin=30, sd_clin=6, mean_norm=50, sd_norm=10)
    assert (up.a, up.b, up.c) == (42, 30, pytest.approx((6 * 50 + 10 * 30) / 16))
    with pytest.raises(SpecificationError, match="distinct"):
        scales.clinical_cutoffs(1, 1, 1, 1)
