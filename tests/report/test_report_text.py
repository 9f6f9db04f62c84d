"""Result sentences and the methods paragraph, in Dutch and English."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.references import REFERENCES
from lerendtransformeren.report.text import (
    effect_sentence,
    fixed_effects_text,
    methods_paragraph,
    variance_sentence,
)

FIXED = pd.DataFrame(
    {
        "estimate": [2.412, -0.0213, 0.18],
        "se": [0.101, 0.0102, 0.035],
        "df": [14.13, 2900.27, 12.4],
        "t": [23.88, -2.088, 5.1],
        "p": [1.2e-12, 0.001, 0.00021],
        "ci_low": [2.195, -0.0413, 0.11],
        "ci_high": [2.629, -0.0013, 0.25],
    },
    index=["Intercept", "wave", "offer"],
)


def test_effect_sentence_in_both_languages():
    assert effect_sentence(FIXED, "offer", lang="nl") == (
        "Het effect van het ondersteuningsaanbod was b = 0,18 (95%-BI [0,11; 0,25]; t(12,4) = 5,10; p < ,001)."
    )
    assert effect_sentence(FIXED, "offer", lang="en") == (
        "The effect of the support offer was b = 0.18, 95% CI [0.11, 0.25], t(12.4) = 5.10, p < .001."
    )
    # p exactly .001 is reported as such; df never get a thousands separator (APA)
    assert effect_sentence(FIXED, "wave", lang="nl", label="tijd") == (
        "Het effect van tijd was b = -0,02 (95%-BI [-0,04; 0,00]; t(2900,3) = -2,09; p = ,001)."
    )


def test_effect_sentence_errors():
    with pytest.raises(SpecificationError, match="'ses'"):
        effect_sentence(FIXED, "ses")
    with pytest.raises(SpecificationError, match="ci_low"):
        effect_sentence(FIXED.drop(columns="ci_low"), "offer")


def test_fixed_effects_text_skips_the_intercept():
    text = fixed_effects_text(FIXED, lang="en", labels={"wave": ("tijd", "time")})
    assert text.count("The effect of") == 2
    assert text.startswith("The effect of time was") and "Intercept" not in text


def test_variance_sentence_partitions_the_variance():
    vc = pd.DataFrame(
        {"level": ["organisation", "organisation:team", "organisation", "residual"],
         "term": ["(Intercept)", "(Intercept)", "wave", "(Intercept)"],
         "variance": [0.05, 0.05, 0.4, 0.90], "sd": np.sqrt([0.05, 0.05, 0.4, 0.9])}
    )
    nl = variance_sentence(vc, lang="nl")
    assert nl == (
        "Van de totale variantie lag 5% tussen organisaties, 5% tussen teams binnen organisaties "
        "en 90% in het residu (binnen de laagste eenheid)."
    )  # the random slope of wave has no share
    en = variance_sentence(vc, lang="en", labels={"residual": ("binnen teams", "within teams")})
    assert en.endswith("and 90% within teams.")
    assert sum(int(x) for x in re.findall(r"(\d+)%", en)) == 100


def test_methods_paragraph_names_model_estimation_df_and_software():
    prov = collect_provenance(date="2026-11-23")
    versions = dict(prov.libraries)
    text = methods_paragraph(
        outcome=("beheersing", "mastery"),
        formula="mastery ~ wave + offer + (1 | organisation/team)",
        levels=["organisation", "organisation:team"],
        n_obs=9584,
        n_units={"organisation": 15, "organisation:team": 60},
        provenance=prov,
        lang="nl",
    )
    assert "restricted maximum likelihood (REML)" in text
    assert "9.584 metingen in 15 organisaties en 60 teams binnen organisaties" in text
    assert "Satterthwaite (1946)" in text and "Kuznetsova et al., 2017" in text
    assert f"pandas {versions['pandas']} (McKinney, 2010)" in text
    assert f"Python {prov.python}" in text
    ml = methods_paragraph(outcome="x", formula="x ~ 1", levels=["team"], n_obs=10,
                           estimation="ML", engine="statsmodels", lang="en")
    assert "maximum likelihood (ML)" in ml and "Seabold & Perktold, 2010" in ml
    assert "Python with lerendtransformeren" in ml  # no versions without provenance


def test_methods_paragraph_cites_only_listed_references():
    text = methods_paragraph(outcome="x", formula="x ~ 1", levels=["team"], n_obs=10, engine="statsmodels", lang="en")
    cited = set(re.findall(r"\b([A-Z][A-Za-z]+)(?: et al\.| & [A-Z][a-z]+)?,? \(?(\d{4})\)?", text))
    listed = {(ref.split(",")[0], re.search(r"\((\d{4})\)", ref).group(1)) for ref in REFERENCES.values()}
    assert cited and cited <= listed


@pytest.mark.parametrize("kwargs", [{"estimation": "Bayes"}, {"engine": "lme4"}, {"lang": "fr"}])
def test_methods_paragraph_refuses_unknown_options(kwargs):
    with pytest.raises(SpecificationError):
        methods_paragraph(outcome="x", formula="x ~ 1", levels=["team"], n_obs=10, **kwargs)


def test_design_factor_columns_read_as_words_in_sentences():
    from lerendtransformeren.report.text import term_phrase

    fixed = pd.DataFrame({"estimate": [-0.2], "se": [0.15], "df": [197.0], "t": [-1.29], "p": [0.198],
                          "ci_low": [-0.5], "ci_high": [0.1]}, index=["C(ses, Treatment('hoog'))[T.laag]"])
    assert effect_sentence(fixed, fixed.index[0], lang="nl").startswith(
        "Het effect van ses = laag (t.o.v. de referentiecategorie) was b = -0,20")
    assert term_phrase("offer:C(goal)[T.5]") == ("het ondersteuningsaanbod × goal = 5", "the support offer × goal = 5")
    assert term_phrase("wave:ses[T.laag]")[1] == "time (per wave) × ses = laag"
    assert term_phrase("np.log(contacts + 1)") == ("np.log(contacts + 1)",) * 2


def test_methods_and_table_note_name_the_df_method_used():
    from lerendtransformeren.report.tables import fixed_effects_table

    args = dict(outcome="mastery", formula="y ~ offer + (1 | organisation)", levels=["organisation"], n_obs=120)
    kr = methods_paragraph(**args, ddf="Kenward-Roger", lang="en")
    assert "Kenward and Roger's (1997) adjusted standard errors and degrees of freedom" in kr
    assert "Satterthwaite" not in kr
    z = methods_paragraph(**args, engine="statsmodels", lang="nl")
    assert "z-toetsen (statsmodels geeft geen vrijheidsgraden)" in z and "Satterthwaite" not in z
    with pytest.raises(SpecificationError, match="REML"):
        methods_paragraph(**args, estimation="ML", ddf="Kenward-Roger")
    fixed = pd.DataFrame({"estimate": [0.2], "se": [0.1], "df": [12.3], "t": [2.0], "p": [0.07],
                          "ci_low": [-0.02], "ci_high": [0.42]}, index=["offer"])
    assert "df = vrijheidsgraden volgens Kenward-Roger" in fixed_effects_table(fixed, ddf="Kenward-Roger").note_nl
    assert "df = Satterthwaite degrees of freedom" in fixed_effects_table(fixed).note_en


def test_test_statistics_write_df_without_thousands_separator():
    from lerendtransformeren.report.text import f_statistic, t_statistic

    assert t_statistic(2.1, 5744.71, "nl") == "t(5744,7) = 2,10"
    assert t_statistic(2.1, 5744.71, "en") == "t(5744.7) = 2.10"
    assert t_statistic(-1.5, 10.0, "en") == "t(10) = -1.50"
    # Dutch separates the two df of F with a semicolon (the comma is the decimal sign)
    assert f_statistic(3.1, 2, 5744.71, "nl") == "F(2; 5744,7) = 3,10"
    assert f_statistic(3.1, 2, 5744.71, "en") == "F(2, 5744.7) = 3.10"
    big = FIXED.assign(df=[14.13, 12345.0, 12.4])
    assert "t(12345) = -2.09" in fixed_effects_text(big, lang="en")


def test_factor_terms_name_their_reference_category():
    from lerendtransformeren.lang import Label
    from lerendtransformeren.multilevel.frame import build_frame
    from lerendtransformeren.report.text import factor_references, term_phrase

    d = pd.DataFrame({"wave": [0, 1, 2] * 6, "ses": (["laag", "hoog", "midden", "hoog"] * 5)[:18],
                      "y": np.arange(18.0) % 5, "g": np.repeat([1, 2, 3], 6)})
    refs = factor_references(build_frame("y ~ C(wave) + C(ses, Treatment('midden')) + (1 | g)", d))
    assert refs == {"C(wave)": "0", "C(ses, Treatment('midden'))": "midden"}
    assert term_phrase("C(wave)[T.1]", refs) == Label("meetmoment T1 (t.o.v. T0)", "wave T1 (vs T0)")
    assert term_phrase("C(ses, Treatment('midden'))[T.laag]", refs).en == "ses = laag (vs midden)"
    assert term_phrase("offer:C(wave)[T.2]", refs).nl == "het ondersteuningsaanbod × meetmoment T2 (t.o.v. T0)"
    # a full-rank coding has no reference
    assert factor_references(build_frame("y ~ 0 + C(ses) + (1 | g)", d)) == {}
    assert factor_references(build_frame("y ~ C(ses, Sum) + (1 | g)", d)) == {}
    fixed = FIXED.rename(index={"wave": "C(wave)[T.2]"})
    assert "The effect of wave T2 (vs T0) was" in fixed_effects_text(fixed, lang="en", references=refs)


def test_nested_levels_read_as_nouns_in_the_variance_sentence_and_methods():
    vc = pd.DataFrame({
        "level": ["organisation:team:professional:family", "organisation:team:professional",
                  "organisation:team", "organisation", "residual"],
        "term": ["(Intercept)"] * 4 + [""], "variance": [0.3, 0.05, 0.05, 0.1, 0.5], "sd": [0.5] * 5})
    nl, en = variance_sentence(vc, lang="nl"), variance_sentence(vc, lang="en")
    assert nl == ("Van de totale variantie lag 30% tussen gezinnen binnen professionals, 5% tussen "
                  "professionals binnen teams, 5% tussen teams binnen organisaties, 10% tussen "
                  "organisaties en 50% in het residu (binnen de laagste eenheid).")
    assert "30% lay between families within professionals" in en
    text = methods_paragraph(outcome="mastery", formula="y ~ 1", n_obs=100, lang="en",
                             levels=["organisation", "organisation:team:professional:family", "youth"])
    assert "random intercepts for organisations, families within professionals and young people." in text
    assert "organisation:" not in text


def test_presenters_of_the_statistics_layer(families):
    from lerendtransformeren.multilevel import fit_gee
    from lerendtransformeren.presenters import present
    from lerendtransformeren.report.text import gee_sentence

    data = families.dropna(subset=["referral"]).assign(referral=lambda d: d["referral"].astype(int))
    result = fit_gee("referral ~ offer", data, cluster="organisation")
    assert present("gee.report", result, "offer", "en") == gee_sentence(result, "offer", "en")
    assert result.report("offer", lang="en") == gee_sentence(result, "offer", lang="en")
    assert result.report(lang="nl").endswith(f"{result.n['clusters']} organisaties).")
    with pytest.raises(SpecificationError, match="'fr'"):
        result.report(lang="fr")
