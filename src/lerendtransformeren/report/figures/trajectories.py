"""Line charts over waves: means per condition, and one line per organisation (pseudonymised)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError
from lerendtransformeren.lang import Label
from lerendtransformeren.report.figures.base import (
    _LINES,
    STYLE,
    Figure,
    _both,
    _errorbar_series,
    _label,
    _localise_axes,
    _mean_ci,
    _new_figure,
    _omitted,
    _require,
    _wave_ticks,
)
from lerendtransformeren.report.format import MISSING, check_lang, fmt_num
from lerendtransformeren.report.suppress import assert_no_identifiers, pseudonymise
from lerendtransformeren.vocabulary import OFFER_LABELS


def plot_trajectories(
    data: pd.DataFrame,
    y: str,
    *,
    label: str | Label | None = None,
    wave: str = "wave",
    by: str = "offer",
    by_labels: Mapping[Hashable, Label] | None = None,
    lang: str = "nl",
    k: int = 5,
) -> Figure:
    """Mean of ``y`` per wave and condition, with 95% confidence intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data with ``y``, ``wave`` and ``by``.
    y : str
        The score to plot.
    label : str or (nl, en), optional
        Name of the score on the axis and in the text (default: ``y``).
    wave, by : str
        Columns of the wave and the condition (``offer``, ``ses``, ...).
    by_labels : mapping, optional
        Labels ``(nl, en)`` of the conditions (default for ``offer``: with/without offer).
    lang : {"nl", "en"}, default "nl"
        Language of the axis labels and legend.
    k : int, default 5
        Means resting on fewer than ``k`` scores are not drawn.

    Returns
    -------
    Figure
    """
    check_lang(lang)
    _require(data, [y, wave, by], "data")
    assert_no_identifiers(data[[by]].drop_duplicates())
    label = _both(label or y)
    by_labels = by_labels if by_labels is not None else (OFFER_LABELS if by == "offer" else {})
    cells = data.dropna(subset=[y]).groupby([by, wave])[y].apply(_mean_ci).unstack()
    cells = cells.loc[cells["n"] >= k]
    if cells.empty:
        raise DataError(f"No wave and condition has {k} or more scores on {y!r}; nothing to show.")
    conditions = list(cells.index.get_level_values(0).unique())
    waves = sorted(data[wave].dropna().unique())
    names = {c: by_labels.get(c, (str(c), str(c))) for c in conditions}
    dodge = np.linspace(-0.06, 0.06, len(conditions)) if len(conditions) > 1 else [0.0]
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        for i, c in enumerate(conditions):
            part = cells.loc[c]
            x = part.index.to_numpy(dtype=float) + dodge[i]
            _errorbar_series(
                ax, i, x, part["mean"], part["low"], part["high"], label=_label(names[c], lang)
            )
        _wave_ticks(ax, waves)
        ax.set_xlabel("Meetmoment" if lang == "nl" else "Wave")
        ax.set_ylabel(_label(label, lang))
        ax.legend(title=None)
        _localise_axes(ax, lang)

    def describe(lg: str) -> str:
        parts = []
        for c in conditions:
            part = cells.loc[c]
            points = ", ".join(f"T{int(w)} {fmt_num(m, 2, lg)}" for w, m in part["mean"].items())
            parts.append(f"{_label(names[c], lg)}: {points}")
        return "; ".join(parts)

    lab_nl, lab_en = label
    om_nl, om_en = _omitted(k)
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=(
            f"Lijnfiguur van het gemiddelde van {lab_nl} per meetmoment, per conditie, met "
            f"95%-betrouwbaarheidsintervallen. {describe('nl')}."
        ),
        alt_en=(
            f"Line chart of the mean of {lab_en} per wave, by condition, with 95% "
            f"confidence intervals. {describe('en')}."
        ),
        caption_nl=(
            f"Gemiddelde {lab_nl} per meetmoment en conditie. Foutbalken: 95%-"
            "betrouwbaarheidsinterval van het gemiddelde, zonder correctie voor clustering."
            + om_nl
        ),
        caption_en=(
            f"Mean {lab_en} by wave and condition. Error bars: 95% confidence interval of "
            "the mean, not corrected for clustering." + om_en
        ),
    )


def _label_line_ends(ax, ends: list[tuple[float, float, str]], gap: float = 0.035) -> None:
    """Label line ends, pushed apart vertically so that labels do not overlap."""
    low, high = ax.get_ylim()
    step = gap * (high - low)
    placed: list[float] = []
    for y, x, text in sorted(ends):
        y_label = max(y, placed[-1] + step) if placed else y
        placed.append(y_label)
        # plain leader line and text in data coordinates: annotation arrows are re-laid out
        # on every draw, which would make repeated saves differ by a few pixels
        ax.plot([x + 0.02, x + 0.07], [y, y_label], color="#aaaaaa", linewidth=0.5, clip_on=False)
        ax.text(x + 0.08, y_label, text, va="center", fontsize=7, clip_on=False)


def plot_organisation_trajectories(
    data: pd.DataFrame,
    y: str,
    *,
    label: str | Label | None = None,
    organisation: str = "organisation",
    wave: str = "wave",
    offer: str | None = "offer",
    lang: str = "nl",
    k: int = 5,
) -> Figure:
    """Mean of ``y`` per organisation and wave (spaghetti plot), organisations pseudonymised.

    Each organisation is a thin grey line labelled with its neutral letter; the mean
    over all respondents is the thick black line. With ``offer``, markers are open
    before the organisation's offer started and filled from then on, which shows the
    stepped wedge.

    Parameters
    ----------
    data : pandas.DataFrame
    y : str
    label : str or (nl, en), optional
    organisation, wave : str
    offer : str or None, default "offer"
        Column marking the offer; None for plain markers.
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Organisation means resting on fewer than ``k`` scores are not drawn.

    Returns
    -------
    Figure
    """
    check_lang(lang)
    _require(data, [y, organisation, wave] + ([offer] if offer else []), "data")
    label = _both(label or y)
    scored = data.dropna(subset=[y]).copy()
    scored["_unit"] = pseudonymise(scored[organisation], lang).str.split().str[-1]
    cells = _organisation_cells(scored, y, wave, offer, k)
    overall = scored.groupby(wave)[y].mean()
    waves = sorted(scored[wave].unique())
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        _draw_organisations(ax, cells, overall, offer=offer, lang=lang)
        _wave_ticks(ax, waves)
        ax.set_xlabel("Meetmoment" if lang == "nl" else "Wave")
        ax.set_ylabel(_label(label, lang))
        ax.legend(loc="best", fontsize=8)
        _localise_axes(ax, lang)

    first, last = waves[0], waves[-1]

    def spread(w, lg: str) -> str:
        if w not in cells.index.get_level_values(1):
            return MISSING
        means = cells.xs(w, level=1)["mean"]
        return f"{fmt_num(means.min(), 2, lg)}–{fmt_num(means.max(), 2, lg)}"

    n = len(cells.index.get_level_values(0).unique())
    lab_nl, lab_en = label
    offer_nl = " Open punten: nog zonder aanbod; gevulde punten: met aanbod." if offer else ""
    offer_en = " Open markers: before the offer; filled markers: with the offer." if offer else ""
    om_nl, om_en = _omitted(k)
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=(
            f"Lijnfiguur met één lijn per organisatie ({n} organisaties, aangeduid met "
            f"letters) van het gemiddelde van {lab_nl} per meetmoment, en een dikke lijn "
            f"voor alle respondenten. Organisatiegemiddelden: T{int(first)} {spread(first, 'nl')}, "
            f"T{int(last)} {spread(last, 'nl')}.{offer_nl}"
        ),
        alt_en=(
            f"Line chart with one line per organisation ({n} organisations, labelled by "
            f"letter) of the mean of {lab_en} per wave, and a thick line for all respondents. "
            f"Organisation means: T{int(first)} {spread(first, 'en')}, "
            f"T{int(last)} {spread(last, 'en')}.{offer_en}"
        ),
        caption_nl=f"Gemiddelde {lab_nl} per organisatie en meetmoment.{offer_nl}" + om_nl,
        caption_en=f"Mean {lab_en} per organisation and wave.{offer_en}" + om_en,
    )


def _organisation_cells(
    scored: pd.DataFrame, y: str, wave: str, offer: str | None, k: int
) -> pd.DataFrame:
    """Per pseudonymised unit (``_unit``) and wave: ``n``, ``mean`` (and ``offer``), n ≥ ``k``."""
    agg = {y: ["count", "mean"]}
    if offer:
        agg[offer] = "mean"
    cells = scored.groupby(["_unit", wave]).agg(agg)
    cells.columns = ["n", "mean"] + (["offer"] if offer else [])
    cells = cells.loc[cells["n"] >= k]
    if cells.empty:
        raise DataError(f"No organisation has {k} or more scores on {y!r} at any wave.")
    return cells


def _draw_organisations(
    ax, cells: pd.DataFrame, overall: pd.Series, *, offer: str | None, lang: str
) -> None:
    """A thin labelled line per unit (markers open before the offer), a thick overall line."""
    ends: list[tuple[float, float, str]] = []
    for j, unit in enumerate(cells.index.get_level_values(0).unique()):
        part = cells.loc[unit]
        x = part.index.to_numpy(dtype=float)
        style = _LINES[j % len(_LINES)]
        ax.plot(x, part["mean"], color="#777777", linewidth=0.8, linestyle=style)
        started = (part["offer"] >= 0.5 if offer else pd.Series(True, index=part.index)).to_numpy()
        means = part["mean"].to_numpy()
        ax.scatter(x[started], means[started], s=14, color="#333333", zorder=3)
        ax.scatter(
            x[~started], means[~started], s=14, facecolors="white", edgecolors="#333333",
            zorder=3,
        )
        ends.append((part["mean"].iloc[-1], x[-1], unit))
    ax.plot(
        overall.index.to_numpy(dtype=float), overall.to_numpy(), color="black", linewidth=2.5,
        label="alle respondenten" if lang == "nl" else "all respondents",
    )
    if offer:
        ax.scatter([], [], s=14, facecolors="white", edgecolors="#333333",
                   label="nog zonder aanbod" if lang == "nl" else "before the offer")
        ax.scatter([], [], s=14, color="#333333",
                   label="met aanbod" if lang == "nl" else "with the offer")
    _label_line_ends(ax, ends)
