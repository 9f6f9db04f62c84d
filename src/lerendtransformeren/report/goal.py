"""The goal report and the cross-goal overview of the learning community.

:func:`build_goal_report` turns a study (the bundled synthetic one, or a folder with the
same files) into a :class:`~lerendtransformeren.report.render.Document` for one
transformation goal: design, sample, measures and reliability, change over time, the
effect of the support offer (stepped-wedge multilevel model), binary and count outcomes
(GEE), differences by SES, migration background and age band, individual reliable change
("when is good good enough"), a marked space for the researchers' conclusions, a methods
paragraph and the provenance block. :func:`build_overview` gives the short cross-goal
overview.

The analysis choices, in brief (the report explains them in its own words):

- **One model over all 15 organisations per outcome.** Each goal has only three
  organisations, one starting the offer at T1, T2 and T3. A stepped-wedge model on three
  organisations must estimate the period effects from the same three organisations whose
  offer it tests. The outcome model is therefore fitted once on all organisations,
  ``y ~ C(wave) + C(goal) + C(goal):offer + (1 | organisation/team/professional/family)``:
  period effects common to all goals, a level per goal, and an offer effect *per goal*,
  the goal's contrast with Satterthwaite df. The same fit serves all goal reports that
  use the outcome. A sensitivity analysis on the goal's own three organisations (own
  period effects) is reported beside it.
- **Binary and count outcomes** (referral, contacts, one plan, one coordinator) by GEE
  with organisations as clusters, the Mancl-DeRouen small-sample correction and t tests
  on 15 minus the organisation-level parameters df.
- **Disclosure control**: every table and figure suppresses cells with fewer than ``k``
  respondents (with secondary suppression); organisations appear as "organisatie A/B/C";
  the renderers refuse any identifier value of the data.

Every fit is cached on the :class:`StudyData` object, so a run over five goals fits each
distinct model once.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lerendtransformeren import design, scales
from lerendtransformeren.exceptions import (
    DataError,
    LerendTransformerenError,
    SingularFitWarning,
    SpecificationError,
)
from lerendtransformeren.report.figures import (
    Figure,
    plot_caterpillar,
    plot_gas,
    plot_organisation_trajectories,
    plot_reliability,
    plot_reliable_change,
    plot_trajectories,
)
from lerendtransformeren.report.format import (
    MISSING,
    check_lang,
    fmt_ci,
    fmt_int,
    fmt_num,
    fmt_p,
    fmt_pct,
)
from lerendtransformeren.report.provenance import collect_provenance
from lerendtransformeren.report.render import Conclusions, Document, Section
from lerendtransformeren.report.suppress import pseudonymise, suppress_small_cells
from lerendtransformeren.report.tables import (
    Column,
    Table,
    descriptives_table,
    fixed_effects_table,
    reliability_table,
    sample_table,
    variance_table,
)
from lerendtransformeren.report.text import effect_sentence, methods_paragraph, variance_sentence

__all__ = [
    "DEFAULT_SEED",
    "ID_COLUMNS",
    "MEASURES",
    "GOAL_PLANS",
    "Measure",
    "GoalPlan",
    "StudyData",
    "load_study",
    "build_goal_report",
    "build_overview",
]

#: Seed of the bootstrap intervals of omega (the seed of the bundled study).
DEFAULT_SEED = 20261123

#: Identifier columns of the data contract; none of their values may appear in a report.
ID_COLUMNS: tuple[str, ...] = ("organisation", "team", "professional", "family", "youth")

_FILES = ("organisations.csv", "families.csv", "professionals.csv", "activities.csv")
BUNDLED = Path(__file__).resolve().parents[3] / "data" / "synthetic"


# --- what is measured -----------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """A score analysed in the reports.

    Attributes
    ----------
    column : str
        Column made by :func:`scales.score` (``mastery_total``) or an observed variable
        (``referral``).
    instrument : str or None
        Instrument code of :mod:`lerendtransformeren.scales` (None for observed variables).
    label_nl, label_en : str
        Name in running text and tables.
    respondent : {"family", "professional"}
    higher_is_better : bool
    kind : {"scale", "binary", "count"}
    cutoff : float, optional
        Clinical cut-off for "recovered" in reliable change (functional side included).
    cutoff_note_nl, cutoff_note_en : str
    """

    column: str
    instrument: str | None
    label_nl: str
    label_en: str
    respondent: str = "family"
    higher_is_better: bool = True
    kind: str = "scale"
    cutoff: float | None = None
    cutoff_note_nl: str = ""
    cutoff_note_en: str = ""

    def label(self, lang: str) -> str:
        return self.label_nl if check_lang(lang) == "nl" else self.label_en

    @property
    def labels(self) -> tuple[str, str]:
        return (self.label_nl, self.label_en)


_SDQ_NOTE_NL = (
    "Als grens voor 'hersteld' is 13,5 gebruikt: de bovengrens van de normale band (0-13) "
    "van de oorspronkelijke Britse oudervorm. Dit zijn geen Nederlandse normen; lees "
    "'hersteld' daarom als indicatie."
)
_SDQ_NOTE_EN = (
    "The cut-off for 'recovered' is 13.5: the upper end of the normal band (0-13) of the "
    "original UK parent form. These are not Dutch norms; read 'recovered' as indicative."
)

#: Every measure the goal reports use, by column.
MEASURES: dict[str, Measure] = {
    m.column: m
    for m in (
        Measure("mastery_total", "mastery", "regie over eigen leven (Pearlin, 7-28)",
                "mastery (Pearlin, 7-28)"),
        Measure("support_mean", "support", "sociale steun (1-5)", "social support (1-5)"),
        Measure("psoc_total", "psoc", "opvoedcompetentie (PSOC, 16-96)",
                "parenting competence (PSOC, 16-96)"),
        Measure("sdq_parent_total_difficulties", "sdq_parent",
                "psychosociale problemen (SDQ-totaal, 0-40)",
                "psychosocial difficulties (SDQ total, 0-40)", higher_is_better=False,
                cutoff=13.5, cutoff_note_nl=_SDQ_NOTE_NL, cutoff_note_en=_SDQ_NOTE_EN),
        Measure("gas_tscore", "gas", "doelrealisatie (GAS T-score)",
                "goal attainment (GAS T-score)"),
        Measure("sdmq9_total", "sdmq9", "gezamenlijke besluitvorming (SDM-Q-9, 0-100)",
                "shared decision making (SDM-Q-9, 0-100)"),
        Measure("referral", None, "verwijzing naar specialistische zorg",
                "referral to specialised care", kind="binary", higher_is_better=False),
        Measure("contacts", None, "aantal contacten", "number of contacts", kind="count",
                higher_is_better=False),
        Measure("one_plan", None, "één gezin, één plan", "one family, one plan", kind="binary"),
        Measure("one_coordinator", None, "één regisseur", "one coordinator", kind="binary"),
        Measure("uwes9_total", "uwes9", "bevlogenheid (UBES-9, 0-6)",
                "work engagement (UWES-9, 0-6)", respondent="professional"),
        Measure("burden_mean", "burden", "ervaren regeldruk (1-5)",
                "perceived regulatory burden (1-5)", respondent="professional",
                higher_is_better=False),
        Measure("impl_mean", "impl", "implementatie van de werkwijze (1-5)",
                "implementation of the way of working (1-5)", respondent="professional"),
        Measure("collab_mean", "collab", "interprofessionele samenwerking (1-5)",
                "interprofessional collaboration (1-5)", respondent="professional"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class GoalPlan:
    """What a goal report analyses: its scales (the first is primary) and other outcomes."""

    goal: int
    scales: tuple[str, ...]
    observed: tuple[str, ...] = ()
    dose: bool = False

    @property
    def primary(self) -> str:
        return self.scales[0]


#: The measures per goal (the first scale is the goal's primary outcome).
GOAL_PLANS: dict[int, GoalPlan] = {
    1: GoalPlan(1, ("mastery_total", "support_mean")),
    2: GoalPlan(2, ("psoc_total", "sdq_parent_total_difficulties")),
    3: GoalPlan(3, ("sdq_parent_total_difficulties", "gas_tscore"), ("referral", "contacts")),
    4: GoalPlan(4, ("sdmq9_total", "collab_mean"), ("one_plan", "one_coordinator")),
    5: GoalPlan(5, ("uwes9_total", "burden_mean", "impl_mean"), (), dose=True),
}

_SUBSCALES: dict[Hashable, tuple[str, str]] = {
    "total": ("totaal", "total"),
    "mean": ("gemiddelde", "mean"),
    "raw": ("ruwe som", "raw sum"),
    "emotional": ("emotionele problemen", "emotional problems"),
    "conduct": ("gedragsproblemen", "conduct problems"),
    "hyperactivity": ("hyperactiviteit", "hyperactivity"),
    "peer": ("problemen met leeftijdgenoten", "peer problems"),
    "prosocial": ("prosociaal gedrag", "prosocial behaviour"),
    "total_difficulties": ("totale problemen", "total difficulties"),
    "externalising": ("externaliserend", "externalising"),
    "internalising": ("internaliserend", "internalising"),
    "satisfaction": ("tevredenheid", "satisfaction"),
    "efficacy": ("effectiviteit", "efficacy"),
    "vigour": ("vitaliteit", "vigour"),
    "dedication": ("toewijding", "dedication"),
    "absorption": ("absorptie", "absorption"),
    "mastery": ("Pearlin-mastery", "Pearlin mastery"),
    "support": ("sociale steun", "social support"),
    "psoc": ("PSOC", "PSOC"),
    "sdq_parent": ("SDQ ouderversie", "SDQ parent form"),
    "sdmq9": ("SDM-Q-9", "SDM-Q-9"),
    "uwes9": ("UBES-9", "UWES-9"),
    "burden": ("regeldruk", "regulatory burden"),
    "impl": ("implementatie", "implementation"),
    "collab": ("samenwerking", "collaboration"),
}

_GROUPS: dict[str, tuple[tuple[str, str], dict[Hashable, tuple[str, str]]]] = {
    "ses": (
        ("sociaal-economische status", "socio-economic status"),
        {"laag": ("laag", "low"), "midden": ("midden", "middle"), "hoog": ("hoog", "high")},
    ),
    "migration_background": (
        ("migratieachtergrond", "migration background"),
        {
            "nl": ("geen (Nederland)", "none (Netherlands)"),
            "europa": ("Europees", "European"),
            "buiten_europa": ("buiten Europa", "outside Europe"),
        },
    ),
    "age_band": (
        ("leeftijd van het kind", "age of the child"),
        {
            "zwangerschap": ("zwangerschap", "pregnancy"),
            "0-3": ("0-3 jaar", "0-3 years"),
            "4-7": ("4-7 jaar", "4-7 years"),
            "8-11": ("8-11 jaar", "8-11 years"),
            "12-17": ("12-17 jaar", "12-17 years"),
            "18-23": ("18-23 jaar", "18-23 years"),
        },
    ),
    "role": (
        ("functie", "role"),
        {
            "hulpverlener": ("hulpverlener", "practitioner"),
            "gedragswetenschapper": ("gedragswetenschapper", "behavioural scientist"),
            "teamleider": ("teamleider", "team leader"),
        },
    ),
}

_RESPONDENTS = {"family": ("gezinnen", "families"), "professional": ("professionals", "professionals")}

_RANDOM = {
    "family": "(1 | organisation/team/professional/family)",
    "professional": "(1 | organisation/team/professional)",
}

_VARIANCE_LABELS: dict[Hashable, tuple[str, str]] = {
    "organisation:team:professional:family": ("Gezin (binnen professional)", "Family (within professional)"),
}
_VARIANCE_PHRASES: dict[str, tuple[str, str]] = {
    "organisation:team:professional:family": (
        "tussen gezinnen binnen professionals",
        "between families within professionals",
    ),
    "residual": (
        "binnen gezinnen of professionals over de meetmomenten (residu)",
        "within families or professionals across waves (residual)",
    ),
}


def _cap(text: str) -> str:
    """First letter upper case, the rest as it is (``str.capitalize`` lowercases 'Pearlin')."""
    return text[:1].upper() + text[1:]


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if check_lang(lang) == "nl" else pair[1]


# --- data -------------------------------------------------------------------------------------


@dataclass
class StudyData:
    """The data of a study, scored once, with a cache of fitted models.

    Attributes
    ----------
    organisations, families, professionals, activities : pandas.DataFrame
        The files of the data contract; ``families`` and ``professionals`` carry the
        scale scores as extra columns. Absent files are empty frames.
    inputs : list of Path
        The files read (for the provenance block); empty for a study made in memory.
    source : str
        Where the data came from, in words.
    missing_scales : dict
        Instrument code -> reason it could not be scored (items absent).
    cache : dict
        Fitted models and reliability results, keyed by what was fitted.
    """

    organisations: pd.DataFrame
    families: pd.DataFrame
    professionals: pd.DataFrame
    activities: pd.DataFrame
    inputs: list[Path] = field(default_factory=list)
    source: str = ""
    missing_scales: dict[str, str] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)

    @property
    def identifiers(self) -> frozenset[str]:
        """Every value of every id column in the data (they may never be shown)."""
        if "identifiers" not in self.cache:
            values: set[str] = set()
            for frame in (self.organisations, self.families, self.professionals, self.activities):
                for col in ID_COLUMNS:
                    if col in frame.columns:
                        values.update(str(v) for v in frame[col].dropna().unique())
            self.cache["identifiers"] = frozenset(values)
        return self.cache["identifiers"]

    def goals(self) -> list[int]:
        found: set[int] = set()
        for frame in (self.organisations, self.families, self.professionals):
            if "goal" in frame.columns:
                found.update(int(g) for g in frame["goal"].dropna().unique())
        return sorted(found)

    def frame(self, respondent: str) -> pd.DataFrame:
        return self.families if respondent == "family" else self.professionals


def _score_frame(frame: pd.DataFrame, codes: Sequence[str], missing: dict[str, str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    usable = []
    for code in codes:
        inst = scales.get(code)
        absent = [item for item in inst.items if item not in frame.columns]
        if absent:
            missing[code] = f"{len(absent)} of {len(inst.items)} items absent (e.g. {absent[0]})"
        else:
            usable.append(code)
    if not usable:
        return frame
    scored = scales.score(frame, usable)
    keep = [c for c in scored.columns if not c.endswith("_n_answered")]
    return pd.concat([frame, scored[keep]], axis=1)


def _derive_organisations(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """organisations.csv from the long files: goal and start wave (first wave with offer)."""
    parts = [f[["goal", "organisation", "wave", "offer"]] for f in frames
             if {"goal", "organisation", "wave", "offer"} <= set(f.columns)]
    if not parts:
        return pd.DataFrame(columns=["goal", "organisation", "start_wave"])
    long = pd.concat(parts)
    start = long.loc[long["offer"] == 1].groupby("organisation")["wave"].min()
    orgs = long.groupby("organisation")["goal"].first().to_frame()
    orgs["start_wave"] = start.reindex(orgs.index)
    return orgs.reset_index()


def _study_from_frames(frames: dict[str, pd.DataFrame], inputs, source) -> StudyData:
    missing: dict[str, str] = {}
    fam = frames.get("families", pd.DataFrame())
    pro = frames.get("professionals", pd.DataFrame())
    for name, frame in (("families", fam), ("professionals", pro)):
        if not frame.empty:
            need = [c for c in ("goal", "organisation", "team", "wave", "offer") if c not in frame.columns]
            if need:
                raise DataError(
                    f"{name}: column(s) {need} are missing; a report needs goal, organisation, "
                    "team, wave and offer (see docs/architecture.md, the data contract)."
                )
    fam = _score_frame(fam, [m.instrument for m in MEASURES.values()
                             if m.respondent == "family" and m.instrument], missing)
    pro = _score_frame(pro, [m.instrument for m in MEASURES.values()
                             if m.respondent == "professional" and m.instrument], missing)
    orgs = frames.get("organisations")
    if orgs is None or orgs.empty or "start_wave" not in orgs.columns:
        orgs = _derive_organisations([fam, pro])
    if fam.empty and pro.empty:
        raise DataError(
            f"{source}: neither families.csv nor professionals.csv holds data; a report needs "
            "at least one of them."
        )
    return StudyData(
        organisations=orgs,
        families=fam,
        professionals=pro,
        activities=frames.get("activities", pd.DataFrame()),
        inputs=list(inputs),
        source=source,
        missing_scales=missing,
    )


def load_study(data_dir: str | Path | None = None) -> StudyData:
    """Read a study folder (the files of the data contract) and score its scales.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``families.csv`` and/or ``professionals.csv`` (and optionally
        ``organisations.csv`` and ``activities.csv``). Default: the bundled synthetic
        study in ``data/synthetic``; when that folder is absent (an installed package),
        the same study is made in memory by ``synthetic.generate()``.

    Returns
    -------
    StudyData

    Raises
    ------
    DataError
        The folder does not exist, or holds neither families nor professionals.
    """
    if data_dir is None:
        if (BUNDLED / "families.csv").exists():
            data_dir = BUNDLED
        else:
            from lerendtransformeren import synthetic

            study = synthetic.generate()
            frames = {
                "organisations": study.organisations,
                "families": study.families,
                "professionals": study.professionals,
                "activities": study.activities,
            }
            return _study_from_frames(
                frames, [], f"synthetic.generate(seed={study.seed}) (in memory)"
            )
    folder = Path(data_dir)
    if not folder.is_dir():
        raise DataError(f"The data folder {str(folder)!r} does not exist; give --data a folder.")
    frames = {}
    inputs = []
    for name in _FILES:
        path = folder / name
        if path.exists():
            try:
                frames[name.removesuffix(".csv")] = pd.read_csv(path, low_memory=False)
            except (ValueError, pd.errors.ParserError) as exc:
                raise DataError(f"{path.name}: cannot be read as CSV ({exc}).") from exc
            inputs.append(path)
    if "families" not in frames and "professionals" not in frames:
        raise DataError(
            f"The folder {str(folder)!r} holds neither families.csv nor professionals.csv; "
            "point --data at a study folder (see data/synthetic for the layout)."
        )
    return _study_from_frames(frames, inputs, str(folder))


def _as_study(study_or_dir) -> StudyData:
    if isinstance(study_or_dir, StudyData):
        return study_or_dir
    return load_study(study_or_dir)


# --- fitting (cached, optionally in parallel) ---------------------------------------------------

#: Bootstrap resamples of the omega intervals (500 keeps a run over five goals fast; the
#: percentile interval moves by about .005 between seeds).
N_BOOT = 500


@dataclass
class ModelSummary:
    """What the reports use of a fitted :class:`~lerendtransformeren.multilevel.MultilevelResult`.

    Plain frames, so that fits made in a worker process can be sent back.

    Attributes
    ----------
    formula : str
    fixed, variance : pandas.DataFrame
        ``result.fixed`` and ``result.variance``, unchanged.
    contrasts : dict
        Goal -> ``result.contrast({"C(goal)[g]:offer": 1})`` (or the ``offer`` term when the
        data hold one goal): the goal's offer effect with Satterthwaite df.
    organisations : pandas.DataFrame or None
        ``result.ranef("organisation", condsd=True)``.
    levels : list of (name, units)
        Grouping levels, top down.
    n_obs : int
        Rows used.
    anova : pandas.DataFrame or None
        ``result.anova()`` (type III F tests), for moderation models.
    """

    formula: str
    fixed: pd.DataFrame
    variance: pd.DataFrame
    contrasts: dict
    organisations: pd.DataFrame | None
    levels: list
    n_obs: int
    anova: pd.DataFrame | None = None


@dataclass
class _Fit:
    result: object | None
    singular: bool = False
    error: str = ""


def _summarise(res, want_anova: bool) -> ModelSummary:
    names = list(res.frame.x_names)
    contrasts = {}
    for name in names:
        if name.startswith("C(goal)[") and name.endswith("]:offer"):
            g = int(name[len("C(goal)["):-len("]:offer")])
            contrasts[g] = res.contrast({name: 1.0}, names=[name])
    if "offer" in names:
        contrasts[None] = res.contrast({"offer": 1.0}, names=["offer"])
    try:
        orgs = res.ranef("organisation", condsd=True)
    except (LerendTransformerenError, KeyError):
        orgs = None
    return ModelSummary(
        formula=res.formula,
        fixed=res.fixed.copy(),
        variance=res.variance.copy(),
        contrasts=contrasts,
        organisations=orgs,
        levels=[(lev.name, int(lev.n_units)) for lev in reversed(res.frame.levels)],
        n_obs=int(res.engine.n),
        anova=res.anova() if want_anova else None,
    )


def _spec_data(study: StudyData, respondent: str, goal: int | None, outcome: str) -> pd.DataFrame:
    data = study.frame(respondent)
    if goal is not None:
        data = data.loc[data["goal"] == goal]
    return data.loc[data[outcome].notna()]


def _compute(study: StudyData, spec: tuple) -> _Fit:
    """Fit one spec: ("lmm", respondent, outcome, formula, goal, anova),
    ("gee", respondent, outcome, formula, family) or ("rel", respondent, code, goal, seed)."""
    kind = spec[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if kind == "lmm":
                from lerendtransformeren.multilevel import fit

                _, respondent, outcome, formula, goal, want_anova = spec
                data = _spec_data(study, respondent, goal, outcome)
                result = _summarise(fit(formula, data), want_anova)
            elif kind == "gee":
                from lerendtransformeren.multilevel.gee import fit_gee

                _, respondent, outcome, formula, family = spec
                data = _spec_data(study, respondent, None, outcome)
                result = fit_gee(formula, data, cluster="organisation", family=family,
                                 small_sample="md", df="between")
            else:
                _, respondent, code, goal, seed = spec
                data = study.frame(respondent)
                base = data.loc[(data["goal"] == goal) & (data["wave"] == data["wave"].min())]
                result = scales.reliability(base, code, seed=seed, n_boot=N_BOOT)
            error = ""
        except (LerendTransformerenError, np.linalg.LinAlgError, ValueError, KeyError) as exc:
            result, error = None, type(exc).__name__
    singular = any(issubclass(w.category, SingularFitWarning) for w in caught)
    return _Fit(result, singular, error)


def _cached(study: StudyData, spec: tuple) -> _Fit:
    if spec not in study.cache:
        study.cache[spec] = _compute(study, spec)
    return study.cache[spec]


_WORKER_STUDY: StudyData | None = None


def _work(spec: tuple) -> tuple[tuple, _Fit]:
    return spec, _compute(_WORKER_STUDY, spec)


def prefit(study: StudyData, specs: Sequence[tuple], jobs: int = 2) -> None:
    """Fit every spec not yet in the study's cache, in ``jobs`` worker processes.

    Results are the same as fitting one by one (each fit is deterministic); the workers
    are forked, so they share the loaded data. With ``jobs=1`` (or where fork is not
    available) the fits run in this process.
    """
    global _WORKER_STUDY
    todo = [s for s in dict.fromkeys(specs) if s not in study.cache]
    if not todo:
        return
    import multiprocessing as mp

    if jobs <= 1 or len(todo) == 1 or "fork" not in mp.get_all_start_methods():
        for spec in todo:
            _cached(study, spec)
        return
    _WORKER_STUDY = study
    try:
        with mp.get_context("fork").Pool(min(jobs, len(todo))) as pool:
            for spec, fitted in pool.imap_unordered(_work, todo):
                study.cache[spec] = fitted
    finally:
        _WORKER_STUDY = None


def _fixed_part(study: StudyData, respondent: str) -> str:
    several = study.frame(respondent)["goal"].nunique() > 1
    return "C(wave) + C(goal) + C(goal):offer" if several else "C(wave) + offer"


def _outcome_spec(study: StudyData, measure: Measure) -> tuple:
    formula = f"{measure.column} ~ {_fixed_part(study, measure.respondent)} + {_RANDOM[measure.respondent]}"
    return ("lmm", measure.respondent, measure.column, formula, None, False)


def _own_spec(measure: Measure, goal: int) -> tuple:
    formula = f"{measure.column} ~ C(wave) + offer + {_RANDOM[measure.respondent]}"
    return ("lmm", measure.respondent, measure.column, formula, goal, False)


_MODERATORS = ("ses", "migration_background", "age_band")


def _moderation_spec(study: StudyData, measure: Measure, goal: int) -> tuple | None:
    present = [b for b in _MODERATORS if b in study.frame(measure.respondent).columns]
    if not present:
        return None
    terms = " + ".join(f"C({b})" for b in present)
    formula = f"{measure.column} ~ C(wave) + offer * ({terms}) + {_RANDOM[measure.respondent]}"
    return ("lmm", measure.respondent, measure.column, formula, goal, True)


_GEE_FAMILY = {"binary": "binomial", "count": "negativebinomial"}


def _gee_spec(study: StudyData, measure: Measure) -> tuple:
    formula = f"{measure.column} ~ {_fixed_part(study, measure.respondent)}"
    return ("gee", measure.respondent, measure.column, formula, _GEE_FAMILY[measure.kind])


def _rel_spec(code: str, respondent: str, goal: int, seed: int) -> tuple:
    return ("rel", respondent, code, goal, seed)


def _goal_contrast(fit_: _Fit, goal: int) -> pd.DataFrame | None:
    """The goal's offer effect as a contrast (estimate, se, df, t, p, ci) with Satterthwaite df."""
    if fit_.result is None:
        return None
    contrasts = fit_.result.contrasts
    return contrasts.get(goal, contrasts.get(None))


def _offer_term(fit_: _Fit, goal: int) -> str | None:
    c = _goal_contrast(fit_, goal)
    return None if c is None else str(c.index[0])


def _goal_present(study: StudyData, measure: Measure, goal: int, k: int) -> bool:
    data = study.frame(measure.respondent)
    return (measure.column in data.columns
            and data.loc[data["goal"] == goal, measure.column].notna().sum() >= k)


def goal_specs(study: StudyData, goal: int, *, seed: int = DEFAULT_SEED, k: int = 5) -> list[tuple]:
    """Every model a goal report fits (to fit them ahead, in parallel, with :func:`prefit`)."""
    plan = GOAL_PLANS[goal]
    specs = []
    scale_ms = [MEASURES[c] for c in plan.scales if _goal_present(study, MEASURES[c], goal, k)]
    for m in scale_ms:
        specs.append(_outcome_spec(study, m))
    for c in plan.observed:
        m = MEASURES[c]
        if _goal_present(study, m, goal, k):
            specs.append(_gee_spec(study, m))
    primary = MEASURES[plan.primary] if MEASURES[plan.primary] in scale_ms else (
        scale_ms[0] if scale_ms else None)
    if primary is not None:
        specs.append(_own_spec(primary, goal))
        if primary.respondent == "family":
            mod = _moderation_spec(study, primary, goal)
            if mod is not None:
                specs.append(mod)
    for m in scale_ms:
        if m.instrument != "gas":
            specs.append(_rel_spec(m.instrument, m.respondent, goal, seed))
    return specs


# --- small builders -----------------------------------------------------------------------------


def _org_labels(goal_orgs: Sequence[str], lang: str) -> dict[str, str]:
    ids = sorted({str(o) for o in goal_orgs})
    names = pseudonymise(pd.Series(ids), lang).tolist()
    return dict(zip(ids, names))


def _design_table(orgs: pd.DataFrame, waves: Sequence[int], lang: str) -> Table:
    names = _org_labels(orgs["organisation"], lang)
    rows = {}
    for _, row in orgs.sort_values("organisation").iterrows():
        start = row["start_wave"]
        cells = {f"T{w}": ("on" if pd.notna(start) and w >= start else "off") for w in waves}
        cells["start"] = f"T{int(start)}" if pd.notna(start) else MISSING
        rows[names[str(row["organisation"])]] = cells
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "organisation"
    columns = tuple(Column(f"T{w}", f"T{w}", f"T{w}", kind="text") for w in waves)
    columns += (Column("start", "Start aanbod", "Start of offer", kind="text"),)
    return Table(
        frame=frame,
        columns=columns,
        title_nl="Stepped-wedge-schema: wanneer elke organisatie met het aanbod begon",
        title_en="Stepped-wedge schedule: when each organisation started the offer",
        note_nl=(
            "+ = meetmoment met het ondersteuningsaanbod; - = nog zonder aanbod. De "
            "organisaties zijn aangeduid met een letter."
        ),
        note_en=(
            "+ = wave with the support offer; - = not yet with the offer. Organisations are "
            "shown by a letter."
        ),
        stub_nl=("Organisatie",),
        stub_en=("Organisation",),
        labels={"on": ("+", "+"), "off": ("-", "-")},
    )


def _group_table(
    data: pd.DataFrame, measure: Measure, by: str, k: int, lang_labels
) -> Table | None:
    """n, M, SD of one measure per group and offer condition (all waves together)."""
    (name_nl, name_en), labels = lang_labels
    scored = data.dropna(subset=[measure.column, by])
    if scored.empty:
        return None
    present = set(scored[by].unique())
    groups = [g for g in labels if g in present] + sorted(present - set(labels), key=str)
    stats = scored.groupby([by, "offer"])[measure.column].agg(["count", "mean", "std"])
    stats = stats.rename(columns={"count": "n", "std": "sd"}).unstack("offer")
    stats = stats.swaplevel(axis=1)
    conditions = [c for c in (0, 1) if c in scored["offer"].unique()]
    cols = pd.MultiIndex.from_product([conditions, ["n", "mean", "sd"]])
    frame = stats.reindex(index=groups, columns=cols).astype(float)
    frame.index.name = "group"
    n_cols = [(c, "n") for c in conditions]
    frame[n_cols] = frame[n_cols].fillna(0.0)
    counts = frame[n_cols].droplevel(1, axis=1)
    sup = suppress_small_cells(frame, counts, k, margins="rows")
    frame = frame.mask(sup.mask)
    offer_names = {0: ("Zonder aanbod", "Without offer"), 1: ("Met aanbod", "With offer")}
    columns = []
    for c in conditions:
        s_nl, s_en = offer_names[c]
        columns += [
            Column((c, "n"), "n", "n", kind="int", spanner_nl=s_nl, spanner_en=s_en),
            Column((c, "mean"), "M", "M", spanner_nl=s_nl, spanner_en=s_en),
            Column((c, "sd"), "SD", "SD", spanner_nl=s_nl, spanner_en=s_en),
        ]
    return Table(
        frame=frame,
        columns=tuple(columns),
        title_nl=f"{_cap(measure.label_nl)} naar {name_nl} en conditie",
        title_en=f"{_cap(measure.label_en)} by {name_en} and condition",
        note_nl=(
            "Alle meetmomenten samen; n = aantal metingen. Het verschil tussen de condities "
            "bevat ook de verandering over de tijd (metingen met aanbod liggen later); het "
            "model in de tekst corrigeert daarvoor."
        ),
        note_en=(
            "All waves together; n = number of measurements. The difference between the "
            "conditions also contains change over time (measurements with the offer come "
            "later); the model in the text corrects for that."
        ),
        stub_nl=(_cap(name_nl),),
        stub_en=(_cap(name_en),),
        labels=labels,
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def _term_labels(fixed_index: Sequence[str]) -> dict[Hashable, tuple[str, str]]:
    labels: dict[Hashable, tuple[str, str]] = {}
    for term in fixed_index:
        if term.startswith("C(wave)[T."):
            w = term[len("C(wave)[T."):-1]
            labels[term] = (f"Meetmoment T{w} (t.o.v. eerste)", f"Wave T{w} (vs first)")
        elif term.startswith("C(goal)[T."):
            g = term[len("C(goal)[T."):-1]
            labels[term] = (f"Doel {g} (t.o.v. doel 1)", f"Goal {g} (vs goal 1)")
        elif term.startswith("C(goal)[") and term.endswith("]:offer"):
            g = term[len("C(goal)["):-len("]:offer")]
            labels[term] = (f"Aanbod \u00d7 doel {g}", f"Offer \u00d7 goal {g}")
    return labels


def _effects_table(rows: dict[str, pd.Series], measures: Mapping[str, Measure], goal: int) -> Table:
    frame = pd.DataFrame(rows).T[["estimate", "se", "df", "t", "p", "ci_low", "ci_high"]].astype(float)
    table = fixed_effects_table(frame, {c: measures[c].labels for c in rows})
    return Table(
        frame=table.frame,
        columns=table.columns,
        title_nl=f"Effect van het ondersteuningsaanbod in doel {goal}, per uitkomst",
        title_en=f"Effect of the support offer in goal {goal}, per outcome",
        note_nl=(
            "b = verschil tussen metingen met en zonder aanbod in de organisaties van dit "
            "doel, gecorrigeerd voor meetmoment (op de schaal van de uitkomst); uit het "
            "multilevelmodel over alle organisaties. " + table.note_nl.split("; ", 1)[1]
        ),
        note_en=(
            "b = difference between measurements with and without the offer in this goal's "
            "organisations, adjusted for wave (on the outcome's scale); from the multilevel "
            "model over all organisations. " + table.note_en.split("; ", 1)[1]
        ),
        stub_nl=("Uitkomst",),
        stub_en=("Outcome",),
        labels=table.labels,
    )


def _gee_table(rows: dict[str, pd.Series], measures: Mapping[str, Measure], goal: int) -> Table:
    frame = pd.DataFrame(rows).T
    frame = frame[["exp_estimate", "exp_ci_low", "exp_ci_high", "estimate", "se", "df", "p"]].astype(float)
    frame.index.name = "outcome"
    return Table(
        frame=frame,
        columns=(
            Column("exp_estimate", "OR/RR", "OR/RR"),
            Column("exp_ci_low", "95%-BI", "95% CI", kind="ci", source_high="exp_ci_high"),
            Column("estimate", "b", "b"),
            Column("se", "SE", "SE"),
            Column("df", "df", "df", kind="int"),
            Column("p", "p", "p", kind="p"),
        ),
        title_nl=f"Effect van het aanbod in doel {goal} op zorguitkomsten (GEE)",
        title_en=f"Effect of the offer in goal {goal} on care outcomes (GEE)",
        note_nl=(
            "OR = oddsratio (ja/nee-uitkomsten), RR = rate ratio (aantallen); b = schatting "
            "op de logit- of logschaal met SE volgens Mancl en DeRouen (organisaties als "
            "clusters). df = aantal organisaties min de parameters op organisatieniveau."
        ),
        note_en=(
            "OR = odds ratio (yes/no outcomes), RR = rate ratio (counts); b = estimate on the "
            "logit or log scale with Mancl-DeRouen SE (organisations as clusters). df = number "
            "of organisations minus the organisation-level parameters."
        ),
        stub_nl=("Uitkomst",),
        stub_en=("Outcome",),
        labels={c: measures[c].labels for c in rows},
    )


def _rc_table(categories: pd.Series, k: int, recovered: bool) -> Table:
    from lerendtransformeren.report.figures import RC_CATEGORIES

    shown = [c for c in RC_CATEGORIES if recovered or c != "recovered"]
    counts = categories.value_counts().reindex(shown, fill_value=0).astype(float)
    frame = pd.DataFrame({"n": counts, "share": counts / counts.sum()})
    frame.index.name = "category"
    cnt = pd.DataFrame({"n": counts, "share": counts})
    # the total is published: secondary suppression over the column of counts
    sup = suppress_small_cells(frame, cnt, k, margins="columns")
    frame = frame.mask(sup.mask)
    return Table(
        frame=frame,
        columns=(
            Column("n", "n", "n", kind="int"),
            Column("share", "Percentage", "Percentage", kind="pct", digits=1),
        ),
        title_nl="Betrouwbare verandering van eerste naar laatste meting",
        title_en="Reliable change from the first to the last measurement",
        note_nl=f"Totaal: {fmt_int(counts.sum(), 'nl')} respondenten met beide metingen.",
        note_en=f"Total: {fmt_int(counts.sum(), 'en')} respondents with both measurements.",
        stub_nl=("Categorie",),
        stub_en=("Category",),
        labels=dict(RC_CATEGORIES),
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )


def _reliability_frame(results: Sequence[tuple[str, object]]) -> pd.DataFrame:
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


def _p_words(p: float, lang: str) -> str:
    return fmt_p(p, lang, prefix=True)


def _stat(row: pd.Series, lang: str, digits: int = 2) -> str:
    """'b = 1,20 (95%-BI [0,84; 1,57]; t(5.744,7) = 6,48; p < ,001)'"""
    ci = fmt_ci(row["ci_low"], row["ci_high"], digits, lang)
    ci_word = "95%-BI" if lang == "nl" else "95% CI"
    return (
        f"b = {fmt_num(row['estimate'], digits, lang)} ({ci_word} {ci}; "
        f"t({fmt_num(row['df'], 1, lang)}) = {fmt_num(row['t'], 2, lang)}; {_p_words(row['p'], lang)})"
    )


def _direction_words(
    est: float, ci_low: float, ci_high: float, measure: Measure, lang: str, p: float | None = None
) -> str:
    """An honest reading of an interval, without overclaiming."""
    excludes = ci_low > 0 or ci_high < 0
    better = (est > 0) == measure.higher_is_better
    narrow = p is not None and p >= 0.01
    if lang == "nl":
        if not excludes:
            return ("het interval omvat nul: de gegevens zijn verenigbaar met geen effect en met "
                    "een klein effect in beide richtingen")
        side = "gunstige" if better else "ongunstige"
        if narrow:
            return (f"het interval ligt net aan de {side} kant van nul; de ondergrens ligt dicht "
                    "bij nul, dus het effect kan ook verwaarloosbaar klein zijn")
        return f"het interval ligt geheel aan de {side} kant van nul"
    if not excludes:
        return ("the interval includes zero: the data are compatible with no effect and with a "
                "small effect in either direction")
    side = "favourable" if better else "unfavourable"
    if narrow:
        return (f"the interval lies just on the {side} side of zero; its bound is close to zero, "
                "so the effect may also be negligibly small")
    return f"the interval lies entirely on the {side} side of zero"


# --- the goal report -----------------------------------------------------------------------------


def _words(lang: str) -> dict[str, str]:
    nl = lang == "nl"
    return {
        "design": "Opzet" if nl else "Design",
        "sample": "Steekproef" if nl else "Sample",
        "measures": "Meetinstrumenten en betrouwbaarheid" if nl else "Measures and reliability",
        "change": "Verandering over de tijd" if nl else "Change over time",
        "effect": "Effect van het ondersteuningsaanbod" if nl else "Effect of the support offer",
        "model": "Het model in detail" if nl else "The model in detail",
        "care": "Zorguitkomsten (ja/nee en aantallen)" if nl else "Care outcomes (yes/no and counts)",
        "groups": ("Verschillen naar SES, migratieachtergrond en leeftijd" if nl
                   else "Differences by SES, migration background and age band"),
        "rc": ("Individuele verandering: wanneer is goed goed genoeg?" if nl
               else "Individual change: when is good good enough?"),
        "conclusions": "Conclusies" if nl else "Conclusions",
        "methods": "Verantwoording van de methode" if nl else "Methods",
        "dose": "Deelname aan het aanbod" if nl else "Participation in the offer",
        "references": "Literatuur" if nl else "References",
    }


def _no_data_document(goal: design.Goal, lang: str, provenance, title: str, reason: str) -> Document:
    w = _words(lang)
    text = (f"Er zijn geen gegevens voor doel {goal.code} in deze studie ({reason}); dit rapport "
            "bevat daarom geen analyses." if lang == "nl" else
            f"There are no data for goal {goal.code} in this study ({reason}); this report "
            "therefore holds no analyses.")
    return Document(
        title=title,
        lang=lang,
        sections=[Section(w["design"], [text]), Section(w["conclusions"], [Conclusions()])],
        provenance=provenance,
        subtitle=goal.workplace,
    )


def build_goal_report(
    study_or_dir: StudyData | str | Path | None,
    goal: int,
    *,
    lang: str = "nl",
    k: int = 5,
    seed: int = DEFAULT_SEED,
    date: _dt.date | str | None = None,
) -> Document:
    """The report of one transformation goal as a :class:`Document` (render it with
    :func:`~lerendtransformeren.report.render.render_html` and friends).

    Parameters
    ----------
    study_or_dir : StudyData, path or None
        A loaded study (fits are cached on it and reused), a study folder, or None for
        the bundled synthetic study.
    goal : int
        Transformation goal, 1..5.
    lang : {"nl", "en"}, default "nl"
    k : int, default 5
        Minimum number of respondents behind every shown statistic.
    seed : int
        Seed of the bootstrap intervals of omega.
    date : date or str, optional
        Date in the provenance block; default today.

    Returns
    -------
    Document

    Raises
    ------
    SpecificationError
        Unknown goal or language.
    DataError
        The data cannot be read.
    """
    check_lang(lang)
    if goal not in GOAL_PLANS:
        raise SpecificationError(f"goal={goal!r}: transformation goals are numbered 1 to 5.")
    study = _as_study(study_or_dir)
    date = date or _dt.date.today()
    provenance = collect_provenance(date=date, inputs=study.inputs, seed=seed)
    g = design.goal(goal)
    plan = GOAL_PLANS[goal]
    nl = lang == "nl"
    w = _words(lang)
    title = (f"Doel {goal}: {g.name_nl}" if nl else f"Goal {goal}: {g.name_en}")
    title = "Rapportage " + title if nl else "Report " + title
    subtitle = g.workplace + (" \u2014 " + ("synthetische (fictieve) gegevens" if nl else
                                              "synthetic (fictitious) data")
                              if "synthetic" in study.source or study.source == str(BUNDLED) else "")

    fam = study.families.loc[study.families["goal"] == goal] if not study.families.empty else study.families
    pro = (study.professionals.loc[study.professionals["goal"] == goal]
           if not study.professionals.empty else study.professionals)
    data_of = {"family": fam, "professional": pro}
    measures = [MEASURES[c] for c in plan.scales + plan.observed]
    present = [m for m in measures if m.column in data_of[m.respondent].columns
               and data_of[m.respondent][m.column].notna().sum() >= k]
    absent = [m for m in measures if m not in present]
    if not present:
        reason = ("geen van de uitkomsten van dit doel is gemeten" if nl
                  else "none of this goal's outcomes was measured")
        if fam.empty and pro.empty:
            reason = "geen respondenten" if nl else "no respondents"
        return _no_data_document(g, lang, provenance, title, reason)
    scale_measures = [m for m in present if m.kind == "scale"]
    observed = [m for m in present if m.kind != "scale"]
    primary = MEASURES[plan.primary] if MEASURES[plan.primary] in present else (
        scale_measures[0] if scale_measures else None)
    respondents = sorted({m.respondent for m in present}, key=["family", "professional"].index)

    sections: list[Section] = []

    # 1. design ----------------------------------------------------------------------------
    orgs = study.organisations
    goal_orgs = orgs.loc[orgs["goal"] == goal] if "goal" in orgs.columns else orgs.iloc[0:0]
    waves = sorted(set().union(*[set(data_of[r]["wave"].dropna().astype(int)) for r in respondents]))
    n_org = int(goal_orgs["organisation"].nunique())
    blocks: list = []
    if nl:
        blocks.append(
            f"Dit rapport gaat over transformatiedoel {goal}, \u2018{g.name_nl}\u2019: "
            f"{g.description_nl} Het doel wordt getrokken door {g.workplace}."
        )
        blocks.append(
            f"Aan dit doel werken {n_org} praktijkorganisaties mee. Zij kregen het "
            "ondersteuningsaanbod (coaching, intervisie en actieleren) volgens een stepped-wedge-"
            "opzet: alle organisaties beginnen zonder aanbod en stappen op een vast moment over, "
            "elke organisatie op een ander meetmoment (tabel hieronder). Zo is elke organisatie "
            "haar eigen controle, en zijn er op elk meetmoment metingen met en zonder aanbod "
            f"(behalve op het eerste en het laatste). Er zijn {len(waves)} meetmomenten, "
            "een half jaar uit elkaar."
        )
    else:
        blocks.append(
            f"This report is about transformation goal {goal}, \u2018{g.name_en}\u2019: "
            f"{g.description_en} The goal is led by {g.workplace}."
        )
        blocks.append(
            f"{n_org} practice organisations work on this goal. They received the support offer "
            "(coaching, peer consultation and action learning) in a stepped-wedge design: all "
            "organisations start without the offer and cross over at a fixed moment, each at a "
            "different wave (table below). Each organisation is thus its own control, and most "
            f"waves have measurements with and without the offer. There are {len(waves)} waves, "
            "six months apart."
        )
    if not goal_orgs.empty and waves:
        blocks.append(_design_table(goal_orgs, waves, lang))
    if study.missing_scales or absent:
        names = [m.label(lang) for m in absent]
        names += [_pick(_SUBSCALES.get(c, (c, c)), lang) for c in sorted(study.missing_scales)
                  if not any(m.instrument == c for m in absent)]
        if names:
            blocks.append(
                ("Niet in de gegevens (of door te weinig respondenten niet te rapporteren): "
                 if nl else "Not in the data (or too few respondents to report): ")
                + "; ".join(names) + "."
            )
    sections.append(Section(w["design"], blocks))

    # 2. sample ------------------------------------------------------------------------------
    blocks = []
    for r in respondents:
        data = data_of[r]
        levels = ("organisation", "team", "professional", "family") if r == "family" else (
            "organisation", "team", "professional")
        table = sample_table(data, levels, k=k)
        first, last = data["wave"].min(), data["wave"].max()
        n0 = data.loc[data["wave"] == first, r].nunique()
        n1 = data.loc[data["wave"] == last, r].nunique()
        kind = _pick(_RESPONDENTS[r], lang)
        if nl:
            blocks.append(
                f"Op T{int(first)} deden {fmt_int(n0, lang)} {kind} mee, op T{int(last)} nog "
                f"{fmt_int(n1, lang)} ({fmt_pct(n1 / n0, 0, lang)}). Uitval is in een "
                "longitudinale studie gewoon; het multilevelmodel gebruikt alle beschikbare "
                "metingen en is geldig als uitval samenhangt met eerdere metingen (missing at "
                "random), niet als die samenhangt met de niet-gemeten uitkomst zelf."
            )
        else:
            blocks.append(
                f"At T{int(first)} {fmt_int(n0, lang)} {kind} took part, at T{int(last)} "
                f"{fmt_int(n1, lang)} ({fmt_pct(n1 / n0, 0, lang)}). Dropout is usual in a "
                "longitudinal study; the multilevel model uses every available measurement and "
                "is valid when dropout depends on earlier measurements (missing at random), not "
                "when it depends on the unmeasured outcome itself."
            )
        blocks.append(table)
    sections.append(Section(w["sample"], blocks))

    # 3. measures and reliability ------------------------------------------------------------
    blocks = []
    rel_results = []
    rel_failed = []
    for m in scale_measures:
        inst = scales.get(m.instrument)
        name = inst.name_nl if nl else inst.name_en
        note = ""
        if inst.synthetic:
            note = (" Dit is een synthetische schaal van eigen ontwerp, geen gevalideerd instrument."
                    if nl else " This is a synthetic scale of the project's own design, not a "
                    "validated instrument.")
        blocks.append(
            (f"{_cap(m.label(lang))}: {name}; gemeten bij "
             f"{_pick(_RESPONDENTS[m.respondent], lang)}." if nl else
             f"{_cap(m.label(lang))}: {name}; measured among "
             f"{_pick(_RESPONDENTS[m.respondent], lang)}.") + note
        )
        if m.instrument == "gas":
            continue
        rel = _cached(study, _rel_spec(m.instrument, m.respondent, goal, seed))
        if rel.result is not None:
            rel_results.append((m.instrument, rel.result))
        else:
            rel_failed.append(m.label(lang))
    if observed:
        blocks.append(
            ("Daarnaast zijn zorguitkomsten vastgelegd: " if nl else "Care outcomes were also recorded: ")
            + "; ".join(m.label(lang) for m in observed) + "."
        )
    rel_frame = _reliability_frame(rel_results) if rel_results else None
    if rel_frame is not None:
        blocks.append(
            "De betrouwbaarheid is bepaald op het eerste meetmoment (Cronbachs alfa met "
            f"Feldt-interval; McDonalds omega met percentiel-bootstrapinterval, {N_BOOT} "
            "trekkingen). Een waarde vanaf ,70 is "
            "gangbaar voor uitspraken over groepen; voor uitspraken over individuen is ,90 "
            "gewenst." if nl else
            "Reliability was estimated at the first wave (Cronbach's alpha with Feldt interval; "
            f"McDonald's omega with percentile bootstrap interval, {N_BOOT} resamples). Values "
            "from .70 are usual for statements "
            "about groups; statements about individuals want .90."
        )
        blocks.append(reliability_table(rel_frame, _SUBSCALES, k=k))
        if (rel_frame["n"] >= k).all():
            blocks.append(plot_reliability(rel_frame, labels=_SUBSCALES, lang=lang))
    if rel_failed:
        blocks.append(("De betrouwbaarheid kon niet worden bepaald voor: " if nl else
                       "Reliability could not be estimated for: ") + "; ".join(rel_failed) + ".")
    sections.append(Section(w["measures"], blocks))

    # 4. change over time ----------------------------------------------------------------------
    blocks = []
    blocks.append(
        "De tabel geeft per meetmoment het gemiddelde met en zonder aanbod. Omdat organisaties "
        "op verschillende momenten starten, verschillen de groepen per meetmoment ook in "
        "organisatie: lees de kolommen daarom niet als een experiment. Het effect van het "
        "aanbod volgt uit het model in de volgende paragraaf." if nl else
        "The table gives the mean per wave with and without the offer. Because organisations "
        "start at different waves, the groups at a wave also differ in organisation: do not "
        "read the columns as an experiment. The effect of the offer follows from the model in "
        "the next section."
    )
    for r in respondents:
        ms = {m.column: m.labels for m in present if m.respondent == r and m.kind != "count"}
        if ms:
            table = descriptives_table(data_of[r], ms, by="offer", k=k)
            if any(MEASURES[c].kind == "binary" for c in ms):
                table = _with_note(table, " Voor ja/nee-uitkomsten is M het aandeel ja."
                                   , " For yes/no outcomes M is the proportion yes.")
            blocks.append(table)
    if primary is not None:
        pdata = data_of[primary.respondent]
        try:
            blocks.append(plot_trajectories(pdata, primary.column, label=primary.labels, lang=lang, k=k))
            blocks.append(plot_organisation_trajectories(pdata, primary.column, label=primary.labels,
                                                         lang=lang, k=k))
        except DataError:
            pass
    gas = MEASURES["gas_tscore"]
    if gas in present:
        values = fam[gas.column].dropna()
        if len(values) >= k:
            blocks.append(
                "Doelrealisatie (GAS) is pas vanaf T1 gescoord: bij de start zijn de doelen "
                "opgesteld. Een T-score van 50 betekent dat de doelen bereikt zijn zoals verwacht."
                if nl else
                "Goal attainment (GAS) is scored from T1 on: the goals were set at the start. "
                "A T-score of 50 means the goals were attained as expected."
            )
            blocks.append(plot_gas(values, lang=lang, k=k))
    subsections = []
    if plan.dose and not study.activities.empty:
        act = _with_offer(study.activities.loc[study.activities["goal"] == goal], study.organisations)
        cols = {"sessions": ("leerbijeenkomsten", "learning sessions"),
                "masterclasses": ("masterclasses", "masterclasses"),
                "workshops": ("workshops", "workshops")}
        cols = {c: v for c, v in cols.items() if c in act.columns}
        if cols and not act.empty:
            table = descriptives_table(act, cols, by="offer", k=k)
            table = _with_title(table, "Deelname aan het aanbod per meetmoment (aantal keer in het "
                                "halfjaar ervoor)", "Participation in the offer per wave (times in "
                                "the six months before)")
            subsections.append(Section(w["dose"], [
                "Hoe vaak professionals aan de onderdelen van het aanbod deelnamen (de 'dosis'). "
                "Zonder aanbod is deelname nul; verschillen in dosis tussen professionals kunnen "
                "samenhangen met hun motivatie, dus een verband tussen dosis en uitkomst is geen "
                "bewijs van effect." if nl else
                "How often professionals took part in the parts of the offer (the 'dose'). "
                "Without the offer, participation is zero; differences in dose between "
                "professionals may reflect their motivation, so a link between dose and outcome "
                "is no proof of an effect.", table]))
    sections.append(Section(w["change"], blocks, subsections))

    # 5. effect of the offer -------------------------------------------------------------------
    blocks = []
    blocks.append(
        "Met drie organisaties per doel kunnen de tijdseffecten (wat er ook zonder aanbod "
        "verandert) niet goed los van het aanbod worden geschat. Daarom is voor elke uitkomst "
        "één multilevelmodel geschat over alle organisaties van de vijf doelen: met een effect "
        "per meetmoment dat voor alle doelen geldt, een eigen niveau per doel en een eigen "
        "effect van het aanbod per doel, en met random intercepts voor organisaties, teams, "
        "professionals en (voor ouders) gezinnen. Het effect voor dit doel is de contrast "
        "'aanbod \u00d7 doel' met vrijheidsgraden volgens Satterthwaite." if nl else
        "With three organisations per goal, the time effects (what changes without the offer "
        "too) cannot be estimated well apart from the offer. Each outcome was therefore "
        "analysed with one multilevel model over the organisations of all five goals: with an "
        "effect per wave shared by all goals, a level per goal and an offer effect per goal, "
        "and with random intercepts for organisations, teams, professionals and (for parents) "
        "families. The effect for this goal is the 'offer \u00d7 goal' contrast with "
        "Satterthwaite degrees of freedom."
    )
    rows: dict[str, pd.Series] = {}
    sentences = []
    for m in scale_measures:
        f = _cached(study, _outcome_spec(study, m))
        c = _goal_contrast(f, goal)
        if c is None:
            sentences.append((f"Het model voor {m.label_nl} kon niet worden geschat." if nl else
                              f"The model for {m.label_en} could not be estimated."))
            continue
        row = c.iloc[0]
        rows[m.column] = row
        sentences.append(
            effect_sentence(c, c.index[0], lang=lang, label=(f"het aanbod op {m.label_nl}",
                                                             f"the offer on {m.label_en}"))
            + " " + _cap(_direction_words(row["estimate"], row["ci_low"], row["ci_high"], m, lang, row["p"]))
            + "."
        )
    blocks += sentences
    if rows:
        blocks.append(_effects_table(rows, MEASURES, goal))
    if rows:
        dfs = [r["df"] for r in rows.values()]
        blocks.append(
            f"De vrijheidsgraden zijn groot ({fmt_num(min(dfs), 0, lang)} of meer) omdat het "
            "aanbod binnen organisaties wisselt: het model vergelijkt metingen vóór en na de "
            "start binnen dezelfde organisatie. Dat maakt de schatting preciezer, maar berust op "
            "twee aannames die met drie organisaties per doel nauwelijks te toetsen zijn: dat de "
            "verandering over de tijd zonder aanbod in alle doelen gelijk is, en dat het effect "
            "van het aanbod in de drie organisaties van dit doel gelijk is. Verschilt het effect "
            "tussen organisaties, dan is het interval te smal, en een uitspraak over andere "
            "organisaties rust op slechts drie organisaties. Lees de p-waarden daarom met "
            "terughoudendheid." if nl else
            f"The degrees of freedom are large ({fmt_num(min(dfs), 0, lang)} or more) because "
            "the offer varies within organisations: the model compares measurements before and "
            "after the start within the same organisation. That makes the estimate more "
            "precise, but rests on two assumptions that three organisations per goal can hardly "
            "test: that change over time without the offer is the same in all goals, and that "
            "the offer's effect is the same in this goal's three organisations. If the effect "
            "differs between organisations the interval is too narrow, and any statement about "
            "other organisations rests on three organisations only. Read the p values with "
            "restraint."
        )
    subsections = []
    if primary is not None and primary.column in rows:
        f = _cached(study, _outcome_spec(study, primary))
        res = f.result
        term = _offer_term(f, goal)
        sub: list = []
        total_sd = float(np.sqrt(res.variance.loc[
            [i for i in res.variance.index if i[1] in ("Intercept", "(Intercept)", "")], "variance"].sum()))
        est = rows[primary.column]["estimate"]
        sub.append(
            f"Het volledige model voor de primaire uitkomst van dit doel, {primary.label_nl}. "
            f"De rij '{_term_labels([term]).get(term, ('aanbod', ''))[0]}' is het effect voor dit "
            f"doel. Omgerekend naar de totale standaardafwijking ({fmt_num(total_sd, 2, lang)}) "
            f"is het effect {fmt_num(est / total_sd, 2, lang)} SD." if nl else
            f"The full model for this goal's primary outcome, {primary.label_en}. The row "
            f"'{_term_labels([term]).get(term, ('', 'offer'))[1]}' is the effect for this goal. "
            f"Relative to the total standard deviation ({fmt_num(total_sd, 2, lang)}) the effect "
            f"is {fmt_num(est / total_sd, 2, lang)} SD."
        )
        sub.append(fixed_effects_table(res.fixed, _term_labels(list(res.fixed.index))))
        sub.append(variance_sentence(res.variance, lang=lang, labels=_VARIANCE_PHRASES))
        sub.append(variance_table(res.variance, _VARIANCE_LABELS))
        if f.singular:
            sub.append("Let op: een variantiecomponent is op nul geschat (singuliere fit); de "
                       "vaste effecten blijven bruikbaar." if nl else
                       "Note: a variance component was estimated at zero (singular fit); the "
                       "fixed effects remain usable.")
        modes = res.organisations
        if modes is not None:
            ids = set(goal_orgs["organisation"].astype(str)) or set(fam["organisation"].astype(str))
            modes = modes.loc[[i for i in modes.index if str(i) in ids]]
            if len(modes):
                eff = pd.DataFrame({
                    "unit": [str(i) for i in modes.index],
                    "estimate": modes["Intercept"].to_numpy(),
                    "ci_low": (modes["Intercept"] - 1.96 * modes["sd Intercept"]).to_numpy(),
                    "ci_high": (modes["Intercept"] + 1.96 * modes["sd Intercept"]).to_numpy(),
                })
                sub.append(
                    "De figuur toont hoe de organisaties van dit doel afwijken van het "
                    "doelgemiddelde (geschatte random intercepts met 95%-intervallen op basis van "
                    "de conditionele standaardafwijking). Met drie organisaties is dit een "
                    "beschrijving, geen rangorde." if nl else
                    "The figure shows how this goal's organisations differ from the goal's mean "
                    "(estimated random intercepts with 95% intervals from the conditional "
                    "standard deviations). With three organisations this is a description, not a "
                    "ranking."
                )
                sub.append(plot_caterpillar(eff, lang=lang, label=(
                    f"afwijking op {primary.label_nl}", f"deviation in {primary.label_en}")))
        subsections.append(Section(w["model"], sub))
        own = _cached(study, _own_spec(primary, goal))
        if own.result is not None and "offer" in own.result.fixed.index:
            r_own = own.result.fixed.loc["offer"]
            text = (
                "Gevoeligheidsanalyse: met alleen de drie organisaties van dit doel (met eigen "
                f"tijdseffecten) was het effect op {primary.label_nl} {_stat(r_own, lang)}. "
                "Hier zijn aanbod en tijd sterker met elkaar verweven, dus het interval is "
                "breder; wijken beide schattingen sterk af, dan verschilt de tijdstrend van dit "
                "doel waarschijnlijk van die van de andere doelen." if nl else
                "Sensitivity analysis: with only this goal's three organisations (with their own "
                f"time effects) the effect on {primary.label_en} was {_stat(r_own, lang)}. Here "
                "offer and time are more entangled, so the interval is wider; if the two "
                "estimates differ a lot, this goal's time trend probably differs from that of the "
                "other goals."
            )
            blocks.append(text)
    sections.append(Section(w["effect"], blocks, subsections))

    # 6. care outcomes (GEE) -------------------------------------------------------------------
    if observed:
        blocks = [
            "Ja/nee-uitkomsten en aantallen zijn geanalyseerd met GEE (generalized estimating "
            "equations) over alle organisaties, met dezelfde opbouw als hierboven (meetmoment, "
            "doel, aanbod per doel). Organisaties zijn de clusters; omdat er maar 15 zijn, is de "
            "standaardfout gecorrigeerd volgens Mancl en DeRouen en zijn t-toetsen gebruikt met "
            "het aantal organisaties min de parameters op organisatieniveau als vrijheidsgraden. "
            "Dat is voorzichtig: met zo weinig clusters zijn gewone z-toetsen te optimistisch." if nl else
            "Yes/no outcomes and counts were analysed with GEE (generalised estimating equations) "
            "over all organisations, with the same structure as above (wave, goal, offer per "
            "goal). Organisations are the clusters; as there are only 15, the standard error was "
            "corrected after Mancl and DeRouen, with t tests on the number of organisations minus "
            "the organisation-level parameters as degrees of freedom. That is cautious: with so "
            "few clusters plain z tests are too optimistic."
        ]
        g_rows = {}
        for m in observed:
            f = _cached(study, _gee_spec(study, m))
            if f.result is None:
                blocks.append(f"{_cap(m.label(lang))}: " + (
                    "het model kon niet worden geschat." if nl else "the model could not be estimated."))
                continue
            term = next((t for t in (f"C(goal)[{goal}]:offer", "offer") if t in f.result.fixed.index), None)
            if term is None:
                continue
            row = f.result.fixed.loc[term]
            g_rows[m.column] = row
            ratio = "oddsratio" if m.kind == "binary" else "rate ratio"
            if not nl:
                ratio = "odds ratio" if m.kind == "binary" else "rate ratio"
            ci = fmt_ci(row["exp_ci_low"], row["exp_ci_high"], 2, lang)
            blocks.append(
                (f"{_cap(m.label(lang))}: {ratio} {fmt_num(row['exp_estimate'], 2, lang)} "
                 f"({'95%-BI' if nl else '95% CI'} {ci}; t({fmt_int(row['df'], lang)}) = "
                 f"{fmt_num(row['t'], 2, lang)}; {_p_words(row['p'], lang)}); ")
                + _direction_words(row["estimate"], row["ci_low"], row["ci_high"], m, lang, row["p"]) + "."
            )
        if g_rows:
            blocks.append(_gee_table(g_rows, MEASURES, goal))
        sections.append(Section(w["care"], blocks))

    # 7. groups ---------------------------------------------------------------------------------
    blocks = []
    if primary is not None and primary.respondent == "family":
        blocks.append(
            f"Verschilt {primary.label_nl} tussen groepen gezinnen, en werkt het aanbod voor "
            "sommige groepen anders? De tabellen beschrijven; de zinnen eronder toetsen of het "
            "effect van het aanbod per groep verschilt (interacties aanbod \u00d7 kenmerk in één "
            "model met de drie kenmerken samen, in de organisaties van dit doel, gecorrigeerd "
            "voor meetmoment; F-toetsen met Satterthwaite-vrijheidsgraden). Zulke toetsen hebben "
            "weinig onderscheidend vermogen: geen significant verschil betekent niet dat het "
            "aanbod voor iedereen gelijk werkt. Ze zijn verkennend." if nl else
            f"Does {primary.label_en} differ between groups of families, and does the offer work "
            "differently for some groups? The tables describe; the sentences below them test "
            "whether the offer's effect differs by group (offer \u00d7 characteristic interactions "
            "in one model with the three characteristics together, in this goal's "
            "organisations, adjusted for wave; F tests with Satterthwaite df). Such tests have little power: no "
            "significant difference does not mean the offer works the same for everyone. They "
            "are exploratory."
        )
        for by in ("ses", "migration_background", "age_band"):
            if by not in fam.columns:
                continue
            table = _group_table(fam, primary, by, k, _GROUPS[by])
            if table is None:
                continue
            blocks.append(table)
            blocks.append(_moderation_sentence(study, primary, goal, by, lang))
    elif primary is not None:
        blocks.append(
            "De primaire uitkomst van dit doel is gemeten bij professionals; kenmerken van "
            "gezinnen (SES, migratieachtergrond, leeftijd) zijn hier niet van toepassing. De "
            "tabel beschrijft de uitkomst naar functie." if nl else
            "This goal's primary outcome was measured among professionals; family "
            "characteristics (SES, migration background, age) do not apply here. The table "
            "describes the outcome by role."
        )
        if "role" in pro.columns:
            table = _group_table(pro, primary, "role", k, _GROUPS["role"])
            if table is not None:
                blocks.append(table)
    if blocks:
        sections.append(Section(w["groups"], blocks))

    # 8. reliable change -------------------------------------------------------------------------
    if primary is not None and primary.kind == "scale" and primary.instrument != "gas":
        blocks = _reliable_change_blocks(study, primary, data_of[primary.respondent], rel_frame, k, lang)
        sections.append(Section(w["rc"], blocks))

    # 9. conclusions -----------------------------------------------------------------------------
    sections.append(Section(w["conclusions"], [
        "Deze paragraaf is bewust leeg gelaten. De onderzoekers en de werkplaats trekken de "
        "conclusies, samen met de praktijk: wat betekenen deze cijfers voor het doel, wat is "
        "goed genoeg, en wat is de volgende stap?" if nl else
        "This section is deliberately left empty. The researchers and the workplace draw the "
        "conclusions, together with practice: what do these figures mean for the goal, what "
        "is good enough, and what is the next step?",
        Conclusions(),
    ]))

    # 10. methods ---------------------------------------------------------------------------------
    blocks = []
    if primary is not None and primary.column in rows:
        res = _cached(study, _outcome_spec(study, primary)).result
        levels = [name.split(":")[-1] for name, _ in res.levels]
        n_units = {name.split(":")[-1]: n for name, n in res.levels}
        blocks.append(methods_paragraph(
            outcome=primary.labels, formula=res.formula, levels=levels,
            n_obs=res.n_obs, n_units=n_units, provenance=provenance, lang=lang))
    blocks.append(
        f"Kleine aantallen: elke getoonde statistiek rust op ten minste {k} respondenten; "
        "kleinere cellen zijn vervangen door \u00d7, en waar een totaal zo'n cel zou "
        "verraden is ook een tweede cel verborgen. Organisaties zijn aangeduid met een letter; "
        "er staan geen namen of nummers van personen, gezinnen, professionals of teams in dit "
        "rapport." if nl else
        f"Small numbers: every statistic shown rests on at least {k} respondents; smaller "
        "cells are replaced by \u00d7, and where a total would reveal such a cell a second "
        "cell is hidden too. Organisations are shown by a letter; this report contains no "
        "names or numbers of persons, families, professionals or teams."
    )
    blocks.append(
        ("Gegevens: " if nl else "Data: ")
        + ("de synthetische studie van lerendtransformeren (fictief: geen echte personen of "
           "organisaties)." if nl else
           "the synthetic study of lerendtransformeren (fictitious: no real persons or "
           "organisations).")
        if ("synthetic" in study.source or study.source == str(BUNDLED)) else
        ("Gegevens: " if nl else "Data: ") + (f"{len(study.inputs)} bestanden, zie de "
                                            "verantwoording hieronder." if nl else
                                            f"{len(study.inputs)} files, see the provenance below.")
    )
    from lerendtransformeren.report.text import REFERENCES

    refs = sorted(REFERENCES.values()) + [
        "Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to "
        "defining meaningful change in psychotherapy research. Journal of Consulting and "
        "Clinical Psychology, 59(1), 12-19. https://doi.org/10.1037/0022-006X.59.1.12",
        "Mancl, L. A., & DeRouen, T. A. (2001). A covariance estimator for GEE with improved "
        "small-sample properties. Biometrics, 57(1), 126-134. "
        "https://doi.org/10.1111/j.0006-341X.2001.00126.x",
        "Hussey, M. A., & Hughes, J. P. (2007). Design and analysis of stepped wedge cluster "
        "randomized trials. Contemporary Clinical Trials, 28(2), 182-191. "
        "https://doi.org/10.1016/j.cct.2006.05.007",
    ]
    sections.append(Section(w["methods"], blocks, [Section(w["references"], sorted(refs))]))
    _memo_figures(sections)
    return Document(title=title, lang=lang, sections=sections, provenance=provenance, subtitle=subtitle)


def _memo_figures(sections: Sequence[Section]) -> None:
    """Render each figure's PNG once, however many formats the document is written in."""
    for section in sections:
        for block in section.blocks:
            if isinstance(block, Figure) and "to_png" not in vars(block):
                render, cache = block.to_png, {}

                def to_png(dpi: int = 150, _render=render, _cache=cache) -> bytes:
                    if dpi not in _cache:
                        _cache[dpi] = _render(dpi)
                    return _cache[dpi]

                block.to_png = to_png
        _memo_figures(section.subsections)


def _with_offer(frame: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """Add the offer (1 from the organisation's start wave on) where a file lacks it."""
    if "offer" in frame.columns or "start_wave" not in orgs.columns:
        return frame
    start = orgs.set_index("organisation")["start_wave"]
    began = frame["organisation"].map(start)
    return frame.assign(offer=(frame["wave"] >= began).astype(int))


def _with_note(table: Table, nl: str, en: str) -> Table:
    from dataclasses import replace

    return replace(table, note_nl=table.note_nl + nl, note_en=table.note_en + en)


def _with_title(table: Table, nl: str, en: str) -> Table:
    from dataclasses import replace

    return replace(table, title_nl=nl, title_en=en)


def _moderation_sentence(study: StudyData, measure: Measure, goal: int, by: str, lang: str) -> str:
    name = _pick(_GROUPS[by][0], lang)
    spec = _moderation_spec(study, measure, goal)
    f = _cached(study, spec) if spec is not None else _Fit(None)
    term = f"offer:C({by})"
    nl = lang == "nl"
    if f.result is None:
        return (f"Of het effect van het aanbod verschilt naar {name} kon niet worden getoetst "
                "(te weinig metingen in sommige groepen)." if nl else
                f"Whether the offer's effect differs by {name} could not be tested (too few "
                "measurements in some groups).")
    table = f.result.anova
    if table is None or term not in table.index:
        return (f"Of het effect van het aanbod verschilt naar {name} kon niet worden getoetst."
                if nl else f"Whether the offer's effect differs by {name} could not be tested.")
    row = table.loc[term]
    stat = (f"F({int(row['numdf'])}; {fmt_num(row['dendf'], 1, lang)}) = {fmt_num(row['F'], 2, lang)}, "
            if nl else
            f"F({int(row['numdf'])}, {fmt_num(row['dendf'], 1, lang)}) = {fmt_num(row['F'], 2, lang)}, ")
    stat += _p_words(row["p"], lang)
    if nl:
        verdict = ("het effect lijkt te verschillen tussen de groepen; bekijk de tabel en "
                   "wees voorzichtig met dit verkennende resultaat" if row["p"] < 0.05 else
                   "er is geen duidelijk verschil gevonden, wat niet hetzelfde is als gelijk")
        return f"Verschil in effect van het aanbod naar {name}: {stat}; {verdict}."
    verdict = ("the effect seems to differ between groups; look at the table and be careful "
               "with this exploratory result" if row["p"] < 0.05 else
               "no clear difference was found, which is not the same as equal")
    return f"Difference in the offer's effect by {name}: {stat}; {verdict}."


def _reliable_change_blocks(study, measure: Measure, data: pd.DataFrame, rel_frame, k: int, lang: str) -> list:
    nl = lang == "nl"
    unit = measure.respondent
    first, last = data["wave"].min(), data["wave"].max()
    wide = data.pivot_table(index=unit, columns="wave", values=measure.column, aggfunc="first")
    blocks: list = []
    if first not in wide.columns or last not in wide.columns:
        return ["Er zijn geen herhaalde metingen." if nl else "There are no repeated measurements."]
    pre, post = wide[first], wide[last]
    both = pre.notna() & post.notna()
    sd_pre = float(data.loc[data["wave"] == first, measure.column].std())
    score = measure.column.removeprefix(f"{measure.instrument}_")
    rel = None
    if rel_frame is not None:
        hit = rel_frame.loc[(rel_frame["scale"] == measure.instrument) & (rel_frame["subscale"] == score)]
        if len(hit):
            rel = float(hit["alpha"].iloc[0])
    if rel is None or not (0 < rel < 1) or both.sum() < k or not np.isfinite(sd_pre) or sd_pre <= 0:
        return ["De betrouwbare verandering kon niet worden bepaald (te weinig gegevens)." if nl
                else "Reliable change could not be determined (too few data)."]
    rc = scales.reliable_change(
        pre[both], post[both], sd_pre=sd_pre, reliability=rel, cutoff=measure.cutoff,
        direction="higher_is_better" if measure.higher_is_better else "lower_is_better",
    )
    s_diff = np.sqrt(2.0) * sd_pre * np.sqrt(1.0 - rel)
    needed = 1.96 * s_diff
    cats = rc["classification"].astype(object)
    if nl:
        blocks.append(
            "Een gemiddeld effect zegt niet hoeveel individuele "
            f"{_pick(_RESPONDENTS[unit], lang)} er werkelijk op vooruit gaan. De betrouwbare-"
            "veranderingsindex (RCI; Jacobson & Truax, 1991) zegt of de verandering van één "
            "respondent groter is dan meetfout alleen kan verklaren. Hier: van T"
            f"{int(first)} naar T{int(last)} op {measure.label_nl}, met de standaardafwijking op "
            f"T{int(first)} ({fmt_num(sd_pre, 2, lang)}) en alfa ({fmt_num(rel, 2, lang, leading_zero=False)}). "
            f"Een verandering is betrouwbaar vanaf {fmt_num(needed, 2, lang)} punten."
        )
        blocks.append(
            "Lees dit voorzichtig: alle organisaties hebben op het laatste meetmoment het "
            "aanbod, dus er is geen vergelijkingsgroep zonder aanbod; individuele verandering "
            "omvat ook natuurlijk herstel en regressie naar het gemiddelde. Of 'betrouwbaar "
            "verbeterd' ook 'goed genoeg' is, is een inhoudelijke vraag voor de werkplaats."
        )
    else:
        blocks.append(
            "An average effect does not say how many individual "
            f"{_pick(_RESPONDENTS[unit], lang)} actually improve. The reliable change index "
            "(RCI; Jacobson & Truax, 1991) says whether one respondent's change is larger than "
            f"measurement error alone can explain. Here: from T{int(first)} to T{int(last)} on "
            f"{measure.label_en}, with the standard deviation at T{int(first)} "
            f"({fmt_num(sd_pre, 2, lang)}) and alpha ({fmt_num(rel, 2, lang, leading_zero=False)}). "
            f"A change is reliable from {fmt_num(needed, 2, lang)} points."
        )
        blocks.append(
            "Read this with care: all organisations have the offer at the last wave, so there "
            "is no comparison group without it; individual change includes natural recovery "
            "and regression to the mean. Whether 'reliably improved' is 'good enough' is a "
            "question of substance for the workplace."
        )
    if measure.cutoff is not None:
        blocks.append(measure.cutoff_note_nl if nl else measure.cutoff_note_en)
    blocks.append(_rc_table(cats.dropna(), k, measure.cutoff is not None))
    try:
        blocks.append(plot_reliable_change(cats, lang=lang, k=k))
    except DataError:
        pass
    return blocks


# --- the overview --------------------------------------------------------------------------------


def build_overview(
    study_or_dir: StudyData | str | Path | None = None,
    goals: Sequence[int] | None = None,
    *,
    lang: str = "nl",
    k: int = 5,
    seed: int = DEFAULT_SEED,
    date: _dt.date | str | None = None,
) -> Document:
    """A short cross-goal overview for the learning community.

    One table of the offer effect on each goal's primary outcome (b, 95% CI, df, p; from
    the same models as the goal reports), one table of the sample per goal, and a
    paragraph on how to read them.

    Parameters
    ----------
    study_or_dir : StudyData, path or None
    goals : sequence of int, optional
        Goals to include (default: every goal with data).
    lang, k, seed, date
        As in :func:`build_goal_report`.

    Returns
    -------
    Document
    """
    check_lang(lang)
    study = _as_study(study_or_dir)
    nl = lang == "nl"
    date = date or _dt.date.today()
    provenance = collect_provenance(date=date, inputs=study.inputs, seed=seed)
    goals = [g for g in (goals or study.goals()) if g in GOAL_PLANS]
    eff_rows, labels, sample_rows = {}, {}, {}
    for goal in goals:
        g = design.goal(goal)
        plan = GOAL_PLANS[goal]
        m = MEASURES[plan.primary]
        labels[goal] = (f"{goal}. {g.name_nl}", f"{goal}. {g.name_en}")
        data = study.frame(m.respondent)
        row = {"outcome": m.column, "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
               "df": np.nan, "p": np.nan}
        if m.column in data.columns and data.loc[data["goal"] == goal, m.column].notna().sum() >= k:
            c = _goal_contrast(_cached(study, _outcome_spec(study, m)), goal)
            if c is not None:
                row.update(c.iloc[0][["estimate", "ci_low", "ci_high", "df", "p"]].to_dict())
        eff_rows[goal] = row
        fam = study.families.loc[study.families["goal"] == goal] if not study.families.empty else None
        pro = (study.professionals.loc[study.professionals["goal"] == goal]
               if not study.professionals.empty else None)
        first = lambda d: d.loc[d["wave"] == d["wave"].min()] if d is not None and len(d) else None  # noqa: E731
        f0, p0 = first(fam), first(pro)
        sample_rows[goal] = {
            "organisations": float(pd.concat([d["organisation"] for d in (fam, pro) if d is not None]).nunique()),
            "teams": float(pd.concat([d["team"] for d in (fam, pro) if d is not None]).nunique()),
            "professionals": float(p0["professional"].nunique()) if p0 is not None else np.nan,
            "families": float(f0["family"].nunique()) if f0 is not None and "family" in f0 else np.nan,
        }
    eff = pd.DataFrame.from_dict(eff_rows, orient="index")
    eff.index.name = "goal"
    eff_labels = {**labels, **{c: MEASURES[c].labels for c in eff["outcome"]}}
    eff_table = Table(
        frame=eff,
        columns=(
            Column("outcome", "Primaire uitkomst", "Primary outcome", kind="text"),
            Column("estimate", "b", "b"),
            Column("ci_low", "95%-BI", "95% CI", kind="ci", source_high="ci_high"),
            Column("df", "df", "df", digits=1),
            Column("p", "p", "p", kind="p"),
        ),
        title_nl="Effect van het ondersteuningsaanbod per doel op de primaire uitkomst",
        title_en="Effect of the support offer per goal on the primary outcome",
        note_nl=(
            "b = verschil met en zonder aanbod op de schaal van de uitkomst (niet onderling "
            "vergelijkbaar tussen doelen: de uitkomsten verschillen); uit één multilevelmodel "
            "per uitkomst over alle organisaties, df volgens Satterthwaite; BI = "
            "betrouwbaarheidsinterval."
        ),
        note_en=(
            "b = difference with and without the offer on the outcome's scale (not comparable "
            "between goals: the outcomes differ); from one multilevel model per outcome over all "
            "organisations, Satterthwaite df; CI = confidence interval."
        ),
        stub_nl=("Doel",),
        stub_en=("Goal",),
        labels=eff_labels,
    )
    samp = pd.DataFrame.from_dict(sample_rows, orient="index")
    samp.index.name = "goal"
    counts = pd.DataFrame({c: samp["families"].fillna(0) + samp["professionals"].fillna(0)
                           for c in samp.columns})
    sup = suppress_small_cells(samp, counts, k)
    samp = samp.mask(sup.mask)
    samp_table = Table(
        frame=samp,
        columns=(
            Column("organisations", "Organisaties", "Organisations", kind="int"),
            Column("teams", "Teams", "Teams", kind="int"),
            Column("professionals", "Professionals (T0)", "Professionals (T0)", kind="int"),
            Column("families", "Gezinnen (T0)", "Families (T0)", kind="int"),
        ),
        title_nl="Steekproef per doel",
        title_en="Sample per goal",
        note_nl="Aantallen op het eerste meetmoment; details en uitval staan in de doelrapporten.",
        note_en="Numbers at the first wave; details and dropout are in the goal reports.",
        stub_nl=("Doel",),
        stub_en=("Goal",),
        labels=labels,
        suppressed=sup.mask,
        footnote_nl=sup.footnote_nl,
        footnote_en=sup.footnote_en,
    )
    favourable = []
    for goal, row in eff_rows.items():
        m = MEASURES[row["outcome"]]
        if pd.notna(row["ci_low"]) and (row["ci_low"] > 0 or row["ci_high"] < 0) and (
                (row["estimate"] > 0) == m.higher_is_better):
            favourable.append(str(goal))
    if nl:
        para = (
            "Dit overzicht zet de vijf transformatiedoelen naast elkaar voor de lerende "
            "gemeenschap. Per doel staat het effect van het ondersteuningsaanbod op de "
            "primaire uitkomst van dat doel. De uitkomsten verschillen per doel, dus de "
            "getallen zijn niet onderling te vergelijken; vergelijk per doel het interval met nul. "
            + (f"Bij doel {', '.join(favourable)} ligt het interval geheel aan de gunstige kant van "
               "nul. " if favourable else "Bij geen enkel doel ligt het interval geheel aan de "
               "gunstige kant van nul. ")
            + "Elk doel rust op drie organisaties: de schattingen veronderstellen dat het effect "
            "in die drie organisaties gelijk is en dat de tijdstrend in alle doelen gelijk is. "
            "De doelrapporten geven de details, de gevoeligheidsanalyses en de kanttekeningen."
        )
    else:
        para = (
            "This overview puts the five transformation goals side by side for the learning "
            "community. Per goal it shows the effect of the support offer on that goal's "
            "primary outcome. The outcomes differ per goal, so the numbers are not comparable "
            "with each other; compare each goal's interval with zero. "
            + (f"For goal(s) {', '.join(favourable)} the interval lies entirely on the favourable "
               "side of zero. " if favourable else "For no goal does the interval lie entirely "
               "on the favourable side of zero. ")
            + "Each goal rests on three organisations: the estimates assume the effect is the "
            "same in those three organisations and that the time trend is the same in all goals. "
            "The goal reports give the details, sensitivity analyses and caveats."
        )
    title = ("Lerend Transformeren: overzicht van de vijf transformatiedoelen" if nl else
             "Lerend Transformeren: overview of the five transformation goals")
    sections = [
        Section("Overzicht" if nl else "Overview", [para, eff_table, samp_table]),
        Section("Conclusies" if nl else "Conclusions", [Conclusions()]),
    ]
    return Document(title=title, lang=lang, sections=sections, provenance=provenance,
                    subtitle=("Voor de lerende gemeenschap" if nl else "For the learning community"))
