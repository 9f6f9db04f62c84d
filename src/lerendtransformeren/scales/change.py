"""Individual change: Jacobson-Truax reliable change, clinical cut-offs, GAS T-scores."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import DataError, SpecificationError

__all__ = ["ClinicalCutoffs", "clinical_cutoffs", "reliable_change", "reliable_change_threshold", "gas_tscore"]

_DIRECTIONS = ("lower_is_better", "higher_is_better")


@dataclass(frozen=True)
class ClinicalCutoffs:
    """Jacobson-Truax cut-offs a, b and c on the score scale."""

    a: float
    b: float
    c: float


def clinical_cutoffs(mean_clin: float, sd_clin: float, mean_norm: float, sd_norm: float) -> ClinicalCutoffs:
    """Jacobson & Truax (1991) cut-offs for clinically significant change.

    ``a``: two SDs from the clinical mean towards the functional side;
    ``b``: two SDs from the norm mean towards the dysfunctional side;
    ``c``: the point between the two means weighted by the SDs,
    ``(sd_clin * mean_norm + sd_norm * mean_clin) / (sd_clin + sd_norm)``.
    The direction follows from the means (functional side = side of ``mean_norm``).

    Parameters
    ----------
    mean_clin, sd_clin : float
        Mean and SD of a clinical (dysfunctional) reference group.
    mean_norm, sd_norm : float
        Mean and SD of a norm (functional) reference group.

    Returns
    -------
    ClinicalCutoffs

    Notes
    -----
    R equivalent: no function in psych; the ``JTRCI`` package (``JTRCI::JTRCI``) and
    ``clinicalsignificance::cs_distribution`` compute the same quantities.

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> scales.clinical_cutoffs(mean_clin=20, sd_clin=5, mean_norm=10, sd_norm=4)
    ClinicalCutoffs(a=10.0, b=18.0, c=14.444444444444445)
    """
    for name, v in (("sd_clin", sd_clin), ("sd_norm", sd_norm)):
        if not np.isfinite(v) or v <= 0:
            raise SpecificationError(f"{name} must be a positive number, got {v}.")
    if mean_clin == mean_norm:
        raise SpecificationError("mean_clin equals mean_norm: the cut-offs need two distinct groups.")
    towards_norm = np.sign(mean_norm - mean_clin)
    a = mean_clin + towards_norm * 2 * sd_clin
    b = mean_norm - towards_norm * 2 * sd_norm
    c = (sd_clin * mean_norm + sd_norm * mean_clin) / (sd_clin + sd_norm)
    return ClinicalCutoffs(float(a), float(b), float(c))


def reliable_change(
    pre,
    post,
    *,
    sd_pre: float,
    reliability: float,
    cutoff: float | None = None,
    direction: str = "lower_is_better",
    level: float = 0.95,
) -> pd.DataFrame:
    """Jacobson-Truax reliable change index and classification per respondent.

    ``RCI = (post - pre) / S_diff`` with ``S_diff = sqrt(2) * sd_pre * sqrt(1 - reliability)``.
    A change is reliable when ``|RCI|`` exceeds the normal quantile for ``level``
    (1.96 for 0.95). Classes: ``deteriorated`` (reliable change in the worse direction),
    ``unchanged``, ``improved`` (reliable change in the better direction) and, when a
    ``cutoff`` is given, ``recovered``: improved and moved from the dysfunctional side
    of the cut-off (pre) to the functional side (post); a post score equal to the
    cut-off counts as functional.

    Parameters
    ----------
    pre, post : array-like or pandas.Series
        Scores before and after, same length (Series keep their index).
    sd_pre : float
        SD of the pre-test scores in a reference (or the study's pre-test) sample.
    reliability : float
        Reliability of the score (test-retest or alpha), in (0, 1).
    cutoff : float, optional
        Cut-off between dysfunctional and functional (e.g. ``c`` of
        :func:`clinical_cutoffs`).
    direction : {"lower_is_better", "higher_is_better"}
    level : float
        Two-sided confidence level for reliable change.

    Returns
    -------
    pandas.DataFrame
        Columns ``pre, post, change, rci, classification`` (missing pre or post: NaN
        and classification ``<NA>``).

    Notes
    -----
    R equivalent: ``JTRCI::JTRCI`` or ``clinicalsignificance::cs_distribution(...,
    rci_method = "JT")``.

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> scales.reliable_change([20, 20, 20, 15], [12, 19, 27, 9], sd_pre=5,
    ...                        reliability=0.8, cutoff=14)
       pre  post  change       rci classification
    0   20    12      -8 -2.529822      recovered
    1   20    19      -1 -0.316228      unchanged
    2   20    27       7  2.213594   deteriorated
    3   15     9      -6 -1.897367      unchanged
    """
    if direction not in _DIRECTIONS:
        raise SpecificationError(f"direction must be one of {_DIRECTIONS}, got {direction!r}.")
    if not 0 < reliability < 1:
        raise SpecificationError(f"reliability must lie in (0, 1), got {reliability}.")
    if not np.isfinite(sd_pre) or sd_pre <= 0:
        raise SpecificationError(f"sd_pre must be a positive number, got {sd_pre}.")
    if not 0 < level < 1:
        raise SpecificationError(f"level must lie in (0, 1), got {level}.")
    index = pre.index if isinstance(pre, pd.Series) else None
    pre_s = pd.Series(np.asarray(pre), index=index, name="pre")
    post_s = pd.Series(np.asarray(post), index=index, name="post")
    if len(pre_s) != len(post_s):
        raise DataError(f"pre has {len(pre_s)} values and post has {len(post_s)}: they must be paired.")
    if isinstance(pre, pd.Series) and isinstance(post, pd.Series) and not pre.index.equals(post.index):
        raise DataError("pre and post have different indexes; align them (e.g. post.reindex(pre.index)).")
    change = post_s - pre_s
    s_diff = np.sqrt(2.0) * sd_pre * np.sqrt(1.0 - reliability)
    rci = change / s_diff
    from scipy import stats  # here, not at the top: scoring imports this module

    crit = stats.norm.ppf(0.5 + level / 2)
    better = -rci if direction == "lower_is_better" else rci
    cls = np.select([better > crit, better < -crit], ["improved", "deteriorated"], "unchanged").astype(object)
    if cutoff is not None:
        if direction == "lower_is_better":
            crossed = (pre_s > cutoff) & (post_s <= cutoff)
        else:
            crossed = (pre_s < cutoff) & (post_s >= cutoff)
        cls = np.where((cls == "improved") & crossed.to_numpy(), "recovered", cls)
    cls = np.where(rci.isna().to_numpy(), None, cls)
    return pd.DataFrame(
        {"pre": pre_s, "post": post_s, "change": change, "rci": rci, "classification": pd.array(cls, dtype="string")}
    )


def _kiresuk_sherman(x: np.ndarray, weights: np.ndarray, rho: float) -> np.ndarray:
    """Vectorised Kiresuk-Sherman T over rows of ``x``; NaN goals are left out per row."""
    w = np.where(np.isnan(x), 0.0, weights)
    return _kiresuk_sherman_t(np.nansum(w * x, axis=1), (w**2).sum(axis=1), w.sum(axis=1), rho)


def _kiresuk_sherman_t(weighted: np.ndarray, sum_w2: np.ndarray, sum_w: np.ndarray, rho: float) -> np.ndarray:
    """Kiresuk-Sherman T from the per-row sums of w x, w^2 and w over the goals scored.

    The scorer (equal weights, integer codes) passes its exact integer sums and counts.
    """
    num = 10.0 * weighted
    den = np.sqrt((1.0 - rho) * sum_w2 + rho * sum_w**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 50.0 + num / den, np.nan)


def gas_tscore(scores, weights=None, rho: float = 0.3):
    """Goal attainment scaling summary T-score (Kiresuk & Sherman, 1968).

    ``T = 50 + 10 * sum(w x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2)`` over the
    goals scored (attainment -2..2). Goals that are missing (NaN) are left out of both
    sums for that respondent.

    Parameters
    ----------
    scores : array-like
        One respondent (1-D, one value per goal) or many (2-D / DataFrame, one row per
        respondent, one column per goal).
    weights : array-like, optional
        Goal weights (default: all 1), one per goal, positive.
    rho : float
        Assumed correlation between goal attainments, in [0, 1); 0.3 by convention.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        A float for 1-D input; a Series aligned with the rows of a DataFrame.

    Notes
    -----
    No function in psych; R users compute the formula directly, e.g.
    ``50 + 10 * sum(w * x) / sqrt((1 - rho) * sum(w^2) + rho * sum(w)^2)``.

    Examples
    --------
    >>> from lerendtransformeren import scales
    >>> round(scales.gas_tscore([1, 1, 1]), 2)
    63.69
    >>> round(scales.gas_tscore([-2, 0, -1, 2, 0, 1], weights=[3, 5, 1, 4, 2, 6]), 2)
    55.0
    """
    if not 0 <= rho < 1:
        raise SpecificationError(f"rho must lie in [0, 1), got {rho}.")
    index = scores.index if isinstance(scores, pd.DataFrame) else None
    x = np.asarray(scores, dtype=float)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    if x.ndim != 2:
        raise DataError("scores must be 1-D (one respondent) or 2-D (respondents x goals).")
    bad = ~np.isnan(x) & ((x < -2) | (x > 2))
    if bad.any():
        raise DataError(f"GAS attainment must lie in -2..2; found {sorted(set(x[bad].tolist()))[:5]}.")
    w = np.ones(x.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (x.shape[1],) or not (w > 0).all():
        raise SpecificationError(f"weights must be {x.shape[1]} positive numbers, one per goal; got {weights!r}.")
    t = _kiresuk_sherman(x, w, rho)
    if single:
        return float(t[0])
    return pd.Series(t, index=index, name="gas_tscore") if index is not None else t


def reliable_change_threshold(sd_pre: float, reliability: float, *, level: float = 0.95) -> float:
    """The smallest change (in score points) that counts as reliable at ``level``.

    ``z * sqrt(2) * sd_pre * sqrt(1 - reliability)`` with ``z`` the two-sided normal
    quantile of ``level``: the boundary that :func:`reliable_change` uses to classify.

    Examples
    --------
    >>> round(reliable_change_threshold(5, 0.8), 3)
    6.198
    >>> round(reliable_change_threshold(5, 0.8, level=0.90), 3)
    5.201
    """
    if not 0 < reliability < 1:
        raise SpecificationError(f"reliability must lie in (0, 1), got {reliability}.")
    if not np.isfinite(sd_pre) or sd_pre <= 0:
        raise SpecificationError(f"sd_pre must be a positive number, got {sd_pre}.")
    if not 0 < level < 1:
        raise SpecificationError(f"level must lie in (0, 1), got {level}.")
    s_diff = np.sqrt(2.0) * sd_pre * np.sqrt(1.0 - reliability)
    from scipy import stats

    return float(stats.norm.ppf(0.5 + level / 2) * s_diff)
