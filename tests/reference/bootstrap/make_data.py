"""Write the input of the bootstrap (ICC, R2) reference case.

Run from the repository root, then bootstrap it in R::

    .venv/bin/python tests/reference/bootstrap/make_data.py
    Rscript tests/reference/bootstrap/make_reference.R

``nested.csv``: :func:`lerendtransformeren.synthetic.nested_example` (10 organisations
``org`` > 4 teams ``team`` (codes 0-3 reused in every organisation) > 6 waves), written
with full precision so that R reads the numbers Python fits. With 10 organisations the
organisation variance is estimated at 0 in a few percent of the bootstrap samples, so the
case also checks how singular refits enter the intervals.
"""

from __future__ import annotations

from pathlib import Path

from lerendtransformeren.synthetic import nested_example

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    nested_example().to_csv(HERE / "nested.csv", index=False, float_format="%.17g")
