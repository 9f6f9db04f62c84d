"""The views of the multilevel results: what ``repr`` and Jupyter show (see :mod:`lerendtransformeren.display`).

One function per result builds a :class:`~lerendtransformeren.display.View` from the
result's public tables (``fixed``, ``variance``, ``n``, ``table``); the classes call them
from ``__repr__`` and ``_repr_html_``. Numbers are formatted as in APA tables, in English,
as the results' own column names and ``summary()`` are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lerendtransformeren.display import (
    Grid,
    View,
    ci,
    count,
    dfs,
    digits_for,
    num,
    pval,
    table_rows,
)

__all__ = ["lmm_view", "glmm_view", "gee_view", "power_simulation_view", "power_curve_view", "stepped_wedge_view",
           "pooled_view"]


def coefficient_grid(fixed: pd.DataFrame, conf_level: float, caption: str, *,
                     ratio: str | None = None, ratio_columns: tuple[str, str, str] | None = None,
                     where: str = ".fixed") -> Grid:
    """Fixed effects as an APA table: b, SE, df, t (or z), p and the interval, and a ratio if asked.

    ``fixed`` has columns ``estimate, se, [df], t | z, p, ci_low, ci_high``; with ``ratio``
    ("OR", "RR") also the columns named by ``ratio_columns`` (estimate, low, high).
    """
    level = f"{conf_level:.0%} CI"
    stat = "t" if "t" in fixed.columns else "z"
    has_df = "df" in fixed.columns and np.isfinite(fixed["df"].to_numpy(dtype=float)).any()
    # a t column without finite df holds Wald z (GEE with df="normal")
    headers = ["Term", "b", "SE"] + (["df"] if has_df else []) + [stat if has_df else "z", "p", level]
    if ratio:
        headers += [ratio, level]
    d = digits_for(pd.concat([fixed["estimate"], fixed["se"]]))
    shown = fixed.iloc[:table_rows()]
    rows = []
    for term, r in shown.iterrows():
        row = [str(term), num(r["estimate"], d), num(r["se"], d)]
        row += [dfs(r["df"])] if has_df else []
        row += [num(r[stat]), pval(r["p"]), ci(r["ci_low"], r["ci_high"], d)]
        if ratio:
            est, lo, hi = ratio_columns
            row += [num(r[est]), ci(r[lo], r[hi])]
        rows.append(row)
    return Grid(headers, rows, caption=caption, more=_more(len(fixed), len(shown), "terms", where))


def variance_grid(variance: pd.DataFrame, caption: str) -> Grid:
    """Variance components: group, term, variance, SD and correlations (lme4's ``VarCorr``)."""
    corr = [c for c in variance.columns if str(c).startswith("corr ")]
    headers = ["Group", "Term", "Variance", "SD"] + [f"r ({str(c)[5:]})" for c in corr]
    rows = []
    for (group, term), r in variance.iloc[:table_rows()].iterrows():
        # per cell: a small variance (0.0044) must not read as an exact 0 (0.00)
        rows.append([str(group), str(term), num(r["variance"], digits_for([r["variance"]])),
                     num(r["sd"], digits_for([r["sd"]]))]
                    + [num(r[c], leading_zero=False) for c in corr])
    return Grid(headers, rows, caption=caption, n_stub=2,
                more=_more(len(variance), len(rows), "components", ".variance"))


def _more(total: int, shown: int, what: str, where: str) -> str:
    return f"... and {count(total - shown)} more {what}: {where}" if total > shown else ""


def _observations(n: pd.DataFrame) -> str:
    """'668 of 685 rows used; org: 10, org:team: 40' from a result's ``n`` table."""
    values = n["n"]
    used, total = int(values["rows used"]), int(values["rows in data"])
    units = [(k.removeprefix("units: "), int(v)) for k, v in values.items() if str(k).startswith("units: ")]
    text = f"{count(used)} of {count(total)} rows used" if used != total else f"{count(used)} rows"
    return text + "; units: " + ", ".join(f"{name} {count(v)}" for name, v in reversed(units))


def _fit_notes(result: Any) -> list[str]:
    notes = []
    if result.singular:
        parts = result._singular_parts() if hasattr(result, "_singular_parts") else []
        notes.append("Singular fit: " + ("; ".join(parts) if parts else
                                         "a variance component is estimated at 0 (or a correlation at +-1)") + ".")
    if not result.converged:
        notes.append(f"The optimiser did not pass its convergence checks ({result.optimization.message}).")
    return notes


def lmm_view(result: Any) -> View:
    """A :class:`~.results.MultilevelResult`: formula, rows and units, fixed effects, variance components."""
    method = "REML" if result.reml else "ML"
    tests = "Satterthwaite df" if result.ddf == "Satterthwaite" else "Kenward-Roger df and standard errors"
    return View(
        f"MultilevelResult: linear mixed model fitted by {method}; t-tests with {tests}",
        facts=[("Formula", result.formula), ("Observations", _observations(result.n))],
        grids=[coefficient_grid(result.fixed, result.conf_level, "Fixed effects"),
               variance_grid(result.variance, "Random effects")],
        notes=[*result.notes, *_fit_notes(result)],
        hint=("More: .summary() (lme4's layout), .fixed, .variance, .icc, .r2, .report(lang), "
              ".marginal_means(...), .plot_diagnostics()"),
    )


def glmm_view(result: Any) -> View:
    """A :class:`~.glmm_results.GLMMResult`: as :func:`lmm_view`, with family, link and the ratios."""
    method = "Laplace" if result.nagq == 1 else f"adaptive quadrature, nAGQ = {result.nagq}"
    tests = "Wald z-tests" if result.ddf == "Wald" else "t-tests with between-within df"
    ratio = {"binomial": "OR", "poisson": "RR"}.get(result.family)
    fixed = result.fixed
    if ratio:
        r = result.ratios()
        fixed = fixed.assign(ratio=r["ratio"], ratio_low=r["ci_low"], ratio_high=r["ci_high"])
    facts = [("Formula", result.formula), ("Observations", _observations(result.n))]
    if result.outcome_levels is not None:
        facts.append(("Outcome", f"0 = {result.outcome_levels[0]!r}, 1 = {result.outcome_levels[1]!r}"))
    return View(
        f"GLMMResult: generalised linear mixed model, {result.family} ({result.engine.family.link}), "
        f"{method}; {tests}",
        facts=facts,
        grids=[coefficient_grid(fixed, result.conf_level, "Fixed effects (link scale)", ratio=ratio,
                                ratio_columns=("ratio", "ratio_low", "ratio_high")),
               variance_grid(result.variance, "Random effects (link scale)")],
        notes=[*result.notes, *_fit_notes(result)],
        hint="More: .summary() (lme4's layout), .fixed, .ratios(), .variance, .lrt(other)",
    )


_CORRECTIONS = {"md": "Mancl-DeRouen", "kc": "Kauermann-Carroll", "none": "no small-sample"}


def gee_view(result: Any) -> View:
    """A :class:`~.gee.GEEResult`: model, clusters and rows, sandwich and df, coefficients with ratios."""
    n = result.n
    df = result.fixed["df"].iloc[0]
    tests = "Wald z-tests" if result.df_rule == "normal" else f"t-tests with df = {dfs(df)} ({result.df_rule})"
    working = result.cov_struct
    if result.cov_struct == "exchangeable":
        working += f", correlation {num(result.working_correlation, 3)}"
    left = ", ".join(f"{k.replace('_', ' ')} {count(n[k])}" for k in
                     ("missing_outcome", "missing_covariate", "missing_cluster") if n.get(k))
    ratio = {"binomial": "OR", "poisson": "RR", "negativebinomial": "RR"}.get(result.family)
    return View(
        f"GEEResult: population-averaged model (GEE), {result.family} ({result.link})",
        facts=[("Formula", result.formula),
               ("Observations", f"{count(n['rows_used'])} rows in {count(n['clusters'])} clusters "
                                f"({result.cluster}); {count(n['rows_left_out'])} rows left out"
                                + (f" ({left})" if left else "")),
               ("Working correlation", working),
               ("Covariance", f"sandwich, {_CORRECTIONS[result.small_sample]} correction; {tests}")],
        grids=[coefficient_grid(result.fixed, result.conf_level, "Coefficients (link scale)", ratio=ratio,
                                ratio_columns=("exp_estimate", "exp_ci_low", "exp_ci_high"))],
        notes=[] if result.converged else ["The estimating equations did not converge."],
        hint="More: .summary(), .fixed, .cov, .report(term, lang)",
    )


def power_simulation_view(sim: Any) -> View:
    """A :class:`~.simulation.PowerSimulation`: power with its Monte Carlo interval, bias, coverage, failures."""
    n_ok = sim.n_sim - sim.n_failed
    one_df = np.ndim(sim.effect) == 0
    effect = num(sim.effect, digits_for([sim.effect])) if one_df else ", ".join(num(e) for e in sim.effect)
    facts = [
        ("Power", f"{num(sim.power, 3, leading_zero=False)}, 95% CI "
                  f"{ci(sim.ci_low, sim.ci_high, 3, leading_zero=False)} ({sim.ci_method})"),
        ("Test", f"{sim.test!r}, true effect {effect}, alpha = {num(sim.alpha, leading_zero=False)}; "
                 f"{sim.method}, mean df {dfs(sim.mean_df)}"),
        ("Replicates", f"{count(n_ok)} of {count(sim.n_sim)} used; {count(sim.n_failed)} failed, "
                       f"{count(sim.n_singular)} singular, {count(sim.n_nonconverged)} not converged"),
    ]
    if one_df:
        d = digits_for([sim.bias, sim.rmse])
        facts.append(("Estimate", f"bias {num(sim.bias, d)} (MC SE {num(sim.bias_se, d)}), RMSE {num(sim.rmse, d)}; "
                                  f"coverage of the {sim.conf_level:.0%} CI "
                                  f"{num(sim.coverage, 3, leading_zero=False)}"))
    return View("PowerSimulation: power by simulation", facts=facts,
                hint="More: .table, .replicates (one row per simulated data set)")


def power_curve_view(curve: Any) -> View:
    """A :class:`~.simulation.PowerCurve`: one row per design point."""
    t = curve.table
    headers = [curve.along, "Simulated", "Power", "95% CI", "Bias", "Coverage", "Mean df", "Singular", "Failed"]
    db = digits_for(t["bias"])
    rows = [[str(r.value), count(r.n_sim), num(r.power, 3, leading_zero=False),
             ci(r.ci_low, r.ci_high, 3, leading_zero=False), num(r.bias, db),
             num(r.coverage, 3, leading_zero=False), dfs(r.mean_df), count(r.n_singular), count(r.n_failed)]
            for r in t.iloc[:table_rows()].itertuples()]
    effect = num(curve.effect, digits_for([curve.effect])) if np.ndim(curve.effect) == 0 else str(curve.effect)
    return View(
        f"PowerCurve: power of the test of {curve.test!r} along {curve.along!r}",
        facts=[("Settings", f"true effect {effect}, alpha = {num(curve.alpha, leading_zero=False)}; "
                            "95% Clopper-Pearson intervals")],
        grids=[Grid(headers, rows, more=_more(len(t), len(rows), "design points", ".table"))],
        hint="More: .table, .results, .plot(), .report(at)",
    )


def stepped_wedge_view(power: Any) -> View:
    """A :class:`~.power.SteppedWedgePower`: power and MDES by the normal and the t distribution."""
    rows = [["normal (Hussey & Hughes 2007)", "\u221e", num(power.power_normal, 3, leading_zero=False),
             num(power.mdes_normal, 3)],
            ["t", dfs(power.df), num(power.power_t, 3, leading_zero=False), num(power.mdes_t, 3)]]
    return View(
        f"SteppedWedgePower: {power.clusters} clusters x {power.periods} periods, m = {power.m:g} per cluster-period",
        facts=[("Effect", f"{power.effect:g}, SE {num(power.se, 4)}, alpha = {num(power.alpha, leading_zero=False)}")],
        grids=[Grid(["Distribution", "df", "Power", f"MDES at power {power.target_power:g}"], rows)],
        hint="More: .to_frame()",
    )


def pooled_view(pooled: Any) -> View:
    """A :class:`~.pooling.PooledResult`: pooled coefficients, missing-information rates, mean variances."""
    fixed = pooled.fixed
    info = Grid(["Term", "RIV", "lambda", "FMI"],
                [[str(t), num(r["riv"], 3), num(r["lambda"], 3, leading_zero=False),
                  num(r["fmi"], 3, leading_zero=False)] for t, r in fixed.iloc[:table_rows()].iterrows()],
                caption="Missing information", more=_more(len(fixed), min(len(fixed), table_rows()), "terms", ".fixed"))
    grids = [coefficient_grid(fixed, pooled.conf_level, "Fixed effects (pooled)"), info]
    if pooled.variance is not None:
        grids.append(variance_grid(pooled.variance, "Random effects (mean over the imputations)"))
    return View(
        f"PooledResult: {pooled.kind} pooled over m = {pooled.m} imputations (Rubin's rules)",
        facts=[("Formula", pooled.formula), ("df", pooled.df_rule)],
        grids=grids, notes=pooled.notes[1:],
        hint="More: .fixed, .variance, .wald(terms) (D1 test), .pooled (within/between/total)",
    )
