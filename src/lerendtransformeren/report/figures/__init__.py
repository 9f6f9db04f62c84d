"""Figures for reports: one style, readable in black and white, with alt text nl/en.

Every function returns a :class:`Figure`: the matplotlib figure plus alt text and a
caption in Dutch and English. Figures are made without pyplot (no global figure
registry, nothing to close by hand) under a fixed style (:data:`STYLE`, from seaborn's
``ticks``/``paper`` settings); conditions differ by marker, line style and hatching,
never by colour alone. The same input gives byte-identical PNG and SVG files
(:meth:`Figure.to_png`, :meth:`Figure.to_svg`).

Disclosure control holds in figures too: means resting on fewer than ``k`` respondents
are left out (and the caption says so); reliable-change and GAS bars use the same primary
and secondary suppression as the tables; organisations and teams are shown by neutral
labels.

Means are shown with t-based 95% confidence intervals computed per cell, which ignore
the clustering of respondents in teams and organisations (they are too narrow for
inference about the offer; the multilevel model is for that), as the captions say.

The figures live in submodules, all re-exported here: :mod:`.base` (:class:`Figure`,
:data:`STYLE` and shared helpers), :mod:`.trajectories`, :mod:`.reliability` (reliability
and reliable change), :mod:`.gas`, :mod:`.forest` (forest and caterpillar plots),
:mod:`.power`, :mod:`.marginal` (estimated marginal means of a model) and
:mod:`.imputation` (trace plots of the imputation sampler).
"""

from __future__ import annotations

from lerendtransformeren.report.figures.base import STYLE, Figure
from lerendtransformeren.report.figures.diagnostics import plot_diagnostics
from lerendtransformeren.report.figures.forest import plot_caterpillar, plot_fixed, plot_forest
from lerendtransformeren.report.figures.gas import plot_gas
from lerendtransformeren.report.figures.imputation import plot_imputation_trace
from lerendtransformeren.report.figures.marginal import plot_marginal_means
from lerendtransformeren.report.figures.power import plot_power_curve
from lerendtransformeren.report.figures.reliability import (
    plot_reliability,
    plot_reliable_change,
)
from lerendtransformeren.vocabulary import RC_CATEGORIES
from lerendtransformeren.report.figures.trajectories import (
    plot_organisation_trajectories,
    plot_trajectories,
)

__all__ = [
    "STYLE",
    "RC_CATEGORIES",
    "Figure",
    "plot_trajectories",
    "plot_organisation_trajectories",
    "plot_caterpillar",
    "plot_reliability",
    "plot_reliable_change",
    "plot_gas",
    "plot_power_curve",
    "plot_forest",
    "plot_fixed",
    "plot_diagnostics",
    "plot_marginal_means",
    "plot_imputation_trace",
]
