"""Explicit missing-item rules (min_answered) and row accounting of the scorer.

Every expected value below is worked out by hand in the comment next to it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import MissingItemRuleWarning, SpecificationError

NAN = np.nan


def frame(prefix: str, rows: list[list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[f"{prefix}_{i:02d}" for i in range(1, len(rows[0]) + 1)], dtype=float)


def score_quietly(df, code, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingItemRuleWarning)
        return scales.score(df, code, **kwargs)


# --------------------------------------------------------------------------------------
# min_answered: values
# --------------------------------------------------------------------------------------

UWES_ROW = [5, 4, 3, NAN, 6, 2, 4, 2, 1]  # item 4 (vigour) missing


def test_default_requires_every_uwes_item():
    out = scales.score(frame("uwes", [UWES_ROW]), "uwes9")
    assert np.isnan(out.loc[0, "uwes9_vigour"]) and np.isnan(out.loc[0, "uwes9_total"])


def test_mean_scale_uses_the_mean_of_answered_items():
    out = score_quietly(frame("uwes", [UWES_ROW]), "uwes9", min_answered={"vigour": 2, "uwes9_total": 8})
    # vigour = items 1, 4, 8 = (5 + 2) / 2; dedication = items 2, 5, 7 = (4 + 6 + 4) / 3
    # absorption = items 3, 6, 9 = (3 + 2 + 1) / 3; total = 27 / 8 answered items
    assert out.loc[0, "uwes9_vigour"] == 3.5
    assert out.loc[0, "uwes9_dedication"] == pytest.approx(14 / 3)
    assert out.loc[0, "uwes9_absorption"] == 2.0
    assert out.loc[0, "uwes9_total"] == 3.375


def test_sum_scale_is_prorated_to_the_full_number_of_items():
    df = frame("mastery", [[1, 2, NAN, 4, 3, 3, 1], [1, 1, 1, 4, 1, 4, 1]])
    out = score_quietly(df, "mastery", min_answered=6)
    # reversed 1, 2, 3, 5, 7 (5 - x): 4 + 3 + . + 4 + 2 + 3 + 4 = 20 over 6 items -> 20 / 6 * 7
    assert out.loc[0, "mastery_total"] == pytest.approx(70 / 3)
    assert out.loc[1, "mastery_total"] == 28  # complete row: the plain sum, exactly
    assert out.attrs["missing_rule"]["mastery_total"]["aggregation"] == "prorated_sum"


def test_prorated_sum_then_the_definitions_transformation():
    out = score_quietly(frame("sdmq", [[0, 1, 2, 3, 4, 5, 0, 1, NAN]]), "sdmq9", min_answered=8)
    # 16 over 8 items -> 16 / 8 * 9 = 18 -> x 20/9 = 40
    assert out.loc[0, "sdmq9_raw"] == 18
    assert out.loc[0, "sdmq9_total"] == pytest.approx(40)


def test_fraction_is_rounded_up_per_subscale():
    df = frame("psoc", [[NAN] + [3] * 15])
    with pytest.warns(MissingItemRuleWarning) as caught:
        out = scales.score(df, "psoc", min_answered=0.9)
    rules = out.attrs["missing_rule"]
    # 0.9 x 9 = 8.1 -> 9; 0.9 x 7 = 6.3 -> 7; 0.9 x 16 = 14.4 -> 15
    assert [rules[f"psoc_{s}"]["min_answered"] for s in ("satisfaction", "efficacy", "total")] == [9, 7, 15]
    # only the total departs from the definition, so only the total is named in the warning
    message = str(caught[0].message)
    assert "psoc_total: prorated_sum with at least 15 of 16" in message and "psoc_efficacy" not in message
    assert "has no prorating rule" in message
    # satisfaction (all reversed, 7 - 3 = 4) = 36; efficacy misses item 1;
    # total = (36 + 6 x 3) / 15 x 16 = 57.6
    assert out.loc[0, "psoc_satisfaction"] == 36
    assert np.isnan(out.loc[0, "psoc_efficacy"])
    assert out.loc[0, "psoc_total"] == pytest.approx(57.6)


@pytest.mark.parametrize(
    ("fraction", "code", "column", "needed"),
    [
        (0.5, "uwes9", "uwes9_vigour", 2),  # 1.5 -> 2
        (1.0, "uwes9", "uwes9_total", 9),
        (0.01, "uwes9", "uwes9_total", 1),  # 0.09 -> 1
        (2 / 3, "uwes9", "uwes9_total", 6),
        (0.75, "kidscreen10", "kidscreen10_raw", 8),  # 7.5 -> 8
    ],
)
def test_fraction_counts(fraction, code, column, needed):
    prefix, n = {"uwes9": ("uwes", 9), "kidscreen10": ("kidscreen", 10)}[code]
    out = score_quietly(frame(prefix, [[3] * n]), code, min_answered=fraction)
    assert out.attrs["missing_rule"][column]["min_answered"] == needed


def test_sdq_keeps_rounding_and_a_stricter_rule_also_warns():
    row = [0] * 25
    for k, v in zip((3, 8, 13, 16, 24), (2, 1, NAN, NAN, 2)):  # emotional: 3 of 5 answered
        row[k - 1] = v
    df = frame("sdq", [row])
    assert scales.score(df, "sdq_parent").loc[0, "sdq_parent_emotional"] == 8  # 5 / 3 x 5 = 8.33 -> 8
    with pytest.warns(MissingItemRuleWarning, match="sdq_parent_emotional: prorated_sum with at least 4 of 5 items answered; the definition requires 3 of 5"):
        out = scales.score(df, "sdq_parent", min_answered={"emotional": 4})
    assert np.isnan(out.loc[0, "sdq_parent_emotional"])
    assert np.isnan(out.loc[0, "sdq_parent_total_difficulties"])  # a component is missing
    df.loc[0, "sdq_13"] = 2  # now 4 of 5: 7 / 4 x 5 = 8.75 -> 9 (rounding of the definition kept)
    assert score_quietly(df, "sdq_parent", min_answered={"emotional": 4}).loc[0, "sdq_parent_emotional"] == 9


def test_gas_minimum_goals():
    df = frame("gas", [[2, NAN, NAN], [1, 1, NAN]])
    out = score_quietly(df, "gas", min_answered=2)
    assert np.isnan(out.loc[0, "gas_tscore"])
    assert out.loc[1, "gas_tscore"] == pytest.approx(scales.gas_tscore([1, 1]))  # 50 + 20 / sqrt(2.6)


def test_the_definitions_own_rule_does_not_warn_and_default_is_unchanged():
    df = frame("uwes", [UWES_ROW, [3] * 9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default = scales.score(df, "uwes9")
        same = scales.score(df, "uwes9", min_answered={"vigour": 3, "total": None})
        explicit_none = scales.score(df, "uwes9", min_answered=None)
    pd.testing.assert_frame_equal(default, same)
    pd.testing.assert_frame_equal(default, explicit_none)
    assert not any(rule["departs_from_definition"] for rule in same.attrs["missing_rule"].values())


def test_mapping_keys_may_carry_the_prefix_of_wide_data():
    df = frame("uwes", [UWES_ROW]).add_prefix("t0_")
    out = score_quietly(df, "uwes9", prefix="t0_", min_answered={"t0_uwes9_vigour": 2})
    assert out.loc[0, "t0_uwes9_vigour"] == 3.5
    assert out.attrs["missing_rule"]["t0_uwes9_vigour"]["departs_from_definition"]


def test_several_instruments_share_one_int():
    fam = pd.concat([frame("mastery", [[1, 2, NAN, 4, 3, 3, 1]]), frame("sdmq", [[0, 1, 2, 3, 4, 5, 0, 1, NAN]])], axis=1)
    out = score_quietly(fam, ["mastery", "sdmq9"], min_answered=6)
    assert out.loc[0, "mastery_total"] == pytest.approx(70 / 3)
    assert out.loc[0, "sdmq9_raw"] == 18


# --------------------------------------------------------------------------------------
# min_answered: errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        (4, r"min_answered=4 for 'uwes9_vigour' is outside 1\.\.3"),
        (0, r"min_answered=0 for 'uwes9_vigour' is outside 1\.\.3"),
        ({"total": 10}, r"min_answered=10 for 'uwes9_total' is outside 1\.\.9"),
        ({"dedication": -1}, r"'uwes9_dedication' is outside 1\.\.3"),
        (1.5, r"fraction must lie in \(0, 1\].*int in 1\.\.3"),
        (0.0, r"fraction must lie in \(0, 1\]"),
        (True, "must be an int"),
        ("all", "must be an int"),
        ({"vigor": 2}, r"unknown subscale 'vigor'.*uwes9_vigour"),
    ],
)
def test_bad_min_answered_names_subscale_and_range(value, pattern):
    with pytest.raises(SpecificationError, match=pattern):
        scales.score(frame("uwes", [UWES_ROW]), "uwes9", min_answered=value)


def test_composite_cannot_take_min_answered():
    with pytest.raises(SpecificationError, match="'total_difficulties' is a composite.*components"):
        scales.score(frame("sdq", [[0] * 25]), "sdq_parent", min_answered={"total_difficulties": 3})


# --------------------------------------------------------------------------------------
# Row accounting: scored, not administered, too few items
# --------------------------------------------------------------------------------------


def test_accounting_splits_not_administered_from_too_few():
    # four rows: complete; 2 of 5 answered; none answered; 4 of 5 answered (collab needs 4)
    df = frame("collab", [[4] * 5, [4, 4, NAN, NAN, NAN], [NAN] * 5, [1, 2, 3, 4, NAN]])
    out = scales.score(df, "collab")
    assert out.attrs["n_scored"] == {"collab_mean": 2}
    assert out.attrs["n_not_administered"] == {"collab_mean": 1}
    assert out.attrs["n_too_few"] == {"collab_mean": 1}
    assert out.attrs["n_insufficient"] == {"collab_mean": 2}  # unchanged meaning: both together
    table = scales.row_accounting(out)
    assert table.loc["collab_mean", ["n_rows", "n_scored", "n_not_administered", "n_too_few"]].tolist() == [4, 2, 1, 1]
    assert table.loc["collab_mean", ["min_answered", "of", "aggregation"]].tolist() == [4, 5, "mean"]


def test_accounting_of_composites():
    rows = []
    full = [1] * 25
    rows.append(full)
    no_emotional = list(full)
    for k in (3, 8, 13, 16, 24):
        no_emotional[k - 1] = NAN  # emotional not administered; the total lacks a component
    rows.append(no_emotional)
    only_prosocial = [NAN] * 25
    for k in (1, 4, 9, 17, 20):
        only_prosocial[k - 1] = 1  # no difficulty item answered at all
    rows.append(only_prosocial)
    out = scales.score(frame("sdq", rows), "sdq_parent")
    acc = scales.row_accounting(out)
    assert acc.loc["sdq_parent_emotional", ["n_scored", "n_not_administered", "n_too_few"]].tolist() == [1, 2, 0]
    assert acc.loc["sdq_parent_total_difficulties", ["n_scored", "n_not_administered", "n_too_few"]].tolist() == [1, 1, 1]
    assert acc.loc["sdq_parent_prosocial", ["n_scored", "n_not_administered", "n_too_few"]].tolist() == [3, 0, 0]
    assert acc.loc["sdq_parent_total_difficulties", ["min_answered", "of", "aggregation"]].tolist() == [4, 4, "sum of scores"]


def test_accounting_on_the_synthetic_study_covers_every_row():
    root = Path(__file__).resolve().parents[2] / "data" / "synthetic"
    fam = pd.read_csv(root / "families.csv")
    codes = ["sdq_parent", "psoc", "mastery", "support", "sdmq9", "gas", "kidscreen10"]
    default = scales.score(fam, codes)
    acc = scales.row_accounting(default)
    assert (acc["n_rows"] == len(fam)).all()
    for column in acc.index:
        assert acc.loc[column, "n_scored"] == default[column].notna().sum()
        assert default.attrs["n_insufficient"][column] == acc.loc[column, ["n_not_administered", "n_too_few"]].sum()
    # no SDQ item answered (ages outside 4-17) is 'not administered', not 'too few'
    no_sdq = fam[[f"sdq_{i:02d}" for i in range(1, 26)]].isna().all(axis=1).sum()
    assert acc.loc["sdq_parent_total_difficulties", "n_not_administered"] == no_sdq > 0
    # the requested relaxation scores more rows and moves only 'too few' rows
    relaxed = scales.row_accounting(score_quietly(fam, ["psoc", "mastery"], min_answered=0.5))
    for column in ("psoc_total", "mastery_total"):
        assert relaxed.loc[column, "n_scored"] > acc.loc[column, "n_scored"]
        assert relaxed.loc[column, "n_not_administered"] == acc.loc[column, "n_not_administered"]


def test_row_accounting_needs_a_score_result():
    with pytest.raises(SpecificationError, match=r"no row accounting.*scales\.score\(\)"):
        scales.row_accounting(pd.DataFrame({"x": [1]}))
