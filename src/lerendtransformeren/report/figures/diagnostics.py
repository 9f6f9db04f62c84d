"""The diagnostic panel of a fitted mixed model: residuals, QQ plots and the influence of units.

:func:`plot_diagnostics` draws in one figure what R users draw with ``plot(m)``,
``qqnorm(resid(m))``, ``lattice::qqmath(ranef(m))`` and ``influence.ME``:

* linear mixed models: standardised conditional residuals (``residuals(m, type =
  "pearson", scaled = TRUE)``) against the fitted values with a lowess smoother, their
  normal QQ plot, and the scale-location plot (square root of the absolute standardised
  residuals against the fitted values);
* binomial GLMMs: binned residuals (Gelman & Hill, 2007, ``arm::binnedplot``): the mean
  residual ``y - p`` per bin of fitted probabilities with +-2 standard errors, since the
  residuals of a 0/1 outcome fall on two curves and a QQ plot of them says nothing;
* Poisson GLMMs: Pearson residuals against the fitted counts (log axis) with a lowess
  smoother, and the scale-location plot;
* every model: a normal QQ plot of the conditional modes (BLUPs) of each random term at
  each level, and Cook's distance of each unit of the top level from the refits without
  it (:meth:`MultilevelResult.influence`; ``influence=False`` skips the refits).

Units are shown by neutral labels ("organisatie A"), as in the other figures; the alt
text gives the numbers a reader who cannot see the panels needs.
"""

from __future__ import annotations

import textwrap

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label, join_words
from lerendtransformeren.presenters import register
from lerendtransformeren.report.figures.base import (
    STYLE,
    Figure,
    _fmt_g,
    _localise_axes,
    _new_figure,
    _unit_labels,
    _unit_noun,
)
from lerendtransformeren.report.figures.forest import _fixed_row_label
from lerendtransformeren.report.format import check_lang, fmt_count, fmt_k_of_n, fmt_num, fmt_pct
from lerendtransformeren.report.tables import level_label
from lerendtransformeren.report.text import factor_references
from lerendtransformeren.vocabulary import MODEL_CHECK_WORDS as W
from lerendtransformeren.vocabulary import NOT_ESTIMATED, TERM_LABELS, UNIT_NOUNS

__all__ = ["plot_diagnostics"]

_POINTS = {"s": 9, "facecolors": "none", "edgecolors": "#666666", "linewidths": 0.5}
_ZERO = {"color": "#777777", "linestyle": "--", "linewidth": 0.8}


@dataclass
class _Panel:
    """One panel: its title, its part of the caption and of the alt text, and how to draw it."""

    title: Label
    caption: Label
    alt: Label
    draw: Callable  # draw(ax, lang)


@dataclass
class _Model:
    """What the panels need of a fitted model."""

    kind: str  # "gaussian", "binomial" or "poisson"
    fitted: np.ndarray
    resid: np.ndarray  # standardised (linear) or Pearson (GLMM) residuals
    raw: np.ndarray  # response residuals y - fitted
    modes: list  # (level name, term, conditional modes)


@register("multilevel.plot_diagnostics")
def plot_diagnostics(result, lang: str = "nl", *, influence=True, level: str | None = None) -> Figure:
    """Model checks of a fitted mixed model in one figure (see the module notes).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    lang : {"nl", "en"}, default "nl"
    influence : bool or Influence, default True
        True: refit the model without each unit of ``level`` and show Cook's distance
        (:meth:`~lerendtransformeren.multilevel.MultilevelResult.influence`); False: skip
        the refits and that panel; an ``Influence`` computed before: show that one.
    level : str, optional
        The level whose units' influence is shown; default the top level.

    Returns
    -------
    Figure
        Panels A, B, ... with titles; the caption says how to read each, the alt text
        gives its main numbers.

    Raises
    ------
    SpecificationError
        ``result`` is not a fitted nested mixed model.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> fig = plot_diagnostics(m, lang="en", influence=False)
    >>> fig.caption_en.split(". ")[0]
    'Model checks of the multilevel model'
    """
    check_lang(lang)
    if not (hasattr(result, "residuals") and hasattr(result, "ranef") and hasattr(result, "frame")):
        raise SpecificationError(
            f"plot_diagnostics takes a fitted multilevel model (fit(...)); got {type(result).__name__}."
        )
    model = _gather(result)
    panels = _residual_panels(model)
    panels += [_modes_panel(name, term, values, model.kind) for name, term, values in model.modes]
    inf = None
    if influence is not False:
        inf = result.influence(level) if influence is True else influence
        panels.append(_influence_panel(inf, result))
    return _compose(panels, lang, has_influence=inf is not None)


def _gather(result) -> _Model:
    """Fitted values, residuals and conditional modes of ``result``."""
    kind = getattr(result, "family", "gaussian")
    fitted = result.fitted().to_numpy(float)
    resid = result.residuals("pearson").to_numpy(float)
    raw = result.residuals("response").to_numpy(float)
    modes = []
    for lev in reversed(result.frame.levels):  # the top level first
        table = result.ranef(lev.name)
        for term in table.columns:
            modes.append((lev.name, str(term), table[term].to_numpy(float)))
    return _Model(kind, fitted, resid, raw, modes)


def _compose(panels: list[_Panel], lang: str, has_influence: bool) -> Figure:
    """Lay the panels out two by two (the influence panel over the full width) and write the texts."""
    small = panels[:-1] if has_influence else panels
    rows = -(-len(small) // 2)
    heights = [2.35] * rows
    if has_influence:
        n_units = panels[-1].draw.n_units  # type: ignore[attr-defined]
        heights.append(max(1.9, 0.3 * n_units + 1.2))
    letters = [chr(ord("A") + i) for i in range(len(panels))]
    with mpl.rc_context({**STYLE, "axes.titlesize": 9, "axes.labelsize": 8.5, "xtick.labelsize": 8,
                         "ytick.labelsize": 8, "legend.fontsize": 8}):
        fig = _new_figure(6.3, sum(heights) + 0.2)
        grid = fig.add_gridspec(len(heights), 2, height_ratios=heights)
        for i, (panel, letter) in enumerate(zip(panels, letters)):
            full = has_influence and i == len(panels) - 1
            ax = fig.add_subplot(grid[rows, :] if full else grid[i // 2, i % 2])
            panel.draw(ax, lang)
            title = f"{letter}. {panel.title.pick(lang)}"
            ax.set_title(title if full else textwrap.fill(title, 40), loc="left")
            _localise_axes(ax, lang)
    texts = {}
    for lg in ("nl", "en"):
        parts = _caption_parts(panels, letters, lg)
        alts = [f"{letter}: {p.alt.pick(lg)}" for letter, p in zip(letters, panels)]
        head = _CAPTION_HEAD.pick(lg)
        texts[lg] = (f"{head} {' '.join(parts)}", f"{_ALT_HEAD.pick(lg).format(n=len(panels))} {' '.join(alts)}")
    return Figure(figure=fig, lang=lang, alt_nl=texts["nl"][1], alt_en=texts["en"][1],
                  caption_nl=texts["nl"][0], caption_en=texts["en"][0])


def _caption_parts(panels: list[_Panel], letters: list[str], lg: str) -> list[str]:
    """"A: ...", with panels that share a caption written once ("D\u2013F: ...")."""
    parts: list[str] = []
    i = 0
    while i < len(panels):
        j = i
        while j + 1 < len(panels) and panels[j + 1].caption == panels[i].caption:
            j += 1
        span = letters[i] if j == i else f"{letters[i]}\u2013{letters[j]}"
        parts.append(f"{span}: {panels[i].caption.pick(lg)}")
        i = j + 1
    return parts


_CAPTION_HEAD = Label(
    "Modelcontrole van het multilevelmodel. Residuen zijn conditioneel: na aftrek van de geschatte "
    "effecten van alle eenheden.",
    "Model checks of the multilevel model. Residuals are conditional: after subtracting the estimated "
    "effects of all units.",
)
_ALT_HEAD = Label(
    "Modelcontrole van een multilevelmodel in {n} deelfiguren.",
    "Model checks of a multilevel model in {n} panels.",
)


# -- residual panels ---------------------------------------------------------------------------
def _residual_panels(model: _Model) -> list[_Panel]:
    if model.kind == "binomial":
        return [_binned_panel(model)]
    ylabel = W["residual"] if model.kind == "gaussian" else W["pearson"]
    out = [_resid_fitted_panel(model, ylabel)]
    if model.kind == "gaussian":
        out.append(_qq_residual_panel(model))
    out.append(_scale_location_panel(model))
    return out


def _smooth(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lowess line through (x, y), as R's ``lowess(x, y)`` (f = 2/3, three robustness steps)."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    fit = lowess(y, x, frac=2 / 3, it=3, delta=0.01 * float(np.ptp(x)), return_sorted=True)
    return fit[:, 0], fit[:, 1]


def _fitted_axis(ax, model: _Model, lang: str) -> None:
    """The x axis of fitted values: counts on a log axis for a Poisson model."""
    if model.kind == "poisson":
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_g(v, lang)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(W["fitted_count"].pick(lang))
    else:
        ax.set_xlabel(W["fitted"].pick(lang))


def _resid_fitted_panel(model: _Model, ylabel: Label) -> _Panel:
    x, r = model.fitted, model.resid
    sx, sy = _smooth(np.log(x) if model.kind == "poisson" else x, r)
    if model.kind == "poisson":
        sx = np.exp(sx)
    beyond = float(np.mean(np.abs(r) > 2))

    def draw(ax, lang):
        ax.scatter(x, r, **_POINTS)
        ax.axhline(0, **_ZERO)
        ax.plot(sx, sy, color="black", linewidth=1.4)
        _fitted_axis(ax, model, lang)
        ax.set_ylabel(ylabel.pick(lang))

    lo, hi = float(sy.min()), float(sy.max())
    what = Label("gestandaardiseerde residuen", "standardised residuals") if model.kind == "gaussian" else \
        Label("Pearson-residuen", "Pearson residuals")
    against = Label("voorspelde waarden", "fitted values") if model.kind == "gaussian" else \
        Label("voorspelde aantallen", "fitted counts")
    alt = Label(
        f"de {what.nl} van {fmt_count(len(r), 'nl')} rijen tegen de {against.nl}; de lowess-lijn "
        f"loopt tussen {fmt_num(lo, 2, 'nl')} en {fmt_num(hi, 2, 'nl')} (0: geen patroon); "
        f"{fmt_pct(beyond, 1, 'nl')} van de residuen ligt buiten \u00b12.",
        f"the {what.en} of {fmt_count(len(r), 'en')} rows against the {against.en}; the lowess line "
        f"runs between {fmt_num(lo, 2, 'en')} and {fmt_num(hi, 2, 'en')} (0: no pattern); "
        f"{fmt_pct(beyond, 1, 'en')} of the residuals lie beyond \u00b12.",
    )
    caption = Label(
        "residuen tegen voorspelde waarden met een lowess-lijn. Beide bevatten de geschatte effecten van "
        "de eenheden; omdat die naar nul gekrompen zijn, loopt de lijn ook bij een juist model licht "
        "op. Een kromme lijn of een trechter wijst op een probleem.",
        "residuals against fitted values with a lowess smoother. Both include the estimated unit "
        "effects; because these are shrunk towards zero, the line rises slightly even when the model "
        "is right. A curved line or a funnel points to a problem.",
    ) if model.kind == "gaussian" else Label(
        "residuen tegen voorspelde waarden met een lowess-lijn; een vlakke lijn rond nul betekent "
        "geen systematisch patroon.",
        "residuals against fitted values with a lowess smoother; a flat line around zero means no "
        "systematic pattern.",
    )
    return _Panel(W["residuals_vs_fitted"], caption, alt, draw)


def _scale_location_panel(model: _Model) -> _Panel:
    x, root = model.fitted, np.sqrt(np.abs(model.resid))
    sx, sy = _smooth(np.log(x) if model.kind == "poisson" else x, root)
    if model.kind == "poisson":
        sx = np.exp(sx)
    ylabel = W["root_residual"] if model.kind == "gaussian" else W["root_pearson"]

    def draw(ax, lang):
        ax.scatter(x, root, **_POINTS)
        ax.plot(sx, sy, color="black", linewidth=1.4)
        _fitted_axis(ax, model, lang)
        ax.set_ylabel(ylabel.pick(lang))

    first, last = float(sy[0]), float(sy[-1])
    alt = Label(
        f"de wortel van de absolute residuen tegen de voorspelde waarde; de lowess-lijn gaat van "
        f"{fmt_num(first, 2, 'nl')} bij de laagste naar {fmt_num(last, 2, 'nl')} bij de hoogste "
        "voorspelde waarde.",
        f"the square root of the absolute residuals against the fitted value; the lowess line goes "
        f"from {fmt_num(first, 2, 'en')} at the lowest to {fmt_num(last, 2, 'en')} at the highest "
        "fitted value.",
    )
    caption = Label(
        "wortel van de absolute residuen tegen voorspelde waarden; een vlakke lijn betekent gelijke "
        "spreiding.",
        "square root of the absolute residuals against fitted values; a flat line means equal spread.",
    )
    return _Panel(W["scale_location"], caption, alt, draw)


def _qq_points(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Normal quantiles and sorted values (R's ``qqnorm``) and the line through the quartiles (``qqline``)."""
    v = np.sort(values[np.isfinite(values)])
    n = len(v)
    a = 3 / 8 if n <= 10 else 0.5
    q = stats.norm.ppf((np.arange(1, n + 1) - a) / (n + 1 - 2 * a))
    y1, y2 = np.quantile(v, [0.25, 0.75])
    x1, x2 = stats.norm.ppf([0.25, 0.75])
    slope = (y2 - y1) / (x2 - x1)
    return q, v, slope, y1 - slope * x1


def _draw_qq(ax, values: np.ndarray, ylabel: str, lang: str) -> None:
    q, v, slope, icpt = _qq_points(values)
    ax.scatter(q, v, **_POINTS)
    ends = np.array([q.min(), q.max()]) if len(q) else np.array([-1.0, 1.0])
    ax.plot(ends, icpt + slope * ends, color="black", linewidth=1.1)
    ax.set_xlabel(W["normal_quantiles"].pick(lang))
    ax.set_ylabel(ylabel)


def _shape(values: np.ndarray, lg: str) -> str:
    """Skewness and excess kurtosis in words."""
    skew, kurt = float(stats.skew(values)), float(stats.kurtosis(values))
    if lg == "nl":
        return f"scheefheid {fmt_num(skew, 2, 'nl')}, overtollige kurtosis {fmt_num(kurt, 2, 'nl')}"
    return f"skewness {fmt_num(skew, 2, 'en')}, excess kurtosis {fmt_num(kurt, 2, 'en')}"


def _qq_residual_panel(model: _Model) -> _Panel:
    r = model.resid

    def draw(ax, lang):
        _draw_qq(ax, r, W["residual"].pick(lang), lang)

    lo, hi = float(r.min()), float(r.max())
    beyond3 = int(np.sum(np.abs(r) > 3))
    many = Label(fmt_count(beyond3, "nl"), fmt_count(beyond3, "en")) if beyond3 else Label("geen", "none")
    alt = Label(
        f"de gestandaardiseerde residuen tegen normale kwantielen; {_shape(r, 'nl')}; van "
        f"{fmt_num(lo, 2, 'nl')} tot {fmt_num(hi, 2, 'nl')}, {many.nl} buiten \u00b13.",
        f"the standardised residuals against normal quantiles; {_shape(r, 'en')}; from "
        f"{fmt_num(lo, 2, 'en')} to {fmt_num(hi, 2, 'en')}, {many.en} beyond \u00b13.",
    )
    caption = Label(
        "normaal-QQ-plot van de gestandaardiseerde residuen; punten op de lijn betekenen een normale "
        "verdeling.",
        "normal QQ plot of the standardised residuals; points on the line mean a normal distribution.",
    )
    return _Panel(W["qq_residuals"], caption, alt, draw)


def _binned_panel(model: _Model) -> _Panel:
    """Binned residuals: mean ``y - p`` per bin of fitted probabilities with +-2 SE."""
    p, raw = model.fitted, model.raw
    n_bins = int(np.clip(round(np.sqrt(len(p))), 2, 50))
    bins = np.array_split(np.argsort(p, kind="stable"), n_bins)
    x = np.array([p[b].mean() for b in bins])
    y = np.array([raw[b].mean() for b in bins])
    band = np.array([2 * raw[b].std(ddof=1) / np.sqrt(len(b)) if len(b) > 1 else np.nan for b in bins])
    outside = int(np.sum(np.abs(y) > band))

    def draw(ax, lang):
        ax.axhline(0, **_ZERO)
        ax.plot(x, band, color="#555555", linewidth=1.0, linestyle=":")
        ax.plot(x, -band, color="#555555", linewidth=1.0, linestyle=":")
        ax.plot(x, y, "o", color="black", markersize=3.5)
        ax.set_xlabel(W["fitted_probability"].pick(lang))
        ax.set_ylabel(W["mean_residual"].pick(lang))

    alt = Label(
        f"het gemiddelde residu in {fmt_count(n_bins, 'nl')} groepen van voorspelde kansen; bij "
        f"{fmt_k_of_n(outside, n_bins, 'nl')} groepen ligt het buiten \u00b12 standaardfouten "
        "(bij een passend model ongeveer 5%).",
        f"the mean residual in {fmt_count(n_bins, 'en')} bins of fitted probabilities; for "
        f"{fmt_k_of_n(outside, n_bins, 'en')} bins it lies beyond \u00b12 standard errors (about 5% "
        "when the model fits).",
    )
    caption = Label(
        "gegroepeerde residuen (Gelman & Hill, 2007): het gemiddelde van uitkomst min voorspelde kans "
        "per groep rijen met vergelijkbare voorspelde kansen; de stippellijnen liggen op \u00b12 "
        "standaardfouten, en bij een passend model valt ongeveer 95% van de punten daartussen.",
        "binned residuals (Gelman & Hill, 2007): the mean of outcome minus fitted probability per "
        "group of rows with similar fitted probabilities; the dotted lines lie at \u00b12 standard "
        "errors, and when the model fits about 95% of the points fall between them.",
    )
    return _Panel(W["binned"], caption, alt, draw)


# -- conditional modes ----------------------------------------------------------------------------
def _mode_term(term: str, article: bool) -> Label:
    """A random term in words: "(het) intercept", "(de) helling van meetmoment"."""
    if term in ("Intercept", "(Intercept)"):
        return W["the_intercept"] if article else W["intercept"]
    name = (TERM_LABELS.get(term) or Label.same(term)).map(str.lower)
    return (W["the_slope_of"] if article else W["slope_of"]) + name


def _modes_panel(level: str, term: str, values: np.ndarray, kind: str) -> _Panel:
    where = level_label(level)
    scale = {"binomial": W["log_odds"], "poisson": W["log_rate"]}.get(kind, Label.same(""))
    title = W["qq_modes"] + "\n" + where.cap() + ", " + _mode_term(term, article=False)

    def draw(ax, lang):
        _draw_qq(ax, values, (W["mode"] + scale).pick(lang), lang)

    what = _mode_term(term, article=True)
    n = len(values)
    alt = Label(
        f"de {fmt_count(n, 'nl')} conditionele modi van {what.nl} per {where.nl.lower()} tegen normale "
        f"kwantielen; {_shape(values, 'nl')}; van {fmt_num(values.min(), 2, 'nl')} tot "
        f"{fmt_num(values.max(), 2, 'nl')}.",
        f"the {fmt_count(n, 'en')} conditional modes of {what.en} per {where.en.lower()} against normal "
        f"quantiles; {_shape(values, 'en')}; from {fmt_num(values.min(), 2, 'en')} to "
        f"{fmt_num(values.max(), 2, 'en')}.",
    )
    caption = Label(
        "normaal-QQ-plots van de conditionele modi (de geschatte effecten van de eenheden) per niveau "
        "en term; ze zijn naar nul gekrompen, dus alleen grove afwijkingen van de lijn tellen.",
        "normal QQ plots of the conditional modes (the estimated effects of the units) per level and "
        "term; they are shrunk towards zero, so only gross departures from the line count.",
    )
    return _Panel(title, caption, alt, draw)


# -- influence -------------------------------------------------------------------------------------
def _changed_terms(inf, result) -> dict[str, list[str]]:
    """Per unit the terms whose sign or significance changes without it."""
    t = inf.terms
    hit = t[t["sign_change"] | t["significance_change"]]
    out: dict[str, list[str]] = {}
    for unit, term in hit.index:
        out.setdefault(unit, []).append(term)
    return out


def _influence_panel(inf, result) -> _Panel:
    units = inf.units
    noun = _unit_noun(inf.level)
    frame = pd.DataFrame({"unit": units.index.astype(str), "d": units["cooks_distance"].to_numpy(float)})
    changed = _changed_terms(inf, result)
    frame["changed"] = frame["unit"].map(lambda u: u in changed)
    frame = frame.sort_values(["d", "unit"], ascending=[True, True], na_position="first", kind="stable")
    refs = factor_references(result.frame)

    def draw(ax, lang):
        names = _unit_labels(frame["unit"].reset_index(drop=True), noun, lang).tolist()
        pos = np.arange(len(frame))
        d = frame["d"].to_numpy()
        has = np.isfinite(d)
        ax.hlines(pos[has], 0, d[has], color="#999999", linewidth=0.9)
        on = has & frame["changed"].to_numpy()
        ax.plot(d[on], pos[on], "o", color="black", markersize=5.5, linestyle="none")
        ax.plot(d[has & ~on], pos[has & ~on], "o", markerfacecolor="white", color="black",
                markersize=5.5, linestyle="none")
        ax.axvline(inf.cooks_cutoff, color="#555555", linestyle="--", linewidth=0.9)
        blend = mpl.transforms.blended_transform_factory(ax.transAxes, ax.transData)
        for i in np.flatnonzero(~has):
            ax.text(0.02, pos[i], NOT_ESTIMATED.pick(lang), transform=blend, va="center", style="italic", fontsize=8)
        for i in np.flatnonzero(on):
            words = join_words([_fixed_row_label(t, refs).pick(lang) for t in changed[frame["unit"].iloc[i]]], lang)
            note = ax.annotate(textwrap.fill(words, 58), (d[i], pos[i]), xytext=(6, 0), textcoords="offset points",
                               va="center", fontsize=7, linespacing=1.0)
            note.set_in_layout(False)  # the axis leaves room for it (xlim); it must not squeeze the panels
        ax.set_yticks(pos, names)
        ax.set_ylim(-0.7, len(pos) - 0.3)
        widest = max(np.nanmax(d) if has.any() else 0, inf.cooks_cutoff)
        ax.set_xlim(0, widest * (2.4 if on.any() else 1.35))  # names of changed terms go right of the points
        ax.set_xlabel(W["cooks"].pick(lang))
        ax.grid(axis="y", visible=False)
        handles = [Line2D([], [], marker="o", color="black", linestyle="none", markersize=5.5),
                   Line2D([], [], marker="o", markerfacecolor="white", color="black", linestyle="none", markersize=5.5),
                   Line2D([], [], color="#555555", linestyle="--")]
        cut = f"{W['cutoff'].pick(lang)} = {fmt_num(inf.cooks_cutoff, 2, lang)}"
        ax.legend(handles, [W["changed"].pick(lang), W["unchanged"].pick(lang), cut], loc="upper center",
                  bbox_to_anchor=(0.5, -0.14 - 0.6 / max(len(pos), 1)), ncol=3, frameon=False)

    draw.n_units = len(frame)  # type: ignore[attr-defined]
    one = UNIT_NOUNS.get(noun) or W["unit"]
    title = W["influence"] + " " + (UNIT_NOUNS.get(noun) or W["unit"])
    return _Panel(title, _influence_caption(one), _influence_alt(inf, frame, changed, noun, refs), draw)


def _influence_caption(one: Label) -> Label:
    return Label(
        f"Cook's afstand van de vaste effecten bij weglaten van elke {one.nl} en opnieuw schatten "
        "(influence.ME); stippellijn: de vuistregel 4/n; gevulde punten: zonder die "
        f"{one.nl} verandert het teken of de significantie van een vast effect (genoemd naast het punt).",
        f"Cook's distance of the fixed effects when each {one.en} is left out and the model refitted "
        "(influence.ME); dashed line: the rule of thumb 4/n; filled points: without that "
        f"{one.en} the sign or significance of a fixed effect changes (named beside the point).",
    )


def _influence_alt(inf, frame: pd.DataFrame, changed: dict, noun: str, refs: dict) -> Label:
    out = {}
    for lg in ("nl", "en"):
        names = dict(zip(frame["unit"], _unit_labels(frame["unit"].reset_index(drop=True), noun, lg)))
        ranked = frame.dropna(subset=["d"]).iloc[::-1]
        listed = "; ".join(f"{names[u]} {fmt_num(d, 2, lg)}" for u, d in zip(ranked["unit"], ranked["d"]))
        above = [names[u] for u, d in zip(ranked["unit"], ranked["d"]) if d > inf.cooks_cutoff]
        cut = fmt_num(inf.cooks_cutoff, 2, lg)
        failed = [names[u] for u, d in zip(frame["unit"], frame["d"]) if not np.isfinite(d)]
        shifts = [f"{names[u]}: {join_words([_fixed_row_label(t, refs).pick(lg) for t in terms], lg)}"
                  for u, terms in sorted(changed.items(), key=lambda kv: names[kv[0]])]
        if lg == "nl":
            text = (f"Cook's afstand per weggelaten {UNIT_NOUNS.get(noun, W['unit']).nl}, van groot naar klein: "
                    f"{listed}. Boven de vuistregel 4/n = {cut}: {join_words(above, lg) or 'geen'}.")
            text += f" Teken of significantie verandert zonder: {'; '.join(shifts)}." if shifts else \
                (f" Het weglaten van één {UNIT_NOUNS.get(noun, W['unit']).nl} verandert bij geen enkel vast effect "
                 "het teken of de significantie.")
            text += f" Niet opnieuw te schatten zonder: {join_words(failed, lg)}." if failed else ""
        else:
            text = (f"Cook's distance per deleted {UNIT_NOUNS.get(noun, W['unit']).en}, from large to small: "
                    f"{listed}. Above the rule of thumb 4/n = {cut}: {join_words(above, lg) or 'none'}.")
            text += f" Sign or significance changes without: {'; '.join(shifts)}." if shifts else \
                (f" Leaving out any one {UNIT_NOUNS.get(noun, W['unit']).en} changes neither the sign nor the "
                 "significance of any fixed effect.")
            text += f" Could not be refitted without: {join_words(failed, lg)}." if failed else ""
        out[lg] = text
    return Label(out["nl"], out["en"])
