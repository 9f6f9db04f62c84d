"""Write the input of the GEE reference values: families_gee.csv.

The rows of waves T1 and T2 of data/synthetic/families.csv (the waves in which the offer
varies between organisations; two waves keep clusters small enough for geeglm to be quick)
and the columns that the GEE reference cases use, sorted by
organisation, family and wave (R's geepack::geeglm wants the rows of a cluster to be
contiguous). Run from the repository root::

    .venv/bin/python tests/reference/gee/make_input.py
    Rscript tests/reference/gee/make_reference.R
"""

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
COLUMNS = ["goal", "organisation", "team", "wave", "offer", "ses", "referral", "contacts"]

frame = pd.read_csv(ROOT / "data" / "synthetic" / "families.csv", usecols=[*COLUMNS, "family"])
frame = frame[frame["wave"].isin([1, 2])]
frame = frame.sort_values(["organisation", "family", "wave"], kind="mergesort")[COLUMNS]
frame.to_csv(HERE / "families_gee.csv", index=False, lineterminator="\n")
