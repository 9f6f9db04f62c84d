"""Figures: run on the synthetic study, alt text nl/en, disclosure control, byte determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.figures import (
    Figure,
    plot_caterpillar,
    plot_gas,
    plot_organisation_trajectories,
    plot_reliability,
    plot_reliable_change,
    plot_trajectories,
)

RELIABILITY = pd.DataFrame(
    {
        "scale": ["psoc", "psoc", "mastery"],
        "subscale": ["satisfaction", "efficacy", np.nan],
        "n": [2859, 2859, 2800],
        "alpha": [0.81, 0.66, 0.80],
        "alpha_ci_low": [0.80, 0.64, 0.79],
        "alpha_ci_high": [0.82, 0.68, 0.81],
        "omega": [0.82, 0.70, 0.82],
        "omega_ci_low": [0.81, 0.68, 0.80],
        "omega_ci_high": [0.83, 0.72, 0.83],
    }
)


def _organisation_effects(families: pd.DataFrame) -> pd.DataFrame:
    means = families.groupby("organisation")["mastery"].mean()
    effects = (means - means.mean()).rename("estimate").rename_axis("unit").reset_index()
    return effects.assign(ci_low=effects["estimate"] - 0.03, ci_high=effects["estimate"] + 0.03)


def _gas_t(families: pd.DataFrame) -> pd.Series:
    items = families[["gas_01", "gas_02", "gas_03"]].dropna()
    rho, k = 0.3, 3  # Kiresuk & Sherman T-score with the conventional rho
    return 50 + 10 * items.sum(axis=1) / np.sqrt((1 - rho) * k + rho * k**2)


def _texts(fig: Figure) -> list[str]:
    ax = fig.figure.axes[0]
    return [t.get_text() for t in ax.texts + ax.get_yticklabels() + ax.get_xticklabels()]


@pytest.fixture(scope="module")
def all_figures(families) -> dict[str, Figure]:
    rng = np.random.default_rng(5)
    categories = pd.Series(rng.choice(["improved", "unchanged", "deteriorated", "recovered"], size=400))
    return {
        "trajectories": plot_trajectories(families, "mastery", label=("beheersing", "mastery")),
        "organisations": plot_organisation_trajectories(families, "mastery", lang="en"),
        "caterpillar": plot_caterpillar(_organisation_effects(families)),
        "reliability": plot_reliability(RELIABILITY, lang="en"),
        "reliable_change": plot_reliable_change(categories, by=pd.Series(rng.integers(0, 2, 400))),
        "gas": plot_gas(_gas_t(families)),
    }


@pytest.mark.parametrize(
    "name", ["trajectories", "organisations", "caterpillar", "reliability", "reliable_change", "gas"]
)
def test_every_figure_has_alt_text_and_caption_in_both_languages(all_figures, name):
    fig = all_figures[name]
    assert fig.figure.axes, "the figure has no axes"
    for lang in ("nl", "en"):
        assert len(fig.alt(lang)) > 60 and fig.caption(lang)
    assert fig.alt("nl") != fig.alt("en")
    assert fig.to_png()[:8] == b"\x89PNG\r\n\x1a\n"


def test_trajectory_alt_text_gives_the_means(all_figures, families):
    baseline = families.loc[families.wave == 0, "mastery"].mean()
    fig = all_figures["trajectories"]
    assert f"Zonder aanbod: T0 {baseline:.2f}".replace(".", ",") in fig.alt("nl")
    # nobody has the offer at T0, so that point is absent rather than based on zero people
    assert "Met aanbod: T1" in fig.alt("nl")
    assert "zonder correctie voor clustering" in fig.caption("nl")


def test_dutch_figures_use_decimal_commas(all_figures):
    dutch = [t.get_text() for t in all_figures["trajectories"].figure.axes[0].get_yticklabels()]
    english = [t.get_text() for t in all_figures["reliability"].figure.axes[0].get_xticklabels()]
    assert any("," in t for t in dutch) and not any("." in t for t in dutch)
    assert any("." in t for t in english) and not any("," in t for t in english)


def test_trajectories_leave_out_small_cells_and_refuse_identifiers(families):
    small = families.loc[(families.offer == 0) | (families.index < families.index[families.offer == 1][3])]
    fig = plot_trajectories(small, "mastery", lang="en")
    assert "With offer" not in fig.alt("en")  # 3 scores with the offer: not drawn
    with pytest.raises(DataError, match="identifiers"):
        plot_trajectories(families, "mastery", by="family")


def test_organisations_are_pseudonymised(all_figures, families):
    texts = _texts(all_figures["organisations"]) + _texts(all_figures["caterpillar"])
    ids = set(families["organisation"])
    assert not ids.intersection(texts)
    labels = [t.get_text() for t in all_figures["caterpillar"].figure.axes[0].get_yticklabels()]
    n = families["organisation"].nunique()
    assert len(labels) == n and all(label.startswith("organisatie ") for label in labels)
    assert f"{n} organisations" in all_figures["organisations"].alt("en")


def test_caterpillar_is_sorted_by_estimate():
    effects = pd.DataFrame(
        {"unit": ["O1", "O2", "O3"], "estimate": [0.2, -0.3, 0.05], "ci_low": [0.1, -0.5, -0.1], "ci_high": [0.3, -0.1, 0.2]}
    )
    fig = plot_caterpillar(effects, unit="team", lang="en")
    labels = [t.get_text() for t in fig.figure.axes[0].get_yticklabels()]
    assert labels == ["team B", "team C", "team A"]
    assert "from -0.30 (team B) to 0.20 (team A)" in fig.alt("en")
    assert "For 2 of the 3 teams" in fig.alt("en")


def test_reliable_change_suppresses_small_bars():
    categories = pd.Series(["improved"] * 40 + ["unchanged"] * 50 + ["deteriorated"] * 8 + ["recovered"] * 2)
    fig = plot_reliable_change(categories, lang="en")
    # the 2 "recovered" are hidden, and so are the 8 "deteriorated" (n = 100 is shown)
    assert "deteriorated ×" in fig.alt("en") and "recovered ×" in fig.alt("en")
    assert "improved 40%" in fig.alt("en")
    assert "×" in _texts(fig) and "fewer than 5" in fig.caption("en")
    with pytest.raises(DataError, match="Unknown reliable-change"):
        plot_reliable_change(pd.Series(["better"]))


def test_gas_needs_k_scores():
    with pytest.raises(DataError, match="at least 5"):
        plot_gas(pd.Series([50.0, 60.0, np.nan]))


@pytest.mark.parametrize("plot", [plot_trajectories, plot_organisation_trajectories])
def test_same_input_same_png_and_svg_bytes(families, plot):
    first = plot(families, "mastery")
    second = plot(families, "mastery")
    png = first.to_png()
    assert first.to_png() == png  # saving again changes nothing
    assert second.to_png() == png
    assert first.to_svg() == second.to_svg()
    assert b"Software" not in first.to_png() and b"<dc:date>" not in first.to_svg()
    other = plot(families.loc[families.wave < 3], "mastery")
    assert other.to_png() != png


def test_save_by_suffix(tmp_path, all_figures):
    fig = all_figures["gas"]
    assert fig.save(tmp_path / "gas.png").read_bytes() == fig.to_png()
    assert fig.save(tmp_path / "gas.svg").read_bytes().startswith(b"<?xml")
    with pytest.raises(SpecificationError, match=".pdf"):
        fig.save(tmp_path / "gas.pdf")
