"""The nested GLMM against lme4::glmer 1.1-31 (tests/reference/glmm/, no R needed).

make_reference.R fits every case with glmer twice: with tight settings (``tolPwrss =
1e-12``, tight Nelder-Mead tolerances; the reference values, which agree with glmmTMB) and
with glmer's defaults. Tolerances against the tight fit:

* fixed effects, standard errors, Wald intervals, theta, variance components, conditional
  modes and their SDs, predictions: 1e-3 relative, at least 1e-4 absolute;
* logLik: not below glmer's by more than 1e-4 (it may be higher), and within 1e-3;
  AIC and BIC accordingly; the df, the singular flag, the rows and units exactly.

Against glmer with its default settings (as a user calls it) the estimates agree to
3e-3 relative and the standard errors to 1e-2: with ``tolPwrss = 1e-7`` glmer's
finite-difference Hessian carries the noise of its loosely converged modes (up to 0.9% in
a standard error here), and its second stage may stop short (up to 0.0022 in logLik).
"""

from __future__ import annotations

import json
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.multilevel import fit, lrt

REF = Path(__file__).resolve().parents[1] / "reference" / "glmm"
CASES = ["bin2", "bin3", "bin3_null", "bin4", "slope", "pois", "agq_bin", "agq_pois", "rare", "sep"]


@lru_cache(maxsize=None)
def reference() -> dict:
    return json.loads((REF / "glmm_reference.json").read_text())


@lru_cache(maxsize=None)
def dataset(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}.csv")


@lru_cache(maxsize=None)
def fitted(case: str):
    c = reference()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the singular case warns; tested in test_glmm.py
        return fit(c["formula"], dataset(c["data"]), family=c["family"], nagq=c["nAGQ"])


def close(ours, theirs, rel=1e-3, abs_=1e-4):
    ours, theirs = np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(theirs, float))
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rel, atol=abs_)


def r_term(name: str) -> str:
    return "Intercept" if name == "(Intercept)" else name


def group_key(name: str) -> str:
    """lme4 writes the unit of (1 | a/b) as "b:a" and of (1 | a:b) as "a:b": compare the parts, sorted."""
    return ":".join(sorted(name.replace("(", "").replace(")", "").split(":")))


def test_reference_has_every_kind_of_case():
    ref = reference()
    assert set(CASES) <= set(ref)
    assert {ref[c]["family"] for c in CASES} == {"binomial", "poisson"}
    assert {len(ref[c]["ngrps"]) for c in CASES} >= {1, 2, 3}
    assert any(ref[c]["nAGQ"] > 1 for c in CASES)
    assert ref["rare"]["singular"] and not ref["bin3"]["singular"]
    assert ref["versions"]["lme4"].startswith("1.1")


@pytest.mark.parametrize("case", CASES)
def test_fixed_effects(case):
    c, m = reference()[case], fitted(case)
    ref = c["fixed"]
    assert list(m.fixed.index) == [r_term(t) for t in ref["term"]]
    for col in ("estimate", "se", "z", "ci_low", "ci_high"):
        close(m.fixed[col], ref[col])
    close(m.fixed["p"], ref["p"], rel=1e-3, abs_=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_variance_parameters(case):
    c, m = reference()[case], fitted(case)
    close(m.theta, c["theta"]["value"])
    vc = pd.DataFrame(c["varcorr"])
    table = m.variance
    for _, row in vc.iterrows():
        rows = [k for k in table.index if group_key(k[0]) == group_key(row["grp"])]
        names = [r_term(row["var1"])] + ([r_term(row["var2"])] if row["var2"] else [])
        if not row["var2"]:
            (key,) = [k for k in rows if k[1] == names[0]]
            close(table.loc[key, "variance"], row["vcov"])
            close(table.loc[key, "sd"], row["sdcor"])
        else:
            (key,) = [k for k in rows if k[1] == names[1]]
            close(table.loc[key, f"corr {names[0]}"], row["sdcor"])


@pytest.mark.parametrize("case", CASES)
def test_likelihood_and_counts(case):
    c, m = reference()[case], fitted(case)
    assert m.loglik >= c["loglik"] - 1e-4
    assert m.loglik == pytest.approx(c["loglik"], abs=1e-3)
    assert m.n_parameters == c["df"]
    assert m.aic == pytest.approx(c["aic"], abs=2e-3) and m.aic <= c["aic"] + 2e-4
    assert m.bic == pytest.approx(c["bic"], abs=2e-3) and m.bic <= c["bic"] + 2e-4
    assert m.deviance == pytest.approx(c["minus2loglik"], abs=2e-3)
    assert m.conditional_deviance == pytest.approx(c["deviance"], rel=1e-4)
    assert m.singular == c["singular"]
    assert m.converged
    assert m.n.loc["rows used", "n"] == c["nobs"]
    for name, units in c["ngrps"].items():
        (row,) = [i for i in m.n.index if i.startswith("units: ") and group_key(i[7:]) == group_key(name)]
        assert m.n.loc[row, "n"] == units


@pytest.mark.parametrize("case", CASES)
def test_predictions(case):
    c, m = reference()[case], fitted(case)
    close(m.fitted().to_numpy()[:10], c["fitted_head"])
    close(m.predict(type="link").to_numpy()[:10], c["predict_link_head"])
    close(m.predict(type="response", re=False).to_numpy()[:10], c["predict_pop_head"])


@pytest.mark.parametrize("case", [c for c in CASES if "ranef" in reference()[c]])
def test_conditional_modes(case):
    c, m = reference()[case], fitted(case)
    for group, r in c["ranef"].items():
        (level,) = [lev.name for lev in m.frame.levels if group_key(lev.name) == group_key(group)]
        ours = m.ranef(level, condsd=True)
        ours.index = [group_key(u) for u in ours.index]
        order = [group_key(u) for u in r["unit"]]
        terms = r["term"] if isinstance(r["term"], list) else [r["term"]]  # auto_unbox
        for j, term in enumerate(terms):
            close(ours.loc[order, r_term(term)], np.asarray(r["mode"])[:, j])
            close(ours.loc[order, f"sd {r_term(term)}"], np.asarray(r["sd"])[:, j])


@pytest.mark.parametrize("case", [c for c in CASES if reference()[c]["nAGQ"] == 1])
def test_glmmtmb_second_opinion(case):
    c, m = reference()[case], fitted(case)
    tmb = c["glmmTMB"]
    assert m.loglik == pytest.approx(tmb["loglik"], abs=1e-4)
    close(m.fixed["estimate"], tmb["estimate"])
    close(m.fixed["se"], tmb["se"])


@pytest.mark.parametrize("case", CASES)
def test_close_to_glmer_defaults(case):
    c, m = reference()[case], fitted(case)
    d = c["default"]
    assert m.loglik >= d["loglik"] - 1e-4
    close(m.fixed["estimate"], d["estimate"], rel=3e-3, abs_=1e-4)
    close(m.fixed["se"], d["se"], rel=1e-2, abs_=1e-4)


def test_anova_likelihood_ratio():
    a = reference()["anova"]
    m0, m1 = fitted(a["models"][0]), fitted(a["models"][1])
    for table in (lrt(m0, m1), m1.lrt(m0), m1.anova(m0)):
        assert list(table["n_par"]) == a["npar"]
        close(table["loglik"], a["loglik"], rel=0, abs_=1e-3)
        close(table["aic"], a["aic"], rel=0, abs_=2e-3)
        assert table["df"].iloc[1] == a["df"]
        assert table["chisq"].iloc[1] == pytest.approx(a["chisq"], abs=2e-3)
        assert table["p"].iloc[1] == pytest.approx(a["p"], rel=1e-3)
