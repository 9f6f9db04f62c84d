"""The words of the programme Lerend Transformeren, in Dutch and English.

Every name a goal report uses for this programme's measures, groups, respondents,
subscales, levels and sections is a :class:`~lerendtransformeren.lang.Label` here; the
generic statistical words (table headers, terms, units) live in the report layer's own
vocabulary, below this one. Sentences are written in :mod:`lerendtransformeren.goalreport`.
"""

from __future__ import annotations

from lerendtransformeren.lang import Label
from lerendtransformeren.vocabulary import UNIT_PLURALS

__all__ = [
    "MEASURE_NAMES",
    "SDQ_CUTOFF_NOTE",
    "GROUPS",
    "RESPONDENTS",
    "DOSE",
    "SUBSCALES",
    "VARIANCE_PHRASES",
    "HEADINGS",
    "OFFER",
    "RATIOS",
    "GROUP_SHORT",
    "CONDITIONS",
    "CI95",
]

#: Names of the measures in running text and tables.
MEASURE_NAMES: dict[str, Label] = {
    "mastery_total": Label("regie over eigen leven (Pearlin, 7-28)", "mastery (Pearlin, 7-28)"),
    "support_mean": Label("sociale steun (1-5)", "social support (1-5)"),
    "psoc_total": Label("opvoedcompetentie (PSOC, 16-96)", "parenting competence (PSOC, 16-96)"),
    "sdq_parent_total_difficulties": Label(
        "psychosociale problemen (SDQ-totaal, 0-40)", "psychosocial difficulties (SDQ total, 0-40)"
    ),
    "gas_tscore": Label("doelrealisatie (GAS T-score)", "goal attainment (GAS T-score)"),
    "sdmq9_total": Label(
        "gezamenlijke besluitvorming (SDM-Q-9, 0-100)", "shared decision making (SDM-Q-9, 0-100)"
    ),
    "referral": Label("verwijzing naar specialistische zorg", "referral to specialised care"),
    "contacts": Label("aantal contacten", "number of contacts"),
    "one_plan": Label("één gezin, één plan", "one family, one plan"),
    "one_coordinator": Label("één regisseur", "one coordinator"),
    "uwes9_total": Label("bevlogenheid (UBES-9, 0-6)", "work engagement (UWES-9, 0-6)"),
    "burden_mean": Label("ervaren regeldruk (1-5)", "perceived regulatory burden (1-5)"),
    "impl_mean": Label(
        "implementatie van de werkwijze (1-5)", "implementation of the way of working (1-5)"
    ),
    "collab_mean": Label(
        "interprofessionele samenwerking (1-5)", "interprofessional collaboration (1-5)"
    ),
}

SDQ_CUTOFF_NOTE = Label(
    "Als grens voor 'hersteld' is 13,5 gebruikt: de bovengrens van de normale band (0-13) "
    "van de oorspronkelijke Britse oudervorm. Dit zijn geen Nederlandse normen; lees "
    "'hersteld' daarom als indicatie.",
    "The cut-off for 'recovered' is 13.5: the upper end of the normal band (0-13) of the "
    "original UK parent form. These are not Dutch norms; read 'recovered' as indicative.",
)

#: Characteristics a goal report compares groups on: (name, {code: label}).
GROUPS: dict[str, tuple[Label, dict[str, Label]]] = {
    "ses": (
        Label("sociaal-economische status", "socio-economic status"),
        {"laag": Label("laag", "low"), "midden": Label("midden", "middle"),
         "hoog": Label("hoog", "high")},
    ),
    "migration_background": (
        Label("migratieachtergrond", "migration background"),
        {
            "nl": Label("geen (Nederland)", "none (Netherlands)"),
            "europa": Label("Europees", "European"),
            "buiten_europa": Label("buiten Europa", "outside Europe"),
        },
    ),
    "age_band": (
        Label("leeftijd van het kind", "age of the child"),
        {
            "zwangerschap": Label("zwangerschap", "pregnancy"),
            "0-3": Label("0-3 jaar", "0-3 years"),
            "4-7": Label("4-7 jaar", "4-7 years"),
            "8-11": Label("8-11 jaar", "8-11 years"),
            "12-17": Label("12-17 jaar", "12-17 years"),
            "18-23": Label("18-23 jaar", "18-23 years"),
        },
    ),
    "role": (
        Label("functie", "role"),
        {
            "hulpverlener": Label("hulpverlener", "practitioner"),
            "gedragswetenschapper": Label("gedragswetenschapper", "behavioural scientist"),
            "teamleider": Label("teamleider", "team leader"),
        },
    ),
}  # fmt: skip

#: Respondent kinds in the plural.
RESPONDENTS: dict[str, Label] = {kind: UNIT_PLURALS[kind] for kind in ("family", "professional")}

#: Parts of the offer whose attendance is recorded (activities.csv).
DOSE: dict[str, Label] = {
    "sessions": Label("leerbijeenkomsten", "learning sessions"),
    "masterclasses": Label("masterclasses", "masterclasses"),
    "workshops": Label("workshops", "workshops"),
}

#: Names of instruments and subscales in reliability tables and figures.
SUBSCALES: dict[str, Label] = {
    "total": Label("totaal", "total"),
    "mean": Label("gemiddelde", "mean"),
    "raw": Label("ruwe som", "raw sum"),
    "emotional": Label("emotionele problemen", "emotional problems"),
    "conduct": Label("gedragsproblemen", "conduct problems"),
    "hyperactivity": Label("hyperactiviteit", "hyperactivity"),
    "peer": Label("problemen met leeftijdgenoten", "peer problems"),
    "prosocial": Label("prosociaal gedrag", "prosocial behaviour"),
    "total_difficulties": Label("totale problemen", "total difficulties"),
    "externalising": Label("externaliserend", "externalising"),
    "internalising": Label("internaliserend", "internalising"),
    "satisfaction": Label("tevredenheid", "satisfaction"),
    "efficacy": Label("effectiviteit", "efficacy"),
    "vigour": Label("vitaliteit", "vigour"),
    "dedication": Label("toewijding", "dedication"),
    "absorption": Label("absorptie", "absorption"),
    "mastery": Label("Pearlin-mastery", "Pearlin mastery"),
    "support": Label("sociale steun", "social support"),
    "psoc": Label.same("PSOC"),
    "sdq_parent": Label("SDQ-ouderversie", "SDQ parent form"),
    "sdmq9": Label.same("SDM-Q-9"),
    "uwes9": Label("UBES-9", "UWES-9"),
    "burden": Label("regeldruk", "regulatory burden"),
    "impl": Label("implementatie", "implementation"),
    "collab": Label("samenwerking", "collaboration"),
}

#: Where the residual variance of this programme's models lies (other levels are named by
#: :func:`lerendtransformeren.report.text.between_phrase`).
VARIANCE_PHRASES: dict[str, Label] = {
    "residual": Label(
        "binnen {} over de meetmomenten (residu)",
        "within {} across waves (residual)",
    ),
}

#: Section headings of a goal report and the overview.
HEADINGS: dict[str, Label] = {
    "design": Label("Opzet", "Design"),
    "sample": Label("Steekproef", "Sample"),
    "measures": Label("Meetinstrumenten en betrouwbaarheid", "Measures and reliability"),
    "change": Label("Verandering over de tijd", "Change over time"),
    "effect": Label("Effect van het ondersteuningsaanbod", "Effect of the support offer"),
    "model": Label("Het model in detail", "The model in detail"),
    "heterogeneity": Label(
        "Verschilt het effect tussen organisaties?", "Does the effect differ between organisations?"
    ),
    "care": Label("Zorguitkomsten (ja/nee en aantallen)", "Care outcomes (yes/no and counts)"),
    "care_binary": Label("Zorguitkomsten (ja/nee)", "Care outcomes (yes/no)"),
    "care_count": Label("Zorguitkomsten (aantallen)", "Care outcomes (counts)"),
    "groups": Label("Verschillen naar {}", "Differences by {}"),
    "rc": Label(
        "Individuele verandering: wanneer is goed goed genoeg?",
        "Individual change: when is good good enough?",
    ),
    "conclusions": Label("Conclusies", "Conclusions"),
    "methods": Label("Verantwoording van de methode", "Methods"),
    "dose": Label("Deelname aan het aanbod", "Participation in the offer"),
    "references": Label("Literatuur", "References"),
    "overview": Label("Overzicht", "Overview"),
}

#: Short names of the groupings in a heading ("Verschillen naar SES, migratieachtergrond en leeftijd").
GROUP_SHORT: dict[str, Label] = {
    "ses": Label.same("SES"),
    "migration_background": Label("migratieachtergrond", "migration background"),
    "age_band": Label("leeftijd", "age band"),
    "role": Label("functie", "role"),
}

#: The support offer.
OFFER = Label(
    "het ondersteuningsaanbod (coaching, intervisie en actieleren)",
    "the support offer (coaching, peer consultation and action learning)",
)

#: Ratios of yes/no and count outcomes: (name in running text, abbreviation).
RATIOS: dict[str, tuple[Label, Label]] = {
    "binary": (Label("oddsratio", "odds ratio"), Label.same("OR")),
    "count": (Label("incidentieratio", "incidence rate ratio"), Label.same("IRR")),
}

#: The two conditions of the stepped wedge.
CONDITIONS: dict[int, Label] = {0: Label("Zonder aanbod", "Without offer"), 1: Label("Met aanbod", "With offer")}

#: "95% confidence interval" before an interval in running text.
CI95 = Label("95%-BI", "95% CI")

# How an interval is read against the no-effect value.
NULL_WORDS: dict[float, Label] = {0.0: Label("nul", "zero"), 1.0: Label.same("1")}
READ_INCLUDES = Label(
    "het interval omvat {null}: de gegevens zijn verenigbaar met geen effect en met een "
    "klein effect in beide richtingen",
    "the interval includes {null}: the data are compatible with no effect and with a small "
    "effect in either direction",
)
READ_JUST = Label(
    "het interval ligt net aan de {side} kant van {null}; de {bound} ligt dicht bij {null}, "
    "dus het effect kan ook verwaarloosbaar klein zijn",
    "the interval lies just on the {side} side of {null}; its {bound} is close to {null}, so "
    "the effect may also be negligibly small",
)
READ_ENTIRELY = Label(
    "het interval ligt geheel aan de {side} kant van {null}",
    "the interval lies entirely on the {side} side of {null}",
)
FAVOURABLE = Label("gunstige", "favourable")
UNFAVOURABLE = Label("ongunstige", "unfavourable")
UPPER = Label("bovengrens", "upper bound")
LOWER = Label("ondergrens", "lower bound")
