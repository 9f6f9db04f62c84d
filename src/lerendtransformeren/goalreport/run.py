"""The main job: reports for the transformation goals, written to files, with progress.

:func:`run_reports` loads a study once and has worker processes fit every model the
chosen goal reports need (each distinct model once, in goal order); meanwhile it builds
the report of each goal as soon as that goal's models are in, then the cross-goal
overview, writes them as HTML, Word and/or Markdown with the one writer of the report
layer, and prints one line per goal.

Files are reproducible: the same input, seed and date give byte-identical files.
"""

from __future__ import annotations

import datetime as _dt
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.goalreport.analyse import DEFAULT_SEED, check_imputations, goal_specs
from lerendtransformeren.goalreport.fits import FitCache
from lerendtransformeren.lang import Label, check_lang
from lerendtransformeren.study.data import StudyData, load_study
from lerendtransformeren.study.programme import LERENDTRANSFORMEREN

__all__ = ["FORMATS", "run_reports", "goal_stem"]

#: Output formats, in the order they are written.
FORMATS: tuple[str, ...] = ("html", "docx", "md")


def goal_stem(goal: int) -> str:
    """File name of a goal report without suffix, e.g. ``goal1_preventie``.

    >>> goal_stem(3)
    'goal3_hulp_op_maat'
    """
    return f"goal{goal}_{LERENDTRANSFORMEREN.goal(goal).short}"


def _goals(goals: str | int | Sequence[int]) -> list[int]:
    if isinstance(goals, str):
        if goals.strip().lower() == "all":
            return sorted(LERENDTRANSFORMEREN.plans)
        try:
            goals = [int(g) for g in goals.split(",")]
        except ValueError:
            raise SpecificationError(f"goals={goals!r}: give 'all' or goal numbers 1..5.") from None
    elif isinstance(goals, int):
        goals = [goals]
    goals = list(dict.fromkeys(int(g) for g in goals))
    bad = [g for g in goals if g not in LERENDTRANSFORMEREN.plans]
    if bad or not goals:
        raise SpecificationError(f"Unknown goal(s) {bad}; transformation goals are numbered 1 to 5.")
    return goals


def _formats(formats: str | Iterable[str]) -> list[str]:
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise SpecificationError(f"Unknown format(s) {bad}; choose from {', '.join(FORMATS)}.")
    return [f for f in FORMATS if f in chosen]


def _import_shared() -> None:
    """Import what this process (the figures) and the fitting workers (pingouin, for alpha,
    loads the same) both need before the workers fork: once rather than in every process.
    The rest of the report layer (python-docx, jinja2) loads after the fork."""
    import scipy.stats  # noqa: F401
    import seaborn  # noqa: F401  (matplotlib.pyplot comes with it)


def run_reports(
    goals: str | int | Sequence[int] = "all",
    data_dir: str | Path | None = None,
    *,
    lang: str = "nl",
    formats: str | Iterable[str] = ("html", "docx"),
    out: str | Path = "reports",
    date: _dt.date | str | None = None,
    seed: int = DEFAULT_SEED,
    k: int = 5,
    overview: bool = True,
    study: StudyData | None = None,
    stream: TextIO | None = None,
    jobs: int = 2,
    impute: int | None = None,
) -> list[Path]:
    """Write the reports of the chosen goals and the cross-goal overview.

    Parameters
    ----------
    goals : "all", int or sequence of int, default "all"
    data_dir : path, optional
        Study folder; default the bundled synthetic study (made in memory by
        ``synthetic.generate()`` when the folder is not there).
    lang : {"nl", "en"}, default "nl"
    formats : iterable of {"html", "docx", "md"} or "html,docx", default ("html", "docx")
    out : path, default "reports"
    date : date or str, optional
        Date in the provenance block (default today).
    seed : int
        Seed of the bootstrap intervals.
    k : int, default 5
        Minimum number of respondents behind every shown statistic.
    overview : bool, default True
        Also write ``overview.<ext>``.
    study : StudyData, optional
        An already loaded study (its cached fits are reused); overrides ``data_dir``.
    stream : text stream, optional
        Where progress goes (default standard output).
    jobs : int, default 2
        Worker processes that fit the models (each distinct model once) while this
        process writes the reports; 1 fits them in this process. The files are the same
        either way.
    impute : int, optional
        Add to each goal report the imputation sensitivity analysis of its primary outcome
        with this many imputed data sets (at least 2; seeded by ``seed``). None (default):
        without it, and the files are as without this option.

    Returns
    -------
    list of Path
        Every file written: ``goal<n>_<slug>.<ext>`` per goal, then ``overview.<ext>``.
    """
    check_lang(lang)
    check_imputations(impute)
    chosen = _goals(goals)
    fmts = _formats(formats)
    date = date or _dt.date.today()
    stream = stream or sys.stdout
    start = time.perf_counter()
    study = study or load_study(data_dir)
    if study.notes:
        print(Label("Meldingen bij het inlezen:", "Notes from reading the data:").pick(lang), file=stream)
        for note in study.notes:
            print(f"  - {note}", file=stream)
    ids = study.identifiers
    specs = [spec for goal in chosen for spec in goal_specs(study, goal, seed=seed, k=k, impute=impute,
                                                                  jobs=jobs)]
    cache = FitCache.of(study)
    written: list[Path] = []
    if jobs > 1:
        _import_shared()
    # the workers fit the models in goal order while this process writes the reports
    with cache.fitting(specs, jobs=jobs) as todo:
        # the report layer loads now, while the workers fit
        from lerendtransformeren.goalreport.build import build_goal_report, build_overview
        from lerendtransformeren.report.format import fmt_num
        from lerendtransformeren.report.render import write_document

        for i, goal in enumerate(chosen, 1):
            t0 = time.perf_counter()
            doc = build_goal_report(study, goal, lang=lang, k=k, seed=seed, date=date, impute=impute,
                                    jobs=jobs)
            written += list(write_document(doc, out, goal_stem(goal), fmts, identifiers=ids).values())
            g = study.programme.goal(goal)
            seconds = fmt_num(time.perf_counter() - t0, 1, lang)
            line = Label("[{}/{}] doel {}: {} ... klaar ({}; {} s)", "[{}/{}] goal {}: {} ... done ({}; {} s)")
            print(line.pick(lang).format(i, len(chosen), goal, Label(g.name_nl, g.name_en).pick(lang),
                                         ", ".join(fmts), seconds), file=stream, flush=True)
        if overview:
            doc = build_overview(study, chosen, lang=lang, k=k, seed=seed, date=date)
            written += list(write_document(doc, out, "overview", fmts, identifiers=ids).values())
            line = Label("overzicht ... klaar ({})", "overview ... done ({})")
            print(line.pick(lang).format(", ".join(fmts)), file=stream, flush=True)
        for spec in todo:  # every model of the chosen goals ends up in the study's cache
            cache.get(spec)
    done = Label("{} modellen geschat.", "{} models fitted.")
    print(done.pick(lang).format(len(dict.fromkeys(specs))), file=stream, flush=True)
    total = fmt_num(time.perf_counter() - start, 1, lang)
    line = Label("{} bestanden geschreven naar {} in {} s.", "{} files written to {} in {} s.")
    print(line.pick(lang).format(len(written), out, total), file=stream, flush=True)
    return written
