"""The generic words of the package, in Dutch and English.

Every label the package uses for a unit of the data contract, a respondent kind, an item
set, a statistical term, a level of a model, a condition or a category is a
:class:`~lerendtransformeren.lang.Label` here (``label.pick(lang)``). The module sits at the
bottom of the layers, beside :mod:`~lerendtransformeren.lang`, so that the data layer,
the synthetic study and the report layer all take their words from it. Words specific to a
programme (its goals, measures, groups and sections) live in the programme's vocabulary
(:mod:`lerendtransformeren.study.vocabulary`), which builds on this one. Sentences are
written where they are used; only their word parts come from here.
"""

from __future__ import annotations

from collections.abc import Hashable

from lerendtransformeren.lang import Label

__all__ = [
    "RESPONDENT_KINDS",
    "ITEM_SET_LABELS",
    "TERM_LABELS",
    "EFFECT_LABELS",
    "UNIT_NOUNS",
    "UNIT_PLURALS",
    "UNITS_IN_TEXT",
    "LEVEL_LABELS",
    "WITHIN",
    "RESIDUAL_PHRASE",
    "OFFER_LABELS",
    "POWER_ALONG",
    "RC_CATEGORIES",
    "ALL_RESPONDENTS",
    "NOT_ESTIMATED",
    "EXPECTED_LEVEL",
    "GOAL_NOUNS",
    "GEE_CORRECTIONS",
    "GEE_EFFECT_WORDS",
    "DOCUMENT_WORDS",
    "NUMBER_WORDS",
    "MODEL_CHECK_WORDS",
    "MODEL_TABLE_WORDS",
]

#: Respondent kinds of the data contract.
RESPONDENT_KINDS: dict[str, Label] = {
    "professional": Label("professional", "professional"),
    "family": Label("ouder/gezin", "parent/family"),
    "youth": Label("jongere", "young person"),
}

#: Codebook labels of the item sets of the bundled instruments, by item prefix.
ITEM_SET_LABELS: dict[str, Label] = {
    "uwes": Label("bevlogenheid (UWES-9) item", "work engagement (UWES-9) item"),
    "burden": Label("regeldruk (synthetische schaal) item", "regulatory burden (synthetic scale) item"),
    "impl": Label("implementatie (synthetische schaal) item", "implementation (synthetic scale) item"),
    "collab": Label("samenwerking (synthetische schaal) item", "collaboration (synthetic scale) item"),
    "sdq": Label("SDQ ouderversie item", "SDQ parent form item"),
    "psoc": Label("opvoedcompetentie (PSOC) item", "parenting sense of competence (PSOC) item"),
    "mastery": Label("regie over eigen leven (Pearlin) item", "Pearlin mastery item"),
    "support": Label("sociale steun (synthetische schaal) item", "social support (synthetic scale) item"),
    "sdmq": Label("gedeelde besluitvorming (SDM-Q-9) item", "shared decision making (SDM-Q-9) item"),
    "kidscreen": Label("kwaliteit van leven (KIDSCREEN-10) item, jongere", "quality of life (KIDSCREEN-10) item, youth"),
    "gas": Label("doelrealisatie (GAS) doel", "goal attainment (GAS) goal"),
}

#: Model terms in table rows.
TERM_LABELS: dict[str, Label] = {
    "Intercept": Label("Intercept", "Intercept"),
    "(Intercept)": Label("Intercept", "Intercept"),
    "wave": Label("Meetmoment", "Wave"),
    "offer": Label("Ondersteuningsaanbod", "Support offer"),
}

#: Model terms in running text (Dutch and English with their article).
EFFECT_LABELS: dict[Hashable, Label] = {
    "offer": Label("het ondersteuningsaanbod", "the support offer"),
    "wave": Label("tijd (per meetmoment)", "time (per wave)"),
}

#: The units of the data contract (its id columns and ``wave``), singular, lower case.
UNIT_NOUNS: dict[str, Label] = {
    "goal": Label("transformatiedoel", "transformation goal"),
    "organisation": Label("organisatie", "organisation"),
    "team": Label("team", "team"),
    "professional": Label("professional", "professional"),
    "family": Label("gezin", "family"),
    "youth": Label("jongere", "young person"),
    "wave": Label("meetmoment", "wave"),
}

#: The same units in the plural, as table headers and counts use them.
UNIT_PLURALS: dict[str, Label] = {
    "goal": Label("doelen", "goals"),
    "organisation": Label("organisaties", "organisations"),
    "team": Label("teams", "teams"),
    "professional": Label("professionals", "professionals"),
    "family": Label("gezinnen", "families"),
    "youth": Label("jongeren", "young people"),
    "wave": Label("meetmomenten", "waves"),
}

#: Units named differently in running text than in tables (plural).
UNITS_IN_TEXT: dict[str, Label] = {
    "goal": Label("transformatiedoelen", "transformation goals"),
}

#: Levels of the design and of variance components, in table rows. Other (nested)
#: levels are named by :func:`lerendtransformeren.report.tables.level_label`.
LEVEL_LABELS: dict[str, Label] = {
    "goal": Label("Transformatiedoel", "Transformation goal"),
    "organisation": Label("Organisatie", "Organisation"),
    "organisation:team": Label("Team (binnen organisatie)", "Team (within organisation)"),
    "team": Label("Team", "Team"),
    "organisation:team:professional": Label("Professional (binnen team)", "Professional (within team)"),
    "professional": Label("Professional", "Professional"),
    "family": Label("Gezin", "Family"),
    "residual": Label("Residu", "Residual"),
}

#: Joins a unit to the unit it is nested in ("team binnen organisatie").
WITHIN = Label(" binnen ", " within ")

#: Where the residual variance lies, in running text.
RESIDUAL_PHRASE = Label(
    "in het residu (binnen de laagste eenheid)",
    "in the residual (within the lowest unit)",
)

#: The two offer conditions (column ``offer``: 0 = not yet, 1 = started).
OFFER_LABELS: dict[Hashable, Label] = {
    0: Label("Zonder aanbod", "Without offer"),
    1: Label("Met aanbod", "With offer"),
}

#: What a power curve varies: axis label and unit noun.
POWER_ALONG: dict[str, tuple[Label, Label]] = {
    "organisation": (Label("Aantal organisaties", "Number of organisations"), Label("organisaties", "organisations")),
    "team": (Label("Teams per organisatie", "Teams per organisation"), Label("teams per organisatie", "teams per organisation")),
    "professional": (Label("Professionals per team", "Professionals per team"), Label("professionals per team", "professionals per team")),
    "family": (Label("Gezinnen per professional", "Families per professional"), Label("gezinnen per professional", "families per professional")),
    "waves": (Label("Aantal meetmomenten", "Number of waves"), Label("meetmomenten", "waves")),
}

#: Reliable-change categories in display order.
RC_CATEGORIES: dict[str, Label] = {
    "deteriorated": Label("verslechterd", "deteriorated"),
    "unchanged": Label("onveranderd", "unchanged"),
    "improved": Label("verbeterd", "improved"),
    "recovered": Label("hersteld", "recovered"),
}

#: The group of all respondents (one bar or row without subgroups).
ALL_RESPONDENTS = Label("alle respondenten", "all respondents")

#: A number of variables in running text ("17 variabelen").
N_VARIABLES = Label("{} variabelen", "{} variables")

#: A row of a forest plot without an estimate.
NOT_ESTIMATED = Label("niet geschat", "not estimated")

#: The reference line of a GAS figure.
EXPECTED_LEVEL = Label("verwacht niveau (T = 50)", "expected level (T = 50)")

#: "goal" and "goals" (goal attainment scaling: personal goals, not transformation goals).
GOAL_NOUNS = (Label("doel", "goal"), Label("doelen", "goals"))

#: The small-sample corrections of a GEE sandwich, by ``small_sample`` code.
GEE_CORRECTIONS: dict[str, Label] = {
    "md": Label("Mancl-DeRouen-correctie", "Mancl-DeRouen correction"),
    "kc": Label("Kauermann-Carroll-correctie", "Kauermann-Carroll correction"),
    "none": Label("kleine-steekproefcorrectie", "small-sample correction"),
}

_GEE_COUNT = (
    "RR",
    Label("het aantal {}", "the number of {}"),
    Label("een hoger aantal {}", "a higher number of {}"),
    Label("een lager aantal {}", "a lower number of {}"),
)

#: Per GEE family: the effect measure and the outcome phrases (neutral, higher, lower).
#: Dutch adjectives agree with the noun: "een hogere kans" (de), "een hoger aantal" (het).
GEE_EFFECT_WORDS: dict[str, tuple[str, Label, Label, Label]] = {
    "binomial": (
        "OR",
        Label("de kans op {}", "the odds of {}"),
        Label("een hogere kans op {}", "higher odds of {}"),
        Label("een lagere kans op {}", "lower odds of {}"),
    ),
    "poisson": _GEE_COUNT,
    "negativebinomial": _GEE_COUNT,
    "gaussian": (
        "B",
        Label("{}", "{}"),
        Label("hogere waarden van {}", "higher values of {}"),
        Label("lagere waarden van {}", "lower values of {}"),
    ),
}

#: The words a rendered document adds itself: labels of tables and figures, the note
#: marker, the headings of the provenance block and of the conclusions, and their prompt.
DOCUMENT_WORDS: dict[str, Label] = {
    "table": Label("Tabel", "Table"),
    "figure": Label("Figuur", "Figure"),
    "note": Label("Noot.", "Note."),
    "provenance": Label("Verantwoording: hoe dit rapport is gemaakt", "Provenance: how this report was made"),
    "conclusions": Label("Conclusies", "Conclusions"),
    "prompt": Label(
        "[Conclusies: deze ruimte is voor de onderzoekers. Nog in te vullen.]",
        "[Conclusions: this space is for the researchers. To be written.]",
    ),
}

#: The rows, sections and note words of a table of models side by side
#: (:func:`lerendtransformeren.report.modeltable.model_table`).
MODEL_TABLE_WORDS: dict[str, Label] = {
    "title": Label("Schattingen van het model", "Model estimates"),
    "title_models": Label("Schattingen van de modellen naast elkaar", "Model estimates side by side"),
    "model": Label("Model", "Model"),
    "fixed": Label("Vaste effecten", "Fixed effects"),
    "random_sd": Label("Random effecten (SD)", "Random effects (SD)"),
    "random_variance": Label("Random effecten (variantie)", "Random effects (variance)"),
    "correlation": Label("correlatie", "correlation"),
    "partition": Label("Variantieverdeling", "Variance partition"),
    "icc": Label("ICC", "ICC"),
    "r2_marginal": Label("R² marginaal", "R² marginal"),
    "r2_conditional": Label("R² conditioneel", "R² conditional"),
    "fit": Label("Modelfit", "Model fit"),
    "aic": Label("AIC", "AIC"),
    "bic": Label("BIC", "BIC"),
    "loglik": Label("Log-likelihood", "Log-likelihood"),
    "sample": Label("Steekproef", "Sample"),
    "observations": Label("Aantal waarnemingen", "Number of observations"),
    "number_of": Label("Aantal ", "Number of "),
    "units_of": Label("Aantal eenheden: ", "Number of units: "),
    "odds_ratios": Label("als odds ratio's", "as odds ratios"),
    "rate_ratios": Label("als rate ratio's", "as rate ratios"),
    "log_odds": Label("op de logitschaal (log-odds)", "on the logit scale (log odds)"),
    "log_rate": Label("op de logschaal (log-rates)", "on the log scale (log rates)"),
    "reml": Label("REML", "REML"),
    "ml": Label("maximum likelihood (ML)", "maximum likelihood (ML)"),
    "laplace": Label("Laplace-benadering", "Laplace approximation"),
    "agq": Label("adaptieve Gauss-Hermite-kwadratuur", "adaptive Gauss-Hermite quadrature"),
    "gee": Label("GEE (populatiegemiddeld)", "GEE (population-averaged)"),
    "df_by": Label("df volgens {}", "{} df"),
    "working_exchangeable": Label("uitwisselbare werkcorrelatie", "exchangeable working correlation"),
    "working_independence": Label("onafhankelijke werkcorrelatie", "independence working correlation"),
    "wald_z": Label("Wald-z", "Wald z"),
    "between_within": Label("t met between-within-df", "t with between-within df"),
    "gee_df_clusters": Label("t met df = clusters − parameters", "t with df = clusters − parameters"),
    "gee_df_between": Label("t met df = clusters − clusterparameters", "t with df = clusters − cluster parameters"),
    "gee_df_user": Label("t met opgegeven df", "t with given df"),
    "estimation": Label("Schatting: ", "Estimation: "),
    "intervals": Label("intervallen", "intervals"),
    "standard_errors": Label("standaardfouten", "standard errors"),
    "singular": Label("singuliere fit (een variantie geschat op 0)", "singular fit (a variance estimated at 0)"),
    "not_converged": Label("convergentiecontrole niet geslaagd", "convergence checks not passed"),
}

#: Numbers below ten in words (APA 7, 6.32: words for numbers below 10 in running text).
NUMBER_WORDS: dict[int, Label] = {
    0: Label("nul", "zero"),
    1: Label("één", "one"),
    2: Label("twee", "two"),
    3: Label("drie", "three"),
    4: Label("vier", "four"),
    5: Label("vijf", "five"),
    6: Label("zes", "six"),
    7: Label("zeven", "seven"),
    8: Label("acht", "eight"),
    9: Label("negen", "nine"),
}

#: The words of the model-check figures: the diagnostic panel (residuals, QQ plots of the
#: residuals and of the conditional modes, influence of units), caterpillar and forest
#: plots made from a fitted model.
MODEL_CHECK_WORDS: dict[str, Label] = {
    "unit": Label("eenheid", "unit"),  # a unit of a level outside the data contract
    "units": Label("eenheden", "units"),
    "fitted": Label("Voorspelde waarde", "Fitted value"),
    "fitted_probability": Label("Voorspelde kans", "Fitted probability"),
    "fitted_count": Label("Voorspeld aantal (log-schaal)", "Fitted count (log scale)"),
    "residual": Label("Gestandaardiseerd residu", "Standardised residual"),
    "pearson": Label("Pearson-residu", "Pearson residual"),
    "root_residual": Label("\u221a|gestandaardiseerd residu|", "\u221a|standardised residual|"),
    "root_pearson": Label("\u221a|Pearson-residu|", "\u221a|Pearson residual|"),
    "mean_residual": Label("Gemiddeld residu (y \u2212 kans)", "Mean residual (y \u2212 probability)"),
    "normal_quantiles": Label("Normale kwantielen", "Normal quantiles"),
    "sample_quantiles": Label("Geordende waarden", "Ordered values"),
    "mode": Label("Conditionele modus", "Conditional mode"),
    "cooks": Label("Cook's afstand", "Cook's distance"),
    "residuals_vs_fitted": Label("Residuen tegen voorspelde waarden", "Residuals vs fitted values"),
    "qq_residuals": Label("Normaal-QQ-plot van de residuen", "Normal QQ plot of the residuals"),
    "scale_location": Label("Spreiding tegen voorspelde waarden", "Scale-location"),
    "binned": Label("Gegroepeerde residuen\n(stippellijn: \u00b12 SE)", "Binned residuals\n(dotted lines: \u00b12 SE)"),
    "qq_modes": Label("QQ-plot, conditionele modi", "QQ plot, conditional modes"),
    "influence": Label("Invloed van elke", "Influence of each"),
    "smoother": Label("lowess-lijn", "lowess smoother"),
    "changed": Label("teken of significantie verandert", "sign or significance changes"),
    "unchanged": Label("geen verandering", "no change"),
    "cutoff": Label("grens 4/n", "cut-off 4/n"),
    "deviation": Label("afwijking van het gemiddelde", "deviation from the mean"),
    "slope_deviation": Label("afwijking in de helling van ", "deviation in the slope of "),
    "intercept": Label("intercept", "intercept"),
    "the_intercept": Label("het intercept", "the intercept"),
    "slope_of": Label("helling van ", "slope of "),
    "the_slope_of": Label("de helling van ", "the slope of "),
    "log_odds": Label(" (log-odds)", " (log odds)"),
    "log_rate": Label(" (log-rate)", " (log rate)"),
    "estimate": Label("Schatting (b)", "Estimate (b)"),
    "odds ratio": Label("Oddsratio", "Odds ratio"),
    "rate ratio": Label("Rate ratio", "Rate ratio"),
    "fixed_title": Label("Vaste effecten van het multilevelmodel", "Fixed effects of the multilevel model"),
}
