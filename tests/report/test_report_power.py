"""Power-curve figure and power sentence: content, languages, errors, determinism."""

from __future__ import annotations

import pandas as pd
import pytest

from lerendtransformeren.exceptions import DataError, SpecificationError
from lerendtransformeren.report.figures import plot_power_curve
from lerendtransformeren.report.text import power_sentence


def _curve(power, values=(6, 9, 15, 24), n_sim=400, **extra) -> pd.DataFrame:
    power = pd.Series(list(power), dtype=float)
    values = list(values)[: len(power)]
    half = 1.96 * (power * (1 - power) / n_sim) ** 0.5
    return pd.DataFrame(
        {"along": "organisation", "value": values, "n_sim": n_sim, "power": power,
         "ci_low": power - half, "ci_high": power + half, **extra}
    )


def test_power_curve_draws_one_line_per_effect_with_intervals():
    table = pd.concat(
        [_curve([0.10, 0.15, 0.25, 0.36], d=0.2), _curve([0.30, 0.45, 0.66, 0.85], d=0.5)],
        ignore_index=True,
    )
    fig = plot_power_curve(table, by="d", by_labels={0.2: "d = 0,2", 0.5: "d = 0,5"}, lang="nl")
    ax = fig.figure.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d = 0,2", "d = 0,5"]
    # Each curve: its points in order of the design value.
    lines = [container.lines[0] for container in ax.containers]
    assert [list(line.get_xdata()) for line in lines] == [[6, 9, 15, 24]] * 2
    assert [list(line.get_ydata()) for line in lines] == [[0.10, 0.15, 0.25, 0.36], [0.30, 0.45, 0.66, 0.85]]
    assert "d = 0,5: 6 30%, 9 45%, 15 66%, 24 85%" in fig.alt_nl
    assert "aantal organisaties" in fig.caption_nl and "number of organisations" in fig.caption_en
    # Percent ticks with the Dutch convention; the target line at 80%.
    assert any(line.get_ydata()[0] == 0.8 and line.get_color() == "#777777" for line in ax.get_lines())
    assert fig.to_png() == plot_power_curve(table, by="d", by_labels={0.2: "d = 0,2", 0.5: "d = 0,5"}).to_png()


def test_power_curve_refuses_mixed_or_empty_tables():
    mixed = pd.concat([_curve([0.2, 0.3, 0.4, 0.5]), _curve([0.2, 0.3, 0.4, 0.5]).assign(along="team")])
    with pytest.raises(SpecificationError, match="varies one quantity"):
        plot_power_curve(mixed)
    with pytest.raises(DataError, match="no rows"):
        plot_power_curve(_curve([]).iloc[:0])
    with pytest.raises(SpecificationError, match="lacks column"):
        plot_power_curve(_curve([0.2, 0.3, 0.4, 0.5]).drop(columns="ci_low"))


def test_power_sentence_names_the_design_point_and_where_the_target_is_met():
    table = _curve([0.40, 0.55, 0.81, 0.93], n_sim=1000)
    nl = power_sentence(table, 15, effect=0.3, lang="nl")
    assert nl.startswith("Met 15 organisaties was de gesimuleerde power voor een effect van d = 0,30 81% (95%-BI [79%; 83%]")
    assert "1.000 gesimuleerde studies, α = ,05" in nl
    assert nl.endswith("Een power van 80% werd bereikt vanaf 15 organisaties (81%).")
    en = power_sentence(table, 9, effect=0.25, standardized=False, lang="en", alpha=0.01)
    assert en.startswith("With 9 organisations, the simulated power for an effect of 0.25 was 55% (95% CI [52%, 58%]")
    assert "α = .01" in en


def test_power_sentence_ignores_a_lucky_point_below_a_lower_one():
    # 9 organisations crosses 80% by Monte Carlo noise, 15 falls back under it: the target
    # counts as reached only from the point after which every design reaches it.
    table = _curve([0.50, 0.81, 0.79, 0.90])
    assert power_sentence(table, 15, lang="en").endswith("reached from 24 organisations (90%).")
    never = power_sentence(_curve([0.1, 0.2, 0.3, 0.4]), 15, lang="nl")
    assert never.endswith("Geen van de onderzochte ontwerpen (6 tot 24 organisaties) bereikte een power van 80%.")


def test_power_sentence_errors():
    with pytest.raises(SpecificationError, match="not in the table"):
        power_sentence(_curve([0.2, 0.3, 0.4, 0.5]), 12)
    with pytest.raises(SpecificationError, match="lacks column"):
        power_sentence(_curve([0.2, 0.3, 0.4, 0.5]).drop(columns="n_sim"), 15)


def test_power_table_shows_power_as_percentages_with_the_monte_carlo_interval():
    from lerendtransformeren.report.tables import power_table

    table = pd.concat(
        [_curve([0.10, 0.25], values=(6, 15), n_sim=1000, d=0.2, bias=[0.01, 0.0], coverage=[0.93, 0.95]),
         _curve([0.30, 0.66], values=(6, 15), n_sim=1000, d=0.5, bias=[-0.01, 0.0], coverage=[0.94, 0.96])],
        ignore_index=True,
    )
    t = power_table(table, by="d", labels={0.2: ("d = 0,2", "d = 0.2"), 0.5: ("d = 0,5", "d = 0.5")}, alpha=0.01)
    en = t.formatted("en")
    # Row d = 0.5, 15 organisations: 66%, CI 66 +- 1.96 * sqrt(.66 * .34 / 1000) = [63%, 69%].
    assert en.iloc[2, 0] == "d = 0.5"
    assert en.iloc[3].tolist() == ["", "15", "1,000", "66%", "[63%, 69%]", "0.000", "96%"]
    assert "p < .01" in t.note_en and "p < ,01" in t.note_nl
    assert t.title_nl == "Gesimuleerde power naar aantal organisaties"
