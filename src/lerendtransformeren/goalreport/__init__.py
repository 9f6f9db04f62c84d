"""The goal reports of Lerend Transformeren: the application on top of every other layer.

A goal report is made in two steps:

1. :func:`analyse_goal` computes every number the report shows into a
   :class:`GoalResults` (fits come from a per-study :class:`FitCache`, fitted ahead in
   worker processes by :meth:`FitCache.prefit`);
2. the sections of :mod:`~lerendtransformeren.goalreport.sections` write those numbers
   as text, tables and figures in Dutch or English, without fitting or computing.

:func:`build_goal_report` and :func:`build_overview` give documents; :func:`run_reports`
is the main job (``lerendtransformeren report``).
"""

from __future__ import annotations

from lerendtransformeren.goalreport.analyse import DEFAULT_SEED, GoalResults, analyse_goal, goal_specs
from lerendtransformeren.goalreport.build import build_goal_report, build_overview
from lerendtransformeren.goalreport.fits import FitCache, GeeSpec, GlmmSpec, ImputeSpec, LmmSpec, ReliabilitySpec
from lerendtransformeren.goalreport.overview import OverviewResults, analyse_overview
from lerendtransformeren.goalreport.run import FORMATS, goal_stem, run_reports
from lerendtransformeren.study.data import StudyData, load_study

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
