"""Multilevel (mixed) models for nested action-research data.

- :func:`fit`: linear mixed models with nested random effects (exact REML/ML,
  Satterthwaite or Kenward-Roger df); with ``family="binomial"`` or ``"poisson"`` nested
  GLMMs as lme4's glmer (:mod:`~lerendtransformeren.multilevel.glmm`); :func:`lrt` to
  compare models;
- :func:`icc`, :func:`null_icc`, :func:`r2`, :func:`standardized_effect`: effect sizes;
  :func:`bootstrap_icc_r2` (``result.icc_r2_ci()``): parametric-bootstrap intervals of
  the ICC per level and of R2;
- :func:`cr2`: cluster-robust (Bell-McCaffrey CR2) sensitivity analysis of the fixed effects;
- :func:`fit_gee`: population-averaged models for binary and count outcomes with
  small-sample corrections and t df from the clusters;
- :mod:`~lerendtransformeren.multilevel.power`: design and power planning (closed forms);
- :mod:`~lerendtransformeren.multilevel.simulation`: power by simulation for any model the
  engine fits (R: ``simr::powerSim``, ``simr::powerCurve``).

:func:`fit` fits a linear mixed model with nested random effects by exact REML or ML with
the nested engine (:mod:`~lerendtransformeren.multilevel.engine`) and returns a
:class:`~lerendtransformeren.multilevel.results.MultilevelResult` with Satterthwaite
inference (or Kenward-Roger, :mod:`~lerendtransformeren.multilevel.kenward_roger`). R
equivalent: ``lmerTest::lmer``.
"""

from __future__ import annotations

from lerendtransformeren.multilevel import simulation
from lerendtransformeren.multilevel.bootstrap import IccR2Bootstrap, bootstrap_icc_r2
from lerendtransformeren.multilevel.effects import icc, null_icc, r2, standardized_effect, variance_components
from lerendtransformeren.multilevel.fitting import fit
from lerendtransformeren.multilevel.gee import GEEResult, fit_gee
from lerendtransformeren.multilevel.glmm_results import GLMMResult
from lerendtransformeren.multilevel.inference import lrt
from lerendtransformeren.multilevel.results import MultilevelResult
from lerendtransformeren.multilevel.robust import CR2, cr2

__all__ = [
    "fit",
    "lrt",
    "MultilevelResult",
    "GLMMResult",
    "fit_gee",
    "GEEResult",
    "icc",
    "null_icc",
    "r2",
    "standardized_effect",
    "bootstrap_icc_r2",
    "IccR2Bootstrap",
    "variance_components",
    "cr2",
    "CR2",
    "simulation",
]
