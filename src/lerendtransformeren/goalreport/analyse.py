"""Step one of a goal report: compute every number it shows into one results object.

:func:`goal_specs` lists the models a goal report needs (to fit them ahead, in
parallel); :func:`analyse_goal` fetches them from the study's :class:`FitCache` and
gathers everything else the report shows (design, sample, reliability, reliable change,
group statistics) into a :class:`GoalResults`. The writing step
(:mod:`lerendtransformeren.goalreport.sections`) turns that object into text, tables and
figures and neither fits nor computes statistics.

The analysis choices, in brief (the report explains them in its own words):

- **One model over all organisations per outcome.** Each goal has three organisations,
  one starting the offer at T1, T2 and T3. The outcome model is fitted once over every
  goal's organisations, ``y ~ C(wave) + C(goal) + C(goal):offer + (1 | organisation/...)``:
  period effects shared by all goals, a level per goal and an offer effect per goal (the
  goal's contrast, Satterthwaite df). Two sensitivity models go beside it: the goal's own
  organisations with their own period effects, and the pooled model in which the offer
  effect may vary between organisations (an uncorrelated random offer slope).
- **Yes/no and count outcomes** by GEE with organisations as clusters, the Mancl-DeRouen
  correction and t tests on the number of organisations minus the organisation-level
  parameters.
- **Reliable change** of the primary outcome from the first to the last wave (Jacobson &
  Truax), with alpha at the first wave as the reliability.
- **Missing measurements** (optional, ``impute=M``): the primary outcome's scale score
  multiply imputed by a joint multilevel model (:func:`multilevel.impute`), waves a
  respondent missed included, the pooled outcome model fitted on every completed set and
  pooled by Rubin's rules; only respondents with at least one score take part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lerendtransformeren import scales
from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.scales.change import reliable_change_threshold
from lerendtransformeren.goalreport.display import goal_results_view
from lerendtransformeren.goalreport.fits import (
    FitCache,
    GeeSpec,
    GlmmSpec,
    ImputeSpec,
    LmmSpec,
    ModelSummary,
    ReliabilitySpec,
)
from lerendtransformeren.study.data import StudyData
from lerendtransformeren.study.programme import GoalPlan, Measure

__all__ = [
    "DEFAULT_SEED",
    "RC_LEVEL",
    "RHAT_LIMIT",
    "GoalResults",
    "Effect",
    "RatioEffect",
    "ModelDetail",
    "SlopeSensitivity",
    "ImputationSensitivity",
    "GroupResult",
    "ReliableChange",
    "SampleResult",
    "goal_specs",
    "impute_spec",
    "impute_auxiliaries",
    "check_imputations",
    "analyse_goal",
]

#: Seed of the bootstrap intervals of omega (the seed of the bundled study).
DEFAULT_SEED = 20261123

#: Two-sided level at which a change counts as reliable.
RC_LEVEL = 0.95

#: Above this largest R-hat the imputation chains count as not converged, and the report
#: says that the imputation estimate should not be used.
RHAT_LIMIT = 1.1


# --- the specs of a goal -------------------------------------------------------------------


def _several_goals(study: StudyData, respondent: str) -> bool:
    return study.frame(respondent)["goal"].nunique() > 1


def outcome_spec(study: StudyData, m: Measure) -> LmmSpec:
    """The pooled outcome model (every goal's organisations) of a scale."""
    p = study.programme
    fixed = p.models.pooled if _several_goals(study, m.respondent) else p.models.single
    random = p.respondents[m.respondent].random
    return LmmSpec(m.respondent, m.column, f"{m.column} ~ {fixed} + {random}")


def slope_spec(study: StudyData, m: Measure) -> LmmSpec:
    """The pooled outcome model with a random offer slope between organisations."""
    p = study.programme
    fixed = p.models.pooled if _several_goals(study, m.respondent) else p.models.single
    random = p.respondents[m.respondent].random_with_offer_slope()
    return LmmSpec(m.respondent, m.column, f"{m.column} ~ {fixed} + {random}")


def own_spec(study: StudyData, m: Measure, goal: int) -> LmmSpec:
    """The model on the goal's own organisations, with its own period effects."""
    p = study.programme
    random = p.respondents[m.respondent].random
    return LmmSpec(m.respondent, m.column, f"{m.column} ~ {p.models.single} + {random}", goal)


def moderation_spec(study: StudyData, m: Measure, plan: GoalPlan) -> LmmSpec | None:
    """offer x group interactions on the goal's own organisations (type III F tests)."""
    present = [g for g in plan.groups if g in study.frame(m.respondent).columns]
    if not present or m.respondent != "family":
        return None
    terms = " + ".join(f"C({g})" for g in present)
    p = study.programme
    fixed = p.models.moderation.format(terms=terms)
    return LmmSpec(m.respondent, m.column,
                   f"{m.column} ~ {fixed} + {p.respondents[m.respondent].random}", plan.goal, True)


def gee_spec(study: StudyData, m: Measure) -> GeeSpec:
    p = study.programme
    fixed = p.models.pooled if _several_goals(study, m.respondent) else p.models.single
    return GeeSpec(m.respondent, m.column, f"{m.column} ~ {fixed}", p.models.gee_family(m.kind))


def glmm_spec(study: StudyData, m: Measure) -> GlmmSpec:
    """The cluster-specific model of a yes/no or count outcome: the pooled fixed part and
    the respondent's nested random intercepts."""
    p = study.programme
    fixed = p.models.pooled if _several_goals(study, m.respondent) else p.models.single
    family = "binomial" if m.kind == "binary" else "poisson"
    return GlmmSpec(m.respondent, m.column, f"{m.column} ~ {fixed} + {p.respondents[m.respondent].random}", family)


def check_imputations(impute: int | None) -> None:
    """``impute`` is None (no imputation analysis) or a whole number of at least 2."""
    if impute is None:
        return
    if not isinstance(impute, (int, np.integer)) or isinstance(impute, bool) or impute < 2:
        raise SpecificationError(
            f"impute={impute!r}: the number of imputed data sets must be a whole number of at least 2 "
            "(e.g. 20), or None for no imputation sensitivity analysis.")


def impute_auxiliaries(study: StudyData, respondent: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The auxiliary variables of the imputation model, and those left out.

    The programme's groupings (:attr:`Programme.groupings`, e.g. SES, migration background
    and age band) present in the respondent's data: used when complete and constant per
    respondent (so that a missed wave can take them over), else left out.
    """
    data = study.frame(respondent)
    used, left = [], []
    for col in study.programme.groupings:
        if col not in data.columns:
            continue
        fits = data[col].notna().all() and bool((data.groupby(respondent)[col].nunique() <= 1).all())
        (used if fits else left).append(col)
    return tuple(used), tuple(left)


def impute_spec(study: StudyData, m: Measure, imputations: int, seed: int, n_jobs: int = 1) -> ImputeSpec:
    """Multiple imputation of a scale score and the pooled outcome model over the imputations.

    The imputation model's predictors are the outcome model's fixed part and the auxiliary
    variables (:func:`impute_auxiliaries`); its levels are the respondent's levels of
    nesting; the sampler runs with :func:`multilevel.impute`'s defaults.
    """
    p = study.programme
    fixed = p.models.pooled if _several_goals(study, m.respondent) else p.models.single
    aux, _ = impute_auxiliaries(study, m.respondent)
    predictors = " + ".join([fixed] + [f"C({c})" for c in aux])
    return ImputeSpec(m.respondent, m.column, outcome_spec(study, m).formula, tuple(p.respondents[m.respondent].levels),
                      predictors, imputations, seed, n_jobs=n_jobs)


def measure_present(study: StudyData, m: Measure, goal: int, k: int) -> bool:
    """Whether at least ``k`` of the goal's rows have a value of the measure."""
    data = study.frame(m.respondent)
    return (not data.empty and m.column in data.columns
            and data.loc[data["goal"] == goal, m.column].notna().sum() >= k)


class _ByKind:
    """The measures in ``present`` split into scales and yes/no or count outcomes."""

    present: tuple[Measure, ...]

    @property
    def scales(self) -> list[Measure]:
        return [m for m in self.present if m.kind == "scale"]

    @property
    def observed(self) -> list[Measure]:
        return [m for m in self.present if m.kind != "scale"]


@dataclass(frozen=True)
class _Plan(_ByKind):
    """The measures of a goal that the data hold, and its primary outcome."""

    present: tuple[Measure, ...]
    absent: tuple[Measure, ...]
    primary: Measure | None


def _plan(study: StudyData, goal: int, k: int) -> _Plan:
    p = study.programme
    plan = p.plans[goal]
    measures = [p.measures[c] for c in plan.scales + plan.observed]
    present = tuple(m for m in measures if measure_present(study, m, goal, k))
    scale_ms = [m for m in present if m.kind == "scale"]
    first = p.measures[plan.primary]
    primary = first if first in scale_ms else (scale_ms[0] if scale_ms else None)
    return _Plan(present, tuple(m for m in measures if m not in present), primary)


def goal_specs(study: StudyData, goal: int, *, seed: int = DEFAULT_SEED, k: int = 5,
               impute: int | None = None, jobs: int = 1) -> list:
    """Every model a goal report fits (to fit them ahead with :meth:`FitCache.prefit`).

    With ``impute=M`` the imputation of the primary outcome comes first (the longest job).
    """
    check_imputations(impute)
    plan = _plan(study, goal, k)
    specs: list = []
    if impute is not None and plan.primary is not None:
        specs.append(impute_spec(study, plan.primary, impute, seed, jobs))
    specs += [outcome_spec(study, m) for m in plan.scales]
    specs += [gee_spec(study, m) for m in plan.observed]
    specs += [glmm_spec(study, m) for m in plan.observed]
    if plan.primary is not None:
        specs += [own_spec(study, plan.primary, goal), slope_spec(study, plan.primary)]
        mod = moderation_spec(study, plan.primary, study.programme.plans[goal])
        if mod is not None:
            specs.append(mod)
    specs += [ReliabilitySpec(m.respondent, m.instrument, goal, seed)
              for m in plan.scales if m.instrument != "gas"]
    return specs


# --- the results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """The goal's offer effect on one scale: the contrast and the standardised effect."""

    measure: Measure
    row: pd.Series
    d: pd.Series | None = None


@dataclass(frozen=True)
class RatioEffect:
    """The goal's offer effect on a yes/no or count outcome (GEE; ratio and log scale)."""

    measure: Measure
    row: pd.Series


@dataclass(frozen=True)
class ModelDetail:
    """The full model of the primary outcome, and the goal's organisations in it."""

    measure: Measure
    summary: ModelSummary
    term: str
    singular: bool
    organisations: pd.DataFrame | None


@dataclass(frozen=True)
class SlopeSensitivity:
    """The pooled model with a random offer slope between organisations."""

    measure: Measure
    row: pd.Series | None
    slope_variance: float | None
    slope_sd: float | None
    singular: bool


@dataclass(frozen=True)
class ImputationSensitivity:
    """The primary outcome's offer effect after multiple imputation of its scale score.

    ``row`` is the pooled row of the goal's offer term (estimate, se, Barnard-Rubin df, t,
    p, CI, riv, lambda, fmi), None when the imputation or a fit failed (``error``);
    ``units`` this goal's counts (units taking part, never measured, rows added, values
    imputed, observed scores); ``total_units`` the units imputed over every goal.
    """

    measure: Measure
    row: pd.Series | None
    m: int
    rhat: float | None
    settings: dict
    units: pd.Series | None
    total_units: int
    auxiliary: tuple[str, ...]
    left_out: tuple[str, ...]
    error: str = ""

    @property
    def converged(self) -> bool:
        """Whether the largest R-hat is known and at most :data:`RHAT_LIMIT`."""
        return self.rhat is not None and bool(np.isfinite(self.rhat)) and self.rhat <= RHAT_LIMIT


@dataclass(frozen=True)
class GroupResult:
    """n, mean and SD of the primary outcome per group and condition, and the F test of
    the offer x group interaction (None when it could not be made)."""

    column: str
    stats: pd.DataFrame
    test: pd.Series | None
    tested: bool


@dataclass(frozen=True)
class ReliableChange:
    """Jacobson-Truax reliable change of the primary outcome, first to last wave."""

    measure: Measure
    first: int
    last: int
    sd_pre: float
    reliability: float
    threshold: float
    level: float
    categories: pd.Series
    with_cutoff: bool


@dataclass(frozen=True)
class SampleResult:
    """One respondent kind's rows of the goal, and how many took part first and last."""

    respondent: str
    data: pd.DataFrame
    first: int
    last: int
    n_first: int
    n_last: int


@dataclass
class GoalResults(_ByKind):
    """Every number a goal report shows, computed once (see :func:`analyse_goal`)."""

    goal: int
    k: int
    seed: int
    plan: GoalPlan
    present: tuple[Measure, ...]
    absent: tuple[Measure, ...]
    missing_scales: tuple[str, ...]
    primary: Measure | None
    organisations: pd.DataFrame
    waves: list[int]
    samples: list[SampleResult]
    reliability: pd.DataFrame | None = None
    reliability_failed: tuple[Measure, ...] = ()
    effects: list[Effect] = field(default_factory=list)
    not_estimated: tuple[Measure, ...] = ()
    detail: ModelDetail | None = None
    own: pd.Series | None = None
    slope: SlopeSensitivity | None = None
    ratios: list[RatioEffect] = field(default_factory=list)
    ratios_failed: tuple[Measure, ...] = ()
    #: The same outcomes in the cluster-specific GLMM (Wald z), beside the GEE.
    glmm_ratios: list[RatioEffect] = field(default_factory=list)
    groups: list[GroupResult] = field(default_factory=list)
    reliable_change: ReliableChange | None = None
    reliable_change_reason: str = ""
    activities: pd.DataFrame | None = None
    #: Organisations and goals of the study, over which the pooled models are fitted.
    n_organisations: int = 0
    n_goals: int = 0
    #: The imputation sensitivity analysis of the primary outcome (``impute=M``), else None.
    imputation: ImputationSensitivity | None = None

    @property
    def n_goal_organisations(self) -> int:
        """Organisations of this goal."""
        return len(self.organisations)

    def __repr__(self) -> str:
        return goal_results_view(self).text()

    def _repr_html_(self) -> str:
        return goal_results_view(self).html()


    def data(self, respondent: str) -> pd.DataFrame:
        for s in self.samples:
            if s.respondent == respondent:
                return s.data
        return pd.DataFrame()


# --- computing them ------------------------------------------------------------------------


def reliability_frame(results: Sequence[tuple[str, object]]) -> pd.DataFrame:
    """One row per (sub)scale: n, alpha and omega with their CIs, from reliability results."""
    parts = []
    for code, res in results:
        s = res.scales
        parts.append(pd.DataFrame({
            "scale": code,
            "subscale": s["score"].astype(str),
            "n": s["n_complete"].astype(float),
            "alpha": s["alpha"], "alpha_ci_low": s["alpha_ci_low"], "alpha_ci_high": s["alpha_ci_high"],
            "omega": s["omega_total"], "omega_ci_low": s["omega_ci_low"],
            "omega_ci_high": s["omega_ci_high"],
        }))  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def _reliability(cache: FitCache, plan: _Plan, goal: int, seed: int):
    results, failed = [], []
    for m in plan.scales:
        if m.instrument == "gas":
            continue
        fitted = cache.get(ReliabilitySpec(m.respondent, m.instrument, goal, seed))
        if fitted.result is None:
            failed.append(m)
        else:
            results.append((m.instrument, fitted.result))
    frame = reliability_frame(results) if results else None
    return frame, tuple(failed)


def _effects(study: StudyData, cache: FitCache, plan: _Plan, goal: int):
    effects, failed = [], []
    for m in plan.scales:
        fitted = cache.get(outcome_spec(study, m))
        c = None if fitted.result is None else fitted.result.contrast(goal)
        if c is None:
            failed.append(m)
            continue
        d = fitted.result.standardised.get(goal, fitted.result.standardised.get(None))
        effects.append(Effect(m, c.iloc[0], d))
    return effects, tuple(failed)


def _detail(study: StudyData, cache: FitCache, m: Measure, goal: int, org_ids) -> ModelDetail | None:
    fitted = cache.get(outcome_spec(study, m))
    if fitted.result is None or fitted.result.contrast(goal) is None:
        return None
    summary = fitted.result
    orgs = summary.organisations
    if orgs is not None:
        orgs = orgs.loc[[i for i in orgs.index if str(i) in org_ids]]
    return ModelDetail(m, summary, summary.offer_term(goal), fitted.singular, orgs)


def _slope(study: StudyData, cache: FitCache, m: Measure, goal: int) -> SlopeSensitivity:
    fitted = cache.get(slope_spec(study, m))
    if fitted.result is None:
        return SlopeSensitivity(m, None, None, None, fitted.singular)
    c = fitted.result.contrast(goal)
    var = fitted.result.slope_variance("organisation", "offer")
    sd = None if var is None else float(np.sqrt(max(var, 0.0)))
    return SlopeSensitivity(m, None if c is None else c.iloc[0], var, sd, fitted.singular)


def _imputation(study: StudyData, cache: FitCache, m: Measure, goal: int, impute: int, seed: int,
                jobs: int) -> ImputationSensitivity:
    spec = impute_spec(study, m, impute, seed, jobs)
    aux, left = impute_auxiliaries(study, m.respondent)
    fitted = cache.get(spec)
    s = fitted.result
    if s is None:
        return ImputationSensitivity(m, None, impute, None, {}, None, 0, aux, left, fitted.error or "failed")
    units = s.units.loc[goal] if goal in s.units.index else None
    return ImputationSensitivity(m, s.row(goal), s.m, s.rhat, dict(s.settings), units,
                                 int(s.units["units"].sum()), aux, left)


def _own(study: StudyData, cache: FitCache, m: Measure, goal: int) -> pd.Series | None:
    fitted = cache.get(own_spec(study, m, goal))
    if fitted.result is None or "offer" not in fitted.result.fixed.index:
        return None
    return fitted.result.fixed.loc["offer"]


def _ratios(study: StudyData, cache: FitCache, plan: _Plan, goal: int):
    rows, failed = [], []
    for m in plan.observed:
        fitted = cache.get(gee_spec(study, m))
        if fitted.result is None:
            failed.append(m)
            continue
        fixed = fitted.result.fixed
        term = next((t for t in (f"C(goal)[{goal}]:offer", "offer") if t in fixed.index), None)
        if term is None:
            failed.append(m)
            continue
        rows.append(RatioEffect(m, fixed.loc[term]))
    return rows, tuple(failed)


def _glmm_ratios(study: StudyData, cache: FitCache, plan: _Plan, goal: int) -> list[RatioEffect]:
    rows = []
    for m in plan.observed:
        table = cache.get(glmm_spec(study, m)).result
        term = None if table is None else next(
            (t for t in (f"C(goal)[{goal}]:offer", "offer") if t in table.index), None)
        if term is not None:
            rows.append(RatioEffect(m, table.loc[term]))
    return rows


def group_stats(data: pd.DataFrame, column: str, by: str, order: Sequence[str]) -> pd.DataFrame:
    """n, mean and SD of ``column`` per value of ``by`` (rows, in ``order`` first) and
    offer condition (columns ``(condition, stat)``); NaN where a cell is empty."""
    scored = data.dropna(subset=[column, by])
    present = set(scored[by].unique())
    groups = [g for g in order if g in present] + sorted(present - set(order), key=str)
    stats = scored.groupby([by, "offer"])[column].agg(["count", "mean", "std"])
    stats = stats.rename(columns={"count": "n", "std": "sd"}).unstack("offer").swaplevel(axis=1)
    conditions = [c for c in (0, 1) if c in set(scored["offer"].unique())]
    cols = pd.MultiIndex.from_product([conditions, ["n", "mean", "sd"]])
    frame = stats.reindex(index=groups, columns=cols).astype(float)
    frame.index.name = "group"
    n_cols = [(c, "n") for c in conditions]
    frame[n_cols] = frame[n_cols].fillna(0.0)
    return frame


def _groups(study: StudyData, cache: FitCache, res: GoalResults) -> list[GroupResult]:
    m = res.primary
    if m is None:
        return []
    data = res.data(m.respondent)
    mod = moderation_spec(study, m, res.plan)
    anova = None if mod is None else cache.get(mod).result
    out = []
    for by in res.plan.groups:
        if by not in data.columns or data.dropna(subset=[m.column, by]).empty:
            continue
        grouping = study.programme.groupings[by]
        stats = group_stats(data, m.column, by, [code for code, _ in grouping.levels])
        table = None if anova is None else anova.anova
        term = f"offer:C({by})"
        test = table.loc[term] if table is not None and term in table.index else None
        out.append(GroupResult(by, stats, test, mod is not None))
    return out


def _reliable_change(res: GoalResults) -> tuple[ReliableChange | None, str]:
    m = res.primary
    if m is None or m.kind != "scale" or m.instrument == "gas":
        return None, "not applicable"
    data = res.data(m.respondent)
    first, last = int(data["wave"].min()), int(data["wave"].max())
    wide = data.pivot_table(index=m.respondent, columns="wave", values=m.column, aggfunc="first")
    if first not in wide.columns or last not in wide.columns or first == last:
        return None, "no repeated measurements"
    pre, post = wide[first], wide[last]
    both = pre.notna() & post.notna()
    sd_pre = float(data.loc[data["wave"] == first, m.column].std())
    rel = None
    if res.reliability is not None:
        hit = res.reliability.loc[(res.reliability["scale"] == m.instrument)
                                  & (res.reliability["subscale"] == m.score)]
        rel = float(hit["alpha"].iloc[0]) if len(hit) else None
    if rel is None or not (0 < rel < 1) or both.sum() < res.k or not np.isfinite(sd_pre) or sd_pre <= 0:
        return None, "too few data"
    direction = "higher_is_better" if m.higher_is_better else "lower_is_better"
    rc = scales.reliable_change(pre[both], post[both], sd_pre=sd_pre, reliability=rel,
                                cutoff=m.cutoff, direction=direction, level=RC_LEVEL)
    threshold = reliable_change_threshold(sd_pre, rel, level=RC_LEVEL)
    cats = rc["classification"].astype(object).dropna()
    return ReliableChange(m, first, last, sd_pre, rel, threshold, RC_LEVEL, cats,
                          m.cutoff is not None), ""


def _with_offer(frame: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Add the offer (1 from the organisation's start wave on) where a file lacks it."""
    if "offer" in frame.columns or "start_wave" not in orgs.columns:
        return frame
    start = orgs.set_index("organisation")["start_wave"]
    began = frame["organisation"].map(start)
    return frame.assign(offer=(frame["wave"] >= began).astype(int))


def _activities(study: StudyData, plan: GoalPlan) -> pd.DataFrame | None:
    act = study.activities
    if not plan.dose or act.empty or "goal" not in act.columns:
        return None
    act = _with_offer(act.loc[act["goal"] == plan.goal], study.organisations)
    return act if not act.empty and any(c in act.columns for c in study.programme.dose) else None


def _samples(study: StudyData, goal: int, plan: _Plan) -> list[SampleResult]:
    kinds = sorted({m.respondent for m in plan.present}, key=list(study.programme.respondents).index)
    out = []
    for r in kinds:
        data = study.of_goal(r, goal)
        first, last = int(data["wave"].min()), int(data["wave"].max())
        n0 = int(data.loc[data["wave"] == first, r].nunique())
        n1 = int(data.loc[data["wave"] == last, r].nunique())
        out.append(SampleResult(r, data, first, last, n0, n1))
    return out


def analyse_goal(study: StudyData, goal: int, *, k: int = 5, seed: int = DEFAULT_SEED,
                 impute: int | None = None, jobs: int = 1) -> GoalResults:
    """Compute every number of one goal's report (fits come from the study's cache).

    Parameters
    ----------
    study : StudyData
    goal : int
        A goal of the study's programme.
    k : int, default 5
        Minimum number of respondents behind a measure for it to be analysed.
    seed : int
        Seed of the bootstrap intervals of omega, and of the imputations.
    impute : int, optional
        Also the imputation sensitivity analysis with this many imputed data sets (at
        least 2); None (default): without it.
    jobs : int, default 1
        Worker processes for the imputation chains (the numbers do not depend on it).

    Returns
    -------
    GoalResults
    """
    check_imputations(impute)
    programme = study.programme
    if goal not in programme.plans:
        raise SpecificationError(f"goal={goal!r}: transformation goals are numbered {sorted(programme.plans)}.")
    cache = FitCache.of(study)
    plan = _plan(study, goal, k)
    orgs = study.organisations
    goal_orgs = orgs.loc[orgs["goal"] == goal] if "goal" in orgs.columns else orgs.iloc[0:0]
    samples = _samples(study, goal, plan)
    waves = sorted(set().union(*[set(s.data["wave"].dropna().astype(int)) for s in samples]))
    res = GoalResults(
        goal=goal, k=k, seed=seed, plan=programme.plans[goal], present=plan.present,
        absent=plan.absent,
        missing_scales=tuple(c for c in sorted(study.missing_scales)
                             if not any(m.instrument == c for m in plan.absent)),
        primary=plan.primary, organisations=goal_orgs, waves=waves, samples=samples,
        activities=_activities(study, programme.plans[goal]),
        n_organisations=int(orgs["organisation"].nunique()) if "organisation" in orgs.columns else 0,
        n_goals=int(orgs["goal"].nunique()) if "goal" in orgs.columns else 0,
    )
    if not plan.present:
        return res
    res.reliability, res.reliability_failed = _reliability(cache, plan, goal, seed)
    res.effects, res.not_estimated = _effects(study, cache, plan, goal)
    res.ratios, res.ratios_failed = _ratios(study, cache, plan, goal)
    res.glmm_ratios = _glmm_ratios(study, cache, plan, goal)
    m = plan.primary
    if m is not None and any(e.measure == m for e in res.effects):
        ids = set(goal_orgs["organisation"].astype(str))
        res.detail = _detail(study, cache, m, goal, ids)
        res.own = _own(study, cache, m, goal)
        res.slope = _slope(study, cache, m, goal)
        if impute is not None:
            res.imputation = _imputation(study, cache, m, goal, impute, seed, jobs)
    res.groups = _groups(study, cache, res)
    res.reliable_change, res.reliable_change_reason = _reliable_change(res)
    return res
