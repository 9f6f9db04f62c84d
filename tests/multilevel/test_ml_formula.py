"""Formula parsing, nesting detection, row accounting and errors on bad specifications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.multilevel.formula import parse_formula
from lerendtransformeren.multilevel.frame import build_frame


@pytest.mark.parametrize(
    ("formula", "fixed", "random"),
    [
        ("y ~ x + (1 | g)", "y ~ x", [("1", ("g",))]),
        ("y ~ (1 | a/b/c)", "y ~ 1", [("1", ("a",)), ("1", ("a", "b")), ("1", ("a", "b", "c"))]),
        ("y ~ wave * C(offer) + (1 + wave | g)", "y ~ wave * C(offer)", [("1 + wave", ("g",))]),
        ("y ~ x + (0 + x | g) + (1 | g:h)", "y ~ x", [("0 + x", ("g",)), ("1", ("g", "h"))]),
        ("np.log(y) ~ I(x + 1) + C(f, Treatment('b')) + (1|g)", "np.log(y) ~ I(x + 1) + C(f, Treatment('b'))",
         [("1", ("g",))]),
        ("y ~ x + (wave | a/b)", "y ~ x", [("wave", ("a",)), ("wave", ("a", "b"))]),
    ],
)
def test_parse(formula, fixed, random):
    spec = parse_formula(formula)
    assert spec.fixed == fixed
    assert [(t.expr, t.factors) for t in spec.random] == random


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("y + (1 | g)", "needs an outcome and '~'"),
        ("~ x + (1 | g)", "no outcome"),
        ("y ~ x", "no random term"),
        ("y ~ x + (1 || g)", "'||'"),
        ("y ~ x + (1 | g + h)", "not a factor"),
        ("y ~ x + (1 | g", "Unbalanced"),
    ],
)
def test_parse_errors(formula, message):
    with pytest.raises(SpecificationError, match=message):
        parse_formula(formula)


def three_level(seed=0, n_org=6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    org = np.repeat(np.arange(n_org), 12)
    team = np.tile(np.repeat(np.arange(3), 4), n_org)  # codes 0..2 reused in every org
    wave = np.tile(np.arange(4), 3 * n_org)
    y = rng.normal(size=n_org)[org] + rng.normal(size=3 * n_org)[org * 3 + team] + 0.3 * wave + rng.normal(size=org.size)
    return pd.DataFrame({"org": [f"O{o}" for o in org], "team": [f"T{t}" for t in team], "wave": wave,
                         "x": rng.normal(size=org.size), "y": y})


def test_reused_team_codes_are_unique_within_organisation():
    frame = build_frame("y ~ wave + (1 | org/team)", three_level())
    teams = [lev for lev in frame.levels if lev.name == "org:team"][0]
    assert teams.n_units == 18
    assert "O0:T1" in set(teams.labels)


def test_crossed_factors_are_named_with_an_example():
    with pytest.raises(SpecificationError, match=r"'org' and 'team' are crossed.*team 'T0' occurs in org 'O0' and 'O1' and 'O2' \.\.\..*\(1 \| org/team\)"):
        fit("y ~ wave + (1 | org) + (1 | team)", three_level())


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_statsmodels_engine_fits_crossed_factors_with_a_warning():
    from lerendtransformeren.exceptions import EngineFallbackWarning

    with pytest.warns(EngineFallbackWarning, match="z-tests"):
        res = fit("y ~ wave + (1 | org) + (1 | team)", three_level(), engine="statsmodels")
    assert res.statsmodels.vcomp.shape == (2,)
    assert res.fixed.index.tolist() == ["Intercept", "wave"]
    assert sorted(res.variance.index.get_level_values("group")) == ["org", "residual", "team"]


def test_missing_rows_are_left_out_and_counted():
    d = three_level()
    d.loc[[0, 5], "y"] = np.nan
    d.loc[[5, 7], "x"] = np.nan  # row 5 counts once, as outcome missing
    d.loc[9, "team"] = None
    res = fit("y ~ wave + x + (1 | org/team)", d)
    n = res.n["n"]
    assert n["rows in data"] == 72
    assert n["rows left out: outcome missing"] == 2
    assert n["rows left out: fixed-effect covariate missing"] == 1
    assert n["rows left out: grouping factor missing"] == 1
    assert n["rows used"] == 68
    assert res.engine.n == 68


@pytest.mark.parametrize(
    ("formula", "edit", "error", "message"),
    [
        ("y ~ wave + (1 | organisation)", None, SpecificationError, r"Grouping column\(s\) \['organisation'\] not in the data"),
        ("y ~ wav + (1 | org)", None, SpecificationError, "wav"),
        ("y ~ wave + (1 | org)", "one_org", SpecificationError, "only 1 unit"),
        ("y ~ wave + (1 | org/team/wave)", None, SpecificationError, "every unit has one row"),
        ("y ~ x + (1 + x | org:team)", "x_per_team", SpecificationError,
         r"random slope of 'x'.*does not vary within any unit of 'org:team'"),
        ("y ~ wave + w2 + (1 | org)", "collinear", SpecificationError, r"perfectly collinear: \['w2'\]"),
        ("y ~ wave + (1 | org)", "all_missing", DataError, "missing on all 72 rows"),
    ],
)
def test_bad_specifications(formula, edit, error, message):
    d = three_level()
    if edit == "one_org":
        d["org"] = "O0"
    elif edit == "x_per_team":
        d["x"] = d.groupby(["org", "team"])["x"].transform("mean")
    elif edit == "collinear":
        d["w2"] = 2 * d["wave"] + 1
    elif edit == "all_missing":
        d["y"] = np.nan
    with pytest.raises(error, match=message):
        fit(formula, d)


def test_two_groupings_with_the_same_units_are_refused():
    d = three_level()
    d["team"] = d["org"] + "-team"  # one team per organisation
    with pytest.raises(SpecificationError, match=r"'org' and 'org:team' define the same units.*\['Intercept'\] cannot be told apart"):
        fit("y ~ wave + (1 | org/team)", d)


def test_a_random_term_inside_a_product_gets_the_right_advice():
    from lerendtransformeren.exceptions import SpecificationError
    from lerendtransformeren.multilevel.formula import parse_formula

    with pytest.raises(SpecificationError, match=r"combines a random term.*\(1 \+ offer \| organisation\)"):
        parse_formula("y ~ offer * (1 | organisation)")


def test_a_constant_outcome_is_a_data_error_not_a_zero_division():
    from lerendtransformeren import fit
    from lerendtransformeren.exceptions import DataError
    from lerendtransformeren.synthetic import nested_example

    with pytest.raises(DataError, match=r"same value \(1\) on all 240 rows"):
        fit("y ~ wave + (1 | org/team)", nested_example().assign(y=1.0))
