"""Every notebook under notebooks/ is validated by nbval in the test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NBVAL_ARGS = ("--nbval", "--nbval-current-env", "--nbval-sanitize-with notebooks/sanitize.cfg")


def _make_test_command() -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^test:.*\n((?:\t.*\n)+)", text, flags=re.MULTILINE)
    assert match, "Makefile has no test target"
    return match.group(1)


def test_make_test_runs_nbval_strictly_on_the_notebooks():
    command = _make_test_command()
    for arg in NBVAL_ARGS:
        assert arg in command, f"`make test` must pass {arg}"
    assert "--nbval-lax" not in command
    assert re.search(r"\snotebooks(/|\s|$)", command), "`make test` must collect notebooks/"
    assert (ROOT / "notebooks" / "sanitize.cfg").is_file()


def test_every_notebook_was_collected_by_this_session(request, collected_notebooks):
    if not request.config.getoption("--nbval", default=False):
        pytest.skip("this run was not started with --nbval (the Makefile check above covers `make test`)")
    missing = [nb.name for nb in NOTEBOOKS if nb.resolve() not in collected_notebooks]
    assert not missing, f"notebooks not validated by nbval in this run: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_notebook_is_valid_and_opens_with_the_python_kernel(path):
    """Valid nbformat (JupyterLab warns on invalid files), the standard kernel, no error outputs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), "every code cell has stored output"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not [o for c in code for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
