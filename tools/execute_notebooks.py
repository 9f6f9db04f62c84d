"""Re-execute notebooks in place and store their outputs (run by ``make notebooks``).

Use after a change that moves a number: nbval in ``make test`` then compares against the
new outputs. Cell ids are renumbered and no timing metadata is stored, so running twice
on the same code gives the same files. Fails when a cell raises or writes to stderr.

    python tools/execute_notebooks.py [notebooks/NN_name.ipynb ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, timeout: int = 600) -> list[str]:
    """Execute one notebook in its own folder; return a list of problems (empty if fine)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
        if "outputs" in cell:
            cell["outputs"] = _merge_streams(cell["outputs"])
    nbformat.write(nb, path)
    problems = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                problems.append(f"{path.name}: cell {i} writes to stderr: {out['text'][:200]!r}")
    return problems


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of the same stream: the kernel splits them at random
    points, so without this two runs of the same code store different files (nbval joins
    them too before it compares)."""
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and last is not None and last.get("output_type") == "stream"
                and last.get("name") == out.get("name")):
            last["text"] += out["text"]
        else:
            merged.append(out)
    return merged


def main(argv: list[str]) -> int:
    paths = [Path(p).resolve() for p in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    problems = []
    for path in paths:
        print(f"executing {path.relative_to(ROOT)}", flush=True)
        problems += execute(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
