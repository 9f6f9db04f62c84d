"""lerendtransformeren: action-research toolkit for Dutch youth care.

The public API in one place (kept small and stable):

- reading and checking data: :func:`read_table`, :func:`read_codebook`, :func:`validate`;
- the study design: :data:`GOALS`, :func:`goals_table`;
- questionnaires: the :mod:`scales` subpackage (``scales.score``, ``scales.reliability``,
  ``scales.reliable_change``...);
- the synthetic study: :mod:`synthetic` (``synthetic.generate(seed)``);
- errors and warnings: :mod:`exceptions`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lerendtransformeren")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from lerendtransformeren import design, exceptions, io, scales, synthetic
from lerendtransformeren.design import GOALS, Validated, ValidationReport, goals_table, validate
from lerendtransformeren.exceptions import (
    ConvergenceError,
    DataError,
    SingularFitWarning,
    SpecificationError,
)
from lerendtransformeren.io import TableRead, read_codebook, read_table

__all__ = [
    "__version__",
    "design",
    "exceptions",
    "io",
    "scales",
    "synthetic",
    "GOALS",
    "goals_table",
    "read_table",
    "read_codebook",
    "TableRead",
    "validate",
    "Validated",
    "ValidationReport",
    "DataError",
    "SpecificationError",
    "ConvergenceError",
    "SingularFitWarning",
]
