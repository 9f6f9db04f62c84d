"""The model frame's contract for new data: the fixed design and the variables of the fixed part.

Estimated marginal means, prediction and the formula backend meet here, so these tests pin
what the formula backend (formulaic; patsy before it) must give.
"""

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.multilevel.frame import build_frame


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    n = 120
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "wave": np.tile([0, 1, 2], n // 3),
        "offer": np.repeat([True, False], n // 2),
        "ses": rng.choice(["laag", "midden", "hoog"], n),
        "x": rng.uniform(1, 5, n),
        "unused": 1.0,
        "team": np.repeat(np.arange(12), n // 12),
    })


def test_fixed_variables_name_factors_with_levels_and_numbers_with_none(data):
    frame = build_frame("y ~ C(wave) * offer + ses + np.log(x) + (1 | team)", data)
    assert frame.fixed_variables() == {
        "wave": (0, 1, 2),
        "offer": (False, True),
        "ses": ("hoog", "laag", "midden"),
        "x": None,
    }


def test_fixed_matrix_of_the_fitted_rows_is_the_fitted_design(data):
    frame = build_frame("y ~ wave * offer + ses + center(x) + (1 | team)", data)
    np.testing.assert_allclose(frame.fixed_matrix(data), frame.X)


@pytest.mark.parametrize("transform_rows", ["all", "used"])
def test_fixed_matrix_keeps_fit_codings_and_missing_rows(data, transform_rows):
    """Row 5 is left out of the fit (missing outcome).

    R's way (the default, ``transform_rows="all"``) centres x over every row where x is
    observed, row 5 included, as ``model.frame`` does before ``na.omit``; with ``"used"``
    over the rows of the fit. (Before formulaic, the centring was over the rows used only.)
    """
    data.loc[5, "y"] = np.nan
    frame = build_frame("y ~ ses + center(x) + (1 | team)", data, transform_rows=transform_rows)
    centre = data["x"].mean() if transform_rows == "all" else data["x"].drop(5).mean()
    new = pd.DataFrame({"ses": ["midden", "hoog"], "x": [centre, np.nan]})
    got = frame.fixed_matrix(new)
    assert got.shape == (2, frame.X.shape[1])
    np.testing.assert_allclose(got[0], [1.0, 0.0, 1.0, 0.0], atol=1e-12)  # the mean centres to 0
    assert np.isnan(got[1, -1])
    block = frame.levels[0].blocks[0]
    np.testing.assert_allclose(block.matrix(new), [[1.0], [1.0]])
