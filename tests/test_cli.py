"""The command line: generate, validate, report; exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lerendtransformeren import cli, synthetic
from lerendtransformeren.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic"


def test_validate_the_bundled_families_file(capsys):
    assert cli.main(["validate", str(DATA / "families.csv")]) == 0
    out = capsys.readouterr().out
    # the structure: units per level and respondents per wave, and missingness
    for expected in ("organisation", "team", "professional", "family", "15", "2859", "1975"):
        assert expected in out
    assert "missing" in out.lower()
    # codebook beside the file is picked up
    assert "codebook.csv" in out


def test_validate_exits_1_and_names_both_organisations_and_the_team(tmp_path, capsys):
    fam = pd.read_csv(DATA / "families.csv")
    team = "O01-T1"
    rows = fam.index[fam["team"] == team][:3]
    fam.loc[rows, "organisation"] = "O02"
    bad = tmp_path / "families.csv"
    fam.to_csv(bad, index=False)
    assert cli.main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert team in err and "'O01'" in err and "'O02'" in err


def test_validate_a_missing_file_exits_1(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path / "nope.csv")]) == 1
    assert "nope.csv" in capsys.readouterr().err


def test_generate_writes_every_file(tmp_path, capsys):
    assert cli.main(["generate", "--seed", "3", "--out", str(tmp_path / "study")]) == 0
    assert sorted(p.name for p in (tmp_path / "study").iterdir()) == sorted(synthetic.FILES)
    assert "seed 3" in capsys.readouterr().out


def test_usage_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        cli.main(["no-such-command"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2


SCRIPT = Path(sys.executable).with_name("lerendtransformeren")


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed beside this Python")
def test_console_script_help_and_exit_code():
    for sub in ([], ["generate"], ["validate"], ["report"]):
        done = subprocess.run([str(SCRIPT), *sub, "--help"], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "usage: lerendtransformeren" in done.stdout


def test_cli_messages_name_cli_options_not_python_arguments(tmp_path, capsys):
    path = tmp_path / "ids.csv"
    path.write_text("organisation;team;family;wave\nO1;T1;F1 ;0\nO1;T1;F1;1\n", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "--ids strip" in err and "ids=" not in err and "Traceback" not in err
    assert "row 2" in err  # the row as the spreadsheet numbers it
    assert main(["validate", str(path), "--ids", "strip"]) == 0
    assert "spaces around ids removed (--ids strip): 1 cell in 'family'" in capsys.readouterr().out


def test_generate_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["generate", "--seed", "3", "--out", str(tmp_path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert not (tmp_path / "families.csv").exists()
    assert main(["generate", "--seed", "3", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "families.csv").exists() and (tmp_path / "study.yaml").exists()
