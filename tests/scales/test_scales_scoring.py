"""The scorer: published SDQ algorithm, alignment, missing-item rules and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError

SDQ_SUBSCALES = {
    "emotional": (3, 8, 13, 16, 24),
    "conduct": (5, 7, 12, 18, 22),
    "hyperactivity": (2, 10, 15, 21, 25),
    "peer": (6, 11, 14, 19, 23),
    "prosocial": (1, 4, 9, 17, 20),
}
SDQ_POSITIVE = (7, 11, 14, 21, 25)


def sdq_by_hand(row: list[float | None]) -> dict[str, float]:
    """The youthinmind SPSS syntax, one respondent at a time (independent of the YAML).

    ``rnd(mean.3(items) * 5)`` per subscale, RND rounding half away from zero; total =
    sum of the four difficulty subscales (missing if any is missing).
    """
    out = {}
    for name, numbers in SDQ_SUBSCALES.items():
        vals = []
        for k in numbers:
            v = row[k - 1]
            if v is not None:
                vals.append(2 - v if k in SDQ_POSITIVE else v)
        out[name] = math.floor(sum(vals) / len(vals) * 5 + 0.5) if len(vals) >= 3 else math.nan
    out["total_difficulties"] = sum(out[k] for k in ("emotional", "conduct", "hyperactivity", "peer"))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0, 1, 2, None]), min_size=25, max_size=25), min_size=1, max_size=30))
def test_sdq_matches_published_algorithm(rows):
    df = pd.DataFrame([[np.nan if v is None else v for v in r] for r in rows],
                      columns=[f"sdq_{i:02d}" for i in range(1, 26)], dtype=float)
    out = scales.score(df, "sdq_parent")
    for k, r in enumerate(rows):
        expected = sdq_by_hand(r)
        for name, value in expected.items():
            got = out.iloc[k][f"sdq_parent_{name}"]
            assert (math.isnan(value) and math.isnan(got)) or got == value
        assert out.iloc[k]["sdq_parent_n_answered"] == sum(v is not None for v in r)


def test_prorating_rounds_half_away_from_zero():
    # conduct with 4 answered: raw 2 -> 2 / 4 * 5 = 2.5 -> 3 (SPSS RND), not 2 (banker's)
    row = {f"sdq_{i:02d}": 0 for i in range(1, 26)}
    row.update(sdq_05=1, sdq_07=1, sdq_12=0, sdq_18=0, sdq_22=np.nan)
    out = scales.score(pd.DataFrame([row]), "sdq_parent")
    assert out.loc[0, "sdq_parent_conduct"] == 3


def test_output_aligned_with_index_and_counts_insufficient_rows():
    df = pd.DataFrame(
        {f"collab_{i:02d}": [4, 4, np.nan, 1] for i in range(1, 6)}, index=pd.Index([10, 3, 7, 99], name="id")
    )
    df.loc[3, ["collab_01", "collab_02"]] = np.nan  # 3 of 5 answered < 4
    out = scales.score(df, "collab")
    assert out.index.equals(df.index)
    assert list(out.columns) == ["collab_mean", "collab_n_answered"]
    assert out["collab_mean"].tolist()[0] == 4 and out["collab_mean"].tolist()[3] == 1
    assert out["collab_mean"].isna().tolist() == [False, True, True, False]
    assert out["collab_n_answered"].tolist() == [5, 3, 0, 5]
    assert out.attrs["n_insufficient"] == {"collab_mean": 2}


def test_several_instruments_and_prefix():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(rng.integers(0, 7, size=(4, 9)), columns=[f"t1_uwes_{i:02d}" for i in range(1, 10)])
    df[[f"t1_mastery_{i:02d}" for i in range(1, 8)]] = rng.integers(1, 5, size=(4, 7))
    out = scales.score(df, ["uwes9", "mastery"], prefix="t1_")
    assert list(out.columns) == [
        "t1_uwes9_vigour", "t1_uwes9_dedication", "t1_uwes9_absorption", "t1_uwes9_total",
        "t1_uwes9_n_answered", "t1_mastery_total", "t1_mastery_n_answered",
    ]
    vigour = df[["t1_uwes_01", "t1_uwes_04", "t1_uwes_08"]].mean(axis=1)
    np.testing.assert_allclose(out["t1_uwes9_vigour"], vigour)
    raw = df[[f"t1_mastery_{i:02d}" for i in range(1, 8)]].to_numpy()
    keyed = raw.copy()
    keyed[:, [0, 1, 2, 4, 6]] = 5 - raw[:, [0, 1, 2, 4, 6]]
    np.testing.assert_array_equal(out["t1_mastery_total"], keyed.sum(axis=1))


def test_sdmq9_transformation_and_gas_tscore_column():
    df = pd.DataFrame({f"sdmq_{i:02d}": [3] for i in range(1, 10)})
    assert scales.score(df, "sdmq9").loc[0, "sdmq9_total"] == pytest.approx(27 * 20 / 9)
    gas = pd.DataFrame({"gas_01": [1, -2], "gas_02": [1, np.nan], "gas_03": [1, 0]})
    t = scales.score(gas, "gas")["gas_tscore"]
    np.testing.assert_allclose(t, [scales.gas_tscore([1, 1, 1]), scales.gas_tscore([-2, 0])])


def test_out_of_range_lists_item_values_and_rows():
    df = pd.DataFrame({f"sdq_{i:02d}": [0] * 8 for i in range(1, 26)}, index=[f"r{k}" for k in range(8)])
    df["sdq_04"] = [0, 3, 9, 1, 3, 3, 3, 3]
    df["sdq_17"] = [0.5, 0, 0, 0, 0, 0, 0, 0]
    with pytest.raises(DataError) as info:
        scales.score(df, "sdq_parent")
    msg = str(info.value)
    assert "'sdq_04': values [3.0, 9.0] in rows 'r1', 'r2', 'r4', 'r5', 'r6' (and 1 more)" in msg
    assert "'sdq_17': values [0.5] in rows 'r0'" in msg
    assert "0..2" in msg and "missing" in msg


def test_text_labels_rejected_or_mapped():
    df = pd.DataFrame({f"collab_{i:02d}": ["nooit", "soms", "vaak"] for i in range(1, 6)})
    with pytest.raises(DataError, match=r"column 'collab_01' holds text.*\['nooit', 'soms', 'vaak'\].*value_labels"):
        scales.score(df, "collab")
    out = scales.score(df, "collab", value_labels={"nooit": 1, "soms": 3, "vaak": 5})
    assert out["collab_mean"].tolist() == [1, 3, 5]
    df.loc[1, "collab_03"] = "weet niet"
    with pytest.raises(DataError, match=r"'weet niet'.*rows 1"):
        scales.score(df, "collab", value_labels={"nooit": 1, "soms": 3, "vaak": 5})


def test_numeric_strings_and_nullable_ints_are_accepted():
    df = pd.DataFrame({f"support_{i:02d}": ["1", "5", None] for i in range(1, 6)})
    df["support_02"] = pd.array([1, 5, None], dtype="Int64")
    out = scales.score(df, "support")
    assert out["support_mean"].tolist()[:2] == [1, 5] and np.isnan(out["support_mean"].iloc[2])


def test_missing_columns_and_unknown_code():
    df = pd.DataFrame({"uwes_01": [1]})
    with pytest.raises(DataError, match=r"'uwes9'.*'uwes_02'.*8 of 9 missing.*prefix="):
        scales.score(df, "uwes9")
    with pytest.raises(SpecificationError, match="unknown instrument 'uwes'"):
        scales.score(df, "uwes")


def test_scores_the_synthetic_study():
    fam = pd.read_csv(Path(__file__).resolve().parents[2] / "data" / "synthetic" / "families.csv")
    out = scales.score(fam, ["sdq_parent", "psoc", "mastery", "support", "sdmq9", "gas"])
    assert out.index.equals(fam.index)
    answered_all = fam[[f"sdq_{i:02d}" for i in range(1, 26)]].notna().all(axis=1)
    total = out["sdq_parent_total_difficulties"]
    assert total[answered_all].between(0, 40).all() and total[answered_all].notna().all()
    # families without an SDQ (age bands outside 4-17) get no score and are counted
    assert out.attrs["n_insufficient"]["sdq_parent_total_difficulties"] == int(total.isna().sum()) > 0
    # reverse keys right: satisfaction and efficacy correlate positively
    assert out["psoc_satisfaction"].corr(out["psoc_efficacy"]) > 0.2


def test_duplicate_codes_and_columns_rejected():
    df = pd.DataFrame({f"support_{i:02d}": [3] for i in range(1, 6)})
    with pytest.raises(SpecificationError, match="repeat"):
        scales.score(df, ["support", "support"])
    doubled = pd.concat([df, df[["support_02"]]], axis=1)
    with pytest.raises(DataError, match=r"\['support_02'\] occur more than once"):
        scales.score(doubled, "support")
