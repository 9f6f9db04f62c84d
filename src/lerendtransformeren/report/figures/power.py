"""Power curves: simulated power along a design quantity, with Monte Carlo intervals."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import matplotlib as mpl
import pandas as pd

from lerendtransformeren.lang import Label
from lerendtransformeren.report.figures.base import (
    STYLE,
    Figure,
    _errorbar_series,
    _label,
    _localise_axes,
    _new_figure,
)
from lerendtransformeren.report.format import check_lang, fmt_int, fmt_pct
from lerendtransformeren.report.tables import power_curve_along


def plot_power_curve(
    table: pd.DataFrame,
    *,
    by: str | None = None,
    by_labels: Mapping[Hashable, str | Label] | None = None,
    target: float = 0.8,
    lang: str = "nl",
) -> Figure:
    """Simulated power along a design quantity, with Monte Carlo intervals (simr's powerCurve).

    Parameters
    ----------
    table : pandas.DataFrame
        ``PowerCurve.table`` of :func:`lerendtransformeren.multilevel.simulation.power_curve`:
        columns ``along, value, n_sim, power, ci_low, ci_high``, one row per design point;
        several curves (e.g. one per effect size) are stacked with a column ``by``.
    by : str, optional
        Column that tells the curves apart (drawn with their own marker and line style).
    by_labels : mapping, optional
        Legend label (str or ``(nl, en)``) per value of ``by``; default the value itself.
    target : float, default 0.8
        Power to aim at, drawn as a thin grey line (``None`` leaves it out).
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    Figure
        Its alt text names, per curve, the power at each design point.

    Examples
    --------
    >>> table = pd.DataFrame({"along": "organisation", "value": [6, 15, 24], "n_sim": 200,
    ...     "power": [0.21, 0.52, 0.74], "ci_low": [0.16, 0.45, 0.67], "ci_high": [0.27, 0.59, 0.80]})
    >>> fig = plot_power_curve(table, lang="en")
    >>> fig.alt_en
    'Power curve: simulated power (200 simulated studies per point) by number of organisations: 6 21%, 15 52%, 24 74%. Thin grey line: target power 80%.'
    """
    check_lang(lang)
    axis_label, _ = power_curve_along(table, [by] if by else [])
    groups = list(pd.unique(table[by])) if by else [None]
    by_labels = by_labels or {}

    def name(g, lg: str) -> str:
        return _label(by_labels.get(g, str(g)), lg) if g is not None else ""

    def part_of(g) -> pd.DataFrame:
        part = table if g is None else table.loc[table[by] == g]
        return part.sort_values("value")

    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        for i, g in enumerate(groups):
            part = part_of(g)
            _errorbar_series(
                ax, i, part["value"].to_numpy(dtype=float), part["power"], part["ci_low"],
                part["ci_high"], label=name(g, lang) if g is not None else None,
            )
        if target is not None:
            # Thin solid grey: no curve is drawn like it (curves are dark and patterned).
            ax.axhline(target, color="#777777", linestyle="-", linewidth=0.8, zorder=1)
        ax.set_ylim(0, 1.02)
        ax.set_xticks(sorted(table["value"].unique()))
        ax.set_xlabel(_label(axis_label, lang))
        ax.set_ylabel("Power")
        ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: fmt_pct(v, 0, lang)))
        if by:
            ax.legend(title=None)
        _localise_axes(ax, lang)

    def describe(lg: str) -> str:
        out = []
        for g in groups:
            part = part_of(g)
            points = ", ".join(
                f"{int(v)} {fmt_pct(p, 0, lg)}" for v, p in zip(part["value"], part["power"])
            )
            out.append(f"{name(g, lg)}: {points}" if g is not None else points)
        return "; ".join(out)

    n_sim = table["n_sim"].unique()
    sims = fmt_int(int(n_sim[0]), "nl") if len(n_sim) == 1 else "wisselend"
    sims_en = fmt_int(int(n_sim[0]), "en") if len(n_sim) == 1 else "varying"
    tgt_nl = f" Dunne grijze lijn: beoogde power {fmt_pct(target, 0, 'nl')}." if target is not None else ""
    tgt_en = f" Thin grey line: target power {fmt_pct(target, 0, 'en')}." if target is not None else ""
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=(
            f"Powercurve: gesimuleerde power ({sims} gesimuleerde studies per punt) naar "
            f"{axis_label[0].lower()}: {describe('nl')}.{tgt_nl}"
        ),
        alt_en=(
            f"Power curve: simulated power ({sims_en} simulated studies per point) by "
            f"{axis_label[1].lower()}: {describe('en')}.{tgt_en}"
        ),
        caption_nl=(
            f"Gesimuleerde power naar {axis_label[0].lower()}. Foutbalken: 95%-"
            "betrouwbaarheidsinterval van de Monte-Carloschatting." + tgt_nl
        ),
        caption_en=(
            f"Simulated power by {axis_label[1].lower()}. Error bars: 95% confidence interval "
            "of the Monte Carlo estimate." + tgt_en
        ),
    )
