"""Estimates with intervals, one row each: forest plots and caterpillar plots of unit effects."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import Label, cap as cap_first
from lerendtransformeren.presenters import register
from lerendtransformeren.report.figures.base import (
    STYLE,
    Figure,
    _both,
    _fmt_g,
    _label,
    _localise_axes,
    _new_figure,
    _require,
    _unit_labels,
    _unit_noun,
)
from lerendtransformeren.report.format import check_lang, fmt_ci, fmt_count, fmt_k_of_n, fmt_num
from lerendtransformeren.report.text import factor_references, term_phrase
from lerendtransformeren.vocabulary import MODEL_CHECK_WORDS, NOT_ESTIMATED, TERM_LABELS, UNIT_NOUNS, UNIT_PLURALS

#: What a forest plot shows in a row without an estimate.


@register("multilevel.plot_caterpillar")
def plot_caterpillar(
    effects,
    level: str | None = None,
    *,
    term: str = "Intercept",
    unit: str | None = None,
    label: str | Label | None = None,
    conf_level: float = 0.95,
    lang: str = "nl",
) -> Figure:
    """Caterpillar plot: unit effects with intervals, sorted, units pseudonymised.

    Parameters
    ----------
    effects : pandas.DataFrame or a fitted model
        A frame with columns ``unit, estimate, ci_low, ci_high`` (for example conditional
        modes of the organisation intercepts with 95% prediction intervals); or a fitted
        ``MultilevelResult`` / ``GLMMResult``, whose conditional modes of ``term`` at
        ``level`` are drawn with ``mode +/- z * conditional SD`` (its
        ``ranef_intervals``; R: ``lattice::dotplot(ranef(m, condVar = TRUE))``).
    level : str, optional
        With a model (required there): the grouping level, e.g. ``"organisation"``.
    term : str, default "Intercept"
        With a model: the random-effect term of that level.
    unit : str, optional
        What the units are (a unit of the data contract: ``"organisation"``, ``"team"``,
        ...); they are shown as "organisatie A", "team B", ... Default: ``"organisation"``
        for a frame; for a model the level's last factor ("eenheid" if the data contract
        does not know it).
    label : str or (nl, en), optional
        Axis label of the effect; default "afwijking van het gemiddelde" (for a slope "...
        in de helling van <term>"; a GLMM adds the link scale).
    conf_level : float, default 0.95
        The level of the intervals: with a model the intervals drawn, with a frame the
        level its intervals have (the caption names it).
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    Figure

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> plot_caterpillar(m, "org", lang="en").alt_en[:60]
    'Caterpillar plot of the deviation from the mean of 10 units '
    """
    check_lang(lang)
    if isinstance(effects, pd.DataFrame):
        if level is not None:
            raise SpecificationError(
                "level= applies to a fitted model; a frame of effects already holds one level's units."
            )
        unit = "organisation" if unit is None else unit
        label = ("afwijking van het gemiddelde", "deviation from the mean") if label is None else label
    else:
        effects, unit, label = _model_effects(effects, level, term, unit, label, conf_level)
    if unit not in UNIT_NOUNS and unit != "unit":
        raise SpecificationError(f"unit={unit!r} must be one of {sorted([*UNIT_NOUNS, 'unit'])}.")
    _require(effects, ["unit", "estimate", "ci_low", "ci_high"], "effects frame")
    if effects.empty:
        raise DataError("The effects frame is empty; there are no units to plot.")
    frame = effects.assign(name=_unit_labels(effects["unit"].reset_index(drop=True), unit, lang).to_numpy())
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
        ax.set_xlabel(cap_first(_label(label, lang)))
        _localise_axes(ax, lang)

    one = UNIT_NOUNS.get(unit) or MODEL_CHECK_WORDS["unit"]
    many = UNIT_PLURALS.get(unit) or MODEL_CHECK_WORDS["units"]
    # letters are the same in both languages: only the noun of the label differs
    ends = [(frame.iloc[i]["estimate"], frame.iloc[i]["name"].split()[-1]) for i in (0, -1)]
    lo_nl, hi_nl = (f"{fmt_num(est, 2, 'nl')} ({one.nl} {letter})" for est, letter in ends)
    lo_en, hi_en = (f"{fmt_num(est, 2, 'en')} ({one.en} {letter})" for est, letter in ends)
    away = int(((frame["ci_low"] > 0) | (frame["ci_high"] < 0)).sum())
    lab_nl, lab_en = label
    n = len(frame)
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=(
            f"Rupsfiguur van de {lab_nl} van {fmt_count(n, 'nl')} {many.nl} met intervallen, "
            f"gesorteerd van laag naar hoog: van {lo_nl} tot {hi_nl}. Bij "
            f"{fmt_k_of_n(away, n, 'nl')} {many.nl} ligt het interval geheel boven of onder nul."
        ),
        alt_en=(
            f"Caterpillar plot of the {lab_en} of {fmt_count(n, 'en')} {many.en} with intervals, "
            f"sorted from low to high: from {lo_en} to {hi_en}. For {fmt_k_of_n(away, n, 'en')} "
            f"{many.en} the interval lies entirely above or below zero."
        ),
        caption_nl=f"Geschatte {lab_nl} per {one.nl} met {_level_pct(conf_level, 'nl')}-intervallen, van laag naar hoog.",
        caption_en=f"Estimated {lab_en} per {one.en} with {_level_pct(conf_level, 'en')} intervals, from low to high.",
    )


def _model_effects(model, level, term: str, unit, label, conf_level: float):
    """The effects frame, unit noun and axis label of a caterpillar plot drawn from a fitted model."""
    if not hasattr(model, "ranef_intervals"):
        raise SpecificationError(
            "plot_caterpillar takes a frame with columns unit, estimate, ci_low, ci_high, or a fitted "
            f"multilevel model and a level; got {type(model).__name__}."
        )
    if level is None:
        names = [lev.name for lev in model.frame.levels]
        raise SpecificationError(f"Name the level to plot, e.g. plot_caterpillar(m, {names[-1]!r}); the levels are {names}.")
    intervals = model.ranef_intervals(level, term=term, conf_level=conf_level)
    lev = model.frame.levels[model._level_index(level)]
    effects = intervals.rename_axis("unit").reset_index()
    if label is None:
        words = MODEL_CHECK_WORDS
        label = words["deviation"] if term == "Intercept" else words["slope_deviation"] + term
        family = getattr(model, "family", None)
        if family is not None:
            label = label + words["log_odds" if family == "binomial" else "log_rate"]
    return effects, (_unit_noun(lev.name) if unit is None else unit), label


def plot_forest(
    frame: pd.DataFrame,
    *,
    xlabel: str | Label,
    label_col: str = "label",
    estimate: str = "estimate",
    ci_low: str = "ci_low",
    ci_high: str = "ci_high",
    null: float = 0.0,
    log: bool = False,
    annotate: bool | str | None = None,
    title: str | Label | None = None,
    level: float = 0.95,
    digits: int = 2,
    lang: str = "nl",
) -> Figure:
    """Forest plot: one row per item, its estimate as a point with its interval as a line.

    Rows are drawn top to bottom in the order of ``frame`` (for example one row per
    transformation goal), with a dashed line at the no-effect value ``null``. A row
    without an estimate is kept and reads "niet geschat" / "not estimated".

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per item with the columns below.
    xlabel : str or (nl, en)
        What the x axis shows, with its direction, e.g. ``("Gestandaardiseerd effect (d);
        positief = gunstig", "Standardised effect (d); positive = favourable")``.
    label_col : str, default "label"
        Column of the row labels: text, or ``(nl, en)`` pairs for both languages. (In
        this module ``label`` is an axis label, hence the suffix.)
    estimate, ci_low, ci_high : str
        Columns of the estimate and the bounds of its interval (NaN: not estimated).
    null : float, default 0
        The no-effect value: 0 for differences, 1 for ratios.
    log : bool, default False
        A logarithmic x axis, for ratios (odds ratios, rate ratios); all values and
        ``null`` must then be positive.
    annotate : bool or str, optional
        True: write "estimate [low; high]" right of each row, in the language's number
        format; a column name: write that column's text (str or ``(nl, en)``).
    title : str or (nl, en), optional
        Figure title: the first sentence of the caption (figures carry no title inside
        the image).
    level : float, default 0.95
        Confidence level of the intervals, for the caption and alt text.
    digits : int, default 2
        Decimals of the numbers in annotations and alt text.
    lang : {"nl", "en"}, default "nl"

    Returns
    -------
    Figure
        Its alt text gives every row's estimate and interval.

    Raises
    ------
    SpecificationError
        If a column is missing or ``annotate`` names no column.
    DataError
        If no row has an estimate, a lower bound exceeds its upper bound, or ``log`` is
        set with values at or below zero.

    Examples
    --------
    >>> effects = pd.DataFrame({"label": ["1. Preventie", "2. Toegang"],
    ...     "estimate": [0.35, float("nan")], "ci_low": [0.12, float("nan")],
    ...     "ci_high": [0.58, float("nan")]})
    >>> fig = plot_forest(effects, xlabel=("Effect (d)", "Effect (d)"), annotate=True)
    >>> fig.alt_en
    'Forest plot with 2 rows, each with a point for the estimate and a line for its 95% confidence interval. X axis: Effect (d); a dashed line marks no effect (0). 1. Preventie: 0.35 [0.12, 0.58]; 2. Toegang: not estimated. The interval of the estimated row lies entirely on one side of 0.'
    """
    check_lang(lang)
    rows = _forest_rows(
        frame, label_col, estimate, ci_low, ci_high,
        annotate=annotate, null=null, log=log, digits=digits,
    )
    n = len(rows.labels)
    pos = np.arange(n, dtype=float)[::-1]
    xlabel = _both(xlabel)
    with mpl.rc_context({**STYLE, "axes.grid.axis": "x"}):
        size = mpl.rcParams["ytick.labelsize"]  # annotations read like the row labels
        fig = _new_figure(6.3, max(1.8, 0.4 * n + 1.1))
        ax = fig.add_subplot()
        _draw_forest(ax, rows, pos, null=null, log=log, lang=lang)
        _write_forest_rows(ax, rows, pos, annotate=annotate, level=level, size=size, lang=lang)
        ax.set_yticks(pos, [_row_tick(v, lang) for v in rows.labels])
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel(xlabel.pick(lang))
        _localise_axes(ax, lang)

    missing = bool((~rows.has).any())
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=_forest_alt(rows, xlabel, null=null, log=log, level=level, lg="nl"),
        alt_en=_forest_alt(rows, xlabel, null=null, log=log, level=level, lg="en"),
        caption_nl=_forest_caption(title, null=null, log=log, level=level, missing=missing, lg="nl"),
        caption_en=_forest_caption(title, null=null, log=log, level=level, missing=missing, lg="en"),
    )


@register("multilevel.plot_fixed")
def plot_fixed(
    result,
    terms: list[str] | None = None,
    labels: Mapping[str, str | Label] | None = None,
    lang: str = "nl",
    *,
    annotate: bool = True,
    digits: int = 2,
) -> Figure:
    """Forest plot of a fitted model's fixed effects: estimates with confidence intervals.

    A linear mixed model shows the estimates b with the intervals of ``result.fixed`` (its
    df method) on a linear axis with a dashed line at 0; a GLMM shows odds ratios
    (binomial) or rate ratios (Poisson) from ``result.ratios()`` on a logarithmic axis with
    a dashed line at 1. R equivalent: ``sjPlot::plot_model(m)`` (a forest plot of
    ``fixef(m)`` with ``confint(m, method = "Wald")``).

    Parameters
    ----------
    result : MultilevelResult or GLMMResult
    terms : list of str, optional
        The fixed effects to show, top to bottom; default every term but the intercept
        (which is on another scale), or the intercept if it is the only term.
    labels : mapping, optional
        Row labels per term, text or ``(nl, en)``; default the package's term labels
        (:data:`~lerendtransformeren.vocabulary.TERM_LABELS`), factor levels as "meetmoment
        T1 (t.o.v. T0)", other terms by their name.
    lang : {"nl", "en"}, default "nl"
    annotate : bool, default True
        Write "estimate [low; high]" right of each row.
    digits : int, default 2

    Returns
    -------
    Figure

    Raises
    ------
    SpecificationError
        ``result`` is not a fitted model, or ``terms`` names a term the model does not have.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> m = fit("y ~ wave + (1 | org/team)", nested_example())
    >>> plot_fixed(m, lang="en").alt_en.split(". ")[2]
    'Wave: 0.19 [0.12, 0.26]'
    """
    check_lang(lang)
    if not hasattr(result, "fixed") or not hasattr(result, "frame"):
        raise SpecificationError(f"plot_fixed takes a fitted multilevel model; got {type(result).__name__}.")
    glmm = hasattr(result, "ratios")
    table = result.ratios() if glmm else result.fixed
    names = [str(t) for t in table.index]
    if terms is None:
        terms = [t for t in names if t not in ("Intercept", "(Intercept)")] or names
    unknown = [t for t in terms if t not in names]
    if unknown:
        raise SpecificationError(f"Unknown fixed effect(s) {unknown}; the model has {names}.")
    refs = factor_references(result.frame)
    own = {k: _both(v) for k, v in (labels or {}).items()}
    rows = pd.DataFrame({
        "label": [own.get(t) or _fixed_row_label(t, refs) for t in terms],
        "estimate": table.loc[terms, "ratio" if glmm else "estimate"].to_numpy(float),
        "ci_low": table.loc[terms, "ci_low"].to_numpy(float),
        "ci_high": table.loc[terms, "ci_high"].to_numpy(float),
    })
    words = MODEL_CHECK_WORDS
    xlabel = words[table.attrs["name"]] if glmm else words["estimate"]
    return plot_forest(rows, xlabel=xlabel, null=1.0 if glmm else 0.0, log=glmm, annotate=annotate,
                       title=words["fixed_title"], level=result.conf_level, digits=digits, lang=lang)


def _fixed_row_label(term: str, refs: Mapping[str, str]) -> Label:
    """A fixed effect as a row label: the term labels, factor levels read out, interactions with "×"."""
    words = []
    for part in term.split(":"):
        known = TERM_LABELS.get(part)
        if known is None:
            phrase = term_phrase(part, refs)
            known = phrase if phrase == Label.same(part) else phrase.cap()
        words.append(known)
    return Label(" \u00d7 ".join(w.nl for w in words), " \u00d7 ".join(w.en for w in words))


def _row_name(v, lg: str) -> str:
    """A row label in ``lg``: text or an ``(nl, en)`` pair; anything else as its ``str``."""
    return _label(v, lg) if isinstance(v, (str, tuple)) else str(v)


def _row_tick(v, lg: str) -> str:
    """The row label on the axis: long labels on two lines, so the plot keeps its width."""
    return textwrap.fill(_row_name(v, lg), 32, break_long_words=False)


def _level_pct(level: float, lg: str) -> str:
    """The confidence level as a percentage, e.g. ``95%`` or ``97,5%``."""
    return fmt_num(100 * level, 0 if float(100 * level).is_integer() else 1, lg) + "%"


@dataclass
class _ForestRows:
    """The rows of a forest plot: their labels, estimates and bounds (NaN where missing)."""

    data: pd.DataFrame
    labels: pd.Series
    est: np.ndarray
    low: np.ndarray
    high: np.ndarray
    has: np.ndarray  # rows with an estimate
    has_ci: np.ndarray  # rows with an estimate and both bounds
    digits: int

    def numbers(self, i: int, lg: str) -> str:
        """Row ``i`` as "estimate [low; high]", or why it has no estimate or interval."""
        if not self.has[i]:
            return NOT_ESTIMATED.pick(lg)
        point = fmt_num(self.est[i], self.digits, lg)
        if not self.has_ci[i]:
            return f"{point} ({'geen BI' if lg == 'nl' else 'no CI'})"
        return f"{point} {fmt_ci(self.low[i], self.high[i], self.digits, lg)}"

    def note(self, i: int, annotate: bool | str, lg: str) -> str:
        """The annotation right of row ``i``: its numbers, or the text in column ``annotate``."""
        if annotate is True:
            return self.numbers(i, lg) if self.has[i] else ""
        v = self.data.loc[i, annotate]
        return "" if not isinstance(v, (str, tuple)) and pd.isna(v) else _row_name(v, lg)


def _forest_rows(
    frame: pd.DataFrame,
    label_col: str,
    estimate: str,
    ci_low: str,
    ci_high: str,
    *,
    annotate: bool | str | None,
    null: float,
    log: bool,
    digits: int,
) -> _ForestRows:
    """Check the forest frame (see :func:`plot_forest` for what is refused) and read its rows."""
    _require(frame, [label_col, estimate, ci_low, ci_high], "forest frame")
    if isinstance(annotate, str):
        _require(frame, [annotate], "forest frame (annotate)")
    elif annotate not in (None, True, False):
        raise SpecificationError(f"annotate={annotate!r} must be True, False/None or a column name.")
    if frame.empty:
        raise DataError("The forest frame is empty; there are no rows to plot.")
    data = frame.reset_index(drop=True)
    est = pd.to_numeric(data[estimate], errors="coerce").to_numpy(dtype=float)
    low = pd.to_numeric(data[ci_low], errors="coerce").to_numpy(dtype=float)
    high = pd.to_numeric(data[ci_high], errors="coerce").to_numpy(dtype=float)
    has = ~np.isnan(est)
    has_ci = has & ~np.isnan(low) & ~np.isnan(high)
    if not has.any():
        raise DataError(f"No row has an estimate in {estimate!r}; there is nothing to plot.")
    if (low[has_ci] > high[has_ci]).any():
        raise DataError(f"Some rows have {ci_low!r} above {ci_high!r}; are the columns swapped?")
    if log:
        finite = np.concatenate([est[has], low[has_ci], high[has_ci], [null]])
        if (finite <= 0).any():
            raise DataError(
                "A log axis (log=True) needs positive estimates, bounds and null (ratios, with "
                "null=1); differences belong on a linear axis (log=False, null=0)."
            )
    return _ForestRows(data, data[label_col], est, low, high, has, has_ci, digits)


def _draw_forest(ax, rows: _ForestRows, pos: np.ndarray, *, null: float, log: bool, lang: str) -> None:
    """The null line, intervals and estimates of a forest plot, and its x and y range."""
    est, low, high, has, has_ci = rows.est, rows.low, rows.high, rows.has, rows.has_ci
    if log:
        ax.set_xscale("log")
    ax.axvline(null, color="#555555", linestyle="--", linewidth=0.9, zorder=1, gid="forest-null")
    ax.hlines(pos[has_ci], low[has_ci], high[has_ci], color="black", linewidth=1.3, zorder=2,
              gid="forest-ci")
    ax.plot(est[has], pos[has], "o", color="black", markersize=5.5, linestyle="none", zorder=3,
            gid="forest-estimate")
    # x range: every bound and the null line, with a margin (in log space for ratios)
    span = np.concatenate([est[has], low[has_ci], high[has_ci], [null]])
    if log:
        lo_x, hi_x = np.log(span.min()), np.log(span.max())
        pad = 0.08 * (hi_x - lo_x or 1.0)
        ax.set_xlim(np.exp(lo_x - pad), np.exp(hi_x + pad))
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt_g(v, lang)))
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        pad = 0.08 * (span.max() - span.min() or 1.0)
        ax.set_xlim(span.min() - pad, span.max() + pad)
    ax.set_ylim(-0.6, len(pos) - 0.4)


def _write_forest_rows(
    ax, rows: _ForestRows, pos: np.ndarray, *, annotate: bool | str | None, level: float,
    size, lang: str,
) -> None:
    """"Not estimated" on rows without an estimate, and the annotations right of the rows."""
    n = len(pos)
    blend = mpl.transforms.blended_transform_factory(ax.transAxes, ax.transData)
    for i in np.flatnonzero(~rows.has):
        ax.text(0.5, pos[i], NOT_ESTIMATED.pick(lang), transform=blend, ha="center",
                va="center", style="italic", color="#333333", fontsize=size,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
    if annotate:
        for i in range(n):
            text = rows.note(i, annotate, lang)
            if text:
                ax.text(1.02, pos[i], text, transform=blend, ha="left", va="center",
                        fontsize=size, clip_on=False)
        if annotate is True:
            pct = _level_pct(level, lang)
            head = f"Schatting [{pct}-BI]" if lang == "nl" else f"Estimate [{pct} CI]"
            ax.text(1.02, n - 0.4, head, transform=blend, ha="left", va="bottom",
                    fontsize=size, fontweight="bold", clip_on=False)


def _forest_alt(
    rows: _ForestRows, xlabel: Label, *, null: float, log: bool, level: float, lg: str
) -> str:
    """Alt text of a forest plot in ``lg``: every row's estimate and interval."""
    n = len(rows.labels)
    away = int(((rows.low[rows.has_ci] > null) | (rows.high[rows.has_ci] < null)).sum())
    with_ci = int(rows.has_ci.sum())
    listed = "; ".join(f"{_row_name(v, lg)}: {rows.numbers(i, lg)}" for i, v in enumerate(rows.labels))
    ref = _fmt_g(null, lg)
    pct = _level_pct(level, lg)
    if with_ci == 1:  # 'for all one estimated rows' is no sentence
        side = Label("Het interval van de geschatte rij ligt {}geheel aan één kant van {}.",
                     "The interval of the estimated row {} entirely on one side of {}.")
        side = side.pick(lg).format(Label("" if away else "niet ", "lies" if away else "does not lie").pick(lg), ref)
    else:
        side = Label("Bij {} geschatte rijen ligt het interval geheel aan één kant van {}.",
                     "For {} estimated rows the interval lies entirely on one side of {}.")
        side = side.pick(lg).format(fmt_k_of_n(away, with_ci, lg), ref)
    rows_nl, rows_en = ("rij", "row") if n == 1 else ("rijen", "rows")
    if lg == "nl":
        return (
            f"Forestplot met {n} {rows_nl}, elk met een punt voor de schatting en een lijn voor "
            f"het {pct}-betrouwbaarheidsinterval. X-as{' (logaritmisch)' if log else ''}: "
            f"{xlabel.nl}; een stippellijn markeert geen effect ({ref}). {listed}. {side}"
        )
    return (
        f"Forest plot with {n} {rows_en}, each with a point for the estimate and a line for its "
        f"{pct} confidence interval. X axis{' (logarithmic)' if log else ''}: "
        f"{xlabel.en}; a dashed line marks no effect ({ref}). {listed}. {side}"
    )


def _forest_caption(
    title: str | Label | None, *, null: float, log: bool, level: float, missing: bool,
    lg: str,
) -> str:
    """Caption of a forest plot in ``lg``: the title, how to read it, and its missing rows."""
    head = _label(title, lg).rstrip(".") + ". " if title else ""
    pct = _level_pct(level, lg)
    ref = _fmt_g(null, lg)
    if lg == "nl":
        scale = " Logaritmische schaal." if log else ""
        gap = f" '{cap_first(NOT_ESTIMATED.nl)}': voor die rij is er geen schatting." if missing else ""
        return (
            f"{head}Punten: schattingen; lijnen: {pct}-betrouwbaarheidsintervallen; "
            f"stippellijn: geen effect ({ref}).{scale}{gap}"
        )
    scale = " Logarithmic scale." if log else ""
    gap = f" '{cap_first(NOT_ESTIMATED.en)}': there is no estimate for that row." if missing else ""
    return (
        f"{head}Points: estimates; lines: {pct} confidence intervals; dashed "
        f"line: no effect ({ref}).{scale}{gap}"
    )
