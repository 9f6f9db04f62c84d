"""Figures: run on the synthetic study, alt text nl/en, disclosure control, byte determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.scales import gas_tscore
from lerendtransformeren.report.figures import (
    Figure,
    plot_caterpillar,
    plot_forest,
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
    return gas_tscore(families[["gas_01", "gas_02", "gas_03"]].dropna())


def _possible_gas_t(n_goals: int = 3) -> np.ndarray:
    """Every T-score ``n_goals`` unweighted goals can give, by brute force over -2..2."""
    grid = np.array(np.meshgrid(*[range(-2, 3)] * n_goals)).reshape(n_goals, -1).T
    return np.unique(np.round(gas_tscore(grid), 9))


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
        "forest": plot_forest(FOREST, xlabel=D_LABEL, annotate=True),
    }


@pytest.mark.parametrize(
    "name",
    ["trajectories", "organisations", "caterpillar", "reliability", "reliable_change", "gas", "forest"],
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
    assert "For two of the three teams" in fig.alt("en")


def test_reliable_change_suppresses_small_bars():
    categories = pd.Series(["improved"] * 40 + ["unchanged"] * 50 + ["deteriorated"] * 8 + ["recovered"] * 2)
    fig = plot_reliable_change(categories, lang="en")
    # the 2 "recovered" are hidden, and so are the 8 "deteriorated" (n = 100 is shown)
    assert "deteriorated ×" in fig.alt("en") and "recovered ×" in fig.alt("en")
    assert "improved 40%" in fig.alt("en")
    assert "×" in _texts(fig) and "fewer than 5" in fig.caption("en")
    with pytest.raises(DataError, match="Unknown reliable-change"):
        plot_reliable_change(pd.Series(["better"]))


def test_reliable_change_without_a_cutoff_has_no_recovered_bar():
    # issue 11: a scale without clinical cut-off showed an empty 0% "recovered" bar
    categories = pd.Series(["improved"] * 30 + ["unchanged"] * 50 + ["deteriorated"] * 20)
    by = pd.Series([0, 1] * 50)
    fig = plot_reliable_change(categories, by=by, recovered=False, lang="en")
    ax = fig.figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["deteriorated", "unchanged", "improved"]
    assert len(ax.patches) == 3 * 2  # three categories, two groups
    assert "recovered" not in fig.alt("en") and "recover" not in fig.caption("en").split(".")[0]
    assert "hersteld" not in fig.alt("nl")
    with pytest.raises(DataError, match="recovered"):
        plot_reliable_change(pd.Series(["recovered"] * 10), recovered=False)


def _bar_spans(fig: Figure) -> list[tuple[float, float, float]]:
    """(left, right, height) of every bar of the figure's first axes."""
    return [(p.get_x(), p.get_x() + p.get_width(), p.get_height()) for p in fig.figure.axes[0].patches]


def test_gas_draws_one_bar_per_possible_tscore(families):
    # issue 11: 5-point bins put 50 and 54.6 in one bar, a false peak just above T = 50
    possible = _possible_gas_t(3)
    assert len(possible) == 13
    values = _gas_t(families)
    fig = plot_gas(values)
    spans = _bar_spans(fig)
    assert len(spans) == 13
    for t in possible:
        inside = [s for s in spans if s[0] < t < s[1]]
        assert len(inside) == 1, f"T = {t:.2f} lies in {len(inside)} bars"
        # the bar's height is the number of respondents with exactly that score
        assert inside[0][2] == np.isclose(values, t).sum()
    assert all(sum(s[0] < t < s[1] for t in possible) == 1 for s in spans)  # no shared bars
    ticks = [t.get_text() for t in fig.figure.axes[0].get_xticklabels()]
    assert ticks == [f"{t:.1f}".replace(".", ",") for t in possible]
    english = plot_gas(values, lang="en")
    assert [t.get_text() for t in english.figure.axes[0].get_xticklabels()][6:8] == ["50.0", "54.6"]
    assert "13 possible" in english.alt("en") and "13 mogelijke" in fig.alt("nl")
    # the reference: the bar at T = 50 is hatched and named in the legend
    at_50 = [p for p in fig.figure.axes[0].patches if p.get_x() < 50 < p.get_x() + p.get_width()]
    assert at_50[0].get_hatch() == "///" and at_50[0].get_label() == "verwacht niveau (T = 50)"


def test_gas_bars_follow_the_number_of_goals_and_are_suppressed_when_small():
    two = gas_tscore(np.array([[-2, -1]] * 3 + [[0, 0]] * 20 + [[1, 0]] * 12 + [[2, 2]] * 2))
    fig = plot_gas(pd.Series(two), n_goals=2, lang="en")
    spans = _bar_spans(fig)
    assert len(spans) == 9  # two goals: sums -4..4
    heights = sorted(h for *_, h in spans if h > 0)
    assert heights == [12, 20]  # 3 and 2 are too few, their bars are not drawn
    assert _texts(fig).count("×") == 2 and "fewer than 5" in fig.caption("en")
    assert "50.0: 20" in fig.alt("en") and "×" in fig.alt("en")
    with pytest.raises(DataError, match="n_goals"):
        plot_gas(pd.Series(two), n_goals=3)  # two-goal scores are not three-goal values
    # nobody at 50: no bar to hatch, so a dashed line marks it
    none_at_50 = plot_gas(pd.Series(two[two != 50]).round(1), n_goals=2, lang="en")
    assert [ln.get_xdata()[0] for ln in none_at_50.figure.axes[0].lines] == [50]
    assert "Dashed line: expected level" in none_at_50.caption("en")


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


# --- forest plot ---------------------------------------------------------------------------------

FOREST = pd.DataFrame(
    {
        "label": [
            "1. Preventie en eigen kracht",
            "2. Integrale toegang",
            "3. Passende zorg",
            "4. Thuis opgroeien",
        ],
        "estimate": [0.35, -0.10, np.nan, 0.05],
        "ci_low": [0.12, -0.40, np.nan, -0.21],
        "ci_high": [0.58, 0.20, np.nan, 0.31],
    }
)
D_LABEL = ("Gestandaardiseerd effect (d); positief = gunstig", "Standardised effect (d); positive = favourable")


def _by_gid(fig: Figure, gid: str):
    found = [a for a in fig.figure.axes[0].get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{len(found)} artists with gid {gid!r}"
    return found[0]


def _row_y(fig: Figure) -> dict[str, float]:
    ax = fig.figure.axes[0]
    return {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}


def test_forest_draws_the_estimates_and_intervals_given():
    fig = plot_forest(FOREST, xlabel=D_LABEL, lang="en")
    ax = fig.figure.axes[0]
    rows = _row_y(fig)
    assert list(rows) == list(FOREST["label"])  # every row, NaN included
    assert [rows[r] for r in FOREST["label"]] == sorted(rows.values(), reverse=True)  # first on top
    shown = FOREST.dropna()
    marker = _by_gid(fig, "forest-estimate")
    assert list(marker.get_xdata()) == list(shown["estimate"])
    assert list(marker.get_ydata()) == [rows[r] for r in shown["label"]]
    segments = _by_gid(fig, "forest-ci").get_segments()
    assert [(s[0][0], s[1][0]) for s in segments] == list(zip(shown["ci_low"], shown["ci_high"]))
    assert [s[0][1] for s in segments] == [rows[r] for r in shown["label"]]
    assert list(_by_gid(fig, "forest-null").get_xdata()) == [0.0, 0.0]
    assert ax.get_xlabel() == D_LABEL[1]
    assert "0.35 [0.12, 0.58]" in fig.alt("en") and "3. Passende zorg: not estimated" in fig.alt("en")


def test_forest_labels_rows_that_were_not_estimated():
    for lang, word in (("nl", "niet geschat"), ("en", "not estimated")):
        fig = plot_forest(FOREST, xlabel=D_LABEL, lang=lang)
        texts = [t for t in fig.figure.axes[0].texts if t.get_text() == word]
        assert len(texts) == 1
        assert texts[0].get_position()[1] == _row_y(fig)["3. Passende zorg"]
        assert word in fig.alt(lang)


def test_forest_annotations_and_ticks_use_the_decimal_comma_in_dutch():
    fig = plot_forest(FOREST, xlabel=D_LABEL, annotate=True)
    texts = _texts(fig)
    assert "0,35 [0,12; 0,58]" in texts and "-0,10 [-0,40; 0,20]" in texts
    ticks = [t.get_text() for t in fig.figure.axes[0].get_xticklabels()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks)
    assert fig.figure.axes[0].get_xlabel() == D_LABEL[0]
    assert "0,35 [0,12; 0,58]" in fig.alt("nl")
    english = plot_forest(FOREST, xlabel=D_LABEL, annotate=True, lang="en")
    assert "0.35 [0.12, 0.58]" in _texts(english)
    own = plot_forest(FOREST.assign(text=["a", "b", "c", "d"]), xlabel=D_LABEL, annotate="text")
    assert {"a", "b", "d"} <= set(_texts(own))


def test_forest_of_ratios_on_a_log_axis():
    ratios = pd.DataFrame(
        {
            "goal": [("1. Preventie", "1. Prevention"), ("2. Toegang", "2. Access")],
            "or": [1.8, 0.7],
            "low": [1.1, 0.4],
            "high": [2.9, 1.2],
        }
    )
    fig = plot_forest(
        ratios, label_col="goal", estimate="or", ci_low="low", ci_high="high", null=1.0, log=True,
        xlabel=("Oddsratio", "Odds ratio"), lang="en",
    )
    ax = fig.figure.axes[0]
    assert ax.get_xscale() == "log"
    assert list(_by_gid(fig, "forest-null").get_xdata()) == [1.0, 1.0]
    assert list(_row_y(fig)) == ["1. Prevention", "2. Access"]
    with pytest.raises(DataError, match="log"):
        plot_forest(FOREST, xlabel=D_LABEL, null=1.0, log=True)  # negative differences
    with pytest.raises(SpecificationError, match="ci_low"):
        plot_forest(FOREST.drop(columns="ci_low"), xlabel=D_LABEL)


def test_forest_png_bytes_are_deterministic():
    first = plot_forest(FOREST, xlabel=D_LABEL, annotate=True).to_png()
    assert plot_forest(FOREST, xlabel=D_LABEL, annotate=True).to_png() == first
    moved = FOREST.assign(estimate=FOREST["estimate"] + 0.05)
    assert plot_forest(moved, xlabel=D_LABEL, annotate=True).to_png() != first
