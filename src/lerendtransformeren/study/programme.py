"""The programme "Lerend Transformeren" as data: what is measured, per goal, and how.

Everything that belongs to this programme and not to statistics or report layout lives
here, as frozen, typed values: the measures and their names in two languages, the plan of
each transformation goal (its scales, its yes/no and count outcomes, whether it reports
the dose of the offer), the groups a goal report compares, the respondent kinds with
their levels of nesting, and the model templates (the pooled outcome model, the
sensitivity models). Another action-research programme supplies its own
:class:`Programme` and reuses the analysis and report code unchanged.

Examples
--------
>>> from lerendtransformeren.study.programme import LERENDTRANSFORMEREN as P
>>> P.plans[3].primary
'sdq_parent_total_difficulties'
>>> P.measures["referral"].name.pick("en")
'referral to specialised care'
>>> P.respondents["family"].random
'(1 | organisation/team/professional/family)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from lerendtransformeren import design
from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.lang import Label
from lerendtransformeren.study import vocabulary as V

__all__ = [
    "Measure",
    "GoalPlan",
    "Grouping",
    "Respondent",
    "ModelTemplates",
    "Programme",
    "LERENDTRANSFORMEREN",
]


@dataclass(frozen=True)
class Measure:
    """A score or observed outcome analysed in the reports.

    Attributes
    ----------
    column : str
        Column made by :func:`scales.score` (``mastery_total``) or an observed variable
        (``referral``).
    instrument : str or None
        Instrument code of :mod:`lerendtransformeren.scales` (None for observed variables).
    name : Label
        Name in running text and tables ("sociale steun (1-5)").
    respondent : str
        Key of :attr:`Programme.respondents` (``"family"`` or ``"professional"``).
    higher_is_better : bool
    kind : {"scale", "binary", "count"}
    cutoff : float, optional
        Clinical cut-off for "recovered" in reliable change (functional side included).
    cutoff_note : Label, optional
        Where the cut-off comes from, for the reader.
    """

    column: str
    instrument: str | None
    name: Label
    respondent: str = "family"
    higher_is_better: bool = True
    kind: str = "scale"
    cutoff: float | None = None
    cutoff_note: Label | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("scale", "binary", "count"):
            raise SpecificationError(f"Measure {self.column}: kind={self.kind!r} must be scale, binary or count.")

    def label(self, lang: str) -> str:
        """The name in ``lang``."""
        return self.name.pick(lang)

    @property
    def score(self) -> str:
        """The score's name within its instrument (``total`` of ``mastery_total``)."""
        if self.instrument and self.column.startswith(self.instrument + "_"):
            return self.column[len(self.instrument) + 1:]
        return self.column


@dataclass(frozen=True)
class Grouping:
    """A characteristic a goal report compares groups on (SES, age band, role...)."""

    column: str
    name: Label
    levels: tuple[tuple[str, Label], ...]

    @property
    def labels(self) -> dict[str, Label]:
        return dict(self.levels)


@dataclass(frozen=True)
class Respondent:
    """A kind of respondent: its id column, its levels of nesting and its random part."""

    key: str
    plural: Label
    levels: tuple[str, ...]

    @property
    def random(self) -> str:
        """Random intercepts for every level of nesting, in lme4 syntax."""
        return f"(1 | {'/'.join(self.levels)})"

    def random_with_offer_slope(self, top: str = "organisation") -> str:
        """As :attr:`random`, with an uncorrelated random offer slope at the top level."""
        inner = [":".join(self.levels[: i + 1]) for i in range(1, len(self.levels))]
        return " + ".join([f"(1 | {top})", f"(0 + offer | {top})"] + [f"(1 | {g})" for g in inner])


@dataclass(frozen=True)
class GoalPlan:
    """What a goal report analyses.

    Attributes
    ----------
    goal : int
    scales : tuple of str
        Measure columns of scales; the first is the goal's primary outcome.
    observed : tuple of str
        Yes/no and count outcomes (GEE).
    dose : bool
        Report participation in the offer (``activities.csv``).
    groups : tuple of str
        Grouping columns the report compares (keys of :attr:`Programme.groupings`).
    """

    goal: int
    scales: tuple[str, ...]
    observed: tuple[str, ...] = ()
    dose: bool = False
    groups: tuple[str, ...] = ("ses", "migration_background", "age_band")

    @property
    def primary(self) -> str:
        return self.scales[0]


@dataclass(frozen=True)
class ModelTemplates:
    """The fixed parts of the models a goal report fits.

    ``pooled`` is fitted over every goal's organisations (a level per goal and an offer
    effect per goal, period effects shared); ``single`` is used when the data hold one
    goal, and for the sensitivity analysis on one goal's own organisations.
    """

    pooled: str = "C(wave) + C(goal) + C(goal):offer"
    single: str = "C(wave) + offer"
    moderation: str = "C(wave) + offer * ({terms})"
    gee_families: tuple[tuple[str, str], ...] = (("binary", "binomial"), ("count", "negativebinomial"))

    def gee_family(self, kind: str) -> str:
        return dict(self.gee_families)[kind]


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Programme:
    """An action-research programme: its goals, respondents, measures, plans and models."""

    name: Label
    goals: tuple[design.Goal, ...]
    respondents: Mapping[str, Respondent]
    measures: Mapping[str, Measure]
    plans: Mapping[int, GoalPlan]
    groupings: Mapping[str, Grouping]
    dose: Mapping[str, Label] = field(default_factory=dict)
    models: ModelTemplates = ModelTemplates()
    id_columns: tuple[str, ...] = ("organisation", "team", "professional", "family", "youth")

    def __post_init__(self) -> None:
        for plan in self.plans.values():
            unknown = [c for c in plan.scales + plan.observed if c not in self.measures]
            unknown += [g for g in plan.groups if g not in self.groupings]
            if unknown:
                raise SpecificationError(f"Goal {plan.goal}: unknown measure(s) or group(s) {unknown}.")
        for m in self.measures.values():
            if m.respondent not in self.respondents:
                raise SpecificationError(f"Measure {m.column}: unknown respondent {m.respondent!r}.")

    def goal(self, code: int) -> design.Goal:
        for g in self.goals:
            if g.code == code:
                return g
        raise SpecificationError(f"goal={code!r}: this programme's goals are {sorted(self.plans)}.")

    def instruments(self, respondent: str) -> list[str]:
        """Instrument codes scored for a respondent kind, in measure order."""
        return list(dict.fromkeys(m.instrument for m in self.measures.values()
                                  if m.respondent == respondent and m.instrument))


_MEASURES = (
    Measure("mastery_total", "mastery", V.MEASURE_NAMES["mastery_total"]),
    Measure("support_mean", "support", V.MEASURE_NAMES["support_mean"]),
    Measure("psoc_total", "psoc", V.MEASURE_NAMES["psoc_total"]),
    Measure("sdq_parent_total_difficulties", "sdq_parent",
            V.MEASURE_NAMES["sdq_parent_total_difficulties"], higher_is_better=False,
            cutoff=13.5, cutoff_note=V.SDQ_CUTOFF_NOTE),
    Measure("gas_tscore", "gas", V.MEASURE_NAMES["gas_tscore"]),
    Measure("sdmq9_total", "sdmq9", V.MEASURE_NAMES["sdmq9_total"]),
    Measure("referral", None, V.MEASURE_NAMES["referral"], kind="binary", higher_is_better=False),
    Measure("contacts", None, V.MEASURE_NAMES["contacts"], kind="count", higher_is_better=False),
    Measure("one_plan", None, V.MEASURE_NAMES["one_plan"], kind="binary"),
    Measure("one_coordinator", None, V.MEASURE_NAMES["one_coordinator"], kind="binary"),
    Measure("uwes9_total", "uwes9", V.MEASURE_NAMES["uwes9_total"], respondent="professional"),
    Measure("burden_mean", "burden", V.MEASURE_NAMES["burden_mean"], respondent="professional",
            higher_is_better=False),
    Measure("impl_mean", "impl", V.MEASURE_NAMES["impl_mean"], respondent="professional"),
    Measure("collab_mean", "collab", V.MEASURE_NAMES["collab_mean"], respondent="professional"),
)  # fmt: skip

_PLANS = (
    GoalPlan(1, ("mastery_total", "support_mean")),
    GoalPlan(2, ("psoc_total", "sdq_parent_total_difficulties")),
    GoalPlan(3, ("sdq_parent_total_difficulties", "gas_tscore"), ("referral", "contacts")),
    GoalPlan(4, ("sdmq9_total", "collab_mean"), ("one_plan", "one_coordinator")),
    GoalPlan(5, ("uwes9_total", "burden_mean", "impl_mean"), (), dose=True, groups=("role",)),
)

_GROUPINGS = tuple(
    Grouping(column, name, tuple(levels.items())) for column, (name, levels) in V.GROUPS.items()
)

#: The programme Lerend Transformeren: five goals, families and professionals.
LERENDTRANSFORMEREN = Programme(
    name=Label.same("Lerend Transformeren"),
    goals=design.GOALS,
    respondents=_frozen({
        "family": Respondent("family", V.RESPONDENTS["family"],
                             ("organisation", "team", "professional", "family")),
        "professional": Respondent("professional", V.RESPONDENTS["professional"],
                                   ("organisation", "team", "professional")),
    }),
    measures=_frozen({m.column: m for m in _MEASURES}),
    plans=_frozen({p.goal: p for p in _PLANS}),
    groupings=_frozen({g.column: g for g in _GROUPINGS}),
    dose=_frozen(V.DOSE),
)
