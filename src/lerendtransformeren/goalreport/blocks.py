"""Tables and phrases of the goal reports, built from computed results (no fitting here).

Each function turns numbers that the analysis step computed into a report block: an APA
:class:`~lerendtransformeren.report.tables.Table` or a phrase in one language. The
generic blocks (sample and descriptive tables, figures, sentences on a fixed effect) come
from :mod:`lerendtransformeren.report`; what is here is specific to the goal reports.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace

import pandas as pd

from lerendtransformeren.lang import Label
from lerendtransformeren.report.figures import RC_CATEGORIES
from lerendtransformeren.report.format import MISSING, fmt_ci, fmt_df, fmt_int, fmt_num, fmt_p
from lerendtransformeren.report.suppress import pseudonymise, suppress_small_cells
from lerendtransformeren.report.tables import Column, Table, fixed_effects_table
from lerendtransformeren.study import vocabulary as V
from lerendtransformeren.study.programme import Grouping, Measure

__all__ = [
    "org_labels",
    "design_table",
    "group_table",
    "term_labels",
    "effects_table",
    "ratio_table",
    "rc_table",
    "stat",
    "ratio_stat",
    "reading",
    "with_note",
    "with_title",
]

RC_ORDER = ("deteriorated", "unchanged", "improved", "recovered")


def org_labels(ids: Sequence[object], lang: str) -> dict[str, str]:
    """Organisation ids -> neutral names ("organisatie A"), in sorted order of the ids."""
    ids = sorted({str(o) for o in ids})
    return dict(zip(ids, pseudonymise(pd.Series(ids), lang).tolist()))


def design_table(orgs: pd.DataFrame, waves: Sequence[int], lang: str) -> Table:
    """The stepped-wedge schedule: + where an organisation had the offer at a wave."""
    names = org_labels(orgs["organisation"], lang)
    rows = {}
    for _, row in orgs.sort_values("organisation").iterrows():
        start = row["start_wave"]
        cells = {f"T{w}": ("on" if pd.notna(start) and w >= start else "off") for w in waves}
        cells["start"] = f"T{int(start)}" if pd.notna(start) else MISSING
        rows[names[str(row["organisation"])]] = cells
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "organisation"
    columns = tuple(Column(f"T{w}", f"T{w}", f"T{w}", kind="text") for w in waves)
    columns += (Column("start", "Start aanbod", "Start of offer", kind="text"),)
    return Table(
        frame=frame,
        columns=columns,
        title_nl="Stepped-wedge-schema: wanneer elke organisatie met het aanbod begon",
        title_en="Stepped-wedge schedule: when each organisation started the offer",
        note_nl=("+ = meetmoment met het ondersteuningsaanbod; - = nog zonder aanbod. De "
                 "organisaties zijn aangeduid met een letter."),
        note_en=("+ = wave with the support offer; - = not yet with the offer. Organisations "
                 "are shown by a letter."),
        stub_nl=("Organisatie",),
        stub_en=("Organisation",),
        labels={"on": Label.same("+"), "off": Label.same("-")},
    )


def group_table(stats: pd.DataFrame, measure: Measure, grouping: Grouping, k: int) -> Table:
    """n, M, SD of one measure per group and offer condition, small cells suppressed."""
    conditions = list(dict.fromkeys(c for c, _ in stats.columns))
    counts = stats[[(c, "n") for c in conditions]].droplevel(1, axis=1)
    # both margins are published: the n per group over the conditions can be summed from
    # this table, and the n per condition over all groups stands in the descriptives table
    sup = suppress_small_cells(stats, counts, k, margins="both")
    frame = stats.mask(sup.mask)
    columns = []
    for c in conditions:
        s = V.CONDITIONS[c]
        columns += [
            Column((c, "n"), "n", "n", kind="int", spanner_nl=s.nl, spanner_en=s.en),
            Column((c, "mean"), "M", "M", spanner_nl=s.nl, spanner_en=s.en),
            Column((c, "sd"), "SD", "SD", spanner_nl=s.nl, spanner_en=s.en),
        ]
    title = Label("{} naar {} en conditie", "{} by {} and condition")
    return Table(
        frame=frame,
        columns=tuple(columns),
        title_nl=title.nl.format(measure.name.cap().nl, grouping.name.nl),
        title_en=title.en.format(measure.name.cap().en, grouping.name.en),
        note_nl=("Alle meetmomenten samen; n = aantal metingen. Het verschil tussen de condities "
                 "bevat ook de verandering over de tijd (metingen met aanbod liggen later); het "
                 "model in de tekst corrigeert daarvoor."),
        note_en=("All waves together; n = number of measurements. The difference between the "
                 "conditions also contains change over time (measurements with the offer come "
                 "later); the model in the text corrects for that."),
        stub_nl=(grouping.name.cap().nl,),
        stub_en=(grouping.name.cap().en,),
        labels=grouping.labels,
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def term_labels(fixed_index: Sequence[str]) -> dict[Hashable, Label]:
    """Row labels of the programme's model terms (waves, goals, offer per goal)."""
    labels: dict[Hashable, Label] = {}
    for term in fixed_index:
        if term.startswith("C(wave)[T."):
            w = term[len("C(wave)[T."):-1]
            labels[term] = Label(f"Meetmoment T{w} (t.o.v. T0)", f"Wave T{w} (vs T0)")
        elif term.startswith("C(goal)[T."):
            g = term[len("C(goal)[T."):-1]
            labels[term] = Label(f"Doel {g} (t.o.v. doel 1)", f"Goal {g} (vs goal 1)")
        elif term.startswith("C(goal)[") and term.endswith("]:offer"):
            g = term[len("C(goal)["):-len("]:offer")]
            labels[term] = Label(f"Aanbod \u00d7 doel {g}", f"Offer \u00d7 goal {g}")
        elif term == "offer":
            labels[term] = Label("Aanbod", "Offer")
    return labels


def effects_table(rows: Mapping[str, pd.Series], measures: Mapping[str, Measure], goal: int) -> Table:
    """The goal's offer effect per scale (b, SE, df, t, p, CI) from the pooled models."""
    frame = pd.DataFrame(rows).T[["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]].astype(float)
    table = fixed_effects_table(frame, {c: measures[c].name for c in rows})
    return Table(
        frame=table.frame,
        columns=table.columns,
        title_nl=f"Effect van het ondersteuningsaanbod in doel {goal}, per uitkomst",
        title_en=f"Effect of the support offer in goal {goal}, per outcome",
        note_nl=("b = verschil tussen metingen met en zonder aanbod in de organisaties van dit "
                 "doel, gecorrigeerd voor meetmoment (op de schaal van de uitkomst); uit het "
                 "multilevelmodel over alle organisaties. " + table.note_nl.split("; ", 1)[1]),
        note_en=("b = difference between measurements with and without the offer in this goal's "
                 "organisations, adjusted for wave (on the outcome's scale); from the multilevel "
                 "model over all organisations. " + table.note_en.split("; ", 1)[1]),
        stub_nl=("Uitkomst",),
        stub_en=("Outcome",),
        labels=table.labels,
    )


def ratio_table(rows: Mapping[str, pd.Series], measures: Mapping[str, Measure], goal: int) -> Table:
    """The goal's offer effect on yes/no and count outcomes (GEE): ratio, CI, b, SE, df, p."""
    frame = pd.DataFrame(rows).T
    frame = frame[["exp_estimate", "exp_ci_low", "exp_ci_high", "estimate", "se", "df", "p"]].astype(float)
    frame.index.name = "outcome"
    kinds = {measures[c].kind for c in rows}
    head_nl = "/".join(V.RATIOS[k][1].nl for k in ("binary", "count") if k in kinds)
    head_en = "/".join(V.RATIOS[k][1].en for k in ("binary", "count") if k in kinds)
    notes = {
        "binary": Label("OR = oddsratio (ja/nee-uitkomsten)", "OR = odds ratio (yes/no outcomes)"),
        "count": Label("IRR = incidentieratio: de verhouding van de gemiddelde aantallen",
                       "IRR = incidence rate ratio: the ratio of the mean counts"),
    }
    said = [notes[k] for k in ("binary", "count") if k in kinds]
    scale = {frozenset({"binary"}): Label("logitschaal", "logit scale"),
             frozenset({"count"}): Label("logschaal", "log scale")}.get(
        frozenset(kinds), Label("logit- of logschaal", "logit or log scale"))
    return Table(
        frame=frame,
        columns=(
            Column("exp_estimate", head_nl, head_en),
            Column("exp_ci_low", "95%-BI", "95% CI", kind="ci", source_high="exp_ci_high"),
            Column("estimate", "b", "b"),
            Column("se", "SE", "SE"),
            Column("df", "df", "df", kind="df"),
            Column("p", "p", "p", kind="p"),
        ),
        title_nl=f"Effect van het aanbod in doel {goal} op zorguitkomsten (GEE)",
        title_en=f"Effect of the offer in goal {goal} on care outcomes (GEE)",
        note_nl=("; ".join(n.nl for n in said) + f"; 1 = geen verschil. b = schatting op de "
                 f"{scale.nl} met SE volgens Mancl en DeRouen (2001), organisaties als "
                 "clusters. df = aantal organisaties min de parameters op organisatieniveau."),
        note_en=("; ".join(n.en for n in said) + f"; 1 = no difference. b = estimate on the "
                 f"{scale.en} with SE after Mancl and DeRouen (2001), organisations as clusters. "
                 "df = number of organisations minus the organisation-level parameters."),
        stub_nl=("Uitkomst",),
        stub_en=("Outcome",),
        labels={c: measures[c].name for c in rows},
    )


def rc_table(categories: pd.Series, k: int, with_cutoff: bool) -> Table:
    """Counts and shares per reliable-change category (no 'recovered' without a cut-off)."""
    shown = [c for c in RC_ORDER if with_cutoff or c != "recovered"]
    counts = categories.value_counts().reindex(shown, fill_value=0).astype(float)
    frame = pd.DataFrame({"n": counts, "share": counts / counts.sum()})
    frame.index.name = "category"
    cnt = pd.DataFrame({"n": counts, "share": counts})
    # the total is published: secondary suppression over the column of counts
    sup = suppress_small_cells(frame, cnt, k, margins="columns")
    frame = frame.mask(sup.mask)
    return Table(
        frame=frame,
        columns=(
            Column("n", "n", "n", kind="int"),
            Column("share", "Percentage", "Percentage", kind="pct", digits=1),
        ),
        title_nl="Betrouwbare verandering van eerste naar laatste meting",
        title_en="Reliable change from the first to the last measurement",
        note_nl=f"Totaal: {fmt_int(counts.sum(), 'nl')} respondenten met beide metingen.",
        note_en=f"Total: {fmt_int(counts.sum(), 'en')} respondents with both measurements.",
        stub_nl=("Categorie",),
        stub_en=("Category",),
        labels=dict(RC_CATEGORIES),
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def with_note(table: Table, note: Label) -> Table:
    """The table with ``note`` appended to its note."""
    return replace(table, note_nl=table.note_nl + note.nl, note_en=table.note_en + note.en)


def with_title(table: Table, title: Label) -> Table:
    return replace(table, title_nl=title.nl, title_en=title.en)


def for_whom(table: Table, respondents: Label) -> Table:
    """The table with its respondents after its title: 'Steekproef ...: gezinnen'."""
    return replace(table, title_nl=f"{table.title_nl}: {respondents.nl}",
                   title_en=f"{table.title_en}: {respondents.en}")


# --- phrases ---------------------------------------------------------------------------------


def _statistic(name: str, row: pd.Series, prefix: str, test: str, lang: str, digits: int = 2) -> str:
    """'<name> <estimate> (95%-BI [low; high]; <test>; p)' from the columns ``prefix``estimate,
    ``prefix``ci_low and ``prefix``ci_high; ``test`` is 't' (with df) or 'z'."""
    ci = fmt_ci(row[f"{prefix}ci_low"], row[f"{prefix}ci_high"], digits, lang)
    stat = (f"t({fmt_df(row['df'], lang)}) = {fmt_num(row['t'], 2, lang)}" if test == "t"
            else f"z = {fmt_num(row['z'], 2, lang)}")
    return (f"{name} {fmt_num(row[f'{prefix}estimate'], digits, lang)} ({V.CI95.pick(lang)} {ci}; "
            f"{stat}; {fmt_p(row['p'], lang, prefix=True)})")


def stat(row: pd.Series, lang: str, digits: int = 2) -> str:
    """'b = 1,20 (95%-BI [0,84; 1,57]; t(5744,7) = 6,48; p < ,001)'"""
    return _statistic("b =", row, "", "t", lang, digits)


def ratio_stat(row: pd.Series, kind: str, lang: str) -> str:
    """'oddsratio 0,58 (95%-BI [0,36; 0,92]; t(12) = -2,31; p = ,040)'"""
    return _statistic(V.RATIOS[kind][0].pick(lang), row, "exp_", "t", lang)


def ratio_z_stat(row: pd.Series, kind: str, lang: str) -> str:
    """'oddsratio 0,58 (95%-BI [0,36; 0,92]; z = -2,31; p = ,021)': a GLMM's Wald test."""
    return _statistic(V.RATIOS[kind][0].pick(lang), row, "exp_", "z", lang)


def reading(est: float, low: float, high: float, higher_is_better: bool, lang: str,
            p: float | None = None, null: float = 0.0) -> str:
    """An honest reading of an interval against the no-effect value ``null`` (0 for a
    difference, 1 for a ratio), without overclaiming.

    >>> reading(0.58, 0.36, 0.92, False, "nl", p=0.04, null=1.0)
    'het interval ligt net aan de gunstige kant van 1; de bovengrens ligt dicht bij 1, dus het effect kan ook verwaarloosbaar klein zijn'
    >>> reading(-0.79, -1.56, -0.02, False, "en", p=0.045)
    'the interval lies just on the favourable side of zero; its upper bound is close to zero, so the effect may also be negligibly small'
    """
    zero = V.NULL_WORDS.get(null, Label.same(fmt_num(null, 0, lang))).pick(lang)
    if not (low > null or high < null):
        return V.READ_INCLUDES.pick(lang).format(null=zero)
    better = (est > null) == higher_is_better
    side = (V.FAVOURABLE if better else V.UNFAVOURABLE).pick(lang)
    if p is not None and p >= 0.01:
        bound = (V.UPPER if high < null else V.LOWER).pick(lang)
        return V.READ_JUST.pick(lang).format(side=side, null=zero, bound=bound)
    return V.READ_ENTIRELY.pick(lang).format(side=side, null=zero)
