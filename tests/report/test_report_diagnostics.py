"""Figures drawn from a fitted model: the diagnostic panel, caterpillar and fixed-effects plots,
and a Figure that draws itself in a notebook."""

from __future__ import annotations

import base64
import html
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.presenters import registered
from lerendtransformeren.report import Figure, plot_caterpillar, plot_diagnostics, plot_fixed, plot_forest
from lerendtransformeren.synthetic import nested_example

REF = Path(__file__).resolve().parents[1] / "reference"
PNG = b"\x89PNG\r\n\x1a\n"


@lru_cache(maxsize=None)
def models():
    """A linear model on the synthetic study's organisations, and GLMMs of both families."""
    syn = pd.read_csv(REF / "multilevel" / "synthetic.csv")
    nested = pd.read_csv(REF / "glmm" / "nested.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "lmm": fit("mastery ~ C(wave) + offer + (1 | organisation/team)", syn),
            "binomial": fit("y_bin ~ wave + offer + x + (1 | organisation/team)", nested, family="binomial"),
            "poisson": fit("y_cnt ~ wave + offer + (1 | organisation/team)", nested, family="poisson"),
        }


def _all_text(fig: Figure) -> list[str]:
    out = []
    for ax in fig.figure.axes:
        out += [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts + ax.get_yticklabels() + ax.get_xticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return out


def _units(model) -> set[str]:
    return {str(u) for lev in model.frame.levels for u in lev.labels} | {
        str(u) for lev in model.frame.levels for lab in lev.labels for u in str(lab).split(":")}


@pytest.mark.parametrize("kind, n_panels", [("lmm", 6), ("binomial", 4), ("poisson", 5)])
def test_the_panel_per_family(kind, n_panels):
    m = models()[kind]
    fig = plot_diagnostics(m, lang="en")
    titles = [ax.get_title(loc="left") for ax in fig.figure.axes]
    assert len(titles) == n_panels
    assert [t[0] for t in titles] == [chr(ord("A") + i) for i in range(n_panels)]
    if kind == "binomial":
        assert titles[0].startswith("A. Binned residuals")  # no QQ plot of 0/1 residuals
    else:
        assert titles[0] == "A. Residuals vs fitted values"
        assert any("Scale-location" in t for t in titles)
    assert (kind == "lmm") == any("QQ plot of the residuals" in t for t in titles)
    assert sum("QQ plot, conditional modes" in t for t in titles) == 2  # organisation and team intercepts
    assert titles[-1] == f"{chr(ord('A') + n_panels - 1)}. Influence of each organisation"
    assert (fig.figure.axes[0].get_xscale() == "log") == (kind == "poisson")
    assert fig.lang == "en" and fig.alt_nl.startswith("Modelcontrole") and fig.alt_en.startswith("Model checks")


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_units_are_pseudonymised_in_image_and_texts(lang):
    m = models()["lmm"]
    fig = plot_diagnostics(m, lang=lang)
    ids = _units(m)
    shown = _all_text(fig)
    assert not ids & set(shown)
    words = " ".join([fig.alt_nl, fig.alt_en, fig.caption_nl, fig.caption_en]).replace(";", " ").replace(",", " ")
    assert not ids & set(words.split())
    noun = "organisatie" if lang == "nl" else "organisation"
    labels = fig.figure.axes[-1].get_yticklabels()
    assert len(labels) == m.frame.levels[-1].n_units
    assert all(t.get_text().startswith(noun + " ") for t in labels)


def test_alt_text_gives_the_influence_numbers():
    m = models()["lmm"]
    inf = m.influence()
    fig = plot_diagnostics(m, lang="en", influence=inf)
    top = inf.units["cooks_distance"].max()
    assert f"{top:.2f}" in fig.alt_en
    assert f"4/n = {inf.cooks_cutoff:.2f}" in fig.alt_en
    assert f"{top:.2f}".replace(".", ",") in fig.alt_nl
    assert "D\u2013E:" in fig.caption_en or "D: " in fig.caption_en


def test_influence_false_skips_the_refits(monkeypatch):
    m = models()["lmm"]

    def refuse(level=None):
        raise AssertionError("no refits were asked for")

    monkeypatch.setattr(m, "influence", refuse)
    fig = plot_diagnostics(m, influence=False)
    assert len(fig.figure.axes) == 5
    assert "Cook" not in fig.caption_nl


def test_the_result_reaches_the_figures_through_the_presenters():
    m = models()["binomial"]
    fig = m.plot_diagnostics(lang="en", influence=False)
    assert isinstance(fig, Figure) and fig.lang == "en"
    assert {"multilevel.plot_diagnostics", "multilevel.plot_caterpillar", "multilevel.plot_fixed"} <= set(registered())
    assert isinstance(m.plot_fixed(), Figure) and isinstance(m.plot_caterpillar("organisation"), Figure)


def test_diagnostics_refuse_other_objects():
    with pytest.raises(SpecificationError, match="fitted multilevel model"):
        plot_diagnostics(pd.DataFrame({"x": [1]}))


# -- caterpillar ----------------------------------------------------------------------------------
def test_caterpillar_straight_from_a_model():
    m = models()["lmm"]
    fig = plot_caterpillar(m, "organisation", lang="en")
    iv = m.ranef_intervals("organisation")
    ax = fig.figure.axes[0]
    x = np.sort(ax.lines[-1].get_xdata())
    np.testing.assert_allclose(x, np.sort(iv["estimate"].to_numpy()))
    assert [t.get_text() for t in ax.get_yticklabels()][0].startswith("organisation ")
    assert not _units(m) & {t.get_text() for t in ax.get_yticklabels()}
    assert "organisations" in fig.alt_en and fig.caption_en.startswith("Estimated deviation from the mean per organisation")
    # the same figure from the frame the old way
    frame = iv.rename_axis("unit").reset_index()
    old = plot_caterpillar(frame, lang="en")
    assert old.alt_en == fig.alt_en and old.to_png() == fig.to_png()


def test_caterpillar_of_a_slope_and_of_a_glmm_names_the_scale():
    slope = fit("y ~ wave + (1 + wave | org)", nested_example())
    fig = slope.plot_caterpillar("org", term="wave", lang="en")
    assert fig.figure.axes[0].get_xlabel() == "Deviation in the slope of wave"
    ticks = sorted(t.get_text() for t in fig.figure.axes[0].get_yticklabels())
    assert ticks[:2] == ["unit A", "unit B"]  # a level outside the data contract: neutral "unit" labels
    glmm = models()["binomial"].plot_caterpillar("team", lang="nl")
    assert glmm.figure.axes[0].get_xlabel() == "Afwijking van het gemiddelde (log-odds)"
    assert "teams" in glmm.alt_nl


def test_caterpillar_errors_name_the_fix():
    m = models()["lmm"]
    with pytest.raises(SpecificationError, match="Name the level"):
        plot_caterpillar(m)
    with pytest.raises(SpecificationError, match="Unknown term"):
        plot_caterpillar(m, "organisation", term="offer")
    with pytest.raises(SpecificationError, match="applies to a fitted model"):
        plot_caterpillar(m.ranef_intervals("organisation").rename_axis("unit").reset_index(), "organisation")
    with pytest.raises(SpecificationError, match="fitted"):
        plot_caterpillar([1, 2, 3], "organisation")


# -- fixed effects --------------------------------------------------------------------------------
def test_fixed_effects_of_a_linear_model():
    m = models()["lmm"]
    fig = plot_fixed(m, lang="en")
    ax = fig.figure.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["Wave T1 (vs T0)", "Wave T2 (vs T0)", "Wave T3 (vs T0)", "Support offer"]
    assert ax.get_xscale() == "linear"
    est = np.sort(ax.lines[-1].get_xdata())
    np.testing.assert_allclose(est, np.sort(m.fixed["estimate"].drop("Intercept").to_numpy()))
    assert fig.caption_en.startswith("Fixed effects of the multilevel model. Points: estimates")


def test_fixed_effects_of_a_glmm_are_ratios_on_a_log_axis():
    m = models()["binomial"]
    fig = plot_fixed(m, terms=["offer", "x"], labels={"x": ("Leeftijd", "Age")}, lang="nl")
    ax = fig.figure.axes[0]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ondersteuningsaanbod", "Leeftijd"]
    np.testing.assert_allclose(ax.lines[-1].get_xdata(), m.ratios().loc[["offer", "x"], "ratio"])
    assert [line.get_xdata()[0] for line in ax.lines if line.get_gid() == "forest-null"] == [1.0]
    assert ax.get_xlabel() == "Oddsratio" and "(logaritmisch)" in fig.alt_nl
    with pytest.raises(SpecificationError, match="Unknown fixed effect"):
        plot_fixed(m, terms=["ofer"])


# -- a figure in a notebook -------------------------------------------------------------------------
def test_figure_repr_is_short_and_names_the_caption():
    fig = plot_fixed(models()["lmm"], lang="en")
    text = repr(fig)
    assert "Figure(figure=" not in text and "\n" not in text and len(text) < 250
    assert text.startswith("<Figure 6.3 x ") and "'Fixed effects of the multilevel model." in text


def test_figure_draws_itself_with_alt_text():
    fig = plot_caterpillar(models()["lmm"], "organisation", lang="nl")
    png, meta = fig._repr_png_()
    assert png.startswith(PNG) and meta["width"] > 300
    data, metadata = fig._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]) == png
    assert metadata["image/png"]["width"] == meta["width"]
    assert f'alt="{html.escape(fig.alt_nl, quote=True)}"' in data["text/html"]
    assert html.escape(fig.caption_nl) in data["text/html"]
    assert data["text/plain"] == repr(fig)


def test_a_figure_without_language_shows_both():
    old = plot_forest(pd.DataFrame({"label": ["a"], "estimate": [0.2], "ci_low": [0.1], "ci_high": [0.3]}),
                      xlabel=("x", "x"))
    bare = Figure(old.figure, old.alt_nl, old.alt_en, old.caption_nl, old.caption_en)
    assert bare.lang is None and old.lang == "nl"
    page = bare._repr_mimebundle_()[0]["text/html"]
    assert html.escape(f"{old.alt_nl} / {old.alt_en}", quote=True) in page


def test_diagnostic_png_is_deterministic():
    m = models()["poisson"]
    inf = m.influence()
    a = plot_diagnostics(m, influence=inf).to_png()
    b = plot_diagnostics(m, influence=inf).to_png()
    assert a == b and a.startswith(PNG)
