"""Step two of a goal report: sections written from a :class:`GoalResults`.

Each section is a small function of ``(results, context)`` that returns a
:class:`~lerendtransformeren.report.render.Section` in the context's language. None of
them fits a model or computes a statistic: every number comes from the results object.
Tables and figures come from the generic report layer and :mod:`.blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

from lerendtransformeren import design, scales
from lerendtransformeren.goalreport import blocks as B
from lerendtransformeren.goalreport.analyse import GoalResults
from lerendtransformeren.goalreport.fits import N_BOOT
from lerendtransformeren.goalreport.imputed_text import imputation_methods, imputation_sentences
from lerendtransformeren.lang import Label, cap, join_words
from lerendtransformeren.report.figures import (
    plot_caterpillar,
    plot_gas,
    plot_organisation_trajectories,
    plot_reliability,
    plot_reliable_change,
    plot_trajectories,
)
from lerendtransformeren.report.format import fmt_count, fmt_df, fmt_int, fmt_num, fmt_p, fmt_pct
from lerendtransformeren.report.provenance import Provenance
from lerendtransformeren.report.document import Conclusions, Section
from lerendtransformeren.report.tables import (
    descriptives_table,
    fixed_effects_table,
    reliability_table,
    sample_table,
    variance_table,
)
from lerendtransformeren.report.text import effect_sentence, f_statistic, variance_sentence
from lerendtransformeren.exceptions import DataError
from lerendtransformeren.study import vocabulary as V
from lerendtransformeren.vocabulary import UNIT_PLURALS
from lerendtransformeren.study.programme import Programme

__all__ = [
    "Context",
    "design_section",
    "sample_section",
    "measures_section",
    "change_section",
    "effect_section",
    "care_section",
    "groups_section",
    "reliable_change_section",
    "conclusions_section",
    "methods_blocks",
    "GOAL_SECTIONS",
]


@dataclass(frozen=True)
class Context:
    """What a section needs besides the results: language, programme, goal, provenance."""

    lang: str
    programme: Programme
    goal: design.Goal
    provenance: Provenance
    synthetic: bool
    n_inputs: int
    notes: tuple[str, ...] = ()

    @property
    def nl(self) -> bool:
        return self.lang == "nl"

    def say(self, nl: str, en: str) -> str:
        """The sentence in the report's language."""
        return Label(nl, en).pick(self.lang)

    def heading(self, key: str) -> str:
        return V.HEADINGS[key].pick(self.lang)

    @staticmethod
    def count(n: int) -> Label:
        """A count in running text in both languages (words below ten, else digits)."""
        return Label(fmt_count(n, "nl"), fmt_count(n, "en"))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --- 1. design -------------------------------------------------------------------------------


def design_section(res: GoalResults, ctx: Context) -> Section:
    g, n_org, lang = ctx.goal, int(res.organisations["organisation"].nunique()), ctx.lang
    blocks: list = [ctx.say(
        f"Dit rapport gaat over transformatiedoel {g.code}, \u2018{g.name_nl}\u2019: "
        f"{_lower_first(g.description_nl)} Het doel wordt getrokken door de {g.workplace}.",
        f"This report is about transformation goal {g.code}, \u2018{g.name_en}\u2019: "
        f"{_lower_first(g.description_en)} The goal is led by the {g.workplace}.")]
    blocks.append(ctx.say(
        f"Aan dit doel werken {fmt_count(n_org, lang)} praktijkorganisaties mee. Zij kregen het "
        "ondersteuningsaanbod (coaching, intervisie en actieleren) volgens een stepped-wedge-"
        "opzet (Hussey & Hughes, 2007): alle organisaties beginnen zonder aanbod en stappen op "
        "een vast moment over, elke organisatie op een ander meetmoment (tabel hieronder). Zo "
        "is elke organisatie haar eigen controlegroep, en zijn er op elk meetmoment behalve het "
        f"eerste en het laatste metingen met én zonder aanbod. Er zijn {fmt_count(len(res.waves), lang)} "
        "meetmomenten, met telkens een halfjaar ertussen.",
        f"{cap(fmt_count(n_org, lang))} practice organisations work on this goal. They received the "
        "support offer (coaching, peer consultation and action learning) in a stepped-wedge "
        "design (Hussey & Hughes, 2007): all organisations start without the offer and cross "
        "over at a fixed moment, each at a different wave (table below). Each organisation is "
        "thus its own control, and every wave but the first and the last has measurements "
        f"with and without the offer. There are {fmt_count(len(res.waves), lang)} waves, six months apart."))
    if not res.organisations.empty and res.waves:
        blocks.append(B.design_table(res.organisations, res.waves, lang))
    names = [m.label(lang) for m in res.absent]
    names += [V.SUBSCALES.get(c, Label.same(c)).pick(lang) for c in res.missing_scales]
    if names:
        blocks.append(ctx.say("Niet in de gegevens (of door te weinig respondenten niet te "
                              "rapporteren): ", "Not in the data (or too few respondents to "
                              "report): ") + join_words(names, lang) + ".")
    return Section(ctx.heading("design"), blocks)


def no_data_sections(ctx: Context, reason: Label) -> list[Section]:
    """The sections of a report on a goal without data: why, and the conclusions space."""
    text = ctx.say(
        f"Er zijn geen gegevens voor doel {ctx.goal.code} in deze studie ({reason.nl}); dit "
        "rapport bevat daarom geen analyses.",
        f"There are no data for goal {ctx.goal.code} in this study ({reason.en}); this report "
        "therefore holds no analyses.")
    return [Section(ctx.heading("design"), [text]), Section(ctx.heading("conclusions"), [Conclusions()])]


# --- 2. sample -------------------------------------------------------------------------------


def sample_section(res: GoalResults, ctx: Context) -> Section:
    lang, blocks = ctx.lang, []
    for s in res.samples:
        levels = ctx.programme.respondents[s.respondent].levels
        kind = V.RESPONDENTS[s.respondent].pick(lang)
        share = fmt_pct(s.n_last / s.n_first, 0, lang) if s.n_first else "\u2014"
        blocks.append(ctx.say(
            f"Op T{s.first} deden {fmt_int(s.n_first, lang)} {kind} mee, op T{s.last} nog "
            f"{fmt_int(s.n_last, lang)} ({share}). Uitval is in een longitudinale studie gebruikelijk. "
            "Het multilevelmodel gebruikt alle beschikbare metingen en blijft geldig zolang uitval "
            "alleen samenhangt met gemeten gegevens, zoals eerdere metingen (missing at random), "
            "niet als die samenhangt met de niet-gemeten uitkomst zelf.",
            f"At T{s.first} {fmt_int(s.n_first, lang)} {kind} took part, at T{s.last} "
            f"{fmt_int(s.n_last, lang)} ({share}). Dropout is common in a longitudinal study. "
            "The multilevel model uses every available measurement and stays valid as long as "
            "dropout depends only on what was measured, such as earlier measurements (missing at "
            "random), not when it depends on the unmeasured outcome itself."))
        blocks.append(B.for_whom(sample_table(s.data, levels, k=res.k), V.RESPONDENTS[s.respondent]))
    return Section(ctx.heading("sample"), blocks)


# --- 3. measures and reliability ---------------------------------------------------------------


def _instrument_name(measure_name: str, instrument_name: str) -> str:
    """The instrument's name without the words the measure's name already says.

    >>> _instrument_name("Doelrealisatie (GAS T-score)", "Doelrealisatie (Goal Attainment Scaling, drie doelen)")
    'Goal Attainment Scaling, drie doelen'
    >>> _instrument_name("Bevlogenheid (UBES-9, 0-6)", "Utrechtse Bevlogenheidsschaal, 9 items (UBES-9)")
    'Utrechtse Bevlogenheidsschaal, 9 items (UBES-9)'
    """
    first = measure_name.split(" ")[0].lower()
    head, _, rest = instrument_name.partition(" ")
    if head.lower() == first and rest.startswith("(") and rest.endswith(")"):
        return rest[1:-1]
    return instrument_name


def _measure_line(m, ctx: Context) -> str:
    inst = scales.get(m.instrument)
    name = m.name.cap().pick(ctx.lang)
    who = V.RESPONDENTS[m.respondent].pick(ctx.lang)
    if inst.synthetic:
        return ctx.say(f"{name}: een synthetische schaal van eigen ontwerp, geen gevalideerd "
                       f"instrument; gemeten bij {who}.",
                       f"{name}: a synthetic scale of the project's own design, not a validated "
                       f"instrument; measured among {who}.")
    what = _instrument_name(name, inst.name_nl if ctx.nl else inst.name_en)
    return ctx.say(f"{name}: {what}; gemeten bij {who}.", f"{name}: {what}; measured among {who}.")


def measures_section(res: GoalResults, ctx: Context) -> Section:
    lang = ctx.lang
    blocks: list = [_measure_line(m, ctx) for m in res.scales]
    if res.observed:
        blocks.append(ctx.say("Daarnaast zijn zorguitkomsten vastgelegd: ",
                              "Care outcomes were also recorded: ")
                      + join_words([m.label(lang) for m in res.observed], lang) + ".")
    rel = res.reliability
    if rel is not None:
        blocks.append(ctx.say(
            "De betrouwbaarheid is bepaald op het eerste meetmoment (Cronbachs alfa met "
            f"Feldt-interval; McDonalds omega met percentiel-bootstrapinterval, {N_BOOT} "
            f"trekkingen, seed {res.seed}). Een waarde vanaf ,70 is gangbaar voor uitspraken "
            "over groepen; voor uitspraken over individuen is ,90 gewenst.",
            "Reliability was estimated at the first wave (Cronbach's alpha with Feldt interval; "
            f"McDonald's omega with percentile bootstrap interval, {N_BOOT} resamples, seed "
            f"{res.seed}). Values from .70 are usual for statements about groups; statements "
            "about individuals want .90."))
        blocks.append(reliability_table(rel, V.SUBSCALES, k=res.k))
        if (rel["n"] >= res.k).all():
            blocks.append(plot_reliability(rel, labels=V.SUBSCALES, lang=lang))
    if res.reliability_failed:
        blocks.append(ctx.say("De betrouwbaarheid kon niet worden bepaald voor ",
                              "Reliability could not be estimated for ")
                      + join_words([m.label(lang) for m in res.reliability_failed], lang) + ".")
    return Section(ctx.heading("measures"), blocks)


# --- 4. change over time -----------------------------------------------------------------------


def _trajectory_figures(res: GoalResults, lang: str) -> list:
    m = res.primary
    if m is None:
        return []
    data = res.data(m.respondent)
    try:
        return [plot_trajectories(data, m.column, label=m.name, lang=lang, k=res.k),
                plot_organisation_trajectories(data, m.column, label=m.name, lang=lang, k=res.k)]
    except DataError:
        return []


def _gas_blocks(res: GoalResults, ctx: Context) -> list:
    gas = [m for m in res.scales if m.instrument == "gas"]
    if not gas:
        return []
    values = res.data(gas[0].respondent)[gas[0].column].dropna()
    if len(values) < res.k:
        return []
    return [ctx.say(
        "Doelrealisatie (GAS; Kiresuk & Sherman, 1968) is pas vanaf T1 gescoord: bij de start "
        "zijn per gezin drie doelen opgesteld, elk gescoord van -2 tot 2. Een T-score van 50 "
        "betekent dat de doelen bereikt zijn zoals verwacht; met drie doelen zijn er dertien "
        "mogelijke T-scores, elk met een eigen staaf.",
        "Goal attainment (GAS; Kiresuk & Sherman, 1968) is scored from T1 on: three goals per "
        "family were set at the start, each scored from -2 to 2. A T-score of 50 means the goals "
        "were attained as expected; three goals give thirteen possible T-scores, each with its "
        "own bar."), *_gas_figure(values, ctx.lang, res.k)]


def _gas_figure(values, lang: str, k: int) -> list:
    try:
        return [plot_gas(values, lang=lang, k=k)]
    except DataError:  # T-scores that three unweighted goals cannot give: no figure
        return []


def _dose_section(res: GoalResults, ctx: Context) -> Section | None:
    act = res.activities
    if act is None:
        return None
    cols = {c: v for c, v in ctx.programme.dose.items() if c in act.columns}
    table = descriptives_table(act, cols, by="offer", k=res.k)
    table = B.with_title(table, Label(
        "Deelname aan het aanbod per meetmoment (aantal keer in het halfjaar ervoor)",
        "Participation in the offer per wave (times in the six months before)"))
    return Section(ctx.heading("dose"), [ctx.say(
        "De tabel toont hoe vaak professionals aan de onderdelen van het aanbod deelnamen (de "
        "\u2018dosis\u2019). "
        "Zonder aanbod is deelname nul; verschillen in dosis tussen professionals kunnen "
        "samenhangen met hun motivatie, dus een verband tussen dosis en uitkomst is geen "
        "bewijs van effect.",
        "The table shows how often professionals took part in the parts of the offer (the "
        "\u2018dose\u2019). Without "
        "the offer, participation is zero; differences in dose between professionals may "
        "reflect their motivation, so a link between dose and outcome is no proof of an "
        "effect."), table])


def change_section(res: GoalResults, ctx: Context) -> Section:
    blocks: list = [ctx.say(
        "De tabel geeft per meetmoment het gemiddelde met en zonder aanbod. Omdat organisaties "
        "op verschillende momenten starten, verschillen de groepen per meetmoment ook in "
        "organisatie: lees het verschil tussen \u2018met\u2019 en \u2018zonder aanbod\u2019 per "
        "meetmoment daarom niet als effect van het aanbod. Dat effect volgt uit het model in de "
        "volgende paragraaf.",
        "The table gives the mean per wave with and without the offer. Because organisations "
        "start at different waves, the groups at a wave also differ in organisation: do not "
        "read the difference between \u2018with\u2019 and \u2018without the offer\u2019 at a wave as "
        "the effect of the offer. That effect follows from the model in the next section.")]
    for s in res.samples:
        ms = {m.column: m.name for m in res.present if m.respondent == s.respondent and m.kind != "count"}
        if not ms:
            continue
        table = B.for_whom(descriptives_table(s.data, ms, by="offer", k=res.k), V.RESPONDENTS[s.respondent])
        if any(m.kind == "binary" for m in res.present if m.column in ms):
            table = B.with_note(table, Label(" Voor ja/nee-uitkomsten is M het aandeel ja.",
                                             " For yes/no outcomes M is the proportion yes."))
        blocks.append(table)
    blocks += _trajectory_figures(res, ctx.lang) + _gas_blocks(res, ctx)
    dose = _dose_section(res, ctx)
    return Section(ctx.heading("change"), blocks, [dose] if dose else [])


# --- 5. effect of the offer --------------------------------------------------------------------


def _effect_intro(res: GoalResults, ctx: Context) -> str:
    per_goal, goals = ctx.count(res.n_goal_organisations), ctx.count(res.n_goals)
    return ctx.say(
        f"Met {per_goal.nl} organisaties per doel kunnen de tijdseffecten (wat er ook zonder "
        "aanbod verandert) niet goed los van het aanbod worden geschat. Daarom is voor elke "
        f"uitkomst één multilevelmodel geschat over alle organisaties van de {goals.nl} doelen: met een effect "
        "per meetmoment dat voor alle doelen geldt, een eigen niveau per doel en een eigen "
        "effect van het aanbod per doel, en met random intercepts voor organisaties, teams, "
        "professionals en (voor ouders) gezinnen. Het effect voor dit doel is het contrast "
        "'aanbod \u00d7 doel' met vrijheidsgraden volgens Satterthwaite (1946).",
        f"With {per_goal.en} organisations per goal, the time effects (what changes without the "
        "offer too) cannot be estimated well apart from the offer. Each outcome was therefore "
        f"analysed with one multilevel model over the organisations of all {goals.en} goals: with an "
        "effect per wave shared by all goals, a level per goal and an offer effect per goal, "
        "and with random intercepts for organisations, teams, professionals and (for parents) "
        "families. The effect for this goal is the 'offer \u00d7 goal' contrast with "
        "Satterthwaite (1946) degrees of freedom.")


def _effect_sentences(res: GoalResults, ctx: Context) -> list:
    lang, out = ctx.lang, []
    for e in res.effects:
        frame = e.row.to_frame().T
        label = Label("het aanbod op ", "the offer on ") + e.measure.name
        out.append(effect_sentence(frame, e.row.name, lang=lang, label=label) + " " + cap(B.reading(
            e.row["estimate"], e.row["ci_low"], e.row["ci_high"], e.measure.higher_is_better,
            lang, e.row["p"])) + ".")
    for m in res.not_estimated:
        out.append(ctx.say(f"Het model voor {m.name.nl} kon niet worden geschat.",
                           f"The model for {m.name.en} could not be estimated."))
    return out


def _df_caveat(res: GoalResults, ctx: Context) -> str:
    low = fmt_df(round(min(e.row["df"] for e in res.effects)), ctx.lang)
    n = ctx.count(res.n_goal_organisations)
    # with --impute a third sensitivity analysis (missing measurements) follows the two
    first = Label("De eerste twee ", "The first two") if res.imputation is not None else Label("De twee ", "The two")
    return ctx.say(
        f"De vrijheidsgraden zijn groot ({low} of meer) omdat het aanbod binnen organisaties "
        "wisselt: het model vergelijkt metingen vóór en na de start binnen dezelfde "
        "organisatie. Dat maakt de schatting preciezer, maar berust op twee aannames die met "
        f"{n.nl} organisaties per doel nauwelijks te toetsen zijn: dat de verandering over de tijd "
        f"zonder aanbod in alle doelen gelijk is, en dat het effect van het aanbod in de {n.nl} "
        "organisaties van dit doel gelijk is. Verschilt het effect tussen organisaties, dan is "
        f"het interval te smal, en een uitspraak over andere organisaties rust op slechts {n.nl} "
        f"organisaties. {first.nl}gevoeligheidsanalyses hieronder gaan op beide aannames in.",
        f"The degrees of freedom are large ({low} or more) because the offer varies within "
        "organisations: the model compares measurements before and after the start within the "
        "same organisation. That makes the estimate more precise, but rests on two assumptions "
        f"that {n.en} organisations per goal can hardly test: that change over time without the "
        "offer is the same in all goals, and that the offer's effect is the same in this goal's "
        f"{n.en} organisations. If the effect differs between organisations the interval is too "
        f"narrow, and any statement about other organisations rests on {n.en} organisations only. "
        f"{first.en} sensitivity analyses below address both assumptions.")


def _own_sentence(res: GoalResults, ctx: Context) -> str:
    m, n = res.primary, ctx.count(res.n_goal_organisations)
    base = next(e.row for e in res.effects if e.measure == m)
    fragile = "" if _includes_zero(base) or not _includes_zero(res.own) else ctx.say(
        " In deze analyse omvat het interval nul: het effect is dus niet robuust tegen een eigen "
        "tijdstrend van dit doel.",
        " In this analysis the interval includes zero: the effect is therefore not robust to a "
        "time trend of this goal's own.")
    return ctx.say(
        f"Gevoeligheidsanalyse 1, eigen tijdseffecten: met alleen de {n.nl} organisaties van dit "
        f"doel was het effect op {m.name.nl} {B.stat(res.own, 'nl')}. Hier zijn aanbod en tijd "
        "sterker met elkaar verweven, dus het interval is breder; wijken beide schattingen "
        "sterk van elkaar af, dan verschilt de tijdstrend van dit doel waarschijnlijk van die van de "
        "andere doelen.",
        f"Sensitivity analysis 1, own time effects: with only this goal's {n.en} organisations "
        f"the effect on {m.name.en} was {B.stat(res.own, 'en')}. Here offer and time are more "
        "entangled, so the interval is wider; if the two estimates differ a lot, this goal's "
        "time trend probably differs from that of the other goals.") + fragile


def _includes_zero(row) -> bool:
    return bool(row["ci_low"] <= 0 <= row["ci_high"])


def _slope_sentence(res: GoalResults, ctx: Context) -> str:
    s, lang = res.slope, ctx.lang
    m = s.measure
    intro = ctx.say(
        "Gevoeligheidsanalyse 2, effect dat per organisatie mag verschillen: in dit model "
        "krijgt elke organisatie naast een eigen niveau ook een eigen effect van het aanbod "
        "(een random helling van het aanbod tussen organisaties). ",
        "Sensitivity analysis 2, an effect that may differ between organisations: in this "
        "model each organisation has, besides its own level, its own effect of the offer (a "
        "random slope of the offer between organisations). ")
    if s.row is None:
        return intro + ctx.say("Dit model kon niet worden geschat.", "This model could not be estimated.")
    base = next(e.row for e in res.effects if e.measure == m)
    if s.slope_variance is None or s.slope_variance <= 1e-10 * max(1.0, abs(base["estimate"]) ** 2):
        n, per_goal = ctx.count(res.n_organisations), ctx.count(res.n_goal_organisations)
        return intro + ctx.say(
            "De variantie van dat effect tussen organisaties is op nul geschat: de gegevens "
            "laten geen verschil in effect tussen organisaties zien. Het model valt dan samen "
            f"met het hoofdmodel, en het effect blijft {B.stat(s.row, 'nl')}. Met {n.nl} "
            f"organisaties, {per_goal.nl} per doel, zegt dat weinig: een verschil kan bestaan "
            "zonder dat de gegevens het laten zien. Dan is het interval van het hoofdmodel te "
            "smal, en zijn de vele vrijheidsgraden niet meer dan die van een z-toets.",
            "The variance of that effect between organisations was estimated at zero: the data "
            "show no difference in effect between organisations. The model then equals the main "
            f"model, and the effect remains {B.stat(s.row, 'en')}. With {n.en} organisations, "
            f"{per_goal.en} per goal, that says little: a difference may exist without the data "
            "showing it. The main model's interval is then too narrow, and its many degrees of "
            "freedom amount to no more than a z test.")
    sd = fmt_num(s.slope_sd, 2, lang)
    return intro + ctx.say(
        f"De standaardafwijking van het effect tussen organisaties is {sd} punten. Het effect "
        f"voor dit doel wordt dan {B.stat(s.row, 'nl')}, tegen "
        f"{B.stat(base, 'nl')} in het hoofdmodel: het interval is breder en de "
        f"vrijheidsgraden dalen van {fmt_df(base['df'], 'nl')} naar {fmt_df(s.row['df'], 'nl')}, "
        "omdat de onzekerheid nu ook het verschil tussen organisaties omvat.",
        f"The standard deviation of the effect between organisations is {sd} points. The "
        f"effect for this goal then becomes {B.stat(s.row, 'en')}, against "
        f"{B.stat(base, 'en')} in the main model: the interval is wider and the degrees of "
        f"freedom fall from {fmt_df(base['df'], 'en')} to {fmt_df(s.row['df'], 'en')}, because "
        "the uncertainty now includes the difference between organisations.")


def _detail_section(res: GoalResults, ctx: Context) -> Section:
    d, lang = res.detail, ctx.lang
    m, summary = d.measure, d.summary
    eff = next(e for e in res.effects if e.measure == m)
    row_label = B.term_labels([d.term]).get(d.term, Label("Aanbod", "Offer")).pick(lang)
    sd = fmt_num(eff.d["sd"], 2, lang) if eff.d is not None else "\u2014"
    dval = fmt_num(eff.d["d"], 2, lang) if eff.d is not None else "\u2014"
    direction = Label("", "") if m.higher_is_better else Label(
        " (lager is gunstig; in het overzicht staat d met het teken omgekeerd, zodat positief "
        "gunstig is)", " (lower is favourable; the overview shows d with its sign reversed, so "
        "that positive is favourable)")
    blocks: list = [ctx.say(
        f"De tabel hieronder toont het volledige model voor de primaire uitkomst van dit doel, "
        f"{m.name.nl}. De rij \u2018{row_label}\u2019 is het effect voor dit doel. Gedeeld door "
        f"de totale standaardafwijking van het model ({sd}) is het gestandaardiseerde effect "
        f"d = {dval}{direction.nl}.",
        f"The table below shows the full model for this goal's primary outcome, {m.name.en}. "
        f"The row \u2018{row_label}\u2019 is the effect for this goal. Divided by the model's "
        f"total standard deviation ({sd}) the standardised effect is d = {dval}{direction.en}.")]
    blocks.append(fixed_effects_table(summary.fixed, B.term_labels(list(summary.fixed.index))))
    who = V.RESPONDENTS[m.respondent]
    phrases = {level: Label(p.nl.format(who.nl), p.en.format(who.en)) for level, p in V.VARIANCE_PHRASES.items()}
    blocks.append(variance_sentence(summary.variance, lang=lang, labels=phrases))
    blocks.append(variance_table(summary.variance))
    if d.singular:
        blocks.append(ctx.say("Let op: een variantiecomponent is op nul geschat (singuliere "
                              "fit); de vaste effecten blijven bruikbaar.",
                              "Note: a variance component was estimated at zero (singular fit); "
                              "the fixed effects remain usable."))
    blocks += _caterpillar_blocks(res, ctx)
    return Section(ctx.heading("model"), blocks)


def _caterpillar_blocks(res: GoalResults, ctx: Context) -> list:
    orgs, m = res.detail.organisations, res.detail.measure
    if orgs is None or not len(orgs):
        return []
    eff = orgs.reset_index(names="unit").assign(unit=lambda f: f["unit"].astype(str))
    n = ctx.count(len(eff))
    return [ctx.say(
        "De figuur toont hoe de organisaties van dit doel afwijken van het doelgemiddelde "
        "(geschatte random intercepts met 95%-intervallen op basis van de conditionele "
        f"standaardafwijking). Met {n.nl} organisaties is dit een beschrijving, geen rangorde.",
        "The figure shows how this goal's organisations differ from the goal's mean "
        "(estimated random intercepts with 95% intervals from the conditional standard "
        f"deviations). With {n.en} organisations this is a description, not a ranking."),
        plot_caterpillar(eff, lang=ctx.lang, label=Label("afwijking op ", "deviation in ") + m.name)]


def effect_section(res: GoalResults, ctx: Context) -> Section:
    blocks: list = [_effect_intro(res, ctx)] + _effect_sentences(res, ctx)
    if res.effects:
        blocks.append(B.effects_table({e.measure.column: e.row for e in res.effects},
                                      ctx.programme.measures, res.goal))
        blocks.append(_df_caveat(res, ctx))
    subsections = []
    if res.detail is not None:
        if res.own is not None:
            blocks.append(_own_sentence(res, ctx))
        if res.slope is not None:
            blocks.append(_slope_sentence(res, ctx))
        if res.imputation is not None:
            blocks.append(imputation_sentences(res, ctx))
        subsections.append(_detail_section(res, ctx))
    return Section(ctx.heading("effect"), blocks, subsections)


# --- 6. care outcomes (GEE) ----------------------------------------------------------------------


def care_section(res: GoalResults, ctx: Context) -> Section | None:
    if not res.observed:
        return None
    lang, n = ctx.lang, ctx.count(res.n_organisations)
    blocks: list = [ctx.say(
        "Ja/nee-uitkomsten en aantallen zijn geanalyseerd met GEE (generalized estimating "
        "equations; Liang & Zeger, 1986) over alle organisaties, met dezelfde opbouw als "
        "hierboven (meetmoment, doel, aanbod per doel). Organisaties zijn de clusters; omdat er "
        f"maar {n.nl} zijn, is de standaardfout gecorrigeerd volgens Mancl en DeRouen (2001) en "
        "zijn t-toetsen gebruikt met het aantal organisaties min de parameters op "
        "organisatieniveau als vrijheidsgraden. Dat is voorzichtig: met zo weinig clusters zijn "
        "gewone z-toetsen te optimistisch. Het effect staat als verhouding (ratio): 1 betekent "
        "geen verschil.",
        "Yes/no outcomes and counts were analysed with GEE (generalised estimating equations; "
        "Liang & Zeger, 1986) over all organisations, with the same structure as above (wave, "
        f"goal, offer per goal). Organisations are the clusters; as there are only {n.en}, the "
        "standard error was corrected after Mancl and DeRouen (2001), with t tests on the "
        "number of organisations minus the organisation-level parameters as degrees of "
        "freedom. That is cautious: with so few clusters plain z tests are too optimistic. The "
        "effect is shown as a ratio: 1 means no difference.")]
    for r in res.ratios:
        row, m = r.row, r.measure
        blocks.append(f"{m.name.cap().pick(lang)}: {B.ratio_stat(row, m.kind, lang)}; " + B.reading(
            row["exp_estimate"], row["exp_ci_low"], row["exp_ci_high"], m.higher_is_better, lang,
            row["p"], null=1.0) + ".")
    for m in res.ratios_failed:
        blocks.append(f"{m.name.cap().pick(lang)}: " + ctx.say(
            "het model kon niet worden geschat.", "the model could not be estimated."))
    if res.ratios:
        blocks.append(B.ratio_table({r.measure.column: r.row for r in res.ratios},
                                    ctx.programme.measures, res.goal))
    blocks += _glmm_blocks(res, ctx)
    kinds = {m.kind for m in res.observed}
    heading = "care" if len(kinds) > 1 else f"care_{next(iter(kinds))}"
    return Section(ctx.heading(heading), blocks)


def _glmm_blocks(res: GoalResults, ctx: Context) -> list[str]:
    """The cluster-specific GLMM beside the GEE, with what tells the two apart."""
    if not res.glmm_ratios:
        return []
    lang, n = ctx.lang, ctx.count(res.n_organisations)
    levels = ctx.programme.respondents[res.glmm_ratios[0].measure.respondent].levels
    units = Label(join_words([UNIT_PLURALS[u].nl for u in levels], "nl"),
                  join_words([UNIT_PLURALS[u].en for u in levels], "en"))
    intro = ctx.say(
        "Ter vergelijking zijn dezelfde uitkomsten geschat met een multilevelmodel voor ja/nee-"
        f"uitkomsten of aantallen (GLMM) met random intercepts voor {units.nl}, met de "
        "Laplace-benadering zoals lme4 (Bates et al., 2015). De GEE hierboven schat het effect "
        "gemiddeld over alle respondenten (marginaal); de GLMM schat het effect voor een "
        "respondent binnen zijn eigen organisatie en team (conditioneel). Bij ja/nee-uitkomsten "
        "ligt een conditionele oddsratio doorgaans verder van 1 dan de marginale, meer naarmate "
        "eenheden meer van elkaar verschillen, zonder dat een van beide fout is: ze beantwoorden "
        "een andere vraag. De GLMM gebruikt Wald-z-toetsen. In een simulatie met deze opzet en "
        f"{n.nl} organisaties hielden die voor het aanbod hun niveau (5,6% verwerpingen bij "
        "α = ,05), omdat het aanbod binnen organisaties wisselt; dat geldt alleen als het effect "
        "in alle organisaties gelijk is (zie gevoeligheidsanalyse 2). De GEE toetst voorzichtiger.",
        "For comparison, the same outcomes were estimated with a multilevel model for yes/no "
        f"outcomes or counts (GLMM) with random intercepts for {units.en}, with the Laplace "
        "approximation as in lme4 (Bates et al., 2015). The GEE above estimates the effect "
        "averaged over all respondents (marginal); the GLMM estimates the effect for a "
        "respondent within their own organisation and team (conditional). For yes/no outcomes "
        "a conditional odds ratio usually lies further from 1 than the marginal one, the more so "
        "the more units differ, and neither is wrong: they answer different questions. The GLMM "
        f"uses Wald z tests. In a simulation of this design with {n.en} organisations they kept "
        "their level for the offer (5.6% rejections at α = .05), because the offer varies within "
        "organisations; that holds only if the effect is the same in all organisations (see "
        "sensitivity analysis 2). The GEE tests more cautiously.")
    lines = [f"{r.measure.name.cap().pick(lang)} (GLMM): {B.ratio_z_stat(r.row, r.measure.kind, lang)}."
             for r in res.glmm_ratios]
    return [intro + " " + " ".join(lines)]


# --- 7. groups -----------------------------------------------------------------------------------


def _groups_heading(res: GoalResults, ctx: Context) -> str:
    names = [V.GROUP_SHORT[g.column].pick(ctx.lang) for g in res.groups]
    return V.HEADINGS["groups"].pick(ctx.lang).format(join_words(names, ctx.lang))


def _moderation_sentence(group, ctx: Context) -> str:
    name = ctx.programme.groupings[group.column].name.pick(ctx.lang)
    if group.test is None:
        return ctx.say(f"Of het effect van het aanbod verschilt naar {name} kon niet worden "
                       "getoetst (te weinig metingen in sommige groepen).",
                       f"Whether the offer's effect differs by {name} could not be tested (too "
                       "few measurements in some groups).")
    row, lang = group.test, ctx.lang
    stat = f_statistic(row["F"], row["numdf"], row["dendf"], lang) + Label("; ", ", ").pick(lang) + fmt_p(
        row["p"], lang, prefix=True)
    if row["p"] < 0.05:
        verdict = ctx.say("het effect lijkt te verschillen tussen de groepen. Dit is een van "
                          "meerdere verkennende toetsen en kan op toeval berusten; de tabel laat "
                          "zien waar het verschil zit",
                          "the effect seems to differ between groups. This is one of several "
                          "exploratory tests and may be due to chance; the table shows where the "
                          "difference lies")
    else:
        verdict = ctx.say("er is geen duidelijk verschil gevonden, wat niet betekent dat het "
                          "effect in alle groepen gelijk is",
                          "no clear difference was found, which does not mean that the effect is "
                          "the same in all groups")
    return ctx.say(f"Verschil in effect van het aanbod naar {name}: {stat}; {verdict}.",
                   f"Difference in the offer's effect by {name}: {stat}; {verdict}.")


def groups_section(res: GoalResults, ctx: Context) -> Section | None:
    if not res.groups:
        return None
    m, lang = res.primary, ctx.lang
    tested = any(g.tested for g in res.groups)
    names = join_words([ctx.programme.groupings[g.column].name.pick(lang) for g in res.groups], lang)
    if tested:
        blocks: list = [ctx.say(
            f"Verschilt de score op {m.name.nl} tussen groepen gezinnen, en werkt het aanbod voor sommige "
            "groepen anders? De tabellen zijn beschrijvend. Onder elke tabel staat de toets of het "
            "effect van het aanbod per groep verschilt. Die toetsen komen uit één model met de "
            f"interacties aanbod \u00d7 kenmerk voor {names} samen, in de organisaties van dit "
            "doel en gecorrigeerd voor meetmoment (F-toetsen, vrijheidsgraden volgens "
            "Satterthwaite). Zulke toetsen hebben weinig onderscheidend vermogen: het ontbreken "
            "van een significant verschil betekent niet dat het aanbod voor iedereen gelijk werkt. "
            "Ze zijn verkennend.",
            f"Do scores on {m.name.en} differ between groups of families, and does the offer work "
            "differently for some groups? The tables are descriptive. Below each table is the test "
            "of whether the offer's effect differs by group. Those tests come from one model with "
            f"the offer \u00d7 characteristic interactions for {names} together, in this goal's "
            "organisations and adjusted for wave (F tests, Satterthwaite df). Such tests have "
            "little power: the absence of a significant difference does not mean the offer works "
            "the same for everyone. They are exploratory.")]
    else:
        who = V.RESPONDENTS[m.respondent].pick(lang)
        blocks = [ctx.say(
            f"De primaire uitkomst van dit doel is gemeten bij {who}. De tabel beschrijft "
            f"{m.name.nl} naar {names}, met en zonder aanbod; het is een beschrijving, geen "
            "toets.",
            f"This goal's primary outcome was measured among {who}. The table describes "
            f"{m.name.en} by {names}, with and without the offer; it is a description, not a "
            "test.")]
    for g in res.groups:
        blocks.append(B.group_table(g.stats, m, ctx.programme.groupings[g.column], res.k))
        if g.tested:
            blocks.append(_moderation_sentence(g, ctx))
    return Section(_groups_heading(res, ctx), blocks)


# --- 8. reliable change ----------------------------------------------------------------------------


def reliable_change_section(res: GoalResults, ctx: Context) -> Section | None:
    rc, lang = res.reliable_change, ctx.lang
    if rc is None:
        if res.primary is None or res.primary.kind != "scale" or res.primary.instrument == "gas":
            return None
        text = {"no repeated measurements": Label("Er zijn geen herhaalde metingen.",
                                                  "There are no repeated measurements.")}.get(
            res.reliable_change_reason, Label(
                "De betrouwbare verandering kon niet worden bepaald (te weinig gegevens).",
                "Reliable change could not be determined (too few data)."))
        return Section(ctx.heading("rc"), [text.pick(lang)])
    m = rc.measure
    who = V.RESPONDENTS[m.respondent].pick(lang)
    level = fmt_pct(rc.level, 0, lang)
    blocks: list = [ctx.say(
        f"Een gemiddeld effect zegt niet hoeveel individuele {who} er werkelijk op vooruitgaan. "
        "De betrouwbareveranderingsindex (RCI; Jacobson & Truax, 1991) zegt of de verandering "
        "van één respondent groter is dan meetfout alleen kan verklaren. Hier: van "
        f"T{rc.first} naar T{rc.last} op {m.name.nl}, met de standaardafwijking op T{rc.first} "
        f"({fmt_num(rc.sd_pre, 2, lang)}) en alfa ({fmt_num(rc.reliability, 2, lang, leading_zero=False)}) "
        f"als betrouwbaarheid. Een verandering is betrouwbaar (tweezijdig, {level}) vanaf "
        f"{fmt_num(rc.threshold, 2, lang)} punten.",
        f"An average effect does not say how many individual {who} actually improve. The "
        "reliable change index (RCI; Jacobson & Truax, 1991) says whether one respondent's "
        "change is larger than measurement error alone can explain. Here: from "
        f"T{rc.first} to T{rc.last} on {m.name.en}, with the standard deviation at T{rc.first} "
        f"({fmt_num(rc.sd_pre, 2, lang)}) and alpha ({fmt_num(rc.reliability, 2, lang, leading_zero=False)}) "
        f"as the reliability. A change is reliable (two-sided, {level}) from "
        f"{fmt_num(rc.threshold, 2, lang)} points."), ctx.say(
        "Lees dit voorzichtig: alle organisaties hebben op het laatste meetmoment het aanbod, "
        "dus er is geen vergelijkingsgroep zonder aanbod; individuele verandering omvat ook "
        "natuurlijk herstel en regressie naar het gemiddelde. Of 'betrouwbaar verbeterd' ook "
        "'goed genoeg' is, is een inhoudelijke vraag voor de werkplaats.",
        "Read this with care: all organisations have the offer at the last wave, so there is "
        "no comparison group without it; individual change includes natural recovery and "
        "regression to the mean. Whether 'reliably improved' is 'good enough' is a question of "
        "substance for the workplace.")]
    if rc.with_cutoff and m.cutoff_note is not None:
        blocks.append(m.cutoff_note.pick(lang))
    blocks.append(B.rc_table(rc.categories, res.k, rc.with_cutoff))
    try:
        blocks.append(plot_reliable_change(rc.categories, lang=lang, k=res.k, recovered=rc.with_cutoff))
    except DataError:
        pass
    return Section(ctx.heading("rc"), blocks)


# --- 9. conclusions and 10. methods -----------------------------------------------------------------


def conclusions_section(res: GoalResults | None, ctx: Context) -> Section:
    return Section(ctx.heading("conclusions"), [ctx.say(
        "Deze paragraaf is bewust leeggelaten. De onderzoekers en de werkplaats trekken de "
        "conclusies, samen met de praktijk: wat betekenen deze cijfers voor het doel, wat is "
        "goed genoeg, en wat is de volgende stap?",
        "This section is deliberately left empty. The researchers and the workplace draw the "
        "conclusions, together with practice: what do these figures mean for the goal, what is "
        "good enough, and what is the next step?"), Conclusions()])


def privacy_and_data(k: int, ctx: Context) -> list[str]:
    """The paragraphs on small numbers and on where the data came from."""
    small = ctx.say(
        f"Kleine aantallen: elke getoonde statistiek rust op ten minste {k} respondenten; "
        "kleinere cellen zijn vervangen door \u00d7, en waar een totaal zo'n cel zou verraden, is "
        "ook een tweede cel verborgen. Organisaties zijn aangeduid met een letter; er staan geen "
        "namen of nummers van personen, gezinnen, professionals of teams in dit rapport.",
        f"Small numbers: every statistic shown rests on at least {k} respondents; smaller cells "
        "are replaced by \u00d7, and where a total would reveal such a cell a second cell is "
        "hidden too. Organisations are shown by a letter; this report contains no names or "
        "numbers of persons, families, professionals or teams.")
    if ctx.synthetic:
        data = ctx.say("Gegevens: de synthetische studie van lerendtransformeren (fictief: geen "
                       "echte personen of organisaties).",
                       "Data: the synthetic study of lerendtransformeren (fictitious: no real "
                       "persons or organisations).")
    else:
        data = ctx.say(f"Gegevens: {fmt_count(ctx.n_inputs, 'nl')} bestanden, gelezen volgens de "
                       "studiedefinitie en gecontroleerd op nesting, dubbele rijen en codes; zie de "
                       "verantwoording hieronder.",
                       f"Data: {fmt_count(ctx.n_inputs, 'en')} files, read by the study definition and "
                       "checked for nesting, duplicate rows and codes; see the provenance below.")
    blocks = [small, data]
    if ctx.notes:
        blocks.append(ctx.say(
            "Meldingen bij het inlezen (zoals lerendtransformeren validate ze geeft, in het Engels; "
            "identificatienummers zijn vervangen door [id]): ",
            "Notes from reading the data (as lerendtransformeren validate gives them; identifiers "
            "are replaced by [id]): ") + "; ".join(ctx.notes) + ".")
    return blocks


def methods_blocks(res: GoalResults, ctx: Context) -> list:
    """The methods paragraph of the primary model, small numbers and the data source."""
    from lerendtransformeren.report.text import methods_paragraph

    blocks: list = []
    if res.detail is not None:
        s = res.detail.summary
        levels = [name.split(":")[-1] for name, _ in s.levels]
        blocks.append(methods_paragraph(
            outcome=res.detail.measure.name, formula=s.formula, levels=levels, n_obs=s.n_obs,
            n_units={name.split(":")[-1]: n for name, n in s.levels}, provenance=ctx.provenance,
            ddf=s.ddf, lang=ctx.lang))
    if res.imputation is not None:
        blocks.append(imputation_methods(res, ctx))
    return blocks + privacy_and_data(res.k, ctx)


#: The sections of a goal report, in order (each returns a Section or None).
GOAL_SECTIONS = (
    design_section,
    sample_section,
    measures_section,
    change_section,
    effect_section,
    care_section,
    groups_section,
    reliable_change_section,
    conclusions_section,
)
