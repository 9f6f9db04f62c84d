"""The programme as data: what Lerend Transformeren measures, per goal, and its words.

- :mod:`~lerendtransformeren.study.programme`: measures, goal plans, groupings,
  respondents and model templates as frozen dataclasses (:data:`LERENDTRANSFORMEREN`);
- :mod:`~lerendtransformeren.study.vocabulary`: the programme's words in Dutch and English;
- :mod:`~lerendtransformeren.study.data`: a study's files read and scored once.

The layers below (io, design, scales, multilevel, report) know nothing of this programme;
another programme brings its own :class:`Programme` and reuses them unchanged.
"""

from __future__ import annotations

from lerendtransformeren.study.data import BUNDLED, StudyData, as_study, load_study
from lerendtransformeren.study.programme import (
    LERENDTRANSFORMEREN,
    GoalPlan,
    Grouping,
    Measure,
    ModelTemplates,
    Programme,
    Respondent,
)

__all__ = [
    "BUNDLED",
    "StudyData",
    "as_study",
    "load_study",
    "LERENDTRANSFORMEREN",
    "GoalPlan",
    "Grouping",
    "Measure",
    "ModelTemplates",
    "Programme",
    "Respondent",
]
