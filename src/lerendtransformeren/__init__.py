"""lerendtransformeren: action-research toolkit for Dutch youth care.

The public API in one place (kept small and stable):

- reading, checking and writing data: :func:`read_table`, :func:`read_codebook`, :func:`validate`,
  :func:`write_table`; a whole study through its definition: ``study.load_study("study.yaml")``;
- the study design: :data:`GOALS`, :func:`goals_table`;
- questionnaires: the :mod:`scales` subpackage (``scales.score``, ``scales.reliability``,
  ``scales.reliable_change``...);
- multilevel models: :func:`fit` (exact nested REML, Satterthwaite or Kenward-Roger df; with
  ``family="binomial"`` or ``"poisson"`` an exact nested GLMM as glmer) and the
  :mod:`multilevel` subpackage (GEE, power planning); :func:`impute`: multilevel multiple
  imputation (a joint model with random intercepts at every level) whose data sets
  :func:`fit` pools;
- reports: the :mod:`report` subpackage (tables with small-cell suppression, figures,
  Dutch/English text, HTML/Word/Markdown);
- the programme as data: :mod:`study` (measures, goal plans, loading a study folder);
- the goal reports: :mod:`goalreport` (``analyse_goal``, ``build_goal_report``, ``run_reports``);
- the synthetic study: :mod:`synthetic` (``synthetic.generate(seed)``);
- errors and warnings: :mod:`exceptions`;
- how results show themselves in a terminal and in Jupyter: :func:`set_display` (the language
  of report tables and the rows shown of a data frame), :mod:`display`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lerendtransformeren")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

import importlib
from typing import TYPE_CHECKING

# ``display`` is reachable as ``lt.display`` but not in __all__: ``from lerendtransformeren
# import *`` in a notebook must not hide IPython's display() function.
from lerendtransformeren import design, display, exceptions, io, multilevel, scales, synthetic
from lerendtransformeren.design import GOALS, Validated, ValidationReport, goals_table, validate
from lerendtransformeren.display import set_display
from lerendtransformeren.exceptions import (
    ConvergenceError,
    DataError,
    FamilyWarning,
    SingularFitWarning,
    SpecificationError,
)
from lerendtransformeren.io import TableRead, read_codebook, read_table, write_table
from lerendtransformeren.multilevel import GLMMResult, Imputed, MultilevelResult, fit, fit_gee, impute

if TYPE_CHECKING:
    from lerendtransformeren import goalreport, report, study


def __getattr__(name: str):
    # The report layer (matplotlib, seaborn, jinja2, python-docx) loads on first use of
    # ``lt.report``: scoring and model fitting, and every worker process of a power
    # simulation, start without it (about 2 s less per process).
    if name in ("report", "study", "goalreport"):
        return importlib.import_module(f"lerendtransformeren.{name}")
    raise AttributeError(f"module 'lerendtransformeren' has no attribute {name!r}")

__all__ = [
    "__version__",
    "design",
    "set_display",
    "exceptions",
    "io",
    "report",
    "study",
    "goalreport",
    "multilevel",
    "scales",
    "synthetic",
    "GOALS",
    "goals_table",
    "read_table",
    "read_codebook",
    "write_table",
    "TableRead",
    "validate",
    "fit",
    "fit_gee",
    "impute",
    "Imputed",
    "MultilevelResult",
    "GLMMResult",
    "Validated",
    "ValidationReport",
    "DataError",
    "SpecificationError",
    "ConvergenceError",
    "SingularFitWarning",
    "FamilyWarning",
]
