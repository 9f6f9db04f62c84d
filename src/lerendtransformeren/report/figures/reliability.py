"""Reliability (alpha and omega per scale) and reliable change (bars per category)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError
from lerendtransformeren.lang import Label, cap
from lerendtransformeren.report.figures.base import (
    _FILLS,
    _HATCHES,
    STYLE,
    Figure,
    _label,
    _localise_axes,
    _new_figure,
    _require,
)
from lerendtransformeren.report.format import check_lang, fmt_bounded, fmt_count, fmt_int, fmt_pct
from lerendtransformeren.report.suppress import SUPPRESSED, suppress_small_cells
from lerendtransformeren.vocabulary import ALL_RESPONDENTS, OFFER_LABELS, RC_CATEGORIES

def _below(k: int, lang: str) -> str:
    """'geen enkele (sub)schaal lag' / 'één (sub)schaal lag' / 'drie (sub)schalen lagen'."""
    if k == 0:
        return Label("geen enkele (sub)schaal lag", "no (sub)scale was").pick(lang)
    if k == 1:
        return Label("één (sub)schaal lag", "one (sub)scale was").pick(lang)
    return Label("{} (sub)schalen lagen", "{} (sub)scales were").pick(lang).format(fmt_count(k, lang))


def plot_reliability(
    reliability: pd.DataFrame,
    *,
    labels: Mapping[Hashable, Label] | None = None,
    lang: str = "nl",
    reference: float = 0.70,
) -> Figure:
    """Alpha and omega with 95% CIs per (sub)scale, against a reference value.

    Parameters
    ----------
    reliability : pandas.DataFrame
        The reliability contract: ``scale, subscale, n, alpha, alpha_ci_low,
        alpha_ci_high, omega, omega_ci_low, omega_ci_high``.
    labels : mapping, optional
        Labels ``(nl, en)`` of scale and subscale codes.
    lang : {"nl", "en"}, default "nl"
    reference : float, default 0.70
        Drawn as a dashed line (a common minimum for group-level use).

    Returns
    -------
    Figure
    """
    check_lang(lang)
    cols = ["scale", "subscale"] + [
        f"{stat}{end}" for stat in ("alpha", "omega") for end in ("", "_ci_low", "_ci_high")
    ]
    _require(reliability, cols, "reliability frame")
    if reliability.empty:
        raise DataError("The reliability frame is empty; there are no scales to plot.")
    labels = labels or {}

    def name(row: pd.Series, lg: str) -> str:
        sub = row["subscale"]
        parts = [row["scale"]] + ([sub] if isinstance(sub, str) and sub else [])
        return " \u2013 ".join(_label(labels.get(p, (p, p)), lg) for p in parts)

    frame = reliability.reset_index(drop=True)
    pos = np.arange(len(frame))[::-1]
    with mpl.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig = _new_figure(6.3, max(2.2, 0.32 * len(frame) + 1.0))
        ax = fig.add_subplot()
        ax.axvline(reference, color="#777777", linestyle="--", linewidth=0.8)
        for offset, stat, marker, face, text in (
            (0.15, "alpha", "o", "black", "\u03b1"),
            (-0.15, "omega", "s", "white", "\u03c9"),
        ):
            low, high = frame[f"{stat}_ci_low"], frame[f"{stat}_ci_high"]
            ax.hlines(pos + offset, low, high, color="black", linewidth=1)
            ax.plot(
                frame[stat], pos + offset, marker, markerfacecolor=face, markeredgecolor="black",
                linestyle="none", markersize=5, label=text,
            )
        ax.set_yticks(pos, [name(r, lang) for _, r in frame.iterrows()])
        ax.set_xlabel("Betrouwbaarheid" if lang == "nl" else "Reliability")
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2)
        _localise_axes(ax, lang)

    lowest = frame.loc[frame["alpha"].idxmin()]
    highest = frame.loc[frame["alpha"].idxmax()]
    below = int((frame["alpha"] < reference).sum())
    n = len(frame)

    def alt(lg: str) -> str:
        lo = f"{fmt_bounded(lowest['alpha'], 2, lg)} ({name(lowest, lg)})"
        hi = f"{fmt_bounded(highest['alpha'], 2, lg)} ({name(highest, lg)})"
        ref = fmt_bounded(reference, 2, lg)
        if lg == "nl":
            return (
                f"Puntfiguur van Cronbachs alfa (rondjes) en McDonalds omega (vierkantjes) met "
                f"95%-betrouwbaarheidsintervallen voor {fmt_count(n, 'nl')} (sub)schalen. Alfa "
                f"liep van {lo} tot {hi}; {_below(below, 'nl')} onder {ref}."
            )
        return (
            f"Dot plot of Cronbach's alpha (circles) and McDonald's omega (squares) with 95% "
            f"confidence intervals for {fmt_count(n, 'en')} (sub)scales. Alpha ranged from {lo} "
            f"to {hi}; {_below(below, 'en')} below {ref}."
        )

    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=alt("nl"),
        alt_en=alt("en"),
        caption_nl=(
            f"Betrouwbaarheid per (sub)schaal: alfa en omega met 95%-betrouwbaarheidsintervallen. "
            f"Stippellijn: {fmt_bounded(reference, 2, 'nl')}."
        ),
        caption_en=(
            f"Reliability per (sub)scale: alpha and omega with 95% confidence intervals. "
            f"Dashed line: {fmt_bounded(reference, 2, 'en')}."
        ),
    )


def plot_reliable_change(
    categories: pd.Series,
    *,
    by: pd.Series | None = None,
    by_labels: Mapping[Hashable, Label] | None = None,
    recovered: bool = True,
    lang: str = "nl",
    k: int = 5,
) -> Figure:
    """Percentage of respondents per reliable-change category, optionally per group.

    Parameters
    ----------
    categories : pandas.Series
        Values ``"improved"``, ``"unchanged"``, ``"deteriorated"``, ``"recovered"``
        (missing values are left out).
    by : pandas.Series, optional
        Group of each respondent (aligned with ``categories``), for example the offer.
    by_labels : mapping, optional
        Labels ``(nl, en)`` of the groups (default for 0/1: :data:`OFFER_LABELS`).
    recovered : bool, default True
        Whether "recovered" can occur, i.e. the scale has a clinical cut-off (as
        ``cutoff`` of :func:`lerendtransformeren.scales.reliable_change`). Without one
        the figure has no "recovered" bar, as the table beside it has no such row.
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Bars resting on fewer than ``k`` respondents are not drawn but marked "×"; since
        group sizes are shown, the next-smallest bar of that group is suppressed too.

    Returns
    -------
    Figure

    Raises
    ------
    DataError
        If a value is not one of the four categories, or is "recovered" while
        ``recovered`` is False.
    """
    check_lang(lang)
    known = categories.dropna()
    _check_rc_categories(known, recovered)
    shown = [c for c in RC_CATEGORIES if recovered or c != "recovered"]
    groups, by_labels = _rc_groups(known, by, by_labels)
    counts = pd.crosstab(groups, known).reindex(columns=shown, fill_value=0)
    counts = counts.astype(float)
    sup = suppress_small_cells(counts, counts, k, margins="rows")
    totals = counts.sum(axis=1)
    shares = counts.div(totals, axis=0).mask(sup.mask)
    names = {g: by_labels.get(g, (str(g), str(g))) for g in counts.index}
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        _draw_rc_bars(ax, shares, totals, sup.mask, names, lang)

    note_nl = sup.footnote_nl and " " + sup.footnote_nl
    note_en = sup.footnote_en and " " + sup.footnote_en
    caption = _rc_caption(recovered)
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=_rc_alt(shares, totals, names, "nl"),
        alt_en=_rc_alt(shares, totals, names, "en"),
        caption_nl=caption.nl + note_nl,
        caption_en=caption.en + note_en,
    )


def _check_rc_categories(known: pd.Series, recovered: bool) -> None:
    """Refuse unknown categories, "recovered" without a cut-off, and no categories at all."""
    unknown = sorted(set(known) - set(RC_CATEGORIES))
    if unknown:
        raise DataError(
            f"Unknown reliable-change categories {unknown}; expected {list(RC_CATEGORIES)}."
        )
    if not recovered and (known == "recovered").any():
        raise DataError(
            f"{int((known == 'recovered').sum())} respondents are 'recovered' but recovered=False "
            "says the scale has no clinical cut-off; pass recovered=True."
        )
    if known.empty:
        raise DataError("There are no reliable-change categories to plot.")


def _rc_groups(
    known: pd.Series, by: pd.Series | None, by_labels: Mapping[Hashable, Label] | None
) -> tuple[pd.Series, Mapping[Hashable, Label]]:
    """The group of each respondent in ``known`` and the group labels (one group without ``by``)."""
    if by is None:
        groups = pd.Series("all", index=known.index)
        by_labels = {"all": ALL_RESPONDENTS}
    else:
        groups = by.loc[known.index]
        if by_labels is None:
            by_labels = OFFER_LABELS if set(groups.dropna().unique()) <= set(OFFER_LABELS) else {}
    return groups, by_labels


def _draw_rc_bars(
    ax, shares: pd.DataFrame, totals: pd.Series, hidden: pd.DataFrame,
    names: Mapping[Hashable, Label], lang: str,
) -> None:
    """Bars of the shares per category (columns), one hatched series per group (rows)."""
    shown = list(shares.columns)
    width = 0.8 / len(shares.index)
    x = np.arange(len(shown))
    for i, g in enumerate(shares.index):
        xs = x - 0.4 + width * (i + 0.5)
        heights = 100 * shares.loc[g].fillna(0).to_numpy()
        ax.bar(xs, heights, width=width, color=_FILLS[i % len(_FILLS)], edgecolor="black",
               hatch=_HATCHES[i % len(_HATCHES)],
               label=f"{_label(names[g], lang)} (n = {fmt_int(totals[g], lang)})")
        for xi, gone in zip(xs, hidden.loc[g].to_numpy()):
            if gone:
                ax.annotate(
                    SUPPRESSED, (xi, 0), xytext=(0, 2), textcoords="offset points", ha="center"
                )
    ax.set_xticks(x, [RC_CATEGORIES[c].pick(lang) for c in shown])
    ax.set_ylabel("Percentage")
    # above the axes: inside, the legend covers the highest bars
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=min(len(shares.index), 3))
    _localise_axes(ax, lang)


def _rc_alt(
    shares: pd.DataFrame, totals: pd.Series, names: Mapping[Hashable, Label], lg: str
) -> str:
    """Alt text of the reliable-change figure in ``lg``: every group's share per category."""
    parts = []
    for g in shares.index:
        cells = ", ".join(
            f"{RC_CATEGORIES[c].pick(lg)} {SUPPRESSED if pd.isna(v) else fmt_pct(v, 0, lg)}"
            for c, v in shares.loc[g].items()
        )
        parts.append(f"{_label(names[g], lg)} (n = {fmt_int(totals[g], lg)}): {cells}")
    head = Label("Staafdiagram van het percentage respondenten per categorie van betrouwbare "
                 "verandering. ", "Bar chart of the percentage of respondents per reliable-change "
                 "category. ").pick(lg)
    return head + cap("; ".join(parts)) + "."


def _rc_caption(recovered: bool) -> Label:
    """Caption of the reliable-change figure, with or without the category "recovered"."""
    if recovered:
        return Label(
            "Betrouwbare verandering: percentage respondenten dat verslechterde, onveranderd "
            "bleef, verbeterde of herstelde (betrouwbaar verbeterd en voorbij de klinische "
            "grens).",
            "Reliable change: percentage of respondents who deteriorated, stayed unchanged, "
            "improved, or recovered (reliably improved and past the clinical cut-off).",
        )
    return Label(
        "Betrouwbare verandering: percentage respondenten dat verslechterde, onveranderd "
        "bleef of verbeterde. Herstel is niet bepaald: de schaal heeft geen klinische grens.",
        "Reliable change: percentage of respondents who deteriorated, stayed unchanged or "
        "improved. Recovery is not determined: the scale has no clinical cut-off.",
    )
