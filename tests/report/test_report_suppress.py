"""Small-cell suppression (primary and secondary), the identifier guard, pseudonyms."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.suppress import (
    SUPPRESSED,
    assert_no_identifiers,
    pseudonymise,
    suppress_small_cells,
)


def _hidden_per_group(mask: pd.DataFrame, axis: int) -> list[int]:
    return mask.sum(axis=axis).tolist()


def test_primary_suppression_only_without_margins():
    counts = pd.DataFrame({"a": [10, 4, 0], "b": [2, 7, 5]}, index=["x", "y", "z"])
    s = suppress_small_cells(counts, counts, k=5)
    assert s.cells == [("x", "b"), ("y", "a")]
    assert s.primary == s.cells
    assert s.table.loc["x", "b"] == SUPPRESSED and s.table.loc["y", "a"] == SUPPRESSED
    # zero is a structural empty cell, k itself is allowed
    assert s.table.loc["z", "a"] == 0 and s.table.loc["z", "b"] == 5
    assert "5" in s.footnote_nl and "minder dan 5" in s.footnote("nl")
    assert "fewer than 5" in s.footnote("en")


def test_nothing_to_suppress_gives_no_footnote():
    counts = pd.DataFrame({"a": [10, 0], "b": [6, 7]})
    s = suppress_small_cells(counts, counts, k=5, margins="both")
    assert s.cells == [] and not s.mask.to_numpy().any()
    assert s.footnote_nl == "" and s.footnote_en == ""
    assert s.table.equals(counts.astype(object))


def test_k_is_configurable():
    counts = pd.DataFrame({"a": [8, 12]})
    assert suppress_small_cells(counts, counts, k=5).cells == []
    assert suppress_small_cells(counts, counts, k=10).cells == [(0, "a")]


def test_secondary_suppression_protects_a_row_total():
    # Families per SES group (rows) and organisation type (columns), with a total column.
    counts = pd.DataFrame(
        {"local": [12, 8], "provider": [3, 9], "specialist": [20, 10], "total": [35, 27]},
        index=["low", "high"],
    )
    without = suppress_small_cells(counts, counts, k=5)
    # Primary suppression alone leaves the 3 recoverable: 35 - 12 - 20 = 3.
    row = counts.loc["low"]
    shown = [v for c, v in row.items() if c != "total" and not without.mask.loc["low", c]]
    assert row["total"] - sum(shown) == 3

    s = suppress_small_cells(counts, counts, k=5, margins="rows")
    assert s.primary == [("low", "provider")]
    assert s.cells == [("low", "provider"), ("low", "local")]  # the next-smallest cell
    assert s.table.loc["low", "total"] == 35
    assert all(n != 1 for n in _hidden_per_group(s.mask, axis=1))


def test_secondary_suppression_iterates_over_rows_and_columns():
    counts = pd.DataFrame(
        {"c1": [3, 15, 20, 38], "c2": [10, 12, 25, 47], "c3": [20, 30, 8, 58], "total": [33, 57, 53, 143]},
        index=["r1", "r2", "r3", "total"],
    )
    s = suppress_small_cells(counts, counts, k=5, margins="both")
    assert set(s.cells) == {("r1", "c1"), ("r1", "c2"), ("r2", "c1"), ("r2", "c2")}
    assert s.cells[0] == ("r1", "c1")
    for axis in (0, 1):
        assert all(n != 1 for n in _hidden_per_group(s.mask, axis=axis))
    # the totals stay visible
    assert not s.mask["total"].any() and not s.mask.loc["total"].any()


def test_zero_cells_are_not_used_for_secondary_suppression():
    # Stepped wedge at T0: nobody has the offer yet; that zero reveals no one.
    counts = pd.DataFrame({"without": [2859, 40], "with": [0, 3]}, index=["T0", "T1"])
    s = suppress_small_cells(counts, counts, k=5, margins="rows")
    assert s.cells == [("T1", "with"), ("T1", "without")]
    assert not s.mask.loc["T0"].any()


def test_coarse_counts_cover_all_statistics_of_a_condition():
    columns = pd.MultiIndex.from_product([[0, 1], ["n", "mean"]])
    table = pd.DataFrame([[20, 2.1, 3, 2.5], [18, 2.2, 11, 2.4]], index=["T1", "T2"], columns=columns)
    counts = pd.DataFrame({0: [20, 18], 1: [3, 11]}, index=["T1", "T2"])
    s = suppress_small_cells(table, counts, k=5, margins="rows")
    assert s.mask.loc["T1"].all() and not s.mask.loc["T2"].any()
    assert (s.table.loc["T1"] == SUPPRESSED).all()


def test_bad_arguments_are_refused():
    counts = pd.DataFrame({"a": [1, 2]})
    with pytest.raises(SpecificationError, match="k="):
        suppress_small_cells(counts, counts, k=0)
    with pytest.raises(SpecificationError, match="margins"):
        suppress_small_cells(counts, counts, margins="diagonal")
    with pytest.raises(SpecificationError, match="non-negative"):
        suppress_small_cells(counts, counts.astype(float).where(counts > 1))
    with pytest.raises(SpecificationError, match="no column"):
        suppress_small_cells(pd.DataFrame({"b": [1, 2]}), counts)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"family": ["O01-T1-P01-F1"], "mean": [3.0]}),
        pd.DataFrame({"professional": ["O01-T1-P01"], "mean": [3.0]}),
        pd.DataFrame({"client_id": [17], "mean": [3.0]}),
        pd.DataFrame({"ID": [17], "mean": [3.0]}),
        pd.DataFrame({"organisation": ["O01"], "mean": [3.0]}),
        pd.DataFrame({"mean": [3.0]}, index=pd.Index(["O01-T1"], name="team")),
    ],
)
def test_identifier_columns_are_refused(frame):
    with pytest.raises(DataError, match="identifiers"):
        assert_no_identifiers(frame)


def test_neutral_labels_and_aggregates_pass():
    assert_no_identifiers(pd.DataFrame({"n_families": [12], "identity_score": [1.0], "mean": [3.0]}))
    labelled = pd.DataFrame({"organisation": pseudonymise(pd.Series(["O03", "O01"])), "mean": [1.0, 2.0]})
    assert_no_identifiers(labelled)


def test_identifier_values_are_refused_anywhere():
    frame = pd.DataFrame({"label": ["fine", "O01-T1-P01"], "mean": [1.0, 2.0]})
    assert_no_identifiers(frame, identifiers=["O02"])
    with pytest.raises(DataError, match="O01-T1-P01"):
        assert_no_identifiers(frame, identifiers=["O01-T1-P01"])
    with pytest.raises(DataError, match="O05"):
        assert_no_identifiers(pd.DataFrame({"O05": [1.0]}), identifiers=["O05"])


def test_pseudonymise_is_deterministic_by_sorted_order():
    a = pseudonymise(pd.Series(["O07", "O02", np.nan, "O07"], index=[5, 6, 7, 8]))
    b = pseudonymise(pd.Series(["O02", "O07"]))
    assert a.tolist()[:2] == ["organisatie B", "organisatie A"] and pd.isna(a.iloc[2])
    assert a.index.tolist() == [5, 6, 7, 8]
    assert b.tolist() == ["organisatie A", "organisatie B"]
    assert pseudonymise(["x"], "en", unit="team").tolist() == ["team A"]
    many = pseudonymise([f"O{i:02d}" for i in range(28)], "en")
    assert many.tolist()[25:] == ["organisation Z", "organisation AA", "organisation AB"]
    with pytest.raises(SpecificationError):
        pseudonymise(["x"], unit="family")
