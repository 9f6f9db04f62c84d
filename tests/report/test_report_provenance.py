"""Provenance: checksums, git commit when available, versions, a date passed in."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
from pathlib import Path

from lerendtransformeren.report import provenance
from lerendtransformeren.report.provenance import collect_provenance, git_commit, sha256_file


def test_checksums_and_names_of_inputs(tmp_path, families_path):
    (tmp_path / "a.csv").write_bytes(b"x,y\n1,2\n")
    prov = collect_provenance(date=dt.date(2026, 11, 23), inputs=[tmp_path / "a.csv", families_path], seed=7)
    assert prov.inputs[0] == ("a.csv", hashlib.sha256(b"x,y\n1,2\n").hexdigest())
    assert prov.inputs[1] == ("families.csv", hashlib.sha256(families_path.read_bytes()).hexdigest())
    assert sha256_file(families_path) == prov.inputs[1][1]
    items = prov.items("nl")
    assert ("SHA-256 a.csv", prov.inputs[0][1]) in items
    assert ("Seed", "7") in items and ("Datum", "2026-11-23") in items
    assert str(tmp_path) not in str(items)  # file names only, no user folders


def test_date_is_taken_not_read_and_versions_are_listed():
    a = collect_provenance(date="2026-01-02")
    b = collect_provenance(date=dt.datetime(2026, 1, 2, 15, 30))
    assert a == b and a.date == dt.date(2026, 1, 2)
    libs = dict(a.libraries)
    assert {"numpy", "pandas", "matplotlib", "python-docx"} <= set(libs)
    assert a.package_version and a.python.count(".") == 2
    assert "Seed" not in dict(a.items("en"))


def test_git_commit_outside_a_checkout_and_without_git(tmp_path, monkeypatch):
    loose = tmp_path / "x.py"
    loose.write_text("")
    assert git_commit(loose) is None
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on the path
    assert git_commit() is None


def test_git_commit_inside_this_checkout():
    package_init = Path(provenance.__file__).resolve().parents[1] / "__init__.py"
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(package_init)],
        cwd=package_init.parent, capture_output=True, check=False,
    )
    commit = git_commit()
    if tracked.returncode != 0:
        assert commit is None
    else:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=package_init.parent, capture_output=True, text=True).stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", commit) and commit.startswith(head)
