"""Write the deterministic input data of the effects (ICC, R2) reference cases.

Run from the repository root, then fit them in R::

    .venv/bin/python tests/reference/effects/make_data.py
    Rscript tests/reference/effects/make_reference.R

Data sets:

* ``ri2.csv``: simulated, 30 groups of 4-15 rows (unbalanced), a row covariate ``x`` and
  a group covariate ``z`` (two-level random intercept).
* ``families.csv``: the synthetic study (data/synthetic/families.csv), organisations O01-O06,
  with the parent SDQ total difficulties score and the mastery total scored by
  :func:`lerendtransformeren.scales.score` (so R reads exactly the numbers Python fits);
  organisation > team > professional > family > wave, missing waves and missing scores
  left in as they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lerendtransformeren import scales

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def ri2(rng: np.random.Generator) -> pd.DataFrame:
    sizes = rng.integers(4, 16, size=30)
    g = np.repeat(np.arange(30), sizes)
    z = rng.normal(size=30)
    x = rng.normal(size=g.size)
    y = 1.0 + 0.6 * x + 0.4 * z[g] + rng.normal(0, 0.8, 30)[g] + rng.normal(size=g.size)
    return pd.DataFrame({"g": [f"G{i + 1:02d}" for i in g], "x": x.round(6), "z": z[g].round(6), "y": y.round(6)})


def families() -> pd.DataFrame:
    d = pd.read_csv(ROOT / "data" / "synthetic" / "families.csv")
    d = d[d["organisation"].isin([f"O{i:02d}" for i in range(1, 7)])]
    scored = scales.score(d, ["sdq_parent", "mastery"])
    keep = ["organisation", "team", "professional", "family", "wave", "offer", "ses"]
    out = pd.concat([d[keep], scored[["sdq_parent_total_difficulties", "mastery_total"]]], axis=1)
    return out.rename(columns={"sdq_parent_total_difficulties": "sdq_total"}).reset_index(drop=True)


if __name__ == "__main__":
    ri2(np.random.default_rng(20261123)).to_csv(HERE / "ri2.csv", index=False)
    families().to_csv(HERE / "families.csv", index=False)
