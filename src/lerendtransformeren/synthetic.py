"""A fictitious "Lerend Transformeren" study with known truth.

``generate(seed)`` builds the whole study: 5 goals x 3 organisations, teams,
professionals and their caseloads of families, four waves (T0..T3, six months apart)
and a stepped-wedge roll-out of the support offer (coaching, intervisie, action
learning). Within each goal one organisation starts the offer at T1, one at T2 and one
at T3.

Every outcome is generated from a latent multilevel model in standard-deviation units:

    eta = intercept + time * wave + offer * (effect[goal] + moderation)
          + covariates + u_organisation + u_team + u_professional (+ u_family) + e

with the variance components summing to one. Questionnaire items come from a
one-factor (or bifactor, for the SDQ) model on eta, cut into the response categories,
so scale reliabilities are those of real instruments. ``truth.json`` holds every
generating parameter and, for each questionnaire outcome, the effect of the offer
that the model implies on the observed scale score (computed exactly from the
threshold model), so analyses on the files can be checked against it.

No real person, professional or organisation is described by these data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from lerendtransformeren.design import GOALS
from lerendtransformeren.display import Grid, View, count
from lerendtransformeren.vocabulary import ITEM_SET_LABELS

__all__ = ["Study", "generate", "nested_example", "DEFAULT_SEED", "FILES"]

#: The seed of the bundled study in ``data/synthetic``.
DEFAULT_SEED = 20261123

#: The files of a study, in the order they are written.
FILES = (
    "organisations.csv",
    "professionals.csv",
    "families.csv",
    "activities.csv",
    "codebook.csv",
    "truth.json",
    "README.md",
    "study.yaml",
)

N_WAVES = 4
MONTHS_PER_WAVE = 6

# --------------------------------------------------------------------------------------
# Item models. Each instrument's items, response range and reverse keys come from its
# definition in ``scales/definitions`` (one source of truth for data and scorer). The
# generating model adds: item groups (factors) with their correlation to the outcome's
# general factor, the loading of every item, and the location/spread of the forward
# response scale: response = clip(round(centre + spread * x)), x = loading * factor + noise.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ItemModel:
    prefix: str
    instrument: str
    groups: dict[str, tuple[int, ...]]
    loading: float
    centre: float
    spread: float
    # correlation of each group factor with the outcome's general factor (1 = one factor)
    group_r: float = 1.0
    # sign of the general factor per group (-1: higher latent outcome, lower group factor)
    group_sign: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> list[str]:
        return list(_definition(self.prefix).items)

    @property
    def low(self) -> int:
        return _definition(self.prefix).response_min

    @property
    def high(self) -> int:
        return _definition(self.prefix).response_max

    @property
    def reverse(self) -> tuple[int, ...]:
        return tuple(self.items.index(item) + 1 for item in _definition(self.prefix).reverse)


def _all(n: int) -> dict[str, tuple[int, ...]]:
    return {"all": tuple(range(1, n + 1))}


# SDQ: the latent outcome is "difficulties" (higher = more problems); prosocial behaviour
# loads negatively on it. Groups are the five published subscales.
_SDQ = _ItemModel(
    "sdq",
    "sdq_parent",
    groups={
        "emotional": (3, 8, 13, 16, 24),
        "conduct": (5, 7, 12, 18, 22),
        "hyperactivity": (2, 10, 15, 21, 25),
        "peer": (6, 11, 14, 19, 23),
        "prosocial": (1, 4, 9, 17, 20),
    },
    loading=0.72,
    centre=0.55,
    spread=0.75,
    group_r=0.75,
    group_sign={"prosocial": -1},
)
# prosocial items are answered in the prosocial direction (higher = more prosocial)
_SDQ_PROSOCIAL_CENTRE = 1.35

_ITEM_MODELS: dict[str, _ItemModel] = {
    "uwes": _ItemModel(
        "uwes",
        "uwes9",
        groups={"vigour": (1, 4, 8), "dedication": (2, 5, 7), "absorption": (3, 6, 9)},
        loading=0.78,
        centre=4.0,
        spread=1.1,
        group_r=0.85,
    ),
    "burden": _ItemModel("burden", "burden", _all(6), 0.68, 3.2, 0.9),
    "impl": _ItemModel("impl", "impl", _all(8), 0.66, 3.4, 0.85),
    "collab": _ItemModel("collab", "collab", _all(5), 0.72, 3.6, 0.85),
    "sdq": _SDQ,
    "psoc": _ItemModel(
        "psoc",
        "psoc",
        groups={
            "satisfaction": (2, 3, 4, 5, 8, 9, 12, 14, 16),
            "efficacy": (1, 6, 7, 10, 11, 13, 15),
        },
        loading=0.66,
        centre=4.3,
        spread=1.0,
        group_r=0.8,
    ),
    "mastery": _ItemModel("mastery", "mastery", _all(7), 0.68, 2.8, 0.7),
    "support": _ItemModel("support", "support", _all(5), 0.74, 3.7, 0.9),
    "sdmq": _ItemModel("sdmq", "sdmq9", _all(9), 0.71, 3.5, 1.15),
    "kidscreen": _ItemModel("kidscreen", "kidscreen10", _all(10), 0.65, 3.7, 0.85),
}

def _definition(prefix: str):
    """The instrument definition behind an item prefix (``gas`` has no item model)."""
    from lerendtransformeren import scales

    return scales.get(_ITEM_MODELS[prefix].instrument if prefix in _ITEM_MODELS else prefix)


# Which latent outcome drives which instrument.
_OUTCOME_OF_INSTRUMENT = {
    "uwes": "engagement",
    "burden": "burden",
    "impl": "implementation",
    "collab": "collaboration",
    "sdq": "difficulties",
    "psoc": "competence",
    "mastery": "mastery",
    "support": "support",
    "sdmq": "shared_decisions",
    "kidscreen": "quality_of_life",
}

# --------------------------------------------------------------------------------------
# Generating parameters (the truth). Effects in SD units of the latent outcome.
# --------------------------------------------------------------------------------------
_AGE_BANDS = ("zwangerschap", "0-3", "4-7", "8-11", "12-17", "18-23")
_AGE_P = (0.04, 0.14, 0.20, 0.24, 0.30, 0.08)
_MIGRATION = ("nl", "europa", "buiten_europa")
_MIGRATION_P = (0.68, 0.10, 0.22)
_SES = ("laag", "midden", "hoog")
_SES_P = (0.36, 0.40, 0.24)
# Instruments administered only in some age bands (all others: every family).
_AGE_BANDS_OF_INSTRUMENT = {"sdq": ("4-7", "8-11", "12-17"), "kidscreen": ("8-11", "12-17")}
_ORG_TYPES = ("lokaal_team", "jeugdhulpaanbieder", "specialistisch", "gemeente")
_REGIONS = ("noord", "oost", "zuid", "west", "midden")
_ROLES = ("hulpverlener", "gedragswetenschapper", "teamleider")
_ROLE_P = (0.82, 0.13, 0.05)


def _family_outcome(effects, time, ses, mig, offer_x_ses_low, offer_x_migration, var, shared):
    return {
        "level": "family",
        "intercept": 0.0,
        "time_per_wave": time,
        "offer_effect_by_goal": dict(zip(("1", "2", "3", "4", "5"), effects, strict=True)),
        "ses": dict(zip(_SES, ses, strict=True)),
        "migration_background": dict(zip(_MIGRATION, mig, strict=True)),
        "offer_x_ses_low": offer_x_ses_low,
        "offer_x_migration": offer_x_migration,
        "variance": var,
        "shared_family_loading": shared,
    }


_V_FAM = {"organisation": 0.04, "team": 0.03, "professional": 0.05, "family": 0.43, "residual": 0.45}
_V_PRO = {"organisation": 0.07, "team": 0.06, "professional": 0.45, "residual": 0.42}

_OUTCOMES: dict[str, dict] = {
    # goal 1: prevention and own strength
    "mastery": _family_outcome((0.35, 0.10, 0.10, 0.10, 0.05), 0.04, (-0.25, 0.0, 0.20), (0.0, -0.05, -0.15), 0.15, 0.0, _V_FAM, 0.45),
    "support": _family_outcome((0.30, 0.05, 0.05, 0.15, 0.10), 0.03, (-0.30, 0.0, 0.15), (0.0, -0.10, -0.30), 0.10, 0.10, _V_FAM, 0.35),
    # goal 2: normalising; difficulties: higher = more problems, so a helpful offer is negative
    "competence": _family_outcome((0.10, 0.35, 0.10, 0.05, 0.05), 0.04, (-0.20, 0.0, 0.15), (0.0, -0.05, -0.10), 0.10, 0.0, _V_FAM, 0.45),
    "difficulties": _family_outcome((-0.05, -0.30, -0.15, -0.05, 0.0), -0.05, (0.25, 0.0, -0.15), (0.0, 0.05, 0.10), -0.10, 0.0, _V_FAM, -0.40),
    "quality_of_life": _family_outcome((0.10, 0.15, 0.10, 0.05, 0.0), 0.02, (-0.20, 0.0, 0.10), (0.0, -0.05, -0.10), 0.05, 0.0, _V_FAM, 0.35),
    # goal 4: integrated help
    "shared_decisions": _family_outcome((0.05, 0.05, 0.10, 0.40, 0.10), 0.03, (-0.10, 0.0, 0.05), (0.0, -0.10, -0.30), 0.0, 0.15, _V_FAM, 0.20),
}


def _pro_outcome(effects, time, dose):
    return {
        "level": "professional",
        "intercept": 0.0,
        "time_per_wave": time,
        "offer_effect_by_goal": dict(zip(("1", "2", "3", "4", "5"), effects, strict=True)),
        "offer_effect_per_session": dose,
        "variance": _V_PRO,
    }


_PRO_OUTCOMES: dict[str, dict] = {
    # goal 5: more room for professionals; burden: higher = more burden
    "engagement": _pro_outcome((0.15, 0.15, 0.10, 0.10, 0.30), -0.03, 0.04),
    "burden": _pro_outcome((-0.05, -0.05, -0.05, -0.10, -0.35), 0.02, -0.03),
    "implementation": _pro_outcome((0.20, 0.20, 0.20, 0.20, 0.25), 0.05, 0.05),
    "collaboration": _pro_outcome((0.05, 0.05, 0.10, 0.35, 0.10), 0.02, 0.02),
}

# Care use (goal 3 in particular). Logit / log scale.
_CARE = {
    "referral": {
        "model": "logistic",
        "intercept": -1.6,
        "time_per_wave": -0.05,
        "offer_effect_by_goal": {"1": -0.10, "2": -0.15, "3": -0.45, "4": -0.10, "5": -0.05},
        "per_sd_difficulties": 0.55,
        "sd": {"organisation": 0.25, "team": 0.15, "professional": 0.20, "family": 0.60},
    },
    "contacts": {
        "model": "negative_binomial",
        "intercept": 1.9,
        "time_per_wave": -0.04,
        "offer_effect_by_goal": {"1": -0.05, "2": -0.05, "3": -0.20, "4": -0.10, "5": -0.05},
        "per_sd_difficulties": 0.20,
        "dispersion_shape": 4.0,
        "sd": {"organisation": 0.15, "team": 0.10, "professional": 0.12, "family": 0.35},
    },
    "one_plan": {
        "model": "logistic",
        "intercept": -0.2,
        "time_per_wave": 0.08,
        "offer_effect_by_goal": {"1": 0.10, "2": 0.10, "3": 0.15, "4": 0.70, "5": 0.15},
        "sd": {"organisation": 0.35, "team": 0.25, "professional": 0.30, "family": 0.50},
    },
    "one_coordinator": {
        "model": "logistic",
        "intercept": 0.1,
        "time_per_wave": 0.05,
        "offer_effect_by_goal": {"1": 0.05, "2": 0.05, "3": 0.10, "4": 0.60, "5": 0.10},
        "sd": {"organisation": 0.35, "team": 0.25, "professional": 0.30, "family": 0.50},
    },
}

# Goal attainment scaling: three goals per family, scored at T1..T3 on -2..+2.
_GAS = {
    "centre": -0.25,
    "spread": 1.0,
    "time_per_wave": 0.15,
    "offer_effect_by_goal": {"1": 0.25, "2": 0.20, "3": 0.35, "4": 0.20, "5": 0.15},
    "family_sd": 0.6,
    "goal_sd": 0.8,
}

_DROPOUT = {
    "model": "logistic hazard per wave, depends on the baseline (T0) latent outcome; the observed "
    "T0 scores measure that latent with error, so dropout is close to, not exactly, missing at random "
    "given the observed data",
    "family": {"intercept": -2.2, "per_sd_baseline_difficulties": 0.35, "ses_laag": 0.30},
    "professional": {"intercept": -2.6, "per_sd_baseline_engagement": -0.35},
}
_ITEM_MISSING = {
    "per_item_probability": 0.02,
    "careless_row_probability": 0.03,
    "careless_row_item_probability": 0.45,
}
_ACTIVITIES = {
    "sessions_rate_mean": 4.0,
    "sessions_rate_log_sd": 0.45,
    "masterclass_rate": 0.5,
    "workshop_rate": 0.8,
    "note": "Only from the organisation's start wave on; counts are attendance in the six months before the wave.",
}


# --------------------------------------------------------------------------------------
# The study object
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Study:
    """A generated study: its tables, codebook and truth.

    Attributes
    ----------
    organisations, professionals, families, activities : pandas.DataFrame
        The data files, long format (one row per respondent per wave).
    codebook : pandas.DataFrame
        One row per variable per file (schema in docs/architecture.md).
    truth : dict
        Every generating parameter.
    seed : int
        The seed the study was generated with.
    """

    organisations: pd.DataFrame
    professionals: pd.DataFrame
    families: pd.DataFrame
    activities: pd.DataFrame
    codebook: pd.DataFrame
    truth: dict
    seed: int

    def __repr__(self) -> str:
        return self._view().text()

    def _repr_html_(self) -> str:
        return self._view().html()

    def _view(self) -> View:
        """The files with their sizes (the frames themselves are attributes)."""
        names = ("organisations", "professionals", "families", "activities", "codebook")
        rows = [[name, count(len(getattr(self, name))), count(getattr(self, name).shape[1])] for name in names]
        return View(
            f"Study: the synthetic (fictitious) study, seed {self.seed}",
            grids=[Grid(["Table", "Rows", "Columns"], rows)],
            hint="More: .families, .professionals, ... (data frames), .truth (every generating parameter), "
                 ".write(folder)",
        )

    def file_bytes(self) -> dict[str, bytes]:
        """The exact bytes of every file of the study, keyed by file name."""
        out: dict[str, bytes] = {}
        for name in FILES:
            if name == "truth.json":
                text = json.dumps(self.truth, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            elif name == "README.md":
                text = _readme(self)
            elif name == "study.yaml":
                text = _STUDY_DEFINITION.format(seed=self.seed)
            else:
                frame = getattr(self, name.removesuffix(".csv"))
                text = frame.to_csv(index=False, lineterminator="\n", float_format="%.6g")
            out[name] = text.encode("utf-8")
        return out

    def write(self, directory: str | Path) -> dict[str, str]:
        """Write the study's files into ``directory``; return their SHA-256 checksums."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        sums = {}
        for name, data in self.file_bytes().items():
            (directory / name).write_bytes(data)
            sums[name] = hashlib.sha256(data).hexdigest()
        return sums


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------
def generate(seed: int = DEFAULT_SEED) -> Study:
    """Generate the synthetic "Lerend Transformeren" study.

    Parameters
    ----------
    seed : int
        Seed of the study. The same seed gives byte-identical files on every machine
        with the same numpy random-number algorithms (PCG64 via SeedSequence).

    Returns
    -------
    Study
        The data frames, codebook and truth; ``Study.write(directory)`` writes the files.

    Examples
    --------
    >>> study = generate(seed=1)
    >>> study.organisations.groupby("goal").size().tolist()
    [3, 3, 3, 3, 3]
    >>> sorted(study.organisations.query("goal == 1")["start_wave"].tolist())
    [1, 2, 3]
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}.")
    streams = np.random.SeedSequence(int(seed)).spawn(9)
    rng_design, rng_latent, rng_items, rng_missing, rng_dropout, rng_care, rng_act, rng_gas, rng_load = (
        np.random.default_rng(s) for s in streams
    )
    loadings = _item_loadings(rng_load)

    orgs, pros, fams = _structure(rng_design)
    pro_long = _expand_waves(pros, orgs)
    fam_long = _expand_waves(fams, orgs)

    activities = _activities(rng_act, pro_long, pros)
    pro_long = pro_long.merge(
        activities[["professional", "wave", "sessions"]], on=["professional", "wave"], how="left"
    )

    pro_latent = _professional_latents(rng_latent, pro_long)
    fam_latent, fam_fixed = _family_latents(rng_latent, fam_long)

    pro_keep = _dropout(
        rng_dropout, pro_long, "professional", pro_latent["engagement"],
        _DROPOUT["professional"]["per_sd_baseline_engagement"], _DROPOUT["professional"],
    )
    fam_keep = _dropout(
        rng_dropout, fam_long, "family", fam_latent["difficulties"],
        _DROPOUT["family"]["per_sd_baseline_difficulties"], _DROPOUT["family"],
    )

    pro_items = _items(rng_items, pro_latent, ("uwes", "burden", "impl", "collab"), loadings)
    fam_items = _items(rng_items, fam_latent, ("sdq", "psoc", "mastery", "support", "sdmq", "kidscreen"), loadings)
    # instruments that do not apply to the child's age are not administered
    for prefix, bands in _AGE_BANDS_OF_INSTRUMENT.items():
        fam_items.loc[~fam_long["age_band"].isin(bands).to_numpy(), _ITEM_MODELS[prefix].items] = np.nan

    care = _care(rng_care, fam_long, fam_latent)
    gas = _gas(rng_gas, fam_long)

    pro_items = _item_missingness(rng_missing, pro_items)
    fam_items = _item_missingness(rng_missing, fam_items)

    professionals = pd.concat(
        [pro_long[["goal", "organisation", "team", "professional", "wave", "offer", "role", "experience_years"]], pro_items],
        axis=1,
    )[pro_keep]
    families = pd.concat(
        [
            fam_long[["goal", "organisation", "team", "professional", "family", "wave", "offer", "age_band", "migration_background", "ses"]],
            fam_items,
            care,
            gas,
        ],
        axis=1,
    )[fam_keep]
    activities = activities[activities.set_index(["professional", "wave"]).index.isin(
        professionals.set_index(["professional", "wave"]).index
    )]

    professionals = _as_int_columns(professionals.reset_index(drop=True))
    families = _as_int_columns(families.reset_index(drop=True))
    activities = activities.reset_index(drop=True)

    truth = _truth(seed, orgs, fam_long[fam_keep], fam_fixed[fam_keep], loadings)
    codebook = _codebook()
    return Study(
        organisations=orgs.reset_index(drop=True),
        professionals=professionals,
        families=families,
        activities=activities,
        codebook=codebook,
        truth=truth,
        seed=int(seed),
    )


def nested_example(seed: int = 7) -> pd.DataFrame:
    """A small two-level example for documentation: 10 organisations, 4 teams each, 6 waves.

    ``y = u_org + u_team + 0.2 * wave + e`` with SDs 0.5, 0.5 and 1; team codes are
    reused in every organisation ("team" 0..3), as in many exports, so the model needs
    ``(1 | org/team)``.

    >>> nested_example().shape
    (240, 4)
    """
    rng = np.random.default_rng(seed)
    org = np.repeat(np.arange(10), 24)
    team = np.repeat(np.arange(40), 6)
    wave = np.tile(np.arange(6), 40)
    y = rng.normal(0, 0.5, 10)[org] + rng.normal(0, 0.5, 40)[team] + 0.2 * wave + rng.normal(size=240)
    return pd.DataFrame({"org": org, "team": team % 4, "wave": wave, "y": y})


def _structure(rng):
    """Goals, organisations, teams, professionals and families (one row per unit)."""
    org_rows = []
    for g in GOALS:
        starts = rng.permutation([1, 2, 3])
        for k in range(3):
            number = 3 * (g.code - 1) + k + 1
            org_rows.append(
                {
                    "goal": g.code,
                    "organisation": f"O{number:02d}",
                    "organisation_type": _ORG_TYPES[int(rng.integers(len(_ORG_TYPES)))],
                    "region": _REGIONS[int(rng.integers(len(_REGIONS)))],
                    "start_wave": int(starts[k]),
                }
            )
    orgs = pd.DataFrame(org_rows)

    n_teams = rng.integers(3, 6, size=len(orgs))
    teams = pd.DataFrame(
        {
            "organisation": np.repeat(orgs["organisation"].to_numpy(), n_teams),
            "team_no": np.concatenate([np.arange(1, n + 1) for n in n_teams]),
        }
    )
    teams["team"] = teams["organisation"] + "-T" + teams["team_no"].astype(str)

    n_pros = rng.integers(6, 13, size=len(teams))
    pros = pd.DataFrame(
        {
            "team": np.repeat(teams["team"].to_numpy(), n_pros),
            "pro_no": np.concatenate([np.arange(1, n + 1) for n in n_pros]),
        }
    )
    pros["professional"] = pros["team"] + "-P" + pros["pro_no"].map("{:02d}".format)
    pros["organisation"] = pros["team"].str.slice(0, 3)
    pros["role"] = rng.choice(_ROLES, size=len(pros), p=_ROLE_P)
    pros["experience_years"] = np.minimum(rng.gamma(2.2, 4.2, size=len(pros)).round().astype(int), 40)

    n_fams = rng.integers(3, 9, size=len(pros))
    fams = pd.DataFrame(
        {
            "professional": np.repeat(pros["professional"].to_numpy(), n_fams),
            "fam_no": np.concatenate([np.arange(1, n + 1) for n in n_fams]),
        }
    )
    fams["family"] = fams["professional"] + "-F" + fams["fam_no"].astype(str)
    fams["team"] = fams["professional"].str.rsplit("-", n=1).str[0]
    fams["organisation"] = fams["team"].str.slice(0, 3)
    fams["age_band"] = rng.choice(_AGE_BANDS, size=len(fams), p=_AGE_P)
    fams["migration_background"] = rng.choice(_MIGRATION, size=len(fams), p=_MIGRATION_P)
    fams["ses"] = rng.choice(_SES, size=len(fams), p=_SES_P)
    return orgs, pros, fams


def _expand_waves(units: pd.DataFrame, orgs: pd.DataFrame) -> pd.DataFrame:
    """One row per unit per wave, with the goal and the offer indicator."""
    long = units.loc[units.index.repeat(N_WAVES)].reset_index(drop=True)
    long["wave"] = np.tile(np.arange(N_WAVES), len(units))
    long = long.merge(orgs[["organisation", "goal", "start_wave"]], on="organisation", how="left")
    long["offer"] = (long["wave"] >= long["start_wave"]).astype(int)
    return long


def _effects(rng, keys: pd.Series, sd: float) -> np.ndarray:
    """One normal draw per distinct key (in sorted order), mapped onto the rows."""
    codes, uniques = pd.factorize(keys, sort=True)
    draws = rng.normal(0.0, sd, size=len(uniques)) if sd > 0 else np.zeros(len(uniques))
    return draws[codes]


def _goal_effect(long: pd.DataFrame, by_goal: dict[str, float]) -> np.ndarray:
    return long["goal"].astype(str).map(by_goal).to_numpy(dtype=float)


def _professional_latents(rng, long) -> pd.DataFrame:
    out = {}
    sessions = long["sessions"].fillna(0).to_numpy(dtype=float)
    centred_sessions = (sessions - _ACTIVITIES["sessions_rate_mean"]) * long["offer"].to_numpy()
    for name, spec in _PRO_OUTCOMES.items():
        v = spec["variance"]
        eta = (
            spec["intercept"]
            + spec["time_per_wave"] * long["wave"].to_numpy()
            + long["offer"].to_numpy() * _goal_effect(long, spec["offer_effect_by_goal"])
            + spec["offer_effect_per_session"] * centred_sessions
            + _effects(rng, long["organisation"], np.sqrt(v["organisation"]))
            + _effects(rng, long["team"], np.sqrt(v["team"]))
            + _effects(rng, long["professional"], np.sqrt(v["professional"]))
            + rng.normal(0.0, np.sqrt(v["residual"]), size=len(long))
        )
        out[name] = eta
    return pd.DataFrame(out)


def _family_fixed(long: pd.DataFrame, spec: dict) -> np.ndarray:
    """The fixed part of a family outcome's latent model, per row."""
    offer = long["offer"].to_numpy()
    ses_low = (long["ses"] == "laag").to_numpy()
    migrant = (long["migration_background"] != "nl").to_numpy()
    return (
        spec["intercept"]
        + spec["time_per_wave"] * long["wave"].to_numpy()
        + offer * _goal_effect(long, spec["offer_effect_by_goal"])
        + offer * (spec["offer_x_ses_low"] * ses_low + spec["offer_x_migration"] * migrant)
        + long["ses"].map(spec["ses"]).to_numpy(dtype=float)
        + long["migration_background"].map(spec["migration_background"]).to_numpy(dtype=float)
    )


def _family_latents(rng, long):
    shared = _effects(rng, long["family"], 1.0)
    latents, fixed = {}, {}
    for name, spec in _OUTCOMES.items():
        v = spec["variance"]
        loading = spec["shared_family_loading"]
        unique_sd = np.sqrt(v["family"] - loading**2)
        fixed[name] = _family_fixed(long, spec)
        latents[name] = (
            fixed[name]
            + _effects(rng, long["organisation"], np.sqrt(v["organisation"]))
            + _effects(rng, long["team"], np.sqrt(v["team"]))
            + _effects(rng, long["professional"], np.sqrt(v["professional"]))
            + loading * shared
            + _effects(rng, long["family"], unique_sd)
            + rng.normal(0.0, np.sqrt(v["residual"]), size=len(long))
        )
    return pd.DataFrame(latents), pd.DataFrame(fixed)


def _group_factor_scale(model: _ItemModel, group: str) -> float:
    return model.group_sign.get(group, 1) * np.sqrt(model.group_r)


def _centre(model: _ItemModel, group: str) -> float:
    return _SDQ_PROSOCIAL_CENTRE if (model.prefix == "sdq" and group == "prosocial") else model.centre


def _item_loadings(rng) -> dict[str, dict[int, float]]:
    """Loading of every item: the instrument's typical loading +/- up to 0.12.

    Unequal loadings make the items congeneric rather than tau-equivalent, as in real
    questionnaires, so that omega exceeds alpha a little.
    """
    return {
        prefix: {
            i: round(float(np.clip(model.loading + rng.uniform(-0.12, 0.12), 0.35, 0.92)), 3)
            for i in range(1, len(model.items) + 1)
        }
        for prefix, model in _ITEM_MODELS.items()
    }


def _items(rng, latents: pd.DataFrame, prefixes, loadings) -> pd.DataFrame:
    """Item responses from the latent outcomes (raw: reverse-keyed items as ticked)."""
    n = len(latents)
    cols = {}
    for prefix in prefixes:
        model = _ITEM_MODELS[prefix]
        eta = latents[_OUTCOME_OF_INSTRUMENT[prefix]].to_numpy()
        for group, numbers in model.groups.items():
            a = _group_factor_scale(model, group)
            factor = a * eta + np.sqrt(1 - model.group_r) * rng.normal(size=n)
            for i in numbers:
                lam = loadings[prefix][i]
                x = lam * factor + np.sqrt(1 - lam**2) * rng.normal(size=n)
                forward = np.clip(np.rint(_centre(model, group) + model.spread * x), model.low, model.high)
                raw = model.low + model.high - forward if i in model.reverse else forward
                cols[f"{prefix}_{i:02d}"] = raw
    frame = pd.DataFrame(cols)
    order = [c for p in prefixes for c in _ITEM_MODELS[p].items]
    return frame[order]


def _item_missingness(rng, items: pd.DataFrame) -> pd.DataFrame:
    """Item nonresponse: scattered skips plus a few respondents who skip many items."""
    values = items.to_numpy(dtype=float, copy=True)
    careless = rng.random(len(items)) < _ITEM_MISSING["careless_row_probability"]
    p = np.where(careless[:, None], _ITEM_MISSING["careless_row_item_probability"], _ITEM_MISSING["per_item_probability"])
    values[rng.random(values.shape) < p] = np.nan
    return pd.DataFrame(values, columns=items.columns, index=items.index)


def _dropout(rng, long, unit, latent, per_sd, spec) -> np.ndarray:
    """Monotone wave dropout whose hazard depends on the baseline latent (MAR).

    Returns a boolean mask of the rows that are observed.
    """
    base_row = long["wave"].to_numpy() == 0
    unit_col = long[unit]
    baseline = pd.Series(np.asarray(latent)[base_row], index=unit_col[base_row].to_numpy())
    lin = spec["intercept"] + per_sd * baseline.reindex(unit_col).to_numpy()
    if "ses_laag" in spec:
        lin = lin + spec["ses_laag"] * (long["ses"] == "laag").to_numpy()
    drop_now = (rng.random(len(long)) < expit(lin)) & (long["wave"].to_numpy() > 0)
    # once dropped out, a respondent stays out
    dropped = pd.Series(drop_now, index=long.index).groupby(unit_col.to_numpy()).cummax().to_numpy()
    return ~dropped


def _care(rng, long, latents) -> pd.DataFrame:
    out = {}
    difficulties = latents["difficulties"].to_numpy()
    for name, spec in _CARE.items():
        sd = spec["sd"]
        lin = (
            spec["intercept"]
            + spec["time_per_wave"] * long["wave"].to_numpy()
            + long["offer"].to_numpy() * _goal_effect(long, spec["offer_effect_by_goal"])
            + spec.get("per_sd_difficulties", 0.0) * difficulties
            + _effects(rng, long["organisation"], sd["organisation"])
            + _effects(rng, long["team"], sd["team"])
            + _effects(rng, long["professional"], sd["professional"])
            + _effects(rng, long["family"], sd["family"])
        )
        if spec["model"] == "logistic":
            out[name] = (rng.random(len(long)) < expit(lin)).astype(int)
        else:
            shape = spec["dispersion_shape"]
            out[name] = rng.poisson(rng.gamma(shape, np.exp(lin) / shape))
    return pd.DataFrame(out, index=long.index)


def _gas(rng, long) -> pd.DataFrame:
    """Goal attainment (-2..+2) on three goals per family, scored from T1 on."""
    n = len(long)
    fam = _effects(rng, long["family"], _GAS["family_sd"])
    z = (
        _GAS["centre"]
        + _GAS["time_per_wave"] * long["wave"].to_numpy()
        + long["offer"].to_numpy() * _goal_effect(long, _GAS["offer_effect_by_goal"])
        + fam
    )
    cols = {}
    for k in range(1, 4):
        score = np.clip(np.rint(z + rng.normal(0.0, _GAS["goal_sd"], size=n) * _GAS["spread"]), -2, 2)
        score[long["wave"].to_numpy() == 0] = np.nan
        cols[_definition("gas").items[k - 1]] = score
    return pd.DataFrame(cols, index=long.index)


def _activities(rng, pro_long, pros) -> pd.DataFrame:
    propensity = np.exp(
        rng.normal(np.log(_ACTIVITIES["sessions_rate_mean"]), _ACTIVITIES["sessions_rate_log_sd"], size=len(pros))
    )
    rate = pd.Series(propensity, index=pros["professional"].to_numpy()).reindex(pro_long["professional"]).to_numpy()
    active = pro_long["offer"].to_numpy() == 1
    n = len(pro_long)
    frame = pro_long[["goal", "organisation", "team", "professional", "wave"]].copy()
    frame["sessions"] = np.where(active, rng.poisson(rate), 0)
    frame["masterclasses"] = np.where(active, rng.poisson(_ACTIVITIES["masterclass_rate"], size=n), 0)
    frame["workshops"] = np.where(active, rng.poisson(_ACTIVITIES["workshop_rate"], size=n), 0)
    return frame


def _as_int_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number float columns become nullable integers, so files show 2, not 2.0."""
    for col in frame.columns:
        if frame[col].dtype.kind == "f":
            frame[col] = frame[col].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------
# Truth
# --------------------------------------------------------------------------------------
def expected_item_score(model_prefix: str, item: int, mean: np.ndarray, loading: float) -> np.ndarray:
    """Expected raw-forward response of one item when its latent outcome has this mean.

    The latent outcome has conditional variance one around its fixed part, so the item's
    underlying variable is normal with mean ``loading * a * mean`` and variance one.
    """
    model = _ITEM_MODELS[model_prefix]
    group = next(g for g, items in model.groups.items() if item in items)
    shift = loading * _group_factor_scale(model, group) * np.asarray(mean, dtype=float)
    centre = _centre(model, group)
    cats = np.arange(model.low, model.high + 1)
    # category k when centre + spread * x falls in [k - 0.5, k + 0.5), clipped at the ends
    upper = (cats + 0.5 - centre) / model.spread
    cdf = norm.cdf(upper[None, :] - shift[:, None])
    cdf[:, -1] = 1.0
    prob = np.diff(np.concatenate([np.zeros((len(shift), 1)), cdf], axis=1), axis=1)
    return prob @ cats


def _implied_effects(long: pd.DataFrame, fixed: pd.DataFrame, loadings) -> dict:
    """Offer effect on the observed mean item score implied by the model, per goal.

    For the rows that had the offer: the mean over those rows of the expected mean item
    response (after reverse keying) with and without the offer's contribution to the
    latent outcome. This is the average effect on the treated on the scale of the
    instrument's mean item score (multiply by the number of items for a sum score), over
    the rows where the instrument is administered.
    """
    out = {}
    for prefix, outcome in _OUTCOME_OF_INSTRUMENT.items():
        if outcome not in _OUTCOMES:
            continue
        treated = long["offer"].to_numpy() == 1
        if prefix in _AGE_BANDS_OF_INSTRUMENT:
            treated &= long["age_band"].isin(_AGE_BANDS_OF_INSTRUMENT[prefix]).to_numpy()
        spec = _OUTCOMES[outcome]
        model = _ITEM_MODELS[prefix]
        without = long.assign(offer=0)
        m1 = fixed[outcome].to_numpy()
        m0 = _family_fixed(without, spec)
        groups = [g for g in model.groups if not (prefix == "sdq" and g == "prosocial")]
        numbers = [i for g in groups for i in model.groups[g]]
        e1 = np.mean([expected_item_score(prefix, i, m1, loadings[prefix][i]) for i in numbers], axis=0)
        e0 = np.mean([expected_item_score(prefix, i, m0, loadings[prefix][i]) for i in numbers], axis=0)
        diff = pd.Series(e1 - e0)[treated].groupby(long["goal"].to_numpy()[treated]).mean()
        out[prefix] = {
            "scale": "mean item score" + (" of the 20 difficulty items" if prefix == "sdq" else ""),
            "n_items": len(numbers),
            "offer_effect_by_goal": {str(int(g)): round(float(v), 6) for g, v in diff.items()},
        }
    return out


def _truth(seed, orgs, fam_long, fam_fixed, loadings) -> dict:
    return {
        "about": "Generating parameters of the synthetic Lerend Transformeren study. Latent "
        "outcomes are in SD units (variance components sum to one); care-use models are on the "
        "logit (referral, one_plan, one_coordinator) or log (contacts) scale.",
        "seed": int(seed),
        "generator": "lerendtransformeren.synthetic.generate",
        "design": {
            "goals": 5,
            "organisations_per_goal": 3,
            "teams_per_organisation": [3, 5],
            "professionals_per_team": [6, 12],
            "families_per_professional": [3, 8],
            "waves": N_WAVES,
            "months_between_waves": MONTHS_PER_WAVE,
            "stepped_wedge_start_wave": dict(zip(orgs["organisation"], orgs["start_wave"].astype(int).tolist(), strict=True)),
            "offer": "1 from the organisation's start wave on; the offer's effect is immediate and constant",
        },
        "family_outcomes": _OUTCOMES,
        "professional_outcomes": _PRO_OUTCOMES,
        "instrument_of_outcome": {v: k for k, v in _OUTCOME_OF_INSTRUMENT.items()},
        "implied_scale_effects": _implied_effects(
            fam_long.reset_index(drop=True), fam_fixed.reset_index(drop=True), loadings
        ),
        "item_models": {
            k: {
                "instrument": m.instrument,
                "typical_loading": m.loading,
                "item_loadings": {str(i): v for i, v in loadings[k].items()},
                "group_correlation": m.group_r,
                "centre": m.centre,
                "spread": m.spread,
                "reverse_keyed": list(m.reverse),
                "groups": {g: list(v) for g, v in m.groups.items()},
            }
            for k, m in _ITEM_MODELS.items()
        },
        "care_use": _CARE,
        "goal_attainment": _GAS,
        "dropout": _DROPOUT,
        "item_missingness": _ITEM_MISSING,
        "not_administered": {
            "sdq": "age bands zwangerschap, 0-3 and 18-23 (the parent form covers ages 4-17)",
            "kidscreen": "age bands other than 8-11 and 12-17 (self-report for ages 8-18)",
            "gas": "wave 0 (goals are set at intake and scored from T1 on)",
        },
        "activities": _ACTIVITIES,
    }


# --------------------------------------------------------------------------------------
# Codebook
# --------------------------------------------------------------------------------------


def _codebook() -> pd.DataFrame:
    ids = {
        "goal": ("transformatiedoel", "transformation goal", "integer", 1, 5, "goal"),
        "organisation": ("organisatie", "organisation", "id", None, None, "organisation"),
        "team": ("team", "team", "id", None, None, "team"),
        "professional": ("professional", "professional", "id", None, None, "respondent"),
        "family": ("gezin", "family", "id", None, None, "respondent"),
        "wave": ("meetmoment (T0..T3, om de zes maanden)", "wave (T0..T3, six months apart)", "integer", 0, 3, "wave"),
        "offer": ("ondersteuningsaanbod gestart (0 = nee, 1 = ja)", "support offer started (0 = no, 1 = yes)", "binary", 0, 1, "wave"),
    }
    rows = []

    def add(file, var, nl, en, typ, lo=None, hi=None, level="", values="", instrument=""):
        rows.append(
            {
                "file": file,
                "variable": var,
                "label_nl": nl,
                "label_en": en,
                "type": typ,
                "min": lo,
                "max": hi,
                "values": values,
                "missing_codes": "",
                "instrument": instrument,
                "level": level,
            }
        )

    def add_ids(file, names):
        for name in names:
            nl, en, typ, lo, hi, level = ids[name]
            add(file, name, nl, en, typ, lo, hi, level, values="0=nee;1=ja" if typ == "binary" else "")

    add_ids("organisations.csv", ["goal", "organisation"])
    add("organisations.csv", "organisation_type", "type organisatie", "organisation type", "categorical", level="organisation",
        values=";".join(f"{t}={t.replace('_', ' ')}" for t in _ORG_TYPES))
    add("organisations.csv", "region", "regio (fictief)", "region (fictitious)", "categorical", level="organisation",
        values=";".join(f"{r}={r}" for r in _REGIONS))
    add("organisations.csv", "start_wave", "meetmoment waarop het aanbod start", "wave at which the offer starts", "integer", 1, 3, "organisation")

    add_ids("professionals.csv", ["goal", "organisation", "team", "professional", "wave", "offer"])
    add("professionals.csv", "role", "functie", "role", "categorical", level="respondent",
        values="hulpverlener=hulpverlener;gedragswetenschapper=gedragswetenschapper;teamleider=teamleider")
    add("professionals.csv", "experience_years", "werkervaring in jaren", "years of experience", "integer", 0, 40, "respondent")
    for prefix in ("uwes", "burden", "impl", "collab"):
        _add_items(add, "professionals.csv", prefix)

    add_ids("families.csv", ["goal", "organisation", "team", "professional", "family", "wave", "offer"])
    add("families.csv", "age_band", "leeftijdsfase van het kind", "child's age band", "categorical", level="respondent",
        values="zwangerschap=zwangerschap;0-3=0-3 jaar;4-7=4-7 jaar;8-11=8-11 jaar;12-17=12-17 jaar;18-23=18-23 jaar")
    add("families.csv", "migration_background", "migratieachtergrond", "migration background", "categorical", level="respondent",
        values="nl=geen migratieachtergrond;europa=Europees;buiten_europa=buiten Europa")
    add("families.csv", "ses", "sociaaleconomische status", "socio-economic status", "categorical", level="respondent",
        values="laag=laag;midden=midden;hoog=hoog")
    for prefix in ("sdq", "psoc", "mastery", "support", "sdmq", "kidscreen"):
        _add_items(add, "families.csv", prefix)
    add("families.csv", "referral", "verwezen naar gespecialiseerde zorg (afgelopen 6 maanden)",
        "referred to specialised care (past 6 months)", "binary", 0, 1, "wave", values="0=nee;1=ja")
    add("families.csv", "contacts", "aantal contacten (afgelopen 6 maanden)", "number of contacts (past 6 months)",
        "integer", 0, None, "wave")
    add("families.csv", "one_plan", "één gezinsplan (0 = nee, 1 = ja)", "one family plan (0 = no, 1 = yes)",
        "binary", 0, 1, "wave", values="0=nee;1=ja")
    add("families.csv", "one_coordinator", "één regisseur (0 = nee, 1 = ja)", "one coordinator (0 = no, 1 = yes)",
        "binary", 0, 1, "wave", values="0=nee;1=ja")
    _add_items(add, "families.csv", "gas")

    add_ids("activities.csv", ["goal", "organisation", "team", "professional", "wave"])
    add("activities.csv", "sessions", "bijgewoonde leerwerksessies (afgelopen 6 maanden)", "learning sessions attended (past 6 months)", "integer", 0, None, "wave")
    add("activities.csv", "masterclasses", "bijgewoonde masterclasses", "masterclasses attended", "integer", 0, None, "wave")
    add("activities.csv", "workshops", "bijgewoonde workshops", "workshops attended", "integer", 0, None, "wave")
    frame = pd.DataFrame(rows)
    frame["min"] = frame["min"].astype("Int64")
    frame["max"] = frame["max"].astype("Int64")
    return frame


def _add_items(add, file, prefix):
    nl, en = ITEM_SET_LABELS[prefix]
    definition = _definition(prefix)
    for i, item in enumerate(definition.items, start=1):
        add(file, item, f"{nl} {i}", f"{en} {i}", "item", definition.response_min, definition.response_max, "wave",
            instrument=definition.code)


#: The study definition of the synthetic study: the files are already in the contract's
#: layout, so only the paths, the instruments and the codebook need naming. A user's own
#: study adds ``columns``, ``recode`` and ``missing_codes`` (docs/own-study.md).
_STUDY_DEFINITION = """\
# Study definition of the synthetic study (lerendtransformeren generate --seed {seed}).
# Every route to a report reads the data through this file: read -> map -> validate.
# See docs/own-study.md for the keys; a study of your own maps its columns here.
name: Lerend Transformeren (synthetische studie)
version: 1
synthetic: true     # fictitious data: the reports say so
ids: strict         # ids with surrounding spaces are an error (strip: remove and report)
codebook: codebook.csv
files:
  organisations:
    path: organisations.csv
  families:
    path: families.csv
    instruments:    # item columns already carry the instruments' item names
      sdq_parent: same
      psoc: same
      mastery: same
      support: same
      sdmq9: same
      gas: same
      kidscreen10: same
  professionals:
    path: professionals.csv
    instruments:
      uwes9: same
      burden: same
      impl: same
      collab: same
  activities:
    path: activities.csv
"""


def _readme(study: Study) -> str:
    """The README of a generated study directory (English, with the Dutch labels)."""
    fam, pro = study.families, study.professionals
    counts = [
        ("goals", 5),
        ("organisations", len(study.organisations)),
        ("teams", pro["team"].nunique()),
        ("professionals", pro["professional"].nunique()),
        ("families", fam["family"].nunique()),
    ]
    per_wave = fam.groupby("wave").size()
    pro_wave = pro.groupby("wave").size()
    lines = [
        "# Synthetic study: Lerend Transformeren (fictitious)",
        "",
        "These files describe a **fictitious** action-research study. No real person,",
        "family, professional or organisation is in them. They exist so that the notebooks,",
        "reports and tests of `lerendtransformeren` can run on data whose truth is known.",
        "",
        f"Made by `lerendtransformeren.synthetic.generate(seed={study.seed})`. Make them again with",
        "",
        "```",
        f"lerendtransformeren generate --seed {study.seed} --out data/synthetic",
        "```",
        "",
        "The same seed gives byte-identical files (a test checks the bundled copy).",
        "",
        "## Design",
        "Five transformation goals with three organisations each; 3-5 teams per organisation,",
        "6-12 professionals per team, 3-8 families per professional; four waves T0..T3, six",
        "months apart. The support offer (coaching, intervisie, action learning) is rolled out",
        "in a stepped wedge: within each goal one organisation starts at T1, one at T2 and one",
        "at T3 (`organisations.csv`, column `start_wave`; `offer` = 1 from then on).",
        "",
        "| unit | number |",
        "|---|---|",
        *[f"| {name} | {n} |" for name, n in counts],
        "",
        "| wave | families | professionals |",
        "|---|---|---|",
        *[f"| T{w} | {per_wave.get(w, 0)} | {pro_wave.get(w, 0)} |" for w in range(N_WAVES)],
        "",
        "Respondents drop out over the waves; the chance depends on their latent baseline",
        "level. The observed T0 scores measure that level with error, so the dropout is close",
        "to, but not exactly, missing at random: analyses of the observed data can be slightly",
        "biased, as in real studies. Items are skipped now and then, and a few respondents",
        "skip many items.",
        "The SDQ parent form is filled in for children aged 4-17 only, KIDSCREEN-10 by",
        "young people aged 8-17 only, and goal attainment is scored from T1 on.",
        "",
        "## Files",
        "| file | one row per | contents |",
        "|---|---|---|",
        "| `organisations.csv` | organisation | goal, type, region (fictitious), start wave |",
        "| `professionals.csv` | professional x wave | team, role, experience; items of UWES-9, "
        "regulatory burden, implementation, collaboration |",
        "| `families.csv` | family x wave | professional, age band, migration background, SES; items "
        "of SDQ, PSOC, Pearlin mastery, social support, SDM-Q-9, KIDSCREEN-10; referral, contacts, "
        "one plan, one coordinator, goal attainment |",
        "| `activities.csv` | professional x wave | learning sessions, masterclasses, workshops attended |",
        "| `codebook.csv` | variable | labels (nl/en), type, allowed range or codes, instrument |",
        "| `truth.json` | - | every generating parameter, and the offer effects they imply on "
        "the observed scale scores |",
        "",
        "Item responses are raw: reverse-keyed items are as ticked, the scorer applies the keys.",
        "The regulatory-burden, implementation, collaboration and social-support scales are",
        "synthetic scales of this project's own design, not published instruments. For the",
        "published instruments only item numbers are used, never their wording.",
        "",
        "## How the data are made",
        "Each outcome is a latent variable in standard-deviation units with variance at the",
        "organisation, team, professional, family and wave level (see `truth.json`). The offer",
        "shifts it by a goal-specific effect, larger for the goal's own outcomes (for example",
        "parents' mastery in goal 1, parenting competence and child difficulties in goal 2,",
        "shared decision making in goal 4, work engagement and regulatory burden in goal 5),",
        "and somewhat larger for families with a low SES. Items load on the latent variable",
        "and are cut into the response categories, which gives scale reliabilities of about",
        "0.78-0.90. Care use (referral, contacts, one plan, one coordinator) comes from",
        "logistic and negative-binomial multilevel models.",
        "",
    ]
    return "\n".join(lines)
