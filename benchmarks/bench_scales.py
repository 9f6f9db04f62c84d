"""Benchmark: scoring every shipped instrument for 100,000 respondents.

Run on demand (``make benchmark`` or ``python benchmarks/bench_scales.py``). Prints the
time of ``scales.score`` next to a peer measured in the same run: the plain-pandas scoring a
researcher would write by hand (reverse keys, one ``DataFrame.mean``/``sum`` per subscale,
the minimum-answered rule), and checks that both give the same scores. Target (issue 3):
under 5 seconds for 12 instruments and 100,000 respondents.
"""

from __future__ import annotations

import argparse
import time

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


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="respondents (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the best is shown")
    args = parser.parse_args()

    codes = list(scales.available()["code"])
    df = make_items(args.n)
    ours = scales.score(df, codes)
    peer = pandas_peer(df, codes)
    shared = [c for c in peer.columns if c in ours.columns]
    mismatch = [c for c in shared if not np.allclose(ours[c], peer[c], equal_nan=True, atol=1e-9)]

    t_ours = best_of(lambda: scales.score(df, codes), args.repeat)
    t_peer = best_of(lambda: pandas_peer(df, codes), args.repeat)
    print(f"{len(codes)} instruments, {len(df.columns)} items, {args.n:,} respondents, best of {args.repeat}")
    print(f"  lerendtransformeren scales.score : {t_ours:8.3f} s  (target < 5 s)")
    print(f"  hand-written pandas scoring      : {t_peer:8.3f} s")
    print(f"  ratio pandas / ours              : {t_peer / t_ours:8.2f}")
    print(f"  scores compared: {len(shared)}, differing: {mismatch or 'none'}")


if __name__ == "__main__":
    main()
