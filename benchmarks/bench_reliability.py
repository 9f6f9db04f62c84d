"""Benchmark: the reliability bootstrap for 1,000,000 respondents x 1,000 resamples.

Run on demand (``python benchmarks/bench_reliability.py [--n 1000000] [--n-boot 1000]``).
Scores one 8-item scale (``impl``, one-factor data on the 1-5 range) with
``scales.reliability`` in a fresh subprocess and reports the time and the peak memory
above the process after the data were made and the libraries imported (``ru_maxrss``).
``--pairwise`` adds 3% missing answers and uses pairwise moments.
Targets (issue 17): peak within 1 GB above that baseline, and time within 2x the old
implementation per respondent (5.4 s per 100,000, so 108 s for 1,000,000). The old
implementation held an ``n_boot x n`` matrix: 2.2 GB at 100,000, MemoryError at 1,000,000.

If ``Rscript`` with psych is available, the same data (a binary file) go to
``psych::alpha(x, n.iter = n_boot)`` (bootstrap of alpha) in the same run, timed inside R
and with the whole process's peak memory from ``/usr/bin/time -v``; otherwise a message
says why R was skipped. ``--r-omega`` also times ``psych::omega(x, nfactors = 1,
n.iter = n_boot)`` (slow: one factor analysis per resample).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
import pingouin  # noqa: F401  (imported by reliability(); count it in the baseline)
from lerendtransformeren import scales

n, n_boot, out, missing = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
rng = np.random.default_rng(17)
latent = rng.normal(size=(n, 1))
x = np.clip(np.rint(3 + 0.8 * latent + 0.9 * rng.normal(size=(n, 8))), 1, 5)
if missing == "pairwise":
    x[rng.random(x.shape) < 0.03] = np.nan
if out != "-":
    x.astype(np.float64).tofile(out)
df = pd.DataFrame(x, columns=[f"impl_{i:02d}" for i in range(1, 9)])
del latent, x
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
res = scales.reliability(df, "impl", missing=missing, n_boot=n_boot, seed=17)
sec = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
row = res.scales.iloc[0]
print(json.dumps({"seconds": sec, "baseline_mb": base, "peak_mb": peak, "data_mb": df.memory_usage().sum() / 2**20,
                  "alpha": row["alpha"], "omega": row["omega_total"],
                  "omega_ci": [row["omega_ci_low"], row["omega_ci_high"]], "n_boot_ok": int(row["n_boot_ok"])}))
"""

R_SCRIPT = r"""
suppressMessages(library(psych))
a <- commandArgs(TRUE); n <- as.integer(a[2]); n_boot <- as.integer(a[3])
x <- matrix(readBin(a[1], "double", n * 8), ncol = 8, byrow = TRUE)
base <- sum(gc()[, 2])
set.seed(17)
t <- system.time(al <- psych::alpha(x, n.iter = n_boot, check.keys = FALSE))[["elapsed"]]
cat(sprintf("R alpha: %.1f s, raw_alpha %.4f, boot CI %.4f %.4f, data %.0f MB, gc Ncells+Vcells at start %.0f MB\n",
            t, al$total$raw_alpha, al$boot.ci[1], al$boot.ci[3], object.size(x) / 2^20, base))
if (a[4] == "1") {
  t <- system.time(om <- psych::omega(x, nfactors = 1, n.iter = n_boot, plot = FALSE))[["elapsed"]]
  cat(sprintf("R omega: %.1f s, omega.tot %.4f\n", t, om$omega.tot))
}
"""


def run_ours(n: int, n_boot: int, data_file: str, missing: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(n_boot), data_file, missing],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_psych(data_file: str, n: int, n_boot: int, omega: bool) -> None:
    if shutil.which("Rscript") is None:
        print("R: skipped (no Rscript on PATH)")
        return
    check = subprocess.run(["Rscript", "-e", "library(psych)"], capture_output=True, text=True)
    if check.returncode:
        print("R: skipped (psych not installed: apt-get install r-cran-psych)")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    cmd = ["Rscript", f.name, data_file, str(n), str(n_boot), "1" if omega else "0"]
    timed = Path("/usr/bin/time").exists()
    out = subprocess.run((["/usr/bin/time", "-v"] if timed else []) + cmd, capture_output=True, text=True)
    print(out.stdout.strip())
    if out.returncode:
        print("R failed:", out.stderr.strip().splitlines()[-3:])
    for line in out.stderr.splitlines():
        if "Maximum resident set size" in line or "Elapsed (wall clock)" in line:
            print("R process:", line.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--no-r", action="store_true")
    parser.add_argument("--r-omega", action="store_true")
    parser.add_argument("--pairwise", action="store_true", help="3%% missing, pairwise moments (no R run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        no_r = args.no_r or args.pairwise
        data_file = "-" if no_r else str(Path(tmp) / "x.bin")
        ours = run_ours(args.n, args.n_boot, data_file, "pairwise" if args.pairwise else "listwise")
        above = ours["peak_mb"] - ours["baseline_mb"]
        budget_s = 2 * 5.4 * args.n / 100_000
        print(f"ours: n={args.n:,} n_boot={args.n_boot}: {ours['seconds']:.1f} s (target <= {budget_s:.0f} s), "
              f"peak {ours['peak_mb']:.0f} MB, {above:.0f} MB above baseline {ours['baseline_mb']:.0f} MB "
              f"(data {ours['data_mb']:.0f} MB; target <= 1024 MB above)")
        print(f"ours: alpha {ours['alpha']:.4f}, omega {ours['omega']:.4f}, CI {ours['omega_ci'][0]:.4f} "
              f"{ours['omega_ci'][1]:.4f}, {ours['n_boot_ok']} resamples ok")
        print("targets:", "met" if ours["seconds"] <= budget_s and above <= 1024 else "NOT met")
        if not no_r:
            run_psych(data_file, args.n, args.n_boot, args.r_omega)


if __name__ == "__main__":
    main()
