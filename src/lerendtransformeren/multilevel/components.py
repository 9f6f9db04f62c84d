"""Variance partition, ICC per level, R2 and standardised effect sizes of a fitted nested model.

The computations behind :mod:`~lerendtransformeren.multilevel.effects` (which also has
:func:`~lerendtransformeren.multilevel.effects.null_icc`, fitting the empty model) and
behind ``MultilevelResult.icc``, ``.r2`` and ``.standardized_effect``. This module does not
fit models, so that the result class may import it.

All functions take a fitted :class:`~lerendtransformeren.multilevel.results.MultilevelResult`
(random intercepts and slopes at any level) and return tidy pandas objects.

* :func:`variance_components`: the variance of the fixed part, of each level's random
  effects and of the residual (R: ``insight::get_variance``).
* :func:`icc`: the variance partition per level with the ICC and the design effect
  (R: ``performance::icc``, also ``by_group = TRUE``); ``effects.null_icc`` fits the empty model.
* :func:`r2`: marginal and conditional R2 of Nakagawa & Schielzeth (2013) with Johnson's
  (2014) extension to random slopes (R: ``performance::r2_nakagawa``).
* :func:`standardized_effect`: a fixed effect divided by a standard deviation of the
  outcome, with the interval of ``result.fixed`` (Satterthwaite or Kenward-Roger) scaled
  alike (a multilevel Cohen's d).

The variance of a level with random slopes depends on the values of the covariates, so it
is averaged over the rows used in the fit: ``mean_i z_i' Sigma z_i`` with ``z_i`` the
row's random-effect design (``1``, ``wave``, ...) and ``Sigma`` the level's covariance
matrix (Johnson 2014; Nakagawa, Johnson & Schielzeth 2017). For a random intercept it is
the intercept variance itself.

References
----------
Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *Journal of Educational
and Behavioral Statistics*, 32(4), 341-370.

Johnson, P. C. D. (2014). Extension of Nakagawa & Schielzeth's R2GLMM to random slopes
models. *Methods in Ecology and Evolution*, 5(9), 944-946.

Kish, L. (1965). *Survey sampling*. Wiley.

Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group designs.
*Organizational Research Methods*, 11(2), 364-386.

Nakagawa, S., & Schielzeth, H. (2013). A general and simple method for obtaining R2 from
generalized linear mixed-effects models. *Methods in Ecology and Evolution*, 4(2), 133-142.

Nakagawa, S., Johnson, P. C. D., & Schielzeth, H. (2017). The coefficient of determination
R2 and intra-class correlation coefficient from generalized linear mixed-effects models
revisited and expanded. *Journal of the Royal Society Interface*, 14(134), 20170213.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lerendtransformeren.exceptions import SpecificationError

__all__ = ["variance_components", "variance_values", "icc", "r2", "standardized_effect"]

_SD_CHOICES = ("total", "residual", "baseline")


def _level_parts(result):
    """Per level, coarsest first: (level, Z of the rows used, covariance matrix Sigma)."""
    s2 = result.sigma**2
    lams = result.engine.lambdas(result.theta)
    parts = []
    for lev, lam in zip(result.frame.levels, lams):
        Z = np.hstack([b.Z for b in lev.blocks])
        parts.append((lev, Z, s2 * lam @ lam.T))
    return parts[::-1]


def variance_components(result) -> pd.Series:
    """Variance of the fixed part, of each level's random effects and of the residual.

    Parameters
    ----------
    result : MultilevelResult
        A model fitted with :func:`~lerendtransformeren.multilevel.fit`.

    Returns
    -------
    Series
        Index ``"fixed"``, the levels from the coarsest to the finest (as named in
        ``result.n``, e.g. ``"org"``, ``"org:team"``), ``"residual"``.

        * fixed: the sample variance (denominator n - 1) of the fixed-effects predictions
          ``X beta`` over the rows used;
        * a level: ``mean_i z_i' Sigma z_i`` over the rows used, with ``z_i`` the row's
          random-effect design at that level and ``Sigma`` the level's covariance matrix:
          the intercept variance for a random intercept, the variance averaged over the
          observed covariate values for random slopes (Johnson 2014);
        * residual: ``sigma^2``.

    Notes
    -----
    R equivalent: ``insight::get_variance(m)`` (``var.fixed``, ``var.random`` is the sum of
    the levels, ``var.residual``). insight builds ``z_i`` from the fixed-effects design, so
    it drops a random slope that is not also a fixed effect; here the random-effect design
    itself is used.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
    >>> variance_components(fit("y ~ wave + (1 | org/team)", d)).round(4)
    fixed       0.1095
    org         0.1963
    org:team    0.2346
    residual    0.8562
    Name: variance, dtype: float64
    """
    v_fixed, levels, v_residual = variance_values(result)
    values = {"fixed": v_fixed, **dict(zip((lev.name for lev, _, _ in _level_parts(result)), levels)),
              "residual": v_residual}
    return pd.Series(values, name="variance")


def variance_values(result) -> tuple[float, np.ndarray, float]:
    """The numbers of :func:`variance_components` without pandas, for code that needs them often.

    Returns
    -------
    (float, ndarray, float)
        The variance of the fixed part, the variances of the levels from the coarsest to
        the finest, the residual variance.
    """
    v_fixed = float(np.var(result.frame.X @ result.beta, ddof=1))
    levels = np.array([np.einsum("ij,jk,ik->", Z, Sigma, Z) / len(Z) for _, Z, Sigma in _level_parts(result)])
    return v_fixed, levels, float(result.sigma**2)


def icc(result, adjusted: bool = True) -> pd.DataFrame:
    """Variance partition per level: share, intraclass correlation and design effect.

    Parameters
    ----------
    result : MultilevelResult
        A model fitted with :func:`~lerendtransformeren.multilevel.fit`: the empty model
        (see :func:`~lerendtransformeren.multilevel.effects.null_icc`) for the classic ICC, or a model with covariates for the
        residual (conditional) ICC.
    adjusted : bool
        ``True`` (default): shares of the random and residual variance, the ICC
        "adjusted" for the fixed effects of ``performance::icc``. ``False``: shares of the
        total variance including the variance of the fixed part (a first row
        ``"fixed"``), performance's ``ICC_unadjusted``; these shares are proportions of
        the outcome variance, not correlations given the covariates.

    Returns
    -------
    DataFrame
        One row per level from the coarsest to the finest, then ``"residual"``, with
        columns

        * ``n_units`` and ``m``: the number of units and the mean number of rows per unit;
        * ``variance``: see :func:`variance_components`;
        * ``share``: the level's proportion of the variance (performance's
          ``icc(by_group = TRUE)`` for random-intercept models);
        * ``icc``: the sum of the shares of this level and all coarser levels: the
          correlation of two observations that share a unit at this level but no finer
          unit (at the finest level, performance's ``ICC_adjusted`` or
          ``ICC_unadjusted``);
        * ``design_effect``: the variance of the overall mean of the outcome under the
          clustering at this level and the coarser levels, relative to a simple random
          sample of the same size (Kish 1965): ``1 + sum_k C_k / v`` over those levels
          ``k``, with ``v`` the random plus residual variance and ``C_k`` the mean
          covariance contributed by level ``k``, ``(sum_u s_u' Sigma_k s_u - sum_i z_i'
          Sigma_k z_i) / n`` (``s_u`` the sum of ``z_i`` over the rows of unit ``u``).
          For random intercepts this is ``1 + sum_k share_k (m~_k - 1)`` with
          ``m~ = sum_u n_u^2 / n`` (equal to ``m`` in balanced data), for two levels the
          familiar ``1 + (m - 1) ICC``. The finest level's value is the design effect of
          the whole design; ``n / design_effect`` is the effective sample size for the mean.

    Notes
    -----
    With random slopes, a level's variance is averaged over the observed covariate
    values (Johnson 2014; Nakagawa, Johnson & Schielzeth 2017), as performance's adjusted
    ICC does; the shares then depend on how the covariates are centred, and the
    correlation of two observations varies with their covariate values, so ``icc`` is an
    average. ``performance::icc(by_group = TRUE)`` divides the intercept variance alone
    and warns that it is not accurate for such models; the shares here use the averaged
    variance.

    R equivalent: ``performance::icc(m)`` and ``performance::icc(m, by_group = TRUE)``.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
    >>> m = fit("y ~ wave + (1 | org/team)", d)
    >>> icc(m).round(3)
              n_units     m  variance  share    icc  design_effect
    org          10.0  24.0     0.196  0.153  0.153          4.508
    org:team     40.0   6.0     0.235  0.182  0.335          5.420
    residual      NaN   NaN     0.856  0.665    NaN            NaN

    ``performance::icc(m, by_group = TRUE)`` gives the shares 0.153 and 0.182,
    ``performance::icc(m)`` the adjusted ICC 0.335.
    """
    comp = variance_components(result)
    parts = _level_parts(result)
    random = comp.drop("fixed")
    total = float(random.sum())
    denominator = total if adjusted else total + comp["fixed"]
    rows = []
    if not adjusted:
        rows.append(("fixed", np.nan, np.nan, comp["fixed"], np.nan))
    deff = 1.0
    for lev, Z, Sigma in parts:
        sums = np.column_stack([np.bincount(lev.codes, weights=z, minlength=lev.n_units) for z in Z.T])
        between = np.einsum("uj,jk,uk->", sums, Sigma, sums) - np.einsum("ij,jk,ik->", Z, Sigma, Z)
        deff += between / len(Z) / total
        rows.append((lev.name, lev.n_units, len(Z) / lev.n_units, comp[lev.name], deff))
    rows.append(("residual", np.nan, np.nan, comp["residual"], np.nan))
    out = pd.DataFrame(rows, columns=["level", "n_units", "m", "variance", "design_effect"]).set_index("level")
    out.index.name = None
    out["share"] = out["variance"] / denominator
    level_rows = [lev.name for lev, _, _ in parts]
    out["icc"] = np.nan
    out.loc[level_rows, "icc"] = out.loc[level_rows, "share"].cumsum()
    return out[["n_units", "m", "variance", "share", "icc", "design_effect"]]


def r2(result) -> pd.Series:
    """Marginal and conditional R2 of a linear mixed model (Nakagawa & Schielzeth 2013).

    With ``v_f`` the variance of the fixed part, ``v_r`` the sum of the levels' random
    variances and ``sigma^2`` the residual variance (see :func:`variance_components`):
    marginal ``R2 = v_f / (v_f + v_r + sigma^2)`` (the variance explained by the fixed
    effects), conditional ``R2 = (v_f + v_r) / (v_f + v_r + sigma^2)`` (by fixed and
    random effects together). Random slopes enter ``v_r`` averaged over the observed
    covariate values, the extension of Johnson (2014).

    Parameters
    ----------
    result : MultilevelResult

    Returns
    -------
    Series
        Index ``"marginal"``, ``"conditional"``.

    Notes
    -----
    R equivalent: ``performance::r2_nakagawa(m)``. The values are those of the fitted model;
    compare models on the same rows (a covariate with missing values changes the rows used).

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
    >>> r2(fit("y ~ wave + (1 | org/team)", d)).round(4)
    marginal       0.0784
    conditional    0.3870
    Name: r2, dtype: float64

    ``performance::r2_nakagawa(m)`` gives 0.078 and 0.387.
    """
    comp = variance_components(result)
    total = float(comp.sum())
    v_fixed = comp["fixed"]
    v_random = total - v_fixed - comp["residual"]
    return pd.Series({"marginal": v_fixed / total, "conditional": (v_fixed + v_random) / total}, name="r2")


def standardized_effect(
    result,
    term: str | Sequence[str],
    *,
    sd: str = "total",
    baseline_sd: float | None = None,
) -> pd.DataFrame:
    """A fixed effect in standard-deviation units (a multilevel Cohen's d) with its CI.

    ``d = estimate / SD``; the interval is the interval of ``result.fixed`` (its df method)
    divided by the same SD.

    Parameters
    ----------
    result : MultilevelResult
    term : str or list of str
        Fixed-effect names as in ``result.fixed.index`` (``"offer"``, ``"wave"``,
        ``"C(group)[T.b]"``).
    sd : {"total", "residual", "baseline"}
        The standard deviation to divide by:

        * ``"total"`` (default): the square root of the sum of the variance components of
          this model (every level plus the residual; random slopes averaged over the
          observed design as in :func:`variance_components`). This is Hedges' (2007)
          ``delta_T`` and its extension to more levels: the SD of the outcome within the
          groups that are compared, the scale of a single-level study that sampled
          individuals from the whole population. Prefer it for an intervention effect
          such as the offer. The variance components are those left after the model's
          covariates: with covariates that explain outcome variance, d comes out larger
          than an unadjusted d. For a d comparable across studies pass the total SD of the
          model without covariates as ``baseline_sd``:
          ``np.sqrt(null_icc("y", d, ["org", "team"])["variance"].sum())``.
        * ``"residual"``: the residual (within the finest unit) SD, Hedges' ``delta_W``
          for two levels: the scale of change within a person or family. It is much
          smaller than the total SD when most variance lies between units, so d is larger;
          use it only when the comparison is with within-unit variation.
        * ``"baseline"``: an SD you supply as ``baseline_sd``: the SD of the outcome at the
          first wave (the pre-test standardisation of change, Morris 2008), a norm-group
          SD of the instrument, or the total SD of an empty model.
    baseline_sd : float, optional
        The SD for ``sd="baseline"`` (required there, not allowed otherwise).

    Returns
    -------
    DataFrame
        Indexed by term: ``estimate`` and ``df`` (from ``result.fixed``), ``sd`` (the
        divisor), ``d``, ``ci_low``, ``ci_high``.

    Raises
    ------
    SpecificationError
        A term not in the model (the message lists the terms), an unknown ``sd``, or a
        missing, non-positive or superfluous ``baseline_sd``.

    Notes
    -----
    The interval treats the SD as known: it ignores the sampling error of the variance
    components, so it is slightly too narrow when the SD is estimated from few units
    (Hedges 2007 gives the variance of ``delta_T`` for balanced designs).

    R equivalent: no single function. ``effectsize::standardize_parameters(m, method =
    "pseudo")`` standardises per level instead; by hand,
    ``fixef(m)["offer"] / sqrt(sum(insight::get_variance(m)[c("var.random",
    "var.residual")]))``.

    Examples
    --------
    >>> from lerendtransformeren.multilevel import fit
    >>> from lerendtransformeren.synthetic import nested_example
    >>> d = nested_example()  # 10 organisations x 4 teams x 6 waves
    >>> res = fit("y ~ wave + (1 | org/team)", d)
    >>> standardized_effect(res, "wave").round(3)
          estimate     df     sd      d  ci_low  ci_high
    term
    wave     0.193  199.0  1.135  0.170   0.110    0.231
    >>> standardized_effect(res, "wave", sd="baseline", baseline_sd=1.0)["d"].round(3)
    term
    wave    0.193
    Name: d, dtype: float64
    """
    terms = [term] if isinstance(term, str) else list(term)
    known = list(result.fixed.index)
    unknown = [t for t in terms if t not in known]
    if unknown:
        raise SpecificationError(f"No fixed effect {unknown} in the model; the fixed effects are {known}.")
    if sd not in _SD_CHOICES:
        raise SpecificationError(f"sd must be one of {list(_SD_CHOICES)}, got {sd!r}.")
    if sd == "baseline":
        if baseline_sd is None or not np.isfinite(baseline_sd) or baseline_sd <= 0:
            raise SpecificationError(
                f"sd='baseline' needs a positive baseline_sd (e.g. the SD of the outcome at the "
                f"first wave), got {baseline_sd!r}."
            )
        divisor = float(baseline_sd)
    elif baseline_sd is not None:
        raise SpecificationError(f"baseline_sd is used with sd='baseline' only; sd={sd!r} computes its own SD.")
    elif sd == "residual":
        divisor = float(result.sigma)
    else:
        divisor = float(np.sqrt(variance_components(result).drop("fixed").sum()))
    fixed = result.fixed.loc[terms]
    out = pd.DataFrame(
        {
            "estimate": fixed["estimate"],
            "df": fixed["df"],
            "sd": divisor,
            "d": fixed["estimate"] / divisor,
            "ci_low": fixed["ci_low"] / divisor,
            "ci_high": fixed["ci_high"] / divisor,
        }
    )
    return out
