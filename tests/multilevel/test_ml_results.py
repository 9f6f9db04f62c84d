"""MultilevelResult: tables, random effects, predictions, tests, text."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit, lrt

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"
FORMULA = "y ~ wave * offer + ses + size + (1 | org/team/resp)"


@lru_cache(maxsize=None)
def nest():
    data = pd.read_csv(REF / "nest.csv")
    return fit(FORMULA, data), data


def test_tables_have_the_documented_shape():
    res, _ = nest()
    assert list(res.fixed.columns) == ["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
    assert list(res.fixed.index) == ["Intercept", "wave", "offer", "wave:offer", "ses", "size"]
    assert res.variance.index.tolist() == [
        ("org:team:resp", "Intercept"), ("org:team", "Intercept"), ("org", "Intercept"), ("residual", "")]
    f = res.fixed
    half = f["se"] * stats.t.ppf(0.975, f["df"])
    np.testing.assert_allclose(f["ci_high"] - f["estimate"], half, rtol=1e-12)
    np.testing.assert_allclose(f["t"], f["estimate"] / f["se"], rtol=1e-12)
    assert res.n_parameters == 6 + 3 + 1


def test_predict_levels():
    res, data = nest()
    used = data.loc[res.frame.row_index]
    full = res.predict()
    assert full.index.equals(res.frame.row_index)
    # the same on new data that are the fitted rows
    np.testing.assert_allclose(res.predict(used), full, rtol=1e-12)
    population = res.predict(level="population")
    np.testing.assert_allclose(population, res.frame.X @ res.beta, rtol=1e-12)
    # the organisation level only: fixed part + organisation modes
    org = res.ranef("org")["Intercept"]
    np.testing.assert_allclose(res.predict(level="org"), population + org.loc[used["org"]].to_numpy(), rtol=1e-12)
    # the conditional fit is closer to the data than the population fit
    assert ((used["y"] - full) ** 2).sum() < ((used["y"] - population) ** 2).sum()


def test_predict_new_unit_gets_zero_random_effect():
    """An unseen organisation (so also unseen team and respondent) gets the fixed part;
    a seen organisation with an unseen team gets the organisation's mode only."""
    res, data = nest()
    new = data.iloc[[0, 1]].copy()
    new["org"] = ["NEW", "O01"]
    new["team"] = ["T1", "T9"]
    pop = res.predict(new, level="population")
    pred = res.predict(new)
    assert pred.iloc[0] == pytest.approx(pop.iloc[0], abs=1e-14)
    assert pred.iloc[1] == pytest.approx(pop.iloc[1] + res.ranef("org").loc["O01", "Intercept"], abs=1e-12)


def test_ranef_by_level_name_or_last_factor():
    res, _ = nest()
    pd.testing.assert_frame_equal(res.ranef("team"), res.ranef("org:team"))
    assert res.ranef("resp").index[0] == "O01:T1:R1"
    with pytest.raises(SpecificationError, match="Unknown level 'school'"):
        res.ranef("school")


def test_contrast_by_name_equals_matrix():
    res, _ = nest()
    by_name = res.contrast({"offer": 1, "wave:offer": 3}).iloc[0]
    L = np.zeros(6)
    L[[2, 3]] = [1, 3]
    by_matrix = res.contrast(L).iloc[0]
    pd.testing.assert_series_equal(by_name, by_matrix)
    assert by_name["estimate"] == pytest.approx(res.beta[2] + 3 * res.beta[3])
    with pytest.raises(SpecificationError, match="Unknown fixed effects"):
        res.contrast({"offers": 1})


def test_single_row_ftest_equals_squared_t():
    res, _ = nest()
    t = res.contrast({"ses": 1}).iloc[0]
    F = res.ftest({"ses": 1})
    assert F["F"] == pytest.approx(t["t"] ** 2, rel=1e-10)
    assert F["dendf"] == pytest.approx(t["df"], rel=1e-10)
    assert F["p"] == pytest.approx(t["p"], rel=1e-8)


def test_lrt_of_a_random_term_compares_reml_criteria():
    res, data = nest()
    smaller = fit("y ~ wave * offer + ses + size + (1 | org) + (1 | org:team:resp)", data)
    table = lrt(smaller, res)
    assert table["df"].iloc[1] == 1
    assert table["chisq"].iloc[1] == pytest.approx(smaller.reml_criterion - res.reml_criterion)
    assert table["criterion"].iloc[0] == smaller.reml_criterion


def test_refit_with_ml_matches_direct_ml_fit():
    res, data = nest()
    ml = res.refit(reml=False)
    direct = fit(FORMULA, data, reml=False)
    assert ml.deviance == pytest.approx(direct.deviance, abs=1e-8)
    assert np.isnan(ml.reml_criterion)


def test_summary_and_html():
    res, _ = nest()
    text = res.summary()
    assert "REML criterion: 2198.5454" in text
    assert "org:team:resp: 195" in text
    assert "668 used, 17 left out" in text
    html = res._repr_html_()
    assert html.startswith("<div>") and "wave:offer" in html and "Satterthwaite" in html
