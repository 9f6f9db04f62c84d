"""Write every file of the catalog into a folder and print what reading each one gives.

Usage: ``python tests/catalog/make_catalog.py FOLDER``. Deterministic: the same files
(up to the time stamps inside .xlsx zip archives) and the same outcomes every run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    spec = importlib.util.spec_from_file_location("_lt_catalog_cases", Path(__file__).with_name("cases.py"))
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog
    spec.loader.exec_module(catalog)
    folder = Path(argv[0] if argv else "catalog_files")
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for case in catalog.CASES:
        result = catalog.run(case, folder)
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
        flag = "" if result.outcome == case.outcome else f"  <-- expected {case.outcome}"
        print(f"[{result.outcome:>7}] {case.name}{flag}")
        shown = result.message.splitlines()[0] if result.message else next(
            (n for n in result.notes if case.expect and __import__("re").search(case.expect, n)), ""
        )
        print(f"          {shown[:160]}")
    print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return 0 if "silent" not in counts else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
