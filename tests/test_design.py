"""design.validate: every DataError path, the report, and robustness on arbitrary frames."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lerendtransformeren.design import Validated, ValidationReport, validate
from lerendtransformeren.exceptions import PYTHON, DataError

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"


def families() -> pd.DataFrame:
    """Two goals, three organisations, four teams, five professionals, seven families.

    Waves T0..T2; F2 is absent at T1 and back at T2, F4 and F6 drop out after T0, F5
    after T1.
    """
    rows = [
        # goal, organisation, team, professional, family, wave, sdq_01, ses
        (1, "O1", "O1-T1", "O1-T1-P1", "F1", 0, 0, "laag"),
        (1, "O1", "O1-T1", "O1-T1-P1", "F1", 1, 1, "laag"),
        (1, "O1", "O1-T1", "O1-T1-P1", "F1", 2, 2, "laag"),
        (1, "O1", "O1-T1", "O1-T1-P2", "F2", 0, np.nan, "hoog"),
        (1, "O1", "O1-T1", "O1-T1-P2", "F2", 2, 1, "hoog"),
        (1, "O1", "O1-T2", "O1-T2-P1", "F3", 0, 2, "midden"),
        (1, "O1", "O1-T2", "O1-T2-P1", "F3", 1, 2, "midden"),
        (1, "O1", "O1-T2", "O1-T2-P1", "F3", 2, np.nan, "midden"),
        (1, "O2", "O2-T1", "O2-T1-P1", "F4", 0, 0, "laag"),
        (2, "O3", "O3-T1", "O3-T1-P1", "F5", 0, 1, "hoog"),
        (2, "O3", "O3-T1", "O3-T1-P1", "F5", 1, np.nan, "hoog"),
        (2, "O3", "O3-T1", "O3-T1-P1", "F6", 0, 0, "laag"),
        (2, "O3", "O3-T1", "O3-T1-P1", "F7", 1, 2, "laag"),
    ]
    columns = ["goal", "organisation", "team", "professional", "family", "wave", "sdq_01", "ses"]
    return pd.DataFrame(rows, columns=columns)


def codebook() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "file": ["", "", "", "other.csv"],
            "variable": ["sdq_01", "ses", "contacts", "sdq_01"],
            "type": ["item", "categorical", "integer", "float"],
            "min": ["0", "", "0", "100"],
            "max": ["2", "", "", "200"],
            "values": ["", "laag=laag;midden=midden;hoog=hoog", "", ""],
            "missing_codes": ["9", "", "", ""],
        }
    )


# --------------------------------------------------------------------------- success


def test_counts_per_level_and_wave():
    report = validate(families()).report
    assert isinstance(report, ValidationReport)
    assert report.respondent == "family"
    assert report.levels == ("goal", "organisation", "team", "professional")
    assert report.waves == (0, 1, 2)
    assert report.n_rows == 13
    expected = pd.DataFrame(
        {
            "total": [2, 3, 4, 5, 7],
            "T0": [2, 3, 4, 5, 6],
            "T1": [2, 2, 3, 3, 4],
            "T2": [1, 1, 2, 3, 3],
        },
        index=pd.Index(["goal", "organisation", "team", "professional", "family"], name="level"),
    )
    pd.testing.assert_frame_equal(report.counts, expected)


def test_dropout_separates_absence_from_dropping_out():
    dropout = validate(families()).report.dropout
    # at T0: F1..F6. T1: F2 absent (back at T2), F4, F6 gone. T2: F4, F5, F6 gone.
    assert dropout.index.tolist() == ["T1", "T2"]
    assert dropout["n_absent"].tolist() == [3, 3]
    assert dropout["n_dropped_out"].tolist() == [2, 3]
    assert dropout["pct_dropped_out"].tolist() == pytest.approx([200 / 6, 300 / 6])


def test_missing_per_variable_and_wave():
    missing = validate(families()).report.missing
    assert missing.index.tolist() == ["sdq_01", "ses"]
    assert missing.loc["sdq_01", ("all", "n_missing")] == 3
    assert missing.loc["sdq_01", ("T0", "n_missing")] == 1
    assert missing.loc["sdq_01", ("T1", "pct_missing")] == pytest.approx(100 / 4)
    assert missing.loc["sdq_01", ("T2", "pct_missing")] == pytest.approx(100 / 3)
    assert missing.loc["ses", ("all", "n_missing")] == 0


def test_data_sorted_with_index_kept_and_input_untouched():
    df = families().sample(frac=1, random_state=3)
    df["wave"] = "T" + df["wave"].astype(str)
    before = df.copy()
    checked = validate(df)
    assert isinstance(checked, Validated)
    pd.testing.assert_frame_equal(df, before)
    assert checked.data["wave"].dtype == np.int64
    assert checked.data.index.tolist() == list(range(13))  # the hand-made frame is sorted
    assert sorted(checked.data.index) == sorted(df.index)


def test_respondent_inference_and_notes():
    report = validate(families().drop(columns="goal")).report
    notes = "\n".join(report.notes)
    assert "respondent id column 'family' inferred" in notes
    assert "'goal'" in notes and "skipped" in notes
    assert "'professional' is used as a level above 'family'" in notes
    # professional data: the respondent is the professional, no level added
    profs = families().drop(columns=["family", "sdq_01", "ses"]).drop_duplicates()
    report = validate(profs).report
    assert report.respondent == "professional"
    assert report.levels == ("goal", "organisation", "team")


def test_cross_sectional_organisations():
    orgs = pd.DataFrame(
        {"goal": [1, 1, 2], "organisation": ["O1", "O2", "O3"], "region": ["west", "oost", None]}
    )
    checked = validate(orgs)
    report = checked.report
    assert report.respondent == "organisation" and report.levels == ("goal",)
    assert report.waves == () and report.dropout.empty
    assert report.counts["total"].tolist() == [2, 3]
    assert report.missing.loc["region", ("all", "n_missing")] == 1
    assert any("cross-sectional" in note for note in report.notes)


def test_summary_is_deterministic_plain_text():
    first = validate(families(), source="families.csv").summary()
    assert first == validate(families(), source="families.csv").summary()
    assert first.startswith("Validated data: families.csv\nrows: 13\nrespondent: family\n")
    assert "levels: goal > organisation > team > professional > family" in first
    assert "Dropout of the 6 respondents (family) seen at T0" in first
    assert re.search(r"sdq_01\s+3\s+23\.1", first)  # 3 of 13 rows missing
    assert "Notes\n- respondent id column 'family' inferred" in first


def test_bundled_families_file_with_codebook():
    fam = pd.read_csv(DATA / "families.csv")
    cb = pd.read_csv(DATA / "codebook.csv")
    report = validate(fam, codebook=cb, source=str(DATA / "families.csv")).report
    assert report.counts.loc["family", "total"] == 2859
    assert report.counts.loc["family", "T3"] == 1975
    assert not any("not in the codebook" in note for note in report.notes)


# ------------------------------------------------------------------ id columns present


def test_missing_respondent_column_lists_columns_and_suggests_argument():
    with pytest.raises(DataError, match=r"respondent id column 'client' is not in the data") as info:
        validate(families(), respondent="client", source="families.csv")
    text = str(info.value)
    assert text.startswith("families.csv: ")
    assert "'organisation', 'team'" in text and "respondent=" in text


def test_no_id_column_at_all_suggests_respondent_and_levels():
    with pytest.raises(DataError, match=r"no id column found(.|\n)*respondent=(.|\n)*levels="):
        validate(pd.DataFrame({"x": [1, 2]}))


def test_wave_column_named_explicitly_must_exist():
    with pytest.raises(DataError, match=r"the wave column 'meting' is not in the data"):
        validate(families(), wave="meting")


# --------------------------------------------------------------------------- missing ids


def test_missing_and_blank_ids_are_listed_by_row():
    df = families()
    df.loc[3, "team"] = None
    df.loc[[5, 7], "family"] = "  "
    with pytest.raises(DataError) as info:
        validate(df)
    text = str(info.value)
    assert "ids are missing: 'team' in row 3; 'family' in rows 5, 7." in text
    assert "Rows are named by their index label." in text


def test_rows_are_spreadsheet_rows_when_read_from_a_file():
    df = families()
    df.loc[3, "team"] = np.nan
    with pytest.raises(DataError, match=r"ids are missing: 'team' in row 5\.(.|\n)*header as row 1"):
        validate(df, source="families.csv")


def test_ids_mixing_numbers_and_text_are_rejected():
    df = families()
    df["team"] = df["team"].astype(object)
    df.loc[4, "team"] = 7
    expected = "id column 'team' mixes kinds of values (12 str, 1 int), e.g. 7 in row 4;"
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(df)


# ------------------------------------------------------------------------------ nesting


def test_team_under_two_organisations_names_both():
    df = families()
    df.loc[[6, 7], "organisation"] = "O2"
    with pytest.raises(DataError) as info:
        validate(df)
    text = str(info.value)
    assert (
        "team 'O1-T2' appears under 2 organisations ('O1', 'O2'): 'O1' in row 5; 'O2' in rows 6, 7"
    ) in text
    assert "correct the 'organisation' of the wrong rows" in text
    assert "look unique only within" not in text


def test_team_ids_reused_across_organisations_get_the_suggestion():
    df = families()
    df["team"] = df["team"].str.split("-").str[1]  # 'T1', 'T2' in every organisation
    with pytest.raises(DataError) as info:
        validate(df)
    text = str(info.value)
    assert "team 'T1' appears under 3 organisations ('O1', 'O2', 'O3')" in text
    assert "the team ids look unique only within their organisation" in text
    assert "df['team'] = df['organisation'].astype(str) + '-' + df['team'].astype(str)" in text


def test_organisation_in_two_goals():
    df = families()
    df.loc[8, "goal"] = 2
    df.loc[8, "organisation"] = "O1"  # O1 now also under goal 2, team O2-T1 under O1
    expected = "organisation 'O1' appears under 2 goals (1, 2): 1 in rows 0, 1, 2, 3, 4 and 3 more; 2 in row 8"
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(df)


def test_family_with_two_professionals_mentions_professional_is_an_added_level():
    df = families()
    df.loc[1, "professional"] = "O1-T1-P2"
    with pytest.raises(DataError) as info:
        validate(df)
    text = str(info.value)
    assert "family 'F1' appears under 2 professionals ('O1-T1-P1', 'O1-T1-P2')" in text
    assert "'professional' is no level of this design" in text


# --------------------------------------------------------------------------- duplicates


def test_duplicate_respondent_wave_rows_listed():
    df = families()
    df.loc[2, "wave"] = 1  # F1 twice at T1, different values
    with pytest.raises(DataError) as info:
        validate(df)
    text = str(info.value)
    assert "1 family-wave combination has more than one row" in text
    assert "family 'F1' at T1 in rows 1, 2" in text
    assert "exact copies" not in text and "give them different ids" in text


def test_exact_copies_suggest_drop_duplicates():
    df = pd.concat([families(), families().iloc[[0]]], ignore_index=True)
    expected = r"family 'F1' at T0 in rows 0, 13\nThe repeated rows are exact copies(.|\n)*drop_duplicates"
    with pytest.raises(DataError, match=expected):
        validate(df)


def test_cross_sectional_data_need_one_row_per_unit():
    orgs = pd.DataFrame({"goal": [1, 1, 1], "organisation": ["O1", "O2", "O1"], "size": [3, 4, 5]})
    expected = r"1 organisation has more than one row(.|\n)*organisation 'O1' in rows 0, 2(.|\n)*wave="
    with pytest.raises(DataError, match=expected):
        validate(orgs)


# -------------------------------------------------------------------------------- waves


def test_wave_labels_are_converted_with_a_note():
    df = families()
    df["wave"] = "T" + df["wave"].astype(str)
    checked = validate(df)
    assert checked.data["wave"].tolist() == families()["wave"].tolist()
    assert checked.report.waves == (0, 1, 2)
    note = "wave labels in 'wave' converted to numbers ('T0' -> 0, 'T1' -> 1, 'T2' -> 2)"
    assert note in checked.report.notes


def test_float_waves_that_are_whole_are_accepted():
    df = families().astype({"wave": float})
    assert validate(df).data["wave"].dtype == np.int64


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.5, "1.5 in row 3."),
        ("baseline", "'baseline' in row 3."),
        ("T1", "'T1' in row 3. Labels and numbers are mixed."),
    ],
)
def test_waves_that_are_not_whole_numbers_or_labels_are_rejected(value, shown):
    df = families()
    df["wave"] = df["wave"].astype(object)
    df.loc[3, "wave"] = value
    expected = "wave column 'wave' has values that are neither whole numbers nor labels T0, T1, ...: "
    expected += shown
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(df)


# -------------------------------------------------------------------------------- goals


def test_unknown_goal_code():
    df = families()
    df.loc[9:12, "goal"] = 7
    expected = "column 'goal' has codes that are not transformation goals 1..5: 7 in rows 9, 10, 11, 12."
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(df)


# ----------------------------------------------------------------------------- codebook


def test_values_outside_the_codebook_range():
    df = families()
    df.loc[[2, 6], "sdq_01"] = [3, -1]
    with pytest.raises(DataError) as info:
        validate(df, codebook=codebook())
    text = str(info.value)
    assert "'sdq_01' (item): outside 0..2: 3.0, -1.0; in rows 2, 6" in text
    assert "check the codebook" in text


def test_unknown_categorical_code():
    df = families()
    df.loc[4, "ses"] = "hoog "  # blank around a code is fine
    df.loc[[0, 1], "ses"] = "high"
    expected = "'ses' (categorical): codes not among laag, midden, hoog: 'high'; in rows 0, 1\n"
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(df, codebook=codebook())


def test_text_in_numeric_column():
    df = families().assign(contacts=["3"] * 12 + ["n.v.t."])
    expected = r"'contacts' \(integer\): not a number: 'n.v.t.'; in row 12(.|\n)*missing_codes"
    with pytest.raises(DataError, match=expected):
        validate(df, codebook=codebook())


def test_non_whole_numbers_in_an_integer_variable():
    df = families().assign(contacts=[2.5] + [1.0] * 12)
    with pytest.raises(DataError, match=r"'contacts' \(integer\): not whole numbers: 2.5; in row 0"):
        validate(df, codebook=codebook())


def test_missing_codes_are_allowed_and_count_as_missing():
    df = families()
    df.loc[0, "sdq_01"] = 9
    report = validate(df, codebook=codebook()).report
    assert report.missing.loc["sdq_01", ("all", "n_missing")] == 4


def test_codebook_rows_follow_the_source_file():
    df = families().assign(sdq_01=150.0)
    validate(df, codebook=codebook(), source="data/other.csv")  # 100..200 for other.csv
    with pytest.raises(DataError, match="outside 0..2"):
        validate(df, codebook=codebook(), source="data/families.csv")
    notes = validate(df, codebook=codebook().assign(file="other.csv"), source="x.csv").report.notes
    assert any("the codebook has no rows for 'x.csv'" in note for note in notes)


def test_codebook_of_several_files_needs_a_source():
    cb = codebook().assign(file=["a.csv", "a.csv", "b.csv", "b.csv"])
    expected = r"describes several files \('a.csv', 'b.csv'\)(.|\n)*source='a.csv'"
    with pytest.raises(DataError, match=expected):
        validate(families(), codebook=cb)


def test_codebook_columns_absent_from_the_data():
    report = validate(families(), codebook=codebook()).report
    assert "codebook variables not in the data: 'contacts'" in report.notes
    with pytest.raises(DataError, match=r"codebook variables are not in the data: 'contacts'"):
        validate(families(), codebook=codebook(), require_codebook_columns=True)


def test_unreadable_codebook_range():
    cb = codebook().assign(max=["2", "", "veel", ""])
    with pytest.raises(DataError, match=r"the codebook's 'max' is not a number for 'contacts': 'veel'"):
        validate(families(), codebook=cb)


# ------------------------------------------------------------------- arbitrary frames

ID_NAMES = ["goal", "organisation", "team", "professional", "family", "youth", "wave"]
missing = st.sampled_from([None, np.nan, "", " "])
anything = st.one_of(
    st.integers(-2, 8),
    st.floats(-3, 10, allow_nan=False).map(lambda x: round(x, 1)),
    st.sampled_from(["T0", "T1", "t2", "T3 ", "O1", "O1-T1", "n.v.t.", "hoog"]),
    st.text(alphabet="OT01-", max_size=4),
    missing,
)
# most columns are of one kind with now and then a missing value, as in real files
kinds = {
    "number": st.integers(0, 3),
    "goal": st.integers(1, 5),
    "label": st.sampled_from(["T0", "T1", "T2"]),
    "id": st.sampled_from(["O1", "O2", "O1-T1", "T1", "F1", "F2"]),
    "mixed": anything,
}


@st.composite
def frames(draw):
    names = draw(st.lists(st.sampled_from([*ID_NAMES, "x", "ses"]), unique=True, max_size=7))
    n = draw(st.integers(0, 8))
    columns = {}
    for name in names:
        kind = kinds[draw(st.sampled_from(sorted(kinds)))]
        cell = st.one_of(kind, kind, kind, missing) if draw(st.integers(0, 3)) == 0 else kind
        columns[name] = pd.Series(draw(st.lists(cell, min_size=n, max_size=n)), dtype=object)
    return pd.DataFrame(columns)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=frames(), with_codebook=st.booleans(), infer_types=st.booleans())
def test_arbitrary_frames_raise_only_data_errors(df, with_codebook, infer_types):
    if infer_types:  # as a reader would give them: numbers as numbers
        df = df.infer_objects()
    cb = codebook().assign(variable=["x", "ses", "wave", "x"]) if with_codebook else None
    try:
        checked = validate(df, codebook=cb, source="data.csv")
    except DataError:
        return
    assert checked.report.n_rows == len(df) == len(checked.data)
    assert isinstance(checked.summary(), str)


# ------------------------------------------------------------------- smaller paths


@pytest.mark.parametrize(
    ("change", "kwargs", "expected"),
    [
        (lambda df: df.set_axis([*df.columns[:-1], "sdq_01"], axis=1), {}, "'sdq_01' occur more than once"),
        (lambda df: df.iloc[:0], {}, "the data have no rows"),
        (lambda df: df, {"levels": ("goal", "wave")}, "'wave' is given both as an id column and as the wave"),
        (lambda df: df, {"codebook": pd.DataFrame({"name": ["x"]})}, "the codebook has no column"),
        (
            lambda df: df,
            {"codebook": pd.DataFrame({"variable": ["ses", "ses"], "type": ["categorical", "id"]})},
            "the codebook describes 'ses' more than once",
        ),
    ],
)
def test_unusable_frames_and_codebooks(change, kwargs, expected):
    with pytest.raises(DataError, match=re.escape(expected)):
        validate(change(families()), **kwargs)


def test_codebook_types_that_are_not_checked_are_noted():
    cb = pd.DataFrame({"variable": ["ses"], "type": ["date"]})
    assert "codebook type 'date' of 'ses' is not checked" in validate(families(), codebook=cb).report.notes


# ------------------------------------------------------------------ ids as text, rows, options


def _ids_frame(families: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "organisation": ["O1"] * len(families),
            "team": ["T1"] * len(families),
            "family": families,
            "wave": list(range(len(families))),
        }
    )


def test_spaces_around_ids_are_an_error_or_stripped_with_a_note():
    df = _ids_frame(["F12", "F12 ", " F3"])
    with pytest.raises(DataError) as info:
        validate(df, source="f.csv")
    text = str(info.value)
    assert "id column 'family' has ids with spaces before or after them: 'F12 ' in row 3; ' F3' in row 4" in text
    assert "'F12 ' and 'F12' count as two families" in text
    assert "Fix: remove the spaces in the file" in text and "ids='strip'" in text
    checked = validate(df, ids="strip")
    assert checked.data["family"].tolist() == ["F12", "F12", "F3"]
    assert checked.report.counts.loc["family", "total"] == 2
    assert "spaces around ids removed (ids='strip'): 2 cells in 'family'" in checked.report.notes
    assert df["family"].tolist() == ["F12", "F12 ", " F3"]  # the caller's frame is untouched
    with pytest.raises(ValueError, match=r"ids='trim' must be one of 'strict', 'strip'"):
        validate(df, ids="trim")


@pytest.mark.parametrize(
    ("ids", "kind"),
    [
        (["0007", "7"], "differ only in leading zeros"),
        (["10.1", "10.10"], "are different text but the same number"),
        (["7", "7.0"], "are different text but the same number"),
        (["1e1", "10"], "are different text but the same number"),
    ],
)
def test_ids_that_are_one_number_in_two_spellings_are_an_error(ids, kind):
    with pytest.raises(DataError, match=rf"id column 'family' has ids that {kind}:\n'{re.escape(ids[0])}' in row 2 and "):
        validate(_ids_frame(ids), source="f.csv", ids="strip")  # never stripped away


def test_numeric_ids_and_distinct_text_ids_pass():
    validate(_ids_frame(["7", "70", "007a"]))
    validate(_ids_frame(["F1", "F01"]))  # not numbers: two ids, as the user wrote them
    numeric = validate(_ids_frame(["x", "y"]).assign(family=[7, 7.0]))  # numbers compare as numbers
    assert numeric.report.counts.loc["family", "total"] == 1


def test_first_row_places_rows_where_the_file_has_them():
    df = families()
    df.loc[3, "team"] = np.nan
    with pytest.raises(DataError) as info:
        validate(df, source="families.csv", first_row=5)
    text = str(info.value)
    assert "'team' in row 8." in text
    assert "Row numbers are rows of the file; the first data row is row 5." in text
    with pytest.raises(DataError, match=r"'team' in row 4\.(.|\n)*first data row is row 1"):
        validate(df, first_row=1)  # an SPSS file: cases numbered from 1, no source needed


def test_options_name_the_callers_options_and_drop_python_code():
    cli = PYTHON.renamed(
        {"respondent": "--respondent", "levels": "--levels"}, assign="{name} {value}", language="cli"
    )
    with pytest.raises(DataError, match=r"--respondent client and --levels \('organisation', 'team'\)"):
        validate(pd.DataFrame({"x": [1, 2]}), options=cli)
    df = families()
    df.loc[2, "organisation"] = "O2"
    with pytest.raises(DataError) as info:
        validate(df, options=cli)
    assert "df[" not in str(info.value) and "write the organisation id" in str(info.value)
    copies = pd.concat([families(), families().iloc[:1]], ignore_index=True)
    with pytest.raises(DataError, match=r"remove the copies \(in Excel: Data > Remove Duplicates\)"):
        validate(copies, options=cli)


def test_waves_counted_from_one_are_an_error_that_says_why():
    df = families()
    df["wave"] = df["wave"].map(lambda w: f"Meting {w + 1}")
    with pytest.raises(DataError, match=r"Labels such as 'Meting 1' count measurements from 1"):
        validate(df)
