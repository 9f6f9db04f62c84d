"""The command line: generate, validate, report; exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lerendtransformeren import cli, synthetic

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
