"""The documentation site (docs/, Sphinx) builds without a single warning, so it cannot rot.

The build is the one ``make docs`` runs (``-W --keep-going``: every warning is an error,
all of them are reported), into a temporary directory; nothing is written into docs/. A
docstring that numpydoc or docutils cannot read, a Markdown page outside every table of
contents or a broken include fails this test with Sphinx's own message. It takes about
20 s of CPU (15-20 s on an idle two-core machine, up to a minute on a loaded one).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PACKAGE = "lerendtransformeren"


def _build(out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    command += ["-d", str(out / "doctrees"), str(DOCS), str(out / "html")]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def _documented_modules(inventory: Path) -> set[str]:
    """Module names in a Sphinx objects.inv (version 2: four header lines, then zlib)."""
    raw = inventory.read_bytes()
    body = raw.split(b"\n", 4)[4]
    text = zlib.decompress(body).decode("utf-8")
    return set(re.findall(r"^(\S+) py:module ", text, flags=re.MULTILINE))


def _public_modules() -> list[str]:
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{PACKAGE}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def _shadowed(name: str) -> bool:
    """A submodule hidden behind a package attribute of the same name (scales.reliability)."""
    parent, _, last = name.rpartition(".")
    return getattr(importlib.import_module(parent), last, None) is not importlib.import_module(name)


def test_docs_build_without_warnings_and_cover_every_public_module(tmp_path):
    result = _build(tmp_path)
    assert result.returncode == 0, (
        "the documentation does not build cleanly (make docs shows the same); Sphinx said:\n"
        + result.stderr
        + result.stdout
    )
    html = tmp_path / "html"
    for page in ("index", "readme", "architecture", "instruments", "own-study", "changelog", "contributing"):
        assert (html / f"{page}.html").is_file(), f"docs page {page!r} was not built"
    documented = _documented_modules(html / "objects.inv")
    missing = [name for name in _public_modules() if name not in documented and not _shadowed(name)]
    assert not missing, (
        f"public modules without an API page: {missing}; add a page under docs/api/ with "
        "'.. lt-package:: <module>' and list it in docs/api/index.rst"
    )
