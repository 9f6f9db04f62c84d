"""Write the deterministic input data of the GLMM reference cases (glmm_reference.json).

Run from the repository root, then fit the cases in R::

    .venv/bin/python tests/reference/glmm/make_data.py
    Rscript tests/reference/glmm/make_reference.R

Data sets (seeded, small):

* ``nested.csv``: 12 organisations > 3 teams (codes "T1".."T3" reused in every
  organisation) > 4 professionals (codes "P1".."P4" reused in every team) > waves 0-3
  (576 rows, about 5% of the outcomes missing). ``offer`` switches on per organisation
  from a stepped-wedge start wave, ``x`` is a row covariate. Outcomes:

  - ``y_bin``: binary with random intercepts at every level (SD 0.6, 0.5, 0.8);
  - ``y_cnt``: counts, Poisson with random intercepts per organisation and team;
  - ``y_rare``: rare binary (about 7%) with an organisation variance only; with random
    intercepts at every level its organisation variance is estimated at 0 (a boundary fit);
  - ``y_sep``: ``y_bin`` with every outcome of organisation "O03" set to 1
    (quasi-separation in one cluster).

* ``slope.csv``: 40 organisations x 24 rows, ``offer`` half of the rows of every
  organisation, a binary ``y`` with a correlated random intercept and offer slope per
  organisation (SD 0.8 and 0.7, correlation -0.4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def nested(rng: np.random.Generator) -> pd.DataFrame:
    n_org, n_team, n_prof, n_wave = 12, 3, 4, 4
    org = np.repeat(np.arange(n_org), n_team * n_prof * n_wave)
    team = np.repeat(np.arange(n_org * n_team), n_prof * n_wave)
    prof = np.repeat(np.arange(n_org * n_team * n_prof), n_wave)
    wave = np.tile(np.arange(n_wave), n_org * n_team * n_prof)
    start = rng.integers(1, n_wave + 1, size=n_org)  # 4: never offered in these waves
    offer = (wave >= start[org]).astype(int)
    x = np.round(rng.normal(size=org.size), 3)
    a_org, a_team, a_prof = rng.normal(0, 0.6, n_org), rng.normal(0, 0.5, team.max() + 1), rng.normal(0, 0.8, prof.max() + 1)
    eta = -0.4 + 0.25 * wave + 0.5 * offer + 0.4 * x + a_org[org] + a_team[team] + a_prof[prof]
    y_bin = rng.binomial(1, expit(eta)).astype(float)
    c_org, c_team = rng.normal(0, 0.4, n_org), rng.normal(0, 0.3, team.max() + 1)
    y_cnt = rng.poisson(np.exp(0.3 + 0.15 * wave + 0.3 * offer + c_org[org] + c_team[team])).astype(float)
    y_rare = rng.binomial(1, expit(-3.4 + 0.1 * wave + rng.normal(0, 0.5, n_org)[org])).astype(float)
    y_sep = y_bin.copy()
    y_sep[org == 2] = 1.0
    for col in (y_bin, y_cnt):
        col[rng.choice(org.size, 29, replace=False)] = np.nan
    return pd.DataFrame({
        "organisation": [f"O{i + 1:02d}" for i in org],
        "team": [f"T{t % n_team + 1}" for t in team],
        "professional": [f"P{p % n_prof + 1}" for p in prof],
        "wave": wave, "offer": offer, "x": x,
        "y_bin": y_bin, "y_cnt": y_cnt, "y_rare": y_rare, "y_sep": y_sep,
    })


def slope(rng: np.random.Generator) -> pd.DataFrame:
    n_org, n_row = 40, 24
    org = np.repeat(np.arange(n_org), n_row)
    offer = np.tile(np.repeat([0, 1], n_row // 2), n_org)
    x = np.round(rng.normal(size=org.size), 3)
    cov = np.array([[0.64, -0.4 * 0.56], [-0.4 * 0.56, 0.49]])
    re = rng.multivariate_normal([0, 0], cov, size=n_org)
    eta = -0.2 + 0.6 * offer + 0.3 * x + re[org, 0] + re[org, 1] * offer
    y = rng.binomial(1, expit(eta))
    return pd.DataFrame({"organisation": [f"O{i + 1:02d}" for i in org], "offer": offer, "x": x, "y": y})


def main() -> None:
    rng = np.random.default_rng(20240611)
    nested(rng).to_csv(HERE / "nested.csv", index=False, lineterminator="\n")
    slope(rng).to_csv(HERE / "slope.csv", index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
