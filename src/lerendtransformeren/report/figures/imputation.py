"""Trace plots of the imputation sampler (``Imputed.plot_trace()``, kind ``imputation.plot_trace``)."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from lerendtransformeren.presenters import register
from lerendtransformeren.report.figures.base import STYLE, Figure, _localise_axes, _new_figure
from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.report.format import check_lang

__all__ = ["plot_imputation_trace"]

_LINESTYLES = ["-", "--", ":", "-."]


def _chosen(imputed, params) -> list:
    names = list(imputed.traces["names"])
    if params is None:  # the variance parameters that mixed worst
        diag = imputed.diagnostics
        sig = diag[diag.index.str.startswith("Sigma")]
        return list(sig.sort_values("rhat", ascending=False).index[:9])
    if isinstance(params, str):
        picked = [n for n in names if params in n]
    else:
        unknown = [p for p in params if p not in names]
        if unknown:
            raise SpecificationError(f"Unknown parameters {unknown}; see imp.traces['names'].")
        picked = list(params)
    if not picked:
        raise SpecificationError(f"No parameter matches {params!r}; see imp.traces['names'].")
    return picked[:12]


@register("imputation.plot_trace")
def plot_imputation_trace(imputed, params=None, lang: str = "nl") -> Figure:
    """Trace plots of an :class:`~lerendtransformeren.multilevel.imputation.Imputed`: one panel per parameter.

    Each chain is a line of its own style (no colour needed); the panel title gives the
    parameter and its R-hat. ``params``: names (``imp.traces["names"]``) or a substring;
    None: the (at most 9) covariance parameters with the highest R-hat.
    """
    check_lang(lang)
    chosen = _chosen(imputed, params)
    names = list(imputed.traces["names"])
    draws = imputed.traces["draws"]
    rhat = imputed.diagnostics["rhat"]
    cols = min(3, len(chosen))
    rows = int(np.ceil(len(chosen) / cols))
    with mpl.rc_context(STYLE):
        fig = _new_figure(6.3, 1.9 * rows + 0.4)
        axes = fig.subplots(rows, cols, squeeze=False)
        for k, ax in enumerate(axes.ravel()):
            if k >= len(chosen):
                ax.set_visible(False)
                continue
            j = names.index(chosen[k])
            for c in range(draws.shape[0]):
                ax.plot(draws[c, :, j], linestyle=_LINESTYLES[c % 4], color="black", linewidth=0.6,
                        label=f"chain {c + 1}" if lang == "en" else f"keten {c + 1}")
            ax.set_title(f"{chosen[k]}\nR-hat {rhat.iloc[j]:.3f}", fontsize=6)
            ax.tick_params(labelsize=6)
            _localise_axes(ax, lang)
        axes.ravel()[0].legend(fontsize=6)
    worst = max(float(rhat.iloc[names.index(n)]) for n in chosen)
    return Figure(
        fig,
        alt_nl=f"Spoorgrafieken van {len(chosen)} parameters van het imputatiemodel over {draws.shape[0]} "
               f"ketens na de inloop; hoogste R-hat {worst:.3f}.",
        alt_en=f"Trace plots of {len(chosen)} parameters of the imputation model over {draws.shape[0]} chains "
               f"after burn-in; highest R-hat {worst:.3f}.",
        caption_nl="Spoorgrafieken van de imputatie-sampler (na de inloop). Ketens die door elkaar lopen en "
                   "R-hat dicht bij 1 wijzen op convergentie.",
        caption_en="Trace plots of the imputation sampler (after burn-in). Chains that mix and R-hat close "
                   "to 1 indicate convergence.",
        lang=lang,
    )
