"""lerendtransformeren: action-research toolkit for Dutch youth care."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lerendtransformeren")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from lerendtransformeren import design, exceptions
from lerendtransformeren.design import GOALS, goals_table
from lerendtransformeren.exceptions import (
    ConvergenceError,
    DataError,
    SingularFitWarning,
    SpecificationError,
)

__all__ = [
    "__version__",
    "design",
    "exceptions",
    "GOALS",
    "goals_table",
    "DataError",
    "SpecificationError",
    "ConvergenceError",
    "SingularFitWarning",
]
