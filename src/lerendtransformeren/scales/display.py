"""The views of the scales' results: what ``repr`` and Jupyter show (see :mod:`lerendtransformeren.display`).

Reliability and classifications show one row per score; an instrument its items, scores
and norms. Numbers are formatted as in APA tables: alpha and omega without a leading zero.
"""

from __future__ import annotations

from typing import Any

from lerendtransformeren.display import MISSING, Grid, View, ci, count, display_lang, num, table_rows

__all__ = ["reliability_view", "classification_view", "instrument_view"]


def _more(total: int, shown: int, what: str, where: str) -> str:
    return f"... and {count(total - shown)} more {what}: {where}" if total > shown else ""


def reliability_view(result: Any) -> View:
    """A :class:`~.reliability.ReliabilityResult`: alpha and omega with their intervals, per score."""
    s = result.scales
    n_col = "n_complete" if result.missing == "listwise" else "n_pairwise"
    shown = s.iloc[:table_rows()]
    rows = [[str(r.instrument), str(r.score), count(r.n_items), count(getattr(r, n_col)),
             num(r.alpha, leading_zero=False), ci(r.alpha_ci_low, r.alpha_ci_high, leading_zero=False),
             num(r.omega_total, leading_zero=False), ci(r.omega_ci_low, r.omega_ci_high, leading_zero=False)]
            for r in shown.itertuples()]
    n_boot = s["n_boot_ok"]
    boot = f"omega's interval: percentile bootstrap, {count(n_boot.max())} resamples" if len(s) and n_boot.max() > 0 \
        else "omega without a bootstrap interval"
    seed = f", seed {result.seed}" if result.seed is not None else ""
    notes = []
    if len(s) and n_boot.min() < n_boot.max():
        notes.append("Some bootstrap fits did not converge; the resamples used per score are in .scales['n_boot_ok'].")
    return View(
        f"ReliabilityResult: {count(len(s))} scores, {result.missing} deletion",
        facts=[("Intervals", f"alpha: Feldt (pingouin); {boot}{seed}")],
        grids=[Grid(["Instrument", "Score", "Items", "n", "alpha", "95% CI", "omega", "95% CI"], rows,
                    n_stub=2, more=_more(len(s), len(shown), "scores", ".scales"))],
        notes=notes,
        hint=f"More: .scales, .items ({count(len(result.items))} rows: item-rest r, alpha if deleted)",
    )


def classification_view(result: Any) -> View:
    """A :class:`~.bands.Classification`: per score, the number and share in each band."""
    p = result.proportions
    bands = list(dict.fromkeys(p["band"]))
    rows = []
    for score, part in list(p.groupby("score", sort=False))[:table_rows()]:
        cells = {r.band: f"{count(r.n)} ({num(100 * r.proportion, 0)}%)" for r in part.itertuples()}
        first = part.iloc[0]
        rows.append([str(score), count(first["n_scored"]), *(cells.get(b, MISSING) for b in bands),
                     count(first["n_missing"])])
    n_scores = p["score"].nunique()
    sources = list(dict.fromkeys(result.sources.values()))
    return View(
        f"Classification: norm {result.norm!r}, {count(n_scores)} scores, labels in {result.lang!r}",
        grids=[Grid(["Score", "Scored", *bands, "Missing"], rows,
                    more=_more(n_scores, len(rows), "scores", ".proportions"))],
        notes=[f"Bands from {s}" for s in sources[:2]],
        hint=f"More: .bands (one band per row of the scores, {count(len(result.bands))} rows), .proportions, "
             ".sources",
    )


def instrument_view(inst: Any) -> View:
    """An :class:`~.instrument.Instrument`: items, response range, scores, norms, provenance."""
    name = inst.name_nl if display_lang() == "nl" else inst.name_en
    items = f"{count(len(inst.items))} ({inst.items[0]}..{inst.items[-1]}), responses {inst.response_min}.." \
            f"{inst.response_max}" if inst.items else "none"
    if inst.reverse:
        items += f", reversed: {', '.join(inst.reverse)}"
    rows = [[s.name, s.aggregation, count(len(inst.score_items(s.name))),
             ", ".join(s.of_scores) if s.of_scores else "", str(s.min_answered or "")]
            for s in inst.scores[:table_rows()]]
    facts = [("Items", items), ("Construct", inst.construct)]
    if inst.cutoffs:
        facts.append(("Norms with bands", ", ".join(inst.norms())))
    facts.append(("Verified", ("yes" if inst.verified else "no") + (" (synthetic scale)" if inst.synthetic else "")))
    return View(
        f"Instrument {inst.code}: {name}",
        facts=facts,
        grids=[Grid(["Score", "Aggregation", "Items", "Of scores", "Min. answered"], rows,
                    more=_more(len(inst.scores), len(rows), "scores", ".scores"))],
        notes=[f"Citation: {inst.citation}"] if inst.citation else [],
        hint="More: .scores, .cutoffs, .licence, .notes; score with scales.score(data, code)",
    )
