"""Write the deterministic input data of the estimated-marginal-means reference cases.

Run from the repository root, then compute the reference values in R::

    .venv/bin/python tests/reference/emmeans/make_data.py
    Rscript tests/reference/emmeans/make_reference.R

Data sets (seeded, small):

* ``trial.csv``: 12 organisations > 2-4 teams (codes "T1".. reused in every organisation)
  > 4-8 persons > waves 0-3, about 15% of the waves missing and a few missing outcomes.
  ``cond`` (a, b, c) is an organisation-level condition, ``offer`` (0/1) a team-level one,
  ``sex`` (f/m) and ``ses`` (numeric, a few missing) describe the person. The outcome has
  variance at the organisation, team and person level and a person-level wave slope.
* ``binary.csv``: 20 organisations > 3 teams > 8 rows (waves 0-3, twice), a team-level
  ``offer`` (0/1), a row covariate ``x``, a binary outcome ``y`` and a count ``count``
  (Poisson), both with random intercepts per organisation and team (for the link-scale and
  response-scale means of a GLMM).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def trial(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    cond_effect = {"a": 0.0, "b": 0.6, "c": -0.4}
    cond_slope = {"a": 0.15, "b": 0.35, "c": 0.05}
    for o in range(12):
        cond = "abc"[o % 3]
        u_org = rng.normal(0, 0.5)
        for t in range(rng.integers(2, 5)):
            u_team = rng.normal(0, 0.6)
            offer = int(rng.random() < 0.5)
            for p in range(rng.integers(4, 9)):
                u_person, s_person = rng.normal(0, 0.8), rng.normal(0, 0.15)
                sex = "fm"[int(rng.random() < 0.45)]
                ses = round(float(rng.normal()), 4)
                for w in range(4):
                    if rng.random() < 0.15:
                        continue
                    y = (10 + cond_effect[cond] + (cond_slope[cond] + s_person) * w + 0.5 * offer
                         + 0.2 * w * offer + 0.3 * (sex == "m") + 0.4 * ses + u_org + u_team + u_person
                         + rng.normal(0, 1.0))
                    rows.append((f"O{o + 1:02d}", f"T{t + 1}", f"O{o + 1:02d}T{t + 1}P{p + 1}", w, cond,
                                 offer, sex, ses, y))
    df = pd.DataFrame(rows, columns=["org", "team", "person", "wave", "cond", "offer", "sex", "ses", "y"])
    df.loc[rng.choice(len(df), 10, replace=False), "y"] = np.nan
    df.loc[rng.choice(len(df), 6, replace=False), "ses"] = np.nan
    return df


def binary(rng: np.random.Generator) -> pd.DataFrame:
    n_org, n_team, n_row = 20, 3, 8
    org = np.repeat(np.arange(n_org), n_team * n_row)
    team = np.repeat(np.arange(n_org * n_team), n_row)
    wave = np.tile(np.arange(n_row) % 4, n_org * n_team)
    offer = rng.integers(0, 2, size=n_org * n_team)[team]
    x = np.round(rng.normal(size=org.size), 3)
    eta = (-0.3 + 0.2 * wave + 0.6 * offer + 0.5 * x + rng.normal(0, 0.6, n_org)[org]
           + rng.normal(0, 0.7, n_org * n_team)[team])
    y = rng.binomial(1, 1.0 / (1.0 + np.exp(-eta)))
    count = rng.poisson(np.exp(0.4 + 0.15 * wave + 0.3 * offer + rng.normal(0, 0.4, n_org)[org]
                               + rng.normal(0, 0.3, n_org * n_team)[team]))
    return pd.DataFrame({"org": [f"O{i + 1:02d}" for i in org], "team": [f"T{i % n_team + 1}" for i in team],
                         "wave": wave, "offer": offer, "x": x, "y": y, "count": count})


def main() -> None:
    for name, maker, seed in [("trial", trial, 20270301), ("binary", binary, 20270302)]:
        df = maker(np.random.default_rng(seed))
        df.to_csv(HERE / f"{name}.csv", index=False, float_format="%.10g", lineterminator="\n")


if __name__ == "__main__":
    main()
