"""Cut-off bands: scales.classify with the bands stored in the definitions.

Expected bands are read off the youthinmind three-band parent cut-offs by hand
(total difficulties 0-13 / 14-16 / 17-40; prosocial 6-10 / 5 / 0-4, the other way round).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError

TOTAL = "sdq_parent_total_difficulties"


def test_total_difficulties_band_limits_are_inclusive():
    scores = pd.DataFrame({TOTAL: [0, 13, 14, 16, 17, 40, np.nan]}, index=list("abcdefg"))
    result = scales.classify(scores, "sdq_parent", lang="en")
    band = result.bands[f"{TOTAL}_band"]
    assert band.index.equals(scores.index)
    assert band.tolist()[:6] == ["normal", "normal", "borderline", "borderline", "abnormal", "abnormal"]
    assert pd.isna(band["g"])
    assert band.cat.ordered and band.cat.categories.tolist() == ["normal", "borderline", "abnormal"]
    assert result.norm == "uk_original" and result.lang == "en"
    assert "Goodman" in result.sources[TOTAL]


def test_prosocial_bands_run_the_other_way_but_keep_the_order():
    scores = pd.DataFrame({"sdq_parent_prosocial": [10, 6, 5, 4, 0]})
    band = scales.classify(scores, "sdq_parent").bands["sdq_parent_prosocial_band"]
    assert band.tolist() == ["normaal", "normaal", "grensgebied", "afwijkend", "afwijkend"]
    # ordered from the most favourable band: a prosocial score of 4 is worse than one of 6
    assert (band > "normaal").tolist() == [False, False, True, True, True]


def test_scored_items_end_to_end():
    # the definition's test vectors: all 0 and all 2 (reverse keys give 2 on items 7, 11, 14, 21, 25)
    items = pd.DataFrame([[0] * 25, [2] * 25], columns=[f"sdq_{i:02d}" for i in range(1, 26)])
    result = scales.classify(scales.score(items, "sdq_parent"), "sdq_parent", lang="en")
    got = {column.removeprefix("sdq_parent_").removesuffix("_band"): result.bands[column].tolist()
           for column in result.bands}
    # all 0: emotional 0, conduct 2, hyperactivity 4, peer 4, prosocial 0, total 10
    # all 2: emotional 10, conduct 8, hyperactivity 6, peer 6, prosocial 10, total 30
    assert got == {
        "total_difficulties": ["normal", "abnormal"],
        "emotional": ["normal", "abnormal"],
        "conduct": ["normal", "abnormal"],
        "hyperactivity": ["normal", "borderline"],
        "peer": ["abnormal", "abnormal"],
        "prosocial": ["abnormal", "normal"],
    }
    # externalising / internalising have no bands and are not classified
    assert "sdq_parent_externalising_band" not in result.bands


def test_proportion_table():
    scores = pd.DataFrame({TOTAL: [2, 9, 15, 20, 25, np.nan, 13, 14]})
    table = scales.classify(scores, "sdq_parent").proportions
    # 7 scored: normal 2, 9, 13 -> 3; borderline 15, 14 -> 2; abnormal 20, 25 -> 2
    assert table["band"].tolist() == ["normaal", "grensgebied", "afwijkend"]
    assert table["n"].tolist() == [3, 2, 2]
    np.testing.assert_allclose(table["proportion"], [3 / 7, 2 / 7, 2 / 7])
    assert table["n_scored"].tolist() == [7] * 3 and table["n_missing"].tolist() == [1] * 3
    assert table[["min", "max"]].to_numpy().tolist() == [[0, 13], [14, 16], [17, 40]]


def test_prefix_and_series_input():
    wide = pd.Series([3, 16], name=f"t0_{TOTAL}")
    band = scales.classify(wide, "sdq_parent", prefix="t0_").bands[f"t0_{TOTAL}_band"]
    assert band.tolist() == ["normaal", "grensgebied"]


def test_synthetic_study_proportions_add_up():
    fam = pd.read_csv(Path(__file__).resolve().parents[2] / "data" / "synthetic" / "families.csv")
    scores = scales.score(fam, "sdq_parent")
    result = scales.classify(scores, "sdq_parent")
    assert len(result.bands.columns) == 6
    for column, part in result.proportions.groupby("score"):
        assert part["proportion"].sum() == pytest.approx(1)
        assert part["n_scored"].iloc[0] == scores[column].notna().sum()
        assert part["n_missing"].iloc[0] == scores[column].isna().sum()
        counts = result.bands[f"{column}_band"].value_counts(sort=False)
        assert counts.tolist() == part["n"].tolist()


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"code": "uwes9"}, SpecificationError, r"'uwes9' has no cut-off bands.*with bands: sdq_parent"),
        ({"norm": "nl_2018"}, SpecificationError, r"no norm 'nl_2018'; its norms: uk_original"),
        ({"lang": "de"}, SpecificationError, r"lang='de' is not a report language; use 'nl'"),
    ],
)
def test_bad_arguments(kwargs, error, pattern):
    scores = pd.DataFrame({TOTAL: [3]})
    args = {"code": "sdq_parent"} | kwargs
    with pytest.raises(error, match=pattern):
        scales.classify(scores, **args)


def test_bad_scores():
    with pytest.raises(DataError, match=r"values \[13\.5, 41\.0\] in rows 1, 2 fall in no band.*normal 0-13"):
        scales.classify(pd.DataFrame({TOTAL: [3, 13.5, 41]}), "sdq_parent")
    with pytest.raises(DataError, match=r"none of the columns with bands.*prefix="):
        scales.classify(pd.DataFrame({"uwes9_total": [3]}), "sdq_parent")
    with pytest.raises(DataError, match="not numeric"):
        scales.classify(pd.DataFrame({TOTAL: ["normaal"]}), "sdq_parent")


KEY = """
code: my_scale
name: {nl: mijn schaal, en: my scale}
construct: example
items: {prefix: my, n: 2}
response: {min: 0, max: 3}
scores: {total: {items: all, aggregation: sum}}
cutoffs:
  - score: total
    norm: manual
    source: manual table 1
    bands: [{label: low, label_nl: laag, min: 0, max: 3}, {label: high, label_nl: hoog, min: 4, max: 6}]
  - score: total
    norm: strict
    source: manual table 2
    bands: [{label: low, min: 0, max: 1}, {label: high, min: 2, max: 6}]
citation: own
licence: own
verified: {status: true, source: own}
goals: [1]
test_vectors: [{items: [1, 3], expected: {total: 4}}]
"""


def _load(tmp_path, text):
    path = tmp_path / "key.yaml"
    path.write_text(textwrap.dedent(text))
    return scales.load(path)


def test_user_key_with_two_norms(tmp_path):
    inst = _load(tmp_path, KEY)
    assert inst.norms() == ("manual", "strict")
    scores = scales.score(pd.DataFrame({"my_01": [1, 0], "my_02": [3, 1]}), inst)  # totals 4 and 1
    assert scales.classify(scores, inst).bands["my_scale_total_band"].tolist() == ["hoog", "laag"]
    strict = scales.classify(scores, inst, "strict")
    assert strict.bands["my_scale_total_band"].tolist() == ["high", "low"]  # no label_nl: English labels
    assert strict.sources == {"my_scale_total": "manual table 2"}


@pytest.mark.parametrize(
    ("old", "new", "pattern"),
    [
        ("min: 4, max: 6}]\n  - score", "min: 3, max: 6}]\n  - score", r"bands 'low' and 'high' overlap"),
        ("{label: low, min: 0, max: 1}", "{label: low, min: 2, max: 1}", r"min 2\.0 above max 1\.0"),
        ("norm: strict", "norm: manual", r"two sets of bands for norm 'manual'"),
        ("norm: strict", "norm: Strict Norm", r"'Strict Norm' is not a lower-case identifier"),
        ("{label: high, min: 2, max: 6}", "{label: low, min: 2, max: 6}", "a band label occurs twice"),
        ("{label: high, min: 2, max: 6}", "{label: high, lable_nl: hoog, min: 2, max: 6}", "bad band"),
    ],
)
def test_malformed_bands_are_rejected(tmp_path, old, new, pattern):
    assert old in KEY
    with pytest.raises(SpecificationError, match=pattern):
        _load(tmp_path, KEY.replace(old, new))
