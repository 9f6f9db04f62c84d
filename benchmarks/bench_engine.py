"""Speed of the nested REML engine against statsmodels MixedLM and R lme4/lmerTest.

Fits the three-level random-intercept model ``y ~ wave + (1 | org/team/person)`` on
generated data (15 organisations, teams of 10 persons, 4 waves) and prints, per size, the
wall time of our engine (fit plus Satterthwaite df for every fixed effect), of statsmodels
MixedLM (organisation groups, team and person as variance components; small sizes only)
and, when Rscript with lmerTest is installed, of ``lmerTest::lmer`` plus ``summary`` in the
same run, with the ratios.

It also times the small fit that simulation-based power repeats thousands of times:
``y ~ C(wave) + offer + (1 | org/team/person)`` on 1,440 rows (15 organisations x 3 teams x
8 persons x 4 waves, stepped-wedge offer), split into ``build_frame`` (patsy), the
NestedEngine part (construct + optimize + Satterthwaite) and the whole ``lt.fit`` with its
``fixed`` table, for a fit with all variances positive and for one
whose organisation variance is 0 (singular); best of 20 runs. Targets: the engine part at most 0.03 s, the
1,000,000-row fit with df under 2 s (1.5 s on an idle machine).

For every size it also counts the group-by passes over the rows that the fit with df
makes, from the DataFrame to the ``fixed`` table (``passes.py``: factorisations, sorts,
``unique``, ``bincount``, ``reduceat`` over all rows; target at most 40 for 1,000,000
rows, issue 16), with the count per step, and the peak memory the fit allocates
(tracemalloc, over the memory in use before it) against the frame's own memory
(``d.memory_usage(deep=True).sum()``; target at most 3x). Run on demand (not part of the
tests)::

    .venv/bin/python benchmarks/bench_engine.py                 # 1,500 and 40,000 rows
    .venv/bin/python benchmarks/bench_engine.py --sizes 1500 40000 1000000

Random slopes (``--slopes``): ``y ~ wave + (1 + wave | person) + (1 | org)`` on the same
layout with a random intercept and wave slope per person (40,000 and 400,000 rows by
default), fit plus Satterthwaite df, against the Rust lme4 port ``mixedlm``
(``lmer`` plus ``satterthwaite_df``) and R ``lmerTest::lmer`` plus ``summary`` in the same
run, minimum of ``--rounds`` rounds each, with the ratios and the REML criterion of each
relative to lme4's (``ok`` when ours is not above lme4's by more than 1e-6 relative).
``--jitter`` moves every measurement off its wave by up to 0.2 (three decimals), so that
no two persons share their ``Z'Z`` and the engine takes its general path instead of the
precomputed lowest level. Target: at least 3 times faster than mixedlm at both sizes.
mixedlm is not a dependency of the package: it runs in a subprocess of the interpreter
given by ``--mixedlm-python`` (default: this one), for instance a separate environment::

    .venv/bin/python -m venv .venv-bench
    .venv-bench/bin/pip install -c requirements/constraints.txt -r requirements/bench.txt
    .venv/bin/python benchmarks/bench_engine.py --slopes --mixedlm-python .venv-bench/bin/python
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bench_scales import best_of  # noqa: E402 (a sibling script: benchmarks/ is on sys.path)
from passes import count_passes  # noqa: E402
from lerendtransformeren.multilevel import fit, inference
from lerendtransformeren.multilevel.engine import NestedEngine
from lerendtransformeren.multilevel.frame import build_frame

FORMULA = "y ~ wave + (1 | org/team/person)"
SMALL_FORMULA = "y ~ C(wave) + offer + (1 | org/team/person)"
R_SCRIPT = """
suppressPackageStartupMessages(library(lmerTest))
d <- read.csv(commandArgs(trailingOnly = TRUE)[1])
t <- system.time({m <- lmer(y ~ wave + (1 | org/team/person), data = d); s <- summary(m)})
cat(sprintf("%.4f %.12g %.12g\\n", t[["elapsed"]], s$coefficients["wave", "Estimate"], REMLcrit(m)))
"""


def make_data(n_rows: int, seed: int = 2026) -> pd.DataFrame:
    """15 organisations, teams of 10 persons, 4 waves; about ``n_rows`` rows."""
    rng = np.random.default_rng(seed)
    n_person = max(n_rows // 4, 15 * 10 * 2)
    person = np.arange(n_person)
    team = person // 10
    org = team % 15
    rows = np.repeat(person, 4)
    wave = np.tile(np.arange(4), n_person)
    y = (rng.normal(0, 0.5, 15)[org[rows]] + rng.normal(0, 0.5, team.max() + 1)[team[rows]]
         + rng.normal(0, 1.0, n_person)[rows] + 0.2 * wave + rng.normal(size=rows.size))
    return pd.DataFrame({"org": org[rows], "team": team[rows], "person": rows, "wave": wave, "y": y})


SLOPE_FORMULA = "y ~ wave + (1 + wave | person) + (1 | org)"
R_SLOPE_SCRIPT = """
suppressPackageStartupMessages(library(lmerTest))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
best <- Inf
for (i in seq_len(as.integer(args[2]))) {
  t <- system.time({m <- lmer(y ~ wave + (1 + wave | person) + (1 | org), data = d); s <- summary(m)})
  best <- min(best, t[["elapsed"]])
}
cat(sprintf("%.4f %.12g %.17g\\n", best, s$coefficients["wave", "Estimate"], REMLcrit(m)))
"""
MIXEDLM_SCRIPT = """
import sys, time
import numpy as np, pandas as pd
import mixedlm
z = np.load(sys.argv[1])
d = pd.DataFrame({k: z[k] for k in z.files})
best = float("inf")
for _ in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    m = mixedlm.lmer("y ~ wave + (1 + wave | person) + (1 | org)", d)
    mixedlm.satterthwaite_df(m)
    best = min(best, time.perf_counter() - t0)
print(f"{best:.4f} {m.fixef()['wave']:.12g} {m.REMLcrit():.17g}")
"""


def make_slope_data(n_rows: int, seed: int = 2026, jitter: bool = False) -> pd.DataFrame:
    """:func:`make_data`'s layout with a random intercept and wave slope per person.

    Person (intercept, slope) SDs 1 and 0.3, correlation 1/3; organisation SD 0.5; wave
    effect 0.2. With ``jitter`` the measurement times are ``wave + U(-0.2, 0.2)`` rounded to
    three decimals.
    """
    rng = np.random.default_rng(seed)
    n_person = max(n_rows // 4, 15 * 10 * 2)
    person = np.arange(n_person)
    org = (person // 10) % 15
    rows = np.repeat(person, 4)
    wave = np.tile(np.arange(4.0), n_person)
    if jitter:
        wave = wave + rng.uniform(-0.2, 0.2, wave.size).round(3)
    u = rng.multivariate_normal([0.0, 0.0], [[1.0, 0.1], [0.1, 0.09]], n_person)
    y = (rng.normal(0, 0.5, 15)[org[rows]] + u[rows, 0] + u[rows, 1] * wave + 0.2 * wave
         + rng.normal(size=rows.size))
    return pd.DataFrame({"org": org[rows], "person": rows, "wave": wave, "y": y})


def time_ours_slopes(d: pd.DataFrame, rounds: int) -> tuple[float, float, float]:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        res = fit(SLOPE_FORMULA, d)
        res.fixed  # Satterthwaite df for every fixed effect
        best = min(best, time.perf_counter() - t0)
    return best, res.fixed.loc["wave", "estimate"], res.reml_criterion


def _run_peer(cmd: list[str], script: str, d: pd.DataFrame, rounds: int, csv: bool) -> tuple | str:
    """Run a peer's timing script on ``d`` in a subprocess; (time, wave, REMLcrit) or the error."""
    with tempfile.TemporaryDirectory() as tmp:
        data, prog = Path(tmp) / ("d.csv" if csv else "d.npz"), Path(tmp) / "peer"
        if csv:
            d.to_csv(data, index=False)
        else:
            np.savez(data, **{c: d[c].to_numpy() for c in d.columns})
        prog.write_text(script)
        out = subprocess.run(cmd + [str(prog), str(data), str(rounds)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return (out.stderr.strip().splitlines() or ["failed"])[-1]
    return tuple(map(float, out.stdout.split()))


def run_slopes(sizes: list[int], rounds: int, jitter: bool, mixedlm_python: str, no_r: bool) -> None:
    print(f"model: {SLOPE_FORMULA}{' (jittered times)' if jitter else ''}; fit + Satterthwaite df, "
          f"best of {rounds} rounds (s)", flush=True)
    print(f"{'rows':>9} {'ours s':>8} {'mixedlm':>8} {'ml/ours':>8} {'lme4 s':>8} {'R/ours':>7}  "
          "REMLcrit relative to lme4 (ours, mixedlm)")
    for size in sizes:
        d = make_slope_data(size, jitter=jitter)
        ours, est, crit = time_ours_slopes(d, rounds)
        ml = _run_peer([mixedlm_python], MIXEDLM_SCRIPT, d, rounds, csv=False)
        r = ("Rscript not found" if shutil.which("Rscript") is None else
             _run_peer(["Rscript"], R_SLOPE_SCRIPT, d, rounds, csv=True)) if not no_r else "skipped"
        line = f"{len(d):>9} {ours:8.3f}"
        line += f" {ml[0]:8.3f} {ml[0] / ours:8.1f}" if isinstance(ml, tuple) else f" {'-':>8} {'-':>8}"
        line += f" {r[0]:8.2f} {r[0] / ours:7.1f}" if isinstance(r, tuple) else f" {'-':>8} {'-':>7}"
        notes = [f"wave {est:.6f}"]
        if isinstance(r, tuple):
            rel = (crit - r[2]) / abs(r[2])
            notes.append(f"ours {rel:+.1e} ({'ok' if rel <= 1e-6 else 'WORSE'})")
            if isinstance(ml, tuple):
                notes.append(f"mixedlm {(ml[2] - r[2]) / abs(r[2]):+.1e}")
        else:
            notes.append(f"lme4: {r}")
        if not isinstance(ml, tuple):
            notes.append(f"mixedlm: {ml}")
        print(line + "  " + "; ".join(notes), flush=True)


def make_small(org_sd: float, seed: int = 1) -> pd.DataFrame:
    """15 organisations x 3 teams x 8 persons x 4 waves (1,440 rows), stepped-wedge offer."""
    rng = np.random.default_rng(seed)
    person = np.repeat(np.arange(360), 4)
    team, org = person // 8, person // 24
    wave = np.tile(np.arange(4), 360)
    offer = (wave >= org % 3 + 1).astype(int)
    y = (rng.normal(0, org_sd, 15)[org] + rng.normal(0, 0.4, 45)[team] + rng.normal(0, 0.8, 360)[person]
         + 0.2 * wave + 0.3 * offer + rng.normal(size=person.size))
    return pd.DataFrame({"org": org, "team": team % 3, "person": person % 8, "wave": wave, "offer": offer, "y": y})


def time_small(repeats: int = 20) -> None:
    print(f"small fit: {SMALL_FORMULA}, 1,440 rows; best of {repeats} runs (s)")
    print(f"{'org var':>8} {'frame':>7} {'engine':>7} {'lt.fit':>7} {'+KR':>7}  check")
    for label, org_sd, seed in [("> 0", 0.5, 1), ("0", 0.0, 3)]:  # seed 3: the estimate is 0
        d = make_small(org_sd, seed)
        frame = build_frame(SMALL_FORMULA, d)

        def engine_part():
            eng = NestedEngine(frame.y, frame.X, frame.levels, reml=True)
            opt = eng.optimize()
            ev = eng.evaluate(opt.theta)
            inference.satterthwaite(eng, opt.theta, eng.sigma(ev), ev.beta)
            return opt

        def whole():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit(SMALL_FORMULA, d).fixed

        t_frame = best_of(lambda: build_frame(SMALL_FORMULA, d), repeats)
        t_engine = best_of(engine_part, repeats)
        t_fit = best_of(whole, repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit(SMALL_FORMULA, d)
        # Kenward-Roger on top of the fit (with_ddf does not refit).
        t_kr = best_of(lambda: res.with_ddf("Kenward-Roger").fixed, repeats)
        opt = engine_part()
        print(f"{label:>8} {t_frame:7.4f} {t_engine:7.4f} {t_fit:7.4f} {t_kr:7.4f}  theta {np.round(opt.theta, 4)}, "
              f"{opt.n_evaluations} evaluations, {opt.n_starts} start(s)", flush=True)


def time_ours(d: pd.DataFrame) -> tuple[float, float, float]:
    t0 = time.perf_counter()
    res = fit(FORMULA, d)
    res.fixed  # Satterthwaite df for every fixed effect
    return time.perf_counter() - t0, res.fixed.loc["wave", "estimate"], res.reml_criterion


def passes_and_memory(d: pd.DataFrame) -> tuple[int, str, float, float]:
    """Passes over the rows of the fit with df (and per step), its peak memory and the frame's, in bytes."""
    with count_passes(len(d)) as passes:
        fit(FORMULA, d).fixed
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fit(FORMULA, d).fixed
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return passes.total, passes.table(), float(peak), float(d.memory_usage(deep=True).sum())


def time_statsmodels(d: pd.DataFrame) -> tuple[float, float]:
    from statsmodels.regression.mixed_linear_model import MixedLM

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MixedLM.from_formula("y ~ wave", d, groups="org", re_formula="1",
                                     vc_formula={"team": "0 + C(team)", "person": "0 + C(person)"})
        res = model.fit(reml=True)
    return time.perf_counter() - t0, res.fe_params["wave"]


def time_r(d: pd.DataFrame) -> tuple[float, float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv, script = Path(tmp) / "d.csv", Path(tmp) / "b.R"
        d.to_csv(csv, index=False)
        script.write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(script), str(csv)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return None
    elapsed, est, crit = map(float, out.stdout.split())
    return elapsed, est, crit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="rows (default 1500 40000; with --slopes 40000 400000)")
    parser.add_argument("--statsmodels-max", type=int, default=40000, help="largest size for MixedLM")
    parser.add_argument("--no-r", action="store_true", help="skip R lme4/lmerTest")
    parser.add_argument("--no-small", action="store_true", help="skip the small (1,440-row) fit")
    parser.add_argument("--no-passes", action="store_true", help="skip counting passes and peak memory")
    parser.add_argument("--slopes", action="store_true", help="the random-slope model against mixedlm and lme4")
    parser.add_argument("--jitter", action="store_true", help="with --slopes: measurement times off the waves")
    parser.add_argument("--rounds", type=int, default=3, help="with --slopes: rounds per engine (the best counts)")
    parser.add_argument("--mixedlm-python", default=sys.executable, help="interpreter with mixedlm installed")
    args = parser.parse_args()
    if args.slopes:
        run_slopes(args.sizes or [40000, 400000], args.rounds, args.jitter, args.mixedlm_python, args.no_r)
        return
    args.sizes = args.sizes or [1500, 40000]
    if not args.no_small:
        time_small()
    print(f"model: {FORMULA}", flush=True)
    print(f"{'rows':>9} {'ours s':>8} {'sm s':>8} {'sm/ours':>8} {'R s':>7} {'R/ours':>7}  check")
    for size in args.sizes:
        d = make_data(size)
        ours, est, crit = time_ours(d)
        line = f"{len(d):>9} {ours:8.3f}"
        notes = [f"wave {est:.5f}"]
        if len(d) <= args.statsmodels_max:
            sm, sm_est = time_statsmodels(d)
            line += f" {sm:8.2f} {sm / ours:8.1f}"
            notes.append(f"sm wave {sm_est:.5f}")
        else:
            line += f" {'-':>8} {'-':>8}"
        r = None if args.no_r else time_r(d)
        if r is not None:
            line += f" {r[0]:7.2f} {r[0] / ours:7.1f}"
            notes.append(f"R wave {r[1]:.5f}, REMLcrit diff {crit - r[2]:.1e}")
        else:
            line += f" {'-':>7} {'-':>7}"
        print(line + "  " + "; ".join(notes), flush=True)
        if not args.no_passes:
            n_passes, table, peak, own = passes_and_memory(d)
            print(f"{'':>9} passes over the {len(d):,} rows: {n_passes} ({n_passes / 40:.2f}x the target 40); "
                  f"peak memory {peak / 1e6:.1f} MB = {peak / own:.2f}x the frame's {own / 1e6:.1f} MB "
                  f"(target 3x)", flush=True)
            print(table, flush=True)


if __name__ == "__main__":
    main()
