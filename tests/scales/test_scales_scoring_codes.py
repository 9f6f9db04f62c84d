"""The integer-code scorer against the float scorer it replaces: the same numbers, bit for bit.

``score()`` checks and keys the items as small integer codes (one row per item) and adds
them as integers; ``_score_instrument`` on the float block is the straightforward float
version it replaced and still scores ranges too wide for int32. These tests hold the two
to identical output (values, NaN positions, sign of zero, row accounting) and check that
the fast range check misses no bad response, wherever in the frame it sits.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.scales import scoring

SHIPPED = list(scales.available()["code"])


def _items(inst, n, seed, p_missing=0.2):
    rng = np.random.default_rng(seed)
    x = rng.integers(inst.response_min, inst.response_max + 1, size=(n, len(inst.items))).astype(float)
    x[rng.random(x.shape) < p_missing] = np.nan
    x[: len(inst.items) + 1] = np.nan  # some rows with few or no items answered
    for k in range(len(inst.items)):
        x[k, : k + 1] = inst.response_max
    return pd.DataFrame(x, columns=list(inst.items))


def _both(df, inst, needed):
    """(integer-code scores, float scores) for one instrument, as output-name -> array."""
    columns, arrays = scoring._item_arrays(df, inst, "", None)
    coded = scoring._coded_block(arrays, inst)
    assert coded is not None
    out = np.empty((len(inst.scores) + 1, len(df)))
    info_fast = scoring._score_coded(*coded, inst, out, needed)
    values, info_float = scoring._score_instrument(scoring._float_block(arrays, columns, inst, df.index), inst, needed)
    names = (*inst.score_names(), "n_answered")
    return dict(zip(names, out)), values, info_fast, info_float


def _same_bits(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(
        np.where(np.isnan(a), 0.0, a).view(np.int64), np.where(np.isnan(b), 0.0, b).view(np.int64)
    )


@pytest.mark.parametrize("code", SHIPPED)
@pytest.mark.parametrize("rule", ["definition", "one", "half", "all"])
def test_integer_codes_give_the_float_scorers_numbers_bit_for_bit(code, rule):
    inst = scales.get(code)
    df = _items(inst, 3_000, seed=len(code))
    item_scores = [s for s in inst.scores if s.items]
    needed = {
        "definition": {},
        "one": {s.name: 1 for s in item_scores},
        "half": {s.name: max(1, len(s.items) // 2) for s in item_scores},
        "all": {s.name: len(s.items) for s in item_scores},
    }[rule]
    fast, slow, info_fast, info_slow = _both(df, inst, needed)
    for name in fast:
        assert _same_bits(fast[name], slow[name]), name
    assert info_fast == info_slow
    # the counts are real: some rows scored, some not administered, some with too few
    total = {k: sum(i[k] for i in info_fast.values()) for k in ("n_scored", "n_not_administered")}
    assert total["n_scored"] > 0 and total["n_not_administered"] > 0


def test_transformation_rounding_and_sums_over_fewer_items_match_too():
    # a key with every float step: sum prorated over fewer items, a transformation with a
    # negative factor and rounding, and a composite mean of the transformed parts
    base = scales.get("mastery")
    scores = (
        scales.Score("a", "sum", items=base.items[:4], min_answered=2, multiply=-20 / 9, add=0.0, rounding=1),
        scales.Score("b", "mean", items=base.items[3:], min_answered=1, multiply=1.5, add=-3.25, rounding=0),
        scales.Score("c", "prorated_sum", items=base.items, min_answered=5, rounding=2),
        scales.Score("ab", "mean", of_scores=("a", "b")),
        scales.Score("abc", "sum", of_scores=("a", "b", "c"), rounding=0),
        scales.Score("b_again", "sum", of_scores=("b",)),  # -0.0 + 0.0 = 0.0, as the float scorer
    )
    inst = dataclasses.replace(base, code="mix", scores=scores, reverse=base.items[1:3])
    fast, slow, info_fast, info_slow = _both(_items(inst, 5_000, seed=3, p_missing=0.3), inst, {})
    for name in fast:
        assert _same_bits(fast[name], slow[name]), name
        assert np.isfinite(fast[name]).any(), name
    assert info_fast == info_slow
    assert (np.signbit(fast["b"]) & (fast["b"] == 0)).any()  # -0.0 from rounding -0.25, into the composites


@pytest.mark.parametrize("parts", [1, 2, 3, 5, 7])
def test_composites_add_left_to_right_as_numpys_row_sum(parts):
    # the float scorer summed np.column_stack(components) along rows; _combine adds the
    # components one after the other, the same order for fewer than eight components
    rng = np.random.default_rng(parts)
    comps = [rng.normal(size=2_000) * 10.0 ** rng.integers(-3, 4) for _ in range(parts)]
    comps[0][::7] = np.nan
    stacked = np.column_stack(comps)
    total, short = scoring._combine(comps, "sum")
    mean, _ = scoring._combine(comps, "mean")
    assert _same_bits(total, stacked.sum(axis=1))
    assert _same_bits(mean, stacked.mean(axis=1))
    assert np.array_equal(short, np.isnan(stacked).any(axis=1))


@pytest.mark.parametrize("bad", [2.5, 3.0, 200.0, -1.0, 1e20, np.inf, -np.inf, 0.5])
def test_a_bad_response_in_a_late_stretch_is_found_and_named(bad):
    # 0..2 codes; the bad value sits in the last stretch of rows, after several clean ones
    n = 3 * scoring._CHUNK + 17
    df = pd.DataFrame(np.zeros((n, 25)), columns=[f"sdq_{i:02d}" for i in range(1, 26)])
    df.iloc[n - 2, 20] = bad  # sdq_21, a reversed item
    with pytest.raises(DataError, match=rf"'sdq_21': values \[{re.escape(repr(bad))}\] in rows {n - 2}\."):
        scales.score(df, "sdq_parent")


def test_minus_zero_and_integer_columns_are_valid_codes():
    df = _items(scales.get("sdq_parent"), 200, seed=4)
    signed = df.mask(df == 0, -0.0)
    assert np.signbit(signed.to_numpy()).any()
    pd.testing.assert_frame_equal(scales.score(signed, "sdq_parent"), scales.score(df, "sdq_parent"), check_exact=True)
    collab = pd.DataFrame({f"collab_{i:02d}": [-0.0, 1.0, 5.0] for i in range(1, 6)})
    with pytest.raises(DataError, match="outside the integer codes 1..5"):
        scales.score(collab, "collab")  # -0.0 is 0, below 1
    collab.iloc[0] = 3
    assert scales.score(collab.astype("int16"), "collab")["collab_mean"].tolist() == [3.0, 1.0, 5.0]


def test_ranges_too_wide_for_int32_take_the_float_scorer():
    base = scales.get("collab")
    wide = dataclasses.replace(base, code="wide", response_min=0, response_max=2**40)
    assert scoring._coded_block([np.zeros(3)] * 5, wide) is None
    df = pd.DataFrame({item: [2.0**39, 0.0, np.nan] for item in base.items})
    df.iloc[1, :3] = [1.0, 2.0, 3.0]
    out = scales.score(df, wide)
    assert out["wide_mean"].tolist()[:2] == [2.0**39, 1.2]
    assert np.isnan(out["wide_mean"].iloc[2])
    with pytest.raises(DataError, match=r"'collab_01': values \[1099511627777\.0\]"):
        scales.score(df.assign(collab_01=[2.0**40 + 1, 0, 0]), wide)


def test_int16_codes_for_a_range_beyond_int8():
    base = scales.get("collab")
    vas = dataclasses.replace(base, code="vas", response_min=0, response_max=1000, reverse=base.items[:1])
    df = pd.DataFrame({item: [1000.0, 999.0, np.nan] for item in base.items})
    codes, answered = scoring._coded_block(scoring._item_arrays(df, vas, "", None)[1], vas)
    assert codes.dtype == np.int16
    assert codes[:, 2].tolist() == [0] * 5 and answered[:, 2].tolist() == [False] * 5
    out = scales.score(df, vas)
    assert out["vas_mean"].tolist()[:2] == [(0 + 4 * 1000) / 5, (1 + 4 * 999) / 5]


def test_float_columns_in_output_order_and_each_instrument_as_alone():
    df = _items(scales.get("sdq_parent"), 50, seed=1).join(_items(scales.get("uwes9"), 50, seed=2))
    out = scales.score(df, ["uwes9", "sdq_parent"])
    assert list(out.columns) == [f"uwes9_{n}" for n in (*scales.get("uwes9").score_names(), "n_answered")] + [
        f"sdq_parent_{n}" for n in (*scales.get("sdq_parent").score_names(), "n_answered")
    ]
    assert (out.dtypes == np.float64).all()
    for name in ("uwes9", "sdq_parent"):
        alone = scales.score(df, name)
        pd.testing.assert_frame_equal(out[alone.columns], alone, check_exact=True)


def test_output_columns_that_would_clash_are_refused():
    base = scales.get("collab")
    first = dataclasses.replace(base, code="a", scores=(dataclasses.replace(base.scores[0], name="b_mean"),))
    second = dataclasses.replace(base, code="a_b")
    df = _items(base, 10, seed=1)
    with pytest.raises(SpecificationError, match=r"output column\(s\) \['a_b_mean'\] more than once"):
        scales.score(df, [first, second])
