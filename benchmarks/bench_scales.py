"""Benchmark: scoring every shipped instrument (12) for 1,000,000 respondents.

Run on demand (``make benchmark`` or ``python benchmarks/bench_scales.py``). Prints the
time of ``scales.score`` next to yardsticks and a peer measured in the same run, rounds
interleaved (ours, then each yardstick, per round), the best round of each shown:

- ``pandas row mean``: ``df[items].mean(axis=1)`` for every item-based score: the same
  item sets with none of the rules (no reverse keys, no minimum answered, no range
  check). Target (issue 16): ours at most 1.5 x this.
- ``numpy nanmean``: ``np.nanmean(df[items].to_numpy(), axis=1)`` for the same sets.
- the hand-written pandas scoring a researcher would write (reverse keys, one
  ``DataFrame.mean``/``sum`` per subscale, the minimum-answered rule, transformation and
  rounding); the run checks that it gives the same scores as ours.

Timings on a shared machine are noisy: read the ratios, and the load printed with them.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from lerendtransformeren import scales


def make_items(n: int, seed: int = 1) -> pd.DataFrame:
    """Random responses within each instrument's range, 3% of them missing."""
    rng = np.random.default_rng(seed)
    cols = {}
    for code in scales.available()["code"]:
        inst = scales.get(code)
        for item in inst.items:
            values = rng.integers(inst.response_min, inst.response_max + 1, size=n).astype(float)
            values[rng.random(n) < 0.03] = np.nan
            cols[item] = values
    return pd.DataFrame(cols)


def pandas_peer(df: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Hand-written pandas scoring, score by score, as in a typical analysis script."""
    out = {}
    for code in codes:
        inst = scales.get(code)
        keyed = df[list(inst.items)].copy()
        for item in inst.reverse:
            keyed[item] = inst.response_min + inst.response_max - keyed[item]
        done: dict[str, pd.Series] = {}
        for s in inst.scores:
            if s.items:
                block = keyed[list(s.items)]
                n = block.notna().sum(axis=1)
                if s.aggregation == "kiresuk_sherman":
                    # equal weights over the goals that were scored
                    w = block.notna().astype(float)
                    raw = block.sum(axis=1, min_count=1)
                    value = 50 + 10 * raw / np.sqrt((1 - s.rho) * (w**2).sum(axis=1) + s.rho * w.sum(axis=1) ** 2)
                elif s.aggregation == "mean":
                    value = block.mean(axis=1)
                elif s.aggregation == "sum":
                    value = block.sum(axis=1)
                else:  # prorated_sum
                    value = block.mean(axis=1) * len(s.items)
                value = value.where(n >= s.min_answered)
            else:
                parts = pd.concat([done[c] for c in s.of_scores], axis=1)
                value = parts.sum(axis=1) if s.aggregation == "sum" else parts.mean(axis=1)
                value = value.where(parts.notna().all(axis=1))
            value = value * s.multiply + s.add
            if s.rounding is not None:
                factor = 10.0**s.rounding
                value = np.sign(value) * np.floor(value.abs() * factor + 0.5 + 1e-9) / factor
            done[s.name] = value
            out[f"{code}_{s.name}"] = value
    return pd.DataFrame(out)


def item_sets(codes: list[str]) -> dict[str, list[str]]:
    """Output column -> item columns, for every item-based score of the instruments."""
    return {f"{code}_{s.name}": list(s.items) for code in codes for s in scales.get(code).scores if s.items}


def pandas_row_mean(df: pd.DataFrame, sets: dict[str, list[str]]) -> pd.DataFrame:
    """Yardstick: a plain pandas row mean over each item set, no scoring rules."""
    return pd.DataFrame({name: df[items].mean(axis=1) for name, items in sets.items()})


def numpy_nanmean(df: pd.DataFrame, sets: dict[str, list[str]]) -> pd.DataFrame:
    """Yardstick: numpy's nanmean over each item set, no scoring rules."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows with every item missing
        out = {name: np.nanmean(df[items].to_numpy(), axis=1) for name, items in sets.items()}
    return pd.DataFrame(out, index=df.index)


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def interleaved(methods: dict, repeat: int) -> dict[str, float]:
    """Best time of each method over ``repeat`` rounds, every method once per round."""
    best = {name: float("inf") for name in methods}
    for _ in range(repeat):
        for name, fn in methods.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="respondents (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds; the best of each method is shown")
    parser.add_argument("--no-peer", action="store_true", help="leave out the (slow) hand-written scoring")
    args = parser.parse_args()

    codes = list(scales.available()["code"])
    df = make_items(args.n)
    sets = item_sets(codes)
    ours = scales.score(df, codes)
    methods = {
        "ours": lambda: scales.score(df, codes),
        "pandas row mean": lambda: pandas_row_mean(df, sets),
        "numpy nanmean": lambda: numpy_nanmean(df, sets),
    }
    if not args.no_peer:
        peer = pandas_peer(df, codes)
        shared = [c for c in peer.columns if c in ours.columns]
        mismatch = [c for c in shared if not np.allclose(ours[c], peer[c], equal_nan=True, atol=1e-9)]
        methods["hand-written scoring"] = lambda: pandas_peer(df, codes)
    load_before = os.getloadavg()
    t = interleaved(methods, args.repeat)
    load_after = os.getloadavg()
    print(f"{len(codes)} instruments, {len(df.columns)} items, {len(sets)} item-based scores, "
          f"{args.n:,} respondents; best of {args.repeat} interleaved rounds")
    print(f"  load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}; {os.cpu_count()} cores")
    print(f"  lerendtransformeren scales.score : {t['ours']:8.3f} s  (every rule)")
    print(f"  pandas row mean (yardstick)      : {t['pandas row mean']:8.3f} s  (no rules)")
    print(f"  numpy nanmean (yardstick)        : {t['numpy nanmean']:8.3f} s  (no rules)")
    if not args.no_peer:
        print(f"  hand-written pandas scoring      : {t['hand-written scoring']:8.3f} s  (every rule)")
    print(f"  ratio ours / pandas row mean     : {t['ours'] / t['pandas row mean']:8.2f}  (target <= 1.5)")
    print(f"  ratio ours / numpy nanmean       : {t['ours'] / t['numpy nanmean']:8.2f}")
    if not args.no_peer:
        print(f"  ratio hand-written / ours        : {t['hand-written scoring'] / t['ours']:8.2f}")
        print(f"  scores compared with the hand-written scoring: {len(shared)}, differing: {mismatch or 'none'}")


if __name__ == "__main__":
    main()
