"""Benchmark: reading a 200,000-row Dutch csv with ``read_table`` next to ``pandas.read_csv``.

Run on demand (``python benchmarks/bench_io.py``). Writes a seeded file in a temporary
folder, as Dutch Excel exports it: ``;`` between fields, decimal commas, UTF-8; 20 columns:
the ids of goal, organisation, team, professional and family, the wave, ten items 0..4
with about 5% missing (empty cells), three scores with three decimals (2% missing) and a
text column. Then times ``io.read_table`` (every check and note included) and the plain
``pd.read_csv(path, sep=";", decimal=",")`` in the same run, best of three each, and prints
the ratio (the runs alternate, so that other load on the machine hits both alike).
Target (issue 9): ``read_table`` within 3x of pandas. Not a unit test: timings
depend on the machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lerendtransformeren.io import read_table


def make_file(path: Path, n: int = 200_000, seed: int = 1) -> None:
    """A long Dutch csv: ids, wave, items 0..4, scores with decimal commas, text."""
    rng = np.random.default_rng(seed)
    family = rng.integers(1, n // 3, n)
    professional = family % 900
    team = professional % 60
    organisation = team % 15
    data = {
        "goal": organisation % 5 + 1,
        "organisation": [f"O{o:02d}" for o in organisation],
        "team": [f"O{o:02d}-T{t:02d}" for o, t in zip(organisation, team)],
        "professional": [f"P{p:04d}" for p in professional],
        "family": [f"F{f:06d}" for f in family],
        "wave": rng.integers(0, 4, n),
    }
    for k in range(1, 11):
        item = pd.array(rng.integers(0, 5, n), dtype="Int64")
        item[rng.random(n) < 0.05] = pd.NA
        data[f"item_{k:02d}"] = item
    for k in range(1, 4):
        score = np.round(rng.normal(50, 10, n), 3)
        score[rng.random(n) < 0.02] = np.nan
        data[f"score_{k}"] = score
    data["ses"] = rng.choice(["laag", "midden", "hoog"], n)
    pd.DataFrame(data).to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8")


def best_of(functions: dict, repeat: int = 3) -> dict[str, float]:
    """Best time of each function; the runs alternate, so that load on the machine hits all."""
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (best counts)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dutch.csv"
        make_file(path, args.rows)
        size = path.stat().st_size / 1e6
        times = best_of(
            {
                "pandas": lambda: pd.read_csv(path, sep=";", decimal=","),
                "ours": lambda: read_table(path),
            },
            args.repeat,
        )
        theirs, ours = times["pandas"], times["ours"]
        table = read_table(path)
        check = pd.read_csv(path, sep=";", decimal=",")
        same = all(
            np.array_equal(table.data[c].to_numpy(), check[c].to_numpy(), equal_nan=True)
            for c in check.columns
            if pd.api.types.is_numeric_dtype(check[c])
        )
    print(f"file: {args.rows} rows x 20 columns, {size:.1f} MB (';', decimal ',')")
    print(f"pandas.read_csv : {theirs:7.3f} s (best of {args.repeat})")
    print(f"io.read_table   : {ours:7.3f} s (best of {args.repeat})")
    print(f"ratio           : {ours / theirs:7.2f} (target <= 3)")
    print(f"numeric columns equal to pandas: {same}")
    for note in table.notes:
        print(f"  note: {note}")


if __name__ == "__main__":
    main()
