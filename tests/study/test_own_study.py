"""A second worked example: a study whose files differ from the synthetic layout.

The synthetic study is rewritten as a workplace would export it: the parents' file as SPSS
(.sav) with other column names, wave labels "Meting 1".."Meting 4", PSOC items named
PSOC1..PSOC16 and -9 as a user-missing code; the professionals' file as Excel with a notes
sheet first and two title rows above the header; no goal column (goals given per
organisation in the study definition); no organisations file. It goes through ``init``,
``validate --study`` and ``report --study``, and its reports must give the same effects
as the synthetic study read in the contract's own layout: the gate maps, it does not change.
"""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from lerendtransformeren.cli import main
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.goalreport import analyse_goal, build_goal_report
from lerendtransformeren.report.render import render_markdown
from lerendtransformeren.study import load_study
from lerendtransformeren.study.data import BUNDLED
from lerendtransformeren.study.definition import read_definition

WAVES = {0: "Meting 1", 1: "Meting 2", 2: "Meting 3", 3: "Meting 4"}
FAMILY_COLUMNS = {"organisation": "org", "team": "team_nr", "professional": "medewerker",
                  "family": "gezin_id", "wave": "meting", "offer": "aanbod"}
PROF_COLUMNS = {"organisation": "Organisatie", "team": "Team", "professional": "Medewerker",
                "wave": "Meting", "offer": "Aanbod"}

DEFINITION = """\
name: Pilot (tweede voorbeeld)
version: 1
ids: strict
files:
  families:
    path: gezinnen.sav
    columns: {organisation: org, team: team_nr, professional: medewerker, family: gezin_id,
              wave: meting, offer: aanbod, age_band: leeftijd, migration_background: migratie,
              ses: ses, referral: verwijzing, contacts: contacten, one_plan: een_plan,
              one_coordinator: een_regisseur}
    recode:
      wave: {"Meting 1": 0, "Meting 2": 1, "Meting 3": 2, "Meting 4": 3}
    missing_codes:
      "*": [-9]
    instruments:
      psoc: {%PSOC%}
      sdq_parent: same
      mastery: same
      support: same
      sdmq9: same
      gas: same
  professionals:
    path: medewerkers.xlsx
    sheet: Data
    header_row: 3
    columns: {organisation: Organisatie, team: Team, professional: Medewerker, wave: Meting,
              offer: Aanbod, role: role}
    recode:
      wave: {"Meting 1": 0, "Meting 2": 1, "Meting 3": 2, "Meting 4": 3}
    instruments:
      uwes9: same
      burden: same
      impl: same
      collab: same
goals: {%GOALS%}
"""


def _families(frame: pd.DataFrame) -> pd.DataFrame:
    renames = {**FAMILY_COLUMNS, "age_band": "leeftijd", "migration_background": "migratie",
               "referral": "verwijzing", "contacts": "contacten", "one_plan": "een_plan",
               "one_coordinator": "een_regisseur"}
    renames |= {f"psoc_{i:02d}": f"PSOC{i}" for i in range(1, 17)}
    out = frame.drop(columns=["goal"]).rename(columns=renames)
    out["meting"] = out["meting"].map(WAVES)
    items = [f"PSOC{i}" for i in range(1, 17)]
    out[items] = out[items].fillna(-9)  # SPSS users code 'no answer' as -9
    keep = [c for c in out.columns if not c.startswith("kidscreen")]
    return out[keep]


def _write_sav(frame: pd.DataFrame, path) -> None:
    items = [f"PSOC{i}" for i in range(1, 17)]
    pyreadstat.write_sav(frame, str(path), missing_ranges={c: [-9] for c in items},
                         variable_value_labels={"aanbod": {0: "nog niet", 1: "gestart"}})


def _write_xlsx(frame: pd.DataFrame, path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Toelichting"
    notes.append(["Export uit het registratiesysteem; alleen voor onderzoek."])
    sheet = book.create_sheet("Data")
    sheet.append(["Vragenlijst medewerkers, pilot"])
    sheet.append([])
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if (isinstance(v, float) and np.isnan(v)) else (v.item() if hasattr(v, "item") else v)
                      for v in row])
    book.save(path)


@pytest.fixture(scope="module")
def own_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pilot")
    families = pd.read_csv(BUNDLED / "families.csv", dtype={c: str for c in FAMILY_COLUMNS if c not in ("wave", "offer")})
    professionals = pd.read_csv(BUNDLED / "professionals.csv",
                                dtype={c: str for c in ("organisation", "team", "professional")})
    _write_sav(_families(families), folder / "gezinnen.sav")
    pro = professionals.drop(columns=["goal"]).rename(columns=PROF_COLUMNS)
    pro["Meting"] = pro["Meting"].map(WAVES)
    _write_xlsx(pro, folder / "medewerkers.xlsx")
    goals = dict(families.groupby("organisation")["goal"].first().astype(int))
    text = DEFINITION.replace("{%PSOC%}", "{" + ", ".join(f"psoc_{i:02d}: PSOC{i}" for i in range(1, 17)) + "}")
    text = text.replace("{%GOALS%}", "{" + ", ".join(f"{k}: {v}" for k, v in sorted(goals.items())) + "}")
    return folder, text


def test_init_guesses_roles_columns_and_instruments(own_study, capsys):
    folder, _ = own_study
    assert main(["init", str(folder)]) == 0
    starter = (folder / "study.yaml").read_text(encoding="utf-8")
    out = capsys.readouterr().out
    assert "gezinnen.sav: read as families" in out and "medewerkers.xlsx: read as professionals" in out
    assert "family: 'gezin_id'  # guessed" in starter and "wave: 'meting'  # guessed" in starter
    assert "sdq_parent: same" in starter and "PSOC1" in starter  # renamed items found by name
    assert "# TODO" in starter
    definition = read_definition(folder / "study.yaml")  # a starter file is valid YAML of the right shape
    assert set(definition.files) == {"families", "professionals"}
    assert main(["init", str(folder)]) == 1  # no silent overwrite


def test_validate_and_report_through_the_definition(own_study, tmp_path, capsys):
    folder, text = own_study
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    assert main(["validate", "--study", str(folder / "study.yaml")]) == 0
    out = capsys.readouterr().out
    assert "every file passed" in out
    assert re.search(r"SPSS user-missing", out)  # the -9 codes of the .sav are counted
    assert "mapped by the study definition:" in out and "wave: " in out and "recoded" in out
    assert main(["report", "--study", str(folder / "study.yaml"), "--goal", "2", "--format", "md",
                 "--out", str(tmp_path), "--date", "2026-12-04"]) == 0
    report = (tmp_path / "goal2_normaliseren.md").read_text(encoding="utf-8")
    assert "Meldingen bij het inlezen" in report


def test_the_gate_maps_without_changing_the_numbers(own_study):
    folder, text = own_study
    (folder / "study.yaml").write_text(text, encoding="utf-8")
    own = load_study(folder / "study.yaml")
    bundled = load_study()
    for goal in (2, 5):
        a, b = analyse_goal(own, goal), analyse_goal(bundled, goal)
        for ea, eb in zip(a.effects, b.effects):
            assert ea.measure == eb.measure
            np.testing.assert_allclose(ea.row[["estimate", "se", "df"]].astype(float),
                                       eb.row[["estimate", "se", "df"]].astype(float), rtol=1e-9)
    assert any("SPSS user-missing values" in n for n in own.notes)
    assert any("recoded" in n for n in own.notes)


def test_a_broken_definition_names_the_key_and_the_fix(own_study, capsys):
    folder, text = own_study
    broken = folder / "broken.yaml"
    broken.write_text(text.replace("team: team_nr", "teem: team_nr"), encoding="utf-8")
    assert main(["validate", "--study", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "'teem'" in err and "Fix:" in err and "Traceback" not in err
    wrong_col = folder / "wrong.yaml"
    wrong_col.write_text(text.replace("gezin_id", "gezin"), encoding="utf-8")
    assert main(["report", "--study", str(wrong_col), "--goal", "1", "--format", "md"]) == 1
    err = capsys.readouterr().err
    assert "'gezin'" in err and "gezinnen.sav" in err and "Fix:" in err


def _contract_folder(tmp_path, families: pd.DataFrame, definition: str | None = None):
    families.to_csv(tmp_path / "families.csv", index=False)
    if definition is not None:
        (tmp_path / "study.yaml").write_text(definition, encoding="utf-8")
    return tmp_path


@pytest.fixture(scope="module")
def families_small():
    frame = pd.read_csv(BUNDLED / "families.csv", dtype={c: str for c in ("organisation", "team", "professional", "family")})
    return frame.loc[frame["goal"].isin([1, 2])].reset_index(drop=True)


def test_report_stops_before_fitting_with_the_same_message_as_validate(families_small, tmp_path, capsys):
    broken = families_small.copy()
    team = broken["team"].iloc[0]
    rows = broken.index[broken["team"] == team][:3]
    broken.loc[rows, "organisation"] = "O99"  # one team under two organisations
    (tmp_path / "in").mkdir()
    folder = _contract_folder(tmp_path / "in", broken)
    assert main(["validate", "--study", str(folder)]) == 1
    said_by_validate = capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["report", "--study", str(folder), "--format", "md", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err == said_by_validate
    assert "appears under 2 organisations" in said_by_validate and "Fix:" in said_by_validate
    assert "modellen geschat" not in captured.out and not out.exists()  # nothing was fitted or written


def test_missing_codes_and_recodes_are_applied_and_counted(families_small, tmp_path):
    frame = families_small.copy()
    frame.loc[frame.index[:7], "mastery_01"] = 99
    frame["wave"] = frame["wave"].map({0: "T0", 1: "T1", 2: "T2", 3: "T3"})
    definition = ("files:\n  families:\n    path: families.csv\n    missing_codes: {mastery_01: [99]}\n"
                  "    recode: {wave: {T0: 0, T1: 1, T2: 2, T3: 3}}\n")
    folder = _contract_folder(tmp_path, frame, definition)
    study = load_study(folder)
    assert study.families["mastery_01"].isna().sum() == families_small["mastery_01"].isna().sum() + 7
    assert sorted(study.families["wave"].unique()) == [0, 1, 2, 3]
    assert "families.csv: mastery_01: 7 value(s) equal to a missing code (99) set to missing" in study.notes
    frame.loc[frame.index[3], "wave"] = "Meting 5"
    frame.to_csv(folder / "families.csv", index=False)
    with pytest.raises(DataError, match=r"'Meting 5'.*row 5.*\nFix: add them under recode.wave"):
        load_study(folder)


def test_report_notes_never_show_an_identifier(families_small, tmp_path):
    frame = families_small.copy()
    frame.loc[frame.index[0], "family"] = frame["family"].iloc[0] + " "  # a stray space
    definition = "ids: strip\nfiles:\n  families:\n    path: families.csv\n"
    folder = _contract_folder(tmp_path, frame, definition)
    study = load_study(folder)
    stripped = [n for n in study.notes if "strip" in n.lower() or "space" in n.lower()]
    assert stripped, study.notes
    doc = build_goal_report(study, 1, lang="nl", date="2026-12-04")
    text = render_markdown(doc, identifiers=study.identifiers)  # raises if an id were shown
    assert "Meldingen bij het inlezen" in text


def test_scoring_names_the_same_rows_as_validate(families_small, tmp_path):
    frame = families_small.copy()
    frame.loc[frame.index[10], "mastery_01"] = 9  # outside the codes 1..4 of the Pearlin items
    folder = _contract_folder(tmp_path, frame)
    with pytest.raises(DataError) as info:
        load_study(folder)
    assert "mastery_01" in str(info.value)
    assert re.search(r"\brows? 12\b", str(info.value)), str(info.value)  # data row 10 is row 12 in Excel
