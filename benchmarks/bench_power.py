"""Speed of simulation-based power against refitting with lt.fit and with R lme4/lmerTest.

The design of the synthetic study: 15 organisations in a stepped wedge (within each goal one
organisation starts the offer at T1, one at T2, one at T3), 4 teams of 6 professionals, 4
waves: 1,440 rows. Model ``y ~ C(wave) + offer + (1 | organisation/team/professional)``
with the variance components of the synthetic professional outcomes and an offer effect of
d = 0.3; each replicate is refitted by REML and the offer is tested with Satterthwaite's df.

Prints the wall time of ``power_simulation`` for 1,000 replicates on 2 processes (worker
start-up included) and the replicates per second against the target of 250 per second
(issue 16), once with the local workers forked (Linux: they start with everything loaded)
and, as the peer in the same run, with joblib's loky workers (a fresh interpreter that
imports numpy, scipy, pandas and the package first: the way before); both must give the
same replicates. Since a shared machine slows the wall times, it also prints the CPU time
per replicate of the serial replicate path (process time, best of 3 rounds) and what that
gives on 2 cores. As peers per replicate in the same run: the full ``lt.fit`` path
(formula, result object, Satterthwaite df of every fixed effect) and, when Rscript with
lmerTest is installed, an R ``lmer`` + ``summary`` refit loop, on the same few dozen
simulated data sets, with the ratios. Run on demand (not part of the tests)::

    .venv/bin/python benchmarks/bench_power.py
    .venv/bin/python benchmarks/bench_power.py --n-sim 200 --n-jobs 2 --peers 40 --no-r --no-loky
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
import warnings

import numpy as np
import pandas as pd

from lerendtransformeren.multilevel import fit, replicates
from lerendtransformeren.multilevel import simulation as sim
from lerendtransformeren.multilevel.simulation import Design, Model, power_simulation, raw_effect, simulate
from lerendtransformeren.synthetic import _V_PRO

FORMULA = "y ~ C(wave) + offer + (1 | organisation/team/professional)"
D = 0.3
SEED = 20261123
TARGET = 250.0  # replicates per second on 2 cores (issue 16)
R_SCRIPT = """
suppressPackageStartupMessages(library(lmerTest))
d <- read.csv(file("stdin"))
ys <- grep("^y[0-9]+$", names(d), value = TRUE)
est <- numeric(length(ys))
t <- system.time(for (i in seq_along(ys)) {
  d$y <- d[[ys[i]]]
  m <- lmer(y ~ factor(wave) + offer + (1 | organisation/team/professional), data = d)
  est[i] <- summary(m)$coefficients["offer", "Estimate"]
})
cat(sprintf("%.4f\\n", t[["elapsed"]]))
cat(sprintf("%.12g\\n", est))
"""


def setup() -> tuple[Model, Design]:
    design = Design({"organisation": 15, "team": 4, "professional": 6}, waves=4, start_wave=(1, 2, 3))
    variances = {k: _V_PRO[k] for k in ("organisation", "team", "professional", "residual")}
    model = Model(FORMULA, fixed={"offer": raw_effect(D, variances)}, variances=variances)
    return model, design


def time_fit(datasets: list[pd.DataFrame]) -> tuple[float, np.ndarray]:
    """lt.fit plus the fixed-effects table, per data set, one BLAS thread (as our replicates)."""
    from threadpoolctl import threadpool_limits

    est = []
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for d in datasets:
            est.append(fit(FORMULA, d).fixed.loc["offer", "estimate"])
        elapsed = time.perf_counter() - t0
    return elapsed / len(datasets), np.array(est)


def time_r(datasets: list[pd.DataFrame]) -> tuple[float, np.ndarray] | None:
    if shutil.which("Rscript") is None:
        return None
    wide = datasets[0].drop(columns="y").copy()
    for i, d in enumerate(datasets):
        wide[f"y{i}"] = d["y"].to_numpy()
    out = subprocess.run(["Rscript", "-e", R_SCRIPT], input=wide.to_csv(index=False), capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        return None
    values = [float(v) for v in out.stdout.split()]
    return values[0] / len(datasets), np.array(values[1:])


def run_power(model: Model, design: Design, args, fork: bool):
    """``power_simulation`` of ``args.n_sim`` replicates in a fresh pool: the result and its wall time."""
    replicates.USE_FORK = fork
    try:
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # loky's workers start afresh, as in a new session
        t0 = time.perf_counter()
        res = power_simulation(model, design, test="offer", n_sim=args.n_sim, seed=SEED, n_jobs=args.n_jobs,
                               progress=False)
        return res, time.perf_counter() - t0
    finally:
        replicates.USE_FORK = True


def cpu_per_replicate(model: Model, design: Design, k: int) -> float:
    """Process time per replicate of the serial replicate path (set-up excluded), best of 3."""
    tmpl = sim._template(model, design, "offer")[0]
    seqs = np.random.SeedSequence(SEED).spawn(k)
    sim._run_chunk(tmpl, range(2), seqs[:2])  # warm
    best = np.inf
    for _ in range(3):
        c0 = time.process_time()
        sim._run_chunk(tmpl, range(k), seqs)
        best = min(best, (time.process_time() - c0) / k)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-sim", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--peers", type=int, default=40, help="data sets for the per-replicate peers")
    parser.add_argument("--no-r", action="store_true", help="skip R lme4/lmerTest")
    parser.add_argument("--no-loky", action="store_true", help="skip the loky-worker peer")
    args = parser.parse_args()
    model, design = setup()
    print(f"design: 15 organisations x 4 teams x 6 professionals x 4 waves = {len(design.data())} rows, "
          f"stepped wedge (start waves 1, 2, 3)", flush=True)
    print(f"model: {FORMULA}; offer effect d = {D} ({model.fixed['offer']:.4f} raw)", flush=True)

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} cores",
          flush=True)
    res, wall = run_power(model, design, args, fork=True)
    print(f"power_simulation: {res.n_sim} replicates, n_jobs={args.n_jobs}: {wall:.1f} s wall "
          f"({res.n_sim / wall:.1f} replicates/s, start-up included, {res.n_sim / wall / TARGET:.2f}x the "
          f"target {TARGET:.0f}/s); power {res.power:.3f} [{res.ci_low:.3f}, {res.ci_high:.3f}], "
          f"{res.n_singular} singular, {res.n_failed} failed", flush=True)
    if not args.no_loky:
        old, old_wall = run_power(model, design, args, fork=False)
        same = old.replicates.equals(res.replicates)
        print(f"  peer, loky workers (fresh interpreters): {old_wall:.1f} s wall ({old.n_sim / old_wall:.1f} "
              f"replicates/s); forked {old_wall / wall:.2f}x faster; identical replicates: {same}", flush=True)
    cpu = cpu_per_replicate(model, design, args.peers)
    print(f"CPU per replicate, serial replicate path (best of 3 x {args.peers}): {cpu * 1e3:.2f} ms -> "
          f"{2 / cpu:.0f} replicates/s on 2 idle cores without start-up ({2 / cpu / TARGET:.2f}x the target)",
          flush=True)

    k = args.peers
    t0 = time.perf_counter()
    serial = power_simulation(model, design, test="offer", n_sim=k, seed=SEED, n_jobs=1, progress=False)
    ours = (time.perf_counter() - t0) / k
    seqs = np.random.SeedSequence(SEED).spawn(args.n_sim)[:k]
    datasets = [simulate(model, design, seed=s) for s in seqs]
    print(f"per replicate, serial, on the first {k} replicates:", flush=True)
    print(f"  ours (engine + Satterthwaite, set-up incl.)  {ours:7.4f} s", flush=True)
    lt_fit, lt_est = time_fit(datasets)
    diff = np.max(np.abs(lt_est - serial.replicates["estimate"].to_numpy()))
    print(f"  lt.fit + .fixed (full path)                  {lt_fit:7.4f} s  {lt_fit / ours:5.1f}x ours "
          f"(max |offer estimate diff| {diff:.1e})", flush=True)
    r = None if args.no_r else time_r(datasets)
    if r is not None:
        r_diff = np.max(np.abs(r[1] - lt_est))
        print(f"  R lmer + lmerTest summary                    {r[0]:7.4f} s  {r[0] / ours:5.1f}x ours "
              f"(max |offer estimate diff| vs lt.fit {r_diff:.1e})", flush=True)
    else:
        print("  R lmer + lmerTest: not run (no Rscript with lmerTest, or --no-r)", flush=True)
    per_rep_parallel = wall / res.n_sim
    print(f"  ours in parallel (wall / replicates)         {per_rep_parallel:7.4f} s", flush=True)


if __name__ == "__main__":
    main()
