"""The cross-goal overview: per goal the offer effect on its primary outcome, and the sample.

:func:`analyse_overview` gathers the numbers (from the same cached models as the goal
reports); :func:`overview_sections` writes them: a paragraph on how to read them, a forest
plot of the standardised effects (positive = favourable, so goals can be set side by
side), the table of effects on each outcome's own scale, and the sample per goal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.goalreport.analyse import measure_present, outcome_spec
from lerendtransformeren.goalreport.display import overview_results_view
from lerendtransformeren.goalreport.fits import FitCache
from lerendtransformeren.lang import Label, join_words
from lerendtransformeren.report.document import Conclusions, Section
from lerendtransformeren.report.figures import plot_forest
from lerendtransformeren.report.format import fmt_count
from lerendtransformeren.report.suppress import suppress_small_cells
from lerendtransformeren.report.tables import Column, Table
from lerendtransformeren.study.data import StudyData

__all__ = ["OverviewResults", "analyse_overview", "overview_sections"]


@dataclass
class OverviewResults:
    """Per goal: the offer effect on the primary outcome (own scale and standardised in the
    favourable direction) and the sample at the first wave."""

    goals: list[int]
    effects: pd.DataFrame
    sample: pd.DataFrame
    k: int
    #: Number of organisations of each goal, in the order of ``goals``.
    organisations: tuple[int, ...] = ()

    def __repr__(self) -> str:
        return overview_results_view(self).text()

    def _repr_html_(self) -> str:
        return overview_results_view(self).html()


_EFFECT_COLUMNS = ("outcome", "estimate", "ci_low", "ci_high", "df", "p", "d_fav", "d_low", "d_high")


def _effect_row(study: StudyData, goal: int, k: int) -> dict:
    m = study.programme.measures[study.programme.plans[goal].primary]
    row = dict.fromkeys(_EFFECT_COLUMNS, np.nan) | {"outcome": m.column}
    if not measure_present(study, m, goal, k):
        return row
    summary = FitCache.of(study).get(outcome_spec(study, m)).result
    c = None if summary is None else summary.contrast(goal)
    if c is None:
        return row
    row.update(c.iloc[0][["estimate", "ci_low", "ci_high", "df", "p"]].to_dict())
    d = summary.standardised.get(goal, summary.standardised.get(None))
    if d is not None:
        sign = 1.0 if m.higher_is_better else -1.0
        lo, hi = sorted((sign * d["ci_low"], sign * d["ci_high"]))
        row.update(d_fav=sign * d["d"], d_low=lo, d_high=hi)
    return row


def _sample_row(study: StudyData, goal: int) -> dict:
    frames = [f for f in (study.of_goal("family", goal), study.of_goal("professional", goal)) if len(f)]

    def first(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.loc[frame["wave"] == frame["wave"].min()]

    fam, pro = study.of_goal("family", goal), study.of_goal("professional", goal)
    return {
        "organisations": float(pd.concat([f["organisation"] for f in frames]).nunique()) if frames else np.nan,
        "teams": float(pd.concat([f["team"] for f in frames]).nunique()) if frames else np.nan,
        "professionals": float(first(pro)["professional"].nunique()) if len(pro) else np.nan,
        "families": float(first(fam)["family"].nunique()) if len(fam) and "family" in fam else np.nan,
    }


def analyse_overview(study: StudyData, goals: Sequence[int] | None = None, *, k: int = 5) -> OverviewResults:
    """The numbers of the overview for ``goals`` (default: every goal with data)."""
    chosen = [g for g in (goals or study.goals()) if g in study.programme.plans]
    effects = pd.DataFrame.from_dict({g: _effect_row(study, g, k) for g in chosen}, orient="index")
    effects.index.name = "goal"
    sample = pd.DataFrame.from_dict({g: _sample_row(study, g) for g in chosen}, orient="index")
    sample.index.name = "goal"
    orgs = study.organisations
    per_goal = tuple(int((orgs["goal"] == g).sum()) if "goal" in orgs.columns else 0 for g in chosen)
    return OverviewResults(chosen, effects, sample, k, per_goal)


def _goal_labels(res: OverviewResults, ctx) -> dict[int, Label]:
    return {g: Label(f"{g}. {ctx.programme.goal(g).name_nl}", f"{g}. {ctx.programme.goal(g).name_en}")
            for g in res.goals}


def _paragraph(res: OverviewResults, ctx) -> str:
    lang, eff = ctx.lang, res.effects
    favourable = [str(g) for g, r in eff.iterrows() if pd.notna(r["d_low"]) and r["d_low"] > 0]
    n = len(res.goals)
    which = join_words([str(g) for g in res.goals], lang)
    low, high = min(res.organisations, default=0), max(res.organisations, default=0)
    per_goal = ctx.count(low) if low == high else Label(
        f"{fmt_count(low, 'nl')} tot {fmt_count(high, 'nl')}", f"{fmt_count(low, 'en')} to {fmt_count(high, 'en')}")
    # a lower bound that rounds to 0,00 is 'just' favourable: say so, or the figure contradicts the text
    near = [str(g) for g, r in eff.iterrows() if str(g) in favourable and r["d_low"] < 0.005]
    if favourable:
        verdict = ctx.say(f"Bij doel {join_words(favourable, 'nl')} ligt het interval geheel aan "
                          "de gunstige kant van nul",
                          f"For goal{'s' if len(favourable) > 1 else ''} "
                          f"{join_words(favourable, 'en')} the interval lies entirely on the "
                          "favourable side of zero")
        if near:
            verdict += ctx.say(f" (bij doel {join_words(near, 'nl')} net: de ondergrens is afgerond nul)",
                               f" (for goal{'s' if len(near) > 1 else ''} {join_words(near, 'en')} only "
                               "just: the lower bound rounds to zero)")
        verdict += "."
    else:
        verdict = ctx.say("Bij geen enkel doel ligt het interval geheel aan de gunstige kant van nul.",
                          "For no goal does the interval lie entirely on the favourable side of zero.")
    scope = ctx.say(f"Dit overzicht zet transformatiedoelen {which} naast elkaar" if n > 1 else
                    f"Dit overzicht toont transformatiedoel {which}",
                    f"This overview sets transformation goals {which} side by side" if n > 1 else
                    f"This overview shows transformation goal {which}")
    return scope + ctx.say(
        " voor de lerende gemeenschap. Per doel staat het effect van het ondersteuningsaanbod "
        "op de primaire uitkomst van dat doel. De uitkomsten verschillen per doel; de figuur "
        "zet de effecten daarom om naar standaardafwijkingen (d: het effect gedeeld door de "
        "totale standaardafwijking van het model), met het teken zo gekozen dat positief "
        "gunstig is. De tabel geeft de effecten op de eigen schaal van elke uitkomst. "
        + verdict + f" Elk doel rust op {per_goal.nl} organisaties: de schattingen veronderstellen "
        "dat het effect in de organisaties van een doel gelijk is en dat de tijdstrend in alle doelen gelijk "
        "is. De doelrapporten geven de details, de gevoeligheidsanalyses en de kanttekeningen.",
        " for the learning community. Per goal it shows the effect of the support offer on that "
        "goal's primary outcome. The outcomes differ per goal; the figure therefore converts the "
        "effects to standard deviations (d: the effect divided by the model's total standard "
        "deviation), signed so that positive is favourable. The table gives the effects on each "
        "outcome's own scale. " + verdict + f" Each goal rests on {per_goal.en} organisations: the "
        "estimates assume the effect is the same in a goal's organisations and that the time "
        "trend is the same in all goals. The goal reports give the details, sensitivity analyses "
        "and caveats.")


def _forest(res: OverviewResults, ctx):
    labels = _goal_labels(res, ctx)
    eff = res.effects
    frame = pd.DataFrame({
        "label": [labels[g].pick(ctx.lang) for g in eff.index],
        "estimate": eff["d_fav"].astype(float).to_numpy(),
        "ci_low": eff["d_low"].astype(float).to_numpy(),
        "ci_high": eff["d_high"].astype(float).to_numpy(),
    })
    return plot_forest(
        frame, null=0.0, lang=ctx.lang, annotate=True,
        xlabel=Label("Gestandaardiseerd effect van het aanbod (d); positief = gunstig",
                     "Standardised effect of the offer (d); positive = favourable"),
        title=Label("Effect van het aanbod per doel op de primaire uitkomst, in "
                    "standaardafwijkingen, met 95%-betrouwbaarheidsintervallen",
                    "Effect of the offer per goal on the primary outcome, in standard "
                    "deviations, with 95% confidence intervals"))


def _effects_table(res: OverviewResults, ctx) -> Table:
    eff = res.effects[["outcome", "estimate", "ci_low", "ci_high", "df", "p", "d_fav"]]
    labels = {**_goal_labels(res, ctx), **{c: ctx.programme.measures[c].name for c in eff["outcome"]}}
    return Table(
        frame=eff,
        columns=(
            Column("outcome", "Primaire uitkomst", "Primary outcome", kind="text"),
            Column("estimate", "b", "b"),
            Column("ci_low", "95%-BI", "95% CI", kind="ci", source_high="ci_high"),
            Column("df", "df", "df", kind="df"),
            Column("p", "p", "p", kind="p"),
            Column("d_fav", "d", "d"),
        ),
        title_nl="Effect van het ondersteuningsaanbod per doel op de primaire uitkomst",
        title_en="Effect of the support offer per goal on the primary outcome",
        note_nl=("b = verschil met en zonder aanbod op de schaal van de uitkomst (niet onderling "
                 "vergelijkbaar tussen doelen); uit één multilevelmodel per uitkomst over alle "
                 "organisaties, df volgens Satterthwaite (1946); BI = betrouwbaarheidsinterval; "
                 "d = b gedeeld door de totale standaardafwijking van het model, positief = "
                 "gunstig."),
        note_en=("b = difference with and without the offer on the outcome's scale (not "
                 "comparable between goals); from one multilevel model per outcome over all "
                 "organisations, Satterthwaite (1946) df; CI = confidence interval; d = b "
                 "divided by the model's total standard deviation, positive = favourable."),
        stub_nl=("Doel",),
        stub_en=("Goal",),
        labels=labels,
    )


def _sample_table(res: OverviewResults, ctx) -> Table:
    samp = res.sample
    counts = pd.DataFrame({c: samp["families"].fillna(0) + samp["professionals"].fillna(0)
                           for c in samp.columns})
    sup = suppress_small_cells(samp, counts, res.k)
    return Table(
        frame=samp.mask(sup.mask),
        columns=(
            Column("organisations", "Organisaties", "Organisations", kind="int"),
            Column("teams", "Teams", "Teams", kind="int"),
            Column("professionals", "Professionals (T0)", "Professionals (T0)", kind="int"),
            Column("families", "Gezinnen (T0)", "Families (T0)", kind="int"),
        ),
        title_nl="Steekproef per doel",
        title_en="Sample per goal",
        note_nl="Aantallen op het eerste meetmoment; details en uitval staan in de doelrapporten.",
        note_en="Numbers at the first wave; details and dropout are in the goal reports.",
        stub_nl=("Doel",),
        stub_en=("Goal",),
        labels=_goal_labels(res, ctx),
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def overview_sections(res: OverviewResults, ctx) -> list[Section]:
    """The overview's sections (the methods section is added by the caller)."""
    blocks: list = [_paragraph(res, ctx), _forest(res, ctx), _effects_table(res, ctx),
                    _sample_table(res, ctx)]
    return [Section(ctx.heading("overview"), blocks),
            Section(ctx.heading("conclusions"), [Conclusions()])]
