"""Goal attainment (GAS) T-scores: one bar per score the goals can give, small bars suppressed."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.lang import Label
from lerendtransformeren.report.figures.base import STYLE, Figure, _localise_axes, _new_figure
from lerendtransformeren.report.format import check_lang, fmt_count, fmt_int, fmt_num, fmt_pct
from lerendtransformeren.report.suppress import SUPPRESSED, suppress_small_cells
from lerendtransformeren.vocabulary import EXPECTED_LEVEL, GOAL_NOUNS
from lerendtransformeren.scales.change import gas_tscore


def _gas_values(n_goals: int, rho: float) -> np.ndarray:
    """Every GAS T-score ``n_goals`` unweighted goals can give, from low to high.

    With equal weights the T-score depends on the goals only through the sum of their
    attainments (-2 ``n_goals`` .. 2 ``n_goals``), so one attainment pattern per sum,
    scored by :func:`lerendtransformeren.scales.gas_tscore`, gives them all.
    """
    if not isinstance(n_goals, (int, np.integer)) or isinstance(n_goals, bool) or n_goals < 1:
        raise SpecificationError(f"n_goals={n_goals!r} must be a positive whole number of goals.")
    patterns = []
    for total in range(-2 * n_goals, 2 * n_goals + 1):
        pattern, rest = [], total
        for _ in range(n_goals):
            pattern.append(max(-2, min(2, rest)))
            rest -= pattern[-1]
        patterns.append(pattern)
    return np.asarray(gas_tscore(np.array(patterns, dtype=float), rho=rho), dtype=float)


def plot_gas(
    tscores: pd.Series,
    *,
    n_goals: int = 3,
    rho: float = 0.3,
    lang: str = "nl",
    k: int = 5,
) -> Figure:
    """Bar chart of goal attainment (GAS) T-scores: one bar per possible score, 50 marked.

    With ``n_goals`` unweighted goals, each scored -2..2, a T-score can take only
    ``4 * n_goals + 1`` values (13 for three goals), unevenly placed against round
    numbers; a histogram with round bins would put two of them in one bin. So each
    possible value gets its own bar, labelled with the value, zero or not.

    Parameters
    ----------
    tscores : pandas.Series
        GAS T-scores of :func:`lerendtransformeren.scales.gas_tscore` (50 = goals
        attained as expected), all from ``n_goals`` unweighted goals. Scores rounded to
        one decimal or more are recognised.
    n_goals : int, default 3
        Number of goals scored per respondent.
    rho : float, default 0.3
        The correlation between goals the T-scores were computed with.
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Fewer than ``k`` scores are not shown at all; a bar of fewer than ``k``
        respondents is not drawn but marked "×", and since the total is shown, the next
        smallest bar is suppressed too.

    Returns
    -------
    Figure

    Raises
    ------
    DataError
        If there are fewer than ``k`` scores, or a score is not one ``n_goals``
        unweighted goals can give (respondents with fewer goals scored, or weights).
    """
    check_lang(lang)
    values = pd.Series(tscores, dtype=float).dropna()
    if len(values) < k:
        raise DataError(f"Only {len(values)} GAS T-scores; at least {k} are needed to show them.")
    possible, count, sup = _gas_counts(values, n_goals, rho, k)
    hidden = sup.mask.iloc[0].to_numpy()
    at_50 = int(np.argmin(np.abs(possible - 50)))
    heights = np.where(hidden, 0, count)
    # the bar at 50 is hatched; with no bar to hatch (none or suppressed), a dashed line
    line_at_50 = heights[at_50] == 0
    with mpl.rc_context(STYLE):
        fig = _new_figure()
        ax = fig.add_subplot()
        _draw_gas(ax, possible, heights, hidden, at_50=at_50, line_at_50=line_at_50, lang=lang)
    goals = _goals(n_goals)
    note_nl = sup.footnote_nl and " " + sup.footnote_nl
    note_en = sup.footnote_en and " " + sup.footnote_en
    return Figure(
        figure=fig,
        lang=lang,
        alt_nl=_gas_alt(values, possible, count, hidden, n_goals, "nl"),
        alt_en=_gas_alt(values, possible, count, hidden, n_goals, "en"),
        caption_nl=(
            f"Verdeling van de GAS T-scores, met een staaf per mogelijke score bij {fmt_count(n_goals, 'nl')} "
            f"{goals.nl}. {'Stippellijn' if line_at_50 else 'Gearceerde staaf'}: verwacht niveau "
            "(T = 50)." + note_nl
        ),
        caption_en=(
            f"Distribution of the GAS T-scores, with a bar per possible score for {fmt_count(n_goals, 'en')} "
            f"{goals.en}. {'Dashed line' if line_at_50 else 'Hatched bar'}: expected level "
            "(T = 50)." + note_en
        ),
    )


def _goals(n_goals: int) -> Label:
    """The word "goal(s)" for ``n_goals`` goals."""
    return GOAL_NOUNS[0] if n_goals == 1 else GOAL_NOUNS[1]


def _gas_counts(values: pd.Series, n_goals: int, rho: float, k: int):
    """The possible T-scores, the number of ``values`` at each, and its suppression.

    Raises a DataError if a value is not (to 0.05) a T-score of ``n_goals`` unweighted goals.
    The total number of respondents is shown, so suppression is secondary over the bars.
    """
    possible = _gas_values(n_goals, rho)
    nearest = np.abs(values.to_numpy()[:, None] - possible[None, :]).argmin(axis=1)
    off = np.abs(values.to_numpy() - possible[nearest]) > 0.05 + 1e-9
    if off.any():
        examples = ", ".join(f"{v:.2f}" for v in sorted(set(values.to_numpy()[off]))[:5])
        raise DataError(
            f"{int(off.sum())} GAS T-scores ({examples}) are not T-scores of {n_goals} unweighted "
            f"goals with rho = {rho}, which are {', '.join(f'{t:.2f}' for t in possible)}. Pass "
            "the number of goals scored as n_goals (the same for every respondent) and the rho "
            "the scores were computed with."
        )
    counts = pd.DataFrame([np.bincount(nearest, minlength=len(possible)).astype(float)],
                          columns=range(len(possible)))
    sup = suppress_small_cells(counts, counts, k, margins="rows")
    return possible, counts.iloc[0].to_numpy(), sup


def _draw_gas(
    ax, possible: np.ndarray, heights: np.ndarray, hidden: np.ndarray, *, at_50: int,
    line_at_50: bool, lang: str,
) -> None:
    """One bar per possible T-score, 50 hatched (or a dashed line), suppressed bars marked."""
    step = float(np.diff(possible).min()) if len(possible) > 1 else 10.0
    expected = EXPECTED_LEVEL
    bars = ax.bar(possible, heights, width=0.8 * step, color="#bbbbbb", edgecolor="black",
                  linewidth=0.6, zorder=2)
    bars[at_50].set_facecolor("white")
    bars[at_50].set_hatch("///")
    if line_at_50:
        ax.axvline(50, color="black", linestyle="--", linewidth=1.2, zorder=1.5,
                   label=expected.pick(lang))
    else:
        bars[at_50].set_label(expected.pick(lang))
    for t, gone in zip(possible, hidden):
        if gone:
            ax.annotate(SUPPRESSED, (t, 0), xytext=(0, 2), textcoords="offset points",
                        ha="center")
    many = len(possible) > 17
    ax.set_xticks(possible, [fmt_num(t, 1, lang) for t in possible],
                  rotation=90 if many else 0, fontsize=7 if many else None)
    ax.set_xlim(possible[0] - 0.6 * step, possible[-1] + 0.6 * step)
    ax.set_xlabel("GAS T-score")
    ax.set_ylabel(Label("Aantal scores", "Number of scores").pick(lang))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(v, lang)))
    ax.legend(loc="best")
    _localise_axes(ax, lang)


def _gas_alt(
    values: pd.Series, possible: np.ndarray, count: np.ndarray, hidden: np.ndarray,
    n_goals: int, lg: str,
) -> str:
    """Alt text of the GAS figure in ``lg``: every bar's count, the median, the share at 50+."""
    n = len(values)
    median = values.median()
    # the share at or above 50 would tell apart suppressed bars on either side of 50
    above = possible >= 50 - 1e-9
    split = hidden[above].any() and hidden[~above].any()
    at_least = None if split else (values >= 50 - 0.05).mean()
    goals = _goals(n_goals)
    bars_text = "; ".join(
        f"{fmt_num(t, 1, lg)}: {SUPPRESSED if gone else fmt_int(c, lg)}"
        for t, c, gone in zip(possible, count, hidden)
    )
    m, lo, hi = len(possible), fmt_num(possible[0], 1, lg), fmt_num(possible[-1], 1, lg)
    if lg == "nl":
        share = ("" if at_least is None else f"; {fmt_pct(at_least, 0, 'nl')} van de scores was 50 of "
                 "hoger (doelen minstens zoals verwacht bereikt)")
        return (
            f"Staafdiagram van {fmt_int(n, 'nl')} GAS T-scores (elk van een respondent op één "
            f"meetmoment) met {fmt_count(n_goals, 'nl')} {goals.nl}, met een staaf voor elk van de {m} "
            f"mogelijke scores van {lo} tot {hi}. Aantal scores per waarde: {bars_text}. Mediaan "
            f"{fmt_num(median, 1, 'nl')}{share}."
        )
    share = ("" if at_least is None else f"; {fmt_pct(at_least, 0, 'en')} of the scores were 50 or more "
             "(goals attained at least as expected)")
    return (
        f"Bar chart of {fmt_int(n, 'en')} GAS T-scores (each of one respondent at one wave) "
        f"with {fmt_count(n_goals, 'en')} {goals.en}, with a bar for each of the {m} possible "
        f"scores from {lo} to {hi}. Number of scores per value: {bars_text}. Median "
        f"{fmt_num(median, 1, 'en')}{share}."
    )
