"""The figure of estimated marginal means: drawn from a model's means, alt text nl/en, errors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel import fit
from lerendtransformeren.presenters import registered
from lerendtransformeren.report import Figure, plot_marginal_means

TRIAL = Path(__file__).resolve().parents[1] / "reference" / "emmeans" / "trial.csv"


@lru_cache(maxsize=None)
def model():
    return fit("y ~ C(wave) * C(offer) + sex + ses + (1 | org/team/person)", pd.read_csv(TRIAL))


def test_means_plot_reaches_the_figure_through_the_presenter():
    means = model().marginal_means("offer", by="wave")
    assert "marginal_means.plot" in registered()
    fig = means.plot(lang="en")
    assert isinstance(fig, Figure)
    assert fig.to_png() == plot_marginal_means(means, lang="en").to_png()


def test_alt_text_gives_every_mean_and_the_caption_the_method():
    means = model().marginal_means("offer", by="wave")
    est = means.table.set_index(["offer", "wave"])["estimate"]
    fig = plot_marginal_means(means, x="wave", group="offer", lang="nl", label=("welzijn", "well-being"))
    assert f"Zonder aanbod: T0 {est[(0, 0)]:.2f}".replace(".", ",") in fig.alt_nl
    assert f"With offer: T0 {est[(1, 0)]:.2f}" in fig.alt_en and f"T3 {est[(1, 3)]:.2f}" in fig.alt_en
    assert "welzijn per meetmoment en ondersteuningsaanbod" in fig.caption_nl
    assert "95%-betrouwbaarheidsinterval (vrijheidsgraden volgens Satterthwaite). Gemiddeld over sex." \
        in fig.caption_nl
    assert "Error bars: 95% confidence interval (Satterthwaite degrees of freedom). Averaged over sex." \
        in fig.caption_en
    ax = fig.figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["T0", "T1", "T2", "T3"]
    assert any("," in t.get_text() for t in ax.get_yticklabels())  # decimal comma in Dutch
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Zonder aanbod", "Met aanbod"]


def test_other_axes_and_one_line():
    means = model().marginal_means("sex", ddf="Kenward-Roger", conf_level=0.9)
    fig = plot_marginal_means(means, x="sex", group=None, lang="en")
    ax = fig.figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["f", "m"]
    assert ax.get_legend() is None
    assert "90% confidence interval (Kenward-Roger degrees of freedom)" in fig.caption_en


def test_same_means_same_bytes():
    means = model().marginal_means("offer", by="wave")
    assert plot_marginal_means(means).to_svg() == plot_marginal_means(means).to_svg()


def test_errors_name_the_variables():
    means = model().marginal_means(["offer", "wave", "sex"])
    with pytest.raises(SpecificationError, match=r"differ by \['sex'\] as well"):
        plot_marginal_means(means)
    with pytest.raises(SpecificationError, match="x='time' is not a variable of these means"):
        plot_marginal_means(means, x="time")
    with pytest.raises(SpecificationError, match="x and group are both"):
        plot_marginal_means(means, x="offer", group="offer")
    with pytest.raises(SpecificationError, match="takes the estimated marginal means"):
        plot_marginal_means(means.table)
