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
    assert type(text).__name__ == "SummaryText" and repr(text) == str(text)
    html = res._repr_html_()
    assert html.startswith('<div class="lt-display"') and "wave:offer" in html and "Satterthwaite" in html


# -- report text (written by the report layer through lerendtransformeren.presenters) ------


@lru_cache(maxsize=None)
def four_levels():
    """Organisation / team / professional / family, three waves, a three-level factor ses."""
    rng = np.random.default_rng(4)
    rows = []
    for o in range(6):
        u_o = rng.normal(0, 0.5)
        for t in range(2):
            u_t = rng.normal(0, 0.4)
            for p in range(3):
                u_p = rng.normal(0, 0.4)
                for f in range(3):
                    u_f = rng.normal(0, 0.7)
                    ses = ["laag", "midden", "hoog"][(o + t + p + f) % 3]
                    for w in range(3):
                        y = 1 + u_o + u_t + u_p + u_f + 0.3 * w + 0.2 * (ses == "laag") + rng.normal()
                        rows.append({"organisation": f"O{o}", "team": f"T{t}", "professional": f"P{p}",
                                     "family": f"F{f}", "wave": w, "ses": ses, "y": y})
    data = pd.DataFrame(rows)
    return fit("y ~ C(wave) + C(ses, Treatment('laag')) + (1 | organisation/team/professional/family)", data)


def test_report_names_levels_as_nouns_and_factor_references_in_both_languages():
    res = four_levels()
    assert ("organisation:team:professional:family", "Intercept") in res.variance.index
    nl, en = res.report(lang="nl"), res.report(lang="en")
    for text in (nl, en):
        # no ':'-joined level name, no unnamed reference category
        assert not any(":" in word for word in text.split()), text
        assert "referen" not in text, text
    assert "meetmoment T1 (t.o.v. T0)" in nl and "meetmoment T2 (t.o.v. T0)" in nl
    assert "wave T1 (vs T0)" in en and "wave T2 (vs T0)" in en
    assert "ses = hoog (t.o.v. laag)" in nl and "ses = midden (vs laag)" in en
    assert "tussen gezinnen binnen professionals" in nl and "tussen professionals binnen teams" in nl
    assert "between families within professionals" in en and "between organisations" in en


def test_report_reference_follows_the_models_own_coding():
    res, _ = nest()
    data = pd.read_csv(REF / "nest.csv").assign(grp=lambda d: np.where(d["size"] > d["size"].median(), "b", "a"))
    default = fit("y ~ grp + (1 | org/team/resp)", data).report(lang="en")
    reversed_ = fit("y ~ C(grp, Treatment('b')) + (1 | org/team/resp)", data).report(lang="en")
    assert "grp = b (vs a)" in default and "grp = a (vs b)" in reversed_
    # numeric terms read as before, and levels with names outside the data contract as they are
    text = res.report(lang="en")
    assert text.startswith("The effect of time (per wave) was ")
    assert "at level resp within team" in text and "between teams within org" in text


def test_ranef_intervals_are_modes_plus_minus_z_conditional_sd():
    from lerendtransformeren.synthetic import nested_example

    m = fit("y ~ wave + (1 | org/team)", nested_example())
    modes = m.ranef("org", condsd=True)
    got = m.ranef_intervals("org", conf_level=0.90)
    z = stats.norm.ppf(0.95)
    assert list(got.index) == list(modes.index)
    np.testing.assert_allclose(got["estimate"], modes["Intercept"])
    np.testing.assert_allclose(got["ci_high"] - got["estimate"], z * modes["sd Intercept"])
    np.testing.assert_allclose(got["estimate"] - got["ci_low"], z * modes["sd Intercept"])
    with pytest.raises(SpecificationError, match="Unknown term"):
        m.ranef_intervals("org", term="wave")
