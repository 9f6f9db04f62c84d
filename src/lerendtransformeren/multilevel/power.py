"""Closed-form design and power planning for nested and stepped-wedge designs.

Fast, exact-formula answers to the planning questions of an action-research study with
respondents nested in teams in organisations (in goals), measured in waves:

* :func:`design_effect` and :func:`effective_sample_size` for two to four (or more)
  nested levels, optionally with unequal cluster sizes (two levels) and repeated
  measures (waves) as an extra lowest level;
* :func:`minimum_detectable_effect`, :func:`power_cluster_trial` and
  :func:`clusters_needed` for a comparison with the treatment assigned at the top level
  (organisations), with t-based degrees of freedom, following Bloom (2006) and the
  PowerUp! formulas (Dong & Maynard 2013);
* :func:`planning_table`, a tidy table over numbers of organisations, teams and
  respondents;
* :func:`stepped_wedge_schedule`, :func:`stepped_wedge_variance` and
  :func:`stepped_wedge_power` for cross-sectional stepped-wedge designs (Hussey & Hughes
  2007, with the cluster-by-period extension of Hooper et al. 2016 and Girling & Hemming
  2016).

Conventions
-----------
Intraclass correlations (ICCs) are *shares of the total variance* of one observation at
each cluster level, so they lie in [0, 1) and sum to less than 1. Sequences of ICCs and of
cluster sizes are ordered **from the lowest cluster level upwards**: for respondents in
teams in organisations, ``icc=(icc_team, icc_organisation)`` and
``cluster_size=(respondents_per_team, teams_per_organisation)``; the number of
organisations (the top level, where treatment is assigned) is given separately as
``n_clusters``. Effects are standardised (Cohen's d on the total individual-level
standard deviation) unless raw variance components are given.

Every specification error raises :class:`~lerendtransformeren.exceptions.SpecificationError`
(a :class:`ValueError`) naming the argument and the fix.

References
----------
Bloom, H. S. (1995). Minimum detectable effects: a simple way to report the statistical
power of experimental designs. *Evaluation Review*, 19(5), 547-556.

Bloom, H. S. (2006). The core analytics of randomized experiments for social research.
MDRC Working Papers on Research Methodology.

Donner, A., & Klar, N. (2000). *Design and Analysis of Cluster Randomization Trials in
Health Research*. London: Arnold.

Dong, N., & Maynard, R. (2013). PowerUp!: a tool for calculating minimum detectable effect
sizes and minimum required sample sizes for experimental and quasi-experimental design
studies. *Journal of Research on Educational Effectiveness*, 6(1), 24-67.

Eldridge, S. M., Ashby, D., & Kerry, S. (2006). Sample size for cluster randomized trials:
effect of coefficient of variation of cluster size and analysis method. *International
Journal of Epidemiology*, 35(5), 1292-1300.

Girling, A. J., & Hemming, K. (2016). Statistical efficiency and optimal design for
stepped cluster studies under linear mixed effects models. *Statistics in Medicine*,
35(13), 2149-2166.

Hedges, L. V., & Rhoads, C. (2010). *Statistical Power Analysis in Education Research*
(NCSER 2010-3006). Washington, DC: National Center for Special Education Research.

Hooper, R., Teerenstra, S., de Hoop, E., & Eldridge, S. (2016). Sample size calculation for
stepped wedge and other longitudinal cluster randomised trials. *Statistics in Medicine*,
35(26), 4718-4728.

Hussey, M. A., & Hughes, J. P. (2007). Design and analysis of stepped wedge cluster
randomized trials. *Contemporary Clinical Trials*, 28(2), 182-191.

Konstantopoulos, S. (2008). The power of the test for treatment effects in three-level
cluster randomized designs. *Journal of Research on Educational Effectiveness*, 1(1),
66-88.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from lerendtransformeren.exceptions import SpecificationError
from lerendtransformeren.multilevel.display import stepped_wedge_view

__all__ = [
    "design_effect",
    "effective_sample_size",
    "minimum_detectable_effect",
    "power_cluster_trial",
    "clusters_needed",
    "planning_table",
    "stepped_wedge_schedule",
    "stepped_wedge_variance",
    "stepped_wedge_power",
    "SteppedWedgePower",
]

_MAX_CLUSTERS = 1_000_000


# ---------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool
    )


def _as_float_tuple(value: Any, name: str) -> tuple[float, ...]:
    """A number or a 1-D sequence of numbers as a tuple of floats."""
    if _is_number(value):
        return (float(value),)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _as_float_tuple(value.item(), name)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(
        value, (Sequence, np.ndarray, pd.Series)
    ):
        raise SpecificationError(
            f"{name} must be a number or a sequence of numbers (lowest cluster level first), "
            f"got {value!r}."
        )
    try:
        arr = np.asarray(value, dtype=float).ravel() if len(value) else np.array([])
    except (TypeError, ValueError) as exc:
        raise SpecificationError(
            f"{name} must contain numbers only (lowest cluster level first), got {value!r}."
        ) from exc
    if arr.size == 0:
        raise SpecificationError(f"{name} is empty; give at least one value.")
    return tuple(float(v) for v in arr)


def _check_finite(values: Sequence[float], name: str) -> None:
    if not all(math.isfinite(v) for v in values):
        raise SpecificationError(f"{name} contains a missing or infinite value: {values!r}.")


def _check_probability(value: Any, name: str) -> float:
    if not _is_number(value) or not (0.0 < float(value) < 1.0):
        raise SpecificationError(
            f"{name} must be a probability strictly between 0 and 1, got {value!r}; "
            f"for example {name}=0.05 for alpha or {name}=0.8 for power."
        )
    return float(value)


def _check_iccs(iccs: Sequence[float], name: str = "icc") -> None:
    _check_finite(iccs, name)
    for i, rho in enumerate(iccs):
        if not (0.0 <= rho < 1.0):
            where = f"{name}[{i}]" if len(iccs) > 1 else name
            raise SpecificationError(
                f"{where} = {rho!r} is outside [0, 1). An ICC is the share of the total variance "
                f"at a level; use a value such as 0.05 (and 0 for a level without clustering)."
            )
    if sum(iccs) >= 1.0:
        raise SpecificationError(
            f"The ICCs in {name} sum to {sum(iccs):.4g} >= 1, which leaves no variance for "
            f"the lowest level. Each ICC is a share of the total variance; the shares must "
            f"sum to less than 1 (e.g. icc=(0.05, 0.10))."
        )


def _check_sizes(sizes: Sequence[float], name: str = "cluster_size") -> None:
    _check_finite(sizes, name)
    for i, m in enumerate(sizes):
        if m < 1.0:
            where = f"{name}[{i}]" if len(sizes) > 1 else name
            raise SpecificationError(
                f"{where} = {m!r} is smaller than 1. A cluster size is the (mean) number of "
                f"units of the level below per unit; give a value >= 1."
            )


def _check_n_clusters(n_clusters: Any, name: str = "n_clusters", minimum: int = 2) -> int:
    if not _is_number(n_clusters) or float(n_clusters) != int(n_clusters):
        raise SpecificationError(f"{name} must be a whole number of units, got {n_clusters!r}.")
    k = int(n_clusters)
    if k < minimum:
        raise SpecificationError(
            f"{name} = {k}: fewer than {minimum} units at the top level. A comparison between "
            f"clusters needs at least {minimum} of them; increase {name}."
        )
    return k


def _levels(
    icc: Any,
    cluster_size: Any,
    *,
    waves: int = 1,
    wave_correlation: float | None = None,
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validated (iccs, sizes), lowest level first, with waves as an extra lowest level."""
    iccs = _as_float_tuple(icc, "icc")
    sizes = _as_float_tuple(cluster_size, "cluster_size")
    if len(iccs) != len(sizes):
        raise SpecificationError(
            f"icc has {len(iccs)} value(s) but cluster_size has {len(sizes)}: give one ICC and "
            f"one cluster size per cluster level, both ordered from the lowest level up, e.g. "
            f"icc=(icc_team, icc_organisation), cluster_size=(respondents_per_team, "
            f"teams_per_organisation)."
        )
    _check_iccs(iccs)
    _check_sizes(sizes)
    if not _is_number(waves) or int(waves) != waves or waves < 1:
        raise SpecificationError(f"waves must be a whole number >= 1, got {waves!r}.")
    waves = int(waves)
    if waves == 1:
        if wave_correlation is not None:
            raise SpecificationError(
                "wave_correlation was given but waves=1; give waves >= 2 for repeated "
                "measures, or drop wave_correlation."
            )
        return iccs, sizes
    if wave_correlation is None:
        raise SpecificationError(
            f"waves={waves} needs wave_correlation: the correlation between two measurements "
            f"of the same respondent (e.g. wave_correlation=0.5)."
        )
    if not _is_number(wave_correlation) or not (0.0 <= wave_correlation < 1.0):
        raise SpecificationError(
            f"wave_correlation must lie in [0, 1), got {wave_correlation!r}; 1 would make the "
            f"waves copies of each other."
        )
    rho_resp = float(wave_correlation) - sum(iccs)
    if rho_resp < -1e-12:
        raise SpecificationError(
            f"wave_correlation = {wave_correlation} is smaller than the sum of the cluster ICCs "
            f"({sum(iccs):.4g}). Two measurements of the same respondent share all cluster "
            f"variance too, so wave_correlation must be at least {sum(iccs):.4g}."
        )
    return (max(rho_resp, 0.0), *iccs), (float(waves), *sizes)


def _deff_nested(iccs: Sequence[float], sizes: Sequence[float]) -> float:
    deff = 1.0
    members = 1.0
    for rho, m in zip(iccs, sizes, strict=True):
        members *= m
        deff += rho * (members - 1.0)
    return deff


# ---------------------------------------------------------------------------------------
# design effect
# ---------------------------------------------------------------------------------------


def design_effect(
    icc: float | Sequence[float],
    cluster_size: float | Sequence[float],
    *,
    cv: float | None = None,
    waves: int = 1,
    wave_correlation: float | None = None,
) -> float:
    r"""Design effect of a nested (clustered) sample.

    The variance of a mean (or of a top-level comparison) from a clustered sample divided
    by its variance under simple random sampling of the same number of observations.

    Parameters
    ----------
    icc : float or sequence of float
        Intraclass correlation(s): the share of the total variance at each cluster level,
        ordered from the lowest cluster level up (e.g. ``(icc_team, icc_organisation)``).
        Each in [0, 1), summing to less than 1.
    cluster_size : float or sequence of float
        Number of units of the level below per unit of each cluster level, same order
        (e.g. ``(respondents_per_team, teams_per_organisation)``); each >= 1. Means are
        allowed (e.g. a mean cluster size of 12.5).
    cv : float, optional
        Coefficient of variation (SD / mean) of the cluster sizes, two-level designs only:
        the correction of Eldridge et al. (2006) for unequal cluster sizes.
    waves : int, default 1
        Repeated measures per respondent, treated as an extra lowest level.
    wave_correlation : float, optional
        Required when ``waves > 1``: the correlation between two measurements of the same
        respondent. It includes the shared cluster variance, so the respondent level's own
        share is ``wave_correlation - sum(icc)``.

    Returns
    -------
    float
        The design effect (>= 1).

    Raises
    ------
    SpecificationError
        ICCs outside [0, 1) or summing to >= 1, cluster sizes < 1, mismatched lengths,
        ``cv`` with more than two levels, a ``wave_correlation`` below the summed ICCs.

    Notes
    -----
    Two levels (Donner & Klar 2000, eq. 2.4; Kish's design effect):

    .. math:: \mathrm{DEFF} = 1 + (m - 1)\rho .

    Unequal cluster sizes with mean :math:`\bar m` and coefficient of variation
    :math:`cv` (Eldridge, Ashby & Kerry 2006, eq. 6):

    .. math:: \mathrm{DEFF} = 1 + \{(cv^2 + 1)\bar m - 1\}\rho .

    More levels (Hedges & Rhoads 2010; Konstantopoulos 2008 for three levels): with
    :math:`\rho_l` the variance share of cluster level :math:`l` and :math:`N_l` the number
    of lowest-level observations in one unit of level :math:`l` (the product of the
    cluster sizes up to and including :math:`l`),

    .. math:: \mathrm{DEFF} = 1 + \sum_l \rho_l (N_l - 1),

    e.g. for respondents in teams in organisations
    :math:`1 + \rho_{team}(m_{resp} - 1) + \rho_{org}(m_{team} m_{resp} - 1)`.
    Waves enter as a lowest level of size ``waves`` with share
    ``wave_correlation - sum(icc)`` at the respondent level.

    R equivalent: the two-level formula (with ``cv``) is the one used by
    ``clusterPower::crtpwr.2mean(..., cv = )``; for more levels there is no single R
    function.

    Examples
    --------
    >>> design_effect(0.05, 20)
    1.95
    >>> design_effect(0.05, 20, cv=0.5)  # unequal cluster sizes
    2.2
    >>> design_effect((0.05, 0.10), (10, 4))  # 1 + .05*9 + .10*39
    5.35
    >>> # 4 waves, respondent share 0.5 - 0.05 = 0.45: 1 + .45*(4-1) + .05*(80-1)
    >>> round(design_effect(0.05, 20, waves=4, wave_correlation=0.5), 4)
    6.3
    """
    iccs, sizes = _levels(icc, cluster_size, waves=waves, wave_correlation=wave_correlation)
    if cv is not None:
        if len(iccs) != 1:
            raise SpecificationError(
                "cv (unequal cluster sizes, Eldridge et al. 2006) is only defined for two "
                "levels; give a single icc and cluster_size, or drop cv and use mean sizes."
            )
        if not _is_number(cv) or not math.isfinite(cv) or cv < 0:
            raise SpecificationError(
                f"cv must be a coefficient of variation >= 0 (SD / mean of the cluster sizes), "
                f"got {cv!r}."
            )
        m = sizes[0]
        return float(1.0 + ((cv**2 + 1.0) * m - 1.0) * iccs[0])
    return float(_deff_nested(iccs, sizes))


def effective_sample_size(
    n_clusters: int,
    icc: float | Sequence[float],
    cluster_size: float | Sequence[float],
    *,
    cv: float | None = None,
    waves: int = 1,
    wave_correlation: float | None = None,
) -> float:
    """Effective sample size ``n / DEFF`` of a nested sample.

    Parameters
    ----------
    n_clusters : int
        Number of units at the top level (e.g. organisations), >= 2.
    icc, cluster_size, cv, waves, wave_correlation
        As in :func:`design_effect`.

    Returns
    -------
    float
        ``n / DEFF`` with ``n = n_clusters * prod(cluster_size) * waves`` observations: the
        number of independent observations carrying the same information about a mean.

    Raises
    ------
    SpecificationError
        As :func:`design_effect`, and fewer than 2 top-level units.

    Notes
    -----
    Donner & Klar (2000), section 2.2. R equivalent: ``n / deff`` by hand (e.g. with the
    design effect of ``clusterPower``).

    Examples
    --------
    >>> round(effective_sample_size(10, 0.05, 20), 2)  # 200 / 1.95
    102.56
    >>> round(effective_sample_size(15, (0.05, 0.10), (10, 4)), 2)  # 600 / 5.35
    112.15
    """
    k = _check_n_clusters(n_clusters)
    deff = design_effect(
        icc, cluster_size, cv=cv, waves=waves, wave_correlation=wave_correlation
    )
    n = k * math.prod(_as_float_tuple(cluster_size, "cluster_size")) * int(waves)
    return float(n / deff)


# ---------------------------------------------------------------------------------------
# cluster-randomised comparison (treatment at the top level)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TrialSpec:
    n_clusters: int
    iccs: tuple[float, ...]
    sizes: tuple[float, ...]
    r2: tuple[float, ...]
    treated_share: float
    covariates: int
    df: int
    variance: float


def _trial_spec(
    n_clusters: Any,
    cluster_size: Any,
    icc: Any,
    *,
    treated_share: float,
    r2: Any,
    covariates: int,
) -> _TrialSpec:
    k = _check_n_clusters(n_clusters)
    iccs, sizes = _levels(icc, cluster_size)
    n_levels = len(iccs) + 1
    if r2 is None:
        r2s: tuple[float, ...] = (0.0,) * n_levels
    else:
        r2s = _as_float_tuple(r2, "r2")
        if len(r2s) != n_levels:
            raise SpecificationError(
                f"r2 has {len(r2s)} value(s) but the design has {n_levels} levels: give one R2 "
                f"per level from the individual level up, e.g. r2=(0.5, 0.0, 0.3) for "
                f"respondents, teams and organisations (0 where there are no covariates)."
            )
        _check_finite(r2s, "r2")
        for i, v in enumerate(r2s):
            if not (0.0 <= v < 1.0):
                raise SpecificationError(
                    f"r2[{i}] = {v!r} is outside [0, 1): an R2 is the share of that level's "
                    f"variance explained by covariates."
                )
    if not _is_number(treated_share) or not (0.0 < treated_share < 1.0):
        raise SpecificationError(
            f"treated_share must lie strictly between 0 and 1 (the share of top-level units "
            f"that receive the treatment), got {treated_share!r}; use 0.5 for a balanced design."
        )
    if not _is_number(covariates) or int(covariates) != covariates or covariates < 0:
        raise SpecificationError(
            f"covariates must be a whole number >= 0 (cluster-level covariates), got "
            f"{covariates!r}."
        )
    g = int(covariates)
    df = k - g - 2
    if df < 1:
        raise SpecificationError(
            f"n_clusters = {k} with covariates = {g} leaves df = n_clusters - covariates - 2 = "
            f"{df}: the comparison has no degrees of freedom. Use at least {g + 3} clusters or "
            f"fewer cluster-level covariates."
        )
    p = float(treated_share)
    shares = (1.0 - sum(iccs), *iccs)  # individual level first
    # number of units at each level: level 1 = k * prod(all sizes), top = k
    variance = 0.0
    for lev, (share, r2v) in enumerate(zip(shares, r2s, strict=True)):
        units = k * math.prod(sizes[lev:])
        variance += share * (1.0 - r2v) / (p * (1.0 - p) * units)
    return _TrialSpec(k, iccs, sizes, r2s, p, g, df, variance)


def _multiplier(df: float, alpha: float, power: float, two_sided: bool) -> float:
    q = 1.0 - alpha / 2.0 if two_sided else 1.0 - alpha
    return float(stats.t.ppf(q, df) + stats.t.ppf(power, df))


def _nct_power(effect: float, se: float, df: float, alpha: float, two_sided: bool) -> float:
    lam = effect / se
    if two_sided:
        crit = stats.t.ppf(1.0 - alpha / 2.0, df)
        # P(T < -crit | lam) = P(T > crit | -lam); scipy's nct.cdf gives NaN far in the tail
        return float(stats.nct.sf(crit, df, lam) + stats.nct.sf(crit, df, -lam))
    crit = stats.t.ppf(1.0 - alpha, df)
    return float(stats.nct.sf(crit, df, lam))


def minimum_detectable_effect(
    n_clusters: int,
    cluster_size: float | Sequence[float],
    icc: float | Sequence[float],
    *,
    power: float = 0.8,
    alpha: float = 0.05,
    two_sided: bool = True,
    treated_share: float = 0.5,
    r2: Sequence[float] | None = None,
    covariates: int = 0,
) -> float:
    r"""Minimum detectable effect size of a comparison randomised at the top level.

    Treatment is assigned to whole top-level units (e.g. organisations); the analysis is
    a multilevel model (or a t-test on cluster means) with
    ``df = n_clusters - covariates - 2``.

    Parameters
    ----------
    n_clusters : int
        Number of top-level units (J in a two-level, K in a three-level design).
    cluster_size : float or sequence of float
        Units of the level below per unit, lowest level first, e.g.
        ``(respondents_per_team, teams_per_organisation)``; means (ideally harmonic
        means) for unequal sizes.
    icc : float or sequence of float
        Variance shares of the cluster levels, same order.
    power : float, default 0.8
        Target power, in (0, 1).
    alpha : float, default 0.05
        Type I error rate, in (0, 1).
    two_sided : bool, default True
        Two-sided test.
    treated_share : float, default 0.5
        Share P of the top-level units that are treated.
    r2 : sequence of float, optional
        Variance share explained by covariates at each level, from the individual level
        up (length ``len(icc) + 1``); default no covariates.
    covariates : int, default 0
        Number of top-level covariates (each costs one degree of freedom).

    Returns
    -------
    float
        The MDES in standard deviations of the outcome (total variance).

    Raises
    ------
    SpecificationError
        Invalid ICCs, sizes, R2, probabilities, or fewer than ``covariates + 3`` clusters.

    Notes
    -----
    Bloom (1995, 2006); Dong & Maynard (2013), models CRA2_2r and CRA3_3r:

    .. math:: \mathrm{MDES} = M_{df}\sqrt{\operatorname{Var}(\hat\delta)}, \quad
              M_{df} = t_{1-\alpha/2,\,df} + t_{1-\beta,\,df},\quad df = J - g - 2,

    with for two levels (n individuals per cluster, J clusters)

    .. math:: \operatorname{Var}(\hat\delta) = \frac{\rho(1-R^2_2)}{P(1-P)J}
              + \frac{(1-\rho)(1-R^2_1)}{P(1-P)Jn}

    and for three levels (n per team, J teams per organisation, K organisations)

    .. math:: \operatorname{Var}(\hat\delta) = \frac{\rho_3(1-R^2_3)}{P(1-P)K}
              + \frac{\rho_2(1-R^2_2)}{P(1-P)KJ}
              + \frac{(1-\rho_2-\rho_3)(1-R^2_1)}{P(1-P)KJn}

    (Konstantopoulos 2008; Hedges & Rhoads 2010); more levels follow the same pattern. For
    a one-sided test :math:`t_{1-\alpha}` replaces :math:`t_{1-\alpha/2}`. The MDES uses
    the usual approximation of the noncentral t by a shifted central t, so
    :func:`power_cluster_trial` at the MDES is close to, not exactly, ``power``.

    R equivalent: ``PowerUpR::mdes.cra2r2(rho2=, n=, J=, r21=, r22=, g2=, p=)`` and
    ``PowerUpR::mdes.cra3r3(...)``.

    Examples
    --------
    Two levels, 20 clusters of 20, ICC 0.10 (R, same formula:
    ``PowerUpR::mdes.cra2r2(rho2 = .10, n = 20, J = 20)``):

    >>> round(minimum_detectable_effect(20, 20, 0.10), 3)
    0.505

    Three levels: 15 organisations, 4 teams each, 10 respondents per team (R:
    ``PowerUpR::mdes.cra3r3(rho2 = .05, rho3 = .10, n = 10, J = 4, K = 15)``):

    >>> round(minimum_detectable_effect(15, (10, 4), (0.05, 0.10)), 3)
    0.572
    """
    alpha = _check_probability(alpha, "alpha")
    power = _check_probability(power, "power")
    spec = _trial_spec(
        n_clusters, cluster_size, icc, treated_share=treated_share, r2=r2, covariates=covariates
    )
    return _multiplier(spec.df, alpha, power, two_sided) * math.sqrt(spec.variance)


def power_cluster_trial(
    effect: float,
    n_clusters: int,
    cluster_size: float | Sequence[float],
    icc: float | Sequence[float],
    *,
    alpha: float = 0.05,
    two_sided: bool = True,
    treated_share: float = 0.5,
    r2: Sequence[float] | None = None,
    covariates: int = 0,
) -> float:
    r"""Power of a comparison randomised at the top level, from the noncentral t.

    Parameters
    ----------
    effect : float
        Standardised effect (SD units of the total variance); for a one-sided test a
        positive effect is in the tested direction.
    n_clusters, cluster_size, icc, alpha, two_sided, treated_share, r2, covariates
        As in :func:`minimum_detectable_effect`.

    Returns
    -------
    float
        The probability of rejecting H0 at level ``alpha``.

    Raises
    ------
    SpecificationError
        As :func:`minimum_detectable_effect`.

    Notes
    -----
    With :math:`\lambda = \delta / \sqrt{\operatorname{Var}(\hat\delta)}` (variance as in
    :func:`minimum_detectable_effect`) and :math:`df = J - g - 2`,

    .. math:: 1-\beta = P(T_{df,\lambda} > t_{1-\alpha/2,df})
              + P(T_{df,\lambda} < -t_{1-\alpha/2,df}),

    :math:`T_{df,\lambda}` noncentral t (Hedges & Rhoads 2010). For a balanced design with
    equal cluster sizes and no covariates this is the exact power of the t-test on cluster
    means.

    R equivalent: ``PowerUpR::power.cra2r2(es=, rho2=, n=, J=)``,
    ``PowerUpR::power.cra3r3(...)``.

    Examples
    --------
    >>> round(power_cluster_trial(0.5, 20, 20, 0.10), 3)
    0.793
    >>> round(power_cluster_trial(0.3, 15, (10, 4), (0.05, 0.10)), 3)
    0.313
    """
    alpha = _check_probability(alpha, "alpha")
    if not _is_number(effect) or not math.isfinite(effect):
        raise SpecificationError(f"effect must be a finite number, got {effect!r}.")
    spec = _trial_spec(
        n_clusters, cluster_size, icc, treated_share=treated_share, r2=r2, covariates=covariates
    )
    return _nct_power(float(effect), math.sqrt(spec.variance), spec.df, alpha, two_sided)


def clusters_needed(
    effect: float,
    power: float = 0.8,
    *,
    cluster_size: float | Sequence[float],
    icc: float | Sequence[float],
    alpha: float = 0.05,
    two_sided: bool = True,
    treated_share: float = 0.5,
    r2: Sequence[float] | None = None,
    covariates: int = 0,
) -> int:
    """Smallest number of top-level units giving at least the target power.

    Parameters
    ----------
    effect : float
        Standardised effect to detect (non-zero).
    power : float, default 0.8
        Target power, in (0, 1).
    cluster_size, icc, alpha, two_sided, treated_share, r2, covariates
        As in :func:`minimum_detectable_effect`.

    Returns
    -------
    int
        The smallest ``n_clusters`` (at least ``covariates + 3``) for which
        :func:`power_cluster_trial` reaches ``power``. With ``treated_share=0.5`` round up
        to an even number for an exactly balanced design.

    Raises
    ------
    SpecificationError
        As :func:`minimum_detectable_effect`; a zero effect; more than 1,000,000 clusters
        needed.

    Notes
    -----
    Power increases with the number of clusters (larger noncentrality and more df), so a
    bisection on the noncentral-t power is exact. ``PowerUpR::mrss.cra2r2`` iterates on the
    MDES multiplier instead and can differ by one cluster.

    R equivalent: ``PowerUpR::mrss.cra2r2(es=, rho2=, n=)``, ``PowerUpR::mrss.cra3r3(...)``.

    Examples
    --------
    >>> clusters_needed(0.5, cluster_size=20, icc=0.10)
    21
    >>> clusters_needed(0.3, cluster_size=(10, 4), icc=(0.05, 0.10))
    49
    """
    power = _check_probability(power, "power")
    if not _is_number(effect) or not math.isfinite(effect) or effect == 0:
        raise SpecificationError(
            f"effect must be a non-zero finite number to find a number of clusters, got "
            f"{effect!r}."
        )

    def pw(k: int) -> float:
        return power_cluster_trial(
            effect,
            k,
            cluster_size,
            icc,
            alpha=alpha,
            two_sided=two_sided,
            treated_share=treated_share,
            r2=r2,
            covariates=covariates,
        )

    if not _is_number(covariates) or int(covariates) != covariates or covariates < 0:
        raise SpecificationError(f"covariates must be a whole number >= 0, got {covariates!r}.")
    lo = int(covariates) + 3
    if pw(lo) >= power:
        return lo
    hi = lo
    while pw(hi) < power:
        lo = hi
        hi *= 2
        if hi > _MAX_CLUSTERS:
            raise SpecificationError(
                f"More than {_MAX_CLUSTERS:,} clusters would be needed for effect={effect} "
                f"with power={power}; the effect is too small for this design (check icc and "
                f"effect)."
            )
    while hi - lo > 1:  # pw(lo) < power <= pw(hi)
        mid = (lo + hi) // 2
        if pw(mid) >= power:
            hi = mid
        else:
            lo = mid
    return hi


# ---------------------------------------------------------------------------------------
# planning table
# ---------------------------------------------------------------------------------------


def _grid(values: Any, name: str) -> list[int]:
    vals = [values] if _is_number(values) else list(values)
    if not vals:
        raise SpecificationError(f"{name} is empty; give at least one number.")
    out = []
    for v in vals:
        if not _is_number(v) or float(v) != int(v):
            raise SpecificationError(f"{name} must contain whole numbers, got {v!r}.")
        out.append(int(v))
    return out


def planning_table(
    organisations: Sequence[int] = (3, 5, 8, 15, 24),
    teams: Sequence[int] = (1, 2, 4),
    respondents: Sequence[int] = (10, 20),
    *,
    icc: float | Sequence[float] | Mapping[str, float] = (0.05, 0.10),
    effect: float | Sequence[float] = 0.3,
    power: float = 0.8,
    alpha: float = 0.05,
    two_sided: bool = True,
    treated_share: float = 0.5,
    r2: Sequence[float] | None = None,
    covariates: int = 0,
) -> pd.DataFrame:
    """Design effect, effective n, MDES and power over a grid of design sizes.

    Three levels: respondents in teams in organisations, treatment assigned to
    organisations (see :func:`minimum_detectable_effect`).

    Parameters
    ----------
    organisations : sequence of int
        Numbers of organisations (top level) to tabulate, each >= 2.
    teams : sequence of int
        Teams per organisation.
    respondents : sequence of int
        Respondents per team.
    icc : float, (icc_team, icc_organisation) or mapping
        Variance shares; a mapping with keys ``"team"`` and ``"organisation"`` (missing
        keys are 0); a single number is the organisation ICC with no team clustering.
    effect : float or sequence of float
        Standardised effect(s) for the power column; one row per effect.
    power : float, default 0.8
        Target power for the MDES column.
    alpha, two_sided, treated_share, r2, covariates
        As in :func:`minimum_detectable_effect`; ``r2`` is
        ``(respondent, team, organisation)``.

    Returns
    -------
    pandas.DataFrame
        One row per (organisations, teams, respondents, effect) with columns
        ``organisations, teams, respondents, n, deff, n_effective, df, mdes, effect,
        power``. ``n`` is the total number of respondents, ``df = organisations -
        covariates - 2``; ``mdes`` and ``power`` are NaN where ``df < 1``.

    Raises
    ------
    SpecificationError
        Invalid grid values, ICCs, probabilities or R2.

    Notes
    -----
    R equivalent: a loop over ``PowerUpR::mdes.cra3r3`` and ``PowerUpR::power.cra3r3``.

    Examples
    --------
    >>> tab = planning_table([3, 15], [4], [10], icc=(0.05, 0.10), effect=0.3)
    >>> tab[["organisations", "n", "deff", "df", "mdes", "power"]].round(3)
       organisations    n  deff  df   mdes  power
    0              3  120  5.35   1  5.947  0.062
    1             15  600  5.35  13  0.572  0.313
    """
    orgs = _grid(organisations, "organisations")
    tms = _grid(teams, "teams")
    resp = _grid(respondents, "respondents")
    for o in orgs:
        _check_n_clusters(o, "organisations")
    _check_sizes(tms, "teams")
    _check_sizes(resp, "respondents")
    if isinstance(icc, Mapping):
        unknown = set(icc) - {"team", "organisation"}
        if unknown:
            raise SpecificationError(
                f"icc has unknown key(s) {sorted(unknown)}; use 'team' and 'organisation'."
            )
        iccs = (float(icc.get("team", 0.0)), float(icc.get("organisation", 0.0)))
    elif _is_number(icc):
        iccs = (0.0, float(icc))
    else:
        iccs = _as_float_tuple(icc, "icc")
        if len(iccs) != 2:
            raise SpecificationError(
                f"icc must be (icc_team, icc_organisation) for the planning table, got "
                f"{len(iccs)} value(s)."
            )
    _check_iccs(iccs)
    effects = _as_float_tuple(effect, "effect")
    _check_finite(effects, "effect")
    power = _check_probability(power, "power")
    alpha = _check_probability(alpha, "alpha")
    if not _is_number(covariates) or int(covariates) != covariates or covariates < 0:
        raise SpecificationError(f"covariates must be a whole number >= 0, got {covariates!r}.")
    # validate treated_share and r2 once, also when no grid point has df >= 1
    _trial_spec(
        int(covariates) + 3,
        (resp[0], tms[0]),
        iccs,
        treated_share=treated_share,
        r2=r2,
        covariates=covariates,
    )

    rows = []
    for o, t, r in product(orgs, tms, resp):
        deff = _deff_nested(iccs, (r, t))
        n = o * t * r
        df = o - int(covariates) - 2
        if df >= 1:
            spec = _trial_spec(
                o, (r, t), iccs, treated_share=treated_share, r2=r2, covariates=covariates
            )
            se = math.sqrt(spec.variance)
            mdes = _multiplier(df, alpha, power, two_sided) * se
        for eff in effects:
            pw = _nct_power(eff, se, df, alpha, two_sided) if df >= 1 else math.nan
            rows.append(
                {
                    "organisations": o,
                    "teams": t,
                    "respondents": r,
                    "n": n,
                    "deff": deff,
                    "n_effective": n / deff,
                    "df": df,
                    "mdes": mdes if df >= 1 else math.nan,
                    "effect": eff,
                    "power": pw,
                }
            )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# stepped wedge
# ---------------------------------------------------------------------------------------


def stepped_wedge_schedule(start_wave: Sequence[int], waves: int) -> np.ndarray:
    """Treatment schedule (clusters x waves, 0/1) from each cluster's start wave.

    Parameters
    ----------
    start_wave : sequence of int
        Per cluster, the first wave (numbered from 0) in which it is treated; ``waves``
        means the cluster is not treated during the study.
    waves : int
        Number of waves (periods), >= 2.

    Returns
    -------
    numpy.ndarray
        Integer array of shape ``(len(start_wave), waves)``, 1 from the start wave on.

    Raises
    ------
    SpecificationError
        Fewer than 2 waves or clusters, a start wave below 0 or beyond ``waves``.

    Notes
    -----
    R equivalent: ``swCRTdesign::swDsn(clusters = c(...))`` (which counts clusters per
    step instead of start waves).

    Examples
    --------
    Our design: 15 organisations, 4 waves (T0..T3), within each goal one organisation
    starts at T1, one at T2, one at T3:

    >>> X = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    >>> X[:3]
    array([[0, 1, 1, 1],
           [0, 0, 1, 1],
           [0, 0, 0, 1]])
    """
    if not _is_number(waves) or int(waves) != waves or waves < 2:
        raise SpecificationError(
            f"waves must be a whole number >= 2 (a stepped wedge needs periods before and "
            f"after a switch), got {waves!r}."
        )
    waves = int(waves)
    starts = np.asarray(start_wave)
    if starts.ndim != 1 or starts.size < 2:
        raise SpecificationError(
            "start_wave must be a 1-D sequence with one start wave per cluster, for at least "
            "2 clusters."
        )
    if not np.issubdtype(starts.dtype, np.number) or np.any(starts != np.round(starts)):
        raise SpecificationError(f"start_wave must contain whole wave numbers, got {starts!r}.")
    bad = np.flatnonzero((starts < 0) | (starts > waves))
    if bad.size:
        i = int(bad[0])
        raise SpecificationError(
            f"start_wave[{i}] = {int(starts[i])} lies outside the {waves} waves (numbered 0.."
            f"{waves - 1}; {waves} means never treated): the schedule is longer than the waves. "
            f"Increase waves or correct the start wave."
        )
    return (np.arange(waves)[None, :] >= starts[:, None]).astype(int)


def _as_schedule(schedule: Any, waves: int | None) -> np.ndarray:
    arr = np.asarray(schedule)
    if arr.ndim == 1:
        if waves is None:
            raise SpecificationError(
                "schedule is 1-D (start waves per cluster); give waves= as well, or pass a "
                "clusters x periods 0/1 matrix."
            )
        return stepped_wedge_schedule(arr, waves).astype(float)
    if arr.ndim != 2:
        raise SpecificationError(
            f"schedule must be a clusters x periods 0/1 matrix (or start waves per cluster), "
            f"got an array with {arr.ndim} dimensions."
        )
    try:
        x = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise SpecificationError("schedule must contain only 0 and 1.") from exc
    if not np.all(np.isin(x, (0.0, 1.0))):
        raise SpecificationError(
            "schedule must contain only 0 (control) and 1 (treated), without missing values."
        )
    n_clusters, periods = x.shape
    if waves is not None:
        if not _is_number(waves) or int(waves) != waves or waves < 2:
            raise SpecificationError(f"waves must be a whole number >= 2, got {waves!r}.")
        if periods > waves:
            raise SpecificationError(
                f"schedule has {periods} periods but the study has waves={waves}: the schedule "
                f"is longer than the waves. Drop the extra columns or increase waves."
            )
    if n_clusters < 2:
        raise SpecificationError(
            f"schedule has {n_clusters} cluster(s): fewer than 2 units at the cluster level. "
            f"Add clusters (rows)."
        )
    if periods < 2:
        raise SpecificationError(
            f"schedule has {periods} period(s); a stepped wedge needs at least 2 periods "
            f"(columns)."
        )
    off = np.flatnonzero(np.any(np.diff(x, axis=1) < 0, axis=1))
    if off.size:
        i = int(off[0])
        raise SpecificationError(
            f"schedule row {i} ({x[i].astype(int).tolist()}) switches the treatment off again; "
            f"a stepped wedge cannot switch off. Make every row 0...0 1...1 (monotone)."
        )
    return x


def _sw_components(
    *,
    icc: float | None,
    cac: float,
    tau2: float | None,
    sigma2: float | None,
    gamma2: float | None,
) -> tuple[float, float, float]:
    """(tau2, gamma2, sigma2) from either icc/cac or variance components."""
    if icc is not None:
        if tau2 is not None or sigma2 is not None or gamma2 is not None:
            raise SpecificationError(
                "Give either icc (with cac) or the variance components tau2, sigma2 "
                "(and gamma2), not both."
            )
        _check_iccs([icc])
        if not _is_number(cac) or not (0.0 <= cac <= 1.0):
            raise SpecificationError(
                f"cac (cluster autocorrelation) must lie in [0, 1], got {cac!r}; 1 means no "
                f"cluster-by-period variation (the Hussey & Hughes model)."
            )
        return float(icc) * float(cac), float(icc) * (1.0 - float(cac)), 1.0 - float(icc)
    if tau2 is None or sigma2 is None:
        raise SpecificationError(
            "Give the variance parameters: either icc= (standardised, total variance 1; with "
            "cac= for a cluster-by-period effect) or tau2= and sigma2= (and gamma2=)."
        )
    if cac != 1.0:
        raise SpecificationError(
            "cac is only used with icc=; with variance components give gamma2= for the "
            "cluster-by-period variance."
        )
    g2 = 0.0 if gamma2 is None else gamma2
    for name, v in (("tau2", tau2), ("sigma2", sigma2), ("gamma2", g2)):
        if not _is_number(v) or not math.isfinite(v):
            raise SpecificationError(f"{name} must be a finite number, got {v!r}.")
        if v < 0:
            raise SpecificationError(
                f"{name} = {v!r} is negative; a variance cannot be negative. Give {name} >= 0."
            )
    if sigma2 == 0 and g2 == 0:
        raise SpecificationError(
            "sigma2 and gamma2 are both 0: the cluster-period means would have no residual "
            "variance. Give sigma2 > 0."
        )
    return float(tau2), float(g2), float(sigma2)


def _hh_variance(x: np.ndarray, tau2: float, sigma_c2: float) -> float:
    n_clusters, periods = x.shape
    u = x.sum()
    w = float(np.sum(x.sum(axis=0) ** 2))
    v = float(np.sum(x.sum(axis=1) ** 2))
    i, t = float(n_clusters), float(periods)
    denom = (i * u - w) * sigma_c2 + (u**2 + i * t * u - t * w - i * v) * tau2
    scale = max(i * u, u**2 + i * t * u, 1.0) * max(sigma_c2, tau2)
    if denom <= 1e-10 * scale:
        row_sums = x.sum(axis=1)
        if np.all(row_sums == 0):
            why = "no cluster is ever treated"
        elif np.all(row_sums == periods):
            why = "every cluster is treated in every period, so there is no control information"
        elif np.all(x == x[0]):
            why = (
                "every cluster follows the same schedule, so the treatment is confounded with "
                "the period effects"
            )
        else:
            why = "the treatment is confounded with the period effects"
        raise SpecificationError(
            f"The treatment effect is not estimable from this schedule: {why}. Let clusters "
            f"start at different waves (and keep some control periods)."
        )
    return float(i * sigma_c2 * (sigma_c2 + t * tau2) / denom)


def stepped_wedge_variance(
    schedule: Any,
    m: float,
    *,
    icc: float | None = None,
    cac: float = 1.0,
    tau2: float | None = None,
    sigma2: float | None = None,
    gamma2: float | None = None,
    waves: int | None = None,
) -> float:
    r"""Variance of the treatment effect in a cross-sectional stepped wedge (closed form).

    Parameters
    ----------
    schedule : array_like
        Clusters x periods matrix of 0 (control) and 1 (treated), monotone in each row;
        or a 1-D sequence of start waves per cluster together with ``waves``.
    m : float
        Individuals measured per cluster per period (>= 1).
    icc : float, optional
        Standardised specification (total variance 1): the ICC, the share of the
        variance between clusters within a period.
    cac : float, default 1.0
        With ``icc``: the cluster autocorrelation, the share of the between-cluster
        variance that is constant over periods. ``cac=1`` is the Hussey & Hughes model;
        ``cac<1`` adds a cluster-by-period random effect (Hooper et al. 2016).
    tau2, sigma2, gamma2 : float, optional
        Raw specification instead of ``icc``: cluster random-intercept variance,
        individual residual variance, cluster-by-period variance (default 0).
    waves : int, optional
        Number of waves in the study; a schedule with more periods is an error.

    Returns
    -------
    float
        :math:`\operatorname{Var}(\hat\theta)` of the GLS (= REML with known variances)
        estimator with fixed period effects.

    Raises
    ------
    SpecificationError
        Non-0/1 or non-monotone schedule, fewer than 2 clusters or periods, more periods
        than ``waves``, an inestimable effect (all clusters never or always treated, or on
        the same schedule), invalid variances or ``m < 1``.

    Notes
    -----
    Model for the mean of cluster *i* in period *j*:
    :math:`\bar y_{ij} = \mu + \beta_j + X_{ij}\theta + \alpha_i + \gamma_{ij}
    + \bar e_{ij}`, with :math:`\operatorname{Var}(\alpha_i)=\tau^2`,
    :math:`\operatorname{Var}(\gamma_{ij})=\gamma^2`,
    :math:`\operatorname{Var}(\bar e_{ij}) = \sigma^2/m`. Hussey & Hughes (2007, eq. 8)
    with :math:`\sigma_c^2 = \sigma^2/m + \gamma^2` (the cluster-period effect acts as
    extra residual at the cluster-period level; Hooper et al. 2016, Girling & Hemming
    2016):

    .. math:: \operatorname{Var}(\hat\theta) = \frac{I\sigma_c^2(\sigma_c^2 + T\tau^2)}
              {(IU - W)\sigma_c^2 + (U^2 + ITU - TW - IV)\tau^2},

    :math:`U = \sum_{ij} X_{ij}`, :math:`W = \sum_j (\sum_i X_{ij})^2`,
    :math:`V = \sum_i (\sum_j X_{ij})^2`. With ``icc`` and ``cac``:
    :math:`\tau^2 = \rho\,r`, :math:`\gamma^2 = \rho(1-r)`, :math:`\sigma^2 = 1-\rho`.

    R equivalent: ``swCRTdesign::swPwr(design, distn = "gaussian", n = m, mu0, mu1,
    tau = sqrt(tau2), eta = 0, gamma = sqrt(gamma2), sigma = sqrt(sigma2))``.

    Examples
    --------
    >>> X = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    >>> round(stepped_wedge_variance(X, 10, icc=0.10), 5)
    0.01946
    >>> round(stepped_wedge_variance(X, 10, tau2=0.1, sigma2=0.9), 5)  # the same
    0.01946
    >>> round(stepped_wedge_variance(X, 10, icc=0.10, cac=0.6), 5)  # cluster-period effect
    0.02577
    """
    x = _as_schedule(schedule, waves)
    if not _is_number(m) or not math.isfinite(m) or m < 1:
        raise SpecificationError(
            f"m = {m!r}: the number measured per cluster per period must be >= 1."
        )
    t2, g2, s2 = _sw_components(icc=icc, cac=cac, tau2=tau2, sigma2=sigma2, gamma2=gamma2)
    return _hh_variance(x, t2, s2 / float(m) + g2)


@dataclass(frozen=True)
class SteppedWedgePower:
    """Power of a cross-sectional stepped wedge, by the normal and by the t distribution.

    Attributes
    ----------
    effect : float
        The effect the power refers to (standardised if ``icc`` was given).
    variance, se : float
        Variance and standard error of the treatment-effect estimate.
    clusters, periods : int
        Size of the schedule.
    m : float
        Individuals per cluster per period.
    alpha, target_power : float
        Type I error rate and the power the MDES refers to.
    df : int
        ``clusters - 2``, the degrees of freedom of the t-based version.
    power_normal, power_t : float
        Two-sided power from the normal (as Hussey & Hughes 2007) and from the noncentral
        t with ``df`` (NaN when ``df < 1``).
    mdes_normal, mdes_t : float
        Minimum detectable effect at ``target_power`` by each distribution.
    schedule : numpy.ndarray
        The schedule used.
    """

    effect: float
    variance: float
    se: float
    clusters: int
    periods: int
    m: float
    alpha: float
    target_power: float
    df: int
    power_normal: float
    power_t: float
    mdes_normal: float
    mdes_t: float
    schedule: np.ndarray = field(repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per distribution, the method stated in ``distribution``."""
        return pd.DataFrame(
            {
                "distribution": [
                    "normal (Hussey & Hughes 2007)",
                    f"t (df = clusters - 2 = {self.df})",
                ],
                "df": [math.inf, self.df],
                "effect": [self.effect, self.effect],
                "se": [self.se, self.se],
                "power": [self.power_normal, self.power_t],
                "mdes": [self.mdes_normal, self.mdes_t],
            }
        )

    def __str__(self) -> str:
        return (
            f"Stepped wedge, {self.clusters} clusters x {self.periods} periods, m = {self.m:g} "
            f"per cluster-period: SE = {self.se:.4f}; power for effect {self.effect:g} at "
            f"alpha = {self.alpha:g}: {self.power_normal:.3f} (normal, Hussey & Hughes 2007), "
            f"{self.power_t:.3f} (t, df = {self.df}); MDES at power {self.target_power:g}: "
            f"{self.mdes_normal:.3f} (normal), {self.mdes_t:.3f} (t)."
        )

    def __repr__(self) -> str:
        return stepped_wedge_view(self).text()

    def _repr_html_(self) -> str:
        return stepped_wedge_view(self).html()


def stepped_wedge_power(
    effect: float,
    schedule: Any,
    m: float,
    *,
    icc: float | None = None,
    cac: float = 1.0,
    tau2: float | None = None,
    sigma2: float | None = None,
    gamma2: float | None = None,
    waves: int | None = None,
    alpha: float = 0.05,
    target_power: float = 0.8,
) -> SteppedWedgePower:
    r"""Power and MDES of a cross-sectional stepped wedge, normal and t-based.

    Parameters
    ----------
    effect : float
        Treatment effect (standardised if ``icc`` is given, raw otherwise).
    schedule, m, icc, cac, tau2, sigma2, gamma2, waves
        As in :func:`stepped_wedge_variance`.
    alpha : float, default 0.05
        Two-sided type I error rate.
    target_power : float, default 0.8
        Power for the MDES fields.

    Returns
    -------
    SteppedWedgePower
        Variance, SE, both powers and both MDES; ``.to_frame()`` gives a table stating the
        distribution of each row.

    Raises
    ------
    SpecificationError
        As :func:`stepped_wedge_variance`; ``alpha`` or ``target_power`` outside (0, 1).

    Notes
    -----
    Normal (Hussey & Hughes 2007, eq. 9), with :math:`\lambda = \theta/\mathrm{SE}`:
    :math:`\Phi(|\lambda| - z_{1-\alpha/2}) + \Phi(-|\lambda| - z_{1-\alpha/2})`; Hussey &
    Hughes keep only the first term (the second is below :math:`\alpha/2` and negligible
    at useful power). The normal ignores that the variances are estimated from few
    clusters and is optimistic for small *I*; the t-based version uses the noncentral t
    with :math:`df = I - 2` (two-sided), a common small-sample choice (e.g. Hemming et al.
    2020). MDES: :math:`(z_{1-\alpha/2} + z_{1-\beta})\,\mathrm{SE}` and
    :math:`(t_{1-\alpha/2,df} + t_{1-\beta,df})\,\mathrm{SE}`.

    R equivalent: ``swCRTdesign::swPwr`` (normal; its ``retDATA`` output includes the
    variance).

    Examples
    --------
    >>> X = stepped_wedge_schedule([1, 2, 3] * 5, waves=4)
    >>> res = stepped_wedge_power(0.3, X, 10, icc=0.10)
    >>> round(res.power_normal, 3), round(res.power_t, 3), res.df
    (0.576, 0.512, 13)
    >>> res.to_frame()[["distribution", "power"]].round(3)
                         distribution  power
    0  normal (Hussey & Hughes 2007)  0.576
    1     t (df = clusters - 2 = 13)  0.512
    """
    alpha = _check_probability(alpha, "alpha")
    target_power = _check_probability(target_power, "target_power")
    if not _is_number(effect) or not math.isfinite(effect):
        raise SpecificationError(f"effect must be a finite number, got {effect!r}.")
    x = _as_schedule(schedule, waves)
    var = stepped_wedge_variance(
        x, m, icc=icc, cac=cac, tau2=tau2, sigma2=sigma2, gamma2=gamma2
    )
    se = math.sqrt(var)
    lam = abs(float(effect)) / se
    z = stats.norm.ppf(1.0 - alpha / 2.0)
    power_normal = float(stats.norm.cdf(lam - z) + stats.norm.cdf(-lam - z))
    mdes_normal = float((z + stats.norm.ppf(target_power)) * se)
    n_clusters, periods = x.shape
    df = n_clusters - 2
    if df >= 1:
        power_t = _nct_power(abs(float(effect)), se, df, alpha, True)
        mdes_t = _multiplier(df, alpha, target_power, True) * se
    else:
        power_t = mdes_t = math.nan
    return SteppedWedgePower(
        effect=float(effect),
        variance=var,
        se=se,
        clusters=int(n_clusters),
        periods=int(periods),
        m=float(m),
        alpha=alpha,
        target_power=target_power,
        df=int(df),
        power_normal=power_normal,
        power_t=float(power_t),
        mdes_normal=mdes_normal,
        mdes_t=float(mdes_t),
        schedule=x.astype(int),
    )
