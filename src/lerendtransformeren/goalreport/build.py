"""Goal reports and the cross-goal overview as documents: analyse, then write.

:func:`build_goal_report` is two steps: :func:`~.analyse.analyse_goal` computes the
numbers, then the sections of :data:`~.sections.GOAL_SECTIONS` write them. The methods
section closes with a reference list made from the citations in the text.
"""

from __future__ import annotations

import re

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

from lerendtransformeren.goalreport import sections as S
from lerendtransformeren.goalreport.analyse import DEFAULT_SEED, GoalResults, analyse_goal
from lerendtransformeren.goalreport.overview import analyse_overview, overview_sections
from lerendtransformeren.report.references import reference_list
from lerendtransformeren.lang import Label, check_lang
from lerendtransformeren.report.figures import Figure
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.document import Document, Section
from lerendtransformeren.report.format import fmt_count
from lerendtransformeren.report.tables import Table
from lerendtransformeren.study.data import StudyData, as_study

__all__ = ["build_goal_report", "build_overview", "document_texts"]


def _context(study: StudyData, goal: int | None, lang: str, seed: int, date) -> S.Context:
    provenance = collect_provenance(date=date or _dt.date.today(), inputs=study.inputs, seed=seed)
    g = study.programme.goal(goal) if goal is not None else None
    return S.Context(lang, study.programme, g, provenance, study.synthetic, len(study.inputs),
                     _without_identifiers(study.notes, study.identifiers))


def _without_identifiers(notes, identifiers) -> tuple[str, ...]:
    """The gate's notes for the data section, every identifier replaced by '[id]'."""
    ids = set(identifiers)

    def clean(note: str) -> str:
        return re.sub(r"[\w-]+", lambda m: "[id]" if m.group(0) in ids else m.group(0), note)

    # how the files were parsed (separator, decimal mark) is for validate, not for the reader
    parsing = re.compile(r"(separator|decimal) .*detected")
    return tuple(clean(n) for n in notes if not parsing.search(n))


def document_texts(sections: Sequence[Section]) -> list[str]:
    """Every running text, table note and figure caption of the sections (for citations)."""
    out: list[str] = []
    for section in sections:
        for block in section.blocks:
            if isinstance(block, str):
                out.append(block)
            elif isinstance(block, Table):
                out += [block.note_nl, block.note_en]
            elif isinstance(block, Figure):
                out += [block.caption_nl, block.caption_en]
        out += document_texts(section.subsections)
    return out


def _methods(blocks: list, sections: list[Section], ctx: S.Context) -> Section:
    refs = reference_list(document_texts(sections) + [b for b in blocks if isinstance(b, str)])
    subsections = [Section(ctx.heading("references"), refs)] if refs else []
    return Section(ctx.heading("methods"), blocks, subsections)


def _memo_figures(sections: Sequence[Section]) -> None:
    """Render each figure's PNG once, however many formats the document is written in."""
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Figure) and "to_png" not in vars(block):
                render, cache = block.to_png, {}

                def to_png(dpi: int = 150, _render=render, _cache=cache) -> bytes:
                    if dpi not in _cache:
                        _cache[dpi] = _render(dpi)
                    return _cache[dpi]

                block.to_png = to_png
        _memo_figures(section.subsections)


def write_goal_sections(res: GoalResults, ctx: S.Context) -> list[Section]:
    """The sections of a goal report from its results (no fitting, no computing)."""
    if not res.present:
        reason = Label("geen respondenten", "no respondents") if not res.samples else Label(
            "geen van de uitkomsten van dit doel is gemeten", "none of this goal's outcomes was measured")
        return S.no_data_sections(ctx, reason)
    sections = [s for s in (write(res, ctx) for write in S.GOAL_SECTIONS) if s is not None]
    sections.append(_methods(S.methods_blocks(res, ctx), sections, ctx))
    return sections


def _title(goal, lang: str, synthetic: bool) -> tuple[str, str]:
    title = Label(f"Rapportage doel {goal.code}: {goal.name_nl}",
                  f"Report goal {goal.code}: {goal.name_en}").pick(lang)
    subtitle = goal.workplace
    if synthetic:
        subtitle += " \u2014 " + Label("synthetische (fictieve) gegevens",
                                       "synthetic (fictitious) data").pick(lang)
    return title, subtitle


def build_goal_report(
    study_or_dir: StudyData | str | Path | None,
    goal: int,
    *,
    lang: str = "nl",
    k: int = 5,
    seed: int = DEFAULT_SEED,
    date: _dt.date | str | None = None,
    impute: int | None = None,
    jobs: int = 1,
) -> Document:
    """The report of one transformation goal as a :class:`Document`.

    Render it with :func:`lerendtransformeren.report.write_document`.

    Parameters
    ----------
    study_or_dir : StudyData, path or None
        A loaded study (fits are cached on it and reused), a study folder, or None for
        the bundled synthetic study.
    goal : int
        Transformation goal, 1..5.
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Minimum number of respondents behind every shown statistic.
    seed : int
        Seed of the bootstrap intervals of omega.
    date : date or str, optional
        Date in the provenance block; default today.
    impute : int, optional
        Add the imputation sensitivity analysis of the primary outcome with this many
        imputed data sets (at least 2; seeded by ``seed``); None (default): without it.
    jobs : int, default 1
        Worker processes for the imputation chains (the numbers do not depend on it).

    Returns
    -------
    Document

    Raises
    ------
    SpecificationError
        Unknown goal or language.
    DataError
        The data cannot be read.
    """
    check_lang(lang)
    study = as_study(study_or_dir)
    res = analyse_goal(study, goal, k=k, seed=seed, impute=impute, jobs=jobs)
    ctx = _context(study, goal, lang, seed, date)
    sections = write_goal_sections(res, ctx)
    _memo_figures(sections)
    title, subtitle = _title(ctx.goal, lang, study.synthetic)
    return Document(title=title, lang=lang, sections=sections, provenance=ctx.provenance,
                    subtitle=subtitle)


def build_overview(
    study_or_dir: StudyData | str | Path | None = None,
    goals: Sequence[int] | None = None,
    *,
    lang: str = "nl",
    k: int = 5,
    seed: int = DEFAULT_SEED,
    date: _dt.date | str | None = None,
) -> Document:
    """A short cross-goal overview for the learning community.

    A forest plot and a table of the offer effect on each goal's primary outcome (from the
    same models as the goal reports), a table of the sample per goal, and a paragraph on
    how to read them.

    Parameters
    ----------
    study_or_dir : StudyData, path or None
    goals : sequence of int, optional
        Goals to include (default: every goal with data).
    lang, k, seed, date
        As in :func:`build_goal_report`.

    Returns
    -------
    Document
    """
    check_lang(lang)
    study = as_study(study_or_dir)
    res = analyse_overview(study, goals, k=k)
    ctx = _context(study, None, lang, seed, date)
    sections = overview_sections(res, ctx)
    sections.append(_methods(S.privacy_and_data(k, ctx), sections, ctx))
    _memo_figures(sections)
    n = len(res.goals)
    what = Label(fmt_count(n, "nl"), fmt_count(n, "en"))
    if n == 1:
        title = Label(f"Lerend Transformeren: overzicht van doel {res.goals[0]}",
                      f"Lerend Transformeren: overview of goal {res.goals[0]}")
    elif n == len(study.programme.plans):
        title = Label(f"Lerend Transformeren: overzicht van de {what.nl} transformatiedoelen",
                      f"Lerend Transformeren: overview of the {what.en} transformation goals")
    else:
        title = Label(f"Lerend Transformeren: overzicht van {what.nl} transformatiedoelen",
                      f"Lerend Transformeren: overview of {what.en} transformation goals")
    return Document(title=title.pick(lang), lang=lang, sections=sections, provenance=ctx.provenance,
                    subtitle=Label("Voor de lerende gemeenschap", "For the learning community").pick(lang))
