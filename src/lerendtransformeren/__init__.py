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

import importlib
from typing import TYPE_CHECKING

# The facade loads nothing until a name is asked for (PEP 562 module ``__getattr__``):
# ``import lerendtransformeren`` takes a few milliseconds, and ``lt.fit``, ``lt.scales``,
# ``from lerendtransformeren import read_table`` load just the subpackage that holds the
# name, with what it needs (scipy for the models, statsmodels only for GEE and the
# statsmodels engine, the report layer's matplotlib and python-docx only for ``lt.report``).
# The worker processes of a power simulation load only what a refit needs.

#: The subpackages and modules reachable as attributes (``lt.multilevel``).
#: ``display`` is reachable as ``lt.display`` but not in __all__: ``from lerendtransformeren
#: import *`` in a notebook must not hide IPython's display() function.
_SUBMODULES = frozenset({
    "design", "display", "exceptions", "goalreport", "io", "lang", "multilevel", "presenters",
    "report", "scales", "study", "synthetic", "vocabulary",
})

#: Every other public name -> the module it comes from.
_NAMES = {
    **dict.fromkeys(("GOALS", "Validated", "ValidationReport", "goals_table", "validate"),
                    "lerendtransformeren.design"),
    "set_display": "lerendtransformeren.display",
    **dict.fromkeys(("ConvergenceError", "DataError", "FamilyWarning", "SingularFitWarning",
                     "SpecificationError"), "lerendtransformeren.exceptions"),
    **dict.fromkeys(("TableRead", "read_codebook", "read_table", "write_table"), "lerendtransformeren.io"),
    **dict.fromkeys(("GLMMResult", "Imputed", "MultilevelResult", "fit", "fit_gee", "impute"),
                    "lerendtransformeren.multilevel"),
}

if TYPE_CHECKING:  # what the names are, for type checkers and editors (and tests/test_layers.py)
    from lerendtransformeren import design, display, exceptions, goalreport, io, multilevel, report
    from lerendtransformeren import scales, study, synthetic
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

    __version__: str


def __getattr__(name: str):
    if name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    elif name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name]), name)
    elif name == "__version__":
        value = _version()
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next look-up finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES | set(_NAMES) | {"__version__"})


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # 40 ms: only when asked

    try:
        return version("lerendtransformeren")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+unknown"


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
