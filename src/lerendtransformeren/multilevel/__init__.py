"""Multilevel (mixed) models for nested action-research data.

- :func:`fit`: linear mixed models with nested random effects (exact REML/ML,
  Satterthwaite or Kenward-Roger df); with ``family="binomial"`` or ``"poisson"`` nested
  GLMMs as lme4's glmer (:mod:`~lerendtransformeren.multilevel.glmm`); :func:`lrt` to
  compare models;
- :func:`icc`, :func:`null_icc`, :func:`r2`, :func:`standardized_effect`: effect sizes;
- ``result.marginal_means(...)`` and ``result.marginal_contrasts(...)``: estimated marginal
  means per condition and their contrasts, as R's emmeans
  (:mod:`~lerendtransformeren.multilevel.marginal`);
- :func:`bootstrap_icc_r2` (``result.icc_r2_ci()``): parametric-bootstrap intervals of
  the ICC per level and of R2;
- :func:`cr2`: cluster-robust (Bell-McCaffrey CR2) sensitivity analysis of the fixed effects;
- :func:`fit_gee`: population-averaged models for binary and count outcomes with
  small-sample corrections and t df from the clusters;
- :func:`pool`: fits on multiply imputed data sets pooled by Rubin's rules (Barnard-Rubin
  df, riv, fmi), ``pooled.wald(terms)`` / :func:`pool_wald` the D1 test, :func:`rubin` and
  :func:`wald_d1` on arrays (:mod:`~lerendtransformeren.multilevel.pooling`; R: ``mitml``);
- :func:`impute`: multilevel multiple imputation by a joint model (jomo's, with random
  intercepts at every nesting level; :mod:`~lerendtransformeren.multilevel.imputation`),
  giving an :class:`Imputed` that ``fit(formula, imp)`` pools;
- :mod:`~lerendtransformeren.multilevel.power`: design and power planning (closed forms);
- :mod:`~lerendtransformeren.multilevel.simulation`: power by simulation for any model the
  engine fits (R: ``simr::powerSim``, ``simr::powerCurve``).

:func:`fit` fits a linear mixed model with nested random effects by exact REML or ML with
the nested engine (:mod:`~lerendtransformeren.multilevel.engine`) and returns a
:class:`~lerendtransformeren.multilevel.results.MultilevelResult` with Satterthwaite
inference (or Kenward-Roger, :mod:`~lerendtransformeren.multilevel.kenward_roger`). R
equivalent: ``lmerTest::lmer``.

Estimated marginal means
------------------------
Name data columns, not model columns: ``m.marginal_means("offer", by="wave")`` gives the
mean per offer condition at every wave, averaged with equal weights over the other factors
of the model, numeric covariates at their mean over the rows used (``at=`` for other
values); standard errors and df by the result's method (``ddf=`` for the other), so the
numbers are those of ``emmeans(m, "offer", by = "wave", lmer.df = "satterthwaite")``.
``m.marginal_contrasts("wave", method="trt.vs.ctrl", adjust="holm")`` compares them
(``"pairwise"``, ``"revpairwise"``, ``"trt.vs.ctrl"``, ``"consec"``; Tukey, Sidak,
Bonferroni, Holm or no adjustment, within each ``by`` group). Both return a table
(``.table``) with emmeans' footnotes (``.notes``); ``means.plot()`` draws the means over the
waves (:func:`lerendtransformeren.report.figures.plot_marginal_means`). GLMMs give them on
the link scale (Wald z) or, with ``type="response"``, as probabilities or rates.

>>> from lerendtransformeren.multilevel import fit
>>> from lerendtransformeren.synthetic import nested_example
>>> m = fit("y ~ C(wave) + (1 | org/team)", nested_example())
>>> m.marginal_means("wave").table.round(2).head(3)
   wave  estimate    se     df  ci_low  ci_high
0     0     -0.26  0.22  23.18   -0.71     0.19
1     1     -0.32  0.22  23.18   -0.77     0.13
2     2      0.01  0.22  23.18   -0.44     0.45
>>> con = m.marginal_contrasts("wave", method="trt.vs.ctrl", adjust="holm", ddf="Kenward-Roger")
>>> con.table[["contrast", "estimate", "p"]].round(4).head(3)
        contrast  estimate       p
0  wave1 - wave0   -0.0608  0.7700
1  wave2 - wave0    0.2676  0.3987
2  wave3 - wave0    0.6029  0.0124
>>> con.notes[-1]
'P value adjustment: holm method for 5 tests'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Names load on first use (PEP 562 module ``__getattr__``): ``fit`` brings the engine and
# scipy but not statsmodels, which only ``fit_gee`` (and ``fit(..., engine="statsmodels")``)
# needs; the simulation, bootstrap and pooling code load when asked for.

#: Each public name -> the module that defines it.
_NAMES = {
    "fit": "fitting",
    "lrt": "inference",
    "MultilevelResult": "results",
    "GLMMResult": "glmm_results",
    "fit_gee": "gee",
    "GEEResult": "gee",
    **dict.fromkeys(("icc", "null_icc", "r2", "standardized_effect", "variance_components"), "effects"),
    "bootstrap_icc_r2": "bootstrap",
    "IccR2Bootstrap": "bootstrap",
    **dict.fromkeys(("Imputed", "impute"), "imputation"),
    **dict.fromkeys(("PooledResult", "pool", "pool_wald", "rubin", "wald_d1"), "pooling"),
    "CR2": "robust",
    "cr2": "robust",
}

if TYPE_CHECKING:  # what the names are, for type checkers and editors (and tests/test_layers.py)
    from lerendtransformeren.multilevel import simulation
    from lerendtransformeren.multilevel.bootstrap import IccR2Bootstrap, bootstrap_icc_r2
    from lerendtransformeren.multilevel.effects import icc, null_icc, r2, standardized_effect, variance_components
    from lerendtransformeren.multilevel.fitting import fit
    from lerendtransformeren.multilevel.gee import GEEResult, fit_gee
    from lerendtransformeren.multilevel.glmm_results import GLMMResult
    from lerendtransformeren.multilevel.imputation import Imputed, impute
    from lerendtransformeren.multilevel.inference import lrt
    from lerendtransformeren.multilevel.pooling import PooledResult, pool, pool_wald, rubin, wald_d1
    from lerendtransformeren.multilevel.results import MultilevelResult
    from lerendtransformeren.multilevel.robust import CR2, cr2


def __getattr__(name: str):
    if name in _NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    elif not name.startswith("_"):  # a submodule: ``multilevel.power``, ``multilevel.simulation``
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next look-up finds it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


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
    "pool",
    "pool_wald",
    "rubin",
    "wald_d1",
    "PooledResult",
    "impute",
    "Imputed",
    "simulation",
]
