"""Figures for reports: one style, readable in black and white, with alt text nl/en.

Every function returns a :class:`Figure`: the matplotlib figure plus alt text and a
caption in Dutch and English. Figures are made without pyplot (no global figure
registry, nothing to close by hand) under a fixed style (:data:`STYLE`, from seaborn's
``ticks``/``paper`` settings); conditions differ by marker, line style and hatching,
never by colour alone. The same input gives byte-identical PNG and SVG files
(:meth:`Figure.to_png`, :meth:`Figure.to_svg`).

Disclosure control holds in figures too: means resting on fewer than ``k`` respondents
are left out (and the caption says so); reliable-change bars use the same primary and
secondary suppression as the tables; organisations and teams are shown by neutral
labels.

Means are shown with t-based 95% confidence intervals computed per cell, which ignore
the clustering of respondents in teams and organisations (they are too narrow for
inference about the offer; the multilevel model is for that), as the captions say.
"""

from __future__ import annotations

import io
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import ScalarFormatter
from scipy import stats

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.format import (
    MISSING,
    check_lang,
    fmt_bounded,
    fmt_int,
    fmt_num,
    fmt_pct,
)
from lerendtransformeren.report.suppress import (
    SUPPRESSED,
    assert_no_identifiers,
    pseudonymise,
    suppress_small_cells,
)
from lerendtransformeren.report.tables import OFFER_LABELS, power_curve_along

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
]

#: Matplotlib settings of every report figure (seaborn "ticks" style, "paper" context).
STYLE: dict[str, object] = {
    **sns.axes_style("ticks"),
    **sns.plotting_context("paper", font_scale=1.1),
    "font.family": "DejaVu Sans",
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "lerendtransformeren",
    "svg.fonttype": "path",
}

_INK = ("#000000", "#555555", "#888888", "#333333", "#aaaaaa")
_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINES = ("-", "--", ":", "-.")
_HATCHES = ("", "///", "...", "xx", "\\\\")
_FILLS = ("#444444", "#bbbbbb", "#ffffff", "#888888", "#dddddd")

#: Reliable-change categories in display order, with Dutch and English labels.
RC_CATEGORIES: dict[str, tuple[str, str]] = {
    "deteriorated": ("verslechterd", "deteriorated"),
    "unchanged": ("onveranderd", "unchanged"),
    "improved": ("verbeterd", "improved"),
    "recovered": ("hersteld", "recovered"),
}


@dataclass
class Figure:
    """A report figure: the matplotlib figure, alt text and caption in Dutch and English.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    alt_nl, alt_en : str
        Alt text: what the figure shows, with its main numbers, for readers who cannot
        see it.
    caption_nl, caption_en : str
        Caption (APA: the figure title and a note on how to read it).
    """

    figure: MplFigure
    alt_nl: str
    alt_en: str
    caption_nl: str
    caption_en: str

    def __post_init__(self) -> None:
        # Lay the figure out once and freeze it: constrained layout moves axes by float
        # noise on every draw, which would change SVG clip-path ids between saves.
        with mpl.rc_context(STYLE):
            self.figure.draw_without_rendering()
        self.figure.set_layout_engine("none")

    def alt(self, lang: str) -> str:
        """Alt text in ``lang``."""
        return self.alt_nl if check_lang(lang) == "nl" else self.alt_en

    def caption(self, lang: str) -> str:
        """Caption in ``lang``."""
        return self.caption_nl if check_lang(lang) == "nl" else self.caption_en

    def to_png(self, dpi: int = 150) -> bytes:
        """PNG bytes; the same figure gives the same bytes (no time or version stamp)."""
        buf = io.BytesIO()
        with mpl.rc_context(STYLE):
            self.figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.05)
        return buf.getvalue()

    def to_svg(self) -> bytes:
        """SVG bytes with a fixed hash salt and no date, so they are reproducible."""
        buf = io.BytesIO()
        with mpl.rc_context(STYLE):
            self.figure.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight", pad_inches=0.05)
        return buf.getvalue()

    def save(self, path: str | Path, dpi: int = 150) -> Path:
        """Write the figure as .png or .svg (by the suffix of ``path``)."""
        path = Path(path)
        if path.suffix.lower() == ".png":
            path.write_bytes(self.to_png(dpi))
        elif path.suffix.lower() == ".svg":
            path.write_bytes(self.to_svg())
        else:
            raise SpecificationError(f"Cannot save a figure as {path.suffix!r}; use .png or .svg.")
        return path


class _CommaFormatter(ScalarFormatter):
    """Matplotlib's tick labels with a decimal comma (Dutch), without touching the locale."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return super().__call__(x, pos).replace(".", ",")


def _localise_axes(ax, lang: str) -> None:
    """Decimal commas on both axes of a Dutch figure (categorical axes are unaffected)."""
    if lang == "nl":
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_formatter(_CommaFormatter())


def _new_figure(width: float = 6.3, height: float = 3.6) -> MplFigure:
    return MplFigure(figsize=(width, height), layout="constrained")


def _label(label: str | tuple[str, str], lang: str) -> str:
    if isinstance(label, tuple):
        return label[0] if lang == "nl" else label[1]
    return label


def _both(label: str | tuple[str, str]) -> tuple[str, str]:
    return (label, label) if isinstance(label, str) else label


def _wave_ticks(ax, waves) -> None:
    ax.set_xticks(list(waves), [f"T{int(w)}" for w in waves])


def _errorbar_series(ax, i: int, x, y, low, high, label: str | None) -> None:
    """Series ``i`` of a line chart with intervals, told apart by ink, marker, line and fill."""
    ink = _INK[i % len(_INK)]
    ax.errorbar(
        x, y, yerr=[y - low, high - y], color=ink, marker=_MARKERS[i % len(_MARKERS)],
        linestyle=_LINES[i % len(_LINES)], capsize=3, markersize=6,
        markerfacecolor="white" if i % 2 else ink, label=label,
    )


def _mean_ci(values: pd.Series) -> pd.Series:
    n = values.count()
    mean = values.mean()
    half = stats.t.ppf(0.975, n - 1) * values.std() / np.sqrt(n) if n > 1 else np.nan
    return pd.Series({"n": n, "mean": mean, "low": mean - half, "high": mean + half})


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SpecificationError(
            f"The {what} lacks column(s) {missing}; it has {list(frame.columns)}."
        )


def _omitted(k: int) -> tuple[str, str]:
    return (
        f" Gemiddelden van minder dan {k} respondenten zijn weggelaten.",
        f" Means of fewer than {k} respondents are left out.",
    )


def plot_trajectories(
    data: pd.DataFrame,
    y: str,
    *,
    label: str | tuple[str, str] | None = None,
    wave: str = "wave",
    by: str = "offer",
    by_labels: Mapping[Hashable, tuple[str, str]] | None = None,
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
    label: str | tuple[str, str] | None = None,
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
    agg = {y: ["count", "mean"]}
    if offer:
        agg[offer] = "mean"
    cells = scored.groupby(["_unit", wave]).agg(agg)
    cells.columns = ["n", "mean"] + (["offer"] if offer else [])
    cells = cells.loc[cells["n"] >= k]
    if cells.empty:
        raise DataError(f"No organisation has {k} or more scores on {y!r} at any wave.")
    overall = scored.groupby(wave)[y].mean()
    waves = sorted(scored[wave].unique())
    units = list(cells.index.get_level_values(0).unique())
    ends: list[tuple[float, float, str]] = []
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        for j, unit in enumerate(units):
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

    n = len(units)
    lab_nl, lab_en = label
    offer_nl = " Open punten: nog zonder aanbod; gevulde punten: met aanbod." if offer else ""
    offer_en = " Open markers: before the offer; filled markers: with the offer." if offer else ""
    om_nl, om_en = _omitted(k)
    return Figure(
        figure=fig,
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


def plot_caterpillar(
    effects: pd.DataFrame,
    *,
    unit: str = "organisation",
    label: str | tuple[str, str] = ("afwijking van het gemiddelde", "deviation from the mean"),
    lang: str = "nl",
) -> Figure:
    """Caterpillar plot: unit effects with intervals, sorted, units pseudonymised.

    Parameters
    ----------
    effects : pandas.DataFrame
        Columns ``unit, estimate, ci_low, ci_high`` (for example conditional modes of
        the organisation intercepts with 95% prediction intervals).
    unit : {"organisation", "team"}, default "organisation"
        What the units are; they are shown as "organisatie A", "team B", ...
    label : str or (nl, en)
        Axis label of the effect.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    Figure
    """
    check_lang(lang)
    _require(effects, ["unit", "estimate", "ci_low", "ci_high"], "effects frame")
    if effects.empty:
        raise DataError("The effects frame is empty; there are no units to plot.")
    frame = effects.assign(name=pseudonymise(effects["unit"], lang, unit=unit))
    frame = frame.sort_values(["estimate", "name"], kind="stable").reset_index(drop=True)
    label = _both(label)
    pos = np.arange(len(frame))
    with mpl.rc_context({**STYLE, "axes.grid.axis": "x"}):
        fig = _new_figure(6.3, max(2.0, 0.28 * len(frame) + 0.9))
        ax = fig.add_subplot()
        ax.axvline(0, color="#777777", linestyle="--", linewidth=0.8)
        ax.hlines(pos, frame["ci_low"], frame["ci_high"], color="black", linewidth=1.2)
        ax.plot(frame["estimate"], pos, "o", color="black", markersize=5)
        ax.set_yticks(pos, frame["name"])
        ax.set_xlabel(_label(label, lang))
        _localise_axes(ax, lang)

    one_nl, noun_nl, noun_en = {
        "organisation": ("organisatie", "organisaties", "organisations"),
        "team": ("team", "teams", "teams"),
    }[unit]
    # letters are the same in both languages: only the noun of the label differs
    ends = [(frame.iloc[i]["estimate"], frame.iloc[i]["name"].split()[-1]) for i in (0, -1)]
    lo_nl, hi_nl = (f"{fmt_num(est, 2, 'nl')} ({one_nl} {letter})" for est, letter in ends)
    lo_en, hi_en = (f"{fmt_num(est, 2, 'en')} ({unit} {letter})" for est, letter in ends)
    away = int(((frame["ci_low"] > 0) | (frame["ci_high"] < 0)).sum())
    lab_nl, lab_en = label
    n = len(frame)
    return Figure(
        figure=fig,
        alt_nl=(
            f"Rupsfiguur van de {lab_nl} van {n} {noun_nl} met intervallen, gesorteerd van laag "
            f"naar hoog: van {lo_nl} tot {hi_nl}. Bij {away} van de {n} {noun_nl} ligt het "
            "interval geheel boven of onder nul."
        ),
        alt_en=(
            f"Caterpillar plot of the {lab_en} of {n} {noun_en} with intervals, sorted from low "
            f"to high: from {lo_en} to {hi_en}. For {away} of the {n} {noun_en} the interval "
            "lies entirely above or below zero."
        ),
        caption_nl=f"Geschatte {lab_nl} per {one_nl} met 95%-intervallen, van laag naar hoog.",
        caption_en=f"Estimated {lab_en} per {unit} with 95% intervals, from low to high.",
    )


def plot_reliability(
    reliability: pd.DataFrame,
    *,
    labels: Mapping[Hashable, tuple[str, str]] | None = None,
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
                f"95%-betrouwbaarheidsintervallen voor {n} (sub)schalen. Alfa liep van {lo} tot "
                f"{hi}; {below} (sub)schalen lagen onder {ref}."
            )
        return (
            f"Dot plot of Cronbach's alpha (circles) and McDonald's omega (squares) with 95% "
            f"confidence intervals for {n} (sub)scales. Alpha ranged from {lo} to {hi}; "
            f"{below} (sub)scales were below {ref}."
        )

    return Figure(
        figure=fig,
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
    by_labels: Mapping[Hashable, tuple[str, str]] | None = None,
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
        If a value is not one of the four categories.
    """
    check_lang(lang)
    known = categories.dropna()
    unknown = sorted(set(known) - set(RC_CATEGORIES))
    if unknown:
        raise DataError(
            f"Unknown reliable-change categories {unknown}; expected {list(RC_CATEGORIES)}."
        )
    if known.empty:
        raise DataError("There are no reliable-change categories to plot.")
    if by is None:
        groups = pd.Series("all", index=known.index)
        by_labels = {"all": ("alle respondenten", "all respondents")}
    else:
        groups = by.loc[known.index]
        if by_labels is None:
            by_labels = OFFER_LABELS if set(groups.dropna().unique()) <= set(OFFER_LABELS) else {}
    counts = pd.crosstab(groups, known).reindex(columns=list(RC_CATEGORIES), fill_value=0)
    counts = counts.astype(float)
    sup = suppress_small_cells(counts, counts, k, margins="rows")
    totals = counts.sum(axis=1)
    shares = counts.div(totals, axis=0).mask(sup.mask)
    names = {g: by_labels.get(g, (str(g), str(g))) for g in counts.index}
    width = 0.8 / len(counts.index)
    x = np.arange(len(RC_CATEGORIES))
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        for i, g in enumerate(counts.index):
            xs = x - 0.4 + width * (i + 0.5)
            heights = 100 * shares.loc[g].fillna(0).to_numpy()
            ax.bar(xs, heights, width=width, color=_FILLS[i % len(_FILLS)], edgecolor="black",
                   hatch=_HATCHES[i % len(_HATCHES)],
                   label=f"{_label(names[g], lang)} (n = {fmt_int(totals[g], lang)})")
            for xi, hidden in zip(xs, sup.mask.loc[g].to_numpy()):
                if hidden:
                    ax.annotate(
                        SUPPRESSED, (xi, 0), xytext=(0, 2), textcoords="offset points", ha="center"
                    )
        ax.set_xticks(x, [_label(v, lang) for v in RC_CATEGORIES.values()])
        ax.set_ylabel("Percentage")
        ax.legend()
        _localise_axes(ax, lang)

    def alt(lg: str) -> str:
        parts = []
        for g in counts.index:
            cells = ", ".join(
                f"{_label(RC_CATEGORIES[c], lg)} {SUPPRESSED if pd.isna(v) else fmt_pct(v, 0, lg)}"
                for c, v in shares.loc[g].items()
            )
            parts.append(f"{_label(names[g], lg)} (n = {fmt_int(totals[g], lg)}): {cells}")
        head = (
            "Staafdiagram van het percentage respondenten per categorie van betrouwbare "
            "verandering. "
            if lg == "nl"
            else "Bar chart of the percentage of respondents per reliable-change category. "
        )
        return head + "; ".join(parts) + "."

    note_nl = sup.footnote_nl and " " + sup.footnote_nl
    note_en = sup.footnote_en and " " + sup.footnote_en
    return Figure(
        figure=fig,
        alt_nl=alt("nl"),
        alt_en=alt("en"),
        caption_nl=(
            "Betrouwbare verandering: percentage respondenten dat verslechterde, onveranderd "
            "bleef, verbeterde of herstelde (betrouwbaar verbeterd en voorbij de klinische "
            "grens)." + note_nl
        ),
        caption_en=(
            "Reliable change: percentage of respondents who deteriorated, stayed unchanged, "
            "improved, or recovered (reliably improved and past the clinical cut-off)." + note_en
        ),
    )


def plot_gas(
    tscores: pd.Series,
    *,
    lang: str = "nl",
    k: int = 5,
    binwidth: float = 5.0,
) -> Figure:
    """Histogram of goal attainment (GAS) T-scores, with the expected level (50) marked.

    Parameters
    ----------
    tscores : pandas.Series
        GAS T-scores (50 = goals attained as expected, SD 10 by construction).
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Fewer than ``k`` scores are not shown at all.
    binwidth : float, default 5
        Width of the bars; bins are aligned on multiples of it, so 50 is a bin edge.

    Returns
    -------
    Figure
    """
    check_lang(lang)
    values = pd.Series(tscores, dtype=float).dropna()
    if len(values) < k:
        raise DataError(f"Only {len(values)} GAS T-scores; at least {k} are needed to show them.")
    start = binwidth * np.floor(values.min() / binwidth)
    stop = binwidth * (np.floor(values.max() / binwidth) + 1)
    bins = np.arange(start, stop + binwidth / 2, binwidth)
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        sns.histplot(
            x=values.to_numpy(), bins=bins, ax=ax, color="#bbbbbb", edgecolor="black", linewidth=0.6
        )
        ax.axvline(50, color="black", linestyle="--", linewidth=1.2,
                   label="verwacht niveau (T = 50)" if lang == "nl" else "expected level (T = 50)")
        ax.set_xlabel("GAS T-score")
        ax.set_ylabel("Aantal" if lang == "nl" else "Count")
        ax.legend()
        _localise_axes(ax, lang)
    n = len(values)
    median = values.median()
    at_least = (values >= 50).mean()
    return Figure(
        figure=fig,
        alt_nl=(
            f"Histogram van de GAS T-scores van {fmt_int(n, 'nl')} respondenten. Mediaan "
            f"{fmt_num(median, 1, 'nl')}; {fmt_pct(at_least, 0, 'nl')} scoorde 50 of hoger "
            "(doelen minstens zoals verwacht bereikt)."
        ),
        alt_en=(
            f"Histogram of the GAS T-scores of {fmt_int(n, 'en')} respondents. Median "
            f"{fmt_num(median, 1, 'en')}; {fmt_pct(at_least, 0, 'en')} scored 50 or more "
            "(goals attained at least as expected)."
        ),
        caption_nl="Verdeling van de GAS T-scores. Stippellijn: verwacht niveau (T = 50).",
        caption_en="Distribution of the GAS T-scores. Dashed line: expected level (T = 50).",
    )


def plot_power_curve(
    table: pd.DataFrame,
    *,
    by: str | None = None,
    by_labels: Mapping[Hashable, str | tuple[str, str]] | None = None,
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
