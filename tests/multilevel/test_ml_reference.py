"""The nested engine against lme4 1.1 / lmerTest 3.1 (tests/reference/multilevel/).

The reference values were made by make_reference.R (lme4 with xtol_abs = 1e-10,
ftol_abs = 1e-12) from the CSVs written by make_data.py. Tolerances:

* REML criterion / deviance: 1e-6 absolute (our optimum may be lower than lme4's by the
  optimiser's last digits, never higher by more than that);
* fixed effects 1e-5 relative, standard errors 1e-4 relative;
* variance components and conditional modes 1e-3 relative (theta itself is only as precise
  as the flat criterion allows; bobyqa stops about 1e-5 from the optimum);
* Satterthwaite df 1e-3 relative, p-values 1e-4 absolute.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SingularFitWarning
from lerendtransformeren.multilevel import fit

REF = Path(__file__).resolve().parents[1] / "reference" / "multilevel"
REFERENCE = json.loads((REF / "reference.json").read_text())
CASES = sorted(k for k in REFERENCE if not k.startswith("_"))


def r_name(term: str) -> str:
    """patsy's column name in R's spelling: C(cond)[T.b] -> condb, Intercept -> (Intercept)."""
    term = re.sub(r"C\((\w+)\)\[T\.(\w+)\]", r"\1\2", term)
    term = re.sub(r"C\((\w+)\)", r"\1", term)
    return "(Intercept)" if term == "Intercept" else term


@lru_cache(maxsize=None)
def fitted(case: str):
    ref = REFERENCE[case]
    data = pd.read_csv(REF / f"{ref['data']}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SingularFitWarning)
        return fit(ref["formula"], data, reml=ref["reml"]), data


def rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


@pytest.mark.parametrize("case", CASES)
def test_criterion_and_fit_statistics(case):
    ref = REFERENCE[case]
    res, _ = fitted(case)
    ours = res.reml_criterion if ref["reml"] else res.deviance
    assert ours == pytest.approx(ref["criterion"], abs=1e-6)
    assert res.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    assert res.aic == pytest.approx(ref["aic"], abs=1e-6)
    assert res.bic == pytest.approx(ref["bic"], abs=1e-6)
    assert res.converged
    assert res.singular == ref["singular"]
    assert res.n.loc["rows used", "n"] == ref["nobs"]


@pytest.mark.parametrize("case", CASES)
def test_fixed_effects_with_satterthwaite(case):
    ref = REFERENCE[case]["fixed"]
    res, _ = fitted(case)
    fixed = res.fixed.rename(index=r_name).loc[ref["term"]]
    assert rel(fixed["estimate"], ref["estimate"]) < 1e-5
    assert rel(fixed["se"], ref["se"]) < 1e-4
    assert rel(fixed["df"], ref["df"]) < 1e-3
    assert rel(fixed["t"], ref["t"]) < 1e-4
    np.testing.assert_allclose(fixed["p"], ref["p"], rtol=0, atol=1e-4)


def _r_group(group: str) -> str:
    """Our grouping name in lme4's spelling: org:team:resp -> resp:(team:org)."""
    parts = group.split(":")
    name = parts[0]
    for p in parts[1:]:
        name = f"{p}:({name})" if ":" in name else f"{p}:{name}"
    return name


@pytest.mark.parametrize("case", CASES)
def test_variance_components(case):
    ref = pd.DataFrame(REFERENCE[case]["varcorr"])
    res, _ = fitted(case)
    var = res.variance
    for _, row in ref.iterrows():
        if row["grp"] == "Residual":
            ours_var, ours_sd = var.loc[("residual", ""), ["variance", "sd"]]
        else:
            r_grp = re.sub(r"\.\d+$", "", row["grp"])  # lme4: resp.1 for a second term on resp
            grp = [g for g in var.index.get_level_values(0).unique() if _r_group(g) == r_grp]
            assert len(grp) == 1, row["grp"]
            t1 = "Intercept" if row["var1"] == "(Intercept)" else row["var1"]
            if pd.isna(row["var2"]):
                ours_var, ours_sd = var.loc[(grp[0], t1), ["variance", "sd"]]
            else:  # a covariance and a correlation
                t2 = "Intercept" if row["var2"] == "(Intercept)" else row["var2"]
                corr = var.loc[(grp[0], t2), f"corr {t1}"]
                sds = var.loc[grp[0], "sd"]
                ours_var, ours_sd = corr * sds[t1] * sds[t2], corr
        if row["vcov"] == 0:
            assert ours_var < 1e-10
        else:
            assert rel(ours_var, row["vcov"]) < 1e-3, row.to_dict()
            assert rel(ours_sd, row["sdcor"]) < 1e-3, row.to_dict()


@pytest.mark.parametrize("case", [c for c in CASES if "ranef" in REFERENCE[c]])
def test_conditional_modes_and_variances(case):
    ref = REFERENCE[case]["ranef"]
    res, _ = fitted(case)
    ours = res.ranef(ref["level"], condsd=True)
    units = [":".join(reversed(u.split(":"))) for u in ref["units"]]  # lme4: T1:O01
    ours = ours.loc[units]
    r_names = ref["names"] if isinstance(ref["names"], list) else [ref["names"]]
    names = ["Intercept" if n == "(Intercept)" else n for n in r_names]
    values, condsd = np.array(ref["values"]), np.array(ref["condsd"])
    np.testing.assert_allclose(ours[names].to_numpy(), values, rtol=1e-3, atol=1e-3 * np.abs(values).max())
    np.testing.assert_allclose(ours[[f"sd {n}" for n in names]].to_numpy(), condsd, rtol=1e-3)


@pytest.mark.parametrize("case", [c for c in CASES if "anova" in REFERENCE[c]])
def test_type3_anova(case):
    ref = pd.DataFrame(REFERENCE[case]["anova"]).set_index("term")
    res, _ = fitted(case)
    ours = res.anova().rename(index=r_name).loc[ref.index]
    assert (ours["numdf"].to_numpy() == ref["numdf"].to_numpy()).all()
    assert rel(ours["F"], ref["F"]) < 1e-4
    assert rel(ours["dendf"], ref["dendf"]) < 1e-3
    np.testing.assert_allclose(ours["p"], ref["p"], rtol=0, atol=1e-4)


def _to_ours(res, L_r: np.ndarray, r_terms: list[str]) -> np.ndarray:
    order = [r_terms.index(r_name(n)) for n in res.fixed.index]
    return np.atleast_2d(L_r)[:, order]


def test_contrasts_one_and_multi_df():
    ref = REFERENCE["nest3_reml"]
    res, _ = fitted("nest3_reml")
    terms = ref["fixed"]["term"]
    c = ref["contrast"]
    joint = res.ftest(_to_ours(res, np.array(c["L"]), terms))
    assert joint["numdf"] == c["numdf"]
    assert rel(joint["F"], c["F"]) < 1e-4
    assert rel(joint["dendf"], c["dendf"]) < 1e-3
    one = res.contrast(_to_ours(res, np.array(c["L1"]), terms)).iloc[0]
    assert rel(one["estimate"], c["estimate1"]) < 1e-5
    assert rel(one["se"], c["se1"]) < 1e-4
    assert rel(one["df"], c["df1"]) < 1e-3
    assert one["p"] == pytest.approx(c["p1"], abs=1e-4)


def test_likelihood_ratio_refits_with_ml():
    ref = REFERENCE["nest3_reml"]["lrt"]
    res, data = fitted("nest3_reml")
    reduced = fit(ref["reduced"], data)
    table = res.lrt(reduced)
    np.testing.assert_allclose(table["criterion"], ref["deviance"], atol=1e-6)
    assert table["chisq"].iloc[1] == pytest.approx(ref["chisq"], abs=1e-6)
    assert table["df"].iloc[1] == ref["df"]
    assert table["p"].iloc[1] == pytest.approx(ref["p"], rel=1e-4)
