"""Benchmark: the time ``import lerendtransformeren`` takes, next to ``import numpy, pandas``.

Run on demand (``python benchmarks/bench_import.py [--rounds 5]``). Each statement runs in a
fresh interpreter (``python -c ...``, the same interpreter and environment as this script)
and is timed from start to exit of the process; the rounds alternate over the statements, so
that other load on the machine hits all alike, and the best round of each counts. The
yardstick is ``import numpy, pandas`` measured in the same run; ``pass`` shows the bare
interpreter start. Besides the package import it times the first use of what a user who
scores or fits reaches first (``lt.scales``, ``lt.fit``, a small fit) and the command line's
``--help``, and lists which heavy libraries each has loaded.

Target (issue 16, point 5): ``import lerendtransformeren`` under 0.5 s of wall time; statsmodels,
scipy and matplotlib load on first use where they are needed. Not a unit test: timings depend
on the machine (``tests/test_imports.py`` checks the property itself, untimed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

TARGET = 0.5  # seconds of wall time for ``import lerendtransformeren``

HEAVY = ("numpy", "pandas", "scipy", "statsmodels", "formulaic", "matplotlib", "seaborn", "docx",
         "jinja2", "openpyxl", "pyreadstat", "yaml", "joblib", "pingouin", "tqdm")

FIT = ("from lerendtransformeren.synthetic import nested_example; "
       "lt.fit('y ~ wave + (1 | org/team)', nested_example())")

#: label -> (python arguments). The yardstick first.
CASES: dict[str, list[str]] = {
    "import numpy, pandas (yardstick)": ["-c", "import numpy, pandas"],
    "python -c pass (interpreter start)": ["-c", "pass"],
    "import lerendtransformeren": ["-c", "import lerendtransformeren"],
    "... then lt.scales.score": ["-c", "import lerendtransformeren as lt; lt.scales.score"],
    "... then lt.fit": ["-c", "import lerendtransformeren as lt; lt.fit"],
    "... then a small fit": ["-c", f"import lerendtransformeren as lt; {FIT}"],
    "lerendtransformeren --help": ["-m", "lerendtransformeren.cli", "--help"],
}


def wall_time(args: list[str]) -> float:
    """Seconds from start to exit of ``python <args>`` in a fresh process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, stdout=subprocess.DEVNULL, env=os.environ.copy())
    return time.perf_counter() - start


def loaded(args: list[str]) -> str:
    """The heavy libraries in ``sys.modules`` after the statement (the --help case: none run)."""
    if args[0] != "-c":
        args = ["-c", "import lerendtransformeren.cli"]
    code = (f"{args[1]}\nimport sys\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.strip() or "-"


def package_importtime() -> float:
    """Cumulative microseconds of ``lerendtransformeren`` in ``python -X importtime`` (one run)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import lerendtransformeren"],
                         check=True, capture_output=True, text=True)
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "lerendtransformeren":
            return int(parts[1]) / 1e6
    raise RuntimeError("lerendtransformeren not found in the -X importtime output")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh processes per statement (best counts)")
    args = parser.parse_args(argv)
    import lerendtransformeren

    print(f"python {sys.version.split()[0]}, package from {os.path.dirname(lerendtransformeren.__file__)}")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"on {os.cpu_count()} cores; best of {args.rounds} fresh processes each\n")
    best = dict.fromkeys(CASES, float("inf"))
    for _ in range(args.rounds):
        for label, case in CASES.items():
            best[label] = min(best[label], wall_time(case))
    yardstick = best["import numpy, pandas (yardstick)"]
    width = max(map(len, CASES))
    print(f"{'statement':<{width}}  {'seconds':>7}  {'/ numpy+pandas':>14}  heavy libraries loaded")
    for label, case in CASES.items():
        print(f"{label:<{width}}  {best[label]:7.3f}  {best[label] / yardstick:14.2f}  {loaded(case)}")
    seconds = best["import lerendtransformeren"]
    print(f"\nimport lerendtransformeren: {seconds:.3f} s = {seconds / yardstick:.2f} x import numpy, pandas; "
          f"{seconds / TARGET:.2f} x the {TARGET} s target ({'met' if seconds < TARGET else 'NOT met'})")
    print(f"-X importtime, cumulative for the package itself: {package_importtime():.3f} s")


if __name__ == "__main__":
    main()
