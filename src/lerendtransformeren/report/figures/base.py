"""The shared ground of the report figures: :class:`Figure`, :data:`STYLE` and helpers.

Figures are made without pyplot under one fixed style (:data:`STYLE`); series are told
apart by ink, marker, line style and hatching (never by colour alone). The helpers here
label, localise (decimal commas in Dutch) and check the input of every figure module.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import ScalarFormatter
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label
from lerendtransformeren.report.format import check_lang
from lerendtransformeren.report.suppress import _letters, pseudonymise
from lerendtransformeren.vocabulary import MODEL_CHECK_WORDS, UNIT_NOUNS

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

#: Resolution of the PNG a notebook shows (drawn at the figure's physical size).
_NOTEBOOK_DPI = 150

_INK = ("#000000", "#555555", "#888888", "#333333", "#aaaaaa")
_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINES = ("-", "--", ":", "-.")
_HATCHES = ("", "///", "...", "xx", "\\\\")
_FILLS = ("#444444", "#bbbbbb", "#ffffff", "#888888", "#dddddd")


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
    lang : {"nl", "en"} or None
        The language of the words in the image; None if unknown (then a notebook shows
        the alt text and caption in both languages).

    Notes
    -----
    In Jupyter the figure draws itself: ``_repr_mimebundle_`` gives the PNG (at its
    physical size), and HTML with the image, its alt text and its caption; ``repr()``
    names the figure by its caption.
    """

    figure: MplFigure
    alt_nl: str
    alt_en: str
    caption_nl: str
    caption_en: str
    lang: str | None = None

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

    # -- notebooks ------------------------------------------------------------------------
    def _text(self, nl: str, en: str) -> str:
        """Text in the figure's language, or both when it is not known."""
        if self.lang is None:
            return f"{nl} / {en}"
        return nl if self.lang == "nl" else en

    def __repr__(self) -> str:
        w, h = self.figure.get_size_inches()
        caption = self._text(self.caption_nl, self.caption_en)
        short = caption if len(caption) <= 90 else caption[:87].rstrip() + "..."
        return (f"<Figure {w:.1f} x {h:.1f} in, {self.lang or 'nl/en'}: {short!r}; "
                ".to_png(), .to_svg(), .save(path), .alt(lang), .caption(lang)>")

    def _repr_png_(self) -> tuple[bytes, dict]:
        png = self.to_png(dpi=_NOTEBOOK_DPI)
        return png, {"width": _css_width(png)}

    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict, dict]:
        """PNG, HTML (the image with alt text and caption) and the text repr, from one render."""
        png = self.to_png(dpi=_NOTEBOOK_DPI)
        width = _css_width(png)
        data = base64.b64encode(png).decode("ascii")
        alt = html.escape(self._text(self.alt_nl, self.alt_en), quote=True)
        caption = html.escape(self._text(self.caption_nl, self.caption_en))
        markup = (f'<figure style="margin:0"><img src="data:image/png;base64,{data}" alt="{alt}" '
                  f'width="{width}" style="max-width:100%;height:auto">'
                  f'<figcaption style="font-size:90%;max-width:{width}px">{caption}</figcaption></figure>')
        bundle = {"image/png": data, "text/html": markup, "text/plain": repr(self)}
        return bundle, {"image/png": {"width": width}}

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


def _css_width(png: bytes) -> int:
    """The width of a notebook PNG in CSS pixels (96 per inch): its physical size on screen."""
    return round(int.from_bytes(png[16:20], "big") * 96 / _NOTEBOOK_DPI)  # IHDR width


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


def _label(label: str | Label, lang: str) -> str:
    return Label.of(label).pick(lang)


def _both(label: str | Label) -> Label:
    return Label.of(label)


def _fmt_g(x: float, lang: str) -> str:
    """A number as short as it goes (``0``, ``1``, ``0,5``), for reference values and log ticks."""
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "nl" else text


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


def _omitted(k: int) -> Label:
    return Label(
        f" Gemiddelden van minder dan {k} respondenten zijn weggelaten.",
        f" Means of fewer than {k} respondents are left out.",
    )


def _unit_noun(level: str) -> str:
    """The noun of a model level's units: its last factor if the data contract knows it, else ``"unit"``."""
    last = str(level).split(":")[-1]
    return last if last in UNIT_NOUNS else "unit"


def _unit_labels(values, noun: str, lang: str) -> pd.Series:
    """Neutral labels of units ("organisatie A", "team B", "eenheid C"), as :func:`pseudonymise`.

    Organisations and teams through :func:`pseudonymise` itself; other levels (professionals,
    families, levels outside the data contract) lettered the same way under their noun.
    """
    if noun in ("organisation", "team"):
        return pseudonymise(values, lang, unit=noun)
    series = values if isinstance(values, pd.Series) else pd.Series(list(values))
    word = (UNIT_NOUNS.get(noun) or MODEL_CHECK_WORDS["unit"]).pick(lang)
    distinct = sorted(series.dropna().unique(), key=str)
    return series.map({v: f"{word} {_letters(i)}" for i, v in enumerate(distinct)})
