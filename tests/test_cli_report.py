"""The `report` command: exit codes 0, 1 and 2 and the files it writes."""

from __future__ import annotations

import pytest

from lerendtransformeren import cli


def test_report_writes_a_goal_and_the_overview(tmp_path, capsys):
    """Replacement for tests/test_cli.py::test_report_says_not_yet."""
    out = tmp_path / "reports"
    code = cli.main(["report", "--goal", "5", "--format", "md", "--out", str(out),
                     "--date", "2026-11-23", "--jobs", "1"])
    assert code == 0
    assert sorted(p.name for p in out.glob("*.md")) == ["goal5_ruimte_professionals.md", "overview.md"]
    assert "[1/1] doel 5: Meer ruimte voor professionals ... klaar (md" in capsys.readouterr().out
    assert "2026-11-23" in (out / "goal5_ruimte_professionals.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [["--goal", "7"], ["--goal", "x"], ["--format", "pdf"], ["--date", "23-11-2026"],
     ["--lang", "de"], ["--k", "0"], ["--impute", "1"], ["--impute", "0"], ["--impute", "x"]],
)
def test_report_usage_errors_exit_2(args, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--out", str(tmp_path), *args])
    assert info.value.code == 2


def test_report_on_a_missing_data_folder_exits_1(tmp_path, capsys):
    assert cli.main(["report", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_report_on_a_folder_without_data_exits_1(tmp_path, capsys):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    assert cli.main(["report", "--data", str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "neither families.csv nor professionals.csv" in capsys.readouterr().err


def test_report_impute_below_two_names_the_fix(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["report", "--out", str(tmp_path), "--impute", "1"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --impute: 1 imputed data sets; give 2 or more" in err
    assert not any(tmp_path.iterdir())  # stopped before anything was fitted or written


def test_report_impute_adds_the_sensitivity_analysis(tmp_path, capsys):
    out = tmp_path / "reports"
    code = cli.main(["report", "--goal", "5", "--format", "md", "--out", str(out), "--date", "2026-11-23",
                     "--jobs", "2", "--impute", "4", "--lang", "en", "--seed", "11"])
    assert code == 0
    text = (out / "goal5_ruimte_professionals.md").read_text(encoding="utf-8")
    para = next(p for p in text.split("\n\n") if p.startswith("Sensitivity analysis 3"))
    assert "work engagement" in para and "(m = 4;" in para and "fraction of missing information" in para
    assert "R-hat" in para and "pooled by Rubin's rules" in para
    assert "Barnard, J., & Rubin, D. B. (1999)" in text and "Quartagno et al., 2019" in text
    overview = (out / "overview.md").read_text(encoding="utf-8")
    assert "imput" not in overview.lower()  # the overview shows the main models only
