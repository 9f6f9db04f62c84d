"""The words of the imputation sensitivity analysis (``report --impute M``).

Two texts, written from :attr:`GoalResults.imputation` (an
:class:`~.analyse.ImputationSensitivity`) and nothing else: the sentences in the effect
section that set the pooled estimate after multiple imputation beside the main estimate
(with m, the fraction of missing information and the largest R-hat, and a warning when the
chains had not converged), and the methods paragraph with its citations. ``ctx`` is the
section :class:`~.sections.Context` (its language, programme and ``say``).
"""

from __future__ import annotations

import math

from lerendtransformeren.goalreport import blocks as B
from lerendtransformeren.goalreport.analyse import RHAT_LIMIT, GoalResults
from lerendtransformeren.lang import Label, join_words
from lerendtransformeren.report.format import fmt_count, fmt_num
from lerendtransformeren.vocabulary import UNIT_NOUNS, UNIT_PLURALS

__all__ = ["imputation_sentences", "imputation_methods"]


def _count(n: int) -> Label:
    return Label(fmt_count(n, "nl"), fmt_count(n, "en"))


def _includes_zero(row) -> bool:
    return bool(row["ci_low"] <= 0 <= row["ci_high"])


def _units_sentence(res: GoalResults, ctx) -> str:
    s = res.imputation
    who = UNIT_PLURALS[s.measure.respondent]
    units = 0 if s.units is None else int(s.units["units"])
    never = 0 if s.units is None else int(s.units["never"])
    added = 0 if s.units is None else int(s.units["rows_added"])
    took, left, rows = _count(units), _count(never), _count(added)
    text = ctx.say(
        f"Van dit doel deden {took.nl} {who.nl} mee aan de imputatie, met {rows.nl} toegevoegde gemiste "
        "meetmomenten.",
        f"Of this goal, {took.en} {who.en} took part in the imputation, with {rows.en} missed waves added.")
    if not never:
        return text + " " + ctx.say(f"Alle {who.nl} van dit doel hadden ten minste één score.",
                                    f"All {who.en} of this goal had at least one score.")
    return text + " " + ctx.say(
        f"Niet geïmputeerd zijn de {left.nl} {who.nl} van dit doel zonder enige score op deze "
        "uitkomst: een meting die voor hen niet geldt (zoals een vragenlijst voor een andere "
        "leeftijd) wordt niet ingevuld.",
        f"Not imputed were the {left.en} {who.en} of this goal without any score on this outcome: "
        "a measurement that does not apply to them (such as a questionnaire for another age) is "
        "not filled in.")


def _convergence(s, ctx) -> str:
    """The largest R-hat, and whether the estimate may be used."""
    if s.rhat is None or not math.isfinite(s.rhat):
        return ctx.say(
            f"De R-hat van de imputatieketens kon niet worden berekend: met m = {s.m} geeft elke keten te "
            "weinig trekkingen na de inloopperiode. De convergentie is dus niet gecontroleerd; gebruik deze "
            "schatting pas met meer imputaties.",
            f"The R-hat of the imputation chains could not be computed: with m = {s.m} each chain gives "
            "too few draws after the burn-in. Convergence was therefore not checked; use this estimate "
            "only with more imputations.")
    rhat, limit = fmt_num(s.rhat, 2, ctx.lang), fmt_num(RHAT_LIMIT, 1, ctx.lang)
    text = ctx.say(f"De grootste R-hat van de imputatieketens is {rhat}.",
                   f"The largest R-hat of the imputation chains is {rhat}.")
    if s.converged:
        return text
    return text + " " + ctx.say(
        f"Die ligt boven {limit}: de imputatieketens waren niet geconvergeerd, dus deze schatting mag "
        "niet worden gebruikt.",
        f"That is above {limit}: the imputation chains had not converged, so this estimate should "
        "not be used.")


def imputation_sentences(res: GoalResults, ctx) -> str:
    """Sensitivity analysis 3 in the effect section: the pooled estimate after imputation
    beside the main one, m, the fraction of missing information and the largest R-hat."""
    s, lang = res.imputation, ctx.lang
    m = s.measure
    n = _count(s.m)
    intro = ctx.say(
        f"Gevoeligheidsanalyse 3, ontbrekende metingen: de ontbrekende schaalscores voor {m.name.nl}, "
        f"ook die van gemiste meetmomenten, zijn {n.nl} keer aangevuld met meervoudige imputatie "
        f"(m = {s.m}; zie de verantwoording van de methode). ",
        f"Sensitivity analysis 3, missing measurements: the missing scale scores of {m.name.en}, "
        f"including those of missed waves, were filled in {n.en} times by multiple imputation "
        f"(m = {s.m}; see the methods). ")
    if s.row is None:
        return intro + ctx.say("Deze analyse kon niet worden uitgevoerd.", "This analysis could not be carried out.")
    base = next(e.row for e in res.effects if e.measure == m)
    fmi = fmt_num(s.row["fmi"], 2, lang)
    text = intro + ctx.say(
        "Hetzelfde model, geschat op elke aangevulde dataset en samengevoegd volgens de regels van "
        f"Rubin, geeft {B.stat(s.row, 'nl')}, tegen {B.stat(base, 'nl')} in het hoofdmodel. De fractie "
        f"ontbrekende informatie voor dit effect is {fmi}.",
        "The same model, fitted on each completed data set and pooled by Rubin's rules, gives "
        f"{B.stat(s.row, 'en')}, against {B.stat(base, 'en')} in the main model. The fraction of "
        f"missing information for this effect is {fmi}.")
    text += " " + _convergence(s, ctx)
    if s.converged and _includes_zero(s.row) and not _includes_zero(base):
        text += " " + ctx.say(
            "Na imputatie omvat het interval nul: het effect is dus niet robuust tegen de ontbrekende "
            "metingen.",
            "After imputation the interval includes zero: the effect is therefore not robust to the "
            "missing measurements.")
    text += " " + ctx.say(
        "Beide analyses nemen aan dat het ontbreken van een score alleen samenhangt met wat wel is "
        "gemeten (missing at random).",
        "Both analyses assume that whether a score is missing depends only on what was measured "
        "(missing at random).")
    if s.auxiliary:
        text = text[:-1] + ctx.say(
            "; de imputatie gebruikt daarbij ook kenmerken die niet in het hoofdmodel staan.",
            "; the imputation also draws on characteristics that are not in the main model.")
    return text + " " + _units_sentence(res, ctx)


def imputation_methods(res: GoalResults, ctx) -> str:
    """The methods paragraph of the imputation analysis, with its citations."""
    s, lang = res.imputation, ctx.lang
    m = s.measure
    levels = join_words([UNIT_PLURALS[lev].pick(lang) for lev in ctx.programme.respondents[m.respondent].levels],
                        lang)
    groupings = ctx.programme.groupings
    aux = join_words([groupings[c].name.pick(lang) for c in s.auxiliary], lang) or ctx.say("geen", "none")
    unit, units = UNIT_NOUNS[m.respondent], UNIT_PLURALS[m.respondent]
    text = ctx.say(
        f"Ontbrekende metingen (gevoeligheidsanalyse 3): de schaalscore van {m.name.nl} is meervoudig "
        "geïmputeerd (Rubin, 1987) met een gezamenlijk multilevelmodel zoals dat van jomo "
        f"(Quartagno et al., 2019), met random intercepts voor {levels} en als voorspellers het vaste "
        f"deel van het uitkomstmodel en de hulpvariabelen {aux}. Per {unit.nl} is een rij toegevoegd "
        f"voor elk gemist meetmoment; alleen {units.nl} met ten minste één score deden mee. Geïmputeerd "
        "is de schaalscore zelf, niet de afzonderlijke items (lt.impute kan ook items imputeren).",
        f"Missing measurements (sensitivity analysis 3): the scale score of {m.name.en} was multiply "
        "imputed (Rubin, 1987) by a joint multilevel model as in jomo (Quartagno et al., 2019), with "
        f"random intercepts for {levels} and as predictors the fixed part of the outcome model and "
        f"the auxiliary variables {aux}. For each {unit.en} a row was added for every missed wave; only "
        f"{units.en} with at least one score took part. The scale score itself was imputed, not its "
        "items (lt.impute can impute items too).")
    if s.left_out:
        out = join_words([groupings[c].name.pick(lang) for c in s.left_out], lang)
        text += " " + ctx.say(
            f"Buiten het imputatiemodel bleef: {out}, omdat die gegevens soms ontbreken of binnen een "
            f"{unit.nl} wisselen.",
            f"Left out of the imputation model: {out}, because these data are sometimes missing or "
            f"change within a {unit.en}.")
    if s.settings:
        st = s.settings
        limit = fmt_num(RHAT_LIMIT, 1, lang)
        chains = _count(st["chains"])
        text += " " + ctx.say(
            f"De m = {s.m} datasets komen uit {chains.nl} ketens, na een inloopperiode van {st['burn']} "
            f"iteraties en met {st['between']} iteraties tussen twee imputaties; de convergentie is "
            f"beoordeeld met de rang-genormaliseerde split-R-hat (Vehtari et al., 2021), met {limit} als "
            "grens.",
            f"The m = {s.m} data sets were drawn from {chains.en} chains, after a burn-in of {st['burn']} "
            f"iterations and with {st['between']} iterations between imputations; convergence was "
            f"judged by the rank-normalised split R-hat (Vehtari et al., 2021), with {limit} as the "
            "limit.")
    return text + " " + ctx.say(
        "Het uitkomstmodel is op elke dataset geschat en de schattingen zijn samengevoegd volgens de "
        "regels van Rubin, met vrijheidsgraden volgens Barnard en Rubin (1999).",
        "The outcome model was fitted on each data set and the estimates were pooled by Rubin's rules, "
        "with degrees of freedom after Barnard and Rubin (1999).")
