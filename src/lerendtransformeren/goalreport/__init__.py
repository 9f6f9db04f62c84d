"""The goal reports of Lerend Transformeren: the application on top of every other layer.

A goal report is made in two steps:

1. :func:`analyse_goal` computes every number the report shows into a
   :class:`GoalResults` (fits come from a per-study :class:`FitCache`, fitted in worker
   processes by :meth:`FitCache.fitting` while the reports are written);
2. the sections of :mod:`~lerendtransformeren.goalreport.sections` write those numbers
   as text, tables and figures in Dutch or English, without fitting or computing.

:func:`build_goal_report` and :func:`build_overview` give documents; :func:`run_reports`
is the main job (``lerendtransformeren report``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from lerendtransformeren.goalreport.analyse import DEFAULT_SEED, GoalResults, analyse_goal, goal_specs
from lerendtransformeren.goalreport.fits import FitCache, GeeSpec, GlmmSpec, ImputeSpec, LmmSpec, ReliabilitySpec
from lerendtransformeren.goalreport.run import FORMATS, goal_stem, run_reports
from lerendtransformeren.study.data import StudyData, load_study

if TYPE_CHECKING:
    from lerendtransformeren.goalreport.build import build_goal_report, build_overview
    from lerendtransformeren.goalreport.overview import OverviewResults, analyse_overview

__all__ = [
    "DEFAULT_SEED",
    "FORMATS",
    "FitCache",
    "GeeSpec",
    "GlmmSpec",
    "GoalResults",
    "ImputeSpec",
    "LmmSpec",
    "OverviewResults",
    "ReliabilitySpec",
    "StudyData",
    "analyse_goal",
    "analyse_overview",
    "build_goal_report",
    "build_overview",
    "goal_specs",
    "goal_stem",
    "load_study",
    "run_reports",
]

#: Names whose modules load the report layer (matplotlib, python-docx, jinja2): they load on
#: first use, so that ``run_reports`` starts its worker processes before that import.
_WRITING = {
    "build_goal_report": "build",
    "build_overview": "build",
    "OverviewResults": "overview",
    "analyse_overview": "overview",
}


def __getattr__(name: str):
    if name in _WRITING:
        return getattr(importlib.import_module(f"lerendtransformeren.goalreport.{_WRITING[name]}"), name)
    raise AttributeError(f"module 'lerendtransformeren.goalreport' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WRITING))
