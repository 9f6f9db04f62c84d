"""Benchmark: the main job (``lerendtransformeren report``, ``make report``) against its 15 s target.

Run on demand (``python benchmarks/bench_report.py``). Runs the job as ``make report``
does (every goal and the overview, html and docx, the bundled synthetic study through its
study.yaml, ``--jobs 2``) in a fresh process, with a fixed ``--date``, ``--repeat`` times,
and reports for each run the wall time and the CPU time of the job's process and its
worker processes. Work time is the wall time of the whole process (start-up and imports
included); the best run counts and is printed as a ratio against the target of issue 16
(under 15 s on 2 cores). The same rounds run the job with ``--jobs 1`` as a yardstick
(one process: no workers), alternating, so that other load on the machine hits both.

It also checks that the files are byte-identical between the rounds and between
``--jobs 2`` and ``--jobs 1`` (the numbers do not depend on the number of workers), and
exits with status 1 when they are not. Not a unit test: timings depend on the machine;
the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 15.0
_RUN = "import sys; from lerendtransformeren.cli import main; sys.exit(main())"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_job(study: Path, out: Path, jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds of one job (the CPU of every process it started included)."""
    command = [sys.executable, "-c", _RUN, "report", "--study", str(study), "--out", str(out),
               "--date", "2026-11-23", "--jobs", str(jobs)]
    cpu0, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"the job failed ({done.returncode}):\n{done.stderr}")
    return wall, cpu


def different_files(a: Path, b: Path) -> list[str]:
    """Names of the files that differ (or exist in one folder only), byte for byte."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [n for n in names if not ((a / n).is_file() and (b / n).is_file()
                                     and filecmp.cmp(a / n, b / n, shallow=False))]


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", type=Path, default=ROOT / "data" / "synthetic" / "study.yaml")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (the best run counts; at least 2)")
    parser.add_argument("--no-serial", action="store_true", help="skip the --jobs 1 yardstick")
    args = parser.parse_args(argv)
    repeat = max(2, args.repeat)
    print(f"cores: {os.cpu_count()}; load average before: {_load()}")
    runs: dict[int, list[tuple[float, float]]] = {2: [], 1: []}
    kinds = (2,) if args.no_serial else (2, 1)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        for r in range(repeat):
            for jobs in kinds:
                wall, cpu = run_job(args.study, base / f"jobs{jobs}-{r}", jobs)
                runs[jobs].append((wall, cpu))
                print(f"round {r + 1}, --jobs {jobs}: wall {wall:6.2f} s, cpu {cpu:6.2f} s "
                      f"(cpu/wall {cpu / wall:.2f}); load {_load()}")
        files = sorted(p.name for p in (base / "jobs2-0").iterdir())
        bad = {f"round {r + 1} vs round 1": different_files(base / "jobs2-0", base / f"jobs2-{r}")
               for r in range(1, repeat)}
        if not args.no_serial:
            bad["--jobs 1 vs --jobs 2"] = different_files(base / "jobs2-0", base / "jobs1-0")
    wall2 = min(w for w, _ in runs[2])
    cpu2 = min(c for _, c in runs[2])
    print(f"\n{len(files)} files per run: {', '.join(files)}")
    print(f"main job, --jobs 2: best wall {wall2:.2f} s, least cpu {cpu2:.2f} s")
    print(f"ratio to the {TARGET_S:.0f} s target: {wall2 / TARGET_S:.2f} (below 1 meets it)")
    if runs[1]:
        wall1 = min(w for w, _ in runs[1])
        print(f"yardstick --jobs 1: best wall {wall1:.2f} s; --jobs 2 / --jobs 1 = {wall2 / wall1:.2f}")
    print(f"load average after: {_load()}")
    failed = {k: v for k, v in bad.items() if v}
    for what, names in failed.items():
        print(f"NOT byte-identical ({what}): {', '.join(names)}")
    if not failed:
        print("byte-identical: every file, across rounds" + ("" if args.no_serial else " and --jobs 1 / 2"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
