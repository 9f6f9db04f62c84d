"""Tests of lerendtransformeren.multilevel.gee (population-averaged models, few clusters).

Reference values: tests/reference/gee/gee_reference.json, made by make_reference.R with
geepack::geeglm and a direct R computation of the Liang-Zeger, Mancl-DeRouen and
Kauermann-Carroll sandwiches (plus clubSandwich CR3/CR2 on glm for independence), on
families_gee.csv (waves T1-T2 of the bundled synthetic study, written by make_input.py).
Tolerances: estimates 1e-5 absolute, standard errors and covariances 1e-4 relative.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.genmod import cov_struct, families
from statsmodels.genmod.generalized_estimating_equations import GEE

from lerendtransformeren.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DataError,
    DataWarning,
    SpecificationError,
)
from lerendtransformeren.multilevel.gee import fit_gee

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "gee"
CASES = json.loads((REFERENCE / "gee_reference.json").read_text())["cases"]
ESTIMATE_ATOL = 1e-5
SE_RTOL = 1e-4

# case name -> (formula, subset of the goals or None, cluster, family, cov_struct, nb_alpha)
SPECS = {
    "binomial_exchangeable_organisation": (
        "referral ~ offer + wave + C(ses)", None, "organisation", "binomial", "exchangeable", None
    ),
    "poisson_independence_organisation": (
        "contacts ~ offer + wave + C(ses)", None, "organisation", "poisson", "independence", None
    ),
    "negbin_independence_team_goal3": (
        "contacts ~ offer + wave", 3, "team", "negativebinomial", "independence", 0.5
    ),
    "poisson_exchangeable_team_goal3": (
        "contacts ~ offer + wave", 3, "team", "poisson", "exchangeable", None
    ),
    "gaussian_exchangeable_team_goal3": (
        "contacts ~ offer + wave", 3, "team", "gaussian", "exchangeable", None
    ),
}
R_NAMES = {  # patsy name -> R name
    "Intercept": "(Intercept)",
    "C(ses)[T.laag]": "seslaag",
    "C(ses)[T.midden]": "sesmidden",
    "offer": "offer",
    "wave": "wave",
}


@pytest.fixture(scope="module")
def families_gee() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "families_gee.csv")


def _fit_case(name, data, small_sample="md", **kwargs):
    formula, goal, cluster, family, working, nb_alpha = SPECS[name]
    subset = data if goal is None else data[data["goal"] == goal]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning expected on these data
        return fit_gee(
            formula, subset, cluster=cluster, family=family, cov_struct=working,
            small_sample=small_sample, nb_alpha=nb_alpha, **kwargs,
        )


def _in_r_order(frame: pd.DataFrame, case: dict) -> pd.DataFrame:
    order = [{v: k for k, v in R_NAMES.items()}[t] for t in case["terms"]]
    return frame.loc[order, order] if frame.shape[1] == frame.shape[0] else frame.loc[order]


# ----------------------------------------------------------------------------- against R


def test_reference_covers_every_case():
    assert set(CASES) == set(SPECS)


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize(
    ("small_sample", "key"), [("none", "cov_lz"), ("md", "cov_md"), ("kc", "cov_kc")]
)
def test_matches_r(families_gee, name, small_sample, key):
    case = CASES[name]
    result = _fit_case(name, families_gee, small_sample)
    fixed = _in_r_order(result.fixed, case)
    np.testing.assert_allclose(fixed["estimate"], case["estimate"], rtol=0, atol=ESTIMATE_ATOL)
    cov_r = np.array(case[key])
    np.testing.assert_allclose(fixed["se"], np.sqrt(np.diag(cov_r)), rtol=SE_RTOL)
    cov = _in_r_order(result.cov, case).to_numpy()
    np.testing.assert_allclose(cov, cov_r, rtol=0, atol=SE_RTOL * np.abs(cov_r).max())
    assert result.working_correlation == pytest.approx(case["alpha"], abs=1e-6)
    assert result.n["clusters"] == case["clusters"]
    assert result.n["rows_used"] == case["rows"]
    assert result.converged


def test_r_hand_sandwich_matches_geeglm():
    """The R script's own LZ sandwich reproduces geeglm's vbeta (checks the reference)."""
    for case in CASES.values():
        if case["engine"] == "geeglm":
            np.testing.assert_allclose(
                case["cov_lz"], case["cov_geeglm"], rtol=1e-8, atol=1e-14
            )


@pytest.mark.parametrize(
    "name", ["poisson_independence_organisation", "negbin_independence_team_goal3"]
)
def test_matches_clubsandwich_on_glm(families_gee, name):
    """Independence GEE = glm: MD equals clubSandwich CR3; KC is close to CR2.

    CR2 (Bell-McCaffrey, as clubSandwich builds it for a glm) is not the principal root
    (I - H_ii)^{-1/2} of KC; the two differ in the fourth digit, hence the looser tolerance.
    """
    case = CASES[name]
    fixed = _in_r_order(_fit_case(name, families_gee, "md").fixed, case)
    np.testing.assert_allclose(fixed["estimate"], case["glm_estimate"], atol=ESTIMATE_ATOL)
    np.testing.assert_allclose(fixed["se"], np.sqrt(np.diag(case["cov_cr3"])), rtol=SE_RTOL)
    kc = _in_r_order(_fit_case(name, families_gee, "kc").fixed, case)
    np.testing.assert_allclose(kc["se"], np.sqrt(np.diag(case["cov_cr2"])), rtol=2e-3)


def test_md_equals_statsmodels_bias_reduced(families_gee):
    """statsmodels' cov_type='bias_reduced' is Mancl-DeRouen: same matrix as ours."""
    result = _fit_case("binomial_exchangeable_organisation", families_gee, "md")
    data = families_gee
    codes = pd.factorize(data["organisation"], sort=True)[0]
    exog = pd.get_dummies(data["ses"], drop_first=True, dtype=float)
    intercept = pd.Series(1.0, index=data.index, name="Intercept")
    exog = pd.concat([intercept, exog, data[["offer", "wave"]]], axis=1)
    model = GEE(data["referral"], exog, groups=codes, family=families.Binomial(),
                cov_struct=cov_struct.Exchangeable())
    fit = model.fit(ctol=1e-10, ddof_scale=0, cov_type="bias_reduced")
    np.testing.assert_allclose(result.cov.to_numpy(), fit.cov_robust_bc, rtol=1e-7, atol=1e-12)


def test_negbin_default_alpha_is_moment_estimate(families_gee):
    case = CASES["negbin_independence_team_goal3"]
    goal3 = families_gee[families_gee["goal"] == 3]
    result = fit_gee("contacts ~ offer + wave", goal3, cluster="team", family="negativebinomial",
                     cov_struct="independence")
    assert result.nb_alpha == pytest.approx(case["nb_alpha_moment"], rel=1e-8)


def test_kc_lies_between_uncorrected_and_md(families_gee):
    name = "binomial_exchangeable_organisation"
    se = {s: _fit_case(name, families_gee, s).fixed["se"] for s in ("none", "kc", "md")}
    assert (se["none"] < se["kc"]).all()
    assert (se["kc"] < se["md"]).all()


# ----------------------------------------------------------------------------- inference


def _clustered(m=12, n=15, seed=3):
    """Gaussian data: x varies at the cluster level, w within clusters."""
    rng = np.random.default_rng(seed)
    org = np.repeat([f"O{k:02d}" for k in range(m)], n)
    x = np.repeat(rng.normal(size=m), n)
    w = rng.normal(size=m * n)
    y = 0.3 * x + 0.2 * w + np.repeat(rng.normal(size=m), n) + rng.normal(size=m * n)
    return pd.DataFrame({"org": org, "x": x, "w": w, "y": y})


def test_df_rules_and_t_inference():
    data = _clustered()
    kwargs = dict(cluster="org", family="gaussian")
    assert (fit_gee("y ~ x + w", data, **kwargs).fixed["df"] == 12 - 3).all()
    assert (fit_gee("y ~ x + w", data, df="between", **kwargs).fixed["df"] == 12 - 2).all()
    assert (fit_gee("y ~ x + w", data, df=7, **kwargs).fixed["df"] == 7).all()
    fixed = fit_gee("y ~ x + w", data, **kwargs).fixed
    q = stats.t.ppf(0.975, 9)
    np.testing.assert_allclose(fixed["t"], fixed["estimate"] / fixed["se"])
    np.testing.assert_allclose(fixed["p"], 2 * stats.t.sf(np.abs(fixed["t"]), 9))
    np.testing.assert_allclose(fixed["ci_high"] - fixed["ci_low"], 2 * q * fixed["se"])
    normal = fit_gee("y ~ x + w", data, df="normal", **kwargs).fixed
    assert np.isinf(normal["df"]).all()
    np.testing.assert_allclose(normal["p"], 2 * stats.norm.sf(np.abs(normal["t"])))
    assert fixed["exp_estimate"].isna().all()  # identity link: no ratio scale


def test_exp_columns_are_ratios(families_gee):
    fixed = _fit_case("binomial_exchangeable_organisation", families_gee).fixed
    np.testing.assert_allclose(fixed["exp_estimate"], np.exp(fixed["estimate"]))
    np.testing.assert_allclose(fixed["exp_ci_low"], np.exp(fixed["ci_low"]))
    np.testing.assert_allclose(fixed["exp_ci_high"], np.exp(fixed["ci_high"]))
    assert list(fixed.columns) == [
        "estimate", "se", "df", "t", "p", "ci_low", "ci_high",
        "exp_estimate", "exp_ci_low", "exp_ci_high",
    ]


def test_monte_carlo_md_t_covers_better_than_naive_z():
    """10 clusters, cluster-level treatment: the usual sandwich + z under-covers.

    Gaussian outcome with ICC 0.1, 5 treated and 5 control clusters of 20; true effect 0.
    "Naive" is what statsmodels' GEE reports by default (uncorrected sandwich, z). The
    MD + t interval contains it (larger SE, larger quantile); the test asks for a clear
    gain in coverage that brings it closer to 95%. Over seeds MD + t covers about 96-97%
    here (MD over-corrects a little with equal cluster sizes), the naive z about 85-89%.
    """
    reps, m, n = 150, 10, 20
    rng = np.random.default_rng(20261123)
    org = np.repeat(np.arange(m), n)
    treat = (org % 2).astype(float)
    design = np.column_stack([np.ones(m * n), treat])
    y = rng.normal(0, np.sqrt(0.1), (reps, m))[:, org] + rng.normal(0, np.sqrt(0.9), (reps, m * n))
    covered = {"md_t": 0, "naive_z": 0}
    for outcome in y:
        data = pd.DataFrame({"y": outcome, "treat": treat, "org": org})
        row = fit_gee("y ~ treat", data, cluster="org", family="gaussian",
                      cov_struct="independence").fixed.loc["treat"]
        covered["md_t"] += row["ci_low"] <= 0 <= row["ci_high"]
        naive = GEE(outcome, design, groups=org, family=families.Gaussian(),
                    cov_struct=cov_struct.Independence()).fit()
        low, high = naive.conf_int()[1]
        covered["naive_z"] += low <= 0 <= high
    coverage = {k: v / reps for k, v in covered.items()}
    # over seeds the gap is about 0.10 (binomial sd about 0.025 at 150 replicates)
    assert coverage["md_t"] - coverage["naive_z"] >= 0.04
    assert abs(coverage["md_t"] - 0.95) < abs(coverage["naive_z"] - 0.95)


# ----------------------------------------------------------------------------- rows


def test_row_accounting():
    data = _clustered()
    data.index = [f"r{i}" for i in range(len(data))]
    data.loc[["r0", "r1", "r2"], "y"] = np.nan
    data.loc[["r2", "r3", "r4"], "w"] = np.nan  # r2 counts as missing outcome (first reason)
    data.loc["r5", "org"] = None
    message = (r"6 of 180 rows left out: 3 with a missing outcome, 2 with a missing covariate, "
               r"1 with a missing 'org' \(first rows: \['r0', 'r1', 'r2', 'r3', 'r4', \.\.\.\]\)")
    with pytest.warns(DataWarning, match=message):
        result = fit_gee("y ~ x + w", data, cluster="org", family="gaussian")
    assert result.n == {
        "clusters": 12, "rows_used": 174, "rows_left_out": 6,
        "missing_outcome": 3, "missing_covariate": 2, "missing_cluster": 1,
    }
    assert result.left_out.to_dict() == {
        "r0": "missing outcome", "r1": "missing outcome", "r2": "missing outcome",
        "r3": "missing covariate", "r4": "missing covariate", "r5": "missing cluster",
    }
    complete = fit_gee("y ~ x + w", data.drop(index=[f"r{i}" for i in range(6)]), cluster="org",
                       family="gaussian")
    pd.testing.assert_frame_equal(result.fixed, complete.fixed)
    counts = "rows left out: 6 (missing outcome 3, missing covariate 2, missing cluster 1)"
    assert counts in result.summary()


def test_no_warning_when_nothing_left_out():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fit_gee("y ~ x", _clustered(), cluster="org", family="gaussian")
    assert result.n["rows_left_out"] == 0 and result.left_out.empty


# ----------------------------------------------------------------------------- errors


def test_missing_cluster_column():
    with pytest.raises(SpecificationError, match=r"column 'organisatie' is not in the data"):
        fit_gee("y ~ x", _clustered(), cluster="organisatie", family="gaussian")


def test_unknown_formula_variable():
    with pytest.raises(SpecificationError, match=r"cannot be evaluated on the data"):
        fit_gee("y ~ offer", _clustered(), cluster="org", family="gaussian")


def test_one_cluster():
    data = _clustered()
    data["org"] = "O01"
    with pytest.raises(DataError, match=r"Only 1 cluster \('org' = 'O01'\).*at least 2 clusters"):
        fit_gee("y ~ w", data, cluster="org", family="gaussian")


def test_few_clusters_warn():
    message = r"Only 6 clusters \('org'\): inference rests on the small-sample correction"
    with pytest.warns(DataWarning, match=message):
        fit_gee("y ~ w", _clustered(m=6), cluster="org", family="gaussian")
    with pytest.warns(DataWarning, match=r"uncorrected sandwich is biased downward"):
        fit_gee("y ~ w", _clustered(m=6), cluster="org", family="gaussian", small_sample="none")


def test_binomial_outcome_not_binary():
    data = _clustered()
    data["referral"] = (data["y"] > 0).astype(int)
    data.loc[[7, 40], "referral"] = [2, 9]
    message = r"'referral' must be 0 or 1.*values \[2, 9\] in 2 rows \(rows \[7, 40\]\)"
    with pytest.raises(DataError, match=message):
        fit_gee("referral ~ x", data, cluster="org")


def test_constant_outcome():
    data = _clustered()
    data["referral"] = 0
    with pytest.raises(DataError, match=r"'referral' is 0 in all 180 rows used"):
        fit_gee("referral ~ x", data, cluster="org")


def test_perfect_separation_is_a_convergence_error():
    data = _clustered()
    data["referral"] = (data["w"] > 0).astype(int)
    with pytest.raises(ConvergenceError, match=r"separates the outcome perfectly"):
        fit_gee("referral ~ w", data, cluster="org")


def test_iteration_limit_warns(families_gee):
    with pytest.warns(ConvergenceWarning, match=r"did not converge in 1 iterations"):
        result = fit_gee("referral ~ offer + wave", families_gee, cluster="organisation",
                         maxiter=1)
    assert not result.converged
    assert "Converged: NO" in result.summary()


def test_text_outcome_is_a_specification_error():
    data = _clustered()
    data["referral"] = np.where(data["y"] > 0, "ja", "nee")
    with pytest.raises(SpecificationError, match=r"one numeric column.*Recode"):
        fit_gee("referral ~ x", data, cluster="org")


def test_negative_counts():
    data = _clustered()
    data["contacts"] = np.arange(len(data)) % 5
    data.loc[3, "contacts"] = -9
    message = r"'contacts' is a count and cannot be negative.*\[-9\] in 1 rows \(rows \[3\]\)"
    with pytest.raises(DataError, match=message):
        fit_gee("contacts ~ x", data, cluster="org", family="poisson")


def test_collinear_predictors():
    data = _clustered()
    data["x2"] = 2 * data["x"]
    with pytest.raises(SpecificationError, match=r"collinear: \['x2?'\]"):
        fit_gee("y ~ x + x2", data, cluster="org", family="gaussian")


def test_too_few_clusters_for_the_parameters():
    data = _clustered(m=3)
    message = r"degrees of freedom are clusters - parameters = 3 - 3 = 0 < 1"
    with pytest.raises(SpecificationError, match=message):
        fit_gee("y ~ x + w", data, cluster="org", family="gaussian")


def test_cluster_with_leverage_one():
    data = _clustered()
    data["only_o00"] = (data["org"] == "O00").astype(float)
    with pytest.raises(DataError, match=r"Cluster 'O00' has leverage 1"):
        fit_gee("y ~ w + only_o00", data, cluster="org", family="gaussian")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "logistic"}, r"family='logistic' is not supported"),
        ({"cov_struct": "ar1"}, r"cov_struct='ar1' is not supported"),
        ({"small_sample": "cr2"}, r"small_sample='cr2' is not supported"),
        ({"df": "satterthwaite"}, r"df='satterthwaite' is not supported"),
        ({"df": 0}, r"positive integer"),
        ({"nb_alpha": 1.0}, r"nb_alpha is the dispersion of family='negativebinomial'"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(SpecificationError, match=message):
        fit_gee("y ~ x", _clustered(), cluster="org", **{"family": "gaussian", **kwargs})


# ----------------------------------------------------------------------------- text


def test_report_nl_and_en(families_gee):
    result = _fit_case("poisson_exchangeable_team_goal3", families_gee)
    row = result.fixed.loc["offer"]
    assert row["p"] < 0.05 and row["estimate"] < 0
    nl = result.report("offer", term_label="Het aanbod", outcome_label="contacten")
    rr = f"{row['exp_estimate']:.2f}".replace(".", ",")
    assert nl.startswith(f"Het aanbod ging samen met een lager aantal contacten (RR = {rr}, 95%-BI [")
    assert f"t(10) = {row['t']:.2f}".replace(".", ",") in nl
    assert "p = " + f"{row['p']:.3f}"[1:].replace(".", ",") in nl
    assert nl.endswith("GEE met Mancl-DeRouen-correctie, 13 teams).")
    en = result.report("offer", lang="en")
    assert en.startswith("Offer was associated with a lower number of contacts (RR = ")
    assert "95% CI [" in en and en.endswith("GEE with Mancl-DeRouen correction, 13 teams).")


def test_report_non_significant_and_small_p(families_gee):
    result = _fit_case("binomial_exchangeable_organisation", families_gee, "kc")
    assert result.fixed.loc["offer", "p"] > 0.05
    text = result.report("offer", term_label="Het aanbod", outcome_label="verwijzing")
    assert text.startswith("Het aanbod hing niet aantoonbaar samen met de kans op verwijzing (OR = ")
    assert text.endswith("GEE met Kauermann-Carroll-correctie, 15 organisaties).")
    intercept = result.report("Intercept", lang="en")
    assert "p < .001" in intercept


def test_report_unknown_term(families_gee):
    result = _fit_case("poisson_exchangeable_team_goal3", families_gee)
    with pytest.raises(SpecificationError, match=r"Unknown term 'aanbod'"):
        result.report("aanbod")


def test_summary_names_correction_and_df(families_gee):
    text = _fit_case("binomial_exchangeable_organisation", families_gee).summary()
    assert ("Covariance: sandwich with Mancl-DeRouen correction; "
            "t tests with df = clusters - parameters = 10") in text
    assert "Working correlation: exchangeable (correlation 0.0068)" in text
    assert "C(ses)[T.laag]" in text
