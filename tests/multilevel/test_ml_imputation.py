"""Multilevel multiple imputation (lt.impute): data handling, sampler correctness, jomo reference.

Reference values: tests/reference/imputation/ (make_jomo_reference.R: jomo 2.7.4 / mitml
0.4.4; make_rhat_reference.R: posterior 1.4.0). The tests do not need R.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lerendtransformeren as lt
from lerendtransformeren import scales
from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel import Imputed, PooledResult, impute
from lerendtransformeren.multilevel.imputation_diagnostics import ess_bulk, ess_tail, rhat

REF = Path(__file__).resolve().parents[1] / "reference" / "imputation"
DATA = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "families.csv"
PSOC = [f"psoc_{i:02d}" for i in range(1, 17)]
LEVELS = ("organisation", "team", "family")


@pytest.fixture(scope="module")
def families() -> pd.DataFrame:
    """Goal 1 of the synthetic study (3 organisations), SES made 10% missing at random."""
    d = pd.read_csv(DATA)
    d = d[d["goal"] == 1].reset_index(drop=True)
    rng = np.random.default_rng(7)
    d.loc[rng.random(len(d)) < 0.1, "ses"] = np.nan
    return d


@pytest.fixture(scope="module")
def imp(families) -> Imputed:
    return impute(families, PSOC + ["ses"], LEVELS, "C(wave) + offer", m=4, seed=11, burn=60, between=10,
                  chains=2, complete=("family", "wave"), progress=False)


# -- the data sets ---------------------------------------------------------------------------
def test_observed_values_kept_and_only_missing_imputed(families, imp):
    n = len(families)
    assert len(imp) == 4 and all(isinstance(d, pd.DataFrame) for d in imp)
    for d in imp:
        assert list(d.columns) == list(families.columns) + ["_added"]
        assert d.index[:n].equals(families.index)
        head = d.iloc[:n]
        for col in PSOC + ["ses"]:
            seen = families[col].notna().to_numpy()
            assert (head[col].to_numpy()[seen] == families[col].to_numpy()[seen]).all(), col
        assert d[PSOC + ["ses"]].notna().all().all()
        # columns not imputed are untouched
        pd.testing.assert_frame_equal(head[["family", "wave", "offer", "sdq_01"]], families[["family", "wave", "offer", "sdq_01"]])
    # imputations differ where values were missing
    miss = families["psoc_01"].isna().to_numpy()
    assert miss.sum() > 10
    assert not np.array_equal(imp[0]["psoc_01"].to_numpy()[:n][miss], imp[1]["psoc_01"].to_numpy()[:n][miss])


def test_items_rounded_to_instrument_range_and_categories_valid(imp):
    for d in imp:
        vals = d[PSOC].to_numpy()
        assert np.all(vals == np.round(vals)) and vals.min() >= 1 and vals.max() <= 6  # psoc: 1..6
        assert set(d["ses"].unique()) <= {"laag", "midden", "hoog"}
        assert d["ses"].dtype == imp.datasets[0]["ses"].dtype


def test_complete_adds_missed_waves(families, imp):
    n_units = families["family"].nunique()
    d = imp[0]
    assert len(d) == n_units * 4 and d.groupby("family")["wave"].nunique().eq(4).all()
    assert imp.added.sum() == n_units * 4 - len(families) == d["_added"].sum()
    added = d[d["_added"]]
    # offer comes from the organisation x wave cell (stepped wedge), team from the family
    cell = families.groupby(["organisation", "wave"])["offer"].first()
    assert (added["offer"].to_numpy() == cell.loc[list(zip(added["organisation"], added["wave"]))].to_numpy()).all()
    first = families.drop_duplicates("family").set_index("family")
    assert (added["team"].to_numpy() == first.loc[added["family"], "team"].to_numpy()).all()
    assert any("rows added" in note for note in imp.notes)
    assert imp.missing.loc["psoc_01", "missing"] >= len(added)


def test_where_leaves_other_rows_unchanged(families):
    young = (families["age_band"] == "4-7").to_numpy()
    out = impute(families, ["psoc_01", "psoc_02"], LEVELS, "C(wave)", m=2, seed=1, burn=20, between=5,
                 where="age_band != '4-7'", progress=False)
    for d in out:
        assert d.loc[young, "psoc_01"].isna().sum() == families.loc[young, "psoc_01"].isna().sum()
        assert d.loc[~young, ["psoc_01", "psoc_02"]].notna().all().all()


def test_m_not_a_multiple_of_chains():
    """m = 5 over 2 chains: 3 and 2 imputations; the traces keep the draws both chains have."""
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"g": np.repeat(np.arange(12), 6), "x": rng.normal(size=72)})
    d["y"] = d["x"] + np.repeat(rng.normal(size=12), 6) + rng.normal(size=72)
    d.loc[rng.random(72) < 0.25, "y"] = np.nan
    out = impute(d, "y", "g", "x", m=5, seed=8, burn=20, between=4, chains=2, progress=False)
    assert len(out) == 5 and all(s["y"].notna().all() for s in out)
    # m = 6 runs both chains as far as chain 1 of m = 5 (3 imputations each, same seeds):
    # the m = 5 traces are both chains' first draws, as long as chain 2's
    six = impute(d, "y", "g", "x", m=6, seed=8, burn=20, between=4, chains=2, progress=False)
    n5, n6 = out.traces["draws"].shape[1], six.traces["draws"].shape[1]
    assert 0 < n5 < n6
    np.testing.assert_array_equal(out.traces["draws"], six.traces["draws"][:, :n5])
    assert np.isfinite(out.diagnostics["rhat"]).all()


def test_ranges_and_observed_range_note():
    rng = np.random.default_rng(3)
    d = pd.DataFrame({"g": np.repeat(np.arange(20), 10), "x": rng.normal(size=200)})
    d["item"] = np.clip(np.round(2 + d["x"] + rng.normal(size=200)), 0, 4)
    d["score"] = 10 + d["x"] * 3 + rng.normal(size=200)
    d.loc[rng.random(200) < 0.3, ["item", "score"]] = np.nan
    out = impute(d, ["item", "score"], "g", "x", m=2, seed=2, burn=30, between=5, progress=False)
    assert any("item: whole numbers" in n for n in out.notes)
    assert set(np.unique(out[0]["item"])) <= {0, 1, 2, 3, 4}
    assert not np.all(out[0]["score"] == np.round(out[0]["score"]))  # continuous stays continuous
    narrow = impute(d, ["item", "score"], "g", "x", m=2, seed=2, burn=30, between=5, ranges={"item": (1, 3)},
                    progress=False)
    miss = d["item"].isna().to_numpy()
    assert set(np.unique(narrow[0]["item"].to_numpy()[miss])) <= {1, 2, 3}


# -- determinism -----------------------------------------------------------------------------
def test_same_seed_same_data_and_any_n_jobs(families):
    kw = dict(variables=PSOC[:4], levels=LEVELS, predictors="C(wave)", m=4, seed=5, burn=20, between=5, chains=2,
              progress=False)
    a, b = impute(families, n_jobs=1, **kw), impute(families, n_jobs=2, **kw)
    for x, y in zip(a, b):
        pd.testing.assert_frame_equal(x, y)
    np.testing.assert_array_equal(a.traces["draws"], b.traces["draws"])
    c = impute(families, n_jobs=1, **{**kw, "seed": 6})
    assert not c[0].equals(a[0])


# -- pooled analysis -------------------------------------------------------------------------
def test_fit_pools_over_imputations(imp):
    pooled = lt.fit("psoc_01 ~ C(wave) + offer + (1 | organisation/team/family)", imp)
    assert isinstance(pooled, PooledResult) and pooled.m == 4
    assert "m = 4 imputations" in pooled.notes[0]
    assert any("joint-model multilevel imputation" in n for n in pooled.notes)
    same = imp.fit("psoc_01 ~ C(wave) + offer + (1 | organisation/team/family)")
    pd.testing.assert_frame_equal(pooled.fixed, same.fixed)
    # the report names the imputation model, its settings and its convergence
    assert pooled.imputation["m"] == 4 and pooled.imputation["levels"] == imp.settings["levels"]
    assert pooled.imputation["rhat"] == pytest.approx(imp.diagnostics["rhat"].max())
    en = pooled.report("en")
    assert "Missing values of 17 variables were imputed m = 4 times by a multilevel imputation model" in en
    assert f"largest R-hat {imp.diagnostics['rhat'].max():.2f}" in en
    lists = (sorted(pooled.imputation), sorted([*imp.settings, "rhat"]))
    assert lists[0] == lists[1]


def test_items_scored_per_data_set_then_pooled(imp):
    scored = [d.assign(psoc_total=scales.score(d, "psoc")["psoc_total"]) for d in imp]
    assert all(s["psoc_total"].notna().all() for s in scored)  # every item imputed: every score defined
    pooled = lt.fit("psoc_total ~ C(wave) + offer + (1 | organisation/team/family)", scored)
    assert pooled.m == 4 and np.isfinite(pooled.fixed["estimate"]).all()
    assert 16 <= pooled.fixed.loc["Intercept", "estimate"] <= 96  # 16 items on 1..6


# -- sampler correctness -----------------------------------------------------------------------
def _simulated(seed: int = 1):
    rng = np.random.default_rng(seed)
    n1, n2, per = 60, 6, 6
    org = np.repeat(np.arange(n1), n2 * per)
    team = np.repeat(np.arange(n1 * n2), per)
    n = len(org)
    x = rng.standard_normal(n)
    b = np.array([[0.5, -1.0], [1.0, 0.3]])
    s1, s2, se = np.array([[0.5, 0.2], [0.2, 0.3]]), np.array([[0.3, -0.1], [-0.1, 0.4]]), np.array([[1, .5], [.5, 1.5]])
    y = (np.column_stack([np.ones(n), x]) @ b + rng.multivariate_normal([0, 0], s1, n1)[org]
         + rng.multivariate_normal([0, 0], s2, n1 * n2)[team] + rng.multivariate_normal([0, 0], se, n))
    y[rng.random((n, 2)) < 0.2] = np.nan
    d = pd.DataFrame({"org": org, "team": team, "x": x, "y1": y[:, 0], "y2": y[:, 1]})
    truth = {"B[Intercept, y1]": 0.5, "B[Intercept, y2]": -1.0, "B[x, y1]": 1.0, "B[x, y2]": 0.3,
             "Sigma[org][y1, y1]": 0.5, "Sigma[org][y1, y2]": 0.2, "Sigma[org][y2, y2]": 0.3,
             "Sigma[team][y1, y1]": 0.3, "Sigma[team][y1, y2]": -0.1, "Sigma[team][y2, y2]": 0.4,
             "Sigma[residual][y1, y1]": 1.0, "Sigma[residual][y1, y2]": 0.5, "Sigma[residual][y2, y2]": 1.5}
    return d, truth


def test_posterior_recovers_simulation_truth():
    """Two levels, p = 2, 2160 rows: every posterior mean within 3.5 posterior SD (+ 4 MC SE) of the truth."""
    d, truth = _simulated()
    out = impute(d, ["y1", "y2"], ("org", "team"), "x", m=20, seed=3, burn=200, between=30, chains=2,
                 progress=False)
    diag = out.diagnostics.loc[list(truth)]
    err = (diag["mean"] - pd.Series(truth)).abs()
    assert (err <= 3.5 * diag["sd"] + 4 * diag["mcse_mean"]).all(), pd.concat([diag, err.rename("err")], axis=1)
    assert (diag["rhat"] < 1.05).all()
    assert (diag.loc[["B[Intercept, y1]", "B[Intercept, y2]"], "ess_bulk"] > 200).all()  # the group move
    # the residual covariance is estimated from 2160 rows: tight
    assert abs(diag.loc["Sigma[residual][y1, y2]", "mean"] - 0.5) < 0.1


def test_against_jomo_reference():
    """Posterior means of beta, covu, omega and a pooled lmer estimate against jomo/mitml.

    Tolerance: 4 Monte Carlo SE of our posterior mean (from the chains' ESS) plus a floor of
    0.01 for jomo's own MC error (45,000 draws); the pooled estimate within 4 MC SE of the
    difference of two Rubin means (ours m = 40, jomo's m = 50) plus 0.005.
    """
    d = pd.read_csv(REF / "jomo_data.csv")
    ref = pd.read_csv(REF / "jomo_reference.csv")
    out = impute(d, ["y1", "y2"], "clus", "x", m=40, seed=2026, burn=300, between=25, chains=2, progress=False,
                 prior=1.0)
    diag = out.diagnostics
    name = {"beta": "B[{row}, {col}]", "covu": "Sigma[clus][{a}, {b}]", "omega": "Sigma[residual][{a}, {b}]"}
    for _, r in ref[ref["quantity"].isin(list(name))].iterrows():
        a, b = sorted([r["row"], r["col"]])
        key = name[r["quantity"]].format(row=r["row"], col=r["col"], a=a, b=b)
        ours, mcse = diag.loc[key, "mean"], diag.loc[key, "mcse_mean"]
        assert abs(ours - r["value"]) <= 4 * mcse + 0.01, (key, ours, r["value"], mcse)
    pooled = out.fit("y1 ~ x + (1 | clus)")
    est = ref[ref["quantity"] == "pooled_estimate"].set_index("row")["value"]
    se = ref[ref["quantity"] == "pooled_se"].set_index("row")["value"]
    for term, r_term in (("Intercept", "(Intercept)"), ("x", "x")):
        between = np.diag(pooled.pooled.between)[list(pooled.fixed.index).index(term)]
        mc = np.sqrt(between / 40 + between / 50)
        assert abs(pooled.fixed.loc[term, "estimate"] - est[r_term]) <= 4 * mc + 0.005, term
        assert abs(pooled.fixed.loc[term, "se"] - se[r_term]) <= 0.1 * se[r_term], term


def test_categorical_latent_sampler_imputes_from_predictors():
    """A 3-category variable driven by a continuous one: imputed categories follow the relation."""
    rng = np.random.default_rng(4)
    n_g, per = 40, 15
    g = np.repeat(np.arange(n_g), per)
    n = len(g)
    z = rng.standard_normal(n) + rng.normal(0, 0.5, n_g)[g]
    latent = np.column_stack([1.5 * z, -1.5 * z]) + rng.standard_normal((n, 2)) * 0.7
    cat = np.where(latent.max(axis=1) > 0, latent.argmax(axis=1) + 1, 0)
    labels = np.array(["a", "b", "c"])[cat]
    d = pd.DataFrame({"g": g, "z": z, "cat": labels})
    miss = rng.random(n) < 0.25
    d.loc[miss, "cat"] = None
    out = impute(d, ["z", "cat"], "g", "1", m=6, seed=9, burn=150, between=20, chains=2, progress=False)
    agree = np.mean([np.mean(o["cat"].to_numpy()[miss] == labels[miss]) for o in out])
    assert agree > 0.6  # chance: about 1/3
    for o in out:
        imputed = o.loc[miss]
        assert imputed.loc[imputed["cat"] == "b", "z"].mean() > 0.5 > imputed.loc[imputed["cat"] == "c", "z"].mean()
        assert set(o["cat"]) == {"a", "b", "c"}


def test_diagnostics_match_r_posterior():
    long = pd.read_csv(REF / "rhat_draws.csv").sort_values(["chain", "draw", "parameter"])
    draws = long["value"].to_numpy().reshape(3, 300, 3)
    ref = pd.read_csv(REF / "rhat_reference.csv")
    np.testing.assert_allclose(rhat(draws), ref["rhat"], rtol=1e-8)
    np.testing.assert_allclose(ess_bulk(draws), ref["ess_bulk"], rtol=1e-8)
    np.testing.assert_allclose(ess_tail(draws), ref["ess_tail"], rtol=1e-8)


def test_diagnostics_table_and_traces(imp):
    names = imp.traces["names"]
    draws = imp.traces["draws"]
    assert draws.shape[0] == 2 and draws.shape[2] == len(names) == len(imp.diagnostics)
    assert {"mean", "sd", "rhat", "ess_bulk", "ess_tail", "mcse_mean"} <= set(imp.diagnostics.columns)
    assert "Sigma[family][psoc_01, psoc_01]" in names
    # traces are on the data's scale: the residual variance of psoc_01 near its within-family variance
    assert 0.05 < imp.diagnostics.loc["Sigma[residual][psoc_01, psoc_01]", "mean"] < 5
    text = repr(imp)
    assert "Imputed: 4 data sets" in text and "R-hat" in text
    assert "<table" in imp._repr_html_()


# -- errors ----------------------------------------------------------------------------------
def test_clear_errors(families):
    f = families
    with pytest.raises(SpecificationError, match="not in the data"):
        impute(f, ["psoc_99"], LEVELS, m=2)
    bad = f.copy()
    bad.loc[3, "team"] = None
    with pytest.raises(DataError, match="'team' has 1 missing"):
        impute(bad, ["psoc_01"], LEVELS, m=2)
    crossed = f.copy()
    crossed.loc[0, "team"] = f.loc[f["organisation"] != f.loc[0, "organisation"], "team"].iloc[0]
    with pytest.raises(DataError, match="nested"):
        impute(crossed, ["psoc_01"], LEVELS, m=2)
    missing_pred = f.copy()
    missing_pred.loc[5, "offer"] = np.nan
    with pytest.raises(DataError, match=r"predictor\(s\) \['offer'\] have missing values(.|\n)*impute such a column"):
        impute(missing_pred, ["psoc_01"], LEVELS, "offer", m=2)
    all_missing = f.assign(psoc_01=np.nan)
    with pytest.raises(DataError, match="no observed value"):
        impute(all_missing, ["psoc_01"], LEVELS, m=2)
    with pytest.raises(SpecificationError, match="chains=3 is more than m=2"):
        impute(f, ["psoc_01"], LEVELS, m=2, chains=3)
    varying = f.assign(contacts_x=np.arange(len(f), dtype=float))
    with pytest.raises(DataError, match="'contacts_x' varies within family"):
        impute(varying, ["psoc_01"], LEVELS, "contacts_x", m=2, complete=("family", "wave"))
    complete_var = impute(f, ["psoc_01", "wave"], LEVELS, m=2, burn=5, between=2, progress=False)
    assert any("wave has no missing values" in n for n in complete_var.notes)


def test_plot_trace_through_presenters(imp):
    fig = imp.plot_trace(lang="en")
    assert "Trace plots of 9 parameters" in fig.alt_en and len(fig.figure.axes) == 9
    one = imp.plot_trace(params=["B[Intercept, psoc_01]"], lang="nl")
    assert len([a for a in one.figure.axes if a.get_visible()]) == 1
    with pytest.raises(SpecificationError, match="Unknown parameters"):
        imp.plot_trace(params=["nope"])


# -- prior, few top-level clusters, fixed levels, rounds -------------------------------------
def _fifteen_organisations(seed: int = 5):
    """One variable, 15 organisations x 4 teams x 10 families x 4 waves, var(y) about 56, 25% missing."""
    rng = np.random.default_rng(seed)
    n_org, n_team, n_fam, waves = 15, 4, 10, 4
    org = np.repeat(np.arange(n_org), n_team * n_fam * waves)
    team = np.repeat(np.arange(n_org * n_team), n_fam * waves)
    fam = np.repeat(np.arange(n_org * n_team * n_fam), waves)
    wave = np.tile(np.arange(waves), n_org * n_team * n_fam)
    u_o, u_t = rng.normal(0, 2, n_org), rng.normal(0, 1.5, n_org * n_team)
    u_f = rng.normal(0, np.sqrt(20), n_org * n_team * n_fam)
    y = 50 + wave + u_o[org] + u_t[team] + u_f[fam] + rng.normal(0, np.sqrt(30), len(org))
    y[rng.random(len(y)) < 0.25] = np.nan
    d = pd.DataFrame({"organisation": org, "team": team, "family": fam, "wave": wave, "y": y})
    return d, u_o.var(ddof=1)


def test_default_prior_recovers_top_level_variance_with_15_clusters():
    """The default IW(q, 0.1 I) prior keeps the organisation variance near the simulated one;
    jomo's identity scale (prior=1) adds about var(y) / 14 and misses it (the check can fail)."""
    d, realised = _fifteen_organisations()  # realised variance of the 15 effects: 3.77
    name = "Sigma[organisation][y, y]"
    kw = dict(m=10, seed=1, burn=300, between=50, chains=2, progress=False)
    default = impute(d, "y", ("organisation", "team", "family"), "C(wave)", **kw)
    draws = default.traces["draws"][:, :, default.traces["names"].index(name)].ravel()
    lo, median, hi = np.quantile(draws, [0.05, 0.5, 0.95])
    assert lo < realised < hi and median < 2 * realised, (lo, median, hi, realised)
    assert default.diagnostics.loc[name, "rhat"] < 1.05
    assert any("0.1 I" in n for n in default.notes)
    jomo_form = impute(d, "y", ("organisation", "team", "family"), "C(wave)", prior=1.0, **kw)
    draws1 = jomo_form.traces["draws"][:, :, jomo_form.traces["names"].index(name)].ravel()
    assert np.quantile(draws1, 0.05) > realised and np.median(draws1) > 1.5 * median
    with pytest.raises(SpecificationError, match="prior must be a positive number"):
        impute(d, "y", ("organisation", "team"), prior=0, m=2)


def test_fixed_levels_dummies_replace_the_top_level(families):
    out = impute(families, PSOC[:3], LEVELS, "C(wave) + offer + C(goal)", m=2, seed=3, burn=30, between=5,
                 fixed_levels="organisation", complete=("family", "wave"), progress=False)
    names = out.traces["names"]
    orgs = sorted(families["organisation"].unique())
    assert all(f"B[organisation[{o}], psoc_01]" in names for o in orgs)
    assert not any(n.startswith("Sigma[organisation]") or n.startswith("B[Intercept") for n in names)
    assert out.settings["levels"] == ["team", "family"] and out.settings["fixed_levels"] == ["organisation"]
    assert any("a fixed effect per organisation" in n and "'Intercept'" in n for n in out.notes)
    assert "fixed effects for organisation" in out.method
    for d in out:
        assert d[PSOC[:3]].notna().all().all()
    with pytest.raises(SpecificationError, match="outermost level"):
        impute(families, PSOC[:3], LEVELS, fixed_levels="team", m=2)
    with pytest.raises(SpecificationError, match="outermost level"):
        impute(families, PSOC[:3], LEVELS, fixed_levels=list(LEVELS), m=2)


def test_few_units_note(families):
    out = impute(families, PSOC[:4], LEVELS, "C(wave)", m=2, seed=3, burn=5, between=2, progress=False)
    assert any("'organisation' has 3 units for 4 modelled columns" in n for n in out.notes)


def test_progress_per_round_and_same_numbers(families, monkeypatch):
    """The bar moves after every round of iterations of all chains; the numbers do not depend on it."""
    from lerendtransformeren.multilevel import imputation

    updates = []

    class Bar:
        def update(self, n):
            updates.append(n)

        def close(self):
            pass

    monkeypatch.setattr(imputation, "progress_bar", lambda progress, total, desc, unit: Bar() if progress else None)
    kw = dict(variables=PSOC[:2], levels=LEVELS, predictors="C(wave)", m=4, seed=8, burn=120, between=10, chains=2,
              complete=("family", "wave"))
    with_bar = impute(families, progress=True, **kw)
    per_chain = 120 + 10 * (2 - 1)
    assert sum(updates) == 2 * per_chain and len(updates) > 2
    without = impute(families, progress=False, n_jobs=2, **kw)
    for x, y in zip(with_bar, without):
        pd.testing.assert_frame_equal(x, y)
    np.testing.assert_array_equal(with_bar.traces["draws"], without.traces["draws"])
