"""Write the deterministic input data of the multilevel reference cases.

Run from the repository root, then fit them in R::

    .venv/bin/python tests/reference/multilevel/make_data.py
    Rscript tests/reference/multilevel/make_reference.R

Data sets (all seeded, small):

* ``ri2.csv``: 40 groups of 3-12 rows, a row covariate ``x`` and a group covariate
  ``z``, a few missing outcomes (two-level random intercept, unbalanced).
* ``nest.csv``: 5 goals > 15 organisations > 2-4 teams (codes "T1".. reused in every
  organisation) > 3-7 respondents (codes "R1".. reused in every team) > waves 0-3, about
  15% of the waves missing, a team-level ``offer``, a respondent-level ``ses`` (some
  missing), an organisation-level ``size``; the outcome has variance at every level.
* ``slope.csv``: 12 organisations > 10 respondents > waves 0-4 with random intercepts and
  wave slopes at both the organisation and the respondent level.
* ``singular.csv``: 8 organisations > 4 teams > 6 rows with no organisation variance, so
  that the organisation variance is estimated at 0 (a boundary fit).
* ``factor.csv``: 30 groups > 3 conditions x 4 waves with a three-level factor ``cond``
  (for Type III F-tests on factors and their interaction with wave).
* ``balanced.csv``: 30 groups x 8 rows, no missing values (a balanced two-level design with a
  row covariate ``x`` and a group covariate ``z``).
* ``unbal3.csv``: 10 organisations > 4-25 persons > waves 0-4 with about 25% of the waves
  missing and whole persons with one wave; an organisation-level ``orgx`` and a random
  wave slope per person (an unbalanced three-level design with missing waves).
* ``formula.csv``: 36 groups of 6-10 rows with covariates on different scales (``x`` around
  50, ``z`` around 2, ``w`` in 0-10 and never missing), a three-level row factor ``f`` and a
  two-level group factor ``h``; missing values in ``y``, ``x``, ``z`` and ``f`` on different
  rows (so that R's centring and scaling over all rows where a variable is observed differs
  from the same over the rows used), for formula features: ``scale``, ``poly``, Type III
  tests under several codings.
* ``synthetic.csv``: goals 1-2 of data/synthetic/families.csv (organisation > team >
  professional > family > wave) with the mastery total score computed by
  ``lerendtransformeren.scales.score`` (missing where too few items were answered).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def ri2(rng: np.random.Generator) -> pd.DataFrame:
    sizes = rng.integers(3, 13, size=40)
    g = np.repeat(np.arange(40), sizes)
    z = rng.normal(size=40)
    x = rng.normal(size=g.size)
    y = 2.0 + 0.5 * x + 0.3 * z[g] + rng.normal(0, 0.7, 40)[g] + rng.normal(size=g.size)
    y[rng.choice(g.size, 6, replace=False)] = np.nan
    return pd.DataFrame({"g": [f"G{i + 1:02d}" for i in g], "x": x, "z": z[g], "y": y})


def nest(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for o in range(15):
        u_org = rng.normal(0, 0.5)
        size = rng.normal()
        for t in range(rng.integers(2, 5)):
            u_team = rng.normal(0, 0.8)
            offer = int(rng.random() < 0.5)
            for r in range(rng.integers(3, 8)):
                u_resp = rng.normal(0, 0.8)
                ses = rng.normal()
                for w in range(4):
                    if rng.random() < 0.15:
                        continue
                    y = (10 + 0.3 * w + 0.4 * offer + 0.25 * w * offer + 0.5 * ses + 0.3 * size
                         + u_org + u_team + u_resp + rng.normal(0, 1.0))
                    rows.append((f"D{o // 3 + 1}", f"O{o + 1:02d}", f"T{t + 1}", f"R{r + 1}", w,
                                 offer, ses, size, y))
    df = pd.DataFrame(rows, columns=["goal", "org", "team", "resp", "wave", "offer", "ses", "size", "y"])
    df.loc[rng.choice(len(df), 12, replace=False), "y"] = np.nan
    df.loc[rng.choice(len(df), 5, replace=False), "ses"] = np.nan
    return df


def slope(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for o in range(12):
        uo = rng.multivariate_normal([0, 0], [[0.5, 0.1], [0.1, 0.08]])
        for r in range(10):
            ur = rng.multivariate_normal([0, 0], [[1.0, -0.2], [-0.2, 0.3]])
            x = rng.normal()
            for w in range(5):
                y = 5 + 0.4 * w + 0.3 * x + uo[0] + uo[1] * w + ur[0] + ur[1] * w + rng.normal(0, 0.8)
                rows.append((f"O{o + 1:02d}", f"O{o + 1:02d}R{r + 1:02d}", w, x, y))
    return pd.DataFrame(rows, columns=["org", "resp", "wave", "x", "y"])


def singular(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for o in range(8):
        for t in range(4):
            u_team = rng.normal(0, 0.7)
            for _ in range(6):
                x = rng.normal()
                rows.append((f"O{o + 1}", f"T{t + 1}", x, 1.0 + 0.5 * x + u_team + rng.normal()))
    return pd.DataFrame(rows, columns=["org", "team", "x", "y"])


def factor(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    effect = {"a": 0.0, "b": 0.5, "c": -0.3}
    slope_ = {"a": 0.2, "b": 0.4, "c": 0.1}
    for i in range(30):
        cond = "abc"[i % 3]
        u = rng.normal(0, 0.8)
        for w in range(4):
            y = 3 + effect[cond] + slope_[cond] * w + u + rng.normal()
            rows.append((f"S{i + 1:02d}", cond, w, y))
    return pd.DataFrame(rows, columns=["g", "cond", "wave", "y"])


def balanced(rng: np.random.Generator) -> pd.DataFrame:
    g = np.repeat(np.arange(30), 8)
    z = rng.normal(size=30)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.4 * x - 0.3 * z[g] + rng.normal(0, 0.6, 30)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"g": [f"G{i + 1:02d}" for i in g], "x": x, "z": z[g], "y": y})


def unbal3(rng: np.random.Generator) -> pd.DataFrame:
    n_per = rng.integers(4, 26, size=10)
    org = np.repeat(np.arange(10), n_per)
    orgx = rng.normal(size=10)
    n_p = org.size
    u_org = rng.normal(0, 0.6, 10)
    u_p = rng.multivariate_normal([0, 0], [[0.8, -0.1], [-0.1, 0.1]], size=n_p)
    pid = np.repeat(np.arange(n_p), 5)
    wave = np.tile(np.arange(5), n_p)
    o = org[pid]
    y = (2 + 0.3 * wave + 0.5 * orgx[o] + u_org[o] + u_p[pid, 0] + u_p[pid, 1] * wave
         + rng.normal(0, 0.7, pid.size))
    keep = rng.random(pid.size) > 0.25
    keep |= wave == 0
    df = pd.DataFrame({"org": [f"O{i + 1:02d}" for i in o], "person": [f"P{i + 1:03d}" for i in pid],
                       "wave": wave, "orgx": orgx[o], "y": y})[keep]
    df.loc[df.index[rng.choice(len(df), 8, replace=False)], "y"] = np.nan
    return df


def formula(rng: np.random.Generator) -> pd.DataFrame:
    sizes = rng.integers(6, 11, size=36)
    g = np.repeat(np.arange(36), sizes)
    n = g.size
    h = np.where(np.arange(36) % 2 == 0, "a", "b")[g]
    f = rng.choice(["lo", "mid", "hi"], size=n)
    x = rng.normal(50, 10, n)
    z = rng.normal(2, 1, n)
    w = rng.uniform(0, 10, n)
    eff = {"lo": -0.5, "mid": 0.0, "hi": 0.4}
    y = (1 + 0.03 * x + 0.4 * z + 0.2 * w - 0.02 * w**2 + np.array([eff[v] for v in f])
         + 0.3 * (h == "b") + 0.5 * ((h == "b") & (f == "hi")) + rng.normal(0, 0.6, 36)[g] + rng.normal(size=n))
    df = pd.DataFrame({"g": [f"G{i + 1:02d}" for i in g], "h": h, "f": f, "x": x, "z": z, "w": w, "y": y})
    rows = rng.permutation(n)
    df.loc[rows[:14], "y"] = np.nan
    df.loc[rows[14:28], "x"] = np.nan
    df.loc[rows[28:40], "z"] = np.nan
    df.loc[rows[40:48], "f"] = np.nan
    return df


def synthetic() -> pd.DataFrame:
    from lerendtransformeren.scales import score

    root = HERE.parents[2]
    fam = pd.read_csv(root / "data" / "synthetic" / "families.csv")
    fam = fam[fam["goal"].isin([1, 2])].reset_index(drop=True)
    sc = score(fam, "mastery")
    out = fam[["goal", "organisation", "team", "professional", "family", "wave", "offer"]].copy()
    out["mastery"] = sc["mastery_total"].to_numpy()
    return out


def main() -> None:
    for name, maker, seed in [
        ("ri2", ri2, 20261101),
        ("nest", nest, 20261102),
        ("slope", slope, 20261103),
        ("singular", singular, 20261108),
        ("factor", factor, 20261105),
    ]:
        df = maker(np.random.default_rng(seed))
        df.to_csv(HERE / f"{name}.csv", index=False, float_format="%.10g", lineterminator="\n")
    for name, maker, seed in [("balanced", balanced, 20261111), ("unbal3", unbal3, 20261112),
                              ("formula", formula, 20261120)]:
        df = maker(np.random.default_rng(seed))
        df.to_csv(HERE / f"{name}.csv", index=False, float_format="%.10g", lineterminator="\n")
    synthetic().to_csv(HERE / "synthetic.csv", index=False, float_format="%.10g", lineterminator="\n")


if __name__ == "__main__":
    main()
