"""The views of a goal's and the overview's results: what ``repr`` and Jupyter show.

The offer effects per outcome as an APA table (the contrast with its interval and p, the
standardised effect; for yes/no and count outcomes the ratio by GEE and by the GLMM), the
sample and what was not analysed. Measure names are shown in the session's display
language (:func:`lerendtransformeren.display.set_display`).
"""

from __future__ import annotations

from typing import Any

from lerendtransformeren.display import MISSING, Grid, View, ci, count, display_lang, dfs, digits_for, num, pval

__all__ = ["goal_results_view", "overview_results_view"]


def _effects_grid(effects: list, lang: str) -> Grid:
    d = digits_for([e.row["estimate"] for e in effects])
    rows = [[e.measure.name.pick(lang), num(e.row["estimate"], d), ci(e.row["ci_low"], e.row["ci_high"], d),
             dfs(e.row["df"]), pval(e.row["p"]),
             MISSING if e.d is None else f"{num(e.d['d'])} {ci(e.d['ci_low'], e.d['ci_high'])}"]
            for e in effects]
    return Grid(["Outcome", "b", "95% CI", "df", "p", "d [95% CI]"], rows,
                caption="Offer effects (multilevel model)")


def _ratios_grid(ratios: list, glmm: list, lang: str) -> Grid:
    beside = {r.measure.column: r.row for r in glmm}
    rows = []
    for r in ratios:
        row = r.row
        g = beside.get(r.measure.column)
        rows.append([r.measure.name.pick(lang), num(row["exp_estimate"]), ci(row["exp_ci_low"], row["exp_ci_high"]),
                     dfs(row["df"]), pval(row["p"]),
                     MISSING if g is None else f"{num(g['exp_estimate'])} {ci(g['exp_ci_low'], g['exp_ci_high'])}"])
    return Grid(["Outcome", "Ratio", "95% CI", "df", "p", "GLMM ratio [95% CI]"], rows,
                caption="Offer effects on yes/no and count outcomes (GEE; OR or RR)")


def goal_results_view(res: Any) -> View:
    """A :class:`~.analyse.GoalResults`: sample, offer effects, ratios and what was left out."""
    lang = display_lang()
    facts = [("Organisations", f"{count(res.n_goal_organisations)} of this goal, "
                               f"{count(res.n_organisations)} in the pooled models ({count(res.n_goals)} goals)"),
             ("Waves", ", ".join(f"T{w}" for w in res.waves) or "none")]
    facts += [(f"Respondents ({s.respondent})", f"{count(s.n_first)} at T{s.first}, {count(s.n_last)} at T{s.last}")
              for s in res.samples]
    if res.primary is not None:
        facts.append(("Primary outcome", res.primary.name.pick(lang)))
    imp = getattr(res, "imputation", None)
    if imp is not None:
        if imp.row is None:
            shown = f"m = {imp.m}, failed ({imp.error})"
        else:
            rhat = "unknown" if imp.rhat is None or imp.rhat != imp.rhat else num(imp.rhat)
            shown = (f"m = {imp.m}: b = {num(imp.row['estimate'])} {ci(imp.row['ci_low'], imp.row['ci_high'])}, "
                     f"fmi {num(imp.row['fmi'])}, largest R-hat {rhat}"
                     + ("" if imp.converged else " (not converged: do not use)"))
        facts.append(("After imputation", shown))
    left = [m.name.pick(lang) for m in (*res.absent, *res.not_estimated, *res.ratios_failed)]
    if left:
        facts.append(("Not analysed", "; ".join(left)))
    grids = [_effects_grid(res.effects, lang)] if res.effects else []
    if res.ratios:
        grids.append(_ratios_grid(res.ratios, res.glmm_ratios, lang))
    return View(
        f"GoalResults: goal {res.goal} (measures with at least {res.k} respondents analysed)",
        facts=facts, grids=grids,
        hint="More: .effects, .ratios, .glmm_ratios, .detail, .reliability, .groups, .reliable_change; "
             "goalreport.build_goal_report(...) writes the report",
    )


def overview_results_view(res: Any) -> View:
    """An :class:`~.overview.OverviewResults`: per goal the effect on the primary outcome."""
    e = res.effects
    d = digits_for(e["estimate"])
    rows = [[str(goal), str(r.outcome), num(r.estimate, d), ci(r.ci_low, r.ci_high, d), dfs(r.df), pval(r.p),
             f"{num(r.d_fav)} {ci(r.d_low, r.d_high)}" if r.d_fav == r.d_fav else MISSING]
            for goal, r in zip(e.index, e.itertuples())]
    return View(
        f"OverviewResults: {count(len(res.goals))} goal{'s' * (len(res.goals) != 1)}",
        grids=[Grid(["Goal", "Primary outcome", "b", "95% CI", "df", "p", "d favourable [95% CI]"], rows,
                    caption="Offer effect on each goal's primary outcome")],
        hint="More: .effects, .sample; goalreport.build_overview(...) writes the overview",
    )
