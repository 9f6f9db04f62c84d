"""Estimated marginal means of a multilevel model over waves (or another variable), by condition.

The figure draws :class:`~lerendtransformeren.multilevel.marginal.MarginalMeans` (from
``result.marginal_means(...)``) as lines with their confidence intervals, one line per
condition; conditions differ by ink, marker and line style (black-and-white safe). It is
the presenter of ``MarginalMeans.plot`` (kind ``"marginal_means.plot"``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label, join_words
from lerendtransformeren.presenters import register
from lerendtransformeren.report.figures.base import (
    STYLE,
    Figure,
    _both,
    _errorbar_series,
    _label,
    _localise_axes,
    _new_figure,
    _wave_ticks,
)
from lerendtransformeren.report.format import check_lang, fmt_num
from lerendtransformeren.vocabulary import OFFER_LABELS, TERM_LABELS, UNIT_NOUNS


def _check_means(means, x: str, group: str | None) -> pd.DataFrame:
    table = getattr(means, "table", None)
    if not isinstance(table, pd.DataFrame) or "estimate" not in table or "ci_low" not in table:
        raise SpecificationError(
            "plot_marginal_means takes the estimated marginal means of a model "
            "(result.marginal_means(...)), not " + type(means).__name__ + "."
        )
    keys = list(means.specs) + list(means.by)
    for name, what in [(x, "x"), (group, "group")]:
        if name is not None and name not in keys:
            raise SpecificationError(
                f"{what}={name!r} is not a variable of these means; they are per {keys}. Ask for them with "
                f"result.marginal_means({[k for k in (x, group) if k]!r}, ...)."
            )
    if group is not None and group == x:
        raise SpecificationError(f"x and group are both {x!r}; choose another group or group=None.")
    rest = [k for k in keys if k not in (x, group) and table[k].nunique() > 1]
    if rest:
        raise SpecificationError(
            f"The means differ by {rest} as well, which the figure has no place for; leave "
            f"{rest} out of specs and by (the means are then averaged over them) or select one "
            "value with at=."
        )
    return table


def _axis(table: pd.DataFrame, x: str) -> tuple[np.ndarray, list, bool]:
    """Positions of the x values, the values in order, and whether the axis is numeric."""
    values = list(pd.unique(table[x]))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
    if numeric:
        values = sorted(values)
        return np.asarray(values, float), values, True
    return np.arange(len(values), dtype=float), values, False


def _x_label(x: str, lang: str) -> str:
    if x in TERM_LABELS:
        return TERM_LABELS[x].pick(lang)
    return x


def _word(var: str, lang: str) -> str:
    """A variable in running text: the unit noun (``meetmoment``), the term, or its name."""
    if var in UNIT_NOUNS:
        return UNIT_NOUNS[var].pick(lang)
    if var in TERM_LABELS:
        return TERM_LABELS[var].pick(lang).lower()
    return var


def _df_words(ddf: str, lang: str) -> str:
    if ddf.startswith("asymptotic"):
        return Label("Wald-z", "Wald z").pick(lang)
    return Label("vrijheidsgraden volgens {}", "{} degrees of freedom").pick(lang).format(ddf)


@register("marginal_means.plot")
def plot_marginal_means(
    means,
    *,
    x: str = "wave",
    group: str | None = "offer",
    label: str | Label | None = None,
    group_labels: Mapping[Hashable, str | Label] | None = None,
    lang: str = "nl",
) -> Figure:
    """Estimated marginal means along ``x`` (default the waves), one line per ``group``.

    Parameters
    ----------
    means : MarginalMeans
        ``result.marginal_means(["wave", "offer"])`` or ``result.marginal_means("offer",
        by="wave")`` (for a numeric wave give its values: ``at={"wave": [0, 1, 2, 3]}``).
    x : str, default "wave"
        Variable along the horizontal axis; waves are labelled T0, T1, ...
    group : str or None, default "offer"
        Variable whose levels get their own line (``None``: one line).
    label : str or (nl, en), optional
        Name of the outcome on the axis and in the text (default: the outcome's column).
    group_labels : mapping, optional
        Legend label (str or ``(nl, en)``) per level of ``group``; default for ``offer``
        with/without offer, otherwise the level itself.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    Figure
        Its alt text gives every mean; its caption says the interval's level, the df
        method and what the means are averaged over.

    R equivalent: ``emmip(emmeans(m, ~ offer | wave), offer ~ wave, CIs = TRUE)``.
    """
    check_lang(lang)
    table = _check_means(means, x, group)
    label = _both(label or means.outcome)
    positions, values, numeric = _axis(table, x)
    groups = list(pd.unique(table[group])) if group else [None]
    labels = group_labels if group_labels is not None else (OFFER_LABELS if group == "offer" else {})

    def name(g, lg: str) -> str:
        return "" if g is None else _label(labels.get(g, str(g)), lg)

    def part_of(g) -> pd.DataFrame:
        part = table if g is None else table.loc[table[group] == g]
        order = [values.index(v) for v in part[x]]
        return part.assign(_pos=positions[order]).sort_values("_pos")

    dodge = np.linspace(-0.06, 0.06, len(groups)) if len(groups) > 1 else [0.0]
    span = float(np.ptp(positions)) if len(positions) > 1 else 1.0
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        for i, g in enumerate(groups):
            part = part_of(g)
            _errorbar_series(ax, i, part["_pos"].to_numpy() + dodge[i] * span / max(len(values) - 1, 1),
                             part["estimate"].to_numpy(), part["ci_low"].to_numpy(), part["ci_high"].to_numpy(),
                             label=name(g, lang) or None)
        if numeric and x == "wave" and all(float(v).is_integer() for v in values):
            _wave_ticks(ax, values)
        elif not numeric:
            ax.set_xticks(positions, [str(v) for v in values])
            ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(_x_label(x, lang))
        ax.set_ylabel(_label(label, lang))
        if group:
            ax.legend(title=None)
        _localise_axes(ax, lang)
    return Figure(fig, *_texts(means, table, x, group, groups, values, numeric, label, name, part_of), lang=lang)


def _texts(means, table, x, group, groups, values, numeric, label, name, part_of) -> tuple[str, str, str, str]:
    """Alt text and caption in Dutch and English."""

    def point(v, lg: str) -> str:
        if numeric and x == "wave" and float(v).is_integer():
            return f"T{int(v)}"
        return fmt_num(v, 2, lg) if numeric else str(v)

    def describe(lg: str) -> str:
        out = []
        for g in groups:
            part = part_of(g)
            points = ", ".join(f"{point(v, lg)} {fmt_num(m, 2, lg)}" for v, m in zip(part[x], part["estimate"]))
            out.append(f"{name(g, lg)}: {points}" if g is not None else points)
        return "; ".join(out)

    level = f"{100 * means.conf_level:g}"
    averaged = list(getattr(means, "averaged_over", ()))
    avg_nl = f" Gemiddeld over {join_words(averaged, 'nl')}." if averaged else ""
    avg_en = f" Averaged over {join_words(averaged, 'en')}." if averaged else ""
    along_nl, along_en = _word(x, "nl"), _word(x, "en")
    by_nl = f" en {_word(group, 'nl')}" if group else ""
    by_en = f" and {_word(group, 'en')}" if group else ""
    lab_nl, lab_en = label
    return (
        f"Lijnfiguur van de geschatte marginale gemiddelden van {lab_nl} per {along_nl}{by_nl}, uit het "
        f"multilevelmodel, met {level}%-betrouwbaarheidsintervallen. {describe('nl')}.",
        f"Line chart of the estimated marginal means of {lab_en} per {along_en}{by_en}, from the multilevel "
        f"model, with {level}% confidence intervals. {describe('en')}.",
        f"Geschatte marginale gemiddelden van {lab_nl} per {along_nl}{by_nl} (multilevelmodel). Foutbalken: "
        f"{level}%-betrouwbaarheidsinterval ({_df_words(means.ddf, 'nl')}).{avg_nl}",
        f"Estimated marginal means of {lab_en} per {along_en}{by_en} (multilevel model). Error bars: {level}% "
        f"confidence interval ({_df_words(means.ddf, 'en')}).{avg_en}",
    )
