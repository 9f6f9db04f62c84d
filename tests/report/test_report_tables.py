"""APA tables: numbers kept, formats per language, suppression, identifier guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.format import MISSING
from lerendtransformeren.report.suppress import SUPPRESSED
from lerendtransformeren.report.tables import (
    Column,
    Table,
    descriptives_table,
    fixed_effects_table,
    model_comparison_table,
    reliability_table,
    sample_table,
    variance_table,
)

FIXED = pd.DataFrame(
    {
        "estimate": [2.412, -0.0213, 0.1812],
        "se": [0.101, 0.0102, 0.0351],
        "df": [14.13, 2900.27, 12.42],
        "t": [23.88, -2.088, 5.162],
        "p": [1.2e-12, 0.0369, 0.001],
        "ci_low": [2.195, -0.0413, 0.1047],
        "ci_high": [2.629, -0.0013, 0.2577],
    },
    index=["Intercept", "wave", "offer"],
)

RELIABILITY = pd.DataFrame(
    {
        "scale": ["psoc", "psoc", "mastery"],
        "subscale": ["satisfaction", "efficacy", np.nan],
        "n": [2859, 3, 2800],
        "alpha": [0.812, 0.5, 0.801],
        "alpha_ci_low": [0.801, 0.1, 0.79],
        "alpha_ci_high": [0.823, 0.7, 0.81],
        "omega": [0.824, 0.6, 0.818],
        "omega_ci_low": [0.81, 0.2, 0.80],
        "omega_ci_high": [0.835, 0.8, 0.83],
    }
)


def test_sample_table_on_the_synthetic_study(families):
    t = sample_table(families)
    per_wave = families.groupby("wave")
    for level in ("organisation", "team", "professional", "family"):
        assert t.frame[f"n_{level}"].tolist() == per_wave[level].nunique().tolist()
    ids = [set(part["family"]) for _, part in per_wave]
    assert t.frame["retention"].tolist() == pytest.approx([len(i) / len(ids[0]) for i in ids])
    assert t.frame["dropout"].iloc[1:].tolist() == [len(a - b) for a, b in zip(ids, ids[1:])]
    assert pd.isna(t.frame["dropout"].iloc[0])
    nl = t.formatted("nl")
    assert nl.columns.tolist() == ["Meetmoment", "Organisaties", "Teams", "Professionals", "Gezinnen", "% van T0", "Uitval"]
    n_last = len(ids[-1])
    assert nl.iloc[-1, 4] == f"{n_last:,}".replace(",", ".")
    assert nl.iloc[-1, 5] == f"{100 * n_last / len(ids[0]):.1f}%".replace(".", ",")
    assert t.formatted("en").iloc[0, -1] == MISSING


def test_sample_table_suppresses_a_small_wave():
    data = pd.DataFrame({"team": ["A"] * 9 + ["A"] * 3, "family": list("abcdefghi") + list("abc"), "wave": [0] * 9 + [1] * 3})
    t = sample_table(data, k=5)
    assert t.rows("en")[1] == ["T1"] + [SUPPRESSED] * 4
    assert t.frame.loc["T1"].isna().all()
    assert "fewer than 5" in t.note("en")


def test_descriptives_match_the_data_and_show_structural_zeros(families):
    t = descriptives_table(families, {"mastery": ("beheersing", "mastery")})
    cell = families.loc[(families.wave == 2) & (families.offer == 1), "mastery"].dropna()
    assert t.frame.loc[("mastery", "T2"), (1, "n")] == len(cell)
    assert t.frame.loc[("mastery", "T2"), (1, "mean")] == pytest.approx(cell.mean())
    assert t.frame.loc[("mastery", "T2"), (1, "sd")] == pytest.approx(cell.std())
    nl = t.formatted("nl")
    assert nl.columns.get_level_values(0).tolist()[2:] == ["Zonder aanbod"] * 3 + ["Met aanbod"] * 3
    assert nl.iloc[0].tolist()[-3:] == ["0", MISSING, MISSING]  # nobody has the offer at T0
    assert t.note("nl") == "n = aantal respondenten met een score; M = gemiddelde; SD = standaardafwijking."


def test_descriptives_suppress_small_cells_with_secondary_suppression():
    data = pd.DataFrame(
        {
            "wave": [0] * 10 + [1] * 10,
            "ses": ["laag"] * 3 + ["hoog"] * 7 + ["laag"] * 5 + ["hoog"] * 5,
            "score": np.arange(20.0),
        }
    )
    labels = {"laag": ("laag", "low"), "hoog": ("hoog", "high")}
    t = descriptives_table(data, ["score"], by="ses", by_labels=labels, k=5)
    assert t.spanners("en") == [("", 1), ("", 1), ("low", 3), ("high", 3)]
    rows = t.rows("en")
    # T0: 3 "laag" is too few and 7 "hoog" would reveal it from the wave's n of 10
    assert rows[0][2:] == [SUPPRESSED] * 6
    assert rows[1][2:] == ["5", "12.00", "1.58", "5", "17.00", "1.58"]
    assert t.frame.loc[("score", "T0")].isna().all()
    assert SUPPRESSED in t.note("nl")


def test_descriptives_refuse_an_identifier_as_condition(families):
    with pytest.raises(DataError, match="identifiers"):
        descriptives_table(families, ["mastery"], by="professional")


def test_reliability_table_formats_without_leading_zero_and_suppresses():
    t = reliability_table(RELIABILITY, {"psoc": ("opvoedcompetentie", "parenting competence")})
    assert t.formatted("nl").iloc[0].tolist() == ["opvoedcompetentie", "satisfaction", "2.859", ",81", "[,80; ,82]", ",82", "[,81; ,83]"]
    assert t.formatted("en").iloc[2].tolist() == ["mastery", "", "2,800", ".80", "[.79, .81]", ".82", "[.80, .83]"]
    assert t.rows("en")[1][2:] == [SUPPRESSED] * 5


def test_fixed_effects_table_keeps_the_numbers_and_formats_them():
    t = fixed_effects_table(FIXED)
    pd.testing.assert_frame_equal(t.frame, FIXED.rename_axis("term"))
    assert t.headers("nl") == ["Predictor", "b", "SE", "df", "t", "p", "95%-BI"]
    assert t.formatted("en").iloc[2].tolist() == ["Support offer", "0.18", "0.04", "12.4", "5.16", ".001", "[0.10, 0.26]"]
    assert t.formatted("nl").iloc[1].tolist() == ["Meetmoment", "-0,02", "0,01", "2900,3", "-2,09", ",037", "[-0,04; 0,00]"]
    with pytest.raises(SpecificationError, match=r"\['df'\]"):
        fixed_effects_table(FIXED.drop(columns="df"))


def test_variance_table_shares_are_iccs():
    vc = pd.DataFrame(
        {"level": ["organisation", "organisation:team", "residual"], "term": ["(Intercept)"] * 3,
         "variance": [0.02, 0.03, 0.45], "sd": np.sqrt([0.02, 0.03, 0.45])}
    )
    t = variance_table(vc)
    assert t.frame["share"].tolist() == pytest.approx([0.04, 0.06, 0.90])
    # the same components as MultilevelResult.variance gives them: indexed by (group, term)
    engine_style = vc.rename(columns={"level": "group"}).assign(term=["Intercept"] * 2 + [""])
    engine_style = engine_style.set_index(["group", "term"])
    pd.testing.assert_frame_equal(variance_table(engine_style).frame, t.frame)
    with pytest.raises(SpecificationError, match="sd"):
        variance_table(vc.drop(columns="sd"))
    assert t.formatted("nl")["Niveau"].tolist() == ["Organisatie", "Team (binnen organisatie)", "Residu"]
    assert t.formatted("en")["Share"].tolist() == [".04", ".06", ".90"]
    assert "sum of the organisation and team shares" in t.note("en")
    assert "sum of" not in variance_table(vc.iloc[[0, 2]]).note("en")


def test_variance_table_with_a_random_slope():
    vc = pd.DataFrame(
        {"level": ["organisation", "organisation", "residual"], "term": ["(Intercept)", "wave", np.nan],
         "variance": [0.1, 0.05, 0.9], "sd": [0.32, 0.22, 0.95]}
    )
    t = variance_table(vc)
    assert t.frame.index.names == ["level", "term"]
    assert t.frame["share"].tolist()[:2] == pytest.approx([0.1, np.nan], nan_ok=True)
    assert t.rows("en")[1][:2] == ["", "wave"] and t.rows("en")[1][-1] == MISSING
    assert "slopes" in t.note("en")


def test_model_comparison_table():
    cmp = pd.DataFrame(
        {"npar": [4, 5], "AIC": [10234.51, 10220.14], "BIC": [10260.2, 10252.3], "logLik": [-5113.25, -5105.07],
         "chi2": [np.nan, 16.36], "df": [np.nan, 1], "p": [np.nan, 5.2e-5]},
        index=["M0", "M1"],
    )
    t = model_comparison_table(cmp, labels={"M1": ("M1: met aanbod", "M1: with offer")})
    nl = t.formatted("nl")
    assert nl.iloc[0].tolist()[-3:] == [MISSING] * 3
    assert nl.iloc[1].tolist() == ["M1: met aanbod", "5", "10.220,1", "10.252,3", "-5.105,1", "16,36", "1", "< ,001"]
    # the column names of MultilevelResult.lrt give the same table
    lrt = cmp.rename(columns={"npar": "n_par", "AIC": "aic", "BIC": "bic", "logLik": "loglik", "chi2": "chisq"})
    lrt["criterion"] = [10226.5, 10210.1]
    pd.testing.assert_frame_equal(model_comparison_table(lrt).frame, t.frame)
    with pytest.raises(SpecificationError, match="BIC"):
        model_comparison_table(cmp.drop(columns="BIC"))


def test_table_guards():
    frame = pd.DataFrame({"family": ["O01-T1-P01-F1"], "x": [1.0]})
    with pytest.raises(DataError, match="identifiers"):
        Table(frame, (Column("x", "x", "x"),), "t", "t")
    frame = pd.DataFrame({"x": [1.0]})
    with pytest.raises(DataError, match="suppressed"):
        Table(frame, (Column("x", "x", "x"),), "t", "t", suppressed=pd.DataFrame({"x": [True]}))
    with pytest.raises(SpecificationError, match="'y'"):
        Table(frame, (Column("y", "y", "y"),), "t", "t")
    with pytest.raises(SpecificationError, match="source_high"):
        Column("x", "x", "x", kind="ci")
    with pytest.raises(SpecificationError, match="kind"):
        Column("x", "x", "x", kind="stars")


def test_df_columns_have_no_thousands_separator_and_one_precision_per_column():
    from lerendtransformeren.report.tables import Column, Table, power_table

    whole = FIXED.assign(df=[15.0, 5744.0, 199.00000057])
    assert fixed_effects_table(whole).formatted("nl")["df"].tolist() == ["15", "5744", "199"]
    mixed = FIXED.assign(df=[15.0, 5744.71, 12.4])
    assert fixed_effects_table(mixed).formatted("en")["df"].tolist() == ["15.0", "5744.7", "12.4"]
    frame = pd.DataFrame({"df": [12345.0, np.nan]}, index=["a", "b"])
    table = Table(frame, (Column("df", "df", "df", kind="df"),), "t", "t")
    assert table.formatted("nl")["df"].tolist() == ["12345", MISSING]
    # a df column shows one decimal unless told otherwise
    assert Column("df", "df", "df", kind="df").digits == 1 and Column("b", "b", "b").digits == 2
    table = Table(frame.assign(df=[12345.67, 3.0]), (Column("df", "df", "df", kind="df"),), "t", "t")
    assert table.formatted("en")["df"].tolist() == ["12345.7", "3.0"]
    curve = pd.DataFrame({"along": "organisation", "value": [9, 15], "n_sim": 1000, "power": [0.41, 0.62],
                          "ci_low": [0.38, 0.59], "ci_high": [0.44, 0.65], "mean_df": [1007.1, 2013.0]})
    assert power_table(curve).formatted("nl")["Gem. df"].tolist() == ["1007,1", "2013,0"]


def test_variance_table_names_nested_levels_by_their_innermost_unit():
    from lerendtransformeren.lang import Label
    from lerendtransformeren.report.tables import level_label

    vc = pd.DataFrame({
        "level": ["organisation:team:professional:family", "organisation:team:professional", "org:team", "residual"],
        "term": ["(Intercept)"] * 3 + [""], "variance": [0.3, 0.05, 0.05, 0.6], "sd": [0.5] * 4})
    t = variance_table(vc, labels={"org:team": ("Team", "Team")})
    assert t.formatted("nl")["Niveau"].tolist() == [
        "Gezin (binnen professional)", "Professional (binnen team)", "Team", "Residu"]
    assert t.formatted("en")["Level"].tolist()[0] == "Family (within professional)"
    assert level_label("organisation:team:youth") == Label("Jongere (binnen team)", "Young person (within team)")
    assert level_label("school:klas") == Label("klas (binnen school)", "klas (within school)")
