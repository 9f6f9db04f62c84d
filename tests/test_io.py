"""Reading csv, xlsx and SPSS files: detection, missing values, codebooks and clear errors.

Every fixture file is written inside the test (tmp_path); no binary fixtures are committed.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lerendtransformeren.exceptions import PYTHON, DataError, DataWarning
from lerendtransformeren.io import CODEBOOK_COLUMNS, read_codebook, read_table, write_table

SYNTHETIC = Path(__file__).resolve().parents[1] / "data" / "synthetic"


def write(tmp_path: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


# --------------------------------------------------------------------------------------
# csv: separators, decimals, encodings
# --------------------------------------------------------------------------------------
def test_comma_file_with_bom_round_trips(tmp_path):
    frame = pd.DataFrame(
        {
            "family": ["F1", "F2", "F3"],
            "sdq_01": [0, 2, 1],
            "score": [1.5, np.nan, -0.25],
            "naam": ["Zoë", "Jan, Piet", 'zei "ja"'],
        }
    )
    path = tmp_path / "bom.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    read = read_table(path)
    pd.testing.assert_frame_equal(read.data, frame)
    assert read.source["encoding"] == "utf-8-sig"
    assert read.source["separator"] == "," and read.source["decimal"] == "."
    assert read.source["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert read.source["path"] == str(path)
    assert (read.source["n_rows"], read.source["n_columns"]) == (3, 4)
    assert any("byte-order mark" in note for note in read.notes)
    assert read.missing.loc["score", "n_missing_in_file"] == 1
    assert read.missing["n_total"].sum() == 1


def test_synthetic_files_read_as_pandas_reads_them():
    for name in ("families.csv", "organisations.csv"):
        read = read_table(SYNTHETIC / name)
        pd.testing.assert_frame_equal(read.data, pd.read_csv(SYNTHETIC / name))


def test_semicolon_file_with_decimal_commas_and_thousands(tmp_path):
    text = "id;score;bedrag;groep;tekst\n1;3,5;1.234,5;1.234;ja, vaak\n2;4;12,0;2.500;nee\n3;;-0,25;10;NA\n"
    read = read_table(write(tmp_path, "nl.csv", text))
    data = read.data
    assert read.source["separator"] == ";" and read.source["decimal"] == ","
    assert data["id"].dtype == "int64"
    np.testing.assert_array_equal(data["score"], [3.5, 4.0, np.nan])
    np.testing.assert_array_equal(data["bedrag"], [1234.5, 12.0, -0.25])
    assert data["groep"].tolist() == [1234, 2500, 10]  # '.' is the thousands mark here
    assert data["tekst"].iloc[0] == "ja, vaak"
    assert read.notes[0] == "separator ';' and decimal ',' detected (Dutch Excel export)"
    assert any("thousands separator" in note and "groep" in note for note in read.notes)


def test_tie_between_comma_and_semicolon_goes_to_the_dutch_export(tmp_path):
    """A ';' file whose header has one comma and whose rows have one decimal comma each
    splits consistently on both separators; the Dutch convention decides."""
    text = "id;score (0,5 punt)\n1;3,5\n2;4,5\n3;1,0\n"
    read = read_table(write(tmp_path, "tie.csv", text))
    assert read.source["separator"] == ";" and read.source["decimal"] == ","
    assert read.data.columns.tolist() == ["id", "score (0,5 punt)"]
    assert read.data["score (0,5 punt)"].tolist() == [3.5, 4.5, 1.0]


def test_comma_file_text_with_commas_is_not_turned_into_numbers(tmp_path):
    text = 'id,antwoord,score\n1,"1,2",3.5\n2,"3,4",4\n'
    read = read_table(write(tmp_path, "c.csv", text))
    assert read.data["antwoord"].tolist() == ["1,2", "3,4"]
    assert read.data["score"].tolist() == [3.5, 4.0]


def test_mixed_decimal_marks_are_read_per_column_with_a_note(tmp_path):
    read = read_table(write(tmp_path, "mix.csv", "a;b\n1,5;2.5\n3;4.25\n"))
    assert read.data["a"].tolist() == [1.5, 3.0] and read.data["b"].tolist() == [2.5, 4.25]
    assert "column b uses a decimal point while others use a decimal comma; read with a decimal point" in read.notes


def test_decimal_point_in_semicolon_file_and_ambiguous_dots(tmp_path):
    text = "a;b\n1.5;1.234\n2.5;2.000\n"
    read = read_table(write(tmp_path, "p.csv", text))
    assert read.data["a"].tolist() == [1.5, 2.5]
    assert read.data["b"].tolist() == [1.234, 2.0]  # no decimal comma anywhere: '.' is decimal
    assert read.source["decimal"] == "."
    assert any("set decimal=','" in note for note in read.notes)
    given_comma = read_table(write(tmp_path, "p.csv", "a;b\n1;1.234\n2;2.000\n"), decimal=",")
    assert given_comma.data["b"].tolist() == [1234, 2000]


@pytest.mark.parametrize(("sep", "name"), [("\t", "tab"), ("|", "'|'")])
def test_tab_and_pipe_separators_are_detected(tmp_path, sep, name):
    text = sep.join(["a", "b", "c"]) + "\n" + sep.join(["1", "x;y", "2,5"]) + "\n"
    read = read_table(write(tmp_path, "t.txt", text))
    assert read.data.columns.tolist() == ["a", "b", "c"]
    assert read.data.loc[0, "b"] == "x;y"
    assert read.data.loc[0, "c"] == 2.5
    assert read.notes[0].startswith(f"separator {name} and decimal ','")


def test_excel_sep_line_is_honoured_and_skipped(tmp_path):
    path = write(tmp_path, "s.csv", "sep=;\r\na;b\r\n1,5;2\r\n")
    read = read_table(path)
    assert read.data["a"].tolist() == [1.5]
    assert read.notes[0] == "separator ';' taken from the 'sep=' line Excel put on line 1 (line skipped)"
    given = read_table(path, sep=";", decimal=",")
    assert given.data.columns.tolist() == ["a", "b"]
    assert given.notes[0] == "line 1 ('sep=;', a hint for Excel) skipped; separator ';' as given"
    with pytest.raises(DataError, match=r"s2\.csv: 1 row has another number .*separator ';' from the 'sep=' line\): line 4 has 1"):
        read_table(write(tmp_path, "s2.csv", "sep=;\na;b\n1;2\n3\n"))
    with pytest.raises(DataError, match=r"s3\.csv: no table after the 'sep=' line"):
        read_table(write(tmp_path, "s3.csv", "sep=;\n"))


def test_latin1_bytes_are_decoded_as_cp1252_with_a_note(tmp_path):
    path = write(tmp_path, "latin.csv", "naam;land\nZoë;België\nJosé;Curaçao\n", encoding="cp1252")
    read = read_table(path)
    assert read.data["naam"].tolist() == ["Zoë", "José"]
    assert read.data["land"].tolist() == ["België", "Curaçao"]
    assert read.source["encoding"] == "cp1252"
    note = next(n for n in read.notes if n.startswith("decoded as"))
    assert "Windows-1252" in note and "not valid UTF-8" in note and "line 2" in note and "'Zoë'" in note


def test_bytes_undefined_in_cp1252_fall_back_to_latin1(tmp_path):
    read = read_table(write(tmp_path, "l1.csv", b"a;b\n1;x\x81y\n"))
    assert read.source["encoding"] == "latin-1"
    assert read.data.loc[0, "b"] == "x\x81y"
    assert any(note.startswith("decoded as Latin-1 because the file is not valid UTF-8") for note in read.notes)


def test_utf16_export_is_decoded(tmp_path):
    read = read_table(write(tmp_path, "u.txt", "a\tb\n1\tZoë\n", encoding="utf-16"))
    assert read.data.loc[0, "b"] == "Zoë"
    assert read.source["encoding"] == "utf-16"


def test_given_encoding_that_does_not_fit_names_byte(tmp_path):
    path = write(tmp_path, "latin.csv", "naam\nZoë\n", encoding="cp1252")
    with pytest.raises(DataError, match=r"latin\.csv: cannot be decoded as 'utf-8' \(byte 0xeb"):
        read_table(path, encoding="utf-8")


def test_single_column_with_decimal_commas(tmp_path):
    read = read_table(write(tmp_path, "one.csv", "score\n3,5\n4,25\n"))
    assert read.data["score"].tolist() == [3.5, 4.25]
    assert any("one column only" in note for note in read.notes)


# --------------------------------------------------------------------------------------
# Missing markers, text answers, empty rows and columns
# --------------------------------------------------------------------------------------
def test_missing_markers_are_counted_and_text_answers_kept(tmp_path):
    text = "id;q1;q2;opmerking\n1;NA;#NULL!;n.v.t.\n2;.;NaN;weet niet\n3; ;4;\n4;2;5;goed\n"
    read = read_table(write(tmp_path, "m.csv", text))
    assert read.data["q1"].isna().tolist() == [True, True, True, False]
    assert read.data["q2"].tolist()[2:] == [4, 5]
    assert read.data["opmerking"].tolist()[:2] == ["n.v.t.", "weet niet"]
    missing = read.missing
    assert missing.loc["q1", "n_missing_in_file"] == 3
    assert missing.loc["q1", "markers_in_file"] == "(empty)=1;NA=1;.=1"
    assert missing.loc["q2", "markers_in_file"] == "NaN=1;#NULL!=1"
    assert missing.loc["opmerking", "n_missing_in_file"] == 1
    assert (missing["n_user_missing"] == 0).all()
    note = next(n for n in read.notes if n.startswith("treated as missing"))
    assert note == "treated as missing: 2 empty cells, 1 'NA', 1 'NaN', 1 '#NULL!', 1 '.' (6 cells in 3 columns)"


def test_mostly_numeric_column_with_text_answers_stays_text_with_a_note(tmp_path):
    read = read_table(write(tmp_path, "t.csv", "q\n1\n2\n3\nweet niet\n"))
    assert read.data["q"].tolist() == ["1", "2", "3", "weet niet"]
    assert any("1 of 4 values are not numbers" in n and "'weet niet'" in n for n in read.notes)


def test_leading_zeros_keep_identifiers_as_text(tmp_path):
    read = read_table(write(tmp_path, "z.csv", "id,x\n007,1\n010,2\n"))
    assert read.data["id"].tolist() == ["007", "010"]
    assert [n for n in read.notes if "id" in n] == [
        "column id kept as text: values such as '007' have leading zeros (identifiers?)"
    ]


def test_trailing_empty_rows_and_empty_unnamed_columns_are_dropped_and_noted(tmp_path):
    text = "a;b;;\n1;2;;\n;;;\n3;4;;\n;;;\n;;;\n\n"
    read = read_table(write(tmp_path, "e.csv", text))
    assert read.data.shape == (3, 2)
    assert read.data["a"].isna().tolist() == [False, True, False]
    notes = " | ".join(read.notes)
    assert "3 fully empty lines at the end dropped (lines 5-7)" in notes
    assert "1 fully empty line between the data kept as rows with all values missing (line 3)" in notes
    assert "2 columns without name and without data dropped (column 3, column 4" in notes


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv")


def test_unknown_extension_lists_supported_ones(tmp_path):
    path = write(tmp_path, "data.json", "{}")
    supported = r"supported are \.csv, .*\.xlsx.*\.sav"
    with pytest.raises(DataError, match=r"data\.json: files ending in '\.json' are not supported; " + supported):
        read_table(path)
    with pytest.raises(DataError, match=r"Save old \.xls workbooks as \.xlsx"):
        read_table(write(tmp_path, "old.xls", b"\xd0\xcf"))


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty \(0 bytes\)"):
        read_table(write(tmp_path, "empty.csv", b""))
    with pytest.raises(DataError, match=r"head\.csv: has a header but no data rows"):
        read_table(write(tmp_path, "head.csv", "a;b;c\n"))
    with pytest.raises(DataError, match=r"has a header but no data rows"):
        read_table(write(tmp_path, "head2.csv", "a;b;c\r\n;;\r\n"))
    with pytest.raises(DataError, match=r"blank\.csv: the file holds only blank lines"):
        read_table(write(tmp_path, "blank.csv", "\n \n"))


def test_ragged_rows_name_lines_and_suggest_separator(tmp_path):
    rows = "\n".join(["a;b;c", "1;2;3", "4;5", "6;7;8;9"] + ["1;2"] * 6)
    message = (
        r"r\.csv: 8 rows have another number of fields than the header \(line 1: 3 fields, "
        r"separator ';' detected\): line 3 has 2, line 4 has 4, line 5 has 2, line 6 has 2, "
        r"line 7 has 2 and 3 more lines\.\nFix: if the separator is not ';', set sep="
    )
    with pytest.raises(DataError, match=message):
        read_table(write(tmp_path, "r.csv", rows + "\n"))


def test_wrong_separator_given_suggests_the_right_one(tmp_path):
    path = write(tmp_path, "w.csv", "a;b\n3,5;1\n4,5;2\n")
    with pytest.raises(DataError, match=r"separator ',' given\): line 2 has 2, line 3 has 2\.\nFix: the file reads cleanly with sep=';'"):
        read_table(path, sep=",")


def test_duplicate_column_names(tmp_path):
    with pytest.raises(DataError, match=r"d\.csv: duplicate column names: 'score' \(column 2 and column 4\)"):
        read_table(write(tmp_path, "d.csv", "id,score,x, score \n1,2,3,4\n"))


def test_unnamed_column_with_data(tmp_path):
    with pytest.raises(DataError, match=r"u\.csv: column 2 has no name in the header \(line 1\) but holds data"):
        read_table(write(tmp_path, "u.csv", "id,,x\n1,2,3\n"))
    with pytest.raises(DataError, match=r"line 1 is empty; it must hold the column names"):
        read_table(write(tmp_path, "h.csv", ",,\n1,2,3\n"))


def test_binary_or_unreadable_text(tmp_path):
    with pytest.raises(DataError, match=r"x\.csv: is an Excel workbook \(\.xlsx\), not a text file\.\nFix: rename it"):
        read_table(write(tmp_path, "x.csv", b"PK\x03\x04rest"))
    with pytest.raises(DataError, match=r"(?s)n\.csv: contains NUL characters.*encoding='utf-16'"):
        read_table(write(tmp_path, "n.csv", "a,b\n1,2\n".encode("utf-16-le")))
    with pytest.raises(DataError, match=r"o\.csv: starts like UTF-16 text but is not valid UTF-16"):
        read_table(write(tmp_path, "o.csv", b"\xff\xfea\x00b"))
    with pytest.raises(DataError, match=r"f\.csv: line 2, column 2 holds a text of 200000 characters, more than an Excel cell holds"):
        read_table(write(tmp_path, "f.csv", "a,b\n1," + "x" * 200_000 + "\n"))


def test_options_that_do_not_fit_the_format(tmp_path):
    path = write(tmp_path, "a.csv", "a\n1\n")
    with pytest.raises(ValueError, match=r"sheet= does not apply to csv files"):
        read_table(path, sheet=0)
    with pytest.raises(ValueError, match=r"decimal=';' must be '\.', ',' or 'both'"):
        read_table(path, decimal=";")
    with pytest.raises(ValueError, match=r"sep= and decimal= are both ','"):
        read_table(path, sep=",", decimal=",")
    with pytest.raises(ValueError, match=r"sep=';;' must be one character"):
        read_table(path, sep=";;")
    with pytest.raises(ValueError, match=r"encoding='klingon' is not a known encoding"):
        read_table(path, encoding="klingon")


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "map.csv").mkdir()
    with pytest.raises(DataError, match=r"map\.csv: is a folder, not a file"):
        read_table(tmp_path / "map.csv")


# --------------------------------------------------------------------------------------
# xlsx
# --------------------------------------------------------------------------------------
def test_xlsx_sheets_and_excel_artefacts(tmp_path):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1, 2], "b": ["x", "#NULL!"]}).to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame({" c ": [1.5, "2,5"], "d": ["007", "008"]}).to_excel(writer, sheet_name="Extra", index=False)
    first = read_table(path)
    assert first.source["sheet"] == "Data" and first.source["encoding"] is None
    assert first.data["a"].tolist() == [1, 2]
    assert first.missing.loc["b", "markers_in_file"] == "#NULL!=1"
    assert any("the first of 2 sheets ('Data', 'Extra')" in note for note in first.notes)
    for sheet in ("Extra", 1, -1):
        extra = read_table(path, sheet=sheet)
        assert extra.data["c"].tolist() == [1.5, 2.5]
        assert extra.data["d"].tolist() == ["007", "008"]
    with pytest.raises(DataError, match=r"book\.xlsx: there is no sheet 'Dat'; the workbook has 'Data' \(3 rows x 2 columns with data\), 'Extra'"):
        read_table(path, sheet="Dat")
    with pytest.raises(DataError, match=r"there is no sheet 2; the workbook has 'Data' .*, 'Extra' \(3 rows x 2 columns with data\)\.\nFix: set sheet= to one of these names"):
        read_table(path, sheet=2)


def test_xlsx_trailing_formatted_rows_dates_and_unnamed_columns(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "datum", "akkoord", None])
    sheet.append(["A", pd.Timestamp("2024-01-02").to_pydatetime(), True, None])
    sheet.append(["B", None, False, None])
    sheet["A6"].number_format = "0.00"  # a formatted, empty cell below the data
    sheet["A6"].value = " "
    path = tmp_path / "dates.xlsx"
    book.save(path)
    read = read_table(path)
    assert read.data.shape == (2, 3)
    assert pd.api.types.is_datetime64_any_dtype(read.data["datum"])
    assert read.data["akkoord"].tolist() == ["True", "False"]  # Excel booleans are text
    notes = " | ".join(read.notes)
    assert "3 fully empty rows at the end dropped (rows 4-6)" in notes
    assert "1 column without name and without data dropped (column D" in notes
    assert read.codebook.set_index("variable").loc["datum", "type"] == ""


def test_corrupt_or_empty_xlsx_and_sav(tmp_path):
    good = tmp_path / "good.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(good, index=False)
    with pytest.raises(DataError, match=r"bad\.xlsx: cannot be read as an Excel workbook .*\nFix: open it in Excel and save it again as \.xlsx"):
        read_table(write(tmp_path, "bad.xlsx", good.read_bytes()[:200]))
    broken = tmp_path / "sheet.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            content = source.read(item)
            if "worksheets/sheet" in item.filename:  # cut the sheet's XML off inside the data
                content = content[: content.index(b"</sheetData>") - 20]
            target.writestr(item, content)
    with pytest.raises(DataError, match=r"sheet\.xlsx: sheet 'Sheet1' cannot be read \(ParseError"):
        read_table(broken)
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(DataError, match=r"empty\.xlsx: sheet 'Sheet' is empty: no cell holds data\.\nFix: choose the sheet with the data with sheet="):
        read_table(empty)
    with pytest.raises(DataError, match=r"(?s)bad\.sav: cannot be read as an SPSS file .*PSPP"):
        read_table(write(tmp_path, "bad.sav", b"not an spss file" * 20))


# --------------------------------------------------------------------------------------
# SPSS
# --------------------------------------------------------------------------------------
@pytest.fixture
def sav_file(tmp_path) -> Path:
    frame = pd.DataFrame(
        {
            "q1": [1.0, 2.0, 99.0, 98.0, 3.0, 99.0],
            "q2": [1.0, 91.0, 95.0, 96.0, 2.0, 99.0],
            "offer": [0.0, 1.0, 1.0, 0.0, np.nan, 1.0],
            "score": [1.5, 2.5, 3.0, 4.0, 5.0, 6.0],
            "wave": [0.0, 1.0, 2.0, 3.0, 0.0, 1.0],
            "naam": ["Zoë", "", "Jan", "x", "y", "z"],
        }
    )
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={"q1": "Hoe gaat het?", "offer": "Aanbod gestart"},
        variable_value_labels={
            "q1": {1: "slecht", 2: "matig", 3: "goed", 98: "weet niet", 99: "geen antwoord"},
            "offer": {0: "nee", 1: "ja"},
        },
        missing_ranges={"q1": [98, 99], "q2": [{"lo": 90, "hi": 95}, 99], "naam": ["x"]},
    )
    return path


def test_sav_user_missing_codes_become_missing_and_are_counted(sav_file):
    read = read_table(sav_file)
    data, missing = read.data, read.missing
    assert data["q1"].isna().tolist() == [False, False, True, True, False, True]
    np.testing.assert_array_equal(data["q2"], [1.0, np.nan, np.nan, 96.0, 2.0, np.nan])
    assert missing.loc["q1", "n_user_missing"] == 3
    assert missing.loc["q1", "user_missing_by_code"] == "98=1;99=2"
    assert missing.loc["q2", "user_missing_by_code"] == "91=1;95=1;99=1"
    assert missing.loc["naam", "user_missing_by_code"] == "x=1"
    assert missing.loc["naam", "markers_in_file"] == "(empty)=1"
    assert missing.loc["offer", "markers_in_file"] == "(system-missing)=1"
    assert missing["n_user_missing"].sum() == 7
    assert missing.loc["q1", "n_total"] == 3 and missing.loc["naam", "n_total"] == 2
    assert "7 SPSS user-missing values in 3 columns set to missing" in " | ".join(read.notes)
    assert data["score"].tolist() == [1.5, 2.5, 3.0, 4.0, 5.0, 6.0]
    assert data["wave"].dtype == "int64" and data["q2"].dtype == "float64"
    assert read.source["format"] == "sav" and read.source["encoding"] == "UTF-8"


def test_sav_value_labels_and_types_in_codebook(sav_file):
    codebook = read_table(sav_file).codebook
    assert codebook.columns.tolist() == list(CODEBOOK_COLUMNS)
    book = codebook.set_index("variable")
    assert book.loc["q1", "label_nl"] == "Hoe gaat het?" and book.loc["q1", "label_en"] == ""
    assert book.loc["q1", "values"] == "1=slecht;2=matig;3=goed;98=weet niet;99=geen antwoord"
    assert book.loc["q1", "missing_codes"] == "98;99"
    assert book.loc["q2", "missing_codes"] == "90..95;99"
    assert book.loc["q1", "type"] == "categorical"
    assert book.loc["offer", "type"] == "binary" and book.loc["offer", "values"] == "0=nee;1=ja"
    assert book.loc["score", "type"] == "float" and book.loc["q2", "type"] == "integer"
    assert book.loc["naam", "type"] == "categorical"
    assert (codebook["file"] == "survey.sav").all()


def test_sav_without_missing_values_and_with_semicolon_in_a_label(tmp_path):
    path = tmp_path / "plain.sav"
    frame = pd.DataFrame({"ses": [1.0, 2.0], "naam": ["a", "b"]})
    pyreadstat.write_sav(frame, str(path), variable_value_labels={"ses": {1: "laag; weinig", 2: "hoog"}})
    read = read_table(path)
    assert read.codebook.loc[0, "values"] == "1=laag, weinig;2=hoog"
    assert read.notes == ("value label 'laag; weinig' of ses written with ',' for ';' (';' separates codebook values)",)
    assert read.missing["n_total"].sum() == 0


def test_sav_without_cases(tmp_path):
    path = tmp_path / "none.sav"
    pyreadstat.write_sav(pd.DataFrame({"a": pd.Series([], dtype="float64")}), str(path))
    with pytest.raises(DataError, match=r"none\.sav: has a header \(variable definitions\) but no data rows"):
        read_table(path)


def test_csv_codebook_is_minimal_and_summary_is_short(tmp_path):
    read = read_table(write(tmp_path, "k.csv", "id,n,x,t\nA,1,1.5,ja\nB,2,,nee\n"))
    assert read.codebook["type"].tolist() == ["categorical", "integer", "float", "categorical"]
    assert (read.codebook[["label_nl", "label_en", "values", "missing_codes"]] == "").all().all()
    assert read.codebook[["min", "max"]].isna().all().all()
    summary = read.summary().splitlines()
    assert summary[0] == f"{tmp_path / 'k.csv'}: 2 rows x 4 columns (csv, encoding utf-8, separator ',', decimal '.')"
    assert summary[2] == "missing: 1 value in 1 column (1 missing in the file, 0 SPSS user-missing)"
    assert summary[3:] == [f"- {n}" for n in read.notes]
    shown = repr(read).splitlines()
    assert shown[0] == f"TableRead: {tmp_path / 'k.csv'}"
    assert "Data: 2 rows x 4 columns" in shown and f"Note. {read.notes[0]}" in shown


# --------------------------------------------------------------------------------------
# read_codebook
# --------------------------------------------------------------------------------------
def test_read_codebook_synthetic_and_schema_order():
    codebook = read_codebook(SYNTHETIC / "codebook.csv")
    assert codebook.columns.tolist() == list(CODEBOOK_COLUMNS)
    assert codebook["min"].dtype == "float64"
    sdq_01 = codebook.set_index(["file", "variable"]).loc[("families.csv", "sdq_01")]
    assert (sdq_01["min"], sdq_01["max"], sdq_01["instrument"]) == (0.0, 2.0, "sdq_parent")
    items = codebook[codebook["type"] == "item"]
    assert len(items) == 103 and (items["instrument"] != "").all()


def test_read_codebook_fills_optional_columns_and_checks_content(tmp_path):
    book = read_codebook(write(tmp_path, "cb.csv", "variable;type;min;extra\nq1;item;0,5;x\n"))
    assert book.columns.tolist() == list(CODEBOOK_COLUMNS) + ["extra"]
    assert book.loc[0, "min"] == 0.5 and book.loc[0, "label_nl"] == ""
    with pytest.raises(DataError, match=r"cb1\.csv: the codebook lacks the required column 'type'"):
        read_codebook(write(tmp_path, "cb1.csv", "variable,label_nl\nq1,vraag\n"))
    with pytest.raises(DataError, match=r"an unknown type on line 3 \(q2\)\.\nFix: use one of id, integer"):
        read_codebook(write(tmp_path, "cb2.csv", "variable,type\nq1,item\nq2,catagorical\n"))
    with pytest.raises(DataError, match=r"a variable listed twice for the same file on line 3 \(q1\)"):
        read_codebook(write(tmp_path, "cb3.csv", "variable,type\nq1,item\nq1,item\n"))
    with pytest.raises(DataError, match=r"a min that is not a number on line 2 \(q1\)"):
        read_codebook(write(tmp_path, "cb4.csv", "variable,type,min\nq1,item,laag\n"))
    with pytest.raises(DataError, match=r"min above max on line 2"):
        read_codebook(write(tmp_path, "cb5.csv", "variable,type,min,max\nq1,item,5,1\n"))
    with pytest.raises(DataError, match=r"an unknown level on line 2"):
        read_codebook(write(tmp_path, "cb6.csv", "variable,type,level\nq1,item,klas\n"))
    with pytest.raises(DataError, match=r"no variable name on line 2 \(no name\)"):
        read_codebook(write(tmp_path, "cb7.csv", "variable,type\n,item\n"))
    with pytest.raises(DataError, match=r"cb8\.xlsx: a codebook must be a \.csv file"):
        read_codebook(write(tmp_path, "cb8.xlsx", b"PK"))


def test_read_codebook_warns_on_fallback_encoding(tmp_path):
    path = write(tmp_path, "cb.csv", "variable;type;label_nl\nland;categorical;België\n", encoding="cp1252")
    with pytest.warns(DataWarning, match=r"cb\.csv: decoded as Windows-1252"):
        book = read_codebook(path)
    assert book.loc[0, "label_nl"] == "België"


# --------------------------------------------------------------------------------------
# Property: whatever pandas writes, read_table reads back (or says clearly why not)
# --------------------------------------------------------------------------------------
# pandas writes a lone carriage return unquoted, which makes the file itself ambiguous
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=6)
# column names without separator characters: a name such as 'a;b' over a row 'x;y' is
# ambiguous in any reader
_NAME = st.text(
    st.characters(whitelist_categories=("Lu", "Ll", "Nd"), whitelist_characters=' _"ëé'),
    min_size=1,
    max_size=5,
).filter(str.strip)


@st.composite
def frames(draw):
    n_rows = draw(st.integers(1, 5))
    names = draw(st.lists(_NAME, min_size=1, max_size=4, unique_by=str.strip))
    columns = {}
    for name in names:
        kind = draw(st.sampled_from(["int", "float", "text"]))
        if kind == "int":
            values = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n_rows, max_size=n_rows))
            columns[name] = pd.Series(values, dtype="int64")
        elif kind == "float":
            element = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.just(np.nan))
            columns[name] = pd.Series(draw(st.lists(element, min_size=n_rows, max_size=n_rows)), dtype="float64")
        else:
            columns[name] = pd.Series(draw(st.lists(_TEXT, min_size=n_rows, max_size=n_rows)), dtype=object)
    return pd.DataFrame(columns)


def _written_blank(value) -> bool:
    return (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and not value.strip())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frame=frames(), dutch=st.booleans())
def test_written_csv_reads_back_with_same_shape_and_numbers(tmp_path, frame, dutch):
    path = tmp_path / "p.csv"
    frame.to_csv(path, index=False, sep=";" if dutch else ",", decimal="," if dutch else ".", encoding="utf-8")
    try:
        read = read_table(path, id_columns=())
    except DataError:
        return
    expected_rows = len(frame)
    while expected_rows and all(_written_blank(v) for v in frame.iloc[expected_rows - 1]):
        expected_rows -= 1
    assert read.data.shape == (expected_rows, frame.shape[1])
    for j, column in enumerate(frame.columns):
        if frame[column].dtype != object:
            got, want = read.data.iloc[:, j], frame[column].iloc[:expected_rows]
            assert got.dtype == want.dtype, (column, got.tolist())
            np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())


# --------------------------------------------------------------------------------------
# Header row, row numbers, ids, decimal marks
# --------------------------------------------------------------------------------------
def test_source_names_the_header_row_and_the_first_data_row(tmp_path):
    read = read_table(write(tmp_path, "s.csv", "sep=;\na;b\n1;2\n"))
    assert (read.source["header_row"], read.source["first_row"]) == (2, 3)
    book = tmp_path / "t.xlsx"
    workbook = openpyxl.Workbook()
    for row in (["Titel"], [], [], ["id", "score"], ["A", 1]):
        workbook.active.append(row)
    workbook.save(book)
    read = read_table(book)
    assert (read.source["header_row"], read.source["first_row"]) == (4, 5)
    assert read.notes[0].startswith("header on row 4 (rows 1-3 read as title: 'Titel')")
    given = read_table(book, header_row=4)
    assert given.data.equals(read.data) and not any(n.startswith("header on") for n in given.notes)


def test_header_row_given_for_csv_and_out_of_range(tmp_path):
    path = write(tmp_path, "h.csv", "Rapport;;\nnaam;x;y\nA;1;2\n")
    assert read_table(path).data.columns.tolist() == ["naam", "x", "y"]
    assert read_table(path, header_row=2).data.columns.tolist() == ["naam", "x", "y"]
    with pytest.raises(DataError, match=r"there is no line 9 where a row starts(.|\n)*Fix: set header_row="):
        read_table(path, header_row=9)
    with pytest.raises(ValueError, match=r"header_row=0 must be a row number"):
        read_table(path, header_row=0)


def test_ids_are_read_as_text_and_other_columns_on_request(tmp_path):
    path = write(tmp_path, "ids.csv", "team;family;code\n10.1;0007;1\n10.10;7;2\n")
    read = read_table(path)
    assert read.data["team"].tolist() == ["10.1", "10.10"]
    assert read.data["family"].tolist() == ["0007", "7"]
    assert read.data["code"].tolist() == [1, 2]
    chosen = read_table(path, id_columns=("code", "client"))
    assert chosen.data["code"].tolist() == ["1", "2"]
    assert chosen.data["team"].tolist() == [10.1, 10.1]  # not an id any more: a number
    assert "id column 'client' given in id_columns= not in the file" in chosen.notes


def test_decimal_option_both_comma_and_point(tmp_path):
    path = write(tmp_path, "d.csv", "a;b\n3,5;1.234\n3.5;2\n")
    with pytest.raises(DataError, match=r"(?s)column b mixes decimal marks.*Fix: .*decimal=','.*decimal='both'"):
        read_table(write(tmp_path, "e.csv", "a;b\n3,5;1.234\n3,25;2,5\n"))
    both = read_table(path, decimal="both")
    assert both.data["a"].tolist() == [3.5, 3.5] and both.data["b"].tolist() == [1.234, 2.0]
    assert both.source["decimal"] == "both"
    comma = read_table(path, decimal=",")
    assert comma.data["a"].tolist() == ["3,5", "3.5"]  # '3.5' is no number when '.' groups thousands
    assert comma.data["b"].tolist() == [1234, 2]
    assert any("cannot be read as numbers with the decimal mark ','" in n for n in comma.notes)


def test_whole_numbers_with_a_decimal_comma_decide_what_1_234_means(tmp_path):
    """'3,0' shows that ',' is the decimal mark, so '1.234' groups thousands."""
    read = read_table(write(tmp_path, "w.csv", "a;b\n3,0;1.234\n4,0;5\n;6\n"))
    assert read.data["b"].tolist() == [1234, 5, 6]
    assert any("'.' taken as thousands separator" in n for n in read.notes)


def test_options_name_the_callers_options(tmp_path):
    cli = PYTHON.renamed({"sheet": "--sheet", "sep": "--sep"}, assign="{name} {value}", language="cli")
    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"a": [1]}).to_excel(writer, sheet_name="Data", index=False)
    with pytest.raises(DataError, match=r"Fix: set --sheet to one of these names"):
        read_table(path, sheet="data", options=cli)
    ragged = write(tmp_path, "r.csv", "a;b\n1;2\n3;4;5\n")
    with pytest.raises(DataError, match=r"Fix: if the separator is not ';', set --sep;"):
        read_table(ragged, options=cli)


@st.composite
def _dutch_csv(draw):
    """Small ';' files mixing every kind of cell the classification tells apart."""
    cells = st.sampled_from(
        ["", " ", "NA", ".", "0", "7", "007", "12", "-3", "+4", "3,5", "3,0", "0,25", "1.234",
         "1.234,5", "3.5", "1e3", "True", "inf", "x", "ja, vaak", "#DIV/0!", "2023-05-01",
         "'=1+1", '"a;b"', '"r1\nr2"', "99999999999999999999", "F12 ", "1,234", "0,001",
         " 3,5 ", "1.234.567", "1,234.5", "-", "#NULL!", "NaN", '"12"', "1E5", "12,00"]
    )
    width = draw(st.integers(1, 4))
    names = [f"c{j}" for j in range(width)]
    if draw(st.booleans()):
        names[0] = "family"
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), min_size=1, max_size=6))
    return ";".join(names) + "\n" + "".join(";".join(r) + "\n" for r in rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=_dutch_csv())
def test_fast_and_exact_paths_agree(tmp_path, monkeypatch, content):
    """pandas' parser (the fast path) reads every file as the csv module (the reference) does."""
    from lerendtransformeren.io import _text

    path = write(tmp_path, "f.csv", content)

    def outcome():
        try:
            read = read_table(path)
        except DataError as err:
            return str(err)
        return read.data, read.notes, read.source["first_row"], read.codebook

    fast = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(_text, "_fast", lambda *args, **kwargs: None)
        exact = outcome()
    if isinstance(fast, str) or isinstance(exact, str):
        assert fast == exact
    else:
        pd.testing.assert_frame_equal(fast[0], exact[0])
        assert fast[1:3] == exact[1:3]
        pd.testing.assert_frame_equal(fast[3], exact[3])


# --------------------------------------------------------------------------------------
# SPSS value labels
# --------------------------------------------------------------------------------------
def test_sav_value_labels_as_categories_keep_code_order_and_unlabelled_codes(tmp_path):
    path = tmp_path / "l.sav"
    frame = pd.DataFrame({"q": [3.0, 1.0, 2.0, 99.0, np.nan], "r": [1.0, 2.0, 1.0, 2.0, 1.0]})
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={"q": {1: "nooit", 3: "vaak", 99: "weet niet"}, "r": {1: "ja", 2: "ja"}},
        missing_ranges={"q": [99]},
    )
    codes = read_table(path)
    assert codes.data["q"].tolist()[:3] == [3, 1, 2]
    read = read_table(path, value_labels="categorical")
    q = read.data["q"]
    assert q.cat.ordered and q.cat.categories.tolist() == ["nooit", "2", "vaak", "weet niet"]
    assert q.tolist()[:3] == ["vaak", "nooit", "2"] and q.isna().tolist()[3:] == [True, True]
    assert read.data["r"].cat.categories.tolist() == ["ja (1)", "ja (2)"]
    notes = " | ".join(read.notes)
    assert "codes without a value label kept as categories named by the code ('2')" in notes
    assert "column r: one label for several codes; categories named 'label (code)'" in notes
    assert read.codebook.set_index("variable").loc["q", "values"] == "1=nooit;3=vaak;99=weet niet"
    with pytest.raises(ValueError, match=r"value_labels= does not apply to csv files"):
        read_table(write(tmp_path, "a.csv", "a\n1\n"), value_labels="categorical")


# --------------------------------------------------------------------------------------
# write_table
# --------------------------------------------------------------------------------------
def _table_to_write() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": ["F1", "F2", "0007"],
            "n": [1, -2, 3],
            "score": [-0.5, np.nan, 1e-20],
            "remark": ["=SUM(A1)", 'a;b,"c"\nd', "-geen"],
            "label": ["<script>x</script>", "@cmd", "ok"],
            "code": ["-0.5", "+31 6", "ja"],
        }
    )


@pytest.mark.parametrize(("name", "options"), [("nl.csv", {}), ("en.csv", {"dutch": False}), ("t.xlsx", {})])
def test_write_table_round_trips_and_guards_formulas(tmp_path, name, options):
    frame = _table_to_write()
    path = tmp_path / name
    notes = write_table(frame, path, **options)
    assert any(n.startswith("column remark: 2 text values that a spreadsheet would run as a formula") for n in notes)
    assert any(n.startswith("column code: 1 text value") for n in notes)  # '+31 6'; '-0.5' is a number
    read = read_table(path)
    pd.testing.assert_frame_equal(read.data, frame)
    if path.suffix == ".csv":
        text = path.read_bytes()
        assert text.startswith(b"\xef\xbb\xbf")
        assert ("'=SUM(A1)" in text.decode("utf-8-sig")) and ("'@cmd" in text.decode("utf-8-sig"))
        assert text.decode("utf-8-sig").splitlines()[0] == (
            "family;n;score;remark;label;code" if options == {} else "family,n,score,remark,label,code"
        )
        assert any("the apostrophe was removed" in n for n in read.notes)
    else:
        sheet = openpyxl.load_workbook(path)["Data"]
        assert sheet["D2"].data_type == "s" and sheet["D2"].quotePrefix and sheet["D2"].value == "=SUM(A1)"
        assert sheet["C2"].value == -0.5 and sheet["C2"].data_type == "n"


def test_write_table_sav_with_codebook_labels_and_categories(tmp_path):
    frame = pd.DataFrame(
        {
            "family": ["F1", "F2", "F3"],
            "q1": [1.0, 3.0, 99.0],
            "ses": pd.Categorical(["laag", "hoog", None], categories=["laag", "hoog"], ordered=True),
        }
    )
    codebook = pd.DataFrame(
        {
            "variable": ["q1", "ses"],
            "label_nl": ["Hoe gaat het?", "Sociaal-economische status"],
            "values": ["1=slecht;3=goed;99=weet niet", "1=laag;2=hoog"],
            "missing_codes": ["99", ""],
        }
    )
    path = tmp_path / "out.sav"
    assert write_table(frame, path, codebook=codebook) == ()
    read = read_table(path)
    assert read.data["q1"].tolist()[:2] == [1, 3] and np.isnan(read.data["q1"].iloc[2])
    assert read.missing.loc["q1", "user_missing_by_code"] == "99=1"
    assert read.data["ses"].tolist()[:2] == [1, 2]
    book = read.codebook.set_index("variable")
    assert book.loc["q1", "label_nl"] == "Hoe gaat het?" and book.loc["ses", "values"] == "1=laag;2=hoog"
    again = read_table(path, value_labels="categorical").data["ses"]
    assert again.tolist()[:2] == ["laag", "hoog"]
    plain = write_table(frame.drop(columns="q1"), tmp_path / "plain.sav")
    assert plain == ("categorical column ses written as codes 1, 2, ... with value labels",)


def test_write_table_refuses_what_does_not_fit(tmp_path):
    frame = pd.DataFrame({"a": ["x" * 40_000]})
    with pytest.raises(DataError, match=r"(?s)longer than an Excel cell holds.*Fix: write a \.csv or \.sav"):
        write_table(frame, tmp_path / "long.xlsx")
    with pytest.raises(ValueError, match=r"write_table writes \.csv, \.xlsx, \.sav"):
        write_table(frame, tmp_path / "a.json")
    with pytest.raises(ValueError, match=r"value_labels= and codebook= apply to \.sav files only"):
        write_table(frame, tmp_path / "a.csv", value_labels={"a": {}})
    with pytest.raises(DataError, match=r"(?s)cannot be written as an SPSS file.*'mijn score'"):
        write_table(pd.DataFrame({"mijn score": [1.0]}), tmp_path / "s.sav")
    notes = write_table(pd.DataFrame({"a": ["NA", "x"]}), tmp_path / "m.csv")
    assert notes == ("column a: 1 text value such as 'NA' will read back as missing (a missing marker)",)
