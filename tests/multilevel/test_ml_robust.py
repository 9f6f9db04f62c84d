"""CR2 cluster-robust tests against clubSandwich 0.5 (tests/reference/multilevel).

Reference: ``clubSandwich::coef_test(lme4_fit, vcov = "CR2", test = "Satterthwaite")`` and
``vcovCR(lme4_fit, type = "CR2")`` on balanced_reml (30 clusters g) and unbal3_reml (10
organisations, random wave slopes per person). Tolerance 1e-5 relative on SE, df, t and p
(observed 1e-9 on the two-level case, 6e-6 on the three-level case, where our theta and
lme4's differ by ~1e-6); the covariance matrix within 1e-5 of its largest element.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.robust import cr2

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"
REFERENCE = json.loads((REF / "reference.json").read_text())


def _fit(case):
    ref = REFERENCE[case]
    data = pd.read_csv(REF / f"{ref['data']}.csv")
    return fit(ref["formula"], data, reml=ref["reml"]), data


@pytest.mark.parametrize("case", ["balanced_reml", "unbal3_reml"])
def test_cr2_matches_clubsandwich(case):
    ref = REFERENCE[case]["cr2"]
    res, _ = _fit(case)
    out = res.robust(cluster=ref["cluster"])
    tab = out.table
    assert out.n_clusters == REFERENCE[case]["ngrps"][ref["cluster"]]
    for col in ["estimate", "se", "df", "t"]:
        np.testing.assert_allclose(tab[col], ref[col], rtol=1e-5)
    np.testing.assert_allclose(tab["p"], ref["p"], rtol=1e-5, atol=1e-12)
    vc = np.array(ref["vcov"])
    np.testing.assert_allclose(out.vcov.to_numpy(), vc, rtol=0, atol=1e-5 * np.abs(vc).max())
    # the default cluster is the top level
    default = cr2(res)
    np.testing.assert_allclose(default.table["se"], tab["se"], rtol=1e-12)


def test_cr2_few_clusters_give_few_df():
    res, _ = _fit("unbal3_reml")
    tab = res.robust().table
    # an organisation-level covariate with 10 organisations: far fewer df than the model's
    assert tab.loc["orgx", "df"] < 5
    assert tab.loc["orgx", "ci_low"] < tab.loc["orgx", "estimate"] < tab.loc["orgx", "ci_high"]
    assert "se_model" in tab


def test_cr2_rejects_clusters_that_split_top_level_units():
    res, data = _fit("unbal3_reml")
    with pytest.raises(SpecificationError, match="splits units of the top level 'org'"):
        res.robust(cluster="person")
    with pytest.raises(SpecificationError, match="Unknown cluster 'nope'"):
        res.robust(cluster="nope")


def test_variance_ci_wald_and_profile_shapes_and_errors():
    import warnings

    from lerendtransformeren.exceptions import SingularFitWarning

    ref = REFERENCE["singular_reml"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        res = fit(ref["formula"], pd.read_csv(REF / "singular.csv"))
    wald = res.variance_ci()
    assert list(wald.columns) == ["estimate", "se", "ci_low", "ci_high"]
    assert wald.index.names == ["group", "term", "parameter"]
    # the organisation SD is at 0: no Wald SE there, the profile interval starts at 0
    assert np.isnan(wald.loc[("org", "Intercept", "sd"), "se"])
    prof = res.variance_ci("profile")
    assert prof.loc[("org", "Intercept", "sd"), "ci_low"] == 0.0
    assert prof.loc[("org", "Intercept", "sd"), "ci_high"] > 0.1
    with pytest.raises(SpecificationError, match="method must be 'wald' or 'profile'"):
        res.variance_ci("bootstrap")
    slope, _ = _fit("unbal3_reml")
    w = slope.variance_ci()
    assert -1 <= w.loc[("person", "wave", "corr Intercept"), "ci_low"] <= w.loc[("person", "wave", "corr Intercept"), "ci_high"] <= 1
